// SPDX-License-Identifier: BSD-3-Clause
// Row pass of truncated-kernel Sinkhorn (truncated_sweep.hpp), at the level chosen at start-up.
#include "truncated_sweep.hpp"

namespace parot::truncated {

RowPass row_pass(const std::int64_t* ptr, const std::int32_t* col, const double* cost, lindex n,
                 const double* a, double* f, const double* g, double eps, double omega,
                 double* col_sums, double* scratch) {
  return kernels::active().sparse_row_pass(ptr, col, cost, n, a, f, g, eps, omega, col_sums,
                                           scratch);
}

}  // namespace parot::truncated
