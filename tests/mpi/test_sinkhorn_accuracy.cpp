// SPDX-License-Identifier: BSD-3-Clause
// Sinkhorn against exact 1-D optimal transport, and small regularization without NaN.
#include <gtest/gtest.h>

#include <cmath>

#include "support/problems.hpp"

using namespace parot;

namespace {

// Exact W_p^p between two 1-D discrete measures on sorted points: merge the cumulative weights.
double exact_1d(const RowMatrix& x, const Vector& a, const RowMatrix& y, const Vector& b,
                double p) {
  Eigen::Index i = 0, j = 0;
  double ra = a[0], rb = b[0], w = 0;
  while (i < a.size() && j < b.size()) {
    const double mass = std::min(ra, rb);
    w += mass * std::pow(std::abs(x(i, 0) - y(j, 0)), p);
    ra -= mass;
    rb -= mass;
    if (ra <= 1e-18 && ++i < a.size()) ra = a[i];
    if (rb <= 1e-18 && ++j < b.size()) rb = b[j];
  }
  return w;
}

double entropy(const Vector& w) {
  double h = 0;
  for (Eigen::Index i = 0; i < w.size(); ++i)
    if (w[i] > 0) h -= w[i] * std::log(w[i]);
  return h;
}

SolveResult solve(const Problem& problem, double reg_relative, double atol, bool scaling) {
  SolveParams params;
  params.reg = reg_relative;
  params.reg_relative = true;
  params.atol = atol;
  params.max_it = 400000;
  SinkhornParams sp;
  sp.eps_scaling = scaling;
  SinkhornSolver solver(problem.comm(), params, sp);
  Solution s;
  return solver.solve(problem, s);
}

}  // namespace

// The entropic plan is feasible, so <C,P_ε> >= W; and it minimizes <C,P> − εH(P), so
// <C,P_ε> − W <= ε (H(P_ε) − H(P*)) <= ε (H(a) + H(b)).
TEST(SinkhornAccuracy, OneDimensionalCostApproachesExactWp) {
  for (long p : {1L, 2L}) {
    GenerateParams gp;
    gp.family = "density1d";
    gp.n = 120;
    gp.m = 90;
    gp.p = p;
    gp.seed = 4;
    const Problem serial = generate_problem(MPI_COMM_SELF, gp);
    const Problem problem = generate_problem(MPI_COMM_WORLD, gp);
    const double w = exact_1d(serial.source.points, serial.source.weights, serial.target.points,
                              serial.target.weights, static_cast<double>(p));
    const double h = entropy(serial.source.weights) + entropy(serial.target.weights);
    double previous_gap = INFINITY;
    for (double reg : {1e-2, 1e-3}) {
      const SolveResult r = solve(problem, reg, 1e-10, true);
      ASSERT_TRUE(converged(r.reason)) << to_string(r.reason);
      const double gap = r.transport_cost - w;
      EXPECT_GE(gap, -1e-8) << "p=" << p << " reg=" << reg;
      EXPECT_LE(gap, r.reg * h) << "p=" << p << " reg=" << reg;
      EXPECT_LT(gap, previous_gap);
      previous_gap = gap;
    }
  }
}

// POT's kernel Sinkhorn reports "numerical errors" here (exp(−C/ε) underflows to 0).
TEST(SinkhornAccuracy, RegOneTenThousandthRelativeConvergesWithoutNan) {
  for (const char* family : {"density1d", "images"})
    for (long p : {1L, 2L}) {
      GenerateParams gp;
      gp.family = family;
      gp.n = 100;
      gp.p = p;
      gp.seed = 1;
      const Problem problem = generate_problem(MPI_COMM_WORLD, gp);
      const SolveResult r = solve(problem, 1e-4, 1e-6, true);
      EXPECT_EQ(r.reason, Reason::converged_atol) << family << " p=" << p;
      EXPECT_TRUE(std::isfinite(r.transport_cost));
      EXPECT_LE(r.marginal_error, 1e-6);
      EXPECT_NEAR(r.reg_relative, 1e-4, 1e-12);
    }
}
