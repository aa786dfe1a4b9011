// SPDX-License-Identifier: BSD-3-Clause
// Top-k operators of sparsity-constrained OT (sparse_ot.md §2): δ_Ω, max_Ω and P_{Δ,k}.
#pragma once

#include <algorithm>
#include <cmath>

#include "parot/core/types.hpp"

namespace parot::kernels {

/// Orders indices by value descending, ties by index ascending: a strict total order, so the
/// selected top-k set is deterministic.
struct ByValueDescending {
  const double* s;
  bool operator()(lindex i, lindex j) const { return s[i] > s[j] || (s[i] == s[j] && i < j); }
};

/// Selects the k largest of the `count` candidate indices idx[0..count) of s (any order in,
/// the k selected first out, sorted descending when `sorted`). Returns min(k, count).
inline lindex select_top_k(const double* s, lindex* idx, lindex count, lindex k, bool sorted) {
  const ByValueDescending order{s};
  if (k < count) {
    std::nth_element(idx, idx + k, idx + count, order);
    count = k;
  }
  if (sorted) std::sort(idx, idx + count, order);
  return count;
}

/// δ_Ω(s) = sup_{t ≥ 0, ‖t‖₀ ≤ k} ⟨s, t⟩ − (γ/2)‖t‖² = (1/(2γ)) Σ_{i ∈ topk(s)} [s_i]₊²,
/// and its gradient (1/γ)[s]₊ on the k largest entries of s.
/// `idx` is workspace for n indices; on return idx[0..*nnz) and val[0..*nnz) (room for k) hold
/// the gradient's non-zeros (*nnz ≤ k). Returns δ_Ω(s).
inline double sparse_delta(const double* s, lindex n, lindex k, double gamma, lindex* idx,
                           double* val, lindex* nnz) {
  // Only positive entries contribute: the k largest positive entries are the answer.
  lindex count = 0;
  for (lindex i = 0; i < n; ++i)
    if (s[i] > 0) idx[count++] = i;
  count = select_top_k(s, idx, count, k, false);
  std::sort(idx, idx + count);
  double value = 0;
  const double inv = 1.0 / gamma;
  for (lindex q = 0; q < count; ++q) {
    const double v = s[idx[q]];
    value += v * v;
    val[q] = v * inv;
  }
  *nnz = count;
  return 0.5 * inv * value;
}

/// The sparse projection onto the simplex P_{Δ,k}(v) (Kyrillidis et al. 2013): keep the k
/// largest entries, project them onto the simplex. `idx` is workspace for n indices; on return
/// idx[0..*nnz) and val[0..*nnz) (room for k) hold the non-zeros (ascending index). Returns the
/// threshold τ (t_i = max(v_i − τ, 0) on the kept entries).
inline double sparse_simplex_projection(const double* v, lindex n, lindex k, lindex* idx,
                                        double* val, lindex* nnz) {
  for (lindex i = 0; i < n; ++i)
    idx[i] = i;
  const lindex kk = select_top_k(v, idx, n, k, true);
  double sum = 0, tau = 0;
  for (lindex r = 0; r < kk; ++r) {  // ρ = the largest r with u_r − (Σ_{q ≤ r} u_q − 1)/r > 0
    sum += v[idx[r]];
    const double t = (sum - 1.0) / static_cast<double>(r + 1);
    if (v[idx[r]] - t > 0) tau = t;
  }
  std::sort(idx, idx + kk);
  lindex count = 0;
  for (lindex r = 0; r < kk; ++r) {
    const double t = v[idx[r]] - tau;
    if (t > 0) {
      idx[count] = idx[r];
      val[count++] = t;
    }
  }
  *nnz = count;
  return tau;
}

/// max_Ω(s; b) = sup_{t ∈ Δ, ‖t‖₀ ≤ k} ⟨s, t⟩ − (γ b/2)‖t‖², attained at t* = P_{Δ,k}(s/(γ b)),
/// which is also its gradient. `v` is workspace for n values, `idx` for n indices; on return
/// idx[0..*nnz), val[0..*nnz) hold t*'s non-zeros and *tau the projection threshold.
/// Requires γ b > 0. Returns max_Ω(s; b).
inline double sparse_max_omega(const double* s, lindex n, lindex k, double gamma_b, double* v,
                               lindex* idx, double* val, lindex* nnz, double* tau) {
  const double inv = 1.0 / gamma_b;
  for (lindex i = 0; i < n; ++i)
    v[i] = s[i] * inv;
  *tau = sparse_simplex_projection(v, n, k, idx, val, nnz);
  double dot = 0, sq = 0;
  for (lindex q = 0; q < *nnz; ++q) {
    dot += s[idx[q]] * val[q];
    sq += val[q] * val[q];
  }
  return dot - 0.5 * gamma_b * sq;
}

}  // namespace parot::kernels
