// SPDX-License-Identifier: BSD-3-Clause
// Quadratically regularized OT restricted to a given support (≤ k entries per column): the
// feasible k-sparse plan behind the sparse solver's upper bound. Semismooth Newton on the dual.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "kernels/dd_arith.hpp"
#include "parot/core/types.hpp"

namespace parot::sparse {

/// The support of the rank's columns, CSC: column jl (global jb + jl) holds the rows
/// row[ptr[jl] .. ptr[jl+1]) with costs cost[...].
struct Support {
  std::vector<std::size_t> ptr{0};
  std::vector<lindex> row;
  std::vector<double> cost;
};

struct RestrictedQpParams {
  double tol = 1e-10;              ///< stop when the plan's marginal L1 error is <= tol
  long max_newton = 100;           ///< Newton iterations
  long max_cg = 1000;              ///< CG iterations per Newton step
  bool last_if_unreached = false;  ///< not reached: return the last iterate (the highest
                                   ///< restricted dual), not the one of smallest error
};

struct RestrictedQpResult {
  bool reached = false;  ///< marginal error <= tol
  long newton_iterations = 0, cg_iterations = 0;
  double marginal_error = 0;  ///< ‖T1 − a‖₁ + ‖Tᵀ1 − b‖₁ of the returned plan (the smallest seen)
  double source_error = 0, target_error = 0;
  double primal = 0;     ///< ⟨C, T⟩ + γ/2 ‖T‖²
  double transport = 0;  ///< ⟨C, T⟩
  double dual = 0;       ///< the restricted dual at the returned point
};

/// min ⟨C, T⟩ + (γ/2)‖T‖² over T >= 0 supported on `support`, T1 = a, Tᵀ1 = b, through its
/// dual max_{α,β} aᵀα + bᵀβ − (1/2γ) Σ_{(i,j) ∈ support} [α_i + β_j − C_ij]₊² (concave,
/// piecewise quadratic, C¹). Semismooth Newton: the generalized Hessian (1/γ) Σ over the active
/// entries of (e_i + e_{n+j})(e_i + e_{n+j})ᵀ plus μ I, μ = min(1e-2, ‖g‖₁)/γ (a
/// Levenberg–Marquardt shift that also handles the null direction (1, −1) and empty rows), solved
/// by Jacobi-preconditioned CG; Armijo backtracking on the objective in double-double. x = (α, β)
/// (n + m, replicated) is the start and the result. `reduce(v)` sums a vector of double-doubles
/// over the ranks in place (a replicated result; the caller's collective). The support is
/// infeasible when the dual is unbounded: then the Newton iterations run out and `reached` is
/// false. T_ij = [α_i + β_j − C_ij]₊ / γ on the support; `emit(jl, i, t)` receives the final plan.
template <class Reduce, class Emit>
RestrictedQpResult solve_restricted_qp(const Support& support, const Vector& a, const Vector& b,
                                       double gamma, lindex n, lindex m, lindex jb, lindex mr,
                                       std::vector<double>& x, Reduce&& reduce, Emit&& emit,
                                       const RestrictedQpParams& p) {
  using kernels::DoubleDouble;
  const std::size_t dim = static_cast<std::size_t>(n + m);
  std::vector<DoubleDouble> red(dim + 3);
  std::vector<double> g(dim), d(dim), xt(dim), gt(dim);
  std::vector<unsigned char> active(support.row.size()), active_t(active.size());
  const double inv = 1.0 / gamma;
  RestrictedQpResult out;

  // Objective (−D, double-double), ascent gradient ∇D, active flags; also the plan's cost terms.
  const auto eval = [&](const std::vector<double>& z, DoubleDouble& F, std::vector<double>& grad,
                        std::vector<unsigned char>& act, double* primal, double* transport) {
    std::fill(red.begin(), red.end(), DoubleDouble{});
    DoubleDouble sq, cost_dd, tt;
    for (lindex jl = 0; jl < mr; ++jl) {
      const gindex j = jb + jl;
      double col = 0;
      for (std::size_t e = support.ptr[static_cast<std::size_t>(jl)];
           e < support.ptr[static_cast<std::size_t>(jl) + 1]; ++e) {
        const lindex i = support.row[e];
        const double s =
            z[static_cast<std::size_t>(i)] + z[static_cast<std::size_t>(n + j)] - support.cost[e];
        act[e] = s > 0;
        if (!(s > 0)) continue;
        const DoubleDouble sd = kernels::sum3(z[static_cast<std::size_t>(i)],
                                              z[static_cast<std::size_t>(n + j)], -support.cost[e]);
        kernels::add(sq, kernels::mul(sd, sd));
        const double t = s * inv;
        kernels::add(red[static_cast<std::size_t>(i)], t);
        col += t;
        kernels::add(cost_dd, t * support.cost[e]);
        kernels::add(tt, t * t);
      }
      red[static_cast<std::size_t>(n + j)] = DoubleDouble{col, 0.0};
    }
    red[dim] = kernels::div(sq, 2 * gamma);
    red[dim + 1] = cost_dd;
    red[dim + 2] = tt;
    reduce(red);
    DoubleDouble lin;
    for (lindex i = 0; i < n; ++i) {
      kernels::add(lin, kernels::two_prod(a[i], z[static_cast<std::size_t>(i)]));
      grad[static_cast<std::size_t>(i)] = a[i] - red[static_cast<std::size_t>(i)].value();
    }
    for (lindex j = 0; j < m; ++j) {
      kernels::add(lin, kernels::two_prod(b[j], z[static_cast<std::size_t>(n + j)]));
      grad[static_cast<std::size_t>(n + j)] = b[j] - red[static_cast<std::size_t>(n + j)].value();
    }
    const double hi = red[dim].value();
    F = kernels::sub(DoubleDouble{hi, (red[dim].hi - hi) + red[dim].lo}, lin);
    if (primal) {
      *transport = red[dim + 1].value();
      *primal = red[dim + 1].value() + 0.5 * gamma * red[dim + 2].value();
    }
    return std::isfinite(F.hi);
  };
  const auto norm1 = [](const std::vector<double>& v, std::size_t b0, std::size_t e0) {
    double s = 0;
    for (std::size_t i = b0; i < e0; ++i)
      s += std::abs(v[i]);
    return s;
  };
  const auto dot = [](const std::vector<double>& u, const std::vector<double>& v) {
    double s = 0;
    for (std::size_t i = 0; i < u.size(); ++i)
      s += u[i] * v[i];
    return s;
  };
  // y = (H + μ I) v with H the generalized Hessian of −D at the active set `act`.
  std::vector<DoubleDouble> hv(dim);
  const auto hessian = [&](const std::vector<double>& v, std::vector<double>& y, double mu) {
    std::fill(hv.begin(), hv.end(), DoubleDouble{});
    for (lindex jl = 0; jl < mr; ++jl) {
      const gindex j = jb + jl;
      double col = 0;
      for (std::size_t e = support.ptr[static_cast<std::size_t>(jl)];
           e < support.ptr[static_cast<std::size_t>(jl) + 1]; ++e) {
        if (!active[e]) continue;
        const lindex i = support.row[e];
        const double w =
            (v[static_cast<std::size_t>(i)] + v[static_cast<std::size_t>(n + j)]) * inv;
        kernels::add(hv[static_cast<std::size_t>(i)], w);
        col += w;
      }
      hv[static_cast<std::size_t>(n + j)] = DoubleDouble{col, 0.0};
    }
    reduce(hv);
    for (std::size_t q = 0; q < dim; ++q)
      y[q] = hv[q].value() + mu * v[q];
  };

  DoubleDouble F;
  if (!eval(x, F, g, active, nullptr, nullptr)) return out;
  std::vector<double> best_x = x;
  double best_err = norm1(g, 0, dim);
  std::vector<double> r(dim), pdir(dim), ap(dim), zp(dim), diag(dim);
  for (long it = 0; it < p.max_newton && best_err > p.tol; ++it) {
    const double g1 = norm1(g, 0, dim);
    const double mu = std::max(std::min(1e-2, g1), 1e-14) * inv;
    // Jacobi-preconditioned CG on (H + μI) d = g, from d = 0. The diagonal of H: the active
    // counts of the row or column, over γ.
    std::fill(hv.begin(), hv.end(), DoubleDouble{});
    for (lindex jl = 0; jl < mr; ++jl) {
      double count = 0;
      for (std::size_t e = support.ptr[static_cast<std::size_t>(jl)];
           e < support.ptr[static_cast<std::size_t>(jl) + 1]; ++e)
        if (active[e]) {
          kernels::add(hv[static_cast<std::size_t>(support.row[e])], 1.0);
          count += 1;
        }
      hv[static_cast<std::size_t>(n + jb + jl)] = DoubleDouble{count, 0.0};
    }
    reduce(hv);
    for (std::size_t q = 0; q < dim; ++q)
      diag[q] = hv[q].value() * inv + mu;
    std::fill(d.begin(), d.end(), 0.0);
    r = g;
    for (std::size_t q = 0; q < dim; ++q)
      zp[q] = r[q] / diag[q];
    pdir = zp;
    double rz = dot(r, zp);
    const double r0 = std::sqrt(dot(r, r));
    const double stop = std::min(0.1, std::sqrt(r0)) * r0;
    for (long c = 0; c < p.max_cg && std::sqrt(dot(r, r)) > stop; ++c) {
      hessian(pdir, ap, mu);
      const double pap = dot(pdir, ap);
      if (!(pap > 0)) break;
      const double alpha = rz / pap;
      for (std::size_t q = 0; q < dim; ++q) {
        d[q] += alpha * pdir[q];
        r[q] -= alpha * ap[q];
        zp[q] = r[q] / diag[q];
      }
      const double rz_new = dot(r, zp);
      for (std::size_t q = 0; q < dim; ++q)
        pdir[q] = zp[q] + rz_new / rz * pdir[q];
      rz = rz_new;
      ++out.cg_iterations;
    }
    const double slope = dot(g, d);  // > 0: an ascent direction of D
    if (!(slope > 0)) break;
    // Exact line search: φ(t) = −D(x + t d) is convex and piecewise quadratic; its derivative
    // φ'(t) = Σ [s + t δ]₊ δ / γ − (aᵀd_α + bᵀd_β) is monotone and piecewise linear, so a
    // safeguarded Newton / regula falsi iteration finds its root in a few passes.
    double lin_d = 0;
    for (lindex i = 0; i < n; ++i)
      lin_d += a[i] * d[static_cast<std::size_t>(i)];
    for (lindex j = 0; j < m; ++j)
      lin_d += b[j] * d[static_cast<std::size_t>(n + j)];
    std::vector<DoubleDouble> ph(2);
    const auto dphi = [&](double t, double& curv) {
      ph[0] = ph[1] = DoubleDouble{};
      for (lindex jl = 0; jl < mr; ++jl) {
        const gindex j = jb + jl;
        for (std::size_t e = support.ptr[static_cast<std::size_t>(jl)];
             e < support.ptr[static_cast<std::size_t>(jl) + 1]; ++e) {
          const lindex i = support.row[e];
          const double delta = d[static_cast<std::size_t>(i)] + d[static_cast<std::size_t>(n + j)];
          const double st = x[static_cast<std::size_t>(i)] + x[static_cast<std::size_t>(n + j)] -
                            support.cost[e] + t * delta;
          if (st > 0) {
            kernels::add(ph[0], st * delta * inv);
            kernels::add(ph[1], delta * delta * inv);
          }
        }
      }
      reduce(ph);
      curv = ph[1].value();
      return ph[0].value() - lin_d;
    };
    double lo = 0, flo = -slope, hi = 1, curv = 0;
    double fhi = dphi(hi, curv);
    for (int e = 0; e < 30 && fhi < 0; ++e) {
      lo = hi;
      flo = fhi;
      hi *= 2;
      fhi = dphi(hi, curv);
    }
    double t = hi;
    if (fhi > 0) {
      double ft = fhi;
      for (int e = 0; e < 40 && std::abs(ft) > 1e-6 * slope; ++e) {
        double tn = curv > 0 ? t - ft / curv : 0.5 * (lo + hi);  // Newton from the last point
        if (!(tn > lo && tn < hi)) tn = lo - flo * (hi - lo) / (fhi - flo);  // regula falsi
        if (!(tn > lo && tn < hi)) tn = 0.5 * (lo + hi);
        t = tn;
        ft = dphi(t, curv);
        if (ft < 0) {
          lo = t;
          flo = ft;
        } else {
          hi = t;
          fhi = ft;
        }
        if (hi - lo <= 1e-15 * hi) break;
      }
    }
    bool accepted = false;
    for (int ls = 0; ls < 50; ++ls, t *= 0.5) {
      for (std::size_t q = 0; q < dim; ++q)
        xt[q] = x[q] + t * d[q];
      DoubleDouble Ft;
      if (!eval(xt, Ft, gt, active_t, nullptr, nullptr)) continue;
      // −D decreases by at least 1e-4 t gᵀd.
      if (kernels::sub(Ft, F).value() <= -1e-4 * t * slope) {
        accepted = true;
        break;
      }
    }
    ++out.newton_iterations;
    if (!accepted) break;
    x.swap(xt);
    g.swap(gt);
    active.swap(active_t);
    F = DoubleDouble{};
    eval(x, F, g, active, nullptr, nullptr);
    const double err = norm1(g, 0, dim);
    if (err < best_err) {
      best_err = err;
      best_x = x;
    }
  }
  if (!(best_err <= p.tol) && p.last_if_unreached) best_x = x;
  x = best_x;
  double primal = 0, transport = 0;
  eval(x, F, g, active, &primal, &transport);
  out.source_error = norm1(g, 0, static_cast<std::size_t>(n));
  out.target_error = norm1(g, static_cast<std::size_t>(n), dim);
  out.marginal_error = out.source_error + out.target_error;
  out.reached = out.marginal_error <= p.tol;
  out.primal = primal;
  out.transport = transport;
  out.dual = -F.value();
  for (lindex jl = 0; jl < mr; ++jl) {
    const gindex j = jb + jl;
    for (std::size_t e = support.ptr[static_cast<std::size_t>(jl)];
         e < support.ptr[static_cast<std::size_t>(jl) + 1]; ++e) {
      const lindex i = support.row[e];
      const double s =
          x[static_cast<std::size_t>(i)] + x[static_cast<std::size_t>(n + j)] - support.cost[e];
      if (s > 0) emit(jl, i, s * inv);
    }
  }
  return out;
}

}  // namespace parot::sparse
