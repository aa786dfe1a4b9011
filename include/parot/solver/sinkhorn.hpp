// SPDX-License-Identifier: BSD-3-Clause
// Distributed log-domain Sinkhorn with optional ε-scaling.
#pragma once

#include <mpi.h>

#include <string>

#include "parot/solver/solver.hpp"

namespace parot {

/// Parameters of log-domain Sinkhorn. Defaults are defined here only.
/// Options keys (read by SinkhornSolver::set_from_options, prefix "sinkhorn_" where noted):
///   -eps_scaling                      anneal ε from the largest cost down to -reg (false)
///   -eps_scaling_factor <real>        ratio between consecutive stages, in (0, 1) (0.5)
///   -eps_scaling_inner_atol <real>    marginal error that ends an intermediate stage (1e-3)
///   -sinkhorn_stall_it <int>          iterations without a 1e-4 relative improvement of the
///                                     best error before stopping as stalled; 0: never (2000)
///   -sinkhorn_stored_kernel <auto|yes|no>  keep the absorbed Gibbs kernel of the local rows in
///                                     memory and iterate in scaling form (one pass over it per
///                                     iteration, no exp); auto: when it fits (auto)
///   -sinkhorn_stored_kernel_max_mb <real>  memory per rank that auto may use for it (2048;
///                              never more than half of -max_memory)
struct SinkhornParams {
  bool eps_scaling = false;
  double eps_scaling_factor = 0.5;
  double eps_scaling_inner_atol = 1e-3;
  long stall_it = 2000;
  std::string stored_kernel = "auto";
  double stored_kernel_max_mb = 2048;
};

/// Checks every field: eps_scaling_factor in (0, 1), eps_scaling_inner_atol finite and positive,
/// stall_it >= 0, stored_kernel one of auto|yes|no, stored_kernel_max_mb finite and >= 0. Called
/// by the constructor, set_from_options and solve (so a library caller's bad value is an error
/// too). An ε-scaling schedule of more than 10^6 stages is refused at solve time.
/// @notcollective @throws InvalidArgument
void validate(const SinkhornParams& params);

/// Log-domain Sinkhorn, source rows distributed, target replicated, cost matrix-free.
///
/// Two sweep engines give the same iterates up to rounding: matrix-free log-sum-exps (one exp
/// per cost entry, memory O((n_local + m)·d)), and a stored absorbed kernel K̃ = exp((f̃ ⊕ g̃ − C)/ε)
/// (n_local·m doubles, one multiply-add per entry, re-absorbed before it can lose accuracy; see
/// src/solver/entropic/stored_kernel.hpp). `SolveResult::stored_kernel` says which ran.
///
/// One iteration = an f-update (local row log-sum-exp) and a g-update (column log-sum-exp:
/// local partial (max, scaled sum) pairs combined by one MPI_Allreduce of m + 3 pairs that also
/// carries the NaN flag, Σ a_i f_i and the elapsed time). After the f-update the row marginals
/// are exact, and the column error of that plan is known on every rank from the reduced pairs:
/// the stopping test needs no extra communication.
class SinkhornSolver final : public Solver {
 public:
  /// @throws InvalidArgument for invalid params (validate).
  SinkhornSolver(MPI_Comm comm, SolveParams params = {}, SinkhornParams sinkhorn = {});
  std::string type() const override { return "sinkhorn"; }
  void set_from_options() override;
  /// @collective{problem.comm()}
  SolveResult solve(const Problem& problem, Solution& solution) override;

  SinkhornParams& sinkhorn_params() noexcept { return sinkhorn_; }

 private:
  MPI_Comm comm_;
  SinkhornParams sinkhorn_;
};

}  // namespace parot
