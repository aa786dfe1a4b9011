// SPDX-License-Identifier: BSD-3-Clause
// The final plan evaluation shared by Sinkhorn and SNS.
#include "solver/entropic/final_plan.hpp"

#include "parot/core/comm.hpp"
#include "solver/entropic/sweeps.hpp"

namespace parot::entropic {

void record_final_plan(const Problem& problem, const Vector& f, const Vector& g, double eps,
                       double plan_threshold, SolveResult& result) {
  MPI_Comm comm = problem.comm();
  const Vector& a = problem.source.weights;
  const Vector& b = problem.target.weights;
  const PlanEvaluation plan = evaluate_plan(comm, problem.cost, problem.source.layout.begin(), a, b,
                                            f, g, eps, plan_threshold);
  result.transport_cost = plan.transport_cost;
  result.plan_mass = plan.mass;
  result.source_marginal_error = plan.row_error;
  result.target_marginal_error = plan.col_error;
  result.marginal_error = plan.row_error + plan.col_error;
  // Σ a f + Σ b g over positive weights (zero-weight points have potential −∞).
  double af = 0, bg = 0;
  for (lindex i = 0; i < a.size(); ++i)
    if (a[i] > 0) af += a[i] * f[i];
  for (lindex j = 0; j < b.size(); ++j)
    if (b[j] > 0) bg += b[j] * g[j];
  result.objective = bg + allreduce_sum(comm, af) - eps * plan.mass + eps;
  result.has_plan = plan_threshold >= 0;
  result.plan = plan.plan;
}

}  // namespace parot::entropic
