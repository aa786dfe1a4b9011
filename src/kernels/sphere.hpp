// SPDX-License-Identifier: BSD-3-Clause
// Random directions on the sphere from the counter-based generator (sliced.md §5, §8): uniform
// directions, and von Mises–Fisher samples by Wood's rejection method.
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/rng.hpp"
#include "parot/core/types.hpp"

namespace parot::kernels {

/// Streams of the sliced estimators: one per use, so that draws never depend on each other.
enum SphereStream : std::uint64_t {
  direction_stream = 101,
  vmf_beta_stream = 102,
  vmf_accept_stream = 103,
  vmf_tangent_stream = 104,
  restart_stream = 105,
};

/// θ = G/‖G‖, G ~ N(0, I_d) drawn at (seed, stream, index·d + k): depends only on the index.
inline void random_direction(std::uint64_t seed, std::uint64_t stream, std::uint64_t index,
                             lindex d, double* theta) {
  double norm = 0;
  for (lindex k = 0; k < d; ++k) {
    theta[k] =
        normal(seed, stream, index * static_cast<std::uint64_t>(d) + static_cast<std::uint64_t>(k));
    norm += theta[k] * theta[k];
  }
  norm = std::sqrt(norm);
  for (lindex k = 0; k < d; ++k)
    theta[k] /= norm;
}

/// The ε-independent parts of a vMF(ε, κ) sample on S^{d−1}, d >= 2 (Wood 1994; sliced.md §5.2):
/// w = εᵀθ by rejection (d = 3: exact inverse CDF) and v uniform on the unit sphere orthogonal
/// to e₁. Every attempt of sample `index` is keyed by (index, attempt), so samples never depend on
/// each other's number of attempts. `scratch` holds d doubles.
inline double vmf_components(std::uint64_t seed, std::uint64_t index, double kappa, lindex d,
                             double* v, double* scratch) {
  const double dm1 = static_cast<double>(d - 1);
  double w = 1.0;
  if (d == 3) {
    const double u = 1.0 - uniform01(seed, vmf_accept_stream, index);
    w = 1.0 + std::log(u + (1.0 - u) * std::exp(-2.0 * kappa)) / kappa;
  } else {
    const double b = dm1 / (2.0 * kappa + std::sqrt(4.0 * kappa * kappa + dm1 * dm1));
    const double x0 = (1.0 - b) / (1.0 + b);
    const double c = kappa * x0 + dm1 * std::log(1.0 - x0 * x0);
    for (std::uint64_t attempt = 0; attempt < 1024; ++attempt) {
      const std::uint64_t key = index * 1024 + attempt;
      // z ~ Beta((d−1)/2, (d−1)/2): from the first coordinate of a uniform point on S^{d−1}.
      random_direction(seed, vmf_beta_stream, key, d, scratch);
      const double z = 0.5 * (1.0 + scratch[0]);
      const double u = 1.0 - uniform01(seed, vmf_accept_stream, key);
      w = (1.0 - (1.0 + b) * z) / (1.0 - (1.0 - b) * z);
      if (kappa * w + dm1 * std::log(1.0 - x0 * w) - c >= std::log(u)) break;
    }
  }
  random_direction(seed, vmf_tangent_stream, index, d, v);
  v[0] = 0;
  double norm = 0;
  for (lindex k = 1; k < d; ++k)
    norm += v[k] * v[k];
  norm = std::sqrt(norm);
  for (lindex k = 1; k < d; ++k)
    v[k] /= norm;
  return w;
}

/// θ = H x with x = w b + sqrt(1 − w²) v around the base axis b = ∓e₁ (sign of ε₁), and the
/// Householder reflection H = I − 2 a aᵀ/s, a = b − ε, s = ‖a‖² >= 2, which maps b to ε
/// (the reparameterized form of sliced.md §5.2). Writes x and a too (for the ε-gradient).
inline void vmf_reflect(const double* eps, double w, const double* v, lindex d, double* theta,
                        double* x, double* a, double& s) {
  const double bsign = eps[0] >= 0 ? -1.0 : 1.0;
  const double r = std::sqrt(std::max(0.0, 1.0 - w * w));
  s = 0;
  double ax = 0;
  for (lindex k = 0; k < d; ++k) {
    x[k] = (k == 0 ? w * bsign : 0.0) + r * v[k];
    a[k] = (k == 0 ? bsign : 0.0) - eps[k];
    s += a[k] * a[k];
    ax += a[k] * x[k];
  }
  for (lindex k = 0; k < d; ++k)
    theta[k] = x[k] - 2.0 * a[k] * ax / s;
}

/// A_d(κ) = I_{d/2}(κ)/I_{d/2−1}(κ) = E[εᵀθ] under vMF(ε, κ), by the continued fraction
/// R_ν = 1/(2(ν+1)/κ + R_{ν+1}) evaluated bottom-up (sliced.md §5.3).
inline double vmf_mean_resultant(lindex d, double kappa) {
  const double nu = 0.5 * static_cast<double>(d) - 1.0;
  double r = 0;
  for (int k = 2000; k >= 0; --k)
    r = 1.0 / (2.0 * (nu + k + 1.0) / kappa + r);
  return r;
}

}  // namespace parot::kernels
