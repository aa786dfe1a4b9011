// SPDX-License-Identifier: BSD-3-Clause
// The row loops of the stored-kernel and truncated sweeps, as plain-array kernels. Included only
// by src/kernels/dispatch_isa.cpp, which compiles them once per instruction-set level; callers
// reach them through kernels::active() (kernels/dispatch.hpp).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "kernels/dispatch.hpp"
#include "kernels/exp.hpp"
#include "kernels/lse.hpp"

namespace parot::kernels {

inline double lane_sum(const double* x, lindex n) {
  double s[lanes] = {};
  const lindex nb = n - n % lanes;
  for (lindex i = 0; i < nb; i += lanes)
    for (lindex l = 0; l < lanes; ++l)
      s[l] += x[i + l];
  for (lindex i = nb; i < n; ++i)
    s[0] += x[i];
  double total = 0;
  for (lindex l = 0; l < lanes; ++l)
    total += s[l];
  return total;
}

inline double lane_dot(const double* x, const double* y, lindex n) {
  double s[lanes] = {};
  const lindex nb = n - n % lanes;
  for (lindex i = 0; i < nb; i += lanes)
    for (lindex l = 0; l < lanes; ++l)
      s[l] += x[i + l] * y[i + l];
  for (lindex i = nb; i < n; ++i)
    s[0] += x[i] * y[i];
  double total = 0;
  for (lindex l = 0; l < lanes; ++l)
    total += s[l];
  return total;
}

inline double exp_sum(const double* x, lindex n, double shift) {
  double s[lanes] = {};
  const lindex nb = n - n % lanes;
  for (lindex i = 0; i < nb; i += lanes)
    for (lindex l = 0; l < lanes; ++l)
      s[l] += fast_exp(x[i + l] - shift);
  for (lindex i = nb; i < n; ++i)
    s[0] += fast_exp(x[i] - shift);
  double total = 0;
  for (lindex l = 0; l < lanes; ++l)
    total += s[l];
  return total;
}

inline void add_scaled(double* y, const double* x, double s, lindex n) {
  for (lindex i = 0; i < n; ++i)
    y[i] += x[i] * s;
}

inline void gibbs_row(const double* c, lindex n, double f, const double* g, double inv_eps,
                      double* out) {
  for (lindex j = 0; j < n; ++j)
    out[j] = fast_exp((f + g[j] - c[j]) * inv_eps);
}

inline void exp_scaled_diff(const double* x, const double* y, lindex n, double inv_eps,
                            double* out) {
  for (lindex j = 0; j < n; ++j)
    out[j] = fast_exp((x[j] - y[j]) * inv_eps);
}

/// truncated::row_pass: see solver/certify/truncated_sweep.hpp. `e` holds the longest row.
inline SparseRowPass sparse_row_pass(const std::int64_t* ptr, const std::int32_t* col,
                                     const double* cost, lindex n, const double* a, double* f,
                                     const double* g, double eps, double omega, double* col_sums,
                                     double* e) {
  const double inv_eps = 1.0 / eps;
  SparseRowPass out;
  for (lindex i = 0; i < n; ++i) {
    if (!(a[i] > 0)) continue;
    const double fi = f[i];
    const std::int64_t p0 = ptr[i], len = ptr[i + 1] - p0;
    const std::int32_t* cj = col + p0;
    const double* cc = cost + p0;
    for (std::int64_t q = 0; q < len; ++q)  // gather, then a vectorized exp
      e[q] = (fi + g[cj[q]] - cc[q]) * inv_eps;
    for (std::int64_t q = 0; q < len; ++q)
      e[q] = fast_exp(e[q]);
    const double r = lane_sum(e, len);
    out.af += a[i] * fi;
    if (sparse_sum_safe(r)) {
      out.error += std::abs(r - a[i]);
      const double log_scale = std::log(a[i] / r);
      const double scale = omega == 1.0 ? a[i] / r : std::exp(omega * log_scale);
      f[i] = fi + omega * eps * log_scale;
      for (std::int64_t q = 0; q < len; ++q)
        col_sums[cj[q]] += e[q] * scale;
    } else {  // against the row's maximum
      double mx = -std::numeric_limits<double>::infinity();
      for (std::int64_t q = 0; q < len; ++q) {
        e[q] = (fi + g[cj[q]] - cc[q]) * inv_eps;
        mx = std::max(mx, e[q]);
      }
      double s = 0;
      for (std::int64_t q = 0; q < len; ++q)
        s += std::exp(e[q] - mx);
      const double log_r = mx + std::log(s), log_a = std::log(a[i]);
      out.error += log_r > log_a ? std::exp(std::min(log_r, 690.0)) : a[i];
      f[i] = fi + eps * (log_a - log_r);
      for (std::int64_t q = 0; q < len; ++q)
        col_sums[cj[q]] += std::exp(e[q] - log_r + log_a);
    }
    out.bad = out.bad || !std::isfinite(f[i]);
  }
  return out;
}

}  // namespace parot::kernels
