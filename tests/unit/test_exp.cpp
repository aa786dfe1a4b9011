// SPDX-License-Identifier: BSD-3-Clause
// The vectorizable exp against the C library.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "kernels/exp.hpp"

using parot::kernels::fast_exp;

TEST(FastExp, MatchesStdExpToAFewUlps) {
  double worst = 0;
  for (double x = -707.9; x < 709; x += 0.0137) {
    const double ref = std::exp(x);
    worst = std::max(worst, std::abs(fast_exp(x) - ref) / ref);
  }
  EXPECT_LT(worst, 4e-16);
}

TEST(FastExp, ExactAtZeroAndUnderflowsToZero) {
  EXPECT_EQ(fast_exp(0.0), 1.0);
  EXPECT_EQ(fast_exp(-709.0), 0.0);
  EXPECT_EQ(fast_exp(-1e300), 0.0);
  EXPECT_EQ(fast_exp(-INFINITY), 0.0);
}

TEST(FastExp, ArrayFormEqualsScalarForm) {
  std::vector<double> x(1001), y(1001);
  for (std::size_t i = 0; i < x.size(); ++i)
    x[i] = -50.0 + 0.1 * static_cast<double>(i);
  parot::kernels::exp_array(x.data(), y.data(), static_cast<parot::lindex>(x.size()));
  for (std::size_t i = 0; i < x.size(); ++i)
    EXPECT_EQ(y[i], fast_exp(x[i]));
}
