// SPDX-License-Identifier: BSD-3-Clause
// Exact 1-D optimal transport between weighted point sets (sliced.md §2.2): sort, then the
// two-pointer (north-west corner) merge of the cumulative weights.
#pragma once

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "kernels/huge_pages.hpp"
#include "kernels/radix_sort.hpp"
#include "parot/core/types.hpp"

namespace parot::kernels {

/// Sorted atoms of a 1-D measure: values ascending, weights in the same order.
struct Sorted1d {
  std::vector<double> value, weight;
};

namespace sort_1d_detail {

// The sort's scratch, kept per thread between calls: fresh buffers of n keys would be paid in
// page faults on every call (Max-SW and v-DSW sort the same sizes hundreds of times).
struct Scratch {
  HugeBuffer<std::uint64_t> keys, key_scratch;
  HugeBuffer<lindex> index_scratch;
};

inline Scratch& scratch(std::size_t n) {
  thread_local Scratch s;
  if (s.keys.size() < n) {
    s.keys.resize(n);
    s.key_scratch.resize(n);
    s.index_scratch.resize(n);
  }
  return s;
}

}  // namespace sort_1d_detail

/// Sorts (x_i, w_i) by x (stable O(n) radix sort, radix_sort.hpp); zero weights are dropped
/// (they carry no mass). `order` receives the sorted original indices, zero weights included.
/// NaN values must have been rejected by the caller.
inline void sort_1d(const double* x, const double* w, lindex n, Sorted1d& out,
                    std::vector<lindex>& order) {
  const auto count = static_cast<std::size_t>(n);
  sort_1d_detail::Scratch& s = sort_1d_detail::scratch(count);
  order.resize(count);
  for (std::size_t i = 0; i < count; ++i) {
    s.keys[i] = order_key(x[i]);
    order[i] = static_cast<lindex>(i);
  }
  const auto [k, sorted_index] =
      radix_sort(s.keys.data(), s.key_scratch.data(), order.data(), s.index_scratch.data(), count);
  if (sorted_index != order.data()) std::copy(sorted_index, sorted_index + count, order.data());
  out.value.clear();
  out.weight.clear();
  for (std::size_t i = 0; i < count; ++i)
    if (w[order[i]] > 0) {
      out.value.push_back(key_value(k[i]));
      out.weight.push_back(w[order[i]]);
    }
}

inline double power(double t, double p) {
  return p == 2.0 ? t * t : (p == 1.0 ? t : std::pow(t, p));
}

/// W_p^p between two sorted 1-D measures of total mass 1 each. If `visit` is given, it is called
/// with (i, j, mass) for each piece of the monotone optimal plan (indices into the sorted arrays).
template <class Visit>
double wasserstein_1d_sorted(const Sorted1d& u, const Sorted1d& v, double p, Visit&& visit) {
  std::size_t i = 0, j = 0;
  const std::size_t n = u.value.size(), m = v.value.size();
  if (n == 0 || m == 0) return 0.0;
  double ra = u.weight[0], rb = v.weight[0], cost = 0;
  while (i < n && j < m) {
    const double t = std::min(ra, rb);
    cost += t * power(std::abs(u.value[i] - v.value[j]), p);
    visit(i, j, t);
    ra -= t;
    rb -= t;
    // A remainder at rounding level of its atom's weight counts as exhausted (sliced.md §2.2).
    if (ra <= 1e-14 * u.weight[i] && ++i < n) ra = u.weight[i];
    if (rb <= 1e-14 * v.weight[j] && ++j < m) rb = v.weight[j];
  }
  return cost;
}

inline double wasserstein_1d_sorted(const Sorted1d& u, const Sorted1d& v, double p) {
  return wasserstein_1d_sorted(u, v, p, [](std::size_t, std::size_t, double) {});
}

}  // namespace parot::kernels
