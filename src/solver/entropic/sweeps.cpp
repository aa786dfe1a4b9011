// SPDX-License-Identifier: BSD-3-Clause
// Tiled log-domain sweeps: the cost is evaluated tile by tile and never stored.
#include "solver/entropic/sweeps.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/dispatch.hpp"
#include "kernels/lse.hpp"
#include "petsc/log_events.hpp"

namespace parot::entropic {

Workspace::Workspace(lindex m)
    : tile(static_cast<std::size_t>(tile_rows * tile_cols)),
      scratch(static_cast<std::size_t>(tile_cols)),
      cmax(static_cast<std::size_t>(m)),
      csum(static_cast<std::size_t>(m)) {}

void row_lse(const Cost& cost, const Vector& g, double eps, Vector& lse, Workspace& ws) {
  const petsc::EventScope logged(petsc::Event::sweep);
  const lindex n = cost.local_rows(), m = cost.cols();
  const double inv_eps = 1.0 / eps;
  const kernels::KernelTable& k = kernels::active();
  constexpr lindex tr = Workspace::tile_rows, tc = Workspace::tile_cols;
  double rmax[tr], rsum[tr], shift[tr];
  for (lindex i0 = 0; i0 < n; i0 += tr) {
    const lindex ni = std::min(tr, n - i0);
    bool shifted = true;
    for (lindex a = 0; a < ni; ++a) {
      shift[a] = lse[i0 + a];
      shifted = shifted && std::isfinite(shift[a]);
    }
    if (shifted) {
      std::fill_n(rsum, ni, 0.0);
      for (lindex j0 = 0; j0 < m; j0 += tc) {
        const lindex nj = std::min(tc, m - j0);
        cost.tile(i0, ni, j0, nj, ws.tile.data(), tc);
        k.row_sum_shifted(ws.tile.data(), tc, ni, nj, g.data() + j0, inv_eps, shift, rsum);
      }
      for (lindex a = 0; a < ni; ++a) {
        shifted = shifted && kernels::shifted_sum_ok(rsum[a]);
        lse[i0 + a] = shift[a] + std::log(rsum[a]);
      }
      if (shifted) continue;
    }
    // Exact streaming maximum: the first sweep, or a shift that was too far off.
    std::fill_n(rmax, ni, kernels::lse_floor);
    std::fill_n(rsum, ni, 0.0);
    for (lindex j0 = 0; j0 < m; j0 += tc) {
      const lindex nj = std::min(tc, m - j0);
      cost.tile(i0, ni, j0, nj, ws.tile.data(), tc);
      k.row_lse_merge(ws.tile.data(), tc, ni, nj, g.data() + j0, inv_eps, rmax, rsum,
                      ws.scratch.data());
    }
    for (lindex a = 0; a < ni; ++a)
      lse[i0 + a] = rmax[a] + std::log(rsum[a]);
  }
}

void col_lse_partial(const Cost& cost, const Vector& f, double eps, Workspace& ws,
                     const double* shift) {
  const petsc::EventScope logged(petsc::Event::sweep);
  const lindex n = cost.local_rows(), m = cost.cols();
  const double inv_eps = 1.0 / eps;
  const kernels::KernelTable& k = kernels::active();
  std::fill(ws.csum.begin(), ws.csum.end(), 0.0);
  if (shift) {
    std::copy_n(shift, m, ws.cmax.begin());
    for (lindex i0 = 0; i0 < n; i0 += Workspace::tile_rows) {
      const lindex ni = std::min(Workspace::tile_rows, n - i0);
      for (lindex j0 = 0; j0 < m; j0 += Workspace::tile_cols) {
        const lindex nj = std::min(Workspace::tile_cols, m - j0);
        cost.tile(i0, ni, j0, nj, ws.tile.data(), Workspace::tile_cols);
        k.col_sum_shifted(ws.tile.data(), Workspace::tile_cols, ni, nj, f.data() + i0, inv_eps,
                          shift + j0, ws.csum.data() + j0);
      }
    }
    return;
  }
  std::fill(ws.cmax.begin(), ws.cmax.end(), kernels::lse_floor);
  for (lindex i0 = 0; i0 < n; i0 += Workspace::tile_rows) {
    const lindex ni = std::min(Workspace::tile_rows, n - i0);
    for (lindex j0 = 0; j0 < m; j0 += Workspace::tile_cols) {
      const lindex nj = std::min(Workspace::tile_cols, m - j0);
      cost.tile(i0, ni, j0, nj, ws.tile.data(), Workspace::tile_cols);
      k.col_lse_merge(ws.tile.data(), Workspace::tile_cols, ni, nj, f.data() + i0, inv_eps,
                      ws.cmax.data() + j0, ws.csum.data() + j0, ws.scratch.data());
    }
  }
}

namespace {
void combine_pairs(void* in, void* inout, int* len, MPI_Datatype*) {
  const double* x = static_cast<const double*>(in);
  double* y = static_cast<double*>(inout);
  for (int k = 0; k < *len; ++k) {
    const double m1 = x[2 * k], s1 = x[2 * k + 1], m2 = y[2 * k], s2 = y[2 * k + 1];
    const double mx = std::max(m1, m2);
    y[2 * k] = mx;
    // Two empty pairs (−∞, 0), e.g. from ranks without rows, stay empty (not exp(−∞ + ∞)).
    y[2 * k + 1] = mx == -std::numeric_limits<double>::infinity()
                       ? 0.0
                       : s1 * std::exp(m1 - mx) + s2 * std::exp(m2 - mx);
  }
}
}  // namespace

LsePairReduction::LsePairReduction() {
  MPI_Type_contiguous(2, MPI_DOUBLE, &type_);
  MPI_Type_commit(&type_);
  MPI_Op_create(&combine_pairs, 1, &op_);
}

LsePairReduction::~LsePairReduction() {
  MPI_Op_free(&op_);
  MPI_Type_free(&type_);
}

void LsePairReduction::allreduce(MPI_Comm comm, double* pairs, int count) const {
  const petsc::EventScope logged(petsc::Event::allreduce);
  MPI_Allreduce(MPI_IN_PLACE, pairs, count, type_, op_, comm);
}

PlanEvaluation evaluate_plan(MPI_Comm comm, const Cost& cost, gindex row_begin, const Vector& a,
                             const Vector& b, const Vector& f, const Vector& g, double eps,
                             double threshold) {
  const lindex n = cost.local_rows(), m = cost.cols();
  const double inv_eps = 1.0 / eps;
  constexpr lindex tc = Workspace::tile_cols;
  const kernels::KernelTable& kt = kernels::active();
  std::vector<double> c(static_cast<std::size_t>(tc)), pt(static_cast<std::size_t>(tc));
  // Column sums, then ⟨C,P⟩, ΣP and the row error: one reduction.
  std::vector<double> sums(static_cast<std::size_t>(m) + 3, 0.0);
  PlanEvaluation out;
  for (lindex i = 0; i < n; ++i) {
    double row = 0, cp = 0;
    for (lindex j0 = 0; j0 < m; j0 += tc) {
      const lindex nj = std::min(tc, m - j0);
      cost.tile(i, 1, j0, nj, c.data(), tc);
      kt.gibbs_row(c.data(), nj, f[i], g.data() + j0, inv_eps, pt.data());
      for (lindex k = 0; k < nj; ++k) {
        const double p = pt[k];
        row += p;
        cp += p * c[k];
        sums[j0 + k] += p;
        if (threshold >= 0 && p > threshold) {
          out.plan.row.push_back(row_begin + i);
          out.plan.col.push_back(j0 + k);
          out.plan.value.push_back(p);
        }
      }
    }
    sums[m] += cp;
    sums[m + 1] += row;
    sums[m + 2] += std::abs(row - a[i]);
  }
  MPI_Allreduce(MPI_IN_PLACE, sums.data(), static_cast<int>(sums.size()), MPI_DOUBLE, MPI_SUM,
                comm);
  for (lindex j = 0; j < m; ++j)
    out.col_error += std::abs(sums[j] - b[j]);
  out.transport_cost = sums[m];
  out.mass = sums[m + 1];
  out.row_error = sums[m + 2];
  return out;
}

}  // namespace parot::entropic
