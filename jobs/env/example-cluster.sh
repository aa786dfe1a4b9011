# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
# Template for a real cluster: copy to jobs/env/<cluster>.sh, adapt, and submit with
# PAROT_CLUSTER=<cluster> sbatch ... (the batch scripts source jobs/env/$PAROT_CLUSTER.sh).
# module purge
# module load gcc/12 openmpi/4.1 petsc/3.18 hdf5-mpi/1.10
PAROT_BIN=${PAROT_BIN:-$HOME/parot/build/drivers}
PAROT_SRUN_MPI=${PAROT_SRUN_MPI:-pmix}       # or pmi2; see `srun --mpi=list`
# Runs on a parallel file system (a checkpoint must survive the node):
PAROT_RUNS=${PAROT_RUNS:-${SCRATCH:-$HOME}/parot-runs}
export PETSC_OPTIONS=${PETSC_OPTIONS:--no_signal_handler}
