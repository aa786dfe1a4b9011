// SPDX-License-Identifier: BSD-3-Clause
// A certified interval for the unregularized OT cost from entropic potentials (issue: near-exact
// OT): a feasible rounded plan above, c-transformed feasible potentials below.
#pragma once

#include "parot/problem/problem.hpp"
#include "parot/solver/result.hpp"

namespace parot {

/// The interval (result.hpp's Bounds) and the local entries of the plan Q behind its upper end
/// (only when a threshold >= 0 was given). Valid for any potentials (f, g); they only decide
/// how tight it is. Both ends are computed in float64: they hold up to the rounding of the sums
/// (relative 1e-13 or so), not more.
struct Certificate {
  Bounds bounds;
  SparsePlan plan;
};

/// Computes the certificate of the potentials (f local rows, g replicated) of the entropic plan
/// P = exp((f ⊕ g − C)/eps), matrix-free, in two passes over the cost:
///  - upper: P is scaled down onto the marginals (rows by min(1, a_i/r_i), then columns by
///    min(1, b_j/c_j), Altschuler–Weed–Rigollet), entries <= `plan_threshold` are dropped, and
///    the mass the rows and columns still lack is moved by the north-west corner (at most
///    n + m − 1 entries) instead of AWR's dense rank-one term. Q is feasible up to rounding.
///  - lower: f^c = c-transform of g over the target support, then g^cc = c-transform of f^c
///    over the source support; weak duality gives Σ a f^c + Σ b g^cc <= OT.
/// `plan_threshold` < 0: no plan is kept and nothing is dropped. Same answer at any rank count
/// up to rounding. @collective{problem.comm()}
Certificate certify(const Problem& problem, const Vector& f, const Vector& g, double eps,
                    double plan_threshold);

}  // namespace parot
