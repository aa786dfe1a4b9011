// SPDX-License-Identifier: BSD-3-Clause
// parot-solve: read (or build) a problem, solve it, write the result, print a summary.

#include "parot/parot.hpp"

static const char help[] =
    "parot-solve: entropic optimal transport on many ranks.\n"
    "  mpirun -n 4 parot-solve -problem pairs.h5 -solver sinkhorn -reg 1e-3 -output out.h5\n"
    "Without -problem, solves the built-in default problem (two 2-D point clouds).\n";

namespace {

int run(const parot::Environment& env) {
  MPI_Comm comm = env.comm();
  const double t0 = parot::wall_time();
  std::string problem_path, output, solver_type = "sinkhorn";
  parot::OptionsBlock block(comm, "", "parot-solve");
  block.string("problem", "problem file (HDF5, format parot-problem); default: built-in",
               problem_path);
  block.string("output", "result file (HDF5, format parot-result); default: none", output);
  block.choice("solver", "solver type", parot::solver_types(), solver_type);
  double max_memory = parot::memory_limit() / (1 << 20);
  block.real("max_memory", "per-rank memory limit in MiB (default: the machine's memory)",
             max_memory);
  std::string checkpoint, restart;
  long checkpoint_every = 0;
  block.string("checkpoint",
               "write the solver state to this file (on a signal, and every "
               "-checkpoint_every iterations); default: none",
               checkpoint);
  block.integer("checkpoint_every", "iterations between checkpoints (0: only on a signal)",
                checkpoint_every);
  block.string("restart", "resume from this checkpoint file", restart);
  block.read();
  PAROT_CHECK(checkpoint_every >= 0, parot::InvalidArgument,
              "option -checkpoint_every must be >= 0, got ", checkpoint_every);
  PAROT_CHECK(checkpoint_every == 0 || !checkpoint.empty(), parot::InvalidArgument,
              "option -checkpoint_every needs -checkpoint FILE");
  parot::set_memory_limit(max_memory * (1 << 20));
  parot::SolveParams params;
  parot::read_common_options(comm, params);
  auto solver = parot::make_solver(comm, solver_type, params);
  solver->set_from_options();
  if (parot::help_requested()) return 0;
  parot::check_all_options_used(comm);
  // The output rules (DESIGN.md §5), before any work. A checkpoint may be the -restart file:
  // that is the requeue protocol (it is read whole before the first save, which is atomic).
  parot::io::check_output_path(comm, output, {problem_path, restart, checkpoint}, "option -output");
  parot::io::check_output_path(comm, checkpoint, {problem_path}, "option -checkpoint");
  parot::io::check_distinct_outputs(comm, output, "option -output", checkpoint,
                                    "option -checkpoint");

  // The default problem: two uniform 2-D clouds of 3000 points (seeded).
  parot::GenerateParams defaults;
  defaults.family = "clouds";
  defaults.n = 3000;
  defaults.d = 2;
  // Unbalanced solvers take measures of any total masses; the balanced ones refuse them.
  const parot::Masses masses =
      solver->params().unbalanced() ? parot::Masses::any : parot::Masses::equal;
  parot::Problem problem = problem_path.empty()
                               ? parot::generate_problem(comm, defaults)
                               : parot::io::read_problem(comm, problem_path, masses);
  if (problem_path.empty()) problem.name = "built-in default: " + parot::describe(defaults);

  // Not converging is reported after the result is written (exit code 3).
  const bool error_if_not_converged = solver->params().error_if_not_converged;
  solver->params().error_if_not_converged = false;
  parot::Checkpointing checkpointing;
  checkpointing.solver = solver->type();
  checkpointing.every = checkpoint_every;
  parot::io::Hdf5CheckpointStore store(checkpoint, parot::options_string());
  if (!checkpoint.empty()) checkpointing.store = &store;
  parot::SolverState resume;
  if (!restart.empty()) {
    resume = parot::io::read_checkpoint(problem, restart, solver->type());
    checkpointing.resume = &resume;
    parot::print_root(comm, "resuming " + restart + " at iteration " +
                                std::to_string(resume.iteration) + " (" + resume.phase + ")");
  }
  solver->set_checkpointing(&checkpointing);
  parot::Solution solution;
  const parot::SolveResult result = [&] {
    const parot::SignalScope signals;  // SIGTERM/SIGUSR1/SIGUSR2: checkpoint, exit code 4
    return solver->solve(problem, solution);
  }();

  if (!output.empty()) {
    parot::io::RunInfo info;
    info.nranks = env.size();
    info.options = parot::options_string();
    info.wall_time = parot::allreduce_max(comm, parot::wall_time() - t0);
    info.monitor = solver->params().monitor;
    parot::io::write_result(output, problem, solution, result, info);
  }
  parot::print_root(comm, parot::format_summary(problem, result, env.size()));
  if (!output.empty()) parot::print_root(comm, "result           " + output);
  if (error_if_not_converged && !parot::converged(result.reason))
    throw parot::NotConverged("not converged: " + parot::to_string(result.reason), true);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  parot::Environment env(argc, argv, help);
  return env.run("parot-solve", [&] { return run(env); });
}
