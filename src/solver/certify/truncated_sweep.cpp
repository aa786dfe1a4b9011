// SPDX-License-Identifier: BSD-3-Clause
// Row pass of truncated-kernel Sinkhorn (truncated_sweep.hpp).
#include "truncated_sweep.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/exp.hpp"
#include "kernels/lse.hpp"

namespace parot::truncated {
namespace {

// Σ x[0..len) with kernels::lanes partial sums in a fixed order (vectorizes without
// reassociation flags).
double lane_sum(const double* x, std::int64_t len) {
  constexpr std::int64_t lanes = kernels::lanes;
  double part[lanes] = {};
  const std::int64_t nb = len - len % lanes;
  for (std::int64_t q = 0; q < nb; q += lanes)
    for (std::int64_t l = 0; l < lanes; ++l)
      part[l] += x[q + l];
  for (std::int64_t q = nb; q < len; ++q)
    part[0] += x[q];
  double total = 0;
  for (std::int64_t l = 0; l < lanes; ++l)
    total += part[l];
  return total;
}

}  // namespace

RowPass row_pass(const std::int64_t* ptr, const std::int32_t* col, const double* cost, lindex n,
                 const double* a, double* f, const double* g, double eps, double omega,
                 double* col_sums, double* e) {
  const double inv_eps = 1.0 / eps;
  RowPass out;
  for (lindex i = 0; i < n; ++i) {
    if (!(a[i] > 0)) continue;
    const double fi = f[i];
    const std::int64_t p0 = ptr[i], len = ptr[i + 1] - p0;
    const std::int32_t* cj = col + p0;
    const double* cc = cost + p0;
    for (std::int64_t q = 0; q < len; ++q)  // gather, then a vectorized exp
      e[q] = (fi + g[cj[q]] - cc[q]) * inv_eps;
    for (std::int64_t q = 0; q < len; ++q)
      e[q] = kernels::fast_exp(e[q]);
    const double r = lane_sum(e, len);
    out.af += a[i] * fi;
    if (safe_sum(r)) {
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

}  // namespace parot::truncated
