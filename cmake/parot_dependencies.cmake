# SPDX-License-Identifier: BSD-3-Clause
# Finds parot's dependencies: Open MPI, PETSc (pkg-config), parallel HDF5, Eigen3.

# Open MPI 4.1: skip the deprecated C++ bindings.
set(MPI_CXX_SKIP_MPICXX ON CACHE BOOL "" FORCE)
find_package(MPI 3.1 REQUIRED COMPONENTS C CXX)

find_package(PkgConfig REQUIRED)
pkg_search_module(PETSC REQUIRED IMPORTED_TARGET PETSc)

# FindHDF5 tries h5cc before h5pcc; prefer the parallel wrapper and refuse a serial library.
set(HDF5_PREFER_PARALLEL TRUE)
find_package(HDF5 REQUIRED COMPONENTS C)
if(NOT HDF5_IS_PARALLEL)
  message(FATAL_ERROR
    "parot needs parallel HDF5, but the HDF5 found at '${HDF5_C_INCLUDE_DIRS}' is serial. "
    "Install libhdf5-openmpi-dev (and remove libhdf5-dev), or pass "
    "-DHDF5_C_COMPILER_EXECUTABLE=/usr/bin/h5pcc.")
endif()

find_package(Eigen3 3.3 REQUIRED NO_MODULE)
