// SPDX-License-Identifier: BSD-3-Clause
// Shared pieces of the parot Python module: communicators, numpy arrays, error translation.
#pragma once

#include <mpi.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <functional>

#include "parot/core/types.hpp"

namespace parot::python {

namespace py = pybind11;

/// The MPI_Comm of an mpi4py communicator (TypeError for anything else). Defined in module.cpp,
/// the one file that imports mpi4py's C API.
MPI_Comm to_comm(py::handle comm);

/// A float64, C-contiguous numpy array, read in place: TypeError for another type or dtype,
/// ValueError for another layout or a wrong number of dimensions.
py::array_t<double, py::array::c_style> as_array(py::handle obj, const char* name, int ndim);

/// Views of such arrays (no copy).
Eigen::Map<const RowMatrix> matrix_view(const py::array_t<double, py::array::c_style>& a);
Eigen::Map<const Vector> vector_view(const py::array_t<double, py::array::c_style>& a);

/// A numpy array that owns a copy of the data.
py::array_t<double> to_numpy(const double* data, std::size_t size);
inline py::array_t<double> to_numpy(const Vector& v) {
  return to_numpy(v.data(), static_cast<std::size_t>(v.size()));
}

/// Runs `body` with the GIL released and SIGINT caught as a stop request (Ctrl-C ends a solve at
/// its next check with Interrupted, raised in Python as KeyboardInterrupt).
void without_gil(const std::function<void()>& body);

void bind_solve(py::module_& m);
void bind_sliced(py::module_& m);

}  // namespace parot::python
