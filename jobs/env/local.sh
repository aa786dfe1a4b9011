# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
# Cluster environment: the single-node test cluster (tests/slurm) and any Debian 12 machine where
# parot was built in build/ and jobs run as root. This is the only cluster-specific file a batch
# script reads; copy it to jobs/env/<cluster>.sh for another machine (see example-cluster.sh).
# Sourced by jobs/lib/job.sh with PAROT_ROOT set.
PAROT_BIN=${PAROT_BIN:-$PAROT_ROOT/build/drivers}
# srun's MPI plugin: Debian's Open MPI needs PMIx ("OMPI was not built with SLURM's PMI support"
# with none); `srun --mpi=list` shows what a cluster offers.
PAROT_SRUN_MPI=${PAROT_SRUN_MPI:-pmix}
# Open MPI as root (containers), more tasks than cores, and yield instead of busy polling: with
# CPUs=4 on 2 cores Open MPI does not know it is oversubscribed (toolchain.md §4, §7.5).
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_mpi_yield_when_idle=1
# PETSc's own signal handler would print "Caught signal" tracebacks; parot handles its signals.
export PETSC_OPTIONS=${PETSC_OPTIONS:--no_signal_handler}
