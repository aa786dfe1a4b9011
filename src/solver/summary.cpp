// SPDX-License-Identifier: BSD-3-Clause
// The human-readable run summary printed by the drivers.
#include <cstdio>
#include <string>

#include "parot/solver/summary.hpp"

namespace parot {

std::string format_summary(const Problem& problem, const SolveResult& r, int nranks) {
  char buf[2048], failed[64] = "";
  if (r.failed_iteration >= 0)
    std::snprintf(failed, sizeof failed, " (detected at iteration %ld)", r.failed_iteration);
  std::snprintf(buf, sizeof buf,
                "problem          %s (n = %lld, m = %lld, cost %s)\n"
                "solver           %s on %d rank%s%s\n"
                "reason           %s%s\n"
                "iterations       %ld (sinkhorn %ld, newton %ld)\n"
                "reg              %.6e (%.3e x largest cost %.6e)\n"
                "transport_cost   %.15e\n"
                "objective        %.15e\n"
                "marginal_error   %.3e (source %.3e, target %.3e)\n"
                "solve_time       %.3f s",
                problem.name.c_str(), static_cast<long long>(problem.n()),
                static_cast<long long>(problem.m()), to_string(problem.cost.type()).c_str(),
                r.solver.c_str(), nranks, nranks == 1 ? "" : "s",
                r.stored_kernel ? " (stored kernel)" : "", to_string(r.reason).c_str(), failed,
                r.iterations, r.sinkhorn_iterations, r.newton_iterations, r.reg, r.reg_relative,
                r.max_cost, r.transport_cost, r.objective, r.marginal_error,
                r.source_marginal_error, r.target_marginal_error, r.solve_time);
  std::string out = buf;
  if (r.has_bounds) {
    const Bounds& bounds = r.bounds;
    // Near-exact mode bounds the unregularized OT cost; the sparse solver its own (quadratically
    // regularized, k-sparse) objective: dual value below, a feasible plan's primal cost above.
    const bool sparse = r.solver == "sparse";
    std::snprintf(buf, sizeof buf,
                  "\n%s in [%.12e, %.12e] (certified, gap %.3e; %s plan marginal errors "
                  "%.1e, %.1e)",
                  sparse ? "sparse OT value " : "OT cost         ", bounds.lower, bounds.upper,
                  bounds.gap(), sparse ? "feasible" : "rounded", bounds.rounded_source_error,
                  bounds.rounded_target_error);
    out += buf;
  }
  return out;
}

}  // namespace parot
