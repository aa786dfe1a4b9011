// SPDX-License-Identifier: BSD-3-Clause
// parot's HDF5 files (DESIGN.md §4): problem files in, result files out, both in parallel.
#pragma once

#include <mpi.h>

#include <map>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "parot/problem/mesh.hpp"
#include "parot/problem/problem.hpp"
#include "parot/solver/checkpoint.hpp"
#include "parot/solver/result.hpp"
#include "parot/solver/sliced.hpp"

namespace parot::io {

inline constexpr const char* problem_format = "parot-problem";
inline constexpr const char* result_format = "parot-result";
inline constexpr const char* batch_format = "parot-batch";
inline constexpr long batch_format_version = 1;
inline constexpr long problem_format_version = 1;
inline constexpr long result_format_version = 1;
inline constexpr const char* checkpoint_format = "parot-checkpoint";
inline constexpr long checkpoint_format_version = 1;

/// Reads a problem file in parallel: each rank reads its own block of source rows (uniform
/// layout) and the whole target; an explicit /cost is read as the same row blocks. The problem
/// is validated and normalized (finalize_problem).
/// @collective{comm}
/// `masses`: Masses::any for unbalanced solvers (unequal totals accepted).
/// @throws InvalidInput (collective) naming the file and dataset for anything malformed.
Problem read_problem(MPI_Comm comm, const std::string& path, Masses masses = Masses::equal);

/// Writes a problem file collectively (temporary name, renamed when complete). The measures
/// are written with their current (normalized) weights. @collective{problem.comm()}
void write_problem(const std::string& path, const Problem& problem);

/// Run information stored as root attributes of a result file.
struct RunInfo {
  long nranks = 1;
  std::string options;                       ///< the options of the run, one line
  double wall_time = 0;                      ///< whole-process seconds until the write
  std::map<std::string, std::string> extra;  ///< further string attributes
  bool monitor = false;  ///< print how the datasets were written (collective or not) on rank 0
};

/// Writes a result file collectively: /solution/f (distributed), /solution/g, /history/*,
/// the optional sparse plan /plan/{row,col,value}, and the run attributes; temporary name,
/// renamed when complete. @collective{problem.comm()}
void write_result(const std::string& path, const Problem& problem, const Solution& solution,
                  const SolveResult& result, const RunInfo& info);

/// Checkpoint files (format "parot-checkpoint"): root attributes (solver, phase, iteration,
/// reg, max_cost, n, m, weights_checksum, options, state_<key> for each solver scalar),
/// /solution/f (distributed), /solution/g and /history/*. Each save is collective and atomic
/// (temporary name, renamed when complete), so a job killed while saving keeps the previous one.
class Hdf5CheckpointStore : public CheckpointStore {
 public:
  /// `options`: the run's options line, stored for provenance.
  Hdf5CheckpointStore(std::string path, std::string options);
  void save(const Problem& problem, const SolverState& state) override;  ///< @collective
  std::string where() const override { return path_; }

 private:
  std::string path_, options_;
};

/// Reads a checkpoint for `problem` at this run's rank count (f is redistributed) and checks
/// that it belongs to this problem (n, m, weights) and `solver`. The solver checks the rest
/// (reg, largest cost, stage). @collective{problem.comm()} @throws InvalidInput (collective)
SolverState read_checkpoint(const Problem& problem, const std::string& path,
                            const std::string& solver);

/// Reads the source and target measures of a problem file whole on every rank (the sliced
/// estimators replicate their inputs), checking the input rules of DESIGN.md §5.
/// @collective{comm} @throws InvalidInput (collective)
std::pair<PointMeasure, PointMeasure> read_measure_pair(MPI_Comm comm, const std::string& path);

/// A triangle mesh: an OFF or OBJ file, or an HDF5 problem file holding /<role>/vertices [N_v, 3]
/// and /<role>/faces [N_f, 3] (integer vertex indices), role "source" or "target". Read whole on
/// every rank. @collective{comm} @throws InvalidInput (collective)
TriangleMesh read_mesh(MPI_Comm comm, const std::string& path, const std::string& role);

/// Batch files (format "parot-batch"): N measures concatenated in /measures/points [T, d] and
/// /measures/weights [T], measure k holding rows [offsets[k], offsets[k+1]) of
/// /measures/offsets [N + 1]. Read whole on every rank. @collective{comm}
std::vector<PointMeasure> read_batch(MPI_Comm comm, const std::string& path);
/// Writes a batch file (rank 0's data; temporary name, renamed). @collective{comm}
void write_batch(MPI_Comm comm, const std::string& path, const std::vector<PointMeasure>& batch,
                 const std::map<std::string, std::string>& attributes);

/// A sliced result file: root attributes (format, solver "sliced", …) and the group /sliced
/// with attributes sw_pp, sw, stderr, p, slices, seed, cv (DESIGN.md §4); for a batch, the
/// dataset /sliced/distance [N, N] written in row blocks by every rank. @collective{comm}
void write_sliced_result(MPI_Comm comm, const std::string& path, const SlicedParams& params,
                         const SlicedResult* pair, const RowMatrix* distance_rows, gindex row_begin,
                         gindex rows, const RunInfo& info);

/// Prints the schema and a summary of any parot file (problem or result) on rank 0.
/// @collective{comm}
/// @throws InvalidInput (collective) if the file is not a parot file.
void inspect(MPI_Comm comm, const std::string& path, std::ostream& os);

}  // namespace parot::io
