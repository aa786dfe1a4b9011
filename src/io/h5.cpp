// SPDX-License-Identifier: BSD-3-Clause
// The parallel HDF5 layer.
#include "io/h5.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "core/fault.hpp"
#include "io/atomic_file.hpp"

#include "parot/core/comm.hpp"
#include "parot/core/error.hpp"

namespace parot::h5 {

Handle& Handle::operator=(Handle&& o) noexcept {
  if (this != &o) {
    reset();
    id_ = o.id_;
    close_ = o.close_;
    o.id_ = H5I_INVALID_HID;
  }
  return *this;
}

void Handle::reset() {
  if (id_ >= 0 && close_) close_(id_);
  id_ = H5I_INVALID_HID;
}

void silence() {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

namespace {

// A checked property or selection call on a path where a failure is this rank's alone: it is
// recorded in `ok` and folded into the caller's collective check.
bool checked(herr_t status, bool& ok) {
  ok = ok && status >= 0;
  return ok;
}

Handle file_access(MPI_Comm comm) {
  Handle fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  bool ok = fapl.valid();
  if (ok) {
    checked(H5Pset_fapl_mpio(fapl.id(), comm, MPI_INFO_NULL), ok);
    checked(H5Pset_all_coll_metadata_ops(fapl.id(), true), ok);
    checked(H5Pset_coll_metadata_write(fapl.id(), true), ok);
  }
  check_all(comm, ok, ErrorKind::io, "HDF5 could not set up its MPI-IO file access properties");
  return fapl;
}

// The dataset transfer property list of a collective transfer; `ok` records failures.
Handle collective_transfer(bool& ok) {
  Handle dxpl(H5Pcreate(H5P_DATASET_XFER), H5Pclose);
  if (!checked(dxpl.valid() ? 0 : -1, ok)) return dxpl;
  checked(H5Pset_dxpl_mpio(dxpl.id(), H5FD_MPIO_COLLECTIVE), ok);
  return dxpl;
}

// Selects rows [begin, begin + count) of `space` (rows x cols) and the same number of elements
// of `mspace`, or nothing on both when count == 0.
void select_rows(hid_t space, hid_t mspace, std::uint64_t begin, std::uint64_t count,
                 std::uint64_t cols, bool& ok) {
  if (count == 0) {
    checked(H5Sselect_none(space), ok);
    checked(H5Sselect_none(mspace), ok);
    return;
  }
  const hsize_t start[2] = {begin, 0}, block[2] = {count, cols};
  checked(H5Sselect_hyperslab(space, H5S_SELECT_SET, start, nullptr, block, nullptr), ok);
}

template <class T>
hid_t memory_type();
template <>
hid_t memory_type<double>() {
  return H5T_NATIVE_DOUBLE;
}
template <>
hid_t memory_type<std::int64_t>() {
  return H5T_NATIVE_INT64;
}

template <class T>
void write_rows_impl(AtomicFile& out, const std::string& path, std::uint64_t rows,
                     std::uint64_t cols, std::uint64_t begin, std::uint64_t count, const T* local) {
  const hid_t file = out.id();
  MPI_Comm comm = out.comm();
  make_groups(out, path);
  const int rank = cols == 0 ? 1 : 2;
  const hsize_t dims[2] = {rows, cols};
  Handle space(H5Screate_simple(rank, dims, nullptr), H5Sclose);
  Handle set;
  if (space.valid())
    set = Handle(H5Dcreate2(file, path.c_str(), memory_type<T>(), space.id(), H5P_DEFAULT,
                            H5P_DEFAULT, H5P_DEFAULT),
                 H5Dclose);
  check_all(comm, set.valid(), ErrorKind::io,
            "cannot create dataset " + path + " in '" + out.tmp() + "'");
  if (rows == 0) return;  // an empty dataset, e.g. an empty plan (a replicated size)
  const std::uint64_t width = cols == 0 ? 1 : cols;
  const hsize_t mdims[1] = {count * width};
  Handle mspace(H5Screate_simple(1, mdims, nullptr), H5Sclose);
  bool ok = mspace.valid();
  if (ok) select_rows(space.id(), mspace.id(), begin, count, cols, ok);
  Handle dxpl = collective_transfer(ok);
  check_all(comm, ok, ErrorKind::io, "HDF5 could not select the rows of " + path + " to write");
  const T dummy{};  // HDF5 wants a buffer even for an empty selection
  // PAROT_FAULT=write:R: rank R's write fails (it still takes part in the collective
  // transfer, with nothing selected, as a rank whose write(2) failed does).
  const bool fault = detail::fault_injected("write", comm);
  if (fault) {
    H5Sselect_none(space.id());
    H5Sselect_none(mspace.id());
  }
  errno = 0;
  herr_t status = H5Dwrite(set.id(), memory_type<T>(), mspace.id(), space.id(), dxpl.id(),
                           local ? local : &dummy);
  if (fault) {
    status = -1;
    errno = EIO;
  }
  const int err = status < 0 ? (errno ? errno : EIO) : 0;
  check_all(comm, status >= 0, ErrorKind::io,
            "writing dataset " + path + " to '" + out.tmp() + "' failed (" + std::strerror(err) +
                "); nothing was written under '" + out.path() + "'");
  H5D_mpio_actual_io_mode_t mode = H5D_MPIO_NO_COLLECTIVE;
  if (H5Pget_mpio_actual_io_mode(dxpl.id(), &mode) >= 0)
    out.note_write(mode != H5D_MPIO_NO_COLLECTIVE);
}

}  // namespace

Handle open_read(MPI_Comm comm, const std::string& path) {
  silence();
  const bool found = std::filesystem::is_regular_file(path);
  check_all(comm, found, ErrorKind::invalid_input, "cannot open '" + path + "': no such file");
  const bool is_hdf5 = H5Fis_hdf5(path.c_str()) > 0;
  check_all(comm, is_hdf5, ErrorKind::invalid_input,
            "cannot open '" + path + "': not an HDF5 file (or truncated)");
  Handle fapl = file_access(comm);
  Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.id()), H5Fclose);
  check_all(comm, file.valid(), ErrorKind::invalid_input,
            "cannot open '" + path + "': HDF5 could not open it (corrupt or truncated)");
  return file;
}

Handle create(MPI_Comm comm, const std::string& path) {
  silence();
  Handle fapl = file_access(comm);
  Handle file(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.id()), H5Fclose);
  check_all(comm, file.valid(), ErrorKind::io,
            "cannot create '" + path + "' (does the directory exist and is it writable?)");
  return file;
}

bool exists(hid_t file, const std::string& path) {
  // Check every prefix: H5Lexists fails on a missing intermediate group.
  std::size_t pos = 0;
  while ((pos = path.find('/', pos + 1)) != std::string::npos)
    if (H5Lexists(file, path.substr(0, pos).c_str(), H5P_DEFAULT) <= 0) return false;
  return H5Lexists(file, path.c_str(), H5P_DEFAULT) > 0;
}

DatasetInfo dataset_info(hid_t file, const std::string& path, const std::string& origin) {
  PAROT_CHECK(exists(file, path), InvalidInput, origin, ": dataset ", path, " is missing");
  Handle set(H5Dopen2(file, path.c_str(), H5P_DEFAULT), H5Dclose);
  PAROT_CHECK(set.valid(), InvalidInput, origin, ": ", path, " is not a dataset");
  Handle space(H5Dget_space(set.id()), H5Sclose);
  Handle type(H5Dget_type(set.id()), H5Tclose);
  DatasetInfo info;
  const int rank = H5Sget_simple_extent_ndims(space.id());
  PAROT_CHECK(rank >= 0, InvalidInput, origin, ": cannot read the shape of ", path);
  info.shape.resize(static_cast<std::size_t>(rank));
  PAROT_CHECK(rank == 0 || H5Sget_simple_extent_dims(space.id(), info.shape.data(), nullptr) >= 0,
              InvalidInput, origin, ": cannot read the shape of ", path);
  info.type_class = H5Tget_class(type.id());
  return info;
}

bool read_rows(hid_t file, const std::string& path, std::uint64_t begin, std::uint64_t count,
               std::uint64_t cols, double* out) {
  Handle set(H5Dopen2(file, path.c_str(), H5P_DEFAULT), H5Dclose);
  if (!set.valid()) return false;
  Handle space(H5Dget_space(set.id()), H5Sclose);
  const hsize_t mdims[1] = {count * cols};
  Handle mspace(H5Screate_simple(1, mdims, nullptr), H5Sclose);
  bool ok = space.valid() && mspace.valid();
  if (ok) select_rows(space.id(), mspace.id(), begin, count, cols, ok);
  Handle dxpl = collective_transfer(ok);
  // A failed selection still takes part in the collective read (selecting nothing), so that
  // the ranks that did not fail are not left waiting; the caller folds `false` into its check.
  if (!ok && space.valid() && mspace.valid()) {
    H5Sselect_none(space.id());
    H5Sselect_none(mspace.id());
  }
  double dummy = 0;  // HDF5 wants a buffer even for an empty selection
  return H5Dread(set.id(), H5T_NATIVE_DOUBLE, mspace.id(), space.id(),
                 dxpl.valid() ? dxpl.id() : H5P_DEFAULT, out ? out : &dummy) >= 0 &&
         ok;
}

void make_groups(AtomicFile& out, const std::string& path) {
  std::size_t pos = 0;
  while ((pos = path.find('/', pos + 1)) != std::string::npos) {
    const std::string group = path.substr(0, pos);
    if (H5Lexists(out.id(), group.c_str(), H5P_DEFAULT) > 0) continue;
    Handle g(H5Gcreate2(out.id(), group.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
    check_all(out.comm(), g.valid(), ErrorKind::io,
              "cannot create group " + group + " in '" + out.tmp() + "'");
  }
}

void write_rows(AtomicFile& file, const std::string& path, std::uint64_t rows, std::uint64_t cols,
                std::uint64_t begin, std::uint64_t count, const double* local) {
  write_rows_impl(file, path, rows, cols, begin, count, local);
}

void write_rows(AtomicFile& file, const std::string& path, std::uint64_t rows, std::uint64_t cols,
                std::uint64_t begin, std::uint64_t count, const std::int64_t* local) {
  write_rows_impl(file, path, rows, cols, begin, count, local);
}

namespace {
void write_attribute_raw(hid_t object, const std::string& name, hid_t type, const void* value) {
  if (H5Aexists(object, name.c_str()) > 0)
    PAROT_CHECK(H5Adelete(object, name.c_str()) >= 0, IoError, "cannot replace attribute ", name);
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  Handle attr(H5Acreate2(object, name.c_str(), type, space.id(), H5P_DEFAULT, H5P_DEFAULT),
              H5Aclose);
  PAROT_CHECK(attr.valid() && H5Awrite(attr.id(), type, value) >= 0, IoError,
              "cannot write attribute ", name);
}
}  // namespace

void write_attribute(hid_t object, const std::string& name, const std::string& value) {
  // Variable-length UTF-8, so that h5py reads a str (fixed-length strings come back as bytes).
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  PAROT_CHECK(type.valid() && H5Tset_size(type.id(), H5T_VARIABLE) >= 0 &&
                  H5Tset_cset(type.id(), H5T_CSET_UTF8) >= 0,
              IoError, "cannot make the string type of attribute ", name);
  const char* text = value.c_str();
  write_attribute_raw(object, name, type.id(), &text);
}

void write_attribute(hid_t object, const std::string& name, double value) {
  write_attribute_raw(object, name, H5T_NATIVE_DOUBLE, &value);
}

void write_attribute(hid_t object, const std::string& name, std::int64_t value) {
  write_attribute_raw(object, name, H5T_NATIVE_INT64, &value);
}

std::optional<std::string> read_string_attribute(hid_t object, const std::string& name) {
  if (H5Aexists(object, name.c_str()) <= 0) return std::nullopt;
  Handle attr(H5Aopen(object, name.c_str(), H5P_DEFAULT), H5Aclose);
  Handle type(H5Aget_type(attr.id()), H5Tclose);
  if (H5Tget_class(type.id()) != H5T_STRING) return std::nullopt;
  if (H5Tis_variable_str(type.id()) > 0) {
    char* text = nullptr;  // read with the stored type: ASCII or UTF-8, as h5py may write either
    if (H5Aread(attr.id(), type.id(), &text) < 0 || !text) return std::nullopt;
    std::string out(text);
    H5free_memory(text);
    return out;
  }
  const std::size_t size = H5Tget_size(type.id());
  std::string out(size, '\0');
  if (H5Aread(attr.id(), type.id(), out.data()) < 0) return std::nullopt;
  out.resize(out.find('\0') == std::string::npos ? size : out.find('\0'));
  return out;
}

std::optional<double> read_number_attribute(hid_t object, const std::string& name) {
  if (H5Aexists(object, name.c_str()) <= 0) return std::nullopt;
  Handle attr(H5Aopen(object, name.c_str(), H5P_DEFAULT), H5Aclose);
  Handle type(H5Aget_type(attr.id()), H5Tclose);
  const H5T_class_t cls = H5Tget_class(type.id());
  if (cls != H5T_INTEGER && cls != H5T_FLOAT) return std::nullopt;
  Handle space(H5Aget_space(attr.id()), H5Sclose);
  if (H5Sget_simple_extent_npoints(space.id()) != 1) return std::nullopt;
  double value = 0;
  if (H5Aread(attr.id(), H5T_NATIVE_DOUBLE, &value) < 0) return std::nullopt;
  return value;
}

}  // namespace parot::h5
