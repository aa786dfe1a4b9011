// SPDX-License-Identifier: BSD-3-Clause
// parot._core.solve: any registered solver on arrays, with options scoped to the call.
#include <petscsys.h>
#include <pybind11/stl.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "core.hpp"
#include "parot/core/comm.hpp"
#include "parot/core/error.hpp"
#include "parot/problem/from_arrays.hpp"
#include "parot/solver/registry.hpp"

namespace parot::python {

namespace {

// The call's options under a prefix of their own, removed from PETSc's database when the call
// ends (no leak into later calls). The counter advances identically on every rank.
class ScopedOptions {
 public:
  explicit ScopedOptions(const std::map<std::string, std::string>& options) {
    static long calls = 0;
    prefix_ = "parot_py" + std::to_string(++calls) + "_";
    for (const auto& [key, value] : options) {
      const std::string name = "-" + prefix_ + (key.rfind('-', 0) == 0 ? key.substr(1) : key);
      PetscOptionsSetValue(nullptr, name.c_str(), value.empty() ? nullptr : value.c_str());
      names_.emplace_back(key, name);
    }
  }
  ~ScopedOptions() {
    for (const auto& entry : names_)
      PetscOptionsClearValue(nullptr, entry.second.c_str());
  }
  ScopedOptions(const ScopedOptions&) = delete;
  ScopedOptions& operator=(const ScopedOptions&) = delete;

  const std::string& prefix() const { return prefix_; }
  /// Throws (collectively: every rank reads the same keys) for keys nobody read.
  void check_all_used() const {
    std::string unused;
    for (const auto& [key, name] : names_) {
      PetscBool used = PETSC_FALSE;
      PetscOptionsUsed(nullptr, name.c_str() + 1, &used);  // stored without the dash
      if (!used) unused += (unused.empty() ? "" : ", ") + key;
    }
    PAROT_CHECK(unused.empty(), InvalidArgument, "unknown option(s) for this solver: ", unused);
  }

 private:
  std::string prefix_;
  std::vector<std::pair<std::string, std::string>> names_;
};

// The entropic plan's local rows, P_ij = scale · exp((f_i + g_j − C_ij) / reg), into `out`.
void local_plan(const Problem& problem, const Solution& s, double reg, double scale, double* out) {
  const lindex n = problem.source.layout.local_size(), m = problem.m();
  problem.cost.tile(0, n, 0, m, out, m);
  for (lindex i = 0; i < n; ++i)
    for (lindex j = 0; j < m; ++j)
      out[i * m + j] = scale * std::exp((s.f[i] + s.g[j] - out[i * m + j]) / reg);
}

// The plan as numpy: this rank's rows (distributed), or all rows on every rank.
py::array_t<double> dense_plan(const Problem& problem, const Solution& s, double reg, double scale,
                               bool distributed) {
  const Layout& layout = problem.source.layout;
  const lindex m = problem.m();
  if (distributed) {
    py::array_t<double> P({static_cast<lindex>(layout.local_size()), m});
    local_plan(problem, s, reg, scale, P.mutable_data());
    return P;
  }
  RowMatrix local(layout.local_size(), m);
  local_plan(problem, s, reg, scale, local.data());
  MPI_Comm comm = layout.comm();
  const int size = comm_size(comm);
  std::vector<int> counts(size), displs(size);
  for (int r = 0; r < size; ++r) {
    counts[r] = static_cast<int>((layout.offsets()[r + 1] - layout.offsets()[r]) * m);
    displs[r] = static_cast<int>(layout.offsets()[r] * m);
  }
  py::array_t<double> P({static_cast<lindex>(layout.global_size()), m});
  MPI_Allgatherv(local.data(), static_cast<int>(local.size()), MPI_DOUBLE, P.mutable_data(),
                 counts.data(), displs.data(), MPI_DOUBLE, comm);
  return P;
}

py::dict sparse_plan(MPI_Comm comm, const SparsePlan& plan, bool distributed, double mass) {
  std::vector<double> row(plan.row.begin(), plan.row.end()), col(plan.col.begin(), plan.col.end());
  std::vector<double> value(plan.value);
  for (double& v : value)
    v *= mass;
  if (!distributed) {  // every rank gets every entry, in rank order
    const Layout entries = Layout::from_local(comm, static_cast<gindex>(value.size()));
    auto all = [&](const std::vector<double>& x) {
      return allgather(entries, Eigen::Map<const Vector>(x.data(), static_cast<lindex>(x.size())));
    };
    const Vector r = all(row), c = all(col), v = all(value);
    row.assign(r.data(), r.data() + r.size());
    col.assign(c.data(), c.data() + c.size());
    value.assign(v.data(), v.data() + v.size());
  }
  py::dict out;
  py::array_t<long> rows(row.size()), cols(col.size());
  for (std::size_t k = 0; k < row.size(); ++k) {
    rows.mutable_data()[k] = static_cast<long>(row[k]);
    cols.mutable_data()[k] = static_cast<long>(col[k]);
  }
  out["row"] = rows;
  out["col"] = cols;
  out["value"] = to_numpy(value.data(), value.size());
  return out;
}

py::dict history(const std::vector<IterationRecord>& records) {
  std::vector<double> it, err, obj, reg, time;
  for (const IterationRecord& r : records) {
    it.push_back(static_cast<double>(r.iteration));
    err.push_back(r.marginal_error);
    obj.push_back(r.objective);
    reg.push_back(r.reg);
    time.push_back(r.wall_time);
  }
  auto np = [](const std::vector<double>& x) { return to_numpy(x.data(), x.size()); };
  py::dict h;
  h["iteration"] = np(it);
  h["marginal_error"] = np(err);
  h["objective"] = np(obj);
  h["reg"] = np(reg);
  h["wall_time"] = np(time);
  return h;
}

py::dict solve(py::handle comm_obj, py::object X, py::object Y, py::object M, py::handle a_obj,
               py::handle b_obj, const std::string& cost, double p, const std::string& type,
               const std::map<std::string, std::string>& options, bool distributed,
               const std::string& plan) {
  MPI_Comm comm = to_comm(comm_obj);
  const RowsGiven rows = distributed ? RowsGiven::local : RowsGiven::all;
  const auto a = as_array(a_obj, "a", 1), b = as_array(b_obj, "b", 1);
  std::unique_ptr<Solver> solver;
  {
    const ScopedOptions scoped(options);
    SolveParams params;
    read_common_options(comm, params, scoped.prefix());
    solver = make_solver(comm, type, params);
    solver->set_options_prefix(scoped.prefix());
    solver->set_from_options();
    scoped.check_all_used();
  }
  // Unbalanced solvers take measures of any total masses, and see them unnormalized.
  const bool unbalanced = solver->params().unbalanced();
  const Masses masses = unbalanced ? Masses::any : Masses::equal;
  Problem problem;
  SolveResult result;
  Solution solution;
  if (!M.is_none()) {
    const auto C = as_array(M, "M", 2);
    // The cost is read in place: the problem keeps a reference to the caller's array.
    auto owner = std::shared_ptr<const void>(new py::object(C), [](const void* o) {
      py::gil_scoped_acquire gil;
      delete static_cast<const py::object*>(o);
    });
    problem = problem_from_cost(comm, rows, matrix_view(C), vector_view(a), vector_view(b),
                                std::move(owner), masses);
  } else {
    const auto x = as_array(X, "X", 2), y = as_array(Y, "Y", 2);
    problem = problem_from_points(comm, rows, matrix_view(x), vector_view(a), matrix_view(y),
                                  vector_view(b), cost_type_from_string(cost), p, masses);
  }
  const bool error_if_not_converged = solver->params().error_if_not_converged;
  solver->params().error_if_not_converged = false;
  without_gil([&] { result = solver->solve(problem, solution); });

  py::dict out;
  out["solver"] = result.solver;
  out["reason"] = to_string(result.reason);
  out["converged"] = converged(result.reason);
  out["iterations"] = result.iterations;
  out["sinkhorn_iterations"] = result.sinkhorn_iterations;
  out["newton_iterations"] = result.newton_iterations;
  out["reg"] = result.reg;
  const double scale = unbalanced ? 1.0 : problem.source_mass;  // balanced: normalized inside
  out["transport_cost"] = result.transport_cost * scale;
  for (const auto& [key, value] : result.extra)
    out[key.c_str()] = value;
  out["objective"] = result.objective;
  out["marginal_error"] = result.marginal_error;
  out["solve_time"] = result.solve_time;
  out["mass"] = problem.source_mass;
  out["history"] = history(result.history);
  const Layout& layout = problem.source.layout;
  out["f"] = to_numpy(distributed ? solution.f : allgather(layout, solution.f));
  out["g"] = to_numpy(solution.g);
  if (result.has_bounds) {
    py::dict bounds;
    bounds["lower"] = result.bounds.lower * scale;
    bounds["upper"] = result.bounds.upper * scale;
    out["bounds"] = bounds;
  }
  if (result.has_plan) out["sparse_plan"] = sparse_plan(comm, result.plan, distributed, scale);
  if (plan == "dense") {
    PAROT_CHECK(solution.f.size() == layout.local_size() && result.reg > 0, InvalidArgument,
                "a dense plan needs an entropic solver (sinkhorn, sns)");
    out["plan"] = dense_plan(problem, solution, result.reg, scale, distributed);
  }
  if (error_if_not_converged && !converged(result.reason))
    throw NotConverged("not converged: " + to_string(result.reason), true);
  return out;
}

}  // namespace

void bind_solve(py::module_& m) {
  m.def("solve", &solve, py::arg("comm"), py::arg("X"), py::arg("Y"), py::arg("M"), py::arg("a"),
        py::arg("b"), py::arg("cost"), py::arg("p"), py::arg("solver"), py::arg("options"),
        py::arg("distributed"), py::arg("plan"));
  m.def("solver_types", &solver_types);
}

}  // namespace parot::python
