// SPDX-License-Identifier: BSD-3-Clause
// The end of every entropic solve: the plan of the final potentials, evaluated in the log domain.
#pragma once

#include "parot/problem/problem.hpp"
#include "parot/solver/result.hpp"

namespace parot::entropic {

/// Fills the result's ⟨C,P⟩, plan mass, marginal errors, dual objective and (plan_threshold
/// >= 0) sparse plan from the potentials (f local rows, g replicated) at regularization eps.
/// @collective{problem.comm()}
void record_final_plan(const Problem& problem, const Vector& f, const Vector& g, double eps,
                       double plan_threshold, SolveResult& result);

}  // namespace parot::entropic
