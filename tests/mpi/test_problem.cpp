// SPDX-License-Identifier: BSD-3-Clause
// Input rules of DESIGN.md §5 on in-memory problems: one collective error, every rank agrees.
#include <gtest/gtest.h>

#include <limits>

#include "support/problems.hpp"

using namespace parot;

namespace {
struct Data {
  RowMatrix X = RowMatrix::Random(9, 2), Y = RowMatrix::Random(6, 2);
  Vector a = Vector::Constant(9, 1.0 / 9), b = Vector::Constant(6, 1.0 / 6);
};

template <class E>
void expect_collective(const std::function<void()>& body, const std::string& fragment) {
  try {
    body();
    ADD_FAILURE() << "expected an error containing '" << fragment << "'";
  } catch (const E& e) {
    EXPECT_TRUE(e.collective());
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}
}  // namespace

TEST(ProblemInput, ValidProblemIsNormalizedAndZeroWeightsAreAccepted) {
  Data d;
  d.a *= 3.0;  // mass 3 on both sides
  d.b *= 3.0;
  d.a[0] = 0;  // a zero weight is fine (empty bins)
  d.a[1] += 1.0 / 3;
  const Problem p = test::make_problem(Layout::uniform(MPI_COMM_WORLD, 9), d.X, d.a, d.Y, d.b);
  EXPECT_NEAR(p.source_mass, 3.0, 1e-14);
  EXPECT_NEAR(allreduce_sum(MPI_COMM_WORLD, p.source.weights.sum()), 1.0, 1e-14);
  EXPECT_NEAR(p.target.weights.sum(), 1.0, 1e-14);
}

TEST(ProblemInput, BadWeightsAndShapesAreCollectiveErrors) {
  for (const Layout& rows : test::test_layouts(MPI_COMM_WORLD, 9)) {
    Data d;
    d.a[8] = std::numeric_limits<double>::quiet_NaN();  // seen only by the owner of row 8
    expect_collective<InvalidInput>([&] { test::make_problem(rows, d.X, d.a, d.Y, d.b); },
                                    "source weights: entry 8 is not finite");
    d = Data();
    d.a[4] = -0.1;
    expect_collective<InvalidInput>([&] { test::make_problem(rows, d.X, d.a, d.Y, d.b); },
                                    "entry 4 is negative");
    d = Data();
    d.X(7, 1) = std::numeric_limits<double>::infinity();
    expect_collective<InvalidInput>([&] { test::make_problem(rows, d.X, d.a, d.Y, d.b); },
                                    "source points: entry (7, 1) is not finite");
    d = Data();
    d.a.setZero();
    expect_collective<InvalidInput>([&] { test::make_problem(rows, d.X, d.a, d.Y, d.b); },
                                    "total mass must be positive");
    d = Data();
    d.b *= 1.001;
    expect_collective<InvalidInput>([&] { test::make_problem(rows, d.X, d.a, d.Y, d.b); },
                                    "masses differ");
    d = Data();
    RowMatrix Y3 = RowMatrix::Random(6, 3);
    expect_collective<DimensionMismatch>([&] { test::make_problem(rows, d.X, d.a, Y3, d.b); },
                                         "dimension");
  }
}
