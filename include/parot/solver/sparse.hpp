// SPDX-License-Identifier: BSD-3-Clause
// Sparsity-constrained OT (Liu, Puigcerver, Blondel, ICLR 2023): quadratically regularized OT
// with at most k non-zeros per column, solved through its dual or semi-dual with PETSc TAO.
#pragma once

#include <mpi.h>

#include <limits>
#include <memory>
#include <string>

#include "parot/solver/solver.hpp"

namespace parot {

/// Parameters of the sparse solver. Defaults are defined here only.
/// Options keys (read by SparseSolver::set_from_options):
///   -sparse_k <int>                      at most k non-zeros per column of the plan,
///                                        1 <= k <= n (the number of rows). Required.
///   -sparse_formulation <dual|semidual>  maximize the dual D(α, β) or the semi-dual S(α) (dual)
///   -sparse_optimizer <lbfgs|tao>        parot's L-BFGS (default; below) or PETSc TAO
///   -sparse_history <int>                L-BFGS pairs kept by -sparse_optimizer lbfgs (10)
///   -sparse_stationarity_tol <real>      stationarity measure (below) that counts as
///                                        converged (default: -atol)
///   -sparse_max_pieces <int>             k < n: pieces of the active-set phase that
///                                        certifies a maximizer (below; 200, 0: off)
///   -sparse_tie_width <real>             largest tie width ε of the ε-subgradient steps,
///                                        relative to the largest cost (1e-3)
///   -sparse_dual_start <semidual|zero>   the dual (k < n) starts from the semi-dual's
///                                        maximizer lifted to (α, β) (semidual) or from 0
///   -sparse_newton_switch <real>         k = n, dual: L-BFGS down to this marginal error, then
///                                        semismooth Newton (0: off, the default)
///   -sparse_plan <recovered|feasible>    the plan in the result: recovered from the dual
///                                        (default) or the feasible plan (below)
///   -sparse_feasible_tol <real>          marginal L1 error the feasible plan must reach (1e-10)
///   -sparse_support_rounds <int>         restricted problems on successive supports (5)
///   -sparse_gap_rtol <real>              a certified relative gap that counts as converged
///                                        (`converged_rtol`; 1e-12)
///   -sparse_tao_*                        the TAO solver of -sparse_optimizer tao, e.g.
///                                        -sparse_tao_type blmvm, -sparse_tao_monitor,
///                                        -sparse_tao_ls_* (TaoSetFromOptions). The L-BFGS
///                                        history of TAO is -tao_lmvm_mat_lmvm_hist_size (5),
///                                        without the prefix. -sparse_tao_max_it and
///                                        -sparse_tao_gatol apply to both optimizers.
/// Shared keys: -reg is γ (absolute; default 0.01 × the largest cost; -reg_relative), -max_it
/// caps the optimizer iterations, -atol stops when the marginal L1 error of the recovered plan (the
/// L1 norm of the gradient) is <= atol, -monitor prints one line per iteration, -plan_threshold
/// (>= 0) drops recovered entries at or below it from the written plan (default: all non-zeros).
struct SparseParams {
  long k = 0;  ///< 0: not set (an error at solve time)
  std::string formulation = "dual";
  std::string optimizer = "lbfgs";  ///< lbfgs (parot's) or tao
  long history = 10;                ///< L-BFGS pairs kept (lbfgs)
  double stationarity_tol = std::numeric_limits<double>::quiet_NaN();  ///< NaN: atol
  std::string plan = "recovered";       ///< the plan in the result: recovered or feasible
  double feasible_tol = 1e-10;          ///< marginal L1 error the feasible plan must reach
  long support_rounds = 5;              ///< restricted problems solved on successive supports
  double gap_rtol = 1e-12;              ///< (upper − lower)/|upper| that counts as converged
  double tie_width = 1e-3;              ///< largest ε of the ε-subgradient steps / largest cost
  std::string dual_start = "semidual";  ///< dual, k < n: start from the semi-dual's maximizer
  double newton_switch = 0;  ///< k >= n, dual: L-BFGS to this error, then Newton (0: off)
  long max_pieces = 200;     ///< k < n: pieces of the active-set phase (0: off)
};

/// Checks value ranges that do not depend on the problem. @notcollective @throws InvalidArgument
void validate(const SparseParams& params);

/// Sparsity-constrained OT (sparse_ot.md):
///
///   min_{T ≥ 0, T1 = a, Tᵀ1 = b} ⟨T, C⟩ + Σ_j (γ/2)‖T_{:,j}‖² s.t. ‖T_{:,j}‖₀ ≤ k,
///
/// solved by minimizing −D(α, β) (dual) or −S(α) (semi-dual) from α = β = 0 with parot's
/// L-BFGS (src/solver/sparse/lbfgs.hpp; -sparse_optimizer tao: TAOLMVM with options prefix
/// `sparse_`). The plan is recovered
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
/// The unknowns (α, β) — n + m doubles, n for the semi-dual — are replicated and the optimizer
/// runs redundantly on every rank: each objective/gradient evaluation computes the top-k
/// operators of the rank's columns and combines the row sums T1, the column sums and the
/// objective in one MPI_Allreduce of n + m + 1 double-double sums (n + 1 for the semi-dual;
/// kernels/dd_sum.hpp). Every rank then holds identical values, so the optimizer takes identical
/// decisions on all ranks; and since double-double sums round the same whatever the grouping,
/// the whole optimizer path — smooth or not — is the same at any rank count for the same input
/// bits. The default optimizer uses no BLAS (plain loops), so its path does not depend on the
/// BLAS kernel either (OPENBLAS_CORETYPE). Memory beyond the cost block: O(n + m) per rank,
/// times the L-BFGS history.
///
/// The objective is evaluated in double-double from the exact s_i = α_i + β_j − C_ij of the
/// selected entries (kernels/dd_arith.hpp), so it is accurate to ~1e-30 relative and the line
/// search sees decreases far below the rounding of a double objective (near the optimum they
/// are ~‖g‖², 1e-17 and less): a line search no longer fails at round-off.
/// L-BFGS (lbfgs.hpp): weak Wolfe line search (Armijo in double-double). When it fails — at a
/// kink of the nonsmooth (k < n) objective — the memory is reset and steepest descent is tried,
/// then ε-subgradient steps for ε = 1e-9 … 1 × -sparse_tie_width × the largest cost: minus
/// the smallest element ḡ of an ε-subdifferential. It comes from the columns whose k-th selected
/// and best unselected entries are ε-tied (sparse.cpp, mixture_residual): the min-norm marginal
/// residual of the plans that move a fraction λ_j ∈ [0, 1] of the k-th entry's mass to the tied
/// entry, i.e. of a mixture of the plans recovered near x (a plan of the convexified problem).
/// With these large ε, ‖ḡ‖₁ only steers L-BFGS; the reported `stationarity` (k < n) is the
/// measure below, at ε = 1e-12 × the largest cost.
///
/// Certified maximizer (k < n, -sparse_optimizer lbfgs): the objective is concave and piecewise
/// quadratic; at its maximizer x* the top-k selections of some columns are tied (the column's
/// k-th selected entry p and an unselected q have s_p = s_q), and 0 ∈ ∂D(x*) means: some plan
/// that mixes, column by column, the plans of the tied selections (weights in [0, 1], a plan
/// of the convexified problem) meets the marginals. When L-BFGS stops short of -atol, an
/// active-set phase (sparse.cpp, tie_forest.hpp) looks for such a point: the ties at x (within
/// ε = 1e-12 × the largest cost; when that attempt ends uncertified, a second one from its last
/// point with ε = 1e-10 × the largest cost) that form a forest over the rows are made exact by
/// giving the rows of each tree one potential plus fixed offsets; the objective on that piece is
/// quadratic OT on the top-k supports with those rows merged, maximized by restricted_qp.hpp; a
/// line search on the true objective moves toward that maximizer and stops at the first new tie; at
/// a piece's maximizer the tie whose mixture weight leaves [0, 1] most is released (and the tied
/// entry swapped into the selection when it should carry the mass), as in a dual simplex step;
/// L-BFGS from the current point when the pieces stall. The phase ends when the point is certified,
/// after -sparse_max_pieces pieces per attempt, or when an attempt has spent as many objective
/// evaluations as were spent before it (at least 10000); the point is adopted only if its objective
/// is no worse (up to 1e-14 relative).
///
/// Stationarity measure (`stationarity`, k < n): the ties at x within ε (above: 1e-12 or 1e-10
/// × the largest cost), kept as a forest; along every tie a mass moves from p to q in its column so
/// that every row but one per tree meets its marginal (leaves first, unique on a forest). It is an
/// upper bound on the marginal L1 error of a plan that mixes selections within ε of x — the L1 norm
/// of an element of the ε-subdifferential of −D (−S): the trees' remaining row residuals, the
/// dual's column residuals, plus twice the mass by which weights outside [0, 1] must be
/// clipped, plus 6 |w| |s_q − s_p| / γ per tie (the flows move the hub's mass per unit weight;
/// a tied selection's own plan differs by that much). It is 0 (to rounding) at a maximizer whose
/// ties form a forest.
///
/// Stopping: the marginal L1 error (‖gradient‖₁) <= -atol is `converged_atol`;
/// -sparse_tao_gatol (‖gradient‖₂) gives `converged_tolerance`; so does (k < n) a stationarity
/// measure <= -sparse_stationarity_tol (default -atol) at the final point ("optimizer_stop"
/// stationary): a certified maximizer. Otherwise, where no direction decreases −D at
/// double-double precision the reason is `diverged_line_search`, at the iteration cap
/// `diverged_max_it` (the cap counts L-BFGS iterations; the pieces are extra). The plan and its
/// errors are reported in every case; at a certified kink the recovered plan is one tied
/// selection, so its marginal error is not small (the mixture's is). The history has one record
/// per accepted iteration (and one for the active-set phase's final point): marginal_error is
/// ‖gradient‖₁ there, wall_time is rank-local. Root attributes (extra): optimizer_stop, restarts,
/// bundle_steps (ε-subgradient steps), stationarity, tie_pieces, function_evaluations,
/// semidual_start_iterations.
///
/// Feasible plan and certified interval: at the final point the top k entries of every column
/// of α_i − C_ij form a support; quadratic OT restricted to it is solved by semismooth Newton
/// (restricted_qp.hpp: generalized Hessian + Levenberg–Marquardt shift, Jacobi-preconditioned
/// CG on replicated vectors with double-double reductions, exact line search) to a marginal L1
/// error <= -sparse_feasible_tol. Its plan has at most k non-zeros per column; its primal cost
/// ⟨C, T⟩ + γ/2 ‖T‖² is an upper bound and the (semi-)dual value a lower bound (weak duality)
/// of the sparsity-constrained problem: result.bounds / has_bounds (`/bounds` in the file),
/// `converged_rtol` when (upper − lower)/|upper| <= -sparse_gap_rtol. When the restricted
/// dual's maximizer is a better point of D (S) it becomes the final point and the next round
/// restricts to its support (-sparse_support_rounds). A support that admits no plan makes the
/// restricted dual unbounded: then there are no bounds, and feasible_plan says "not reached"
/// with feasible_marginal_error the smallest error reached. Extra attributes: feasible_plan,
/// feasible_marginal_error (and _source_, _target_), feasible_transport_cost,
/// feasible_primal_objective, feasible_newton_iterations, feasible_cg_iterations,
/// support_rounds_adopted. Not run with -max_it 0 (or -sparse_tao_max_it 0).
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
