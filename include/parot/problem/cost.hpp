// SPDX-License-Identifier: BSD-3-Clause
// Ground costs, evaluated matrix-free tile by tile (or read from a stored row block).
#pragma once

#include <memory>
#include <string>

#include "parot/core/types.hpp"
#include "parot/problem/measure.hpp"

namespace parot {

enum class CostType { sqeuclidean, euclidean, lp, matrix };

/// "sqeuclidean", "euclidean", "lp", "matrix".
std::string to_string(CostType type);
/// Inverse of to_string. @throws InvalidInput (collective) for an unknown name.
CostType cost_type_from_string(const std::string& name);

/// The cost c(x, y) between source rows and target columns.
///
/// sqeuclidean: |x−y|², euclidean: |x−y|, lp: Σ_k |x_k − y_k|^p, matrix: an explicit n×m matrix
/// whose local row block is stored. The cost never stores an n×m matrix of its own: `tile`
/// evaluates any block of the local rows on the fly.
class Cost {
 public:
  Cost() = default;
  /// A point-based cost between `source` (local rows) and `target` (replicated); copies the
  /// points it needs (O((n_local + m)·d) memory).
  Cost(CostType type, double p, const Measure& source, const Measure& target);
  /// An explicit cost: `block` holds the local rows (local_size x m) of the n x m matrix.
  explicit Cost(RowMatrix block);
  /// An explicit cost read in place from the caller's buffer: `rows` × `cols`, row-major and
  /// contiguous, kept alive by `owner` while this cost (or a copy of it) exists. No copy.
  Cost(const double* block, lindex rows, lindex cols, std::shared_ptr<const void> owner);

  CostType type() const noexcept { return type_; }
  double p() const noexcept { return p_; }
  lindex local_rows() const noexcept { return rows_; }
  lindex cols() const noexcept { return cols_; }
  /// The local rows of an explicit cost (empty otherwise).
  Eigen::Map<const RowMatrix> block() const noexcept {
    return {block_, block_ ? rows_ : 0, block_ ? cols_ : 0};
  }

  /// Writes C(i0 + a, j0 + b) to out[a * ld + b] for a < ni, b < nj (local row indices).
  /// @notcollective
  void tile(lindex i0, lindex ni, lindex j0, lindex nj, double* out, lindex ld) const;

  /// The largest entry of the whole n×m cost (one matrix-free sweep). @collective{comm}
  double max_value(MPI_Comm comm) const;

 private:
  CostType type_ = CostType::sqeuclidean;
  double p_ = 2.0;
  lindex rows_ = 0, cols_ = 0, dim_ = 0;
  RowMatrix source_;                   // local source points, rows_ x dim_
  RowMatrix target_t_;                 // target points transposed: dim_ x cols_ (SoA)
  std::shared_ptr<const void> owner_;  // explicit cost: keeps the block alive (shared by copies)
  const double* block_ = nullptr;      // explicit cost block, rows_ x cols_
};

}  // namespace parot
