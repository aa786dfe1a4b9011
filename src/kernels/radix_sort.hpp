// SPDX-License-Identifier: BSD-3-Clause
// O(n) sorting of float64 keys for the 1-D OT of sliced estimators (issue 16): doubles mapped to
// order-preserving uint64 keys, then a least-significant-digit radix sort on the 31 high bits
// (sign, exponent and 19 bits of mantissa; 11-bit digits: three scatter passes at most, passes
// whose digit is the same for every key skipped), optionally carrying a payload (an index) with
// each key, and an exact finish: each run of keys equal in those bits (doubles within about
// 2e-6 relative of each other) sorted by the full keys, by insertion when short. Measured at
// 10^6 Gaussian keys, this is 25 % faster than the full six passes; data crowded into a narrow
// relative range (runs of thousands) costs up to std::sort's O(n log n). The result is exactly
// std::stable_sort's. Plain loops; no MPI.
#pragma once

#include <algorithm>
#include <array>
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
  return (b >> 63) != 0 ? ~b : b | (std::uint64_t{1} << 63);
}

/// The inverse of order_key (returns +0.0 for the key of ±0.0).
inline double key_value(std::uint64_t k) {
  const std::uint64_t b = (k >> 63) != 0 ? k & ~(std::uint64_t{1} << 63) : ~k;
  double x;
  std::memcpy(&x, &b, sizeof x);
  return x;
}

namespace radix_detail {

constexpr int digit_bits = 11;
constexpr int passes = 6;      // 6 × 11 = 66 >= 64 bits
constexpr int first_pass = 3;  // digits 0-2 (bits 0-32) are left to the finish
constexpr std::size_t buckets = std::size_t{1} << digit_bits;
constexpr std::uint64_t mask = buckets - 1;

template <class Count>
using Histograms = std::array<std::array<Count, buckets>, passes>;

// All digit histograms in one read pass.
template <class Count>
void histograms(const std::uint64_t* keys, std::size_t n, Histograms<Count>& h) {
  for (auto& row : h)
    row.fill(0);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t k = keys[i];
    for (int p = first_pass; p < passes; ++p)
      ++h[p][(k >> (p * digit_bits)) & mask];
  }
}

// Sorts one run of keys that share their high bits by the full keys, stably.
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

// The exact finish after the passes on the high digits: every run of keys with the same high
// bits (contiguous by then) sorted by the full keys. O(n) when runs are short, as for most data;
// O(n log n) at worst (all keys in one run).
template <class Payload>
void finish(std::uint64_t* k, Payload* payload, std::size_t n) {
  constexpr std::uint64_t high = ~((std::uint64_t{1} << (first_pass * digit_bits)) - 1);
  std::size_t i = 0;
  while (i < n) {
    const std::uint64_t prefix = k[i] & high;
    std::size_t j = i + 1;
    while (j < n && (k[j] & high) == prefix)
      ++j;
    if (j - i > 1) sort_run(k + i, payload != nullptr ? payload + i : nullptr, j - i);
    i = j;
  }
}

// Exclusive prefix sums in place; false if one bucket holds every key (the pass is a no-op).
template <class Count>
bool offsets(std::array<Count, buckets>& h, std::size_t n) {
  Count sum = 0;
  for (std::size_t b = 0; b < buckets; ++b) {
    const Count c = h[b];
    if (c == n) return false;
    h[b] = sum;
    sum += c;
  }
  return true;
}

// The scatter passes, given the digit histograms of the keys (consumed).
template <class Count, class Payload>
Payload* sort(Histograms<Count>& h, std::uint64_t* keys, std::uint64_t* key_scratch,
              Payload* payload, Payload* payload_scratch, std::size_t n,
              std::uint64_t** sorted_keys) {
  std::uint64_t *src = keys, *dst = key_scratch;
  Payload *psrc = payload, *pdst = payload_scratch;
  for (int p = first_pass; p < passes; ++p) {
    auto& off = h[p];
    if (!offsets(off, n)) continue;
    const int shift = p * digit_bits;
    if (payload != nullptr) {
      for (std::size_t i = 0; i < n; ++i) {
        const std::uint64_t k = src[i];
        const Count pos = off[(k >> shift) & mask]++;
        dst[pos] = k;
        pdst[pos] = psrc[i];
      }
      std::swap(psrc, pdst);
    } else {
      for (std::size_t i = 0; i < n; ++i) {
        const std::uint64_t k = src[i];
        dst[off[(k >> shift) & mask]++] = k;
      }
    }
    std::swap(src, dst);
  }
  finish(src, payload != nullptr ? psrc : nullptr, n);
  *sorted_keys = src;
  return psrc;
}

template <class Count, class Payload>
Payload* sort(std::uint64_t* keys, std::uint64_t* key_scratch, Payload* payload,
              Payload* payload_scratch, std::size_t n, std::uint64_t** sorted_keys) {
  Histograms<Count> h;
  histograms(keys, n, h);
  return sort(h, keys, key_scratch, payload, payload_scratch, n, sorted_keys);
}

}  // namespace radix_detail

/// Digit histograms of n < 2^32 keys, for callers that count while they produce the keys
/// (radix_count, then the radix_sort overload that takes them).
using RadixHistograms = radix_detail::Histograms<std::uint32_t>;

/// Clears `h`, for counting keys with radix_count.
inline void radix_clear(RadixHistograms& h) {
  for (auto& row : h)
    row.fill(0);
}

/// Counts one key into `h`.
inline void radix_count(RadixHistograms& h, std::uint64_t k) {
  for (int p = radix_detail::first_pass; p < radix_detail::passes; ++p)
    ++h[p][(k >> (p * radix_detail::digit_bits)) & radix_detail::mask];
}

/// radix_sort (keys only) with the histograms of exactly these n < 2^32 keys, which it consumes.
inline std::uint64_t* radix_sort(RadixHistograms& h, std::uint64_t* keys, std::uint64_t* scratch,
                                 std::size_t n) {
  std::uint64_t* out = keys;
  std::uint32_t* none = nullptr;
  if (n <= 1) return keys;
  radix_detail::sort<std::uint32_t>(h, keys, scratch, none, none, n, &out);
  return out;
}

/// radix_sort with a payload, given the histograms of exactly these n < 2^32 keys (consumed).
template <class Payload>
std::pair<std::uint64_t*, Payload*> radix_sort(RadixHistograms& h, std::uint64_t* keys,
                                               std::uint64_t* key_scratch, Payload* payload,
                                               Payload* payload_scratch, std::size_t n) {
  std::uint64_t* out = keys;
  if (n <= 1) return {keys, payload};
  Payload* p =
      radix_detail::sort<std::uint32_t>(h, keys, key_scratch, payload, payload_scratch, n, &out);
  return {out, p};
}

/// Sorts n keys ascending (stable). `scratch` holds n keys. Returns the buffer that holds the
/// sorted keys: `keys` or `scratch` (the other one is left with intermediate contents).
inline std::uint64_t* radix_sort(std::uint64_t* keys, std::uint64_t* scratch, std::size_t n) {
  std::uint64_t* out = keys;
  std::uint32_t* none = nullptr;
  if (n <= 1) return keys;
  if (n < (std::size_t{1} << 32))
    radix_detail::sort<std::uint32_t>(keys, scratch, none, none, n, &out);
  else
    radix_detail::sort<std::uint64_t>(keys, scratch, none, none, n, &out);
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
  Payload* p =
      n < (std::size_t{1} << 32)
          ? radix_detail::sort<std::uint32_t>(keys, key_scratch, payload, payload_scratch, n, &out)
          : radix_detail::sort<std::uint64_t>(keys, key_scratch, payload, payload_scratch, n, &out);
  return {out, p};
}

}  // namespace parot::kernels
