// SPDX-License-Identifier: BSD-3-Clause
// The stored, absorbed Gibbs kernel: Sinkhorn sweeps as matrix-vector products (scaling form).
#pragma once

#include <vector>

#include "solver/entropic/sweeps.hpp"

namespace parot::entropic {

/// K̃_ij = exp((f̃_i + g̃_j − C_ij)/ε) for the local rows, with absorbed potentials f̃, g̃ (Schmitzer's
/// stabilized scaling). The current potentials are f = f̃ + ε log u, g = g̃ + ε log v, so
///   LSE_j((g_j − C_ij)/ε) = −f̃_i/ε + log Σ_j K̃_ij v_j,   LSE_i((f_i − C_ij)/ε) = −g̃_j/ε + log Σ_i
///   K̃_ij u_i,
/// and one pass over K̃ per Sinkhorn iteration replaces two exp sweeps over the cost.
///
/// Safety: rows are re-absorbed (f̃_i ← f_i, row recomputed) whenever |f_i − f̃_i|/ε > `bound`,
/// and the caller re-absorbs everything when |g_j − g̃_j|/ε > `bound`. A stored entry that
/// underflowed is then worth at most e^{−708 + bound} of plan mass; a row sum is trusted only when
/// it is >= 1e-100 (so the lost terms are far below rounding), and recomputed in the log domain
/// otherwise. Memory: n_local × m doubles.
class StoredKernel {
 public:
  static constexpr double bound = 100.0;

  /// Builds K̃ from the potentials (absorbing them). −∞ potentials are absorbed as 0.
  /// @notcollective
  void absorb(const Cost& cost, const Vector& f, const Vector& g, double eps);

  /// True when some |g_j − g̃_j|/ε exceeds the bound (g is replicated, so every rank agrees).
  bool needs_absorption(const Vector& g, double eps) const;

  /// Fused Sinkhorn f-update and partial column sums: sets f_i = ε(log a_i − LSE_i) for every
  /// local row, then ws.cmax[j] = −g̃_j/ε and ws.csum[j] = Σ_i K̃_ij u_i. Sets `bad` if some f_i
  /// is NaN or +∞. @notcollective
  void sweep(const Cost& cost, const Vector& log_a, const Vector& g, double eps, Vector& f,
             Workspace& ws, bool& bad);

 private:
  void absorb_row(const Cost& cost, lindex i, double fi, double eps);

  lindex n_ = 0, m_ = 0;
  std::vector<double> k_, ft_, gt_, v_;
};

}  // namespace parot::entropic
