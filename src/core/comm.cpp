// SPDX-License-Identifier: BSD-3-Clause
// The collective error check (style.md §3.6, E2b) and small reductions.
#include "parot/core/comm.hpp"

#include <new>
#include <vector>

namespace parot {

int comm_rank(MPI_Comm comm) {
  int r = 0;
  MPI_Comm_rank(comm, &r);
  return r;
}

int comm_size(MPI_Comm comm) {
  int s = 1;
  MPI_Comm_size(comm, &s);
  return s;
}

void check_all(MPI_Comm comm, bool ok, ErrorKind kind, const std::string& what) {
  const int size = comm_size(comm);
  const int mine = ok ? size : comm_rank(comm);
  int first = size;
  MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, comm);
  if (first == size) return;
  // The lowest failing rank tells everybody what it saw.
  int header[2] = {static_cast<int>(kind), static_cast<int>(what.size())};
  MPI_Bcast(header, 2, MPI_INT, first, comm);
  std::vector<char> text(what.begin(), what.end());
  text.resize(static_cast<std::size_t>(header[1]));
  MPI_Bcast(text.data(), header[1], MPI_CHAR, first, comm);
  raise(static_cast<ErrorKind>(header[0]), std::string(text.begin(), text.end()), true);
}

void run_collectively(MPI_Comm comm, const std::function<void()>& body) {
  bool ok = true;
  ErrorKind kind = ErrorKind::internal;
  std::string what;
  try {
    body();
  } catch (const Error& e) {
    ok = false;
    kind = e.kind();
    what = e.what();
  } catch (const std::bad_alloc&) {
    ok = false;
    kind = ErrorKind::invalid_input;
    what = "out of memory (an allocation failed on rank " + std::to_string(comm_rank(comm)) + ")";
  }
  check_all(comm, ok, kind, what);
}

double allreduce_sum(MPI_Comm comm, double value) {
  double out = 0;
  MPI_Allreduce(&value, &out, 1, MPI_DOUBLE, MPI_SUM, comm);
  return out;
}

double allreduce_max(MPI_Comm comm, double value) {
  double out = 0;
  MPI_Allreduce(&value, &out, 1, MPI_DOUBLE, MPI_MAX, comm);
  return out;
}

double allreduce_min(MPI_Comm comm, double value) {
  double out = 0;
  MPI_Allreduce(&value, &out, 1, MPI_DOUBLE, MPI_MIN, comm);
  return out;
}

}  // namespace parot
