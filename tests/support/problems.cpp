// SPDX-License-Identifier: BSD-3-Clause
// Test fixtures (see problems.hpp).
#include "support/problems.hpp"

#include <cmath>
#include <limits>

namespace parot::test {

// The library's own entry point for in-memory arrays, each rank giving its block of `rows`.
Problem make_problem(const Layout& rows, const RowMatrix& X, const Vector& a, const RowMatrix& Y,
                     const Vector& b, CostType type, double p) {
  return problem_from_points(rows.comm(), RowsGiven::local,
                             X.middleRows(rows.begin(), rows.local_size()),
                             a.segment(rows.begin(), rows.local_size()), Y, b, type, p);
}

Problem make_matrix_problem(const Layout& rows, const RowMatrix& C, const Vector& a,
                            const Vector& b) {
  return problem_from_cost(rows.comm(), RowsGiven::local,
                           C.middleRows(rows.begin(), rows.local_size()),
                           a.segment(rows.begin(), rows.local_size()), b);
}

std::vector<Layout> test_layouts(MPI_Comm comm, gindex n) {
  std::vector<Layout> layouts = {Layout::uniform(comm, n)};
  const int size = comm_size(comm);
  if (size > 1) {
    // Rank 0 owns nothing; the last rank owns the remainder of an uneven split.
    std::vector<gindex> offsets(static_cast<std::size_t>(size) + 1, 0);
    const gindex per = n / (2 * (size - 1));
    for (int r = 1; r < size; ++r)
      offsets[static_cast<std::size_t>(r) + 1] = r + 1 == size ? n : offsets[r] + per;
    layouts.push_back(Layout::from_offsets(comm, offsets));
  }
  return layouts;
}

Vector gather(const Layout& layout, const Vector& local) {
  return allgather(layout, local);
}

bool all_ranks(MPI_Comm comm, bool ok) {
  int local = ok ? 1 : 0, all = 0;
  MPI_Allreduce(&local, &all, 1, MPI_INT, MPI_MIN, comm);
  return all == 1;
}

DenseReference dense_sinkhorn(const RowMatrix& C, const Vector& a, const Vector& b, double eps,
                              int iterations) {
  using ld = long double;
  const auto n = C.rows(), m = C.cols();
  std::vector<ld> f(static_cast<std::size_t>(n), 0), g(static_cast<std::size_t>(m), 0);
  auto lse = [](const std::vector<ld>& v) {
    ld mx = -std::numeric_limits<ld>::infinity();
    for (ld x : v)
      mx = std::max(mx, x);
    ld s = 0;
    for (ld x : v)
      s += std::exp(x - mx);
    return mx + std::log(s);
  };
  std::vector<ld> v;
  for (int it = 0; it < iterations; ++it) {
    for (Eigen::Index i = 0; i < n; ++i) {
      v.assign(static_cast<std::size_t>(m), 0);
      for (Eigen::Index j = 0; j < m; ++j)
        v[j] = (g[j] - C(i, j)) / eps;
      f[i] = eps * (std::log(static_cast<ld>(a[i])) - lse(v));
    }
    for (Eigen::Index j = 0; j < m; ++j) {
      v.assign(static_cast<std::size_t>(n), 0);
      for (Eigen::Index i = 0; i < n; ++i)
        v[i] = (f[i] - C(i, j)) / eps;
      g[j] = eps * (std::log(static_cast<ld>(b[j])) - lse(v));
    }
  }
  DenseReference ref;
  ref.f.resize(n);
  ref.g.resize(m);
  ld cost = 0;
  for (Eigen::Index i = 0; i < n; ++i) {
    ref.f[i] = static_cast<double>(f[i]);
    for (Eigen::Index j = 0; j < m; ++j)
      cost += std::exp((f[i] + g[j] - C(i, j)) / eps) * C(i, j);
  }
  for (Eigen::Index j = 0; j < m; ++j)
    ref.g[j] = static_cast<double>(g[j]);
  ref.transport_cost = static_cast<double>(cost);
  return ref;
}

RowMatrix cost_matrix(const RowMatrix& X, const RowMatrix& Y, CostType type, double p) {
  RowMatrix C(X.rows(), Y.rows());
  for (Eigen::Index i = 0; i < X.rows(); ++i)
    for (Eigen::Index j = 0; j < Y.rows(); ++j) {
      double s = 0;
      for (Eigen::Index k = 0; k < X.cols(); ++k) {
        const double t = std::abs(X(i, k) - Y(j, k));
        s += type == CostType::lp ? std::pow(t, p) : t * t;
      }
      C(i, j) = type == CostType::euclidean ? std::sqrt(s) : s;
    }
  return C;
}

double shift_invariant_error(const Vector& x, const Vector& y) {
  double shift = 0, scale = 0;
  long count = 0;
  for (Eigen::Index i = 0; i < x.size(); ++i)
    if (std::isfinite(x[i]) && std::isfinite(y[i])) {
      shift += x[i] - y[i];
      scale = std::max(scale, std::abs(y[i]));
      ++count;
    }
  shift /= static_cast<double>(std::max(count, 1L));
  double worst = 0;
  for (Eigen::Index i = 0; i < x.size(); ++i) {
    if (std::isfinite(x[i]) != std::isfinite(y[i])) return std::numeric_limits<double>::infinity();
    if (std::isfinite(x[i])) worst = std::max(worst, std::abs(x[i] - y[i] - shift));
  }
  return worst / std::max(scale, 1e-300);
}

}  // namespace parot::test
