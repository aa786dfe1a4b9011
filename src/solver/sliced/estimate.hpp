// SPDX-License-Identifier: BSD-3-Clause
// The SW Monte Carlo estimator with Gaussian control variates, as reduction state (sliced.md
// §3, §9.3): shared by the replicated and the distributed slice loops.
#pragma once

#include <mpi.h>

#include "parot/solver/sliced.hpp"

namespace parot::sliced {

/// E[C] under uniform θ: ‖Δm‖²/d (lower) or (‖Δm‖² + tr Σ_μ + tr Σ_ν)/d (upper); 0 without CV.
double cv_expectation(const SlicedParams& params, const Vector& mean_difference, double trace_mu,
                      double trace_nu);

/// C(θ) for one slice: (θᵀΔm)² (+ the two projected variances for the upper variate).
double cv_value(const SlicedParams& params, const double* theta, const Vector& mean_difference,
                double projected_variance_mu, double projected_variance_nu);

/// Σf, Σf², Σ(C−E), Σf(C−E), Σ(C−E)² over the slices a rank handled.
struct SwSums {
  double s[5] = {0, 0, 0, 0, 0};
  void add(double f, double c_minus_e) {
    s[0] += f;
    s[1] += f * f;
    s[2] += c_minus_e;
    s[3] += f * c_minus_e;
    s[4] += c_minus_e * c_minus_e;
  }
};

/// One reduction of the sums, then the plain or control-variate estimate (textbook coefficient,
/// relative guard), its standard error and the variance reduction. @collective{comm}
SlicedResult finish_sw(MPI_Comm comm, SwSums sums, const SlicedParams& params, double expected);

}  // namespace parot::sliced
