// SPDX-License-Identifier: BSD-3-Clause
// Layout: blocks cover the range exactly once, empty ranks allowed, owners found.
#include <gtest/gtest.h>

#include "parot/parot.hpp"

using parot::gindex;
using parot::Layout;

TEST(Layout, UniformBlocksCoverTheRangeWithRemainderOnLowRanks) {
  MPI_Comm comm = MPI_COMM_WORLD;
  const int size = parot::comm_size(comm), rank = parot::comm_rank(comm);
  for (gindex n : {0, 1, 2, 7, 100}) {
    const Layout l = Layout::uniform(comm, n);
    gindex total = 0;
    const gindex local = l.local_size();
    MPI_Allreduce(&local, &total, 1, MPI_INT64_T, MPI_SUM, comm);
    EXPECT_EQ(total, n);
    EXPECT_EQ(l.local_size(), n / size + (rank < n % size ? 1 : 0));
    for (gindex i = 0; i < n; ++i) {
      const int owner = l.owner(i);
      EXPECT_GE(i, l.offsets()[owner]);
      EXPECT_LT(i, l.offsets()[owner + 1]);
    }
  }
}

TEST(Layout, FromLocalSizesWithEmptyRanks) {
  MPI_Comm comm = MPI_COMM_WORLD;
  const int rank = parot::comm_rank(comm);
  const Layout l = Layout::from_local(comm, rank % 2 == 0 ? 0 : 3);  // even ranks own nothing
  EXPECT_EQ(l.global_size(), 3 * (parot::comm_size(comm) / 2));
  EXPECT_EQ(l.local_size(), rank % 2 == 0 ? 0 : 3);
  if (l.local_size() > 0) {
    EXPECT_EQ(l.owner(l.begin()), rank);
  }
}

TEST(Layout, ReplicatedHoldsEverything) {
  const Layout l = Layout::replicated(MPI_COMM_WORLD, 5);
  EXPECT_TRUE(l.is_replicated());
  EXPECT_EQ(l.begin(), 0);
  EXPECT_EQ(l.end(), 5);
}
