// SPDX-License-Identifier: BSD-3-Clause
// The Solver interface, the keys shared by all entropic solvers, and the registry by name.
#pragma once

#include <mpi.h>

#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "parot/problem/problem.hpp"
#include "parot/solver/checkpoint.hpp"
#include "parot/solver/result.hpp"

namespace parot {

/// Keys shared by all parot-solve solvers (DESIGN.md §5). Defaults are defined here only.
/// Options keys (read by read_common_options, no prefix):
///   -reg <real>               regularization: ε for entropic solvers (POT convention).
///                             Absolute; default 0.01 × the largest cost
///   -reg_relative             read -reg as a fraction of the largest cost (false)
///   -atol <real>              stop when ‖P1−a‖₁ + ‖Pᵀ1−b‖₁ <= atol (1e-9)
///   -max_it <int>             iterations of all stages together (100000)
///   -monitor                  print one line per check on rank 0 (false)
///   -check_every <int>        iterations between history records and monitor lines (10)
///   -error_if_not_converged   raise NotConverged (exit code 3) when not converged (false)
///   -plan_threshold <real>    keep plan entries above this in the result; < 0: no plan (-1)
///   -reg_m <real>             unbalanced OT (sinkhorn): KL penalty τ of both marginals, POT's
///                             reg_m; inf keeps a side exact. Sets both sides (inf: balanced)
///   -reg_m_source <real>      τ of the source marginal only (overrides -reg_m)
///   -reg_m_target <real>      τ of the target marginal only (overrides -reg_m)
///   -ot_rtol <real>           near-exact mode (sinkhorn, sns): anneal reg until the certified
///                             interval for the unregularized cost has (upper − lower) / upper
///                             <= ot_rtol (annealed.hpp); 0: off (0)
struct SolveParams {
  double reg = -1;  ///< -1: the default, 0.01 × the largest cost
  bool reg_relative = false;
  double atol = 1e-9;
  long max_it = 100000;
  bool monitor = false;
  long check_every = 10;
  bool error_if_not_converged = false;
  double plan_threshold = -1;
  double ot_rtol = 0;
  double reg_m_source = std::numeric_limits<double>::infinity();  ///< τ_a; inf: exact marginal
  double reg_m_target = std::numeric_limits<double>::infinity();  ///< τ_b
  /// Unbalanced OT: at least one marginal is relaxed.
  bool unbalanced() const noexcept {
    return reg_m_source != std::numeric_limits<double>::infinity() ||
           reg_m_target != std::numeric_limits<double>::infinity();
  }
};

/// Reads the keys above, each as -[prefix]key (e.g. prefix "a_": -a_reg). @collective{comm}
void read_common_options(MPI_Comm comm, SolveParams& params, const std::string& prefix = "");
/// Checks every field: reg finite and positive, or -1 (the default); atol finite and positive;
/// max_it and check_every positive; plan_threshold finite; ot_rtol finite and >= 0; reg_m_source
/// and reg_m_target positive (inf allowed), no near-exact mode with them. Called by
/// read_common_options, make_solver, the solver constructors and every solve.
/// @notcollective (params are replicated) @throws InvalidArgument
void validate(const SolveParams& params);
/// The absolute regularization of a run: -reg, relative to `max_cost` under -reg_relative, or
/// the default 0.01 × max_cost. @notcollective @throws InvalidArgument when it is not positive.
double absolute_reg(const SolveParams& params, double max_cost);

/// A solver of entropic (or other) OT problems. Instances are built by make_solver
/// (registry.hpp).
class Solver {
 public:
  virtual ~Solver() = default;
  virtual std::string type() const = 0;
  /// Reads the solver's own keys: -[options prefix][type's prefix]key, e.g. -sns_warmup_it, or
  /// -a_sns_warmup_it after set_options_prefix("a_"). @collective{comm}
  virtual void set_from_options() = 0;
  /// The prefix of every options key this solver (and any solver nested in it) reads, as PETSc's
  /// KSPSetOptionsPrefix; default "". Set it before set_from_options. @notcollective
  void set_options_prefix(std::string prefix) { options_prefix_ = std::move(prefix); }
  const std::string& options_prefix() const noexcept { return options_prefix_; }
  /// Solves; `solution` carries the initial guess in (if sized) and the potentials out.
  /// @collective{problem.comm()}
  virtual SolveResult solve(const Problem& problem, Solution& solution) = 0;

  SolveParams& params() noexcept { return params_; }
  const SolveParams& params() const noexcept { return params_; }
  /// Checkpoint / restart for the next solve (null: none; signals still stop it).
  /// The object must outlive the solve.
  void set_checkpointing(const Checkpointing* checkpointing) noexcept {
    checkpointing_ = checkpointing;
  }

 protected:
  /// The checkpointing of this solve (an empty one when none was set).
  const Checkpointing& checkpointing() const noexcept {
    static const Checkpointing none;
    return checkpointing_ ? *checkpointing_ : none;
  }

  SolveParams params_;
  const Checkpointing* checkpointing_ = nullptr;
  std::string options_prefix_;
};

}  // namespace parot
