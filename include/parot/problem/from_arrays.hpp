// SPDX-License-Identifier: BSD-3-Clause
// Problems from in-memory arrays: the entry point of programs that embed parot (and of the
// Python bindings).
#pragma once

#include <mpi.h>

#include <Eigen/Core>
#include <memory>

#include "parot/problem/problem.hpp"

namespace parot {

/// Which source rows the caller's arrays hold on each rank.
enum class RowsGiven {
  local,  ///< each rank gives its own block of rows, in rank order (a block may be empty)
  all,    ///< every rank gives all n rows; each keeps its block of Layout::uniform(comm, n)
};

using RowMatrixCRef = Eigen::Ref<const RowMatrix>;
using VectorCRef = Eigen::Ref<const Vector>;

/// The problem between source points X (rows × d) with weights a and target points Y (m × d)
/// with weights b, under a point cost (sqeuclidean, euclidean or lp with exponent p). The target
/// is replicated: every rank gives the same Y and b. The data is copied; the problem is
/// validated and normalized as a file would be (finalize_problem, DESIGN.md §5).
/// @collective{comm}
/// @throws DimensionMismatch (collective) when sizes disagree between the arrays or between
///   ranks (n under RowsGiven::all, m and d always); InvalidArgument for CostType::matrix;
///   InvalidInput for invalid values (NaN, negative weights, unequal masses, ...).
Problem problem_from_points(MPI_Comm comm, RowsGiven rows, const RowMatrixCRef& X,
                            const VectorCRef& a, const RowMatrixCRef& Y, const VectorCRef& b,
                            CostType type = CostType::sqeuclidean, double p = 2.0,
                            Masses masses = Masses::equal);

/// The problem with an explicit cost: C holds the given source rows (rows × m) of the n × m
/// cost, a their weights, b the m target weights (replicated). Otherwise as
/// problem_from_points. With an `owner` (which keeps C's buffer alive), the rows this rank keeps
/// are read in place for the problem's lifetime instead of copied (C row-major and contiguous,
/// as Eigen::Ref<const RowMatrix> guarantees); the caller must not change them meanwhile.
/// @collective{comm}
Problem problem_from_cost(MPI_Comm comm, RowsGiven rows, const RowMatrixCRef& C,
                          const VectorCRef& a, const VectorCRef& b,
                          std::shared_ptr<const void> owner = nullptr,
                          Masses masses = Masses::equal);

}  // namespace parot
