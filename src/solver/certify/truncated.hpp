// SPDX-License-Identifier: BSD-3-Clause
// Kernel truncation for the small-ε stages of near-exact OT: Sinkhorn on the entries of the
// plan that can matter, O(kept) work per iteration instead of O(n m).
#pragma once

#include <cstdint>
#include <vector>

#include "parot/problem/problem.hpp"
#include "parot/solver/checkpoint.hpp"
#include "parot/solver/result.hpp"

namespace parot::truncated {

/// The kept entries of the local rows: CSR with ascending columns, and their costs.
struct Support {
  std::vector<std::int64_t> ptr;  ///< local rows + 1 offsets (empty when nothing is stored)
  std::vector<std::int32_t> col;
  std::vector<double> cost;
  double kept = 0;  ///< global number of entries (replicated), also when over the budget

  bool stored() const noexcept { return !ptr.empty(); }
};

/// The support of the plan P = exp(s/eps), s_ij = f_i + g_j − C_ij, truncated at `depth`: the
/// entries of positive weights with s_ij >= max(R_i, K_j) − depth·eps, R_i and K_j the largest
/// s of row i and of column j. Every row and column of positive weight keeps its largest entry,
/// and a dropped entry is below e^-depth times the largest of its row and of its column.
/// Three passes over the cost (matrix-free: maxima, counts, entries), one MPI_Allreduce (MAX) of
/// m doubles and one (SUM) of one. When the global count exceeds `budget` entries nothing is stored
/// (stored() false, kept = the count). @collective{problem.comm()}
Support build(const Problem& problem, const Vector& f, const Vector& g, double eps, double depth,
              double budget);

/// Entries of `fresh` absent from `old`, summed over ranks. Built from the current potentials
/// at a smaller depth than `old`, a positive count means the truncation `old` made may have
/// mattered. No pass over the cost. @collective{problem.comm()}
double missing_entries(const Problem& problem, const Support& old, const Support& fresh);

/// What a truncated Sinkhorn stage did.
struct Outcome {
  /// converged_atol, diverged_max_it, diverged_nan, or diverged_stalled (no 1 % progress in 50
  /// iterations: the support probably lacks entries the marginals need)
  Reason reason = Reason::iterating;
  long iterations = 0;
  double error = 0;      ///< ‖P1 − a‖₁ of the returned potentials (columns exact)
  double objective = 0;  ///< ⟨a,f⟩ + ⟨b,g⟩ − eps·(Σ P − 1) at the returned potentials
};

/// The plan restricted to the support at (f, g): ⟨C,P⟩, Σ P and both marginal errors. One pass
/// over the kept entries and one MPI_Allreduce of m + 3 doubles. @collective{problem.comm()}
struct PlanSummary {
  double transport_cost = 0, mass = 0, row_error = 0, col_error = 0;
};
PlanSummary summarize(const Problem& problem, const Support& support, const Vector& f,
                      const Vector& g, double eps);

/// Log-domain Sinkhorn on `support` from (f, g) at `eps`, until the marginal error is <= atol
/// or `max_it` iterations. One exp per kept entry and one MPI_Allreduce of m + 4 doubles per
/// iteration (column sums, error, NaN flag, ⟨a,f⟩, signal flag). Records every `check_every`
/// iterations go to `history` (iteration numbers offset by `it0`, wall times since `t0`), with a
/// monitor line when `monitor`. A caught signal stops it through `checkpointing`.
/// @collective{problem.comm()}
Outcome sinkhorn(const Problem& problem, const Support& support, Vector& f, Vector& g, double eps,
                 double atol, long max_it, long check_every, bool monitor, long it0, double t0,
                 const Checkpointing& checkpointing, std::vector<IterationRecord>& history);

}  // namespace parot::truncated
