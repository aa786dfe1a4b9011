// SPDX-License-Identifier: BSD-3-Clause
// Reading parot's options from PETSc's options database (command line, -options_file, env).
#pragma once

#include <mpi.h>

#include <functional>
#include <string>
#include <vector>

namespace parot {

/// One block of options, read together so that -help lists them under one title.
///
/// Register every key with its help text and a reference to its value (which holds the
/// default); `read()` then fills the values from the options database. Keys are given without
/// the leading dash and prefix, e.g. `block.real("reg", ...)` reads `-[prefix]reg`.
/// A value of the wrong type, or a choice outside its list, is a collective InvalidArgument.
class OptionsBlock {
 public:
  OptionsBlock(MPI_Comm comm, std::string prefix, std::string title);

  void real(const char* key, const char* help, double& value);
  void integer(const char* key, const char* help, long& value);
  void boolean(const char* key, const char* help, bool& value);
  void string(const char* key, const char* help, std::string& value);
  void choice(const char* key, const char* help, const std::vector<std::string>& choices,
              std::string& value);
  /// True after read() when the key was given (to tell a default from an explicit value).
  bool given(const char* key) const;

  /// Reads all registered keys. @collective{comm}
  void read();

 private:
  MPI_Comm comm_;
  std::string prefix_, title_;
  std::vector<std::function<void(void*)>> readers_;
  std::vector<std::string> given_;
};

/// True when -help was given on the command line. @notcollective
bool help_requested();

/// Throws a collective InvalidArgument naming every option of the database that nobody read
/// (a misspelt or unknown key). Call after all keys of the run have been read.
/// @collective{comm}
void check_all_options_used(MPI_Comm comm);

/// Sets an option in the database, as if given on the command line. @notcollective
void set_option(const std::string& key, const std::string& value);

/// The options given to this run, as one line (for provenance in result files). @notcollective
std::string options_string();

}  // namespace parot
