// SPDX-License-Identifier: BSD-3-Clause
// Streaming row and column log-sum-exp merges against a direct two-pass evaluation.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "kernels/lse.hpp"

namespace {

double direct_lse(const std::vector<double>& v) {
  double mx = -std::numeric_limits<double>::infinity();
  for (double x : v)
    mx = std::max(mx, x);
  double s = 0;
  for (double x : v)
    s += std::exp(x - mx);
  return mx + std::log(s);
}

}  // namespace

TEST(LogSumExp, RowMergeOverSeveralTilesEqualsDirect) {
  const int ni = 3, nj = 37, tile = 10;  // tiles of 10, 10, 10, 7 columns: tails included
  const double eps = 0.01;
  std::vector<double> c(ni * nj), g(nj);
  for (int j = 0; j < nj; ++j)
    g[j] = 0.3 * std::sin(j);
  g[5] = -std::numeric_limits<double>::infinity();  // a zero-weight column
  for (int i = 0; i < ni; ++i)
    for (int j = 0; j < nj; ++j)
      c[i * nj + j] = 0.5 + std::cos(0.7 * i + 1.3 * j);
  std::vector<double> rmax(ni, parot::kernels::lse_floor), rsum(ni, 0.0), scratch(nj);
  for (int j0 = 0; j0 < nj; j0 += tile)
    parot::kernels::row_lse_merge(c.data() + j0, nj, ni, std::min(tile, nj - j0), g.data() + j0,
                                  1 / eps, rmax.data(), rsum.data(), scratch.data());
  for (int i = 0; i < ni; ++i) {
    std::vector<double> v;
    for (int j = 0; j < nj; ++j)
      v.push_back((g[j] - c[i * nj + j]) / eps);
    EXPECT_NEAR(rmax[i] + std::log(rsum[i]), direct_lse(v), 1e-12 * std::abs(direct_lse(v)));
  }
}

TEST(LogSumExp, ColumnMergeOverSeveralTilesEqualsDirect) {
  const int ni = 23, nj = 9, tile = 8;
  const double eps = 0.002;
  std::vector<double> c(ni * nj), f(ni);
  for (int i = 0; i < ni; ++i)
    f[i] = 0.1 * std::cos(i);
  f[0] = -std::numeric_limits<double>::infinity();  // the first tile starts with an empty row
  for (int i = 0; i < ni; ++i)
    for (int j = 0; j < nj; ++j)
      c[i * nj + j] = std::abs(std::sin(0.3 * i - 0.9 * j));
  std::vector<double> cmax(nj, parot::kernels::lse_floor), csum(nj, 0.0), scratch(nj);
  for (int i0 = 0; i0 < ni; i0 += tile)
    parot::kernels::col_lse_merge(c.data() + i0 * nj, nj, std::min(tile, ni - i0), nj,
                                  f.data() + i0, 1 / eps, cmax.data(), csum.data(), scratch.data());
  for (int j = 0; j < nj; ++j) {
    std::vector<double> v;
    for (int i = 0; i < ni; ++i)
      v.push_back((f[i] - c[i * nj + j]) / eps);
    const double ref = direct_lse(v);
    EXPECT_NEAR(cmax[j] + std::log(csum[j]), ref, 1e-12 * std::abs(ref));
  }
}

TEST(LogSumExp, ShiftedOnePassSumsAgreeWithTheStreamingForm) {
  const int ni = 4, nj = 21;
  const double eps = 0.05;
  std::vector<double> c(ni * nj), g(nj), f(ni);
  for (int j = 0; j < nj; ++j)
    g[j] = 0.2 * std::cos(j);
  for (int i = 0; i < ni; ++i)
    f[i] = 0.1 * i;
  for (int i = 0; i < ni; ++i)
    for (int j = 0; j < nj; ++j)
      c[i * nj + j] = std::abs(std::sin(0.4 * i + 0.8 * j));
  std::vector<double> rmax(ni, parot::kernels::lse_floor), rsum(ni, 0.0), scratch(nj);
  parot::kernels::row_lse_merge(c.data(), nj, ni, nj, g.data(), 1 / eps, rmax.data(), rsum.data(),
                                scratch.data());
  // Shift by the exact LSE minus 3: every shifted sum is then e^3.
  std::vector<double> shift(ni), s(ni, 0.0);
  for (int i = 0; i < ni; ++i)
    shift[i] = rmax[i] + std::log(rsum[i]) - 3;
  parot::kernels::row_sum_shifted(c.data(), nj, ni, nj, g.data(), 1 / eps, shift.data(), s.data());
  for (int i = 0; i < ni; ++i)
    EXPECT_NEAR(s[i], std::exp(3.0), 1e-13 * std::exp(3.0));

  std::vector<double> cmax(nj, parot::kernels::lse_floor), csum(nj, 0.0), cshift(nj), cs(nj, 0.0);
  parot::kernels::col_lse_merge(c.data(), nj, ni, nj, f.data(), 1 / eps, cmax.data(), csum.data(),
                                scratch.data());
  for (int j = 0; j < nj; ++j)
    cshift[j] = cmax[j] + std::log(csum[j]) + 2;
  parot::kernels::col_sum_shifted(c.data(), nj, ni, nj, f.data(), 1 / eps, cshift.data(),
                                  cs.data());
  for (int j = 0; j < nj; ++j)
    EXPECT_NEAR(cs[j], std::exp(-2.0), 1e-13 * std::exp(-2.0));

  // A shift 800 below the maximum overflows the clamped exp: the range check must say so.
  shift[0] -= 800;
  s[0] = 0;
  parot::kernels::row_sum_shifted(c.data(), nj, 1, nj, g.data(), 1 / eps, shift.data(), s.data());
  EXPECT_FALSE(parot::kernels::shifted_sum_ok(s[0]));
  EXPECT_TRUE(parot::kernels::shifted_sum_ok(1.0));
  EXPECT_FALSE(parot::kernels::shifted_sum_ok(0.0));
}
