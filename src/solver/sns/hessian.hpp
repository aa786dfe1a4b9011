// SPDX-License-Identifier: BSD-3-Clause
// The sparsified Newton matrix of SNS as a PETSc MATMPIAIJ (sns.md §7.2).
#pragma once

#include <mpi.h>

#include <vector>

#include "parot/core/layout.hpp"
#include "petsc/petsc_ptr.hpp"
#include "solver/sns/sparsify.hpp"

namespace parot::sns {

/// Rank-interleaved numbering of the n + m Newton unknowns: rank p owns [offset[p], offset[p+1]),
/// first its source unknowns (rows of `rows`), then its target unknowns (block of `cols`).
struct NewtonLayout {
  Layout rows, cols;           ///< source rows; uniform layout of the targets
  std::vector<gindex> offset;  ///< nranks + 1
  int rank = 0;
  NewtonLayout(const Layout& source_rows, gindex m);  ///< @collective
  lindex local_size() const { return rows.local_size() + cols.local_size(); }
  gindex source_id(lindex i_local) const { return offset[rank] + i_local; }
  gindex target_id(gindex j) const;
};

/// M = (1/ε) [diag(P1) S; Sᵀ diag(Pᵀ1)] with the kept entries S of the local block P; an unknown of
/// a zero-weight point (empty row sum) gets diagonal 1 and is decoupled. @collective
petsc::MatPtr assemble_hessian(const NewtonLayout& layout, const double* P, lindex m,
                               const Selection& keep, const std::vector<double>& row_sum,
                               const std::vector<double>& col_sum, double eps);

/// The operator Π M Π, Π = I − v vᵀ, for a unit vector v (the null direction (1, −1)): symmetric
/// positive semidefinite with v in its null space exactly, whether or not M v = 0. A MATSHELL that
/// holds references to M and v; one extra reduction per product. @collective
petsc::MatPtr project_null_direction(Mat M, Vec v);

}  // namespace parot::sns
