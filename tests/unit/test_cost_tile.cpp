// SPDX-License-Identifier: BSD-3-Clause
// Cost tile kernels against a direct evaluation.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "kernels/cost_tile.hpp"

namespace {

struct Points {
  // 3 source points and 4 target points in 2-D; targets stored transposed (SoA).
  std::vector<double> x = {0.0, 0.0, 1.0, 2.0, -1.5, 0.5};
  std::vector<double> yt = {1.0, 0.0, 3.0,  -2.0,   // coordinate 0 of 4 targets
                            1.0, 2.0, -1.0, 0.25};  // coordinate 1
  double ref(int i, int j, double p) const {
    double s = 0;
    for (int k = 0; k < 2; ++k)
      s += std::pow(std::abs(x[i * 2 + k] - yt[k * 4 + j]), p);
    return s;
  }
};

}  // namespace

TEST(CostTile, SquaredEuclideanEuclideanAndLp) {
  const Points pts;
  std::vector<double> out(3 * 6, -1.0);  // ld 6 > 4 columns
  parot::kernels::sqeuclidean_tile(pts.x.data(), 3, 2, pts.yt.data(), 4, 4, out.data(), 6);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j)
      EXPECT_DOUBLE_EQ(out[i * 6 + j], pts.ref(i, j, 2));
  parot::kernels::euclidean_tile(pts.x.data(), 3, 2, pts.yt.data(), 4, 4, out.data(), 6);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j)
      EXPECT_DOUBLE_EQ(out[i * 6 + j], std::sqrt(pts.ref(i, j, 2)));
  for (double p : {1.0, 1.5, 3.0}) {
    parot::kernels::lp_tile(p, pts.x.data(), 3, 2, pts.yt.data(), 4, 4, out.data(), 6);
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 4; ++j)
        EXPECT_NEAR(out[i * 6 + j], pts.ref(i, j, p), 1e-14);
  }
  EXPECT_EQ(out[4], -1.0);  // padding beyond the tile is untouched
}

TEST(CostTile, SubTileOfTargets) {
  const Points pts;
  std::vector<double> out(3 * 2);
  // Columns 1..2 only: the tile starts at yt + 1 with column stride 4.
  parot::kernels::sqeuclidean_tile(pts.x.data(), 3, 2, pts.yt.data() + 1, 4, 2, out.data(), 2);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 2; ++j)
      EXPECT_DOUBLE_EQ(out[i * 2 + j], pts.ref(i, j + 1, 2));
}
