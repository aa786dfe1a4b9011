// SPDX-License-Identifier: BSD-3-Clause
// Newton steps of SNS on a truncated support of the plan (no dense n_local × m block).
#pragma once

#include <petscksp.h>

#include <vector>

#include "parot/problem/problem.hpp"
#include "parot/solver/result.hpp"
#include "solver/certify/truncated.hpp"
#include "solver/sns/hessian.hpp"

namespace parot::sns {

/// What newton_on_support did.
struct SupportNewton {
  /// converged_atol (error on the support <= atol), diverged_max_it, diverged_nan,
  /// diverged_stalled (five steps without 10 % below the smallest error) or diverged_line_search
  Reason reason = Reason::iterating;
  long steps = 0;    ///< Newton steps taken (accepted)
  double error = 0;  ///< marginal error of the plan restricted to the support
  double kept = 0;   ///< entries of the Hessian pattern (all ranks)
};

/// The fixed pieces of the Newton system shared with the dense stage.
struct NewtonSystem {
  const NewtonLayout& layout;
  KSP ksp;           ///< CG (or what -sns_ksp_* chose); operators are set here
  Vec null_vec;      ///< unit null direction (1, −1) over coupled unknowns
  MatNullSpace nsp;  ///< spanned by null_vec
};

/// Newton on the plan restricted to `support` (truncated::build): P_q = exp((f_i + g_j − C_q)/ε)
/// over the kept entries only; gradient, objective, line search (expm1 form, sns.md §3.4) on the
/// support. The Hessian keeps the mass rule's entries (the largest until all but mass_tol of the
/// support's mass is kept), a pattern kept (values refreshed) while each step divides the error
/// by 4 or more, and chosen again otherwise. shell: the matrix-free bipartite operator
/// (bipartite.hpp, no assembly); else a MATAIJ preallocated by MatSetPreallocationCOO, values by
/// MatSetValuesCOO. Work per step:
/// two exps per kept entry plus one per line-search trial, one reduction of m + 3 doubles; no pass
/// over the dense cost. forcing > 0: inexact Newton, CG's relative tolerance of a step is
/// max(the KSP's own, min(0.1, max(forcing × error, 1e-3 atol / error))) (superlinear, and no
/// tighter than the last step needs). Records go to `history` (iterations offset by it0, times
/// since t0).
/// @collective{problem.comm()}
SupportNewton newton_on_support(const Problem& problem, const truncated::Support& support,
                                const NewtonSystem& sys, Vector& f, Vector& g, double eps,
                                double atol, long max_steps, double mass_tol, double forcing,
                                bool shell, long it0, double t0, bool monitor,
                                std::vector<IterationRecord>& history);

/// ‖P1 − a‖₁ + ‖Pᵀ1 − b‖₁ of the full plan at (f, g): one matrix-free pass over the cost and one
/// reduction of m + 1 doubles. @collective{problem.comm()}
double dense_marginal_error(const Problem& problem, const Vector& f, const Vector& g, double eps);

}  // namespace parot::sns
