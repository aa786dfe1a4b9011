// SPDX-License-Identifier: BSD-3-Clause
// The SW slice loop on replicated measures (sliced.md §2, issue 16): directions in blocks, each
// measure projected on a whole block in one pass over its points, each slice's keys radix-sorted,
// then the 1-D W_p^p: sorted quantiles directly for two uniform measures of the same size, the
// exact two-pointer merge otherwise. No MPI.
#pragma once

#include <functional>

#include "parot/core/types.hpp"

namespace parot::sliced {

/// One measure as the slice loop reads it.
struct SliceMeasure {
  const double* points = nullptr;  ///< row-major n × d
  lindex n = 0, d = 0;
  const double* weights = nullptr;  ///< normalized to sum 1
  bool uniform = false;             ///< all weights equal (and positive)
};

/// Seconds this rank spent in each phase of the loop.
struct SliceTimes {
  double project = 0, sort = 0, merge = 0;
};

/// For each slice l in [begin, end): θ_l = random_direction(seed, l), f = W_p^p(θ_l♯μ, θ_l♯ν);
/// calls visit(θ_l, f, var_mu, var_nu), where var_* are the projected variances when
/// `variances` is set (0 otherwise). Slices are visited in increasing l. @notcollective
/// @throws InvalidInput for measures of 2^32 points or more.
void sw_slices(const SliceMeasure& mu, const SliceMeasure& nu, double p, long seed, gindex begin,
               gindex end, bool variances,
               const std::function<void(const double*, double, double, double)>& visit,
               SliceTimes& times);

/// True if every weight equals the first and is positive. @notcollective
bool uniform_weights(const double* w, lindex n);

}  // namespace parot::sliced
