// SPDX-License-Identifier: BSD-3-Clause
// Sliced Wasserstein estimators (sliced.md): SW_p with Gaussian control variates, Max-SW by
// projected gradient ascent, v-DSW with von Mises–Fisher slices; slices split across ranks.
#include "parot/solver/sliced.hpp"

#include <algorithm>
#include <cmath>

#include "kernels/sphere.hpp"
#include "kernels/wasserstein1d.hpp"
#include "parot/core/comm.hpp"
#include "parot/core/error.hpp"
#include "parot/core/layout.hpp"
#include "parot/core/log.hpp"
#include "parot/core/options.hpp"
#include "solver/sliced/estimate.hpp"
#include "solver/sliced/slice_loop.hpp"

namespace parot {

namespace {

// A measure with normalized weights, its mean and the trace of its covariance.
struct Prepared {
  const RowMatrix* points;
  Vector w;
  Vector mean;
  double trace = 0;
  bool uniform = false;  // all weights equal: the slice loop skips the weights
  lindex d() const { return points->cols(); }
  sliced::SliceMeasure slice_measure() const {
    return {points->data(), points->rows(), points->cols(), w.data(), uniform};
  }
};

Prepared prepare(const PointMeasure& m, const char* name) {
  Prepared p;
  p.points = &m.points;
  PAROT_CHECK(m.points.rows() == m.weights.size() && m.points.rows() > 0, InvalidInput, name,
              ": points and weights must be non-empty and of the same length");
  const double total = m.weights.sum();
  PAROT_CHECK(total > 0 && std::isfinite(total), InvalidInput, name,
              ": the total mass must be positive");
  p.w = m.weights / total;
  p.uniform = sliced::uniform_weights(m.weights.data(), m.weights.size());
  p.mean = m.points.transpose() * p.w;
  for (Eigen::Index i = 0; i < m.points.rows(); ++i)
    p.trace += p.w[i] * (m.points.row(i).transpose() - p.mean).squaredNorm();
  return p;
}

// The sorted projection of a measure on θ, with the original index of each sorted atom.
struct Projection {
  kernels::Sorted1d sorted;
  std::vector<lindex> index;
  std::vector<double> values;
  std::vector<lindex> order;
  double mean = 0, variance = 0;
};

void project(const Prepared& m, const double* theta, Projection& out) {
  const RowMatrix& X = *m.points;
  const lindex n = X.rows(), d = X.cols();
  out.values.resize(static_cast<std::size_t>(n));
  for (lindex i = 0; i < n; ++i) {
    double s = 0;
    for (lindex k = 0; k < d; ++k)
      s += X(i, k) * theta[k];
    out.values[i] = s;
  }
  kernels::sort_1d(out.values.data(), m.w.data(), n, out.sorted, out.order);
  out.index.clear();
  for (lindex i : out.order)
    if (m.w[i] > 0) out.index.push_back(i);
  out.mean = 0;
  for (lindex i = 0; i < n; ++i)
    out.mean += m.w[i] * out.values[i];
  out.variance = 0;
  for (lindex i = 0; i < n; ++i)
    out.variance += m.w[i] * (out.values[i] - out.mean) * (out.values[i] - out.mean);
}

struct Pair {
  const Prepared& mu;
  const Prepared& nu;
  double p;
  Projection pu, pv;

  double cost(const double* theta) {
    project(mu, theta, pu);
    project(nu, theta, pv);
    return kernels::wasserstein_1d_sorted(pu.sorted, pv.sorted, p);
  }

  // W_p^p at θ and its gradient in θ (sliced.md §2.3).
  double cost_and_gradient(const double* theta, double* grad) {
    project(mu, theta, pu);
    project(nu, theta, pv);
    const lindex d = mu.d();
    std::fill_n(grad, d, 0.0);
    return kernels::wasserstein_1d_sorted(
        pu.sorted, pv.sorted, p, [&](std::size_t i, std::size_t j, double t) {
          const double e = pu.sorted.value[i] - pv.sorted.value[j];
          const double scale = t * p * std::pow(std::abs(e), p - 1) * (e > 0 ? 1 : e < 0 ? -1 : 0);
          if (scale == 0) return;
          const lindex xi = pu.index[i], yj = pv.index[j];
          for (lindex k = 0; k < d; ++k)
            grad[k] += scale * ((*mu.points)(xi, k) - (*nu.points)(yj, k));
        });
  }
};

double pth_root(double v, double p) {
  return v > 0 ? std::pow(v, 1.0 / p) : 0.0;
}

// Geodesic step on the sphere: θ ← θ cos(h) + t sin(h) with t the unit tangent direction of g.
bool sphere_step(const double* theta, const double* g, lindex d, double h, double* out) {
  double dot = 0, norm = 0;
  for (lindex k = 0; k < d; ++k)
    dot += theta[k] * g[k];
  for (lindex k = 0; k < d; ++k)
    norm += (g[k] - dot * theta[k]) * (g[k] - dot * theta[k]);
  norm = std::sqrt(norm);
  if (!(norm > 0)) return false;
  double n2 = 0;
  for (lindex k = 0; k < d; ++k) {
    out[k] = theta[k] * std::cos(h) + (g[k] - dot * theta[k]) / norm * std::sin(h);
    n2 += out[k] * out[k];
  }
  for (lindex k = 0; k < d; ++k)
    out[k] /= std::sqrt(n2);
  return true;
}

SlicedResult sliced_sw(MPI_Comm comm, Pair& pair, const SlicedParams& params) {
  const Vector dm = pair.mu.mean - pair.nu.mean;
  const double expected = sliced::cv_expectation(params, dm, pair.mu.trace, pair.nu.trace);
  const Layout slices = Layout::uniform(comm, params.L);
  sliced::SwSums sums;
  sliced::SliceTimes times;
  sliced::sw_slices(
      pair.mu.slice_measure(), pair.nu.slice_measure(), params.p, params.seed, slices.begin(),
      slices.end(), params.cv == "upper",
      [&](const double* theta, double f, double var_mu, double var_nu) {
        sums.add(f, sliced::cv_value(params, theta, dm, var_mu, var_nu) - expected);
      },
      times);
  const double t = wall_time();
  SlicedResult r = sliced::finish_sw(comm, sums, params, expected);
  r.time_project = times.project;
  r.time_sort = times.sort;
  r.time_merge = times.merge;
  r.time_reduce = wall_time() - t;
  return r;
}

SlicedResult sliced_max(MPI_Comm comm, Pair& pair, const SlicedParams& params) {
  const lindex d = pair.mu.d();
  const Layout restarts = Layout::uniform(comm, params.restarts);
  std::vector<double> theta(static_cast<std::size_t>(d)), trial(theta.size()), grad(theta.size());
  std::vector<double> best_theta(theta.size(), 0.0);
  struct {
    double value;
    int rank;
  } best{-INFINITY, comm_rank(comm)};
  for (gindex r = restarts.begin(); r < restarts.end(); ++r) {
    kernels::random_direction(static_cast<std::uint64_t>(params.seed), kernels::restart_stream,
                              static_cast<std::uint64_t>(r), d, theta.data());
    double value = pair.cost_and_gradient(theta.data(), grad.data());
    double h = params.step_size;
    for (long t = 0; t < params.steps && h > 1e-12; ++t) {
      if (!sphere_step(theta.data(), grad.data(), d, h, trial.data())) break;
      std::vector<double> trial_grad(theta.size());
      const double v = pair.cost_and_gradient(trial.data(), trial_grad.data());
      if (v > value) {  // monotone ascent: accept and try a longer step
        value = v;
        theta.swap(trial);
        grad.swap(trial_grad);
        h = std::min(2 * h, 1.0);
      } else {
        h *= 0.5;
      }
    }
    if (value > best.value) {
      best.value = value;
      best_theta = theta;
    }
  }
  MPI_Allreduce(MPI_IN_PLACE, &best, 1, MPI_DOUBLE_INT, MPI_MAXLOC, comm);
  MPI_Bcast(best_theta.data(), static_cast<int>(d), MPI_DOUBLE, best.rank, comm);
  SlicedResult r;
  r.sw_pp = best.value;
  r.sw = pth_root(best.value, params.p);
  r.slices = params.restarts;
  r.direction = best_theta;
  return r;
}

// v-DSW objective F(ε) = (1/L) Σ_s W_p^p(θ_s(ε)) over common samples, with its ε-gradient by the
// reparameterized vMF (sliced.md §5.2); samples split across ranks, one reduction of d + 2.
struct VmfObjective {
  Pair& pair;
  const SlicedParams& params;
  MPI_Comm comm;
  std::uint64_t base;              // sample index offset: ascent samples, or fresh final samples
  std::vector<double> value_grad;  // F, ΣF², ∇F

  void evaluate(const std::vector<double>& eps, bool gradient) {
    const lindex d = pair.mu.d();
    const Layout samples = Layout::uniform(comm, params.L);
    value_grad.assign(static_cast<std::size_t>(d) + 2, 0.0);
    std::vector<double> v(d), scratch(d), theta(d), x(d), a(d), g(d);
    for (gindex l = samples.begin(); l < samples.end(); ++l) {
      const double w = kernels::vmf_components(static_cast<std::uint64_t>(params.seed),
                                               base + static_cast<std::uint64_t>(l), params.kappa,
                                               d, v.data(), scratch.data());
      double s = 0;
      kernels::vmf_reflect(eps.data(), w, v.data(), d, theta.data(), x.data(), a.data(), s);
      const double f =
          gradient ? pair.cost_and_gradient(theta.data(), g.data()) : pair.cost(theta.data());
      value_grad[0] += f;
      value_grad[1] += f * f;
      if (!gradient) continue;
      double ga = 0, ax = 0;
      for (lindex k = 0; k < d; ++k) {
        ga += g[k] * a[k];
        ax += a[k] * x[k];
      }
      for (lindex k = 0; k < d; ++k)
        value_grad[2 + k] += 2 * (ga * x[k] + ax * g[k]) / s - 4 * ga * ax * a[k] / (s * s);
    }
    MPI_Allreduce(MPI_IN_PLACE, value_grad.data(), static_cast<int>(value_grad.size()), MPI_DOUBLE,
                  MPI_SUM, comm);
    for (double& z : value_grad)
      z /= static_cast<double>(params.L);
  }
};

SlicedResult sliced_vdsw(MPI_Comm comm, Pair& pair, const SlicedParams& params) {
  const lindex d = pair.mu.d();
  PAROT_CHECK(d >= 2, InvalidArgument, "v-DSW needs points of dimension >= 2");
  VmfObjective obj{pair, params, comm, 0, {}};
  std::vector<double> eps(static_cast<std::size_t>(d)), trial(eps.size()), best_eps(eps.size());
  double best = -INFINITY;
  // Every rank runs every restart (the samples are split), so all decisions are replicated.
  for (long r = 0; r < params.restarts; ++r) {
    kernels::random_direction(static_cast<std::uint64_t>(params.seed), kernels::restart_stream,
                              static_cast<std::uint64_t>(r), d, eps.data());
    obj.evaluate(eps, true);
    double value = obj.value_grad[0];
    std::vector<double> grad(obj.value_grad.begin() + 2, obj.value_grad.end());
    double h = params.step_size;
    for (long t = 0; t < params.steps && h > 1e-12; ++t) {
      if (!sphere_step(eps.data(), grad.data(), d, h, trial.data())) break;
      obj.evaluate(trial, true);
      if (obj.value_grad[0] > value) {
        value = obj.value_grad[0];
        eps = trial;
        grad.assign(obj.value_grad.begin() + 2, obj.value_grad.end());
        h = std::min(2 * h, 1.0);
      } else {
        h *= 0.5;
      }
    }
    if (value > best) {
      best = value;
      best_eps = eps;
    }
  }
  // The reported value uses fresh samples (independent of the ascent), with its standard error.
  obj.base = std::uint64_t{1} << 40;
  obj.evaluate(best_eps, false);
  SlicedResult r;
  const double L = static_cast<double>(params.L);
  r.sw_pp = obj.value_grad[0];
  const double var =
      params.L > 1 ? std::max(0.0, (obj.value_grad[1] - r.sw_pp * r.sw_pp) * L / (L - 1)) : 0.0;
  r.stderr_pp = r.plain_stderr_pp = std::sqrt(var / L);
  r.sw = pth_root(r.sw_pp, params.p);
  r.slices = params.L;
  r.direction = best_eps;
  return r;
}

}  // namespace

namespace sliced {

double cv_expectation(const SlicedParams& params, const Vector& dm, double trace_mu,
                      double trace_nu) {
  if (params.cv == "none") return 0.0;
  const double traces = params.cv == "upper" ? trace_mu + trace_nu : 0.0;
  return (dm.squaredNorm() + traces) / static_cast<double>(dm.size());
}

double cv_value(const SlicedParams& params, const double* theta, const Vector& dm,
                double variance_mu, double variance_nu) {
  if (params.cv == "none") return 0.0;
  double c = 0;
  for (Eigen::Index k = 0; k < dm.size(); ++k)
    c += theta[k] * dm[k];
  c *= c;
  return params.cv == "upper" ? c + variance_mu + variance_nu : c;
}

SlicedResult finish_sw(MPI_Comm comm, SwSums sums_in, const SlicedParams& params, double expected) {
  double* sums = sums_in.s;
  MPI_Allreduce(MPI_IN_PLACE, sums, 5, MPI_DOUBLE, MPI_SUM, comm);
  const double L = static_cast<double>(params.L);
  SlicedResult r;
  r.slices = params.L;
  const double mean = sums[0] / L;
  const double var_plain = params.L > 1 ? std::max(0.0, (sums[1] - L * mean * mean) / (L - 1)) : 0;
  r.plain_stderr_pp = std::sqrt(var_plain / L);
  r.sw_pp = mean;
  r.stderr_pp = r.plain_stderr_pp;
  if (params.cv != "none" && params.L > 1) {
    // Textbook regression coefficient, with a relative guard against a degenerate variate.
    const double c_mean = sums[2] / L + expected;
    const double var_c = (sums[4] - sums[2] * sums[2] / L) / L;
    if (var_c <= 1e-12 * (c_mean * c_mean + 1e-300)) {
      r.cv_fallback = true;
    } else {
      const double gamma = (sums[3] - sums[0] * sums[2] / L) / (sums[4] - sums[2] * sums[2] / L);
      r.sw_pp = mean - gamma * sums[2] / L;
      const double e_mean = r.sw_pp;  // mean of the residuals e_l = f_l − γ(C_l − E)
      const double e2 = sums[1] - 2 * gamma * sums[3] + gamma * gamma * sums[4];
      const double var_cv = std::max(0.0, (e2 - L * e_mean * e_mean) / (L - 1));
      r.stderr_pp = std::sqrt(var_cv / L);
      r.variance_reduction = var_cv > 0 ? var_plain / var_cv : INFINITY;
    }
  }
  r.sw = pth_root(r.sw_pp, params.p);
  return r;
}

}  // namespace sliced

void validate(const SlicedParams& p) {
  PAROT_CHECK(p.type == "sw" || p.type == "max_sw" || p.type == "vdsw", InvalidArgument,
              "option -type must be sw, max_sw or vdsw, got '", p.type, "'");
  PAROT_CHECK(p.L >= 1, InvalidArgument, "option -L must be >= 1, got ", p.L);
  PAROT_CHECK(std::isfinite(p.p) && p.p >= 1, InvalidArgument, "option -p must be >= 1, got ", p.p);
  PAROT_CHECK(p.seed >= 0, InvalidArgument, "option -seed must be >= 0, got ", p.seed);
  PAROT_CHECK(p.cv == "none" || p.cv == "lower" || p.cv == "upper", InvalidArgument,
              "option -cv must be none, lower or upper, got '", p.cv, "'");
  PAROT_CHECK(p.cv == "none" || (p.p == 2 && p.type == "sw"), InvalidArgument,
              "control variates (-cv ", p.cv, ") bound W_2^2: they need -type sw and -p 2");
  PAROT_CHECK(p.kappa > 0 && std::isfinite(p.kappa), InvalidArgument,
              "option -kappa must be positive, got ", p.kappa);
  PAROT_CHECK(p.steps >= 0, InvalidArgument, "option -steps must be >= 0, got ", p.steps);
  PAROT_CHECK(p.restarts >= 1, InvalidArgument, "option -restarts must be >= 1, got ", p.restarts);
  PAROT_CHECK(p.step_size > 0 && p.step_size <= 3.2, InvalidArgument,
              "option -step_size must be in (0, pi], got ", p.step_size);
}

void read_sliced_options(MPI_Comm comm, SlicedParams& params) {
  OptionsBlock block(comm, "", "sliced Wasserstein options");
  block.choice("type", "estimator", {"sw", "max_sw", "vdsw"}, params.type);
  block.integer("L", "slices (sw) or vMF samples per step (vdsw)", params.L);
  block.real("p", "ground cost exponent, >= 1", params.p);
  block.integer("seed", "seed of the random directions", params.seed);
  block.choice("cv", "Gaussian control variate (p = 2)", {"none", "lower", "upper"}, params.cv);
  block.real("kappa", "vMF concentration (vdsw)", params.kappa);
  block.integer("steps", "ascent steps (max_sw, vdsw)", params.steps);
  block.integer("restarts", "random starting directions (max_sw, vdsw)", params.restarts);
  block.real("step_size", "initial ascent step on the sphere, radians", params.step_size);
  block.read();
  validate(params);
}

SlicedResult sliced_wasserstein(MPI_Comm comm, const PointMeasure& mu, const PointMeasure& nu,
                                const SlicedParams& params) {
  validate(params);
  const double t0 = wall_time();
  PAROT_CHECK(mu.points.cols() == nu.points.cols(), DimensionMismatch,
              "the measures have dimensions ", mu.points.cols(), " and ", nu.points.cols());
  const Prepared pm = prepare(mu, "source"), pn = prepare(nu, "target");
  Pair pair{pm, pn, params.p, {}, {}};
  SlicedResult r = params.type == "sw"       ? sliced_sw(comm, pair, params)
                   : params.type == "max_sw" ? sliced_max(comm, pair, params)
                                             : sliced_vdsw(comm, pair, params);
  r.type = params.type;
  r.time = allreduce_max(comm, wall_time() - t0);
  return r;
}

RowMatrix sliced_directions(long seed, long L, lindex d) {
  RowMatrix theta(L, d);
  for (long l = 0; l < L; ++l)
    kernels::random_direction(static_cast<std::uint64_t>(seed), kernels::direction_stream,
                              static_cast<std::uint64_t>(l), d, theta.data() + l * d);
  return theta;
}

double wasserstein_1d(const Vector& x, const Vector& a, const Vector& y, const Vector& b,
                      double p) {
  kernels::Sorted1d u, v;
  std::vector<lindex> order;
  const Vector an = a / a.sum(), bn = b / b.sum();
  kernels::sort_1d(x.data(), an.data(), x.size(), u, order);
  kernels::sort_1d(y.data(), bn.data(), y.size(), v, order);
  return kernels::wasserstein_1d_sorted(u, v, p);
}

RowMatrix sliced_distance_matrix(MPI_Comm comm, const std::vector<PointMeasure>& measures,
                                 const SlicedParams& params, gindex row_begin, gindex row_end) {
  validate(params);
  PAROT_CHECK(params.type == "sw" && params.cv == "none", InvalidArgument,
              "a batch computes plain SW (-type sw, -cv none)");
  const auto N = static_cast<lindex>(measures.size());
  PAROT_CHECK(N >= 1, InvalidInput, "the batch is empty");
  const lindex d = measures[0].points.cols();
  std::vector<Prepared> prepared;
  for (lindex k = 0; k < N; ++k) {
    PAROT_CHECK(measures[k].points.cols() == d, DimensionMismatch, "measure ", k, " has dimension ",
                measures[k].points.cols(), ", measure 0 has ", d);
    prepared.push_back(prepare(measures[k], "batch measure"));
  }
  // Slices split across ranks; each measure projected and sorted once per slice, then every
  // pair merged (sliced.md §9.4). One reduction of the N × N sums.
  const Layout slices = Layout::uniform(comm, params.L);
  std::vector<double> sums(static_cast<std::size_t>(N * N), 0.0);
  std::vector<Projection> proj(static_cast<std::size_t>(N));
  std::vector<double> theta(static_cast<std::size_t>(d));
  for (gindex l = slices.begin(); l < slices.end(); ++l) {
    kernels::random_direction(static_cast<std::uint64_t>(params.seed), kernels::direction_stream,
                              static_cast<std::uint64_t>(l), d, theta.data());
    for (lindex k = 0; k < N; ++k)
      project(prepared[k], theta.data(), proj[k]);
    for (lindex i = 0; i < N; ++i)
      for (lindex j = i + 1; j < N; ++j)
        sums[i * N + j] += kernels::wasserstein_1d_sorted(proj[i].sorted, proj[j].sorted, params.p);
  }
  MPI_Allreduce(MPI_IN_PLACE, sums.data(), static_cast<int>(sums.size()), MPI_DOUBLE, MPI_SUM,
                comm);
  RowMatrix out(row_end - row_begin, N);
  for (gindex i = row_begin; i < row_end; ++i)
    for (lindex j = 0; j < N; ++j) {
      const double s = i < j ? sums[i * N + j] : sums[j * N + i];
      out(i - row_begin, j) = i == j ? 0.0 : pth_root(s / static_cast<double>(params.L), params.p);
    }
  return out;
}

}  // namespace parot
