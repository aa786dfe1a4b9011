// SPDX-License-Identifier: BSD-3-Clause
// Grid coarsening and lifting for the multiscale start (coarsen.hpp).
#include "coarsen.hpp"

#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "parot/core/comm.hpp"
#include "solver/entropic/sweeps.hpp"

namespace parot::multiscale {
namespace {

struct Grid {
  std::vector<double> lo, width;
  long cells = 1;
  lindex dim = 0;

  gindex index(const double* x) const {
    gindex id = 0;
    for (lindex k = 0; k < dim; ++k) {
      long c = width[k] > 0 ? static_cast<long>((x[k] - lo[k]) / width[k] * cells) : 0;
      c = std::clamp(c, 0L, cells - 1);
      id = id * cells + c;
    }
    return id;
  }
};

}  // namespace

bool applicable(const Problem& problem) {
  const lindex d = problem.target.dim();
  return problem.cost.type() != CostType::matrix && d >= 1 && d <= 3;
}

Coarsening coarsen(const Problem& problem, long cells) {
  MPI_Comm comm = problem.comm();
  const Measure& src = problem.source;
  const Measure& tgt = problem.target;
  const lindex d = tgt.dim();
  constexpr double inf = std::numeric_limits<double>::infinity();
  // The bounding box of both point sets (-max gives the min in one MAX reduction).
  std::vector<double> box(2 * static_cast<std::size_t>(d), -inf);
  auto extend = [&](const Measure& mu) {
    for (lindex i = 0; i < mu.layout.local_size(); ++i)
      for (lindex k = 0; k < d; ++k) {
        box[k] = std::max(box[k], -mu.points(i, k));
        box[d + k] = std::max(box[d + k], mu.points(i, k));
      }
  };
  extend(src);
  extend(tgt);
  MPI_Allreduce(MPI_IN_PLACE, box.data(), static_cast<int>(box.size()), MPI_DOUBLE, MPI_MAX, comm);
  Grid grid;
  grid.cells = cells;
  grid.dim = d;
  for (lindex k = 0; k < d; ++k) {
    grid.lo.push_back(-box[k]);
    grid.width.push_back(box[d + k] + box[k]);
  }
  gindex total = 1;
  for (lindex k = 0; k < d; ++k)
    total *= cells;

  // Mass and mass-weighted coordinates per cell: the source summed over ranks, the target local.
  const std::size_t stride = static_cast<std::size_t>(d) + 1;
  auto bin = [&](const Measure& mu, std::vector<double>& acc, std::vector<gindex>& cell_of) {
    acc.assign(static_cast<std::size_t>(total) * stride, 0.0);
    cell_of.assign(static_cast<std::size_t>(mu.layout.local_size()), -1);
    for (lindex i = 0; i < mu.layout.local_size(); ++i) {
      if (!(mu.weights[i] > 0)) continue;
      const Eigen::VectorXd x = mu.points.row(i).transpose();
      const gindex c = grid.index(x.data());
      cell_of[i] = c;
      double* a = acc.data() + static_cast<std::size_t>(c) * stride;
      a[0] += mu.weights[i];
      for (lindex k = 0; k < d; ++k)
        a[k + 1] += mu.weights[i] * x[k];
    }
  };
  std::vector<double> src_acc, tgt_acc;
  Coarsening out;
  bin(src, src_acc, out.source_cell);
  bin(tgt, tgt_acc, out.target_cell);
  MPI_Allreduce(MPI_IN_PLACE, src_acc.data(), static_cast<int>(src_acc.size()), MPI_DOUBLE, MPI_SUM,
                comm);

  // Nonempty cells in cell order become coarse points; the index maps follow.
  auto build = [&](const std::vector<double>& acc, std::vector<gindex>& number) {
    number.assign(static_cast<std::size_t>(total), -1);
    gindex count = 0;
    for (gindex c = 0; c < total; ++c)
      if (acc[static_cast<std::size_t>(c) * stride] > 0) number[c] = count++;
    return count;
  };
  std::vector<gindex> src_number, tgt_number;
  const gindex ns = build(src_acc, src_number), nt = build(tgt_acc, tgt_number);
  Problem& coarse = out.coarse;
  coarse.name = problem.name + " (coarse " + std::to_string(ns) + " x " + std::to_string(nt) + ")";
  coarse.source.layout = Layout::uniform(comm, ns);
  coarse.target.layout = Layout::replicated(comm, nt);
  coarse.source.points = RowMatrix::Zero(coarse.source.layout.local_size(), d);
  coarse.source.weights = Vector::Zero(coarse.source.layout.local_size());
  coarse.target.points = RowMatrix::Zero(nt, d);
  coarse.target.weights = Vector::Zero(nt);
  const gindex begin = coarse.source.layout.begin(), end = coarse.source.layout.end();
  for (gindex c = 0; c < total; ++c) {
    const double* a = src_acc.data() + static_cast<std::size_t>(c) * stride;
    const gindex s = src_number[c];
    if (s >= begin && s < end) {
      coarse.source.weights[s - begin] = a[0];
      for (lindex k = 0; k < d; ++k)
        coarse.source.points(s - begin, k) = a[k + 1] / a[0];
    }
    const double* t = tgt_acc.data() + static_cast<std::size_t>(c) * stride;
    const gindex q = tgt_number[c];
    if (q >= 0) {
      coarse.target.weights[q] = t[0];
      for (lindex k = 0; k < d; ++k)
        coarse.target.points(q, k) = t[k + 1] / t[0];
    }
  }
  for (auto& c : out.source_cell)
    if (c >= 0) c = src_number[c];
  for (auto& c : out.target_cell)
    if (c >= 0) c = tgt_number[c];
  coarse.cost = Cost(problem.cost.type(), problem.cost.p(), coarse.source, coarse.target);
  finalize_problem(coarse, "coarse problem");
  return out;
}

void lift(const Coarsening& coarsening, const Solution& coarse, const Problem& fine,
          Solution& out) {
  MPI_Comm comm = fine.comm();
  const Layout& layout = coarsening.coarse.source.layout;
  const int size = comm_size(comm);
  std::vector<int> counts(size), displs(size);
  for (int r = 0; r < size; ++r) {
    counts[r] = static_cast<int>(layout.offsets()[r + 1] - layout.offsets()[r]);
    displs[r] = static_cast<int>(layout.offsets()[r]);
  }
  std::vector<double> f(static_cast<std::size_t>(layout.global_size()));
  MPI_Allgatherv(coarse.f.data(), static_cast<int>(coarse.f.size()), MPI_DOUBLE, f.data(),
                 counts.data(), displs.data(), MPI_DOUBLE, comm);
  out.f = Vector::Zero(fine.source.layout.local_size());
  out.g = Vector::Zero(fine.m());
  for (lindex i = 0; i < out.f.size(); ++i)
    if (coarsening.source_cell[i] >= 0) out.f[i] = f[coarsening.source_cell[i]];
  for (lindex j = 0; j < out.g.size(); ++j)
    if (coarsening.target_cell[j] >= 0) out.g[j] = coarse.g[coarsening.target_cell[j]];
}

void refine(const Problem& problem, Solution& solution, double eps) {
  const Vector& a = problem.source.weights;
  const Vector& b = problem.target.weights;
  const lindex n = problem.cost.local_rows(), m = problem.cost.cols();
  entropic::Workspace ws(m);
  Vector lse = Vector::Constant(n, std::numeric_limits<double>::infinity());  // no shift
  entropic::row_lse(problem.cost, solution.g, eps, lse, ws);
  for (lindex i = 0; i < n; ++i)
    solution.f[i] = a[i] > 0 ? eps * (std::log(a[i]) - lse[i]) : 0.0;
  // Rows of zero weight take no part in the column sums.
  Vector f = solution.f;
  for (lindex i = 0; i < n; ++i)
    if (!(a[i] > 0)) f[i] = -std::numeric_limits<double>::infinity();
  entropic::col_lse_partial(problem.cost, f, eps, ws);
  std::vector<double> pairs(2 * static_cast<std::size_t>(m));
  for (lindex j = 0; j < m; ++j) {
    pairs[2 * j] = ws.cmax[j];
    pairs[2 * j + 1] = ws.csum[j];
  }
  entropic::LsePairReduction().allreduce(problem.comm(), pairs.data(), static_cast<int>(m));
  for (lindex j = 0; j < m; ++j)
    solution.g[j] =
        b[j] > 0 ? eps * (std::log(b[j]) - pairs[2 * j] - std::log(pairs[2 * j + 1])) : 0.0;
}

}  // namespace parot::multiscale
