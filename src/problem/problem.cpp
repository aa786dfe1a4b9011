// SPDX-License-Identifier: BSD-3-Clause
// Problem validation and normalization (DESIGN.md §5).
#include "parot/problem/problem.hpp"

#include <cmath>

#include "parot/core/comm.hpp"
#include "parot/core/error.hpp"

namespace parot {

void finalize_problem(Problem& problem, const std::string& origin, Masses masses) {
  MPI_Comm comm = problem.comm();
  PAROT_CHECK(problem.target.layout.is_replicated(), InternalError,
              "the target measure must be replicated");
  PAROT_CHECK(problem.n() > 0, InvalidInput, origin, ": the source measure is empty");
  PAROT_CHECK(problem.m() > 0, InvalidInput, origin, ": the target measure is empty");
  const double ms = validate_measure(problem.source, origin + ": source");
  const double mt = validate_measure(problem.target, origin + ": target");
  PAROT_CHECK(masses == Masses::any || std::abs(ms - mt) <= 1e-9 * std::max(ms, mt), InvalidInput,
              origin, ": the source and target masses differ (", ms, " vs ", mt,
              "); they must agree to 1e-9 relative");

  const Cost& cost = problem.cost;
  if (cost.type() == CostType::matrix) {
    const auto block = cost.block();
    PAROT_CHECK(cost.cols() == problem.m(), DimensionMismatch, origin, ": cost has ", cost.cols(),
                " columns but the target measure has ", problem.m(), " points");
    std::string bad;
    if (block.rows() != problem.source.layout.local_size())
      bad = detail::cat(origin, ": cost row block does not match the source layout");
    for (lindex i = 0; i < block.rows() && bad.empty(); ++i)
      for (lindex j = 0; j < block.cols(); ++j)
        if (!std::isfinite(block(i, j))) {
          bad = detail::cat(origin, ": /cost entry (", problem.source.layout.begin() + i, ", ", j,
                            ") is not finite");
          break;
        }
    check_all(comm, bad.empty(), ErrorKind::invalid_input, bad);
  } else {
    PAROT_CHECK(
        cost.cols() == problem.m() && cost.local_rows() == problem.source.layout.local_size(),
        InternalError, "the cost was built for other measures");
  }

  problem.source.weights /= ms;
  problem.target.weights /= mt;
  problem.source_mass = ms;
  problem.target_mass = mt;
}

}  // namespace parot
