// SPDX-License-Identifier: BSD-3-Clause
// Matrix-free cost evaluation.
#include "parot/problem/cost.hpp"

#include <algorithm>
#include <limits>
#include <vector>

#include "parot/core/comm.hpp"
#include "parot/core/error.hpp"

namespace parot {

std::string to_string(CostType type) {
  switch (type) {
    case CostType::sqeuclidean:
      return "sqeuclidean";
    case CostType::euclidean:
      return "euclidean";
    case CostType::lp:
      return "lp";
    case CostType::matrix:
      return "matrix";
  }
  return "unknown";
}

CostType cost_type_from_string(const std::string& name) {
  for (CostType t : {CostType::sqeuclidean, CostType::euclidean, CostType::lp, CostType::matrix})
    if (to_string(t) == name) return t;
  throw InvalidInput("unknown cost '" + name + "' (expected sqeuclidean, euclidean, lp, matrix)",
                     true);
}

Cost::Cost(CostType type, double p, const Measure& source, const Measure& target)
    : type_(type), p_(p) {
  PAROT_CHECK(type != CostType::matrix, InvalidInput,
              "a matrix cost needs the explicit cost block");
  PAROT_CHECK(source.dim() == target.dim(), DimensionMismatch, "source points have dimension ",
              source.dim(), " but target points have dimension ", target.dim());
  PAROT_CHECK(source.dim() > 0, InvalidInput, "points of dimension 0");
  PAROT_CHECK(type != CostType::lp || (p >= 1 && std::isfinite(p)), InvalidInput,
              "the lp cost needs a finite p >= 1, got ", p);
  rows_ = source.layout.local_size();
  cols_ = target.layout.global_size();
  dim_ = source.dim();
  source_ = source.points;
  target_t_ = target.points.transpose();
}

Cost::Cost(RowMatrix block) : type_(CostType::matrix), rows_(block.rows()), cols_(block.cols()) {
  auto owned = std::make_shared<const RowMatrix>(std::move(block));
  block_ = owned->data();
  owner_ = std::move(owned);
}

Cost::Cost(const double* block, lindex rows, lindex cols, std::shared_ptr<const void> owner)
    : type_(CostType::matrix), rows_(rows), cols_(cols), owner_(std::move(owner)), block_(block) {}

}  // namespace parot
