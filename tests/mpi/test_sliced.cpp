// SPDX-License-Identifier: BSD-3-Clause
// Sliced estimators against closed forms (sliced.md §7), rank independence and batches.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "kernels/sphere.hpp"
#include "support/problems.hpp"

using namespace parot;

namespace {

PointMeasure cloud(long n, lindex d, long seed) {
  GenerateParams gp;
  gp.family = "gaussians";
  gp.n = n;
  gp.d = d;
  gp.seed = seed;
  const Problem p = generate_problem(MPI_COMM_SELF, gp);
  return {p.source.points, p.source.weights};
}

PointMeasure translated(const PointMeasure& m, const Vector& v) {
  PointMeasure t = m;
  t.points.rowwise() += v.transpose();
  return t;
}

}  // namespace

TEST(Sliced, TranslatedCloudClosedFormsAndExactLowerControlVariate) {
  const PointMeasure mu = cloud(200, 3, 1);
  Vector v(3);
  v << 0.3, -0.2, 0.5;
  const PointMeasure nu = translated(mu, v);
  SlicedParams p;
  p.L = 400;
  const SlicedResult plain = sliced_wasserstein(MPI_COMM_WORLD, mu, nu, p);
  EXPECT_NEAR(plain.sw_pp, v.squaredNorm() / 3, 4 * plain.stderr_pp);
  // Per-slice variance ‖v‖⁴·2(d − 1)/(d²(d + 2)): the standard error is consistent with it.
  const double sd = std::sqrt(std::pow(v.squaredNorm(), 2) * 2 * 2 / (9 * 5));
  EXPECT_NEAR(plain.stderr_pp, sd / std::sqrt(400.0), 0.2 * sd / std::sqrt(400.0));
  p.cv = "lower";  // f ≡ C_low on a translation: the textbook estimator is exact
  const SlicedResult cv = sliced_wasserstein(MPI_COMM_WORLD, mu, nu, p);
  EXPECT_NEAR(cv.sw_pp, v.squaredNorm() / 3, 1e-12);
  // Zero variance up to the rounding of the raw-sum variance formula.
  EXPECT_LT(cv.stderr_pp, 1e-6 * plain.stderr_pp);
  EXPECT_GT(cv.variance_reduction, 1e6);

  p.cv = "none";
  p.type = "max_sw";
  const SlicedResult mx = sliced_wasserstein(MPI_COMM_WORLD, mu, nu, p);
  EXPECT_NEAR(mx.sw, v.norm(), 1e-9);
  ASSERT_EQ(mx.direction.size(), 3u);
  double cosine = 0;
  for (int k = 0; k < 3; ++k)
    cosine += mx.direction[k] * v[k] / v.norm();
  EXPECT_NEAR(std::abs(cosine), 1.0, 1e-9);

  p.type = "vdsw";
  p.kappa = 5;
  p.L = 200;
  p.steps = 40;
  const SlicedResult vd = sliced_wasserstein(MPI_COMM_WORLD, mu, nu, p);
  const double A = kernels::vmf_mean_resultant(3, 5);
  EXPECT_NEAR(vd.sw_pp, v.squaredNorm() * (1 - 2 * A / 5), 4 * vd.stderr_pp + 1e-3);
}

TEST(Sliced, CentredScalingExactUpperControlVariate) {
  PointMeasure mu = cloud(150, 4, 2);
  const Vector mean = mu.points.transpose() * (mu.weights / mu.weights.sum());
  mu.points.rowwise() -= mean.transpose();
  PointMeasure nu = mu;
  const double s = 1.7;
  nu.points *= s;
  const Vector w = mu.weights / mu.weights.sum();
  const double trM = (mu.points.array().square().colwise() * w.array()).sum();
  SlicedParams p;
  p.L = 50;
  p.cv = "upper";
  const SlicedResult r = sliced_wasserstein(MPI_COMM_WORLD, mu, nu, p);
  EXPECT_NEAR(r.sw_pp, (1 - s) * (1 - s) * trM / 4, 1e-12 * trM);
}

TEST(Sliced, SameEstimateAtAnyRankCountAndUnequalWeights) {
  PointMeasure mu = cloud(120, 3, 3), nu = cloud(77, 3, 4);
  mu.weights = Vector::LinSpaced(120, 0.0, 2.0);  // unequal weights, one zero
  for (const char* type : {"sw", "max_sw", "vdsw"}) {
    SlicedParams p;
    p.type = type;
    p.L = 64;
    p.p = 1.5;
    p.steps = 20;
    const SlicedResult ref = sliced_wasserstein(MPI_COMM_SELF, mu, nu, p);
    const SlicedResult r = sliced_wasserstein(MPI_COMM_WORLD, mu, nu, p);
    EXPECT_NEAR(r.sw_pp, ref.sw_pp, 1e-10 * ref.sw_pp) << type;
    EXPECT_NEAR(r.stderr_pp, ref.stderr_pp, 1e-8 * ref.sw_pp) << type;
  }
}

namespace {

// Serial reference of SW_p^p for the directions of `seed`: per slice, the projections sorted by
// std::sort (as the estimator did before the radix sort) and W_p^p by the quantile functions
// (sliced.md §2.2), evaluated directly on the merged cumulative weights.
double reference_sw_pp(const PointMeasure& mu, const PointMeasure& nu, long L, long seed,
                       double p) {
  const RowMatrix theta = sliced_directions(seed, L, mu.points.cols());
  double sum = 0;
  for (long l = 0; l < L; ++l) {
    auto sorted = [&](const PointMeasure& m) {
      const Vector v = m.points * theta.row(l).transpose();
      std::vector<Eigen::Index> order(static_cast<std::size_t>(v.size()));
      std::iota(order.begin(), order.end(), Eigen::Index{0});
      std::sort(order.begin(), order.end(), [&](auto a, auto b) { return v[a] < v[b]; });
      std::vector<std::pair<double, double>> atoms;  // (value, cumulative weight)
      double c = 0;
      for (auto i : order) {
        c += m.weights[i] / m.weights.sum();
        atoms.emplace_back(v[i], c);
      }
      return atoms;
    };
    const auto x = sorted(mu), y = sorted(nu);
    std::size_t i = 0, j = 0;
    double q = 0, f = 0;
    while (i < x.size() && j < y.size()) {
      const double next = std::min(x[i].second, y[j].second);
      f += (next - q) * std::pow(std::abs(x[i].first - y[j].first), p);
      q = next;
      if (x[i].second <= next + 1e-15) ++i;
      if (y[j].second <= next + 1e-15) ++j;
    }
    sum += f;
  }
  return sum / static_cast<double>(L);
}

}  // namespace

TEST(Sliced, RadixSortedSlicesMatchAStdSortReferenceOnEveryPath) {
  // Uniform equal sizes (the sorted-quantile path), unequal sizes, and unequal weights with a
  // zero weight and duplicated points (the merge with an index payload), at p = 2 and p = 1.5.
  PointMeasure a = cloud(3000, 3, 11), b = cloud(3000, 3, 12), c = cloud(1777, 3, 13);
  PointMeasure w = cloud(2500, 3, 14);
  w.weights = Vector::LinSpaced(2500, 0.0, 3.0);
  w.points.row(7) = w.points.row(8);
  w.points.row(9) = w.points.row(8);
  const std::pair<const PointMeasure*, const PointMeasure*> pairs[] = {
      {&a, &b}, {&a, &c}, {&w, &b}};
  for (const auto& [mu, nu] : pairs)
    for (double power : {2.0, 1.5}) {
      SlicedParams params;
      params.L = 24;
      params.seed = 3;
      params.p = power;
      const SlicedResult r = sliced_wasserstein(MPI_COMM_WORLD, *mu, *nu, params);
      const double ref = reference_sw_pp(*mu, *nu, params.L, params.seed, power);
      EXPECT_NEAR(r.sw_pp, ref, 1e-12 * ref)
          << mu->points.rows() << " vs " << nu->points.rows() << ", p = " << power;
    }
}

TEST(Sliced, BatchMatrixEqualsPairwiseRuns) {
  std::vector<PointMeasure> batch;
  for (long k = 0; k < 20; ++k)
    batch.push_back(cloud(30 + k, 2, 10 + k));
  SlicedParams p;
  p.L = 40;
  const Layout rows = Layout::uniform(MPI_COMM_WORLD, 20);
  const RowMatrix block =
      sliced_distance_matrix(MPI_COMM_WORLD, batch, p, rows.begin(), rows.end());
  bool ok = true;
  for (gindex i = rows.begin(); i < rows.end(); ++i)
    for (gindex j = 0; j < 20; ++j) {
      const double ref = i == j ? 0.0 : sliced_wasserstein(MPI_COMM_SELF, batch[i], batch[j], p).sw;
      ok = ok && std::abs(block(i - rows.begin(), j) - ref) <= 1e-12 * std::max(ref, 1e-300);
    }
  EXPECT_TRUE(test::all_ranks(MPI_COMM_WORLD, ok));
}

TEST(Sliced, BadParametersAreCollectiveErrors) {
  const PointMeasure mu = cloud(10, 2, 1);
  SlicedParams p;
  p.cv = "upper";
  p.p = 1;
  EXPECT_THROW(sliced_wasserstein(MPI_COMM_WORLD, mu, mu, p), InvalidArgument);
  p = SlicedParams();
  p.L = 0;
  EXPECT_THROW(sliced_wasserstein(MPI_COMM_WORLD, mu, mu, p), InvalidArgument);
  const PointMeasure other = cloud(10, 3, 1);
  EXPECT_THROW(sliced_wasserstein(MPI_COMM_WORLD, mu, other, SlicedParams()), DimensionMismatch);
}

// Points that stay distributed (any layout, empty ranks too) give the replicated estimate.
TEST(Sliced, DistributedPointCloudsMatchReplicatedEstimate) {
  PointMeasure mu = cloud(90, 3, 21), nu = cloud(61, 3, 22);
  mu.weights = Vector::LinSpaced(90, 0.0, 1.0);  // unequal weights, one zero
  for (const char* cv : {"none", "lower", "upper"}) {
    SlicedParams p;
    p.L = 37;  // not a multiple of the rank count
    p.cv = cv;
    const SlicedResult ref = sliced_wasserstein(MPI_COMM_SELF, mu, nu, p);
    for (const Layout& rows : test::test_layouts(MPI_COMM_WORLD, 90)) {
      Measure a, b;
      a.layout = rows;
      a.points = mu.points.middleRows(rows.begin(), rows.local_size());
      a.weights = mu.weights.segment(rows.begin(), rows.local_size());
      b.layout = Layout::uniform(MPI_COMM_WORLD, 61);
      b.points = nu.points.middleRows(b.layout.begin(), b.layout.local_size());
      b.weights = nu.weights.segment(b.layout.begin(), b.layout.local_size());
      const SlicedResult r = sliced_wasserstein_distributed(MPI_COMM_WORLD, a, b, p);
      EXPECT_NEAR(r.sw_pp, ref.sw_pp, 1e-10 * ref.sw_pp) << cv;
      EXPECT_NEAR(r.stderr_pp, ref.stderr_pp, 1e-8 * ref.sw_pp) << cv;
    }
  }
}

// Gaussians N(m₁, Σ) and N(m₂, Σ): SW_2² = ‖m₁ − m₂‖²/d for the laws. Large samples (5000 atoms)
// approach it: the tolerance is a few Monte Carlo standard errors plus the sampling error of the
// empirical measures, O(n^{-1/2}) per slice.
TEST(Sliced, GaussianSamplesApproachThePopulationValue) {
  const lindex n = 5000, d = 2;
  PointMeasure mu, nu;
  mu.points.resize(n, d);
  nu.points.resize(n, d);
  mu.weights = nu.weights = Vector::Ones(n);
  const Eigen::Vector2d shift(0.8, -0.6);
  for (lindex i = 0; i < n; ++i)
    for (lindex k = 0; k < d; ++k) {
      const double z1 = kernels::normal(7, 1, static_cast<std::uint64_t>(i * d + k));
      const double z2 = kernels::normal(7, 2, static_cast<std::uint64_t>(i * d + k));
      mu.points(i, k) = (k == 0 ? 2.0 : 0.5) * z1;  // Σ = diag(4, 0.25)
      nu.points(i, k) = (k == 0 ? 2.0 : 0.5) * z2 + shift[k];
    }
  SlicedParams p;
  p.L = 1000;
  p.cv = "upper";
  const SlicedResult r = sliced_wasserstein(MPI_COMM_WORLD, mu, nu, p);
  // Four Monte Carlo standard errors, plus 3 % for the sampling of the two measures.
  EXPECT_NEAR(r.sw_pp, shift.squaredNorm() / d, 4 * r.stderr_pp + 0.03 * shift.squaredNorm() / d);
}
