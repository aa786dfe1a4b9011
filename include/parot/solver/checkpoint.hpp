// SPDX-License-Identifier: BSD-3-Clause
// Solver state for checkpoint / restart, and the per-iteration decision to write it.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "parot/core/types.hpp"
#include "parot/problem/problem.hpp"
#include "parot/solver/result.hpp"

namespace parot {

/// Everything an iterative solver needs to continue where it stopped. All members except `f`
/// are replicated; `f` holds the local source rows of the problem's layout (so a state read at
/// another rank count is redistributed by the reader).
struct SolverState {
  std::string solver;  ///< the solver type of the run (an SNS run in its Sinkhorn phase: "sns")
  std::string phase;   ///< "sinkhorn" or "newton"
  long iteration = 0;  ///< iterations done, all stages
  double reg = 0;      ///< the run's final (absolute) regularization
  double max_cost = 0;
  std::map<std::string, double> scalars;  ///< phase-specific counters (stage, μ, …)
  Vector f, g;
  std::vector<IterationRecord> history;

  /// A scalar written by the solver. @throws InvalidInput (collective) when it is missing.
  double scalar(const std::string& key) const;
};

/// Where states go: implemented by the io layer (io::Hdf5CheckpointStore).
class CheckpointStore {
 public:
  virtual ~CheckpointStore() = default;
  /// Writes the state atomically (temporary name, then rename). @collective{problem.comm()}
  virtual void save(const Problem& problem, const SolverState& state) = 0;
  /// The destination, for messages.
  virtual std::string where() const = 0;
};

/// What a driver hands to a solver: where to save, how often, and the state to resume from.
/// Options keys (read by parot-solve):
///   -checkpoint <file>        write the solver state there (atomically) every -checkpoint_every
///                             iterations and when a signal arrives; default: none
///   -checkpoint_every <int>   iterations between checkpoints; 0: only on a signal (0)
///   -restart <file>           resume from a checkpoint of the same problem, solver and -reg
/// On SIGTERM, SIGUSR1 or SIGUSR2 (caught while a SignalScope is alive) the solver writes the
/// checkpoint, if any, and throws Interrupted (exit code 4).
struct Checkpointing {
  std::string solver;                   ///< the run's solver type, recorded in every state
  CheckpointStore* store = nullptr;     ///< null: nothing is saved
  long every = 0;                       ///< 0: save only when interrupted
  const SolverState* resume = nullptr;  ///< null: a fresh start

  /// Called by a solver once per iteration, after the reduction that carried the signal flag:
  /// `signalled_ranks` (replicated) counts the ranks that caught a signal. Saves the state when
  /// due, and throws Interrupted when signalled. @collective{problem.comm()}
  void at_iteration(const Problem& problem, long iteration, double signalled_ranks,
                    const std::function<SolverState()>& state) const;
  /// The resume state when it belongs to `phase`, else null. @notcollective
  const SolverState* resume_in(const std::string& phase) const;
};

/// Checks that a resumed state fits this run (same regularization and largest cost: the same
/// problem and -reg). @notcollective (replicated values) @throws InvalidInput
void check_resume(const SolverState& state, double reg, double max_cost);

}  // namespace parot
