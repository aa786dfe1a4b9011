#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Near-exact OT end to end: reg = 1e-4 (relative) converges on every generated family at
# n = 500, within the entropic bound of POT's exact cost; -ot_rtol writes a certified interval
# around that cost and its feasible plan; bad -ot_rtol settings are usage errors (exit 2).
import argparse
import os
import subprocess
import sys
import tempfile
import unittest

import h5py
import numpy as np
import ot

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data"))
from make_pot_reference import load_problem  # noqa: E402

ARGS = None
FAMILIES = {  # name -> parot-generate options
    "clouds": ["-family", "clouds", "-n", "500", "-d", "2"],
    "gaussians": ["-family", "gaussians", "-n", "500", "-d", "3"],
    "density1d_p1": ["-family", "density1d", "-n", "500", "-p", "1"],
    "density1d_p2": ["-family", "density1d", "-n", "500", "-p", "2"],
    "images_p1": ["-family", "images", "-p", "1"],
    "images_p2": ["-family", "images", "-p", "2"],
    "assignment": ["-family", "assignment", "-n", "500"],
}


def run(tool, *argv, timeout=600):
    cmd = [ARGS.mpiexec, "-n", str(ARGS.np), os.path.join(ARGS.bin, tool), *argv]
    env = dict(os.environ, PETSC_OPTIONS="-no_signal_handler")
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)


def exact_cost(problem):
    a, b, C, _ = load_problem(problem)
    a, b = a / a.sum(), b / b.sum()
    return float(ot.emd2(a, b, C, numItermax=10**8)), a, b, C


def entropy(w):
    w = w[w > 0]
    return float(-(w * np.log(w)).sum())


class NearExact(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory(prefix="parot_near_exact_")
        cls.problems = {}
        for name, options in FAMILIES.items():
            path = os.path.join(cls.dir.name, f"{name}.h5")
            r = run("parot-generate", *options, "-seed", "21", "-output", path)
            assert r.returncode == 0, r.stderr
            cls.problems[name] = path

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    def test_reg_1e_4_converges_on_every_family(self):
        for name, problem in self.problems.items():
            with self.subTest(family=name):
                out = os.path.join(self.dir.name, f"{name}_reg.h5")
                r = run("parot-solve", "-problem", problem, "-output", out, "-solver", "sns",
                        "-sns_eps_scaling", "-reg", "1e-4", "-reg_relative", "-atol", "1e-9",
                        "-error_if_not_converged")
                self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
                exact, a, b, C = exact_cost(problem)
                with h5py.File(out, "r") as f:
                    self.assertEqual(f.attrs["reason"], "converged_atol")
                    self.assertLessEqual(f.attrs["marginal_error"], 1e-9)
                    self.assertFalse(np.any(np.isnan(f["solution/f"][:])))
                    cost, reg = float(f.attrs["transport_cost"]), float(f.attrs["reg"])
                # OT <= <C,P> (P feasible up to 1e-9) <= OT + reg (H(a) + H(b)).
                slack = 1e-9 * C.max()
                self.assertGreaterEqual(cost, exact - slack)
                self.assertLessEqual(cost, exact + reg * (entropy(a) + entropy(b)) + slack)

    def test_certified_interval_and_feasible_plan(self):
        for name in ["clouds", "density1d_p1"]:
            with self.subTest(family=name):
                problem = self.problems[name]
                out = os.path.join(self.dir.name, f"{name}_certified.h5")
                r = run("parot-solve", "-problem", problem, "-output", out, "-solver", "sns",
                        "-ot_rtol", "1e-2", "-plan_threshold", "1e-14")
                self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
                self.assertIn("reason           converged_rtol", r.stdout)
                self.assertIn("OT cost          in [", r.stdout)
                exact, a, b, C = exact_cost(problem)
                with h5py.File(out, "r") as f:
                    lower = float(f["bounds"].attrs["lower"])
                    upper = float(f["bounds"].attrs["upper"])
                    rows, cols = f["plan/row"][:], f["plan/col"][:]
                    values = f["plan/value"][:]
                self.assertLessEqual(lower, exact * (1 + 1e-12))
                self.assertGreaterEqual(upper, exact * (1 - 1e-12))
                self.assertLessEqual((upper - lower) / upper, 1e-2)
                # The plan is feasible and its cost is the upper bound.
                P = np.zeros_like(C)
                np.add.at(P, (rows, cols), values)
                self.assertTrue(np.all(values > 0))
                self.assertLess(np.abs(P.sum(1) - a).sum(), 1e-12)
                self.assertLess(np.abs(P.sum(0) - b).sum(), 1e-12)
                self.assertAlmostEqual(float((C * P).sum()) / upper, 1.0, delta=1e-12)

    def test_bad_ot_rtol_is_a_usage_error(self):
        problem = self.problems["images_p2"]
        out = os.path.join(self.dir.name, "never.h5")
        for extra, fragment in [
            (["-ot_rtol", "0"], "option -ot_rtol must be positive"),
            (["-ot_rtol", "-0.01"], "option -ot_rtol must be positive"),
            (["-ot_rtol", "nan"], "option -ot_rtol must be positive"),
            (["-ot_rtol", "abc"], "-ot_rtol"),
            (["-ot_rtol", "1e-2", "-ot_eps_factor", "1.5"], "-ot_eps_factor must be in (0, 1)"),
            (["-ot_rtol", "1e-2", "-ot_truncation", "5"], "-ot_truncation must be 0 (off) or at least 10"),
            (["-ot_rtol", "1e-2", "-ot_truncation_fraction", "2"],
             "-ot_truncation_fraction must be in [0, 1]"),
            (["-ot_rtol", "1e-2", "-ot_multiscale_min", "-1"], "-ot_multiscale_min must be >= 0"),
            (["-ot_rtol", "1e-2", "-solver", "sparse", "-sparse_k", "2"],
             "-ot_rtol works with -solver sinkhorn or sns"),
            (["-ot_rtol", "1e-2", "-checkpoint", out + ".ck"], "do not support -ot_rtol"),
            (["-ot_eps_min", "1e-3"], "ot_eps_min"),  # an -ot_* key without -ot_rtol: unused
        ]:
            with self.subTest(options=" ".join(extra)):
                r = run("parot-solve", "-problem", problem, "-output", out, *extra)
                self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
                messages = [line for line in r.stderr.splitlines() if ": error: " in line]
                self.assertEqual(len(messages), 1, r.stderr)
                self.assertIn(fragment, messages[0])
                self.assertFalse(os.path.exists(out))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--np", type=int, default=2)
    parser.add_argument("--mpiexec", default="mpiexec")
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0], *rest])
