#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
# parot's sparsity-constrained OT on the seeded acceptance set, and its k = n case against POT.
"""Two studies of ``parot-solve -solver sparse`` (sparse_ot.md, issue 15).

``--set``: the seeded acceptance set (PROBLEM_SET in tests/data/make_sparse_reference.py, 20
problems, n, m from 20 to 2000). For each problem: the reference objective (SciPy L-BFGS-B
restarted until no improvement; from tests/data/sparse_set_reference.h5, or computed here for
problems not stored there), parot's objective, reason and time, and the feasible plan: its
marginal error and whether the support parot selected (top k of α_i − C_ij per column) admits a
plan at all (an LP feasibility check by scipy.optimize.linprog, HiGHS). Columns: dual value −
reference relative to |reference| (must be >= −1e-7), feasible marginal error (must be <= 1e-9
where the LP says feasible), the certified interval's relative gap.

``--pot``: k = n (quadratically regularized OT) at n = m (2000): POT 0.8.2's
``ot.smooth.smooth_ot_dual(a, b, C, reg, reg_type='l2')`` (its objective evaluated at its plan's
dual and its wall time in a fresh process) against ``mpirun -n RANKS parot-solve -solver sparse
-sparse_k n`` (whole-process wall time and the solve_time it reports, its objective and certified
interval).

Usage:  /usr/bin/python3 jobs/bench_sparse.py --set [--max-size 2000] [--ranks 2] [--names s18]
        /usr/bin/python3 jobs/bench_sparse.py --pot [--n 2000] [--ranks 2] [--reg 0.1]
As root, export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
OMPI_MCA_rmaps_base_oversubscribe=1 first (jobs/lib/setup-debian.sh does).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "data"))
import make_sparse_reference as ref  # noqa: E402  (the seeded set and the reference solver)


def parot(bin_dir, ranks, problem, out, args):
    cmd = ["mpirun", "-n", str(ranks), os.path.join(bin_dir, "parot-solve"), "-problem", problem,
           "-solver", "sparse", "-output", out, *args]
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {r.stderr}")
    with h5py.File(out, "r") as f:
        at = dict(f.attrs)
        bounds = dict(f["bounds"].attrs) if "bounds" in f else None
        alpha = f["solution/f"][()]
        at["history_objective"] = f["history/objective"][()]
        at["history_wall_time"] = f["history/wall_time"][()]
    return wall, at, bounds, alpha


def support_feasible(alpha, a, b, C, k):
    """Does the support of the top k entries of α_i − C_ij per column (ties: lower index first)
    admit T >= 0 with T1 = a, Tᵀ1 = b? An LP feasibility problem (HiGHS)."""
    from scipy.optimize import linprog
    from scipy.sparse import coo_matrix
    n, m = C.shape
    S = alpha[:, None] - C
    rows, cols = [], []
    for j in range(m):
        top = np.lexsort((np.arange(n), -S[:, j]))[:k]
        rows.extend(top)
        cols.extend([j] * len(top))
    e = len(rows)
    A = coo_matrix((np.ones(2 * e), (np.concatenate([rows, n + np.array(cols)]),
                                     np.concatenate([np.arange(e), np.arange(e)]))),
                   shape=(n + m, e))
    res = linprog(np.zeros(e), A_eq=A.tocsr(), b_eq=np.concatenate([a, b]), bounds=(0, None),
                  method="highs")
    return res.status == 0


def study_set(opts):
    path = os.path.join(ROOT, "tests", "data", "sparse_set_reference.h5")
    stored = h5py.File(path, "r") if os.path.exists(path) else None
    print(f"{'name':4} {'family':6} {'n':>5} {'m':>5} {'k':>5} {'γ/max':>6} {'form':8} "
          f"{'reference':>16} {'parot':>16} {'rel.diff':>9} {'reason':20} {'feas.err':>9} "
          f"{'LP':4} {'gap':>9} {'time':>7} {'stationar.':>9}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, family, n, m, k, rel, formulation, seed in ref.PROBLEM_SET:
            if max(n, m) > opts.max_size or (opts.names and name not in opts.names.split(",")):
                continue
            a, b, C, X, Y = ref.set_problem(family, n, m, seed)
            kk = n if k == 0 else k
            gamma = rel * C.max()
            problem = os.path.join(tmp, f"{name}.h5")
            if family == "clouds":
                ref.write_problem(problem, a, b, name, X=X, Y=Y)
            else:
                ref.write_problem(problem, a, b, name, C=C)
            if stored is not None and name in stored:
                reference = float(stored[name].attrs["objective"])
            else:
                reference = ref.solve(a, b, C, gamma, kk, formulation, 1e-12, 5000)[1]
            wall, at, bounds, alpha = parot(
                opts.bin, opts.ranks, problem, os.path.join(tmp, f"{name}_out.h5"),
                ["-sparse_k", str(kk), "-sparse_formulation", formulation, "-reg", repr(gamma),
                 "-max_it", str(opts.max_it), "-atol", "1e-9"])
            obj = float(at["objective"])
            diff = (obj - reference) / abs(reference)
            feas_err = float(at.get("feasible_marginal_error", np.nan))
            # k >= n: the whole support, which always admits the product plan a bᵀ.
            lp = kk >= n or support_feasible(alpha, a, b, C, kk)
            gap = (bounds["upper"] - bounds["lower"]) / abs(bounds["upper"]) if bounds else np.nan
            reason = at["reason"].decode() if isinstance(at["reason"], bytes) else at["reason"]
            stat = float(at.get("stationarity", np.nan))
            print(f"{name:4} {family:6} {n:5d} {m:5d} {kk:5d} {rel:6.2g} {formulation:8} "
                  f"{reference:16.10e} {obj:16.10e} {diff:9.1e} {reason:20} {feas_err:9.1e} "
                  f"{'yes' if lp else 'no':4} {gap:9.1e} {wall:7.2f} {stat:9.1e}", flush=True)
            rows.append(dict(name=name, reference=reference, objective=obj, rel_diff=diff,
                             reason=reason, stationarity=stat, feasible_error=feas_err,
                             lp_feasible=bool(lp),
                             gap=gap, wall_s=wall))
    ok_value = sum(r["rel_diff"] >= -1e-7 for r in rows)
    ok_feas = sum((not r["lp_feasible"]) or r["feasible_error"] <= 1e-9 for r in rows)
    ok_reason = sum(r["reason"].startswith("converged") for r in rows)
    print(f"value >= reference - 1e-7|reference|: {ok_value}/{len(rows)}; feasible plan where the "
          f"LP says so: {ok_feas}/{len(rows)}; converged reason: {ok_reason}/{len(rows)}")
    if opts.json:
        with open(opts.json, "w") as f:
            json.dump(rows, f, indent=1)


POT_SCRIPT = r"""
import json, sys, time
import h5py, numpy as np, ot
with h5py.File(sys.argv[1], "r") as f:
    x, y = f["source/points"][()], f["target/points"][()]
    a, b = f["source/weights"][()], f["target/weights"][()]
reg = float(sys.argv[2])
C = ot.dist(x, y)
t0 = time.perf_counter()
T, log = ot.smooth.smooth_ot_dual(a, b, C, reg, reg_type="l2", log=True)
t1 = time.perf_counter()
al, be = log["alpha"], log["beta"]
S = np.maximum(al[:, None] + be[None, :] - C, 0)
dual = float(a @ al + b @ be - (S * S).sum() / (2 * reg))
err = float(np.abs(T.sum(1) - a).sum() + np.abs(T.sum(0) - b).sum())
print(json.dumps(dict(dual=dual, seconds=t1 - t0, marginal_error=err,
                      primal=float((T * C).sum() + 0.5 * reg * (T * T).sum()))))
"""


def study_pot(opts):
    n = opts.n
    a, b, C, X, Y = ref.set_problem("clouds", n, n, 119)
    gamma = opts.reg * C.max()
    with tempfile.TemporaryDirectory() as tmp:
        problem = os.path.join(tmp, "p.h5")
        ref.write_problem(problem, a, b, f"clouds n={n}", X=X, Y=Y)
        r = subprocess.run([sys.executable, "-c", POT_SCRIPT, problem, repr(gamma)],
                           capture_output=True, text=True, check=True)
        pot = json.loads(r.stdout.strip().splitlines()[-1])
        wall, at, bounds, _ = parot(opts.bin, opts.ranks, problem, os.path.join(tmp, "o.h5"),
                                    ["-sparse_k", str(n), "-reg", repr(gamma), "-max_it", "5000"])
    print(f"n = m = {n}, clouds, sqeuclidean, reg = {opts.reg} x max cost = {gamma:.6g}, "
          f"k = n (quadratic OT)")
    print(f"POT smooth_ot_dual(l2): dual {pot['dual']:.12e}  marginal error "
          f"{pot['marginal_error']:.2e}  {pot['seconds']:.2f} s")
    reason = at["reason"].decode() if isinstance(at["reason"], bytes) else at["reason"]
    print(f"parot ({opts.ranks} ranks): dual {float(at['objective']):.12e}  ({reason}, "
          f"{int(at['iterations'])} it)  solve {float(at['solve_time']):.2f} s, whole process "
          f"{wall:.2f} s")
    if bounds:
        print(f"  certified interval [{bounds['lower']:.12e}, {bounds['upper']:.12e}], "
              f"feasible plan marginal error {float(at['feasible_marginal_error']):.1e}")
    hit = np.nonzero(at["history_objective"] >= pot["dual"])[0]
    if len(hit):
        t_hit = float(at["history_wall_time"][hit[0]])
        print(f"parot reaches POT's dual at iteration record {hit[0]} after {t_hit:.2f} s (rank 0 "
              f"wall time in the solve): {pot['seconds'] / t_hit:.1f}x faster than POT")
    print(f"parot - POT dual: {float(at['objective']) - pot['dual']:.3e}; speed-up (POT / parot "
          f"solve) {pot['seconds'] / float(at['solve_time']):.1f}x, (POT / parot whole "
          f"process) {pot['seconds'] / wall:.1f}x")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--set", action="store_true")
    p.add_argument("--pot", action="store_true")
    p.add_argument("--bin", default=os.path.join(ROOT, "build", "drivers"))
    p.add_argument("--ranks", type=int, default=2)
    p.add_argument("--max-size", type=int, default=2000)
    p.add_argument("--max-it", type=int, default=20000)
    p.add_argument("--n", type=int, default=2000)
    p.add_argument("--reg", type=float, default=0.1, help="γ relative to the largest cost (--pot)")
    p.add_argument("--json", help="write the --set rows here")
    p.add_argument("--names", help="--set: only these problems (comma-separated, e.g. s18,s19)")
    opts = p.parse_args()
    if opts.set:
        study_set(opts)
    if opts.pot:
        study_pot(opts)


if __name__ == "__main__":
    main()
