// SPDX-License-Identifier: BSD-3-Clause
// Distributed Sinkhorn: hand-solvable cases, a brute-force reference, rank independence.
#include <gtest/gtest.h>

#include <cmath>

#include "support/problems.hpp"

using namespace parot;

namespace {

SolveResult solve(const Problem& problem, Solution& solution, double reg, double atol = 1e-12,
                  SinkhornParams sp = {}) {
  SolveParams params;
  params.reg = reg;
  params.atol = atol;
  SinkhornSolver solver(problem.comm(), params, sp);
  return solver.solve(problem, solution);
}

}  // namespace

TEST(Sinkhorn, TwoByTwoClosedForm) {
  // C = [[0,1],[1,0]], a = b = (1/2, 1/2): P11 / P12 = e^{1/ε}, so <C,P> = 1 / (1 + e^{1/ε}).
  RowMatrix C(2, 2);
  C << 0, 1, 1, 0;
  const Vector half = Vector::Constant(2, 0.5);
  for (const Layout& rows : test::test_layouts(MPI_COMM_WORLD, 2)) {
    for (double eps : {1.0, 0.25, 0.1}) {
      const Problem p = test::make_matrix_problem(rows, C, half, half);
      Solution s;
      const SolveResult r = solve(p, s, eps);
      EXPECT_EQ(r.reason, Reason::converged_atol);
      EXPECT_NEAR(r.transport_cost, 1 / (1 + std::exp(1 / eps)), 1e-14);
      EXPECT_LE(r.marginal_error, 1e-12);
    }
  }
}

TEST(Sinkhorn, OneSourcePointForcesThePlan) {
  // n = 1: every rank but one owns nothing; the only feasible plan is P = b.
  RowMatrix X(1, 2), Y(3, 2);
  X << 0.5, 0.5;
  Y << 0, 0, 1, 0, 2, 2;
  Vector a = Vector::Ones(1), b(3);
  b << 0.2, 0.3, 0.5;
  const Problem p = test::make_problem(Layout::uniform(MPI_COMM_WORLD, 1), X, a, Y, b);
  Solution s;
  const SolveResult r = solve(p, s, 0.1);
  EXPECT_EQ(r.reason, Reason::converged_atol);
  EXPECT_NEAR(r.transport_cost, 0.2 * 0.5 + 0.3 * 0.5 + 0.5 * 4.5, 1e-13);
}

TEST(Sinkhorn, MatchesBruteForceDenseReference) {
  const RowMatrix X = RowMatrix::Random(7, 2), Y = RowMatrix::Random(5, 2);
  Vector a = Vector::Random(7).cwiseAbs().array() + 0.1,
         b = Vector::Random(5).cwiseAbs().array() + 0.1;
  a /= a.sum();
  b /= b.sum();
  a[3] = 0;  // a zero weight
  a /= a.sum();
  // Every rank must use the same data: Random() is seeded identically in every process.
  const RowMatrix C = test::cost_matrix(X, Y, CostType::sqeuclidean);
  const double eps = 0.05 * C.maxCoeff();
  const test::DenseReference ref = test::dense_sinkhorn(C, a, b, eps, 3000);
  for (const Layout& rows : test::test_layouts(MPI_COMM_WORLD, 7)) {
    const Problem p = test::make_problem(rows, X, a, Y, b);
    Solution s;
    const SolveResult r = solve(p, s, eps, 1e-14);
    EXPECT_TRUE(converged(r.reason)) << to_string(r.reason);
    const Vector f = test::gather(rows, s.f);
    EXPECT_TRUE(std::isinf(f[3]) && f[3] < 0);
    EXPECT_LT(test::shift_invariant_error(f, ref.f), 1e-10);
    EXPECT_LT(test::shift_invariant_error(s.g, ref.g), 1e-10);
    EXPECT_NEAR(r.transport_cost, ref.transport_cost, 1e-10 * ref.transport_cost);
  }
}

TEST(Sinkhorn, SameAnswerAtAnyRankCountAndLayout) {
  GenerateParams gp;
  gp.family = "gaussians";
  gp.n = 41;
  gp.m = 29;
  gp.d = 3;
  gp.seed = 5;
  const Problem serial = generate_problem(MPI_COMM_SELF, gp);
  Solution ref_solution;
  const SolveResult ref = solve(serial, ref_solution, 0.05, 1e-11);
  ASSERT_TRUE(converged(ref.reason));

  const Problem world = generate_problem(MPI_COMM_WORLD, gp);
  for (const Layout& rows : test::test_layouts(MPI_COMM_WORLD, 41)) {
    // Rebuild the distributed problem on this layout from the serial arrays.
    const Problem p = test::make_problem(rows, serial.source.points, serial.source.weights,
                                         serial.target.points, serial.target.weights);
    Solution s;
    const SolveResult r = solve(p, s, 0.05, 1e-11);
    EXPECT_EQ(r.iterations, ref.iterations);
    EXPECT_NEAR(r.transport_cost, ref.transport_cost, 1e-10 * ref.transport_cost);
    const Vector f = test::gather(rows, s.f);
    EXPECT_LT((f - ref_solution.f).cwiseAbs().maxCoeff(),
              1e-10 * ref_solution.f.cwiseAbs().maxCoeff());
    EXPECT_LT((s.g - ref_solution.g).cwiseAbs().maxCoeff(),
              1e-10 * ref_solution.g.cwiseAbs().maxCoeff());
  }
  Solution s;
  const SolveResult r = solve(world, s, 0.05, 1e-11);
  EXPECT_NEAR(r.transport_cost, ref.transport_cost, 1e-10 * ref.transport_cost);
}

TEST(Sinkhorn, EpsScalingReachesTheSameSolution) {
  GenerateParams gp;
  gp.family = "clouds";
  gp.n = 60;
  gp.seed = 2;
  const Problem p = generate_problem(MPI_COMM_WORLD, gp);
  Solution plain, scaled;
  const SolveResult r1 = solve(p, plain, 1e-2, 1e-11);
  SinkhornParams sp;
  sp.eps_scaling = true;
  const SolveResult r2 = solve(p, scaled, 1e-2, 1e-11, sp);
  EXPECT_TRUE(converged(r1.reason));
  EXPECT_TRUE(converged(r2.reason));
  EXPECT_GT(r2.history.front().reg, r2.history.back().reg);  // stages did run
  EXPECT_NEAR(r1.transport_cost, r2.transport_cost, 1e-9 * r1.transport_cost);
}

TEST(Sinkhorn, ReasonsHistoryAndWarmStart) {
  GenerateParams gp;
  gp.family = "clouds";
  gp.n = 30;
  const Problem p = generate_problem(MPI_COMM_WORLD, gp);
  SolveParams params;
  params.reg = 2e-2;
  params.max_it = 7;
  params.check_every = 2;
  SinkhornSolver limited(MPI_COMM_WORLD, params);
  Solution s;
  const SolveResult r = limited.solve(p, s);
  EXPECT_EQ(r.reason, Reason::diverged_max_it);
  EXPECT_EQ(r.iterations, 7);
  ASSERT_EQ(r.history.size(), 4u);  // iterations 2, 4, 6 and the final 7
  EXPECT_EQ(r.history.back().iteration, 7);
  EXPECT_GT(r.history.front().marginal_error, r.history.back().marginal_error);

  params.max_it = 100000;
  params.error_if_not_converged = true;
  SinkhornSolver full(MPI_COMM_WORLD, params);
  const SolveResult done = full.solve(p, s);  // warm start from the 7 iterations above
  EXPECT_EQ(done.reason, Reason::converged_atol);
  const SolveResult again = full.solve(p, s);  // already converged: one check suffices
  EXPECT_EQ(again.iterations, 1);

  params.max_it = 2;
  SinkhornSolver strict(MPI_COMM_WORLD, params);
  Solution fresh;
  EXPECT_THROW(strict.solve(p, fresh), NotConverged);
}

// The stored-kernel engine and the matrix-free log-domain engine give the same iterates, also
// where the kernel must be re-absorbed (small reg), with zero weights and empty ranks.
TEST(Sinkhorn, StoredKernelAndLogDomainAgree) {
  struct Case {
    const char* family;
    long p;
    double reg_relative;
  };
  for (const Case c :
       {Case{"clouds", 2, 1e-2}, Case{"images", 1, 1e-3}, Case{"density1d", 2, 1e-4}}) {
    GenerateParams gp;
    gp.family = c.family;
    gp.n = 70;
    gp.m = 50;
    gp.p = c.p;
    gp.seed = 3;
    const Problem serial = generate_problem(MPI_COMM_SELF, gp);
    for (const Layout& rows : test::test_layouts(MPI_COMM_WORLD, serial.n())) {
      const Problem p = test::make_problem(rows, serial.source.points, serial.source.weights,
                                           serial.target.points, serial.target.weights,
                                           serial.cost.type(), serial.cost.p());
      SolveResult r[2];
      Solution s[2];
      for (int k = 0; k < 2; ++k) {
        SolveParams params;
        params.reg = c.reg_relative;
        params.reg_relative = true;
        params.atol = 1e-10;
        params.max_it = 400000;
        SinkhornParams sp;
        sp.eps_scaling = c.reg_relative < 1e-3;
        sp.stored_kernel = k == 0 ? "no" : "yes";
        r[k] = SinkhornSolver(MPI_COMM_WORLD, params, sp).solve(p, s[k]);
        EXPECT_EQ(r[k].reason, Reason::converged_atol) << c.family << " engine " << k;
      }
      EXPECT_FALSE(r[0].stored_kernel);
      EXPECT_TRUE(r[1].stored_kernel);
      if (c.reg_relative < 1e-3) {
        EXPECT_GT(r[1].absorptions, 0) << c.family;
      }
      // The engines round differently, so a stopping test (of a stage or of the run) may fire an
      // iteration apart.
      EXPECT_LE(std::abs(r[0].iterations - r[1].iterations), 3) << c.family;
      EXPECT_NEAR(r[0].transport_cost, r[1].transport_cost, 1e-10 * r[0].transport_cost);
      EXPECT_LT(test::shift_invariant_error(test::gather(rows, s[1].f), test::gather(rows, s[0].f)),
                1e-10)
          << c.family;
      EXPECT_LT(test::shift_invariant_error(s[1].g, s[0].g), 1e-10) << c.family;
    }
  }
}
