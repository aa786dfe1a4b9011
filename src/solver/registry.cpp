// SPDX-License-Identifier: BSD-3-Clause
// The solver registry (see registry.hpp).
#include "parot/solver/registry.hpp"

#include <algorithm>
#include <cctype>

#include "parot/core/error.hpp"
#include "parot/solver/annealed.hpp"
#include "parot/solver/sinkhorn.hpp"
#include "parot/solver/sns.hpp"
#include "parot/solver/sparse.hpp"
#include "parot/solver/unbalanced.hpp"

namespace parot {

namespace {

struct Entry {
  std::string name;
  SolverFactory factory;
  SolverTraits traits;
};

template <class S>
SolverFactory factory_of() {
  return [](MPI_Comm comm, const SolveParams& params) { return std::make_unique<S>(comm, params); };
}

// The registry, with the built-in types registered on first use (no static initialization
// order to depend on, and nothing for a static link to drop).
std::vector<Entry>& entries() {
  static std::vector<Entry> registry = {
      {"sinkhorn",
       factory_of<SinkhornSolver>(),
       {"log-domain Sinkhorn (entropic OT; unbalanced with -reg_m)", true,
        factory_of<UnbalancedSinkhornSolver>()}},
      {"sns", factory_of<SnsSolver>(), {"Sinkhorn-Newton-Sparse (entropic OT)", true}},
      {"sparse", factory_of<SparseSolver>(), {"sparsity-constrained OT (-sparse_k)", false}},
  };
  return registry;
}

Entry* find(const std::string& name) {
  auto& all = entries();
  const auto it =
      std::find_if(all.begin(), all.end(), [&](const Entry& e) { return e.name == name; });
  return it == all.end() ? nullptr : &*it;
}

std::string join(const std::vector<std::string>& names, const char* last_separator) {
  std::string list;
  for (std::size_t i = 0; i < names.size(); ++i)
    list += (i == 0 ? "" : i + 1 == names.size() ? last_separator : ", ") + names[i];
  return list;
}

}  // namespace

void register_solver(const std::string& name, SolverFactory factory, SolverTraits traits) {
  const bool well_formed =
      !name.empty() && name.front() != '-' &&
      std::none_of(name.begin(), name.end(), [](unsigned char c) { return std::isspace(c); });
  if (!well_formed) throw InvalidArgument("register_solver: invalid solver name '" + name + "'");
  if (!factory) throw InvalidArgument("register_solver: solver '" + name + "' has no factory");
  if (Entry* existing = find(name)) {
    existing->factory = std::move(factory);
    existing->traits = std::move(traits);
    return;
  }
  entries().push_back({name, std::move(factory), std::move(traits)});
}

std::vector<std::string> solver_types() {
  std::vector<std::string> names;
  for (const Entry& e : entries())
    names.push_back(e.name);
  return names;
}

const SolverTraits& solver_traits(const std::string& type) {
  const Entry* entry = find(type);
  if (!entry)
    throw InvalidArgument(
        "unknown solver '" + type + "' (available: " + join(solver_types(), ", ") + ")", true);
  return entry->traits;
}

std::unique_ptr<Solver> make_solver(MPI_Comm comm, const std::string& type,
                                    const SolveParams& params) {
  validate(params);
  const SolverTraits& traits = solver_traits(type);
  if (params.unbalanced()) {
    if (traits.unbalanced) return traits.unbalanced(comm, params);
    std::vector<std::string> unbalanced;
    for (const Entry& e : entries())
      if (e.traits.unbalanced) unbalanced.push_back(e.name);
    throw InvalidArgument("option -reg_m (unbalanced OT) works with -solver " +
                              join(unbalanced, " or ") + ", not '" + type + "'",
                          true);
  }
  if (params.ot_rtol > 0 && traits.near_exact) {
    SolveParams inner = params;
    inner.ot_rtol = 0;
    return std::make_unique<AnnealedSolver>(comm, make_solver(comm, type, inner), params);
  }
  if (params.ot_rtol != 0) {
    std::vector<std::string> near_exact;
    for (const Entry& e : entries())
      if (e.traits.near_exact) near_exact.push_back(e.name);
    throw InvalidArgument(
        "option -ot_rtol works with -solver " + join(near_exact, " or ") + ", not '" + type + "'",
        true);
  }
  return find(type)->factory(comm, params);
}

}  // namespace parot
