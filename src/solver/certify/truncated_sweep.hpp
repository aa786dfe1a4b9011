// SPDX-License-Identifier: BSD-3-Clause
// The hot loop of truncated-kernel Sinkhorn; it runs at the instruction-set level chosen at
// start-up (kernels/dispatch.hpp, implementation in kernels/dispatch_loops.hpp).
#pragma once

#include <cstdint>

#include "kernels/dispatch.hpp"
#include "parot/core/types.hpp"

namespace parot::truncated {

/// A row or column sum in this range is used as is; outside it, the sum is redone against the
/// running maximum (underflow or overflow of exp would otherwise bias the update).
inline bool safe_sum(double s) {
  return kernels::sparse_sum_safe(s);
}

/// What one row pass saw at the potentials it started from: error = Σ_i |r_i − a_i| (r_i the
/// row sums of the plan on the support), af = Σ_i a_i f_i, bad = a non-finite potential came out.
using RowPass = kernels::SparseRowPass;

/// For every local row i of positive weight: r_i = Σ_{j in row} exp((f_i + g_j − C_ij)/eps) over
/// the CSR support (ptr, col, cost), then f_i ← f_i + omega eps log(a_i / r_i) (omega = 1:
/// Sinkhorn; in (1, 2): over-relaxed), and the updated row's entries are added to col_sums[j].
/// One exp per entry; rows whose sum leaves [1e-280, 1e280] are redone against their maximum,
/// with omega = 1. `scratch` holds the longest row. @notcollective
RowPass row_pass(const std::int64_t* ptr, const std::int32_t* col, const double* cost, lindex n,
                 const double* a, double* f, const double* g, double eps, double omega,
                 double* col_sums, double* scratch);

}  // namespace parot::truncated
