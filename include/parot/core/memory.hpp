// SPDX-License-Identifier: BSD-3-Clause
// The memory guard: large allocations (a stored cost matrix, the dense blocks of SNS) are
// estimated per rank first and refused above a limit, with a message instead of an OOM kill.
#pragma once

#include <mpi.h>

#include <string>

namespace parot {

/// The per-rank limit in bytes. Default: the machine's physical memory. Drivers set it from
/// -max_memory <MiB>. @notcollective
double memory_limit();
/// @notcollective (every rank must set the same value)
void set_memory_limit(double bytes);

/// Throws a collective InvalidArgument when `bytes` (this rank's need) exceeds the limit on
/// some rank. @collective{comm}
void check_memory(MPI_Comm comm, double bytes, const std::string& what);

}  // namespace parot
