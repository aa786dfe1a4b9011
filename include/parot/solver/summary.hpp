// SPDX-License-Identifier: BSD-3-Clause
// A run summary for people (the HDF5 result holds the same numbers for programs).
#pragma once

#include <string>

#include "parot/problem/problem.hpp"
#include "parot/solver/result.hpp"

namespace parot {

/// Multi-line summary: problem, solver, reason, iterations, reg, ⟨C,P⟩, objective, errors, time.
/// @notcollective (its inputs are replicated)
std::string format_summary(const Problem& problem, const SolveResult& result, int nranks);

}  // namespace parot
