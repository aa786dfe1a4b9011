// SPDX-License-Identifier: BSD-3-Clause
// Truncated-kernel Sinkhorn stages (truncated.hpp).
#include "truncated.hpp"

#include "truncated_sweep.hpp"

#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "parot/core/comm.hpp"
#include "parot/core/log.hpp"
#include "parot/core/signals.hpp"

namespace parot::truncated {
namespace {

constexpr double inf = std::numeric_limits<double>::infinity();

}  // namespace

Support build(const Problem& problem, const Vector& f, const Vector& g, double eps, double depth,
              double budget) {
  MPI_Comm comm = problem.comm();
  const Cost& cost = problem.cost;
  const Vector& a = problem.source.weights;
  const Vector& b = problem.target.weights;
  const lindex n = cost.local_rows(), m = cost.cols();
  const double cut = depth * eps;
  std::vector<double> c(static_cast<std::size_t>(m));
  std::vector<double> row_max(static_cast<std::size_t>(n), -inf);
  std::vector<double> col_max(static_cast<std::size_t>(m), -inf);

  // Pass 1: the largest s of every row and (after the reduction) of every column.
  for (lindex i = 0; i < n; ++i) {
    if (!(a[i] > 0)) continue;
    cost.tile(i, 1, 0, m, c.data(), m);
    double best = -inf;
    for (lindex j = 0; j < m; ++j) {
      if (!(b[j] > 0)) continue;
      const double s = f[i] + g[j] - c[j];
      best = std::max(best, s);
      col_max[j] = std::max(col_max[j], s);
    }
    row_max[i] = best;
  }
  MPI_Allreduce(MPI_IN_PLACE, col_max.data(), static_cast<int>(m), MPI_DOUBLE, MPI_MAX, comm);
  for (auto& k : col_max)
    k -= cut;

  // Pass 2 counts the kept entries of every row; pass 3 stores them when the total fits.
  Support out;
  out.ptr.assign(static_cast<std::size_t>(n) + 1, 0);
  const auto kept = [&](lindex i, lindex j) {
    const double s = f[i] + g[j] - c[j];
    return b[j] > 0 && (s >= row_max[i] - cut || s >= col_max[j]);
  };
  for (lindex i = 0; i < n; ++i) {
    std::int64_t count = 0;
    if (a[i] > 0) {
      cost.tile(i, 1, 0, m, c.data(), m);
      for (lindex j = 0; j < m; ++j)
        count += kept(i, j) ? 1 : 0;
    }
    out.ptr[static_cast<std::size_t>(i) + 1] = out.ptr[static_cast<std::size_t>(i)] + count;
  }
  out.kept = allreduce_sum(comm, static_cast<double>(out.ptr.back()));
  if (out.kept > budget) {
    out.ptr = {};
    return out;
  }
  out.col.resize(static_cast<std::size_t>(out.ptr.back()));
  out.cost.resize(out.col.size());
  for (lindex i = 0; i < n; ++i) {
    if (!(a[i] > 0)) continue;
    cost.tile(i, 1, 0, m, c.data(), m);
    std::int64_t q = out.ptr[static_cast<std::size_t>(i)];
    for (lindex j = 0; j < m; ++j)
      if (kept(i, j)) {
        out.col[q] = static_cast<std::int32_t>(j);
        out.cost[q++] = c[j];
      }
  }
  return out;
}

double missing_entries(const Problem& problem, const Support& old, const Support& fresh) {
  const lindex n = problem.cost.local_rows();
  double missing = 0;
  for (lindex i = 0; i < n; ++i) {
    std::int64_t p = old.ptr[i];
    const std::int64_t p_end = old.ptr[i + 1];
    for (std::int64_t q = fresh.ptr[i]; q < fresh.ptr[i + 1]; ++q) {
      while (p < p_end && old.col[p] < fresh.col[q])
        ++p;
      if (p == p_end || old.col[p] != fresh.col[q]) missing += 1;
    }
  }
  return allreduce_sum(problem.comm(), missing);
}

PlanSummary summarize(const Problem& problem, const Support& support, const Vector& f,
                      const Vector& g, double eps) {
  const Vector& a = problem.source.weights;
  const Vector& b = problem.target.weights;
  const lindex n = problem.cost.local_rows(), m = problem.cost.cols();
  std::vector<double> sums(static_cast<std::size_t>(m) + 3, 0.0);  // columns, cost, mass, rows
  for (lindex i = 0; i < n; ++i) {
    if (!(a[i] > 0)) continue;
    double r = 0;
    for (std::int64_t p = support.ptr[i]; p < support.ptr[i + 1]; ++p) {
      const std::int32_t j = support.col[p];
      const double q = std::exp((f[i] + g[j] - support.cost[p]) / eps);
      r += q;
      sums[j] += q;
      sums[m] += q * support.cost[p];
    }
    sums[m + 1] += r;
    sums[m + 2] += std::abs(r - a[i]);
  }
  MPI_Allreduce(MPI_IN_PLACE, sums.data(), static_cast<int>(sums.size()), MPI_DOUBLE, MPI_SUM,
                problem.comm());
  PlanSummary out;
  out.transport_cost = sums[m];
  out.mass = sums[m + 1];
  out.row_error = sums[m + 2];
  for (lindex j = 0; j < m; ++j)
    if (b[j] > 0) out.col_error += std::abs(sums[j] - b[j]);
  return out;
}

Outcome sinkhorn(const Problem& problem, const Support& support, Vector& f, Vector& g, double eps,
                 double atol, long max_it, long check_every, bool monitor, long it0, double t0,
                 const Checkpointing& checkpointing, std::vector<IterationRecord>& history) {
  MPI_Comm comm = problem.comm();
  const Vector& a = problem.source.weights;
  const Vector& b = problem.target.weights;
  const lindex n = problem.cost.local_rows(), m = problem.cost.cols();
  const double inv_eps = 1.0 / eps;
  const auto& ptr = support.ptr;
  const auto& col = support.col;
  const auto& cst = support.cost;
  std::int64_t longest = 0;
  for (lindex i = 0; i < n; ++i)
    longest = std::max(longest, ptr[i + 1] - ptr[i]);
  std::vector<double> e(static_cast<std::size_t>(longest));
  std::vector<double> sums(static_cast<std::size_t>(m) + 4);
  std::vector<double> col_max;
  Vector f_prev(n);
  // Over-relaxation (Thibault, Chizat, Dossal, Papadakis 2017): once plain Sinkhorn has shown
  // its linear rate θ, updates are scaled by ω = 2 / (1 + sqrt(1 − θ)), raised when the relaxed
  // rate shows θ was underestimated; back to ω = 1 for good
  // if the error has not dropped below its value at the switch 30 iterations later. Every
  // quantity deciding this is replicated.
  double omega = 1, col_error = 0, relax_error = 0;
  bool relax_allowed = true;
  long relax_since = -1;
  std::vector<double> errors;

  Outcome out;
  for (long k = 0;; ++k) {
    std::fill(sums.begin(), sums.end(), 0.0);
    f_prev = f;
    const RowPass pass = row_pass(ptr.data(), col.data(), cst.data(), n, a.data(), f.data(),
                                  g.data(), eps, omega, sums.data(), e.data());
    const double error = pass.error, af = pass.af;
    const bool bad = pass.bad;
    sums[m] = error;
    sums[m + 1] = bad ? 1.0 : 0.0;
    sums[m + 2] = af;
    sums[m + 3] = pending_signal() != 0 ? 1.0 : 0.0;
    MPI_Allreduce(MPI_IN_PLACE, sums.data(), static_cast<int>(sums.size()), MPI_DOUBLE, MPI_SUM,
                  comm);
    // (f_prev, g) is the iterate after k full updates: its row error was just summed, its
    // column error is known since the last column update (0 up to rounding when ω was 1).
    double bg = 0;
    for (lindex j = 0; j < m; ++j)
      if (b[j] > 0) bg += b[j] * g[j];
    const double err = sums[m] + col_error;
    if (k >= 1) {
      out.error = err;
      out.objective = sums[m + 2] + bg;
      errors.push_back(err);
      if (omega == 1 && relax_allowed && k > 20) {
        const double theta = std::pow(err / errors[errors.size() - 11], 0.1);
        if (theta > 0.5 && theta < 1) {
          omega = std::min(1.95, 2 / (1 + std::sqrt(1 - theta)));
          relax_since = k;
          relax_error = err;
        }
      } else if (omega > 1 && k - relax_since >= 30 && !(err < relax_error)) {
        omega = 1;
        relax_allowed = false;
      } else if (omega > 1 && k - relax_since >= 20) {
        // The relaxed rate ρ gives θ back through Young's relation (ρ + ω − 1)² = ρ ω² θ; a
        // larger optimum means θ was underestimated from the first iterations.
        const double rho = std::pow(err / errors[errors.size() - 21], 0.05);
        if (rho < 1 && rho > omega - 1 + 0.02) {
          const double theta =
              std::min(1.0, (rho + omega - 1) * (rho + omega - 1) / (rho * omega * omega));
          const double better = std::min(1.95, 2 / (1 + std::sqrt(1 - theta)));
          if (better > omega + 0.01) {
            omega = better;
            relax_since = k;
            relax_error = err;
          }
        }
      }
      if (k % check_every == 0 || err <= atol) {
        IterationRecord record;
        record.iteration = it0 + k;
        record.reg = eps;
        record.marginal_error = err;
        record.objective = out.objective;
        record.step = 1;
        record.wall_time = allreduce_max(comm, wall_time() - t0);
        history.push_back(record);
        if (monitor) {
          char line[200];
          std::snprintf(line, sizeof line,
                        "%8ld  reg %.3e  error %.6e  objective %.12e  truncated  omega %.3f  "
                        "%.3f s",
                        it0 + k, eps, err, out.objective, omega, record.wall_time);
          print_root(comm, line);
        }
      }
    }
    out.iterations = k;
    if (sums[m + 1] > 0 || !std::isfinite(bg)) {
      out.reason = Reason::diverged_nan;
      f = f_prev;
      return out;
    }
    if (k >= 1 && err <= atol) {
      out.reason = Reason::converged_atol;
      f = f_prev;
      return out;
    }
    // No 1 % progress in 50 iterations: on a support that lacks entries the marginals need, the
    // error stalls while the potentials drift; the caller rebuilds the support from them.
    if (errors.size() > 50 && !(err < 0.99 * errors[errors.size() - 51])) {
      out.reason = Reason::diverged_stalled;
      f = f_prev;
      return out;
    }
    checkpointing.at_iteration(problem, it0 + k, sums[m + 3], [&] { return SolverState{}; });
    if (k >= max_it) {
      out.reason = Reason::diverged_max_it;
      f = f_prev;
      return out;
    }
    // Columns: g_j so that column j is exact at the new f (ω = 1), or over-relaxed.
    bool columns_safe = true;
    for (lindex j = 0; j < m; ++j)
      if (b[j] > 0 && !safe_sum(sums[j])) columns_safe = false;  // identical on every rank
    col_error = 0;
    if (columns_safe) {
      for (lindex j = 0; j < m; ++j) {
        if (!(b[j] > 0)) continue;
        const double log_scale = std::log(b[j] / sums[j]);
        g[j] += omega * eps * log_scale;
        if (omega != 1) col_error += std::abs(sums[j] * std::exp(omega * log_scale) - b[j]);
      }
      continue;
    }
    col_max.assign(static_cast<std::size_t>(m), -inf);
    for (lindex i = 0; i < n; ++i)
      if (a[i] > 0)
        for (std::int64_t p = ptr[i]; p < ptr[i + 1]; ++p)
          col_max[col[p]] = std::max(col_max[col[p]], (f[i] + g[col[p]] - cst[p]) * inv_eps);
    MPI_Allreduce(MPI_IN_PLACE, col_max.data(), static_cast<int>(m), MPI_DOUBLE, MPI_MAX, comm);
    std::fill(sums.begin(), sums.begin() + m, 0.0);
    for (lindex i = 0; i < n; ++i)
      if (a[i] > 0)
        for (std::int64_t p = ptr[i]; p < ptr[i + 1]; ++p)
          sums[col[p]] += std::exp((f[i] + g[col[p]] - cst[p]) * inv_eps - col_max[col[p]]);
    MPI_Allreduce(MPI_IN_PLACE, sums.data(), static_cast<int>(m), MPI_DOUBLE, MPI_SUM, comm);
    for (lindex j = 0; j < m; ++j)
      if (b[j] > 0) g[j] += eps * (std::log(b[j]) - col_max[j] - std::log(sums[j]));
  }
}

}  // namespace parot::truncated
