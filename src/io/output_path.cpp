// SPDX-License-Identifier: BSD-3-Clause
// check_output_path: the output rules, checked on rank 0 and agreed on by every rank.
#include "parot/io/output.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "parot/core/comm.hpp"
#include "parot/core/error.hpp"

namespace parot::io {

namespace {

const char* kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

std::string parent_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// The verdict on rank 0: empty when `path` may be written.
std::string verdict(const std::string& path, const std::vector<std::string>& inputs,
                    const std::string& option) {
  const std::string tmp = path + ".tmp";
  for (const std::string& candidate : {path, tmp}) {
    struct stat st {};
    if (::stat(candidate.c_str(), &st) != 0) continue;  // absent (or a dangling link): fine
    if (!S_ISREG(st.st_mode))
      return detail::cat(option, " '", path, "': '", candidate, "' exists and is ",
                         kind_of(st.st_mode),
                         "; parot writes only regular files and never replaces anything else");
    for (const std::string& input : inputs) {
      struct stat in {};
      if (input.empty() || ::stat(input.c_str(), &in) != 0) continue;
      if (in.st_dev == st.st_dev && in.st_ino == st.st_ino)
        return detail::cat(option, " '", path, "': '", candidate,
                           "' is the same file as the input '", input,
                           "'; writing it would destroy the input (choose another name)");
    }
  }
  const std::string dir = parent_of(path);
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return detail::cat(option, " '", path, "': the directory '", dir, "' does not exist");
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    return detail::cat(option, " '", path, "': the directory '", dir, "' is not writable (",
                       std::strerror(errno), ")");
  return {};
}

}  // namespace

void check_output_path(MPI_Comm comm, const std::string& path,
                       const std::vector<std::string>& inputs, const std::string& option) {
  if (path.empty()) return;
  const std::string problem = comm_rank(comm) == 0 ? verdict(path, inputs, option) : "";
  // Only rank 0 looked: it is the "lowest failing rank" whose message every rank raises.
  check_all(comm, problem.empty(), ErrorKind::invalid_argument, problem);
}

void check_distinct_outputs(MPI_Comm comm, const std::string& a, const std::string& a_option,
                            const std::string& b, const std::string& b_option) {
  if (a.empty() || b.empty()) return;
  bool same = false;
  if (comm_rank(comm) == 0) {
    std::error_code ea, eb;
    const auto ca = std::filesystem::weakly_canonical(a, ea);
    const auto cb = std::filesystem::weakly_canonical(b, eb);
    same = ea || eb ? a == b : ca == cb;
  }
  check_all(comm, !same, ErrorKind::invalid_argument,
            detail::cat(a_option, " and ", b_option, " name the same file '", a,
                        "'; each would overwrite the other"));
}

}  // namespace parot::io
