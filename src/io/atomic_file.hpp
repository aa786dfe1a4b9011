// SPDX-License-Identifier: BSD-3-Clause
// h5::AtomicFile: the one way parot writes a file (DESIGN.md §4-§5). The file is created as
// `path.tmp` and renamed to `path` when complete, so a failed or killed write never leaves a
// partial file under the final name and never touches the previous file of that name.
#pragma once

#include <mpi.h>

#include <string>

#include "io/h5.hpp"

namespace parot::h5 {

class AtomicFile {
 public:
  /// Creates `path.tmp` on every rank (MPI-IO driver). Before anything is created, rank 0
  /// checks the output rules (check_output_path: `path` must not be a device, directory, FIFO
  /// or socket) and that the file system holds `expected_bytes` (the caller's estimate of the
  /// file's size) plus a margin; a full file system is a collective IoError (exit code 1) here,
  /// before any data is written. A stale regular `path.tmp` is removed first.
  /// @collective{comm}
  AtomicFile(MPI_Comm comm, std::string path, double expected_bytes);
  /// Without commit(): closes and removes the temporary file. Every rank must get here through
  /// the same collective error (the writers check every HDF5 call with check_all); rank 0 first
  /// truncates the temporary so that HDF5's closing flush finds space on a full file system.
  /// If the clean-up cannot complete (a rank is missing), a watchdog ends the job after 30 s
  /// with a message instead of hanging. @collective{comm}
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  hid_t id() const noexcept { return file_.id(); }
  MPI_Comm comm() const noexcept { return comm_; }
  const std::string& path() const noexcept { return path_; }
  const std::string& tmp() const noexcept { return tmp_; }

  /// Records how a collective dataset write was really done (H5Pget_mpio_actual_io_mode).
  void note_write(bool collective) noexcept {
    ++writes_;
    if (collective) ++collective_writes_;
  }
  /// "N of M dataset writes collective" (for -monitor).
  std::string io_report() const;

  /// Flushes and closes the file, then renames it to the final name on rank 0. Any failure is
  /// a collective IoError and leaves no file under the final name. @collective{comm}
  void commit();

 private:
  void discard() noexcept;

  MPI_Comm comm_;
  std::string path_, tmp_;
  double expected_bytes_ = 0;
  Handle file_;
  bool committed_ = false;
  long writes_ = 0, collective_writes_ = 0;
};

}  // namespace parot::h5
