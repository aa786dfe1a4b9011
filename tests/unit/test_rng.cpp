// SPDX-License-Identifier: BSD-3-Clause
// The counter-based generator: reproducible, keyed, and uniform enough for test problems.
#include <gtest/gtest.h>

#include <cmath>

#include "kernels/rng.hpp"

using parot::kernels::normal;
using parot::kernels::uniform01;

TEST(CounterRng, SameKeySameValueOtherKeyOtherValue) {
  EXPECT_EQ(uniform01(7, 1, 123), uniform01(7, 1, 123));
  EXPECT_NE(uniform01(7, 1, 123), uniform01(8, 1, 123));
  EXPECT_NE(uniform01(7, 1, 123), uniform01(7, 2, 123));
  EXPECT_NE(uniform01(7, 1, 123), uniform01(7, 1, 124));
}

TEST(CounterRng, MomentsOfUniformAndNormal) {
  const int n = 200000;
  double su = 0, suu = 0, sn = 0, snn = 0;
  for (int k = 0; k < n; ++k) {
    const double u = uniform01(3, 9, static_cast<std::uint64_t>(k));
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    su += u;
    suu += u * u;
    const double z = normal(3, 10, static_cast<std::uint64_t>(k));
    sn += z;
    snn += z * z;
  }
  // Five standard errors: 1/sqrt(12 n) for the uniform mean, 1/sqrt(n) for the normal mean.
  EXPECT_NEAR(su / n, 0.5, 5 / std::sqrt(12.0 * n));
  EXPECT_NEAR(suu / n - (su / n) * (su / n), 1.0 / 12, 5 * 0.0745 / std::sqrt(double(n)));
  EXPECT_NEAR(sn / n, 0.0, 5 / std::sqrt(double(n)));
  EXPECT_NEAR(snn / n, 1.0, 5 * std::sqrt(2.0 / n));
}
