// SPDX-License-Identifier: BSD-3-Clause
// parot embedded in a host program (see main/embed_main.cpp, which initializes MPI and PETSc
// itself): problems from in-memory arrays, solvers with their own options prefixes, and a
// solver type registered from outside the library.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>

#include "parot/parot.hpp"
#include "support/problems.hpp"

using namespace parot;

namespace {

struct Arrays {
  RowMatrix X, Y;
  Vector a, b;
};

// The same seeded data on every rank (Eigen's Random is seeded identically in each process).
Arrays draw(gindex n, gindex m, lindex d) {
  std::srand(7);
  Arrays s;
  s.X = RowMatrix::Random(n, d);
  s.Y = RowMatrix::Random(m, d).array() + 0.5;
  s.a = Vector::Random(n).array() + 1.5;
  s.b = Vector::Random(m).array() + 1.5;
  s.b *= s.a.sum() / s.b.sum();
  return s;
}

template <class F>
void expect_collective(ErrorKind kind, const std::string& fragment, F&& body) {
  try {
    body();
    ADD_FAILURE() << "no error; expected one containing '" << fragment << "'";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), kind) << e.what();
    EXPECT_TRUE(e.collective()) << e.what();
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

// The independent coupling a ⊗ b: a (poor but feasible) plan, for a solver type that a host
// registers itself. Its cost Σ a_i b_j C_ij is one matrix-free sweep.
class ProductSolver : public Solver {
 public:
  ProductSolver(MPI_Comm comm, const SolveParams& params) : comm_(comm) { params_ = params; }
  std::string type() const override { return "product"; }
  void set_from_options() override {}
  SolveResult solve(const Problem& problem, Solution& solution) override {
    const lindex n = problem.source.layout.local_size(), m = problem.m();
    RowMatrix C(n, m);
    problem.cost.tile(0, n, 0, m, C.data(), m);
    SolveResult r;
    r.solver = type();
    r.transport_cost = allreduce_sum(comm_, problem.source.weights.dot(C * problem.target.weights));
    r.reason = Reason::converged_atol;
    solution.f = Vector::Zero(n);
    solution.g = Vector::Zero(m);
    return r;
  }

 private:
  MPI_Comm comm_;
};

}  // namespace

TEST(Embed, ProblemFromArraysIsTheSameWhetherEachRankGivesItsRowsOrAll) {
  MPI_Comm comm = MPI_COMM_WORLD;
  const Arrays s = draw(23, 17, 3);
  const Layout uniform = Layout::uniform(comm, 23);
  const Problem all = problem_from_points(comm, RowsGiven::all, s.X, s.a, s.Y, s.b);
  const Problem mine = problem_from_points(
      comm, RowsGiven::local, s.X.middleRows(uniform.begin(), uniform.local_size()),
      s.a.segment(uniform.begin(), uniform.local_size()), s.Y, s.b);
  EXPECT_EQ(all.n(), 23);
  EXPECT_EQ(all.source.layout.offsets(), mine.source.layout.offsets());
  EXPECT_EQ(all.source.points, mine.source.points);
  EXPECT_EQ(all.source.weights, mine.source.weights);
  EXPECT_NEAR(allreduce_sum(comm, all.source.weights.sum()), 1.0, 1e-15);
  EXPECT_NEAR(all.source_mass, s.a.sum(), 1e-12 * s.a.sum());
  // An explicit cost: the rows a rank keeps are its block of the full matrix.
  const RowMatrix C = test::cost_matrix(s.X, s.Y, CostType::sqeuclidean);
  const Problem matrix = problem_from_cost(comm, RowsGiven::all, C, s.a, s.b);
  EXPECT_EQ(matrix.cost.block(), C.middleRows(uniform.begin(), uniform.local_size()));
}

TEST(Embed, MismatchedArraysAreCollectiveErrorsOnEveryRank) {
  MPI_Comm comm = MPI_COMM_WORLD;
  const Arrays s = draw(12, 9, 2);
  const bool last = comm_rank(comm) == comm_size(comm) - 1;
  // Only the last rank gives one weight too few: every rank reports it.
  const Vector a = last ? Vector(s.a.head(11)) : s.a;
  expect_collective(ErrorKind::dimension_mismatch, "12 points but 11 weights",
                    [&] { problem_from_points(comm, RowsGiven::all, s.X, a, s.Y, s.b); });
  if (comm_size(comm) > 1) {  // all rows on every rank, but not the same number of them
    const RowMatrix X = last ? RowMatrix(s.X.topRows(10)) : s.X;
    const Vector a10 = last ? Vector(s.a.head(10)) : s.a;
    expect_collective(ErrorKind::dimension_mismatch, "the same on every rank",
                      [&] { problem_from_points(comm, RowsGiven::all, X, a10, s.Y, s.b); });
  }
  const RowMatrix Y3 = RowMatrix::Ones(9, 3);
  expect_collective(ErrorKind::dimension_mismatch, "dimension 2 but the target points 3",
                    [&] { problem_from_points(comm, RowsGiven::all, s.X, s.a, Y3, s.b); });
  Vector bad = s.a;
  bad[4] = std::nan("");
  expect_collective(ErrorKind::invalid_input, "",
                    [&] { problem_from_points(comm, RowsGiven::all, s.X, bad, s.Y, s.b); });
}

// Two solvers in one program, each reading its own keys under its prefix (common keys and the
// solver's own). Both agree with the serial dense reference at their own reg.
TEST(Embed, TwoSolvesWithTheirOwnOptionsPrefixes) {
  MPI_Comm comm = MPI_COMM_WORLD;
  const Arrays s = draw(30, 25, 2);
  const Problem problem = problem_from_points(comm, RowsGiven::all, s.X, s.a, s.Y, s.b);
  const RowMatrix C = test::cost_matrix(s.X, s.Y, CostType::sqeuclidean);
  const Vector a = s.a / s.a.sum(), b = s.b / s.b.sum();
  set_option("-first_reg", "1.0");
  set_option("-first_atol", "1e-12");
  set_option("-first_sns_warmup_it", "7");
  set_option("-second_reg", "2.0");
  set_option("-second_atol", "1e-12");
  set_option("-second_eps_scaling", "true");
  struct Case {
    const char* prefix;
    const char* type;
    double reg;
  };
  for (const Case c : {Case{"first_", "sns", 1.0}, Case{"second_", "sinkhorn", 2.0}}) {
    SolveParams params;
    read_common_options(comm, params, c.prefix);
    EXPECT_EQ(params.reg, c.reg) << c.prefix;
    auto solver = make_solver(comm, c.type, params);
    solver->set_options_prefix(c.prefix);
    solver->set_from_options();
    Solution solution;
    const SolveResult r = solver->solve(problem, solution);
    ASSERT_TRUE(converged(r.reason)) << c.prefix << " " << to_string(r.reason);
    EXPECT_EQ(r.reg, c.reg);
    const test::DenseReference ref = test::dense_sinkhorn(C, a, b, c.reg, 3000);
    EXPECT_NEAR(r.transport_cost, ref.transport_cost, 1e-9 * ref.transport_cost) << c.prefix;
    EXPECT_LT(test::shift_invariant_error(solution.g, ref.g), 1e-8) << c.prefix;
  }
  auto sns = std::make_unique<SnsSolver>(comm);
  sns->set_options_prefix("first_");
  sns->set_from_options();
  EXPECT_EQ(sns->sns_params().warmup_it, 7);
  // Every key given above was read by the solver that owns its prefix.
  EXPECT_NO_THROW(check_all_options_used(comm));
}

TEST(Embed, ASolverRegisteredByTheHostRunsByName) {
  MPI_Comm comm = MPI_COMM_WORLD;
  register_solver(
      "product",
      [](MPI_Comm c, const SolveParams& p) { return std::make_unique<ProductSolver>(c, p); },
      {"the independent coupling a x b", false});
  const auto types = solver_types();
  ASSERT_GE(types.size(), 4u);
  EXPECT_EQ(types.back(), "product");
  EXPECT_EQ(solver_traits("product").description, "the independent coupling a x b");

  const Arrays s = draw(14, 11, 2);
  const RowMatrix C = test::cost_matrix(s.X, s.Y, CostType::sqeuclidean);
  const Vector a = s.a / s.a.sum(), b = s.b / s.b.sum();
  const Problem problem = problem_from_points(comm, RowsGiven::all, s.X, s.a, s.Y, s.b);
  auto solver = make_solver(comm, "product");
  Solution solution;
  const SolveResult r = solver->solve(problem, solution);
  EXPECT_EQ(r.solver, "product");
  EXPECT_NEAR(r.transport_cost, a.dot(C * b), 1e-13);

  SolveParams near_exact;
  near_exact.ot_rtol = 1e-2;
  expect_collective(ErrorKind::invalid_argument, "-ot_rtol works with -solver sinkhorn or sns",
                    [&] { make_solver(comm, "product", near_exact); });
  expect_collective(ErrorKind::invalid_argument, "available: sinkhorn, sns, sparse, product",
                    [&] { make_solver(comm, "prodcut"); });
  EXPECT_THROW(register_solver("bad name",
                               [](MPI_Comm c, const SolveParams& p) {
                                 return std::make_unique<ProductSolver>(c, p);
                               }),
               InvalidArgument);
}
