#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
# Benchmarks parot-solve (Sinkhorn, MPI) against POT's Sinkhorn variants on the same problems.
"""Side-by-side timing of parot's distributed log-domain Sinkhorn and POT 0.8.2.

For each problem (``family[:n]``; clouds use d=2, density1d and images p=2) it
  1. writes the problem with ``parot-generate`` into a temporary directory;
  2. runs ``mpirun -n RANKS parot-solve -solver sinkhorn -reg REG -reg_relative -atol ATOL``
     and reads solve_time / iterations / transport_cost from the result file, also timing the
     whole mpirun process;
  3. loads the same file with h5py, builds C in numpy (timed separately) and runs
     ``ot.sinkhorn`` with method 'sinkhorn' (kernel), 'sinkhorn_log' and
     'sinkhorn_stabilized' at parot's absolute reg, timing each call with perf_counter.

Matching the stopping rule: parot stops when ||P1-a||_1 + ||P^T1-b||_1 <= atol (row
marginals are exact after its f-update, so this is the column error). POT 0.8.2 stops when
||P^T1-b||_2 < stopThr, with exact rows as well, tested every 10 iterations (every 20 for
sinkhorn_stabilized). Since ||x||_1 <= sqrt(m) ||x||_2, the default stopThr = atol / sqrt(m)
guarantees the same L1 accuracy (it may cost POT some extra iterations; --stopthr overrides).
The L1 error of POT's returned plan is measured afterwards, and "POT best" is the fastest
method whose error is <= atol. POT runs on the positive-weight support only: its kernel and
stabilized methods break down on zero weights (images), and dropped points carry no mass.
POT's numItermax defaults to max(1000, 3 x parot's iterations): sinkhorn_stabilized can stall
for good (e.g. density1d, whose tiny target weights make it lose all mass after an absorption).

Note: POT runs in this process (numpy may use several BLAS threads); parot uses RANKS processes.
As root, export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 (and, on small
machines, OMPI_MCA_rmaps_base_oversubscribe=1) before running.

Usage:
    /usr/bin/python3 jobs/bench_pot.py [--sizes clouds:5000 density1d:5000 images]
        [--ranks 2] [--reps 1] [--reg 1e-2] [--atol 1e-9] [--quick] [--markdown FILE]
"""
import argparse
import os
import shlex
import statistics
import subprocess
import tempfile
import time
import warnings

import h5py
import numpy as np
import ot

METHODS = ("sinkhorn", "sinkhorn_log", "sinkhorn_stabilized")
FAMILY_OPTIONS = {"clouds": ["-d", "2"], "density1d": ["-p", "2"], "images": ["-p", "2"],
                  "gaussians": ["-d", "2"], "assignment": []}


def attr_str(value):
    return value.decode() if isinstance(value, bytes) else str(value)


def load_problem(path):
    """Return (a, b, C) of a parot problem file, C built per the file schema."""
    with h5py.File(path, "r") as h5:
        a = h5["source/weights"][()]
        b = h5["target/weights"][()]
        cost = attr_str(h5.attrs["cost"])
        if cost == "matrix":
            return a, b, h5["cost"][()]
        x = h5["source/points"][()]
        y = h5["target/points"][()]
        p = float(h5.attrs.get("p", 2.0))
    diff = x[:, None, :] - y[None, :, :]
    if cost == "sqeuclidean":
        return a, b, (diff**2).sum(-1)
    if cost == "euclidean":
        return a, b, np.sqrt((diff**2).sum(-1))
    if cost == "lp":
        return a, b, (np.abs(diff) ** p).sum(-1)
    raise ValueError(f"{path}: unknown cost {cost!r}")


def generate(args, family, n, path):
    cmd = [os.path.join(args.build, "drivers", "parot-generate"), "-family", family,
           "-seed", str(args.seed), "-output", path] + FAMILY_OPTIONS.get(family, [])
    if n is not None:
        cmd += ["-n", str(n)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def run_parot(args, problem, out):
    """One parot-solve run; returns the result attributes plus the process wall time."""
    cmd = shlex.split(args.mpirun) + [
        "-n", str(args.ranks), os.path.join(args.build, "drivers", "parot-solve"),
        "-problem", problem, "-solver", "sinkhorn", "-reg", repr(args.reg), "-reg_relative",
        "-atol", repr(args.atol), "-output", out] + shlex.split(args.parot_args)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    process_time = time.perf_counter() - t0
    with h5py.File(out, "r") as h5:
        res = {k: h5.attrs[k] for k in ("solve_time", "iterations", "transport_cost",
                                         "marginal_error", "reg", "reason")}
    res["reason"] = attr_str(res["reason"])
    res["process_time"] = process_time
    return res


def run_pot(a, b, C, reg, method, stop_thr, max_iter):
    """One ot.sinkhorn call; returns time, iterations, L1 marginal error and <C, P>."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")  # breakdowns show up in the measured error
        t0 = time.perf_counter()
        P, log = ot.sinkhorn(a, b, C, reg, method=method, numItermax=max_iter,
                             stopThr=stop_thr, log=True, warn=False)
        elapsed = time.perf_counter() - t0
    err = np.abs(P.sum(1) - a).sum() + np.abs(P.sum(0) - b).sum()
    iters = int(log.get("niter", log.get("n_iter", -1))) + 1
    return dict(time=elapsed, iterations=iters, marginal_error=err,
                transport_cost=float(np.sum(C * P)))


def median_run(reps, fn):
    """Runs fn() reps times; the last result with 'time'-like keys replaced by medians."""
    runs = [fn() for _ in range(reps)]
    out = dict(runs[-1])
    for key in ("time", "solve_time", "process_time"):
        if key in out:
            out[key] = statistics.median(r[key] for r in runs)
    return out


def bench_case(args, spec, workdir):
    family, _, n = spec.partition(":")
    n = int(n) if n else None
    if args.quick and n is not None:
        n = min(n, 1000)
    name = family + (f" n={n}" if n else "")
    problem = os.path.join(workdir, f"{family}_{n}.h5")
    generate(args, family, n, problem)
    parot = median_run(args.reps, lambda: run_parot(args, problem,
                                                    os.path.join(workdir, "result.h5")))

    t0 = time.perf_counter()
    a, b, C = load_problem(problem)
    keep_a, keep_b = a > 0, b > 0
    a, b, C = a[keep_a], b[keep_b], C[np.ix_(keep_a, keep_b)]
    build_time = time.perf_counter() - t0
    stop_thr = args.stopthr if args.stopthr else args.atol / np.sqrt(len(b))
    max_iter = args.pot_max_iter or max(1000, 3 * int(parot["iterations"]))
    pot = {}
    for method in args.methods:
        pot[method] = median_run(args.reps, lambda: run_pot(
            a, b, C, float(parot["reg"]), method, stop_thr, max_iter))
        r = pot[method]
        print(f"  {name}: POT {method:<19} {r['time']:9.3f} s {r['iterations']:7d} it  "
              f"L1 error {r['marginal_error']:.2e}", flush=True)
    ok = [m for m in pot if np.isfinite(pot[m]["marginal_error"])
          and pot[m]["marginal_error"] <= args.atol]
    best = min(ok, key=lambda m: pot[m]["time"]) if ok else None
    print(f"  {name}: parot {args.ranks} ranks  {parot['solve_time']:9.3f} s "
          f"{int(parot['iterations']):7d} it  L1 error {parot['marginal_error']:.2e} "
          f"({parot['reason']}); C build {build_time:.3f} s", flush=True)
    return dict(name=name, n=len(a), m=len(b), parot=parot, best=best,
                pot=pot[best] if best else None, build_time=build_time)


COLUMNS = ("problem", "ranks", "parot solve [s]", "parot process [s]", "parot it",
           "parot err", "POT best", "POT [s]", "POT it", "POT err", "C build [s]",
           "cost rel diff", "POT/parot")


def table_rows(args, results):
    rows = []
    for r in results:
        p, q = r["parot"], r["pot"]
        row = [r["name"], str(args.ranks), f"{p['solve_time']:.3f}", f"{p['process_time']:.3f}",
               str(int(p["iterations"])), f"{p['marginal_error']:.1e}"]
        if q is None:
            row += ["none reached atol"] + ["-"] * 3
        else:
            row += [r["best"], f"{q['time']:.3f}", str(q["iterations"]),
                    f"{q['marginal_error']:.1e}"]
        row.append(f"{r['build_time']:.3f}")
        if q is None:
            row += ["-", "-"]
        else:
            rel = abs(q["transport_cost"] - p["transport_cost"]) / abs(p["transport_cost"])
            row += [f"{rel:.1e}", f"{q['time'] / p['solve_time']:.1f}"]
        rows.append(row)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", nargs="+", default=["clouds:5000", "density1d:5000", "images"],
                        help="problems as family[:n] (default: %(default)s)")
    parser.add_argument("--ranks", type=int, default=2, help="MPI ranks for parot-solve")
    parser.add_argument("--reps", type=int, default=1, help="repetitions; medians are reported")
    parser.add_argument("--reg", type=float, default=1e-2, help="reg relative to the max cost")
    parser.add_argument("--atol", type=float, default=1e-9, help="L1 marginal error target")
    parser.add_argument("--stopthr", type=float, default=None,
                        help="POT stopThr (default atol / sqrt(m))")
    parser.add_argument("--pot-max-iter", type=int, default=None,
                        help="POT numItermax (default max(1000, 3 x parot's iterations))")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="cap n at 1000 (smoke run)")
    parser.add_argument("--markdown", metavar="FILE", help="also write the table as markdown")
    parser.add_argument("--build", default=os.path.join(os.path.dirname(os.path.abspath(
        __file__)), "..", "build"), help="parot build directory (default: %(default)s)")
    parser.add_argument("--mpirun", default="mpirun", help="MPI launcher command")
    parser.add_argument("--parot-args", default="", help="extra parot-solve options")
    args = parser.parse_args()

    print(f"POT {ot.__version__}, numpy {np.__version__}; reg {args.reg:g} x max cost, "
          f"atol {args.atol:g}")
    with tempfile.TemporaryDirectory(prefix="bench_pot_") as workdir:
        results = [bench_case(args, spec, workdir) for spec in args.sizes]

    rows = table_rows(args, results)
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(COLUMNS)]
    print()
    for row in [COLUMNS, ["-" * w for w in widths]] + rows:
        print("  ".join(cell.rjust(w) for cell, w in zip(row, widths)))
    if args.markdown:
        with open(args.markdown, "w") as out:
            out.write(f"POT {ot.__version__}, reg = {args.reg:g} x max cost, atol = "
                      f"{args.atol:g} (L1 marginal error), POT stopThr = "
                      f"{'atol/sqrt(m)' if args.stopthr is None else args.stopthr}, "
                      f"reps = {args.reps}\n\n")
            out.write("| " + " | ".join(COLUMNS) + " |\n")
            out.write("|" + "|".join("---" for _ in COLUMNS) + "|\n")
            for row in rows:
                out.write("| " + " | ".join(row) + " |\n")


if __name__ == "__main__":
    main()
