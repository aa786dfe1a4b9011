# SPDX-License-Identifier: BSD-3-Clause
# Test registration helpers: MPI tests at several rank counts, each under a timeout.
set(PAROT_MPI_TEST_TIMEOUT 900 CACHE STRING "Per-test timeout (s) for MPI tests")
set(PAROT_TEST_RANKS 1 2 3 4 CACHE STRING "Rank counts of the distributed tests")
# Open MPI on a small machine: more ranks than cores, yield instead of busy polling, and (as root,
# e.g. in CI containers) permission to run. PETSc's signal handler would mask crashes.
# odls_base_sigkill_timeout=0: after a rank exits non-zero, mpirun sends SIGCONT, SIGTERM and
# SIGKILL to the job one second apart by default, even when every rank has already exited: two
# idle seconds per run, and most driver tests are runs that must exit with code 2.
# pml=ob1: the tests run on one node, over shared memory; without it every MPI_Init also probes
# UCX, about 0.2 s of each of the suite's process starts (measured: mpirun -n 2 of an
# MPI_Init/MPI_Finalize program, 0.73-1.15 s against 0.52-0.96 s with ob1).
set(PAROT_TEST_ENVIRONMENT
    OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_mpi_yield_when_idle=1 OMPI_MCA_pml=ob1
    OMPI_MCA_odls_base_sigkill_timeout=0
    OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 PETSC_OPTIONS=-no_signal_handler)

# The ctest slots (PROCESSORS) of a driver test at `np` ranks. Driver tests are mostly process
# start-up latency (MPI and PETSc initialization, mpirun's set-up and clean-up: ~0.4 s of CPU in
# a run of ~1 s, measured), so they take at most two slots, and run-all.sh runs ctest with twice
# as many slots as cores: two such tests share the machine instead of one waiting for the other.
# The numeric MPI tests (parot_add_mpi_test) keep one slot per rank.
function(parot_driver_slots np out)
  if(np GREATER 2)
    set(${out} 2 PARENT_SCOPE)
  else()
    set(${out} ${np} PARENT_SCOPE)
  endif()
endfunction()

# Registers `command` (a list; @NP@ is replaced by the rank count) once per rank count.
function(parot_add_mpi_test name)
  cmake_parse_arguments(ARG "" "" "COMMAND;LABELS" ${ARGN})
  separate_arguments(_pre UNIX_COMMAND "${MPIEXEC_PREFLAGS}")
  foreach(np IN LISTS PAROT_TEST_RANKS)
    add_test(NAME ${name}_np${np}
             COMMAND ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} ${np} ${_pre} ${ARG_COMMAND})
    set_tests_properties(${name}_np${np} PROPERTIES PROCESSORS ${np}
                         TIMEOUT ${PAROT_MPI_TEST_TIMEOUT} LABELS "mpi;${ARG_LABELS}"
                         ENVIRONMENT "${PAROT_TEST_ENVIRONMENT}")
  endforeach()
endfunction()
