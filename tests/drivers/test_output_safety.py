#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# The output rules of DESIGN.md §5 at one rank count, for every driver that writes a file:
#  - an existing output (or checkpoint) that is not a regular file -- a device, a directory, a
#    FIFO -- is refused before any work: exit 2, one message, nothing replaced;
#  - an output that is the same file as an input (also through a symbolic or a hard link) is
#    refused before any work: exit 2, the input intact;
#  - a write that fails (a full file system: a real tmpfs of a few hundred KiB; a file-size limit
#    hit in the middle of the write; an injected failure on one rank) ends with one message and
#    exit code 1, within seconds, leaves no file under the final name and no temporary, and
#    leaves the previous file of that name byte for byte intact.
import argparse
import concurrent.futures
import hashlib
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import unittest

ARGS = None


def run(*argv, np_=None, timeout=120, env=None, mpi_args=()):
    cmd = [ARGS.mpiexec, *mpi_args, "-n", str(np_ or ARGS.np), *argv]
    full_env = dict(os.environ, PETSC_OPTIONS="-no_signal_handler", **(env or {}))
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=full_env)


def run_many(argvs, jobs=2):
    """run() for each argv, two at a time (a run is mostly start-up latency), results in order.
    Only for runs that must be refused before they write anything."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(lambda argv: run(*argv), list(argvs)))


def tool(name):
    return os.path.join(ARGS.bin, name)


def digest(path):
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


class OutputSafety(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory(prefix=f"parot_output_np{ARGS.np}_")
        cls.tmp = cls.dir.name
        cls.problem = os.path.join(cls.tmp, "problem.h5")
        r = run(tool("parot-generate"), "-family", "clouds", "-n", "300", "-seed", "3",
                "-output", cls.problem)
        assert r.returncode == 0, r.stderr
        cls.batch = os.path.join(cls.tmp, "batch.h5")
        r = run(tool("parot-generate"), "-family", "clouds", "-n", "20", "-batch", "3",
                "-output", cls.batch)
        assert r.returncode == 0, r.stderr

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    def path(self, name):
        return os.path.join(self.tmp, name)

    def expect_failure(self, r, code, fragment):
        self.assertEqual(r.returncode, code, f"stdout:\n{r.stdout}\nstderr:\n{r.stderr}")
        marker = ": internal failure: " if code == 1 else ": error: "
        messages = [line for line in r.stderr.splitlines() if marker in line]
        self.assertEqual(len(messages), 1, f"expected one message, got:\n{r.stderr}")
        self.assertIn(fragment, messages[0])
        self.assertNotIn("converged", r.stdout, "work was done before the refusal")

    def writers(self, output):
        """Every driver invocation that writes `output`, and the option that names it."""
        return {
            "solve": [tool("parot-solve"), "-problem", self.problem, "-output", output],
            "checkpoint": [tool("parot-solve"), "-problem", self.problem, "-checkpoint", output,
                           "-checkpoint_every", "1"],
            "generate": [tool("parot-generate"), "-family", "clouds", "-n", "50", "-output",
                         output],
            "generate_batch": [tool("parot-generate"), "-family", "clouds", "-n", "20", "-batch",
                               "2", "-output", output],
            "sliced": [tool("parot-sliced"), "-problem", self.problem, "-L", "10", "-output",
                       output],
            "sliced_batch": [tool("parot-sliced"), "-batch", self.batch, "-L", "10", "-output",
                             output],
        }

    # --- not a regular file -----------------------------------------------------------------
    def test_devices_are_never_replaced(self):
        for device in ["/dev/null", "/dev/full"]:
            if not os.path.exists(device):
                continue
            writers = self.writers(device)
            for (name, _), r in zip(writers.items(), run_many(writers.values())):
                with self.subTest(device=device, driver=name):
                    self.expect_failure(r, 2, "is a character device")
                    self.assertTrue(stat.S_ISCHR(os.stat(device).st_mode), f"{device} replaced")

    def test_directories_and_fifos_are_refused(self):
        directory = self.path("a_directory")
        os.makedirs(directory, exist_ok=True)
        fifo = self.path("a_fifo")
        if not os.path.exists(fifo):
            os.mkfifo(fifo)
        for target, kind in [(directory, "is a directory"), (fifo, "is a FIFO")]:
            writers = self.writers(target)
            for (name, _), r in zip(writers.items(), run_many(writers.values())):
                with self.subTest(target=kind, driver=name):
                    self.expect_failure(r, 2, kind)
            self.assertTrue(os.path.isdir(directory))
            self.assertTrue(stat.S_ISFIFO(os.stat(fifo).st_mode))

    def test_a_temporary_name_that_is_not_a_regular_file_is_refused(self):
        output = self.path("blocked.h5")
        os.makedirs(output + ".tmp", exist_ok=True)
        self.expect_failure(run(*self.writers(output)["solve"]), 2, "is a directory")
        self.assertFalse(os.path.exists(output))

    # --- the same file as an input ----------------------------------------------------------
    def test_inputs_are_never_overwritten(self):
        symlink, hardlink = self.path("sym.h5"), self.path("hard.h5")
        for link in (symlink, hardlink):
            if os.path.lexists(link):
                os.remove(link)
        os.symlink(self.problem, symlink)
        os.link(self.problem, hardlink)
        before, batch_before = digest(self.problem), digest(self.batch)
        cases = {
            "solve, same name": [tool("parot-solve"), "-problem", self.problem, "-output",
                                 self.problem],
            "solve, symlink": [tool("parot-solve"), "-problem", self.problem, "-output", symlink],
            "solve, hard link": [tool("parot-solve"), "-problem", self.problem, "-output",
                                 hardlink],
            "checkpoint = problem": [tool("parot-solve"), "-problem", symlink, "-checkpoint",
                                     hardlink],
            "sliced, hard link": [tool("parot-sliced"), "-problem", self.problem, "-L", "10",
                                  "-output", hardlink],
            "sliced batch": [tool("parot-sliced"), "-batch", self.batch, "-L", "10", "-output",
                             self.batch],
        }
        for (name, _), r in zip(cases.items(), run_many(cases.values())):
            with self.subTest(case=name):
                self.expect_failure(r, 2, "is the same file as the input")
        self.assertEqual(digest(self.problem), before)
        self.assertEqual(digest(self.batch), batch_before)
        self.assertFalse(os.path.exists(hardlink + ".tmp"))

    def test_output_and_checkpoint_must_differ(self):
        same = self.path("both.h5")
        r = run(tool("parot-solve"), "-problem", self.problem, "-output", same, "-checkpoint",
                same)
        self.expect_failure(r, 2, "name the same file")
        self.assertFalse(os.path.exists(same))

    def test_a_missing_directory_is_refused_before_the_solve(self):
        r = run(tool("parot-solve"), "-problem", self.problem, "-output",
                self.path("no/such/dir/out.h5"))
        self.expect_failure(r, 2, "does not exist")

    # --- failed writes ----------------------------------------------------------------------
    def previous(self, output):
        """A previous, complete result under `output`; returns its digest."""
        r = run(tool("parot-solve"), "-problem", self.problem, "-output", output)
        self.assertEqual(r.returncode, 0, r.stderr)
        return digest(output)

    def expect_write_failure(self, r, output, before, fragment):
        self.expect_failure_after_solve(r, fragment)
        self.assertEqual(digest(output), before, "the previous file was changed")
        self.assertFalse(os.path.exists(output + ".tmp"), "a temporary file was left behind")

    def expect_failure_after_solve(self, r, fragment):
        self.assertEqual(r.returncode, 1, f"stdout:\n{r.stdout}\nstderr:\n{r.stderr}")
        messages = [line for line in r.stderr.splitlines() if ": internal failure: " in line]
        self.assertEqual(len(messages), 1, f"expected one message, got:\n{r.stderr}")
        self.assertIn(fragment, messages[0])

    def test_full_file_system(self):
        """A real tmpfs of 256 KiB: the plan (n = m = 300, every entry) does not fit."""
        if os.geteuid() != 0:
            self.fail("this test mounts a tmpfs and needs root (CI runs as root)")
        mount = self.path("small_fs")
        os.makedirs(mount, exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", mount], check=True)
        try:
            output = os.path.join(mount, "out.h5")
            before = self.previous(output)
            r = run(tool("parot-solve"), "-problem", self.problem, "-output", output,
                    "-plan_threshold", "0", timeout=60)
            self.expect_write_failure(r, output, before, "no space left")
            # The same through a checkpoint and the other drivers' writers.
            r = run(tool("parot-generate"), "-family", "clouds", "-n", "20000", "-output",
                    os.path.join(mount, "big.h5"), timeout=60)
            self.expect_failure_after_solve(r, "no space left")
            self.assertEqual(sorted(os.listdir(mount)), ["out.h5"])
        finally:
            subprocess.run(["umount", mount], check=True)

    def test_write_fails_in_the_middle(self):
        """A file-size limit (ulimit -f) makes the write fail after the space check passed."""
        output = self.path("limited.h5")
        before = self.previous(output)
        script = (f"ulimit -f 300; exec {tool('parot-solve')} -problem {self.problem} "
                  f"-output {output} -plan_threshold 0")
        # Open MPI's shared-memory transport sizes files too: use TCP under the limit.
        r = run("bash", "-c", script, mpi_args=("--mca", "btl", "self,tcp"), timeout=60)
        self.expect_write_failure(r, output, before, "failed")

    def test_one_rank_fails_to_write(self):
        output = self.path("fault.h5")
        before = self.previous(output)
        for rank in sorted({0, ARGS.np - 1}):
            with self.subTest(rank=rank):
                r = run(tool("parot-solve"), "-problem", self.problem, "-output", output,
                        env={"PAROT_FAULT": f"write:{rank}"}, mpi_args=("-x", "PAROT_FAULT"),
                        timeout=60)
                self.expect_write_failure(r, output, before, "writing dataset")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--np", type=int, default=1)
    parser.add_argument("--mpiexec", default="mpiexec")
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)
