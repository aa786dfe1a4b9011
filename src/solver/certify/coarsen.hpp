// SPDX-License-Identifier: BSD-3-Clause
// Multiscale start of near-exact OT: the problem binned on a regular grid, and the coarse
// potentials lifted back to the points.
#pragma once

#include <vector>

#include "parot/problem/problem.hpp"
#include "parot/solver/result.hpp"

namespace parot::multiscale {

/// A coarse problem and where every point went.
struct Coarsening {
  Problem coarse;
  std::vector<gindex> source_cell;  ///< coarse source index of each local source row (-1: none)
  std::vector<gindex> target_cell;  ///< coarse target index of each target point (-1: none)
};

/// Whether `problem` can be coarsened: points with 1 <= d <= 3 and a point-based cost.
/// @notcollective (replicated facts)
bool applicable(const Problem& problem);

/// Bins both measures on a grid of `cells` per dimension over the bounding box of all points:
/// every cell holding mass becomes one point (the weighted mean of its points) with that mass.
/// Coarse source points are block-distributed over problem.comm(); the coarse target is
/// replicated; the cost is of the same type. Points of zero weight map to -1.
/// One MPI_Allreduce of cells^d (d + 1) doubles, two of 2 d. @collective{problem.comm()}
Coarsening coarsen(const Problem& problem, long cells);

/// The fine potentials: each point takes its cell's coarse potential (f gathered over ranks:
/// one MPI_Allgatherv of the coarse source size). @collective{problem.comm()}
void lift(const Coarsening& coarsening, const Solution& coarse, const Problem& fine, Solution& out);

/// Makes lifted potentials consistent at `eps` with one matrix-free Sinkhorn iteration over the
/// full cost: f_i = eps (log a_i − LSE_j((g_j − C_ij)/eps)), then g likewise against the new f
/// (rows, then columns exact). Two exp sweeps over the local cost block and one reduction of m
/// (max, sum) pairs. @collective{problem.comm()}
void refine(const Problem& problem, Solution& solution, double eps);

}  // namespace parot::multiscale
