// SPDX-License-Identifier: BSD-3-Clause
// Stored-kernel Sinkhorn sweeps (compiled for the host CPU; no Eigen allocation here).
#include "solver/entropic/stored_kernel.hpp"

#include <algorithm>
#include <cmath>

#include "kernels/exp.hpp"
#include "kernels/lse.hpp"
#include "petsc/log_events.hpp"

namespace parot::entropic {

namespace {
double finite_or_zero(double x) {
  return std::isfinite(x) ? x : 0.0;
}
}  // namespace

void StoredKernel::absorb_row(const Cost& cost, lindex i, double fi, double eps) {
  const double inv_eps = 1.0 / eps;
  ft_[i] = fi;
  double* row = k_.data() + i * m_;
  for (lindex j0 = 0; j0 < m_; j0 += Workspace::tile_cols) {
    const lindex nj = std::min(Workspace::tile_cols, m_ - j0);
    cost.tile(i, 1, j0, nj, row + j0, nj);
    for (lindex b = 0; b < nj; ++b)
      row[j0 + b] = kernels::fast_exp((fi + gt_[j0 + b] - row[j0 + b]) * inv_eps);
  }
}

void StoredKernel::absorb(const Cost& cost, const Vector& f, const Vector& g, double eps) {
  const petsc::EventScope logged(petsc::Event::absorb);
  n_ = cost.local_rows();
  m_ = cost.cols();
  k_.resize(static_cast<std::size_t>(n_ * m_));
  ft_.resize(static_cast<std::size_t>(n_));
  gt_.resize(static_cast<std::size_t>(m_));
  v_.resize(static_cast<std::size_t>(m_));
  for (lindex j = 0; j < m_; ++j)
    gt_[j] = finite_or_zero(g[j]);
  for (lindex i = 0; i < n_; ++i)
    absorb_row(cost, i, finite_or_zero(f[i]), eps);
}

bool StoredKernel::needs_absorption(const Vector& g, double eps) const {
  for (lindex j = 0; j < m_; ++j)
    if (std::isfinite(g[j]) && !(std::abs(g[j] - gt_[j]) <= bound * eps)) return true;
  return false;
}

void StoredKernel::sweep(const Cost& cost, const Vector& log_a, const Vector& g, double eps,
                         Vector& f, Workspace& ws, bool& bad) {
  const petsc::EventScope logged(petsc::Event::sweep);
  const double inv_eps = 1.0 / eps;
  // v_j = exp((g_j − g̃_j)/ε) <= e^bound; zero-weight columns (g_j = −∞) get 0.
  for (lindex j = 0; j < m_; ++j)
    v_[j] = kernels::fast_exp((g[j] - gt_[j]) * inv_eps);
  std::fill(ws.csum.begin(), ws.csum.end(), 0.0);
  for (lindex j = 0; j < m_; ++j)
    ws.cmax[j] = -gt_[j] * inv_eps;
  double* csum = ws.csum.data();
  const double* v = v_.data();
  for (lindex i = 0; i < n_; ++i) {
    if (log_a[i] == -INFINITY) {  // zero-weight row: u_i = 0, nothing to add
      f[i] = -INFINITY;
      continue;
    }
    const double* row = k_.data() + i * m_;
    double s[kernels::lanes] = {};
    const lindex mb = m_ - m_ % kernels::lanes;
    for (lindex j = 0; j < mb; j += kernels::lanes)
      for (lindex l = 0; l < kernels::lanes; ++l)
        s[l] += row[j + l] * v[j + l];
    for (lindex j = mb; j < m_; ++j)
      s[0] += row[j] * v[j];
    double total = 0;
    for (lindex l = 0; l < kernels::lanes; ++l)
      total += s[l];
    double lse;
    if (kernels::shifted_sum_ok(total)) {
      lse = std::log(total) - ft_[i] * inv_eps;
    } else {  // too much of the row underflowed (or overflowed): the exact log-domain value
      double rmax = kernels::lse_floor, rsum = 0;
      for (lindex j0 = 0; j0 < m_; j0 += Workspace::tile_cols) {
        const lindex nj = std::min(Workspace::tile_cols, m_ - j0);
        cost.tile(i, 1, j0, nj, ws.tile.data(), nj);
        kernels::row_lse_merge(ws.tile.data(), nj, 1, nj, g.data() + j0, inv_eps, &rmax, &rsum,
                               ws.scratch.data());
      }
      lse = rmax + std::log(rsum);
    }
    f[i] = eps * (log_a[i] - lse);
    bad = bad || std::isnan(f[i]) || f[i] == INFINITY;
    double d = (f[i] - ft_[i]) * inv_eps;
    if (!(std::abs(d) <= bound) && std::isfinite(f[i])) {
      absorb_row(cost, i, f[i], eps);
      d = 0;
    }
    const double u = kernels::fast_exp(d);
    for (lindex j = 0; j < m_; ++j)
      csum[j] += row[j] * u;
  }
}

}  // namespace parot::entropic
