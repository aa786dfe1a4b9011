// SPDX-License-Identifier: BSD-3-Clause
// Stored-kernel Sinkhorn sweeps; the row loops run at the level chosen at start-up
// (kernels/dispatch.hpp).
#include "solver/entropic/stored_kernel.hpp"

#include <algorithm>
#include <cmath>

#include "kernels/dispatch.hpp"
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
  const kernels::KernelTable& k = kernels::active();
  for (lindex j0 = 0; j0 < m_; j0 += Workspace::tile_cols) {
    const lindex nj = std::min(Workspace::tile_cols, m_ - j0);
    cost.tile(i, 1, j0, nj, row + j0, nj);
    k.gibbs_row(row + j0, nj, fi, gt_.data() + j0, inv_eps, row + j0);
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
  const kernels::KernelTable& k = kernels::active();
  // v_j = exp((g_j − g̃_j)/ε) <= e^bound; zero-weight columns (g_j = −∞) get 0.
  k.exp_scaled_diff(g.data(), gt_.data(), m_, inv_eps, v_.data());
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
    const double total = k.lane_dot(row, v, m_);
    double lse;
    if (kernels::shifted_sum_ok(total)) {
      lse = std::log(total) - ft_[i] * inv_eps;
    } else {  // too much of the row underflowed (or overflowed): the exact log-domain value
      double rmax = kernels::lse_floor, rsum = 0;
      for (lindex j0 = 0; j0 < m_; j0 += Workspace::tile_cols) {
        const lindex nj = std::min(Workspace::tile_cols, m_ - j0);
        cost.tile(i, 1, j0, nj, ws.tile.data(), nj);
        k.row_lse_merge(ws.tile.data(), nj, 1, nj, g.data() + j0, inv_eps, &rmax, &rsum,
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
    k.add_scaled(csum, row, kernels::fast_exp(d), m_);
  }
}

}  // namespace parot::entropic
