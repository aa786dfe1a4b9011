// SPDX-License-Identifier: BSD-3-Clause
// The checkpoint decision of an iteration, and the checks on a resumed state.
#include "parot/solver/checkpoint.hpp"

#include <cmath>

#include "parot/core/error.hpp"

namespace parot {

double SolverState::scalar(const std::string& key) const {
  const auto it = scalars.find(key);
  PAROT_CHECK(it != scalars.end(), InvalidInput, "the checkpoint lacks the solver state '", key,
              "' (written by another parot version?)");
  return it->second;
}

void Checkpointing::at_iteration(const Problem& problem, long iteration, double signalled_ranks,
                                 const std::function<SolverState()>& state) const {
  const bool signalled = signalled_ranks > 0;
  const bool due = store && (signalled || (every > 0 && iteration % every == 0));
  if (due) {
    SolverState s = state();
    s.solver = solver;
    s.iteration = iteration;
    store->save(problem, s);
  }
  if (signalled)
    throw Interrupted(
        detail::cat("stopped by a signal after iteration ", iteration,
                    "; ",
                    store ? "the state is saved in " + store->where() + " (resume with -restart " +
                                store->where() + ")"
                          : std::string("no -checkpoint file was given, so nothing was saved")),
        true);
}

const SolverState* Checkpointing::resume_in(const std::string& phase) const {
  return resume && resume->phase == phase ? resume : nullptr;
}

void check_resume(const SolverState& state, double reg, double max_cost) {
  const auto same = [](double x, double y) {
    return std::abs(x - y) <= 1e-12 * std::max(std::abs(x), std::abs(y));
  };
  PAROT_CHECK(same(state.max_cost, max_cost), InvalidInput,
              "the checkpoint belongs to another problem (largest cost ", state.max_cost,
              ", this problem's is ", max_cost, ")");
  PAROT_CHECK(same(state.reg, reg), InvalidInput,
              "the checkpoint was written with reg = ", state.reg, ", this run has reg = ", reg,
              "; give the same -reg to resume");
}

}  // namespace parot
