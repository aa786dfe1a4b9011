#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""parot from a notebook or a script on one core: POT's calls, then parot's own.

    python3 python/examples/serial.py
"""
import numpy as np
import ot

import parot

rng = np.random.default_rng(0)
n = m = 500
X, Y = rng.random((n, 2)), rng.random((m, 2)) ** 2  # a uniform cloud, one skewed to a corner
a, b = np.full(n, 1 / n), np.full(m, 1 / m)
M = ot.dist(X, Y)

# POT's names: switching is a one-line change (ot.sinkhorn -> parot.sinkhorn).
reg = 1e-3 * M.max()
P = parot.sinkhorn(a, b, M, reg, method="sns", stopThr=1e-9)
print(f"sinkhorn (SNS): <M,P> = {(M * P).sum():.6f}, marginal error "
      f"{np.abs(P.sum(1) - a).sum() + np.abs(P.sum(0) - b).sum():.1e}")

# Near-exact OT with a certificate: lower <= OT <= upper, and a feasible sparse plan.
lower, upper, plan = parot.emd2_bounds(a, b, M, rtol=1e-2)
print(f"emd2 in [{lower:.6f}, {upper:.6f}] (POT's exact emd2: {ot.emd2(a, b, M):.6f}), "
      f"plan with {plan.nnz} entries")

# parot's own: point clouds with a named cost (no n x m matrix built), any solver and options.
r = parot.solve(X=X, Y=Y, reg=1e-3, solver="sns", options={"reg_relative": True, "atol": 1e-9})
print(r, f"{r.newton_iterations} Newton steps, {r.solve_time:.2f} s")

# Sliced Wasserstein: the same value at any rank count for a seed.
print("SW_2 =", parot.sliced_wasserstein_distance(X, Y, a, b, n_projections=200, seed=1))
