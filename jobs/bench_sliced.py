#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
# parot-sliced against POT's ot.sliced_wasserstein_distance, side by side on the same data.
"""Side by side in one run: the whole parot-sliced process against POT's call (issue 16).

The data: ``parot-generate -family gaussians -n N -d D -seed SEED`` (two seeded Gaussian
clouds of N points each, uniform weights). parot runs
``mpirun -n RANKS parot-sliced -problem FILE -L L -p P -seed S -monitor -save_directions
-output OUT``: its time is the wall time of the whole mpirun process (MPI start-up, reading the
file, the estimate, writing the result), and the -monitor line says where it went. POT runs in a
fresh Python process on the same file: ``ot.sliced_wasserstein_distance(X, Y, a, b,
n_projections=L, projections=THETA, p=P)`` with parot's own L directions THETA (read from OUT;
POT 0.8.2 divides by n_projections even when projections are given, so both are passed). Its
time is the call alone (reading the file is reported separately). The script checks that both
give the same SW_p (relative 1e-10) and prints the ratio POT call / parot process.

Usage:  /usr/bin/python3 jobs/bench_sliced.py [--n 1000000] [--d 3] [--L 50] [--ranks 2]
                                              [--reps 3] [--pot-reps 1] [--build build]
As root, export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
OMPI_MCA_rmaps_base_oversubscribe=1 first (jobs/lib/setup-debian.sh does).
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

import h5py

POT_SCRIPT = r"""
import json, sys, time
import h5py, numpy as np, ot
t0 = time.perf_counter()
with h5py.File(sys.argv[1], "r") as f:
    x, y = f["source/points"][()], f["target/points"][()]
    a, b = f["source/weights"][()], f["target/weights"][()]
with h5py.File(sys.argv[2], "r") as g:
    theta = g["sliced/directions"][()]
L, p = int(sys.argv[3]), float(sys.argv[4])
t1 = time.perf_counter()
sw = float(ot.sliced_wasserstein_distance(x, y, a, b, n_projections=L, projections=theta.T, p=p))
t2 = time.perf_counter()
print(json.dumps(dict(sw=sw, read_s=t1 - t0, call_s=t2 - t1, version=ot.__version__)))
"""

MONITOR = re.compile(r"monitor\s+rank 0: read ([\d.]+) s, solve ([\d.]+) s \(project ([\d.]+) s, "
                     r"sort ([\d.]+) s, merge ([\d.]+) s, reduce ([\d.]+) s\)")


def run_parot(args, problem, out):
    cmd = [args.mpirun, "-n", str(args.ranks), os.path.join(args.build, "drivers", "parot-sliced"),
           "-problem", problem, "-L", str(args.L), "-p", str(args.p), "-seed", str(args.seed),
           "-monitor", "-save_directions", "-output", out]
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit(f"parot-sliced failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    m = MONITOR.search(r.stdout)
    if not m:
        sys.exit(f"no monitor line in parot-sliced's output:\n{r.stdout}")
    read, solve, project, sort, merge, reduce_ = map(float, m.groups())
    with h5py.File(out, "r") as g:
        sw = float(g["sliced"].attrs["sw"])
    return dict(wall_s=wall, read_s=read, solve_s=solve, project_s=project, sort_s=sort,
                merge_s=merge, reduce_s=reduce_, sw=sw)


def run_pot(args, problem, out):
    r = subprocess.run([args.python, "-c", POT_SCRIPT, problem, out, str(args.L), str(args.p)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"POT failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=10**6)
    ap.add_argument("--d", type=int, default=3)
    ap.add_argument("--L", type=int, default=50)
    ap.add_argument("--p", type=float, default=2.0)
    ap.add_argument("--ranks", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0, help="seed of the directions")
    ap.add_argument("--data-seed", type=int, default=1, help="seed of parot-generate")
    ap.add_argument("--reps", type=int, default=3, help="parot runs (median and min reported)")
    ap.add_argument("--pot-reps", type=int, default=1, help="POT runs (about 60 s each at 10^6)")
    ap.add_argument("--build", default="build")
    ap.add_argument("--mpirun", default="mpirun")
    ap.add_argument("--python", default="/usr/bin/python3")
    ap.add_argument("--workdir", default=None, help="where the data goes (default: a temp dir)")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        problem, out = os.path.join(tmp, "pair.h5"), os.path.join(tmp, "sw.h5")
        gen = subprocess.run([os.path.join(args.build, "drivers", "parot-generate"), "-family",
                              "gaussians", "-n", str(args.n), "-d", str(args.d), "-seed",
                              str(args.data_seed), "-output", problem],
                             capture_output=True, text=True)
        if gen.returncode != 0:
            sys.exit(f"parot-generate failed:\n{gen.stdout}\n{gen.stderr}")
        run_parot(args, problem, out)  # warm the page cache and the binaries, not timed
        parot = [run_parot(args, problem, out) for _ in range(args.reps)]
        pot = [run_pot(args, problem, out) for _ in range(args.pot_reps)]
        load = os.getloadavg()[0]

    walls = [r["wall_s"] for r in parot]
    best = min(parot, key=lambda r: r["wall_s"])
    pot_call = statistics.median(r["call_s"] for r in pot)
    sw, sw_pot = parot[0]["sw"], pot[0]["sw"]
    rel = abs(sw - sw_pot) / abs(sw_pot)
    print(f"gaussians n = m = {args.n}, d = {args.d}, L = {args.L}, p = {args.p:g}, "
          f"{args.ranks} ranks; POT {pot[0]['version']}; load average {load:.2f}")
    print(f"SW_p: parot {sw:.15e}, POT {sw_pot:.15e}, relative difference {rel:.1e}")
    print("| what | time [s] |")
    print("|---|---|")
    print(f"| POT `sliced_wasserstein_distance` call (median of {len(pot)}) | {pot_call:.3f} |")
    print(f"| POT reading the file (h5py) | {statistics.median(r['read_s'] for r in pot):.3f} |")
    print(f"| parot-sliced whole process, median of {len(walls)} "
          f"(min {min(walls):.3f}) | {statistics.median(walls):.3f} |")
    print(f"| parot, best run: read {best['read_s']:.3f}, solve {best['solve_s']:.3f} "
          f"(project {best['project_s']:.3f}, sort {best['sort_s']:.3f}, "
          f"merge {best['merge_s']:.3f}, reduce {best['reduce_s']:.3f}), rest (MPI start-up, "
          f"exit) | {best['wall_s'] - best['read_s'] - best['solve_s']:.3f} |")
    print(f"ratio POT call / parot process (median): {pot_call / statistics.median(walls):.1f}x "
          f"(best parot run: {pot_call / min(walls):.1f}x)")
    if rel > 1e-10:
        sys.exit("parot and POT disagree")


if __name__ == "__main__":
    main()
