// SPDX-License-Identifier: BSD-3-Clause
// Truncated-kernel stages of near-exact OT (src/solver/certify/truncated.hpp): the support is
// exactly the entries near their row or column maximum (brute force), and Sinkhorn on a support
// that drops nothing finds the full-kernel solution, at any rank count; the multiscale
// coarsening keeps mass and means, and lifting and refining give consistent potentials.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "parot/parot.hpp"
#include "solver/certify/coarsen.hpp"
#include "solver/certify/truncated.hpp"

using namespace parot;

namespace {

Problem small_problem(MPI_Comm comm) {
  GenerateParams gp;
  gp.family = "gaussians";
  gp.n = 60;
  gp.m = 45;
  gp.seed = 5;
  return generate_problem(comm, gp);
}

}  // namespace

TEST(Truncated, SupportIsTheEntriesNearTheirRowOrColumnMaximum) {
  const Problem problem = small_problem(MPI_COMM_WORLD);
  const lindex n = problem.cost.local_rows(), m = problem.cost.cols();
  const gindex begin = problem.source.layout.begin();
  const double max_cost = problem.cost.max_value(MPI_COMM_WORLD);
  const double eps = 0.02 * max_cost, depth = 10;
  Vector f(n), g(m);
  for (lindex i = 0; i < n; ++i)
    f[i] = 0.1 * max_cost * std::sin(static_cast<double>(begin + i));
  for (lindex j = 0; j < m; ++j)
    g[j] = 0.2 * max_cost * std::cos(static_cast<double>(j));

  // Brute force: s_ij, its row and column maxima, the kept set.
  std::vector<double> c(static_cast<std::size_t>(n * m));
  if (n > 0) problem.cost.tile(0, n, 0, m, c.data(), m);
  constexpr double inf = std::numeric_limits<double>::infinity();
  std::vector<double> row_max(static_cast<std::size_t>(n), -inf), col_max(m, -inf);
  for (lindex i = 0; i < n; ++i)
    for (lindex j = 0; j < m; ++j) {
      const double s = f[i] + g[j] - c[i * m + j];
      row_max[i] = std::max(row_max[i], s);
      col_max[j] = std::max(col_max[j], s);
    }
  MPI_Allreduce(MPI_IN_PLACE, col_max.data(), static_cast<int>(m), MPI_DOUBLE, MPI_MAX,
                MPI_COMM_WORLD);
  double expected = 0;
  const truncated::Support support = truncated::build(problem, f, g, eps, depth, 1e9);
  ASSERT_TRUE(support.stored());
  for (lindex i = 0; i < n; ++i) {
    std::vector<std::int32_t> want;
    for (lindex j = 0; j < m; ++j) {
      const double s = f[i] + g[j] - c[i * m + j];
      if (s >= row_max[i] - depth * eps || s >= col_max[j] - depth * eps)
        want.push_back(static_cast<std::int32_t>(j));
    }
    expected += static_cast<double>(want.size());
    const std::vector<std::int32_t> got(support.col.begin() + support.ptr[i],
                                        support.col.begin() + support.ptr[i + 1]);
    EXPECT_EQ(got, want) << "row " << begin + i;
    for (std::int64_t q = support.ptr[i]; q < support.ptr[i + 1]; ++q)
      EXPECT_EQ(support.cost[q], c[i * m + support.col[q]]);
  }
  expected = allreduce_sum(MPI_COMM_WORLD, expected);
  EXPECT_EQ(support.kept, expected);
  EXPECT_LT(support.kept, static_cast<double>(problem.n() * problem.m()));  // it does truncate

  // Over the budget: nothing stored, every rank agrees, the count is still reported.
  const truncated::Support over = truncated::build(problem, f, g, eps, depth, expected - 1);
  EXPECT_FALSE(over.stored());
  EXPECT_EQ(over.kept, expected);

  // A support built at a smaller depth is contained in it: nothing missing.
  const truncated::Support inner = truncated::build(problem, f, g, eps, depth - 5, 1e9);
  EXPECT_EQ(truncated::missing_entries(problem, support, inner), 0.0);
  EXPECT_GT(truncated::missing_entries(problem, inner, support), 0.0);
}

TEST(Truncated, SinkhornOnAFullSupportFindsTheFullKernelSolution) {
  const double reg = 0.05;  // relative
  auto run = [&](MPI_Comm comm, Vector& f, Vector& g) {
    const Problem problem = small_problem(comm);
    const double eps = reg * problem.cost.max_value(comm);
    f = Vector::Zero(problem.cost.local_rows());
    g = Vector::Zero(problem.cost.cols());
    const truncated::Support all = truncated::build(problem, f, g, eps, 1e9, 1e9);
    EXPECT_EQ(all.kept, static_cast<double>(problem.n() * problem.m()));
    std::vector<IterationRecord> history;
    const truncated::Outcome out =
        truncated::sinkhorn(problem, all, f, g, eps, 1e-12, 100000, 10, false, 0, wall_time(),
                            Checkpointing{}, history);
    EXPECT_EQ(out.reason, Reason::converged_atol);
    EXPECT_LE(out.error, 1e-12);
    const truncated::PlanSummary plan = truncated::summarize(problem, all, f, g, eps);
    EXPECT_LE(plan.row_error + plan.col_error, 1e-11);  // the error it reports is the plan's
    return plan.transport_cost;
  };
  Vector f, g;
  const double cost = run(MPI_COMM_WORLD, f, g);

  // The full-kernel Sinkhorn solver at the same reg.
  const Problem problem = small_problem(MPI_COMM_WORLD);
  SolveParams params;
  params.reg = reg;
  params.reg_relative = true;
  params.atol = 1e-12;
  auto solver = make_solver(MPI_COMM_WORLD, "sinkhorn", params);
  Solution solution;
  const SolveResult full = solver->solve(problem, solution);
  ASSERT_EQ(full.reason, Reason::converged_atol);
  EXPECT_NEAR(cost, full.transport_cost, 1e-9 * full.transport_cost);
  // Potentials in one gauge (f + c, g − c).
  const double shift = solution.g[0] - g[0];
  for (lindex j = 0; j < problem.m(); ++j)
    EXPECT_NEAR(g[j] + shift, solution.g[j], 1e-8 * problem.cost.max_value(MPI_COMM_WORLD));

  // The serial run gives the same plan cost.
  double serial = 0;
  if (comm_rank(MPI_COMM_WORLD) == 0) {
    Vector fs, gs;
    serial = run(MPI_COMM_SELF, fs, gs);
  }
  MPI_Bcast(&serial, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);
  EXPECT_NEAR(cost, serial, 1e-12 * serial);
}

TEST(Multiscale, CoarseningKeepsMassAndMeansAtAnyRankCount) {
  GenerateParams gp;
  gp.family = "clouds";
  gp.n = 300;
  gp.m = 200;
  gp.d = 3;
  gp.seed = 2;
  const Problem problem = generate_problem(MPI_COMM_WORLD, gp);
  ASSERT_TRUE(multiscale::applicable(problem));
  const multiscale::Coarsening cz = multiscale::coarsen(problem, 4);
  const Problem& coarse = cz.coarse;
  EXPECT_LE(coarse.n(), 64);
  EXPECT_LE(coarse.m(), 64);
  // Every coarse point is the weighted mean of the points mapped to it, with their mass.
  const lindex d = 3;
  std::vector<double> acc(static_cast<std::size_t>(coarse.n()) * (d + 1), 0.0);
  for (lindex i = 0; i < problem.source.layout.local_size(); ++i) {
    const gindex c = cz.source_cell[i];
    ASSERT_GE(c, 0);
    acc[c * (d + 1)] += problem.source.weights[i];
    for (lindex k = 0; k < d; ++k)
      acc[c * (d + 1) + 1 + k] += problem.source.weights[i] * problem.source.points(i, k);
  }
  MPI_Allreduce(MPI_IN_PLACE, acc.data(), static_cast<int>(acc.size()), MPI_DOUBLE, MPI_SUM,
                MPI_COMM_WORLD);
  const gindex begin = coarse.source.layout.begin();
  for (lindex s = 0; s < coarse.source.layout.local_size(); ++s) {
    const double* a = acc.data() + (begin + s) * (d + 1);
    EXPECT_NEAR(coarse.source.weights[s], a[0], 1e-14);
    for (lindex k = 0; k < d; ++k)
      EXPECT_NEAR(coarse.source.points(s, k), a[1 + k] / a[0], 1e-12);
  }
  std::vector<double> tacc(static_cast<std::size_t>(coarse.m()), 0.0);
  for (lindex j = 0; j < problem.m(); ++j)
    tacc[cz.target_cell[j]] += problem.target.weights[j];
  for (lindex q = 0; q < coarse.m(); ++q)
    EXPECT_NEAR(coarse.target.weights[q], tacc[q], 1e-14);

  // The same coarse problem from one rank.
  double serial[3] = {0, 0, 0};
  if (comm_rank(MPI_COMM_WORLD) == 0) {
    const Problem p1 = generate_problem(MPI_COMM_SELF, gp);
    const multiscale::Coarsening c1 = multiscale::coarsen(p1, 4);
    serial[0] = static_cast<double>(c1.coarse.n());
    serial[1] = static_cast<double>(c1.coarse.m());
    serial[2] = c1.coarse.cost.max_value(MPI_COMM_SELF);
  }
  MPI_Bcast(serial, 3, MPI_DOUBLE, 0, MPI_COMM_WORLD);
  EXPECT_EQ(static_cast<double>(coarse.n()), serial[0]);
  EXPECT_EQ(static_cast<double>(coarse.m()), serial[1]);
  EXPECT_NEAR(coarse.cost.max_value(MPI_COMM_WORLD), serial[2], 1e-14 * serial[2]);

  // Lifting gives every point its cell's potentials; refine makes rows, then columns, exact.
  Solution cs;
  cs.f = Vector::LinSpaced(coarse.source.layout.local_size(), static_cast<double>(begin),
                           static_cast<double>(begin + coarse.source.layout.local_size() - 1));
  cs.g = Vector::LinSpaced(coarse.m(), 0.0, static_cast<double>(coarse.m() - 1));
  Solution fine;
  multiscale::lift(cz, cs, problem, fine);
  for (lindex i = 0; i < problem.source.layout.local_size(); ++i)
    EXPECT_EQ(fine.f[i], static_cast<double>(cz.source_cell[i]));
  for (lindex j = 0; j < problem.m(); ++j)
    EXPECT_EQ(fine.g[j], static_cast<double>(cz.target_cell[j]));
  const double eps = 0.05 * problem.cost.max_value(MPI_COMM_WORLD);
  multiscale::refine(problem, fine, eps);
  const truncated::Support all = truncated::build(problem, fine.f, fine.g, eps, 1e9, 1e9);
  const truncated::PlanSummary plan = truncated::summarize(problem, all, fine.f, fine.g, eps);
  EXPECT_LE(plan.col_error, 1e-13);
}
