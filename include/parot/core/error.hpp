// SPDX-License-Identifier: BSD-3-Clause
// parot's exception hierarchy and the checking macro (DESIGN.md §6, style.md §3.6).
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace parot {

/// What went wrong; drivers map kinds to exit codes (invalid input or usage: 2, not converged: 3).
enum class ErrorKind : int {
  invalid_argument = 1,    ///< a bad option or parameter value
  invalid_input = 2,       ///< bad data: a file, a dataset, weights, points, sizes
  dimension_mismatch = 3,  ///< sizes that do not fit together
  io = 4,                  ///< an HDF5 or file-system failure
  petsc = 5,               ///< an error returned by PETSc
  mpi = 6,                 ///< an error returned by MPI
  not_converged = 7,       ///< raised only under error_if_not_converged
  internal = 8,            ///< a bug or an unexpected third-party failure
  interrupted = 9,         ///< stopped by a signal (state checkpointed where asked); exit code 4
};

/// Base of all parot exceptions.
///
/// `collective()` is true when every rank of the communicator throws the same error at the same
/// point (a replicated input was checked, or a rank-local fault was agreed on with `check_all`);
/// then the program may unwind normally. A non-collective error must end the job (MPI_Abort).
class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& what, bool collective)
      : std::runtime_error(what), kind_(kind), collective_(collective) {}
  ErrorKind kind() const noexcept { return kind_; }
  bool collective() const noexcept { return collective_; }

 private:
  ErrorKind kind_;
  bool collective_;
};

#define PAROT_DEFINE_ERROR(Name, kind_value)                       \
  class Name : public Error {                                      \
   public:                                                         \
    explicit Name(const std::string& what, bool collective = true) \
        : Error(ErrorKind::kind_value, what, collective) {}        \
  }
PAROT_DEFINE_ERROR(InvalidArgument, invalid_argument);
PAROT_DEFINE_ERROR(InvalidInput, invalid_input);
PAROT_DEFINE_ERROR(DimensionMismatch, dimension_mismatch);
PAROT_DEFINE_ERROR(IoError, io);
PAROT_DEFINE_ERROR(PetscCallError, petsc);
PAROT_DEFINE_ERROR(MpiError, mpi);
PAROT_DEFINE_ERROR(NotConverged, not_converged);
PAROT_DEFINE_ERROR(InternalError, internal);
PAROT_DEFINE_ERROR(Interrupted, interrupted);
#undef PAROT_DEFINE_ERROR

/// Throws the exception class that matches `kind`.
[[noreturn]] void raise(ErrorKind kind, const std::string& what, bool collective);

namespace detail {
template <class... Args>
std::string cat(Args&&... args) {
  std::ostringstream os;
  os.precision(17);
  (os << ... << std::forward<Args>(args));
  return os.str();
}
}  // namespace detail

}  // namespace parot

/// Always-on check of a condition that is identical on every rank (options, global sizes):
/// throws the collective error `ErrorType` with the message pieces concatenated.
#define PAROT_CHECK(cond, ErrorType, ...)                                  \
  do {                                                                     \
    if (!(cond)) throw ErrorType(::parot::detail::cat(__VA_ARGS__), true); \
  } while (0)
