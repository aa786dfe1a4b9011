// SPDX-License-Identifier: BSD-3-Clause
// Communicator helpers: the collective error check and small typed reductions.
#pragma once

#include <mpi.h>

#include <functional>
#include <string>

#include "parot/core/error.hpp"

namespace parot {

int comm_rank(MPI_Comm comm);
int comm_size(MPI_Comm comm);

/// Turns a rank-local verdict into a collective one. If `ok` is false on any rank, every rank
/// throws the same error: the kind and message of the lowest failing rank.
/// @collective{comm}
void check_all(MPI_Comm comm, bool ok, ErrorKind kind = ErrorKind::invalid_input,
               const std::string& what = {});

/// Runs `body` on every rank and agrees on the outcome: a parot::Error or std::bad_alloc thrown
/// on some ranks (before any communication of its own inside `body`) is rethrown collectively on
/// all ranks. `body` must not itself leave collectives half-entered when it throws.
/// @collective{comm}
void run_collectively(MPI_Comm comm, const std::function<void()>& body);

/// Sum, max and min of one double over the communicator. @collective{comm}
double allreduce_sum(MPI_Comm comm, double value);
double allreduce_max(MPI_Comm comm, double value);
double allreduce_min(MPI_Comm comm, double value);

}  // namespace parot
