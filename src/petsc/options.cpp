// SPDX-License-Identifier: BSD-3-Clause
// The only file that reads PETSc's options database.
#include "parot/core/options.hpp"

#include <petscsys.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <sstream>

#include "parot/core/error.hpp"
#include "petsc/petsc_call.hpp"

namespace parot {

namespace {

// One typed read inside an open PetscOptionsBegin block.
struct Reader {
  PetscOptionItems* items;
  std::vector<std::string>* given;
  const char* key = nullptr;  // the key being read, for messages
};

std::string with_dash(const char* key) {
  return std::string("-") + key;
}

}  // namespace

OptionsBlock::OptionsBlock(MPI_Comm comm, std::string prefix, std::string title)
    : comm_(comm), prefix_(std::move(prefix)), title_(std::move(title)) {}

void OptionsBlock::real(const char* key, const char* help, double& value) {
  readers_.push_back([key, help, &value](void* ctx) {
    auto* r = static_cast<Reader*>(ctx);
    r->key = key;
    PetscOptionItems* PetscOptionsObject = r->items;
    PetscReal v = value;
    PetscBool set = PETSC_FALSE;
    PAROT_PETSC_OPTIONS_CALL(PetscOptionsReal(with_dash(key).c_str(), help, "", v, &v, &set));
    if (set) {
      value = v;
      r->given->push_back(key);
    }
  });
}

void OptionsBlock::integer(const char* key, const char* help, long& value) {
  readers_.push_back([key, help, &value](void* ctx) {
    auto* r = static_cast<Reader*>(ctx);
    r->key = key;
    PetscOptionItems* PetscOptionsObject = r->items;
    PetscInt v = static_cast<PetscInt>(value);
    PetscBool set = PETSC_FALSE;
    PAROT_PETSC_OPTIONS_CALL(PetscOptionsInt(with_dash(key).c_str(), help, "", v, &v, &set));
    if (set) {
      value = v;
      r->given->push_back(key);
    }
  });
}

void OptionsBlock::boolean(const char* key, const char* help, bool& value) {
  readers_.push_back([key, help, &value](void* ctx) {
    auto* r = static_cast<Reader*>(ctx);
    r->key = key;
    PetscOptionItems* PetscOptionsObject = r->items;
    PetscBool v = value ? PETSC_TRUE : PETSC_FALSE;
    PetscBool set = PETSC_FALSE;
    PAROT_PETSC_OPTIONS_CALL(PetscOptionsBool(with_dash(key).c_str(), help, "", v, &v, &set));
    if (set) {
      value = v == PETSC_TRUE;
      r->given->push_back(key);
    }
  });
}

void OptionsBlock::string(const char* key, const char* help, std::string& value) {
  readers_.push_back([key, help, &value](void* ctx) {
    auto* r = static_cast<Reader*>(ctx);
    r->key = key;
    PetscOptionItems* PetscOptionsObject = r->items;
    char buf[PETSC_MAX_PATH_LEN] = {};
    std::strncpy(buf, value.c_str(), sizeof buf - 1);
    PetscBool set = PETSC_FALSE;
    PAROT_PETSC_OPTIONS_CALL(
        PetscOptionsString(with_dash(key).c_str(), help, "", value.c_str(), buf, sizeof buf, &set));
    if (set) {
      PAROT_CHECK(buf[0] != '\0', InvalidArgument, "option -", key, " needs a value");
      value = buf;
      r->given->push_back(key);
    }
  });
}

void OptionsBlock::choice(const char* key, const char* help,
                          const std::vector<std::string>& choices, std::string& value) {
  std::string text = std::string(help) + " (";
  for (std::size_t i = 0; i < choices.size(); ++i)
    text += (i ? "|" : "") + choices[i];
  text += ")";
  auto help_text = std::make_shared<std::string>(std::move(text));
  readers_.push_back([this, key, help_text, choices, &value](void* ctx) {
    auto* r = static_cast<Reader*>(ctx);
    r->key = key;
    PetscOptionItems* PetscOptionsObject = r->items;
    char buf[256] = {};
    std::strncpy(buf, value.c_str(), sizeof buf - 1);
    PetscBool set = PETSC_FALSE;
    PAROT_PETSC_OPTIONS_CALL(PetscOptionsString(with_dash(key).c_str(), help_text->c_str(), "",
                                                value.c_str(), buf, sizeof buf, &set));
    if (!set) return;
    const std::string got = buf;
    if (std::find(choices.begin(), choices.end(), got) == choices.end()) {
      std::string list;
      for (std::size_t i = 0; i < choices.size(); ++i)
        list += (i ? ", " : "") + choices[i];
      throw InvalidArgument("option -" + prefix_ + key + ": unknown value '" + got +
                                "' (expected one of: " + list + ")",
                            true);
    }
    value = got;
    r->given->push_back(key);
  });
}

bool OptionsBlock::given(const char* key) const {
  return std::find(given_.begin(), given_.end(), key) != given_.end();
}

static PetscErrorCode read_block(MPI_Comm comm, const char* prefix, const char* title,
                                 const std::vector<std::function<void(void*)>>& readers,
                                 std::vector<std::string>* given, std::string* failure,
                                 ErrorKind* kind) {
  PetscFunctionBeginUser;
  PetscOptionsBegin(comm, prefix, title, nullptr);
  Reader reader{PetscOptionsObject, given};
  for (const auto& read : readers) {
    try {
      read(&reader);
    } catch (const Error& e) {
      // Leave the PETSc block properly before rethrowing outside it (no exception may cross
      // PETSc's C frames).
      const bool named = std::strncmp(e.what(), "option -", 8) == 0;
      if (failure->empty() && !named) {  // PETSc's own parse error: name the option
        *failure = std::string("option -") + (prefix ? prefix : "") + reader.key + ": " + e.what();
        *kind = ErrorKind::invalid_argument;
      } else if (failure->empty()) {
        *failure = e.what();
        *kind = e.kind();
      }
    }
  }
  PetscOptionsEnd();
  PetscFunctionReturn(0);
}

void OptionsBlock::read() {
  std::string failure;
  ErrorKind kind = ErrorKind::invalid_argument;
  given_.clear();
  PAROT_PETSC_OPTIONS_CALL(read_block(comm_, prefix_.empty() ? nullptr : prefix_.c_str(),
                                      title_.c_str(), readers_, &given_, &failure, &kind));
  if (!failure.empty()) raise(kind, failure, true);
}

bool help_requested() {
  PetscBool flg = PETSC_FALSE;
  PetscOptionsHasHelp(nullptr, &flg);
  return flg == PETSC_TRUE;
}

void check_all_options_used(MPI_Comm) {
  PetscInt n = 0;
  char** names = nullptr;
  char** values = nullptr;
  PAROT_PETSC_OPTIONS_CALL(PetscOptionsLeftGet(nullptr, &n, &names, &values));
  std::ostringstream os;
  for (PetscInt i = 0; i < n; ++i)
    os << (i ? ", " : "") << '-' << names[i];
  const PetscInt unused = n;  // PetscOptionsLeftRestore resets n
  PAROT_PETSC_OPTIONS_CALL(PetscOptionsLeftRestore(nullptr, &n, &names, &values));
  PAROT_CHECK(unused == 0, InvalidArgument, "unknown option", (unused > 1 ? "s " : " "), os.str(),
              " (misspelt, or not used by this program; see -help)");
}

void set_option(const std::string& key, const std::string& value) {
  PAROT_PETSC_CALL(
      PetscOptionsSetValue(nullptr, key.c_str(), value.empty() ? nullptr : value.c_str()));
}

std::string options_string() {
  char* text = nullptr;
  PAROT_PETSC_CALL(PetscOptionsGetAll(nullptr, &text));
  std::string out = text ? text : "";
  PetscFree(text);
  return out;
}

}  // namespace parot
