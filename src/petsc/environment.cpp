// SPDX-License-Identifier: BSD-3-Clause
// RAII environment for MPI + PETSc and the drivers' exception-to-exit-code mapping.
#include "parot/core/environment.hpp"

#include <petscsys.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>

#include "core/finalize_guard.hpp"
#include "parot/core/error.hpp"
#include "petsc/petsc_call.hpp"

namespace parot {

namespace {
thread_local std::string g_last_petsc_message;

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

void check(PetscErrorCode code, Failure failure, const char* call) {
  if (!code) return;
  std::string message = g_last_petsc_message;
  g_last_petsc_message.clear();
  if (message.empty()) {
    const char* text = nullptr;
    PetscErrorMessage(code, &text, nullptr);
    message = text ? text : "unknown PETSc error";
  }
  if (failure == Failure::options) throw InvalidArgument(message, true);
  throw PetscCallError("PETSc: " + message + " (in " + call + ")", failure == Failure::collective);
}

}  // namespace petsc

Environment::Environment(int& argc, char**& argv, const char* help) {
  start(&argc, &argv, help);
}

Environment::Environment() {
  start(nullptr, nullptr, nullptr);
}

void Environment::start(int* argc, char*** argv, const char* help) {
  PetscBool initialized = PETSC_FALSE;
  PetscInitialized(&initialized);
  attached_ = initialized == PETSC_TRUE;
  if (!attached_) {
    // A file-size limit (ulimit -f) makes write() fail with EFBIG instead of killing the rank
    // with SIGXFSZ: the write error is then reported like a full disk. (A host keeps its own
    // signal dispositions.)
    std::signal(SIGXFSZ, SIG_IGN);
    const PetscErrorCode code =
        argc ? PetscInitialize(argc, argv, nullptr, help) : PetscInitializeNoArguments();
    if (code) {
      std::fprintf(stderr, "parot: PetscInitialize failed (code %d)\n", static_cast<int>(code));
      std::exit(1);
    }
  }
  petsc::install_error_handler();
  MPI_Comm_rank(PETSC_COMM_WORLD, &rank_);
  MPI_Comm_size(PETSC_COMM_WORLD, &size_);
}

Environment::~Environment() {
  if (attached_) {  // the host owns PETSc and MPI, and any exception in flight
    PetscPopErrorHandler();
    return;
  }
  if (std::uncaught_exceptions() > 0) MPI_Abort(PETSC_COMM_WORLD, 1);
  if (detail::finalize_unsafe()) {  // see finalize_guard.hpp: the error is already reported
    std::fflush(stdout);
    std::fflush(stderr);
    std::_Exit(exit_code_ ? exit_code_ : 1);
  }
  PetscFinalize();
}

MPI_Comm Environment::comm() const noexcept {
  return PETSC_COMM_WORLD;
}

int Environment::run(const char* program, const std::function<int()>& body) const {
  try {
    exit_code_ = body();
  } catch (...) {
    exit_code_ = handle_exception(std::current_exception(), program);
  }
  return exit_code_;
}

int exit_code(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::invalid_argument:
    case ErrorKind::invalid_input:
    case ErrorKind::dimension_mismatch:
      return 2;
    case ErrorKind::not_converged:
      return 3;
    case ErrorKind::interrupted:
      return 4;
    case ErrorKind::io:
    case ErrorKind::petsc:
    case ErrorKind::mpi:
    case ErrorKind::internal:
      break;
  }
  return 1;
}

int Environment::handle_exception(const std::exception_ptr& error, const char* program) const {
  try {
    std::rethrow_exception(error);
  } catch (const Error& e) {
    if (e.collective()) {
      const int code = exit_code(e.kind());
      if (rank_ == 0)
        std::fprintf(stderr, "%s: %s: %s\n", program, code == 1 ? "internal failure" : "error",
                     e.what());
      std::fflush(stderr);
      return code;
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
