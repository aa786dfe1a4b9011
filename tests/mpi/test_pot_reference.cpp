// SPDX-License-Identifier: BSD-3-Clause
// parot against POT (python3-pot) on generated families: the reference values were computed by
// tests/data/make_pot_reference.py and are stored next to it.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "io/h5.hpp"
#include "support/problems.hpp"

using namespace parot;

namespace {

struct PotReference {
  Vector f, g;
  double reg = 0, transport_cost = 0;
};

PotReference read_reference(const std::string& path, gindex n, gindex m) {
  h5::Handle file = h5::open_read(MPI_COMM_WORLD, path);
  PotReference ref;
  ref.f.resize(n);
  ref.g.resize(m);
  EXPECT_TRUE(h5::read_rows(file.id(), "/f", 0, static_cast<std::uint64_t>(n), 1, ref.f.data()));
  EXPECT_TRUE(h5::read_rows(file.id(), "/g", 0, static_cast<std::uint64_t>(m), 1, ref.g.data()));
  ref.reg = h5::read_number_attribute(file.id(), "reg").value_or(-1);
  ref.transport_cost = h5::read_number_attribute(file.id(), "transport_cost").value_or(-1);
  return ref;
}

}  // namespace

TEST(PotReference, PotentialsAndCostMatchPot) {
  int cases = 0;
  for (const char* name : {"clouds", "density1d", "images", "gaussians"}) {
    const std::string dir = PAROT_TEST_DATA_DIR;
    const std::string problem_path = dir + "/" + name + "_problem.h5";
    const std::string ref_path = dir + "/" + name + "_pot.h5";
    if (!std::filesystem::exists(ref_path)) continue;
    ++cases;
    const Problem problem = io::read_problem(MPI_COMM_WORLD, problem_path);
    const PotReference ref = read_reference(ref_path, problem.n(), problem.m());
    SolveParams params;
    params.reg = ref.reg;
    params.atol = 1e-13;
    SinkhornSolver solver(MPI_COMM_WORLD, params);
    Solution s;
    const SolveResult r = solver.solve(problem, s);
    EXPECT_TRUE(converged(r.reason)) << name << ": " << to_string(r.reason);
    EXPECT_NEAR(r.transport_cost, ref.transport_cost, 1e-8 * ref.transport_cost) << name;
    const Vector f = test::gather(problem.source.layout, s.f);
    EXPECT_LT(test::shift_invariant_error(f, ref.f), 1e-8) << name;
    EXPECT_LT(test::shift_invariant_error(s.g, ref.g), 1e-8) << name;
  }
  EXPECT_GE(cases, 3) << "POT reference files missing in " << PAROT_TEST_DATA_DIR;
}
