// SPDX-License-Identifier: BSD-3-Clause
// Sinkhorn–Newton–Sparse: agreement with Sinkhorn, fast final convergence, rank independence,
// and the distributed sparsification rules.
#include <gtest/gtest.h>

#include <cmath>

#include "solver/sns/sparsify.hpp"
#include "support/problems.hpp"

using namespace parot;

namespace {

SolveParams tight(double reg_relative) {
  SolveParams p;
  p.reg = reg_relative;
  p.reg_relative = true;
  p.atol = 1e-13;
  p.max_it = 20000;
  return p;
}

}  // namespace

TEST(Sns, AgreesWithSinkhornOnPlanCostAndPotentials) {
  for (const char* family : {"clouds", "images"}) {
    GenerateParams gp;
    gp.family = family;
    gp.n = 80;
    gp.m = 60;
    gp.seed = 7;
    const Problem problem = generate_problem(MPI_COMM_WORLD, gp);
    Solution s_sinkhorn, s_sns;
    const SolveResult r1 = SinkhornSolver(MPI_COMM_WORLD, tight(0.01)).solve(problem, s_sinkhorn);
    const SolveResult r2 = SnsSolver(MPI_COMM_WORLD, tight(0.01)).solve(problem, s_sns);
    ASSERT_TRUE(converged(r1.reason)) << family;
    ASSERT_EQ(r2.reason, Reason::converged_atol) << family << " " << to_string(r2.reason);
    EXPECT_GT(r2.newton_iterations, 0);
    EXPECT_LT(r2.iterations, r1.iterations) << family;
    EXPECT_NEAR(r2.transport_cost, r1.transport_cost, 1e-10 * r1.transport_cost) << family;
    const Layout& rows = problem.source.layout;
    EXPECT_LT(
        test::shift_invariant_error(test::gather(rows, s_sns.f), test::gather(rows, s_sinkhorn.f)),
        1e-10)
        << family;
    EXPECT_LT(test::shift_invariant_error(s_sns.g, s_sinkhorn.g), 1e-10) << family;
  }
}

// sns.md §6.4: uniform random cost, n = m = 500, η = 1200, N1 = 20, 8n kept entries: 6–9 Newton
// steps to ‖g‖₁ < 1e-13 (assert <= 11), with the error ratio falling (super-linear).
TEST(Sns, FastFinalConvergenceOnRandomAssignment) {
  GenerateParams gp;
  gp.family = "assignment";
  gp.n = 500;
  gp.seed = 0;
  const Problem problem = generate_problem(MPI_COMM_WORLD, gp);
  SolveParams params;
  params.reg = 1.0 / 1200;
  params.atol = 1e-13;
  SnsParams sp;
  sp.sparsify = "count";
  sp.kappa = 8;
  Solution s;
  const SolveResult r = SnsSolver(MPI_COMM_WORLD, params, sp).solve(problem, s);
  EXPECT_EQ(r.reason, Reason::converged_atol) << to_string(r.reason);
  EXPECT_EQ(r.sinkhorn_iterations, 20);
  EXPECT_LE(r.newton_iterations, 11);
  std::vector<double> errors;
  for (const auto& rec : r.history)  // Newton records hold the error each step reached
    if (rec.inner_iterations > 0) errors.push_back(rec.marginal_error);
  EXPECT_EQ(errors.back(), r.history.back().marginal_error);
  ASSERT_GE(errors.size(), 4u);
  const std::size_t k = errors.size();
  // The last ratios shrink: the convergence is faster than linear at the end.
  EXPECT_LT(errors[k - 1] / errors[k - 2], errors[k - 3] / errors[k - 4]);
  EXPECT_LT(errors[k - 1] / errors[k - 2], 1e-2);
}

TEST(Sns, SameAnswerAtAnyRankCount) {
  GenerateParams gp;
  gp.family = "gaussians";
  gp.n = 57;
  gp.m = 43;
  gp.seed = 11;
  const Problem serial = generate_problem(MPI_COMM_SELF, gp);
  Solution ref_s;
  const SolveResult ref = SnsSolver(MPI_COMM_SELF, tight(0.02)).solve(serial, ref_s);
  ASSERT_EQ(ref.reason, Reason::converged_atol);
  for (const std::string rule : {"mass", "count", "row"}) {
    SnsParams sp;
    sp.sparsify = rule;
    Solution rs;
    const SolveResult rr = SnsSolver(MPI_COMM_SELF, tight(0.02), sp).solve(serial, rs);
    for (const Layout& rows : test::test_layouts(MPI_COMM_WORLD, serial.n())) {
      const Problem p = test::make_problem(rows, serial.source.points, serial.source.weights,
                                           serial.target.points, serial.target.weights);
      Solution s;
      const SolveResult r = SnsSolver(MPI_COMM_WORLD, tight(0.02), sp).solve(p, s);
      EXPECT_EQ(r.reason, Reason::converged_atol) << rule;
      EXPECT_EQ(r.newton_iterations, rr.newton_iterations) << rule;
      EXPECT_NEAR(r.transport_cost, rr.transport_cost, 1e-10 * rr.transport_cost) << rule;
      const Vector f = test::gather(rows, s.f);
      EXPECT_LT((f - rs.f).cwiseAbs().maxCoeff(), 1e-10 * rs.f.cwiseAbs().maxCoeff()) << rule;
      EXPECT_LT((s.g - rs.g).cwiseAbs().maxCoeff(), 1e-10 * rs.g.cwiseAbs().maxCoeff()) << rule;
    }
  }
}

TEST(Sns, DistributedThresholdsKeepWhatTheRulesPromise) {
  // Every rank holds 1000 entries of a known global set; the rules must hold over all of them.
  MPI_Comm comm = MPI_COMM_WORLD;
  const int rank = comm_rank(comm), size = comm_size(comm);
  std::vector<double> p(1000);
  double total = 0;
  for (std::size_t k = 0; k < p.size(); ++k) {
    p[k] = std::exp(-0.05 * static_cast<double>((k * 7 + 13 * rank) % 1000));
    total += p[k];
  }
  total = allreduce_sum(comm, total);
  const double budget = 1e-3 * total;
  const double t = sns::select_global_threshold(comm, p.data(), 1000, budget, -1);
  double dropped = 0, kept = 0;
  for (double v : p)
    (v < t ? dropped : kept) += v;
  EXPECT_LE(allreduce_sum(comm, dropped), budget);
  EXPECT_GT(allreduce_sum(comm, dropped), 0.5 * budget);  // and it does drop, to a bin's width

  const double want = 123.0 * size;
  const double tc = sns::select_global_threshold(comm, p.data(), 1000, -1, want);
  double count = 0;
  for (double v : p)
    count += v >= tc;
  const double all = allreduce_sum(comm, count);
  EXPECT_GE(all, want);
  EXPECT_LE(all, want + 2.0 * size);  // ties within the finest bin only

  const sns::Selection row = sns::select_entries(comm, p.data(), 10, 100, "row", 0, 0, 3, 10, 1);
  EXPECT_EQ(row.kept, 30 * size);
}

// A too-sparse Hessian (κ = 1.2 entries per row) on a near-permutation plan: plain SNS takes a
// step that raises the objective but not the marginals, then stalls; the safeguarded mode
// (shifted system, adaptive μ) converges, and auto mode switches to it by itself.
TEST(Sns, SafeguardConvergesWherePlainSnsStalls) {
  GenerateParams gp;
  gp.family = "assignment";
  gp.n = 60;
  gp.seed = 0;
  const Problem problem = generate_problem(MPI_COMM_WORLD, gp);
  SolveParams params;
  params.reg = 5e-4;
  params.atol = 1e-9;
  params.max_it = 3000;
  SnsParams sp;
  sp.sparsify = "count";
  sp.kappa = 1.2;
  sp.warm_start = "fixed";  // 20 Sinkhorn iterations: the auto rule's ε-scaling avoids the stall
  SolveResult r[3];
  const char* modes[3] = {"off", "on", "auto"};
  for (int k = 0; k < 3; ++k) {
    sp.safeguard = modes[k];
    Solution s;
    r[k] = SnsSolver(MPI_COMM_WORLD, params, sp).solve(problem, s);
  }
  EXPECT_EQ(r[0].reason, Reason::diverged_stalled);
  EXPECT_GT(r[0].marginal_error, 1e-2);
  EXPECT_EQ(r[0].safeguard_from, -1);
  EXPECT_EQ(r[1].reason, Reason::converged_atol) << to_string(r[1].reason);
  EXPECT_EQ(r[1].safeguard_from, 20);  // safe from the first Newton step
  EXPECT_EQ(r[2].reason, Reason::converged_atol) << to_string(r[2].reason);
  EXPECT_GT(r[2].safeguard_from, 20);  // switched after the stall was seen
  EXPECT_NEAR(r[1].transport_cost, r[2].transport_cost, 1e-8 * r[1].transport_cost);
}

// Rectangular problems (n ≠ m), where the Jacobi diagonal differs between the source and the
// target unknowns (≈ 1/(nε) against 1/(mε)). The sparsified M (mass rule) drops plan mass, so
// (1, −1) is not a null vector of M itself; declared as one anyway, CG stagnated (reason −8,
// indefinite PC) or ran to its cap of 10 (n + m) on such steps. Solved on the complement of
// (1, −1), every inner solve converges in a few dozen iterations and Newton is quadratic.
TEST(Sns, RectangularProblemsConvergeQuadraticallyWithFewInnerIterations) {
  const gindex sizes[2][2] = {{60, 150}, {150, 60}};
  for (const auto& nm : sizes) {
    GenerateParams gp;
    gp.family = "clouds";
    gp.n = nm[0];
    gp.m = nm[1];
    gp.seed = 3;
    const Problem problem = generate_problem(MPI_COMM_WORLD, gp);
    SolveParams params = tight(0.01);
    params.atol = 1e-12;
    const std::string label = std::to_string(nm[0]) + "x" + std::to_string(nm[1]);
    Solution s_sinkhorn, s_sns;
    const SolveResult r1 = SinkhornSolver(MPI_COMM_WORLD, params).solve(problem, s_sinkhorn);
    SnsParams sp;
    sp.safeguard = "off";  // plain Newton steps only: no fallback may hide a failed inner solve
    const SolveResult r2 = SnsSolver(MPI_COMM_WORLD, params, sp).solve(problem, s_sns);
    ASSERT_TRUE(converged(r1.reason)) << label;
    ASSERT_EQ(r2.reason, Reason::converged_atol) << label << " " << to_string(r2.reason);
    EXPECT_LE(r2.marginal_error, 1e-12) << label;
    EXPECT_GE(r2.newton_iterations, 2) << label;
    EXPECT_LE(r2.newton_iterations, 5) << label;
    const long cap = 10 * (nm[0] + nm[1]);
    std::vector<double> errors;
    for (const auto& rec : r2.history) {
      if (rec.inner_iterations <= 0) continue;                               // a Sinkhorn record
      EXPECT_GT(rec.inner_reason, 0) << label << " step " << rec.iteration;  // converged
      EXPECT_LE(rec.inner_iterations, 100)
          << label << " step " << rec.iteration << " (cap " << cap << ")";
      EXPECT_EQ(rec.step, 1.0) << label << " step " << rec.iteration;
      errors.push_back(rec.marginal_error);
    }
    ASSERT_EQ(static_cast<long>(errors.size()), r2.newton_iterations) << label;
    // Quadratic: e_{k+1} <= C e_k² (measured C < 4 here; a linear rate fails this from 1e-3 on),
    // down to the rounding floor (≈ 1e-15), below which the errors are noise.
    for (std::size_t k = 1; k < errors.size(); ++k)
      if (errors[k] > 1e-14) {
        EXPECT_LT(errors[k], 20 * errors[k - 1] * errors[k - 1]) << label << " step " << k;
      }
    EXPECT_NEAR(r2.transport_cost, r1.transport_cost, 1e-10 * r1.transport_cost) << label;
  }
}

// Newton on the truncated support (default), with the matrix-free bipartite Hessian or the
// COO-assembled one, reaches the same optimum as the dense Newton stage at small ε, in a few
// superlinear steps. Same answer on 1–4 ranks as on one (the support and the Hessian pattern are
// rank-independent).
TEST(Sns, TruncatedSupportNewtonMatchesDenseNewton) {
  GenerateParams gp;
  gp.family = "clouds";
  gp.n = 140;
  gp.m = 110;
  gp.seed = 3;
  const Problem serial = generate_problem(MPI_COMM_SELF, gp);
  SolveParams params = tight(2e-3);
  params.atol = 1e-11;
  SnsParams dense;
  dense.truncation = 0;
  Solution ref_s;
  const SolveResult ref = SnsSolver(MPI_COMM_SELF, params, dense).solve(serial, ref_s);
  ASSERT_EQ(ref.reason, Reason::converged_atol) << to_string(ref.reason);
  for (const std::string hessian : {"shell", "aij"}) {
    SnsParams sp;
    sp.hessian = hessian;
    for (const Layout& rows : test::test_layouts(MPI_COMM_WORLD, serial.n())) {
      const Problem p = test::make_problem(rows, serial.source.points, serial.source.weights,
                                           serial.target.points, serial.target.weights);
      Solution s;
      const SolveResult r = SnsSolver(MPI_COMM_WORLD, params, sp).solve(p, s);
      EXPECT_EQ(r.reason, Reason::converged_atol) << hessian << " " << to_string(r.reason);
      EXPECT_LE(r.marginal_error, 1e-11) << hessian;
      EXPECT_GT(r.newton_iterations, 0) << hessian;
      EXPECT_LE(r.newton_iterations, 8) << hessian;
      EXPECT_NEAR(r.transport_cost, ref.transport_cost, 1e-9 * ref.transport_cost) << hessian;
      EXPECT_LT(test::shift_invariant_error(test::gather(rows, s.f), ref_s.f), 1e-9) << hessian;
      EXPECT_LT(test::shift_invariant_error(s.g, ref_s.g), 1e-9) << hessian;
    }
  }
}

// The auto warm start measures the error after the warm-up: far from the optimum (above
// -sns_auto_scaling_above) it redoes the warm start by ε-scaling, so more Sinkhorn iterations than
// -sns_warmup_it run; close to it Newton starts at once. Both converge to the same optimum as the
// fixed rule.
TEST(Sns, AutoWarmStartRestartsByEpsScalingOnlyWhenFar) {
  GenerateParams gp;
  gp.family = "gaussians";
  gp.n = 150;
  gp.seed = 1;
  const Problem problem = generate_problem(MPI_COMM_WORLD, gp);
  SolveParams params = tight(1e-3);
  params.atol = 1e-10;
  SnsParams fixed;
  fixed.warm_start = "fixed";
  Solution s_fixed, s_far, s_near;
  const SolveResult r_fixed = SnsSolver(MPI_COMM_WORLD, params, fixed).solve(problem, s_fixed);
  ASSERT_EQ(r_fixed.reason, Reason::converged_atol) << to_string(r_fixed.reason);
  ASSERT_EQ(r_fixed.sinkhorn_iterations, 20);
  double after_warmup = -1;  // the Sinkhorn record of iteration 20
  for (const IterationRecord& rec : r_fixed.history)
    if (rec.iteration == 20 && rec.inner_iterations == 0) after_warmup = rec.marginal_error;
  ASSERT_GT(after_warmup, 0);
  SnsParams far;  // the error after the warm-up is above the restart threshold
  far.auto_switch = 0.1 * after_warmup;
  far.auto_scaling_above = 0.5 * after_warmup;
  const SolveResult r_far = SnsSolver(MPI_COMM_WORLD, params, far).solve(problem, s_far);
  EXPECT_EQ(r_far.reason, Reason::converged_atol) << to_string(r_far.reason);
  EXPECT_GT(r_far.sinkhorn_iterations, 20);
  SnsParams near;  // ... and below it: Newton after the 20 iterations, as the fixed rule
  near.auto_switch = 0.1 * after_warmup;
  near.auto_scaling_above = 2 * after_warmup;
  const SolveResult r_near = SnsSolver(MPI_COMM_WORLD, params, near).solve(problem, s_near);
  EXPECT_EQ(r_near.reason, Reason::converged_atol) << to_string(r_near.reason);
  EXPECT_EQ(r_near.sinkhorn_iterations, 20);
  for (const SolveResult* r : {&r_far, &r_near})
    EXPECT_NEAR(r->transport_cost, r_fixed.transport_cost, 1e-9 * r_fixed.transport_cost);
}
