// SPDX-License-Identifier: BSD-3-Clause
// Hessian sparsification rules (sns.md §3.2): which plan entries the Newton matrix keeps.
#pragma once

#include <mpi.h>

#include <vector>

#include "parot/core/types.hpp"

namespace parot::sns {

/// The kept entries of a local dense plan block: P_ij >= row_threshold[i] and P_ij > 0.
struct Selection {
  std::vector<double> row_threshold;
  gindex kept = 0;  ///< kept entries on all ranks
};

/// Global threshold by a distributed two-round histogram of log P (a few reductions of 4096
/// doubles; P is never gathered). mass rule: drop the smallest entries while their mass stays
/// <= drop_mass; count rule (drop_mass < 0): keep at least `keep_count` largest entries.
/// With `logP` (log P per entry), the histogram takes no logarithm.
/// @collective{comm}
double select_global_threshold(MPI_Comm comm, const double* P, lindex count, double drop_mass,
                               double keep_count, const double* logP = nullptr);

/// Applies a rule to the local rows (n_local × m block P). rule: "mass", "count", "row".
/// @collective{comm}
Selection select_entries(MPI_Comm comm, const double* P, lindex n_local, lindex m,
                         const std::string& rule, double mass_tol, double kappa, long row_k,
                         gindex n_global, double total_mass);

}  // namespace parot::sns
