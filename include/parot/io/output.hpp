// SPDX-License-Identifier: BSD-3-Clause
// The output rules of DESIGN.md §5: what parot may write, checked before any work is done.
#pragma once

#include <mpi.h>

#include <string>
#include <vector>

namespace parot::io {

/// Checks, before any work, that parot may write a file at `path` (`option` names it in the
/// message, e.g. "option -output"), and throws a collective InvalidArgument (drivers: exit 2) when
///   - `path` (or its temporary `path.tmp`) exists and is not a regular file: a device such as
///     /dev/null or /dev/full, a directory, a FIFO or a socket (symbolic links are followed);
///   - `path` or `path.tmp` is the same file (device and inode, so symbolic and hard links are
///     caught) as one of `inputs` (empty strings in `inputs` are skipped);
///   - the directory that would hold `path` does not exist or is not writable.
/// Rank 0 looks at the file system and broadcasts its verdict, so every rank raises the same
/// error. An empty `path` (no output requested) passes. @collective{comm}
void check_output_path(MPI_Comm comm, const std::string& path,
                       const std::vector<std::string>& inputs, const std::string& option);

/// Checks that two output paths (e.g. -output and -checkpoint) do not name the same file,
/// whether or not it exists yet (compared after resolving links and "..").
/// @collective{comm} @throws InvalidArgument (collective)
void check_distinct_outputs(MPI_Comm comm, const std::string& a, const std::string& a_option,
                            const std::string& b, const std::string& b_option);

}  // namespace parot::io
