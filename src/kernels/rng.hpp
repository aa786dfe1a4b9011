// SPDX-License-Identifier: BSD-3-Clause
// Counter-based random numbers: the value at (seed, stream, counter) needs no state, so every
// rank can draw exactly the numbers of its own rows and the data do not depend on the rank count.
#pragma once

#include <cmath>
#include <cstdint>

namespace parot::kernels {

/// SplitMix64 finalizer: a bijective 64-bit mixer with full avalanche.
inline std::uint64_t mix64(std::uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/// A 64-bit random word for (seed, stream, counter).
inline std::uint64_t random_bits(std::uint64_t seed, std::uint64_t stream, std::uint64_t counter) {
  return mix64(mix64(mix64(seed) ^ (stream * 0xd1b54a32d192ed03ULL)) ^ counter);
}

/// Uniform in [0, 1) with 53 random bits.
inline double uniform01(std::uint64_t seed, std::uint64_t stream, std::uint64_t counter) {
  return static_cast<double>(random_bits(seed, stream, counter) >> 11) * 0x1.0p-53;
}

/// Standard normal by Box–Muller from the two uniforms at counters 2k and 2k+1.
inline double normal(std::uint64_t seed, std::uint64_t stream, std::uint64_t k) {
  const double u1 = 1.0 - uniform01(seed, stream, 2 * k);  // in (0, 1]
  const double u2 = uniform01(seed, stream, 2 * k + 1);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

}  // namespace parot::kernels
