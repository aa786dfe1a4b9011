// SPDX-License-Identifier: BSD-3-Clause
// Printing from library code: rank 0 only, never from the other ranks.
#pragma once

#include <mpi.h>

#include <string>

namespace parot {

/// Writes `line` (a newline is added) to stdout on rank 0 of `comm`. @notcollective
void print_root(MPI_Comm comm, const std::string& line);

/// Wall-clock seconds (MPI_Wtime). @notcollective
double wall_time();

}  // namespace parot
