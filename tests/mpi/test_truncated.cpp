// SPDX-License-Identifier: BSD-3-Clause
// Truncated-kernel stages of near-exact OT (src/solver/certify/truncated.hpp): the support is
// exactly the entries near their row or column maximum (brute force), and Sinkhorn on a support
// that drops nothing finds the full-kernel solution, at any rank count.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "parot/parot.hpp"
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
