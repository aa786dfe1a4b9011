// SPDX-License-Identifier: BSD-3-Clause
// Near-exact OT: ε annealed down stage by stage around an entropic solver, each stage closed by
// a certified interval for the unregularized cost, until the interval is tight enough.
#pragma once

#include <mpi.h>

#include <memory>
#include <string>

#include "parot/solver/solver.hpp"

namespace parot::truncated {
struct Support;
}

namespace parot {

/// Options keys (no prefix; -ot_rtol itself is a common key, SolveParams::ot_rtol):
///   -ot_eps_start <real>   first stage's ε, relative to the largest cost (1e-2)
///   -ot_eps_factor <real>  smallest ratio of consecutive stages, in (0, 1) (0.25); the next
///                          ε is ε · max(factor, 0.6 ot_rtol / gap), since the interval's width
///                          shrinks about like ε
///   -ot_eps_min <real>     smallest ε, relative to the largest cost (1e-6); -reg, when given,
///                          sets the smallest ε instead
///   -ot_truncation <real>  truncation depth T (30): once potentials exist, a stage whose plan
///                          entries within e^-T of their row or column maximum number at most
///                          -ot_truncation_fraction n m (and fit in an eighth of -max_memory)
///                          runs Sinkhorn on those entries only
///                          (O(kept) work per iteration); the support is checked against the
///                          stage's final potentials and rebuilt when it missed entries.
///                          0: every stage on the full kernel
///   -ot_truncation_fraction <real>  (0.25)
///   -ot_multiscale_min <int>  when both sides have more points than this (4000; 0: off), points
///                          in 1-3 dimensions, and no initial guess, the problem is first binned
///                          on a grid (about 2^d points per cell) and solved the same way
///                          (recursively); its potentials, lifted to the points, and its last ε
///                          start the annealing, so the large-ε stages never touch the full kernel
/// Each stage solves the entropic problem at its ε with the inner solver (Sinkhorn or SNS) or
/// the truncated kernel,
/// warm-started from the previous stage's potentials, to the marginal error that keeps the
/// rounding's moved mass well inside the requested interval (max(-atol, min(1e-3,
/// 0.5 ot_rtol upper / largest cost))), then computes the certificate (certify.hpp). It stops
/// with converged_rtol when (upper − lower) / upper <= -ot_rtol, and with diverged_reg_floor
/// when the smallest ε did not reach it. The interval is valid whatever the stop reason.
struct AnnealParams {
  double eps_start = 1e-2;
  double eps_factor = 0.25;
  double eps_min = 1e-6;
  double truncation_depth = 30;
  double truncation_fraction = 0.25;
  long multiscale_min = 4000;
};

/// Checks every field: eps_start, eps_min finite and positive; eps_factor in (0, 1);
/// truncation_depth 0 or finite >= 10; truncation_fraction in [0, 1]; multiscale_min >= 0.
/// Called by AnnealedSolver::set_from_options and solve. @notcollective @throws InvalidArgument
void validate(const AnnealParams& params);

class AnnealedSolver final : public Solver {
 public:
  /// @throws InvalidArgument for a null `inner` or invalid `params` (validate).
  AnnealedSolver(MPI_Comm comm, std::unique_ptr<Solver> inner, SolveParams params);
  /// The inner solver's type: "sinkhorn" or "sns".
  std::string type() const override { return inner_->type(); }
  /// The annealing settings (set_from_options reads them from -ot_*). @notcollective
  AnnealParams& anneal_params() noexcept { return anneal_; }
  /// Reads -ot_* and the inner solver's keys. @collective{comm}
  void set_from_options() override;
  /// @collective{problem.comm()}
  SolveResult solve(const Problem& problem, Solution& solution) override;

 private:
  SolveResult truncated_stage(const Problem& problem, Solution& solution,
                              truncated::Support support, double eps, double atol, long it0,
                              double t0, double budget);

  MPI_Comm comm_;
  std::unique_ptr<Solver> inner_;
  AnnealParams anneal_;
};

}  // namespace parot
