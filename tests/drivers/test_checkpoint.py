#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Checkpoint / restart end to end: a 4-rank solve is stopped by a real signal mid-run (SIGUSR1
# through mpiexec, or SIGTERM to one rank only), writes its state and exits with code 4; the
# restarted run reaches the uninterrupted answer: 1e-12 relative at the same rank count, 1e-10
# at 1, 2 and 3 ranks. Bad restarts are usage errors (exit code 2).
import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import h5py
import numpy as np

ARGS = None
NP = 4  # the interrupted runs


def command(np_, *argv):
    return [ARGS.mpiexec, "-n", str(np_), os.path.join(ARGS.bin, "parot-solve"), *argv]


def env():
    return dict(os.environ, PETSC_OPTIONS="-no_signal_handler")


def run(np_, *argv, timeout=300):
    return subprocess.run(command(np_, *argv), capture_output=True, text=True, timeout=timeout,
                          env=env())


def checkpoint_phase(path):
    """The phase of a checkpoint file, or None while it does not exist (or is being renamed)."""
    if not os.path.exists(path):
        return None
    try:
        with h5py.File(path, "r") as f:
            return str(f.attrs["phase"])
    except (OSError, KeyError):
        return None


def interrupt(argv, checkpoint, phase, how, timeout=300):
    """Starts a 4-rank solve, waits until its checkpoint is of `phase`, then signals it."""
    proc = subprocess.Popen(command(NP, *argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env())
    deadline = time.monotonic() + timeout
    signalled = False
    while proc.poll() is None and time.monotonic() < deadline:
        if checkpoint_phase(checkpoint) == phase:
            if how == "mpiexec":  # mpiexec forwards SIGUSR1 to every rank
                proc.send_signal(signal.SIGUSR1)
            else:  # SIGTERM to one rank only: the flag must ride a reduction to the others
                ranks = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True,
                                       text=True).stdout.split()
                os.kill(int(max(ranks, key=int)), signal.SIGTERM)
            signalled = True
            break
        time.sleep(0.02)
    out, err = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
    return signalled, proc.returncode, out, err


class Checkpoint(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory(prefix="parot_checkpoint_")
        cls.problem = cls.path("clouds.h5")
        r = subprocess.run([ARGS.mpiexec, "-n", "2", os.path.join(ARGS.bin, "parot-generate"),
                            "-family", "clouds", "-n", "1500", "-d", "2", "-seed", "5", "-output",
                            cls.problem], capture_output=True, text=True, env=env(), timeout=120)
        assert r.returncode == 0, r.stderr

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    @classmethod
    def path(cls, name):
        return os.path.join(cls.dir.name, name)

    def expect_stopped(self, signalled, rc, err, output, checkpoint, phase):
        self.assertTrue(signalled, "the solve ended before it could be signalled")
        self.assertEqual(rc, 4, err)
        messages = [line for line in err.splitlines() if ": error: " in line]
        self.assertEqual(len(messages), 1, err)
        self.assertIn("stopped by a signal", messages[0])
        self.assertIn("-restart " + checkpoint, messages[0])
        self.assertFalse(os.path.exists(output), "a result was written by the interrupted run")
        self.assertFalse(os.path.exists(checkpoint + ".tmp"))
        with h5py.File(checkpoint, "r") as f:
            self.assertEqual(f.attrs["format"], "parot-checkpoint")
            self.assertEqual(f.attrs["phase"], phase)
            self.assertEqual(int(f.attrs["nranks"]), NP)
            self.assertGreater(int(f.attrs["iteration"]), 0)

    def expect_same(self, reference, resumed, rtol, same_ranks):
        with h5py.File(reference, "r") as a, h5py.File(resumed, "r") as b:
            self.assertEqual(a.attrs["reason"], "converged_atol")
            self.assertEqual(b.attrs["reason"], "converged_atol")
            for key in ["transport_cost", "objective"]:
                x, y = float(a.attrs[key]), float(b.attrs[key])
                self.assertLessEqual(abs(x - y), rtol * abs(x), f"{key}: {x} vs {y}")
            # Potentials are defined up to (f + c, g − c): compare them in one gauge.
            fa, fb, ga, gb = a["solution/f"][:], b["solution/f"][:], a["solution/g"][:], \
                b["solution/g"][:]
            c = np.mean(fa - fb)
            scale = max(np.max(np.abs(fa)), np.max(np.abs(ga)))
            self.assertLessEqual(np.max(np.abs(fa - fb - c)), rtol * scale, "f")
            self.assertLessEqual(np.max(np.abs(ga - gb + c)), rtol * scale, "g")
            # The resumed run carries the history of the interrupted one. (At another rank count
            # the error's summation order may move the final check by an iteration.)
            x, y = a["history/iteration"][:], b["history/iteration"][:]
            if same_ranks:
                np.testing.assert_array_equal(x, y)
            else:
                np.testing.assert_array_equal(x[:-2], y[: len(x) - 2])

    def stop_and_resume(self, name, options, phase, how, every=5):
        reference = self.path(f"{name}_reference.h5")
        r = run(NP, "-problem", self.problem, "-output", reference, *options)
        self.assertEqual(r.returncode, 0, r.stderr)
        checkpoint, output = self.path(f"{name}_checkpoint.h5"), self.path(f"{name}_stopped.h5")
        signalled, rc, _, err = interrupt(
            ["-problem", self.problem, "-output", output, "-checkpoint", checkpoint,
             "-checkpoint_every", str(every), *options], checkpoint, phase, how)
        self.expect_stopped(signalled, rc, err, output, checkpoint, phase)
        for np_, rtol in [(NP, 1e-12), (1, 1e-10), (2, 1e-10), (3, 1e-10)]:
            with self.subTest(ranks=np_):
                resumed = self.path(f"{name}_resumed_np{np_}.h5")
                r = run(np_, "-problem", self.problem, "-output", resumed, "-restart", checkpoint,
                        *options)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertIn(f"resuming {checkpoint} at iteration", r.stdout)
                self.expect_same(reference, resumed, rtol, same_ranks=np_ == NP)

    def test_sinkhorn_stopped_by_sigusr1_through_mpiexec(self):
        self.stop_and_resume("sinkhorn", ["-reg", "2e-3", "-reg_relative", "-atol", "1e-10"],
                             "sinkhorn", "mpiexec")

    def test_sinkhorn_with_eps_scaling_stopped_by_sigterm_on_one_rank(self):
        self.stop_and_resume("scaling", ["-reg", "1e-3", "-reg_relative", "-atol", "1e-9",
                                         "-eps_scaling", "-eps_scaling_factor", "0.7",
                                         "-sinkhorn_stored_kernel", "no"], "sinkhorn", "rank")

    # SNS checkpoints its fixed warm start and its dense Newton stage; the auto warm start and
    # the truncated-support stage (the defaults) are off under -checkpoint/-restart, so the
    # uninterrupted reference run names the checkpointed modes explicitly.
    SNS_CHECKPOINTED = ["-sns_warm_start", "fixed", "-sns_truncation", "0"]

    def test_sns_stopped_in_its_sinkhorn_phase(self):
        self.stop_and_resume("sns_warmup", ["-solver", "sns", "-reg", "2e-3", "-reg_relative",
                                            "-atol", "1e-12", "-sns_warmup_it", "200",
                                            *self.SNS_CHECKPOINTED],
                             "sinkhorn", "mpiexec")

    def test_sns_stopped_in_its_newton_phase_by_sigterm_on_one_rank(self):
        self.stop_and_resume("sns_newton", ["-solver", "sns", "-reg", "2e-3", "-reg_relative",
                                            "-atol", "1e-12", *self.SNS_CHECKPOINTED], "newton",
                             "rank", every=1)

    def test_signal_without_checkpoint_saves_nothing(self):
        output = self.path("unsaved.h5")
        proc = subprocess.Popen(command(2, "-problem", self.problem, "-output", output, "-reg",
                                        "1e-4", "-reg_relative", "-max_it", "10000000",
                                        "-monitor"),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=env())
        proc.stdout.readline()  # the first monitor line: the solve loop has begun
        proc.send_signal(signal.SIGUSR1)
        _, err = proc.communicate(timeout=120)
        self.assertEqual(proc.returncode, 4, err)
        messages = [line for line in err.splitlines() if ": error: " in line]
        self.assertEqual(len(messages), 1, err)
        self.assertIn("nothing was saved", messages[0])
        self.assertFalse(os.path.exists(output))

    def test_bad_restarts_are_usage_errors(self):
        checkpoint = self.path("bad_checkpoint.h5")
        r = run(2, "-problem", self.problem, "-reg", "2e-3", "-reg_relative", "-max_it", "20",
                "-checkpoint", checkpoint, "-checkpoint_every", "10")
        self.assertEqual(r.returncode, 0, r.stderr)
        other = self.path("other.h5")
        r = subprocess.run([ARGS.mpiexec, "-n", "1", os.path.join(ARGS.bin, "parot-generate"),
                            "-family", "clouds", "-n", "1500", "-d", "2", "-seed", "6", "-output",
                            other], capture_output=True, text=True, env=env(), timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        cases = [
            (["-problem", other, "-reg", "2e-3", "-reg_relative"], "another problem"),
            (["-problem", self.problem, "-reg", "3e-3", "-reg_relative"], "give the same -reg"),
            (["-problem", self.problem, "-solver", "sns", "-reg", "2e-3", "-reg_relative"],
             "this run uses 'sns'"),
            (["-problem", self.problem, "-reg", "2e-3", "-reg_relative", "-eps_scaling"],
             "schedule"),
        ]
        for np_ in [1, 2, 4]:
            for extra, fragment in cases:
                with self.subTest(ranks=np_, case=fragment):
                    output = self.path("bad_restart.h5")
                    r = run(np_, "-restart", checkpoint, "-output", output, *extra)
                    self.assertEqual(r.returncode, 2, r.stderr)
                    messages = [line for line in r.stderr.splitlines() if ": error: " in line]
                    self.assertEqual(len(messages), 1, r.stderr)
                    self.assertIn(fragment, messages[0])
                    self.assertFalse(os.path.exists(output))
            with self.subTest(ranks=np_, case="not a checkpoint"):
                r = run(np_, "-problem", self.problem, "-restart", self.problem)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn("not a parot checkpoint", r.stderr)
            with self.subTest(ranks=np_, case="bad -checkpoint_every"):
                r = run(np_, "-problem", self.problem, "-checkpoint_every", "5")
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn("needs -checkpoint", r.stderr)
                r = run(np_, "-problem", self.problem, "-checkpoint", checkpoint,
                        "-checkpoint_every", "-1")
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn("-checkpoint_every must be >= 0", r.stderr)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--mpiexec", default="mpiexec")
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0], *rest])
