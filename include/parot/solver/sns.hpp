// SPDX-License-Identifier: BSD-3-Clause
// Sinkhorn–Newton–Sparse (Tang et al., ICLR 2024) on PETSc: a Sinkhorn warm start, then Newton
// steps with a sparsified Hessian solved by KSP (CG + Jacobi by default).
#pragma once

#include <mpi.h>

#include <memory>
#include <string>

#include "parot/solver/sinkhorn.hpp"
#include "parot/solver/solver.hpp"

namespace parot {

/// Parameters of SNS. Defaults are defined here only.
/// Options keys (read by SnsSolver::set_from_options):
///   -sns_warm_start <auto|fixed>  auto (default): Sinkhorn at the final ε, switching to Newton
///                              once the marginal error is below -sns_auto_switch (1e-2) or after
///                              -sns_warmup_it iterations; if the error then is still above
///                              -sns_auto_scaling_above (0.1), Newton would start far from its
///                              quadratic region, and the warm start is redone by ε-scaling down
///                              to an error of -sns_auto_switch. fixed: -sns_warmup_it iterations
///                              (and -sns_switch_tol), as in the paper. -sns_eps_scaling or a
///                              positive -sns_switch_tol select the fixed rules.
///   -sns_warmup_it <int>       Sinkhorn iterations before Newton (20)
///   -sns_switch_tol <real>     also switch once the marginal error is below this; <= 0: off (-1)
///   -sns_auto_switch <real>    marginal error that ends the auto warm start (1e-2)
///   -sns_auto_scaling_above <real>  auto: ε-scaling restart above this error (0.1)
///   -sns_truncation <real>     Newton on the truncated support of the plan (entries within
///                              e^-T of their row or column maximum, truncated.hpp), with the
///                              Hessian assembled by COO; the dense error is checked at the end
///                              and the support rebuilt (twice at most) or the dense stage used
///                              when it does not meet -atol. 0: dense Newton only; needs the mass
///                              rule, a safeguard other than on and no -checkpoint/-restart (36)
///   -sns_forcing <real>        truncated-support Newton is inexact: CG stops at the relative
///                              residual max(-sns_ksp_rtol, min(0.1, max(forcing × error,
///                              1e-3 atol / error))), error the marginal error before the step;
///                              0: always -sns_ksp_rtol (1)
///   -sns_hessian <shell|aij>   the truncated-support Hessian: shell, a matrix-free bipartite
///                              operator (two m-vector collectives per product, Jacobi from its
///                              diagonal); aij, assembled by COO (for other -sns_pc_type) (shell)
///   -sns_eps_scaling           warm start by ε-scaling Sinkhorn (from the largest cost down by
///                              -sns_eps_scaling_factor per stage) until the final ε reaches
///                              -sns_switch_tol (1e-3 when not given); for small reg (false)
///   -sns_eps_scaling_factor <real>  ratio of consecutive warm-start stages, in (0, 1) (0.5)
///   -sns_sparsify <mass|count|row>  Hessian sparsification rule (mass):
///                              mass: keep the largest plan entries until all but a fraction
///                                    -sns_mass_tol of the plan's mass is kept;
///                              count: keep the ceil(-sns_kappa * n) largest entries (the paper's
///                                    global rule, kappa = average entries per row);
///                              row: keep the -sns_row_k largest entries of every row
///   -sns_mass_tol <real>       dropped mass fraction of the mass rule (1e-7)
///   -sns_kappa <real>          average kept entries per row of the count rule (8)
///   -sns_row_k <int>           kept entries per row of the row rule (8)
///   -sns_ksp_rtol <real>       relative tolerance of the inner CG, unpreconditioned norm (1e-10)
///   -sns_ksp_max_it <int>      inner iteration cap; 0: 10 (n + m) (0)
///   -sns_safeguard <off|auto|on>  safeguarded steps (SSNS, sns.md §4.3): the shifted system
///                              (M + μ‖g‖₂ I) d = g, μ adapted from the actual/predicted increase,
///                              steps {1, 0.5, 0.25, 0.1}. auto: plain SNS, switching to the safe
///                              mode (once, recorded) when the line search fails or the error
///                              stalls for two steps (auto)
///   -sns_ksp_*, -sns_pc_*      the inner PETSc KSP and PC, e.g. -sns_ksp_type minres
struct SnsParams {
  std::string warm_start = "auto";
  long warmup_it = 20;
  double switch_tol = -1;
  double auto_switch = 1e-2;
  double auto_scaling_above = 0.1;
  double truncation = 36;
  double forcing = 1;
  std::string hessian = "shell";
  bool eps_scaling = false;
  double eps_scaling_factor = 0.5;
  std::string sparsify = "mass";
  double mass_tol = 1e-7;
  double kappa = 8;
  long row_k = 8;
  double ksp_rtol = 1e-10;
  long ksp_max_it = 0;
  std::string safeguard = "auto";
};

/// Checks every field: warmup_it >= 0, switch_tol finite, eps_scaling_factor in (0, 1), sparsify
/// one of mass|count|row, mass_tol in [0, 1), kappa finite and positive, row_k >= 1, ksp_rtol in
/// (0, 1), ksp_max_it in [0, PETSc's largest int], safeguard one of off|auto|on, warm_start one
/// of auto|fixed, hessian one of shell|aij, forcing >= 0, 0 < auto_switch <= auto_scaling_above,
/// truncation 0 or >= 10. Called by the constructor, set_from_options and solve. @notcollective
/// @throws InvalidArgument
void validate(const SnsParams& params);

/// SNS. The Newton unknowns (f, g) are a PETSc Vec of size n + m numbered rank-interleaved (rank
/// p owns its n_p source unknowns, then its m_p target unknowns); the sparsified Hessian is a
/// MATMPIAIJ with exact diagonal; the null direction (1, −1) is removed with a MatNullSpace; the
/// line search is Armijo on the dual objective, with its change computed by expm1 (sns.md §3.4)
/// and one scalar reduction per trial. Every decision uses replicated values.
class SnsSolver final : public Solver {
 public:
  /// @throws InvalidArgument for invalid params (validate).
  SnsSolver(MPI_Comm comm, SolveParams params = {}, SnsParams sns = {});
  ~SnsSolver() override;
  std::string type() const override { return "sns"; }
  /// Reads -sns_* and configures the inner KSP (so -sns_ksp_* keys count as used).
  /// @collective{comm}
  void set_from_options() override;
  /// @collective{problem.comm()}
  SolveResult solve(const Problem& problem, Solution& solution) override;

  SnsParams& sns_params() noexcept { return sns_; }

 private:
  struct Ksp;
  MPI_Comm comm_;
  SnsParams sns_;
  std::unique_ptr<Ksp> ksp_;
};

}  // namespace parot
