// SPDX-License-Identifier: BSD-3-Clause
// parot's stages as PETSc log events, so that -log_view splits a run into local compute and
// communication (the scaling studies in jobs/ read them from -log_view :FILE:ascii_csv).
#pragma once

namespace parot::petsc {

/// The logged stages. The names in -log_view are parotSweep, parotAllreduce, parotAbsorb.
enum class Event : int {
  sweep,      ///< one local log-sum-exp (or stored-kernel) pass over the rank's rows
  allreduce,  ///< the MPI_Allreduce of the column (max, sum) pairs
  absorb,     ///< rebuilding the stored absorbed kernel
  count_
};

/// Starts/stops an event; no-ops before PetscInitialize or after PetscFinalize. @notcollective
void event_begin(Event e) noexcept;
void event_end(Event e) noexcept;

/// Logs event `e` for the lifetime of the scope.
class EventScope {
 public:
  explicit EventScope(Event e) noexcept : e_(e) { event_begin(e_); }
  ~EventScope() { event_end(e_); }
  EventScope(const EventScope&) = delete;
  EventScope& operator=(const EventScope&) = delete;

 private:
  Event e_;
};

}  // namespace parot::petsc
