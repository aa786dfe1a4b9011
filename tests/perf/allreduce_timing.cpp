// SPDX-License-Identifier: BSD-3-Clause
// Times the Sinkhorn column reduction (LsePairReduction: an MPI_Allreduce of `count` (max, sum)
// pairs with parot's user-defined operation) and a plain MPI_SUM allreduce of the same bytes, for
// message sizes from 1 pair up to --max-pairs. Prints CSV on rank 0:
//   ranks,op,pairs,bytes,seconds   (median over repetitions of the slowest rank's time)
// jobs/alpha_beta.py fits latency α and inverse bandwidth β to these lines.
#include <mpi.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "solver/entropic/sweeps.hpp"

namespace {

template <class F>
double median_time(MPI_Comm comm, int reps, F&& call) {
  std::vector<double> t(static_cast<std::size_t>(reps));
  call();  // warm-up
  for (int r = 0; r < reps; ++r) {
    MPI_Barrier(comm);
    const double t0 = MPI_Wtime();
    call();
    double dt = MPI_Wtime() - t0;
    MPI_Allreduce(MPI_IN_PLACE, &dt, 1, MPI_DOUBLE, MPI_MAX, comm);
    t[static_cast<std::size_t>(r)] = dt;
  }
  std::nth_element(t.begin(), t.begin() + reps / 2, t.end());
  return t[static_cast<std::size_t>(reps / 2)];
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  long max_pairs = 1 << 20;
  int reps = 21;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--max-pairs")) max_pairs = std::atol(argv[i + 1]);
    if (!std::strcmp(argv[i], "--reps")) reps = std::atoi(argv[i + 1]);
  }
  MPI_Comm comm = MPI_COMM_WORLD;
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  if (rank == 0) std::printf("ranks,op,pairs,bytes,seconds\n");
  {  // the reduction frees its MPI_Op before MPI_Finalize
    parot::entropic::LsePairReduction reduction;
    for (long pairs = 1; pairs <= max_pairs; pairs *= 4) {
      std::vector<double> buf(2 * static_cast<std::size_t>(pairs));
      const int count = static_cast<int>(pairs);
      // Scale repetitions down for large messages (at least 5).
      const int r = std::max(5, static_cast<int>(reps * std::min(1.0, 65536.0 / double(pairs))));
      const double t_pairs = median_time(comm, r, [&] {
        for (long j = 0; j < pairs; ++j) {
          buf[2 * j] = -double(j % 7) - rank;
          buf[2 * j + 1] = 1.0;
        }
        reduction.allreduce(comm, buf.data(), count);
      });
      const double t_sum = median_time(comm, r, [&] {
        MPI_Allreduce(MPI_IN_PLACE, buf.data(), 2 * count, MPI_DOUBLE, MPI_SUM, comm);
      });
      if (rank == 0) {
        std::printf("%d,lse_pairs,%ld,%ld,%.9e\n", size, pairs, 16 * pairs, t_pairs);
        std::printf("%d,sum,%ld,%ld,%.9e\n", size, pairs, 16 * pairs, t_sum);
        std::fflush(stdout);
      }
    }
  }
  MPI_Finalize();
  return 0;
}
