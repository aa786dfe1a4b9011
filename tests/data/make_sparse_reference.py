#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
# Generates the sparsity-constrained OT reference problems of sparse_ot.md §6 and their references.
"""Make the reference problems and values for parot's sparse OT tests (sparse_ot.md §6).

Writes next to this script:

  sparse_pot2d_problem.h5  sparse_ot.md §6.1 (POT's unit-test case): 100 points
                           numpy.random.RandomState(0).randn(100, 2), source = target, uniform
                           weights, cost sqeuclidean (from the points, not normalized)
  sparse_1d_problem.h5     sparse_ot.md §6.2: n = m = 100 bins x_i = i, Gaussian histograms
                           (means 20 and 60, std 5 and 10), explicit cost
                           /cost = (x_i - x_j)^2 / max
  sparse_reference.h5      one group per case (/pot2d, /1d) with
      attributes emd_cost (exact OT cost <C, T> by ot.emd), qot_cost, qot_objective (quadratic OT,
                 gamma as below, by POT's ot.smooth.smooth_ot_dual, reg_type 'l2': the k = n
                 limit), gamma, k_ref
      /qot_plan  [n, m] the quadratically regularized plan of POT
      /<formulation>_k<k> groups (numpy + SciPy L-BFGS-B re-implementation of sparse_ot.md §2-4,
                 independent of parot's C++): attributes source_marginal_error,
                 target_marginal_error (L1), source_marginal_error_max,
                 target_marginal_error_max (entrywise), transport_cost, max_column_nnz,
                 objective, iterations

POT 0.8.2 (Debian 12's python3-pot) has no sparsity-constrained regularizer, hence the
re-implementation. Its numbers depend on the optimizer path: tests assert properties and loose
agreement, not digits.

  sparse_set/<name>_problem.h5, sparse_set_reference.h5   with --set [max_size]: the seeded
                 acceptance set PROBLEM_SET (20 problems) and reference objectives (SciPy L-BFGS-B
                 restarted until no improvement; independent of parot's C++); problems larger
                 than max_size are skipped (jobs/bench_sparse.py builds them from the same seeds)

Usage:  /usr/bin/python3 tests/data/make_sparse_reference.py [--set [max_size]]
"""
import os

import h5py
import numpy as np
import ot
from scipy.optimize import minimize

HERE = os.path.dirname(os.path.abspath(__file__))


def write_problem(path, a, b, name, X=None, Y=None, C=None):
    if os.path.exists(path):  # keep the committed inputs bit for bit (NumPy versions differ)
        return
    with h5py.File(path, "w") as h5:
        h5.attrs["format"] = "parot-problem"
        h5.attrs["format_version"] = np.int64(1)
        h5.attrs["name"] = name
        h5.attrs["n"] = np.int64(len(a))
        h5.attrs["m"] = np.int64(len(b))
        h5.create_dataset("source/weights", data=a.astype(np.float64))
        h5.create_dataset("target/weights", data=b.astype(np.float64))
        if C is not None:
            h5.attrs["cost"] = "matrix"
            h5.create_dataset("cost", data=C.astype(np.float64))
        else:
            h5.attrs["cost"] = "sqeuclidean"
            h5.attrs["p"] = 2.0
            h5.attrs["d"] = np.int64(X.shape[1])
            h5.create_dataset("source/points", data=X.astype(np.float64))
            h5.create_dataset("target/points", data=Y.astype(np.float64))


def topk_mask(S, k):
    """Boolean mask of the k largest entries of every column of S."""
    n = S.shape[0]
    if k >= n:
        return np.ones_like(S, dtype=bool)
    idx = np.argpartition(-S, k - 1, axis=0)[:k]
    mask = np.zeros_like(S, dtype=bool)
    np.put_along_axis(mask, idx, True, axis=0)
    return mask


def delta_omega(S, gamma, k):
    P = np.maximum(S, 0) * topk_mask(S, k)
    return np.sum(P * P, axis=0) / (2 * gamma), P / gamma


def sparse_projection(V, k):
    """P_{Delta,k} column by column (sparse_ot.md §2.2)."""
    T = np.zeros_like(V)
    for j in range(V.shape[1]):
        v = V[:, j]
        top = np.argsort(-v, kind="stable")[:k]
        u = v[top]
        css = np.cumsum(u) - 1.0
        r = np.arange(1, len(u) + 1)
        rho = np.nonzero(u - css / r > 0)[0][-1]
        tau = css[rho] / (rho + 1)
        T[top, j] = np.maximum(u - tau, 0)
    return T


def max_omega(S, b, gamma, k):
    G = sparse_projection(S / (b * gamma), k)
    val = np.sum(S * G, axis=0) - 0.5 * gamma * b * np.sum(G * G, axis=0)
    return val, G


def lbfgsb_with_restarts(fg, z0, tol, maxiter, restarts=200):
    """SciPy L-BFGS-B from z0, restarted (fresh memory) from its best point until a restart no
    longer lowers the objective: on the nonsmooth (k < n) duals a single run stops at a kink,
    often well before the optimum. Returns (z, objective, total iterations)."""
    z, best, nit = z0, fg(z0)[0], 0
    for _ in range(restarts):
        res = minimize(fg, z, jac=True, method="L-BFGS-B", tol=tol,
                       options=dict(maxiter=maxiter, maxfun=20 * maxiter))
        nit += res.nit
        if not res.fun < best:
            break
        z, best = res.x, res.fun
    return z, best, nit


def solve(a, b, C, gamma, k, formulation, tol, maxiter, start=None):
    n, m = C.shape
    if formulation == "dual":
        def fg(z):
            al, be = z[:n], z[n:]
            val, T = delta_omega(al[:, None] + be[None, :] - C, gamma, k)
            obj = a @ al + b @ be - val.sum()
            return -obj, -np.concatenate([a - T.sum(1), b - T.sum(0)])
        z0 = np.zeros(n + m) if start is None else start
    else:
        def fg(al):
            val, G = max_omega(al[:, None] - C, b, gamma, k)
            T = G * b
            return -(a @ al - b @ val), -(a - T.sum(1))
        z0 = np.zeros(n)
    z, best, nit = lbfgsb_with_restarts(fg, z0, tol, maxiter)
    if formulation == "dual":
        T = delta_omega(z[:n, None] + z[None, n:] - C, gamma, k)[1]
    else:
        T = max_omega(z[:, None] - C, b, gamma, k)[1] * b
    return T, -best, nit, z


def semidual_beta(al, b, C, gamma, k):
    """β_j = −γ b_j τ_j of the semi-dual's sparse projections: a dual point from α."""
    n, m = C.shape
    beta = np.zeros(m)
    for j in range(m):
        v = (al - C[:, j]) / (gamma * b[j])
        u = v[np.argsort(-v, kind="stable")[:k]]
        css = np.cumsum(u) - 1.0
        r = np.arange(1, len(u) + 1)
        rho = np.nonzero(u - css / r > 0)[0][-1]
        beta[j] = -gamma * b[j] * css[rho] / (rho + 1)
    return beta


def reference(group, a, b, C, gamma, ks, tol, maxiter):
    group.attrs["emd_cost"] = float(ot.emd2(a, b, C, numItermax=10**7))
    Tq = ot.smooth.smooth_ot_dual(a, b, C, gamma, reg_type="l2", stopThr=1e-14, numItermax=20000)
    group.attrs["gamma"] = gamma
    group.attrs["qot_cost"] = float(np.sum(Tq * C))
    group.attrs["qot_objective"] = float(np.sum(Tq * C) + 0.5 * gamma * np.sum(Tq * Tq))
    group.attrs["qot_max_column_nnz"] = int((Tq > 0).sum(0).max())
    group.create_dataset("qot_plan", data=Tq)
    semidual_point = {}
    for formulation in ("semidual", "dual"):
        for k in ks:
            T, obj, nit, z = solve(a, b, C, gamma, k, formulation, tol, maxiter)
            if formulation == "semidual":
                semidual_point[k] = z
            else:  # also from the semi-dual's optimum lifted to (α, β); keep the better one
                al = semidual_point[k]
                start = np.concatenate([al, semidual_beta(al, b, C, gamma, k)])
                T2, obj2, nit2, _ = solve(a, b, C, gamma, k, formulation, tol, maxiter, start)
                if obj2 > obj:
                    T, obj, nit = T2, obj2, nit2
            g = group.create_group(f"{formulation}_k{k}")
            rows, cols = np.abs(T.sum(1) - a), np.abs(T.sum(0) - b)
            g.attrs.update(dict(
                source_marginal_error=rows.sum(), target_marginal_error=cols.sum(),
                source_marginal_error_max=rows.max(), target_marginal_error_max=cols.max(),
                transport_cost=float(np.sum(T * C)), max_column_nnz=int((T > 0).sum(0).max()),
                objective=obj, iterations=nit))
            print(f"{group.name} {formulation} k={k}: rows {rows.sum():.3e} (max {rows.max():.2e})"
                  f" cols {cols.sum():.3e} (max {cols.max():.2e}) cost {np.sum(T * C):.6f}"
                  f" nnz {int((T > 0).sum(0).max())} it {nit}")


# The seeded acceptance set (issue 15): 20 problems, n, m from 20 to 2000, k in {1, 2, 3, 5, n},
# gamma from 1e-2 to 1 of the largest cost, 2-D clouds (sqeuclidean) and explicit random costs.
# (name, family, n, m, k, gamma relative to the largest cost, formulation, seed); k = 0 is n.
PROBLEM_SET = [
    ("s00", "clouds", 20, 20, 1, 1.0, "dual", 100),
    ("s01", "random", 20, 30, 2, 0.3, "semidual", 101),
    ("s02", "clouds", 30, 20, 3, 0.1, "dual", 102),
    ("s03", "random", 30, 30, 5, 0.03, "semidual", 103),
    ("s04", "clouds", 40, 30, 0, 0.01, "dual", 104),
    ("s05", "random", 40, 40, 1, 0.1, "semidual", 105),
    ("s06", "clouds", 50, 40, 2, 1.0, "dual", 106),
    ("s07", "random", 50, 60, 3, 0.01, "semidual", 107),
    ("s08", "clouds", 60, 50, 5, 0.3, "dual", 108),
    ("s09", "random", 80, 60, 0, 0.1, "semidual", 109),
    ("s10", "clouds", 100, 80, 1, 0.03, "dual", 110),
    ("s11", "random", 100, 100, 2, 1.0, "semidual", 111),
    ("s12", "clouds", 120, 100, 3, 0.3, "semidual", 112),
    ("s13", "random", 150, 120, 5, 0.1, "dual", 113),
    ("s14", "clouds", 200, 150, 0, 0.03, "semidual", 114),
    ("s15", "random", 200, 200, 2, 0.01, "dual", 115),
    ("s16", "clouds", 300, 300, 5, 0.1, "semidual", 116),
    ("s17", "random", 500, 400, 3, 0.3, "dual", 117),
    ("s18", "clouds", 1000, 800, 2, 0.1, "semidual", 118),
    ("s19", "clouds", 2000, 2000, 0, 0.1, "dual", 119),
]


def set_problem(family, n, m, seed):
    """(a, b, C, X, Y): X, Y are None for explicit random costs."""
    rng = np.random.default_rng(seed)
    if family == "clouds":
        X = rng.uniform(0, 1, (n, 2))
        Y = rng.uniform(0, 1, (m, 2)) + np.array([0.3, 0.0])
        a = np.full(n, 1.0 / n)
        b = np.full(m, 1.0 / m)
        return a, b, ot.dist(X, Y), X, Y
    C = rng.uniform(0, 1, (n, m))
    a = rng.uniform(0.5, 1.5, n)
    b = rng.uniform(0.5, 1.5, m)
    return a / a.sum(), b / b.sum(), C, None, None


def problem_set(max_size=2000):
    """Writes sparse_set/<name>_problem.h5 (n, m <= max_size) and sparse_set_reference.h5: per
    problem the attributes of PROBLEM_SET and the reference objective (L-BFGS-B with restarts;
    for the dual also from the lifted semi-dual optimum), its iterations and the recovered
    plan's marginal errors."""
    folder = os.path.join(HERE, "sparse_set")
    os.makedirs(folder, exist_ok=True)
    with h5py.File(os.path.join(HERE, "sparse_set_reference.h5"), "a") as ref:
        for name, family, n, m, k, rel, formulation, seed in PROBLEM_SET:
            if max(n, m) > max_size or name in ref:
                continue
            a, b, C, X, Y = set_problem(family, n, m, seed)
            kk = n if k == 0 else k
            gamma = rel * C.max()
            path = os.path.join(folder, f"{name}_problem.h5")
            if family == "clouds":
                write_problem(path, a, b, f"sparse set {name}", X=X, Y=Y)
            else:
                write_problem(path, a, b, f"sparse set {name}", C=C)
            T, obj, nit, z = solve(a, b, C, gamma, kk, formulation, 1e-12, 5000)
            # The lift of the semi-dual optimum helps on the nonsmooth (k < n) duals; for k >= n
            # (smooth: quadratic OT) it is skipped (s19: the semi-dual's column-by-column
            # projections at n = m = 2000 take hours here). Stored references are kept as they are.
            if formulation == "dual" and kk < n:
                Ts, objs, nits, zs = solve(a, b, C, gamma, kk, "semidual", 1e-12, 5000)
                start = np.concatenate([zs, semidual_beta(zs, b, C, gamma, kk)])
                T2, obj2, nit2, _ = solve(a, b, C, gamma, kk, "dual", 1e-12, 5000, start)
                if obj2 > obj:
                    T, obj, nit = T2, obj2, nit2
            g = ref.create_group(name)
            g.attrs.update(dict(family=family, n=n, m=m, k=kk, gamma=gamma, reg_relative=rel,
                                formulation=formulation, seed=seed, objective=obj,
                                iterations=nit,
                                source_marginal_error=np.abs(T.sum(1) - a).sum(),
                                target_marginal_error=np.abs(T.sum(0) - b).sum()))
            print(f"{name} {family} n={n} m={m} k={kk} gamma={gamma:.3g} {formulation}: "
                  f"objective {obj:.12e} it {nit}", flush=True)


def main():
    if len(os.sys.argv) > 1 and os.sys.argv[1] == "--set":
        problem_set(int(os.sys.argv[2]) if len(os.sys.argv) > 2 else 2000)
        return
    with h5py.File(os.path.join(HERE, "sparse_reference.h5"), "w") as ref:
        # §6.1: POT's unit-test case.
        X = np.random.RandomState(0).randn(100, 2)
        a = np.full(100, 1.0 / 100)
        write_problem(os.path.join(HERE, "sparse_pot2d_problem.h5"), a, a,
                      "sparse_ot.md 6.1: RandomState(0).randn(100, 2), source = target", X=X, Y=X)
        C = ot.dist(X, X)  # squared Euclidean
        reference(ref.create_group("pot2d"), a, a, C, 1.0, [2, 100], 1e-10, 500)

        # §6.2: the 1-D example.
        x = np.arange(100, dtype=np.float64)
        a = np.exp(-(x - 20) ** 2 / (2 * 5.0 ** 2))
        b = np.exp(-(x - 60) ** 2 / (2 * 10.0 ** 2))
        a, b = a / a.sum(), b / b.sum()
        C = (x[:, None] - x[None, :]) ** 2
        C /= C.max()
        write_problem(os.path.join(HERE, "sparse_1d_problem.h5"), a, b,
                      "sparse_ot.md 6.2: 1-D Gaussians, C = (x_i - x_j)^2 / max", C=C)
        reference(ref.create_group("1d"), a, b, C, 0.1, [1, 2, 3, 5, 100], 1e-9, 2000)


if __name__ == "__main__":
    main()
