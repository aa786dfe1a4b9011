// SPDX-License-Identifier: BSD-3-Clause
// RAII environment for MPI + PETSc and the drivers' exception-to-exit-code mapping.
#include "parot/core/environment.hpp"

#include <petscsys.h>

#include <cstdio>
#include <cstdlib>

#include "parot/core/error.hpp"
#include "petsc/petsc_call.hpp"

namespace parot {

namespace {
std::string g_last_petsc_message;

PetscErrorCode capture_handler(MPI_Comm, int, const char*, const char*, PetscErrorCode code,
                               PetscErrorType type, const char* message, void*) {
  if (type == PETSC_ERROR_INITIAL && message) g_last_petsc_message = message;
  return code;
}
}  // namespace

namespace petsc {

void install_error_handler() {
  PetscPushErrorHandler(capture_handler, nullptr);
}

void check(PetscErrorCode code, bool collective, const char* call) {
  if (!code) return;
  std::string message = g_last_petsc_message;
  g_last_petsc_message.clear();
  if (message.empty()) {
    const char* text = nullptr;
    PetscErrorMessage(code, &text, nullptr);
    message = text ? text : "unknown PETSc error";
  }
  if (collective) throw InvalidArgument(message, true);
  throw PetscCallError(std::string(message) + " (in " + call + ")", false);
}

}  // namespace petsc

Environment::Environment(int& argc, char**& argv, const char* help) {
  const PetscErrorCode code = PetscInitialize(&argc, &argv, nullptr, help);
  if (code) {
    std::fprintf(stderr, "parot: PetscInitialize failed (code %d)\n", static_cast<int>(code));
    std::exit(1);
  }
  petsc::install_error_handler();
  MPI_Comm_rank(PETSC_COMM_WORLD, &rank_);
  MPI_Comm_size(PETSC_COMM_WORLD, &size_);
}

Environment::~Environment() {
  if (std::uncaught_exceptions() > 0) MPI_Abort(PETSC_COMM_WORLD, 1);
  PetscFinalize();
}

MPI_Comm Environment::comm() const noexcept {
  return PETSC_COMM_WORLD;
}

int Environment::run(const char* program, const std::function<int()>& body) const {
  try {
    return body();
  } catch (...) {
    return handle_exception(std::current_exception(), program);
  }
}

int Environment::handle_exception(const std::exception_ptr& error, const char* program) const {
  try {
    std::rethrow_exception(error);
  } catch (const Error& e) {
    if (e.collective()) {
      if (rank_ == 0) std::fprintf(stderr, "%s: error: %s\n", program, e.what());
      std::fflush(stderr);
      if (e.kind() == ErrorKind::not_converged) return 3;
      return e.kind() == ErrorKind::interrupted ? 4 : 2;
    }
    std::fprintf(stderr, "%s: [rank %d] fatal error: %s\n", program, rank_, e.what());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: [rank %d] fatal error: %s\n", program, rank_, e.what());
  } catch (...) {
    std::fprintf(stderr, "%s: [rank %d] fatal error: unknown exception\n", program, rank_);
  }
  std::fflush(stderr);
  MPI_Abort(PETSC_COMM_WORLD, 1);
  return 1;
}

}  // namespace parot
