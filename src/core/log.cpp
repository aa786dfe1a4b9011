// SPDX-License-Identifier: BSD-3-Clause
// Rank-0 printing and the wall clock.
#include "parot/core/log.hpp"

#include <cstdio>

#include "parot/core/comm.hpp"

namespace parot {

void print_root(MPI_Comm comm, const std::string& line) {
  if (comm_rank(comm) != 0) return;
  std::fputs(line.c_str(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

double wall_time() {
  return MPI_Wtime();
}

}  // namespace parot
