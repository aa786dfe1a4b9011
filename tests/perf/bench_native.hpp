// SPDX-License-Identifier: BSD-3-Clause
// The reference kernels of the microbenchmarks (exp throughput, memory bandwidth), run at the
// same instruction-set level as the library's hot loops (kernels/dispatch.hpp).
#pragma once

#include "parot/core/types.hpp"

namespace parot::bench {

/// out[i] = kernels::fast_exp(in[i]) (kernels::exp_array, as the sweeps compile it).
void fast_exp_array(const double* in, double* out, lindex n);
/// out[i] = std::exp(in[i]).
void std_exp_array(const double* in, double* out, lindex n);
/// Σ_i fast_exp(in[i] − shift): the exp plus the lane-wise sum of the log-sum-exp loops.
double fast_exp_sum(const double* in, lindex n, double shift);
/// STREAM-like kernels over arrays much larger than the last-level cache.
double stream_read(const double* a, lindex n);  ///< Σ a_i
void stream_triad(double* a, const double* b, const double* c, double s,
                  lindex n);  ///< a = b + s c

/// The two roofs every kernel benchmark is compared with, measured at start-up by this binary:
/// the best of several short runs (the roof, not the typical value, on a shared machine).
struct Bounds {
  double exp_per_s = 0;      ///< fast_exp over an array in L1 (exp_array), elements/s
  double read_bytes_s = 0;   ///< stream_read over `mb` MiB, bytes/s
  double triad_bytes_s = 0;  ///< stream_triad over 3 arrays of `mb`/3 MiB, bytes/s (24 B/element)
};
Bounds measure_bounds(double mb, double seconds);

}  // namespace parot::bench
