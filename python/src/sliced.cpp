// SPDX-License-Identifier: BSD-3-Clause
// parot._core.sliced: the sliced-Wasserstein estimators on arrays held by every rank.
#include <pybind11/stl.h>

#include "core.hpp"
#include "parot/solver/sliced.hpp"

namespace parot::python {

namespace {

PointMeasure measure(py::handle points, py::handle weights, const char* name, const char* wname) {
  const auto x = as_array(points, name, 2);
  PointMeasure mu;
  mu.points = matrix_view(x);
  if (weights.is_none()) {
    mu.weights = Vector::Constant(mu.points.rows(), 1.0 / static_cast<double>(mu.points.rows()));
  } else {
    const auto w = as_array(weights, wname, 1);
    mu.weights = vector_view(w);
  }
  return mu;
}

py::dict sliced(py::handle comm_obj, py::handle X_s, py::handle X_t, py::handle a, py::handle b,
                const SlicedParams& params) {
  MPI_Comm comm = to_comm(comm_obj);
  const PointMeasure mu = measure(X_s, a, "X_s", "a"), nu = measure(X_t, b, "X_t", "b");
  validate(params);
  SlicedResult r;
  without_gil([&] { r = sliced_wasserstein(comm, mu, nu, params); });
  py::dict out;
  out["type"] = r.type;
  out["sw"] = r.sw;
  out["sw_pp"] = r.sw_pp;
  out["stderr_pp"] = r.stderr_pp;
  out["variance_reduction"] = r.variance_reduction;
  out["slices"] = r.slices;
  out["direction"] = r.direction;
  out["time"] = r.time;
  return out;
}

}  // namespace

void bind_sliced(py::module_& m) {
  py::class_<SlicedParams>(m, "SlicedParams")
      .def(py::init<>())
      .def_readwrite("type", &SlicedParams::type)
      .def_readwrite("L", &SlicedParams::L)
      .def_readwrite("p", &SlicedParams::p)
      .def_readwrite("seed", &SlicedParams::seed)
      .def_readwrite("cv", &SlicedParams::cv)
      .def_readwrite("kappa", &SlicedParams::kappa)
      .def_readwrite("steps", &SlicedParams::steps)
      .def_readwrite("restarts", &SlicedParams::restarts)
      .def_readwrite("step_size", &SlicedParams::step_size);
  m.def("sliced", &sliced, py::arg("comm"), py::arg("X_s"), py::arg("X_t"), py::arg("a"),
        py::arg("b"), py::arg("params"));
  m.def("sliced_directions", [](long seed, long L, long d) {
    const RowMatrix theta = sliced_directions(seed, L, d);
    py::array_t<double> out({theta.rows(), theta.cols()});
    std::copy_n(theta.data(), theta.size(), out.mutable_data());
    return out;
  });
}

}  // namespace parot::python
