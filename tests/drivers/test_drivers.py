#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# The command-line drivers end to end at one rank count: generate -> solve -> inspect, and bad
# input (DESIGN.md §5): exit code 2, one clear message printed once, no result file.
import argparse
import concurrent.futures
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import h5py
import numpy as np

ARGS = None


def run(*argv, np_=None, timeout=240):
    cmd = [ARGS.mpiexec, "-n", str(np_ or ARGS.np), *argv]
    env = dict(os.environ, PETSC_OPTIONS="-no_signal_handler")
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)


def tool(name):
    return os.path.join(ARGS.bin, name)


class Drivers(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory(prefix=f"parot_drivers_np{ARGS.np}_")
        cls.tmp = cls.dir.name
        cls.clouds = os.path.join(cls.tmp, "clouds.h5")
        r = run(tool("parot-generate"), "-family", "clouds", "-n", "40", "-m", "30", "-seed", "3",
                "-output", cls.clouds)
        assert r.returncode == 0, r.stderr

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    def path(self, name):
        return os.path.join(self.tmp, name)

    def expect_usage_error(self, r, fragment, output=None):
        self.assertEqual(r.returncode, 2, f"stdout:\n{r.stdout}\nstderr:\n{r.stderr}")
        messages = [line for line in r.stderr.splitlines() if ": error: " in line]
        self.assertEqual(len(messages), 1, f"expected one message, got:\n{r.stderr}")
        self.assertIn(fragment, messages[0])
        if output:
            self.assertFalse(os.path.exists(output), "an output file was left behind")
            self.assertFalse(os.path.exists(output + ".tmp"), "a temporary file was left behind")

    def solve(self, problem, output, *extra):
        return run(tool("parot-solve"), "-problem", problem, "-output", output, *extra)

    # --- the happy path ---------------------------------------------------------------------
    def test_generate_solve_inspect(self):
        for family in ["assignment", "clouds", "gaussians", "density1d", "images"]:
            with self.subTest(family=family):
                problem, result = self.path(f"{family}.h5"), self.path(f"{family}_result.h5")
                r = run(tool("parot-generate"), "-family", family, "-n", "50", "-p", "1",
                        "-seed", "1", "-output", problem)
                self.assertEqual(r.returncode, 0, r.stderr)
                r = self.solve(problem, result, "-reg", "0.05", "-reg_relative",
                               "-plan_threshold", "1e-4")
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertIn("converged_atol", r.stdout)
                with h5py.File(result, "r") as f:
                    self.assertEqual(f.attrs["format"], "parot-result")
                    self.assertEqual(f.attrs["reason"], "converged_atol")
                    self.assertEqual(int(f.attrs["nranks"]), ARGS.np)
                    self.assertLessEqual(f.attrs["marginal_error"], 1e-9)
                    n, m = int(f.attrs["n"]), int(f.attrs["m"])
                    self.assertEqual(f["solution/f"].shape, (n,))
                    self.assertEqual(f["solution/g"].shape, (m,))
                    for field in ["iteration", "reg", "marginal_error", "objective", "step",
                                  "inner_iterations", "wall_time"]:
                        self.assertEqual(len(f["history/" + field]), len(f["history/iteration"]))
                    # The sparse plan: entries above the threshold with their ⟨C,P⟩ share.
                    self.assertTrue(np.all(f["plan/value"][:] > 1e-4))
                    self.assertLessEqual(f["plan/value"][:].sum(), 1 + 1e-9)
                r = run(tool("parot-inspect"), result, np_=1)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertIn("transport_cost", r.stdout)
                self.assertIn("/solution/f", r.stdout)

    def test_same_answer_as_one_rank(self):
        one, here = self.path("one.h5"), self.path("here.h5")
        # One rank in the log domain against this rank count on the stored kernel.
        self.assertEqual(run(tool("parot-solve"), "-problem", self.clouds, "-output", one,
                             "-reg", "0.01", "-atol", "1e-11", "-sinkhorn_stored_kernel", "no",
                             np_=1).returncode, 0)
        self.assertEqual(self.solve(self.clouds, here, "-reg", "0.01", "-atol", "1e-11")
                         .returncode, 0)
        with h5py.File(one, "r") as a, h5py.File(here, "r") as b:
            self.assertEqual((a.attrs["stored_kernel"], b.attrs["stored_kernel"]), (0, 1))
            ca, cb = a.attrs["transport_cost"], b.attrs["transport_cost"]
            self.assertLess(abs(ca - cb), 1e-10 * ca)
            fa, fb = a["solution/f"][:], b["solution/f"][:]
            self.assertLess(np.abs(fa - fb).max(), 1e-10 * np.abs(fa).max())

    def test_sns_solver(self):
        out, ref = self.path("sns.h5"), self.path("sns_ref.h5")
        r = self.solve(self.clouds, out, "-solver", "sns", "-reg", "0.02", "-atol", "1e-12",
                       "-sns_sparsify", "row", "-sns_row_k", "10", "-sns_ksp_type", "cg")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.solve(self.clouds, ref, "-reg", "0.02", "-atol", "1e-12")
                         .returncode, 0)
        with h5py.File(out, "r") as f, h5py.File(ref, "r") as g:
            self.assertEqual(f.attrs["solver"], "sns")
            self.assertEqual(f.attrs["reason"], "converged_atol")
            self.assertGreater(int(f.attrs["newton_iterations"]), 0)
            self.assertEqual(int(f.attrs["sinkhorn_iterations"]) + int(f.attrs["newton_iterations"]),
                             int(f.attrs["iterations"]))
            newton = f["history/inner_iterations"][:] > 0
            self.assertEqual(int(newton.sum()), int(f.attrs["newton_iterations"]))
            self.assertTrue(np.all(f["history/kept_fraction"][:][newton] > 0))
            c1, c2 = f.attrs["transport_cost"], g.attrs["transport_cost"]
            self.assertLess(abs(c1 - c2), 1e-10 * c2)

    def test_unbalanced_sinkhorn_matches_pot(self):
        import ot
        problem, out = self.path("unbalanced.h5"), self.path("unbalanced_result.h5")
        shutil.copy(self.clouds, problem)
        with h5py.File(problem, "r+") as f:
            f["target/weights"][...] = 0.5 * f["target/weights"][:]  # masses 1 and 0.5
            a, b = f["source/weights"][:], f["target/weights"][:]
            M = ot.dist(f["source/points"][:], f["target/points"][:])
        self.expect_usage_error(self.solve(problem, out), "masses differ", out)
        r = self.solve(problem, out, "-reg", "0.05", "-reg_m", "0.5", "-atol", "1e-12")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        Q = ot.unbalanced.sinkhorn_unbalanced(a, b, M, 0.05, 0.5, stopThr=1e-15,
                                              numItermax=100000)
        with h5py.File(out, "r") as f:
            self.assertEqual(f.attrs["solver"], "sinkhorn_unbalanced")
            self.assertEqual(f.attrs["reason"], "converged_atol")
            self.assertLessEqual(f.attrs["marginal_error"], 1e-12)
            self.assertAlmostEqual(f.attrs["transport_cost"] / float((M * Q).sum()), 1.0,
                                   delta=1e-8)
            self.assertAlmostEqual(f.attrs["transported_mass"] / Q.sum(), 1.0, delta=1e-8)
            self.assertEqual(f.attrs["reg_m_source"], 0.5)

    def test_sparse_solver(self):
        # The clouds problem (40 x 30): at most k non-zeros per column, the reported marginal
        # errors and <C, T> recomputed here from the written plan and the points.
        with h5py.File(self.clouds, "r") as f:
            x, y = f["source/points"][:], f["target/points"][:]
            a, b = f["source/weights"][:], f["target/weights"][:]
        a, b = a / a.sum(), b / b.sum()
        C = ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)
        for formulation in ["dual", "semidual"]:
            for k in [1, 2, 40]:
                with self.subTest(formulation=formulation, k=k):
                    out = self.path(f"sparse_{formulation}_{k}.h5")
                    r = self.solve(self.clouds, out, "-solver", "sparse", "-sparse_k", str(k),
                                   "-reg", "0.5", "-reg_relative", "-atol", "1e-8",
                                   "-sparse_formulation", formulation, "-max_it", "500")
                    self.assertEqual(r.returncode, 0, r.stderr)
                    self.assertIn("marginal_error", r.stdout)
                    with h5py.File(out, "r") as f:
                        self.assertEqual(f.attrs["solver"], "sparse")
                        self.assertEqual(f.attrs["sparse_formulation"], formulation)
                        self.assertEqual(int(f.attrs["sparse_k"]), k)
                        self.assertEqual(int(f.attrs["nranks"]), ARGS.np)
                        T = np.zeros(C.shape)
                        T[f["plan/row"][:], f["plan/col"][:]] = f["plan/value"][:]
                        self.assertEqual(len(f["plan/value"]), int(f.attrs["plan_nnz"]))
                        nnz = (T > 0).sum(0)
                        self.assertLessEqual(nnz.max(), k)
                        self.assertEqual(nnz.max(), int(f.attrs["max_column_nnz"]))
                        rows, cols = np.abs(T.sum(1) - a), np.abs(T.sum(0) - b)
                        self.assertAlmostEqual(f.attrs["source_marginal_error"], rows.sum(),
                                               delta=1e-12)
                        self.assertAlmostEqual(f.attrs["target_marginal_error"], cols.sum(),
                                               delta=1e-12)
                        self.assertAlmostEqual(f.attrs["source_marginal_error_max"], rows.max(),
                                               delta=1e-12)
                        self.assertAlmostEqual(f.attrs["transport_cost"], (T * C).sum(),
                                               delta=1e-10 * (T * C).sum())
                        if formulation == "semidual":
                            self.assertLess(cols.max(), 1e-14)
                        if k == 40:  # whole columns: quadratically regularized OT, whose
                            # L-BFGS convergence is slow at this large reg (SciPy's too): in
                            # 500 iterations it ends anywhere between 1e-7 and 2e-5 (the path
                            # moves with the last bit of the normalized weights), from ~1
                            self.assertLess(f.attrs["marginal_error"], 1e-4)
                            # No truncation: T = [f + g - C]_+ / reg everywhere.
                            kkt = np.maximum(f["solution/f"][:][:, None] +
                                             f["solution/g"][:][None, :] - C, 0) / f.attrs["reg"]
                            self.assertLess(np.abs(kkt - T).max(), 1e-9)
                        n_hist = len(f["history/iteration"])
                        self.assertEqual(n_hist, int(f.attrs["iterations"]) + 1)
        # An empty plan (no iteration from α = β = 0) is written and its errors reported.
        out = self.path("sparse_empty.h5")
        r = self.solve(self.clouds, out, "-solver", "sparse", "-sparse_k", "2",
                       "-sparse_tao_max_it", "0")
        self.assertEqual(r.returncode, 0, r.stderr)
        with h5py.File(out, "r") as f:
            self.assertEqual(len(f["plan/value"]), 0)
            self.assertAlmostEqual(f.attrs["marginal_error"], 2.0, delta=1e-12)

    def test_sliced_matches_pot_with_the_same_directions(self):
        import ot
        problem, out = self.path("sliced_pair.h5"), self.path("sliced.h5")
        self.assertEqual(run(tool("parot-generate"), "-family", "gaussians", "-n", "90", "-m",
                             "60", "-d", "3", "-seed", "2", "-output", problem).returncode, 0)
        r = run(tool("parot-sliced"), "-problem", problem, "-L", "64", "-seed", "5",
                "-save_directions", "-output", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        with h5py.File(problem, "r") as f, h5py.File(out, "r") as g:
            theta = g["sliced/directions"][:]
            self.assertEqual(theta.shape, (64, 3))
            # POT 0.8.2 divides by n_projections even when projections are given: pass both.
            pot = ot.sliced_wasserstein_distance(
                f["source/points"][:], f["target/points"][:], f["source/weights"][:],
                f["target/weights"][:], n_projections=64, projections=theta.T, p=2)
            sw = g["sliced"].attrs["sw"]
            self.assertLess(abs(sw - pot), 1e-12 * pot, (sw, pot))
            self.assertEqual(g.attrs["solver"], "sliced")
            self.assertGreater(g["sliced"].attrs["stderr"], 0)
        # The same estimate with the points kept distributed over the ranks.
        dist = self.path("sliced_dist.h5")
        r = run(tool("parot-sliced"), "-problem", problem, "-L", "64", "-seed", "5",
                "-distributed", "-cv", "upper", "-output", dist)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = run(tool("parot-sliced"), "-problem", problem, "-L", "64", "-seed", "5", "-cv",
                "upper", "-output", out)
        with h5py.File(out, "r") as g, h5py.File(dist, "r") as h:
            a, b = g["sliced"].attrs["sw_pp"], h["sliced"].attrs["sw_pp"]
            self.assertLess(abs(a - b), 1e-10 * a)

    def test_sliced_batch_and_bad_options(self):
        batch, out = self.path("batch.h5"), self.path("matrix.h5")
        self.assertEqual(run(tool("parot-generate"), "-family", "clouds", "-n", "40", "-batch", "7",
                             "-output", batch).returncode, 0)
        r = run(tool("parot-sliced"), "-batch", batch, "-L", "30", "-output", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        with h5py.File(out, "r") as f:
            D = f["sliced/distance"][:]
            self.assertEqual(D.shape, (7, 7))
            self.assertTrue(np.allclose(D, D.T, rtol=0, atol=0))
            self.assertTrue(np.all(np.diag(D) == 0) and np.all(D[~np.eye(7, dtype=bool)] > 0))
        for extra, fragment in [(["-type", "tsw"], "unknown value 'tsw'"),
                                (["-cv", "upper", "-p", "1"], "need -type sw and -p 2"),
                                (["-L", "0"], "-L must be >= 1"),
                                (["-kappa", "-1"], "-kappa must be positive")]:
            with self.subTest(extra=extra):
                self.expect_usage_error(run(tool("parot-sliced"), "-problem", self.clouds,
                                            "-output", out + "x", *extra), fragment, out + "x")
        self.expect_usage_error(run(tool("parot-sliced"), "-output", out + "x"),
                                "give exactly one of -problem FILE, -batch FILE", out + "x")

    def test_sliced_meshes_from_hdf5(self):
        path, out = self.path("meshes.h5"), self.path("mesh_sw.h5")
        v = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=float)
        faces = np.array([[0, 2, 1], [0, 1, 3], [0, 3, 2], [1, 2, 3]])
        shift = np.array([0.2, 0.1, -0.3])
        with h5py.File(path, "w") as f:
            f["source/vertices"], f["source/faces"] = v, faces
            f["target/vertices"], f["target/faces"] = v + shift, faces
        r = run(tool("parot-sliced"), "-source_mesh", path, "-target_mesh", path,
                "-mesh_measure", "faces", "-cv", "lower", "-L", "20", "-output", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        with h5py.File(out, "r") as f:
            self.assertAlmostEqual(f["sliced"].attrs["sw_pp"], shift @ shift / 3, delta=1e-12)
        with h5py.File(path, "a") as f:
            f["target/faces"][0, 0] = 9  # an index outside the vertices
        self.expect_usage_error(run(tool("parot-sliced"), "-source_mesh", path, "-target_mesh",
                                    path, "-output", out + "x"), "bad vertex index", out + "x")

    def test_default_problem_and_help(self):
        r = run(tool("parot-solve"), "-max_it", "3")  # built-in problem, stopped early
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("built-in default", r.stdout)
        self.assertIn("diverged_max_it", r.stdout)
        r = run(tool("parot-solve"), "-help", np_=1)
        self.assertEqual(r.returncode, 0)
        self.assertIn("-reg", r.stdout)

    def test_not_converged_is_exit_3_with_result(self):
        out = self.path("limited.h5")
        r = self.solve(self.clouds, out, "-max_it", "2", "-error_if_not_converged")
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn("diverged_max_it", r.stderr)
        with h5py.File(out, "r") as f:
            self.assertEqual(f.attrs["reason"], "diverged_max_it")

    def test_zero_weights_are_accepted(self):
        problem = self.path("zeros.h5")
        self.make_problem(problem, a_fn=lambda a: np.where(np.arange(len(a)) % 3 == 0, 0, a))
        out = self.path("zeros_result.h5")
        r = self.solve(problem, out, "-reg", "0.05")
        self.assertEqual(r.returncode, 0, r.stderr)
        with h5py.File(out, "r") as f:
            self.assertTrue(np.all(np.isneginf(f["solution/f"][::3])))

    # --- bad input --------------------------------------------------------------------------
    def make_problem(self, path, a_fn=None, drop=None, mutate=None):
        with h5py.File(self.clouds, "r") as src, h5py.File(path, "w") as dst:
            for key, value in src.attrs.items():
                dst.attrs[key] = value
            for name in ["source/points", "source/weights", "target/points", "target/weights"]:
                if name == drop:
                    continue
                data = src[name][:]
                if name == "source/weights" and a_fn:
                    data = a_fn(data)
                    data = data / data.sum() if np.isfinite(data).all() and data.sum() > 0 else data
                dst[name] = data
            if mutate:
                mutate(dst)

    def test_bad_inputs(self):
        out = self.path("never.h5")
        cases = {
            "missing file": (self.path("nope.h5"), "no such file"),
        }
        def add(name, fragment, **kw):
            path = self.path(name.replace(" ", "_") + ".h5")
            self.make_problem(path, **kw)
            cases[name] = (path, fragment)
        add("missing dataset", "/target/weights is missing", drop="target/weights")
        add("nan weight", "source weights: entry 7 is not finite",
            a_fn=lambda a: np.where(np.arange(len(a)) == 7, np.nan, a))
        add("negative weight", "source weights: entry 39 is negative",
            a_fn=lambda a: np.where(np.arange(len(a)) == 39, -1e-3, a))
        add("zero mass", "total mass must be positive", a_fn=lambda a: 0 * a)
        add("masses differ", "masses differ", a_fn=lambda a: 2 * a / a.sum() - 0 * a)
        def wrong_dim(f):
            del f["target/points"]
            f["target/points"] = np.zeros((30, 3))
        add("dimension mismatch", "dimension", mutate=wrong_dim)
        def wrong_format(f):
            f.attrs["format"] = "something-else"
        add("wrong format", "attribute 'format' is 'something-else'", mutate=wrong_format)
        not_hdf5 = self.path("text.h5")
        with open(not_hdf5, "w") as f:
            f.write("not hdf5\n")
        cases["not hdf5"] = (not_hdf5, "not an HDF5 file")
        for name, (problem, fragment) in cases.items():
            with self.subTest(name):
                # Masses that differ must not be normalized away by make_problem:
                if name == "masses differ":
                    with h5py.File(problem, "a") as f:
                        w = f["source/weights"][:]
                        del f["source/weights"]
                        f["source/weights"] = 2 * w
                self.expect_usage_error(self.solve(problem, out), fragment, out)

    def test_bad_options(self):
        out = self.path("never.h5")
        cases = [
            (["-reg", "-1"], "-reg must be positive"),
            (["-atol", "0"], "-atol must be positive"),
            (["-max_it", "0"], "-max_it must be positive"),
            (["-solver", "simplex"], "unknown value 'simplex'"),
            (["-regg", "0.1"], "unknown option -regg"),
            (["-max_it", "ten"], "ten"),
            (["-eps_scaling_factor", "1.5"], "-eps_scaling_factor must be in (0, 1)"),
            (["-sinkhorn_stored_kernel", "maybe"], "unknown value 'maybe'"),
            (["-solver", "sns", "-sns_sparsify", "all"], "unknown value 'all'"),
            (["-solver", "sns", "-sns_row_k", "0"], "-sns_row_k must be >= 1"),
            (["-solver", "sns", "-sns_ksp_rtoll", "1e-3"], "unknown option -sns_ksp_rtoll"),
            (["-solver", "sns", "-sns_ksp_type", "nosuchksp"], "nosuchksp"),
            (["-sinkhorn_stored_kernel_max_mb", "-1"], "must be >= 0"),
            (["-solver", "sparse"], "-sparse_k must be given"),
            (["-solver", "sparse", "-sparse_k", "0"], "-sparse_k must be given"),
            (["-solver", "sparse", "-sparse_k", "41"], "-sparse_k must be <= n = 40"),
            (["-solver", "sparse", "-sparse_k", "2", "-reg", "0"], "-reg must be positive"),
            (["-solver", "sparse", "-sparse_k", "2", "-sparse_formulation", "primal"],
             "unknown value 'primal'"),
        ]
        # Two runs at a time (a run is mostly start-up latency); results checked in order.
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(lambda c: self.solve(self.clouds, out, *c[0]), cases))
        for (extra, fragment), r in zip(cases, results):
            with self.subTest(extra=extra):
                self.expect_usage_error(r, fragment, out)
        r = run(tool("parot-generate"), "-family", "clouds", "-n", "-5", "-output", out)
        self.expect_usage_error(r, "-n and -m must be positive", out)
        r = run(tool("parot-generate"), "-family", "cloud", "-output", out)
        self.expect_usage_error(r, "unknown value 'cloud'", out)

    def test_memory_guard_and_injected_rank_local_faults(self):
        out, problem = self.path("never.h5"), self.path("assign600.h5")
        self.assertEqual(run(tool("parot-generate"), "-family", "assignment", "-n", "600",
                             "-output", problem).returncode, 0)
        self.expect_usage_error(self.solve(problem, out, "-max_memory", "0.25"),
                                "above the limit of 0.25 MiB per rank", out)
        clouds200 = self.path("clouds200.h5")
        self.assertEqual(run(tool("parot-generate"), "-n", "200", "-output", clouds200)
                         .returncode, 0)
        # The problem itself fits in 0.05 MiB per rank; SNS's dense 16 n_local m bytes do not.
        self.expect_usage_error(self.solve(clouds200, out, "-solver", "sns", "-max_memory",
                                           "0.05"), "SNS's dense plan block", out)
        # A forced stored kernel (8 n m bytes) and the Hessian beside SNS's dense block
        # (16 n m + 12 bytes per entry; keeping all entries is about 40 n_local m bytes).
        self.expect_usage_error(self.solve(clouds200, out, "-sinkhorn_stored_kernel", "yes",
                                           "-max_memory", "0.02"), "the stored kernel", out)
        limit = 20.0 * -(-200 // ARGS.np) * 200 / 2**20
        self.expect_usage_error(self.solve(clouds200, out, "-solver", "sns", "-sns_sparsify",
                                           "row", "-sns_row_k", "200", "-max_memory",
                                           str(limit)), "SNS's sparse Hessian", out)
        # A fault seen by one rank only (the last) becomes one collective error, no hang.
        last = ARGS.np - 1
        for fault, fragment in [("read", "reading the data failed"),
                                ("alloc", f"out of memory (an allocation failed on rank {last})")]:
            with self.subTest(fault):
                env = dict(os.environ, PAROT_FAULT=f"{fault}:{last}")
                r = subprocess.run([ARGS.mpiexec, "-n", str(ARGS.np), tool("parot-solve"),
                                    "-problem", self.clouds, "-output", out],
                                   capture_output=True, text=True, timeout=120, env=env)
                self.expect_usage_error(r, fragment, out)

    def test_injected_underflow_on_one_rank_is_a_mass_loss(self):
        # SNS's plan block underflows on the last rank only: every rank reports the lost mass
        # at the same iteration, the result is written, and -error_if_not_converged gives 3.
        out = self.path("mass_loss.h5")
        env = dict(os.environ, PAROT_FAULT=f"underflow:{ARGS.np - 1}",
                   PETSC_OPTIONS="-no_signal_handler")
        r = subprocess.run([ARGS.mpiexec, "-n", str(ARGS.np), tool("parot-solve"), "-problem",
                            self.clouds, "-output", out, "-solver", "sns", "-sns_warmup_it", "5",
                            "-sns_warm_start", "fixed", "-error_if_not_converged"],
                           capture_output=True, text=True, timeout=120, env=env)
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn("diverged_mass_loss (detected at iteration 5)", r.stdout)
        with h5py.File(out, "r") as f:
            self.assertEqual(f.attrs["reason"], "diverged_mass_loss")
            self.assertEqual(int(f.attrs["failed_iteration"]), 5)

    def test_existing_result_survives_a_failed_run(self):
        out = self.path("keep.h5")
        self.assertEqual(self.solve(self.clouds, out, "-reg", "0.1").returncode, 0)
        before = os.path.getmtime(out), os.path.getsize(out)
        r = self.solve(self.path("nope.h5"), out)
        self.assertEqual(r.returncode, 2)
        self.assertEqual((os.path.getmtime(out), os.path.getsize(out)), before)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--np", type=int, default=1)
    parser.add_argument("--mpiexec", default="mpiexec")
    parser.add_argument("--part", default="1/1",
                        help="K/N: run the K-th of N interleaved shares of the test methods "
                             "(ctest runs the shares side by side)")
    ARGS, rest = parser.parse_known_args()
    k, n = (int(x) for x in ARGS.part.split("/"))
    names = sorted(unittest.TestLoader().getTestCaseNames(Drivers))
    share = [f"Drivers.{name}" for i, name in enumerate(names) if i % n == k - 1]
    unittest.main(argv=[sys.argv[0], "-v", *share, *rest])
