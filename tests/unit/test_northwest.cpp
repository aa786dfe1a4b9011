// SPDX-License-Identifier: BSD-3-Clause
// North-west-corner transport: marginals, sparsity, and the same entries from any row blocks.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <utility>
#include <vector>

#include "kernels/northwest.hpp"

using parot::lindex;
using parot::kernels::cumulative;
using parot::kernels::northwest_corner;

namespace {

using Entries = std::map<std::pair<lindex, lindex>, double>;

// The textbook algorithm: a pointer into each vector, move the smaller remainder.
Entries textbook(std::vector<double> supply, std::vector<double> demand) {
  Entries out;
  std::size_t i = 0, j = 0;
  while (i < supply.size() && j < demand.size()) {
    const double moved = std::min(supply[i], demand[j]);
    if (moved > 0) out[{lindex(i), lindex(j)}] += moved;
    supply[i] -= moved;
    demand[j] -= moved;
    if (supply[i] <= 0) ++i;
    if (j < demand.size() && demand[j] <= 0) ++j;
  }
  return out;
}

}  // namespace

TEST(NorthwestCorner, MatchesTheTextbookAlgorithmFromAnyRowBlocks) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(0, 1);
  for (int trial = 0; trial < 20; ++trial) {
    const lindex n = 1 + trial % 7, m = 1 + (trial * 3) % 5;
    std::vector<double> supply(n), demand(m);
    for (auto& s : supply)
      s = u(rng) < 0.2 ? 0.0 : u(rng);  // some rows have nothing to move
    for (auto& d : demand)
      d = u(rng) < 0.2 ? 0.0 : u(rng);
    double ts = 0, td = 0;
    for (double s : supply)
      ts += s;
    for (double d : demand)
      td += d;
    if (td == 0) demand[0] = td = 1;
    for (auto& d : demand)
      d *= ts / td;  // balanced totals
    const Entries expected = textbook(supply, demand);
    const std::vector<double> dcum = cumulative(demand.data(), m);
    for (lindex blocks = 1; blocks <= 3; ++blocks) {
      Entries got;
      double offset = 0;
      for (lindex b = 0; b < blocks; ++b) {
        const lindex lo = n * b / blocks, hi = n * (b + 1) / blocks;
        northwest_corner(supply.data() + lo, hi - lo, offset, dcum,
                         [&](lindex i, lindex j, double mass) {
                           got[{lo + i, j}] += mass;
                         });
        for (lindex i = lo; i < hi; ++i)
          offset += supply[i];
      }
      std::vector<double> rows(n, 0.0), cols(m, 0.0);
      for (const auto& [ij, mass] : got) {
        rows[ij.first] += mass;
        cols[ij.second] += mass;
      }
      for (lindex i = 0; i < n; ++i)
        EXPECT_NEAR(rows[i], supply[i], 1e-14) << "trial " << trial << " row " << i;
      for (lindex j = 0; j < m; ++j)
        EXPECT_NEAR(cols[j], demand[j], 1e-14) << "trial " << trial << " column " << j;
      EXPECT_LE(static_cast<lindex>(got.size()), n + m - 1);
      for (const auto& [ij, mass] : expected)
        if (mass > 1e-13) {
          EXPECT_NEAR(got[ij], mass, 1e-14) << ij.first << "," << ij.second;
        }
    }
  }
}
