// SPDX-License-Identifier: BSD-3-Clause
// Vectorizable exp for the log-sum-exp sweeps (no MPI, no PETSc).
#pragma once

#include <cstdint>
#include <cstring>

#include "parot/core/types.hpp"

namespace parot::kernels {

/// exp(x) to about 1 ulp for x in [-708, 709], written so that GCC vectorizes loops over it.
///
/// x = k·ln2 + r with |r| <= ln2/2 (Cody–Waite, two-part ln2), exp(r) by its degree-13 Taylor
/// polynomial (truncation < 1e-17 relative), 2^k built in the exponent bits. Arguments below
/// -708 return 0 (the sweeps only feed arguments <= 0 relative to a running maximum, where a
/// term below e^-708 cannot change a sum that holds a term 1). Arguments above 709 are clamped.
/// NaN is not propagated: callers check their potentials for NaN themselves.
inline double fast_exp(double x) {
  constexpr double log2e = 1.4426950408889634074;
  constexpr double ln2_hi = 6.93147180369123816490e-01;
  constexpr double ln2_lo = 1.90821492927058770002e-10;
  constexpr double shifter = 6755399441055744.0;  // 1.5 * 2^52: rounds to an integer in the bits
  const double xc = x < -708.0 ? -708.0 : (x > 709.0 ? 709.0 : x);
  const double t = xc * log2e + shifter;
  const double k = t - shifter;
  double r = xc - k * ln2_hi;
  r = r - k * ln2_lo;
  double p = 1.0 / 6227020800.0;  // 1/13!
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  std::uint64_t bits;  // unsigned: the shift below discards high bits by design (no UB)
  std::memcpy(&bits, &t, sizeof bits);
  bits = (bits + 1023) << 52;  // low bits of t hold k; keep the 11-bit biased exponent
  double scale;
  std::memcpy(&scale, &bits, sizeof scale);
  const double e = p * scale;
  return x < -708.0 ? 0.0 : e;
}

/// out[i] = exp(in[i]) for i < n (in may equal out).
inline void exp_array(const double* in, double* out, lindex n) {
  for (lindex i = 0; i < n; ++i)
    out[i] = fast_exp(in[i]);
}

}  // namespace parot::kernels
