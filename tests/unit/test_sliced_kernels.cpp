// SPDX-License-Identifier: BSD-3-Clause
// 1-D optimal transport by hand, vMF moments, and the vMF sampler (sliced.md §2.2, §5.3).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "kernels/sphere.hpp"
#include "kernels/wasserstein1d.hpp"

using namespace parot::kernels;

namespace {
double w1d(std::vector<double> x, std::vector<double> a, std::vector<double> y,
           std::vector<double> b, double p) {
  Sorted1d u, v;
  std::vector<parot::lindex> order;
  sort_1d(x.data(), a.data(), static_cast<parot::lindex>(x.size()), u, order);
  sort_1d(y.data(), b.data(), static_cast<parot::lindex>(y.size()), v, order);
  return wasserstein_1d_sorted(u, v, p);
}
}  // namespace

TEST(Wasserstein1d, HandCheckedValues) {
  EXPECT_NEAR(w1d({1, 0}, {0.5, 0.5}, {0.5}, {1}, 1), 0.5, 1e-15);
  EXPECT_NEAR(w1d({1, 0}, {0.5, 0.5}, {0.5}, {1}, 2), 0.25, 1e-15);
  const double third = 1.0 / 3;
  EXPECT_NEAR(w1d({2, 0, 1}, {third, third, third}, {0, 2}, {0.5, 0.5}, 1), third, 1e-15);
  EXPECT_NEAR(w1d({2, 0, 1}, {third, third, third}, {0, 2}, {0.5, 0.5}, 2), third, 1e-15);
  // Zero weights carry no mass; equal sizes reduce to sorted matching.
  EXPECT_NEAR(w1d({5, 0, 1}, {0, 0.5, 0.5}, {3, 4}, {0.5, 0.5}, 2), 0.5 * 9 + 0.5 * 9, 1e-14);
}

TEST(VonMisesFisher, MeanResultantMatchesReferenceValues) {
  EXPECT_NEAR(vmf_mean_resultant(3, 1), 0.313035, 1e-6);
  EXPECT_NEAR(vmf_mean_resultant(10, 10), 0.633668, 1e-6);
  EXPECT_NEAR(vmf_mean_resultant(100, 100), 0.619566, 1e-6);
  EXPECT_NEAR(vmf_mean_resultant(784, 5), 0.0063773, 1e-7);
}

TEST(VonMisesFisher, SamplerMomentsWithinFourStandardErrors) {
  for (const auto& [d, kappa] : {std::pair<int, double>{3, 1.0}, {10, 5.0}, {50, 20.0}}) {
    std::vector<double> eps(d, 0.0), theta(d), x(d), a(d), v(d), scratch(d);
    for (int k = 0; k < d; ++k)
      eps[k] = (k % 3 == 0 ? 1.0 : -0.5);
    double norm = 0;
    for (double e : eps)
      norm += e * e;
    for (double& e : eps)
      e /= std::sqrt(norm);
    const int n = 40000;
    double s1 = 0, s2 = 0, q1 = 0, q2 = 0;
    for (int i = 0; i < n; ++i) {
      const double w =
          vmf_components(9, static_cast<std::uint64_t>(i), kappa, d, v.data(), scratch.data());
      double s = 0;
      vmf_reflect(eps.data(), w, v.data(), d, theta.data(), x.data(), a.data(), s);
      double dot = 0, tn = 0;
      for (int k = 0; k < d; ++k) {
        dot += eps[k] * theta[k];
        tn += theta[k] * theta[k];
      }
      ASSERT_NEAR(tn, 1.0, 1e-12);
      s1 += dot;
      q1 += dot * dot;
      s2 += dot * dot;
      q2 += dot * dot * dot * dot;
    }
    const double A = vmf_mean_resultant(d, kappa);
    const double m1 = s1 / n, m2 = s2 / n;
    const double se1 = std::sqrt((q1 / n - m1 * m1) / n), se2 = std::sqrt((q2 / n - m2 * m2) / n);
    EXPECT_NEAR(m1, A, 4 * se1) << "d=" << d << " kappa=" << kappa;
    EXPECT_NEAR(m2, 1 - (d - 1) * A / kappa, 4 * se2) << "d=" << d << " kappa=" << kappa;
  }
}
