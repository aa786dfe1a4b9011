#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
# Reproduces the set-up of Table 1 of the SNS paper (Tang et al., ICLR 2024) with parot-solve.
"""SNS against Sinkhorn, both run to (near) machine accuracy, on the paper's three cases.

Cases (η = 1200 on a cost normalized to [0, 1], i.e. reg = max C / 1200):
  * random assignment, n = 500 (uniform random cost; parot's generator, not the paper's draw);
  * an image pair with L2 ground cost (parot's 28×28 blob images, squared Euclidean);
  * an image pair with L1 ground cost (the paper warms up with 700 Sinkhorn steps there).
The paper's images are MNIST digits; parot's generator draws blob images of the same size, so
compare iteration counts and the shape of the speed-up, not seconds.

Usage: /usr/bin/python3 jobs/sns_table1.py [--ranks 2] [--atol 1e-13] [--build build]
       [--markdown FILE]
As root, export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 first.
"""
import argparse
import os
import subprocess
import tempfile
import time

import h5py

# As reported (sns.md §5): (SNS iterations, Sinkhorn iterations, SNS time, Sinkhorn time).
PAPER = {
    "assignment": ("29 (20 + 9)", "56,199", "0.34 s", "233.36 s"),
    "images L2": ("53 (20 + 33)", "2,041", "2.33 s", "18.84 s"),
    "images L1": ("777 (700 + 77)", "5,748", "12.22 s", "45.75 s"),
}
CASES = [
    ("assignment", ["-family", "assignment", "-n", "500", "-seed", "0"], ["-sns_warmup_it", "20"]),
    ("images L2", ["-family", "images", "-p", "2", "-seed", "1"], ["-sns_warmup_it", "20"]),
    ("images L1", ["-family", "images", "-p", "1", "-seed", "1"], ["-sns_warmup_it", "700"]),
]


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr}")
    return r


def solve(args, problem, out, solver, extra):
    cmd = [args.mpirun, "-n", str(args.ranks), os.path.join(args.build, "drivers", "parot-solve"),
           "-problem", problem, "-output", out, "-solver", solver, "-reg", str(1 / 1200),
           "-reg_relative", "-atol", str(args.atol), "-max_it", "1000000", *extra]
    start = time.perf_counter()
    run(cmd)
    wall = time.perf_counter() - start
    with h5py.File(out, "r") as f:
        a = dict(f.attrs)
    return a, wall


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ranks", type=int, default=2)
    parser.add_argument("--atol", type=float, default=1e-13)
    parser.add_argument("--build", default=os.path.join(os.path.dirname(os.path.abspath(
        __file__)), "..", "build"))
    parser.add_argument("--mpirun", default="mpirun")
    parser.add_argument("--markdown", metavar="FILE")
    args = parser.parse_args()

    header = ("| case | SNS iterations (Sinkhorn + Newton) | Sinkhorn iterations | SNS solve [s] | "
              "Sinkhorn solve [s] | speed-up | SNS error / reason | Sinkhorn error / reason | "
              "paper: SNS it, Sinkhorn it, SNS time, Sinkhorn time |")
    rows = [header, "|" + "---|" * 9]
    with tempfile.TemporaryDirectory(prefix="parot_table1_") as tmp:
        for name, gen, sns_extra in CASES:
            problem = os.path.join(tmp, name.replace(" ", "_") + ".h5")
            run([args.mpirun, "-n", "1", os.path.join(args.build, "drivers", "parot-generate"),
                 *gen, "-output", problem])
            sns, _ = solve(args, problem, os.path.join(tmp, "sns.h5"), "sns", sns_extra)
            snk, _ = solve(args, problem, os.path.join(tmp, "sinkhorn.h5"), "sinkhorn", [])
            speedup = snk["solve_time"] / sns["solve_time"]
            row = (f"| {name} | {sns['iterations']} ({sns['sinkhorn_iterations']} + "
                   f"{sns['newton_iterations']}) | {snk['iterations']} | {sns['solve_time']:.3f} | "
                   f"{snk['solve_time']:.3f} | {speedup:.1f}x | {sns['marginal_error']:.1e} "
                   f"{sns['reason']} | {snk['marginal_error']:.1e} {snk['reason']} | "
                   f"{', '.join(PAPER[name])} |")
            rows.append(row)
            print(row, flush=True)
    text = (f"parot-solve on {args.ranks} ranks, reg = max C / 1200, atol {args.atol:g}\n\n"
            + "\n".join(rows) + "\n")
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(text)
    print("\n" + text)


if __name__ == "__main__":
    main()
