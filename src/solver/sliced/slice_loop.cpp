// SPDX-License-Identifier: BSD-3-Clause
// The SW slice loop on replicated measures: blocked projection, radix sort, 1-D W_p^p.
#include "solver/sliced/slice_loop.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

#include "kernels/huge_pages.hpp"
#include "kernels/projection.hpp"
#include "kernels/radix_sort.hpp"
#include "kernels/sphere.hpp"
#include "kernels/wasserstein1d.hpp"
#include "parot/core/error.hpp"
#include "parot/core/log.hpp"

namespace parot::sliced {

namespace {

// Projection keys of one measure for a block of slices, and the buffers its sorts need.
struct Keys {
  kernels::HugeBuffer<std::uint64_t> keys, scratch;
  std::vector<kernels::RadixHistograms> hist;
  kernels::HugeBuffer<std::uint32_t> index, index_scratch;
  std::vector<std::uint64_t*> rows;
  std::vector<double> lower, upper;           // the bounding box of the points
  std::vector<kernels::RangeBuckets> ranges;  // the block's bucketings, if use_ranges
  bool use_ranges = false;
  // After sort(b): the sorted keys of slice b and, for non-uniform weights, their atoms.
  const std::uint64_t* sorted = nullptr;
  const std::uint32_t* order = nullptr;

  Keys(const SliceMeasure& m, std::size_t block)
      : keys(block * static_cast<std::size_t>(m.n)),
        scratch(static_cast<std::size_t>(m.n)),
        hist(block),
        rows(block) {
    if (!m.uniform) {
      index.resize(static_cast<std::size_t>(m.n));
      index_scratch.resize(index.size());
    }
    for (std::size_t b = 0; b < block; ++b)
      rows[b] = keys.data() + b * static_cast<std::size_t>(m.n);
    const auto d = static_cast<std::size_t>(m.d);
    lower.assign(m.points, m.points + d);
    upper = lower;
    for (std::size_t i = 1; i < static_cast<std::size_t>(m.n); ++i)
      for (std::size_t k = 0; k < d; ++k) {
        lower[k] = std::min(lower[k], m.points[i * d + k]);
        upper[k] = std::max(upper[k], m.points[i * d + k]);
      }
    ranges.resize(block);
  }

  // Projects on `count` directions: keys, histograms, and range buckets where every direction
  // has a proper range (bit buckets otherwise).
  void project(const SliceMeasure& m, const double* theta, std::size_t count) {
    const auto d = static_cast<std::size_t>(m.d);
    use_ranges = true;
    for (std::size_t b = 0; b < count; ++b) {
      double lo, hi;
      kernels::project_box(lower.data(), upper.data(), theta + b * d, d, lo, hi);
      use_ranges = use_ranges && kernels::RangeBuckets::make(lo, hi, ranges[b]);
    }
    kernels::project_keys(m.points, static_cast<std::size_t>(m.n), d, theta, count, rows.data(),
                          hist.data(), use_ranges ? ranges.data() : nullptr);
  }

  void sort(const SliceMeasure& m, std::size_t b) {
    if (use_ranges)
      sort(m, b, ranges[b]);
    else
      sort(m, b, kernels::BitBuckets{});
  }

  template <class Buckets>
  void sort(const SliceMeasure& m, std::size_t b, const Buckets& buckets) {
    const auto n = static_cast<std::size_t>(m.n);
    if (m.uniform) {
      sorted = kernels::radix_sort(hist[b], buckets, rows[b], scratch.data(), n);
      order = nullptr;
      return;
    }
    std::iota(index.data(), index.data() + n, std::uint32_t{0});
    const auto [k, i] = kernels::radix_sort(hist[b], buckets, rows[b], scratch.data(), index.data(),
                                            index_scratch.data(), n);
    sorted = k;
    order = i;
  }

  // The sorted atoms with positive weight, for the general merge.
  void atoms(const SliceMeasure& m, kernels::Sorted1d& out) const {
    const auto n = static_cast<std::size_t>(m.n);
    out.value.resize(n);
    out.weight.resize(n);
    std::size_t kept = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double w = order != nullptr ? m.weights[order[i]] : m.weights[0];
      if (!(w > 0)) continue;
      out.value[kept] = kernels::key_value(sorted[i]);
      out.weight[kept++] = w;
    }
    out.value.resize(kept);
    out.weight.resize(kept);
  }

  // Σ w_i (v_i − mean)² with mean = Σ w_i v_i over the sorted atoms.
  double variance(const SliceMeasure& m) const {
    const auto n = static_cast<std::size_t>(m.n);
    auto weight = [&](std::size_t i) {
      return order != nullptr ? m.weights[order[i]] : m.weights[0];
    };
    double mean = 0;
    for (std::size_t i = 0; i < n; ++i)
      mean += weight(i) * kernels::key_value(sorted[i]);
    double var = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double e = kernels::key_value(sorted[i]) - mean;
      var += weight(i) * e * e;
    }
    return var;
  }
};

// (1/n) Σ |x_(i) − y_(i)|^p: the 1-D W_p^p of two uniform measures of n atoms each.
double sorted_quantiles(const std::uint64_t* x, const std::uint64_t* y, std::size_t n, double p) {
  double s = 0;
  if (p == 2) {
    for (std::size_t i = 0; i < n; ++i) {
      const double e = kernels::key_value(x[i]) - kernels::key_value(y[i]);
      s += e * e;
    }
  } else {
    for (std::size_t i = 0; i < n; ++i)
      s += kernels::power(std::abs(kernels::key_value(x[i]) - kernels::key_value(y[i])), p);
  }
  return s / static_cast<double>(n);
}

}  // namespace

bool uniform_weights(const double* w, lindex n) {
  if (n == 0 || !(w[0] > 0)) return false;
  for (lindex i = 1; i < n; ++i)
    if (w[i] != w[0]) return false;
  return true;
}

void sw_slices(const SliceMeasure& mu, const SliceMeasure& nu, double p, long seed, gindex begin,
               gindex end, bool variances,
               const std::function<void(const double*, double, double, double)>& visit,
               SliceTimes& times) {
  constexpr lindex max_points = (lindex{1} << 32) - 1;
  PAROT_CHECK(mu.n < max_points && nu.n < max_points, InvalidInput, "sliced: a measure of ",
              std::max(mu.n, nu.n), " points; replicated measures hold fewer than 2^32 points");
  if (end <= begin) return;
  const auto d = static_cast<std::size_t>(mu.d);
  // Slices per block: up to 8, with at most ~64 MiB of keys for the two measures.
  const double bytes_per_slice = 8.0 * static_cast<double>(mu.n + nu.n);
  const auto block = static_cast<std::size_t>(std::clamp<double>(
      std::min<double>(static_cast<double>(end - begin), 64.0 * (1 << 20) / bytes_per_slice), 1.0,
      8.0));
  Keys kx(mu, block), ky(nu, block);
  std::vector<double> theta(block * d);
  kernels::Sorted1d u, v;
  const bool quantiles = mu.uniform && nu.uniform && mu.n == nu.n;
  for (gindex l0 = begin; l0 < end; l0 += static_cast<gindex>(block)) {
    const auto count = static_cast<std::size_t>(std::min<gindex>(end - l0, block));
    double t = wall_time();
    for (std::size_t b = 0; b < count; ++b)
      kernels::random_direction(static_cast<std::uint64_t>(seed), kernels::direction_stream,
                                static_cast<std::uint64_t>(l0) + b, mu.d, theta.data() + b * d);
    kx.project(mu, theta.data(), count);
    ky.project(nu, theta.data(), count);
    double now = wall_time();
    times.project += now - t;
    for (std::size_t b = 0; b < count; ++b) {
      t = now;
      kx.sort(mu, b);
      ky.sort(nu, b);
      now = wall_time();
      times.sort += now - t;
      t = now;
      double f;
      if (quantiles) {
        f = sorted_quantiles(kx.sorted, ky.sorted, static_cast<std::size_t>(mu.n), p);
      } else {
        kx.atoms(mu, u);
        ky.atoms(nu, v);
        f = kernels::wasserstein_1d_sorted(u, v, p);
      }
      const double var_mu = variances ? kx.variance(mu) : 0.0;
      const double var_nu = variances ? ky.variance(nu) : 0.0;
      visit(theta.data() + b * d, f, var_mu, var_nu);
      now = wall_time();
      times.merge += now - t;
    }
  }
}

}  // namespace parot::sliced
