// SPDX-License-Identifier: BSD-3-Clause
// parot-inspect: print the schema and summary of a parot problem or result file.
#include <iostream>

#include "parot/parot.hpp"

static const char help[] = "parot-inspect FILE: print a parot file's attributes and datasets.\n";

namespace {

int run(const parot::Environment& env, int argc, char** argv) {
  MPI_Comm comm = env.comm();
  std::string path;
  for (int i = 1; i < argc; ++i)
    if (argv[i][0] != '-' && path.empty()) path = argv[i];
  if (parot::help_requested()) return 0;
  parot::check_all_options_used(comm);
  PAROT_CHECK(!path.empty(), parot::InvalidArgument, "usage: parot-inspect FILE");
  parot::io::inspect(comm, path, std::cout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  parot::Environment env(argc, argv, help);
  return env.run("parot-inspect", [&] { return run(env, argc, argv); });
}
