// SPDX-License-Identifier: BSD-3-Clause
// Unbalanced Sinkhorn with translation-invariant half-steps (see unbalanced.hpp and
// ../shared/reference/unbalanced.md §3-§5).
#include "parot/solver/unbalanced.hpp"

#include <cmath>
#include <cstdio>
#include <limits>
#include <vector>

#include "parot/core/comm.hpp"
#include "parot/core/error.hpp"
#include "parot/core/log.hpp"
#include "parot/core/signals.hpp"
#include "solver/entropic/final_plan.hpp"
#include "solver/entropic/sweeps.hpp"

namespace parot {

namespace {

constexpr double inf = std::numeric_limits<double>::infinity();

// The constants of one side: κ = τ/(τ+ε) (1 for τ = ∞), and 1/τ (0 for τ = ∞).
struct Side {
  double tau, kappa, inv_tau;
  Side(double t, double eps)
      : tau(t), kappa(std::isinf(t) ? 1.0 : t / (t + eps)), inv_tau(std::isinf(t) ? 0.0 : 1 / t) {}
};

// h = (τ_x+ε)τ_y/(τ_x+ε+τ_y): the step of the optimal translation after an x-side update.
double shift_factor(const Side& x, const Side& y, double eps) {
  if (std::isinf(y.tau)) return x.tau + eps;
  if (std::isinf(x.tau)) return y.tau;
  return (x.tau + eps) * y.tau / (x.tau + eps + y.tau);
}

// The dual term of one side at potential x with weight w: τ w (1 − e^{−x/τ}), or w x for τ = ∞.
double dual_term(const Side& s, double w, double x) {
  return std::isinf(s.tau) ? w * x : -s.tau * w * std::expm1(-x * s.inv_tau);
}

// log Σ_k exp(v_k) of replicated values (−∞ entries skipped).
double lse(const std::vector<double>& v) {
  double top = -inf;
  for (double x : v)
    top = std::max(top, x);
  if (top == -inf) return -inf;
  double s = 0;
  for (double x : v)
    s += std::exp(x - top);
  return top + std::log(s);
}

}  // namespace

UnbalancedSinkhornSolver::UnbalancedSinkhornSolver(MPI_Comm comm, SolveParams params)
    : comm_(comm) {
  validate(params);
  PAROT_CHECK(params.unbalanced(), InvalidArgument,
              "the unbalanced solver needs a finite -reg_m (or -reg_m_source / -reg_m_target)");
  params_ = params;
}

namespace {

// The reduction buffer of one iteration: m column pairs, the translation's log-sum pair, five
// sums riding as (0, x) pairs and the elapsed time as a (x, 0) maximum.
enum Slot : int {
  log_a_pair = 0,
  nan_flag,
  signal_flag,
  row_error,
  row_mass_sum,
  dual_rows,
  elapsed,
  slots
};

struct Iteration {
  std::vector<double> pairs;
  explicit Iteration(lindex m) : pairs(2 * static_cast<std::size_t>(m + slots)) {}
  double* slot(lindex m, Slot k) { return &pairs[2 * static_cast<std::size_t>(m + k)]; }
  void set_sum(lindex m, Slot k, double x) { slot(m, k)[0] = 0.0, slot(m, k)[1] = x; }
  double sum(lindex m, Slot k) { return slot(m, k)[1]; }
};

}  // namespace

SolveResult UnbalancedSinkhornSolver::solve(const Problem& problem, Solution& solution) {
  validate(params_);
  MPI_Comm comm = problem.comm();
  const double t0 = wall_time();
  const Cost& cost = problem.cost;
  const lindex n = problem.source.layout.local_size(), m = problem.m();
  // The measures with their own masses (finalize_problem normalized each side to 1).
  const Vector a = problem.source.weights * problem.source_mass;
  const Vector b = problem.target.weights * problem.target_mass;
  SolveResult result;
  result.solver = "sinkhorn_unbalanced";
  result.max_cost = cost.max_value(comm);
  const double eps = absolute_reg(params_, result.max_cost);
  result.reg = eps;
  result.reg_relative = result.max_cost > 0 ? eps / result.max_cost : 0;
  const Side sa(params_.reg_m_source, eps), sb(params_.reg_m_target, eps);
  const double ha = shift_factor(sa, sb, eps), hb = shift_factor(sb, sa, eps);

  Vector& f = solution.f;
  Vector& g = solution.g;
  if (f.size() != n) f = Vector::Zero(n);
  if (g.size() != m) g = Vector::Zero(m);
  for (lindex i = 0; i < n; ++i)
    if (a[i] <= 0) f[i] = -inf;
  for (lindex j = 0; j < m; ++j)
    if (b[j] <= 0) g[j] = -inf;
  long it = 0;
  bool after_g_step = false;  // the column part of the gradient is 0 only after a g-step
  if (const SolverState* resume = checkpointing().resume_in("sinkhorn_unbalanced")) {
    check_resume(*resume, eps, result.max_cost);
    PAROT_CHECK(resume->f.size() == n && resume->g.size() == m, InternalError,
                "checkpoint potentials of the wrong size");
    f = resume->f;
    g = resume->g;
    it = resume->iteration;
    result.history = resume->history;
    after_g_step = true;
  }
  const auto state = [&] {
    SolverState s;
    s.phase = "sinkhorn_unbalanced";
    s.reg = eps;
    s.max_cost = result.max_cost;
    s.f = f;
    s.g = g;
    s.history = result.history;
    return s;
  };

  entropic::Workspace ws(m);
  entropic::LsePairReduction reduction;
  Iteration step(m);
  Vector R = Vector::Constant(n, std::numeric_limits<double>::quiet_NaN()), f_hat(n), f_old(n);
  std::vector<double> logs(static_cast<std::size_t>(m));
  Reason reason = Reason::iterating;
  double err = inf, objective = 0;
  while (reason == Reason::iterating) {
    // Row pass against the current g: R_i = LSE_j((g_j − C_ij)/ε). The pair (f, g) of the last
    // g-step has the row marginal r_i = exp(f_i/ε + R_i): its stopping sums cost nothing more.
    entropic::row_lse(cost, g, eps, R, ws);
    double row_err = 0, row_mass = 0, dual = 0, top = -inf, sum = 0;
    bool bad = false;
    for (lindex i = 0; i < n; ++i) {
      f_old[i] = f[i];
      if (a[i] <= 0) continue;
      const double r = std::exp(f[i] / eps + R[i]);
      row_err += std::abs(a[i] * std::exp(-f[i] * sa.inv_tau) - r);
      row_mass += r;
      dual += dual_term(sa, a[i], f[i]);
      f_hat[i] = eps * (std::log(a[i]) - R[i]);  // the balanced row map
      bad = bad || !std::isfinite(f_hat[i]);
      top = std::max(top, std::log(a[i]) - f_hat[i] / (sa.tau + eps));
    }
    for (lindex i = 0; i < n; ++i)
      if (a[i] > 0) {
        sum += std::exp(std::log(a[i]) - f_hat[i] / (sa.tau + eps) - top);
        f[i] = sa.kappa * f_hat[i];  // f̃: the translation κ_a λ is added after the reduction
      }
    entropic::col_lse_partial(cost, f, eps, ws);
    for (lindex j = 0; j < m; ++j) {
      step.pairs[2 * j] = ws.cmax[j];
      step.pairs[2 * j + 1] = ws.csum[j];
    }
    step.slot(m, log_a_pair)[0] = top;  // log A = LSE_i(log a_i − f̂_i/(τ_a+ε)), a true pair
    step.slot(m, log_a_pair)[1] = top == -inf ? 0.0 : sum;
    step.set_sum(m, nan_flag, bad ? 1.0 : 0.0);
    step.set_sum(m, signal_flag, pending_signal() != 0 ? 1.0 : 0.0);
    step.set_sum(m, row_error, row_err);
    step.set_sum(m, row_mass_sum, row_mass);
    step.set_sum(m, dual_rows, dual);
    step.slot(m, elapsed)[0] = wall_time() - t0;
    step.slot(m, elapsed)[1] = 0.0;
    reduction.allreduce(comm, step.pairs.data(), static_cast<int>(m + slots));
    ++it;

    // The stopping data of (f_old, g), identical on every rank.
    err = after_g_step ? step.sum(m, row_error) : inf;
    objective = step.sum(m, dual_rows) - eps * step.sum(m, row_mass_sum);
    for (lindex j = 0; j < m; ++j)
      if (b[j] > 0) objective += dual_term(sb, b[j], g[j]);
    const bool nan = step.sum(m, nan_flag) > 0 || std::isnan(step.sum(m, row_error));
    if (nan) {
      reason = Reason::diverged_nan;
      result.failed_iteration = it;
    } else if (err <= params_.atol) {
      reason = Reason::converged_atol;
    } else if (it >= params_.max_it) {
      reason = Reason::diverged_max_it;
    }
    if (it % params_.check_every == 0 || reason != Reason::iterating) {
      IterationRecord record;
      record.iteration = it;
      record.reg = eps;
      record.marginal_error = err;
      record.objective = objective;
      record.step = 1.0;
      record.wall_time = step.slot(m, elapsed)[0];
      result.history.push_back(record);
      if (params_.monitor) {
        char line[160];
        std::snprintf(line, sizeof line, "%8ld  reg %.3e  dual gradient %.6e  dual %.12e  %.3f s",
                      it, eps, err, objective, record.wall_time);
        print_root(comm, line);
      }
    }
    if (reason != Reason::iterating) {
      f = f_old;  // the pair the stopping data belongs to
      break;
    }

    // The translation λ of the f-step, then the g-step with its translation μ (§4).
    const double log_A = step.slot(m, log_a_pair)[0] + std::log(step.slot(m, log_a_pair)[1]);
    for (lindex j = 0; j < m; ++j)
      logs[j] = b[j] > 0 ? std::log(b[j]) - g[j] * sb.inv_tau : -inf;
    const double lambda = ha * (log_A - lse(logs));
    for (lindex i = 0; i < n; ++i)
      if (a[i] > 0) f[i] += sa.kappa * lambda;
    for (lindex j = 0; j < m; ++j) {
      const double L =
          step.pairs[2 * j] + std::log(step.pairs[2 * j + 1]) + sa.kappa * lambda / eps;
      g[j] = b[j] > 0 ? eps * (std::log(b[j]) - L) : -inf;  // ĝ
      logs[j] = b[j] > 0 ? std::log(b[j]) - g[j] / (sb.tau + eps) : -inf;
    }
    const double mu = hb * (lse(logs) - (log_A - lambda / (sa.tau + eps)));
    for (lindex j = 0; j < m; ++j)
      if (b[j] > 0) g[j] = sb.kappa * (g[j] + mu);
    for (lindex i = 0; i < n; ++i)
      if (a[i] > 0) f[i] -= mu;
    after_g_step = true;
    checkpointing().at_iteration(problem, it, step.sum(m, signal_flag), state);
  }

  result.reason = reason;
  result.iterations = it;
  result.sinkhorn_iterations = it;
  entropic::record_final_plan(problem, f, g, eps, params_.plan_threshold, result);
  result.marginal_error = err;  // the dual gradient; its column part is 0 after a g-step
  result.source_marginal_error = err;
  result.target_marginal_error = 0;
  result.objective = objective;
  result.extra["reg_m_source"] = params_.reg_m_source;
  result.extra["reg_m_target"] = params_.reg_m_target;
  result.extra["transported_mass"] = result.plan_mass;
  result.extra["dual_objective"] = objective;
  result.solve_time = allreduce_max(comm, wall_time() - t0);
  if (params_.error_if_not_converged && !converged(reason))
    throw NotConverged(detail::cat("unbalanced Sinkhorn did not converge: ", to_string(reason),
                                   " after ", it, " iterations (dual gradient ", err, ")"),
                       true);
  return result;
}

}  // namespace parot
