// SPDX-License-Identifier: BSD-3-Clause
// A library left in a state where finalizing would crash: HDF5 keeps a file whose close failed
// (e.g. its metadata could not be written) in its tables, and closes it again inside
// MPI_Finalize, where it crashes. After such a failure the error has been reported; the
// Environment then ends the process with the driver's exit code without finalizing.
#pragma once

#include <atomic>

namespace parot::detail {

inline std::atomic<bool>& finalize_unsafe() {
  static std::atomic<bool> flag{false};
  return flag;
}

}  // namespace parot::detail
