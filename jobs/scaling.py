#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Strong and weak scaling of parot's Sinkhorn, SNS and sliced solvers: one CSV, PNG plots.

  run      runs the drivers over rank counts (mpiexec locally, or srun inside an allocation):
             strong: one problem (n = m = --n) at every rank count
             weak:   n = P * --rows-per-rank source points, m = --m target points (work per rank
                     and the allreduce message constant); sliced: n = m = --m points and
                     L = P * --slices-per-rank slices (slices are what sliced splits over ranks)
  collect  reads run directories made by jobs/strong-scaling.sbatch / weak-scaling.sbatch

Every run has its own directory (result.h5, log.csv from -log_view :log.csv:ascii_csv, the
command). The CSV has one row per run: the result's attributes (solve_time, iterations, ...) and
parot's PETSc log events: parotSweep (local compute), parotAllreduce (the column-pair
reduction), parotAbsorb. comm_share = mean over ranks of the allreduce time / solve_time; it
includes the time a rank waits for slower ranks at the reduction.

  /usr/bin/python3 jobs/scaling.py run --ranks 1 2 4 --n 4000 --rows-per-rank 2000 --m 4000 \\
      --out scaling-runs --csv scaling.csv --plots scaling-plots
  salloc -n 64 /usr/bin/python3 jobs/scaling.py run --launcher srun --ranks 1 2 4 8 16 32 64 ...
  /usr/bin/python3 jobs/scaling.py collect runs/strong-123_* runs/weak-124_* --csv s.csv --plots p
"""
import argparse
import csv
import os
import shlex
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safe_output import OutputRefused, atomic_open, atomic_path, check_output  # noqa: E402

FIELDS = [
    "kind", "solver", "ranks", "n", "m", "d", "slices", "reason", "iterations",
    "sinkhorn_iterations", "newton_iterations", "solve_time", "process_time", "sweep_time",
    "sweep_count", "allreduce_time", "allreduce_time_min", "allreduce_time_max", "allreduce_count",
    "absorb_time", "comm_share", "comm_share_min", "sweep_per_iteration", "allreduce_per_call", "transport_cost", "sw", "run_dir",
]


def attr(a, key, default=""):
    if key not in a:
        return default
    v = a[key]
    if isinstance(v, bytes):
        return v.decode()
    if hasattr(v, "item"):
        return v.item()
    return v


def read_log(path):
    """-log_view ascii_csv: {event: (mean time over ranks, max, count on rank 0, min)}."""
    per = {}
    if not os.path.exists(path):
        return {}
    with open(path) as fh:
        rows = list(csv.reader(fh))
    for row in rows[1:]:
        if len(row) < 5:
            continue
        event, rank, count, t = row[1], int(row[2]), float(row[3]), float(row[4])
        d = per.setdefault(event, {})
        c, s = d.get(rank, (0.0, 0.0))
        d[rank] = (c + count, s + t)
    out = {}
    for event, d in per.items():
        times = [s for _, s in d.values()]
        out[event] = (sum(times) / len(times), max(times), d.get(0, (0, 0))[0], min(times))
    return out


def summarize(run_dir, kind="", solver="", process_time="", sizes=None):
    """One CSV row from a run directory (result.h5 + log.csv)."""
    import h5py

    result = os.path.join(run_dir, "result.h5")
    row = {k: "" for k in FIELDS}
    row.update(kind=kind, run_dir=run_dir, process_time=process_time)
    with h5py.File(result, "r") as f:
        a = f.attrs
        for k in ("n", "m", "reason", "iterations", "sinkhorn_iterations", "newton_iterations",
                  "solve_time", "transport_cost"):
            row[k] = attr(a, k)
        row["ranks"] = attr(a, "nranks")
        row["solver"] = solver or attr(a, "solver")
        if "sliced" in f:
            s = f["sliced"].attrs
            row["slices"] = attr(s, "slices")
            row["sw"] = attr(s, "sw")
            row["solver"] = solver or "sliced"
            if row["solve_time"] == "":
                row["solve_time"] = attr(s, "solve_time", attr(a, "wall_time"))
        if "solution" in f and row["n"] == "":
            row["n"] = f["solution/f"].shape[0]
            row["m"] = f["solution/g"].shape[0]
    for k, v in (sizes or {}).items():
        if row[k] == "":
            row[k] = v
    events = read_log(os.path.join(run_dir, "log.csv"))
    sweep = events.get("parotSweep", (0.0, 0.0, 0, 0.0))
    red = events.get("parotAllreduce", (0.0, 0.0, 0, 0.0))
    row["sweep_time"], row["sweep_count"] = sweep[0], int(sweep[2])
    row["allreduce_time"], row["allreduce_time_max"], row["allreduce_count"] = red[0], red[1], int(red[2])
    row["allreduce_time_min"] = red[3]
    row["absorb_time"] = events.get("parotAbsorb", (0.0, 0.0, 0, 0.0))[0]
    solve = float(row["solve_time"] or 0)
    # The mean includes waiting for the slowest rank; the rank that arrives last hardly waits, so
    # the minimum over ranks is closer to the cost of the reduction itself.
    row["comm_share"] = red[0] / solve if solve > 0 else ""
    row["comm_share_min"] = red[3] / solve if solve > 0 else ""
    its = float(row["sinkhorn_iterations"] or 0)
    row["sweep_per_iteration"] = sweep[0] / its if its > 0 else ""
    row["allreduce_per_call"] = red[0] / red[2] if red[2] else ""
    if not kind:  # a run directory of the batch scripts: strong-<job>_<P> / weak-<job>_<P>
        row["kind"] = os.path.basename(run_dir.rstrip("/")).split("-")[0]
    return row


def launch(args, np_, cmd):
    if args.launcher == "srun":
        return ["srun", f"--mpi={args.srun_mpi}", "-n", str(np_)] + cmd
    return [args.mpiexec, "-n", str(np_)] + cmd


def run_cmd(cmd, log):
    t0 = time.perf_counter()
    with open(log, "a") as fh:
        fh.write("$ " + shlex.join(cmd) + "\n")
        fh.flush()
        rc = subprocess.call(cmd, stdout=fh, stderr=subprocess.STDOUT)
    if rc != 0:
        sys.exit(f"scaling: command failed (rc {rc}), see {log}: {shlex.join(cmd)}")
    return time.perf_counter() - t0


def problem(args, n, m):
    path = os.path.join(args.out, f"problem-{args.family}-n{n}-m{m}.h5")
    if not os.path.exists(path):
        gen = [os.path.join(args.bin, "parot-generate"), "-family", args.family, "-n", str(n),
               "-m", str(m), "-d", str(args.d), "-seed", "1", "-output", path]
        run_cmd(launch(args, min(args.ranks[-1], 2), gen), os.path.join(args.out, "generate.log"))
    return path


def cmd_run(args):
    os.makedirs(args.out, exist_ok=True)
    rows = []
    for kind in args.kinds:
        for solver in args.solvers:
            for p in args.ranks:
                if kind == "strong":
                    n, m, slices = args.n, args.n, args.slices
                elif solver == "sliced":  # slices are split over ranks: L grows, points fixed
                    n, m, slices = args.m, args.m, p * args.slices_per_rank
                else:
                    n, m, slices = p * args.rows_per_rank, args.m, args.slices
                path = problem(args, n, m)
                run_dir = os.path.join(args.out, f"{kind}-{solver}-np{p}")
                os.makedirs(run_dir, exist_ok=True)
                out = os.path.join(run_dir, "result.h5")
                log = ["-log_view", f":{os.path.join(run_dir, 'log.csv')}:ascii_csv"]
                if solver == "sliced":
                    drv = [os.path.join(args.bin, "parot-sliced"), "-problem", path, "-L",
                           str(slices), "-p", "2", "-seed", "1", "-output", out]
                else:
                    drv = [os.path.join(args.bin, "parot-solve"), "-problem", path, "-solver",
                           solver, "-reg", str(args.reg), "-reg_relative", "-atol",
                           str(args.atol), "-max_it", str(args.max_it), "-output", out]
                drv += log + shlex.split(args.extra)
                if os.path.exists(os.path.join(run_dir, "log.csv")):
                    os.remove(os.path.join(run_dir, "log.csv"))
                secs = 0.0
                for _ in range(args.reps):  # the last repetition's result and log are kept
                    secs = run_cmd(launch(args, p, drv), os.path.join(run_dir, "run.log"))
                row = summarize(run_dir, kind, solver, round(secs, 4),
                                {"n": n, "m": m, "d": args.d, "slices": slices if solver == "sliced" else ""})
                rows.append(row)
                print(f"{kind:6s} {solver:8s} P={p:<4d} n={row['n']:<8} m={row['m']:<8} "
                      f"solve {float(row['solve_time']):.4f} s  it {row['iterations']}  "
                      f"comm {row['comm_share'] if row['comm_share'] == '' else round(row['comm_share'], 3)}",
                      flush=True)
    return rows


def write_csv(rows, path):
    with atomic_open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=FIELDS)
        w.writeheader()
        for r in rows:
            w.writerow(r)
    print(f"scaling: {len(rows)} rows in {path}")


def plots(rows, out):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    os.makedirs(out, exist_ok=True)
    groups = {}
    for r in rows:
        groups.setdefault((r["kind"], r["solver"]), []).append(r)
    for g in groups.values():
        g.sort(key=lambda r: int(r["ranks"]))

    def metric(name, g):
        p = [int(r["ranks"]) for r in g]
        t = [float(r["solve_time"]) for r in g]
        if name == "time":
            return p, t
        if name == "speedup":  # relative to the smallest rank count
            return p, [t[0] / x * (p[0] if g[0]["kind"] == "strong" else 1) for x in t]
        if name == "efficiency":
            if g[0]["kind"] == "strong":
                return p, [t[0] * p[0] / (x * q) for x, q in zip(t, p)]
            return p, [t[0] / x for x in t]
        if name == "iterations":
            return p, [float(r["iterations"] or r["slices"] or 0) for r in g]
        if name == "comm_share":
            return p, [float(r["comm_share"] or 0) for r in g]
        if name == "comm_share_min":
            return p, [float(r["comm_share_min"] or 0) for r in g]
        raise ValueError(name)

    labels = {"time": "solve time [s]", "speedup": "speed-up", "efficiency": "parallel efficiency",
              "iterations": "iterations (sliced: slices)",
              "comm_share": "share of solve time in the allreduce (mean over ranks)"}
    written = []
    for name, label in labels.items():
        kinds = sorted({k for k, _ in groups})
        fig, axes = plt.subplots(1, len(kinds), figsize=(5.5 * len(kinds), 4), squeeze=False)
        for ax, kind in zip(axes[0], kinds):
            for (k, solver), g in sorted(groups.items()):
                if k != kind:
                    continue
                x, y = metric(name, g)
                ax.plot(x, y, "o-", label=solver)
                if name == "comm_share" and any(float(r["comm_share"] or 0) for r in g):
                    ax.plot(*metric("comm_share_min", g), "x--", label=f"{solver} (min over ranks)")
            if name == "speedup" and kind == "strong":
                xs = sorted({int(r["ranks"]) for r in rows})
                ax.plot(xs, xs, "k:", label="ideal")
            if name == "time":
                ax.set_yscale("log")
            ax.set_xscale("log", base=2)
            ticks = sorted({int(r["ranks"]) for r in rows})
            ax.set_xticks(ticks)
            ax.set_xticklabels([str(t) for t in ticks])
            ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
            ax.set_xlabel("ranks")
            ax.set_ylabel(label)
            ax.set_title(f"{kind} scaling")
            ax.grid(True, alpha=0.3)
            ax.legend()
        fig.tight_layout()
        path = os.path.join(out, f"{name}.png")
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=100, format="png")
        plt.close(fig)
        written.append(path)
    print(f"scaling: plots {', '.join(written)}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="mode", required=True)
    r = sub.add_parser("run", help="run the drivers over rank counts")
    r.add_argument("--bin", default=os.path.join(os.path.dirname(__file__), "..", "build", "drivers"))
    r.add_argument("--launcher", choices=["mpiexec", "srun"], default="mpiexec")
    r.add_argument("--mpiexec", default="mpiexec")
    r.add_argument("--srun-mpi", default="pmix")
    r.add_argument("--kinds", nargs="+", choices=["strong", "weak"], default=["strong", "weak"])
    r.add_argument("--solvers", nargs="+", choices=["sinkhorn", "sns", "sliced"],
                   default=["sinkhorn", "sns", "sliced"])
    r.add_argument("--ranks", nargs="+", type=int, default=[1, 2, 4])
    r.add_argument("--n", type=int, default=4000, help="strong scaling: n = m")
    r.add_argument("--rows-per-rank", type=int, default=2000, help="weak scaling: n / P")
    r.add_argument("--m", type=int, default=4000, help="weak scaling: m")
    r.add_argument("--slices", type=int, default=2000, help="strong scaling: sliced L")
    r.add_argument("--slices-per-rank", type=int, default=1000, help="weak scaling: sliced L / P")
    r.add_argument("--family", default="clouds")
    r.add_argument("--d", type=int, default=2)
    r.add_argument("--reg", type=float, default=0.01, help="relative to the largest cost")
    r.add_argument("--atol", type=float, default=1e-9)
    r.add_argument("--max-it", type=int, default=100000)
    r.add_argument("--reps", type=int, default=1, help="runs per point (the last is kept)")
    r.add_argument("--extra", default="", help="more options for every driver run")
    r.add_argument("--out", default="scaling-runs")
    c = sub.add_parser("collect", help="summarize run directories of the batch scripts")
    c.add_argument("run_dirs", nargs="+")
    for p in (r, c):
        p.add_argument("--csv", default="scaling.csv")
        p.add_argument("--plots", default="scaling-plots")
    args = ap.parse_args()
    try:  # the output rules of the drivers, before any run (DESIGN.md §5)
        check_output(args.csv)
    except OutputRefused as e:
        print(f"scaling: error: --csv: {e}", file=sys.stderr)
        sys.exit(2)
    if args.mode == "run":
        args.ranks = sorted(args.ranks)
        rows = cmd_run(args)
    else:
        rows = [summarize(d) for d in args.run_dirs if os.path.exists(os.path.join(d, "result.h5"))]
        if not rows:
            sys.exit("scaling: no run directory with a result.h5")
    write_csv(rows, args.csv)
    plots(rows, args.plots)
    per_iteration_speedup(rows)


def per_iteration_speedup(rows):
    """Strong scaling per iteration (solve_time / iterations: one sweep of Sinkhorn), relative to
    the smallest rank count: the figure issue 7 asks for (time(1) / time(2) >= 1.8)."""
    groups = {}
    for r in rows:
        if r["kind"] == "strong" and r["solver"] != "sliced" and r["iterations"]:
            groups.setdefault(r["solver"], []).append(r)
    for solver, g in sorted(groups.items()):
        g.sort(key=lambda r: int(r["ranks"]))
        base = float(g[0]["solve_time"]) / float(g[0]["iterations"])
        for r in g:
            t = float(r["solve_time"]) / float(r["iterations"])
            print(f"scaling: strong {solver} P={r['ranks']}: {1e3 * t:.2f} ms per iteration, "
                  f"speed-up {base / t:.2f} vs P={g[0]['ranks']}")


if __name__ == "__main__":
    main()
