// SPDX-License-Identifier: BSD-3-Clause
// A GoogleTest listener for MPI: rank 0 prints, a failure on any rank fails the test, and the
// tests that failed anywhere are listed at the end (toolchain.md §3).
#pragma once

#include <gtest/gtest.h>
#include <mpi.h>

#include <cstdio>
#include <string>
#include <vector>

namespace parot::test {

class MpiListener : public ::testing::EmptyTestEventListener {
 public:
  MpiListener(::testing::TestEventListener* printer, MPI_Comm comm)
      : printer_(printer), comm_(comm) {
    MPI_Comm_rank(comm, &rank_);
  }
  ~MpiListener() override { delete printer_; }

  void OnTestProgramStart(const ::testing::UnitTest& u) override {
    if (rank_ == 0) printer_->OnTestProgramStart(u);
  }
  void OnTestIterationStart(const ::testing::UnitTest& u, int i) override {
    if (rank_ == 0) printer_->OnTestIterationStart(u, i);
  }
  void OnEnvironmentsSetUpStart(const ::testing::UnitTest& u) override {
    if (rank_ == 0) printer_->OnEnvironmentsSetUpStart(u);
  }
  void OnEnvironmentsSetUpEnd(const ::testing::UnitTest& u) override {
    if (rank_ == 0) printer_->OnEnvironmentsSetUpEnd(u);
  }
  void OnTestSuiteStart(const ::testing::TestSuite& s) override {
    if (rank_ == 0) printer_->OnTestSuiteStart(s);
  }
  void OnTestStart(const ::testing::TestInfo& t) override {
    if (rank_ == 0) printer_->OnTestStart(t);
  }
  void OnTestPartResult(const ::testing::TestPartResult& r) override {
    if (rank_ == 0) {
      printer_->OnTestPartResult(r);
    } else if (r.failed()) {
      std::fprintf(stderr, "[rank %d] %s:%d: Failure\n%s\n", rank_,
                   r.file_name() ? r.file_name() : "?", r.line_number(), r.summary());
    }
  }
  void OnTestEnd(const ::testing::TestInfo& t) override {
    const int local = t.result()->Failed() ? 1 : 0;
    int count = 0;
    MPI_Allreduce(&local, &count, 1, MPI_INT, MPI_SUM, comm_);
    if (rank_ == 0) {
      printer_->OnTestEnd(t);
      const int others = count - local;
      if (others > 0 && !local)
        std::printf("[  FAILED  ] %s.%s failed on %d other rank(s)\n", t.test_suite_name(),
                    t.name(), others);
    }
    if (count > 0) failed_.push_back(std::string(t.test_suite_name()) + "." + t.name());
  }
  void OnTestSuiteEnd(const ::testing::TestSuite& s) override {
    if (rank_ == 0) printer_->OnTestSuiteEnd(s);
  }
  void OnEnvironmentsTearDownStart(const ::testing::UnitTest& u) override {
    if (rank_ == 0) printer_->OnEnvironmentsTearDownStart(u);
  }
  void OnEnvironmentsTearDownEnd(const ::testing::UnitTest& u) override {
    if (rank_ == 0) printer_->OnEnvironmentsTearDownEnd(u);
  }
  void OnTestIterationEnd(const ::testing::UnitTest& u, int i) override {
    if (rank_ == 0) printer_->OnTestIterationEnd(u, i);
  }
  void OnTestProgramEnd(const ::testing::UnitTest& u) override {
    if (rank_ == 0) printer_->OnTestProgramEnd(u);
  }

  void print_summary(int nranks) const {
    if (rank_ != 0) return;
    std::printf("[ MPI np=%d ] %zu test(s) failed on at least one rank\n", nranks, failed_.size());
    for (const auto& name : failed_)
      std::printf("[ MPI np=%d ]   %s\n", nranks, name.c_str());
    std::fflush(stdout);
  }

 private:
  ::testing::TestEventListener* printer_;
  MPI_Comm comm_;
  int rank_ = 0;
  std::vector<std::string> failed_;
};

}  // namespace parot::test
