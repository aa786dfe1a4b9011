// SPDX-License-Identifier: BSD-3-Clause
// Problem files (format "parot-problem"): parallel read with validation, collective write.
#include <cmath>
#include <cstdio>

#include <new>

#include "core/fault.hpp"
#include "io/atomic_file.hpp"
#include "io/h5.hpp"
#include "parot/core/comm.hpp"
#include "parot/core/error.hpp"
#include "parot/core/memory.hpp"
#include "parot/io/hdf5.hpp"

namespace parot::io {

namespace {

// Checks format and format_version of an open file: replicated metadata, collective errors.
void check_format(hid_t file, const std::string& path, const char* format, long max_version) {
  const auto fmt = h5::read_string_attribute(file, "format");
  PAROT_CHECK(fmt.has_value(), InvalidInput, path, ": missing root attribute 'format' (expected '",
              format, "')");
  PAROT_CHECK(*fmt == format, InvalidInput, path, ": attribute 'format' is '", *fmt,
              "', expected '", format, "'");
  const auto version = h5::read_number_attribute(file, "format_version");
  PAROT_CHECK(version.has_value(), InvalidInput, path,
              ": missing numeric root attribute 'format_version'");
  PAROT_CHECK(*version >= 1 && *version <= static_cast<double>(max_version) &&
                  *version == std::floor(*version),
              InvalidInput, path, ": format_version ", *version,
              " is not supported (this parot reads 1..", max_version, ")");
}

// Shape checks of one measure's datasets; returns (size, dim).
std::pair<gindex, lindex> measure_shape(hid_t file, const std::string& path,
                                        const std::string& group, bool need_points) {
  const auto w = h5::dataset_info(file, "/" + group + "/weights", path);
  PAROT_CHECK(w.type_class == H5T_FLOAT, InvalidInput, path, ": /", group,
              "/weights must be floating point");
  PAROT_CHECK(w.shape.size() == 1, InvalidInput, path, ": /", group,
              "/weights must be 1-D, it has rank ", w.shape.size());
  const auto n = static_cast<gindex>(w.shape[0]);
  PAROT_CHECK(n > 0, InvalidInput, path, ": /", group, "/weights is empty");
  lindex d = 0;
  if (need_points || h5::exists(file, "/" + group + "/points")) {
    const auto p = h5::dataset_info(file, "/" + group + "/points", path);
    PAROT_CHECK(p.type_class == H5T_FLOAT, InvalidInput, path, ": /", group,
                "/points must be floating point");
    PAROT_CHECK(p.shape.size() == 2, InvalidInput, path, ": /", group,
                "/points must be 2-D [n, d], it has rank ", p.shape.size());
    PAROT_CHECK(static_cast<gindex>(p.shape[0]) == n, DimensionMismatch, path, ": /", group,
                "/points has ", p.shape[0], " rows but /", group, "/weights has ", n, " entries");
    d = static_cast<lindex>(p.shape[1]);
    PAROT_CHECK(d > 0 || !need_points, InvalidInput, path, ": /", group, "/points has dimension 0");
  }
  return {n, d};
}

// Every rank makes the same collective reads; failures are returned, not thrown.
bool read_measure(hid_t file, const std::string& group, lindex d, Measure& out) {
  const auto begin = static_cast<std::uint64_t>(out.layout.begin());
  const auto count = static_cast<std::uint64_t>(out.layout.local_size());
  bool ok = h5::read_rows(file, "/" + group + "/weights", begin, count, 1, out.weights.data());
  if (d > 0)
    ok = h5::read_rows(file, "/" + group + "/points", begin, count, static_cast<std::uint64_t>(d),
                       out.points.data()) &&
         ok;
  return ok;
}

void allocate(Measure& out, Layout layout, lindex d) {
  out.weights.resize(layout.local_size());
  out.points.resize(layout.local_size(), d);
  out.layout = std::move(layout);
}

}  // namespace

Problem read_problem(MPI_Comm comm, const std::string& path, Masses masses) {
  h5::Handle file = h5::open_read(comm, path);
  check_format(file.id(), path, problem_format, problem_format_version);

  const bool has_matrix = h5::exists(file.id(), "/cost");
  std::string cost_name = has_matrix ? "matrix" : "sqeuclidean";
  if (auto c = h5::read_string_attribute(file.id(), "cost")) cost_name = *c;
  CostType type = CostType::sqeuclidean;
  try {
    type = cost_type_from_string(cost_name);
  } catch (const InvalidInput& e) {  // replicated metadata: every rank throws the same
    throw InvalidInput(path + ": attribute cost: " + e.what(), true);
  }
  double p = 2.0;
  if (auto value = h5::read_number_attribute(file.id(), "p")) p = *value;
  PAROT_CHECK(type != CostType::matrix || has_matrix, InvalidInput, path,
              ": attribute cost = 'matrix' but dataset /cost is missing");
  PAROT_CHECK(type != CostType::lp || (std::isfinite(p) && p >= 1), InvalidInput, path,
              ": attribute p must be >= 1 for the lp cost, got ", p);

  const bool need_points = type != CostType::matrix;
  const auto [n, ds] = measure_shape(file.id(), path, "source", need_points);
  const auto [m, dt] = measure_shape(file.id(), path, "target", need_points);
  PAROT_CHECK(!need_points || ds == dt, DimensionMismatch, path, ": source points have dimension ",
              ds, " but target points have dimension ", dt);
  if (type == CostType::matrix) {
    const auto c = h5::dataset_info(file.id(), "/cost", path);
    PAROT_CHECK(c.type_class == H5T_FLOAT, InvalidInput, path, ": /cost must be floating point");
    PAROT_CHECK(c.shape.size() == 2 && static_cast<gindex>(c.shape[0]) == n &&
                    static_cast<gindex>(c.shape[1]) == m,
                DimensionMismatch, path, ": /cost must have shape [", n, ", ", m, "]");
  }

  // Optional size claims (written by parot-generate) must match the data.
  for (const auto& [key, actual] : {std::pair<const char*, double>{"n", static_cast<double>(n)},
                                    {"m", static_cast<double>(m)},
                                    {"d", static_cast<double>(ds)}}) {
    const auto claim = h5::read_number_attribute(file.id(), key);
    PAROT_CHECK(!claim || *claim == actual || (std::string(key) == "d" && !need_points),
                InvalidInput, path, ": attribute ", key, " = ", claim.value_or(0),
                " does not match the data (", actual, ")");
  }

  Problem problem;
  problem.name = h5::read_string_attribute(file.id(), "name").value_or(path);
  const Layout rows = Layout::uniform(comm, n);
  check_memory(comm,
               8.0 * static_cast<double>(rows.local_size()) *
                       (static_cast<double>(type == CostType::matrix ? m : 0) + 2.0 * ds + 1) +
                   8.0 * static_cast<double>(m) * (2.0 * dt + 1),
               path + ": the problem");
  RowMatrix block;
  run_collectively(comm, [&] {
    if (detail::fault_injected("alloc", comm)) throw std::bad_alloc();
    allocate(problem.source, rows, ds);
    allocate(problem.target, Layout::replicated(comm, m), dt);
    if (type == CostType::matrix) block.resize(rows.local_size(), m);
  });
  bool ok = read_measure(file.id(), "source", ds, problem.source);
  ok = ok && !detail::fault_injected("read", comm);
  ok = read_measure(file.id(), "target", dt, problem.target) && ok;
  if (type == CostType::matrix)
    ok = h5::read_rows(file.id(), "/cost", static_cast<std::uint64_t>(rows.begin()),
                       static_cast<std::uint64_t>(rows.local_size()), static_cast<std::uint64_t>(m),
                       block.data()) &&
         ok;
  check_all(comm, ok, ErrorKind::invalid_input, path + ": reading the data failed");
  problem.cost = type == CostType::matrix ? Cost(std::move(block))
                                          : Cost(type, p, problem.source, problem.target);
  file.reset();
  finalize_problem(problem, path, masses);
  return problem;
}

void write_problem(const std::string& path, const Problem& problem) {
  MPI_Comm comm = problem.comm();
  const double points = static_cast<double>(problem.n() + problem.m());
  const double bytes =
      8.0 * points * static_cast<double>(problem.source.dim() + 1) +
      (problem.cost.type() == CostType::matrix
           ? 8.0 * static_cast<double>(problem.n()) * static_cast<double>(problem.m())
           : 0.0) +
      16384;
  h5::AtomicFile file(comm, path, bytes);
  {
    const hid_t id = file.id();
    h5::write_attribute(id, "format", std::string(problem_format));
    h5::write_attribute(id, "format_version", static_cast<std::int64_t>(problem_format_version));
    h5::write_attribute(id, "cost", to_string(problem.cost.type()));
    h5::write_attribute(id, "p", problem.cost.p());
    h5::write_attribute(id, "name", problem.name);
    h5::write_attribute(id, "n", static_cast<std::int64_t>(problem.n()));
    h5::write_attribute(id, "m", static_cast<std::int64_t>(problem.m()));
    h5::write_attribute(id, "d", static_cast<std::int64_t>(problem.source.dim()));
    for (const auto& [key, value] : problem.attributes)
      h5::write_attribute(id, key, value);

    const Layout& rows = problem.source.layout;
    const auto n = static_cast<std::uint64_t>(problem.n());
    const auto m = static_cast<std::uint64_t>(problem.m());
    const auto begin = static_cast<std::uint64_t>(rows.begin());
    const auto count = static_cast<std::uint64_t>(rows.local_size());
    const auto d = static_cast<std::uint64_t>(problem.source.dim());
    // The replicated target is written in the slices of a uniform layout.
    const Layout tcols = Layout::uniform(comm, problem.m());
    const auto tb = static_cast<std::uint64_t>(tcols.begin());
    const auto tc = static_cast<std::uint64_t>(tcols.local_size());
    h5::write_rows(file, "/source/weights", n, 0, begin, count, problem.source.weights.data());
    h5::write_rows(file, "/target/weights", m, 0, tb, tc, problem.target.weights.data() + tb);
    if (d > 0) {
      h5::write_rows(file, "/source/points", n, d, begin, count, problem.source.points.data());
      h5::write_rows(file, "/target/points", m, d, tb, tc, problem.target.points.data() + tb * d);
    }
    if (problem.cost.type() == CostType::matrix)
      h5::write_rows(file, "/cost", n, m, begin, count, problem.cost.block().data());
  }
  file.commit();
}

}  // namespace parot::io
