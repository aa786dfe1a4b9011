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

TEST(CostTile, SquaredEuclideanAnyDimensionMatchesCoordinateSums) {
  // Every dimension (the kernel has a one-pass form for d = 2 and a first-coordinate pass for
  // the others) gives exactly Σ_k (x_k − y_k)², summed in coordinate order from 0.
  for (long d : {1L, 2L, 3L, 5L}) {
    const long ni = 3, nj = 7, ys = 9;
    std::vector<double> x(ni * d), yt(d * ys), out(ni * nj);
    for (std::size_t k = 0; k < x.size(); ++k)
      x[k] = std::sin(1.0 + 0.7 * double(k));
    for (std::size_t k = 0; k < yt.size(); ++k)
      yt[k] = std::cos(0.3 + 1.1 * double(k));
    parot::kernels::sqeuclidean_tile(x.data(), ni, d, yt.data(), ys, nj, out.data(), nj);
    for (long a = 0; a < ni; ++a)
      for (long b = 0; b < nj; ++b) {
        double s = 0.0;
        for (long k = 0; k < d; ++k) {
          const double t = x[a * d + k] - yt[k * ys + b];
          s += t * t;
        }
        EXPECT_DOUBLE_EQ(out[a * nj + b], s) << "d = " << d;
      }
  }
}
