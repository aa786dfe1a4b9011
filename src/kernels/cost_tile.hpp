// SPDX-License-Identifier: BSD-3-Clause
// Cost tiles from points: rows of source points against columns of target points (SoA).
#pragma once

#include <cmath>

#include "parot/core/types.hpp"

namespace parot::kernels {

/// out[a*ld + b] = Σ_k |x_{a,k} − y_{k,b}|^P for P = 2 (squared Euclidean) or 1 (ℓ1), general p
/// otherwise; `x` is ni×d row-major, `yt` is d×(column stride ys) with the tile's first column
/// at yt[0]. With `root`, the square root is taken (Euclidean distance, P = 2).
inline void sqeuclidean_tile(const double* x, lindex ni, lindex d, const double* yt, lindex ys,
                             lindex nj, double* out, lindex ld) {
  for (lindex a = 0; a < ni; ++a) {
    double* o = out + a * ld;
    // The first coordinate (and for d = 2 the second) in the same pass as the store: one pass
    // over the output row instead of d + 1. Same operations in the same order as summing onto
    // 0.0 coordinate by coordinate, so the values are unchanged.
    if (d == 2) {
      const double x0 = x[a * d], x1 = x[a * d + 1];
      const double *y0 = yt, *y1 = yt + ys;
      for (lindex b = 0; b < nj; ++b) {
        const double t0 = x0 - y0[b], t1 = x1 - y1[b];
        double s = t0 * t0;
        s += t1 * t1;
        o[b] = s;
      }
      continue;
    }
    if (d == 0) {
      for (lindex b = 0; b < nj; ++b)
        o[b] = 0.0;
      continue;
    }
    {
      const double x0 = x[a * d];
      for (lindex b = 0; b < nj; ++b) {
        const double t = x0 - yt[b];
        o[b] = t * t;
      }
    }
    for (lindex k = 1; k < d; ++k) {
      const double xk = x[a * d + k];
      const double* y = yt + k * ys;
      for (lindex b = 0; b < nj; ++b) {
        const double t = xk - y[b];
        o[b] += t * t;
      }
    }
  }
}

inline void euclidean_tile(const double* x, lindex ni, lindex d, const double* yt, lindex ys,
                           lindex nj, double* out, lindex ld) {
  sqeuclidean_tile(x, ni, d, yt, ys, nj, out, ld);
  for (lindex a = 0; a < ni; ++a)
    for (lindex b = 0; b < nj; ++b)
      out[a * ld + b] = std::sqrt(out[a * ld + b]);
}

inline void lp_tile(double p, const double* x, lindex ni, lindex d, const double* yt, lindex ys,
                    lindex nj, double* out, lindex ld) {
  for (lindex a = 0; a < ni; ++a) {
    double* o = out + a * ld;
    for (lindex b = 0; b < nj; ++b)
      o[b] = 0.0;
    for (lindex k = 0; k < d; ++k) {
      const double xk = x[a * d + k];
      const double* y = yt + k * ys;
      if (p == 1.0) {
        for (lindex b = 0; b < nj; ++b)
          o[b] += std::abs(xk - y[b]);
      } else if (p == 2.0) {
        for (lindex b = 0; b < nj; ++b)
          o[b] += (xk - y[b]) * (xk - y[b]);
      } else {
        for (lindex b = 0; b < nj; ++b)
          o[b] += std::pow(std::abs(xk - y[b]), p);
      }
    }
  }
}

}  // namespace parot::kernels
