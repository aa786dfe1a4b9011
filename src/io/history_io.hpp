// SPDX-License-Identifier: BSD-3-Clause
// The iteration history (/history/*) of result and checkpoint files.
#pragma once

#include <hdf5.h>
#include <mpi.h>

#include <string>
#include <vector>

#include "parot/solver/result.hpp"

namespace parot::h5 {
class AtomicFile;
}

namespace parot::io {

/// Writes one dataset per IterationRecord field under /history (replicated: rank 0 writes).
/// @collective
void write_history(h5::AtomicFile& file, const std::vector<IterationRecord>& history, bool root);

/// Reads /history back on every rank. @collective{comm}
/// @throws InvalidInput (collective) naming `origin` when a field is missing or unreadable.
std::vector<IterationRecord> read_history(MPI_Comm comm, hid_t file, const std::string& origin);

}  // namespace parot::io
