// SPDX-License-Identifier: BSD-3-Clause
// SW between distributed point clouds: redistribution of the projections by slice (sliced.md
// §9.5, the transpose alternative), one all-to-all per round of nranks slices.
#include <algorithm>
#include <cmath>

#include "kernels/sphere.hpp"
#include "kernels/wasserstein1d.hpp"
#include "parot/core/comm.hpp"
#include "parot/core/error.hpp"
#include "parot/core/log.hpp"
#include "parot/solver/sliced.hpp"
#include "solver/sliced/estimate.hpp"

namespace parot {

namespace {

// Totals, means and covariance traces of a distributed measure: two small reductions.
struct Moments {
  double total = 0, trace = 0;
  Vector mean;
};

Moments moments(MPI_Comm comm, const Measure& m, lindex d) {
  std::vector<double> buf(static_cast<std::size_t>(d) + 1, 0.0);
  for (lindex i = 0; i < m.layout.local_size(); ++i) {
    buf[0] += m.weights[i];
    for (lindex k = 0; k < d; ++k)
      buf[1 + k] += m.weights[i] * m.points(i, k);
  }
  MPI_Allreduce(MPI_IN_PLACE, buf.data(), static_cast<int>(buf.size()), MPI_DOUBLE, MPI_SUM, comm);
  Moments out;
  out.total = buf[0];
  PAROT_CHECK(out.total > 0 && std::isfinite(out.total), InvalidInput,
              "the total mass must be positive");
  out.mean = Eigen::Map<const Vector>(buf.data() + 1, d) / out.total;
  double tr = 0;
  for (lindex i = 0; i < m.layout.local_size(); ++i)
    tr += m.weights[i] * (m.points.row(i).transpose() - out.mean).squaredNorm();
  out.trace = allreduce_sum(comm, tr) / out.total;
  return out;
}

// Unpacks the (value, weight) pairs of one measure received from every rank and sorts them.
void gather_sorted(const std::vector<double>& recv, const std::vector<int>& displs,
                   const std::vector<gindex>& offsets, bool second,
                   const std::vector<gindex>& first_offsets, kernels::Sorted1d& out,
                   double& variance) {
  std::vector<double> values, weights;
  const int size = static_cast<int>(displs.size());
  for (int r = 0; r < size; ++r) {
    const gindex n_first = first_offsets[r + 1] - first_offsets[r];
    const gindex n = offsets[r + 1] - offsets[r];
    const double* p = recv.data() + displs[r] + (second ? 2 * n_first : 0);
    for (gindex i = 0; i < n; ++i) {
      values.push_back(p[2 * i]);
      weights.push_back(p[2 * i + 1]);
    }
  }
  double mean = 0;
  for (std::size_t i = 0; i < values.size(); ++i)
    mean += weights[i] * values[i];
  variance = 0;
  for (std::size_t i = 0; i < values.size(); ++i)
    variance += weights[i] * (values[i] - mean) * (values[i] - mean);
  std::vector<lindex> order;
  kernels::sort_1d(values.data(), weights.data(), static_cast<lindex>(values.size()), out, order);
}

}  // namespace

SlicedResult sliced_wasserstein_distributed(MPI_Comm comm, const Measure& mu, const Measure& nu,
                                            const SlicedParams& params) {
  validate(params);
  PAROT_CHECK(params.type == "sw", InvalidArgument,
              "distributed point clouds support -type sw (use replicated data for ", params.type,
              ")");
  PAROT_CHECK(mu.dim() == nu.dim(), DimensionMismatch, "the measures have dimensions ", mu.dim(),
              " and ", nu.dim());
  const double t0 = wall_time();
  const lindex d = mu.dim();
  const Moments mm = moments(comm, mu, d), mn = moments(comm, nu, d);
  const Vector dm = mm.mean - mn.mean;
  const double expected = sliced::cv_expectation(params, dm, mm.trace, mn.trace);

  const int size = comm_size(comm), rank = comm_rank(comm);
  const lindex n = mu.layout.local_size(), m = nu.layout.local_size();
  const std::vector<gindex>& off_mu = mu.layout.offsets();
  const std::vector<gindex>& off_nu = nu.layout.offsets();
  std::vector<int> send_counts(size), send_displs(size), recv_counts(size), recv_displs(size);
  std::vector<double> send(static_cast<std::size_t>(2 * (n + m) * size)), recv, theta(d);
  sliced::SwSums sums;
  const long rounds = (params.L + size - 1) / size;
  for (long round = 0; round < rounds; ++round) {
    const long mine = round * size + rank;  // the slice this rank merges in this round
    for (int q = 0; q < size; ++q) {
      const long l = round * size + q;
      send_displs[q] = static_cast<int>(2 * (n + m) * q);
      send_counts[q] = l < params.L ? static_cast<int>(2 * (n + m)) : 0;
      if (l >= params.L) continue;
      kernels::random_direction(static_cast<std::uint64_t>(params.seed), kernels::direction_stream,
                                static_cast<std::uint64_t>(l), d, theta.data());
      double* out = send.data() + send_displs[q];
      for (const Measure* meas : {&mu, &nu}) {
        const Vector& w = meas->weights;
        const double total = meas == &mu ? mm.total : mn.total;
        for (lindex i = 0; i < meas->layout.local_size(); ++i) {
          double s = 0;
          for (lindex k = 0; k < d; ++k)
            s += meas->points(i, k) * theta[k];
          *out++ = s;
          *out++ = w[i] / total;
        }
      }
    }
    int total_recv = 0;
    for (int r = 0; r < size; ++r) {
      recv_displs[r] = total_recv;
      recv_counts[r] =
          mine < params.L
              ? static_cast<int>(2 * (off_mu[r + 1] - off_mu[r] + off_nu[r + 1] - off_nu[r]))
              : 0;
      total_recv += recv_counts[r];
    }
    recv.resize(static_cast<std::size_t>(total_recv));
    MPI_Alltoallv(send.data(), send_counts.data(), send_displs.data(), MPI_DOUBLE, recv.data(),
                  recv_counts.data(), recv_displs.data(), MPI_DOUBLE, comm);
    if (mine >= params.L) continue;
    kernels::Sorted1d u, v;
    double var_u = 0, var_v = 0;
    gather_sorted(recv, recv_displs, off_mu, false, off_mu, u, var_u);
    gather_sorted(recv, recv_displs, off_nu, true, off_mu, v, var_v);
    kernels::random_direction(static_cast<std::uint64_t>(params.seed), kernels::direction_stream,
                              static_cast<std::uint64_t>(mine), d, theta.data());
    const double f = kernels::wasserstein_1d_sorted(u, v, params.p);
    sums.add(f, sliced::cv_value(params, theta.data(), dm, var_u, var_v) - expected);
  }
  SlicedResult r = sliced::finish_sw(comm, sums, params, expected);
  r.type = params.type;
  r.time = allreduce_max(comm, wall_time() - t0);
  return r;
}

}  // namespace parot
