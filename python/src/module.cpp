// SPDX-License-Identifier: BSD-3-Clause
// The parot._core extension: PETSc start-up under mpi4py, communicators, arrays and errors.
#include <mpi4py/mpi4py.h>  // static function pointers: included in this file only
#include <petscsys.h>

#include <string>

#include "core.hpp"
#include "parot/core/environment.hpp"
#include "parot/core/error.hpp"
#include "parot/core/signals.hpp"
#include "parot/version.hpp"

namespace parot::python {

namespace {

parot::Environment* g_environment = nullptr;  // attached to the PETSc this module started
bool g_owns_petsc = false;

extern "C" void finalize_at_exit() {  // Py_AtExit: after Python's objects, before mpi4py's
  delete g_environment;               // MPI_Finalize (LIFO)
  g_environment = nullptr;
  int mpi_finalized = 0;
  MPI_Finalized(&mpi_finalized);
  if (g_owns_petsc && !mpi_finalized) PetscFinalize();
}

void init_petsc() {
  if (g_environment) return;
  PetscBool initialized = PETSC_FALSE, finalized = PETSC_FALSE;
  PetscInitialized(&initialized);
  PetscFinalized(&finalized);
  if (finalized) throw std::runtime_error("PETSc was finalized already; parot cannot restart it");
  if (!initialized) {  // not petsc4py's: parot owns it, without PETSc's signal handlers
    PetscOptionsSetValue(nullptr, "-no_signal_handler", nullptr);
    if (PetscInitializeNoArguments()) throw std::runtime_error("PetscInitialize failed");
    g_owns_petsc = true;
    Py_AtExit(finalize_at_exit);
  }
  g_environment = new parot::Environment();  // attached: never finalizes, never aborts
}

}  // namespace

MPI_Comm to_comm(py::handle comm) {
  if (!PyObject_TypeCheck(comm.ptr(), &PyMPIComm_Type))
    throw py::type_error("comm: expected an mpi4py communicator, got " +
                         std::string(py::str(comm.get_type().attr("__name__"))));
  MPI_Comm* c = PyMPIComm_Get(comm.ptr());
  if (!c) throw py::error_already_set();
  if (*c == MPI_COMM_NULL) throw py::value_error("comm is MPI.COMM_NULL");
  return *c;
}

py::array_t<double, py::array::c_style> as_array(py::handle obj, const char* name, int ndim) {
  if (!py::isinstance<py::array>(obj))
    throw py::type_error(std::string(name) + ": expected a numpy.ndarray, got " +
                         std::string(py::str(obj.get_type().attr("__name__"))));
  const auto array = py::reinterpret_borrow<py::array>(obj);
  if (!py::isinstance<py::array_t<double>>(obj))
    throw py::type_error(std::string(name) + ": dtype must be float64, got " +
                         std::string(py::str(array.dtype())));
  if (!py::isinstance<py::array_t<double, py::array::c_style>>(obj))
    throw py::value_error(std::string(name) +
                          ": array must be C-contiguous (use numpy.ascontiguousarray)");
  if (array.ndim() != ndim)
    throw py::value_error(std::string(name) + ": expected " + std::to_string(ndim) +
                          "-D array, got " + std::to_string(array.ndim()) + "-D");
  return py::reinterpret_borrow<py::array_t<double, py::array::c_style>>(obj);
}

Eigen::Map<const RowMatrix> matrix_view(const py::array_t<double, py::array::c_style>& a) {
  return {a.data(), static_cast<Eigen::Index>(a.shape(0)), static_cast<Eigen::Index>(a.shape(1))};
}

Eigen::Map<const Vector> vector_view(const py::array_t<double, py::array::c_style>& a) {
  return {a.data(), static_cast<Eigen::Index>(a.shape(0))};
}

py::array_t<double> to_numpy(const double* data, std::size_t size) {
  py::array_t<double> out(size);
  std::copy_n(data, size, out.mutable_data());
  return out;
}

void without_gil(const std::function<void()>& body) {
  clear_pending_signal();
  bool interrupted = false;
  {
    py::gil_scoped_release release;
    const SignalScope signals(/*interrupt=*/true);
    try {
      body();
    } catch (const Interrupted&) {
      interrupted = true;
    }
  }
  clear_pending_signal();
  if (interrupted) {
    PyErr_SetNone(PyExc_KeyboardInterrupt);
    throw py::error_already_set();
  }
}

}  // namespace parot::python

PYBIND11_MODULE(_core, m) {
  namespace py = pybind11;
  using namespace parot::python;
  if (import_mpi4py() < 0) throw py::error_already_set();
  m.doc() = "parot's C++ core (use the parot package)";
  m.attr("version") = PAROT_VERSION_STRING;
  static py::exception<parot::Error> error(m, "Error", PyExc_RuntimeError);
  static py::exception<parot::NotConverged> not_converged(m, "NotConvergedError", error.ptr());
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const parot::NotConverged& e) {
      not_converged(e.what());
    } catch (const parot::Error& e) {
      switch (e.kind()) {
        case parot::ErrorKind::invalid_argument:
        case parot::ErrorKind::invalid_input:
        case parot::ErrorKind::dimension_mismatch:
          PyErr_SetString(PyExc_ValueError, e.what());
          return;
        default:
          error(e.what());
      }
    }
  });
  m.def("init_petsc", &init_petsc, "Starts PETSc unless the host (petsc4py) did; idempotent.");
  bind_solve(m);
  bind_sliced(m);
}
