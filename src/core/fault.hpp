// SPDX-License-Identifier: BSD-3-Clause
// Fault injection for the tests of the collective error discipline: PAROT_FAULT="site:rank[,…]"
// makes the named site fail on that rank only (sites: "read" — an HDF5 read returns an error;
// "alloc" — an allocation throws std::bad_alloc; "underflow" — SNS's plan block underflows to
// zero at the first Newton check, as if exp had underflowed on that rank; "write" — a dataset
// write of an output file fails, as on a full disk). Unset in production: one getenv per call site.
#pragma once

#include <mpi.h>

#include <cstdlib>
#include <sstream>
#include <string>

namespace parot::detail {

inline bool fault_injected(const char* site, MPI_Comm comm) {
  const char* spec = std::getenv("PAROT_FAULT");
  if (!spec) return false;
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  std::istringstream in(spec);
  for (std::string item; std::getline(in, item, ',');) {
    const auto colon = item.find(':');
    if (colon != std::string::npos && item.substr(0, colon) == site &&
        std::atoi(item.c_str() + colon + 1) == rank)
      return true;
  }
  return false;
}

}  // namespace parot::detail
