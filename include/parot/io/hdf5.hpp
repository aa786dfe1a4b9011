// SPDX-License-Identifier: BSD-3-Clause
// parot's HDF5 files (DESIGN.md §4): problem files in, result files out, both in parallel.
#pragma once

#include <mpi.h>

#include <map>
#include <ostream>
#include <string>

#include "parot/problem/problem.hpp"
#include "parot/solver/result.hpp"

namespace parot::io {

inline constexpr const char* problem_format = "parot-problem";
inline constexpr const char* result_format = "parot-result";
inline constexpr long problem_format_version = 1;
inline constexpr long result_format_version = 1;

/// Reads a problem file in parallel: each rank reads its own block of source rows (uniform
/// layout) and the whole target; an explicit /cost is read as the same row blocks. The problem
/// is validated and normalized (finalize_problem).
/// @collective{comm}
/// @throws InvalidInput (collective) naming the file and dataset for anything malformed.
Problem read_problem(MPI_Comm comm, const std::string& path);

/// Writes a problem file collectively (temporary name, renamed when complete). The measures
/// are written with their current (normalized) weights. @collective{problem.comm()}
void write_problem(const std::string& path, const Problem& problem);

/// Run information stored as root attributes of a result file.
struct RunInfo {
  long nranks = 1;
  std::string options;                       ///< the options of the run, one line
  double wall_time = 0;                      ///< whole-process seconds until the write
  std::map<std::string, std::string> extra;  ///< further string attributes
};

/// Writes a result file collectively: /solution/f (distributed), /solution/g, /history/*,
/// the optional sparse plan /plan/{row,col,value}, and the run attributes; temporary name,
/// renamed when complete. @collective{problem.comm()}
void write_result(const std::string& path, const Problem& problem, const Solution& solution,
                  const SolveResult& result, const RunInfo& info);

/// Prints the schema and a summary of any parot file (problem or result) on rank 0.
/// @collective{comm}
/// @throws InvalidInput (collective) if the file is not a parot file.
void inspect(MPI_Comm comm, const std::string& path, std::ostream& os);

}  // namespace parot::io
