// SPDX-License-Identifier: BSD-3-Clause
// Double-double arithmetic beyond sums: exact products, differences, scaling (about 106 bits).
#pragma once

#include <cmath>

#include "kernels/dd_sum.hpp"

namespace parot::kernels {

/// a + b exactly, as a normalized pair (Knuth's TwoSum).
inline DoubleDouble two_sum(double a, double b) noexcept {
  const double s = a + b;
  const double bb = s - a;
  const double e = (a - (s - bb)) + (b - bb);
  return DoubleDouble{s, e};
}

/// a · b exactly (the error term by a fused multiply-add).
inline DoubleDouble two_prod(double a, double b) noexcept {
  const double p = a * b;
  return DoubleDouble{p, std::fma(a, b, -p)};
}

/// Renormalizes hi + lo so that |lo| <= ulp(hi)/2.
inline DoubleDouble renormalize(double hi, double lo) noexcept {
  const double s = hi + lo;
  return DoubleDouble{s, lo - (s - hi)};
}

/// x − y.
inline DoubleDouble sub(const DoubleDouble& x, const DoubleDouble& y) noexcept {
  DoubleDouble r = x;
  add(r, DoubleDouble{-y.hi, -y.lo});
  return r;
}

/// x · y (relative error about 2^-104).
inline DoubleDouble mul(const DoubleDouble& x, const DoubleDouble& y) noexcept {
  const DoubleDouble p = two_prod(x.hi, y.hi);
  return renormalize(p.hi, p.lo + (x.hi * y.lo + x.lo * y.hi));
}

/// x · c for a double c.
inline DoubleDouble mul(const DoubleDouble& x, double c) noexcept {
  const DoubleDouble p = two_prod(x.hi, c);
  return renormalize(p.hi, p.lo + x.lo * c);
}

/// x / c for a double c != 0 (one correction step).
inline DoubleDouble div(const DoubleDouble& x, double c) noexcept {
  const double q1 = x.hi / c;
  const DoubleDouble p = two_prod(q1, c);
  const double r = ((x.hi - p.hi) - p.lo + x.lo) / c;
  return renormalize(q1, r);
}

/// a + b + c for doubles, as a double-double (exact up to 2^-106 relative).
inline DoubleDouble sum3(double a, double b, double c) noexcept {
  DoubleDouble r = two_sum(a, b);
  add(r, c);
  return r;
}

}  // namespace parot::kernels
