// SPDX-License-Identifier: BSD-3-Clause
// Shared options and reasons of the solvers.
#include "parot/solver/solver.hpp"

#include <cmath>
#include <limits>

#include "parot/core/error.hpp"
#include "parot/core/options.hpp"

namespace parot {

std::string to_string(Reason reason) {
  switch (reason) {
    case Reason::converged_atol:
      return "converged_atol";
    case Reason::converged_tolerance:
      return "converged_tolerance";
    case Reason::iterating:
      return "iterating";
    case Reason::diverged_max_it:
      return "diverged_max_it";
    case Reason::diverged_nan:
      return "diverged_nan";
    case Reason::diverged_stalled:
      return "diverged_stalled";
    case Reason::diverged_line_search:
      return "diverged_line_search";
    case Reason::diverged_mass_loss:
      return "diverged_mass_loss";
    case Reason::diverged_reg_floor:
      return "diverged_reg_floor";
    case Reason::converged_rtol:
      return "converged_rtol";
  }
  return "unknown";
}

void read_common_options(MPI_Comm comm, SolveParams& params, const std::string& prefix) {
  OptionsBlock block(comm, prefix, "parot solver options");
  block.real("reg", "regularization (ε, POT convention); default 0.01 x the largest cost",
             params.reg);
  block.boolean("reg_relative", "read -reg as a fraction of the largest cost", params.reg_relative);
  block.real("atol", "stop when the marginal L1 error is below atol", params.atol);
  block.integer("max_it", "maximum iterations of all stages together", params.max_it);
  block.boolean("monitor", "print one line per check", params.monitor);
  block.integer("check_every", "iterations between history records", params.check_every);
  block.boolean("error_if_not_converged", "exit with code 3 when not converged",
                params.error_if_not_converged);
  block.real("plan_threshold", "write plan entries above this; < 0: no plan",
             params.plan_threshold);
  block.real("ot_rtol", "near-exact mode: certified relative gap of the OT cost interval",
             params.ot_rtol);
  double reg_m = std::numeric_limits<double>::infinity();
  block.real("reg_m", "unbalanced OT: KL penalty of both marginals (POT's reg_m; inf: exact)",
             reg_m);
  block.real("reg_m_source", "unbalanced OT: KL penalty of the source marginal (overrides -reg_m)",
             params.reg_m_source);
  block.real("reg_m_target", "unbalanced OT: KL penalty of the target marginal (overrides -reg_m)",
             params.reg_m_target);
  block.read();
  if (block.given("reg_m")) {
    PAROT_CHECK(reg_m > 0 && !std::isnan(reg_m), InvalidArgument,
                "option -reg_m must be positive (or inf), got ", reg_m);
    if (!block.given("reg_m_source")) params.reg_m_source = reg_m;
    if (!block.given("reg_m_target")) params.reg_m_target = reg_m;
  }
  PAROT_CHECK(!block.given("reg") || params.reg > 0, InvalidArgument,
              "option -reg must be positive, got ", params.reg);
  PAROT_CHECK(!block.given("ot_rtol") || (std::isfinite(params.ot_rtol) && params.ot_rtol > 0),
              InvalidArgument, "option -ot_rtol must be positive, got ", params.ot_rtol);
  validate(params);
}

void validate(const SolveParams& params) {
  PAROT_CHECK(std::isfinite(params.reg) && (params.reg > 0 || params.reg == -1), InvalidArgument,
              "option -reg must be positive and finite, got ", params.reg);
  PAROT_CHECK(std::isfinite(params.atol) && params.atol > 0, InvalidArgument,
              "option -atol must be positive, got ", params.atol);
  PAROT_CHECK(params.max_it > 0, InvalidArgument, "option -max_it must be positive, got ",
              params.max_it);
  PAROT_CHECK(params.check_every > 0, InvalidArgument, "option -check_every must be positive, got ",
              params.check_every);
  PAROT_CHECK(std::isfinite(params.plan_threshold), InvalidArgument,
              "option -plan_threshold must be finite");
  PAROT_CHECK(std::isfinite(params.ot_rtol) && params.ot_rtol >= 0, InvalidArgument,
              "option -ot_rtol must be positive, got ", params.ot_rtol);
  PAROT_CHECK(params.reg_m_source > 0 && !std::isnan(params.reg_m_source), InvalidArgument,
              "option -reg_m_source must be positive (or inf), got ", params.reg_m_source);
  PAROT_CHECK(params.reg_m_target > 0 && !std::isnan(params.reg_m_target), InvalidArgument,
              "option -reg_m_target must be positive (or inf), got ", params.reg_m_target);
  PAROT_CHECK(params.ot_rtol == 0 || !params.unbalanced(), InvalidArgument,
              "near-exact mode (-ot_rtol) is for balanced OT; it does not take -reg_m");
}

double absolute_reg(const SolveParams& params, double max_cost) {
  double eps = params.reg;
  if (eps < 0)
    eps = 0.01 * max_cost;
  else if (params.reg_relative)
    eps *= max_cost;
  PAROT_CHECK(std::isfinite(eps) && eps > 0, InvalidArgument,
              "the regularization must be positive; the largest cost is ", max_cost,
              ", which gives reg = ", eps, " (give an absolute -reg)");
  return eps;
}

}  // namespace parot
