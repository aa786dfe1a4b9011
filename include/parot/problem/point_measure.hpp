// SPDX-License-Identifier: BSD-3-Clause
// A discrete measure held whole by every rank (meshes, sliced estimators, batches).
#pragma once

#include "parot/core/types.hpp"

namespace parot {

/// A discrete measure held whole by every rank: points (n × d) and weights (normalized by the
/// code that uses them).
struct PointMeasure {
  RowMatrix points;
  Vector weights;
};

}  // namespace parot
