#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""parot on distributed rows: each rank makes (or reads) only its block of the source points and
gets its block of potentials back; the target cloud is on every rank.

    mpirun -n 2 python3 python/examples/distributed.py
    sbatch --ntasks=64 --wrap "srun python3 python/examples/distributed.py --n 200000"
"""
import argparse

import numpy as np
from mpi4py import MPI

import parot

parser = argparse.ArgumentParser()
parser.add_argument("--n", type=int, default=20000, help="source points (all ranks together)")
parser.add_argument("--m", type=int, default=2000, help="target points (on every rank)")
args = parser.parse_args()

comm = MPI.COMM_WORLD
rows = np.array_split(np.arange(args.n), comm.size)[comm.rank]  # this rank's block
X = np.random.default_rng(1000 + comm.rank).random((len(rows), 3))  # generated where it lives
Y = np.random.default_rng(0).random((args.m, 3))  # the same on every rank
a = np.full(len(rows), 1.0 / args.n)
b = np.full(args.m, 1.0 / args.m)

r = parot.solve(X=X, Y=Y, a=a, b=b, reg=1e-2, solver="sinkhorn", distributed=True,
                options={"reg_relative": True, "atol": 1e-9}, comm=comm)
# r.f holds this rank's rows; every scalar is the same on all ranks.
mass = comm.allreduce(a.sum())
if comm.rank == 0:
    print(f"{comm.size} ranks, n = {args.n}, m = {args.m}: {r.reason} after {r.iterations} "
          f"iterations, <C,P> = {r.transport_cost:.6f}, mass {mass:.3f}, {r.solve_time:.2f} s")
print(f"rank {comm.rank}: {len(r.f)} potentials, f in [{r.f.min():.4f}, {r.f.max():.4f}]")
