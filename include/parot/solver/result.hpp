// SPDX-License-Identifier: BSD-3-Clause
// What a solve returns: the reason it stopped, final scalars, the history and the potentials.
#pragma once

#include <limits>
#include <map>
#include <string>
#include <vector>

#include "parot/core/types.hpp"

namespace parot {

/// Why a solve stopped. PETSc's sign convention: positive converged, negative did not.
enum class Reason : int {
  converged_atol = 1,       ///< marginal L1 error <= atol
  converged_tolerance = 2,  ///< an inner optimizer's own tolerance (sparse: -sparse_tao_gatol,
                            ///< or the stationarity measure below -sparse_stationarity_tol)
  converged_rtol = 3,       ///< near-exact mode: certified (upper − lower) / upper <= -ot_rtol
  iterating = 0,
  diverged_max_it = -1,       ///< max_it reached first
  diverged_nan = -2,          ///< a NaN or Inf appeared in the potentials
  diverged_stalled = -3,      ///< no progress over the stall window
  diverged_line_search = -4,  ///< no step length increased the objective
  diverged_mass_loss = -5,    ///< a point of positive weight carries no plan mass (underflow)
  diverged_reg_floor = -6,    ///< near-exact mode: the smallest reg did not reach -ot_rtol
};
std::string to_string(Reason reason);
inline bool converged(Reason reason) {
  return static_cast<int>(reason) > 0;
}

/// One record per check. All values are identical on every rank.
struct IterationRecord {
  long iteration = 0;         ///< total iterations so far (all stages)
  double reg = 0;             ///< regularization of the current stage (absolute)
  double marginal_error = 0;  ///< ‖P1−a‖₁ + ‖Pᵀ1−b‖₁
  double objective = 0;       ///< dual objective
  double step = 0;            ///< step length (Newton stages; 1 for Sinkhorn)
  long inner_iterations = 0;  ///< inner solver iterations (Newton stages; 0 for Sinkhorn)
  double wall_time = 0;       ///< seconds since the solve started (max over ranks)
  // Newton steps only (NaN or 0 for Sinkhorn records):
  double kept_fraction = std::numeric_limits<double>::quiet_NaN();  ///< kept entries of P / (n m)
  long inner_reason = 0;        ///< KSPConvergedReason of the inner solve
  double assembly_time = 0;     ///< sparsification + assembly seconds (rank 0)
  double inner_solve_time = 0;  ///< KSP seconds (rank 0)
  double line_search_time = 0;  ///< line search seconds (rank 0)
};

/// Local part of a sparse plan (COO, global indices).
struct SparsePlan {
  std::vector<gindex> row, col;
  std::vector<double> value;
};

/// A certified interval lower <= OT(a, b, C) <= upper for the unregularized cost (certify.hpp).
struct Bounds {
  double lower = 0;
  double upper = 0;
  double rounded_source_error = 0;  ///< ‖Q1 − a‖₁ of the feasible plan Q behind `upper`
  double rounded_target_error = 0;  ///< ‖Qᵀ1 − b‖₁
  double moved_mass = 0;            ///< mass Q moves by the north-west corner
  double dropped_mass = 0;          ///< mass of scaled entries at or below the plan threshold
  /// (upper − lower) / |upper|; 0 when both are 0.
  double gap() const {
    return upper == 0 && lower == 0 ? 0.0 : (upper - lower) / (upper < 0 ? -upper : upper);
  }
};

/// Potentials: f holds the local source rows, g the whole target (replicated).
/// POT's convention: P_ij = exp((f_i + g_j − C_ij) / reg). A zero-weight point has potential −∞.
struct Solution {
  Vector f, g;
};

/// The result of a solve. Scalars are replicated.
struct SolveResult {
  std::string solver;
  Reason reason = Reason::iterating;
  long iterations = 0;  ///< all iterations of all stages
  long sinkhorn_iterations = 0;
  long newton_iterations = 0;
  long safeguard_from = -1;    ///< SNS: iteration where the safeguarded mode began (-1: never)
  long failed_iteration = -1;  ///< where a NaN or stall was detected (-1: none)
  long truncated_stages = 0;   ///< near-exact mode: stages run on the truncated kernel
  double reg = 0;              ///< final regularization (absolute)
  double reg_relative = 0;     ///< reg / largest cost
  double max_cost = 0;
  double transport_cost = 0;  ///< ⟨C, P⟩
  double objective = 0;       ///< dual objective at the end
  double marginal_error = 0;  ///< ‖P1−a‖₁ + ‖Pᵀ1−b‖₁ of the final plan
  double source_marginal_error = 0;
  double target_marginal_error = 0;
  double plan_mass = 0;        ///< Σ P
  double solve_time = 0;       ///< seconds (max over ranks)
  bool stored_kernel = false;  ///< Sinkhorn ran on a stored, absorbed kernel
  long absorptions = 0;        ///< stored kernel rebuilt (new ε stage, or g drifted)
  std::vector<IterationRecord> history;
  SparsePlan plan;  ///< local entries above the plan threshold (if requested); in near-exact
                    ///< mode the feasible rounded plan behind bounds.upper
  bool has_plan = false;
  bool has_bounds = false;  ///< near-exact mode (-ot_rtol)
  Bounds bounds;
  std::map<std::string, double> extra;            ///< solver-specific numeric root attributes
  std::map<std::string, std::string> extra_text;  ///< solver-specific string root attributes
};

}  // namespace parot
