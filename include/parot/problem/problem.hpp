// SPDX-License-Identifier: BSD-3-Clause
// Problem: a source measure (rows distributed), a target measure (replicated) and a cost.
#pragma once

#include <map>
#include <string>

#include "parot/problem/cost.hpp"
#include "parot/problem/measure.hpp"

namespace parot {

/// An OT problem. Source rows are block-distributed over the communicator; the target measure
/// is replicated on every rank. After `finalize_problem` both measures have mass 1.
struct Problem {
  Measure source;
  Measure target;
  Cost cost;
  std::string name;          ///< free text, kept in result files
  double source_mass = 1.0;  ///< total mass before normalization
  double target_mass = 1.0;
  std::map<std::string, std::string> attributes;  ///< generator settings and the like

  MPI_Comm comm() const noexcept { return source.layout.comm(); }
  gindex n() const noexcept { return source.size(); }
  gindex m() const noexcept { return target.size(); }
};

/// What finalize_problem asks of the total masses.
enum class Masses {
  equal,  ///< balanced OT: they must agree to 1e-9 relative
  any,    ///< unbalanced OT: any positive totals (each side is still normalized to mass 1,
          ///< with its total kept in source_mass / target_mass)
};

/// Validates the input rules of DESIGN.md §5 (finite points and costs, non-negative weights,
/// positive totals that agree to 1e-9 relative unless `masses` is any, matching dimensions and
/// sizes) and normalizes both measures to mass 1. `origin` names the data in messages (a file
/// name). @collective{problem.comm()}
/// @throws InvalidInput, DimensionMismatch (collective)
void finalize_problem(Problem& problem, const std::string& origin = "problem",
                      Masses masses = Masses::equal);

}  // namespace parot
