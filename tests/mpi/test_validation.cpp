// SPDX-License-Identifier: BSD-3-Clause
// Library-level validation (issue 14): every parameter struct is checked by the library, not only
// by the options parser. A caller that sets a bad value gets the collective InvalidArgument on
// every rank — never a hang, a crash or a silent default.
#include <gtest/gtest.h>

#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "support/problems.hpp"

using namespace parot;

namespace {

constexpr double nan_value = std::numeric_limits<double>::quiet_NaN();
constexpr double inf_value = std::numeric_limits<double>::infinity();

// Runs `call` and expects InvalidArgument, collective, on every rank, with `fragment` in it.
void expect_invalid(const std::function<void()>& call, const std::string& fragment,
                    const std::string& label) {
  bool threw = false;
  try {
    call();
  } catch (const InvalidArgument& e) {
    threw = true;
    EXPECT_TRUE(e.collective()) << label;
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos)
        << label << ": '" << e.what() << "' lacks '" << fragment << "'";
  } catch (const std::exception& e) {
    ADD_FAILURE() << label << ": unexpected exception: " << e.what();
  }
  EXPECT_TRUE(threw) << label << ": no InvalidArgument";
  EXPECT_TRUE(test::all_ranks(MPI_COMM_WORLD, threw)) << label << ": not raised on every rank";
}

Problem small_problem() {
  GenerateParams g;
  g.n = 12;
  g.m = 9;
  g.seed = 1;
  return generate_problem(MPI_COMM_WORLD, g);
}

// One bad value of a struct: a label, the edit and the fragment of the message.
template <class Params>
struct Bad {
  std::string label;
  std::function<void(Params&)> edit;
  std::string fragment;
};

std::vector<Bad<SolveParams>> bad_solve_params() {
  return {
      {"reg 0", [](SolveParams& p) { p.reg = 0; }, "-reg must be positive"},
      {"reg -0.5", [](SolveParams& p) { p.reg = -0.5; }, "-reg must be positive"},
      {"reg nan", [](SolveParams& p) { p.reg = nan_value; }, "-reg must be positive"},
      {"reg inf", [](SolveParams& p) { p.reg = inf_value; }, "-reg must be positive"},
      {"atol 0", [](SolveParams& p) { p.atol = 0; }, "-atol must be positive"},
      {"atol -1", [](SolveParams& p) { p.atol = -1; }, "-atol must be positive"},
      {"atol nan", [](SolveParams& p) { p.atol = nan_value; }, "-atol must be positive"},
      {"atol inf", [](SolveParams& p) { p.atol = inf_value; }, "-atol must be positive"},
      {"max_it 0", [](SolveParams& p) { p.max_it = 0; }, "-max_it must be positive"},
      {"max_it -3", [](SolveParams& p) { p.max_it = -3; }, "-max_it must be positive"},
      {"check_every 0", [](SolveParams& p) { p.check_every = 0; }, "-check_every must be positive"},
      {"plan_threshold nan", [](SolveParams& p) { p.plan_threshold = nan_value; },
       "-plan_threshold must be finite"},
      {"plan_threshold inf", [](SolveParams& p) { p.plan_threshold = inf_value; },
       "-plan_threshold must be finite"},
      {"ot_rtol -1", [](SolveParams& p) { p.ot_rtol = -1; }, "-ot_rtol must be positive"},
      {"ot_rtol nan", [](SolveParams& p) { p.ot_rtol = nan_value; }, "-ot_rtol must be positive"},
      {"ot_rtol inf", [](SolveParams& p) { p.ot_rtol = inf_value; }, "-ot_rtol must be positive"},
  };
}

std::vector<Bad<SinkhornParams>> bad_sinkhorn_params() {
  return {
      {"factor 1", [](SinkhornParams& p) { p.eps_scaling_factor = 1; },
       "-eps_scaling_factor must be in (0, 1)"},
      {"factor 1.5", [](SinkhornParams& p) { p.eps_scaling_factor = 1.5; },
       "-eps_scaling_factor must be in (0, 1)"},
      {"factor 0", [](SinkhornParams& p) { p.eps_scaling_factor = 0; },
       "-eps_scaling_factor must be in (0, 1)"},
      {"factor -0.5", [](SinkhornParams& p) { p.eps_scaling_factor = -0.5; },
       "-eps_scaling_factor must be in (0, 1)"},
      {"factor nan", [](SinkhornParams& p) { p.eps_scaling_factor = nan_value; },
       "-eps_scaling_factor must be in (0, 1)"},
      {"inner_atol 0", [](SinkhornParams& p) { p.eps_scaling_inner_atol = 0; },
       "-eps_scaling_inner_atol must be positive"},
      {"inner_atol nan", [](SinkhornParams& p) { p.eps_scaling_inner_atol = nan_value; },
       "-eps_scaling_inner_atol must be positive"},
      {"inner_atol inf", [](SinkhornParams& p) { p.eps_scaling_inner_atol = inf_value; },
       "-eps_scaling_inner_atol must be positive"},
      {"stall_it -1", [](SinkhornParams& p) { p.stall_it = -1; },
       "-sinkhorn_stall_it must be >= 0"},
      {"stored_kernel maybe", [](SinkhornParams& p) { p.stored_kernel = "maybe"; },
       "-sinkhorn_stored_kernel must be auto, yes or no"},
      {"stored_kernel_max_mb -1", [](SinkhornParams& p) { p.stored_kernel_max_mb = -1; },
       "-sinkhorn_stored_kernel_max_mb must be >= 0"},
      {"stored_kernel_max_mb nan", [](SinkhornParams& p) { p.stored_kernel_max_mb = nan_value; },
       "-sinkhorn_stored_kernel_max_mb must be >= 0"},
  };
}

std::vector<Bad<SnsParams>> bad_sns_params() {
  return {
      {"warmup_it -1", [](SnsParams& p) { p.warmup_it = -1; }, "-sns_warmup_it must be >= 0"},
      {"switch_tol nan", [](SnsParams& p) { p.switch_tol = nan_value; },
       "-sns_switch_tol must be finite"},
      {"switch_tol inf", [](SnsParams& p) { p.switch_tol = inf_value; },
       "-sns_switch_tol must be finite"},
      {"factor 1", [](SnsParams& p) { p.eps_scaling_factor = 1; },
       "-sns_eps_scaling_factor must be in (0, 1)"},
      {"factor nan", [](SnsParams& p) { p.eps_scaling_factor = nan_value; },
       "-sns_eps_scaling_factor must be in (0, 1)"},
      {"sparsify all", [](SnsParams& p) { p.sparsify = "all"; },
       "-sns_sparsify must be mass, count or row"},
      {"mass_tol 1", [](SnsParams& p) { p.mass_tol = 1; }, "-sns_mass_tol must be in [0, 1)"},
      {"mass_tol -1e-3", [](SnsParams& p) { p.mass_tol = -1e-3; },
       "-sns_mass_tol must be in [0, 1)"},
      {"mass_tol nan", [](SnsParams& p) { p.mass_tol = nan_value; },
       "-sns_mass_tol must be in [0, 1)"},
      {"kappa 0", [](SnsParams& p) { p.kappa = 0; }, "-sns_kappa must be positive"},
      {"kappa inf", [](SnsParams& p) { p.kappa = inf_value; }, "-sns_kappa must be positive"},
      {"row_k 0", [](SnsParams& p) { p.row_k = 0; }, "-sns_row_k must be >= 1"},
      {"ksp_rtol 0", [](SnsParams& p) { p.ksp_rtol = 0; }, "-sns_ksp_rtol must be in (0, 1)"},
      {"ksp_rtol 2", [](SnsParams& p) { p.ksp_rtol = 2; }, "-sns_ksp_rtol must be in (0, 1)"},
      {"ksp_rtol nan", [](SnsParams& p) { p.ksp_rtol = nan_value; },
       "-sns_ksp_rtol must be in (0, 1)"},
      {"ksp_max_it -1", [](SnsParams& p) { p.ksp_max_it = -1; }, "-sns_ksp_max_it must be in"},
      {"ksp_max_it 2^40", [](SnsParams& p) { p.ksp_max_it = 1L << 40; },
       "-sns_ksp_max_it must be in"},
      {"safeguard sometimes", [](SnsParams& p) { p.safeguard = "sometimes"; },
       "-sns_safeguard must be off, auto or on"},
      {"warm_start always", [](SnsParams& p) { p.warm_start = "always"; },
       "-sns_warm_start must be auto or fixed"},
      {"auto_switch 0", [](SnsParams& p) { p.auto_switch = 0; }, "-sns_auto_switch and"},
      {"auto_switch nan", [](SnsParams& p) { p.auto_switch = nan_value; }, "-sns_auto_switch and"},
      {"auto_switch above", [](SnsParams& p) { p.auto_switch = 0.5; }, "-sns_auto_switch and"},
      {"auto_scaling_above inf", [](SnsParams& p) { p.auto_scaling_above = inf_value; },
       "-sns_auto_switch and"},
      {"truncation 5", [](SnsParams& p) { p.truncation = 5; },
       "-sns_truncation must be 0 (off) or at least 10"},
      {"truncation nan", [](SnsParams& p) { p.truncation = nan_value; },
       "-sns_truncation must be 0 (off) or at least 10"},
      {"hessian dense", [](SnsParams& p) { p.hessian = "dense"; },
       "-sns_hessian must be shell or aij"},
      {"forcing -1", [](SnsParams& p) { p.forcing = -1; }, "-sns_forcing must be >= 0"},
      {"forcing nan", [](SnsParams& p) { p.forcing = nan_value; }, "-sns_forcing must be >= 0"},
  };
}

std::vector<Bad<AnnealParams>> bad_anneal_params() {
  return {
      {"eps_start 0", [](AnnealParams& p) { p.eps_start = 0; }, "-ot_eps_start must be positive"},
      {"eps_start nan", [](AnnealParams& p) { p.eps_start = nan_value; },
       "-ot_eps_start must be positive"},
      {"eps_start inf", [](AnnealParams& p) { p.eps_start = inf_value; },
       "-ot_eps_start must be positive"},
      {"eps_factor 1", [](AnnealParams& p) { p.eps_factor = 1; },
       "-ot_eps_factor must be in (0, 1)"},
      {"eps_factor 0", [](AnnealParams& p) { p.eps_factor = 0; },
       "-ot_eps_factor must be in (0, 1)"},
      {"eps_factor nan", [](AnnealParams& p) { p.eps_factor = nan_value; },
       "-ot_eps_factor must be in (0, 1)"},
      {"eps_min 0", [](AnnealParams& p) { p.eps_min = 0; }, "-ot_eps_min must be positive"},
      {"eps_min -1", [](AnnealParams& p) { p.eps_min = -1; }, "-ot_eps_min must be positive"},
      {"eps_min nan", [](AnnealParams& p) { p.eps_min = nan_value; },
       "-ot_eps_min must be positive"},
      {"truncation 5", [](AnnealParams& p) { p.truncation_depth = 5; },
       "-ot_truncation must be 0 (off) or at least 10"},
      {"truncation inf", [](AnnealParams& p) { p.truncation_depth = inf_value; },
       "-ot_truncation must be 0 (off) or at least 10"},
      {"truncation nan", [](AnnealParams& p) { p.truncation_depth = nan_value; },
       "-ot_truncation must be 0 (off) or at least 10"},
      {"truncation_fraction 2", [](AnnealParams& p) { p.truncation_fraction = 2; },
       "-ot_truncation_fraction must be in [0, 1]"},
      {"truncation_fraction nan", [](AnnealParams& p) { p.truncation_fraction = nan_value; },
       "-ot_truncation_fraction must be in [0, 1]"},
      {"multiscale_min -1", [](AnnealParams& p) { p.multiscale_min = -1; },
       "-ot_multiscale_min must be >= 0"},
  };
}

std::vector<Bad<SlicedParams>> bad_sliced_params() {
  return {
      {"type bogus", [](SlicedParams& p) { p.type = "bogus"; }, "-type must be sw, max_sw or vdsw"},
      {"L 0", [](SlicedParams& p) { p.L = 0; }, "-L must be >= 1"},
      {"p 0.5", [](SlicedParams& p) { p.p = 0.5; }, "-p must be >= 1"},
      {"p nan", [](SlicedParams& p) { p.p = nan_value; }, "-p must be >= 1"},
      {"p inf", [](SlicedParams& p) { p.p = inf_value; }, "-p must be >= 1"},
      {"seed -1", [](SlicedParams& p) { p.seed = -1; }, "-seed must be >= 0"},
      {"cv both", [](SlicedParams& p) { p.cv = "both"; }, "-cv must be none, lower or upper"},
      {"cv with p 1",
       [](SlicedParams& p) {
         p.cv = "lower";
         p.p = 1;
       },
       "they need -type sw and -p 2"},
      {"kappa 0", [](SlicedParams& p) { p.kappa = 0; }, "-kappa must be positive"},
      {"kappa nan", [](SlicedParams& p) { p.kappa = nan_value; }, "-kappa must be positive"},
      {"steps -1", [](SlicedParams& p) { p.steps = -1; }, "-steps must be >= 0"},
      {"restarts 0", [](SlicedParams& p) { p.restarts = 0; }, "-restarts must be >= 1"},
      {"step_size 0", [](SlicedParams& p) { p.step_size = 0; }, "-step_size must be in (0, pi]"},
      {"step_size 4", [](SlicedParams& p) { p.step_size = 4; }, "-step_size must be in (0, pi]"},
      {"step_size nan", [](SlicedParams& p) { p.step_size = nan_value; },
       "-step_size must be in (0, pi]"},
  };
}

std::vector<Bad<GenerateParams>> bad_generate_params() {
  return {
      {"family cloud", [](GenerateParams& p) { p.family = "cloud"; },
       "unknown problem family 'cloud'"},
      {"n 0", [](GenerateParams& p) { p.n = 0; }, "-n and -m must be positive"},
      {"n -5", [](GenerateParams& p) { p.n = -5; }, "-n and -m must be positive"},
      {"m 0", [](GenerateParams& p) { p.m = 0; }, "-n and -m must be positive"},
      {"m -2", [](GenerateParams& p) { p.m = -2; }, "-n and -m must be positive"},
      {"d 0", [](GenerateParams& p) { p.d = 0; }, "-d must be positive"},
      {"p 3", [](GenerateParams& p) { p.p = 3; }, "-p must be 1 or 2"},
      {"seed -1", [](GenerateParams& p) { p.seed = -1; }, "-seed must be >= 0"},
  };
}

// Restores the memory limit when a test ends.
struct MemoryLimit {
  explicit MemoryLimit(double bytes) : saved(memory_limit()) { set_memory_limit(bytes); }
  ~MemoryLimit() { set_memory_limit(saved); }
  double saved;
};

}  // namespace

TEST(Validation, SolveParamsAtConstructionAndAtSolve) {
  MPI_Comm comm = MPI_COMM_WORLD;
  const Problem problem = small_problem();
  for (const auto& bad : bad_solve_params()) {
    SolveParams params;
    bad.edit(params);
    expect_invalid([&] { validate(params); }, bad.fragment, "validate: " + bad.label);
    for (const char* type : {"sinkhorn", "sns", "sparse"}) {
      const std::string label = std::string(type) + ": " + bad.label;
      expect_invalid([&] { make_solver(comm, type, params); }, bad.fragment, "make " + label);
      // A library caller edits the params of a built solver: solve() refuses them.
      auto solver = make_solver(comm, type);
      if (auto* sparse = dynamic_cast<SparseSolver*>(solver.get())) sparse->sparse_params().k = 2;
      solver->params() = params;
      Solution solution;
      expect_invalid([&] { solver->solve(problem, solution); }, bad.fragment, "solve " + label);
    }
  }
  // The direct constructors too.
  SolveParams params;
  params.atol = nan_value;
  expect_invalid([&] { SinkhornSolver solver(comm, params); }, "-atol", "SinkhornSolver");
  expect_invalid([&] { SnsSolver solver(comm, params); }, "-atol", "SnsSolver");
  expect_invalid([&] { AnnealedSolver solver(comm, make_solver(comm, "sinkhorn"), params); },
                 "-atol", "AnnealedSolver");
  expect_invalid([&] { AnnealedSolver solver(comm, nullptr, SolveParams{}); }, "inner solver",
                 "AnnealedSolver without inner solver");
}

TEST(Validation, SinkhornParams) {
  MPI_Comm comm = MPI_COMM_WORLD;
  const Problem problem = small_problem();
  for (const auto& bad : bad_sinkhorn_params()) {
    SinkhornParams sp;
    sp.eps_scaling = true;
    bad.edit(sp);
    expect_invalid([&] { validate(sp); }, bad.fragment, "validate: " + bad.label);
    expect_invalid([&] { SinkhornSolver solver(comm, {}, sp); }, bad.fragment,
                   "construct: " + bad.label);
    SinkhornSolver solver(comm);
    solver.sinkhorn_params() = sp;
    Solution solution;
    expect_invalid([&] { solver.solve(problem, solution); }, bad.fragment, "solve: " + bad.label);
  }
}

TEST(Validation, EpsScheduleIsBoundedWhateverItIsGiven) {
  // A factor just below 1 down to a tiny reg would take ~10^17 stages: refused, not looped.
  MPI_Comm comm = MPI_COMM_WORLD;
  const Problem problem = small_problem();
  SolveParams params;
  params.reg = 1e-12;
  SinkhornParams sp;
  sp.eps_scaling = true;
  sp.eps_scaling_factor = 1 - 1e-15;
  SinkhornSolver solver(comm, params, sp);
  Solution solution;
  expect_invalid([&] { solver.solve(problem, solution); }, "stages (at most 1e6)", "near-1 factor");
  // The same from SNS's ε-scaling warm start.
  SnsParams sns;
  sns.eps_scaling = true;
  sns.eps_scaling_factor = 1 - 1e-15;
  SnsSolver sns_solver(comm, params, sns);
  Solution sns_solution;
  expect_invalid([&] { sns_solver.solve(problem, sns_solution); }, "stages (at most 1e6)",
                 "near-1 factor, sns");
  // A valid schedule still runs: a few stages, converged.
  SolveParams ok;
  ok.reg = 0.05;
  ok.reg_relative = true;
  SinkhornParams scaled;
  scaled.eps_scaling = true;
  SinkhornSolver fine(comm, ok, scaled);
  Solution fine_solution;
  EXPECT_EQ(fine.solve(problem, fine_solution).reason, Reason::converged_atol);
}

TEST(Validation, SnsParams) {
  MPI_Comm comm = MPI_COMM_WORLD;
  const Problem problem = small_problem();
  for (const auto& bad : bad_sns_params()) {
    SnsParams sp;
    bad.edit(sp);
    expect_invalid([&] { validate(sp); }, bad.fragment, "validate: " + bad.label);
    expect_invalid([&] { SnsSolver solver(comm, {}, sp); }, bad.fragment,
                   "construct: " + bad.label);
    SnsSolver solver(comm);
    solver.sns_params() = sp;
    Solution solution;
    expect_invalid([&] { solver.solve(problem, solution); }, bad.fragment, "solve: " + bad.label);
  }
}

TEST(Validation, AnnealParams) {
  MPI_Comm comm = MPI_COMM_WORLD;
  const Problem problem = small_problem();
  SolveParams params;
  params.ot_rtol = 1e-2;
  for (const auto& bad : bad_anneal_params()) {
    AnnealParams ap;
    bad.edit(ap);
    expect_invalid([&] { validate(ap); }, bad.fragment, "validate: " + bad.label);
    for (const char* inner : {"sinkhorn", "sns"}) {
      auto solver = make_solver(comm, inner, params);
      auto& annealed = dynamic_cast<AnnealedSolver&>(*solver);
      annealed.anneal_params() = ap;
      Solution solution;
      expect_invalid([&] { annealed.solve(problem, solution); }, bad.fragment,
                     std::string(inner) + ": " + bad.label);
    }
  }
}

TEST(Validation, SlicedParams) {
  MPI_Comm comm = MPI_COMM_WORLD;
  const Problem problem = small_problem();
  PointMeasure mu, nu;
  mu.points = RowMatrix::Random(7, 2);
  mu.weights = Vector::Ones(7);
  nu.points = RowMatrix::Random(5, 2);
  nu.weights = Vector::Ones(5);
  for (const auto& bad : bad_sliced_params()) {
    SlicedParams sp;
    bad.edit(sp);
    expect_invalid([&] { validate(sp); }, bad.fragment, "validate: " + bad.label);
    expect_invalid([&] { sliced_wasserstein(comm, mu, nu, sp); }, bad.fragment,
                   "replicated: " + bad.label);
    expect_invalid(
        [&] { sliced_wasserstein_distributed(comm, problem.source, problem.target, sp); },
        bad.fragment, "distributed: " + bad.label);
    expect_invalid(
        [&] {
          sliced_distance_matrix(comm, {mu, nu}, sp, 0, 2);
        },
        bad.fragment, "batch: " + bad.label);
  }
}

TEST(Validation, GenerateParams) {
  MPI_Comm comm = MPI_COMM_WORLD;
  for (const auto& bad : bad_generate_params()) {
    GenerateParams gp;
    bad.edit(gp);
    expect_invalid([&] { validate(gp); }, bad.fragment, "validate: " + bad.label);
    expect_invalid([&] { generate_problem(comm, gp); }, bad.fragment, "problem: " + bad.label);
    expect_invalid([&] { generate_batch(gp, 2); }, bad.fragment, "batch: " + bad.label);
  }
  // images ignore -n and -m.
  GenerateParams images;
  images.family = "images";
  images.n = 0;
  EXPECT_EQ(generate_problem(comm, images).n(), 784);
  // Sizes above the memory limit are refused before anything is allocated.
  const MemoryLimit limit(1 << 20);
  GenerateParams big;
  big.n = 1L << 40;
  expect_invalid([&] { generate_problem(comm, big); }, "-max_memory", "problem above the limit");
  GenerateParams assignment;
  assignment.family = "assignment";
  assignment.n = 4000;  // 4000 x 4000 costs: 128 MB in all
  expect_invalid([&] { generate_problem(comm, assignment); }, "-max_memory",
                 "assignment above the limit");
  GenerateParams many;
  many.n = 1000;
  expect_invalid([&] { generate_batch(many, 1000); }, "-max_memory", "batch above the limit");
  EXPECT_EQ(generate_batch(many, 2).size(), 2u);
}

TEST(Validation, MeshMeasureArguments) {
  TriangleMesh mesh;
  mesh.vertices = RowMatrix::Zero(3, 3);
  mesh.vertices(1, 0) = 1;
  mesh.vertices(2, 1) = 1;
  mesh.faces = {{0, 1, 2}};
  expect_invalid([&] { mesh_measure(mesh, "edges", 10, 0, 1.0); }, "unknown mesh measure 'edges'",
                 "kind");
  expect_invalid([&] { mesh_measure(mesh, "samples", 0, 0, 1.0); }, "-mesh_samples must be >= 1",
                 "samples 0");
  expect_invalid([&] { mesh_measure(mesh, "samples", 10, -1, 1.0); }, "seed", "seed -1");
  expect_invalid([&] { mesh_measure(mesh, "samples", 1L << 50, 0, 1.0); }, "-max_memory",
                 "samples above the memory limit");
  for (double scale : {0.0, -1.0, nan_value, inf_value})
    expect_invalid([&] { mesh_measure(mesh, "normals", 0, 0, scale); }, "-normal_scale",
                   "normal_scale " + std::to_string(scale));
  EXPECT_EQ(mesh_measure(mesh, "samples", 10, 0, 1.0).points.rows(), 10);
  EXPECT_EQ(mesh_measure(mesh, "normals", 0, 0, 2.0).points.cols(), 6);
}
