#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Overhead of the Python package: parot.solve against parot-solve on the same problem.

    /usr/bin/python3 jobs/bench_python.py [--n 5000] [--ranks 2] [--solver sns] [--reg 1e-3]
        [--reps 3]

Writes a seeded problem with parot-generate (clouds, d = 2), then alternates, --reps times:
  1. `mpirun -n RANKS parot-solve`, reading solve_time (the in-process solve) from its result;
  2. `mpirun -n RANKS python3 jobs/bench_python.py --worker`: every rank reads its block of
     source rows with h5py and calls parot.solve(..., distributed=True) on the point clouds (no
     n x m matrix); the call is timed with perf_counter (max over ranks: argument checks,
     problem set-up, solve and results), and each rank reports its peak resident memory.
Prints the medians, the ratio python / driver and the memory per rank.
As root: OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 (and oversubscribe on small
machines); the Python package must be importable (installed, or PYTHONPATH=build/python).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def worker(args):
    import resource
    import time

    import h5py
    import numpy as np
    from mpi4py import MPI

    import parot

    comm = MPI.COMM_WORLD
    with h5py.File(args.problem, "r") as f:
        rows = np.array_split(np.arange(f["source/weights"].shape[0]), comm.size)[comm.rank]
        X = np.ascontiguousarray(f["source/points"][rows[0]:rows[-1] + 1])
        a = np.ascontiguousarray(f["source/weights"][rows[0]:rows[-1] + 1])
        Y = np.ascontiguousarray(f["target/points"][()])
        b = np.ascontiguousarray(f["target/weights"][()])
    comm.Barrier()
    start = time.perf_counter()
    r = parot.solve(X=X, Y=Y, a=a, b=b, reg=args.reg, solver=args.solver, distributed=True,
                    options={"reg_relative": True, "atol": args.atol})
    elapsed = comm.allreduce(time.perf_counter() - start, op=MPI.MAX)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    data = (X.nbytes + a.nbytes + Y.nbytes + b.nbytes + r.f.nbytes + r.g.nbytes) / 2**20
    memory = comm.gather((peak, data))
    if comm.rank == 0:
        print(json.dumps({"time": elapsed, "reason": r.reason, "solve_time": r.solve_time,
                          "memory": memory}))


def main(args):
    bin_dir = os.path.join(ROOT, "build", "drivers")
    tmp = tempfile.mkdtemp(prefix="parot_bench_python_")
    problem = os.path.join(tmp, "p.h5")
    subprocess.run([os.path.join(bin_dir, "parot-generate"), "-family", "clouds", "-n",
                    str(args.n), "-d", "2", "-seed", "3", "-output", problem], check=True,
                   capture_output=True)
    mpirun = ["mpirun", "-n", str(args.ranks)]
    driver, python, memory = [], [], None
    for rep in range(args.reps):
        out = os.path.join(tmp, "r.h5")
        subprocess.run(mpirun + [os.path.join(bin_dir, "parot-solve"), "-problem", problem,
                                 "-output", out, "-solver", args.solver, "-reg", str(args.reg),
                                 "-reg_relative", "-atol", str(args.atol)],
                       check=True, capture_output=True)
        import h5py
        with h5py.File(out, "r") as f:
            driver.append(float(f.attrs["solve_time"]))
        os.remove(out)
        w = subprocess.run(mpirun + [sys.executable, os.path.abspath(__file__), "--worker",
                                     "--problem", problem, "--solver", args.solver, "--reg",
                                     str(args.reg), "--atol", str(args.atol)],
                           check=True, capture_output=True, text=True)
        result = json.loads(w.stdout.strip().splitlines()[-1])
        python.append(result["time"])
        memory = result["memory"]
    os.remove(problem)
    os.rmdir(tmp)
    d, p = statistics.median(driver), statistics.median(python)
    print(f"n = m = {args.n}, {args.solver}, reg {args.reg} (relative), atol {args.atol}, "
          f"{args.ranks} ranks, {args.reps} repetitions")
    print(f"parot-solve in-process solve: median {d:.3f} s ({', '.join(f'{t:.3f}' for t in driver)})")
    print(f"parot.solve call:             median {p:.3f} s ({', '.join(f'{t:.3f}' for t in python)})")
    print(f"ratio python / driver: {p / d:.3f}")
    for rank, (peak, data) in enumerate(memory):
        print(f"rank {rank}: peak RSS {peak:.0f} MiB (arrays it holds: {data:.2f} MiB)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--ranks", type=int, default=2)
    parser.add_argument("--solver", default="sns")
    parser.add_argument("--reg", type=float, default=1e-3, help="relative to the largest cost")
    parser.add_argument("--atol", type=float, default=1e-9)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--problem", help=argparse.SUPPRESS)
    a = parser.parse_args()
    worker(a) if a.worker else main(a)
