// SPDX-License-Identifier: BSD-3-Clause
// Choice of the kernel level at start-up (kernels/dispatch.hpp).
#include "kernels/dispatch.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "kernels/dispatch_levels.hpp"  // generated: PAROT_KERNEL_ISAS(X), the compiled levels
#include "parot/version.hpp"

namespace parot::kernels {

#define PAROT_DECLARE_TABLE(level) \
  namespace isa_##level {          \
    const KernelTable& table();    \
  }
PAROT_KERNEL_ISAS(PAROT_DECLARE_TABLE)
#undef PAROT_DECLARE_TABLE

const char* to_string(Isa isa) {
  switch (isa) {
    case Isa::baseline:
      return "baseline";
    case Isa::avx2:
      return "avx2";
    case Isa::avx512:
      return "avx512";
    case Isa::native:
      return "native";
  }
  return "unknown";
}

const std::vector<Isa>& compiled_isas() {
#define PAROT_LIST_LEVEL(level) Isa::level,
  static const std::vector<Isa> levels{PAROT_KERNEL_ISAS(PAROT_LIST_LEVEL)};
#undef PAROT_LIST_LEVEL
  return levels;
}

bool cpu_supports(Isa isa) {
  switch (isa) {
    case Isa::baseline:
    case Isa::native:
      return true;
#if defined(__x86_64__) && defined(__GNUC__)
      // libgcc checks the OS support (XCR0) of the AVX and AVX-512 states too.
#if !defined(__clang__) && __GNUC__ >= 12
    case Isa::avx2:
      return __builtin_cpu_supports("x86-64-v3");
    case Isa::avx512:
      return __builtin_cpu_supports("x86-64-v4");
#else
    case Isa::avx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
             __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2");
    case Isa::avx512:
      return cpu_supports(Isa::avx2) && __builtin_cpu_supports("avx512f") &&
             __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512cd") &&
             __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
#endif
#endif
    default:
      return false;
  }
}

const KernelTable* table(Isa isa) {
  switch (isa) {
#define PAROT_TABLE_CASE(level) \
  case Isa::level:              \
    return &isa_##level::table();
    PAROT_KERNEL_ISAS(PAROT_TABLE_CASE)
#undef PAROT_TABLE_CASE
    default:
      return nullptr;
  }
}

Isa select_isa(const char* request, const std::vector<Isa>& available, std::string& warning) {
  warning.clear();
  const Isa best = available.back();
  if (!request || !*request || std::strcmp(request, "auto") == 0) return best;
  for (Isa isa : available)
    if (std::strcmp(request, to_string(isa)) == 0) return isa;
  std::string levels;
  for (Isa isa : available)
    levels += std::string(levels.empty() ? "" : ", ") + to_string(isa);
  warning = std::string("PAROT_ISA=") + request +
            " is not a kernel level this build and CPU run (" + levels + "); using " +
            to_string(best);
  return best;
}

namespace {
const KernelTable& choose() {
  std::vector<Isa> available;
  for (Isa isa : compiled_isas())
    if (cpu_supports(isa)) available.push_back(isa);
  std::string warning;
  const Isa isa = select_isa(std::getenv("PAROT_ISA"), available, warning);
  if (!warning.empty()) std::fprintf(stderr, "parot: warning: %s\n", warning.c_str());
  return *table(isa);
}
}  // namespace

const KernelTable& active() {
  static const KernelTable& chosen = choose();
  return chosen;
}

}  // namespace parot::kernels

namespace parot {
const char* kernel_isa() {
  return kernels::to_string(kernels::active().isa);
}
}  // namespace parot
