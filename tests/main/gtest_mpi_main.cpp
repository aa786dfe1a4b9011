// SPDX-License-Identifier: BSD-3-Clause
// GoogleTest main for MPI: every rank runs every test, rank 0 prints, a failure on any rank
// fails the test and the run (toolchain.md §3).
#include <gtest/gtest.h>
#include <mpi.h>

#include <cstdlib>

#include "main/mpi_listener.hpp"
#include "parot/core/environment.hpp"

int main(int argc, char** argv) {
  if (!std::getenv("GTEST_COLOR")) GTEST_FLAG_SET(color, "no");
  ::testing::InitGoogleTest(&argc, argv);  // strips --gtest_* before PETSc parses argv
  parot::Environment env(argc, argv);
  auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
  auto* mpi = new parot::test::MpiListener(listeners.Release(listeners.default_result_printer()),
                                           env.comm());
  listeners.Append(mpi);
  const int local = RUN_ALL_TESTS() != 0 ? 1 : 0;
  int any = 0;
  MPI_Allreduce(&local, &any, 1, MPI_INT, MPI_MAX, env.comm());
  mpi->print_summary(env.size());
  return any;
}
