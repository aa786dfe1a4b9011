// SPDX-License-Identifier: BSD-3-Clause
// The iteration history as one 1-D dataset per field.
#include "io/history_io.hpp"

#include <cstdint>

#include "io/h5.hpp"
#include "parot/core/comm.hpp"
#include "parot/core/error.hpp"
#include "parot/core/memory.hpp"

namespace parot::io {

namespace {

// The fields of an IterationRecord, by dataset name.
constexpr struct {
  const char* name;
  double IterationRecord::*member;
} real_fields[] = {
    {"reg", &IterationRecord::reg},
    {"marginal_error", &IterationRecord::marginal_error},
    {"objective", &IterationRecord::objective},
    {"step", &IterationRecord::step},
    {"wall_time", &IterationRecord::wall_time},
    {"kept_fraction", &IterationRecord::kept_fraction},
    {"assembly_time", &IterationRecord::assembly_time},
    {"inner_solve_time", &IterationRecord::inner_solve_time},
    {"line_search_time", &IterationRecord::line_search_time},
};

constexpr struct {
  const char* name;
  long IterationRecord::*member;
} integer_fields[] = {
    {"iteration", &IterationRecord::iteration},
    {"inner_iterations", &IterationRecord::inner_iterations},
    {"inner_reason", &IterationRecord::inner_reason},
};

}  // namespace

void write_history(h5::AtomicFile& file, const std::vector<IterationRecord>& history, bool root) {
  const auto k = static_cast<std::uint64_t>(history.size());
  const std::uint64_t mine = root ? k : 0;
  std::vector<std::int64_t> ints(history.size());
  for (const auto& field : integer_fields) {
    for (std::size_t r = 0; r < history.size(); ++r)
      ints[r] = history[r].*field.member;
    h5::write_rows(file, std::string("/history/") + field.name, k, 0, 0, mine, ints.data());
  }
  std::vector<double> reals(history.size());
  for (const auto& field : real_fields) {
    for (std::size_t r = 0; r < history.size(); ++r)
      reals[r] = history[r].*field.member;
    h5::write_rows(file, std::string("/history/") + field.name, k, 0, 0, mine, reals.data());
  }
}

std::vector<IterationRecord> read_history(MPI_Comm comm, hid_t file, const std::string& origin) {
  const h5::DatasetInfo info = h5::dataset_info(file, "/history/iteration", origin);
  PAROT_CHECK(info.shape.size() == 1, InvalidInput, origin, ": /history/iteration is not 1-D");
  const std::uint64_t k = info.shape[0];
  check_memory(comm, static_cast<double>(k) * (sizeof(IterationRecord) + sizeof(double)),
               detail::cat(origin, ": /history (", k, " records)"));
  std::vector<IterationRecord> history(k);
  if (k == 0) return history;  // a replicated shape: every rank returns here
  std::vector<double> values(k);
  bool ok = true;
  const auto read = [&](const char* name) {
    const std::string path = std::string("/history/") + name;
    const h5::DatasetInfo field = h5::dataset_info(file, path, origin);
    PAROT_CHECK(field.shape.size() == 1 && field.shape[0] == k, InvalidInput, origin, ": ", path,
                " has ", field.shape.empty() ? 0 : field.shape[0], " entries, expected ", k);
    ok = h5::read_rows(file, path, 0, k, 1, values.data()) && ok;
  };
  for (const auto& field : integer_fields) {
    read(field.name);
    for (std::uint64_t r = 0; r < k; ++r)
      history[r].*field.member = static_cast<long>(values[r]);
  }
  for (const auto& field : real_fields) {
    read(field.name);
    for (std::uint64_t r = 0; r < k; ++r)
      history[r].*field.member = values[r];
  }
  check_all(comm, ok, ErrorKind::invalid_input, origin + ": reading /history failed");
  return history;
}

}  // namespace parot::io
