// SPDX-License-Identifier: BSD-3-Clause
// Sparsity-constrained OT (Liu, Puigcerver, Blondel, ICLR 2023): quadratically regularized OT
// with at most k non-zeros per column, solved through its dual or semi-dual with PETSc TAO.
#pragma once

#include <mpi.h>

#include <memory>
#include <string>

#include "parot/solver/solver.hpp"

namespace parot {

/// Parameters of the sparse solver. Defaults are defined here only.
/// Options keys (read by SparseSolver::set_from_options):
///   -sparse_k <int>                      at most k non-zeros per column of the plan,
///                                        1 <= k <= n (the number of rows). Required.
///   -sparse_formulation <dual|semidual>  maximize the dual D(α, β) or the semi-dual S(α) (dual)
///   -sparse_tao_*                        the TAO solver, e.g. -sparse_tao_type blmvm,
///                                        -sparse_tao_max_it, -sparse_tao_gatol,
///                                        -sparse_tao_monitor, -sparse_tao_ls_*
///                                        (TaoSetFromOptions). The L-BFGS history length is
///                                        -tao_lmvm_mat_lmvm_hist_size (5), without the prefix:
///                                        PETSc 3.18 names TAOLMVM's matrix "tao_lmvm_".
/// Shared keys: -reg is γ (absolute; default 0.01 × the largest cost; -reg_relative), -max_it
/// caps the TAO iterations, -atol stops when the marginal L1 error of the recovered plan (the L1
/// norm of the gradient) is <= atol, -monitor prints one line per iteration, -plan_threshold
/// (>= 0) drops recovered entries at or below it from the written plan (default: all non-zeros).
struct SparseParams {
  long k = 0;  ///< 0: not set (an error at solve time)
  std::string formulation = "dual";
};

/// Checks value ranges that do not depend on the problem. @notcollective @throws InvalidArgument
void validate(const SparseParams& params);

/// Sparsity-constrained OT (sparse_ot.md):
///
///   min_{T ≥ 0, T1 = a, Tᵀ1 = b} ⟨T, C⟩ + Σ_j (γ/2)‖T_{:,j}‖² s.t. ‖T_{:,j}‖₀ ≤ k,
///
/// solved by minimizing −D(α, β) (dual) or −S(α) (semi-dual) with TAOLMVM (options prefix
/// `sparse_`, so -sparse_tao_type blmvm selects TAOBLMVM) from α = β = 0. The plan is recovered
/// from the gradient: T_ij = [α_i + β_j − C_ij]₊ / γ on the k largest entries of column j (for
/// the semi-dual, β_j = −γ b_j τ_j with τ_j the threshold of the sparse simplex projection). It
/// has at most k non-zeros per column but satisfies the marginals only approximately for small
/// k: the result reports ‖T1 − a‖₁ (source_marginal_error) and ‖Tᵀ1 − b‖₁
/// (target_marginal_error, exact up to rounding for the semi-dual), their entrywise maxima,
/// ⟨C, T⟩ (transport_cost), the non-zero counts, and the dual objective (D or S).
///
/// Distribution: target columns are block-distributed (Layout::uniform over m). Once per solve
/// the row blocks of the cost are transposed into column blocks (one MPI_Alltoallv); a rank
/// stores the n × m_r block of its columns (8 n m / P bytes, checked against -max_memory).
/// The unknowns (α, β) — n + m doubles, n for the semi-dual — are replicated and TAO runs
/// redundantly on every rank (PETSC_COMM_SELF, sequential Vecs): each objective/gradient
/// evaluation computes the top-k operators of the rank's columns and combines the row sums T1,
/// the column sums and the objective in one MPI_Allreduce of n + m + 1 double-double sums
/// (n + 1 for the semi-dual; kernels/dd_sum.hpp). Every rank then holds identical values, so
/// TAO takes identical decisions on all ranks; and since double-double sums round the same
/// whatever the grouping, the whole optimizer path — smooth or not — is the same at any rank
/// count for the same input bits. (Consequence of the replicated TAO: -sparse_tao_monitor and
/// -sparse_tao_view print once per rank.) Memory beyond the cost block: O(n + m) per rank,
/// times the L-BFGS history (-tao_lmvm_mat_lmvm_hist_size, 5).
///
/// Stopping: the marginal L1 error (‖gradient‖₁) <= -atol is `converged_atol`; TAO's own
/// tolerances (all 0 by default, -sparse_tao_gatol etc.) give `converged_tolerance`; a line
/// search failure — expected in the nonsmooth regime of small k — gives `diverged_line_search`
/// and the plan and its errors are still reported. The history has one record per TAO
/// iteration: marginal_error is ‖gradient‖₁ there, wall_time is rank-local.
/// f holds α (local rows), g holds β (replicated); a zero-weight target column of the
/// semi-dual has g_j = −∞.
class SparseSolver final : public Solver {
 public:
  SparseSolver(MPI_Comm comm, SolveParams params = {}, SparseParams sparse = {});
  ~SparseSolver() override;
  std::string type() const override { return "sparse"; }
  /// Reads -sparse_k, -sparse_formulation and (on a scratch TAO) the -sparse_tao_* keys, so that
  /// they count as used and bad values fail before any work. (solve() applies TaoSetFromOptions
  /// to its TAO in any case: TAO completes its defaults there.) @collective{comm}
  void set_from_options() override;
  /// @collective{problem.comm()} @throws InvalidArgument for k outside [1, n] or a bad γ.
  SolveResult solve(const Problem& problem, Solution& solution) override;

  SparseParams& sparse_params() noexcept { return sparse_; }

 private:
  MPI_Comm comm_;
  SparseParams sparse_;
};

}  // namespace parot
