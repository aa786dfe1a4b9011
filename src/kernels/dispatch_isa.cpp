// SPDX-License-Identifier: BSD-3-Clause
// The kernel table of one instruction-set level. Compiled once per level (src/CMakeLists.txt)
// with -DPAROT_ISA_NS=isa_<level> -DPAROT_ISA_ENUM=<level> and that level's -march flag.
//
// Every inline kernel is included below inside this level's namespace and an anonymous one, so
// each level's copies have their own internal symbols: an out-of-line copy compiled for AVX-512
// can never be picked by the linker for a call from code compiled for another level (which
// would fault with SIGILL on an older CPU). The only external symbol of this object is
// table(); tests/CMakeLists.txt checks that (dispatch_symbols). Nothing here creates or frees
// an Eigen object. Every header the kernel headers include (standard, Eigen, parot/core) must be
// included first, above, so that its include guard keeps it out of the namespaces.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "kernels/dispatch.hpp"
#include "parot/core/types.hpp"

#if !defined(PAROT_ISA_NS) || !defined(PAROT_ISA_ENUM)
#error "compile with -DPAROT_ISA_NS=isa_<level> -DPAROT_ISA_ENUM=<level>"
#endif

namespace parot::kernels::PAROT_ISA_NS {
namespace {
// clang-format off
#include "kernels/exp.hpp"
#include "kernels/lse.hpp"
#include "kernels/cost_tile.hpp"
#include "kernels/dispatch_loops.hpp"
// clang-format on
}  // namespace

namespace {
namespace k = PAROT_ISA_NS::parot::kernels;  // this level's copies
}  // namespace

const KernelTable& table() {
  static constexpr KernelTable t{
      Isa::PAROT_ISA_ENUM, &k::sqeuclidean_tile, &k::euclidean_tile,  &k::lp_tile,
      &k::row_lse_merge,   &k::col_lse_merge,    &k::row_sum_shifted, &k::col_sum_shifted,
      &k::exp_array,       &k::exp_sum,          &k::lane_sum,        &k::lane_dot,
      &k::add_scaled,      &k::gibbs_row,        &k::exp_scaled_diff, &k::sparse_row_pass};
  return t;
}

}  // namespace parot::kernels::PAROT_ISA_NS
