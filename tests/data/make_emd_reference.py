#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
# Exact (unregularized) OT costs of generated parot problems by POT's network simplex.
"""Make the exact OT references of parot's near-exact (certified interval) tests.

For each case below, runs ``parot-generate`` into a temporary file, builds the cost matrix in
numpy from it (make_pot_reference.load_problem: the same schema as parot), solves the exact
problem with POT's ``ot.emd2`` (network simplex) and writes ``emd_reference.h5`` next to this
script: one group per case with the generator settings (family, n, d, p, seed) and ``emd``
(the optimal cost, both measures normalized to mass 1 as parot does). The tests regenerate the
problems from the settings (parot's generator is deterministic and rank-count independent).

Usage:  /usr/bin/python3 tests/data/make_emd_reference.py [BUILD_DIR]   (default /work/main/build)
"""
import os
import sys
import tempfile
import time

import h5py
import numpy as np
import ot

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_pot_reference import generate, load_problem  # noqa: E402

# name -> parot-generate options; sizes up to n = 2000 (issue: "up to n = 2000").
CASES = {
    "clouds2000": dict(family="clouds", n=2000, d=2, seed=11),
    "gaussians400": dict(family="gaussians", n=400, d=3, seed=12),
    "density1d_p1": dict(family="density1d", n=1000, p=1, seed=13),
    "density1d_p2": dict(family="density1d", n=1000, p=2, seed=14),
    "images_p1": dict(family="images", p=1, seed=15),
    "images_p2": dict(family="images", p=2, seed=16),
    "assignment300": dict(family="assignment", n=300, seed=17),
}


def main():
    build_dir = sys.argv[1] if len(sys.argv) > 1 else "/work/main/build"
    out = os.path.join(HERE, "emd_reference.h5")
    print(f"{'case':<14} {'n':>5} {'m':>5} {'cost':<12} {'emd':>22} {'seconds':>8}")
    with tempfile.TemporaryDirectory() as tmp, h5py.File(out, "w") as h5:
        h5.attrs["pot_version"] = ot.__version__
        for name, settings in CASES.items():
            problem = os.path.join(tmp, f"{name}.h5")
            generate(build_dir, settings, problem)
            a, b, C, cost = load_problem(problem)
            a, b = a / a.sum(), b / b.sum()
            t0 = time.perf_counter()
            emd = float(ot.emd2(a, b, C, numItermax=10**8))
            seconds = time.perf_counter() - t0
            group = h5.create_group(name)
            group.attrs.update({**settings, "emd": emd, "cost": cost, "m": len(b)})
            group.attrs["n"] = len(a)
            print(f"{name:<14} {len(a):>5} {len(b):>5} {cost:<12} {emd:>22.16e} {seconds:>8.2f}")


if __name__ == "__main__":
    main()
