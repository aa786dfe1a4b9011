// SPDX-License-Identifier: BSD-3-Clause
// Solves a tiny generated problem through the installed public headers.
#include <cstdio>

#include <parot/parot.hpp>

int main(int argc, char** argv) {
  parot::Environment env(argc, argv);
  parot::GenerateParams gp;
  gp.n = 20;
  const parot::Problem problem = parot::generate_problem(env.comm(), gp);
  parot::SolveParams params;
  params.reg = 0.05;
  parot::SinkhornSolver solver(env.comm(), params);
  parot::Solution solution;
  const parot::SolveResult result = solver.solve(problem, solution);
  if (env.rank() == 0)
    std::printf("consumer: parot %s, %s, cost %.6f\n", PAROT_VERSION_STRING,
                parot::to_string(result.reason).c_str(), result.transport_cost);
  return parot::converged(result.reason) ? 0 : 1;
}
