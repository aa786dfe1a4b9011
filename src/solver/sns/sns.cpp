// SPDX-License-Identifier: BSD-3-Clause
// Sinkhorn–Newton–Sparse (sns.md §3): Sinkhorn warm start, then sparse Newton steps on PETSc.
#include "parot/solver/sns.hpp"

#include <petscksp.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>
#include <vector>

#include "core/fault.hpp"
#include "kernels/exp.hpp"
#include "kernels/newton.hpp"
#include "parot/core/comm.hpp"
#include "parot/core/error.hpp"
#include "parot/core/log.hpp"
#include "parot/core/memory.hpp"
#include "parot/core/options.hpp"
#include "parot/core/signals.hpp"
#include "petsc/petsc_call.hpp"
#include "solver/entropic/final_plan.hpp"
#include "solver/entropic/sweeps.hpp"
#include "solver/sns/hessian.hpp"
#include "solver/sns/sparsify.hpp"
#include "solver/sns/support_newton.hpp"

namespace parot {

struct SnsSolver::Ksp {
  petsc::KspPtr ksp;
};

namespace {

constexpr double nan_value = std::numeric_limits<double>::quiet_NaN();

void create_ksp(MPI_Comm comm, petsc::KspPtr& ksp, const SnsParams& sp) {
  PAROT_PETSC_CALL(KSPCreate(comm, ksp.out()));
  PAROT_PETSC_CALL(KSPSetOptionsPrefix(ksp.get(), "sns_"));
  PAROT_PETSC_CALL(KSPSetType(ksp.get(), KSPCG));
  PC pc;
  PAROT_PETSC_CALL(KSPGetPC(ksp.get(), &pc));
  PAROT_PETSC_CALL(PCSetType(pc, PCJACOBI));
  // sns.md §3.3: relative tolerance on the true residual, no absolute floor.
  PAROT_PETSC_CALL(KSPSetNormType(ksp.get(), KSP_NORM_UNPRECONDITIONED));
  PAROT_PETSC_CALL(
      KSPSetTolerances(ksp.get(), sp.ksp_rtol, 0.0, PETSC_DEFAULT,
                       sp.ksp_max_it > 0 ? static_cast<PetscInt>(sp.ksp_max_it) : PETSC_DEFAULT));
}

// The dense local block of the log-plan E = (f ⊕ g − C)/ε and the plan P = exp(E).
void plan_block(const Cost& cost, const Vector& f, const Vector& g, double eps,
                std::vector<double>& E, std::vector<double>& P) {
  const lindex n = cost.local_rows(), m = cost.cols();
  const double inv_eps = 1.0 / eps;
  for (lindex i = 0; i < n; ++i) {
    double* e = E.data() + i * m;
    cost.tile(i, 1, 0, m, e, m);
    for (lindex j = 0; j < m; ++j) {
      e[j] = (f[i] + g[j] - e[j]) * inv_eps;
      P[i * m + j] = e[j] == -INFINITY ? 0.0 : std::exp(e[j]);
    }
  }
}

}  // namespace

void validate(const SnsParams& p) {
  PAROT_CHECK(p.eps_scaling_factor > 0 && p.eps_scaling_factor < 1, InvalidArgument,
              "option -sns_eps_scaling_factor must be in (0, 1), got ", p.eps_scaling_factor);
  PAROT_CHECK(p.warmup_it >= 0, InvalidArgument, "option -sns_warmup_it must be >= 0, got ",
              p.warmup_it);
  PAROT_CHECK(std::isfinite(p.switch_tol), InvalidArgument,
              "option -sns_switch_tol must be finite (<= 0: off), got ", p.switch_tol);
  PAROT_CHECK(p.sparsify == "mass" || p.sparsify == "count" || p.sparsify == "row", InvalidArgument,
              "option -sns_sparsify must be mass, count or row, got '", p.sparsify, "'");
  PAROT_CHECK(p.mass_tol >= 0 && p.mass_tol < 1, InvalidArgument,
              "option -sns_mass_tol must be in [0, 1), got ", p.mass_tol);
  PAROT_CHECK(p.kappa > 0 && std::isfinite(p.kappa), InvalidArgument,
              "option -sns_kappa must be positive, got ", p.kappa);
  PAROT_CHECK(p.row_k >= 1, InvalidArgument, "option -sns_row_k must be >= 1, got ", p.row_k);
  PAROT_CHECK(p.ksp_rtol > 0 && p.ksp_rtol < 1, InvalidArgument,
              "option -sns_ksp_rtol must be in (0, 1), got ", p.ksp_rtol);
  PAROT_CHECK(p.ksp_max_it >= 0 && p.ksp_max_it <= std::numeric_limits<PetscInt>::max(),
              InvalidArgument, "option -sns_ksp_max_it must be in [0, ",
              std::numeric_limits<PetscInt>::max(), "], got ", p.ksp_max_it);
  PAROT_CHECK(p.warm_start == "auto" || p.warm_start == "fixed", InvalidArgument,
              "option -sns_warm_start must be auto or fixed, got '", p.warm_start, "'");
  PAROT_CHECK(p.auto_switch > 0 && p.auto_switch <= p.auto_scaling_above &&
                  std::isfinite(p.auto_scaling_above),
              InvalidArgument,
              "options -sns_auto_switch and -sns_auto_scaling_above must satisfy 0 < switch <= "
              "above, got ",
              p.auto_switch, " and ", p.auto_scaling_above);
  PAROT_CHECK(p.hessian == "shell" || p.hessian == "aij", InvalidArgument,
              "option -sns_hessian must be shell or aij, got '", p.hessian, "'");
  PAROT_CHECK(p.forcing >= 0 && std::isfinite(p.forcing), InvalidArgument,
              "option -sns_forcing must be >= 0, got ", p.forcing);
  PAROT_CHECK(p.truncation == 0 || (std::isfinite(p.truncation) && p.truncation >= 10),
              InvalidArgument, "option -sns_truncation must be 0 (off) or at least 10, got ",
              p.truncation);
  PAROT_CHECK(p.safeguard == "off" || p.safeguard == "auto" || p.safeguard == "on", InvalidArgument,
              "option -sns_safeguard must be off, auto or on, got '", p.safeguard, "'");
}

SnsSolver::SnsSolver(MPI_Comm comm, SolveParams params, SnsParams sns)
    : comm_(comm), sns_(std::move(sns)), ksp_(std::make_unique<Ksp>()) {
  validate(params);
  validate(sns_);
  params_ = params;
}

SnsSolver::~SnsSolver() = default;

void SnsSolver::set_from_options() {
  OptionsBlock block(comm_, options_prefix() + "sns_", "Sinkhorn-Newton-Sparse options");
  block.choice("warm_start", "warm start rule", {"auto", "fixed"}, sns_.warm_start);
  block.integer("warmup_it", "Sinkhorn iterations before Newton", sns_.warmup_it);
  block.real("auto_switch", "marginal error that ends the auto warm start", sns_.auto_switch);
  block.real("auto_scaling_above", "auto warm start: eps-scaling restart above this error",
             sns_.auto_scaling_above);
  block.real("truncation", "Newton on the plan truncated at e^-T of its row/column maxima (0: off)",
             sns_.truncation);
  block.real("switch_tol", "switch to Newton below this marginal error (<= 0: off)",
             sns_.switch_tol);
  block.boolean("eps_scaling", "warm start by eps-scaling Sinkhorn down to the final reg",
                sns_.eps_scaling);
  block.real("eps_scaling_factor", "ratio of consecutive warm-start stages, in (0, 1)",
             sns_.eps_scaling_factor);
  block.choice("sparsify", "Hessian sparsification rule", {"mass", "count", "row"}, sns_.sparsify);
  block.real("mass_tol", "dropped plan mass fraction of the mass rule", sns_.mass_tol);
  block.real("kappa", "kept entries per row (average) of the count rule", sns_.kappa);
  block.integer("row_k", "kept entries per row of the row rule", sns_.row_k);
  block.choice("hessian", "truncated-support Hessian: matrix-free shell or assembled aij",
               {"shell", "aij"}, sns_.hessian);
  block.real("forcing", "inexact Newton on the truncated support: CG rtol min(0.1, forcing error)",
             sns_.forcing);
  block.real("ksp_rtol", "relative tolerance of the inner solve", sns_.ksp_rtol);
  block.integer("ksp_max_it", "inner iteration cap (0: 10 (n + m))", sns_.ksp_max_it);
  block.choice("safeguard", "safeguarded (shifted) Newton steps", {"off", "auto", "on"},
               sns_.safeguard);
  block.read();
  validate(sns_);
  create_ksp(comm_, ksp_->ksp, sns_);
  PAROT_PETSC_OPTIONS_CALL(KSPSetFromOptions(ksp_->ksp.get()));
}

SolveResult SnsSolver::solve(const Problem& problem, Solution& solution) {
  validate(params_);
  validate(sns_);
  MPI_Comm comm = problem.comm();
  const double t0 = wall_time();
  const lindex n = problem.source.layout.local_size();
  const lindex m = problem.m();
  check_memory(comm, 16.0 * static_cast<double>(n) * static_cast<double>(m),
               "SNS's dense plan block (16 n_local m bytes)");

  // Stage 1: Sinkhorn warm start (skipped when resuming a checkpoint of the Newton stage).
  const SolverState* resume = checkpointing().resume_in("newton");
  SolveResult result;
  if (resume) {
    result.max_cost = problem.cost.max_value(comm);
    result.reg = absolute_reg(params_, result.max_cost);
    result.reg_relative = result.reg / result.max_cost;
    check_resume(*resume, result.reg, result.max_cost);
    PAROT_CHECK(resume->f.size() == n && resume->g.size() == m, InternalError,
                "checkpoint potentials of the wrong size");
    solution.f = resume->f;
    solution.g = resume->g;
    result.iterations = resume->iteration;
    result.sinkhorn_iterations = static_cast<long>(resume->scalar("sinkhorn_iterations"));
    result.stored_kernel = resume->scalar("stored_kernel") != 0;
    result.absorptions = static_cast<long>(resume->scalar("absorptions"));
    result.history = resume->history;
  } else {
    // The auto rule (sns.hpp) measures the error after the warm-up; it is off with checkpoints
    // (a restarted Sinkhorn phase would not resume).
    const bool auto_start = sns_.warm_start == "auto" && !sns_.eps_scaling &&
                            !(sns_.switch_tol > 0) && !checkpointing().store &&
                            !checkpointing().resume;
    SolveParams warm = params_;
    warm.max_it = std::min(params_.max_it, std::max(sns_.warmup_it, 1L));
    if (auto_start) warm.atol = std::max(params_.atol, sns_.auto_switch);
    if (sns_.switch_tol > 0) {
      warm.max_it = params_.max_it;
      warm.atol = std::max(params_.atol, sns_.switch_tol);
    }
    warm.error_if_not_converged = false;
    warm.plan_threshold = -1;
    SinkhornParams warm_sp;
    warm_sp.stall_it = 0;
    if (sns_.eps_scaling) {  // all stages, then the final ε down to the switch tolerance
      warm_sp.eps_scaling = true;
      warm_sp.eps_scaling_factor = sns_.eps_scaling_factor;
      warm.max_it = params_.max_it;
      warm.atol = std::max(params_.atol,
                           sns_.switch_tol > 0 ? sns_.switch_tol : warm_sp.eps_scaling_inner_atol);
    }
    SinkhornSolver warmup(comm, warm, warm_sp);
    warmup.set_checkpointing(checkpointing_);  // its states resume this run's Sinkhorn phase
    result = warmup.solve(problem, solution);
    if (auto_start && result.reason != Reason::converged_atol &&
        result.reason != Reason::diverged_nan && result.marginal_error > sns_.auto_scaling_above &&
        result.iterations < params_.max_it) {
      // Far from Newton's quadratic region: redo the warm start by ε-scaling, from scratch.
      SolveParams again = params_;
      again.max_it = params_.max_it - result.iterations;
      again.atol = std::max(params_.atol, sns_.auto_switch);
      again.error_if_not_converged = false;
      again.plan_threshold = -1;
      SinkhornParams scaling;
      scaling.stall_it = 0;
      scaling.eps_scaling = true;
      scaling.eps_scaling_factor = sns_.eps_scaling_factor;
      scaling.eps_scaling_inner_atol = again.atol;
      SinkhornSolver restart(comm, again, scaling);
      solution.f = Vector();
      solution.g = Vector();
      SolveResult second = restart.solve(problem, solution);
      for (IterationRecord& record : second.history)
        record.iteration += result.iterations;
      second.history.insert(second.history.begin(), result.history.begin(), result.history.end());
      second.iterations += result.iterations;
      second.sinkhorn_iterations += result.sinkhorn_iterations;
      result = std::move(second);
    }
    if (result.reason == Reason::converged_atol && result.marginal_error <= params_.atol) {
      result.solver = type();
      result.solve_time = allreduce_max(comm, wall_time() - t0);
      return result;
    }
  }
  result.solver = type();
  const double eps = result.reg;
  long it = result.iterations;

  // Stage 2: Newton.
  petsc::KspPtr& ksp = ksp_->ksp;
  if (!ksp.get()) create_ksp(comm, ksp, sns_);
  const sns::NewtonLayout nl(problem.source.layout, m);
  const lindex mp = nl.cols.local_size();
  const gindex tb = nl.cols.begin();
  {
    PetscReal rtol, atol, dtol;
    PetscInt maxit;
    PAROT_PETSC_CALL(KSPGetTolerances(ksp.get(), &rtol, &atol, &dtol, &maxit));
    if (sns_.ksp_max_it == 0) maxit = static_cast<PetscInt>(10 * nl.offset.back());
    PAROT_PETSC_CALL(KSPSetTolerances(ksp.get(), rtol, atol, dtol, maxit));
  }
  const Vector& a = problem.source.weights;
  const Vector& b = problem.target.weights;
  Vector& f = solution.f;
  Vector& g = solution.g;
  std::vector<double> E, P;  // the dense blocks, allocated when the dense stage runs
  std::vector<double> row_sum(static_cast<std::size_t>(n)), col_sum(static_cast<std::size_t>(m));
  std::vector<double> dg(static_cast<std::size_t>(m));
  std::vector<int> counts(static_cast<std::size_t>(comm_size(comm))), displs(counts.size());
  for (std::size_t r = 0; r < counts.size(); ++r) {
    counts[r] = static_cast<int>(nl.cols.offsets()[r + 1] - nl.cols.offsets()[r]);
    displs[r] = static_cast<int>(nl.cols.offsets()[r]);
  }

  // The null direction (1, −1) over the coupled unknowns (zero-weight points are decoupled).
  petsc::VecPtr rhs, dir, null_vec;
  PAROT_PETSC_CALL(VecCreateMPI(comm, static_cast<PetscInt>(nl.local_size()),
                                static_cast<PetscInt>(nl.offset.back()), rhs.out()));
  PAROT_PETSC_CALL(VecDuplicate(rhs.get(), dir.out()));
  PAROT_PETSC_CALL(VecDuplicate(rhs.get(), null_vec.out()));
  {
    petsc::VecArray v(null_vec.get());
    for (lindex i = 0; i < n; ++i)
      v[i] = a[i] > 0 ? 1.0 : 0.0;
    for (lindex k = 0; k < mp; ++k)
      v[n + k] = b[tb + k] > 0 ? -1.0 : 0.0;
  }
  PAROT_PETSC_CALL(VecNormalize(null_vec.get(), nullptr));
  petsc::NullSpacePtr nsp;
  Vec nv = null_vec.get();
  PAROT_PETSC_CALL(MatNullSpaceCreate(comm, PETSC_FALSE, 1, &nv, nsp.out()));

  std::vector<double> sums(static_cast<std::size_t>(m) + 5);
  const bool inject_underflow = detail::fault_injected("underflow", comm);
  double err_prev = INFINITY, err_prev2 = INFINITY;
  // Safeguarded mode (sns.md §4.3): on from the start, or entered after a failure in auto mode.
  bool safe = sns_.safeguard == "on";
  double mu = 1.0;  // shift factor: M + mu ‖g‖₂ I
  int rejected = 0;
  result.safeguard_from = safe ? it : -1;
  const auto enter_safe_mode = [&] {
    safe = true;
    result.safeguard_from = it;
    err_prev = err_prev2 = INFINITY;
  };
  petsc::VecPtr Md;
  PAROT_PETSC_CALL(VecDuplicate(rhs.get(), Md.out()));
  Reason reason = Reason::iterating;
  long newton = 0;
  if (resume) {
    newton = static_cast<long>(resume->scalar("newton_iterations"));
    safe = resume->scalar("safe") != 0;
    mu = resume->scalar("mu");
    rejected = static_cast<int>(resume->scalar("rejected"));
    err_prev = resume->scalar("error_previous");
    err_prev2 = resume->scalar("error_before_previous");
    result.safeguard_from = static_cast<long>(resume->scalar("safeguard_from"));
  }
  const auto state = [&] {
    SolverState s;
    s.phase = "newton";
    s.reg = eps;
    s.max_cost = result.max_cost;
    s.scalars = {{"sinkhorn_iterations", double(result.sinkhorn_iterations)},
                 {"stored_kernel", result.stored_kernel ? 1.0 : 0.0},
                 {"absorptions", double(result.absorptions)},
                 {"newton_iterations", double(newton)},
                 {"safe", safe ? 1.0 : 0.0},
                 {"mu", mu},
                 {"rejected", double(rejected)},
                 {"error_previous", err_prev},
                 {"error_before_previous", err_prev2},
                 {"safeguard_from", double(result.safeguard_from)}};
    s.f = f;
    s.g = g;
    s.history = result.history;
    return s;
  };
  // Newton on the truncated support first (sns.hpp, -sns_truncation): no dense plan block. The
  // dense error decides; the dense stage below takes over when the support does not get there.
  // Not with checkpoints: its steps save no state (the dense stage does). The fault injection
  // (tests) holds on one rank only: the decision is made on all of them.
  int injected_anywhere = inject_underflow ? 1 : 0;
  MPI_Allreduce(MPI_IN_PLACE, &injected_anywhere, 1, MPI_INT, MPI_MAX, comm);
  if (!resume && !checkpointing().store && !checkpointing().resume && sns_.truncation > 0 &&
      sns_.sparsify == "mass" && sns_.safeguard != "on" && injected_anywhere == 0) {
    const double entries = static_cast<double>(problem.n()) * static_cast<double>(m);
    const double budget = std::min(
        0.5 * entries, 0.125 * memory_limit() * comm_size(comm) / (2 * sizeof(double) + 12.0));
    const sns::NewtonSystem sys{nl, ksp.get(), null_vec.get(), nsp.get()};
    for (int round = 0; round < 3 && it < params_.max_it; ++round) {
      const truncated::Support support =
          truncated::build(problem, f, g, eps, sns_.truncation, budget);
      if (!support.stored()) break;
      const Vector f0 = f, g0 = g;
      const sns::SupportNewton stage = sns::newton_on_support(
          problem, support, sys, f, g, eps, 0.5 * params_.atol, params_.max_it - it, sns_.mass_tol,
          sns_.forcing, sns_.hessian == "shell", it, t0, params_.monitor, result.history);
      it += stage.steps;
      newton += stage.steps;
      if (stage.reason == Reason::diverged_nan) {  // back to the last finite potentials
        f = f0;
        g = g0;
        break;
      }
      const double dense_err = sns::dense_marginal_error(problem, f, g, eps);
      if (params_.monitor) {
        char line[200];
        std::snprintf(line, sizeof line,
                      "          truncated support: %.3e of n m, %s, error %.3e (support) %.3e "
                      "(dense)",
                      support.kept / entries, to_string(stage.reason).c_str(), stage.error,
                      dense_err);
        print_root(comm, line);
      }
      if (dense_err <= params_.atol) {
        reason = Reason::converged_atol;
        break;
      }
      if (stage.reason != Reason::converged_atol) break;  // the dense stage goes on from here
    }
  }
  while (reason == Reason::iterating) {
    // Plan, gradient (the marginal residuals) and error: one reduction of m + 3 doubles.
    if (E.empty()) {
      E.resize(static_cast<std::size_t>(n * m));
      P.resize(E.size());
    }
    plan_block(problem.cost, f, g, eps, E, P);
    if (inject_underflow && newton == 0) std::fill(P.begin(), P.end(), 0.0);
    std::fill(sums.begin(), sums.end(), 0.0);
    double row_err = 0, af = 0, empty_rows = 0;
    for (lindex i = 0; i < n; ++i) {
      double s = 0;
      for (lindex j = 0; j < m; ++j) {
        s += P[i * m + j];
        sums[j] += P[i * m + j];
      }
      row_sum[i] = s;
      row_err += std::abs(a[i] - s);
      if (a[i] > 0 && !(s > 0)) ++empty_rows;
      if (a[i] > 0) af += a[i] * f[i];
    }
    sums[m] = row_err;
    sums[m + 1] = af;
    sums[m + 2] = std::accumulate(row_sum.begin(), row_sum.end(), 0.0);
    sums[m + 3] = pending_signal() != 0 ? 1.0 : 0.0;
    sums[m + 4] = empty_rows;
    MPI_Allreduce(MPI_IN_PLACE, sums.data(), static_cast<int>(sums.size()), MPI_DOUBLE, MPI_SUM,
                  comm);
    double err = sums[m], bg = 0, lost = sums[m + 4];  // points of positive weight, no mass
    for (lindex j = 0; j < m; ++j) {
      col_sum[j] = sums[j];
      err += std::abs(b[j] - col_sum[j]);
      if (b[j] > 0) bg += b[j] * g[j];
      if (b[j] > 0 && !(col_sum[j] > 0)) ++lost;
    }
    const double mass = sums[m + 2];
    const double objective = sums[m + 1] + bg - eps * mass + eps;
    if (newton > 0) {  // the record of the step that led here, with the error it reached
      IterationRecord& record = result.history.back();
      record.marginal_error = err;
      record.objective = objective;
      if (params_.monitor) {
        char line[320];
        std::snprintf(line, sizeof line,
                      "%8ld  newton %3ld  error %.6e  objective %.15e  step %.3g  ksp %ld (%ld)  "
                      "kept %.3e  assembly %.3f s  solve %.3f s  line search %.3f s  %.3f s",
                      record.iteration, newton, err, objective, record.step,
                      record.inner_iterations, record.inner_reason, record.kept_fraction,
                      record.assembly_time, record.inner_solve_time, record.line_search_time,
                      record.wall_time);
        print_root(comm, line);
      }
    }

    if (!std::isfinite(err)) {
      reason = Reason::diverged_nan;
      result.failed_iteration = it;
    } else if (lost > 0) {
      // exp underflowed on whole rows or columns: no Newton step can be computed from them
      reason = Reason::diverged_mass_loss;
      result.failed_iteration = it;
    } else if (err <= params_.atol) {
      reason = Reason::converged_atol;
    } else if (it >= params_.max_it) {
      reason = Reason::diverged_max_it;
    } else if (!safe && newton >= 2 && err >= err_prev && err_prev >= err_prev2) {
      // No decrease over two consecutive Newton steps. (The safe mode ends on atol, max_it or
      // 30 rejected steps in a row instead: its rejected steps leave the error unchanged.)
      if (sns_.safeguard == "auto") {
        enter_safe_mode();
      } else {
        reason = Reason::diverged_stalled;
        result.failed_iteration = it;
      }
    }
    if (reason != Reason::iterating) break;
    // The state here is (f, g) and the counters before this step: a resumed run recomputes
    // this iteration's plan and error from it and goes on identically.
    checkpointing().at_iteration(problem, it, sums[m + 3], state);
    err_prev2 = err_prev;
    err_prev = err;

    // Sparsify and assemble.
    const double ta = wall_time();
    const sns::Selection keep =
        sns::select_entries(comm, P.data(), n, m, sns_.sparsify, sns_.mass_tol, sns_.kappa,
                            sns_.row_k, problem.n(), mass);
    petsc::MatPtr M = sns::assemble_hessian(nl, P.data(), m, keep, row_sum, col_sum, eps);
    {
      petsc::VecArray r(rhs.get());
      for (lindex i = 0; i < n; ++i)
        r[i] = a[i] > 0 ? a[i] - row_sum[i] : 0.0;
      for (lindex k = 0; k < mp; ++k)
        r[n + k] = b[tb + k] > 0 ? b[tb + k] - col_sum[tb + k] : 0.0;
    }
    double shift = 0;
    petsc::MatPtr op;  // the operator CG sees; M itself gives the Jacobi preconditioner
    if (safe) {        // M + λI is positive definite: no null space to handle
      PAROT_PETSC_CALL(VecNorm(rhs.get(), NORM_2, &shift));
      shift *= mu;
      PAROT_PETSC_CALL(MatShift(M.get(), shift));
    } else {
      // The null direction v = (1, −1) is a null vector of H, but of the sparsified M only when
      // no plan mass was dropped: M v = (1/ε)(dropped row mass, −dropped column mass) (sns.md
      // §4.2). Declaring v a null space of M anyway (as before) is inconsistent: PETSc's CG
      // projects v out of every preconditioned residual z = Π D⁻¹ r, but r = g − M d keeps a
      // component along v that no search direction can reduce, and Π D⁻¹ is symmetric only on
      // v⊥. The residual stagnates, (z, r) changes sign (KSP_DIVERGED_INDEFINITE_PC) and, where
      // D⁻¹ v is far from parallel to v (n ≠ m: D ≈ (1/ε)(1/n, 1/m)), CG loses conjugacy and runs
      // to its cap. The Newton step only matters modulo v (f(x + t, y − t) = f(x, y)), so solve
      // on v⊥ with Π M Π, which has v in its null space exactly and is a model of H = Π H Π as
      // good as M: the system is consistent (gᵀv = 0) and PCG with Jacobi converges normally.
      op = sns::project_null_direction(M.get(), null_vec.get());
      PAROT_PETSC_CALL(MatSetNullSpace(op.get(), nsp.get()));
      PAROT_PETSC_CALL(MatNullSpaceRemove(nsp.get(), rhs.get()));
    }

    // Solve M d = gradient (plain steps: Π M Π d = gradient, d ⊥ v).
    const double ts = wall_time();
    PAROT_PETSC_CALL(KSPSetOperators(ksp.get(), safe ? M.get() : op.get(), M.get()));
    PAROT_PETSC_CALL(KSPSolve(ksp.get(), rhs.get(), dir.get()));
    PetscInt inner = 0;
    KSPConvergedReason inner_reason;
    PAROT_PETSC_CALL(KSPGetIterationNumber(ksp.get(), &inner));
    PAROT_PETSC_CALL(KSPGetConvergedReason(ksp.get(), &inner_reason));

    // Direction: local source part, replicated target part; slope and linear term.
    const double tl = wall_time();
    Vector df(n);
    {
      petsc::VecArray d(dir.get());
      for (lindex i = 0; i < n; ++i)
        df[i] = a[i] > 0 ? d[i] : 0.0;
      MPI_Allgatherv(d.data() + n, static_cast<int>(mp), MPI_DOUBLE, dg.data(), counts.data(),
                     displs.data(), MPI_DOUBLE, comm);
    }
    for (lindex j = 0; j < m; ++j)
      if (!(b[j] > 0)) dg[j] = 0.0;
    double lin[2] = {0, 0};  // gradient·d and aᵀΔf (+ bᵀΔg below, replicated)
    for (lindex i = 0; i < n; ++i) {
      lin[0] += (a[i] - row_sum[i]) * df[i];
      lin[1] += a[i] * df[i];
    }
    MPI_Allreduce(MPI_IN_PLACE, lin, 2, MPI_DOUBLE, MPI_SUM, comm);
    for (lindex j = 0; j < m; ++j) {
      lin[0] += (b[j] - col_sum[j]) * dg[j];
      lin[1] += b[j] * dg[j];
    }
    // The increase of the dual objective for step t, by expm1 (sns.md §3.4): one reduction.
    const auto gain_of = [&](double t) {
      double local = kernels::plan_change(E.data(), P.data(), n, m, df.data(), dg.data(), t / eps);
      MPI_Allreduce(MPI_IN_PLACE, &local, 1, MPI_DOUBLE, MPI_SUM, comm);
      return -eps * local + t * lin[1];
    };
    double alpha = 1.0;
    bool accepted = false;
    if (!safe) {  // Armijo backtracking
      for (int trial = 0; trial < 30; ++trial, alpha *= 0.5) {
        const double gain = gain_of(alpha);
        accepted = std::isfinite(gain) && gain >= 1e-4 * alpha * lin[0];
        if (accepted) break;
      }
    } else {
      // Steps {1, 0.5, 0.25, 0.1}: the first that increases the objective, else the best; move
      // only if actual / predicted increase ρ > 0, and adapt μ from ρ (trust-region style).
      double dMd = 0, dd = 0;
      PAROT_PETSC_CALL(MatMult(M.get(), dir.get(), Md.get()));
      PAROT_PETSC_CALL(VecDot(dir.get(), Md.get(), &dMd));
      PAROT_PETSC_CALL(VecDot(dir.get(), dir.get(), &dd));
      const double quad = dMd - shift * dd;  // dᵀ M d without the shift
      double best = -INFINITY, best_alpha = 0;
      for (double t : {1.0, 0.5, 0.25, 0.1}) {
        const double gain = gain_of(t);
        if (std::isfinite(gain) && gain > best) {
          best = gain;
          best_alpha = t;
        }
        if (gain > 0) break;
      }
      alpha = best_alpha;
      const double predicted = alpha * lin[0] - 0.5 * alpha * alpha * quad;
      const double rho = predicted > 0 ? best / predicted : -1;
      accepted = rho > 0;
      if (rho < 0.25) mu *= 4;
      if (rho > 0.75) mu = std::max(mu / 2, 1e-3);
      rejected = accepted ? 0 : rejected + 1;
    }
    const double te = wall_time();
    ++it;
    ++newton;
    IterationRecord record;
    record.iteration = it;
    record.reg = eps;
    record.marginal_error = err;  // replaced by the error the step reaches, at the next check
    record.objective = objective;
    record.step = accepted ? alpha : 0.0;
    record.inner_iterations = inner;
    record.inner_reason = inner_reason;
    record.kept_fraction = static_cast<double>(keep.kept) /
                           (static_cast<double>(problem.n()) * static_cast<double>(m));
    record.assembly_time = ts - ta;
    record.inner_solve_time = tl - ts;
    record.line_search_time = te - tl;
    record.wall_time = allreduce_max(comm, te - t0);
    result.history.push_back(record);  // error and objective filled in at the next check
    if (!accepted) {
      if (!safe && sns_.safeguard == "auto") {
        enter_safe_mode();
        continue;
      }
      if (!safe || rejected >= 30) {
        reason = Reason::diverged_line_search;
        result.failed_iteration = it;
        break;
      }
      continue;  // safe mode: a larger shift next time
    }
    for (lindex i = 0; i < n; ++i)
      f[i] += alpha * df[i];
    for (lindex j = 0; j < m; ++j)
      g[j] += alpha * dg[j];
  }

  result.reason = reason;
  result.iterations = it;
  result.newton_iterations = newton;
  entropic::record_final_plan(problem, f, g, eps, params_.plan_threshold, result);
  result.solve_time = allreduce_max(comm, wall_time() - t0);
  if (params_.error_if_not_converged && !converged(reason))
    throw NotConverged(detail::cat("SNS did not converge: ", to_string(reason), " after ", it,
                                   " iterations (marginal error ", result.marginal_error, ")"),
                       true);
  return result;
}

}  // namespace parot
