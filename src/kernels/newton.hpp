// SPDX-License-Identifier: BSD-3-Clause
// Loops of the sparse Newton stage over a dense block of the log-plan E = (f ⊕ g − C)/ε.
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/exp.hpp"
#include "parot/core/types.hpp"

namespace parot::kernels {

/// Σ_ij [P(f + tΔf, g + tΔg)_ij − P_ij] over an ni×nj block, in the form that keeps full relative
/// accuracy near the optimum (sns.md §3.4): P_ij · expm1(t δ_ij/ε) with δ_ij = Δf_i + Δg_j, and
/// exp(E_ij + t δ_ij/ε) where P_ij underflowed to 0. `ts` is t/ε.
inline double plan_change(const double* E, const double* P, lindex ni, lindex nj, const double* df,
                          const double* dg, double ts) {
  double total = 0;
  for (lindex a = 0; a < ni; ++a) {
    const double* e = E + a * nj;
    const double* p = P + a * nj;
    double s = 0;
    for (lindex b = 0; b < nj; ++b) {
      const double z = ts * (df[a] + dg[b]);
      s += p[b] > 0 ? p[b] * std::expm1(z) : (e[b] == -INFINITY ? 0.0 : std::exp(e[b] + z));
    }
    total += s;
  }
  return total;
}

/// plan_change over the entries of a CSR support (rows ptr, columns col; E and P per entry):
/// Σ_q P_q · expm1(t δ_q/ε), exp(E_q + t δ_q/ε) where P_q underflowed to 0. `ts` is t/ε.
inline double plan_change_csr(const std::int64_t* ptr, const std::int32_t* col, const double* E,
                              const double* P, lindex ni, const double* df, const double* dg,
                              double ts) {
  double total = 0;
  for (lindex i = 0; i < ni; ++i) {
    double s = 0;
    for (std::int64_t q = ptr[i]; q < ptr[i + 1]; ++q) {
      const double z = ts * (df[i] + dg[col[q]]);
      s += P[q] > 0 ? P[q] * std::expm1(z) : (E[q] == -INFINITY ? 0.0 : std::exp(E[q] + z));
    }
    total += s;
  }
  return total;
}

/// Adds the entries of `p` (count n) to a histogram of log(p) over [lo, hi) with `bins` bins:
/// counts and masses. Entries outside [lo, hi) (and zeros) go to no bin.
/// With `logs` (log p, e.g. the log-plan the entries came from), no logarithm is taken.
inline void log_histogram(const double* p, lindex n, double lo, double hi, lindex bins,
                          double* counts, double* masses, const double* logs = nullptr) {
  const double scale = static_cast<double>(bins) / (hi - lo);
  for (lindex k = 0; k < n; ++k) {
    if (!(p[k] > 0)) continue;
    const double x = logs ? logs[k] : std::log(p[k]);
    if (!(x >= lo && x < hi)) continue;
    lindex bin = static_cast<lindex>((x - lo) * scale);
    if (bin >= bins) bin = bins - 1;  // rounding at the top edge
    counts[bin] += 1;
    masses[bin] += p[k];
  }
}

}  // namespace parot::kernels
