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
    for (lindex b = 0; b < nj; ++b)
      o[b] = 0.0;
    for (lindex k = 0; k < d; ++k) {
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
