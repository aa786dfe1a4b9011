// SPDX-License-Identifier: BSD-3-Clause
// Unbalanced entropic OT (KL-relaxed marginals) by translation-invariant log-domain Sinkhorn.
#pragma once

#include <mpi.h>

#include "parot/solver/solver.hpp"

namespace parot {

/// Unbalanced OT, POT 0.8.2's convention (../shared/reference/unbalanced.md §1):
///   min_P ⟨C,P⟩ + ε Σ(P log P − P) + τ_a KL(P1 | a) + τ_b KL(Pᵀ1 | b),  P_ij =
///   exp((f_i+g_j−C_ij)/ε)
/// with ε = -reg, τ_a = -reg_m_source, τ_b = -reg_m_target (-reg_m sets both; inf keeps a side
/// exact). The measures keep their own total masses (Masses::any).
///
/// Iterations: the translation-invariant half-steps of Séjourné, Vialard & Peyré (2022), each an
/// exact block maximization of the dual D(f, g) jointly with the optimal translation, so that
/// large τ/ε converges as fast as balanced Sinkhorn. Distributed as the balanced solver: rows on
/// ranks, one MPI_Allreduce of m + 4 pairs per iteration (the column log-sum-exps, the
/// translation's log-sum, and the stopping sums).
///
/// Stopping rule (reported as marginal_error): the L1 norm of the dual gradient,
/// ‖a e^{−f/τ_a} − P1‖₁ + ‖b e^{−g/τ_b} − Pᵀ1‖₁ (0 exactly at the optimum; after a g-step the
/// column part is 0), <= -atol. For τ = ∞ the term is the balanced marginal error.
/// Result: objective = the dual value D (= the primal optimum at convergence), transport_cost =
/// ⟨C,P⟩ (POT's sinkhorn_unbalanced2), plan_mass = m(P), extra: reg_m_source, reg_m_target,
/// dual_objective, transported_mass. Checkpoint/restart and signals as the balanced solver.
class UnbalancedSinkhornSolver final : public Solver {
 public:
  /// @throws InvalidArgument for invalid params (validate) or a balanced problem (no -reg_m).
  UnbalancedSinkhornSolver(MPI_Comm comm, SolveParams params = {});
  std::string type() const override { return "sinkhorn"; }
  void set_from_options() override {}
  /// @collective{problem.comm()}
  SolveResult solve(const Problem& problem, Solution& solution) override;

 private:
  MPI_Comm comm_;
};

}  // namespace parot
