// SPDX-License-Identifier: BSD-3-Clause
// Scheduler signals (SIGTERM, SIGUSR1, SIGUSR2; SIGINT on request) as a flag that solvers poll
// between iterations.
#pragma once

namespace parot {

/// While alive, SIGTERM, SIGUSR1 and SIGUSR2 set a process-local flag instead of ending the
/// process; the destructor restores the previous handlers. The handler only stores the signal
/// number (async-signal-safe). A solver reads the flag with pending_signal() and folds it into
/// a reduction it makes anyway, so that every rank decides to stop at the same iteration
/// (a scheduler or mpirun may signal only some ranks). @notcollective
class SignalScope {
 public:
  /// `interrupt`: also catch SIGINT (Ctrl-C), for hosts such as Python whose user expects an
  /// interactive stop; the solver then stops like on SIGTERM (Interrupted).
  explicit SignalScope(bool interrupt = false);
  ~SignalScope();
  SignalScope(const SignalScope&) = delete;
  SignalScope& operator=(const SignalScope&) = delete;
};

/// The last signal caught by an active SignalScope, or 0. @notcollective
int pending_signal() noexcept;
/// Forgets a caught signal (tests). @notcollective
void clear_pending_signal() noexcept;

}  // namespace parot
