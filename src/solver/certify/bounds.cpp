// SPDX-License-Identifier: BSD-3-Clause
// The certified interval: rounding onto the marginals (upper) and c-transforms (lower).
#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/exp.hpp"
#include "kernels/northwest.hpp"
#include "parot/core/comm.hpp"
#include "parot/solver/certify.hpp"

namespace parot {

Certificate certify(const Problem& problem, const Vector& f, const Vector& g, double eps,
                    double plan_threshold) {
  MPI_Comm comm = problem.comm();
  const Cost& cost = problem.cost;
  const Vector& a = problem.source.weights;
  const Vector& b = problem.target.weights;
  const lindex n = cost.local_rows(), m = cost.cols();
  const gindex row_begin = problem.source.layout.begin();
  const double inv_eps = 1.0 / eps, tau = std::max(plan_threshold, 0.0);
  constexpr double inf = std::numeric_limits<double>::infinity();
  std::vector<double> c(static_cast<std::size_t>(m)), p(c.size());
  // The plan row i: the cost row into c, the entropic plan row into p.
  const auto plan_row = [&](lindex i) {
    cost.tile(i, 1, 0, m, c.data(), m);
    for (lindex j = 0; j < m; ++j)
      p[j] = b[j] > 0 ? kernels::fast_exp((f[i] + g[j] - c[j]) * inv_eps) : 0.0;
  };

  // Pass 1: row scaling x_i, the scaled column sums, and f^c_i = min_j (C_ij − g_j).
  std::vector<double> x(static_cast<std::size_t>(n), 0.0), fc(x.size(), inf);
  std::vector<double> col(static_cast<std::size_t>(m), 0.0);
  for (lindex i = 0; i < n; ++i) {
    if (!(a[i] > 0)) continue;  // zero-weight rows take no part
    plan_row(i);
    double r = 0, best = inf;
    for (lindex j = 0; j < m; ++j) {
      r += p[j];
      if (b[j] > 0) best = std::min(best, c[j] - g[j]);
    }
    x[i] = r > a[i] ? a[i] / r : 1.0;
    fc[i] = best;
    for (lindex j = 0; j < m; ++j)
      col[j] += x[i] * p[j];
  }
  MPI_Allreduce(MPI_IN_PLACE, col.data(), static_cast<int>(m), MPI_DOUBLE, MPI_SUM, comm);
  std::vector<double> y(static_cast<std::size_t>(m), 0.0);
  for (lindex j = 0; j < m; ++j)
    y[j] = col[j] > b[j] ? b[j] / col[j] : 1.0;

  // Pass 2: Q = diag(x) P diag(y) above the threshold: its row and column sums and cost, the
  // kept entries, and g^cc_j = min_i (C_ij − f^c_i) (a minimum: its own reduction).
  Certificate out;
  std::vector<double> rowq(static_cast<std::size_t>(n), 0.0);
  std::vector<double> sums(static_cast<std::size_t>(m) + 3, 0.0);  // column sums, ⟨C,Q⟩, Σaf^c
  std::vector<double> gcc(static_cast<std::size_t>(m), inf);
  double dropped = 0;
  for (lindex i = 0; i < n; ++i) {
    if (!(a[i] > 0)) continue;
    plan_row(i);
    double r = 0, cq = 0;
    for (lindex j = 0; j < m; ++j) {
      if (b[j] > 0) gcc[j] = std::min(gcc[j], c[j] - fc[i]);
      const double q = x[i] * p[j] * y[j];
      if (!(q > tau)) {
        dropped += q;
        continue;
      }
      r += q;
      cq += c[j] * q;
      sums[j] += q;
      if (plan_threshold >= 0) {
        out.plan.row.push_back(row_begin + i);
        out.plan.col.push_back(j);
        out.plan.value.push_back(q);
      }
    }
    rowq[i] = r;
    sums[m] += cq;
    sums[m + 1] += a[i] * fc[i];
  }
  sums[m + 2] = dropped;
  MPI_Allreduce(MPI_IN_PLACE, sums.data(), static_cast<int>(sums.size()), MPI_DOUBLE, MPI_SUM,
                comm);
  MPI_Allreduce(MPI_IN_PLACE, gcc.data(), static_cast<int>(m), MPI_DOUBLE, MPI_MIN, comm);
  double lower = sums[m + 1];
  for (lindex j = 0; j < m; ++j)
    if (b[j] > 0) lower += b[j] * gcc[j];
  out.bounds.lower = lower;
  out.bounds.dropped_mass = sums[m + 2];

  // What rows and columns still lack, moved by the north-west corner in global row order.
  std::vector<double> supply(static_cast<std::size_t>(n)), demand(static_cast<std::size_t>(m));
  double local_supply = 0;
  for (lindex i = 0; i < n; ++i) {
    supply[i] = a[i] > 0 ? std::max(a[i] - rowq[i], 0.0) : 0.0;
    local_supply += supply[i];
  }
  double total_demand = 0;
  for (lindex j = 0; j < m; ++j) {
    demand[j] = b[j] > 0 ? std::max(b[j] - sums[j], 0.0) : 0.0;
    total_demand += demand[j];
  }
  double offset = 0;
  MPI_Exscan(&local_supply, &offset, 1, MPI_DOUBLE, MPI_SUM, comm);
  if (comm_rank(comm) == 0) offset = 0;
  const double total_supply = allreduce_sum(comm, local_supply);
  // Balance the totals (equal up to rounding) so that every unit of supply finds a column.
  if (total_demand > 0)
    for (auto& d : demand)
      d *= total_supply / total_demand;
  const std::vector<double> demand_cum = kernels::cumulative(demand.data(), m);
  std::vector<double> moved_col(static_cast<std::size_t>(m) + 2, 0.0);  // + cost, moved mass
  double cij = 0;
  kernels::northwest_corner(supply.data(), n, offset, demand_cum,
                            [&](lindex i, lindex j, double mass) {
                              cost.tile(i, 1, j, 1, &cij, 1);
                              moved_col[j] += mass;
                              moved_col[m] += cij * mass;
                              moved_col[m + 1] += mass;
                              rowq[i] += mass;
                              if (plan_threshold >= 0) {
                                out.plan.row.push_back(row_begin + i);
                                out.plan.col.push_back(j);
                                out.plan.value.push_back(mass);
                              }
                            });
  double row_error = 0;
  for (lindex i = 0; i < n; ++i)
    row_error += std::abs(rowq[i] - a[i]);
  moved_col.push_back(row_error);
  MPI_Allreduce(MPI_IN_PLACE, moved_col.data(), static_cast<int>(moved_col.size()), MPI_DOUBLE,
                MPI_SUM, comm);
  out.bounds.upper = sums[m] + moved_col[m];
  out.bounds.moved_mass = moved_col[m + 1];
  out.bounds.rounded_source_error = moved_col[m + 2];
  for (lindex j = 0; j < m; ++j)
    out.bounds.rounded_target_error += std::abs(sums[j] + moved_col[j] - b[j]);
  return out;
}

}  // namespace parot
