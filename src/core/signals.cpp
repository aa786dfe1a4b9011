// SPDX-License-Identifier: BSD-3-Clause
// Signal handlers that only record the signal (see signals.hpp).
#include "parot/core/signals.hpp"

#include <csignal>

namespace parot {

namespace {

constexpr int caught_signals[] = {SIGTERM, SIGUSR1, SIGUSR2, SIGINT};  // SIGINT on request
constexpr int scheduler_signals = 3;
volatile std::sig_atomic_t pending = 0;
struct sigaction previous[sizeof caught_signals / sizeof caught_signals[0]];
int caught = 0;  // how many of caught_signals the active scope took

extern "C" void record_signal(int signal) {
  pending = signal;
}

}  // namespace

SignalScope::SignalScope(bool interrupt) {
  struct sigaction action {};
  action.sa_handler = record_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;  // blocking calls (MPI, file I/O) resume after the handler
  caught = interrupt ? scheduler_signals + 1 : scheduler_signals;
  for (int k = 0; k < caught; ++k)
    sigaction(caught_signals[k], &action, &previous[k]);
}

SignalScope::~SignalScope() {
  for (int k = 0; k < caught; ++k)
    sigaction(caught_signals[k], &previous[k], nullptr);
}

int pending_signal() noexcept {
  return pending;
}

void clear_pending_signal() noexcept {
  pending = 0;
}

}  // namespace parot
