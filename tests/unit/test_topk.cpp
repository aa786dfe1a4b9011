// SPDX-License-Identifier: BSD-3-Clause
// The top-k operators of sparse OT against brute force over supports and finite differences.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "kernels/dd_sum.hpp"
#include "kernels/topk.hpp"

using namespace parot;

namespace {

std::vector<double> random_vector(std::mt19937_64& rng, lindex n, double scale = 1.0) {
  std::normal_distribution<double> normal(0.0, scale);
  std::vector<double> v(static_cast<std::size_t>(n));
  for (auto& x : v)
    x = normal(rng);
  return v;
}

// Euclidean projection of v restricted to the support `mask` onto the simplex, by bisection on
// the threshold (independent of the sort-based kernel). Returns the dense projection.
std::vector<double> restricted_projection(const std::vector<double>& v, unsigned mask) {
  const std::size_t n = v.size();
  double lo = 1e300, hi = -1e300;
  for (std::size_t i = 0; i < n; ++i)
    if (mask >> i & 1u) {
      lo = std::min(lo, v[i] - 1.0);
      hi = std::max(hi, v[i]);
    }
  for (int it = 0; it < 300; ++it) {
    const double tau = 0.5 * (lo + hi);
    double s = 0;
    for (std::size_t i = 0; i < n; ++i)
      if (mask >> i & 1u) s += std::max(v[i] - tau, 0.0);
    (s > 1.0 ? lo : hi) = tau;
  }
  std::vector<double> t(n, 0.0);
  for (std::size_t i = 0; i < n; ++i)
    if (mask >> i & 1u) t[i] = std::max(v[i] - 0.5 * (lo + hi), 0.0);
  return t;
}

int popcount(unsigned x) {
  int c = 0;
  for (; x; x &= x - 1)
    ++c;
  return c;
}

std::vector<double> dense(lindex n, const std::vector<lindex>& idx, const std::vector<double>& val,
                          lindex nnz) {
  std::vector<double> t(static_cast<std::size_t>(n), 0.0);
  for (lindex q = 0; q < nnz; ++q)
    t[static_cast<std::size_t>(idx[q])] = val[q];
  return t;
}

double delta(const std::vector<double>& s, lindex k, double gamma, std::vector<double>* grad) {
  const lindex n = static_cast<lindex>(s.size());
  std::vector<lindex> idx(s.size());
  std::vector<double> val(s.size());
  lindex nnz = 0;
  const double value = kernels::sparse_delta(s.data(), n, k, gamma, idx.data(), val.data(), &nnz);
  EXPECT_LE(nnz, k);
  if (grad) *grad = dense(n, idx, val, nnz);
  return value;
}

double max_omega(const std::vector<double>& s, lindex k, double gamma_b,
                 std::vector<double>* grad) {
  const lindex n = static_cast<lindex>(s.size());
  std::vector<lindex> idx(s.size());
  std::vector<double> val(s.size()), v(s.size());
  lindex nnz = 0;
  double tau = 0;
  const double value = kernels::sparse_max_omega(s.data(), n, k, gamma_b, v.data(), idx.data(),
                                                 val.data(), &nnz, &tau);
  EXPECT_LE(nnz, k);
  if (grad) *grad = dense(n, idx, val, nnz);
  return value;
}

}  // namespace

TEST(TopK, SparseSimplexProjectionIsTheBestOverAllSupports) {
  std::mt19937_64 rng(7);
  for (lindex n = 1; n <= 8; ++n)
    for (lindex k = 1; k <= n; ++k)
      for (int trial = 0; trial < 20; ++trial) {
        const std::vector<double> v = random_vector(rng, n, trial % 2 ? 0.3 : 2.0);
        std::vector<lindex> idx(static_cast<std::size_t>(n));
        std::vector<double> val(static_cast<std::size_t>(n));
        lindex nnz = 0;
        kernels::sparse_simplex_projection(v.data(), n, k, idx.data(), val.data(), &nnz);
        ASSERT_LE(nnz, k);
        const std::vector<double> t = dense(n, idx, val, nnz);
        double sum = 0;
        for (double x : t) {
          EXPECT_GE(x, 0.0);
          sum += x;
        }
        EXPECT_NEAR(sum, 1.0, 1e-12);
        // Brute force: the closest point of the simplex with at most k non-zeros.
        double best = 1e300;
        std::vector<double> best_t;
        for (unsigned mask = 1; mask < (1u << n); ++mask) {
          if (popcount(mask) > k) continue;
          const std::vector<double> p = restricted_projection(v, mask);
          double d = 0;
          for (std::size_t i = 0; i < v.size(); ++i)
            d += (p[i] - v[i]) * (p[i] - v[i]);
          if (d < best) {
            best = d;
            best_t = p;
          }
        }
        double d = 0;
        for (std::size_t i = 0; i < v.size(); ++i)
          d += (t[i] - v[i]) * (t[i] - v[i]);
        EXPECT_NEAR(d, best, 1e-10) << "n " << n << " k " << k;
        for (std::size_t i = 0; i < v.size(); ++i)
          EXPECT_NEAR(t[i], best_t[i], 1e-8) << "n " << n << " k " << k << " i " << i;
      }
}

TEST(TopK, DeltaAndMaxOmegaAreTheSupremaOverSupports) {
  std::mt19937_64 rng(11);
  const double gamma = 0.7, b = 0.5;
  for (lindex n = 1; n <= 7; ++n)
    for (lindex k = 1; k <= n; ++k)
      for (int trial = 0; trial < 10; ++trial) {
        const std::vector<double> s = random_vector(rng, n);
        // δ_Ω: sup over t >= 0 supported on S of <s, t> − γ/2 |t|² is Σ_S [s_i]₊² / (2γ).
        double best_delta = 0, best_max = -1e300;
        for (unsigned mask = 1; mask < (1u << n); ++mask) {
          if (popcount(mask) > k) continue;
          double d = 0;
          for (lindex i = 0; i < n; ++i)
            if (mask >> i & 1u) d += std::pow(std::max(s[i], 0.0), 2) / (2 * gamma);
          best_delta = std::max(best_delta, d);
          // max_Ω over the simplex restricted to S: t = projection of s/(γ b) onto it.
          std::vector<double> v(s);
          for (auto& x : v)
            x /= gamma * b;
          const std::vector<double> t = restricted_projection(v, mask);
          double value = 0;
          for (lindex i = 0; i < n; ++i)
            value += s[i] * t[i] - 0.5 * gamma * b * t[i] * t[i];
          best_max = std::max(best_max, value);
        }
        EXPECT_NEAR(delta(s, k, gamma, nullptr), best_delta, 1e-12);
        EXPECT_NEAR(max_omega(s, k, gamma * b, nullptr), best_max, 1e-10);
      }
}

TEST(TopK, GradientsMatchFiniteDifferences) {
  std::mt19937_64 rng(3);
  const lindex n = 10, k = 5;
  const double gamma = 1.3, b = 0.5, h = 1e-6;
  for (int trial = 0; trial < 5; ++trial) {
    const std::vector<double> s = random_vector(rng, n);
    std::vector<double> gd, gm;
    delta(s, k, gamma, &gd);
    max_omega(s, k, gamma * b, &gm);
    for (lindex i = 0; i < n; ++i) {
      std::vector<double> sp(s), sm(s);
      sp[static_cast<std::size_t>(i)] += h;
      sm[static_cast<std::size_t>(i)] -= h;
      EXPECT_NEAR((delta(sp, k, gamma, nullptr) - delta(sm, k, gamma, nullptr)) / (2 * h),
                  gd[static_cast<std::size_t>(i)], 1e-7);
      EXPECT_NEAR(
          (max_omega(sp, k, gamma * b, nullptr) - max_omega(sm, k, gamma * b, nullptr)) / (2 * h),
          gm[static_cast<std::size_t>(i)], 1e-7);
    }
  }
}

TEST(TopK, TiesAreBrokenByIndexAndKLargerThanPositives) {
  const std::vector<double> s = {1.0, 2.0, 2.0, -1.0, 2.0};
  std::vector<double> g;
  EXPECT_DOUBLE_EQ(delta(s, 2, 1.0, &g), 4.0);  // (2² + 2²) / 2
  EXPECT_EQ(g, (std::vector<double>{0, 2, 2, 0, 0}));
  EXPECT_DOUBLE_EQ(delta(s, 5, 2.0, &g), (1 + 4 + 4 + 4) / 4.0);  // the negative entry adds 0
  EXPECT_EQ(g, (std::vector<double>{0.5, 1, 1, 0, 1}));
  EXPECT_DOUBLE_EQ(delta({-1.0, -2.0}, 1, 1.0, &g), 0.0);
  EXPECT_EQ(g, (std::vector<double>{0, 0}));
}

TEST(DoubleDouble, SumsDoNotDependOnTheGrouping) {
  std::mt19937_64 rng(13);
  std::lognormal_distribution<double> dist(0.0, 3.0);  // magnitudes over many decades
  std::vector<double> x(5000);
  for (auto& v : x)
    v = dist(rng);
  kernels::DoubleDouble serial;
  for (double v : x)
    kernels::add(serial, v);
  long double exact = 0;  // a reference with more bits (and a different order)
  for (auto it = x.rbegin(); it != x.rend(); ++it)
    exact += *it;
  EXPECT_NEAR(serial.value(), static_cast<double>(exact), 1e-15 * serial.value());
  for (std::size_t parts : {2u, 3u, 4u, 7u}) {  // contiguous blocks, as ranks own columns
    kernels::DoubleDouble total;
    for (std::size_t p = 0; p < parts; ++p) {
      kernels::DoubleDouble block;
      for (std::size_t i = p * x.size() / parts; i < (p + 1) * x.size() / parts; ++i)
        kernels::add(block, x[i]);
      kernels::add(total, block);
    }
    EXPECT_EQ(total.value(), serial.value()) << parts;
  }
  double plain = 0, plain2 = 0;  // plain double sums do depend on it (so the test can fail)
  for (double v : x)
    plain += v;
  for (std::size_t i = 0; i < x.size(); i += 2)
    plain2 += x[i];
  for (std::size_t i = 1; i < x.size(); i += 2)
    plain2 += x[i];
  EXPECT_NE(plain, plain2);
}
