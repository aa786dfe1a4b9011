// SPDX-License-Identifier: BSD-3-Clause
// The memory guard.
#include "parot/core/memory.hpp"

#include <unistd.h>

#include "parot/core/comm.hpp"
#include "parot/core/error.hpp"

namespace parot {

namespace {
double physical_memory() {
  const long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGE_SIZE);
  return pages > 0 && size > 0 ? static_cast<double>(pages) * static_cast<double>(size) : 1e18;
}
double g_limit = -1;
}  // namespace

double memory_limit() {
  return g_limit > 0 ? g_limit : physical_memory();
}

void set_memory_limit(double bytes) {
  PAROT_CHECK(bytes > 0, InvalidArgument, "option -max_memory must be positive");
  g_limit = bytes;
}

void check_memory(MPI_Comm comm, double bytes, const std::string& what) {
  const double worst = allreduce_max(comm, bytes);
  const double mib = 1024.0 * 1024.0;
  PAROT_CHECK(worst <= memory_limit(), InvalidArgument, what, " needs ", worst / mib,
              " MiB on the busiest rank, above the limit of ", memory_limit() / mib,
              " MiB per rank (-max_memory); use more ranks or raise -max_memory");
}

}  // namespace parot
