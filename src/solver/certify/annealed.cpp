// SPDX-License-Identifier: BSD-3-Clause
// ε-annealing with a certificate after every stage (annealed.hpp).
#include "parot/solver/annealed.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "parot/core/comm.hpp"
#include "parot/core/error.hpp"
#include "parot/core/log.hpp"
#include "parot/core/options.hpp"
#include "parot/solver/certify.hpp"

namespace parot {

AnnealedSolver::AnnealedSolver(MPI_Comm comm, std::unique_ptr<Solver> inner, SolveParams params)
    : comm_(comm), inner_(std::move(inner)) {
  params_ = params;
}

void AnnealedSolver::set_from_options() {
  OptionsBlock block(comm_, "", "near-exact OT (-ot_rtol) options");
  block.real("ot_eps_start", "first stage's reg, relative to the largest cost", anneal_.eps_start);
  block.real("ot_eps_factor", "ratio of consecutive reg stages, in (0, 1)", anneal_.eps_factor);
  block.real("ot_eps_min", "smallest reg, relative to the largest cost (-reg overrides)",
             anneal_.eps_min);
  block.read();
  PAROT_CHECK(std::isfinite(anneal_.eps_start) && anneal_.eps_start > 0, InvalidArgument,
              "option -ot_eps_start must be positive, got ", anneal_.eps_start);
  PAROT_CHECK(anneal_.eps_factor > 0 && anneal_.eps_factor < 1, InvalidArgument,
              "option -ot_eps_factor must be in (0, 1), got ", anneal_.eps_factor);
  PAROT_CHECK(std::isfinite(anneal_.eps_min) && anneal_.eps_min > 0, InvalidArgument,
              "option -ot_eps_min must be positive, got ", anneal_.eps_min);
  inner_->set_from_options();
}

SolveResult AnnealedSolver::solve(const Problem& problem, Solution& solution) {
  validate(params_);
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
  long it = 0;
  double upper = -1;  // none yet
  Reason reason = Reason::iterating;
  for (int stage = 0; reason == Reason::iterating; ++stage) {
    SolveParams stage_params = params_;
    stage_params.reg = eps;
    stage_params.reg_relative = false;
    stage_params.atol = std::max(
        params_.atol, upper > 0 ? std::min(1e-3, 0.1 * params_.ot_rtol * upper / max_cost) : 1e-3);
    stage_params.max_it = params_.max_it - it;
    stage_params.error_if_not_converged = false;
    stage_params.plan_threshold = -1;
    stage_params.ot_rtol = 0;
    inner_->params() = stage_params;
    SolveResult inner = inner_->solve(problem, solution);

    for (IterationRecord record : inner.history) {
      record.iteration += it;
      result.history.push_back(record);
    }
    it += inner.iterations;
    result.sinkhorn_iterations += inner.sinkhorn_iterations;
    result.newton_iterations += inner.newton_iterations;
    result.stored_kernel = result.stored_kernel || inner.stored_kernel;
    result.absorptions += inner.absorptions;
    result.reg = inner.reg;
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
                    "stage %2d  reg %.3e  %s after %ld iterations (error %.3e)  lower %.12e  "
                    "upper %.12e  gap %.3e  %.3f s",
                    stage, eps, to_string(inner.reason).c_str(), inner.iterations,
                    inner.marginal_error, cert.bounds.lower, cert.bounds.upper, cert.bounds.gap(),
                    allreduce_max(comm, wall_time() - t0));
      print_root(comm, line);
    }
    if (done)
      reason = Reason::converged_rtol;
    else if (it >= params_.max_it)
      reason = Reason::diverged_max_it;
    else if (eps <= floor)
      reason = Reason::diverged_reg_floor;
    eps = std::max(eps * anneal_.eps_factor, floor);
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
