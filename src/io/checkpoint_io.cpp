// SPDX-License-Identifier: BSD-3-Clause
// Checkpoint files (format "parot-checkpoint"): the solver state, written atomically.
#include <cmath>
#include <cstdio>
#include <sstream>

#include "io/atomic_file.hpp"
#include "io/h5.hpp"
#include "io/history_io.hpp"
#include "parot/core/comm.hpp"
#include "parot/core/error.hpp"
#include "parot/io/hdf5.hpp"
#include "parot/version.hpp"

namespace parot::io {

namespace {

// A fingerprint of the weights (the measures' coordinates enter through the largest cost,
// which the solver checks): Σ a_i w(i) + Σ b_j w(j) with fixed per-index multipliers.
double weights_checksum(const Problem& problem) {
  const auto weight = [](gindex i) { return 1.0 + static_cast<double>(i % 1009); };
  double local = 0;
  const gindex begin = problem.source.layout.begin();
  for (lindex i = 0; i < problem.source.weights.size(); ++i)
    local += problem.source.weights[i] * weight(begin + i);
  double sum = allreduce_sum(problem.comm(), local);
  for (lindex j = 0; j < problem.target.weights.size(); ++j)
    sum += problem.target.weights[j] * weight(j);
  return sum;
}

std::string join_keys(const std::map<std::string, double>& scalars) {
  std::string keys;
  for (const auto& [key, value] : scalars)
    keys += (keys.empty() ? "" : ",") + key;
  return keys;
}

}  // namespace

Hdf5CheckpointStore::Hdf5CheckpointStore(std::string path, std::string options)
    : path_(std::move(path)), options_(std::move(options)) {}

void Hdf5CheckpointStore::save(const Problem& problem, const SolverState& state) {
  MPI_Comm comm = problem.comm();
  const bool root = comm_rank(comm) == 0;
  const double bytes = 8.0 * static_cast<double>(problem.n() + problem.m()) +
                       120.0 * static_cast<double>(state.history.size()) + 16384;
  h5::AtomicFile file(comm, path_, bytes);
  {
    const hid_t id = file.id();
    using h5::write_attribute;
    write_attribute(id, "format", std::string(checkpoint_format));
    write_attribute(id, "format_version", static_cast<std::int64_t>(checkpoint_format_version));
    write_attribute(id, "version", std::string(PAROT_VERSION_STRING));
    write_attribute(id, "solver", state.solver);
    write_attribute(id, "phase", state.phase);
    write_attribute(id, "iteration", static_cast<std::int64_t>(state.iteration));
    write_attribute(id, "reg", state.reg);
    write_attribute(id, "max_cost", state.max_cost);
    write_attribute(id, "n", static_cast<std::int64_t>(problem.n()));
    write_attribute(id, "m", static_cast<std::int64_t>(problem.m()));
    write_attribute(id, "weights_checksum", weights_checksum(problem));
    write_attribute(id, "nranks", static_cast<std::int64_t>(comm_size(comm)));
    write_attribute(id, "options", options_);
    write_attribute(id, "state_keys", join_keys(state.scalars));
    for (const auto& [key, value] : state.scalars)
      write_attribute(id, "state_" + key, value);
    const Layout& rows = problem.source.layout;
    h5::write_rows(file, "/solution/f", static_cast<std::uint64_t>(problem.n()), 0,
                   static_cast<std::uint64_t>(rows.begin()),
                   static_cast<std::uint64_t>(rows.local_size()), state.f.data());
    const auto m = static_cast<std::uint64_t>(problem.m());
    h5::write_rows(file, "/solution/g", m, 0, 0, root ? m : 0, state.g.data());
    write_history(file, state.history, root);
  }
  file.commit();
}

SolverState read_checkpoint(const Problem& problem, const std::string& path,
                            const std::string& solver) {
  MPI_Comm comm = problem.comm();
  h5::Handle file = h5::open_read(comm, path);
  const hid_t id = file.id();
  const auto text = [&](const char* name) {
    const auto value = h5::read_string_attribute(id, name);
    PAROT_CHECK(value.has_value(), InvalidInput, path, ": not a parot checkpoint (attribute '",
                name, "' is missing)");
    return *value;
  };
  const auto number = [&](const std::string& name) {
    const auto value = h5::read_number_attribute(id, name);
    PAROT_CHECK(value.has_value(), InvalidInput, path, ": the checkpoint attribute '", name,
                "' is missing");
    return *value;
  };
  PAROT_CHECK(text("format") == checkpoint_format, InvalidInput, path,
              ": not a parot checkpoint (format '", text("format"), "')");
  PAROT_CHECK(number("format_version") == checkpoint_format_version, InvalidInput, path,
              ": checkpoint format_version ", number("format_version"), " is not supported (",
              checkpoint_format_version, ")");
  SolverState state;
  state.solver = text("solver");
  state.phase = text("phase");
  PAROT_CHECK(state.solver == solver, InvalidInput, path, ": the checkpoint is of solver '",
              state.solver, "', this run uses '", solver, "'");
  PAROT_CHECK(state.phase == "sinkhorn" || state.phase == "newton", InvalidInput, path,
              ": unknown checkpoint phase '", state.phase, "'");
  PAROT_CHECK(number("n") == double(problem.n()) && number("m") == double(problem.m()),
              InvalidInput, path, ": the checkpoint is of a ", number("n"), " x ", number("m"),
              " problem, this one is ", problem.n(), " x ", problem.m());
  const double checksum = weights_checksum(problem), stored = number("weights_checksum");
  PAROT_CHECK(std::abs(checksum - stored) <= 1e-12 * std::abs(stored), InvalidInput, path,
              ": the checkpoint belongs to another problem (its weights differ)");
  state.iteration = static_cast<long>(number("iteration"));
  state.reg = number("reg");
  state.max_cost = number("max_cost");
  std::istringstream keys(text("state_keys"));
  for (std::string key; std::getline(keys, key, ',');)
    state.scalars[key] = number("state_" + key);

  const Layout& rows = problem.source.layout;
  const lindex n = rows.local_size(), m = problem.m();
  state.f.resize(n);
  state.g.resize(m);
  const std::pair<const char*, gindex> sizes[] = {{"/solution/f", problem.n()},
                                                  {"/solution/g", problem.m()}};
  for (const auto& [name, expected] : sizes) {
    const h5::DatasetInfo info = h5::dataset_info(id, name, path);
    PAROT_CHECK(info.shape.size() == 1 && info.shape[0] == static_cast<hsize_t>(expected),
                InvalidInput, path, ": ", name, " does not have ", expected, " entries");
  }
  bool ok = h5::read_rows(id, "/solution/f", static_cast<std::uint64_t>(rows.begin()),
                          static_cast<std::uint64_t>(n), 1, state.f.data());
  ok = h5::read_rows(id, "/solution/g", 0, static_cast<std::uint64_t>(m), 1, state.g.data()) && ok;
  check_all(comm, ok, ErrorKind::invalid_input, path + ": reading the potentials failed");
  state.history = read_history(comm, id, path);
  return state;
}

}  // namespace parot::io
