// SPDX-License-Identifier: BSD-3-Clause
// Streaming log-sum-exp over cost tiles: the inner loops of the Sinkhorn sweeps.
#pragma once

#include "kernels/exp.hpp"
#include "parot/core/types.hpp"

namespace parot::kernels {

/// Stand-in for −∞ as a running maximum: finite, so that differences of two floors are 0, not
/// NaN, and a term exp(−∞ − floor) is still 0. Potentials of zero-weight points are −∞.
inline constexpr double lse_floor = -1e300;

/// Lanes of the explicit SIMD-friendly reductions (sums and maxima are accumulated lane-wise so
/// that the compiler vectorizes them without reassociation flags; the order is fixed).
inline constexpr lindex lanes = 8;

/// Merges one tile into running row log-sum-exps. For each row a < ni:
///   v_b = (g_b − c_ab)·inv_eps,  LSE_a ← log(exp(LSE_a) + Σ_b exp(v_b)),
/// kept as (rmax[a], rsum[a]) with LSE = rmax + log(rsum). `v` is scratch of nj doubles.
inline void row_lse_merge(const double* c, lindex ld, lindex ni, lindex nj, const double* g,
                          double inv_eps, double* rmax, double* rsum, double* v) {
  const lindex nb = nj - nj % lanes;
  for (lindex a = 0; a < ni; ++a) {
    const double* ca = c + a * ld;
    double mx[lanes];
    for (lindex l = 0; l < lanes; ++l)
      mx[l] = lse_floor;
    for (lindex b = 0; b < nb; b += lanes)
      for (lindex l = 0; l < lanes; ++l) {
        const double t = (g[b + l] - ca[b + l]) * inv_eps;
        v[b + l] = t;
        mx[l] = t > mx[l] ? t : mx[l];
      }
    for (lindex b = nb; b < nj; ++b) {
      const double t = (g[b] - ca[b]) * inv_eps;
      v[b] = t;
      mx[0] = t > mx[0] ? t : mx[0];
    }
    double tile_max = mx[0];
    for (lindex l = 1; l < lanes; ++l)
      tile_max = mx[l] > tile_max ? mx[l] : tile_max;
    if (tile_max > rmax[a]) {
      rsum[a] *= fast_exp(rmax[a] - tile_max);
      rmax[a] = tile_max;
    }
    const double m = rmax[a];
    double s[lanes] = {};
    for (lindex b = 0; b < nb; b += lanes)
      for (lindex l = 0; l < lanes; ++l)
        s[l] += fast_exp(v[b + l] - m);
    for (lindex b = nb; b < nj; ++b)
      s[0] += fast_exp(v[b] - m);
    double total = 0.0;
    for (lindex l = 0; l < lanes; ++l)
      total += s[l];
    rsum[a] += total;
  }
}

/// Merges one tile into running column log-sum-exps. For each column b < nj:
///   v_a = (f_a − c_ab)·inv_eps over rows a < ni, kept as (cmax[b], csum[b]).
/// `tmax` is scratch of nj doubles.
inline void col_lse_merge(const double* c, lindex ld, lindex ni, lindex nj, const double* f,
                          double inv_eps, double* cmax, double* csum, double* tmax) {
  for (lindex b = 0; b < nj; ++b)
    tmax[b] = cmax[b];
  for (lindex a = 0; a < ni; ++a) {
    const double* ca = c + a * ld;
    const double fa = f[a];
    for (lindex b = 0; b < nj; ++b) {
      const double t = (fa - ca[b]) * inv_eps;
      tmax[b] = t > tmax[b] ? t : tmax[b];
    }
  }
  for (lindex b = 0; b < nj; ++b) {
    csum[b] *= fast_exp(cmax[b] - tmax[b]);
    cmax[b] = tmax[b];
  }
  for (lindex a = 0; a < ni; ++a) {
    const double* ca = c + a * ld;
    const double fa = f[a];
    for (lindex b = 0; b < nj; ++b)
      csum[b] += fast_exp((fa - ca[b]) * inv_eps - cmax[b]);
  }
}

/// One-pass form with a known shift per row (the previous log-sum-exp): for each row a < ni,
///   rsum[a] += Σ_b exp((g_b − c_ab)·inv_eps − shift[a]).
/// The caller checks that rsum stays in a safe range (no overflow, no total underflow) and
/// falls back to row_lse_merge otherwise.
inline void row_sum_shifted(const double* c, lindex ld, lindex ni, lindex nj, const double* g,
                            double inv_eps, const double* shift, double* rsum) {
  const lindex nb = nj - nj % lanes;
  for (lindex a = 0; a < ni; ++a) {
    const double* ca = c + a * ld;
    const double m = shift[a];
    double s[lanes] = {};
    for (lindex b = 0; b < nb; b += lanes)
      for (lindex l = 0; l < lanes; ++l)
        s[l] += fast_exp((g[b + l] - ca[b + l]) * inv_eps - m);
    for (lindex b = nb; b < nj; ++b)
      s[0] += fast_exp((g[b] - ca[b]) * inv_eps - m);
    double total = 0.0;
    for (lindex l = 0; l < lanes; ++l)
      total += s[l];
    rsum[a] += total;
  }
}

/// One-pass form with a known shift per column: csum[b] += Σ_a exp((f_a − c_ab)·inv_eps −
/// shift[b]).
inline void col_sum_shifted(const double* c, lindex ld, lindex ni, lindex nj, const double* f,
                            double inv_eps, const double* shift, double* csum) {
  for (lindex a = 0; a < ni; ++a) {
    const double* ca = c + a * ld;
    const double fa = f[a];
    for (lindex b = 0; b < nj; ++b)
      csum[b] += fast_exp((fa - ca[b]) * inv_eps - shift[b]);
  }
}

/// Range in which a shifted sum is trusted: no term was clamped (exp(709) ≈ 8e307), and the sum
/// is so far above the underflow threshold that terms lost to underflow (each < e^-608 after
/// the shift, see solver/entropic/stored_kernel.hpp) cannot matter at double precision.
inline bool shifted_sum_ok(double s) {
  return s >= 1e-100 && s <= 1e250;
}

}  // namespace parot::kernels
