// SPDX-License-Identifier: BSD-3-Clause
// The sliced-Wasserstein family: Monte Carlo SW_p with control variates, Max-SW, v-DSW, batches.
#pragma once

#include <mpi.h>

#include <string>
#include <vector>

#include "parot/core/types.hpp"
#include "parot/problem/measure.hpp"
#include "parot/problem/point_measure.hpp"

namespace parot {

/// Parameters of the sliced estimators. Defaults are defined here only.
/// Options keys (read by read_sliced_options, no prefix):
///   -type <sw|max_sw|vdsw>   estimator (sw)
///   -L <int>                 slices (sw), vMF samples per ascent step (vdsw) (100)
///   -p <real>                ground cost |x − y|^p, p >= 1 (2)
///   -seed <int>              seed of the counter-based directions (0)
///   -cv <none|lower|upper>   Gaussian control variate of SW_2 (none; needs p = 2)
///   -kappa <real>            vMF concentration of v-DSW (1)
///   -steps <int>             ascent steps of Max-SW and v-DSW (100)
///   -restarts <int>          random starting directions of Max-SW and v-DSW (4)
///   -step_size <real>        initial ascent step on the sphere, radians (0.5)
struct SlicedParams {
  std::string type = "sw";
  long L = 100;
  double p = 2;
  long seed = 0;
  std::string cv = "none";
  double kappa = 1;
  long steps = 100;
  long restarts = 4;
  double step_size = 0.5;
};

/// Reads the keys above. @collective{comm} @throws InvalidArgument
void read_sliced_options(MPI_Comm comm, SlicedParams& params);
/// Checks value ranges. @notcollective @throws InvalidArgument
void validate(const SlicedParams& params);

/// What a sliced estimate returns; replicated on every rank.
struct SlicedResult {
  std::string type;
  double sw_pp = 0;               ///< estimate of SW_p^p (Max-SW / v-DSW: their p-th power)
  double sw = 0;                  ///< SW_p = sw_pp^(1/p)
  double stderr_pp = 0;           ///< standard error of sw_pp (0 for Max-SW)
  double plain_stderr_pp = 0;     ///< standard error without the control variate
  double variance_reduction = 1;  ///< plain variance / control-variate variance
  bool cv_fallback = false;       ///< the control variate was degenerate: plain Monte Carlo used
  long slices = 0;
  std::vector<double> direction;  ///< Max-SW: the maximizing θ; v-DSW: the mean direction ε
  double time = 0;                ///< seconds (max over ranks)
  /// Phases of the replicated SW slice loop on this rank, in seconds (0 for other estimators):
  /// projecting (blocks of slices, one pass over the points per block), radix-sorting the
  /// projected keys, the 1-D W_p^p (and projected variances), and the final reduction (which
  /// includes waiting for the slowest rank).
  double time_project = 0, time_sort = 0, time_merge = 0, time_reduce = 0;
};

/// SW_p (or Max-SW_p, v-DSW_p) between two measures. Directions depend only on (seed, slice), so
/// the estimate is the same at any rank count; slices (sw), vMF samples (vdsw) or restarts
/// (max_sw) are split across ranks and combined by one reduction.
/// sw: a rank projects both measures on blocks of up to 8 of its slices in one pass over the
/// points, radix-sorts each slice's projections (O(n), exact; kernels/radix_sort.hpp) and takes
/// the 1-D W_p^p from the sorted quantiles when both measures have uniform weights and the same
/// size, by the exact two-pointer merge otherwise. Extra memory per rank: up to 64 MiB of
/// projected keys (at least one slice's, 8 (n + m) bytes), 8 (n + m) bytes of sort scratch;
/// off the quantile path also 16 (n + m) bytes of sorted atoms, and 8 bytes per point of
/// indices for a measure with unequal weights.
/// Each measure must have fewer than 2^32 points.
/// @collective{comm} @throws InvalidInput (a measure of 2^32 points or more)
SlicedResult sliced_wasserstein(MPI_Comm comm, const PointMeasure& mu, const PointMeasure& nu,
                                const SlicedParams& params);

/// SW_p (type sw, with or without control variate) between two measures whose points stay
/// distributed: each rank holds a block of rows of each measure (any Layout; a rank may own
/// nothing). Slices are processed in rounds of nranks: every rank projects its points on the
/// round's directions and one MPI_Alltoallv sends slice q's (value, weight) pairs to rank q, which
/// sorts and merges them. Memory per rank O((n/P + m/P)·d + n + m); the estimate equals
/// sliced_wasserstein's up to rounding. @collective{comm}
SlicedResult sliced_wasserstein_distributed(MPI_Comm comm, const Measure& mu, const Measure& nu,
                                            const SlicedParams& params);

/// The N × N matrix of SW_p between all pairs of a batch (type sw, no control variate): each
/// measure is projected and sorted once per slice, slices are split across ranks, and the
/// matrix is summed by one reduction. Returns the rows [row_begin, row_end) of the matrix.
/// @collective{comm}
RowMatrix sliced_distance_matrix(MPI_Comm comm, const std::vector<PointMeasure>& measures,
                                 const SlicedParams& params, gindex row_begin, gindex row_end);

/// The L × d directions θ_0 … θ_{L−1} of `sw` for this seed (uniform on the sphere; the same at
/// any rank count), for export and comparison with other codes. @notcollective
RowMatrix sliced_directions(long seed, long L, lindex d);

/// W_p^p between two 1-D measures (any sizes, weights normalized inside). @notcollective
double wasserstein_1d(const Vector& x, const Vector& a, const Vector& y, const Vector& b, double p);

}  // namespace parot
