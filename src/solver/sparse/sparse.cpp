// SPDX-License-Identifier: BSD-3-Clause
// Sparsity-constrained OT (sparse_ot.md §3–§5): dual or semi-dual, L-BFGS by PETSc TAO.
#include "parot/solver/sparse.hpp"

#include <petsctao.h>

#include <array>
#include <climits>
#include <cmath>
#include <cstdio>
#include <exception>
#include <limits>
#include <vector>

#include "kernels/dd_arith.hpp"
#include "kernels/dd_sum.hpp"
#include "kernels/topk.hpp"
#include "parot/core/comm.hpp"
#include "parot/core/error.hpp"
#include "parot/core/log.hpp"
#include "parot/core/memory.hpp"
#include "parot/core/options.hpp"
#include "petsc/petsc_call.hpp"
#include "petsc/petsc_ptr.hpp"
#include "solver/sparse/lbfgs.hpp"
#include "solver/sparse/restricted_qp.hpp"
#include "solver/sparse/tie_forest.hpp"

namespace parot {

namespace {

using TaoPtr = petsc::Ptr<Tao, TaoDestroy>;
using kernels::DoubleDouble;

// MPI_Allreduce of double-double sums (an MPI datatype of two doubles and a user operation), so
// that the reduced values do not depend on how the columns are split over the ranks.
void dd_sum(void* in, void* inout, int* len, MPI_Datatype*) {
  const auto* x = static_cast<const DoubleDouble*>(in);
  auto* y = static_cast<DoubleDouble*>(inout);
  for (int i = 0; i < *len; ++i)
    kernels::add(y[i], x[i]);
}

class DoubleDoubleSum {
 public:
  DoubleDoubleSum() {
    MPI_Type_contiguous(2, MPI_DOUBLE, &type_);
    MPI_Type_commit(&type_);
    MPI_Op_create(dd_sum, 1, &op_);
  }
  ~DoubleDoubleSum() {
    MPI_Op_free(&op_);
    MPI_Type_free(&type_);
  }
  DoubleDoubleSum(const DoubleDoubleSum&) = delete;
  DoubleDoubleSum& operator=(const DoubleDoubleSum&) = delete;
  /// In place over `comm`. @collective{comm}
  void allreduce(std::vector<DoubleDouble>& v, MPI_Comm comm) const {
    MPI_Allreduce(MPI_IN_PLACE, v.data(), static_cast<int>(v.size()), type_, op_, comm);
  }

 private:
  MPI_Datatype type_ = MPI_DATATYPE_NULL;
  MPI_Op op_ = MPI_OP_NULL;
};

// Everything an objective/gradient evaluation needs. Buffers are allocated once, before TAO
// starts, so the callbacks do not allocate.
struct Context {
  MPI_Comm comm = MPI_COMM_NULL;
  bool dual = true;
  lindex n = 0, m = 0, jb = 0, mr = 0, k = 1;
  double gamma = 1;
  const double* ct = nullptr;  // mr × n: row jl is column jb + jl of C
  const Vector* a = nullptr;   // whole source weights (replicated)
  const Vector* b = nullptr;   // target weights (replicated)
  std::vector<double> s, v, val;
  std::vector<DoubleDouble> red;
  const DoubleDoubleSum* sum = nullptr;
  std::vector<lindex> idx;
  long evaluations = 0;
  bool nonfinite = false;
  std::exception_ptr error;
  // History.
  SolveResult* result = nullptr;
  bool monitor = false;
  long check_every = 1;
  double atol = 0, t0 = 0;
};

// Column jl of the recovered plan at z: its non-zeros in c.idx/c.val (count `nnz`), the dual
// potential g_j, and the column's term of the objective (δ_Ω for the dual, b_j max_Ω for the
// semi-dual) in double-double: from the exact s_i = α_i (+ β_j) − C_ij of the selected support,
// so that the objective is a function of the double inputs accurate to ~1e-30 relative (the
// line search sees decreases far below the rounding of a double objective).
DoubleDouble plan_column(Context& c, lindex jl, const double* z, lindex& nnz, double& g_j) {
  const lindex n = c.n;
  const gindex j = c.jb + jl;
  const double* cj = c.ct + jl * n;
  double* s = c.s.data();
  if (c.dual) {
    const double beta = z[n + j];
    for (lindex i = 0; i < n; ++i)
      s[i] = z[i] + beta - cj[i];
    g_j = beta;
    kernels::sparse_delta(s, n, c.k, c.gamma, c.idx.data(), c.val.data(), &nnz);
    DoubleDouble sq;
    for (lindex q = 0; q < nnz; ++q) {
      const lindex i = c.idx[q];
      const DoubleDouble si = kernels::sum3(z[i], beta, -cj[i]);
      kernels::add(sq, kernels::mul(si, si));
    }
    return kernels::div(sq, 2 * c.gamma);
  }
  const double bj = (*c.b)[j];
  if (!(bj > 0)) {  // an empty column: no mass, no term
    nnz = 0;
    g_j = 0.0;  // −∞ in the solution, set after the reduction
    return DoubleDouble{};
  }
  for (lindex i = 0; i < n; ++i)
    s[i] = z[i] - cj[i];
  double tau = 0;
  const double gb = c.gamma * bj;
  kernels::sparse_max_omega(s, n, c.k, gb, c.v.data(), c.idx.data(), c.val.data(), &nnz, &tau);
  // On the support R (ρ entries) t_i = (s_i − θ)/(γ b_j) with θ = (Σ_R s_i − γ b_j)/ρ, and
  // max_Ω = Σ_R (s_i² − θ²) / (2 γ b_j).
  DoubleDouble s1, s2;
  for (lindex q = 0; q < nnz; ++q) {
    const lindex i = c.idx[q];
    const DoubleDouble si = kernels::two_sum(z[i], -cj[i]);
    kernels::add(s1, si);
    kernels::add(s2, kernels::mul(si, si));
  }
  DoubleDouble value;
  if (nnz > 0) {
    kernels::add(s1, -gb);
    const DoubleDouble theta = kernels::div(s1, static_cast<double>(nnz));
    const DoubleDouble rt2 = kernels::mul(kernels::mul(theta, theta), static_cast<double>(nnz));
    value = kernels::mul(kernels::div(kernels::sub(s2, rt2), 2 * gb), bj);
  }
  for (lindex q = 0; q < nnz; ++q)
    c.val[q] *= bj;
  g_j = -c.gamma * bj * tau;
  return value;
}

// The rounding of a reduced double-double to a canonical pair (hi = the rounded sum), so that
// the pair does not depend on the grouping of the partial sums (any rank count).
DoubleDouble canonical(const DoubleDouble& x) {
  const double hi = x.value();
  return DoubleDouble{hi, (x.hi - hi) + x.lo};
}

// −D (or −S) in double-double and −∇D (−∇S) at x: one pass over the rank's columns, one
// MPI_Allreduce. Returns false if the objective is not finite (a replicated decision).
bool evaluate(Context& c, const double* x, DoubleDouble& F, double* g) {
  std::fill(c.red.begin(), c.red.end(), DoubleDouble{});
  DoubleDouble part;
  for (lindex jl = 0; jl < c.mr; ++jl) {
    lindex nnz = 0;
    double g_j = 0;
    kernels::add(part, plan_column(c, jl, x, nnz, g_j));
    double col = 0;
    for (lindex q = 0; q < nnz; ++q) {
      kernels::add(c.red[static_cast<std::size_t>(c.idx[q])], c.val[q]);
      col += c.val[q];
    }
    if (c.dual) c.red[static_cast<std::size_t>(c.n + c.jb + jl)] = DoubleDouble{col, 0.0};
  }
  c.red.back() = part;
  c.sum->allreduce(c.red, c.comm);
  const Vector& a = *c.a;
  const Vector& b = *c.b;
  DoubleDouble lin;
  for (lindex i = 0; i < c.n; ++i) {
    kernels::add(lin, kernels::two_prod(a[i], x[i]));
    g[i] = c.red[static_cast<std::size_t>(i)].value() - a[i];
  }
  if (c.dual)
    for (lindex j = 0; j < c.m; ++j) {
      kernels::add(lin, kernels::two_prod(b[j], x[c.n + j]));
      g[c.n + j] = c.red[static_cast<std::size_t>(c.n + j)].value() - b[j];
    }
  F = canonical(kernels::sub(canonical(c.red.back()), lin));
  ++c.evaluations;
  const bool finite = std::isfinite(F.hi);
  if (!finite) c.nonfinite = true;
  return finite;
}

// The stationarity measure of the nonsmooth objective at x and its minimizing element r. A column
// whose k-th selected entry p and best unselected entry q are ε-tied (s_p − s_q <= ε, s = α
// (+ β_j) − C_{:,j}) has two selections within ε of x: its plan moves the mass t_p of p to q (for
// the semi-dual the projection of the swapped values is the same with p and q exchanged). The
// ε-subdifferential of −D (−S) holds g + Σ_j λ_j t_pj (e_q − e_p), λ ∈ [0, 1]^J: the marginal
// residual of a plan mixing the two selections of every tied column, a plan of the convexified
// problem. r minimizes its Euclidean norm (coordinate descent in global column order, the same
// on every rank); ‖r‖₁ (the mixture's marginal L1 error) is returned. 0 at a maximizer.
double mixture_residual(Context& c, const std::vector<double>& x, const std::vector<double>& g,
                        double eps, std::vector<double>& r) {
  std::vector<double> ties;  // (p, q, t_p) per tied local column, column order
  const lindex n = c.n;
  for (lindex jl = 0; jl < c.mr; ++jl) {
    lindex nnz = 0;
    double g_j = 0;
    plan_column(c, jl, x.data(), nnz, g_j);
    if (nnz < c.k || nnz >= n) continue;  // no selection boundary among positive entries
    const double* s = c.s.data();         // the column's s, as plan_column left it
    lindex p = -1, q = -1;
    double tp = 0;
    for (lindex e = 0; e < nnz; ++e)
      if (p < 0 || s[c.idx[e]] < s[p]) {
        p = c.idx[e];
        tp = c.val[e];
      }
    lindex e = 0;
    for (lindex i = 0; i < n; ++i) {
      if (e < nnz && c.idx[e] == i) {
        ++e;
        continue;
      }
      if (q < 0 || s[i] > s[q]) q = i;
    }
    if (q < 0 || !(s[p] - s[q] <= eps) || !(tp > 0)) continue;
    if (c.dual && !(s[q] > 0)) continue;
    ties.push_back(static_cast<double>(p));
    ties.push_back(static_cast<double>(q));
    ties.push_back(tp);
  }
  const int P = comm_size(c.comm);
  const int local = static_cast<int>(ties.size());
  std::vector<int> count(static_cast<std::size_t>(P)), displ(static_cast<std::size_t>(P));
  MPI_Allgather(&local, 1, MPI_INT, count.data(), 1, MPI_INT, c.comm);
  int total = 0;
  for (int q = 0; q < P; ++q) {
    displ[static_cast<std::size_t>(q)] = total;
    total += count[static_cast<std::size_t>(q)];
  }
  std::vector<double> all(static_cast<std::size_t>(total));
  MPI_Allgatherv(ties.data(), local, MPI_DOUBLE, all.data(), count.data(), displ.data(), MPI_DOUBLE,
                 c.comm);
  r = g;
  const std::size_t J = all.size() / 3;
  std::vector<double> lambda(J, 0.0);
  for (int sweep = 0; sweep < 200; ++sweep) {
    double change = 0;
    for (std::size_t t = 0; t < J; ++t) {
      const auto p = static_cast<std::size_t>(all[3 * t]);
      const auto q = static_cast<std::size_t>(all[3 * t + 1]);
      const double tp = all[3 * t + 2];
      const double l = std::clamp(lambda[t] - (r[q] - r[p]) / (2 * tp), 0.0, 1.0);
      const double delta = (l - lambda[t]) * tp;
      r[q] += delta;
      r[p] -= delta;
      change = std::max(change, std::abs(delta));
      lambda[t] = l;
    }
    if (change <= 1e-17) break;
  }
  return sparse::detail::norm1(r);
}

// The ties of every column at x: the column's k-th selected entry p (the hub) and the entries
// within ε of it across the selection boundary (sparse::Tie), for columns whose k selected
// entries all carry mass (elsewhere the selection boundary is no kink). Gathered in global
// column order, so the list is the same on every rank. @collective{c.comm}
std::vector<sparse::Tie> boundary_ties(Context& c, const double* x, double eps) {
  std::vector<double> local;
  const lindex n = c.n;
  std::vector<unsigned char> selected(static_cast<std::size_t>(n), 0);
  for (lindex jl = 0; jl < c.mr; ++jl) {
    lindex nnz = 0;
    double g_j = 0;
    plan_column(c, jl, x, nnz, g_j);
    if (nnz < c.k || nnz >= n) continue;
    const double* s = c.s.data();
    const double* cj = c.ct + jl * n;
    lindex p = -1;
    double tp = 0;
    for (lindex e = 0; e < nnz; ++e) {
      selected[static_cast<std::size_t>(c.idx[e])] = 1;
      if (p < 0 || s[c.idx[e]] < s[p]) {
        p = c.idx[e];
        tp = c.val[e];
      }
    }
    // Selected entries tied with the hub matter only when an unselected one is tied too.
    bool kink = false;
    for (lindex i = 0; i < n && tp > 0 && !kink; ++i)
      kink = selected[static_cast<std::size_t>(i)] == 0 && s[i] >= s[p] - eps;
    if (kink)
      for (lindex i = 0; i < n; ++i) {
        if (i == p) continue;
        const bool sel = selected[static_cast<std::size_t>(i)] != 0;
        if (sel ? s[i] <= s[p] + eps : s[i] >= s[p] - eps) {
          const double tie[7] = {static_cast<double>(p),
                                 static_cast<double>(i),
                                 static_cast<double>(c.jb + jl),
                                 tp,
                                 sel ? 1.0 : 0.0,
                                 cj[i] - cj[p],
                                 s[i] - s[p]};
          local.insert(local.end(), tie, tie + 7);
        }
      }
    for (lindex e = 0; e < nnz; ++e)
      selected[static_cast<std::size_t>(c.idx[e])] = 0;
  }
  const int P = comm_size(c.comm);
  const int count_local = static_cast<int>(local.size());
  std::vector<int> count(static_cast<std::size_t>(P)), displ(static_cast<std::size_t>(P));
  MPI_Allgather(&count_local, 1, MPI_INT, count.data(), 1, MPI_INT, c.comm);
  int total = 0;
  for (int q = 0; q < P; ++q) {
    displ[static_cast<std::size_t>(q)] = total;
    total += count[static_cast<std::size_t>(q)];
  }
  std::vector<double> all(static_cast<std::size_t>(total));
  MPI_Allgatherv(local.data(), count_local, MPI_DOUBLE, all.data(), count.data(), displ.data(),
                 MPI_DOUBLE, c.comm);
  std::vector<sparse::Tie> ties(all.size() / 7);
  for (std::size_t e = 0; e < ties.size(); ++e) {
    const double* t = all.data() + 7 * e;
    ties[e] = sparse::Tie{static_cast<lindex>(t[0]),
                          static_cast<lindex>(t[1]),
                          static_cast<gindex>(t[2]),
                          t[3],
                          t[4],
                          t[5],
                          t[6]};
  }
  return ties;
}

// The certificate of a maximizer of the nonsmooth (semi-)dual at x (sparse.hpp, "Stationarity"):
// an upper bound on the marginal L1 error of the mixed plan that tie_forest.hpp builds from
// the selections of `ties` (ties at x, within ε), i.e. on the L1 norm of an element of the
// ε-subdifferential of −D (−S). Also returns the objective at x and the mixture's flows.
// @collective{c.comm}
double tie_stationarity(Context& c, const std::vector<double>& x,
                        const std::vector<sparse::Tie>& ties, DoubleDouble& F,
                        std::vector<double>& flows) {
  std::vector<double> g(x.size());
  if (!evaluate(c, x.data(), F, g.data())) return std::numeric_limits<double>::infinity();
  const sparse::TieForest forest = sparse::tie_forest(c.n, ties);
  std::vector<double> r(static_cast<std::size_t>(c.n));
  for (lindex i = 0; i < c.n; ++i)
    r[static_cast<std::size_t>(i)] = -g[static_cast<std::size_t>(i)];
  double error = sparse::mixture_row_error(forest, ties, std::move(r), flows);
  for (std::size_t q = static_cast<std::size_t>(c.n); q < g.size(); ++q)
    error += std::abs(g[q]);  // the dual's column residuals (mixing keeps column sums)
  // The flows move the hub's mass t per unit weight; the tied selection's own plan differs by
  // at most |gap|/γ in the swapped entry and (semi-dual: the threshold moves) |gap|/γ over the
  // others: 3 |gap|/γ per unit weight, counted for the hub and the member.
  for (std::size_t e = 0; e < ties.size(); ++e)
    error += 6 * std::abs(flows[e] / ties[e].t) * std::abs(ties[e].gap) / c.gamma;
  return error;
}

// A column's selection changed by the active-set loop: `in` replaces `out`.
struct Swap {
  gindex col = 0;
  lindex out = 0, in = 0;
};

// The maximizer of the (semi-)dual on the piece where the ties (of x) are exact: rows
// joined by ties share one potential π (α_i = π + offset_i, tie_forest.hpp), and on the top-k
// support of every column at x the problem is quadratic OT restricted to that support with the
// joined rows merged (restricted_qp.hpp: semismooth Newton, replicated, double-double sums).
// Returns the candidate point (α, β) or α: the maximizer when `reached`; otherwise (the support
// admits no plan, the restricted dual is unbounded) the last Newton iterate, an ascent point.
// @collective{c.comm}
std::vector<double> tie_piece_maximizer(Context& c, const std::vector<double>& x,
                                        const std::vector<sparse::Tie>& ties,
                                        const std::vector<Swap>& swaps, double tol,
                                        const DoubleDoubleSum& dd, bool& reached) {
  const lindex n = c.n, m = c.m;
  const sparse::TieForest forest = sparse::tie_forest(n, ties);
  const std::vector<double> off = sparse::tie_offsets(forest, ties);
  const lindex nc = forest.components;
  // Merged weights (double-double sums, rounded) and the start π (the root's α).
  std::vector<DoubleDouble> merged(static_cast<std::size_t>(nc));
  std::vector<double> xq(static_cast<std::size_t>(nc + m), 0.0);
  for (lindex i = 0; i < n; ++i) {
    const auto q = static_cast<std::size_t>(forest.component[static_cast<std::size_t>(i)]);
    kernels::add(merged[q], (*c.a)[i]);
    if (forest.parent_tie[static_cast<std::size_t>(i)] < 0) xq[q] = x[static_cast<std::size_t>(i)];
  }
  Vector am(nc);
  for (lindex q = 0; q < nc; ++q)
    am[q] = merged[static_cast<std::size_t>(q)].value();
  // The support: the top k of α_i − C_ij per column, rows merged, costs C_ij − offset_i; β from
  // x (dual) or −γ b_j τ_j (semi-dual; an empty column starts below its entries).
  sparse::Support support;
  support.ptr.reserve(static_cast<std::size_t>(c.mr) + 1);
  std::vector<double> beta(static_cast<std::size_t>(m), 0.0);
  std::vector<lindex> order(static_cast<std::size_t>(n));
  std::vector<double> sj(static_cast<std::size_t>(n));
  for (lindex jl = 0; jl < c.mr; ++jl) {
    const gindex j = c.jb + jl;
    const double* cj = c.ct + jl * n;
    // The column's selection as evaluate() and boundary_ties() see it (ties at x are exact, so
    // only the same selection routine is consistent), filled up to k with the next entries.
    lindex nnz = 0;
    double v = 0;
    plan_column(c, jl, x.data(), nnz, v);
    std::vector<unsigned char> in(static_cast<std::size_t>(n), 0);
    for (lindex q = 0; q < nnz; ++q) {
      order[static_cast<std::size_t>(q)] = c.idx[q];
      in[static_cast<std::size_t>(c.idx[q])] = 1;
    }
    lindex rest = 0;
    for (lindex i = 0; i < n; ++i) {
      sj[static_cast<std::size_t>(i)] = x[static_cast<std::size_t>(i)] - cj[i];
      if (!in[static_cast<std::size_t>(i)]) order[static_cast<std::size_t>(nnz + rest++)] = i;
    }
    const lindex kk =
        nnz + kernels::select_top_k(sj.data(), order.data() + nnz, rest, c.k - nnz, false);
    for (const Swap& w : swaps) {
      if (w.col != j) continue;
      const auto at = std::find(order.begin(), order.begin() + kk, w.out);
      if (at != order.begin() + kk &&
          std::find(order.begin(), order.begin() + kk, w.in) == order.begin() + kk)
        *at = w.in;
    }
    std::sort(order.begin(), order.begin() + kk);
    double lowest = std::numeric_limits<double>::infinity();
    for (lindex q = 0; q < kk; ++q) {
      const auto i = static_cast<std::size_t>(order[static_cast<std::size_t>(q)]);
      support.row.push_back(forest.component[i]);
      support.cost.push_back(cj[i] - off[i]);
      lowest = std::min(lowest, cj[i] - x[i]);
    }
    support.ptr.push_back(support.row.size());
    if (c.dual)
      v = x[static_cast<std::size_t>(n + j)];
    else if (!((*c.b)[j] > 0))
      v = std::isfinite(lowest) ? lowest : 0.0;
    beta[static_cast<std::size_t>(j)] = v;
  }
  // Each rank set its own columns: a sum gathers them (exact, one term per entry).
  MPI_Allreduce(MPI_IN_PLACE, beta.data(), static_cast<int>(m), MPI_DOUBLE, MPI_SUM, c.comm);
  std::copy(beta.begin(), beta.end(), xq.begin() + nc);
  sparse::RestrictedQpParams qp_params;
  qp_params.tol = tol;
  qp_params.max_newton = 50;
  qp_params.last_if_unreached = true;
  const auto reduce = [&dd, &c](std::vector<DoubleDouble>& v) { dd.allreduce(v, c.comm); };
  const sparse::RestrictedQpResult qp = sparse::solve_restricted_qp(
      support, am, *c.b, c.gamma, nc, m, c.jb, c.mr, xq, reduce, [](lindex, lindex, double) {},
      qp_params);
  reached = qp.reached;
  std::vector<double> out(x.size());
  for (lindex i = 0; i < n; ++i) {
    const auto q = static_cast<std::size_t>(forest.component[static_cast<std::size_t>(i)]);
    out[static_cast<std::size_t>(i)] = xq[q] + off[static_cast<std::size_t>(i)];
  }
  if (c.dual) std::copy(xq.begin() + nc, xq.end(), out.begin() + n);
  return out;
}

// The TAO callback (-sparse_optimizer tao): −D and −∇D (or −S, −∇S) as doubles.
PetscErrorCode form_function_gradient(Tao, Vec X, PetscReal* f, Vec G, void* ptr) {
  auto& c = *static_cast<Context*>(ptr);
  try {
    const PetscScalar* x = nullptr;
    PetscScalar* g = nullptr;
    PetscCall(VecGetArrayRead(X, &x));
    PetscCall(VecGetArray(G, &g));
    DoubleDouble F;
    evaluate(c, x, F, g);
    *f = F.value();
    PetscCall(VecRestoreArray(G, &g));
    PetscCall(VecRestoreArrayRead(X, &x));
  } catch (...) {  // no exception may cross the callback (only bad_alloc is possible here)
    c.error = std::current_exception();
    return PETSC_ERR_LIB;
  }
  return 0;
}

// One history record per accepted iteration (iteration 0 included); -monitor prints it.
void record_iteration(Context& c, long its, double objective, double g1, double step) {
  IterationRecord record;
  record.iteration = its;
  record.reg = c.gamma;
  record.marginal_error = g1;
  record.objective = objective;
  record.step = step;
  record.inner_iterations = 0;
  record.wall_time = wall_time() - c.t0;
  c.result->history.push_back(record);
  if (c.monitor && its % c.check_every == 0 && comm_rank(c.comm) == 0) {
    std::printf("%8ld  sparse  error %.6e  objective %.15e  step %.3g  %.3f s\n", its, g1,
                objective, step, record.wall_time);
    std::fflush(stdout);
  }
}

// The TAO monitor (-sparse_optimizer tao).
PetscErrorCode monitor(Tao tao, void* ptr) {
  auto& c = *static_cast<Context*>(ptr);
  PetscInt its = 0;
  PetscReal f = 0, gnorm = 0, cnorm = 0, xdiff = 0, g1 = 0;
  TaoConvergedReason reason;
  PetscCall(TaoGetSolutionStatus(tao, &its, &f, &gnorm, &cnorm, &xdiff, &reason));
  Vec G = nullptr;
  PetscCall(TaoGetGradient(tao, &G, nullptr, nullptr));
  PetscCall(VecNorm(G, NORM_1, &g1));
  try {
    record_iteration(c, its, -f, g1, xdiff);
  } catch (...) {
    c.error = std::current_exception();
    return PETSC_ERR_LIB;
  }
  return 0;
}

// TAO's default test (iteration and evaluation caps, -sparse_tao_gatol …), then parot's
// criterion: the marginal L1 error of the recovered plan, ‖gradient‖₁ <= atol.
PetscErrorCode convergence_test(Tao tao, void* ptr) {
  auto& c = *static_cast<Context*>(ptr);
  PetscCall(TaoDefaultConvergenceTest(tao, nullptr));
  TaoConvergedReason reason;
  PetscCall(TaoGetConvergedReason(tao, &reason));
  if (reason != TAO_CONTINUE_ITERATING) return 0;
  Vec G = nullptr;
  PetscReal g1 = 0;
  PetscCall(TaoGetGradient(tao, &G, nullptr, nullptr));
  PetscCall(VecNorm(G, NORM_1, &g1));
  if (g1 <= c.atol) PetscCall(TaoSetConvergedReason(tao, TAO_CONVERGED_USER));
  return 0;
}

Reason reason_of(TaoConvergedReason r) {
  switch (r) {
    case TAO_CONVERGED_USER:
      return Reason::converged_atol;
    case TAO_CONVERGED_GATOL:
    case TAO_CONVERGED_GRTOL:
    case TAO_CONVERGED_GTTOL:
    case TAO_CONVERGED_STEPTOL:
    case TAO_CONVERGED_MINF:
      return Reason::converged_tolerance;
    case TAO_DIVERGED_MAXITS:
    case TAO_DIVERGED_MAXFCN:
      return Reason::diverged_max_it;
    case TAO_DIVERGED_NAN:
      return Reason::diverged_nan;
    case TAO_DIVERGED_LS_FAILURE:
      return Reason::diverged_line_search;
    default:
      return Reason::diverged_stalled;
  }
}

Reason reason_of(sparse::LbfgsStop stop) {
  switch (stop) {
    case sparse::LbfgsStop::atol:
      return Reason::converged_atol;
    case sparse::LbfgsStop::gatol:
    case sparse::LbfgsStop::stationary:
      return Reason::converged_tolerance;
    case sparse::LbfgsStop::line_search:
      return Reason::diverged_line_search;
    case sparse::LbfgsStop::max_it:
    case sparse::LbfgsStop::max_evaluations:
      return Reason::diverged_max_it;
    case sparse::LbfgsStop::nonfinite:
      return Reason::diverged_nan;
  }
  return Reason::diverged_stalled;
}

const char* to_string(sparse::LbfgsStop stop) {
  switch (stop) {
    case sparse::LbfgsStop::atol:
      return "atol";
    case sparse::LbfgsStop::gatol:
      return "gatol";
    case sparse::LbfgsStop::stationary:
      return "stationary";
    case sparse::LbfgsStop::line_search:
      return "line_search";
    case sparse::LbfgsStop::max_it:
      return "max_it";
    case sparse::LbfgsStop::max_evaluations:
      return "max_evaluations";
    case sparse::LbfgsStop::nonfinite:
      return "nonfinite";
  }
  return "";
}

void configure_tao(Tao tao, const SolveParams& params) {
  PAROT_PETSC_CALL(TaoSetOptionsPrefix(tao, "sparse_"));
  PAROT_PETSC_CALL(TaoSetType(tao, TAOLMVM));
  // Only -atol (through convergence_test) stops by default; -sparse_tao_gatol etc. may add more.
  PAROT_PETSC_CALL(TaoSetTolerances(tao, 0.0, 0.0, 0.0));
  const long max_it = std::min(params.max_it, static_cast<long>(INT_MAX / 100));
  PAROT_PETSC_CALL(TaoSetMaximumIterations(tao, static_cast<PetscInt>(max_it)));
  PAROT_PETSC_CALL(TaoSetMaximumFunctionEvaluations(tao, static_cast<PetscInt>(50 * max_it + 100)));
}

// The columns [cols.begin, cols.end) of the n × m cost on this rank, column-major (m_r × n),
// from the row blocks of every rank: one MPI_Alltoallv.
std::vector<double> column_block(const Problem& problem, const Layout& cols) {
  MPI_Comm comm = problem.comm();
  const int P = comm_size(comm);
  const Layout& rows = problem.source.layout;
  const lindex nl = rows.local_size(), m = problem.m(), n = problem.n();
  std::vector<double> tile(static_cast<std::size_t>(nl * m));
  if (nl > 0) problem.cost.tile(0, nl, 0, m, tile.data(), m);
  std::vector<int> scount(P), sdispl(P), rcount(P), rdispl(P);
  std::vector<double> send(tile.size());
  std::size_t pos = 0;
  for (int q = 0; q < P; ++q) {
    sdispl[q] = static_cast<int>(pos);
    for (gindex j = cols.offsets()[q]; j < cols.offsets()[q + 1]; ++j)
      for (lindex i = 0; i < nl; ++i)
        send[pos++] = tile[static_cast<std::size_t>(i * m + j)];
    scount[q] = static_cast<int>(pos) - sdispl[q];
  }
  const lindex mr = cols.local_size();
  std::vector<double> recv(static_cast<std::size_t>(mr * n));
  for (int p = 0, off = 0; p < P; ++p) {
    rcount[p] = static_cast<int>(mr * (rows.offsets()[p + 1] - rows.offsets()[p]));
    rdispl[p] = off;
    off += rcount[p];
  }
  tile.clear();
  tile.shrink_to_fit();
  MPI_Alltoallv(send.data(), scount.data(), sdispl.data(), MPI_DOUBLE, recv.data(), rcount.data(),
                rdispl.data(), MPI_DOUBLE, comm);
  std::vector<double> ct(recv.size());
  for (int p = 0; p < P; ++p) {
    const gindex r0 = rows.offsets()[p], np = rows.offsets()[p + 1] - r0;
    const double* block = recv.data() + rdispl[p];
    for (lindex jl = 0; jl < mr; ++jl)
      for (lindex i = 0; i < np; ++i)
        ct[static_cast<std::size_t>(jl * n + r0 + i)] = block[jl * np + i];
  }
  return ct;
}

// The whole vector of a distributed one, on every rank.
Vector all_gather(const Layout& layout, const Vector& local) {
  MPI_Comm comm = layout.comm();
  const int P = comm_size(comm);
  std::vector<int> count(P), displ(P);
  for (int r = 0; r < P; ++r) {
    count[r] = static_cast<int>(layout.offsets()[r + 1] - layout.offsets()[r]);
    displ[r] = static_cast<int>(layout.offsets()[r]);
  }
  Vector out(layout.global_size());
  MPI_Allgatherv(local.data(), static_cast<int>(layout.local_size()), MPI_DOUBLE, out.data(),
                 count.data(), displ.data(), MPI_DOUBLE, comm);
  return out;
}

}  // namespace

void validate(const SparseParams& p) {
  PAROT_CHECK(p.k >= 1, InvalidArgument,
              "option -sparse_k must be given as an integer k >= 1 (at most k non-zeros per "
              "column, k <= n), got ",
              p.k);
  PAROT_CHECK(p.formulation == "dual" || p.formulation == "semidual", InvalidArgument,
              "option -sparse_formulation must be dual or semidual, got '", p.formulation, "'");
  PAROT_CHECK(p.optimizer == "lbfgs" || p.optimizer == "tao", InvalidArgument,
              "option -sparse_optimizer must be lbfgs or tao, got '", p.optimizer, "'");
  PAROT_CHECK(p.history >= 1 && p.history <= 1000, InvalidArgument,
              "option -sparse_history must be in [1, 1000], got ", p.history);
  PAROT_CHECK(p.plan == "recovered" || p.plan == "feasible", InvalidArgument,
              "option -sparse_plan must be recovered or feasible, got '", p.plan, "'");
  PAROT_CHECK(p.feasible_tol > 0, InvalidArgument, "option -sparse_feasible_tol must be > 0, got ",
              p.feasible_tol);
  PAROT_CHECK(p.support_rounds >= 1, InvalidArgument,
              "option -sparse_support_rounds must be >= 1, got ", p.support_rounds);
  PAROT_CHECK(p.gap_rtol >= 0, InvalidArgument, "option -sparse_gap_rtol must be >= 0, got ",
              p.gap_rtol);
  PAROT_CHECK(p.tie_width > 0, InvalidArgument, "option -sparse_tie_width must be > 0, got ",
              p.tie_width);
  PAROT_CHECK(p.dual_start == "zero" || p.dual_start == "semidual", InvalidArgument,
              "option -sparse_dual_start must be zero or semidual, got '", p.dual_start, "'");
  PAROT_CHECK(p.max_pieces >= 0, InvalidArgument, "option -sparse_max_pieces must be >= 0, got ",
              p.max_pieces);
  PAROT_CHECK(std::isnan(p.stationarity_tol) || p.stationarity_tol >= 0, InvalidArgument,
              "option -sparse_stationarity_tol must be >= 0, got ", p.stationarity_tol);
}

SparseSolver::SparseSolver(MPI_Comm comm, SolveParams params, SparseParams sparse)
    : comm_(comm), sparse_(std::move(sparse)) {
  params_ = params;
}

SparseSolver::~SparseSolver() = default;

void SparseSolver::set_from_options() {
  OptionsBlock block(comm_, options_prefix() + "sparse_", "sparsity-constrained OT options");
  block.integer("k", "at most k non-zeros per column of the plan (1 <= k <= n; required)",
                sparse_.k);
  block.choice("formulation", "maximize the dual or the semi-dual", {"dual", "semidual"},
               sparse_.formulation);
  block.choice("optimizer", "parot's L-BFGS (double-double line search) or PETSc TAO",
               {"lbfgs", "tao"}, sparse_.optimizer);
  block.integer("history", "L-BFGS history length of -sparse_optimizer lbfgs", sparse_.history);
  block.choice("plan", "the plan written: recovered from the dual, or the feasible one",
               {"recovered", "feasible"}, sparse_.plan);
  block.real("feasible_tol", "marginal L1 error the feasible plan must reach",
             sparse_.feasible_tol);
  block.integer("support_rounds",
                "rounds of the restricted problem on the top-k support of the current point",
                sparse_.support_rounds);
  block.real("gap_rtol", "a certified relative gap that counts as converged", sparse_.gap_rtol);
  block.real("tie_width",
             "largest tie width of the ε-subgradient steps, relative to the largest cost",
             sparse_.tie_width);
  block.real("newton_switch",
             "k >= n (dual): L-BFGS down to this marginal error, then semismooth Newton",
             sparse_.newton_switch);
  block.integer("max_pieces",
                "k < n: pieces of the active-set phase that certifies a maximizer (0: off)",
                sparse_.max_pieces);
  block.choice("dual_start", "the dual's start for k < n: zero or the semi-dual's maximizer",
               {"zero", "semidual"}, sparse_.dual_start);
  block.real("stationarity_tol",
             "bundle stationarity measure that counts as converged (default: -atol)",
             sparse_.stationarity_tol);
  block.read();
  if (help_requested() && sparse_.k == 0) sparse_.k = 1;  // -help lists keys; nothing is solved
  validate(sparse_);
  // A scratch TAO reads the -sparse_tao_* keys now: they count as used, bad values fail early.
  TaoPtr tao;
  PAROT_PETSC_CALL(TaoCreate(PETSC_COMM_SELF, tao.out()));
  configure_tao(tao.get(), params_);
  PAROT_PETSC_OPTIONS_CALL(TaoSetFromOptions(tao.get()));
  // Keys read only at set-up or solve time (-sparse_tao_view): set up the scratch TAO on a
  // one-element problem, query the view key.
  petsc::VecPtr x;
  PAROT_PETSC_CALL(VecCreateSeq(PETSC_COMM_SELF, 1, x.out()));
  PAROT_PETSC_CALL(TaoSetSolution(tao.get(), x.get()));
  PAROT_PETSC_CALL_COLLECTIVE(TaoSetUp(tao.get()));
  PetscBool flag = PETSC_FALSE;
  PAROT_PETSC_CALL(PetscOptionsHasName(nullptr, "sparse_", "-tao_view", &flag));
}

SolveResult SparseSolver::solve(const Problem& problem, Solution& solution) {
  validate(params_);
  validate(sparse_);
  MPI_Comm comm = problem.comm();
  const double t0 = wall_time();
  const gindex N = problem.n(), M = problem.m();
  PAROT_CHECK(sparse_.k <= N, InvalidArgument, "option -sparse_k must be <= n = ", N,
              " (the number of source points, i.e. rows of each column), got ", sparse_.k);
  const bool dual = sparse_.formulation == "dual";
  const bool use_tao = sparse_.optimizer == "tao";
  const gindex dim = dual ? N + M : N;
  PAROT_CHECK(dim < INT_MAX / 2, InvalidArgument,
              "the sparse solver needs n + m < 2^30 (32-bit PETSc indices), got n = ", N,
              ", m = ", M);

  SolveResult result;
  result.solver = type();
  result.max_cost = problem.cost.max_value(comm);
  double gamma = params_.reg;
  if (gamma < 0)
    gamma = 0.01 * result.max_cost;
  else if (params_.reg_relative)
    gamma *= result.max_cost;
  PAROT_CHECK(std::isfinite(gamma) && gamma > 0, InvalidArgument,
              "the regularization γ (-reg) must be positive and finite; the largest cost is ",
              result.max_cost, ", which gives reg = ", gamma, " (give an absolute -reg)");
  result.reg = gamma;
  result.reg_relative = result.max_cost > 0 ? gamma / result.max_cost : 0;

  const Layout cols = Layout::uniform(comm, M);
  const lindex nl = problem.source.layout.local_size(), mr = cols.local_size();
  {  // MPI counts of the cost transposition are ints (replicated sizes: a collective check)
    gindex most_rows = 0, most_cols = 0;
    for (int r = 0; r < comm_size(comm); ++r) {
      most_rows = std::max(
          most_rows, problem.source.layout.offsets()[r + 1] - problem.source.layout.offsets()[r]);
      most_cols = std::max(most_cols, cols.offsets()[r + 1] - cols.offsets()[r]);
    }
    PAROT_CHECK(most_rows * M < INT_MAX && most_cols * N < INT_MAX, InvalidArgument,
                "the sparse solver's cost blocks must have < 2^31 entries per rank (n = ", N,
                ", m = ", M, "); use more ranks");
  }
  check_memory(
      comm,
      8.0 * static_cast<double>(N) * static_cast<double>(mr) * 2 +
          16.0 * static_cast<double>(nl) * static_cast<double>(M) +
          8.0 * 12 * static_cast<double>(dim) +
          17.0 * static_cast<double>(std::min<gindex>(sparse_.k, N)) * static_cast<double>(mr),
      "the sparse solver's column block of the cost (16 n m / P bytes during setup) and "
      "the restricted problem's support (17 k m / P bytes)");
  const std::vector<double> ct = column_block(problem, cols);
  const Vector a = all_gather(problem.source.layout, problem.source.weights);
  const Vector& b = problem.target.weights;

  Context c;
  c.comm = comm;
  c.dual = dual;
  c.n = N;
  c.m = M;
  c.jb = cols.begin();
  c.mr = mr;
  c.k = sparse_.k;
  c.gamma = gamma;
  c.ct = ct.data();
  c.a = &a;
  c.b = &b;
  c.s.resize(static_cast<std::size_t>(N));
  c.v.resize(static_cast<std::size_t>(N));
  c.idx.resize(static_cast<std::size_t>(N));
  c.val.resize(static_cast<std::size_t>(N));
  c.red.resize(static_cast<std::size_t>(dim + 1));
  const DoubleDoubleSum dd;
  c.sum = &dd;
  c.result = &result;
  c.monitor = params_.monitor;
  c.check_every = params_.check_every;
  c.atol = params_.atol;
  c.t0 = t0;

  // The unknowns, replicated: α (and β), from the given potentials if they are sized.
  petsc::VecPtr z;
  PAROT_PETSC_CALL(VecCreateSeq(PETSC_COMM_SELF, static_cast<PetscInt>(dim), z.out()));
  PAROT_PETSC_CALL(VecSet(z.get(), 0.0));
  const bool sized = solution.f.size() == nl && solution.f.allFinite() && solution.g.size() == M;
  const bool warm = allreduce_min(comm, sized ? 1.0 : 0.0) > 0 && (!dual || solution.g.allFinite());
  if (warm) {
    const Vector alpha = all_gather(problem.source.layout, solution.f);
    petsc::VecArray zz(z.get());
    for (gindex i = 0; i < N; ++i)
      zz[static_cast<PetscInt>(i)] = alpha[i];
    if (dual)
      for (gindex j = 0; j < M; ++j)
        zz[static_cast<PetscInt>(N + j)] = solution.g[j];
  }

  TaoPtr tao;
  PAROT_PETSC_CALL(TaoCreate(PETSC_COMM_SELF, tao.out()));
  configure_tao(tao.get(), params_);
  PAROT_PETSC_CALL(TaoSetSolution(tao.get(), z.get()));
  PAROT_PETSC_CALL(TaoSetObjectiveAndGradient(tao.get(), nullptr, form_function_gradient, &c));
  PAROT_PETSC_CALL(TaoSetConvergenceTest(tao.get(), convergence_test, &c));
  PAROT_PETSC_CALL(TaoSetMonitor(tao.get(), monitor, &c, nullptr));
  // Always: TAO's defaults are completed by TaoSetFromOptions (the LMVM matrix, line search);
  // the default optimizer takes its iteration cap and gatol from there.
  PAROT_PETSC_OPTIONS_CALL(TaoSetFromOptions(tao.get()));
  Reason reason = Reason::iterating;
  long its = 0;
  long max_iterations = params_.max_it;  // the optimizer's cap (-sparse_tao_max_it may lower it)
  if (use_tao) {
    const PetscErrorCode code = TaoSolve(tao.get());
    if (c.error) std::rethrow_exception(c.error);
    if (code != 0 && c.nonfinite) {  // TAO stops with an error on Inf/NaN; the flag is replicated
      reason = Reason::diverged_nan;
    } else {
      petsc::check(code, petsc::Failure::local, "TaoSolve");
      TaoConvergedReason tr;
      PAROT_PETSC_CALL(TaoGetConvergedReason(tao.get(), &tr));
      reason = reason_of(tr);
      result.extra_text["tao_reason"] = TaoConvergedReasons[tr];
    }
    PetscInt tao_its = 0, tao_cap = 0;
    PAROT_PETSC_CALL(TaoGetIterationNumber(tao.get(), &tao_its));
    PAROT_PETSC_CALL(TaoGetMaximumIterations(tao.get(), &tao_cap));
    its = tao_its;
    max_iterations = tao_cap;
    TaoType tao_type = nullptr;
    PAROT_PETSC_CALL(TaoGetType(tao.get(), &tao_type));
    result.extra_text["tao_type"] = tao_type ? tao_type : "";
  } else {
    PetscInt tao_max_it = 0;
    PetscReal gatol = 0, grtol = 0, gttol = 0;
    PAROT_PETSC_CALL(TaoGetMaximumIterations(tao.get(), &tao_max_it));
    PAROT_PETSC_CALL(TaoGetTolerances(tao.get(), &gatol, &grtol, &gttol));
    sparse::LbfgsParams lp;
    lp.max_it = tao_max_it;
    max_iterations = tao_max_it;
    lp.max_evaluations = 50 * lp.max_it + 100;
    lp.history = static_cast<int>(sparse_.history);
    lp.atol = params_.atol;
    lp.gatol = gatol;
    lp.stationarity_tol =
        std::isnan(sparse_.stationarity_tol) ? params_.atol : sparse_.stationarity_tol;
    std::vector<double> x(static_cast<std::size_t>(dim));
    {
      petsc::VecArray zz(z.get());
      std::copy(zz.data(), zz.data() + dim, x.begin());
    }
    sparse::LbfgsStats stats;
    const auto eval = [&c](const double* xx, DoubleDouble& F, double* g) {
      return evaluate(c, xx, F, g);
    };
    const auto on_step = [&c](long it, const DoubleDouble& F, const std::vector<double>& g,
                              double step) {
      record_iteration(c, it, -F.value(), sparse::detail::norm1(g), step);
    };
    const auto mix = [&c](const std::vector<double>& xx, const std::vector<double>& g, double eps,
                          std::vector<double>& r) { return mixture_residual(c, xx, g, eps, r); };
    lp.eps_max = sparse_.tie_width * std::max(result.max_cost, 1e-300);
    lp.eps_min = 1e-9 * lp.eps_max;
    // The dual from the semi-dual's maximizer (-sparse_dual_start semidual, the default for
    // k < n when no start was given): α from an L-BFGS run on S, β_j = −γ b_j τ_j (an empty
    // column: inactive). On the nonsmooth duals this start is often better than L-BFGS on D
    // from zero; its iterations are not recorded in the history (its objective is S).
    if (dual && !warm && sparse_.k < N && sparse_.dual_start == "semidual" && lp.max_it > 0) {
      c.dual = false;
      std::vector<double> alpha(static_cast<std::size_t>(N), 0.0);
      sparse::LbfgsStats s0;
      sparse::lbfgs_minimize(
          alpha, eval, [](long, const DoubleDouble&, const std::vector<double>&, double) {}, mix,
          lp, s0);
      std::vector<double> beta(static_cast<std::size_t>(M), 0.0);
      for (lindex jl = 0; jl < mr; ++jl) {
        const gindex j = cols.begin() + jl;
        lindex nnz = 0;
        double g_j = 0;
        plan_column(c, jl, alpha.data(), nnz, g_j);
        if (!(b[j] > 0)) {  // below every entry of the column: inactive
          g_j = std::numeric_limits<double>::infinity();
          for (lindex i = 0; i < N; ++i)
            g_j = std::min(
                g_j, ct[static_cast<std::size_t>(jl * N + i)] - alpha[static_cast<std::size_t>(i)]);
        }
        beta[static_cast<std::size_t>(j)] = g_j;
      }
      MPI_Allreduce(MPI_IN_PLACE, beta.data(), static_cast<int>(M), MPI_DOUBLE, MPI_SUM, comm);
      c.dual = true;
      std::copy(alpha.begin(), alpha.end(), x.begin());
      std::copy(beta.begin(), beta.end(), x.begin() + N);
      result.extra["semidual_start_iterations"] = static_cast<double>(s0.iterations);
      c.result->history.clear();
    }
    // k >= n (quadratically regularized OT, a smooth problem): L-BFGS down to
    // -sparse_newton_switch, then semismooth Newton on the whole problem (restricted_qp.hpp with
    // every entry; one iteration of the history), then L-BFGS again if Newton fell short.
    const bool smooth = dual && sparse_.k >= N && sparse_.newton_switch > params_.atol;
    if (smooth) lp.atol = sparse_.newton_switch;
    sparse::LbfgsStop stop = sparse::lbfgs_minimize(x, eval, on_step, mix, lp, stats);
    if (smooth && stop == sparse::LbfgsStop::atol) {
      sparse::Support whole;
      whole.ptr.reserve(static_cast<std::size_t>(mr) + 1);
      for (lindex jl = 0; jl < mr; ++jl) {
        for (lindex i = 0; i < N; ++i) {
          whole.row.push_back(i);
          whole.cost.push_back(ct[static_cast<std::size_t>(jl * N + i)]);
        }
        whole.ptr.push_back(whole.row.size());
      }
      sparse::RestrictedQpParams qp_params;
      qp_params.tol = params_.atol;
      std::vector<double> xq = x;
      const auto reduce = [&dd, comm](std::vector<DoubleDouble>& v) { dd.allreduce(v, comm); };
      const sparse::RestrictedQpResult qp = sparse::solve_restricted_qp(
          whole, a, b, gamma, N, M, cols.begin(), mr, xq, reduce, [](lindex, lindex, double) {},
          qp_params);
      result.extra["newton_iterations"] = static_cast<double>(qp.newton_iterations);
      result.extra["newton_cg_iterations"] = static_cast<double>(qp.cg_iterations);
      std::vector<double> gx(x.size()), gq(x.size());
      DoubleDouble Fx, Fq;
      evaluate(c, x.data(), Fx, gx.data());
      if (evaluate(c, xq.data(), Fq, gq.data()) && kernels::sub(Fq, Fx).value() <= 0) {
        x = xq;
        Fx = Fq;
        gx = gq;
      }
      const long offset = stats.iterations + 1;
      record_iteration(c, offset, -Fx.value(), sparse::detail::norm1(gx), 1.0);
      if (sparse::detail::norm1(gx) <= params_.atol) {
        stats.iterations = offset;
      } else {
        sparse::LbfgsParams lp2 = lp;
        lp2.atol = params_.atol;
        lp2.max_it = std::max(0L, lp.max_it - offset);
        sparse::LbfgsStats s2;
        const auto on_step2 = [&c, offset](long it, const DoubleDouble& F,
                                           const std::vector<double>& g, double step) {
          if (it > 0) record_iteration(c, offset + it, -F.value(), sparse::detail::norm1(g), step);
        };
        stop = sparse::lbfgs_minimize(x, eval, on_step2, mix, lp2, s2);
        stats.iterations = offset + s2.iterations;
        stats.evaluations += s2.evaluations;
        stats.restarts += s2.restarts;
        stats.bundle_steps += s2.bundle_steps;
        if (!std::isnan(s2.stationarity)) stats.stationarity = s2.stationarity;
      }
      if (sparse::detail::norm1(gx) <= params_.atol) stop = sparse::LbfgsStop::atol;
    }
    // k < n: the active-set phase (sparse.hpp, "Certified maximizer"): from x, maximize on the
    // piece where the exact ties at x stay exact, line search on the objective toward that
    // maximizer, and release the tie whose mixture weight leaves [0, 1], until the mixed plan of
    // the ties certifies a maximizer or -sparse_max_pieces pieces were solved.
    if (sparse_.k < N && lp.max_it > 0 && sparse_.max_pieces > 0 &&
        stop != sparse::LbfgsStop::atol && stop != sparse::LbfgsStop::gatol &&
        stop != sparse::LbfgsStop::nonfinite) {
      const std::vector<double> x_start = x;
      const double qp_tol = std::max(0.01 * lp.stationarity_tol, 1e-14);
      long pieces = 0;
      double measure = 0;
      bool certified = false;
      DoubleDouble Fx;
      // Tie width ε = 1e-12 × the largest cost, then (not certified) 1e-10 from where it ended.
      for (const double width : {1e-12, 1e-10}) {
        const double eps_cert = width * std::max(result.max_cost, 1e-300);
        // An attempt may at most double the function evaluations spent so far.
        const long budget = std::max(2 * c.evaluations, 10000L);
        std::vector<std::array<double, 3>> released;  // (column, hub, member)
        std::vector<Swap> swaps;
        const auto ties_at = [&](const std::vector<double>& p) {
          std::vector<sparse::Tie> all = boundary_ties(c, p.data(), eps_cert), kept;
          for (const sparse::Tie& t : all) {
            bool out = false;
            for (const auto& r : released)
              out = out ||
                    (r[0] == static_cast<double>(t.col) && r[1] == static_cast<double>(t.hub) &&
                     r[2] == static_cast<double>(t.member));
            if (!out) kept.push_back(t);
          }
          return kept;
        };
        std::vector<double> flows, gt(x.size()), xt(x.size()), d(x.size());
        std::vector<sparse::Tie> ties = ties_at(x);
        measure = tie_stationarity(c, x, ties, Fx, flows);
        certified = measure <= lp.stationarity_tol;
        long stalls = 0, restarts = 0;
        // Stalled (degenerate pieces): L-BFGS from x for a while, then pieces again (10 times).
        const auto restart = [&]() {
          if (restarts == 10 || c.evaluations >= budget) return false;
          ++restarts;
          sparse::LbfgsParams lr = lp;
          lr.max_it = 200;
          lr.max_evaluations = 50 * lr.max_it;
          sparse::LbfgsStats sr;
          sparse::lbfgs_minimize(
              x, eval, [](long, const DoubleDouble&, const std::vector<double>&, double) {}, mix,
              lr, sr);
          stats.evaluations += sr.evaluations;
          released.clear();
          swaps.clear();
          stalls = 0;
          ties = ties_at(x);
          measure = tie_stationarity(c, x, ties, Fx, flows);
          certified = measure <= lp.stationarity_tol;
          return !certified;
        };
        const long first = pieces;
        while (!certified && pieces - first < sparse_.max_pieces && c.evaluations < budget) {
          ++pieces;
          bool reached = false;
          const std::vector<double> cand =
              tie_piece_maximizer(c, x, ties, swaps, qp_tol, dd, reached);
          for (std::size_t e = 0; e < x.size(); ++e)
            d[e] = cand[e] - x[e];
          // The largest step in (0, 1] along d before −F stops decreasing: bisection on the sign
          // of the directional derivative (−F is convex along d).
          const auto slope = [&](double t, DoubleDouble& Ft) {
            for (std::size_t e = 0; e < x.size(); ++e)
              xt[e] = t == 1 ? cand[e] : x[e] + t * d[e];
            if (!evaluate(c, xt.data(), Ft, gt.data())) return 1.0;
            return sparse::detail::dot(gt, d);
          };
          DoubleDouble F1;
          double t = 1;
          const double slope1 = slope(1.0, F1);
          // A reached maximizer no worse than x is the next point (at its exact ties the slope of
          // the one selection that evaluate() sees says nothing).
          const double rounding = 1e-14 * std::abs(Fx.value());
          if (!(reached && kernels::sub(F1, Fx).value() <= rounding) && slope1 > 0) {
            // A breakpoint first: bracket it on a log scale, bisect.
            double lo = 0.25, hi = 1;
            DoubleDouble Fm;
            while (hi > 1e-30 && slope(lo, Fm) > 0) {
              hi = lo;
              lo *= 0.25;
            }
            if (!(hi > 1e-30)) lo = 0;
            for (int q = 0; q < 60 && hi - lo > 1e-16 * hi; ++q) {
              const double mid = 0.5 * (lo + hi);
              (slope(mid, Fm) > 0 ? hi : lo) = mid;
            }
            t = lo;
          }
          if (!(t > 0)) {  // no ascent toward the piece's maximizer: enforce every tie again
            if (released.empty() && !restart()) break;
            released.clear();
            swaps.clear();
            ties = ties_at(x);
            continue;
          }
          std::vector<double> next(x.size());
          for (std::size_t e = 0; e < x.size(); ++e)
            next[e] = t == 1 ? cand[e] : x[e] + t * d[e];
          DoubleDouble Fn;
          std::vector<double> fl;
          const std::vector<sparse::Tie> tn = ties_at(next);
          const double mn = tie_stationarity(c, next, tn, Fn, fl);
          if (kernels::sub(Fn, Fx).value() > rounding) break;  // no progress
          stalls = kernels::sub(Fn, Fx).value() < -rounding ? 0 : stalls + 1;
          if (stalls > 3) {
            if (!restart()) break;
            continue;
          }
          x = std::move(next);
          Fx = Fn;
          ties = tn;
          flows = fl;
          measure = mn;
          if (measure <= lp.stationarity_tol) {
            certified = true;
            break;
          }
          if (t == 1 &&
              reached) {  // the piece's maximizer: release the tie whose weight leaves [0, 1]
            long worst = -1;
            bool swap = false;
            sparse::worst_weight(ties, flows, worst, swap);
            if (worst < 0) continue;  // the selection changed: a new piece
            const sparse::Tie& w = ties[static_cast<std::size_t>(worst)];
            released.push_back({static_cast<double>(w.col), static_cast<double>(w.hub),
                                static_cast<double>(w.member)});
            if (swap) swaps.push_back(Swap{w.col, w.hub, w.member});
            ties.erase(ties.begin() + worst);
          }
        }
        if (certified) break;
      }
      result.extra["tie_pieces"] = static_cast<double>(pieces);
      stats.stationarity = measure;
      if (x != x_start) {
        std::vector<double> gx(x.size());
        evaluate(c, x.data(), Fx, gx.data());
        ++stats.iterations;
        record_iteration(c, stats.iterations, -Fx.value(), sparse::detail::norm1(gx), 1.0);
      }
      if (certified)
        stop = sparse::LbfgsStop::stationary;
      else if (stop == sparse::LbfgsStop::stationary)  // only an ε-measure of lbfgs.hpp
        stop = sparse::LbfgsStop::line_search;
    }
    {
      petsc::VecArray zz(z.get());
      std::copy(x.begin(), x.end(), zz.data());
    }
    its = stats.iterations;
    reason = reason_of(stop);
    result.extra_text["optimizer_stop"] = to_string(stop);
    result.extra["restarts"] = static_cast<double>(stats.restarts);
    result.extra["bundle_steps"] = static_cast<double>(stats.bundle_steps);
    if (!std::isnan(stats.stationarity)) result.extra["stationarity"] = stats.stationarity;
  }

  // Plan recovery at the final point, with ⟨C, T⟩, marginals and g: one reduction.
  std::vector<double> zc(static_cast<std::size_t>(dim));
  {
    petsc::VecArray zz(z.get());
    std::copy(zz.data(), zz.data() + dim, zc.begin());
  }
  const double threshold = std::max(params_.plan_threshold, 0.0);
  std::vector<DoubleDouble> sums(static_cast<std::size_t>(N + 2 * M + 4));
  DoubleDouble* row = sums.data();
  DoubleDouble* col = row + N;
  DoubleDouble* gpot = col + M;
  DoubleDouble* scal = gpot + M;  // cost, objective part, mass, non-zeros
  double max_nnz = 0;
  SparsePlan& plan = result.plan;
  const auto recover = [&]() {
    std::fill(sums.begin(), sums.end(), DoubleDouble{});
    plan = SparsePlan{};
    max_nnz = 0;
    for (lindex jl = 0; jl < mr; ++jl) {
      const gindex j = cols.begin() + jl;
      lindex nnz = 0;
      double g_j = 0;
      kernels::add(scal[1], plan_column(c, jl, zc.data(), nnz, g_j));
      gpot[j] = DoubleDouble{g_j, 0.0};
      max_nnz = std::max(max_nnz, static_cast<double>(nnz));
      for (lindex q = 0; q < nnz; ++q) {
        const lindex i = c.idx[q];
        const double t = c.val[q];
        kernels::add(row[i], t);
        kernels::add(col[j], t);
        kernels::add(scal[0], t * ct[static_cast<std::size_t>(jl * N + i)]);
        kernels::add(scal[2], t);
        kernels::add(scal[3], 1.0);
        if (t > threshold) {
          plan.row.push_back(i);
          plan.col.push_back(j);
          plan.value.push_back(t);
        }
      }
    }
    dd.allreduce(sums, comm);
    max_nnz = allreduce_max(comm, max_nnz);
  };
  recover();
  std::vector<double> grad(static_cast<std::size_t>(dim));
  DoubleDouble F_final;
  evaluate(c, zc.data(), F_final, grad.data());

  // The feasible k-sparse plan: quadratic OT restricted to the top k entries of every column
  // at the final point (restricted_qp.hpp), started from (α, β). Its primal cost is an upper
  // bound, the (semi-)dual value a lower bound. When the restricted dual's maximizer is a
  // better point of the sparse objective too (always so when the support holds every entry
  // that could be selected, e.g. k = n), it becomes the final point.
  bool feasible_used = false;
  double feasible_src = 0, feasible_tgt = 0, feasible_cost = 0;
  if (max_iterations > 0) {  // -max_it 0 (or -sparse_tao_max_it 0): nothing is solved
    sparse::RestrictedQpParams qp_params;
    qp_params.tol = sparse_.feasible_tol;
    const auto reduce = [&dd, comm](std::vector<DoubleDouble>& v) { dd.allreduce(v, comm); };
    sparse::RestrictedQpResult best;
    SparsePlan best_plan;
    bool have = false;
    long newton = 0, cg = 0, adopted = 0;
    for (long round = 0; round < sparse_.support_rounds; ++round) {
      sparse::Support support;
      support.ptr.reserve(static_cast<std::size_t>(mr) + 1);
      std::vector<lindex> order(static_cast<std::size_t>(N));
      std::vector<double> sj(static_cast<std::size_t>(N));
      for (lindex jl = 0; jl < mr; ++jl) {
        const double* cj = ct.data() + static_cast<std::size_t>(jl * N);
        for (lindex i = 0; i < N; ++i) {
          sj[static_cast<std::size_t>(i)] = zc[static_cast<std::size_t>(i)] - cj[i];
          order[static_cast<std::size_t>(i)] = i;
        }
        const lindex kk = kernels::select_top_k(sj.data(), order.data(), N, sparse_.k, false);
        std::sort(order.begin(), order.begin() + kk);
        for (lindex q = 0; q < kk; ++q) {
          support.row.push_back(order[static_cast<std::size_t>(q)]);
          support.cost.push_back(cj[order[static_cast<std::size_t>(q)]]);
        }
        support.ptr.push_back(support.row.size());
      }
      std::vector<double> xq(static_cast<std::size_t>(N + M));
      std::copy(zc.begin(), zc.begin() + N, xq.begin());
      {  // β: the dual's, or the semi-dual's −γ b_j τ_j; an empty column starts inactive
        std::vector<double> beta(static_cast<std::size_t>(M), 0.0);
        for (lindex jl = 0; jl < mr; ++jl) {
          const gindex j = cols.begin() + jl;
          double v = gpot[j].value();
          if (!dual && !(b[j] > 0)) {
            v = std::numeric_limits<double>::infinity();
            for (std::size_t e = support.ptr[static_cast<std::size_t>(jl)];
                 e < support.ptr[static_cast<std::size_t>(jl) + 1]; ++e)
              v = std::min(v, support.cost[e] - zc[static_cast<std::size_t>(support.row[e])]);
            if (!std::isfinite(v)) v = 0;
          }
          beta[static_cast<std::size_t>(j)] = v;
        }
        // Each rank set its own columns: a sum gathers them (exact, one term per entry).
        MPI_Allreduce(MPI_IN_PLACE, beta.data(), static_cast<int>(M), MPI_DOUBLE, MPI_SUM, comm);
        std::copy(beta.begin(), beta.end(), xq.begin() + N);
      }
      SparsePlan feasible;
      const auto emit = [&](lindex jl, lindex i, double t) {
        if (t > threshold) {
          feasible.row.push_back(i);
          feasible.col.push_back(cols.begin() + jl);
          feasible.value.push_back(t);
        }
      };
      const sparse::RestrictedQpResult qp = sparse::solve_restricted_qp(
          support, a, b, gamma, N, M, cols.begin(), mr, xq, reduce, emit, qp_params);
      newton += qp.newton_iterations;
      cg += qp.cg_iterations;
      const bool better = !have || (qp.reached && !best.reached) ||
                          (qp.reached && qp.primal < best.primal) ||
                          (!qp.reached && !best.reached && qp.marginal_error < best.marginal_error);
      if (better) {
        best = qp;
        best_plan = std::move(feasible);
        have = true;
      }
      // Adopt the restricted maximizer if it is a better point of the sparse objective (always
      // so when the support holds every entry that could be selected, e.g. k = n); then the
      // next round restricts to its own top-k support.
      std::vector<double> cand(xq.begin(), xq.begin() + dim);
      DoubleDouble F_cand;
      if (!evaluate(c, cand.data(), F_cand, grad.data()) ||
          !(kernels::sub(F_cand, F_final).value() < 0))
        break;
      zc = cand;
      F_final = F_cand;
      recover();
      ++adopted;
    }
    evaluate(c, zc.data(), F_final, grad.data());
    result.extra["support_rounds_adopted"] = static_cast<double>(adopted);
    result.extra["feasible_newton_iterations"] = static_cast<double>(newton);
    result.extra["feasible_cg_iterations"] = static_cast<double>(cg);
    result.extra["feasible_marginal_error"] = best.marginal_error;
    result.extra["feasible_source_marginal_error"] = best.source_error;
    result.extra["feasible_target_marginal_error"] = best.target_error;
    result.extra["feasible_transport_cost"] = best.transport;
    result.extra["feasible_primal_objective"] = best.primal;
    result.extra_text["feasible_plan"] =
        best.reached ? "reached" : "not reached: the support may admit no feasible plan";
    if (best.reached) {
      result.has_bounds = true;
      result.bounds.lower = -F_final.value();
      result.bounds.upper = best.primal;
      result.bounds.rounded_source_error = best.source_error;
      result.bounds.rounded_target_error = best.target_error;
      // A closed interval certifies that the (semi-)dual reached its maximum.
      if (!converged(reason) && result.bounds.upper - result.bounds.lower <=
                                    sparse_.gap_rtol * std::abs(result.bounds.upper))
        reason = Reason::converged_rtol;
    }
    if (sparse_.plan == "feasible") {
      plan = std::move(best_plan);
      feasible_used = true;
      feasible_src = best.source_error;
      feasible_tgt = best.target_error;
      feasible_cost = best.transport;
    }
  }
  double src = 0, tgt = 0, src_max = 0, tgt_max = 0;
  for (gindex i = 0; i < N; ++i) {
    const double e = std::abs(row[i].value() - a[i]);
    src += e;
    src_max = std::max(src_max, e);
  }
  for (gindex j = 0; j < M; ++j) {
    const double e = std::abs(col[j].value() - b[j]);
    tgt += e;
    tgt_max = std::max(tgt_max, e);
  }

  solution.f.resize(nl);
  for (lindex i = 0; i < nl; ++i)
    solution.f[i] = zc[static_cast<std::size_t>(problem.source.layout.begin() + i)];
  solution.g.resize(M);
  for (gindex j = 0; j < M; ++j)
    solution.g[j] = dual || b[j] > 0 ? gpot[j].value() : -std::numeric_limits<double>::infinity();

  result.reason = reason;
  result.iterations = its;
  result.transport_cost = scal[0].value();
  if (feasible_used) {  // -sparse_plan feasible: the reported plan is the feasible one
    result.extra["recovered_transport_cost"] = scal[0].value();
    result.extra["recovered_marginal_error"] = src + tgt;
    result.transport_cost = feasible_cost;
    src = feasible_src;
    tgt = feasible_tgt;
  }
  result.objective = -F_final.value();
  result.plan_mass = scal[2].value();
  result.source_marginal_error = src;
  result.target_marginal_error = tgt;
  result.marginal_error = src + tgt;
  result.has_plan = true;
  result.extra["sparse_k"] = static_cast<double>(sparse_.k);
  result.extra_text["sparse_formulation"] = sparse_.formulation;
  result.extra["max_column_nnz"] = max_nnz;
  result.extra["plan_nnz"] = scal[3].value();
  result.extra["source_marginal_error_max"] = src_max;
  result.extra["target_marginal_error_max"] = tgt_max;
  result.extra["function_evaluations"] = static_cast<double>(c.evaluations);
  result.solve_time = allreduce_max(comm, wall_time() - t0);
  if (params_.error_if_not_converged && !converged(reason))
    throw NotConverged(detail::cat("sparse OT did not converge: ", to_string(reason), " after ",
                                   its, " iterations (marginal error ", result.marginal_error, ")"),
                       true);
  return result;
}

}  // namespace parot
