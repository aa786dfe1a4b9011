// SPDX-License-Identifier: BSD-3-Clause
// parot-sliced: sliced Wasserstein (SW, Max-SW, v-DSW) between two measures, or the SW distance
// matrix of a batch of measures.
#include <cstdio>
#include <cstring>

#include "parot/parot.hpp"

static const char help[] =
    "parot-sliced: sliced-Wasserstein distances on many ranks.\n"
    "  mpirun -n 4 parot-sliced -problem pair.h5 -type sw -L 1000 -cv upper -output sw.h5\n"
    "  mpirun -n 4 parot-sliced -batch clouds.h5 -L 200 -output matrix.h5\n";

namespace {

int run(const parot::Environment& env) {
  MPI_Comm comm = env.comm();
  const double t0 = parot::wall_time();
  std::string problem_path, batch_path, output;
  parot::OptionsBlock block(comm, "", "parot-sliced");
  block.string("problem", "problem file with the two measures (format parot-problem)",
               problem_path);
  block.string("batch", "batch file of N measures (format parot-batch)", batch_path);
  block.string("output", "result file (HDF5); default: none", output);
  std::string source_mesh, target_mesh, mesh_kind = "samples";
  long mesh_samples = 10000;
  double normal_scale = 1.0;
  block.string("source_mesh", "source triangle mesh (.off, .obj, or .h5 with /source/...)",
               source_mesh);
  block.string("target_mesh", "target triangle mesh (.off, .obj, or .h5 with /target/...)",
               target_mesh);
  block.choice("mesh_measure", "measure of a mesh", {"samples", "faces", "normals", "vertices"},
               mesh_kind);
  block.integer("mesh_samples", "area-weighted samples per mesh", mesh_samples);
  block.real("normal_scale", "length scale of the normals (mesh_measure normals)", normal_scale);
  bool distributed = false;
  block.boolean("distributed", "keep the points of -problem distributed over the ranks (sw)",
                distributed);
  bool save_directions = false, monitor = false;
  block.boolean("monitor", "print where the time goes (read, project, sort, merge, reduce)",
                monitor);
  block.boolean("save_directions", "also write the L x d directions of -type sw", save_directions);
  block.read();
  parot::SlicedParams params;
  parot::read_sliced_options(comm, params);
  if (parot::help_requested()) return 0;
  parot::check_all_options_used(comm);
  const bool meshes = !source_mesh.empty() || !target_mesh.empty();
  PAROT_CHECK(int(!problem_path.empty()) + int(!batch_path.empty()) + int(meshes) == 1,
              parot::InvalidArgument,
              "give exactly one of -problem FILE, -batch FILE, or -source_mesh and -target_mesh");
  PAROT_CHECK(!meshes || (!source_mesh.empty() && !target_mesh.empty()), parot::InvalidArgument,
              "give both -source_mesh and -target_mesh");
  PAROT_CHECK(mesh_samples >= 1, parot::InvalidArgument, "-mesh_samples must be >= 1, got ",
              mesh_samples);
  parot::io::check_output_path(comm, output, {problem_path, batch_path, source_mesh, target_mesh},
                               "option -output");

  parot::io::RunInfo info;
  info.nranks = env.size();
  info.options = parot::options_string();
  char line[512];
  double read_time = 0;
  if (batch_path.empty()) {
    std::pair<parot::PointMeasure, parot::PointMeasure> measures;
    const double tr = parot::wall_time();
    if (meshes) {  // samples of the two meshes use different seeds
      measures.first = parot::mesh_measure(parot::io::read_mesh(comm, source_mesh, "source"),
                                           mesh_kind, mesh_samples, 2 * params.seed, normal_scale);
      measures.second =
          parot::mesh_measure(parot::io::read_mesh(comm, target_mesh, "target"), mesh_kind,
                              mesh_samples, 2 * params.seed + 1, normal_scale);
      problem_path = source_mesh + " vs " + target_mesh + " (" + mesh_kind + ")";
    } else if (!distributed) {
      measures = parot::io::read_measure_pair(comm, problem_path);
    }
    read_time = parot::wall_time() - tr;
    parot::SlicedResult r;
    if (distributed) {  // source rows as read; the target cut into the same kind of blocks
      PAROT_CHECK(!meshes, parot::InvalidArgument, "-distributed applies to -problem files");
      const parot::Problem problem = parot::io::read_problem(comm, problem_path);
      parot::Measure target;
      target.layout = parot::Layout::uniform(comm, problem.m());
      target.points =
          problem.target.points.middleRows(target.layout.begin(), target.layout.local_size());
      target.weights =
          problem.target.weights.segment(target.layout.begin(), target.layout.local_size());
      r = parot::sliced_wasserstein_distributed(comm, problem.source, target, params);
      measures.first.points.resize(problem.n(), problem.source.dim());
      measures.second.points.resize(problem.m(), problem.source.dim());
    } else {
      r = parot::sliced_wasserstein(comm, measures.first, measures.second, params);
    }
    const auto& [mu, nu] = measures;
    std::snprintf(line, sizeof line,
                  "problem   %s (n = %ld, m = %ld, d = %ld)\n"
                  "type      %s, p = %g, %ld %s, seed %ld, cv %s, %d rank%s\n"
                  "sw_pp     %.15e  (standard error %.3e; plain Monte Carlo %.3e, variance "
                  "ratio %.3g%s)\n"
                  "sw        %.15e\n"
                  "time      %.3f s",
                  problem_path.c_str(), static_cast<long>(mu.points.rows()),
                  static_cast<long>(nu.points.rows()), static_cast<long>(mu.points.cols()),
                  params.type.c_str(), params.p, r.slices,
                  params.type == "max_sw" ? "restarts" : "slices", params.seed, params.cv.c_str(),
                  env.size(), env.size() == 1 ? "" : "s", r.sw_pp, r.stderr_pp, r.plain_stderr_pp,
                  r.variance_reduction, r.cv_fallback ? ", cv fell back" : "", r.sw, r.time);
    if (monitor) {
      char times[384];
      std::snprintf(times, sizeof times,
                    "\nmonitor   rank 0: read %.3f s, solve %.3f s "
                    "(project %.3f s, sort %.3f s, merge %.3f s, reduce %.3f s)",
                    read_time, r.time, r.time_project, r.time_sort, r.time_merge, r.time_reduce);
      std::strncat(line, times, sizeof line - std::strlen(line) - 1);
    }
    if (!output.empty()) {
      info.wall_time = parot::allreduce_max(comm, parot::wall_time() - t0);
      parot::SlicedResult saved = r;
      if (save_directions && params.type == "sw") {  // row-major L × d, flattened
        const parot::RowMatrix theta =
            parot::sliced_directions(params.seed, params.L, mu.points.cols());
        saved.direction.assign(theta.data(), theta.data() + theta.size());
      }
      parot::io::write_sliced_result(comm, output, params, &saved, nullptr, 0, 0, info);
    }
  } else {
    const auto batch = parot::io::read_batch(comm, batch_path);
    const parot::Layout rows =
        parot::Layout::uniform(comm, static_cast<parot::gindex>(batch.size()));
    const double ts = parot::wall_time();
    const parot::RowMatrix block_rows =
        parot::sliced_distance_matrix(comm, batch, params, rows.begin(), rows.end());
    const double solve = parot::allreduce_max(comm, parot::wall_time() - ts);
    std::snprintf(line, sizeof line,
                  "batch     %s (%zu measures)\ntype      sw, p = %g, %ld slices, seed %ld, %d "
                  "rank%s\ntime      %.3f s",
                  batch_path.c_str(), batch.size(), params.p, params.L, params.seed, env.size(),
                  env.size() == 1 ? "" : "s", solve);
    if (!output.empty()) {
      info.wall_time = parot::allreduce_max(comm, parot::wall_time() - t0);
      parot::io::write_sliced_result(comm, output, params, nullptr, &block_rows, rows.begin(),
                                     rows.local_size(), info);
    }
  }
  parot::print_root(comm, line);
  if (!output.empty()) parot::print_root(comm, "result    " + output);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  parot::Environment env(argc, argv, help);
  return env.run("parot-sliced", [&] { return run(env); });
}
