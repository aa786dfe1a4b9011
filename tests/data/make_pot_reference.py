#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
# Generates small parot problems and POT log-domain Sinkhorn reference potentials for them.
"""Make POT reference solutions for parot's entropic OT tests.

For each case below, runs ``parot-generate`` to write ``<name>_problem.h5`` next to this
script, builds the cost matrix in numpy from the problem file (same schema as parot), solves
with POT's log-domain Sinkhorn at ``reg = 0.05 * max(C)`` to marginal errors below 1e-11,
and writes ``<name>_pot.h5``:

    /f, /g      float64 potentials, POT convention P_ij = exp((f_i + g_j - C_ij) / reg);
                zero-weight points have potential -inf
    attributes  reg, reg_relative, transport_cost (<C, P>), objective (<a, f> + <b, g>),
                source/target_marginal_error (L1), iterations, pot_version, problem,
                family, n, m, d, p, seed

Usage:  /usr/bin/python3 tests/data/make_pot_reference.py [BUILD_DIR]   (default /work/main/build)
"""
import os
import subprocess
import sys

import h5py
import numpy as np
import ot

HERE = os.path.dirname(os.path.abspath(__file__))
REG_RELATIVE = 0.05
MARGINAL_TOL = 1e-11

# name -> parot-generate options (n, m, d, p are passed only when given).
CASES = {
    "clouds": dict(family="clouds", n=60, d=2, seed=1),
    "density1d": dict(family="density1d", n=80, p=2, seed=2),
    "images": dict(family="images", p=2, seed=3),
    "gaussians": dict(family="gaussians", n=50, d=3, seed=4),
}


def generate(build_dir, settings, path):
    """Write the problem file ``path`` with parot-generate."""
    cmd = [os.path.join(build_dir, "drivers", "parot-generate")]
    for key in ("family", "n", "m", "d", "p", "seed"):
        if key in settings:
            cmd += [f"-{key}", str(settings[key])]
    subprocess.run(cmd + ["-output", path], check=True, stdout=subprocess.DEVNULL)


def attr_str(value):
    return value.decode() if isinstance(value, bytes) else str(value)


def load_problem(path):
    """Return (a, b, C, cost name) of a parot problem file; C is built per the file schema."""
    with h5py.File(path, "r") as h5:
        a = h5["source/weights"][()]
        b = h5["target/weights"][()]
        cost = attr_str(h5.attrs["cost"])
        if cost == "matrix":
            return a, b, h5["cost"][()], cost
        x = h5["source/points"][()]
        y = h5["target/points"][()]
        p = float(h5.attrs.get("p", 2.0))
    diff = x[:, None, :] - y[None, :, :]
    if cost == "sqeuclidean":
        C = (diff**2).sum(-1)
    elif cost == "euclidean":
        C = np.sqrt((diff**2).sum(-1))
    elif cost == "lp":
        C = (np.abs(diff) ** p).sum(-1)
    else:
        raise ValueError(f"{path}: unknown cost {cost!r}")
    return a, b, C, cost


def pot_reference(a, b, C, reg):
    """Solve with POT's sinkhorn_log; returns f, g, the plan and POT's log.

    sinkhorn_log handles zero weights itself (log 0 = -inf gives -inf potentials and zero
    rows/columns of the plan), so the full problem is passed; only log(0) warnings are muted.
    """
    with np.errstate(divide="ignore"):
        P, log = ot.sinkhorn(a, b, C, reg, method="sinkhorn_log", numItermax=200000,
                             stopThr=1e-13, log=True)
    f, g = reg * log["log_u"], reg * log["log_v"]
    for w, pot in ((a, f), (b, g)):
        assert np.all(np.isfinite(pot[w > 0])) and np.all(np.isneginf(pot[w == 0]))
    return f, g, P, log


def main():
    build_dir = sys.argv[1] if len(sys.argv) > 1 else "/work/main/build"
    header = (f"{'case':<10} {'n':>5} {'m':>5} {'cost':<12} {'reg':>10} {'iters':>6} "
              f"{'transport_cost':>22} {'src_err':>9} {'tgt_err':>9}")
    print(header + "\n" + "-" * len(header))
    for name, settings in CASES.items():
        problem = os.path.join(HERE, f"{name}_problem.h5")
        generate(build_dir, settings, problem)
        a, b, C, cost = load_problem(problem)
        reg = REG_RELATIVE * C.max()
        f, g, P, log = pot_reference(a, b, C, reg)
        src_err = np.abs(P.sum(1) - a).sum()
        tgt_err = np.abs(P.sum(0) - b).sum()
        assert src_err < MARGINAL_TOL and tgt_err < MARGINAL_TOL, (name, src_err, tgt_err)
        transport_cost = float(np.sum(C * P))
        objective = float(a[a > 0] @ f[a > 0] + b[b > 0] @ g[b > 0])

        with h5py.File(os.path.join(HERE, f"{name}_pot.h5"), "w") as h5:
            h5.create_dataset("f", data=f.astype(np.float64))
            h5.create_dataset("g", data=g.astype(np.float64))
            h5.attrs.update({**settings, **dict(
                reg=reg, reg_relative=REG_RELATIVE, transport_cost=transport_cost,
                objective=objective, source_marginal_error=src_err,
                target_marginal_error=tgt_err, iterations=int(log["niter"]) + 1,
                pot_version=ot.__version__, problem=os.path.basename(problem), cost=cost,
                n=len(a), m=len(b))})
        print(f"{name:<10} {len(a):>5} {len(b):>5} {cost:<12} {reg:>10.4e} "
              f"{log['niter'] + 1:>6} {transport_cost:>22.16e} {src_err:>9.2e} {tgt_err:>9.2e}")


if __name__ == "__main__":
    main()
