// SPDX-License-Identifier: BSD-3-Clause
// Result files (format "parot-result"), written collectively under a temporary name.
#include <cstdio>

#include "io/atomic_file.hpp"
#include "io/h5.hpp"
#include "io/history_io.hpp"
#include "parot/core/comm.hpp"
#include "parot/core/error.hpp"
#include "parot/core/log.hpp"
#include "parot/io/hdf5.hpp"
#include "parot/version.hpp"

namespace parot::io {

namespace {

// The plan's global entry count (replicated) and this rank's offset in it.
struct PlanExtent {
  std::int64_t total = 0, offset = 0;
};

PlanExtent plan_extent(MPI_Comm comm, const SparsePlan& plan) {
  const auto local = static_cast<std::int64_t>(plan.value.size());
  PlanExtent e;
  MPI_Exscan(&local, &e.offset, 1, MPI_INT64_T, MPI_SUM, comm);
  if (comm_rank(comm) == 0) e.offset = 0;
  MPI_Allreduce(&local, &e.total, 1, MPI_INT64_T, MPI_SUM, comm);
  return e;
}

void write_plan(h5::AtomicFile& file, const SparsePlan& plan, const PlanExtent& e) {
  const auto local = static_cast<std::int64_t>(plan.value.size());
  const std::int64_t total = e.total, offset = e.offset;
  const auto t = static_cast<std::uint64_t>(total), o = static_cast<std::uint64_t>(offset),
             c = static_cast<std::uint64_t>(local);
  h5::write_rows(file, "/plan/row", t, 0, o, c, plan.row.data());
  h5::write_rows(file, "/plan/col", t, 0, o, c, plan.col.data());
  h5::write_rows(file, "/plan/value", t, 0, o, c, plan.value.data());
}

}  // namespace

void write_result(const std::string& path, const Problem& problem, const Solution& solution,
                  const SolveResult& result, const RunInfo& info) {
  MPI_Comm comm = problem.comm();
  const bool root = comm_rank(comm) == 0;
  const PlanExtent extent = result.has_plan ? plan_extent(comm, result.plan) : PlanExtent{};
  const double bytes = 8.0 * static_cast<double>(problem.n() + problem.m()) +
                       24.0 * static_cast<double>(extent.total) +
                       120.0 * static_cast<double>(result.history.size()) + 16384;
  h5::AtomicFile file(comm, path, bytes);
  {
    const hid_t id = file.id();
    using h5::write_attribute;
    write_attribute(id, "format", std::string(result_format));
    write_attribute(id, "format_version", static_cast<std::int64_t>(result_format_version));
    write_attribute(id, "version", std::string(PAROT_VERSION_STRING));
    write_attribute(id, "solver", result.solver);
    write_attribute(id, "reason", to_string(result.reason));
    write_attribute(id, "reason_code", static_cast<std::int64_t>(result.reason));
    write_attribute(id, "converged", static_cast<std::int64_t>(converged(result.reason)));
    write_attribute(id, "iterations", static_cast<std::int64_t>(result.iterations));
    write_attribute(id, "sinkhorn_iterations",
                    static_cast<std::int64_t>(result.sinkhorn_iterations));
    write_attribute(id, "newton_iterations", static_cast<std::int64_t>(result.newton_iterations));
    write_attribute(id, "failed_iteration", static_cast<std::int64_t>(result.failed_iteration));
    write_attribute(id, "safeguard_from", static_cast<std::int64_t>(result.safeguard_from));
    write_attribute(id, "transport_cost", result.transport_cost);
    write_attribute(id, "objective", result.objective);
    write_attribute(id, "marginal_error", result.marginal_error);
    write_attribute(id, "source_marginal_error", result.source_marginal_error);
    write_attribute(id, "target_marginal_error", result.target_marginal_error);
    write_attribute(id, "plan_mass", result.plan_mass);
    write_attribute(id, "reg", result.reg);
    write_attribute(id, "reg_relative", result.reg_relative);
    write_attribute(id, "max_cost", result.max_cost);
    write_attribute(id, "n", static_cast<std::int64_t>(problem.n()));
    write_attribute(id, "m", static_cast<std::int64_t>(problem.m()));
    write_attribute(id, "cost", to_string(problem.cost.type()));
    write_attribute(id, "problem", problem.name);
    // Both measures are normalized to mass 1 before solving; their original totals:
    write_attribute(id, "source_mass", problem.source_mass);
    write_attribute(id, "target_mass", problem.target_mass);
    write_attribute(id, "nranks", static_cast<std::int64_t>(info.nranks));
    write_attribute(id, "options", info.options);
    write_attribute(id, "solve_time", result.solve_time);
    write_attribute(id, "stored_kernel", static_cast<std::int64_t>(result.stored_kernel));
    write_attribute(id, "absorptions", static_cast<std::int64_t>(result.absorptions));
    write_attribute(id, "wall_time", info.wall_time);
    write_attribute(id, "kernel_isa", std::string(kernel_isa()));  // parot/version.hpp
    for (const auto& [key, value] : info.extra)
      write_attribute(id, key, value);
    for (const auto& [key, value] : result.extra)
      write_attribute(id, key, value);
    for (const auto& [key, value] : result.extra_text)
      write_attribute(id, key, value);

    const Layout& rows = problem.source.layout;
    h5::write_rows(file, "/solution/f", static_cast<std::uint64_t>(problem.n()), 0,
                   static_cast<std::uint64_t>(rows.begin()),
                   static_cast<std::uint64_t>(rows.local_size()), solution.f.data());
    const Layout cols = Layout::uniform(comm, problem.m());
    h5::write_rows(file, "/solution/g", static_cast<std::uint64_t>(problem.m()), 0,
                   static_cast<std::uint64_t>(cols.begin()),
                   static_cast<std::uint64_t>(cols.local_size()), solution.g.data() + cols.begin());

    write_history(file, result.history, root);
    if (result.has_bounds) {  // near-exact mode: the certified interval (DESIGN.md §4)
      h5::make_groups(file, "/bounds/x");
      h5::Handle group(H5Gopen2(id, "/bounds", H5P_DEFAULT), H5Gclose);
      const Bounds& bounds = result.bounds;
      write_attribute(group.id(), "lower", bounds.lower);
      write_attribute(group.id(), "upper", bounds.upper);
      write_attribute(group.id(), "gap", bounds.gap());
      write_attribute(group.id(), "rounded_source_marginal_error", bounds.rounded_source_error);
      write_attribute(group.id(), "rounded_target_marginal_error", bounds.rounded_target_error);
      write_attribute(group.id(), "moved_mass", bounds.moved_mass);
      write_attribute(group.id(), "dropped_mass", bounds.dropped_mass);
    }
    if (result.has_plan) write_plan(file, result.plan, extent);
  }
  file.commit();
  if (info.monitor) print_root(comm, "wrote " + path + ": " + file.io_report());
}

}  // namespace parot::io
