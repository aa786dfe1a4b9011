// SPDX-License-Identifier: BSD-3-Clause
// parot-generate: write a seeded problem of one of parot's families to an HDF5 problem file.

#include "parot/parot.hpp"

static const char help[] =
    "parot-generate: seeded, deterministic OT problems.\n"
    "  parot-generate -family clouds -n 5000 -d 2 -seed 1 -output clouds.h5\n";

namespace {

int run(const parot::Environment& env) {
  MPI_Comm comm = env.comm();
  std::string output;
  long batch = 0;
  parot::OptionsBlock block(comm, "", "parot-generate");
  block.string("output", "problem file to write (required)", output);
  block.integer("batch", "write a batch file of this many source measures instead", batch);
  block.read();
  parot::GenerateParams params;
  parot::read_generate_options(comm, params);
  if (parot::help_requested()) return 0;
  parot::check_all_options_used(comm);
  PAROT_CHECK(!output.empty(), parot::InvalidArgument, "option -output is required");
  parot::io::check_output_path(comm, output, {}, "option -output");

  if (block.given("batch")) {
    std::vector<parot::PointMeasure> measures;
    for (auto& [points, weights] : parot::generate_batch(params, batch))
      measures.push_back({std::move(points), std::move(weights)});
    parot::io::write_batch(comm, output, measures,
                           {{"family", params.family}, {"generator", "parot-generate"}});
    parot::print_root(comm, "wrote " + output + ": batch of " + std::to_string(batch) + " x " +
                                parot::describe(params));
    return 0;
  }
  const parot::Problem problem = parot::generate_problem(comm, params);
  parot::io::write_problem(output, problem);
  parot::print_root(comm, "wrote " + output + ": " + problem.name);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  parot::Environment env(argc, argv, help);
  return env.run("parot-generate", [&] { return run(env); });
}
