// SPDX-License-Identifier: BSD-3-Clause
// Assembly of the sparsified Hessian: exact preallocation, off-process target rows stashed.
#include "solver/sns/hessian.hpp"

#include <algorithm>
#include <memory>

#include "parot/core/comm.hpp"
#include "parot/core/error.hpp"
#include "parot/core/memory.hpp"
#include "petsc/petsc_call.hpp"

namespace parot::sns {

namespace {
using petsc::to_petsc;

// Π M Π with Π = I − v vᵀ, from w = M v and s = vᵀ M v: for x̃ = Π x = x − (vᵀx) v,
// M x̃ = M x − (vᵀx) w and vᵀ M x̃ = vᵀ M x − (vᵀx) s, so Π M Π x = M x − a w − (b − a s) v
// with a = vᵀx and b = vᵀ M x, both from one (split-phase) reduction.
struct Projected {
  Mat M = nullptr;
  Vec v = nullptr, w = nullptr;
  PetscScalar s = 0;
};

PetscErrorCode projected_mult(Mat A, Vec x, Vec y) {
  Projected* c = nullptr;
  PetscCall(MatShellGetContext(A, &c));
  PetscCall(MatMult(c->M, x, y));
  PetscScalar a = 0, b = 0;
  PetscCall(VecDotBegin(x, c->v, &a));
  PetscCall(VecDotBegin(y, c->v, &b));
  PetscCall(VecDotEnd(x, c->v, &a));
  PetscCall(VecDotEnd(y, c->v, &b));
  const PetscScalar alpha[2] = {-a, -(b - a * c->s)};
  Vec dirs[2] = {c->w, c->v};
  PetscCall(VecMAXPY(y, 2, alpha, dirs));
  return 0;
}

PetscErrorCode projected_destroy(Mat A) {
  Projected* c = nullptr;
  PetscCall(MatShellGetContext(A, &c));
  PetscCall(MatDestroy(&c->M));
  PetscCall(VecDestroy(&c->v));
  PetscCall(VecDestroy(&c->w));
  delete c;
  return 0;
}
}  // namespace

NewtonLayout::NewtonLayout(const Layout& source_rows, gindex m)
    : rows(source_rows), cols(Layout::uniform(source_rows.comm(), m)) {
  MPI_Comm comm = rows.comm();
  rank = comm_rank(comm);
  const int size = comm_size(comm);
  const gindex local = local_size();
  std::vector<gindex> sizes(static_cast<std::size_t>(size));
  MPI_Allgather(&local, 1, MPI_INT64_T, sizes.data(), 1, MPI_INT64_T, comm);
  offset.assign(static_cast<std::size_t>(size) + 1, 0);
  for (int r = 0; r < size; ++r)
    offset[r + 1] = offset[r] + sizes[r];
}

gindex NewtonLayout::target_id(gindex j) const {
  const int owner = cols.owner(j);
  const gindex n_owner = rows.offsets()[owner + 1] - rows.offsets()[owner];
  return offset[owner] + n_owner + (j - cols.offsets()[owner]);
}

petsc::MatPtr assemble_hessian(const NewtonLayout& nl, const double* P, lindex m,
                               const Selection& keep, const std::vector<double>& row_sum,
                               const std::vector<double>& col_sum, double eps) {
  MPI_Comm comm = nl.rows.comm();
  const lindex n = nl.rows.local_size(), mp = nl.cols.local_size();
  const gindex tb = nl.cols.begin(), te = nl.cols.end();
  const double inv_eps = 1.0 / eps;
  // Target ids of all columns, and the preallocation of source rows and target rows.
  std::vector<PetscInt> tid(static_cast<std::size_t>(m));
  for (gindex j = 0; j < m; ++j)
    tid[j] = to_petsc(nl.target_id(j));
  std::vector<PetscInt> d_nnz(static_cast<std::size_t>(n + mp), 1), o_nnz(d_nnz.size(), 0);
  std::vector<int> col_count(static_cast<std::size_t>(m), 0);
  for (lindex i = 0; i < n; ++i)
    for (lindex j = 0; j < m; ++j) {
      const double p = P[i * m + j];
      if (!(p > 0 && p >= keep.row_threshold[i])) continue;
      (j >= tb && j < te ? d_nnz : o_nnz)[i] += 1;
      ++col_count[j];
    }
  // Column counts from every rank, summed onto the owners of the target rows.
  std::vector<int> total(static_cast<std::size_t>(std::max<lindex>(mp, 1)), 0);
  std::vector<int> recv(static_cast<std::size_t>(comm_size(comm)));
  for (std::size_t r = 0; r < recv.size(); ++r)
    recv[r] = static_cast<int>(nl.cols.offsets()[r + 1] - nl.cols.offsets()[r]);
  MPI_Reduce_scatter(col_count.data(), total.data(), recv.data(), MPI_INT, MPI_SUM, comm);
  for (lindex k = 0; k < mp; ++k) {
    d_nnz[n + k] += col_count[tb + k];
    o_nnz[n + k] += total[k] - col_count[tb + k];
  }

  // AIJ storage: a value and a column index per entry, plus the dense plan block beside it.
  double entries = 0;
  for (std::size_t r = 0; r < d_nnz.size(); ++r)
    entries += static_cast<double>(d_nnz[r]) + static_cast<double>(o_nnz[r]);
  check_memory(
      comm,
      16.0 * static_cast<double>(n) * static_cast<double>(m) + (8.0 + sizeof(PetscInt)) * entries,
      "SNS's sparse Hessian beside the dense plan block");
  petsc::MatPtr M;
  const PetscInt local = to_petsc(nl.local_size()), global = to_petsc(nl.offset.back());
  PAROT_PETSC_CALL(
      MatCreateAIJ(comm, local, local, global, global, 0, d_nnz.data(), 0, o_nnz.data(), M.out()));
  PAROT_PETSC_CALL(MatSetOption(M.get(), MAT_NEW_NONZERO_ALLOCATION_ERR, PETSC_TRUE));
  std::vector<PetscInt> cols;
  std::vector<PetscScalar> vals;
  for (lindex i = 0; i < n; ++i) {
    const PetscInt row = to_petsc(nl.source_id(i));
    cols.assign(1, row);
    vals.assign(1, row_sum[i] > 0 ? row_sum[i] * inv_eps : 1.0);
    for (lindex j = 0; j < m; ++j) {
      const double p = P[i * m + j];
      if (!(p > 0 && p >= keep.row_threshold[i])) continue;
      cols.push_back(tid[j]);
      vals.push_back(p * inv_eps);
      const PetscScalar v = p * inv_eps;
      PAROT_PETSC_CALL(MatSetValues(M.get(), 1, &tid[j], 1, &row, &v, INSERT_VALUES));
    }
    PAROT_PETSC_CALL(MatSetValues(M.get(), 1, &row, static_cast<PetscInt>(cols.size()), cols.data(),
                                  vals.data(), INSERT_VALUES));
  }
  for (gindex j = tb; j < te; ++j) {
    const PetscScalar v = col_sum[j] > 0 ? col_sum[j] * inv_eps : 1.0;
    PAROT_PETSC_CALL(MatSetValues(M.get(), 1, &tid[j], 1, &tid[j], &v, INSERT_VALUES));
  }
  PAROT_PETSC_CALL(MatAssemblyBegin(M.get(), MAT_FINAL_ASSEMBLY));
  PAROT_PETSC_CALL(MatAssemblyEnd(M.get(), MAT_FINAL_ASSEMBLY));
  return M;
}

petsc::MatPtr project_null_direction(Mat M, Vec v) {
  MPI_Comm comm = PetscObjectComm(reinterpret_cast<PetscObject>(M));
  PetscInt local = 0, global = 0;
  PAROT_PETSC_CALL(MatGetLocalSize(M, &local, nullptr));
  PAROT_PETSC_CALL(MatGetSize(M, &global, nullptr));
  petsc::VecPtr w;
  PAROT_PETSC_CALL(VecDuplicate(v, w.out()));
  PAROT_PETSC_CALL(MatMult(M, v, w.get()));
  PetscScalar s = 0;
  PAROT_PETSC_CALL(VecDot(w.get(), v, &s));
  petsc::MatPtr A;
  PAROT_PETSC_CALL(MatCreateShell(comm, local, local, global, global, nullptr, A.out()));
  PAROT_PETSC_CALL(
      MatShellSetOperation(A.get(), MATOP_MULT, reinterpret_cast<void (*)(void)>(projected_mult)));
  PAROT_PETSC_CALL(MatSetOption(A.get(), MAT_SYMMETRIC, PETSC_TRUE));
  // The context owns a reference to M and v and the vector w from here on.
  auto c = std::make_unique<Projected>();
  PAROT_PETSC_CALL(PetscObjectReference(reinterpret_cast<PetscObject>(M)));
  c->M = M;
  PAROT_PETSC_CALL(PetscObjectReference(reinterpret_cast<PetscObject>(v)));
  c->v = v;
  c->s = s;
  PAROT_PETSC_CALL(PetscObjectReference(reinterpret_cast<PetscObject>(w.get())));
  c->w = w.get();
  PAROT_PETSC_CALL(MatShellSetContext(A.get(), c.get()));
  PAROT_PETSC_CALL(MatShellSetOperation(A.get(), MATOP_DESTROY,
                                        reinterpret_cast<void (*)(void)>(projected_destroy)));
  c.release();
  return A;
}

}  // namespace parot::sns
