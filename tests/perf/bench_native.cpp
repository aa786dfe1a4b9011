// SPDX-License-Identifier: BSD-3-Clause
// Reference kernels of the microbenchmarks: the exp and read loops run through the library's
// kernel dispatch (kernels/dispatch.hpp), at the same level as the sweeps.
#include "bench_native.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <vector>

#include "kernels/dispatch.hpp"

namespace parot::bench {

void fast_exp_array(const double* in, double* out, lindex n) {
  kernels::active().exp_array(in, out, n);
}

void std_exp_array(const double* in, double* out, lindex n) {
  for (lindex i = 0; i < n; ++i)
    out[i] = std::exp(in[i]);
}

double fast_exp_sum(const double* in, lindex n, double shift) {
  return kernels::active().exp_sum(in, n, shift);
}

double stream_read(const double* a, lindex n) {
  return kernels::active().lane_sum(a, n);
}

// Compiled at the build's baseline level: bound by memory bandwidth, not by the instructions.
void stream_triad(double* a, const double* b, const double* c, double s, lindex n) {
  for (lindex i = 0; i < n; ++i)
    a[i] = b[i] + s * c[i];
}

namespace {
double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Best rate (units per second) of `fn` (doing `units` per call) over repeated calls for about
// `seconds`, at least 3 calls.
template <class Fn>
double best_rate(double units, double seconds, Fn&& fn) {
  double best = 0;
  const double start = now();
  for (int k = 0; k < 3 || now() - start < seconds; ++k) {
    const double t0 = now();
    fn();
    const double dt = now() - t0;
    if (dt > 0) best = std::max(best, units / dt);
  }
  return best;
}

volatile double sink;
}  // namespace

Bounds measure_bounds(double mb, double seconds) {
  Bounds b;
  {
    constexpr lindex n = 2048;  // 2 x 16 KiB: in L1
    std::vector<double> in(n), out(n);
    for (lindex i = 0; i < n; ++i)
      in[i] = -30.0 * static_cast<double>(i) / n;
    constexpr int reps = 200;
    b.exp_per_s = best_rate(double(n) * reps, seconds, [&] {
      for (int r = 0; r < reps; ++r) {
        fast_exp_array(in.data(), out.data(), n);
        sink = out[r % n];
      }
    });
  }
  {
    const lindex n = std::max<lindex>(1024, static_cast<lindex>(mb * (1 << 20) / 8));
    std::vector<double> a(n, 1.0);
    b.read_bytes_s = best_rate(8.0 * double(n), seconds, [&] { sink = stream_read(a.data(), n); });
  }
  {
    const lindex n = std::max<lindex>(1024, static_cast<lindex>(mb * (1 << 20) / 24));
    std::vector<double> a(n, 0.0), x(n, 1.0), y(n, 2.0);
    b.triad_bytes_s = best_rate(24.0 * double(n), seconds, [&] {
      stream_triad(a.data(), x.data(), y.data(), 0.5, n);
      sink = a[n / 2];
    });
  }
  return b;
}

}  // namespace parot::bench
