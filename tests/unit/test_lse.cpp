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
  for (double x : v) mx = std::max(mx, x);
  double s = 0;
  for (double x : v) s += std::exp(x - mx);
  return mx + std::log(s);
}

}  // namespace

TEST(LogSumExp, RowMergeOverSeveralTilesEqualsDirect) {
  const int ni = 3, nj = 37, tile = 10;  // tiles of 10, 10, 10, 7 columns: tails included
  const double eps = 0.01;
  std::vector<double> c(ni * nj), g(nj);
  for (int j = 0; j < nj; ++j) g[j] = 0.3 * std::sin(j);
  g[5] = -std::numeric_limits<double>::infinity();  // a zero-weight column
  for (int i = 0; i < ni; ++i)
    for (int j = 0; j < nj; ++j) c[i * nj + j] = 0.5 + std::cos(0.7 * i + 1.3 * j);
  std::vector<double> rmax(ni, parot::kernels::lse_floor), rsum(ni, 0.0), scratch(nj);
  for (int j0 = 0; j0 < nj; j0 += tile)
    parot::kernels::row_lse_merge(c.data() + j0, nj, ni, std::min(tile, nj - j0), g.data() + j0,
                                  1 / eps, rmax.data(), rsum.data(), scratch.data());
  for (int i = 0; i < ni; ++i) {
    std::vector<double> v;
    for (int j = 0; j < nj; ++j) v.push_back((g[j] - c[i * nj + j]) / eps);
    EXPECT_NEAR(rmax[i] + std::log(rsum[i]), direct_lse(v), 1e-12 * std::abs(direct_lse(v)));
  }
}

TEST(LogSumExp, ColumnMergeOverSeveralTilesEqualsDirect) {
  const int ni = 23, nj = 9, tile = 8;
  const double eps = 0.002;
  std::vector<double> c(ni * nj), f(ni);
  for (int i = 0; i < ni; ++i) f[i] = 0.1 * std::cos(i);
  f[0] = -std::numeric_limits<double>::infinity();  // the first tile starts with an empty row
  for (int i = 0; i < ni; ++i)
    for (int j = 0; j < nj; ++j) c[i * nj + j] = std::abs(std::sin(0.3 * i - 0.9 * j));
  std::vector<double> cmax(nj, parot::kernels::lse_floor), csum(nj, 0.0), scratch(nj);
  for (int i0 = 0; i0 < ni; i0 += tile)
    parot::kernels::col_lse_merge(c.data() + i0 * nj, nj, std::min(tile, ni - i0), nj,
                                  f.data() + i0, 1 / eps, cmax.data(), csum.data(),
                                  scratch.data());
  for (int j = 0; j < nj; ++j) {
    std::vector<double> v;
    for (int i = 0; i < ni; ++i) v.push_back((f[i] - c[i * nj + j]) / eps);
    const double ref = direct_lse(v);
    EXPECT_NEAR(cmax[j] + std::log(csum[j]), ref, 1e-12 * std::abs(ref));
  }
}
