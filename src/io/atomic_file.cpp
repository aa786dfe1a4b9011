// SPDX-License-Identifier: BSD-3-Clause
// AtomicFile: create under a temporary name, check every step collectively, rename when done.
#include "io/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "core/finalize_guard.hpp"
#include "core/watchdog.hpp"
#include "parot/core/comm.hpp"
#include "parot/core/error.hpp"
#include "parot/io/output.hpp"

namespace parot::h5 {

namespace {

std::string directory_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// Rank 0's verdict on the free space for a file of about `bytes` (empty: enough).
std::string space_verdict(const std::string& path, double bytes) {
  struct statvfs fs {};
  if (::statvfs(directory_of(path).c_str(), &fs) != 0) return {};  // unknown: try the write
  const double free_bytes = static_cast<double>(fs.f_bavail) * static_cast<double>(fs.f_frsize);
  const double need = 1.1 * std::max(bytes, 0.0) + 64.0 * 1024;  // data + HDF5 metadata
  if (free_bytes >= need) return {};
  return detail::cat("cannot write '", path, "': no space left on its file system (about ",
                     std::ceil(need / 1024), " KiB needed, ", std::floor(free_bytes / 1024),
                     " KiB free); nothing was written");
}

constexpr double cleanup_seconds = 30;
constexpr double commit_seconds = 120;

}  // namespace

AtomicFile::AtomicFile(MPI_Comm comm, std::string path, double expected_bytes)
    : comm_(comm), path_(std::move(path)), tmp_(path_ + ".tmp"), expected_bytes_(expected_bytes) {
  io::check_output_path(comm_, path_, {}, "output file");
  const bool root = comm_rank(comm_) == 0;
  const std::string full = root ? space_verdict(path_, expected_bytes) : "";
  check_all(comm_, full.empty(), ErrorKind::io, full);
  if (root) std::remove(tmp_.c_str());  // a stale temporary of an earlier, killed run
  MPI_Barrier(comm_);
  file_ = create(comm_, tmp_);  // collective check inside
}

AtomicFile::~AtomicFile() {
  if (!committed_) discard();
}

namespace {

// Rank 0: can HDF5 write its metadata at the end of the file? A 64 KiB probe write at
// `at` (the larger of the file's size and the writer's estimate of it, where HDF5 allocates its
// last metadata), undone afterwards: the file keeps its size. A full file system (ENOSPC,
// EDQUOT), a file-size limit (EFBIG) or an I/O error fails the probe. The MPI-IO layer does not
// always report a failed write of a collective transfer on every rank, and HDF5's flush then
// fails on rank 0 alone, leaving the others in its barriers: the probe turns that into a
// decision every rank shares, before the flush. Returns 0 or errno.
int probe_write(const std::string& tmp, off_t at) {
  const int fd = ::open(tmp.c_str(), O_WRONLY);
  if (fd < 0) return errno;
  struct stat st {};
  int err = ::fstat(fd, &st) == 0 ? 0 : errno;
  static const char zeros[65536] = {};
  errno = 0;
  if (!err && ::pwrite(fd, zeros, sizeof zeros, at) != static_cast<ssize_t>(sizeof zeros))
    err = errno ? errno : EIO;
  if (::ftruncate(fd, st.st_size) != 0 && !err) err = errno;
  ::close(fd);
  return err;
}

off_t file_size(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_size : 0;
}

}  // namespace

void AtomicFile::discard() noexcept {
  const bool root = comm_rank(comm_) == 0;
  const detail::Watchdog watchdog(cleanup_seconds,
                                  "parot: [rank " + std::to_string(comm_rank(comm_)) +
                                      "] removing the incomplete '" + tmp_ +
                                      "' did not finish (a rank failed alone); ending the job");
  if (file_.valid()) {
    // Free the space first: on a full file system HDF5's closing flush would otherwise fail on
    // some ranks only and leave the others waiting in its barriers.
    int closable = 1;
    if (root) {
      const off_t end = std::max(file_size(tmp_), static_cast<off_t>(expected_bytes_));
      closable = ::truncate(tmp_.c_str(), 0) == 0 &&
                 probe_write(tmp_, std::max<off_t>(end - 65536, 0)) == 0;
    }
    MPI_Bcast(&closable, 1, MPI_INT, 0, comm_);
    if (!closable || H5Fclose(file_.release()) < 0) {
      // The file cannot be closed safely: leave it open, and never finalize HDF5 (and MPI) in
      // this process, where HDF5 would try to close it again (see core/finalize_guard.hpp).
      (void)file_.release();
      detail::finalize_unsafe() = true;
    }
  }
  if (root) std::remove(tmp_.c_str());
  MPI_Barrier(comm_);
}

std::string AtomicFile::io_report() const {
  return detail::cat(collective_writes_, " of ", writes_, " dataset writes collective");
}

void AtomicFile::commit() {
  const detail::Watchdog watchdog(
      commit_seconds, "parot: [rank " + std::to_string(comm_rank(comm_)) + "] closing '" + tmp_ +
                          "' did not finish in " + std::to_string(long(commit_seconds)) +
                          " s; ending the job");
  MPI_Barrier(comm_);  // every rank's data is written: the probe cannot race with it
  int err = comm_rank(comm_) == 0
                ? probe_write(tmp_, std::max(file_size(tmp_), static_cast<off_t>(expected_bytes_)))
                : 0;
  MPI_Bcast(&err, 1, MPI_INT, 0, comm_);
  check_all(comm_, err == 0, ErrorKind::io,
            detail::cat("writing '", tmp_, "' failed (", std::strerror(err),
                        "); nothing was written under '", path_, "'"));
  errno = 0;
  const bool flushed = H5Fflush(file_.id(), H5F_SCOPE_GLOBAL) >= 0;
  check_all(comm_, flushed, ErrorKind::io,
            detail::cat("writing '", tmp_, "' failed while flushing it (",
                        std::strerror(errno ? errno : EIO), "); nothing was written under '", path_,
                        "'"));
  errno = 0;
  const bool closed = H5Fclose(file_.release()) >= 0;
  check_all(comm_, closed, ErrorKind::io,
            detail::cat("closing '", tmp_, "' failed (", std::strerror(errno ? errno : EIO),
                        "); nothing was written under '", path_, "'"));
  err = 0;
  if (comm_rank(comm_) == 0 && std::rename(tmp_.c_str(), path_.c_str()) != 0) err = errno;
  MPI_Bcast(&err, 1, MPI_INT, 0, comm_);
  if (err) {
    if (comm_rank(comm_) == 0) std::remove(tmp_.c_str());
    committed_ = true;  // the handle is closed and the temporary gone
    throw IoError(detail::cat("cannot rename '", tmp_, "' to '", path_, "': ", std::strerror(err)),
                  true);
  }
  committed_ = true;
}

}  // namespace parot::h5
