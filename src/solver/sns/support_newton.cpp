// SPDX-License-Identifier: BSD-3-Clause
// SNS Newton steps on a truncated support, with a COO-assembled Hessian (support_newton.hpp).
#include "solver/sns/support_newton.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "kernels/exp.hpp"
#include "kernels/newton.hpp"
#include "parot/core/comm.hpp"
#include "parot/core/error.hpp"
#include "parot/core/log.hpp"
#include "petsc/petsc_call.hpp"
#include "solver/sns/bipartite.hpp"
#include "solver/sns/sparsify.hpp"

namespace parot::sns {

using petsc::to_petsc;

SupportNewton newton_on_support(const Problem& problem, const truncated::Support& support,
                                const NewtonSystem& sys, Vector& f, Vector& g, double eps,
                                double atol, long max_steps, double mass_tol, double forcing,
                                bool shell, long it0, double t0, bool monitor,
                                std::vector<IterationRecord>& history) {
  MPI_Comm comm = problem.comm();
  const NewtonLayout& nl = sys.layout;
  const Vector& a = problem.source.weights;
  const Vector& b = problem.target.weights;
  const lindex n = problem.cost.local_rows(), m = problem.cost.cols();
  const lindex mp = nl.cols.local_size();
  const gindex tb = nl.cols.begin();
  const double inv_eps = 1.0 / eps;
  const std::int64_t* ptr = support.ptr.data();
  const std::int32_t* col = support.col.data();
  const double* cst = support.cost.data();
  const std::int64_t nnz = support.ptr.back();
  std::vector<double> E(static_cast<std::size_t>(nnz)), P(E.size());
  std::vector<double> row_sum(static_cast<std::size_t>(n)), col_sum(static_cast<std::size_t>(m));
  std::vector<double> sums(static_cast<std::size_t>(m) + 3), dg(static_cast<std::size_t>(m));
  Vector df(n);
  std::vector<int> counts(static_cast<std::size_t>(comm_size(comm))), displs(counts.size());
  for (std::size_t r = 0; r < counts.size(); ++r) {
    counts[r] = static_cast<int>(nl.cols.offsets()[r + 1] - nl.cols.offsets()[r]);
    displs[r] = static_cast<int>(nl.cols.offsets()[r]);
  }
  petsc::VecPtr rhs, dir;
  PAROT_PETSC_CALL(VecDuplicate(sys.null_vec, rhs.out()));
  PAROT_PETSC_CALL(VecDuplicate(sys.null_vec, dir.out()));

  petsc::MatPtr M;
  std::vector<std::int64_t> pattern;  // support entries of the Hessian's off-diagonal blocks
  std::vector<PetscScalar> values;    // COO values (aij)
  BipartiteHessian* bip = nullptr;    // the shell's storage (shell), owned by M
  SupportNewton out;
  double best = INFINITY;  // smallest error so far, and the steps since it was reached
  int since_best = 0;
  double last_err = INFINITY;  // the error before the last step
  PetscReal rtol_floor;
  PAROT_PETSC_CALL(KSPGetTolerances(sys.ksp, &rtol_floor, nullptr, nullptr, nullptr));
  while (true) {
    // Plan on the support, its marginals and the dual objective: one reduction of m + 3.
    std::fill(sums.begin(), sums.end(), 0.0);
    double row_err = 0, af = 0, mass = 0;
    for (lindex i = 0; i < n; ++i) {
      double s = 0;
      const double fi = f[i];
      for (std::int64_t q = ptr[i]; q < ptr[i + 1]; ++q) {
        const double e = (fi + g[col[q]] - cst[q]) * inv_eps;
        E[q] = e;
        P[q] = kernels::fast_exp(e);
      }
      for (std::int64_t q = ptr[i]; q < ptr[i + 1]; ++q) {
        s += P[q];
        sums[col[q]] += P[q];
      }
      row_sum[i] = s;
      mass += s;
      if (a[i] > 0) {
        row_err += std::abs(a[i] - s);
        af += a[i] * fi;
      }
    }
    sums[m] = row_err;
    sums[m + 1] = af;
    sums[m + 2] = mass;
    MPI_Allreduce(MPI_IN_PLACE, sums.data(), static_cast<int>(sums.size()), MPI_DOUBLE, MPI_SUM,
                  comm);
    double err = sums[m], bg = 0;
    for (lindex j = 0; j < m; ++j) {
      col_sum[j] = sums[j];
      if (b[j] > 0) {
        err += std::abs(b[j] - col_sum[j]);
        bg += b[j] * g[j];
      }
    }
    const double objective = sums[m + 1] + bg - eps * sums[m + 2] + eps;
    out.error = err;
    if (out.steps > 0) {
      IterationRecord& record = history.back();
      record.marginal_error = err;
      record.objective = objective;
      if (monitor) {
        char line[320];
        std::snprintf(line, sizeof line,
                      "%8ld  newton %3ld  error %.6e  objective %.15e  step %.3g  ksp %ld (%ld)  "
                      "kept %.3e  assembly %.3f s  solve %.3f s  line search %.3f s  %.3f s "
                      "(truncated support)",
                      record.iteration, out.steps, err, objective, record.step,
                      record.inner_iterations, record.inner_reason, record.kept_fraction,
                      record.assembly_time, record.inner_solve_time, record.line_search_time,
                      record.wall_time);
        print_root(comm, line);
      }
    }
    if (!std::isfinite(err))
      out.reason = Reason::diverged_nan;
    else if (err <= atol)
      out.reason = Reason::converged_atol;
    else if (out.steps >= max_steps)
      out.reason = Reason::diverged_max_it;
    else if (since_best >= 5)  // the line search raises the objective; the error may wander
      out.reason = Reason::diverged_stalled;
    if (out.reason != Reason::iterating) break;
    since_best = err < 0.9 * best ? 0 : since_best + 1;
    best = std::min(best, err);

    // Hessian: the pattern and its COO preallocation once, the values every step.
    const double ta = wall_time();
    // The pattern is kept while each step divides the error by 4 or more (its values follow the
    // plan), and chosen afresh when the plan moved enough to slow Newton down.
    if (!M.get() || err > 0.25 * last_err) {
      pattern.clear();
      const double t = select_global_threshold(comm, P.data(), static_cast<lindex>(nnz),
                                               mass_tol * sums[m + 2], -1, E.data());
      for (std::int64_t q = 0; q < nnz; ++q)
        if (P[q] > 0 && P[q] >= t) pattern.push_back(q);
      out.kept = allreduce_sum(comm, static_cast<double>(pattern.size()));
      const double tp = wall_time();
      if (shell) {
        std::vector<std::int64_t> hptr(static_cast<std::size_t>(n) + 1, 0);
        std::vector<std::int32_t> hcol(pattern.size());
        std::size_t k = 0;
        for (lindex i = 0; i < n; ++i) {
          for (; k < pattern.size() && pattern[k] < ptr[i + 1]; ++k)
            hcol[k] = col[pattern[k]];
          hptr[static_cast<std::size_t>(i) + 1] = static_cast<std::int64_t>(k);
        }
        M = create_bipartite_hessian(nl, m, std::move(hptr), std::move(hcol), &bip);
      } else {
        std::vector<PetscInt> tid(static_cast<std::size_t>(m));
        for (gindex j = 0; j < m; ++j)
          tid[j] = to_petsc(nl.target_id(j));
        const std::size_t ncoo = static_cast<std::size_t>(n + mp) + 2 * pattern.size();
        std::vector<PetscInt> ci, cj;
        ci.reserve(ncoo);
        cj.reserve(ncoo);
        for (lindex i = 0; i < n; ++i) {
          ci.push_back(to_petsc(nl.source_id(i)));
          cj.push_back(ci.back());
        }
        for (lindex k = 0; k < mp; ++k) {
          ci.push_back(tid[tb + k]);
          cj.push_back(tid[tb + k]);
        }
        for (lindex i = 0, q = 0; i < n; ++i) {  // pattern is sorted by entry, hence by row
          const PetscInt row = to_petsc(nl.source_id(i));
          for (; q < static_cast<lindex>(pattern.size()) && pattern[q] < ptr[i + 1]; ++q) {
            const PetscInt c = tid[col[pattern[q]]];
            ci.push_back(row);
            cj.push_back(c);
            ci.push_back(c);
            cj.push_back(row);
          }
        }
        const PetscInt local = to_petsc(nl.local_size()), global = to_petsc(nl.offset.back());
        PAROT_PETSC_CALL(MatCreate(comm, M.out()));
        PAROT_PETSC_CALL(MatSetSizes(M.get(), local, local, global, global));
        PAROT_PETSC_CALL(MatSetType(M.get(), MATAIJ));
        PAROT_PETSC_CALL(MatSetPreallocationCOO(M.get(), static_cast<PetscCount>(ci.size()),
                                                ci.data(), cj.data()));
        values.resize(ncoo);
      }
      if (monitor) {
        char line[200];
        std::snprintf(line, sizeof line,
                      "          Hessian pattern: %.3e entries, selection %.3f s, %s %.3f s",
                      out.kept, tp - ta, shell ? "bipartite operator" : "MatSetPreallocationCOO",
                      wall_time() - tp);
        print_root(comm, line);
      }
    }
    if (shell) {
      double* v = bip->value.data();
      for (std::size_t k = 0; k < pattern.size(); ++k)
        v[k] = P[pattern[k]] * inv_eps;
      for (lindex i = 0; i < n; ++i)
        bip->diag[i] = row_sum[i] > 0 ? row_sum[i] * inv_eps : 1.0;
      for (lindex t = 0; t < mp; ++t)
        bip->diag[n + t] = col_sum[tb + t] > 0 ? col_sum[tb + t] * inv_eps : 1.0;
      bip->changed();
    } else {
      std::size_t k = 0;
      for (lindex i = 0; i < n; ++i)
        values[k++] = row_sum[i] > 0 ? row_sum[i] * inv_eps : 1.0;
      for (lindex t = 0; t < mp; ++t)
        values[k++] = col_sum[tb + t] > 0 ? col_sum[tb + t] * inv_eps : 1.0;
      for (const std::int64_t q : pattern) {
        values[k++] = P[q] * inv_eps;
        values[k++] = P[q] * inv_eps;
      }
      PAROT_PETSC_CALL(MatSetValuesCOO(M.get(), values.data(), INSERT_VALUES));
    }
    {
      petsc::VecArray r(rhs.get());
      for (lindex i = 0; i < n; ++i)
        r[i] = a[i] > 0 ? a[i] - row_sum[i] : 0.0;
      for (lindex k = 0; k < mp; ++k)
        r[n + k] = b[tb + k] > 0 ? b[tb + k] - col_sum[tb + k] : 0.0;
    }
    // Π M Π on v⊥ (see the dense stage in sns.cpp for why not M with a null space).
    petsc::MatPtr op = project_null_direction(M.get(), sys.null_vec);
    PAROT_PETSC_CALL(MatSetNullSpace(op.get(), sys.nsp));
    PAROT_PETSC_CALL(MatNullSpaceRemove(sys.nsp, rhs.get()));

    const double ts = wall_time();
    if (forcing > 0) {  // inexact Newton: the inner tolerance follows the outer error
      PetscReal rtol, abstol, dtol;
      PetscInt maxit;
      PAROT_PETSC_CALL(KSPGetTolerances(sys.ksp, &rtol, &abstol, &dtol, &maxit));
      // forcing × error keeps the outer convergence superlinear; no step needs more than about
      // 1e-3 atol / error (measured: the L1 error left is within ~100x of rtol × error).
      const double want = std::min(0.1, std::max(forcing * err, 1e-3 * atol / err));
      PAROT_PETSC_CALL(KSPSetTolerances(sys.ksp, std::max(rtol_floor, want), abstol, dtol, maxit));
    }
    PAROT_PETSC_CALL(KSPSetOperators(sys.ksp, op.get(), M.get()));
    PAROT_PETSC_CALL(KSPSolve(sys.ksp, rhs.get(), dir.get()));
    PetscInt inner = 0;
    KSPConvergedReason inner_reason;
    PAROT_PETSC_CALL(KSPGetIterationNumber(sys.ksp, &inner));
    PAROT_PETSC_CALL(KSPGetConvergedReason(sys.ksp, &inner_reason));

    const double tl = wall_time();
    {
      petsc::VecArray d(dir.get());
      for (lindex i = 0; i < n; ++i)
        df[i] = a[i] > 0 ? d[i] : 0.0;
      MPI_Allgatherv(d.data() + n, static_cast<int>(mp), MPI_DOUBLE, dg.data(), counts.data(),
                     displs.data(), MPI_DOUBLE, comm);
    }
    for (lindex j = 0; j < m; ++j)
      if (!(b[j] > 0)) dg[j] = 0.0;
    double lin[2] = {0, 0};  // gradient·d and aᵀΔf (+ bᵀΔg below, replicated)
    for (lindex i = 0; i < n; ++i) {
      if (!(a[i] > 0)) continue;
      lin[0] += (a[i] - row_sum[i]) * df[i];
      lin[1] += a[i] * df[i];
    }
    MPI_Allreduce(MPI_IN_PLACE, lin, 2, MPI_DOUBLE, MPI_SUM, comm);
    for (lindex j = 0; j < m; ++j) {
      if (!(b[j] > 0)) continue;
      lin[0] += (b[j] - col_sum[j]) * dg[j];
      lin[1] += b[j] * dg[j];
    }
    double alpha = 1.0;
    bool accepted = false;
    for (int trial = 0; trial < 30; ++trial, alpha *= 0.5) {
      double local = kernels::plan_change_csr(ptr, col, E.data(), P.data(), n, df.data(), dg.data(),
                                              alpha * inv_eps);
      MPI_Allreduce(MPI_IN_PLACE, &local, 1, MPI_DOUBLE, MPI_SUM, comm);
      const double gain = -eps * local + alpha * lin[1];
      accepted = std::isfinite(gain) && gain >= 1e-4 * alpha * lin[0];
      if (accepted) break;
    }
    const double te = wall_time();
    if (!accepted) {
      out.reason = Reason::diverged_line_search;
      break;
    }
    ++out.steps;
    IterationRecord record;
    record.iteration = it0 + out.steps;
    record.reg = eps;
    record.marginal_error = err;
    record.objective = objective;
    record.step = alpha;
    record.inner_iterations = inner;
    record.inner_reason = inner_reason;
    record.kept_fraction =
        out.kept / (static_cast<double>(problem.n()) * static_cast<double>(problem.m()));
    record.assembly_time = ts - ta;
    record.inner_solve_time = tl - ts;
    record.line_search_time = te - tl;
    record.wall_time = allreduce_max(comm, te - t0);
    history.push_back(record);
    last_err = err;
    for (lindex i = 0; i < n; ++i)
      f[i] += alpha * df[i];
    for (lindex j = 0; j < m; ++j)
      g[j] += alpha * dg[j];
  }
  PetscReal rtol, abstol, dtol;
  PetscInt maxit;
  PAROT_PETSC_CALL(KSPGetTolerances(sys.ksp, &rtol, &abstol, &dtol, &maxit));
  PAROT_PETSC_CALL(KSPSetTolerances(sys.ksp, rtol_floor, abstol, dtol, maxit));
  return out;
}

double dense_marginal_error(const Problem& problem, const Vector& f, const Vector& g, double eps) {
  const Vector& a = problem.source.weights;
  const Vector& b = problem.target.weights;
  const lindex n = problem.cost.local_rows(), m = problem.cost.cols();
  const double inv_eps = 1.0 / eps;
  std::vector<double> c(static_cast<std::size_t>(m)), sums(static_cast<std::size_t>(m) + 1, 0.0);
  for (lindex i = 0; i < n; ++i) {
    if (!(a[i] > 0)) continue;
    problem.cost.tile(i, 1, 0, m, c.data(), m);
    const double fi = f[i];
    double s = 0;
    for (lindex j = 0; j < m; ++j) {
      const double p = b[j] > 0 ? kernels::fast_exp((fi + g[j] - c[j]) * inv_eps) : 0.0;
      s += p;
      sums[j] += p;
    }
    sums[m] += std::abs(a[i] - s);
  }
  MPI_Allreduce(MPI_IN_PLACE, sums.data(), static_cast<int>(sums.size()), MPI_DOUBLE, MPI_SUM,
                problem.comm());
  double err = sums[m];
  for (lindex j = 0; j < m; ++j)
    if (b[j] > 0) err += std::abs(b[j] - sums[j]);
  return err;
}

}  // namespace parot::sns
