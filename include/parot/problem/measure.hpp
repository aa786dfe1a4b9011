// SPDX-License-Identifier: BSD-3-Clause
// Measure: a discrete measure whose points and weights are held by rows of a Layout.
#pragma once

#include "parot/core/layout.hpp"
#include "parot/core/types.hpp"

namespace parot {

/// Points (one row per point, d columns) and weights of a discrete measure.
///
/// `points` and `weights` hold the rows [layout.begin(), layout.end()) (all rows for a
/// replicated layout). A measure given only through an explicit cost matrix has d = 0.
struct Measure {
  Layout layout;
  RowMatrix points;  ///< local_size x dim
  Vector weights;    ///< local_size
  lindex dim() const noexcept { return static_cast<lindex>(points.cols()); }
  gindex size() const noexcept { return layout.global_size(); }
};

/// Checks the input rules of DESIGN.md §5 (finite points; finite, non-negative weights with a
/// positive total) and returns the total mass. `what` names the measure in messages.
/// @collective{measure.layout.comm()}
/// @throws InvalidInput (collective) naming the first offending entry.
double validate_measure(const Measure& measure, const std::string& what);

}  // namespace parot
