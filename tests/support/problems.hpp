// SPDX-License-Identifier: BSD-3-Clause
// Test fixtures: building distributed problems from full arrays, gathering, serial references.
#pragma once

#include <mpi.h>

#include <vector>

#include "parot/parot.hpp"

namespace parot::test {

/// The distributed problem whose source rows [layout.begin, layout.end) come from the full
/// arrays X (n×d) and a; the target (Y, b) is replicated. Finalized (validated, normalized).
Problem make_problem(const Layout& rows, const RowMatrix& X, const Vector& a, const RowMatrix& Y,
                     const Vector& b, CostType type = CostType::sqeuclidean, double p = 2.0);
/// The same with an explicit cost matrix C (n×m).
Problem make_matrix_problem(const Layout& rows, const RowMatrix& C, const Vector& a,
                            const Vector& b);

/// Layouts to run every distributed test on: uniform, and one where rank 0 owns nothing and the
/// last rank owns the most. @collective
std::vector<Layout> test_layouts(MPI_Comm comm, gindex n);

/// The full vector from its distributed pieces, on every rank. @collective
Vector gather(const Layout& layout, const Vector& local);

/// True on every rank when `ok` holds on every rank. @collective
bool all_ranks(MPI_Comm comm, bool ok);

/// Dense log-domain Sinkhorn in long double on the full cost: the serial brute-force reference.
struct DenseReference {
  Vector f, g;
  double transport_cost = 0;
};
DenseReference dense_sinkhorn(const RowMatrix& C, const Vector& a, const Vector& b, double eps,
                              int iterations);

/// The full cost matrix of points (sqeuclidean or lp), evaluated directly.
RowMatrix cost_matrix(const RowMatrix& X, const RowMatrix& Y, CostType type, double p = 2.0);

/// max_i |(x_i − y_i) − mean over finite entries of (x − y)| / scale: compares potentials up to
/// the constant shift of the dual (entries that are −∞ in both are skipped).
double shift_invariant_error(const Vector& x, const Vector& y);

}  // namespace parot::test
