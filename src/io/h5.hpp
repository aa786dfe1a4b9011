// SPDX-License-Identifier: BSD-3-Clause
// A thin RAII layer over parallel HDF5 (HighFive's pattern): handles that close themselves,
// one checked wrapper per call, collective metadata, collective transfers.
#pragma once

#include <hdf5.h>
#include <mpi.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "parot/core/layout.hpp"

namespace parot::h5 {

/// An owned hid_t, closed with the function that matches its kind.
class Handle {
 public:
  Handle() = default;
  Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  Handle(Handle&& o) noexcept : id_(o.id_), close_(o.close_) { o.id_ = H5I_INVALID_HID; }
  Handle& operator=(Handle&& o) noexcept;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { reset(); }
  void reset();
  /// Gives up ownership without closing.
  hid_t release() noexcept {
    const hid_t id = id_;
    id_ = H5I_INVALID_HID;
    return id;
  }
  hid_t id() const noexcept { return id_; }
  bool valid() const noexcept { return id_ >= 0; }

 private:
  hid_t id_ = H5I_INVALID_HID;
  herr_t (*close_)(hid_t) = nullptr;
};

/// Turns off HDF5's automatic error printing (parot reports errors itself).
void silence();

/// Opens an existing file read-only on every rank with the MPI-IO driver. @collective{comm}
/// @throws InvalidInput (collective) when the file is missing or not HDF5.
Handle open_read(MPI_Comm comm, const std::string& path);
/// Creates (truncates) a file on every rank with the MPI-IO driver. @collective{comm}
Handle create(MPI_Comm comm, const std::string& path);

/// True when the object at `path` (e.g. "/source/points") exists. @notcollective
bool exists(hid_t file, const std::string& path);

/// Shape and element class of a dataset.
struct DatasetInfo {
  std::vector<hsize_t> shape;
  H5T_class_t type_class = H5T_NO_CLASS;
};
/// @throws InvalidInput naming `origin` and the dataset when it is missing or unreadable.
DatasetInfo dataset_info(hid_t file, const std::string& path, const std::string& origin);

/// Reads rows [begin, begin + count) of a 1-D or 2-D dataset (row length `cols`, 1 for 1-D)
/// as doubles into `out`. Every rank calls it (count may be 0). Returns false when this rank's
/// read failed: the caller folds that into a collective check after all its reads.
/// @collective{comm}
[[nodiscard]] bool read_rows(hid_t file, const std::string& path, std::uint64_t begin,
                             std::uint64_t count, std::uint64_t cols, double* out);

class AtomicFile;

/// Creates intermediate groups of `path`. @collective{file.comm()} (metadata)
void make_groups(AtomicFile& file, const std::string& path);

/// Creates a dataset of `rows` x `cols` (1-D when cols == 0) and writes rows [begin, begin+count)
/// from `local` in one collective transfer. Every rank calls it. Every HDF5 call is checked and
/// a failure on any rank (no space, quota, I/O error) is a collective IoError. The transfer mode
/// HDF5 really used is recorded in `file` (AtomicFile::io_report). @collective{file.comm()}
void write_rows(AtomicFile& file, const std::string& path, std::uint64_t rows, std::uint64_t cols,
                std::uint64_t begin, std::uint64_t count, const double* local);
void write_rows(AtomicFile& file, const std::string& path, std::uint64_t rows, std::uint64_t cols,
                std::uint64_t begin, std::uint64_t count, const std::int64_t* local);

/// Attributes on a file's root group (or any object); every rank writes the same value.
void write_attribute(hid_t object, const std::string& name, const std::string& value);
void write_attribute(hid_t object, const std::string& name, double value);
void write_attribute(hid_t object, const std::string& name, std::int64_t value);
std::optional<std::string> read_string_attribute(hid_t object, const std::string& name);
std::optional<double> read_number_attribute(hid_t object, const std::string& name);

}  // namespace parot::h5
