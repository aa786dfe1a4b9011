// SPDX-License-Identifier: BSD-3-Clause
// Tiled log-domain sweeps over the local rows of a matrix-free cost (shared by entropic solvers).
#pragma once

#include <mpi.h>

#include <vector>

#include "parot/problem/cost.hpp"
#include "parot/solver/result.hpp"

namespace parot::entropic {

/// Scratch buffers of the sweeps, sized once per solve.
class Workspace {
 public:
  static constexpr lindex tile_rows = 8;
  static constexpr lindex tile_cols = 1024;
  explicit Workspace(lindex m);
  std::vector<double> tile, scratch, cmax, csum;
};

/// lse[i] = LSE_j((g_j − C_ij)/eps) for every local row i (lse sized by the caller).
/// On entry, finite values of lse are used as shifts (one pass, one exp per entry); rows whose
/// shifted sum leaves the safe range, and rows without a finite shift, are recomputed with the
/// streaming maximum (two passes). @notcollective
void row_lse(const Cost& cost, const Vector& g, double eps, Vector& lse, Workspace& ws);

/// Partial column log-sum-exps over the local rows: after the call ws.cmax/ws.csum hold, for
/// every column j, (M_j, S_j) with LSE_i((f_i − C_ij)/eps) = M_j + log S_j over local rows.
/// With `shift` (m replicated values, e.g. the previous LSE_j), M_j = shift_j and one pass is
/// made; the caller checks the reduced sums with kernels::shifted_sum_ok and calls again
/// without a shift if any column failed. @notcollective
void col_lse_partial(const Cost& cost, const Vector& f, double eps, Workspace& ws,
                     const double* shift = nullptr);

/// An MPI reduction of (max, scaled sum) pairs: (m1, s1) ⊕ (m2, s2) = (M, s1 e^{m1−M} + s2
/// e^{m2−M}) with M = max(m1, m2). A pair (0, x) therefore sums x, and a pair (x, 0) takes the
/// maximum.
class LsePairReduction {
 public:
  LsePairReduction();
  ~LsePairReduction();
  LsePairReduction(const LsePairReduction&) = delete;
  LsePairReduction& operator=(const LsePairReduction&) = delete;
  /// In-place allreduce of `pairs` (2·count doubles, interleaved max, sum). @collective{comm}
  void allreduce(MPI_Comm comm, double* pairs, int count) const;

 private:
  MPI_Datatype type_ = MPI_DATATYPE_NULL;
  MPI_Op op_ = MPI_OP_NULL;
};

/// What the final plan P_ij = exp((f_i + g_j − C_ij)/eps) looks like.
struct PlanEvaluation {
  double transport_cost = 0;  ///< ⟨C, P⟩
  double mass = 0;            ///< Σ P
  double row_error = 0;       ///< ‖P1 − a‖₁
  double col_error = 0;       ///< ‖Pᵀ1 − b‖₁
  SparsePlan plan;            ///< local entries > threshold (when threshold >= 0)
};

/// One sweep over the local rows and one MPI_Allreduce of m + 3 doubles. @collective{comm}
PlanEvaluation evaluate_plan(MPI_Comm comm, const Cost& cost, gindex row_begin, const Vector& a,
                             const Vector& b, const Vector& f, const Vector& g, double eps,
                             double threshold);

}  // namespace parot::entropic
