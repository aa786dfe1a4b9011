// SPDX-License-Identifier: BSD-3-Clause
// Basic index and dense-array types shared by every layer of parot.
#pragma once

#include <cstdint>

#include <Eigen/Core>

namespace parot {

/// Global index (rows, columns, counts across all ranks). 64-bit in the API whatever PETSc uses.
using gindex = std::int64_t;
/// Rank-local index.
using lindex = std::int64_t;

/// Row-major dense matrix: points are stored one row per point.
using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Vector = Eigen::VectorXd;

}  // namespace parot
