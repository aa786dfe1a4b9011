# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
# Sourced by the batch scripts in jobs/ (after `set -euo pipefail`). Provides:
#   parot_job_init NAME OPTIONS_FILE  cluster environment, run directory, provenance
#   parot_checkpoint_args             -checkpoint/-restart for parot-solve (PAROT_CHECKPOINT=1)
#   parot_run CMD...                  runs the srun line, records it, maps its exit code
# The batch script itself is copied by SLURM into its spool directory, so the repository is found
# through PAROT_ROOT (default: the submit directory, i.e. submit from the repository root).
#
# Variables read: PAROT_ROOT, PAROT_CLUSTER (env file jobs/env/$PAROT_CLUSTER.sh, default local),
# PAROT_RUNS (parent of the run directories, default $PAROT_ROOT/runs), PAROT_RUNDIR (this run's
# directory instead of $PAROT_RUNS/<name>-<jobid>: resubmit into a previous run directory to
# continue from its checkpoint, e.g. after a job ended at its time limit), PAROT_CHECKPOINT (1: pass
# the checkpoint options; default 1 for parot-solve jobs), PAROT_CHECKPOINT_OPTIONS (an options
# file with the checkpoint cadence, default jobs/options/checkpoint.opts), PAROT_REQUEUE (1:
# `scontrol requeue` the job after a checkpointed stop, default 1).

PAROT_ROOT=${PAROT_ROOT:-${SLURM_SUBMIT_DIR:-$PWD}}
if [[ ! -f $PAROT_ROOT/jobs/lib/job.sh ]]; then
  echo "parot: PAROT_ROOT=$PAROT_ROOT is not a parot checkout (submit from the repository root" \
    "or export PAROT_ROOT)" >&2
  exit 2
fi
PAROT_CLUSTER=${PAROT_CLUSTER:-local}
# shellcheck source=/dev/null
source "$PAROT_ROOT/jobs/env/$PAROT_CLUSTER.sh"
PAROT_RUNS=${PAROT_RUNS:-$PAROT_ROOT/runs}
PAROT_REQUEUE=${PAROT_REQUEUE:-1}

# The job's identity: array tasks get JOBID_TASK, so every task has its own run directory; the id
# survives a requeue, so a requeued job finds its checkpoint again.
parot_job_id() {
  if [[ -n ${SLURM_ARRAY_JOB_ID:-} ]]; then
    echo "${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}"
  else
    echo "${SLURM_JOB_ID:-local-$$}"
  fi
}

# parot_job_init NAME OPTIONS_FILE: makes RUNDIR, copies the options file there (OPTIONS is the
# copy, so the run stays reproducible when the original changes) and writes provenance.txt.
parot_job_init() {
  local name=$1 options=$2
  if [[ ! -f $options ]]; then
    echo "parot: options file '$options' not found" >&2
    exit 2
  fi
  RUNDIR=${PAROT_RUNDIR:-$PAROT_RUNS/$name-$(parot_job_id)}
  mkdir -p "$RUNDIR"
  OPTIONS=$RUNDIR/options.txt
  cp "$options" "$OPTIONS"
  local version git
  version=$(sed -n 's/^project(Parot VERSION \([0-9.]*\).*/\1/p' "$PAROT_ROOT/CMakeLists.txt")
  git=$(git -C "$PAROT_ROOT" describe --always --dirty 2>/dev/null || echo unknown)
  {
    echo "# parot run provenance"
    echo "run_dir: $RUNDIR"
    echo "parot_version: $version"
    echo "parot_git: $git"
    echo "parot_bin: $PAROT_BIN"
    echo "cluster_env: jobs/env/$PAROT_CLUSTER.sh"
    echo "options_file: $options (copied to options.txt)"
    echo "host: $(hostname)"
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "restart_count: ${SLURM_RESTART_COUNT:-0}"
    echo "user: $(id -un)"
    echo "# SLURM environment"
    env | grep '^SLURM_' | sort || true
  } >>"$RUNDIR/provenance.txt"
  # The batch script as SLURM ran it ($0 is its spool copy).
  if [[ -f $0 ]]; then cp "$0" "$RUNDIR/job-script.sh" 2>/dev/null || true; fi
  echo "parot: run directory $RUNDIR"
}

# parot_checkpoint_args: prints the checkpoint options for parot-solve, one per line (read them
# with mapfile). Empty unless PAROT_CHECKPOINT=1; -restart only when a checkpoint exists.
parot_checkpoint_args() {
  [[ ${PAROT_CHECKPOINT:-1} == 1 ]] || return 0
  local ckpt=$RUNDIR/checkpoint.h5
  local cadence=${PAROT_CHECKPOINT_OPTIONS:-$PAROT_ROOT/jobs/options/checkpoint.opts}
  printf '%s\n' -checkpoint "$ckpt"
  [[ -f $cadence ]] && printf '%s\n' -options_file "$cadence"
  [[ -f $ckpt ]] && printf '%s\n' -restart "$ckpt"
  return 0
}

# parot_run CMD...: the job's one srun line. Records the command, runs it and ends the job:
#   0  prints the marker line PAROT-JOB-OK (tests require it) and exits 0
#   4  the solver caught the warning signal and wrote its checkpoint: PAROT-JOB-CHECKPOINTED,
#      then `scontrol requeue` (PAROT_REQUEUE=1; the rerun passes -restart) and exit 4
#   *  PAROT-JOB-FAILED rc=N and exit N (so the job's ExitCode shows it)
parot_run() {
  echo "command: $*" >>"$RUNDIR/provenance.txt"
  echo "parot: $*"
  local rc=0
  "$@" || rc=$?
  echo "exit_code: $rc" >>"$RUNDIR/provenance.txt"
  case $rc in
    0)
      echo "parot: finished, results in $RUNDIR"
      echo "PAROT-JOB-OK"
      exit 0
      ;;
    4)
      echo "parot: stopped by a signal after writing $RUNDIR/checkpoint.h5"
      echo "PAROT-JOB-CHECKPOINTED"
      if [[ $PAROT_REQUEUE == 1 && -n ${SLURM_JOB_ID:-} ]]; then
        echo "parot: requeueing job $SLURM_JOB_ID; it restarts from the checkpoint"
        scontrol requeue "$SLURM_JOB_ID" || echo "parot: requeue failed; resubmit with" \
          "PAROT_RUNDIR=$RUNDIR" >&2
      else
        echo "parot: resubmit with PAROT_RUNDIR=$RUNDIR to continue from the checkpoint"
      fi
      exit 4
      ;;
    *)
      echo "PAROT-JOB-FAILED rc=$rc" >&2
      exit "$rc"
      ;;
  esac
}
