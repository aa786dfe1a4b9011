// SPDX-License-Identifier: BSD-3-Clause
// Matrix-free bipartite Hessian of SNS (bipartite.hpp).
#include "solver/sns/bipartite.hpp"

#include <algorithm>
#include <memory>

#include "parot/core/comm.hpp"
#include "petsc/petsc_call.hpp"

namespace parot::sns {

namespace {

PetscErrorCode bipartite_mult(Mat A, Vec x, Vec y) {
  BipartiteHessian* h = nullptr;
  PetscCall(MatShellGetContext(A, &h));
  const PetscScalar* xa = nullptr;
  PetscScalar* ya = nullptr;
  PetscCall(VecGetArrayRead(x, &xa));
  PetscCall(VecGetArray(y, &ya));
  const lindex n = h->n, m = h->m, mp = h->mp;
  MPI_Allgatherv(xa + n, static_cast<int>(mp), MPI_DOUBLE, h->xt.data(), h->counts.data(),
                 h->displs.data(), MPI_DOUBLE, h->comm);
  std::fill(h->tpart.begin(), h->tpart.end(), 0.0);
  const std::int64_t* ptr = h->ptr.data();
  const std::int32_t* col = h->col.data();
  const double* v = h->value.data();
  const double* xt = h->xt.data();
  double* tp = h->tpart.data();
  for (lindex i = 0; i < n; ++i) {
    const double xi = xa[i];
    double s = h->diag[i] * xi;
    for (std::int64_t q = ptr[i]; q < ptr[i + 1]; ++q) {
      s += v[q] * xt[col[q]];
      tp[col[q]] += v[q] * xi;
    }
    ya[i] = s;
  }
  (void)m;
  MPI_Reduce_scatter(tp, ya + n, h->counts.data(), MPI_DOUBLE, MPI_SUM, h->comm);
  for (lindex k = 0; k < mp; ++k)
    ya[n + k] += h->diag[n + k] * xa[n + k];
  PetscCall(VecRestoreArrayRead(x, &xa));
  PetscCall(VecRestoreArray(y, &ya));
  return 0;
}

PetscErrorCode bipartite_diagonal(Mat A, Vec d) {
  BipartiteHessian* h = nullptr;
  PetscCall(MatShellGetContext(A, &h));
  PetscScalar* da = nullptr;
  PetscCall(VecGetArray(d, &da));
  std::copy(h->diag.begin(), h->diag.end(), da);
  PetscCall(VecRestoreArray(d, &da));
  return 0;
}

PetscErrorCode bipartite_destroy(Mat A) {
  BipartiteHessian* h = nullptr;
  PetscCall(MatShellGetContext(A, &h));
  delete h;
  return 0;
}

}  // namespace

void BipartiteHessian::changed() const {
  // Assembly bumps the matrix state, which is how a preconditioner learns of new values.
  PAROT_PETSC_CALL(MatAssemblyBegin(mat, MAT_FINAL_ASSEMBLY));
  PAROT_PETSC_CALL(MatAssemblyEnd(mat, MAT_FINAL_ASSEMBLY));
}

petsc::MatPtr create_bipartite_hessian(const NewtonLayout& nl, lindex m,
                                       std::vector<std::int64_t> ptr, std::vector<std::int32_t> col,
                                       BipartiteHessian** data) {
  MPI_Comm comm = nl.rows.comm();
  auto h = std::make_unique<BipartiteHessian>();
  h->comm = comm;
  h->n = nl.rows.local_size();
  h->m = m;
  h->mp = nl.cols.local_size();
  h->ptr = std::move(ptr);
  h->col = std::move(col);
  h->value.assign(h->col.size(), 0.0);
  h->diag.assign(static_cast<std::size_t>(h->n + h->mp), 1.0);
  h->counts.resize(static_cast<std::size_t>(comm_size(comm)));
  h->displs.resize(h->counts.size());
  for (std::size_t r = 0; r < h->counts.size(); ++r) {
    h->counts[r] = static_cast<int>(nl.cols.offsets()[r + 1] - nl.cols.offsets()[r]);
    h->displs[r] = static_cast<int>(nl.cols.offsets()[r]);
  }
  h->xt.assign(static_cast<std::size_t>(m), 0.0);
  h->tpart.assign(static_cast<std::size_t>(m), 0.0);
  petsc::MatPtr A;
  const auto local = static_cast<PetscInt>(nl.local_size());
  const auto global = static_cast<PetscInt>(nl.offset.back());
  PAROT_PETSC_CALL(MatCreateShell(comm, local, local, global, global, nullptr, A.out()));
  PAROT_PETSC_CALL(
      MatShellSetOperation(A.get(), MATOP_MULT, reinterpret_cast<void (*)(void)>(bipartite_mult)));
  PAROT_PETSC_CALL(MatShellSetOperation(A.get(), MATOP_GET_DIAGONAL,
                                        reinterpret_cast<void (*)(void)>(bipartite_diagonal)));
  PAROT_PETSC_CALL(MatSetOption(A.get(), MAT_SYMMETRIC, PETSC_TRUE));
  h->mat = A.get();
  *data = h.get();
  PAROT_PETSC_CALL(MatShellSetContext(A.get(), h.get()));
  PAROT_PETSC_CALL(MatShellSetOperation(A.get(), MATOP_DESTROY,
                                        reinterpret_cast<void (*)(void)>(bipartite_destroy)));
  h.release();
  return A;
}

}  // namespace parot::sns
