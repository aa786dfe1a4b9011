// SPDX-License-Identifier: BSD-3-Clause
// Registration of parot's PETSc log events (all at once, in a fixed order, so that every rank
// gets the same event ids).
#include "petsc/log_events.hpp"

#include <petscsys.h>

namespace parot::petsc {

namespace {

constexpr int n_events = static_cast<int>(Event::count_);
constexpr const char* names[n_events] = {"parotSweep", "parotAllreduce", "parotAbsorb"};

// The event ids, registered on first use; null while PETSc is not initialized.
const PetscLogEvent* events() noexcept {
  static PetscLogEvent ids[n_events];
  static bool registered = false;
  PetscBool initialized = PETSC_FALSE, finalized = PETSC_FALSE;
  PetscInitialized(&initialized);
  PetscFinalized(&finalized);
  if (!initialized || finalized) return nullptr;
  if (!registered) {
    PetscClassId classid = 0;
    if (PetscClassIdRegister("parot", &classid)) return nullptr;
    for (int k = 0; k < n_events; ++k)
      if (PetscLogEventRegister(names[k], classid, &ids[k])) return nullptr;
    registered = true;
  }
  return ids;
}

}  // namespace

void event_begin(Event e) noexcept {
  if (const PetscLogEvent* ids = events())
    (void)PetscLogEventBegin(ids[static_cast<int>(e)], nullptr, nullptr, nullptr, nullptr);
}

void event_end(Event e) noexcept {
  if (const PetscLogEvent* ids = events())
    (void)PetscLogEventEnd(ids[static_cast<int>(e)], nullptr, nullptr, nullptr, nullptr);
}

}  // namespace parot::petsc
