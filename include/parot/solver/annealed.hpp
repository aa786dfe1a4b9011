// SPDX-License-Identifier: BSD-3-Clause
// Near-exact OT: ε annealed down stage by stage around an entropic solver, each stage closed by
// a certified interval for the unregularized cost, until the interval is tight enough.
#pragma once

#include <mpi.h>

#include <memory>
#include <string>

#include "parot/solver/solver.hpp"

namespace parot {

/// Options keys (no prefix; -ot_rtol itself is a common key, SolveParams::ot_rtol):
///   -ot_eps_start <real>   first stage's ε, relative to the largest cost (1e-2)
///   -ot_eps_factor <real>  ratio of consecutive stages, in (0, 1) (0.25)
///   -ot_eps_min <real>     smallest ε, relative to the largest cost (1e-6); -reg, when given,
///                          sets the smallest ε instead
/// Each stage solves the entropic problem at its ε with the inner solver (Sinkhorn or SNS),
/// warm-started from the previous stage's potentials, to the marginal error that keeps the
/// rounding's moved mass well inside the requested interval (max(-atol, min(1e-3,
/// 0.1 ot_rtol upper / largest cost))), then computes the certificate (certify.hpp). It stops
/// with converged_rtol when (upper − lower) / upper <= -ot_rtol, and with diverged_reg_floor
/// when the smallest ε did not reach it. The interval is valid whatever the stop reason.
struct AnnealParams {
  double eps_start = 1e-2;
  double eps_factor = 0.25;
  double eps_min = 1e-6;
};

class AnnealedSolver final : public Solver {
 public:
  AnnealedSolver(MPI_Comm comm, std::unique_ptr<Solver> inner, SolveParams params);
  /// The inner solver's type: "sinkhorn" or "sns".
  std::string type() const override { return inner_->type(); }
  /// Reads -ot_* and the inner solver's keys. @collective{comm}
  void set_from_options() override;
  /// @collective{problem.comm()}
  SolveResult solve(const Problem& problem, Solution& solution) override;

 private:
  MPI_Comm comm_;
  std::unique_ptr<Solver> inner_;
  AnnealParams anneal_;
};

}  // namespace parot
