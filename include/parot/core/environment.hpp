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

/// The MPI + PETSc lifetime of a program (drivers, test mains, embedding hosts).
///
/// Owning (the drivers): the constructor calls PetscInitialize (which initializes MPI unless the
/// host already did) and makes PETSc return errors instead of printing a traceback on every
/// rank. The destructor finalizes PETSc, and MPI if PETSc started it, when no exception is in
/// flight, and calls MPI_Abort otherwise.
///
/// Attached (a host such as mpi4py/petsc4py or a C++ program that initialized PETSc itself):
/// when PETSc is already initialized, the constructor only installs parot's PETSc error
/// handler; the destructor removes it and finalizes nothing, and never aborts: an exception in
/// flight goes on to the host. The host finalizes PETSc and MPI after the Environment is gone.
/// @collective{PETSC_COMM_WORLD}
class Environment {
 public:
  Environment(int& argc, char**& argv, const char* help = nullptr);
  /// Without command-line arguments (options from PETSC_OPTIONS or the host's database).
  Environment();
  ~Environment();
  Environment(const Environment&) = delete;
  Environment& operator=(const Environment&) = delete;

  /// True when the host initialized PETSc (and so owns its finalization).
  bool attached() const noexcept { return attached_; }
  /// The world communicator (PETSC_COMM_WORLD).
  MPI_Comm comm() const noexcept;
  int rank() const noexcept { return rank_; }
  int size() const noexcept { return size_; }

  /// Maps an exception thrown out of a driver to its exit code. A collective parot::Error
  /// prints its message once (rank 0) and returns exit_code(kind); anything else is printed with
  /// the rank that saw it and the job is aborted (MPI_Abort, code 1).
  int handle_exception(const std::exception_ptr& error, const char* program) const;

  /// Runs a driver's body and returns its exit code; an exception thrown out of it is mapped by
  /// handle_exception. For drivers: it may end the job (MPI_Abort) on a local error, which the
  /// library itself never does. @collective{comm()}
  int run(const char* program, const std::function<int()>& body) const;

 private:
  void start(int* argc, char*** argv, const char* help);

  bool attached_ = false;
  int rank_ = 0;
  int size_ = 1;
  mutable int exit_code_ = 0;  ///< the last run()'s exit code
};

}  // namespace parot
