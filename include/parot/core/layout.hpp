// SPDX-License-Identifier: BSD-3-Clause
// Layout: which contiguous block of a global index range each rank owns.
#pragma once

#include <mpi.h>

#include <vector>

#include "parot/core/types.hpp"

namespace parot {

/// Ownership of a global range [0, global_size) by the ranks of a communicator.
///
/// A distributed layout gives rank r the block [offsets[r], offsets[r+1]); any rank may own
/// nothing. A replicated layout gives every rank the whole range (used for the target measure
/// and the g potential of Sinkhorn). The communicator is not owned.
class Layout {
 public:
  Layout() = default;

  /// Blocks of nearly equal size, the remainder going to the low ranks (as PETSC_DECIDE).
  /// @notcollective (global_size must be equal on all ranks)
  static Layout uniform(MPI_Comm comm, gindex global_size);
  /// Blocks of the given local sizes, in rank order. @collective{comm}
  static Layout from_local(MPI_Comm comm, gindex local_size);
  /// Blocks given by replicated offsets (size nranks+1, offsets[0] = 0, non-decreasing).
  /// @notcollective (offsets must be equal on all ranks)
  static Layout from_offsets(MPI_Comm comm, std::vector<gindex> offsets);
  /// Every rank holds the whole range. @notcollective
  static Layout replicated(MPI_Comm comm, gindex global_size);

  MPI_Comm comm() const noexcept { return comm_; }
  gindex global_size() const noexcept { return global_; }
  gindex local_size() const noexcept { return end_ - begin_; }
  gindex begin() const noexcept { return begin_; }
  gindex end() const noexcept { return end_; }
  bool is_replicated() const noexcept { return replicated_; }
  /// Block offsets of all ranks (nranks + 1 entries); for a replicated layout, {0, n}.
  const std::vector<gindex>& offsets() const noexcept { return offsets_; }
  /// The rank that owns global index i (the lowest such rank for a replicated layout).
  int owner(gindex i) const;

 private:
  MPI_Comm comm_ = MPI_COMM_NULL;
  gindex global_ = 0, begin_ = 0, end_ = 0;
  bool replicated_ = false;
  std::vector<gindex> offsets_;
};

/// The whole vector from each rank's block of it (`local` holds layout.local_size() entries),
/// on every rank (MPI_Allgatherv; int counts: blocks below 2^31 entries).
/// @collective{layout.comm()}
Vector allgather(const Layout& layout, const Vector& local);

}  // namespace parot
