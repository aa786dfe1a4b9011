// SPDX-License-Identifier: BSD-3-Clause
// Problems from in-memory arrays (see from_arrays.hpp).
#include "parot/problem/from_arrays.hpp"

#include <string>

#include "parot/core/comm.hpp"
#include "parot/core/error.hpp"

namespace parot {

namespace {

// True on every rank when `value` is the same on every rank.
bool same_on_all_ranks(MPI_Comm comm, gindex value) {
  long long mine[2] = {value, -value}, all[2];
  MPI_Allreduce(mine, all, 2, MPI_LONG_LONG, MPI_MAX, comm);
  return all[0] == -all[1];
}

void check_sizes(MPI_Comm comm, const std::string& local_error, RowsGiven rows, gindex n_given,
                 gindex m, gindex d) {
  check_all(comm, local_error.empty(), ErrorKind::dimension_mismatch, local_error);
  PAROT_CHECK(same_on_all_ranks(comm, m) && same_on_all_ranks(comm, d), DimensionMismatch,
              "the target measure (its size and dimension) must be the same on every rank");
  PAROT_CHECK(rows == RowsGiven::local || same_on_all_ranks(comm, n_given), DimensionMismatch,
              "with all rows given on every rank, the source size must be the same on every rank");
}

Layout source_layout(MPI_Comm comm, RowsGiven rows, gindex n_given) {
  return rows == RowsGiven::all ? Layout::uniform(comm, n_given)
                                : Layout::from_local(comm, n_given);
}

// The rows of `full` that this rank keeps (all of them when the caller gave only its own).
template <class Block>
auto own_rows(const Block& given, RowsGiven rows, const Layout& layout) {
  const gindex first = rows == RowsGiven::all ? layout.begin() : 0;
  return given.middleRows(first, layout.local_size());
}

}  // namespace

Problem problem_from_points(MPI_Comm comm, RowsGiven rows, const RowMatrixCRef& X,
                            const VectorCRef& a, const RowMatrixCRef& Y, const VectorCRef& b,
                            CostType type, double p, Masses masses) {
  PAROT_CHECK(type != CostType::matrix, InvalidArgument,
              "problem_from_points takes a point cost; give an explicit cost to problem_from_cost");
  std::string error;
  if (a.size() != X.rows())
    error = detail::cat("the source has ", X.rows(), " points but ", a.size(), " weights");
  else if (b.size() != Y.rows())
    error = detail::cat("the target has ", Y.rows(), " points but ", b.size(), " weights");
  else if (X.cols() != Y.cols())
    error = detail::cat("the source points have dimension ", X.cols(), " but the target points ",
                        Y.cols());
  check_sizes(comm, error, rows, X.rows(), Y.rows(), Y.cols());

  Problem problem;
  problem.name = "arrays";
  problem.source.layout = source_layout(comm, rows, X.rows());
  problem.source.points = own_rows(X, rows, problem.source.layout);
  problem.source.weights = own_rows(a, rows, problem.source.layout);
  problem.target.layout = Layout::replicated(comm, Y.rows());
  problem.target.points = Y;
  problem.target.weights = b;
  problem.cost = Cost(type, p, problem.source, problem.target);
  finalize_problem(problem, "arrays", masses);
  return problem;
}

Problem problem_from_cost(MPI_Comm comm, RowsGiven rows, const RowMatrixCRef& C,
                          const VectorCRef& a, const VectorCRef& b,
                          std::shared_ptr<const void> owner, Masses masses) {
  std::string error;
  if (a.size() != C.rows())
    error =
        detail::cat("the cost has ", C.rows(), " rows but the source has ", a.size(), " weights");
  else if (b.size() != C.cols())
    error = detail::cat("the cost has ", C.cols(), " columns but the target has ", b.size(),
                        " weights");
  check_sizes(comm, error, rows, C.rows(), C.cols(), 0);

  Problem problem;
  problem.name = "arrays";
  problem.source.layout = source_layout(comm, rows, C.rows());
  problem.source.points = RowMatrix(problem.source.layout.local_size(), 0);
  problem.source.weights = own_rows(a, rows, problem.source.layout);
  problem.target.layout = Layout::replicated(comm, C.cols());
  problem.target.points = RowMatrix(C.cols(), 0);
  problem.target.weights = b;
  const auto kept = own_rows(C, rows, problem.source.layout);
  const bool in_place = owner && (kept.rows() <= 1 || kept.outerStride() == kept.cols());
  problem.cost = in_place ? Cost(kept.data(), kept.rows(), kept.cols(), std::move(owner))
                          : Cost(RowMatrix(kept));
  finalize_problem(problem, "arrays", masses);
  return problem;
}

}  // namespace parot
