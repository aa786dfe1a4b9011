#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
# parot's certified near-exact OT (-ot_rtol) against POT's exact network simplex (ot.emd2).
"""Side by side on the same data: parot's time to a certified interval against ot.emd2's time
to the exact cost, with peak memory.

The problem: n source points uniform in [0,1]^d and n target points from a Gaussian mixture
(three components; different laws, so the plan is not near the identity), uniform weights,
squared Euclidean cost, written as a parot problem file (numpy, seeded). parot runs
``mpirun -n RANKS parot-solve -solver SOLVER -ot_rtol RTOL`` (whole-process wall time and the
solve_time it reports, the certified [lower, upper] from /bounds, the largest rank's max RSS
under /usr/bin/time); POT runs ``ot.emd2`` in a fresh Python process (wall time of the call
and of building C, max RSS). The script checks that POT's cost lies in parot's interval.

Usage:  /usr/bin/python3 jobs/bench_emd.py [--n 5000 10000] [--d 2] [--ranks 2] [--rtol 1e-2]
As root, export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
OMPI_MCA_rmaps_base_oversubscribe=1 first (jobs/lib/setup-debian.sh does).
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

POT_SCRIPT = r"""
import json, resource, sys, time
import h5py, numpy as np, ot
with h5py.File(sys.argv[1], "r") as f:
    x, y = f["source/points"][()], f["target/points"][()]
    a, b = f["source/weights"][()], f["target/weights"][()]
t0 = time.perf_counter()
C = ot.dist(x, y)
t1 = time.perf_counter()
cost = float(ot.emd2(a / a.sum(), b / b.sum(), C, numItermax=10**9))
t2 = time.perf_counter()
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(dict(cost=cost, cost_matrix_s=t1 - t0, emd_s=t2 - t1, rss_mib=rss)))
"""


def write_problem(path, n, d, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, size=(n, d))
    centers = rng.uniform(0.2, 0.8, size=(3, d))
    y = centers[rng.integers(0, 3, size=n)] + 0.08 * rng.standard_normal(size=(n, d))
    with h5py.File(path, "w") as f:
        f.attrs["format"] = "parot-problem"
        f.attrs["format_version"] = 1
        f.attrs["cost"] = "sqeuclidean"
        f.attrs["name"] = f"uniform vs Gaussian mixture, n={n} d={d} seed={seed}"
        f["source/points"], f["target/points"] = x, y
        f["source/weights"] = np.full(n, 1.0 / n)
        f["target/weights"] = np.full(n, 1.0 / n)


def run_parot(args, problem, out):
    log = out + ".time"
    cmd = [args.mpirun, "-n", str(args.ranks), "/usr/bin/time", "-f", "maxrss_kib %M", "-a",
           "-o", log, os.path.join(args.build, "drivers", "parot-solve"), "-problem", problem,
           "-solver", args.solver, "-ot_rtol", str(args.rtol), "-output", out, *args.parot_args.split()]
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit(f"parot-solve failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    rss = max(int(m) for m in re.findall(r"maxrss_kib (\d+)", open(log).read())) / 1024
    with h5py.File(out, "r") as f:
        bounds = f["bounds"].attrs
        return dict(wall_s=wall, solve_s=float(f.attrs["solve_time"]),
                    reason=f.attrs["reason"], lower=float(bounds["lower"]),
                    upper=float(bounds["upper"]), gap=float(bounds["gap"]),
                    iterations=int(f.attrs["iterations"]),
                    newton=int(f.attrs["newton_iterations"]), rss_mib=rss)


def run_pot(problem):
    r = subprocess.run(["/usr/bin/python3", "-c", POT_SCRIPT, problem], capture_output=True,
                       text=True)
    if r.returncode != 0:
        return dict(error=r.stderr.strip().splitlines()[-1] if r.stderr else "failed")
    return json.loads(r.stdout)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, nargs="+", default=[5000, 10000])
    parser.add_argument("--d", type=int, default=2)
    parser.add_argument("--ranks", type=int, default=2)
    parser.add_argument("--rtol", type=float, default=1e-2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip-pot", action="store_true", help="only parot (sizes POT cannot hold)")
    parser.add_argument("--parot-args", default="", help="extra parot-solve options")
    parser.add_argument("--solver", default="sinkhorn", choices=["sinkhorn", "sns"],
                        help="the inner entropic solver of the annealing")
    parser.add_argument("--mpirun", default="mpirun")
    parser.add_argument("--build", default=os.path.join(os.path.dirname(os.path.abspath(
        __file__)), "..", "build"))
    args = parser.parse_args()
    print(f"| n | d | parot {args.ranks} ranks: wall (solve) | certified interval | gap | "
          f"parot peak RSS/rank | POT ot.emd2 (+ cost matrix) | POT peak RSS | exact in interval "
          f"| POT / parot |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="parot_bench_emd_") as tmp:
        for n in args.n:
            problem = os.path.join(tmp, f"problem_{n}.h5")
            write_problem(problem, n, args.d, args.seed)
            p = run_parot(args, problem, os.path.join(tmp, f"result_{n}.h5"))
            q = dict(error="skipped") if args.skip_pot else run_pot(problem)
            if "error" in q:
                pot, pot_rss, inside, ratio = f"— ({q['error']})", "—", "—", "—"
            else:
                pot = f"{q['emd_s']:.2f} s (+{q['cost_matrix_s']:.2f} s)"
                pot_rss = f"{q['rss_mib']:.0f} MiB"
                inside = "yes" if p["lower"] <= q["cost"] * (1 + 1e-12) and \
                    q["cost"] * (1 - 1e-12) <= p["upper"] else f"NO ({q['cost']:.10e})"
                ratio = f"{(q['emd_s'] + q['cost_matrix_s']) / p['wall_s']:.2f}"
            print(f"| {n} | {args.d} | {p['wall_s']:.2f} s ({p['solve_s']:.2f} s) | "
                  f"[{p['lower']:.6e}, {p['upper']:.6e}] | {p['gap']:.2e} ({p['reason']}) | "
                  f"{p['rss_mib']:.0f} MiB | {pot} | {pot_rss} | {inside} | {ratio} |",
                  flush=True)


if __name__ == "__main__":
    main()
