// SPDX-License-Identifier: BSD-3-Clause
// O(n) sorting of float64 keys for the 1-D OT of sliced estimators (issue 16). Doubles are mapped
// to order-preserving uint64 keys and sorted by a least-significant-digit radix sort (11-bit
// digits, passes whose digit is the same for every key skipped), optionally carrying a payload
// (an index) with each key, on a coarse monotone *bucket* of each key, then finished exactly:
// each run of keys in the same bucket (contiguous by then) is sorted by the full keys, by
// insertion when short, std::sort / std::stable_sort otherwise. The result is exactly
// std::stable_sort's for any input; only the speed depends on the data.
// Two bucketings:
// - bits: the 31 high bits of the key (sign, exponent, 19 mantissa bits: doubles within about
//   2e-6 relative share a bucket): three passes; any keys.
// - range: floor((x − lo)·scale) on 24 bits for keys known to lie in [lo, hi] (the slice loop
//   bounds the projections from the points' bounding box): two passes of 12 bits, and buckets
//   spread evenly over the data's range.
// The finish is one insertion pass while that stays O(n), else the run-by-run sorts. Measured
// at 10^6 Gaussian keys (CPU time, loaded 2-core VM): six 11-bit passes 13.5 ms, bits 8-9 ms,
// range 7-8 ms, std::sort 85 ms; keys crowded into few buckets (10^6 keys around 1000 or 10^6
// with unit spread, runs of thousands) 35-65 ms, i.e. at worst about std::sort's O(n log n).
// Plain loops; no MPI.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

namespace parot::kernels {

/// The uint64 whose unsigned order is the numeric order of finite or infinite doubles:
/// -inf < … < -0.0 == +0.0 < … < +inf. -0.0 maps to the key of +0.0 (they compare equal), so the
/// sort is stable exactly as std::stable_sort on the doubles. NaN must not occur (the callers
/// validate their inputs).
inline std::uint64_t order_key(double x) {
  x += 0.0;  // -0.0 + 0.0 == +0.0 in round-to-nearest
  std::uint64_t b;
  std::memcpy(&b, &x, sizeof b);
  // Negative: all bits flipped; positive: the sign bit set. Branch-free (the sign is random).
  return b ^ ((std::uint64_t{0} - (b >> 63)) | (std::uint64_t{1} << 63));
}

/// The inverse of order_key (returns +0.0 for the key of ±0.0).
inline double key_value(std::uint64_t k) {
  const std::uint64_t b = k ^ (((k >> 63) - 1) | (std::uint64_t{1} << 63));  // branch-free
  double x;
  std::memcpy(&x, &b, sizeof x);
  return x;
}

namespace radix_detail {

constexpr int max_passes = 3;
constexpr std::size_t buckets = std::size_t{1} << 12;  // the widest digit

template <class Count>
using Histograms = std::array<std::array<Count, buckets>, max_passes>;

}  // namespace radix_detail

/// Bucketing by the 31 high bits of the keys (three passes).
struct BitBuckets {
  static constexpr int passes = 3, digit_bits = 11;
  std::uint64_t bucket(std::uint64_t k) const { return k >> 33; }
};

/// Bucketing by floor((x − lo)·scale) clamped to [0, 2^24) (two passes of 12 bits): monotone in
/// x, so exact for any keys; fast when the keys lie in [lo, hi] with scale = 2^24 / (hi − lo).
struct RangeBuckets {
  static constexpr int passes = 2, digit_bits = 12;
  double lo = 0, scale = 0;
  std::uint64_t bucket(std::uint64_t k) const { return bucket_of(key_value(k)); }
  /// The bucket of the value x (the same as bucket(order_key(x))).
  std::uint64_t bucket_of(double x) const {
    double t = (x - lo) * scale;
    t = t > 0 ? t : 0;  // also NaN-free: the callers validate their inputs
    t = t < 16777215.0 ? t : 16777215.0;
    return static_cast<std::uint64_t>(
        static_cast<std::int64_t>(t));  // the signed conversion is one instruction
  }
  /// The bucketing of [lo, hi]; BitBuckets should be used instead when this returns false
  /// (a range that is empty, a single point or not finite).
  static bool make(double lo, double hi, RangeBuckets& out) {
    const double width = hi - lo;
    if (!(width > 0) || !std::isfinite(width) || !std::isfinite(lo)) return false;
    out.lo = lo;
    out.scale = 16777216.0 / width;
    return std::isfinite(out.scale) && out.scale > 0;
  }
};

/// Digit histograms of n < 2^32 keys, for callers that count while they produce the keys
/// (radix_clear, radix_count, then the radix_sort overload that takes them).
using RadixHistograms = radix_detail::Histograms<std::uint32_t>;

/// Clears `h`.
inline void radix_clear(RadixHistograms& h) {
  for (auto& row : h)
    row.fill(0);
}

/// Counts one key into `h`.
template <class Buckets>
inline void radix_count(RadixHistograms& h, std::uint64_t k, const Buckets& b) {
  const std::uint64_t q = b.bucket(k);
  constexpr std::uint64_t mask = (std::uint64_t{1} << Buckets::digit_bits) - 1;
  for (int p = 0; p < Buckets::passes; ++p)
    ++h[p][(q >> (p * Buckets::digit_bits)) & mask];
}

namespace radix_detail {

template <class Count, class Buckets>
void histograms(const std::uint64_t* keys, std::size_t n, const Buckets& b, Histograms<Count>& h) {
  for (auto& row : h)
    row.fill(0);
  constexpr std::uint64_t mask = (std::uint64_t{1} << Buckets::digit_bits) - 1;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t q = b.bucket(keys[i]);
    for (int p = 0; p < Buckets::passes; ++p)
      ++h[p][(q >> (p * Buckets::digit_bits)) & mask];
  }
}

// Exclusive prefix sums of the first `used` counts in place; false if one bucket holds every key
// (the pass is a no-op).
template <class Count>
bool offsets(std::array<Count, buckets>& h, std::size_t used, std::size_t n) {
  Count sum = 0;
  for (std::size_t b = 0; b < used; ++b) {
    const Count c = h[b];
    if (c == n) return false;
    h[b] = sum;
    sum += c;
  }
  return true;
}

// Sorts one run of keys by the full keys, stably.
template <class Payload>
void sort_run(std::uint64_t* k, Payload* payload, std::size_t n) {
  if (n <= 32) {  // insertion sort
    for (std::size_t i = 1; i < n; ++i) {
      const std::uint64_t key = k[i];
      if (!(key < k[i - 1])) continue;
      std::size_t j = i;
      if (payload != nullptr) {
        const Payload value = payload[i];
        for (; j > 0 && key < k[j - 1]; --j) {
          k[j] = k[j - 1];
          payload[j] = payload[j - 1];
        }
        payload[j] = value;
      } else {
        for (; j > 0 && key < k[j - 1]; --j)
          k[j] = k[j - 1];
      }
      k[j] = key;
    }
  } else if (payload == nullptr) {
    std::sort(k, k + n);  // equal keys are indistinguishable
  } else {
    std::vector<std::pair<std::uint64_t, Payload>> both(n);
    for (std::size_t i = 0; i < n; ++i)
      both[i] = {k[i], payload[i]};
    std::stable_sort(both.begin(), both.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (std::size_t i = 0; i < n; ++i) {
      k[i] = both[i].first;
      payload[i] = both[i].second;
    }
  }
}

// Insertion sort of the whole array by the full keys, which only has to reorder keys within
// buckets: O(n) when buckets hold few keys. Stops (false) once it has moved more than 2n keys;
// the array is then still sorted by bucket, which is all the run finish needs.
template <class Payload>
bool insertion_finish(std::uint64_t* k, Payload* payload, std::size_t n) {
  const std::size_t budget = 2 * n + 64;
  std::size_t moves = 0;
  for (std::size_t i = 1; i < n; ++i) {
    const std::uint64_t key = k[i];
    if (!(key < k[i - 1])) continue;
    std::size_t j = i;
    if (payload != nullptr) {
      const Payload value = payload[i];
      for (; j > 0 && key < k[j - 1]; --j) {
        k[j] = k[j - 1];
        payload[j] = payload[j - 1];
      }
      payload[j] = value;
    } else {
      for (; j > 0 && key < k[j - 1]; --j)
        k[j] = k[j - 1];
    }
    k[j] = key;
    moves += i - j;
    if (moves > budget) return false;
  }
  return true;
}

// The exact finish: an insertion sort while it is cheap, else every run of keys in one bucket
// (contiguous after the passes) sorted by the full keys. O(n) when buckets hold few keys,
// O(n log n) at worst (all keys in one bucket).
template <class Payload, class Buckets>
void finish(std::uint64_t* k, Payload* payload, std::size_t n, const Buckets& b) {
  if (insertion_finish(k, payload, n)) return;
  std::size_t i = 0;
  std::uint64_t q = n > 0 ? b.bucket(k[0]) : 0;
  while (i < n) {
    std::size_t j = i + 1;
    std::uint64_t next = 0;
    while (j < n && (next = b.bucket(k[j])) == q)
      ++j;
    if (j - i > 1) sort_run(k + i, payload != nullptr ? payload + i : nullptr, j - i);
    i = j;
    q = next;
  }
}

// The scatter passes, given the digit histograms of the buckets (consumed), then the finish.
template <class Count, class Payload, class Buckets>
Payload* sort(Histograms<Count>& h, const Buckets& b, std::uint64_t* keys,
              std::uint64_t* key_scratch, Payload* payload, Payload* payload_scratch, std::size_t n,
              std::uint64_t** sorted_keys) {
  std::uint64_t *src = keys, *dst = key_scratch;
  Payload *psrc = payload, *pdst = payload_scratch;
  constexpr std::uint64_t mask = (std::uint64_t{1} << Buckets::digit_bits) - 1;
  for (int p = 0; p < Buckets::passes; ++p) {
    auto& off = h[p];
    if (!offsets(off, mask + 1, n)) continue;
    const int shift = p * Buckets::digit_bits;
    if (payload != nullptr) {
      for (std::size_t i = 0; i < n; ++i) {
        const std::uint64_t k = src[i];
        const Count pos = off[(b.bucket(k) >> shift) & mask]++;
        dst[pos] = k;
        pdst[pos] = psrc[i];
      }
      std::swap(psrc, pdst);
    } else {
      for (std::size_t i = 0; i < n; ++i) {
        const std::uint64_t k = src[i];
        dst[off[(b.bucket(k) >> shift) & mask]++] = k;
      }
    }
    std::swap(src, dst);
  }
  finish(src, payload != nullptr ? psrc : nullptr, n, b);
  *sorted_keys = src;
  return psrc;
}

template <class Payload>
Payload* sort(std::uint64_t* keys, std::uint64_t* key_scratch, Payload* payload,
              Payload* payload_scratch, std::size_t n, std::uint64_t** sorted_keys) {
  const BitBuckets b;
  if (n < (std::size_t{1} << 32)) {
    Histograms<std::uint32_t> h;
    histograms(keys, n, b, h);
    return sort(h, b, keys, key_scratch, payload, payload_scratch, n, sorted_keys);
  }
  Histograms<std::uint64_t> h;
  histograms(keys, n, b, h);
  return sort(h, b, keys, key_scratch, payload, payload_scratch, n, sorted_keys);
}

}  // namespace radix_detail

/// Sorts n keys ascending (stable). `scratch` holds n keys. Returns the buffer that holds the
/// sorted keys: `keys` or `scratch` (the other one is left with intermediate contents).
inline std::uint64_t* radix_sort(std::uint64_t* keys, std::uint64_t* scratch, std::size_t n) {
  std::uint64_t* out = keys;
  std::uint32_t* none = nullptr;
  if (n > 1) radix_detail::sort(keys, scratch, none, none, n, &out);
  return out;
}

/// Sorts n keys ascending (stable) carrying payload[i] with keys[i]. Scratch buffers hold n
/// entries each. Returns the buffers that hold the result: {keys or key_scratch, payload or
/// payload_scratch}.
template <class Payload>
std::pair<std::uint64_t*, Payload*> radix_sort(std::uint64_t* keys, std::uint64_t* key_scratch,
                                               Payload* payload, Payload* payload_scratch,
                                               std::size_t n) {
  std::uint64_t* out = keys;
  if (n <= 1) return {keys, payload};
  Payload* p = radix_detail::sort(keys, key_scratch, payload, payload_scratch, n, &out);
  return {out, p};
}

/// radix_sort (keys only) given `h`, the histograms of exactly these n < 2^32 keys counted with
/// the same bucketing `b` (consumed).
template <class Buckets>
std::uint64_t* radix_sort(RadixHistograms& h, const Buckets& b, std::uint64_t* keys,
                          std::uint64_t* scratch, std::size_t n) {
  std::uint64_t* out = keys;
  std::uint32_t* none = nullptr;
  if (n > 1) radix_detail::sort<std::uint32_t>(h, b, keys, scratch, none, none, n, &out);
  return out;
}

/// radix_sort with a payload, given the histograms as above (consumed).
template <class Buckets, class Payload>
std::pair<std::uint64_t*, Payload*> radix_sort(RadixHistograms& h, const Buckets& b,
                                               std::uint64_t* keys, std::uint64_t* key_scratch,
                                               Payload* payload, Payload* payload_scratch,
                                               std::size_t n) {
  std::uint64_t* out = keys;
  if (n <= 1) return {keys, payload};
  Payload* p =
      radix_detail::sort<std::uint32_t>(h, b, keys, key_scratch, payload, payload_scratch, n, &out);
  return {out, p};
}

}  // namespace parot::kernels
