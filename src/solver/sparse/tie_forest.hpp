// SPDX-License-Identifier: BSD-3-Clause
// Ties at the top-k selection boundary of the sparse (semi-)dual: the forest they form over the
// rows, the potentials that make them exact, and the mixed plan that certifies a maximizer.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numeric>
#include <vector>

#include "parot/core/types.hpp"

namespace parot::sparse {

/// One tie of column `col` at its selection boundary: `hub` is the column's k-th selected row
/// (the smallest selected s_i), `member` another row whose s_i is within ε of the hub's (an
/// unselected one, base weight w0 = 0, or a selected one, w0 = 1). `t` is the hub's plan entry
/// (the mass of one unit of selection weight), d = C_member,col − C_hub,col: the tie is exact
/// when α_member − α_hub = d.
struct Tie {
  lindex hub = 0, member = 0;
  gindex col = 0;
  double t = 0, w0 = 0, d = 0;
  double gap = 0;  ///< s_member − s_hub at the point (|gap| <= ε)
};

/// The ties that form a forest over the n rows, in the given order (union–find; a tie that
/// would close a cycle is left out), and a breadth-first order of every tree.
struct TieForest {
  std::vector<unsigned char> accepted;  ///< per tie
  std::vector<lindex> order;            ///< all rows, each tree root first, breadth first
  std::vector<long> parent_tie;         ///< per row: the tie to its parent (−1 for a root)
  std::vector<lindex> component;        ///< per row: 0 .. components − 1, in order of roots
  lindex components = 0;
};

inline TieForest tie_forest(lindex n, const std::vector<Tie>& ties) {
  TieForest f;
  const auto N = static_cast<std::size_t>(n);
  std::vector<lindex> uf(N);
  std::iota(uf.begin(), uf.end(), lindex{0});
  const auto find = [&uf](lindex i) {
    while (uf[static_cast<std::size_t>(i)] != i) {
      uf[static_cast<std::size_t>(i)] =
          uf[static_cast<std::size_t>(uf[static_cast<std::size_t>(i)])];
      i = uf[static_cast<std::size_t>(i)];
    }
    return i;
  };
  f.accepted.assign(ties.size(), 0);
  std::vector<std::vector<std::size_t>> adjacent(N);
  for (std::size_t e = 0; e < ties.size(); ++e) {
    const lindex u = find(ties[e].hub), v = find(ties[e].member);
    if (u == v) continue;
    uf[static_cast<std::size_t>(std::max(u, v))] = std::min(u, v);
    f.accepted[e] = 1;
    adjacent[static_cast<std::size_t>(ties[e].hub)].push_back(e);
    adjacent[static_cast<std::size_t>(ties[e].member)].push_back(e);
  }
  f.parent_tie.assign(N, -1);
  f.component.assign(N, -1);
  f.order.reserve(N);
  for (lindex root = 0; root < n; ++root) {
    if (f.component[static_cast<std::size_t>(root)] >= 0) continue;
    std::size_t head = f.order.size();
    f.order.push_back(root);
    f.component[static_cast<std::size_t>(root)] = f.components;
    while (head < f.order.size()) {
      const lindex u = f.order[head++];
      for (std::size_t e : adjacent[static_cast<std::size_t>(u)]) {
        const lindex v = ties[e].hub == u ? ties[e].member : ties[e].hub;
        if (f.component[static_cast<std::size_t>(v)] >= 0) continue;
        f.component[static_cast<std::size_t>(v)] = f.components;
        f.parent_tie[static_cast<std::size_t>(v)] = static_cast<long>(e);
        f.order.push_back(v);
      }
    }
    ++f.components;
  }
  return f;
}

/// Offsets that make every accepted tie exact: α_i = π_{component(i)} + offset_i (0 at roots).
inline std::vector<double> tie_offsets(const TieForest& f, const std::vector<Tie>& ties) {
  std::vector<double> off(f.order.size(), 0.0);
  for (lindex v : f.order) {
    const long e = f.parent_tie[static_cast<std::size_t>(v)];
    if (e < 0) continue;
    const Tie& t = ties[static_cast<std::size_t>(e)];
    if (t.member == v)
      off[static_cast<std::size_t>(v)] = off[static_cast<std::size_t>(t.hub)] + t.d;
    else
      off[static_cast<std::size_t>(v)] = off[static_cast<std::size_t>(t.member)] - t.d;
  }
  return off;
}

/// Given the row residual r = a − T1 of the plan T recovered at x, the mixed plan: along every
/// accepted tie a mass f moves from the hub to the member of its column (f < 0: the other way),
/// chosen so that every non-root row of the forest has residual 0 (leaves first). In column j
/// this gives the member weight w0 + f/t and the hub weight 1 − Σ f/t: a convex combination of
/// the selections within ε of x when every weight lies in [0, 1]. Returns an upper bound on the
/// row marginal L1 error of such a combination: the roots' residuals plus twice the mass by
/// which weights outside [0, 1] must be clipped. `flows` receives f per tie (0 when left out).
inline double mixture_row_error(const TieForest& f, const std::vector<Tie>& ties,
                                std::vector<double> r, std::vector<double>& flows) {
  flows.assign(ties.size(), 0.0);
  for (std::size_t q = f.order.size(); q-- > 0;) {
    const lindex v = f.order[q];
    const long e = f.parent_tie[static_cast<std::size_t>(v)];
    if (e < 0) continue;
    const Tie& t = ties[static_cast<std::size_t>(e)];
    const lindex u = t.member == v ? t.hub : t.member;
    flows[static_cast<std::size_t>(e)] =
        t.member == v ? r[static_cast<std::size_t>(v)] : -r[static_cast<std::size_t>(v)];
    r[static_cast<std::size_t>(u)] += r[static_cast<std::size_t>(v)];
    r[static_cast<std::size_t>(v)] = 0;
  }
  double error = 0;
  for (double v : r)
    error += std::abs(v);
  // Weights per column: the ties of one column are consecutive (they are listed column by
  // column, hub first).
  const auto clip = [](double w) { return std::abs(w - std::clamp(w, 0.0, 1.0)); };
  double excess = 0;
  for (std::size_t e = 0; e < ties.size();) {
    std::size_t end = e;
    double hub_out = 0;
    while (end < ties.size() && ties[end].col == ties[e].col && ties[end].hub == ties[e].hub) {
      const Tie& t = ties[end];
      const double w = t.w0 + flows[end] / t.t;
      excess += clip(w) * t.t;
      hub_out += flows[end];
      ++end;
    }
    excess += clip(1.0 - hub_out / ties[e].t) * ties[e].t;
    e = end;
  }
  return error + 2 * excess;
}

/// The weight of the mixed plan (mixture_row_error's flows) farthest outside [0, 1]: its tie
/// (`tie`, −1 when every weight is inside) and whether the member should replace the hub in the
/// column's selection (`swap`: the unselected member's weight is above 1, or the hub's below 0).
/// Returns the distance outside [0, 1].
inline double worst_weight(const std::vector<Tie>& ties, const std::vector<double>& flows,
                           long& tie, bool& swap) {
  tie = -1;
  swap = false;
  double worst = 0;
  for (std::size_t e = 0; e < ties.size();) {
    std::size_t end = e;
    double hub_out = 0;
    long largest = -1;  // the member with the largest weight gain (a swap candidate)
    while (end < ties.size() && ties[end].col == ties[e].col && ties[end].hub == ties[e].hub) {
      const Tie& t = ties[end];
      const double w = t.w0 + flows[end] / t.t;
      if (-w > worst) {
        worst = -w;
        tie = static_cast<long>(end);
        swap = false;
      }
      if (w - 1 > worst) {
        worst = w - 1;
        tie = static_cast<long>(end);
        swap = t.w0 == 0;
      }
      if (largest < 0 || flows[end] > flows[static_cast<std::size_t>(largest)])
        largest = static_cast<long>(end);
      hub_out += flows[end];
      ++end;
    }
    const double wh = 1.0 - hub_out / ties[e].t;
    if (-wh > worst && largest >= 0) {
      worst = -wh;
      tie = largest;
      swap = ties[static_cast<std::size_t>(largest)].w0 == 0;
    }
    if (wh - 1 > worst) {  // the hub wants more: release the member that takes the most from it
      worst = wh - 1;
      long smallest = static_cast<long>(e);
      for (std::size_t q = e; q < end; ++q)
        if (flows[q] < flows[static_cast<std::size_t>(smallest)]) smallest = static_cast<long>(q);
      tie = smallest;
      swap = false;
    }
    e = end;
  }
  return worst;
}

}  // namespace parot::sparse
