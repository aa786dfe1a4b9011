// SPDX-License-Identifier: BSD-3-Clause
// Input rules for measures (DESIGN.md §5).
#include "parot/problem/measure.hpp"

#include <cmath>

#include "parot/core/comm.hpp"
#include "parot/core/error.hpp"

namespace parot {

double validate_measure(const Measure& measure, const std::string& what) {
  const Layout& layout = measure.layout;
  MPI_Comm comm = layout.comm();
  std::string problem;
  for (lindex i = 0; i < layout.local_size() && problem.empty(); ++i) {
    const double w = measure.weights[i];
    const gindex gi = layout.begin() + i;
    if (!std::isfinite(w))
      problem = detail::cat(what, " weights: entry ", gi, " is not finite (", w, ")");
    else if (w < 0)
      problem = detail::cat(what, " weights: entry ", gi, " is negative (", w, ")");
    for (lindex k = 0; k < measure.dim() && problem.empty(); ++k)
      if (!std::isfinite(measure.points(i, k)))
        problem = detail::cat(what, " points: entry (", gi, ", ", k, ") is not finite");
  }
  check_all(comm, problem.empty(), ErrorKind::invalid_input, problem);
  const double local = measure.weights.sum();
  const double total = layout.is_replicated() ? local : allreduce_sum(comm, local);
  PAROT_CHECK(total > 0 && std::isfinite(total), InvalidInput, what,
              " weights: the total mass must be positive, got ", total);
  return total;
}

}  // namespace parot
