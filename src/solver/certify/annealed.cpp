// SPDX-License-Identifier: BSD-3-Clause
// ε-annealing with a certificate after every stage (annealed.hpp).
#include "parot/solver/annealed.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "coarsen.hpp"
#include "parot/core/comm.hpp"
#include "parot/core/error.hpp"
#include "parot/core/log.hpp"
#include "parot/core/memory.hpp"
#include "parot/core/options.hpp"
#include "parot/solver/certify.hpp"
#include "truncated.hpp"

namespace parot {

void validate(const AnnealParams& p) {
  PAROT_CHECK(p.multiscale_min >= 0, InvalidArgument,
              "option -ot_multiscale_min must be >= 0, got ", p.multiscale_min);
  PAROT_CHECK(
      p.truncation_depth == 0 || (std::isfinite(p.truncation_depth) && p.truncation_depth >= 10),
      InvalidArgument, "option -ot_truncation must be 0 (off) or at least 10, got ",
      p.truncation_depth);
  PAROT_CHECK(p.truncation_fraction >= 0 && p.truncation_fraction <= 1, InvalidArgument,
              "option -ot_truncation_fraction must be in [0, 1], got ", p.truncation_fraction);
  PAROT_CHECK(std::isfinite(p.eps_start) && p.eps_start > 0, InvalidArgument,
              "option -ot_eps_start must be positive, got ", p.eps_start);
  PAROT_CHECK(p.eps_factor > 0 && p.eps_factor < 1, InvalidArgument,
              "option -ot_eps_factor must be in (0, 1), got ", p.eps_factor);
  PAROT_CHECK(std::isfinite(p.eps_min) && p.eps_min > 0, InvalidArgument,
              "option -ot_eps_min must be positive, got ", p.eps_min);
}

AnnealedSolver::AnnealedSolver(MPI_Comm comm, std::unique_ptr<Solver> inner, SolveParams params)
    : comm_(comm), inner_(std::move(inner)) {
  PAROT_CHECK(inner_ != nullptr, InvalidArgument, "near-exact OT needs an inner solver");
  validate(params);
  params_ = params;
}

void AnnealedSolver::set_from_options() {
  OptionsBlock block(comm_, options_prefix(), "near-exact OT (-ot_rtol) options");
  block.real("ot_eps_start", "first stage's reg, relative to the largest cost", anneal_.eps_start);
  block.real("ot_eps_factor", "ratio of consecutive reg stages, in (0, 1)", anneal_.eps_factor);
  block.real("ot_eps_min", "smallest reg, relative to the largest cost (-reg overrides)",
             anneal_.eps_min);
  block.real("ot_truncation",
             "truncated stages drop plan entries below e^-T of their row and column maxima "
             "(0: never truncate)",
             anneal_.truncation_depth);
  block.real("ot_truncation_fraction",
             "largest kept fraction of n m for which a stage runs on the truncated kernel",
             anneal_.truncation_fraction);
  block.integer("ot_multiscale_min",
                "problems with more than this many points on both sides start from a coarse "
                "grid problem (0: never)",
                anneal_.multiscale_min);
  block.read();
  validate(anneal_);
  inner_->set_options_prefix(options_prefix());
  inner_->set_from_options();
}

SolveResult AnnealedSolver::truncated_stage(const Problem& problem, Solution& solution,
                                            truncated::Support support, double eps, double atol,
                                            long it0, double t0, double budget) {
  SolveResult out;
  out.solver = "truncated";
  out.reason = Reason::iterating;
  const double depth = anneal_.truncation_depth;
  for (int round = 0;; ++round) {
    const truncated::Outcome stage = truncated::sinkhorn(
        problem, support, solution.f, solution.g, eps, atol, params_.max_it - it0 - out.iterations,
        params_.check_every, params_.monitor, it0 + out.iterations, t0, checkpointing(),
        out.history);
    out.iterations += stage.iterations;
    out.reason = stage.reason;
    out.objective = stage.objective;
    if (stage.reason == Reason::diverged_nan) out.failed_iteration = out.iterations;
    if (stage.reason != Reason::converged_atol && stage.reason != Reason::diverged_stalled) break;
    if (round == 8) break;  // the certificate holds anyway; it may be looser
    // Converged: would the potentials found keep entries the support dropped? Entries within
    // e^-(depth−5) of their row or column maximum must all be in it; if not, solve again on
    // the support of the new potentials. Stalled: rebuild from the drifted potentials.
    if (stage.reason == Reason::converged_atol) {
      if (round >= 2) break;
      const truncated::Support check =
          truncated::build(problem, solution.f, solution.g, eps, depth - 5, budget);
      if (check.stored() && truncated::missing_entries(problem, support, check) == 0) break;
    }
    truncated::Support fresh =
        truncated::build(problem, solution.f, solution.g, eps, depth, budget);
    if (!fresh.stored()) break;
    if (params_.monitor) {
      char line[160];
      std::snprintf(line, sizeof line, "          support rebuilt (%s): %.3e entries kept",
                    stage.reason == Reason::converged_atol ? "entries were missing" : "stalled",
                    fresh.kept);
      print_root(problem.comm(), line);
    }
    support = std::move(fresh);
  }
  out.sinkhorn_iterations = out.iterations;
  if (out.reason != Reason::diverged_nan) {
    const truncated::PlanSummary plan =
        truncated::summarize(problem, support, solution.f, solution.g, eps);
    out.transport_cost = plan.transport_cost;
    out.plan_mass = plan.mass;
    out.source_marginal_error = plan.row_error;
    out.target_marginal_error = plan.col_error;
    out.marginal_error = plan.row_error + plan.col_error;
  }
  return out;
}

SolveResult AnnealedSolver::solve(const Problem& problem, Solution& solution) {
  validate(params_);
  validate(anneal_);
  MPI_Comm comm = problem.comm();
  const double t0 = wall_time();
  const Checkpointing& ck = checkpointing();
  PAROT_CHECK(!ck.store && !ck.resume, InvalidArgument,
              "-checkpoint and -restart do not support -ot_rtol yet");
  inner_->set_checkpointing(checkpointing_);  // signals still stop every stage cleanly
  const double max_cost = problem.cost.max_value(comm);
  PAROT_CHECK(max_cost > 0, InvalidArgument,
              "-ot_rtol needs a positive largest cost; every cost is ", max_cost);
  const double floor =
      params_.reg > 0 ? absolute_reg(params_, max_cost) : anneal_.eps_min * max_cost;
  double eps = std::max(anneal_.eps_start * max_cost, floor);

  SolveResult result;
  result.solver = type();
  result.max_cost = max_cost;
  result.has_bounds = true;
  const double entries = static_cast<double>(problem.n()) * static_cast<double>(problem.m());
  // A truncated stage holds its support and, while rebuilding, a second one: together at most a
  // quarter of the memory (-max_memory per rank).
  const double budget =
      std::min(anneal_.truncation_fraction * entries,
               0.125 * memory_limit() * comm_size(comm) / (sizeof(double) + sizeof(std::int32_t)));
  long it = 0;
  double upper = -1;  // none yet
  Reason reason = Reason::iterating;

  // Multiscale start: solve the problem binned on a grid (recursively), lift its potentials and
  // continue from its last ε, so that the large-ε stages never touch the full kernel.
  const bool fresh =
      solution.f.size() != problem.cost.local_rows() || solution.g.size() != problem.cost.cols();
  bool lifted = false;
  if (anneal_.multiscale_min > 0 && fresh && multiscale::applicable(problem) &&
      std::min(problem.n(), problem.m()) > anneal_.multiscale_min) {
    const double points = static_cast<double>(std::min(problem.n(), problem.m()));
    const lindex d = problem.target.dim();
    const long cells = std::max(
        2L, static_cast<long>(std::ceil(std::pow(points / std::pow(2.0, static_cast<double>(d)),
                                                 1.0 / static_cast<double>(d)))));
    const multiscale::Coarsening coarsening = multiscale::coarsen(problem, cells);
    if (params_.monitor) {
      char line[200];
      std::snprintf(line, sizeof line,
                    "multiscale: %ld x %ld points binned to %ld x %ld (%ld cells per dimension)",
                    static_cast<long>(problem.n()), static_cast<long>(problem.m()),
                    static_cast<long>(coarsening.coarse.n()),
                    static_cast<long>(coarsening.coarse.m()), cells);
      print_root(comm, line);
    }
    const SolveParams saved = params_;
    params_.plan_threshold = -1;
    params_.error_if_not_converged = false;
    Solution coarse_solution;
    const SolveResult coarse = solve(coarsening.coarse, coarse_solution);
    params_ = saved;
    if (coarse.reason != Reason::diverged_nan && coarse.reason != Reason::diverged_mass_loss) {
      multiscale::lift(coarsening, coarse_solution, problem, solution);
      eps = std::max(std::min(eps, coarse.reg), floor);
      multiscale::refine(problem, solution, eps);
      lifted = true;
    }
    it += coarse.iterations;
    result.sinkhorn_iterations += coarse.sinkhorn_iterations;
    result.newton_iterations += coarse.newton_iterations;
    result.truncated_stages += coarse.truncated_stages;
    result.history = coarse.history;
  }

  for (int stage = 0; reason == Reason::iterating; ++stage) {
    const double stage_atol = std::max(
        params_.atol, upper > 0 ? std::min(1e-3, 0.5 * params_.ot_rtol * upper / max_cost) : 1e-3);
    const bool warm =
        solution.f.size() == problem.cost.local_rows() && solution.g.size() == problem.cost.cols();
    truncated::Support support;
    if (anneal_.truncation_depth > 0 && warm)
      support =
          truncated::build(problem, solution.f, solution.g, eps, anneal_.truncation_depth, budget);
    // After the lift, a smaller ε rather than the full kernel when the support is too large.
    for (int tries = 0; lifted && stage == 0 && warm && anneal_.truncation_depth > 0 &&
                        !support.stored() && eps > floor && tries < 4;
         ++tries) {
      eps = std::max(eps * anneal_.eps_factor, floor);
      support =
          truncated::build(problem, solution.f, solution.g, eps, anneal_.truncation_depth, budget);
    }
    SolveResult inner;
    char kind[64];
    std::snprintf(kind, sizeof kind, "%s", inner_->type().c_str());
    if (support.stored()) {
      std::snprintf(kind, sizeof kind, "truncated kernel, %.2e of n m kept",
                    support.kept / entries);
      inner =
          truncated_stage(problem, solution, std::move(support), eps, stage_atol, it, t0, budget);
      ++result.truncated_stages;
    } else {
      SolveParams stage_params = params_;
      stage_params.reg = eps;
      stage_params.reg_relative = false;
      stage_params.atol = stage_atol;
      stage_params.max_it = params_.max_it - it;
      stage_params.error_if_not_converged = false;
      stage_params.plan_threshold = -1;
      stage_params.ot_rtol = 0;
      inner_->params() = stage_params;
      inner = inner_->solve(problem, solution);
      for (IterationRecord& record : inner.history)
        record.iteration += it;
    }

    result.history.insert(result.history.end(), inner.history.begin(), inner.history.end());
    it += inner.iterations;
    result.sinkhorn_iterations += inner.sinkhorn_iterations;
    result.newton_iterations += inner.newton_iterations;
    result.stored_kernel = result.stored_kernel || inner.stored_kernel;
    result.absorptions += inner.absorptions;
    result.reg = eps;
    result.transport_cost = inner.transport_cost;
    result.objective = inner.objective;
    result.marginal_error = inner.marginal_error;
    result.source_marginal_error = inner.source_marginal_error;
    result.target_marginal_error = inner.target_marginal_error;
    result.plan_mass = inner.plan_mass;
    if (inner.safeguard_from >= 0 && result.safeguard_from < 0)
      result.safeguard_from = inner.safeguard_from + it - inner.iterations;

    if (inner.reason == Reason::diverged_nan || inner.reason == Reason::diverged_mass_loss) {
      reason = inner.reason;  // the potentials are not usable
      result.failed_iteration = inner.failed_iteration + it - inner.iterations;
      break;
    }
    const bool last_plan = params_.plan_threshold >= 0;
    const Certificate cert =
        certify(problem, solution.f, solution.g, eps, last_plan ? params_.plan_threshold : -1.0);
    result.bounds = cert.bounds;
    result.plan = cert.plan;
    upper = cert.bounds.upper;
    const bool done = cert.bounds.gap() <= params_.ot_rtol;
    if (params_.monitor) {
      char line[320];
      std::snprintf(line, sizeof line,
                    "stage %2d  reg %.3e  %s after %ld iterations (error %.3e, %s)  "
                    "lower %.12e  upper %.12e  gap %.3e  %.3f s",
                    stage, eps, to_string(inner.reason).c_str(), inner.iterations,
                    inner.marginal_error, kind, cert.bounds.lower, cert.bounds.upper,
                    cert.bounds.gap(), allreduce_max(comm, wall_time() - t0));
      print_root(comm, line);
    }
    if (done)
      reason = Reason::converged_rtol;
    else if (it >= params_.max_it)
      reason = Reason::diverged_max_it;
    else if (eps <= floor)
      reason = Reason::diverged_reg_floor;
    // The interval's width shrinks about like ε: aim the next stage at 0.6 -ot_rtol, but never
    // below eps_factor times this stage (the warm start would be poor).
    const double aim = 0.6 * params_.ot_rtol / std::max(cert.bounds.gap(), 1e-300);
    eps = std::max(eps * std::max(anneal_.eps_factor, std::min(aim, 1.0)), floor);
  }

  result.reason = reason;
  result.iterations = it;
  result.reg_relative = result.reg / max_cost;
  result.has_plan = params_.plan_threshold >= 0 && result.reason != Reason::diverged_nan &&
                    result.reason != Reason::diverged_mass_loss;
  if (!result.has_plan) result.plan = SparsePlan{};
  result.solve_time = allreduce_max(comm, wall_time() - t0);
  if (params_.error_if_not_converged && !converged(reason))
    throw NotConverged(
        detail::cat("the certified interval did not reach -ot_rtol ", params_.ot_rtol, ": ",
                    to_string(reason), " (gap ", result.bounds.gap(), ")"),
        true);
  return result;
}

}  // namespace parot
