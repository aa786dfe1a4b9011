// SPDX-License-Identifier: BSD-3-Clause
// Runtime dispatch of the hot kernels over instruction-set levels (no MPI, no PETSc).
//
// The loops of the sweeps (cost tiles, log-sum-exp merges, exp, the stored-kernel and truncated
// row passes) are compiled once per level into src/kernels/dispatch_isa.cpp (see
// src/CMakeLists.txt): on x86-64 `baseline` (the compiler's default, SSE2), `avx2`
// (-march=x86-64-v3: AVX2, FMA, BMI2) and `avx512` (-march=x86-64-v4); under PAROT_NATIVE only
// `native` (-march=native); elsewhere only `baseline`. The highest level the CPU supports is
// chosen once, at the first call of active(); the environment variable PAROT_ISA (baseline, avx2,
// avx512, native or auto) forces a level. So one binary built on a login node runs, at full
// speed, on compute nodes of any generation.
//
// The levels differ only by rounding (FMA contraction, exp argument reduction); every sum runs
// in the same fixed lane-wise order at every level (tests/unit/test_dispatch.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "parot/core/types.hpp"

namespace parot::kernels {

enum class Isa { baseline, avx2, avx512, native };

/// "baseline", "avx2", "avx512", "native".
const char* to_string(Isa isa);

/// What one row pass of truncated-kernel Sinkhorn saw (see solver/certify/truncated_sweep.hpp).
struct SparseRowPass {
  double error = 0;  ///< Σ_i |r_i − a_i|, r_i the row sums of the plan on the support
  double af = 0;     ///< Σ_i a_i f_i
  bool bad = false;  ///< a non-finite potential came out
};

/// A truncated row or column sum in this range is used as is; outside it, it is redone against
/// the running maximum.
inline bool sparse_sum_safe(double s) {
  return s >= 1e-280 && s <= 1e280;
}

/// The kernels of one level. Plain arrays only: no Eigen object is created or freed by a kernel
/// (Eigen's heap alignment depends on the instruction set).
struct KernelTable {
  Isa isa;
  /// kernels/cost_tile.hpp
  void (*sqeuclidean_tile)(const double* x, lindex ni, lindex d, const double* yt, lindex ys,
                           lindex nj, double* out, lindex ld);
  void (*euclidean_tile)(const double* x, lindex ni, lindex d, const double* yt, lindex ys,
                         lindex nj, double* out, lindex ld);
  void (*lp_tile)(double p, const double* x, lindex ni, lindex d, const double* yt, lindex ys,
                  lindex nj, double* out, lindex ld);
  /// kernels/lse.hpp
  void (*row_lse_merge)(const double* c, lindex ld, lindex ni, lindex nj, const double* g,
                        double inv_eps, double* rmax, double* rsum, double* v);
  void (*col_lse_merge)(const double* c, lindex ld, lindex ni, lindex nj, const double* f,
                        double inv_eps, double* cmax, double* csum, double* tmax);
  void (*row_sum_shifted)(const double* c, lindex ld, lindex ni, lindex nj, const double* g,
                          double inv_eps, const double* shift, double* rsum);
  void (*col_sum_shifted)(const double* c, lindex ld, lindex ni, lindex nj, const double* f,
                          double inv_eps, const double* shift, double* csum);
  /// kernels/exp.hpp: out[i] = fast_exp(in[i]) (in may equal out).
  void (*exp_array)(const double* in, double* out, lindex n);
  /// Σ_i fast_exp(x_i − shift), lane-wise (kernels::lanes partial sums, fixed order).
  double (*exp_sum)(const double* x, lindex n, double shift);
  /// Σ_i x_i, lane-wise.
  double (*lane_sum)(const double* x, lindex n);
  /// Σ_i x_i y_i, lane-wise.
  double (*lane_dot)(const double* x, const double* y, lindex n);
  /// y_i += s x_i.
  void (*add_scaled)(double* y, const double* x, double s, lindex n);
  /// out_j = fast_exp((f + g_j − c_j)·inv_eps) (c may equal out): a row of the Gibbs kernel.
  void (*gibbs_row)(const double* c, lindex n, double f, const double* g, double inv_eps,
                    double* out);
  /// out_j = fast_exp((x_j − y_j)·inv_eps).
  void (*exp_scaled_diff)(const double* x, const double* y, lindex n, double inv_eps, double* out);
  /// truncated::row_pass (solver/certify/truncated_sweep.hpp).
  SparseRowPass (*sparse_row_pass)(const std::int64_t* ptr, const std::int32_t* col,
                                   const double* cost, lindex n, const double* a, double* f,
                                   const double* g, double eps, double omega, double* col_sums,
                                   double* scratch);
};

/// The levels compiled into this build, lowest first.
const std::vector<Isa>& compiled_isas();

/// Whether this CPU (and its operating system) runs code of `isa` (native: always).
bool cpu_supports(Isa isa);

/// The kernels of a compiled level; nullptr when `isa` is not compiled in.
const KernelTable* table(Isa isa);

/// The level to run: `request` (the value of PAROT_ISA; null, empty or "auto" for the highest)
/// if it is in `available` (ascending), else the highest available level, with a one-line
/// explanation in `warning`. `available` is not empty.
Isa select_isa(const char* request, const std::vector<Isa>& available, std::string& warning);

/// The kernels this process runs, chosen at the first call (select_isa over the compiled levels
/// the CPU supports, with PAROT_ISA; a warning goes to stderr). @notcollective
const KernelTable& active();

}  // namespace parot::kernels
