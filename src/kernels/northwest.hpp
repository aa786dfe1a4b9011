// SPDX-License-Identifier: BSD-3-Clause
// North-west-corner transport of one block of a supply vector to a replicated demand vector:
// the sparse way to move the mass a rounded plan leaves over (at most n + m − 1 entries).
#pragma once

#include <algorithm>
#include <vector>

#include "parot/core/types.hpp"

namespace parot::kernels {

/// Cumulative sums with a leading 0: out[k] = v[0] + … + v[k−1] (size n + 1).
inline std::vector<double> cumulative(const double* v, lindex n, double start = 0.0) {
  std::vector<double> out(static_cast<std::size_t>(n) + 1);
  out[0] = start;
  for (lindex k = 0; k < n; ++k)
    out[k + 1] = out[k] + v[k];
  return out;
}

/// Transports `supply[0..n)` — rows whose global cumulative supply starts at `offset` — onto the
/// demand intervals [demand_cum[j], demand_cum[j+1]) (size m + 1, starting at 0): row i, holding
/// [offset + Σ_{k<i} supply_k, … + supply_i), sends to column j the length of the overlap. Calls
/// emit(i, j, mass) for every positive overlap. Splitting the rows into blocks (ranks) with the
/// right offsets gives the same entries as one serial pass, up to rounding of the cumulative sums.
template <class Emit>
void northwest_corner(const double* supply, lindex n, double offset,
                      const std::vector<double>& demand_cum, Emit&& emit) {
  const lindex m = static_cast<lindex>(demand_cum.size()) - 1;
  double lo = offset;
  for (lindex i = 0; i < n; ++i) {
    const double hi = lo + supply[i];
    if (supply[i] > 0) {
      // The first column whose interval ends after lo.
      lindex j = static_cast<lindex>(
          std::upper_bound(demand_cum.begin() + 1, demand_cum.end(), lo) - demand_cum.begin() - 1);
      for (; j < m && demand_cum[j] < hi; ++j) {
        const double overlap = std::min(hi, demand_cum[j + 1]) - std::max(lo, demand_cum[j]);
        if (overlap > 0) emit(i, j, overlap);
      }
    }
    lo = hi;
  }
}

}  // namespace parot::kernels
