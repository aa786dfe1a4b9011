// SPDX-License-Identifier: BSD-3-Clause
// The solver registry: solver types by name (the model is PETSc's KSPRegister / libCEED's
// CeedRegister). A new solver is one folder and one register_solver call.
#pragma once

#include <mpi.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "parot/solver/solver.hpp"

namespace parot {

/// Builds a solver of one type on `comm` with the shared params (already validated).
using SolverFactory = std::function<std::unique_ptr<Solver>(MPI_Comm, const SolveParams&)>;

/// What the registry knows of a solver type.
struct SolverTraits {
  std::string description;  ///< one line, listed by -help
  /// The type runs inside near-exact mode (-ot_rtol > 0: AnnealedSolver wraps it).
  bool near_exact = false;
  /// Builds the type's unbalanced variant (params.unbalanced(): -reg_m given); empty: none.
  SolverFactory unbalanced = nullptr;
};

/// Registers (or replaces) the solver type `name`. The built-in types (sinkhorn, sns, sparse)
/// are registered before the first use of the registry. Register the same types on every rank
/// (make_solver's errors are collective because the registry is replicated), before the solves
/// that use them; not thread-safe. @notcollective
/// @throws InvalidArgument (local) for an empty name, a name with whitespace or a leading '-',
/// or an empty factory.
void register_solver(const std::string& name, SolverFactory factory, SolverTraits traits = {});

/// Names of the registered solver types, in registration order (built-ins first).
/// @notcollective
std::vector<std::string> solver_types();

/// The traits of a registered type. @notcollective @throws InvalidArgument (collective) for an
/// unknown name, listing the registered ones.
const SolverTraits& solver_traits(const std::string& type);

/// Builds a solver by type name. With params.ot_rtol > 0 and a near-exact type, the solver is
/// wrapped in AnnealedSolver; with -reg_m (params.unbalanced()) it is the type's unbalanced
/// variant. @notcollective
/// @throws InvalidArgument (collective: names and params are replicated) for an unknown type,
/// -ot_rtol with a type that has no near-exact mode, -reg_m with one that has no unbalanced
/// variant, or invalid params (validate).
std::unique_ptr<Solver> make_solver(MPI_Comm comm, const std::string& type,
                                    const SolveParams& params = {});

}  // namespace parot
