// SPDX-License-Identifier: BSD-3-Clause
// Distributed selection of the kept plan entries.
#include "solver/sns/sparsify.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>

#include "kernels/newton.hpp"

namespace parot::sns {

double select_global_threshold(MPI_Comm comm, const double* P, lindex count, double drop_mass,
                               double keep_count, const double* logP) {
  constexpr lindex bins = 2048;
  double lo = -745.2, hi = 1.0;  // log P of every positive double plan entry (P <= e)
  std::vector<double> hist(2 * bins);
  for (int round = 0; round < 2; ++round) {
    std::fill(hist.begin(), hist.end(), 0.0);
    kernels::log_histogram(P, count, lo, hi, bins, hist.data(), hist.data() + bins, logP);
    MPI_Allreduce(MPI_IN_PLACE, hist.data(), static_cast<int>(hist.size()), MPI_DOUBLE, MPI_SUM,
                  comm);
    const double* counts = hist.data();
    const double* masses = hist.data() + bins;
    const double width = (hi - lo) / bins;
    lindex k = -1;
    if (drop_mass >= 0) {  // lowest bin whose mass no longer fits in the drop budget
      double cum = 0;
      for (lindex b = 0; b < bins; ++b) {
        if (cum + masses[b] > drop_mass) {
          k = b;
          break;
        }
        cum += masses[b];
      }
      if (k < 0) return std::exp(hi);  // everything in range may be dropped
      drop_mass -= cum;
    } else {  // highest bin that completes the kept count
      double cum = 0;
      for (lindex b = bins - 1; b >= 0; --b) {
        if (cum + counts[b] >= keep_count) {
          k = b;
          break;
        }
        cum += counts[b];
      }
      if (k < 0) return round == 0 ? 0.0 : std::exp(lo);  // keep everything in range
      keep_count -= cum;
    }
    hi = lo + static_cast<double>(k + 1) * width;
    lo = lo + static_cast<double>(k) * width;
  }
  return std::exp(lo);
}

Selection select_entries(MPI_Comm comm, const double* P, lindex n_local, lindex m,
                         const std::string& rule, double mass_tol, double kappa, long row_k,
                         gindex n_global, double total_mass) {
  Selection s;
  s.row_threshold.assign(static_cast<std::size_t>(n_local), 0.0);
  if (rule == "row") {
    std::vector<double> row(static_cast<std::size_t>(m));
    const lindex k = std::min<lindex>(row_k, m);
    for (lindex i = 0; i < n_local; ++i) {
      std::copy_n(P + i * m, m, row.begin());
      std::nth_element(row.begin(), row.begin() + (k - 1), row.end(), std::greater<double>());
      s.row_threshold[i] = row[static_cast<std::size_t>(k - 1)];
    }
  } else {
    const double t =
        rule == "mass" ? select_global_threshold(comm, P, n_local * m, mass_tol * total_mass, -1)
                       : select_global_threshold(comm, P, n_local * m, -1,
                                                 std::ceil(kappa * static_cast<double>(n_global)));
    std::fill(s.row_threshold.begin(), s.row_threshold.end(), t);
  }
  gindex kept = 0;
  for (lindex i = 0; i < n_local; ++i)
    for (lindex j = 0; j < m; ++j) {
      const double p = P[i * m + j];
      kept += p > 0 && p >= s.row_threshold[i];
    }
  MPI_Allreduce(&kept, &s.kept, 1, MPI_INT64_T, MPI_SUM, comm);
  return s;
}

}  // namespace parot::sns
