#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The batch scripts in jobs/ on a real single-node SLURM (toolchain.md §7): starts munge (unless
# one already answers), slurmctld and slurmd from tests/slurm/slurm.conf (copied into the work
# directory, SLURM_CONF points at the copy), submits every script at tiny size, checks each job's
# exit code, its marker line and its HDF5 result, submits failing and checkpointing jobs and checks
# that they are reported as such, and stops the daemons it started by PID, also on failure.
#   run-slurm-test.sh --root REPO --bin BUILD/drivers --work DIR [--timeout SECONDS]
set -euo pipefail

root="" bin="" work="" job_timeout=180
while (($#)); do
  case $1 in
    --root) root=$2; shift 2 ;;
    --bin) bin=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --timeout) job_timeout=$2; shift 2 ;;
    *) echo "usage: $0 --root REPO --bin DRIVERS --work DIR [--timeout S]" >&2; exit 2 ;;
  esac
done
[[ -n $root && -n $bin && -n $work ]] || { echo "missing --root, --bin or --work" >&2; exit 2; }
root=$(cd "$root" && pwd)
bin=$(cd "$bin" && pwd)

failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
note() { echo "[slurm-test $(date +%T)] $*"; }

# --- packages: missing SLURM is a failure, never a skip -------------------------------------
for tool in munged munge unmunge slurmctld slurmd sbatch squeue scontrol scancel srun; do
  if ! command -v "$tool" >/dev/null && [[ ! -x /usr/sbin/$tool ]]; then
    echo "FAIL: '$tool' not found: install slurm-wlm and munge (jobs/lib/setup-debian.sh does)" >&2
    exit 1
  fi
done

# Daemons left by an earlier run of this test that was killed (CTest's timeout sends SIGKILL, so
# no trap ran): stop them by the PIDs in their PID files, if they still run our configuration.
for pidfile in "$work"/slurmd.pid "$work"/slurmctld.pid; do
  [[ -s $pidfile ]] || continue
  pid=$(cat "$pidfile")
  if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "-f $work/slurm.conf"; then
    echo "stopping a leftover $(basename "$pidfile" .pid) (PID $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
done
rm -rf "$work"
mkdir -p "$work"/{state,spool,logs,runs}
work=$(cd "$work" && pwd)

# Ports: the defaults, unless taken (another SLURM on this machine); then a free pair above.
port_free() { ! (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
ctld_port=${PAROT_SLURMCTLD_PORT:-6817}
while ! port_free "$ctld_port" || ! port_free $((ctld_port + 1)); do ctld_port=$((ctld_port + 2)); done
sed -e "s|@WORK@|$work|g" -e "s|@CTLD_PORT@|$ctld_port|" -e "s|@SLURMD_PORT@|$((ctld_port + 1))|" \
  "$root/tests/slurm/slurm.conf" >"$work/slurm.conf"
export SLURM_CONF=$work/slurm.conf

# --- daemons, stopped by PID on any exit (toolchain.md §7.4) ---------------------------------
started_pids=()  # slurmd, slurmctld, munged: in stop order
stop_pid() {
  local pid=$1
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}
cleanup() {
  local rc=$?
  set +e
  # shellcheck disable=SC2086  # a list of job ids
  if [[ -n ${submitted:-} ]]; then scancel $submitted 2>/dev/null; fi
  for pid in "${started_pids[@]}"; do stop_pid "$pid"; done
  ((${#started_pids[@]})) && note "daemons stopped (PIDs ${started_pids[*]})"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_daemons() {
  if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    note "munged already running; using it"
  else
    [[ -s /etc/munge/munge.key ]] || runuser -u munge -- /usr/sbin/mungekey --create
    install -d -o munge -g munge -m 0755 /run/munge
    rm -f /run/munge/munged.pid
    runuser -u munge -- /usr/sbin/munged
    local pid=""
    for _ in $(seq 50); do
      [[ -s /run/munge/munged.pid ]] && pid=$(cat /run/munge/munged.pid) && break
      sleep 0.1
    done
    [[ -n $pid ]] || { echo "FAIL: munged did not start" >&2; exit 1; }
    munged_pid=$pid
    munge -n | unmunge >/dev/null || { echo "FAIL: munge does not work" >&2; exit 1; }
    note "munged started (PID $pid)"
  fi
  /usr/sbin/slurmctld -D -i -f "$SLURM_CONF" >"$work/slurmctld.console" 2>&1 &
  local ctld=$!
  /usr/sbin/slurmd -D -N localhost -f "$SLURM_CONF" >"$work/slurmd.console" 2>&1 &
  started_pids=($! "$ctld" ${munged_pid:+"$munged_pid"})
  for _ in $(seq 300); do
    [[ $(sinfo -h -o %T 2>/dev/null) == idle ]] && { note "SLURM idle (port $ctld_port)"; return; }
    sleep 0.1
  done
  echo "FAIL: the node did not become idle within 30 s" >&2
  sinfo -R >&2 || true
  tail -20 "$work/slurmctld.log" "$work/slurmd.log" >&2 || true
  exit 1
}
start_daemons
srun --mpi=list 2>&1 | grep -q pmix || { echo "FAIL: srun --mpi=list shows no pmix" >&2; exit 1; }

# --- inputs ------------------------------------------------------------------------------------
export PAROT_ROOT=$root PAROT_BIN=$bin PAROT_RUNS=$work/runs PAROT_CLUSTER=local
export PAROT_CHECKPOINT=0  # the checkpoint job below turns it on
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
"$bin/parot-generate" -family clouds -n 120 -m 100 -d 2 -seed 1 -output "$work/tiny.h5" >/dev/null
printf '%s\n' '-solver sinkhorn' '-reg 5e-2' '-reg_relative' '-no_such_option 1' >"$work/bad.opts"

# The checkpoint job's problem: long enough (several seconds) to be stopped mid-run.
"$bin/parot-generate" -family clouds -n 1000 -d 2 -seed 2 -output "$work/long.h5" >/dev/null

# --- submissions -------------------------------------------------------------------------------
declare -A job_of  # case name -> job id
submitted=""
submit() {  # submit CASE [sbatch args...] SCRIPT [script args...]
  local name=$1; shift
  local id
  id=$(cd "$root" && sbatch --parsable --time=00:05:00 --output="$work/logs/$name-%A-%a.out" "$@")
  id=${id%%;*}
  job_of[$name]=$id
  submitted+=" $id"
  note "submitted $name as job $id"
}
cd "$root"
submit solve-sinkhorn --ntasks=2 jobs/solve.sbatch jobs/options/sinkhorn.opts -problem "$work/tiny.h5" -reg 5e-2
submit solve-sns --ntasks=2 jobs/solve.sbatch jobs/options/sns.opts -problem "$work/tiny.h5" -reg 5e-2 -atol 1e-10
submit sliced --ntasks=2 jobs/sliced.sbatch jobs/options/sliced.opts -problem "$work/tiny.h5" -L 64
submit strong --ntasks=2 --array=1,2 jobs/strong-scaling.sbatch solve jobs/options/sinkhorn.opts \
  -problem "$work/tiny.h5" -reg 5e-2
PAROT_ROWS_PER_RANK=60 PAROT_M=80 \
  submit weak --ntasks=2 --array=1,2 jobs/weak-scaling.sbatch solve jobs/options/sinkhorn.opts -reg 5e-2
submit bad-option --ntasks=2 jobs/solve.sbatch "$work/bad.opts" -problem "$work/tiny.h5"
submit missing-options --ntasks=1 jobs/solve.sbatch "$work/no-such.opts"
# The scaling study inside an allocation, launched by srun.
submit scaling-srun --ntasks=2 --wrap "/usr/bin/python3 jobs/scaling.py run --launcher srun \
  --bin $bin --kinds strong --solvers sinkhorn sliced --ranks 1 2 --n 80 --slices 32 \
  --out $work/scaling-srun --csv $work/scaling-srun.csv --plots $work/scaling-srun-plots \
  && echo PAROT-JOB-OK"
PAROT_CHECKPOINT=1 PAROT_REQUEUE=1 \
  submit checkpoint --ntasks=2 jobs/solve.sbatch jobs/options/sinkhorn.opts -problem "$work/long.h5" \
  -reg 1e-3 -atol 1e-10 -checkpoint_every 20

# The checkpoint job: once parot-solve has written its first checkpoint, signal the job's steps
# (not the batch shell) the way `--signal=USR1@T` does at T seconds before the time limit.
ckpt_started=$work/runs/solve-${job_of[checkpoint]}/checkpoint.h5
deadline=$((SECONDS + job_timeout))
until [[ -f $ckpt_started ]]; do
  ((SECONDS < deadline)) || { fail "the checkpoint job never wrote a checkpoint"; break; }
  sleep 0.2
done
if [[ -f $ckpt_started ]]; then
  scancel --signal=USR1 "${job_of[checkpoint]}" && note "sent SIGUSR1 to the steps of job ${job_of[checkpoint]}"
fi

# --- wait (bounded) ----------------------------------------------------------------------------
# A requeued job waits for its BeginTime (Slurm delays a requeue by about two minutes); once the
# checkpointed stop is in the log, the test releases it (two seconds later).
ckpt_log="" released=0
while [[ -n $(squeue -h -j "${submitted// /,}" -o %i 2>/dev/null | head -1) ]]; do
  ckpt_log=$(ls "$work"/logs/checkpoint-"${job_of[checkpoint]}"-*.out 2>/dev/null || true)
  if ((!released)) && [[ -n $ckpt_log ]] && grep -q PAROT-JOB-CHECKPOINTED "$ckpt_log" &&
    [[ $(squeue -h -j "${job_of[checkpoint]}" -o %T) == PENDING ]]; then
    # now+2 (seconds), not now: slurmd revoked the first run's credential; a new allocation in
    # the same second is refused as "Job credential revoked" and the job fails (seen in CI).
    scontrol update JobId="${job_of[checkpoint]}" StartTime=now+2 && released=1 &&
      note "requeued job ${job_of[checkpoint]} released (StartTime=now+2)"
  fi
  if ((SECONDS >= deadline)); then
    fail "jobs still queued or running after ${job_timeout}s:"
    squeue >&2 || true
    # shellcheck disable=SC2086
    scancel $submitted || true
    break
  fi
  sleep 0.3
done
note "all jobs left the queue"

# --- checks ------------------------------------------------------------------------------------
# exit_codes JOBID: "ExitCode State" per job record (array tasks: one line each).
exit_codes() {
  scontrol -o show job "$1" | sed -n 's/.*JobState=\([A-Z_]*\).* ExitCode=\([0-9]*:[0-9]*\).*/\2 \1/p'
}
# expect_ok CASE NTASKS: every record exit 0 COMPLETED, the marker in every log, a result file.
expect_ok() {
  local name=$1 tasks=$2 id=${job_of[$1]} codes logs
  codes=$(exit_codes "$id")
  [[ $(grep -c '^0:0 COMPLETED$' <<<"$codes") == "$tasks" ]] ||
    fail "$name (job $id): expected $tasks x '0:0 COMPLETED', got: $(tr '\n' ';' <<<"$codes")"
  logs=("$work"/logs/"$name"-"$id"-*.out)
  [[ ${#logs[@]} == "$tasks" && -f ${logs[0]} ]] || { fail "$name: expected $tasks logs"; return; }
  for log in "${logs[@]}"; do
    grep -qx PAROT-JOB-OK "$log" || { fail "$name: no PAROT-JOB-OK in $log"; sed 's/^/    /' "$log" >&2; }
  done
}
# expect_failed CASE: non-zero exit code, FAILED, no marker, the failure line, no result.
expect_failed() {
  local name=$1 id=${job_of[$1]} codes log
  codes=$(exit_codes "$id")
  [[ $codes =~ ^[1-9][0-9]*:0\ FAILED$ ]] || fail "$name (job $id): expected a failed job, got '$codes'"
  log=$(ls "$work"/logs/"$name"-"$id"-*.out)
  grep -qx PAROT-JOB-OK "$log" && fail "$name: failed job printed the success marker"
  grep -q "$2" "$log" || { fail "$name: '$2' not in $log"; sed 's/^/    /' "$log" >&2; }
  [[ ! -e $work/runs/solve-$id/result.h5 ]] || fail "$name: a result file was written"
}
expect_ok solve-sinkhorn 1
expect_ok solve-sns 1
expect_ok sliced 1
expect_ok strong 2
expect_ok weak 2
expect_ok scaling-srun 1
[[ $(wc -l <"$work/scaling-srun.csv" 2>/dev/null || echo 0) == 5 ]] ||
  fail "scaling.py under srun: expected 4 CSV rows in $work/scaling-srun.csv"
expect_failed bad-option "unknown option.*no_such_option"
expect_failed missing-options "options file .* not found"

# The checkpointed job: stopped with exit 4, requeued, restarted with -restart, then completed.
id=${job_of[checkpoint]}
log=$(ls "$work"/logs/checkpoint-"$id"-*.out)
codes=$(exit_codes "$id")
[[ $codes == "0:0 COMPLETED" ]] || fail "checkpoint (job $id): expected '0:0 COMPLETED' after the requeue, got '$codes'"
for marker in "stopped by a signal .* the state is saved in" PAROT-JOB-CHECKPOINTED \
  "resuming .*checkpoint.h5 at iteration" PAROT-JOB-OK; do
  grep -q "$marker" "$log" || fail "checkpoint: '$marker' missing from $log"
done
grep -q -- "-checkpoint $work/runs/solve-$id/checkpoint.h5 -options_file .*checkpoint.opts -restart" "$log" ||
  fail "checkpoint: the rerun was not passed -checkpoint ... -restart"
grep -q '^restart_count: 1' "$work/runs/solve-$id/provenance.txt" || fail "checkpoint: no restart_count 1"
((failures == 0)) || sed 's/^/    /' "$log" >&2

# HDF5 results and provenance.
/usr/bin/python3 - "$work/runs" "${job_of[solve-sinkhorn]}" "${job_of[solve-sns]}" \
  "${job_of[sliced]}" "${job_of[strong]}" "${job_of[weak]}" "${job_of[checkpoint]}" \
  <<'EOF' || fail "HDF5 result checks"
import os, sys
import h5py
runs, sink, sns, sliced, strong, weak, ckpt = sys.argv[1:]
bad = []
def check(path, **expect):
    if not os.path.exists(path):
        bad.append(f"missing {path}"); return
    with h5py.File(path, "r") as f:
        a = f.attrs
        for k, v in expect.items():
            got = a[k].decode() if isinstance(a[k], bytes) else a[k]
            if (isinstance(v, str) and got != v) or (not isinstance(v, str) and not v(got)):
                bad.append(f"{path}: {k} = {got!r}")
        if "solution" in f and f["solution/f"].shape[0] != a["n"]:
            bad.append(f"{path}: /solution/f has {f['solution/f'].shape[0]} entries, n = {a['n']}")
    prov = os.path.join(os.path.dirname(path), "provenance.txt")
    text = open(prov).read() if os.path.exists(prov) else ""
    for key in ("parot_version:", "SLURM_JOB_ID=", "command: srun", "host:", "exit_code: 0"):
        if key not in text:
            bad.append(f"{prov}: no '{key}'")
    if not os.path.exists(os.path.join(os.path.dirname(path), "options.txt")):
        bad.append(f"{path}: no options.txt copy")
conv = lambda r: r == "converged_atol"
check(f"{runs}/solve-{sink}/result.h5", format="parot-result", solver="sinkhorn", reason="converged_atol", nranks=lambda n: n == 2)
check(f"{runs}/solve-{sns}/result.h5", format="parot-result", solver="sns", reason="converged_atol")
check(f"{runs}/sliced-{sliced}/result.h5", format="parot-result")
# Stopped by SIGUSR1, requeued, resumed from its checkpoint: a converged result at last.
check(f"{runs}/solve-{ckpt}/result.h5", solver="sinkhorn", reason="converged_atol", nranks=lambda n: n == 2)
for p in (1, 2):
    check(f"{runs}/strong-{strong}_{p}/result.h5", solver="sinkhorn", reason="converged_atol", nranks=lambda n, p=p: n == p)
    check(f"{runs}/weak-{weak}_{p}/result.h5", solver="sinkhorn", nranks=lambda n, p=p: n == p, n=lambda n, p=p: n == 60 * p)
    for kind, job in (("strong", strong), ("weak", weak)):
        log = f"{runs}/{kind}-{job}_{p}/log.csv"
        if not os.path.exists(log) or "parotAllreduce" not in open(log).read():
            bad.append(f"{log}: missing, or no parotAllreduce event")
with h5py.File(f"{runs}/sliced-{sliced}/result.h5", "r") as f:
    if not f["sliced"].attrs["sw"] > 0:
        bad.append("sliced: sw not positive")
print("\n".join(bad) if bad else "HDF5 results OK")
sys.exit(1 if bad else 0)
EOF

# The scaling arrays' run directories summarized by jobs/scaling.py collect.
if /usr/bin/python3 "$root/jobs/scaling.py" collect "$work/runs/strong-${job_of[strong]}"_* \
  "$work/runs/weak-${job_of[weak]}"_* --csv "$work/scaling.csv" --plots "$work/plots"; then
  rows=$(($(wc -l <"$work/scaling.csv") - 1))
  [[ $rows == 4 ]] || fail "scaling.py collect: $rows rows, expected 4"
  [[ -s $work/plots/efficiency.png ]] || fail "scaling.py collect: no efficiency.png"
else
  fail "scaling.py collect"
fi

if ((failures)); then
  echo "slurm test: $failures failure(s); daemon logs in $work" >&2
  exit 1
fi
note "all SLURM job checks passed"
