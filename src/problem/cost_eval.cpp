// SPDX-License-Identifier: BSD-3-Clause
// Matrix-free cost evaluation: the tile kernels, at the instruction-set level chosen at start-up
// (kernels/dispatch.hpp).
#include <algorithm>
#include <limits>
#include <vector>

#include "kernels/dispatch.hpp"
#include "parot/core/comm.hpp"
#include "parot/problem/cost.hpp"

namespace parot {

void Cost::tile(lindex i0, lindex ni, lindex j0, lindex nj, double* out, lindex ld) const {
  const double* x = source_.data() + i0 * dim_;
  const double* yt = target_t_.data() + j0;
  const kernels::KernelTable& k = kernels::active();
  switch (type_) {
    case CostType::sqeuclidean:
      k.sqeuclidean_tile(x, ni, dim_, yt, cols_, nj, out, ld);
      return;
    case CostType::euclidean:
      k.euclidean_tile(x, ni, dim_, yt, cols_, nj, out, ld);
      return;
    case CostType::lp:
      k.lp_tile(p_, x, ni, dim_, yt, cols_, nj, out, ld);
      return;
    case CostType::matrix:
      for (lindex a = 0; a < ni; ++a)
        std::copy_n(block_ + (i0 + a) * cols_ + j0, nj, out + a * ld);
      return;
  }
}

double Cost::max_value(MPI_Comm comm) const {
  double local = -std::numeric_limits<double>::infinity();
  if (type_ == CostType::matrix) {
    const double* c = block_;
    for (lindex k = 0; k < rows_ * cols_; ++k)
      local = std::max(local, c[k]);
  } else {
    constexpr lindex tr = 16, tc = 1024;
    std::vector<double> buf(static_cast<std::size_t>(tr * tc));
    for (lindex i0 = 0; i0 < rows_; i0 += tr)
      for (lindex j0 = 0; j0 < cols_; j0 += tc) {
        const lindex ni = std::min(tr, rows_ - i0), nj = std::min(tc, cols_ - j0);
        tile(i0, ni, j0, nj, buf.data(), tc);
        for (lindex a = 0; a < ni; ++a)
          for (lindex b = 0; b < nj; ++b)
            local = std::max(local, buf[a * tc + b]);
      }
  }
  return allreduce_max(comm, local);
}

}  // namespace parot
