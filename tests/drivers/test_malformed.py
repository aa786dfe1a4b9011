#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Every file of the malformed-input corpus and every bad option set, at one rank count: exit code
# 2, one clear message (printed once) naming the problem, no output file, within the timeout.
import argparse
import concurrent.futures
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import malformed  # noqa: E402

ARGS = None


def run(*argv, timeout=120):
    cmd = [ARGS.mpiexec, "-n", str(ARGS.np), *argv]
    env = dict(os.environ, PETSC_OPTIONS="-no_signal_handler")
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)


class Malformed(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory(prefix=f"parot_malformed_np{ARGS.np}_")
        cls.valid = os.path.join(cls.dir.name, "valid.h5")
        r = subprocess.run([os.path.join(ARGS.bin, "parot-generate"), "-family", "clouds", "-n",
                            "12", "-m", "9", "-seed", "1", "-output", cls.valid],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        cls.corpus = malformed.make_corpus(cls.valid, cls.dir.name)

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    def check(self, r, fragment, output, names=None):
        self.assertEqual(r.returncode, 2, f"stdout:\n{r.stdout}\nstderr:\n{r.stderr}")
        lines = [line for line in r.stderr.splitlines() if ": error: " in line]
        self.assertEqual(len(lines), 1, f"expected exactly one message:\n{r.stderr}")
        self.assertIn(fragment, lines[0])
        if names:
            self.assertIn(names, lines[0], "the message must name the file")
        self.assertFalse(os.path.exists(output), "an output file was written")
        self.assertFalse(os.path.exists(output + ".tmp"), "a temporary file was left")

    def test_corpus_has_at_least_50_files(self):
        self.assertGreaterEqual(len(self.corpus), 50)
        self.assertGreaterEqual(len(malformed.BAD_OPTIONS), 20)

    def run_all(self, cases):
        """Runs the (argv, output) cases, --jobs at a time (a run is mostly start-up latency:
        MPI and PETSc initialization, the error path, mpirun's clean-up), results in order.
        Every case has its own output name, so a case that wrongly wrote is caught as itself."""
        with concurrent.futures.ThreadPoolExecutor(max_workers=ARGS.jobs) as pool:
            return list(pool.map(lambda case: run(*case), cases))

    def test_every_broken_file(self):
        outs = [os.path.join(self.dir.name, f"never_file{i}.h5") for i in range(len(self.corpus))]
        results = self.run_all([(os.path.join(ARGS.bin, "parot-solve"), "-problem", path,
                                 "-output", out) for (_, path, _), out in zip(self.corpus, outs)])
        for (name, path, fragment), out, r in zip(self.corpus, outs, results):
            with self.subTest(name):
                self.check(r, fragment, out, names=os.path.basename(path))

    def test_every_broken_mesh_and_batch(self):
        corpus = malformed.make_sliced_corpus(self.dir.name)
        outs = [os.path.join(self.dir.name, f"never_sliced{i}.h5") for i in range(len(corpus))]
        results = self.run_all([(os.path.join(ARGS.bin, "parot-sliced"), *argv, "-output", out)
                                for (_, argv, _, _), out in zip(corpus, outs)])
        for (name, _, fragment, file_name), out, r in zip(corpus, outs, results):
            with self.subTest(name):
                self.check(r, fragment, out, names=file_name)

    def test_every_bad_option_set(self):
        cases = malformed.BAD_OPTIONS
        outs = [os.path.join(self.dir.name, f"never_option{i}.h5") for i in range(len(cases))]
        results = self.run_all([(os.path.join(ARGS.bin, "parot-solve"), "-problem", self.valid,
                                 "-output", out, *argv) for (argv, _), out in zip(cases, outs)])
        for (argv, fragment), out, r in zip(cases, outs, results):
            with self.subTest(argv=argv):
                self.check(r, fragment, out)

    def test_unwritable_output(self):
        out = "/nonexistent-dir/out.h5"
        r = run(os.path.join(ARGS.bin, "parot-solve"), "-problem", self.valid, "-output", out)
        self.check(r, "the directory '/nonexistent-dir' does not exist", out)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--np", type=int, default=1)
    parser.add_argument("--mpiexec", default="mpiexec")
    parser.add_argument("--jobs", type=int, default=2, help="runs at a time")
    parser.add_argument("--part", default="1/1",
                        help="K/N: run the K-th of N interleaved shares of the test methods "
                             "(ctest runs the shares side by side)")
    ARGS, rest = parser.parse_known_args()
    k, n = (int(x) for x in ARGS.part.split("/"))
    names = sorted(unittest.TestLoader().getTestCaseNames(Malformed))
    share = [f"Malformed.{name}" for i, name in enumerate(names) if i % n == k - 1]
    unittest.main(argv=[sys.argv[0], "-v", *share, *rest])
