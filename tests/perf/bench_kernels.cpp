// SPDX-License-Identifier: BSD-3-Clause
// Microbenchmarks of parot's hot kernels (Google Benchmark), each printed next to the roof it
// should approach: the exp throughput (fast_exp over an array in L1) or the memory bandwidth
// (STREAM-like read / triad over arrays much larger than the cache), both measured by this
// binary at start-up. A summary table (kernel, measured rate, bound, ratio) closes the output.
//
//   bench_kernels [--benchmark_filter=RE] [--benchmark_min_time=S] [--n=2000] [--sinkhorn-n=5000]
//                 [--sort-n=100000] [--bound-mb=256] [--bound-seconds=0.3] [--print-bounds]
//
// --print-bounds prints the two roofs ("exp_per_s X", "read_bytes_per_s X", "triad_bytes_per_s
// X") and exits; jobs/bench_sweep.py reads them. Runs on one rank (PETSc is initialized for the
// Hessian assembly on PETSC_COMM_SELF).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "bench_native.hpp"
#include "kernels/wasserstein1d.hpp"
#include "parot/core/environment.hpp"
#include "parot/problem/cost.hpp"
#include "parot/problem/measure.hpp"
#include "solver/entropic/stored_kernel.hpp"
#include "solver/entropic/sweeps.hpp"
#include "solver/sns/hessian.hpp"

namespace {

using parot::lindex;
using parot::Vector;

struct Settings {
  lindex n = 2000;           // n = m of the cost-tile, LSE and Hessian benchmarks
  lindex sinkhorn_n = 5000;  // n = m of the whole-iteration benchmarks (the acceptance size)
  lindex sort_n = 100000;    // points of the 1-D sort / W1D benchmarks
  double bound_mb = 256;     // size of the bandwidth arrays (all of them together)
  double bound_seconds = 0.3;
  bool print_bounds = false;
};
Settings settings;
parot::bench::Bounds bounds;

// How a benchmark's rate compares with the roofs: `per_unit` exps or bytes per counted unit.
enum class Roof { exp, read, triad };
const char* roof_name(Roof r) {
  return r == Roof::exp ? "exp" : (r == Roof::read ? "mem read" : "mem triad");
}
double roof_rate(Roof r, double per_unit) {
  const double base = r == Roof::exp
                          ? bounds.exp_per_s
                          : (r == Roof::read ? bounds.read_bytes_s : bounds.triad_bytes_s);
  return base / per_unit;
}

// Sets the counters every benchmark reports: rate (units/s), bound (units/s) and a label that
// the summary table reads: "<unit>|<roof>|<per_unit>".
void report(benchmark::State& state, double units_per_iteration, const char* unit, Roof roof,
            double per_unit) {
  state.counters["rate"] = benchmark::Counter(
      units_per_iteration * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["bound"] = benchmark::Counter(roof_rate(roof, per_unit));
  char label[128];
  std::snprintf(label, sizeof label, "%s|%s|%g", unit, roof_name(roof), per_unit);
  state.SetLabel(label);
}

// ---------------------------------------------------------------------------------------------
// Problem data: two uniform point clouds in [0,1]^d, uniform weights, eps = 0.01 x max cost.

struct Clouds {
  parot::Cost cost;
  Vector a, b, log_a, log_b, f, g;
  double eps = 0;
};

std::unique_ptr<Clouds> make_clouds(lindex n, lindex m, lindex d, parot::CostType type,
                                    double p = 2.0) {
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  parot::Measure src, tgt;
  src.layout = parot::Layout::uniform(PETSC_COMM_SELF, n);
  tgt.layout = parot::Layout::replicated(PETSC_COMM_SELF, m);
  src.points.resize(n, d);
  tgt.points.resize(m, d);
  for (lindex i = 0; i < n; ++i)
    for (lindex k = 0; k < d; ++k)
      src.points(i, k) = u(rng);
  for (lindex j = 0; j < m; ++j)
    for (lindex k = 0; k < d; ++k)
      tgt.points(j, k) = u(rng);
  src.weights = Vector::Constant(n, 1.0 / double(n));
  tgt.weights = Vector::Constant(m, 1.0 / double(m));
  auto c = std::make_unique<Clouds>();
  c->cost = parot::Cost(type, p, src, tgt);
  c->a = src.weights;
  c->b = tgt.weights;
  c->log_a = c->a.array().log();
  c->log_b = c->b.array().log();
  double max_cost = 0;
  {
    std::vector<double> row(static_cast<std::size_t>(m));
    for (lindex i = 0; i < n; ++i) {
      c->cost.tile(i, 1, 0, m, row.data(), m);
      for (double v : row)
        max_cost = std::max(max_cost, v);
    }
  }
  c->eps = 0.01 * max_cost;
  // A few Sinkhorn iterations, so that the potentials look like those of a real solve.
  c->f = Vector::Zero(n);
  c->g = Vector::Zero(m);
  parot::entropic::Workspace ws(m);
  Vector lse = Vector::Constant(n, std::numeric_limits<double>::quiet_NaN());
  for (int it = 0; it < 5; ++it) {
    parot::entropic::row_lse(c->cost, c->g, c->eps, lse, ws);
    for (lindex i = 0; i < n; ++i)
      c->f[i] = c->eps * (c->log_a[i] - lse[i]);
    parot::entropic::col_lse_partial(c->cost, c->f, c->eps, ws);
    for (lindex j = 0; j < m; ++j)
      c->g[j] = c->eps * (c->log_b[j] - (ws.cmax[j] + std::log(ws.csum[j])));
  }
  return c;
}

// Cached problems (building one at n = 5000 costs a second; benchmarks share them).
Clouds& clouds(lindex n, lindex d, parot::CostType type = parot::CostType::sqeuclidean,
               double p = 2.0) {
  static std::map<std::string, std::unique_ptr<Clouds>> cache;
  const std::string key = std::to_string(n) + "/" + std::to_string(d) + "/" +
                          parot::to_string(type) + "/" + std::to_string(p);
  auto& slot = cache[key];
  if (!slot) slot = make_clouds(n, n, d, type, p);
  return *slot;
}

// ---------------------------------------------------------------------------------------------
// The roofs themselves (also timed as benchmarks: their ratio to the start-up value shows noise).

void BM_fast_exp_array(benchmark::State& state) {
  const lindex n = state.range(0);
  std::vector<double> in(n), out(n);
  for (lindex i = 0; i < n; ++i)
    in[i] = -30.0 * double(i) / double(n);
  for (auto _ : state) {
    parot::bench::fast_exp_array(in.data(), out.data(), n);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  report(state, double(n), "exp", Roof::exp, 1.0);
}

void BM_fast_exp_sum(benchmark::State& state) {
  const lindex n = state.range(0);
  std::vector<double> in(n);
  for (lindex i = 0; i < n; ++i)
    in[i] = -30.0 * double(i) / double(n);
  for (auto _ : state)
    benchmark::DoNotOptimize(parot::bench::fast_exp_sum(in.data(), n, 0.5));
  report(state, double(n), "exp", Roof::exp, 1.0);
}

void BM_std_exp_array(benchmark::State& state) {
  const lindex n = state.range(0);
  std::vector<double> in(n), out(n);
  for (lindex i = 0; i < n; ++i)
    in[i] = -30.0 * double(i) / double(n);
  for (auto _ : state) {
    parot::bench::std_exp_array(in.data(), out.data(), n);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  report(state, double(n), "exp", Roof::exp, 1.0);
}

void BM_stream_read(benchmark::State& state) {
  const lindex n = static_cast<lindex>(settings.bound_mb * (1 << 20) / 8);
  std::vector<double> a(n, 1.0);
  for (auto _ : state)
    benchmark::DoNotOptimize(parot::bench::stream_read(a.data(), n));
  report(state, 8.0 * double(n), "B", Roof::read, 1.0);
}

void BM_stream_triad(benchmark::State& state) {
  const lindex n = static_cast<lindex>(settings.bound_mb * (1 << 20) / 24);
  std::vector<double> a(n, 0.0), x(n, 1.0), y(n, 2.0);
  for (auto _ : state) {
    parot::bench::stream_triad(a.data(), x.data(), y.data(), 0.5, n);
    benchmark::DoNotOptimize(a.data());
    benchmark::ClobberMemory();
  }
  report(state, 24.0 * double(n), "B", Roof::triad, 1.0);
}

// ---------------------------------------------------------------------------------------------
// Cost tiles: the whole n x m cost, tile by tile into the sweeps' L1-sized workspace (8 x 1024).
// The roof is the exp: a tile entry must cost well under one exp (ratio >> 1) for the sweeps to
// approach the exp bound. The explicit matrix is a copy out of memory (read roof, 8 B/entry).

void BM_cost_tile(benchmark::State& state, parot::CostType type, double p) {
  const lindex n = state.range(0), d = state.range(1);
  const parot::Cost& cost = clouds(n, d, type, p).cost;
  const lindex m = cost.cols();
  constexpr lindex tr = parot::entropic::Workspace::tile_rows;
  constexpr lindex tc = parot::entropic::Workspace::tile_cols;
  std::vector<double> tile(tr * tc);
  for (auto _ : state) {
    for (lindex i0 = 0; i0 < n; i0 += tr)
      for (lindex j0 = 0; j0 < m; j0 += tc)
        cost.tile(i0, std::min(tr, n - i0), j0, std::min(tc, m - j0), tile.data(), tc);
    benchmark::DoNotOptimize(tile.data());
    benchmark::ClobberMemory();
  }
  report(state, double(n) * double(m), "entries", Roof::exp, 1.0);
}

void BM_cost_tile_matrix(benchmark::State& state) {
  const lindex n = state.range(0);
  const parot::Cost& src = clouds(n, 2).cost;
  parot::RowMatrix block(n, n);
  for (lindex i = 0; i < n; ++i)
    src.tile(i, 1, 0, n, block.data() + i * n, n);
  const parot::Cost cost(std::move(block));
  constexpr lindex tr = parot::entropic::Workspace::tile_rows;
  constexpr lindex tc = parot::entropic::Workspace::tile_cols;
  std::vector<double> tile(tr * tc);
  for (auto _ : state) {
    for (lindex i0 = 0; i0 < n; i0 += tr)
      for (lindex j0 = 0; j0 < n; j0 += tc)
        cost.tile(i0, std::min(tr, n - i0), j0, std::min(tc, n - j0), tile.data(), tc);
    benchmark::DoNotOptimize(tile.data());
    benchmark::ClobberMemory();
  }
  report(state, double(n) * double(n), "entries", Roof::read, 8.0);
}

// ---------------------------------------------------------------------------------------------
// Log-domain sweeps: one exp per entry (shifted, one pass) or a max pass + one exp (exact).

void BM_row_lse(benchmark::State& state, bool shifted) {
  const lindex n = state.range(0), d = state.range(1);
  Clouds& c = clouds(n, d);
  const lindex m = c.cost.cols();
  parot::entropic::Workspace ws(m);
  const double none = std::numeric_limits<double>::quiet_NaN();
  Vector lse = Vector::Constant(n, none);
  parot::entropic::row_lse(c.cost, c.g, c.eps, lse, ws);  // the shifts: exact LSEs
  for (auto _ : state) {
    if (!shifted) lse.setConstant(none);
    parot::entropic::row_lse(c.cost, c.g, c.eps, lse, ws);
    benchmark::DoNotOptimize(lse.data());
  }
  report(state, double(n) * double(m), "entries", Roof::exp, 1.0);
}

void BM_col_lse_partial(benchmark::State& state, bool shifted) {
  const lindex n = state.range(0), d = state.range(1);
  Clouds& c = clouds(n, d);
  const lindex m = c.cost.cols();
  parot::entropic::Workspace ws(m);
  parot::entropic::col_lse_partial(c.cost, c.f, c.eps, ws);
  std::vector<double> shift(m);
  for (lindex j = 0; j < m; ++j)
    shift[j] = ws.cmax[j] + std::log(ws.csum[j]);
  for (auto _ : state) {
    parot::entropic::col_lse_partial(c.cost, c.f, c.eps, ws, shifted ? shift.data() : nullptr);
    benchmark::DoNotOptimize(ws.csum.data());
  }
  report(state, double(n) * double(m), "entries", Roof::exp, 1.0);
}

// One log-domain Sinkhorn iteration on one rank as the solver runs it (row LSE, f-update,
// shifted column pass; no allreduce): 2 exps per entry.
void BM_sinkhorn_log_iteration(benchmark::State& state) {
  const lindex n = state.range(0), d = state.range(1);
  Clouds& c = clouds(n, d);
  const lindex m = c.cost.cols();
  parot::entropic::Workspace ws(m);
  Vector lse = Vector::Constant(n, std::numeric_limits<double>::quiet_NaN());
  Vector f = c.f;
  parot::entropic::row_lse(c.cost, c.g, c.eps, lse, ws);
  parot::entropic::col_lse_partial(c.cost, f, c.eps, ws);
  std::vector<double> shift(m);
  for (lindex j = 0; j < m; ++j)
    shift[j] = ws.cmax[j] + std::log(ws.csum[j]);
  for (auto _ : state) {
    parot::entropic::row_lse(c.cost, c.g, c.eps, lse, ws);
    for (lindex i = 0; i < n; ++i)
      f[i] = c.eps * (c.log_a[i] - lse[i]);
    parot::entropic::col_lse_partial(c.cost, f, c.eps, ws, shift.data());
    benchmark::DoNotOptimize(ws.csum.data());
  }
  report(state, double(n) * double(m), "entries", Roof::exp, 2.0);
}

// The stored absorbed kernel: one pass over K (n x m doubles, read once from memory; the
// column update re-reads the row from cache): 8 B/entry.
void BM_stored_kernel_sweep(benchmark::State& state) {
  const lindex n = state.range(0), d = state.range(1);
  Clouds& c = clouds(n, d);
  const lindex m = c.cost.cols();
  parot::entropic::Workspace ws(m);
  parot::entropic::StoredKernel kernel;
  Vector f = c.f;
  kernel.absorb(c.cost, f, c.g, c.eps);
  bool bad = false;
  for (auto _ : state) {
    kernel.sweep(c.cost, c.log_a, c.g, c.eps, f, ws, bad);
    benchmark::DoNotOptimize(ws.csum.data());
  }
  if (bad) state.SkipWithError("NaN in the stored-kernel sweep");
  report(state, double(n) * double(m), "entries", Roof::read, 8.0);
}

// ---------------------------------------------------------------------------------------------
// SNS: the sparsified Hessian from a dense plan block (two passes over P: 16 B/dense entry; the
// kept entries go through MatSetValues). Kept: about 1% of the entries (a Gaussian band).

void BM_assemble_hessian(benchmark::State& state) {
  const lindex n = state.range(0), m = n;
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<double> x(2 * n), y(2 * m);
  for (auto& v : x)
    v = u(rng);
  for (auto& v : y)
    v = u(rng);
  const double width = 0.01, radius = 0.06;
  std::vector<double> P(static_cast<std::size_t>(n * m)), row_sum(n, 0.0), col_sum(m, 0.0);
  for (lindex i = 0; i < n; ++i)
    for (lindex j = 0; j < m; ++j) {
      const double dx = x[2 * i] - y[2 * j], dy = x[2 * i + 1] - y[2 * j + 1];
      const double p = std::exp(-(dx * dx + dy * dy) / width) / double(n * m);
      P[i * m + j] = p;
      row_sum[i] += p;
      col_sum[j] += p;
    }
  parot::sns::Selection keep;
  keep.row_threshold.assign(n, std::exp(-radius * radius / width) / double(n * m));
  keep.kept = 0;
  for (lindex k = 0; k < n * m; ++k)
    keep.kept += P[k] >= keep.row_threshold[0];
  const parot::sns::NewtonLayout layout(parot::Layout::uniform(PETSC_COMM_SELF, n), m);
  for (auto _ : state) {
    parot::petsc::MatPtr M =
        parot::sns::assemble_hessian(layout, P.data(), m, keep, row_sum, col_sum, 1e-2);
    benchmark::DoNotOptimize(M.get());
  }
  state.counters["kept"] = benchmark::Counter(double(keep.kept));
  report(state, double(n) * double(m), "entries", Roof::read, 16.0);
}

// ---------------------------------------------------------------------------------------------
// Sliced: sorting the projections (index sort, the atoms gathered in order) and the 1-D merge.
// Roof: one streaming read of (x, w), 16 B/point; an O(n log n) sort stays far below it.

std::vector<double> random_values(lindex n, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> z;
  std::vector<double> v(n);
  for (auto& e : v)
    e = z(rng);
  return v;
}

void BM_sort_1d(benchmark::State& state) {
  const lindex n = state.range(0);
  const std::vector<double> x = random_values(n, 1), w(n, 1.0 / double(n));
  parot::kernels::Sorted1d out;
  std::vector<lindex> order;
  for (auto _ : state) {
    parot::kernels::sort_1d(x.data(), w.data(), n, out, order);
    benchmark::DoNotOptimize(out.value.data());
  }
  report(state, double(n), "points", Roof::read, 16.0);
}

void BM_std_sort_doubles(benchmark::State& state) {  // reference: a plain sort of the values
  const lindex n = state.range(0);
  const std::vector<double> x = random_values(n, 1);
  std::vector<double> y;
  for (auto _ : state) {
    y = x;
    std::sort(y.begin(), y.end());
    benchmark::DoNotOptimize(y.data());
  }
  report(state, double(n), "points", Roof::read, 16.0);
}

void BM_wasserstein_1d_sorted(benchmark::State& state) {
  const lindex n = state.range(0);
  const std::vector<double> x = random_values(n, 1), y = random_values(n, 2), w(n, 1.0 / double(n));
  parot::kernels::Sorted1d u, v;
  std::vector<lindex> order;
  parot::kernels::sort_1d(x.data(), w.data(), n, u, order);
  parot::kernels::sort_1d(y.data(), w.data(), n, v, order);
  for (auto _ : state)
    benchmark::DoNotOptimize(parot::kernels::wasserstein_1d_sorted(u, v, 2.0));
  // Both measures are read once: 2 x 16 B per point.
  report(state, double(n), "points", Roof::read, 32.0);
}

void register_benchmarks() {
  using benchmark::RegisterBenchmark;
  const lindex n = settings.n, ns = settings.sinkhorn_n, sn = settings.sort_n;
  RegisterBenchmark("exp/fast_exp_array", BM_fast_exp_array)->Arg(2048);
  RegisterBenchmark("exp/fast_exp_sum", BM_fast_exp_sum)->Arg(2048);
  RegisterBenchmark("exp/std_exp_array", BM_std_exp_array)->Arg(2048);
  RegisterBenchmark("mem/stream_read", BM_stream_read);
  RegisterBenchmark("mem/stream_triad", BM_stream_triad);
  RegisterBenchmark("cost_tile/sqeuclidean", BM_cost_tile, parot::CostType::sqeuclidean, 2.0)
      ->Args({n, 2})
      ->Args({n, 8});
  RegisterBenchmark("cost_tile/euclidean", BM_cost_tile, parot::CostType::euclidean, 2.0)
      ->Args({n, 2});
  RegisterBenchmark("cost_tile/l1", BM_cost_tile, parot::CostType::lp, 1.0)->Args({n, 2});
  RegisterBenchmark("cost_tile/matrix", BM_cost_tile_matrix)
      ->Arg(n >= 1000 ? std::max<lindex>(n, 3000) : n);  // > L3
  RegisterBenchmark("row_lse/shifted", BM_row_lse, true)->Args({n, 2});
  RegisterBenchmark("row_lse/exact", BM_row_lse, false)->Args({n, 2});
  RegisterBenchmark("col_lse_partial/shifted", BM_col_lse_partial, true)->Args({n, 2});
  RegisterBenchmark("col_lse_partial/exact", BM_col_lse_partial, false)->Args({n, 2});
  RegisterBenchmark("sinkhorn/log_iteration", BM_sinkhorn_log_iteration)->Args({ns, 2});
  RegisterBenchmark("sinkhorn/stored_kernel_sweep", BM_stored_kernel_sweep)->Args({ns, 2});
  RegisterBenchmark("sns/assemble_hessian", BM_assemble_hessian)->Arg(n);
  RegisterBenchmark("sliced/sort_1d", BM_sort_1d)->Arg(sn);
  RegisterBenchmark("sliced/std_sort_doubles", BM_std_sort_doubles)->Arg(sn);
  RegisterBenchmark("sliced/wasserstein_1d_sorted", BM_wasserstein_1d_sorted)->Arg(sn);
}

// ---------------------------------------------------------------------------------------------
// The console reporter plus a closing summary table.

std::string si(double v) {
  const char* prefix[] = {"", "k", "M", "G", "T"};
  int k = 0;
  while (std::abs(v) >= 1000 && k < 4) {
    v /= 1000;
    ++k;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g %s", v, prefix[k]);
  return buf;
}

const char* singular(const char* unit) {
  return std::strcmp(unit, "entries") == 0 ? "entry"
                                           : (std::strcmp(unit, "points") == 0 ? "point" : unit);
}

class SummaryReporter : public benchmark::ConsoleReporter {
 public:
  using benchmark::ConsoleReporter::ConsoleReporter;
  void ReportRuns(const std::vector<Run>& reports) override {
    benchmark::ConsoleReporter::ReportRuns(reports);
    for (const Run& r : reports) {
      if (r.error_occurred) continue;
      // With repetitions, keep the median aggregate; without, the single run.
      if (r.run_type == Run::RT_Aggregate && r.aggregate_name != "median") continue;
      if (r.run_type == Run::RT_Iteration && r.repetitions > 1) continue;
      if (!r.counters.count("rate") || !r.counters.count("bound")) continue;
      rows_.push_back(r);
    }
  }
  void Finalize() override {
    benchmark::ConsoleReporter::Finalize();
    // The roofs: the start-up values, raised to the roof benchmarks of this run where those ran
    // faster (a shared machine may have been busy during the start-up measurement).
    const parot::bench::Bounds startup = bounds;
    for (const Run& r : rows_) {
      const std::string name = r.benchmark_name();
      const double rate = r.counters.at("rate").value;
      if (name.rfind("exp/fast_exp_array", 0) == 0)
        bounds.exp_per_s = std::max(bounds.exp_per_s, rate);
      if (name.rfind("mem/stream_read", 0) == 0)
        bounds.read_bytes_s = std::max(bounds.read_bytes_s, rate);
      if (name.rfind("mem/stream_triad", 0) == 0)
        bounds.triad_bytes_s = std::max(bounds.triad_bytes_s, rate);
    }
    std::FILE* out = stdout;
    std::fflush(out);
    std::fprintf(out,
                 "\nSummary: rate measured vs. the roof it should approach, both from this run.\n"
                 "Roofs: fast_exp over an array in L1 %sexp/s; read %sB/s, triad %sB/s over "
                 "%.0f MiB (best of the start-up runs: %sexp/s, %sB/s, %sB/s, and of the exp/mem "
                 "benchmarks below).\n"
                 "Rates per CPU time (Google Benchmark's default). bound = roof / (exps or bytes "
                 "per unit); ratio = measured / bound (cost tiles: >= 1 means cheaper than an "
                 "exp).\n\n",
                 si(bounds.exp_per_s).c_str(), si(bounds.read_bytes_s).c_str(),
                 si(bounds.triad_bytes_s).c_str(), settings.bound_mb, si(startup.exp_per_s).c_str(),
                 si(startup.read_bytes_s).c_str(), si(startup.triad_bytes_s).c_str());
    std::fprintf(out, "%-44s %16s %16s %7s  %s\n", "kernel", "measured", "bound", "ratio", "roof");
    for (const Run& r : rows_) {
      char unit[64] = "", roof[64] = "", per[32] = "";
      std::sscanf(r.report_label.c_str(), "%63[^|]|%63[^|]|%31s", unit, roof, per);
      const double rate = r.counters.at("rate").value;
      const Roof kind = std::strcmp(roof, "exp") == 0
                            ? Roof::exp
                            : (std::strcmp(roof, "mem read") == 0 ? Roof::read : Roof::triad);
      const double bound = roof_rate(kind, std::atof(per));
      std::string name = r.benchmark_name();
      for (const char* strip : {"/real_time", "_median"})
        if (auto pos = name.find(strip); pos != std::string::npos) name.erase(pos);
      const bool exp_roof = std::strcmp(roof, "exp") == 0;
      std::fprintf(out, "%-44s %16s %16s %7.2f  %s, %s%s per %s\n", name.c_str(),
                   (si(rate) + unit + "/s").c_str(), (si(bound) + unit + "/s").c_str(),
                   rate / bound, roof, per, exp_roof ? " exp" : " B", singular(unit));
    }
    std::fflush(out);
  }

 private:
  std::vector<Run> rows_;
};

bool take_flag(const char* arg, const char* name, std::string& value) {
  const std::size_t len = std::strlen(name);
  if (std::strncmp(arg, name, len) != 0) return false;
  if (arg[len] == '=') {
    value = arg + len + 1;
    return true;
  }
  if (arg[len] == '\0') {
    value = "1";
    return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);  // strips --benchmark_* before anything else reads argv
  for (int k = 1; k < argc; ++k) {
    std::string v;
    if (take_flag(argv[k], "--n", v)) {
      settings.n = std::atol(v.c_str());
    } else if (take_flag(argv[k], "--sinkhorn-n", v)) {
      settings.sinkhorn_n = std::atol(v.c_str());
    } else if (take_flag(argv[k], "--sort-n", v)) {
      settings.sort_n = std::atol(v.c_str());
    } else if (take_flag(argv[k], "--bound-mb", v)) {
      settings.bound_mb = std::atof(v.c_str());
    } else if (take_flag(argv[k], "--bound-seconds", v)) {
      settings.bound_seconds = std::atof(v.c_str());
    } else if (take_flag(argv[k], "--print-bounds", v)) {
      settings.print_bounds = true;
    } else {
      std::fprintf(stderr, "bench_kernels: unknown argument '%s'\n", argv[k]);
      return 2;
    }
  }
  if (settings.n < 8 || settings.sinkhorn_n < 8 || settings.sort_n < 8 ||
      !(settings.bound_mb > 0)) {
    std::fprintf(stderr, "bench_kernels: sizes must be >= 8 and --bound-mb > 0\n");
    return 2;
  }
  int petsc_argc = 1;
  char** petsc_argv = argv;
  parot::Environment env(petsc_argc, petsc_argv);
  bounds = parot::bench::measure_bounds(settings.bound_mb, settings.bound_seconds);
  if (settings.print_bounds) {
    std::printf("exp_per_s %.6e\nread_bytes_per_s %.6e\ntriad_bytes_per_s %.6e\n", bounds.exp_per_s,
                bounds.read_bytes_s, bounds.triad_bytes_s);
    return 0;
  }
  register_benchmarks();
  SummaryReporter reporter(isatty(1) ? benchmark::ConsoleReporter::OO_ColorTabular
                                     : benchmark::ConsoleReporter::OO_Tabular);
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
