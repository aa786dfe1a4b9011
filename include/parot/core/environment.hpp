// SPDX-License-Identifier: BSD-3-Clause
// RAII environment: initializes MPI and PETSc, finalizes them, and ends a failed job cleanly.
#pragma once

#include <mpi.h>

#include <exception>
#include <functional>

#include "parot/core/error.hpp"

namespace parot {

/// The drivers' exit code for a collective error of `kind` (DESIGN.md §5): 2 for invalid input
/// or usage (invalid_argument, invalid_input, dimension_mismatch), 3 for not_converged, 4 for
/// interrupted, 1 for an internal failure (io, petsc, mpi, internal: an HDF5, PETSc, TAO or
/// system error not caused by the input, e.g. a full disk).
int exit_code(ErrorKind kind) noexcept;

/// Owns the MPI + PETSc lifetime of a program (drivers, test mains).
///
/// The constructor calls PetscInitialize (which initializes MPI if needed) and makes PETSc
/// return errors instead of printing a traceback on every rank. The destructor finalizes PETSc
/// and MPI when no exception is in flight, and calls MPI_Abort otherwise.
/// @collective{MPI_COMM_WORLD}
class Environment {
 public:
  Environment(int& argc, char**& argv, const char* help = nullptr);
  ~Environment();
  Environment(const Environment&) = delete;
  Environment& operator=(const Environment&) = delete;

  /// The world communicator (PETSC_COMM_WORLD).
  MPI_Comm comm() const noexcept;
  int rank() const noexcept { return rank_; }
  int size() const noexcept { return size_; }

  /// Maps an exception thrown out of a driver to its exit code. A collective parot::Error
  /// prints its message once (rank 0) and returns exit_code(kind); anything else is printed with
  /// the rank that saw it and the job is aborted (MPI_Abort, code 1).
  int handle_exception(const std::exception_ptr& error, const char* program) const;

  /// Runs a driver's body and returns its exit code; an exception thrown out of it is mapped by
  /// handle_exception. @collective{comm()}
  int run(const char* program, const std::function<int()>& body) const;

 private:
  int rank_ = 0;
  int size_ = 1;
  mutable int exit_code_ = 0;  ///< the last run()'s exit code
};

}  // namespace parot
