// SPDX-License-Identifier: BSD-3-Clause
// L-BFGS for piecewise-quadratic (possibly nonsmooth) objectives known to double-double
// precision: weak Wolfe line search (Lewis & Overton 2013), restarts, ε-subgradient steps at kinks.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

#include "kernels/dd_arith.hpp"

namespace parot::sparse {

using kernels::DoubleDouble;

/// Why the optimizer stopped.
enum class LbfgsStop {
  atol,         ///< ‖g‖₁ <= atol
  gatol,        ///< ‖g‖₂ <= gatol
  stationary,   ///< no descent at double-double precision along the L-BFGS, the steepest and the
                ///< bundle direction, and the bundle measure <= stationarity_tol
  line_search,  ///< as `stationary`, with the bundle measure above stationarity_tol
  max_it,
  max_evaluations,
  nonfinite,  ///< the objective at the start point is not finite
};

struct LbfgsParams {
  long max_it = 1000;
  long max_evaluations = 50000;
  int history = 10;             ///< (s, y) pairs kept
  double atol = 0;              ///< stop when ‖g‖₁ <= atol
  double gatol = 0;             ///< stop when ‖g‖₂ <= gatol
  double stationarity_tol = 0;  ///< `stationary` vs `line_search` at a line-search failure
  double c1 = 1e-4, c2 = 0.9;   ///< weak Wolfe constants
  int max_line_search = 60;     ///< evaluations per line search
  long mix_every = 0;  ///< also try an ε-subgradient step every mix_every iterations (0: never)
  double eps_min = 1e-12, eps_max = 1e-3;  ///< tie widths ε of the ε-subgradient steps
};

struct LbfgsStats {
  long iterations = 0;
  long evaluations = 0;
  long restarts = 0;      ///< memory resets after a failed line search
  long bundle_steps = 0;  ///< accepted ε-subgradient steps
  double stationarity = std::numeric_limits<double>::quiet_NaN();  ///< see Lbfgs::minimize
};

namespace detail {

inline double dot(const std::vector<double>& x, const std::vector<double>& y) {
  // Plain loop, fixed order: the result depends on the compiled code only, never on a BLAS.
  double s = 0;
  for (std::size_t i = 0; i < x.size(); ++i)
    s += x[i] * y[i];
  return s;
}

inline double norm1(const std::vector<double>& x) {
  double s = 0;
  for (double v : x)
    s += std::abs(v);
  return s;
}

}  // namespace detail

/// Minimizes F over R^dim. `eval(x, F, g)` returns false when F is not finite; F is a
/// double-double, so decreases far below the rounding of F's double value are seen by the line
/// search. `monitor(iteration, F, g, step)` is called at the start point and after every
/// accepted step. The path depends only on the values `eval` returns (plain loops, no BLAS).
///
/// Each iteration: the L-BFGS direction (two-loop recursion, H0 = sᵀy/yᵀy), a weak Wolfe line
/// search by bracketing and bisection (Armijo in double-double). When it fails, the memory is
/// reset and the steepest-descent direction is tried; when that fails too, x sits at a kink:
/// `mix(x, g, ε, r)` returns in r the smallest (min-norm) element of an ε-subdifferential at x
/// and its L1 norm (the stationarity measure, stats.stationarity); for ε = eps_min, 10 eps_min,
/// … eps_max the direction −r is tried. The optimizer stops as `stationary` once the measure is
/// <= stationarity_tol, as `line_search` when no direction descends.
template <class Eval, class Monitor, class Mix>
LbfgsStop lbfgs_minimize(std::vector<double>& x, Eval&& eval, Monitor&& monitor, Mix&& mix,
                         const LbfgsParams& p, LbfgsStats& stats) {
  using detail::dot;
  const std::size_t dim = x.size();
  std::vector<double> g(dim), d(dim), xt(dim), gt(dim), q(dim);
  std::vector<std::vector<double>> S, Y;
  std::vector<double> rho;
  DoubleDouble F;
  ++stats.evaluations;
  if (!eval(x.data(), F, g.data())) return LbfgsStop::nonfinite;
  monitor(0L, F, g, 0.0);
  const auto converged = [&](LbfgsStop& why) {
    if (detail::norm1(g) <= p.atol) {
      why = LbfgsStop::atol;
      return true;
    }
    if (p.gatol > 0 && std::sqrt(dot(g, g)) <= p.gatol) {
      why = LbfgsStop::gatol;
      return true;
    }
    return false;
  };
  LbfgsStop why = LbfgsStop::max_it;
  if (converged(why)) return why;

  // Weak Wolfe line search along d (dg = gᵀd < 0). On success x, F, g hold the new point and
  // the function returns the step; on failure it returns 0 and x, F, g are unchanged.
  const auto line_search = [&](double t, double dg) -> double {
    double lo = 0, hi = std::numeric_limits<double>::infinity();
    double best_t = 0;
    DoubleDouble best_F = F;
    std::vector<double> best_g;
    for (int ls = 0; ls < p.max_line_search; ++ls) {
      if (stats.evaluations >= p.max_evaluations) break;
      for (std::size_t i = 0; i < dim; ++i)
        xt[i] = x[i] + t * d[i];
      DoubleDouble Ft;
      ++stats.evaluations;
      const bool finite = eval(xt.data(), Ft, gt.data());
      const double decrease = finite ? kernels::sub(Ft, F).value() : 0.0;
      if (!finite || decrease > p.c1 * t * dg) {
        hi = t;
      } else if (dot(gt, d) < p.c2 * dg) {
        lo = t;
      } else {
        x.swap(xt);
        F = Ft;
        g.swap(gt);
        return t;
      }
      if (finite && decrease < 0 && kernels::sub(Ft, best_F).value() < 0) {
        best_t = t;
        best_F = Ft;
        best_g = gt;
      }
      t = std::isinf(hi) ? 2 * t : 0.5 * (lo + hi);
      if (!std::isinf(hi) && hi - lo <= 1e-15 * hi) break;
    }
    if (best_t > 0) {  // no Wolfe point, but a decrease: take the best one
      for (std::size_t i = 0; i < dim; ++i)
        x[i] += best_t * d[i];
      F = best_F;
      g.swap(best_g);
      return best_t;
    }
    return 0.0;
  };

  int mode = 0;           // 0: L-BFGS, 1: steepest descent after a reset, 2: ε-subgradient
  bool periodic = false;  // mode 2 entered by the schedule (every mix_every iterations)
  while (true) {
    if (stats.iterations >= p.max_it) return LbfgsStop::max_it;
    if (stats.evaluations >= p.max_evaluations) return LbfgsStop::max_evaluations;
    double t0 = 1;
    if (mode == 0 && !S.empty()) {
      // Two-loop recursion: d = −H g.
      q = g;
      std::vector<double> alpha(S.size());
      for (std::size_t i = S.size(); i-- > 0;) {
        alpha[i] = rho[i] * dot(S[i], q);
        for (std::size_t e = 0; e < dim; ++e)
          q[e] -= alpha[i] * Y[i][e];
      }
      const double scale = dot(S.back(), Y.back()) / dot(Y.back(), Y.back());
      for (std::size_t e = 0; e < dim; ++e)
        q[e] *= scale;
      for (std::size_t i = 0; i < S.size(); ++i) {
        const double beta = rho[i] * dot(Y[i], q);
        for (std::size_t e = 0; e < dim; ++e)
          q[e] += (alpha[i] - beta) * S[i][e];
      }
      for (std::size_t e = 0; e < dim; ++e)
        d[e] = -q[e];
    } else if (mode == 2) {
      // ε-subgradient step: the min-norm mixture residual of the near-tied selections, for
      // growing ε; the first direction that descends is taken.
      bool moved = false;
      for (double eps = p.eps_min; eps <= p.eps_max * 1.000001; eps *= 10) {
        const double measure = mix(x, g, eps, q);
        if (eps == p.eps_min || measure < stats.stationarity) stats.stationarity = measure;
        if (measure <= p.stationarity_tol) return LbfgsStop::stationary;
        if (periodic && measure > 0.5 * detail::norm1(g)) continue;  // no kink worth a step
        for (std::size_t e = 0; e < dim; ++e)
          d[e] = -q[e];
        const double dgm = dot(g, d);
        if (!(dgm < 0)) continue;
        const double dn = std::sqrt(dot(d, d));
        const std::vector<double> x_old = x, g_old = g;
        if (line_search(std::min(1.0, 1.0 / std::max(dn, 1e-300)), dgm) > 0) {
          moved = true;
          break;
        }
      }
      if (!moved && periodic) {  // a scheduled check: carry on with L-BFGS
        periodic = false;
        mode = 0;
        continue;
      }
      if (!moved) {
        return stats.stationarity <= p.stationarity_tol ? LbfgsStop::stationary
                                                        : LbfgsStop::line_search;
      }
      ++stats.bundle_steps;
      ++stats.iterations;
      if (!periodic) {
        S.clear();
        Y.clear();
        rho.clear();
      }
      periodic = false;
      mode = 0;
      monitor(stats.iterations, F, g, 0.0);
      if (converged(why)) return why;
      continue;
    } else {
      S.clear();
      Y.clear();
      rho.clear();
      for (std::size_t e = 0; e < dim; ++e)
        d[e] = -g[e];
      double ginf = 0;
      for (double v : g)
        ginf = std::max(ginf, std::abs(v));
      t0 = 1.0 / std::max(ginf, 1e-300) * std::min(1.0, ginf);
    }
    double dg = dot(g, d);
    if (!(dg < 0)) {  // not a descent direction (round-off in H): steepest descent
      if (mode == 0) {
        mode = 1;
        continue;
      }
      if (mode == 1) {
        mode = 2;
        continue;
      }
      return detail::norm1(q) <= p.stationarity_tol ? LbfgsStop::stationary
                                                    : LbfgsStop::line_search;
    }
    const std::vector<double> x_old = x, g_old = g;
    const double step = line_search(t0, dg);
    if (step == 0) {
      if (mode == 0) {
        ++stats.restarts;
        mode = 1;
      } else if (mode == 1) {
        mode = 2;
      } else {
        return stats.stationarity <= p.stationarity_tol ? LbfgsStop::stationary
                                                        : LbfgsStop::line_search;
      }
      continue;
    }
    ++stats.iterations;
    // Memory update (skipped unless the curvature sᵀy is safely positive).
    std::vector<double> s(dim), y(dim);
    for (std::size_t e = 0; e < dim; ++e) {
      s[e] = x[e] - x_old[e];
      y[e] = g[e] - g_old[e];
    }
    const double sy = dot(s, y);
    if (sy > 1e-12 * std::sqrt(dot(s, s) * dot(y, y)) && sy > 0) {
      if (static_cast<int>(S.size()) == p.history) {
        S.erase(S.begin());
        Y.erase(Y.begin());
        rho.erase(rho.begin());
      }
      S.push_back(std::move(s));
      Y.push_back(std::move(y));
      rho.push_back(1.0 / sy);
    }
    mode = 0;
    monitor(stats.iterations, F, g, step);
    if (converged(why)) return why;
    if (p.mix_every > 0 && stats.iterations % p.mix_every == 0) {
      mode = 2;
      periodic = true;
    }
  }
}

}  // namespace parot::sparse
