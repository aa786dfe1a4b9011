// SPDX-License-Identifier: BSD-3-Clause
// The radix sort of float64 keys and the blocked projection (issue 16) against std::sort /
// std::stable_sort and direct dot products: random, duplicate, negative, ±0 and ±inf keys.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

#include "kernels/projection.hpp"
#include "kernels/radix_sort.hpp"
#include "kernels/wasserstein1d.hpp"

using namespace parot::kernels;

namespace {

constexpr double inf = std::numeric_limits<double>::infinity();

std::vector<double> sorted_by_radix(const std::vector<double>& x) {
  std::vector<std::uint64_t> keys(x.size()), scratch(x.size());
  for (std::size_t i = 0; i < x.size(); ++i)
    keys[i] = order_key(x[i]);
  const std::uint64_t* out = radix_sort(keys.data(), scratch.data(), x.size());
  std::vector<double> y(x.size());
  for (std::size_t i = 0; i < x.size(); ++i)
    y[i] = key_value(out[i]);
  return y;
}

// The permutation of the payload sort against std::stable_sort of the indices by value.
void expect_stable_permutation(const std::vector<double>& x) {
  const std::size_t n = x.size();
  std::vector<std::uint64_t> keys(n), scratch(n);
  std::vector<std::uint32_t> index(n), index_scratch(n);
  for (std::size_t i = 0; i < n; ++i) {
    keys[i] = order_key(x[i]);
    index[i] = static_cast<std::uint32_t>(i);
  }
  const auto [k, idx] =
      radix_sort(keys.data(), scratch.data(), index.data(), index_scratch.data(), n);
  std::vector<std::uint32_t> expected(n);
  std::iota(expected.begin(), expected.end(), 0u);
  std::stable_sort(expected.begin(), expected.end(),
                   [&](std::uint32_t a, std::uint32_t b) { return x[a] < x[b]; });
  for (std::size_t i = 0; i < n; ++i) {
    ASSERT_EQ(idx[i], expected[i]) << "position " << i << " of " << n;
    ASSERT_EQ(k[i], order_key(x[idx[i]])) << "position " << i;
  }
}

void expect_matches_std_sort(const std::vector<double>& x) {
  std::vector<double> expected = x;
  std::sort(expected.begin(), expected.end());
  const std::vector<double> got = sorted_by_radix(x);
  ASSERT_EQ(got.size(), expected.size());
  for (std::size_t i = 0; i < x.size(); ++i)
    ASSERT_EQ(got[i], expected[i]) << "position " << i << " of " << x.size();  // -0.0 == 0.0
  expect_stable_permutation(x);
}

}  // namespace

TEST(RadixSort, OrderKeyIsMonotoneOnSpecialValues) {
  const double dmin = std::numeric_limits<double>::denorm_min();
  const double nmin = std::numeric_limits<double>::min();
  const double big = std::numeric_limits<double>::max();
  const std::vector<double> ascending = {-inf, -big, -1e300, -2.0, -1.0,  -nmin, -dmin, 0.0,
                                         dmin, nmin, 1.0,    2.0,  1e300, big,   inf};
  for (std::size_t i = 0; i + 1 < ascending.size(); ++i)
    EXPECT_LT(order_key(ascending[i]), order_key(ascending[i + 1])) << ascending[i];
  for (double x : ascending)
    EXPECT_EQ(key_value(order_key(x)), x);
  EXPECT_EQ(order_key(-0.0), order_key(0.0));  // equal doubles, equal keys: a stable sort
  EXPECT_FALSE(std::signbit(key_value(order_key(-0.0))));
}

TEST(RadixSort, MatchesStdSortOnRandomKeys) {
  std::mt19937_64 gen(7);
  std::normal_distribution<double> normal(0.0, 3.0);
  for (std::size_t n : {0u, 1u, 2u, 3u, 17u, 2047u, 2049u, 100000u}) {
    std::vector<double> x(n);
    for (double& v : x)
      v = normal(gen);
    expect_matches_std_sort(x);
  }
  // Magnitudes spread over the whole exponent range: every digit of the keys varies.
  std::uniform_real_distribution<double> expo(-300, 300), unit(-1, 1);
  std::vector<double> wide(50000);
  for (double& v : wide)
    v = unit(gen) * std::pow(10.0, expo(gen));
  expect_matches_std_sort(wide);
}

TEST(RadixSort, MatchesStdSortOnDuplicatesNegativesZerosAndInfinities) {
  std::mt19937_64 gen(11);
  const std::vector<double> pool = {-inf, -3.5, -1.0, -0.0, 0.0, 1e-310, 2.25, 7.0, inf};
  std::uniform_int_distribution<std::size_t> pick(0, pool.size() - 1);
  std::vector<double> dup(30000);
  for (double& v : dup)
    v = pool[pick(gen)];
  expect_matches_std_sort(dup);
  std::vector<double> negative(10000);
  std::uniform_real_distribution<double> u(-1e6, -1e-6);
  for (double& v : negative)
    v = u(gen);
  expect_matches_std_sort(negative);
  expect_matches_std_sort(std::vector<double>(5000, -2.5));  // every pass skipped
  std::vector<double> zeros(4000);
  for (std::size_t i = 0; i < zeros.size(); ++i)
    zeros[i] = i % 3 == 0 ? -0.0 : 0.0;
  expect_matches_std_sort(zeros);
  std::vector<double> descending(7000);
  for (std::size_t i = 0; i < descending.size(); ++i)
    descending[i] = 1000.0 - static_cast<double>(i) * 0.37;
  expect_matches_std_sort(descending);
}

TEST(RadixSort, MatchesStdSortOnKeysCrowdedInANarrowRelativeRange) {
  // The passes see the 31 high bits of the keys; the finish orders keys that share them: short
  // runs (by insertion) and long runs (std::sort / std::stable_sort) of distinct keys.
  std::mt19937_64 gen(5);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<double> short_runs(5000), long_runs(20000), mixed(20000);
  for (double& v : short_runs)
    v = 1.0 + 0.01 * u(gen);  // about one key per 2e-6-wide bin
  for (double& v : long_runs)
    v = -1000.0 - 1e-7 * u(gen);  // all in a handful of bins
  for (std::size_t i = 0; i < mixed.size(); ++i)
    mixed[i] = i % 2 == 0 ? long_runs[i] : short_runs[i % short_runs.size()];
  expect_matches_std_sort(short_runs);
  expect_matches_std_sort(long_runs);
  expect_matches_std_sort(mixed);
}

TEST(RadixSort, ProjectedKeysAndTheirHistogramsSortLikeTheDotProducts) {
  std::mt19937_64 gen(3);
  std::normal_distribution<double> normal;
  for (bool with_ranges : {false, true})
    for (std::size_t d : {1u, 2u, 3u, 5u}) {
      const std::size_t n = 3001, directions = 3;
      std::vector<double> points(n * d), theta(directions * d);
      for (double& v : points)
        v = normal(gen);
      for (double& v : theta)
        v = normal(gen);
      std::vector<double> lower(points.begin(), points.begin() + d), upper = lower;
      for (std::size_t i = 0; i < n; ++i)
        for (std::size_t k = 0; k < d; ++k) {
          lower[k] = std::min(lower[k], points[i * d + k]);
          upper[k] = std::max(upper[k], points[i * d + k]);
        }
      std::vector<RangeBuckets> ranges(directions);
      for (std::size_t b = 0; b < directions; ++b) {
        double lo, hi;
        project_box(lower.data(), upper.data(), theta.data() + b * d, d, lo, hi);
        ASSERT_TRUE(RangeBuckets::make(lo, hi, ranges[b]));
      }
      std::vector<std::uint64_t> keys(directions * n), scratch(n);
      std::vector<std::uint64_t*> rows = {keys.data(), keys.data() + n, keys.data() + 2 * n};
      std::vector<RadixHistograms> hist(directions);
      project_keys(points.data(), n, d, theta.data(), directions, rows.data(), hist.data(),
                   with_ranges ? ranges.data() : nullptr);
      for (std::size_t b = 0; b < directions; ++b) {
        std::vector<double> dots(n);
        for (std::size_t i = 0; i < n; ++i) {
          double s = 0;
          for (std::size_t k = 0; k < d; ++k)
            s += points[i * d + k] * theta[b * d + k];
          dots[i] = s;
          ASSERT_EQ(rows[b][i], order_key(s)) << "d " << d << " direction " << b << " point " << i;
          ASSERT_GE(s, ranges[b].lo - 1e-12) << "the box projects to an interval holding s";
        }
        std::sort(dots.begin(), dots.end());
        const std::uint64_t* out =
            with_ranges ? radix_sort(hist[b], ranges[b], rows[b], scratch.data(), n)
                        : radix_sort(hist[b], BitBuckets{}, rows[b], scratch.data(), n);
        for (std::size_t i = 0; i < n; ++i)
          ASSERT_EQ(key_value(out[i]), dots[i]) << "d " << d << " direction " << b;
      }
    }
}

TEST(RadixSort, RangeBucketsAreExactForKeysOutsideTheirRange) {
  // Keys below lo and above hi are clamped into the end buckets, whose runs the finish sorts:
  // still exactly std::stable_sort, payload included.
  std::mt19937_64 gen(9);
  std::normal_distribution<double> normal(0.0, 10.0);
  std::vector<double> x(20000);
  for (double& v : x)
    v = normal(gen);
  x[5] = inf;
  x[6] = -inf;
  x[7] = -0.0;
  x[8] = 0.0;
  RangeBuckets range;
  ASSERT_TRUE(RangeBuckets::make(-1.0, 2.0, range));
  EXPECT_FALSE(RangeBuckets::make(1.0, 1.0, range) || RangeBuckets::make(0.0, inf, range));
  ASSERT_TRUE(RangeBuckets::make(-1.0, 2.0, range));
  const std::size_t n = x.size();
  std::vector<std::uint64_t> keys(n), scratch(n);
  std::vector<std::uint32_t> index(n), index_scratch(n);
  RadixHistograms h;
  radix_clear(h);
  for (std::size_t i = 0; i < n; ++i) {
    keys[i] = order_key(x[i]);
    index[i] = static_cast<std::uint32_t>(i);
    radix_count(h, keys[i], range);
  }
  const auto [k, idx] =
      radix_sort(h, range, keys.data(), scratch.data(), index.data(), index_scratch.data(), n);
  std::vector<std::uint32_t> expected(n);
  std::iota(expected.begin(), expected.end(), 0u);
  std::stable_sort(expected.begin(), expected.end(),
                   [&](std::uint32_t a, std::uint32_t b) { return x[a] < x[b]; });
  for (std::size_t i = 0; i < n; ++i) {
    ASSERT_EQ(idx[i], expected[i]) << "position " << i;
    ASSERT_EQ(k[i], order_key(x[idx[i]]));
  }
}

TEST(RadixSort, Sort1dDropsZeroWeightsAndKeepsEveryIndex) {
  const std::vector<double> x = {0.5, -1.0, 0.5, 3.0, -0.0, 2.0};
  const std::vector<double> w = {0.1, 0.2, 0.0, 0.3, 0.25, 0.15};
  Sorted1d out;
  std::vector<parot::lindex> order;
  sort_1d(x.data(), w.data(), static_cast<parot::lindex>(x.size()), out, order);
  EXPECT_EQ(order, (std::vector<parot::lindex>{1, 4, 0, 2, 5, 3}));
  EXPECT_EQ(out.value, (std::vector<double>{-1.0, 0.0, 0.5, 2.0, 3.0}));
  EXPECT_EQ(out.weight, (std::vector<double>{0.2, 0.25, 0.1, 0.15, 0.3}));
}
