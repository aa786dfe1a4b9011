// SPDX-License-Identifier: BSD-3-Clause
// Projections of a point cloud on a block of directions in one pass over the points (sliced.md
// §2.4), written as order-preserving radix keys with their digit histograms counted on the way,
// so that the sort of each slice starts with its scatter passes; and the interval a direction
// projects a bounding box to, for RangeBuckets. Plain loops; no MPI.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "kernels/radix_sort.hpp"

namespace parot::kernels {

namespace projection_detail {

// ⟨x_i, θ⟩ summed over k in order, as the scalar projection of the estimators always did.
template <int D>
inline double dot(const double* x, const double* theta, std::size_t d) {
  if constexpr (D > 0) {
    double s = 0;
    for (int k = 0; k < D; ++k)
      s += x[k] * theta[k];
    return s;
  } else {
    double s = 0;
    for (std::size_t k = 0; k < d; ++k)
      s += x[k] * theta[k];
    return s;
  }
}

template <int D>
void project(const double* points, std::size_t n, std::size_t d, const double* theta,
             std::size_t directions, std::uint64_t* const* keys, RadixHistograms* hist,
             const RangeBuckets* ranges) {
  // Chunks of points small enough to stay in L1/L2 while every direction reads them.
  const std::size_t chunk = std::max<std::size_t>(64, 16384 / (8 * d));
  for (std::size_t i0 = 0; i0 < n; i0 += chunk) {
    const std::size_t i1 = std::min(n, i0 + chunk);
    for (std::size_t b = 0; b < directions; ++b) {
      const double* t = theta + b * d;
      std::uint64_t* out = keys[b];
      if (hist != nullptr && ranges != nullptr) {
        RadixHistograms& h = hist[b];
        const RangeBuckets& r = ranges[b];
        static_assert(RangeBuckets::passes == 2);
        constexpr std::uint64_t mask = (std::uint64_t{1} << RangeBuckets::digit_bits) - 1;
        for (std::size_t i = i0; i < i1; ++i) {
          const double v = dot<D>(points + i * d, t, d);
          out[i] = order_key(v);
          const std::uint64_t q = r.bucket_of(v);  // radix_count without the key's round trip
          ++h[0][q & mask];
          ++h[1][q >> RangeBuckets::digit_bits];
        }
      } else if (hist != nullptr) {
        RadixHistograms& h = hist[b];
        const BitBuckets bits;
        for (std::size_t i = i0; i < i1; ++i) {
          const std::uint64_t k = order_key(dot<D>(points + i * d, t, d));
          out[i] = k;
          radix_count(h, k, bits);
        }
      } else {
        for (std::size_t i = i0; i < i1; ++i)
          out[i] = order_key(dot<D>(points + i * d, t, d));
      }
    }
  }
}

}  // namespace projection_detail

/// keys[b][i] = order_key(⟨x_i, θ_b⟩) for the n points (row-major n × d) and the `directions`
/// directions θ_b (row-major directions × d). The points are read once, in chunks, for all
/// directions. If `hist` is not null (then n < 2^32), hist[b] is cleared and receives the radix
/// digit histograms of keys[b] for radix_sort(hist[b], bucketing, ...), with the bucketing
/// ranges[b] if `ranges` is not null, BitBuckets otherwise.
inline void project_keys(const double* points, std::size_t n, std::size_t d, const double* theta,
                         std::size_t directions, std::uint64_t* const* keys, RadixHistograms* hist,
                         const RangeBuckets* ranges = nullptr) {
  if (hist != nullptr)
    for (std::size_t b = 0; b < directions; ++b)
      radix_clear(hist[b]);
  switch (d) {
    case 1:
      projection_detail::project<1>(points, n, d, theta, directions, keys, hist, ranges);
      break;
    case 2:
      projection_detail::project<2>(points, n, d, theta, directions, keys, hist, ranges);
      break;
    case 3:
      projection_detail::project<3>(points, n, d, theta, directions, keys, hist, ranges);
      break;
    default:
      projection_detail::project<0>(points, n, d, theta, directions, keys, hist, ranges);
      break;
  }
}

/// [lo, hi] ⊇ {⟨x, θ⟩ : lower <= x <= upper} for the box [lower, upper] of R^d (up to the
/// rounding of the dot products, which RangeBuckets clamps).
inline void project_box(const double* lower, const double* upper, const double* theta,
                        std::size_t d, double& lo, double& hi) {
  lo = hi = 0;
  for (std::size_t k = 0; k < d; ++k) {
    const double a = theta[k] * lower[k], b = theta[k] * upper[k];
    lo += std::min(a, b);
    hi += std::max(a, b);
  }
}

}  // namespace parot::kernels
