// SPDX-License-Identifier: BSD-3-Clause
// GoogleTest main of a host program that embeds parot: it initializes MPI and PETSc itself (as
// mpi4py and petsc4py do), runs the tests with a parot::Environment attached to them, and then
// finalizes PETSc and MPI itself. The run fails if either finalization reports an error.
#include <gtest/gtest.h>
#include <mpi.h>
#include <petscsys.h>

#include <cstdio>
#include <cstdlib>

#include "main/mpi_listener.hpp"
#include "parot/core/environment.hpp"

int main(int argc, char** argv) {
  if (!std::getenv("GTEST_COLOR")) GTEST_FLAG_SET(color, "no");
  ::testing::InitGoogleTest(&argc, argv);
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  if (PetscInitialize(&argc, &argv, nullptr, nullptr)) return 1;
  int rank = 0, any = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  {
    parot::Environment env;  // attaches: PETSc is the host's
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    auto* mpi = new parot::test::MpiListener(listeners.Release(listeners.default_result_printer()),
                                             env.comm());
    listeners.Append(mpi);
    const int local = (!env.attached() || RUN_ALL_TESTS() != 0) ? 1 : 0;
    if (!env.attached()) std::fprintf(stderr, "parot::Environment did not attach\n");
    MPI_Allreduce(&local, &any, 1, MPI_INT, MPI_MAX, env.comm());
    mpi->print_summary(env.size());
  }
  const PetscErrorCode petsc = PetscFinalize();
  PetscBool petsc_finalized = PETSC_FALSE;
  PetscFinalized(&petsc_finalized);
  int mpi_finalized = 0;
  MPI_Finalized(&mpi_finalized);  // PETSc must have left MPI to the host
  const int mpi = mpi_finalized ? 1 : MPI_Finalize();
  if (rank == 0)
    std::printf(
        "host: PetscFinalize %d (finalized: %d), MPI still up after it: %d, "
        "MPI_Finalize %d\n",
        static_cast<int>(petsc), static_cast<int>(petsc_finalized), !mpi_finalized, mpi);
  return any || petsc || !petsc_finalized || mpi ? 1 : 0;
}
