// SPDX-License-Identifier: BSD-3-Clause
// The sparsified SNS Hessian as a matrix-free bipartite operator (no PETSc assembly).
#pragma once

#include <mpi.h>

#include <cstdint>
#include <vector>

#include "petsc/petsc_ptr.hpp"
#include "solver/sns/hessian.hpp"

namespace parot::sns {

/// M = [D1 S; Sᵀ D2] on the rank-interleaved Newton layout (hessian.hpp): S is the local rows'
/// kept plan entries (already scaled by 1/ε) in CSR with global target columns, D1 the local
/// source diagonal, D2 the local target diagonal. The caller fills `value`, `diag` (n_local
/// sources, then the local targets) and calls changed() after every update.
struct BipartiteHessian {
  std::vector<std::int64_t> ptr;  ///< n_local + 1
  std::vector<std::int32_t> col;  ///< global target index of each entry
  std::vector<double> value;      ///< one per entry
  std::vector<double> diag;       ///< n_local + m_local
  Mat mat = nullptr;              ///< the shell (owned by the returned MatPtr)
  /// Tells PETSc that the values changed (the Jacobi preconditioner is rebuilt).
  void changed() const;
  // Communication and scratch space of the product.
  MPI_Comm comm = MPI_COMM_NULL;
  lindex n = 0, m = 0, mp = 0;
  std::vector<int> counts, displs;
  std::vector<double> xt, tpart;
};

/// A MATSHELL for M with MatMult (one MPI_Allgatherv and one MPI_Reduce_scatter of m doubles, one
/// pass over S) and MatGetDiagonal (for PCJACOBI); symmetric. `*data` points to its storage,
/// owned by the matrix, with ptr and col set from the pattern. @collective
petsc::MatPtr create_bipartite_hessian(const NewtonLayout& layout, lindex m,
                                       std::vector<std::int64_t> ptr, std::vector<std::int32_t> col,
                                       BipartiteHessian** data);

}  // namespace parot::sns
