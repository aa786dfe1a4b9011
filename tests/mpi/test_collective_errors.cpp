// SPDX-License-Identifier: BSD-3-Clause
// A fault seen by one rank becomes the same collective error on every rank, without a hang.
#include <gtest/gtest.h>

#include <string>

#include "parot/parot.hpp"

TEST(CollectiveErrors, FaultOnLastRankIsRaisedEverywhereWithItsMessage) {
  MPI_Comm comm = MPI_COMM_WORLD;
  const int rank = parot::comm_rank(comm), last = parot::comm_size(comm) - 1;
  try {
    parot::check_all(comm, rank != last, parot::ErrorKind::invalid_input,
                     "bad value on rank " + std::to_string(rank));
    ADD_FAILURE() << "no error raised";
  } catch (const parot::InvalidInput& e) {
    EXPECT_TRUE(e.collective());
    EXPECT_EQ(std::string(e.what()), "bad value on rank " + std::to_string(last));
  }
}

TEST(CollectiveErrors, LowestFailingRankWinsAndKindIsKept) {
  MPI_Comm comm = MPI_COMM_WORLD;
  const int rank = parot::comm_rank(comm);
  const auto fail_everywhere = [&] {
    throw parot::DimensionMismatch("rank " + std::to_string(rank), false);
  };
  EXPECT_THROW(parot::run_collectively(comm, fail_everywhere), parot::DimensionMismatch);
  try {
    parot::run_collectively(comm, [&] { throw parot::IoError(std::to_string(rank), false); });
  } catch (const parot::Error& e) {
    EXPECT_EQ(std::string(e.what()), "0");
    EXPECT_EQ(e.kind(), parot::ErrorKind::io);
  }
}

TEST(CollectiveErrors, NoFaultNoError) {
  EXPECT_NO_THROW(parot::check_all(MPI_COMM_WORLD, true));
  EXPECT_NO_THROW(parot::run_collectively(MPI_COMM_WORLD, [] {}));
}
