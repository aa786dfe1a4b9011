// SPDX-License-Identifier: BSD-3-Clause
// Double-double accumulation: sums whose rounding does not depend on the order of the terms.
#pragma once

namespace parot::kernels {

/// A sum kept as an unevaluated pair hi + lo (|lo| <= ulp(hi)/2), about 106 bits. Rounded to a
/// double, a double-double sum of a few thousand terms is the correctly rounded exact sum except
/// when the exact sum lies within ~1e-30 (relative) of a rounding midpoint, so partial sums
/// combined in any grouping (any rank count) give the same double. Needs IEEE arithmetic
/// without -ffast-math (re-association would remove the error terms).
struct DoubleDouble {
  double hi = 0, lo = 0;
  double value() const noexcept { return hi + lo; }
};

/// x += v, with Knuth's TwoSum for the rounding error of hi + v.
inline void add(DoubleDouble& x, double v) noexcept {
  const double s = x.hi + v;
  const double bb = s - x.hi;
  const double e = (x.hi - (s - bb)) + (v - bb);
  const double lo = e + x.lo;
  x.hi = s + lo;
  x.lo = lo - (x.hi - s);
}

/// x += y.
inline void add(DoubleDouble& x, const DoubleDouble& y) noexcept {
  const double s = x.hi + y.hi;
  const double bb = s - x.hi;
  const double e = (x.hi - (s - bb)) + (y.hi - bb);
  const double lo = e + (x.lo + y.lo);
  x.hi = s + lo;
  x.lo = lo - (x.hi - s);
}

}  // namespace parot::kernels
