// SPDX-License-Identifier: BSD-3-Clause
// The PETSc boundary (style.md E4): PETSc error codes become parot exceptions.
#pragma once

#include <petscsys.h>

#include <string>

namespace parot::petsc {

/// Installs the handler that records PETSc's first error message instead of printing a
/// traceback on every rank. Called once by Environment.
void install_error_handler();

/// Throws PetscCallError (or InvalidArgument for option errors) with PETSc's message for `code`.
/// `collective`: the failing call saw identical inputs on every rank (e.g. option parsing).
void check(PetscErrorCode code, bool collective, const char* call);

}  // namespace parot::petsc

/// Calls a PETSc function; a non-zero code throws a non-collective PetscCallError.
#define PAROT_PETSC_CALL(...) ::parot::petsc::check((__VA_ARGS__), false, #__VA_ARGS__)
/// Calls a PETSc function whose failure is the same on every rank (a collective PetscCallError).
#define PAROT_PETSC_CALL_COLLECTIVE(...) ::parot::petsc::check((__VA_ARGS__), true, #__VA_ARGS__)
