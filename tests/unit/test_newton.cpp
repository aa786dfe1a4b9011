// SPDX-License-Identifier: BSD-3-Clause
// Newton-stage loops: the expm1 form of the objective change, the log histogram.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "kernels/newton.hpp"

using parot::kernels::log_histogram;
using parot::kernels::plan_change;

TEST(NewtonKernels, PlanChangeMatchesDirectDifferenceAndStaysAccurateForTinySteps) {
  const int ni = 3, nj = 4;
  std::vector<double> E(ni * nj), P(ni * nj), df = {0.1, -0.2, 0.05}, dg = {0.3, 0.0, -0.1, 0.2};
  for (int k = 0; k < ni * nj; ++k) {
    E[k] = -2.0 - 0.5 * k;
    P[k] = std::exp(E[k]);
  }
  E[5] = -800;  // a plan entry that underflows: its change comes from exp(E + z)
  P[5] = 0;
  const double ts = 3.0;
  double direct = 0;
  for (int a = 0; a < ni; ++a)
    for (int b = 0; b < nj; ++b) {
      const double z = ts * (df[a] + dg[b]);
      direct += std::exp(E[a * nj + b] + z) - std::exp(E[a * nj + b]);
    }
  EXPECT_NEAR(plan_change(E.data(), P.data(), ni, nj, df.data(), dg.data(), ts), direct,
              1e-14 * std::abs(direct));
  // For a step of 1e-13 the difference of sums is pure rounding; the expm1 form is not.
  const double tiny = 1e-13;
  double first_order = 0;
  for (int a = 0; a < ni; ++a)
    for (int b = 0; b < nj; ++b)
      first_order += P[a * nj + b] * tiny * (df[a] + dg[b]);
  EXPECT_NEAR(plan_change(E.data(), P.data(), ni, nj, df.data(), dg.data(), tiny), first_order,
              1e-10 * std::abs(first_order));
}

TEST(NewtonKernels, LogHistogramCountsOnlyItsRange) {
  const std::vector<double> p = {1.0, std::exp(-1.0), std::exp(-2.5), 0.0, std::exp(-10.0)};
  std::vector<double> counts(4, 0), masses(4, 0);
  log_histogram(p.data(), 5, -4.0, 0.0, 4, counts.data(), masses.data());  // bins of width 1
  EXPECT_EQ(counts, (std::vector<double>{0, 1, 0, 1}));                    // e^0 is at hi: out
  EXPECT_DOUBLE_EQ(masses[1], std::exp(-2.5));
  EXPECT_DOUBLE_EQ(masses[3], std::exp(-1.0));
}
