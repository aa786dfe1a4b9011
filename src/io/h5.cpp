// SPDX-License-Identifier: BSD-3-Clause
// The parallel HDF5 layer.
#include "io/h5.hpp"

#include <cstdio>
#include <filesystem>

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

Handle file_access(MPI_Comm comm) {
  Handle fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  H5Pset_fapl_mpio(fapl.id(), comm, MPI_INFO_NULL);
  H5Pset_all_coll_metadata_ops(fapl.id(), true);
  H5Pset_coll_metadata_write(fapl.id(), true);
  return fapl;
}

Handle collective_transfer() {
  Handle dxpl(H5Pcreate(H5P_DATASET_XFER), H5Pclose);
  H5Pset_dxpl_mpio(dxpl.id(), H5FD_MPIO_COLLECTIVE);
  return dxpl;
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
void write_rows_impl(hid_t file, const std::string& path, std::uint64_t rows, std::uint64_t cols,
                     std::uint64_t begin, std::uint64_t count, const T* local) {
  make_groups(file, path);
  const int rank = cols == 0 ? 1 : 2;
  const hsize_t dims[2] = {rows, cols};
  Handle space(H5Screate_simple(rank, dims, nullptr), H5Sclose);
  Handle set(H5Dcreate2(file, path.c_str(), memory_type<T>(), space.id(), H5P_DEFAULT, H5P_DEFAULT,
                        H5P_DEFAULT),
             H5Dclose);
  PAROT_CHECK(set.valid(), IoError, "cannot create dataset ", path);
  const std::uint64_t width = cols == 0 ? 1 : cols;
  const hsize_t mdims[1] = {count * width};
  Handle mspace(H5Screate_simple(1, mdims, nullptr), H5Sclose);
  if (count == 0) {
    H5Sselect_none(space.id());
    H5Sselect_none(mspace.id());
  } else {
    const hsize_t start[2] = {begin, 0}, block[2] = {count, cols};
    H5Sselect_hyperslab(space.id(), H5S_SELECT_SET, start, nullptr, block, nullptr);
  }
  if (rows == 0)
    return;  // an empty dataset, e.g. an empty plan (a replicated size: every rank
             // returns here)
  Handle dxpl = collective_transfer();
  const T dummy{};  // HDF5 wants a buffer even for an empty selection
  const herr_t status = H5Dwrite(set.id(), memory_type<T>(), mspace.id(), space.id(), dxpl.id(),
                                 local ? local : &dummy);
  if (status < 0) throw IoError("writing dataset " + path + " failed", false);
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
  if (rank > 0) H5Sget_simple_extent_dims(space.id(), info.shape.data(), nullptr);
  info.type_class = H5Tget_class(type.id());
  return info;
}

bool read_rows(hid_t file, const std::string& path, std::uint64_t begin, std::uint64_t count,
               std::uint64_t cols, double* out) {
  Handle set(H5Dopen2(file, path.c_str(), H5P_DEFAULT), H5Dclose);
  Handle space(H5Dget_space(set.id()), H5Sclose);
  const hsize_t mdims[1] = {count * cols};
  Handle mspace(H5Screate_simple(1, mdims, nullptr), H5Sclose);
  if (count == 0) {
    H5Sselect_none(space.id());
    H5Sselect_none(mspace.id());
  } else {
    const hsize_t start[2] = {begin, 0}, block[2] = {count, cols};
    H5Sselect_hyperslab(space.id(), H5S_SELECT_SET, start, nullptr, block, nullptr);
  }
  Handle dxpl = collective_transfer();
  double dummy = 0;  // HDF5 wants a buffer even for an empty selection
  return H5Dread(set.id(), H5T_NATIVE_DOUBLE, mspace.id(), space.id(), dxpl.id(),
                 out ? out : &dummy) >= 0;
}

void make_groups(hid_t file, const std::string& path) {
  std::size_t pos = 0;
  while ((pos = path.find('/', pos + 1)) != std::string::npos) {
    const std::string group = path.substr(0, pos);
    if (H5Lexists(file, group.c_str(), H5P_DEFAULT) > 0) continue;
    Handle g(H5Gcreate2(file, group.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
    PAROT_CHECK(g.valid(), IoError, "cannot create group ", group);
  }
}

void write_rows(hid_t file, const std::string& path, std::uint64_t rows, std::uint64_t cols,
                std::uint64_t begin, std::uint64_t count, const double* local) {
  write_rows_impl(file, path, rows, cols, begin, count, local);
}

void write_rows(hid_t file, const std::string& path, std::uint64_t rows, std::uint64_t cols,
                std::uint64_t begin, std::uint64_t count, const std::int64_t* local) {
  write_rows_impl(file, path, rows, cols, begin, count, local);
}

namespace {
void write_attribute_raw(hid_t object, const std::string& name, hid_t type, const void* value) {
  if (H5Aexists(object, name.c_str()) > 0) H5Adelete(object, name.c_str());
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
  H5Tset_size(type.id(), H5T_VARIABLE);
  H5Tset_cset(type.id(), H5T_CSET_UTF8);
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

void commit(MPI_Comm comm, Handle& file, const std::string& tmp, const std::string& path) {
  const bool closed = H5Fclose(file.release()) >= 0;
  check_all(comm, closed, ErrorKind::io, "closing '" + tmp + "' failed");
  MPI_Barrier(comm);
  int ok = 1;
  if (comm_rank(comm) == 0) ok = std::rename(tmp.c_str(), path.c_str()) == 0;
  MPI_Bcast(&ok, 1, MPI_INT, 0, comm);
  PAROT_CHECK(ok, IoError, "cannot rename '", tmp, "' to '", path, "'");
}

}  // namespace parot::h5
