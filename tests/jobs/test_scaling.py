#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""A tiny sweep of jobs/scaling.py: strong and weak scaling of sinkhorn, sns and sliced at 1 and
2 ranks. Checks the CSV (one converged row per kind x solver x rank count, positive times, the
log-event columns filled for the entropic solvers) and that every PNG exists and is a PNG."""
import argparse
import csv
import os
import shutil
import subprocess
import sys

ap = argparse.ArgumentParser()
ap.add_argument("--root", required=True)
ap.add_argument("--bin", required=True)
ap.add_argument("--work", required=True)
ap.add_argument("--mpiexec", default="mpiexec")
args = ap.parse_args()

shutil.rmtree(args.work, ignore_errors=True)
os.makedirs(args.work)
out_csv = os.path.join(args.work, "scaling.csv")
plots = os.path.join(args.work, "plots")
cmd = [sys.executable, os.path.join(args.root, "jobs", "scaling.py"), "run", "--bin", args.bin,
       "--mpiexec", args.mpiexec, "--ranks", "1", "2", "--n", "240", "--rows-per-rank", "120",
       "--m", "200", "--slices", "128", "--slices-per-rank", "64", "--out",
       os.path.join(args.work, "runs"), "--csv", out_csv, "--plots", plots]
print("$", " ".join(cmd), flush=True)
subprocess.run(cmd, check=True)

bad = []
with open(out_csv) as fh:
    rows = list(csv.DictReader(fh))
keys = sorted((r["kind"], r["solver"], int(r["ranks"])) for r in rows)
want = sorted((k, s, p) for k in ("strong", "weak") for s in ("sinkhorn", "sns", "sliced")
              for p in (1, 2))
if keys != want:
    bad.append(f"CSV rows {keys}, expected {want}")
for r in rows:
    tag = f"{r['kind']}/{r['solver']}/np{r['ranks']}"
    if not float(r["solve_time"]) > 0:
        bad.append(f"{tag}: solve_time {r['solve_time']}")
    if r["solver"] == "sliced":
        want_l = 128 if r["kind"] == "strong" else 64 * int(r["ranks"])
        if not (float(r["sw"]) > 0 and int(r["slices"]) == want_l):
            bad.append(f"{tag}: sw {r['sw']}, slices {r['slices']} (expected {want_l})")
        continue
    if r["reason"] != "converged_atol":
        bad.append(f"{tag}: reason {r['reason']}")
    if not (int(r["iterations"]) > 0 and int(r["sweep_count"]) > 0 and int(r["allreduce_count"]) > 0):
        bad.append(f"{tag}: iterations {r['iterations']}, sweeps {r['sweep_count']}, "
                   f"allreduces {r['allreduce_count']}")
    if not 0 <= float(r["comm_share"]) <= 1.5:
        bad.append(f"{tag}: comm_share {r['comm_share']}")
    n_expect = 240 if r["kind"] == "strong" else 120 * int(r["ranks"])  # entropic rows only
    if int(r["n"]) != n_expect:
        bad.append(f"{tag}: n {r['n']}, expected {n_expect}")
for name in ("time", "speedup", "efficiency", "iterations", "comm_share"):
    path = os.path.join(plots, name + ".png")
    if not os.path.exists(path) or os.path.getsize(path) < 1000:
        bad.append(f"{path}: missing or tiny")
    elif open(path, "rb").read(8) != b"\x89PNG\r\n\x1a\n":
        bad.append(f"{path}: not a PNG")
# The output rules: a CSV path that is a device (or any non-regular file) is refused, exit 2.
for target in ("/dev/null", plots):
    r = subprocess.run([sys.executable, os.path.join(args.root, "jobs", "scaling.py"), "collect",
                        os.path.join(args.work, "runs"), "--csv", target, "--plots", plots],
                       capture_output=True, text=True)
    if r.returncode != 2 or "not a regular file" not in r.stderr:
        bad.append(f"--csv {target}: exit {r.returncode}, stderr {r.stderr!r} (expected 2)")
if not os.path.exists("/dev/null") or os.path.isfile("/dev/null"):
    bad.append("/dev/null was replaced")
if bad:
    print("FAIL:\n  " + "\n  ".join(bad))
    sys.exit(1)
print(f"scaling sweep OK: {len(rows)} rows, 5 plots")
