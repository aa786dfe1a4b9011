// SPDX-License-Identifier: BSD-3-Clause
// Error kinds to exception classes.
#include "parot/core/error.hpp"

namespace parot {

void raise(ErrorKind kind, const std::string& what, bool collective) {
  switch (kind) {
    case ErrorKind::invalid_argument:
      throw InvalidArgument(what, collective);
    case ErrorKind::invalid_input:
      throw InvalidInput(what, collective);
    case ErrorKind::dimension_mismatch:
      throw DimensionMismatch(what, collective);
    case ErrorKind::io:
      throw IoError(what, collective);
    case ErrorKind::petsc:
      throw PetscCallError(what, collective);
    case ErrorKind::mpi:
      throw MpiError(what, collective);
    case ErrorKind::not_converged:
      throw NotConverged(what, collective);
    case ErrorKind::interrupted:
      throw Interrupted(what, collective);
    case ErrorKind::internal:
      break;
  }
  throw InternalError(what, collective);
}

}  // namespace parot
