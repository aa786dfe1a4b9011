// SPDX-License-Identifier: BSD-3-Clause
// Problem and result files: parallel round trips, atomic writes, clear errors.
#include <gtest/gtest.h>

#include <filesystem>

#include "io/h5.hpp"
#include "support/problems.hpp"

using namespace parot;

namespace {
std::string temp_path(const std::string& stem) {
  return (std::filesystem::temp_directory_path() /
          ("parot_test_" + stem + "_np" + std::to_string(comm_size(MPI_COMM_WORLD)) + ".h5"))
      .string();
}
}  // namespace

TEST(Hdf5, ProblemRoundTripAtAnyRankCount) {
  for (const char* family : {"clouds", "assignment"}) {
    GenerateParams gp;
    gp.family = family;
    gp.n = 23;
    gp.m = 17;
    const Problem written = generate_problem(MPI_COMM_WORLD, gp);
    const std::string path = temp_path(std::string("problem_") + family);
    io::write_problem(path, written);
    const Problem read = io::read_problem(MPI_COMM_WORLD, path);
    EXPECT_EQ(read.n(), 23);
    EXPECT_EQ(read.m(), 17);
    EXPECT_EQ(read.cost.type(), written.cost.type());
    EXPECT_TRUE(read.source.weights == written.source.weights);
    EXPECT_TRUE(read.target.weights == written.target.weights);
    EXPECT_TRUE(read.source.points == written.source.points);
    EXPECT_TRUE(read.target.points == written.target.points);
    EXPECT_TRUE(read.cost.block() == written.cost.block());
    MPI_Barrier(MPI_COMM_WORLD);
    if (comm_rank(MPI_COMM_WORLD) == 0) std::filesystem::remove(path);
  }
}

TEST(Hdf5, ResultHoldsPotentialsHistoryAndPlan) {
  GenerateParams gp;
  gp.n = 19;
  gp.m = 11;
  const Problem problem = generate_problem(MPI_COMM_WORLD, gp);
  SolveParams params;
  params.reg = 0.05;
  params.plan_threshold = 1e-3;
  SinkhornSolver solver(MPI_COMM_WORLD, params);
  Solution s;
  const SolveResult r = solver.solve(problem, s);
  const std::string path = temp_path("result");
  io::RunInfo info;
  info.nranks = comm_size(MPI_COMM_WORLD);
  io::write_result(path, problem, s, r, info);
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));

  h5::Handle file = h5::open_read(MPI_COMM_WORLD, path);
  EXPECT_EQ(h5::read_string_attribute(file.id(), "format").value_or(""), "parot-result");
  EXPECT_EQ(h5::read_string_attribute(file.id(), "reason").value_or(""), "converged_atol");
  EXPECT_EQ(h5::read_number_attribute(file.id(), "transport_cost").value_or(-1), r.transport_cost);
  Vector f(19), g(11);
  EXPECT_TRUE(h5::read_rows(file.id(), "/solution/f", 0, 19, 1, f.data()));
  EXPECT_TRUE(h5::read_rows(file.id(), "/solution/g", 0, 11, 1, g.data()));
  EXPECT_EQ((f - test::gather(problem.source.layout, s.f)).cwiseAbs().maxCoeff(), 0.0);
  EXPECT_EQ((g - s.g).cwiseAbs().maxCoeff(), 0.0);
  const auto history = h5::dataset_info(file.id(), "/history/marginal_error", path);
  EXPECT_EQ(history.shape.at(0), r.history.size());
  // The sparse plan holds every entry above the threshold, and they carry almost all the mass.
  const auto plan = h5::dataset_info(file.id(), "/plan/value", path);
  std::vector<double> values(plan.shape.at(0));
  EXPECT_TRUE(h5::read_rows(file.id(), "/plan/value", 0, values.size(), 1, values.data()));
  double mass = 0;
  for (double v : values) {
    EXPECT_GT(v, 1e-3);
    mass += v;
  }
  EXPECT_GT(mass, 0.5);
  EXPECT_LE(mass, 1.0 + 1e-9);
  file.reset();
  MPI_Barrier(MPI_COMM_WORLD);
  if (comm_rank(MPI_COMM_WORLD) == 0) std::filesystem::remove(path);
}

TEST(Hdf5, UnwritableOutputIsACollectiveErrorAndLeavesNothing) {
  GenerateParams gp;
  gp.n = 5;
  const Problem problem = generate_problem(MPI_COMM_WORLD, gp);
  const std::string path = "/nonexistent-dir/parot/out.h5";
  // A missing directory breaks the output rules (DESIGN.md §5): refused before anything is
  // created, the same error on every rank.
  try {
    io::write_problem(path, problem);
    ADD_FAILURE() << "no error";
  } catch (const InvalidArgument& e) {
    EXPECT_TRUE(e.collective());
    EXPECT_NE(std::string(e.what()).find("does not exist"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
}

TEST(Hdf5, MissingOrForeignFilesAreCollectiveErrors) {
  EXPECT_THROW(io::read_problem(MPI_COMM_WORLD, "/nonexistent/problem.h5"), InvalidInput);
  GenerateParams gp;
  gp.n = 5;
  const Problem problem = generate_problem(MPI_COMM_WORLD, gp);
  SolveParams params;
  params.reg = 0.1;
  Solution s;
  const SolveResult r = SinkhornSolver(MPI_COMM_WORLD, params).solve(problem, s);
  const std::string path = temp_path("not_a_problem");
  io::write_result(path, problem, s, r, {});
  try {
    io::read_problem(MPI_COMM_WORLD, path);  // a result file is not a problem file
    ADD_FAILURE();
  } catch (const InvalidInput& e) {
    EXPECT_TRUE(e.collective());
    EXPECT_NE(std::string(e.what()).find("'parot-result', expected 'parot-problem'"),
              std::string::npos)
        << e.what();
  }
  MPI_Barrier(MPI_COMM_WORLD);
  if (comm_rank(MPI_COMM_WORLD) == 0) std::filesystem::remove(path);
}
