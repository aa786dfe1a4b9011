// SPDX-License-Identifier: BSD-3-Clause
// Seeded problem families. Every value is a pure function of (seed, stream, index), so each rank
// draws only its own source rows and the data are the same at any rank count.
#include "parot/problem/generate.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/rng.hpp"
#include "parot/core/comm.hpp"
#include "parot/core/error.hpp"
#include "parot/core/memory.hpp"
#include "parot/core/options.hpp"

namespace parot {

namespace {

using kernels::normal;
using kernels::uniform01;

enum Stream : std::uint64_t {
  source_points = 1,
  target_points = 2,
  cost_entries = 3,
  mixture_params = 4,
  source_labels = 5,
  target_labels = 6,
  blob_params = 7,
};

// Bytes a rank holds for a generated problem with `local_rows` source rows (< 0: all): points and
// weights of both measures, the cost's copies of the points, the assignment family's cost block.
double generated_bytes(const GenerateParams& params, double local_rows) {
  const bool images = params.family == "images";
  const double n = images ? 784 : static_cast<double>(params.n);
  const double m = images ? 784 : static_cast<double>(params.m < 0 ? params.n : params.m);
  const double d = params.family == "clouds" || params.family == "gaussians"
                       ? static_cast<double>(params.d)
                       : (params.family == "assignment" ? 0 : 2);
  const double rows = local_rows < 0 ? n : local_rows;  // < 0: the whole source
  return 8.0 * (rows + m) * (2 * d + 1) + (params.family == "assignment" ? 8.0 * rows * m : 0);
}

// Bytes of one generated source measure held whole (a batch member): points and weights.
double measure_bytes(const GenerateParams& params) {
  const double n = params.family == "images" ? 784 : static_cast<double>(params.n);
  const double d =
      params.family == "clouds" || params.family == "gaussians" ? static_cast<double>(params.d) : 2;
  return 8.0 * n * (d + 1);
}

Measure make_measure(Layout layout, lindex dim) {
  Measure m;
  m.points = RowMatrix::Zero(layout.local_size(), dim);
  m.weights = Vector::Zero(layout.local_size());
  m.layout = std::move(layout);
  return m;
}

void normalize(Measure& m) {
  const double local = m.weights.sum();
  const double total = m.layout.is_replicated() ? local : allreduce_sum(m.layout.comm(), local);
  m.weights /= total;
}

// A mixture of three Gaussians in R^d whose centres and spreads depend on (seed, which).
void fill_mixture(Measure& m, std::uint64_t seed, std::uint64_t which, Stream labels,
                  Stream coords) {
  constexpr int components = 3;
  const lindex d = m.dim();
  for (lindex i = 0; i < m.layout.local_size(); ++i) {
    const gindex gi = m.layout.begin() + i;
    const int c =
        static_cast<int>(uniform01(seed, labels, static_cast<std::uint64_t>(gi)) * components);
    const std::uint64_t param = which * 1000 + static_cast<std::uint64_t>(c) * 100;
    const double spread = 0.05 + 0.1 * uniform01(seed, mixture_params, param);
    for (lindex k = 0; k < d; ++k) {
      const double centre = uniform01(seed, mixture_params, param + 1 + static_cast<unsigned>(k));
      m.points(i, k) =
          centre + spread * normal(seed, coords, static_cast<std::uint64_t>(gi * d + k));
    }
    m.weights[i] = 1.0;
  }
}

// A smooth density on [0, 1]: two bumps whose positions and widths depend on (seed, which).
double density1d(std::uint64_t seed, std::uint64_t which, double x) {
  double v = 0;
  for (std::uint64_t b = 0; b < 2; ++b) {
    const double mu = 0.15 + 0.7 * uniform01(seed, mixture_params, which * 10 + 2 * b);
    const double s = 0.04 + 0.08 * uniform01(seed, mixture_params, which * 10 + 2 * b + 1);
    v += std::exp(-0.5 * (x - mu) * (x - mu) / (s * s)) / s;
  }
  return v;
}

// An image-like 28×28 histogram of three random blobs; faint pixels are empty (weight 0).
double image_pixel(std::uint64_t seed, std::uint64_t which, double r, double c) {
  double v = 0;
  for (std::uint64_t b = 0; b < 3; ++b) {
    const std::uint64_t q = which * 100 + b * 10;
    const double br = 0.2 + 0.6 * uniform01(seed, blob_params, q);
    const double bc = 0.2 + 0.6 * uniform01(seed, blob_params, q + 1);
    const double s = 0.05 + 0.1 * uniform01(seed, blob_params, q + 2);
    const double h = 0.5 + uniform01(seed, blob_params, q + 3);
    v += h * std::exp(-0.5 * ((r - br) * (r - br) + (c - bc) * (c - bc)) / (s * s));
  }
  return v < 0.02 ? 0.0 : v;
}

}  // namespace

const std::vector<std::string>& generator_families() {
  static const std::vector<std::string> families = {"assignment", "clouds", "gaussians",
                                                    "density1d", "images"};
  return families;
}

void read_generate_options(MPI_Comm comm, GenerateParams& params) {
  OptionsBlock block(comm, "", "parot problem generator");
  block.choice("family", "problem family", generator_families(), params.family);
  block.integer("n", "number of source points", params.n);
  block.integer("m", "number of target points (-1: same as n)", params.m);
  block.integer("d", "dimension of clouds and gaussians", params.d);
  block.integer("p", "ground cost exponent of density1d and images (1 or 2)", params.p);
  block.integer("seed", "random seed", params.seed);
  block.read();
  validate(params);
}

void validate(const GenerateParams& params) {
  const auto& families = generator_families();
  std::string list;
  for (const auto& f : families)
    list += (list.empty() ? "" : ", ") + f;
  PAROT_CHECK(std::find(families.begin(), families.end(), params.family) != families.end(),
              InvalidArgument, "unknown problem family '", params.family, "' (available: ", list,
              ")");
  if (params.family != "images")
    PAROT_CHECK(params.n > 0 && (params.m > 0 || params.m == -1), InvalidArgument,
                "-n and -m must be positive, got ", params.n, " and ", params.m);
  PAROT_CHECK(params.d > 0, InvalidArgument, "-d must be positive, got ", params.d);
  PAROT_CHECK(params.p == 1 || params.p == 2, InvalidArgument, "-p must be 1 or 2, got ", params.p);
  PAROT_CHECK(params.seed >= 0, InvalidArgument, "-seed must be >= 0, got ", params.seed);
}

std::string describe(const GenerateParams& params) {
  const long m = params.m < 0 ? params.n : params.m;
  if (params.family == "images")
    return detail::cat("images 28x28 p=", params.p, " seed=", params.seed);
  std::string s = detail::cat(params.family, " n=", params.n, " m=", m);
  if (params.family == "clouds" || params.family == "gaussians") s += detail::cat(" d=", params.d);
  if (params.family == "density1d") s += detail::cat(" p=", params.p);
  return s + detail::cat(" seed=", params.seed);
}

Problem generate_problem(MPI_Comm comm, const GenerateParams& params) {
  validate(params);
  const bool images = params.family == "images";
  const gindex n = images ? 784 : params.n;
  const gindex m = images ? 784 : (params.m < 0 ? params.n : params.m);
  const auto seed = static_cast<std::uint64_t>(params.seed);
  const Layout rows = Layout::uniform(comm, n);
  const Layout cols = Layout::replicated(comm, m);
  check_memory(comm, generated_bytes(params, static_cast<double>(rows.local_size())),
               "the generated problem (" + describe(params) + ")");

  Problem problem;
  problem.name = describe(params);
  problem.attributes = {{"family", params.family},
                        {"seed", std::to_string(params.seed)},
                        {"generator", "parot-generate"}};
  const auto p = static_cast<double>(params.p);

  if (params.family == "assignment") {
    problem.source = make_measure(rows, 0);
    problem.target = make_measure(cols, 0);
    problem.source.weights.setConstant(1.0 / static_cast<double>(n));
    problem.target.weights.setConstant(1.0 / static_cast<double>(m));
    RowMatrix block(rows.local_size(), m);
    for (lindex i = 0; i < rows.local_size(); ++i)
      for (gindex j = 0; j < m; ++j)
        block(i, j) =
            uniform01(seed, cost_entries, static_cast<std::uint64_t>((rows.begin() + i) * m + j));
    problem.cost = Cost(std::move(block));
  } else if (params.family == "clouds" || params.family == "gaussians") {
    const lindex d = params.d;
    problem.source = make_measure(rows, d);
    problem.target = make_measure(cols, d);
    if (params.family == "clouds") {
      for (Measure* meas : {&problem.source, &problem.target}) {
        const Stream s = meas == &problem.source ? source_points : target_points;
        for (lindex i = 0; i < meas->layout.local_size(); ++i) {
          for (lindex k = 0; k < d; ++k)
            meas->points(i, k) =
                uniform01(seed, s, static_cast<std::uint64_t>((meas->layout.begin() + i) * d + k));
          meas->weights[i] = 1.0;
        }
      }
    } else {
      fill_mixture(problem.source, seed, 0, source_labels, source_points);
      fill_mixture(problem.target, seed, 1, target_labels, target_points);
    }
    problem.cost = Cost(CostType::sqeuclidean, 2.0, problem.source, problem.target);
  } else if (params.family == "density1d") {
    problem.source = make_measure(rows, 1);
    problem.target = make_measure(cols, 1);
    for (Measure* meas : {&problem.source, &problem.target}) {
      const std::uint64_t which = meas == &problem.source ? 0 : 1;
      const double h = 1.0 / static_cast<double>(std::max<gindex>(meas->size() - 1, 1));
      for (lindex i = 0; i < meas->layout.local_size(); ++i) {
        const double x = static_cast<double>(meas->layout.begin() + i) * h;
        meas->points(i, 0) = x;
        meas->weights[i] = density1d(seed, which, x);
      }
    }
    problem.cost = Cost(CostType::lp, p, problem.source, problem.target);
  } else if (images) {
    problem.source = make_measure(rows, 2);
    problem.target = make_measure(cols, 2);
    for (Measure* meas : {&problem.source, &problem.target}) {
      const std::uint64_t which = meas == &problem.source ? 0 : 1;
      for (lindex i = 0; i < meas->layout.local_size(); ++i) {
        const gindex gi = meas->layout.begin() + i;
        const double r = static_cast<double>(gi / 28) / 27.0;
        const double c = static_cast<double>(gi % 28) / 27.0;
        meas->points(i, 0) = r;
        meas->points(i, 1) = c;
        meas->weights[i] = image_pixel(seed, which, r, c);
      }
    }
    problem.cost = params.p == 1 ? Cost(CostType::lp, 1.0, problem.source, problem.target)
                                 : Cost(CostType::sqeuclidean, 2.0, problem.source, problem.target);
  } else {
    throw InvalidArgument("unknown problem family '" + params.family + "'", true);
  }
  normalize(problem.source);
  normalize(problem.target);
  finalize_problem(problem, "generated problem");
  return problem;
}

std::vector<std::pair<RowMatrix, Vector>> generate_batch(const GenerateParams& params, long count) {
  validate(params);
  PAROT_CHECK(count >= 1, InvalidArgument, "-batch must be >= 1, got ", count);
  PAROT_CHECK(params.family != "assignment", InvalidArgument,
              "a batch needs point measures: -family assignment has none");
  PAROT_CHECK(params.seed <= std::numeric_limits<long>::max() - count, InvalidArgument,
              "-seed + -batch overflows: ", params.seed, " + ", count);
  // Replicated values: every rank refuses the same batch (no communication needed).
  const double bytes =
      static_cast<double>(count) * measure_bytes(params) + generated_bytes(params, -1);
  PAROT_CHECK(bytes <= memory_limit(), InvalidArgument, "a batch of ", count, " ", describe(params),
              " measures needs ", bytes / (1 << 20), " MiB on every rank, above the limit of ",
              memory_limit() / (1 << 20), " MiB per rank (-max_memory)");
  std::vector<std::pair<RowMatrix, Vector>> batch;
  for (long k = 0; k < count; ++k) {
    GenerateParams one = params;
    one.seed = params.seed + k;
    const Problem problem = generate_problem(MPI_COMM_SELF, one);
    batch.emplace_back(problem.source.points, problem.source.weights);
  }
  return batch;
}

}  // namespace parot
