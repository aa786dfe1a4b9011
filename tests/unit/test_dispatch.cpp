// SPDX-License-Identifier: BSD-3-Clause
// Runtime kernel dispatch: the choice of the level, and every kernel of every level this CPU
// runs against the lowest compiled level, within bounds from a rounding analysis.
//
// Why the levels differ at all: every sum runs in the same lane-wise order at every level, and
// the exp arguments are formed by the same operations; what differs is FMA contraction (a·b + c
// rounded once instead of twice) and, through it, fast_exp's polynomial. So, with u = 2^-53 and
// γ_k = k u / (1 − k u):
//   - fast_exp at any level is within E = 53u (relative) of exp: Horner's scheme of degree 13
//     errs by at most γ_26 Σ|r|^i/i! = γ_26 e^{|r|} <= 2 γ_26 e^r for |r| <= ln2/2 (+ one more
//     rounding of the reduced argument and the 1e-17 truncation); two levels: 2E apart.
//   - an exp argument a·b − m that one level contracts differs by at most u(|a·b| + |a·b − m|):
//     a relative change of the term by that much.
//   - a sum of K positive terms (sequential per lane, then the lanes) is within γ_K of the exact
//     sum of its computed terms at either level; two levels: 2 γ_K apart, plus the terms' own
//     relative differences.
//   - operations without a product (lane_sum, maxima, the identical exp arguments of
//     row_lse_merge) are bit-identical.
// A wrong table entry, a wrong level or a miscompiled loop errs by far more than these bounds.
#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "kernels/dispatch.hpp"
#include "kernels/lse.hpp"
#include "parot/version.hpp"

namespace {

using parot::lindex;
using parot::kernels::Isa;
using parot::kernels::KernelTable;
namespace kern = parot::kernels;

constexpr double u = DBL_EPSILON / 2;
constexpr double exp_err = 53 * u;  // fast_exp against exp, any level

double gamma_k(double k) {
  return k * u / (1 - k * u);
}

// The lowest compiled level and every other level this CPU runs.
const KernelTable& reference() {
  return *kern::table(kern::compiled_isas().front());
}
std::vector<const KernelTable*> others() {
  std::vector<const KernelTable*> out;
  for (Isa isa : kern::compiled_isas())
    if (isa != kern::compiled_isas().front() && kern::cpu_supports(isa))
      out.push_back(kern::table(isa));
  return out;
}

std::vector<double> uniform(std::size_t n, double lo, double hi, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  std::vector<double> v(n);
  for (double& x : v)
    x = dist(rng);
  return v;
}

void expect_within(const std::vector<double>& got, const std::vector<double>& ref,
                   const std::vector<double>& tol, const std::string& what) {
  ASSERT_EQ(got.size(), ref.size());
  int failures = 0;
  for (std::size_t k = 0; k < got.size() && failures < 5; ++k)
    if (!(std::abs(got[k] - ref[k]) <= tol[k])) {
      ADD_FAILURE() << what << "[" << k << "]: " << got[k] << " vs " << ref[k] << " (tolerance "
                    << tol[k] << ")";
      ++failures;
    }
}

std::vector<double> relative(const std::vector<double>& ref, double rel) {
  std::vector<double> tol(ref.size());
  for (std::size_t k = 0; k < ref.size(); ++k)
    tol[k] = rel * std::abs(ref[k]);
  return tol;
}

#define FOR_EACH_OTHER_LEVEL(t)                                         \
  if (others().empty()) GTEST_SKIP() << "one kernel level on this CPU"; \
  for (const KernelTable* t : others())                                 \
    if (SCOPED_TRACE(kern::to_string(t->isa)); true)

}  // namespace

TEST(Dispatch, SelectIsa) {
  const std::vector<Isa> avail{Isa::baseline, Isa::avx2};
  std::string warning;
  EXPECT_EQ(kern::select_isa(nullptr, avail, warning), Isa::avx2);
  EXPECT_TRUE(warning.empty());
  EXPECT_EQ(kern::select_isa("", avail, warning), Isa::avx2);
  EXPECT_EQ(kern::select_isa("auto", avail, warning), Isa::avx2);
  EXPECT_EQ(kern::select_isa("baseline", avail, warning), Isa::baseline);
  EXPECT_TRUE(warning.empty());
  EXPECT_EQ(kern::select_isa("avx512", avail, warning), Isa::avx2);  // not available here
  EXPECT_NE(warning.find("PAROT_ISA=avx512"), std::string::npos) << warning;
  EXPECT_NE(warning.find("using avx2"), std::string::npos) << warning;
  EXPECT_EQ(kern::select_isa("sse9", {Isa::native}, warning), Isa::native);
  EXPECT_FALSE(warning.empty());
}

TEST(Dispatch, ActiveLevelIsTheSelectedCompiledLevel) {
  const auto& compiled = kern::compiled_isas();
  ASSERT_FALSE(compiled.empty());
  std::vector<Isa> available;
  for (Isa isa : compiled) {
    ASSERT_NE(kern::table(isa), nullptr);
    EXPECT_EQ(kern::table(isa)->isa, isa);
    if (kern::cpu_supports(isa)) available.push_back(isa);
  }
  EXPECT_TRUE(kern::cpu_supports(compiled.front()));  // baseline or native: always runs
  std::string warning;
  EXPECT_EQ(kern::active().isa, kern::select_isa(std::getenv("PAROT_ISA"), available, warning));
  EXPECT_STREQ(parot::kernel_isa(), kern::to_string(kern::active().isa));
#if defined(__x86_64__)
  if (compiled.front() != Isa::native) {  // the portable build carries the AVX levels
    EXPECT_NE(std::find(compiled.begin(), compiled.end(), Isa::avx2), compiled.end());
    EXPECT_NE(std::find(compiled.begin(), compiled.end(), Isa::avx512), compiled.end());
  }
#endif
}

TEST(Dispatch, CostTilesAgreeAcrossLevels) {
  const lindex ni = 5, nj = 1027, ld = 1032, ys = 1100;  // a tail of 3 columns
  FOR_EACH_OTHER_LEVEL(t) {
    for (lindex d : {1, 2, 3, 5}) {
      const auto x = uniform(ni * d, -1, 1, 1 + d), yt = uniform(d * ys, -1, 1, 11 + d);
      // Σ_k t_k² (or |t_k|^p) over d terms, each level within γ_d of the exact sum.
      const double sum_rel = 2 * gamma_k(d) * (1 + gamma_k(d));
      auto run = [&](const KernelTable& k, int which) {
        std::vector<double> out(ni * ld, 0.0);
        if (which == 0) k.sqeuclidean_tile(x.data(), ni, d, yt.data(), ys, nj, out.data(), ld);
        if (which == 1) k.euclidean_tile(x.data(), ni, d, yt.data(), ys, nj, out.data(), ld);
        if (which >= 2) {
          const double p = which == 2 ? 1.0 : which == 3 ? 2.0 : 3.0;
          k.lp_tile(p, x.data(), ni, d, yt.data(), ys, nj, out.data(), ld);
        }
        return out;
      };
      for (int which = 0; which < 5; ++which) {
        const auto ref = run(reference(), which);
        // The square root halves the sum's relative error and rounds once more at each level.
        const double rel = which == 1 ? sum_rel / 2 + 2 * u : sum_rel;
        expect_within(run(*t, which), ref, relative(ref, rel),
                      "tile " + std::to_string(which) + " d " + std::to_string(d));
      }
    }
  }
}

TEST(Dispatch, LogSumExpMergesAgreeAcrossLevels) {
  const lindex ni = 8, nj = 1021, ld = 1024;
  const double inv_eps = 1 / 0.02;
  const auto c1 = uniform(ni * ld, 0, 1, 21), c2 = uniform(ni * ld, 0, 1.5, 22);
  const auto g = uniform(nj, -0.5, 0.5, 23), f = uniform(ni, -0.5, 0.5, 24);
  // |(g − c)/eps| <= 100 here; arguments after the shift are <= 0 and >= −100.
  const double amax = 2.0 * inv_eps;
  // A term at one level vs exact: fast_exp, and u(|A| + |A − shift|) <= 3u·amax from the argument.
  const double term_rel = exp_err + u * 3 * amax * 1.01;
  FOR_EACH_OTHER_LEVEL(t) {
    {  // rows: two tiles merged (the second rescales); identical arguments, maxima identical
      auto run = [&](const KernelTable& k, std::vector<double>& rmax, std::vector<double>& rsum) {
        rmax.assign(ni, kern::lse_floor);
        rsum.assign(ni, 0.0);
        std::vector<double> v(nj);
        k.row_lse_merge(c1.data(), ld, ni, nj, g.data(), inv_eps, rmax.data(), rsum.data(),
                        v.data());
        k.row_lse_merge(c2.data(), ld, ni, nj, g.data(), inv_eps, rmax.data(), rsum.data(),
                        v.data());
      };
      std::vector<double> m0, s0, m1, s1;
      run(reference(), m0, s0);
      run(*t, m1, s1);
      EXPECT_EQ(m1, m0);
      const double k_terms = 2.0 * (nj / kern::lanes + kern::lanes + 1);
      expect_within(s1, s0, relative(s0, 2 * (2 * exp_err + u + gamma_k(k_terms))), "row rsum");
      // The shifted one-pass form, from the maxima: sums of terms <= 1.
      auto shifted = [&](const KernelTable& k) {
        std::vector<double> rsum(ni, 0.0);
        k.row_sum_shifted(c1.data(), ld, ni, nj, g.data(), inv_eps, m0.data(), rsum.data());
        return rsum;
      };
      const auto r0 = shifted(reference());
      expect_within(shifted(*t), r0,
                    relative(r0, 2 * (term_rel + gamma_k(nj / kern::lanes + kern::lanes + 1))),
                    "row_sum_shifted");
    }
    {  // columns
      auto run = [&](const KernelTable& k, std::vector<double>& cmax, std::vector<double>& csum) {
        cmax.assign(nj, kern::lse_floor);
        csum.assign(nj, 0.0);
        std::vector<double> tmax(nj);
        k.col_lse_merge(c1.data(), ld, ni, nj, f.data(), inv_eps, cmax.data(), csum.data(),
                        tmax.data());
        k.col_lse_merge(c2.data(), ld, ni, nj, f.data(), inv_eps, cmax.data(), csum.data(),
                        tmax.data());
      };
      std::vector<double> m0, s0, m1, s1;
      run(reference(), m0, s0);
      run(*t, m1, s1);
      EXPECT_EQ(m1, m0);
      expect_within(s1, s0, relative(s0, 2 * (term_rel + exp_err + u + gamma_k(2 * ni + 2))),
                    "col csum");
      auto shifted = [&](const KernelTable& k) {
        std::vector<double> csum(nj, 0.0);
        k.col_sum_shifted(c1.data(), ld, ni, nj, f.data(), inv_eps, m0.data(), csum.data());
        return csum;
      };
      const auto r0 = shifted(reference());
      expect_within(shifted(*t), r0, relative(r0, 2 * (term_rel + gamma_k(ni + 1))),
                    "col_sum_shifted");
    }
  }
}

TEST(Dispatch, RowKernelsAgreeAcrossLevels) {
  const lindex n = 4099;
  const auto x = uniform(n, -745, 710, 31), y = uniform(n, -2, 2, 32), z = uniform(n, 0, 3, 33);
  const double lane_k = double(n / kern::lanes + kern::lanes);
  FOR_EACH_OTHER_LEVEL(t) {
    auto apply = [&](const KernelTable& k, auto fn) {
      std::vector<double> out(n);
      fn(k, out);
      return out;
    };
    const auto e0 =
        apply(reference(), [&](auto& k, auto& o) { k.exp_array(x.data(), o.data(), n); });
    expect_within(apply(*t, [&](auto& k, auto& o) { k.exp_array(x.data(), o.data(), n); }), e0,
                  relative(e0, 2 * exp_err), "exp_array");
    // Identical arguments (a sum and a product, never contracted): only fast_exp differs.
    const auto g0 = apply(reference(), [&](auto& k, auto& o) {
      k.gibbs_row(z.data(), n, 0.3, y.data(), 25.0, o.data());
    });
    expect_within(
        apply(*t,
              [&](auto& k, auto& o) { k.gibbs_row(z.data(), n, 0.3, y.data(), 25.0, o.data()); }),
        g0, relative(g0, 2 * exp_err), "gibbs_row");
    const auto d0 = apply(reference(), [&](auto& k, auto& o) {
      k.exp_scaled_diff(y.data(), z.data(), n, 40.0, o.data());
    });
    expect_within(
        apply(*t,
              [&](auto& k, auto& o) { k.exp_scaled_diff(y.data(), z.data(), n, 40.0, o.data()); }),
        d0, relative(d0, 2 * exp_err), "exp_scaled_diff");
    // y += s x: u(|s x| + |result|) at a level that rounds twice, u |result| with FMA.
    const auto a0 = apply(reference(), [&](auto& k, auto& o) {
      o = y;
      k.add_scaled(o.data(), z.data(), -0.7, n);
    });
    std::vector<double> tol(n);
    for (lindex i = 0; i < n; ++i)
      tol[i] = 2 * u * (0.7 * z[i] + std::abs(a0[i])) * 1.01;
    expect_within(apply(*t,
                        [&](auto& k, auto& o) {
                          o = y;
                          k.add_scaled(o.data(), z.data(), -0.7, n);
                        }),
                  a0, tol, "add_scaled");
    // Sums in lane order: no product, bit-identical; with products, 2 γ_K Σ|terms|.
    EXPECT_EQ(t->lane_sum(y.data(), n), reference().lane_sum(y.data(), n));
    double abs_dot = 0;
    for (lindex i = 0; i < n; ++i)
      abs_dot += std::abs(y[i] * z[i]);
    EXPECT_NEAR(t->lane_dot(y.data(), z.data(), n), reference().lane_dot(y.data(), z.data(), n),
                2 * gamma_k(lane_k + 1) * abs_dot);
    const double s0 = reference().exp_sum(y.data(), n, 1.5);
    EXPECT_NEAR(t->exp_sum(y.data(), n, 1.5), s0, 2 * (exp_err + gamma_k(lane_k + 1)) * s0);
  }
}

TEST(Dispatch, TruncatedRowPassAgreesAcrossLevels) {
  // CSR support: row i holds 3 + (37 i mod 200) entries; row 3 sums to > 1e280 (the fallback
  // against its maximum); row 5 has zero weight.
  const lindex n = 40, m = 300;
  std::vector<std::int64_t> ptr{0};
  std::vector<std::int32_t> col;
  for (lindex i = 0; i < n; ++i) {
    const lindex len = 3 + (37 * i) % 200;
    for (lindex q = 0; q < len; ++q)
      col.push_back(static_cast<std::int32_t>((i * 7 + q * 3) % m));
    ptr.push_back(static_cast<std::int64_t>(col.size()));
  }
  auto cost = uniform(col.size(), 0, 1, 41);
  for (std::int64_t q = ptr[3]; q < ptr[4]; ++q)
    cost[q] = -14.5;  // (f + g − C)/eps ≈ 725: exp clamps, the sum leaves the safe range
  auto a = uniform(n, 0.5 / n, 1.5 / n, 42);
  a[5] = 0;
  const auto f_in = uniform(n, -0.2, 0.2, 43), g = uniform(m, -0.2, 0.2, 44);
  const double eps = 0.02;
  FOR_EACH_OTHER_LEVEL(t) {
    for (double omega : {1.0, 1.5}) {
      auto run = [&](const KernelTable& k, std::vector<double>& f, std::vector<double>& sums) {
        f = f_in;
        sums.assign(m, 0.0);
        std::vector<double> scratch(m);
        return k.sparse_row_pass(ptr.data(), col.data(), cost.data(), n, a.data(), f.data(),
                                 g.data(), eps, omega, sums.data(), scratch.data());
      };
      std::vector<double> f0, s0, f1, s1;
      const auto p0 = run(reference(), f0, s0);
      const auto p1 = run(*t, f1, s1);
      EXPECT_FALSE(p0.bad);
      EXPECT_EQ(p1.bad, p0.bad);
      // Row sums r_i: identical arguments, terms 2E apart, sums 2 γ_K apart (K <= 203/8 + 8).
      const double r_rel = 2 * (exp_err + gamma_k(203.0 / kern::lanes + kern::lanes + 1));
      // f_i = f_i + ω ε log(a_i/r_i): ε ω (r_rel + u·|log|, the log and the quotient) plus the
      // roundings of the update itself; the fallback row takes log r from libm at both levels.
      std::vector<double> ftol(n), abs_af(1, 0.0);
      for (lindex i = 0; i < n; ++i) {
        const double step = std::abs(f0[i] - f_in[i]);
        ftol[i] = omega * eps * (r_rel + 4 * u) + 4 * u * (std::abs(f0[i]) + step) + 4 * u * step;
        abs_af[0] += std::abs(a[i] * f_in[i]);
      }
      expect_within(f1, f0, ftol, "f omega " + std::to_string(omega));
      // Safe rows: r_i = a_i exp(−(f_i − f_i^in)/(ω ε)), log(a_i/r_i) = ls_i. Column terms are
      // e_ij·scale_i: e_ij 2E apart; scale_i = a_i/r_i (ω = 1) or exp(ω ls_i), apart by
      // ω r_rel plus the roundings of the quotient, log, product and exp, 6u(1 + ω|ls_i|).
      // The fallback row's terms have identical arguments (libm exp at both levels).
      double scale_rel = 0, r_diff = 0;
      for (lindex i = 0; i < n; ++i) {
        if (i == 3 || !(a[i] > 0)) continue;
        const double ls = (f0[i] - f_in[i]) / (omega * eps);
        scale_rel = std::max(scale_rel, omega * r_rel + 6 * u * (1 + omega * std::abs(ls)));
        r_diff += r_rel * a[i] * std::exp(-ls) * (1 + 1e-6);  // Σ |Δr_i| over the safe rows
      }
      expect_within(s1, s0, relative(s0, 2 * exp_err + scale_rel + 2 * u + 2 * gamma_k(n)),
                    "column sums omega " + std::to_string(omega));
      EXPECT_NEAR(p1.af, p0.af, 2 * gamma_k(n) * abs_af[0]);
      // error = Σ|r_i − a_i|: the rows' differences, plus the summation (the fallback row's
      // term is identical).
      EXPECT_NEAR(p1.error, p0.error, r_diff + 2 * gamma_k(n) * p0.error);
    }
  }
}
