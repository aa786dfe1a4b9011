// SPDX-License-Identifier: BSD-3-Clause
// Layout construction and owner lookup.
#include "parot/core/layout.hpp"

#include <algorithm>
#include <vector>

#include "parot/core/comm.hpp"
#include "parot/core/error.hpp"

namespace parot {

Layout Layout::from_offsets(MPI_Comm comm, std::vector<gindex> offsets) {
  const int size = comm_size(comm), rank = comm_rank(comm);
  PAROT_CHECK(static_cast<int>(offsets.size()) == size + 1 && offsets.front() == 0, InvalidArgument,
              "layout offsets need nranks + 1 entries starting at 0");
  PAROT_CHECK(std::is_sorted(offsets.begin(), offsets.end()), InvalidArgument,
              "layout offsets must be non-decreasing");
  Layout l;
  l.comm_ = comm;
  l.global_ = offsets.back();
  l.begin_ = offsets[static_cast<std::size_t>(rank)];
  l.end_ = offsets[static_cast<std::size_t>(rank) + 1];
  l.offsets_ = std::move(offsets);
  return l;
}

Layout Layout::uniform(MPI_Comm comm, gindex global_size) {
  PAROT_CHECK(global_size >= 0, InvalidArgument, "layout size must be >= 0, got ", global_size);
  const gindex size = comm_size(comm);
  std::vector<gindex> offsets(static_cast<std::size_t>(size) + 1, 0);
  const gindex base = global_size / size, extra = global_size % size;
  for (gindex r = 0; r < size; ++r)
    offsets[static_cast<std::size_t>(r) + 1] =
        offsets[static_cast<std::size_t>(r)] + base + (r < extra ? 1 : 0);
  return from_offsets(comm, std::move(offsets));
}

Layout Layout::from_local(MPI_Comm comm, gindex local_size) {
  const int size = comm_size(comm);
  std::vector<gindex> sizes(static_cast<std::size_t>(size));
  MPI_Allgather(&local_size, 1, MPI_INT64_T, sizes.data(), 1, MPI_INT64_T, comm);
  std::vector<gindex> offsets(static_cast<std::size_t>(size) + 1, 0);
  for (int r = 0; r < size; ++r) {
    PAROT_CHECK(sizes[static_cast<std::size_t>(r)] >= 0, InvalidArgument,
                "negative local size on rank ", r);
    offsets[static_cast<std::size_t>(r) + 1] =
        offsets[static_cast<std::size_t>(r)] + sizes[static_cast<std::size_t>(r)];
  }
  return from_offsets(comm, std::move(offsets));
}

Layout Layout::replicated(MPI_Comm comm, gindex global_size) {
  PAROT_CHECK(global_size >= 0, InvalidArgument, "layout size must be >= 0, got ", global_size);
  Layout l;
  l.comm_ = comm;
  l.global_ = global_size;
  l.begin_ = 0;
  l.end_ = global_size;
  l.replicated_ = true;
  l.offsets_ = {0, global_size};
  return l;
}

int Layout::owner(gindex i) const {
  PAROT_CHECK(i >= 0 && i < global_, InvalidArgument, "index ", i, " outside [0, ", global_, ")");
  if (replicated_) return 0;
  // The last block whose begin is <= i and that is not empty.
  const auto it = std::upper_bound(offsets_.begin(), offsets_.end(), i);
  return static_cast<int>(it - offsets_.begin()) - 1;
}

Vector allgather(const Layout& layout, const Vector& local) {
  MPI_Comm comm = layout.comm();
  const int size = comm_size(comm);
  std::vector<int> counts(static_cast<std::size_t>(size)), displs(static_cast<std::size_t>(size));
  for (int r = 0; r < size; ++r) {
    counts[r] = static_cast<int>(layout.offsets()[r + 1] - layout.offsets()[r]);
    displs[r] = static_cast<int>(layout.offsets()[r]);
  }
  Vector full(layout.global_size());
  MPI_Allgatherv(local.data(), static_cast<int>(local.size()), MPI_DOUBLE, full.data(),
                 counts.data(), displs.data(), MPI_DOUBLE, comm);
  return full;
}

}  // namespace parot
