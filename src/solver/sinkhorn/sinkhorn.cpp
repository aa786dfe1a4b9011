// SPDX-License-Identifier: BSD-3-Clause
// Distributed log-domain Sinkhorn (sns.md §1.4 in POT's convention), with optional ε-scaling.
#include "parot/solver/sinkhorn.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <utility>
#include <vector>

#include "kernels/lse.hpp"
#include "parot/core/comm.hpp"
#include "parot/core/error.hpp"
#include "parot/core/log.hpp"
#include "parot/core/memory.hpp"
#include "parot/core/options.hpp"
#include "parot/core/signals.hpp"
#include "solver/entropic/final_plan.hpp"
#include "solver/entropic/stored_kernel.hpp"
#include "solver/entropic/sweeps.hpp"

namespace parot {

namespace {

constexpr double minus_inf = -std::numeric_limits<double>::infinity();

Vector safe_log(const Vector& w) {
  Vector out(w.size());
  for (lindex i = 0; i < w.size(); ++i)
    out[i] = w[i] > 0 ? std::log(w[i]) : minus_inf;
  return out;
}

// Σ w_i x_i over entries with positive weight (zero-weight points have x = −∞).
double weighted_sum(const Vector& w, const Vector& x) {
  double s = 0;
  for (lindex i = 0; i < w.size(); ++i)
    if (w[i] > 0) s += w[i] * x[i];
  return s;
}

// The ε of each stage: the target alone, or a geometric schedule from the largest cost down.
// Bounded whatever it is given: a factor outside (0, 1) or a schedule of more than
// max_eps_stages stages is an InvalidArgument, never an endless loop.
constexpr double max_eps_stages = 1e6;
std::vector<double> eps_schedule(const SinkhornParams& sp, double eps, double max_cost) {
  std::vector<double> stages;
  if (sp.eps_scaling && max_cost > eps) {
    const double factor = sp.eps_scaling_factor;
    PAROT_CHECK(factor > 0 && factor < 1, InvalidArgument,
                "option -eps_scaling_factor must be in (0, 1), got ", factor);
    PAROT_CHECK(std::isfinite(max_cost) && eps > 0, InvalidArgument,
                "ε-scaling needs a finite largest cost and a positive reg, got ", max_cost, " and ",
                eps);
    const double count = std::ceil(std::log(eps / max_cost) / std::log(factor));
    PAROT_CHECK(count <= max_eps_stages, InvalidArgument, "ε-scaling from ", max_cost, " down to ",
                eps, " by -eps_scaling_factor ", factor, " needs ", count,
                " stages (at most 1e6); use a smaller factor");
    for (double e = max_cost; e > eps && static_cast<double>(stages.size()) <= max_eps_stages;
         e *= factor)
      stages.push_back(e);
  }
  stages.push_back(eps);
  return stages;
}

}  // namespace

SinkhornSolver::SinkhornSolver(MPI_Comm comm, SolveParams params, SinkhornParams sinkhorn)
    : comm_(comm), sinkhorn_(std::move(sinkhorn)) {
  validate(params);
  validate(sinkhorn_);
  params_ = params;
}

void SinkhornSolver::set_from_options() {
  OptionsBlock block(comm_, options_prefix(), "Sinkhorn options");
  block.boolean("eps_scaling", "anneal ε from the largest cost down to -reg",
                sinkhorn_.eps_scaling);
  block.real("eps_scaling_factor", "ratio between consecutive ε stages, in (0, 1)",
             sinkhorn_.eps_scaling_factor);
  block.real("eps_scaling_inner_atol", "marginal error that ends an intermediate stage",
             sinkhorn_.eps_scaling_inner_atol);
  block.integer("sinkhorn_stall_it", "iterations without progress before stopping (0: never)",
                sinkhorn_.stall_it);
  block.choice("sinkhorn_stored_kernel", "iterate on a stored absorbed kernel",
               {"auto", "yes", "no"}, sinkhorn_.stored_kernel);
  block.real("sinkhorn_stored_kernel_max_mb", "memory per rank for the stored kernel (auto)",
             sinkhorn_.stored_kernel_max_mb);
  block.read();
  validate(sinkhorn_);
}

void validate(const SinkhornParams& sp) {
  PAROT_CHECK(sp.eps_scaling_factor > 0 && sp.eps_scaling_factor < 1, InvalidArgument,
              "option -eps_scaling_factor must be in (0, 1), got ", sp.eps_scaling_factor);
  PAROT_CHECK(std::isfinite(sp.eps_scaling_inner_atol) && sp.eps_scaling_inner_atol > 0,
              InvalidArgument, "option -eps_scaling_inner_atol must be positive, got ",
              sp.eps_scaling_inner_atol);
  PAROT_CHECK(sp.stall_it >= 0, InvalidArgument, "option -sinkhorn_stall_it must be >= 0, got ",
              sp.stall_it);
  PAROT_CHECK(sp.stored_kernel == "auto" || sp.stored_kernel == "yes" || sp.stored_kernel == "no",
              InvalidArgument, "option -sinkhorn_stored_kernel must be auto, yes or no, got '",
              sp.stored_kernel, "'");
  PAROT_CHECK(std::isfinite(sp.stored_kernel_max_mb) && sp.stored_kernel_max_mb >= 0,
              InvalidArgument, "option -sinkhorn_stored_kernel_max_mb must be >= 0, got ",
              sp.stored_kernel_max_mb);
}

SolveResult SinkhornSolver::solve(const Problem& problem, Solution& solution) {
  validate(params_);
  validate(sinkhorn_);
  MPI_Comm comm = problem.comm();
  const double t0 = wall_time();
  const Cost& cost = problem.cost;
  const lindex n = problem.source.layout.local_size();
  const lindex m = problem.m();
  const Vector& a = problem.source.weights;
  const Vector& b = problem.target.weights;
  const Vector log_a = safe_log(a), log_b = safe_log(b);

  SolveResult result;
  result.solver = type();
  result.max_cost = cost.max_value(comm);
  const double eps = absolute_reg(params_, result.max_cost);
  result.reg = eps;
  result.reg_relative = result.max_cost > 0 ? eps / result.max_cost : 0;
  PAROT_CHECK(sinkhorn_.eps_scaling_inner_atol >= params_.atol || !sinkhorn_.eps_scaling,
              InvalidArgument, "-eps_scaling_inner_atol (", sinkhorn_.eps_scaling_inner_atol,
              ") must not be below -atol (", params_.atol, ")");

  Vector& f = solution.f;
  Vector& g = solution.g;
  if (f.size() != n) f = Vector::Zero(n);
  if (g.size() != m) g = Vector::Zero(m);
  // An initial guess may be given for the potentials, but zero-weight points stay at −∞.
  for (lindex j = 0; j < m; ++j)
    if (b[j] <= 0) g[j] = minus_inf;

  const std::vector<double> stages = eps_schedule(sinkhorn_, eps, result.max_cost);
  entropic::Workspace ws(m);
  entropic::LsePairReduction reduction;
  std::vector<double> pairs(2 * static_cast<std::size_t>(m) + 6);
  // Shifts of the one-pass log-sum-exps: the previous row and column LSEs (NaN: none yet).
  constexpr double none = std::numeric_limits<double>::quiet_NaN();
  Vector lse = Vector::Constant(n, none);
  std::vector<double> col_shift(static_cast<std::size_t>(m), none);
  bool have_col_shift = false;
  // The stored kernel, where it fits on every rank (a replicated decision).
  // Under auto it must also leave half of -max_memory free; "yes" is checked against all of it.
  const double kernel_mb = static_cast<double>(n) * static_cast<double>(m) * 8.0 / (1 << 20);
  if (sinkhorn_.stored_kernel == "yes")
    check_memory(comm, kernel_mb * (1 << 20), "the stored kernel (-sinkhorn_stored_kernel yes)");
  const bool use_kernel =
      sinkhorn_.stored_kernel == "yes" ||
      (sinkhorn_.stored_kernel == "auto" &&
       allreduce_max(comm, kernel_mb) <=
           std::min(sinkhorn_.stored_kernel_max_mb, 0.5 * memory_limit() / (1 << 20)));
  entropic::StoredKernel kernel;
  double kernel_eps = 0;
  result.stored_kernel = use_kernel;

  std::size_t stage = 0;
  double best = std::numeric_limits<double>::infinity();
  long best_it = 0;
  double last_err = std::numeric_limits<double>::quiet_NaN();
  long last_it = 0;
  long it = 0;
  Reason reason = Reason::iterating;
  const SolverState* resume = checkpointing().resume_in("sinkhorn");
  if (resume) {  // continue at the iteration after the checkpoint, with its potentials
    check_resume(*resume, eps, result.max_cost);
    PAROT_CHECK(resume->f.size() == n && resume->g.size() == m, InternalError,
                "checkpoint potentials of the wrong size");
    f = resume->f;
    g = resume->g;
    it = resume->iteration;
    stage = static_cast<std::size_t>(resume->scalar("stage"));
    PAROT_CHECK(stage < stages.size() && stages[stage] == resume->scalar("stage_reg"), InvalidInput,
                "the checkpoint's ε stage (reg ", resume->scalar("stage_reg"),
                ") is not in this run's schedule; give the same -eps_scaling options to resume");
    best = resume->scalar("best_error");
    best_it = static_cast<long>(resume->scalar("best_iteration"));
    result.absorptions = static_cast<long>(resume->scalar("absorptions"));
    result.history = resume->history;
  }
  const auto state = [&] {
    SolverState s;
    s.phase = "sinkhorn";
    s.reg = eps;
    s.max_cost = result.max_cost;
    s.scalars = {{"stage", double(stage)},
                 {"stage_reg", stages[stage]},
                 {"best_error", best},
                 {"best_iteration", double(best_it)},
                 {"absorptions", double(result.absorptions)}};
    s.f = f;
    s.g = g;
    s.history = result.history;
    return s;
  };
  while (reason == Reason::iterating) {
    const double e = stages[stage];
    const bool final_stage = stage + 1 == stages.size();
    // f-update (exact row marginals), then partial column log-sum-exps of the new plan.
    bool bad = false;
    if (use_kernel) {
      if (kernel_eps != e) {  // first iteration, or a new ε stage
        if (kernel_eps != 0) ++result.absorptions;
        kernel.absorb(cost, f, g, e);
        kernel_eps = e;
      }
      kernel.sweep(cost, log_a, g, e, f, ws, bad);
    } else {
      entropic::row_lse(cost, g, e, lse, ws);
      for (lindex i = 0; i < n; ++i) {
        f[i] = e * (log_a[i] - lse[i]);
        bad = bad || std::isnan(f[i]) || f[i] == std::numeric_limits<double>::infinity();
      }
      entropic::col_lse_partial(cost, f, e, ws, have_col_shift ? col_shift.data() : nullptr);
    }
    // Column pairs + NaN flag + Σ a f + elapsed, in one reduction.
    const auto reduce_columns = [&] {
      for (lindex j = 0; j < m; ++j) {
        pairs[2 * j] = ws.cmax[j];
        pairs[2 * j + 1] = ws.csum[j];
      }
      pairs[2 * m] = bad ? 1.0 : 0.0;
      pairs[2 * m + 1] = pending_signal() != 0 ? 1.0 : 0.0;  // a plain sum unless NaN (stop)
      pairs[2 * m + 2] = 0.0;
      pairs[2 * m + 3] = weighted_sum(a, f);
      pairs[2 * m + 4] = wall_time() - t0;
      pairs[2 * m + 5] = 0.0;
      reduction.allreduce(comm, pairs.data(), static_cast<int>(m) + 3);
    };
    reduce_columns();
    if (use_kernel || have_col_shift) {
      // Sums against a shift: trusted only in range. The reduced sums are replicated, so every
      // rank takes the same branch; the fallback is the exact streaming maximum.
      bool shifted_ok = true;
      for (lindex j = 0; j < m; ++j)
        shifted_ok = shifted_ok && std::isfinite(pairs[2 * j + 1]) &&
                     kernels::shifted_sum_ok(pairs[2 * j + 1]);
      if (!shifted_ok && pairs[2 * m] == 0) {
        entropic::col_lse_partial(cost, f, e, ws);
        reduce_columns();
      }
    }
    ++it;

    // Column error of the plan (f, g): Pᵀ1_j = exp(g_j/e + LSE_j), identical on all ranks.
    double err = 0;
    for (lindex j = 0; j < m; ++j) {
      const double l = pairs[2 * j] + std::log(pairs[2 * j + 1]);
      const double col = b[j] > 0 ? std::exp(g[j] / e + l) : 0.0;
      err += std::abs(col - b[j]);
      pairs[2 * j] = l;  // keep LSE_j for the g-update
      col_shift[j] = l;
    }
    have_col_shift = true;
    const bool nan = pairs[2 * m] > 0 || std::isnan(err);
    const double objective = pairs[2 * m + 3] + weighted_sum(b, g);
    const double elapsed = pairs[2 * m + 4];
    const double signalled = nan ? 0.0 : pairs[2 * m + 1];

    if (nan) {
      reason = Reason::diverged_nan;
      result.failed_iteration = it;
    } else if (err <= (final_stage ? params_.atol : sinkhorn_.eps_scaling_inner_atol)) {
      if (final_stage) reason = Reason::converged_atol;
    } else if (it >= params_.max_it) {
      reason = Reason::diverged_max_it;
    } else if (final_stage && sinkhorn_.stall_it > 0) {
      if (err < best * (1 - 1e-4)) {
        best = err;
        best_it = it;
      } else if (it - best_it >= sinkhorn_.stall_it) {
        reason = Reason::diverged_stalled;
        result.failed_iteration = it;
      }
    }

    if (it % params_.check_every == 0 || reason != Reason::iterating) {
      IterationRecord record;
      record.iteration = it;
      record.reg = e;
      record.marginal_error = err;
      record.objective = objective;
      record.step = 1.0;
      record.wall_time = elapsed;
      result.history.push_back(record);
      if (params_.monitor) {
        const double rate = last_it > 0 && last_err > 0 && err > 0
                                ? std::pow(err / last_err, 1.0 / double(it - last_it))
                                : std::numeric_limits<double>::quiet_NaN();
        char line[200];
        std::snprintf(line, sizeof line,
                      "%8ld  reg %.3e  error %.6e  objective %.12e  rate %.6f  %.3f s", it, e, err,
                      objective, rate, elapsed);
        print_root(comm, line);
      }
      last_err = err;
      last_it = it;
    }
    if (reason != Reason::iterating) break;
    if (err <= sinkhorn_.eps_scaling_inner_atol && !final_stage) {
      ++stage;                // the next f-update starts the smaller ε from these potentials
      lse.setConstant(none);  // shifts of another ε: start the new stage with exact maxima
      have_col_shift = false;
      best = std::numeric_limits<double>::infinity();
      best_it = it;
    } else {
      // g-update: exact column marginals.
      for (lindex j = 0; j < m; ++j)
        g[j] = b[j] > 0 ? e * (log_b[j] - pairs[2 * j]) : minus_inf;
      if (use_kernel && kernel.needs_absorption(g, e)) {
        kernel.absorb(cost, f, g, e);
        ++result.absorptions;
      }
    }
    // The state here is (g, stage): the next iteration starts from it, as a resumed run does.
    checkpointing().at_iteration(problem, it, signalled, state);
  }

  result.reason = reason;
  result.iterations = it;
  result.sinkhorn_iterations = it;
  entropic::record_final_plan(problem, f, g, eps, params_.plan_threshold, result);
  result.solve_time = allreduce_max(comm, wall_time() - t0);
  if (params_.error_if_not_converged && !converged(reason))
    throw NotConverged(detail::cat("Sinkhorn did not converge: ", to_string(reason), " after ", it,
                                   " iterations (marginal error ", result.marginal_error, ")"),
                       true);
  return result;
}

}  // namespace parot
