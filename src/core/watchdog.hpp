// SPDX-License-Identifier: BSD-3-Clause
// A watchdog for steps that must not hang (the clean-up after a failed collective write): if
// the guarded scope has not ended after `seconds`, it prints `message` and ends the process
// with exit code 1, so that mpirun ends the whole job instead of leaving it hanging.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>

namespace parot::detail {

class Watchdog {
 public:
  Watchdog(double seconds, std::string message)
      : message_(std::move(message)), thread_([this, seconds] { watch(seconds); }) {}
  ~Watchdog() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

 private:
  void watch(double seconds) {
    std::unique_lock<std::mutex> lock(mutex_);
    const auto limit = std::chrono::duration<double>(seconds);
    if (cv_.wait_for(lock, limit, [this] { return done_; })) return;
    std::fprintf(stderr, "%s\n", message_.c_str());
    std::fflush(stderr);
    std::_Exit(1);
  }

  std::string message_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;  // last: starts after the other members exist
};

}  // namespace parot::detail
