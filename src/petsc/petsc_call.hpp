// SPDX-License-Identifier: BSD-3-Clause
// The PETSc boundary (style.md E4): PETSc error codes become parot exceptions.
#pragma once

#include <petscsys.h>

#include <string>

#include "parot/core/error.hpp"
#include "parot/core/types.hpp"

namespace parot::petsc {

/// A global index as a PetscInt. @throws InvalidArgument (collective: indices are replicated or
/// checked on every rank alike) when it does not fit a 32-bit-index PETSc.
inline PetscInt to_petsc(gindex v) {
  PAROT_CHECK(v <= static_cast<gindex>(PETSC_MAX_INT), InvalidArgument, "index ", v,
              " does not fit PETSc's 32-bit PetscInt (use a 64-bit-index PETSc)");
  return static_cast<PetscInt>(v);
}

/// Installs the handler that records PETSc's first error message instead of printing a
/// traceback on every rank. Called once by Environment.
void install_error_handler();

/// How a failing PETSc call is reported.
enum class Failure {
  local,       ///< this rank's alone: a non-collective PetscCallError (the job is aborted)
  collective,  ///< the same on every rank, not caused by the input: PetscCallError, exit code 1
  options,     ///< option parsing on identical inputs: InvalidArgument, exit code 2
};

/// Throws the exception `failure` asks for, with PETSc's message for `code` and the call.
void check(PetscErrorCode code, Failure failure, const char* call);

}  // namespace parot::petsc

/// Calls a PETSc function; a non-zero code throws a non-collective PetscCallError.
#define PAROT_PETSC_CALL(...) \
  ::parot::petsc::check((__VA_ARGS__), ::parot::petsc::Failure::local, #__VA_ARGS__)
/// Calls a collective PETSc function whose failure is the same on every rank and is not the
/// user's (e.g. TaoSetUp): a collective PetscCallError, exit code 1.
#define PAROT_PETSC_CALL_COLLECTIVE(...) \
  ::parot::petsc::check((__VA_ARGS__), ::parot::petsc::Failure::collective, #__VA_ARGS__)
/// Calls a PETSc function that reads the options database (XXXSetFromOptions, PetscOptions*):
/// a failure is a bad option, the same on every rank: InvalidArgument, exit code 2.
#define PAROT_PETSC_OPTIONS_CALL(...) \
  ::parot::petsc::check((__VA_ARGS__), ::parot::petsc::Failure::options, #__VA_ARGS__)
