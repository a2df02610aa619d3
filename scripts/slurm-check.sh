#!/bin/bash
# End-to-end check of the Slurm path on this machine (make slurm-check):
#  1. installs Debian's Slurm and MUNGE if missing;
#  2. writes a single-node slurm.conf for this host (its real CPU count and memory) in a scratch
#     directory and starts munged, slurmctld and slurmd in their foreground modes (background
#     jobs of this script, stopped by pid on exit, whether it passes or fails);
#  3. writes the job scripts with `dendritic slurm`, has `sbatch --test-only` accept the array
#     script, submits scenarios/robustness_small.toml as an array of 4 tasks plus the dependent
#     merge-and-report job, and waits for them (bounded);
#  4. runs the same scenario in one process and compares the two merged summaries in every
#     column but the wall time, and checks that each task printed its own SLURM_JOB_ID and
#     SLURM_ARRAY_TASK_ID.
# Needs root (apt-get, the daemons). Usage: scripts/slurm-check.sh [path/to/dendritic]
set -euo pipefail

BIN=$(realpath "${1:-target/release/dendritic}")
SCENARIO=$(realpath scenarios/robustness_small.toml)
NAME=robustness_small
TASKS=4
TIMEOUT_S=${SLURM_CHECK_TIMEOUT_S:-900}

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    echo "slurm-check: installing slurm-wlm and munge"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
fi

WORK=$(mktemp -d /tmp/dendritic-slurm-check.XXXXXX)
chmod 755 "$WORK"
PIDS=()
cleanup() {
    status=$?
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        # A daemon that ignores TERM for 10 s is killed.
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [ "$status" -ne 0 ]; then
        echo "slurm-check: FAILED (exit $status); daemon logs:"
        tail -n 20 "$WORK"/*.log 2>/dev/null || true
    fi
    echo "slurm-check: stopped the daemons it started (${PIDS[*]:-none}); scratch in $WORK"
    exit "$status"
}
trap cleanup EXIT

HOST=$(hostname -s)
CPUS=$(nproc)
MEM_MB=$(awk '/MemTotal/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)
mkdir -p "$WORK/state" "$WORK/spool" "$WORK/munge-run"
cat > "$WORK/slurm.conf" <<EOF
# Single-node Slurm for dendritic's slurm-check (written by scripts/slurm-check.sh).
ClusterName=dendritic-check
SlurmctldHost=$HOST
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$WORK/state
SlurmdSpoolDir=$WORK/spool
SlurmctldPidFile=$WORK/slurmctld.pid
SlurmdPidFile=$WORK/slurmd.pid
SlurmctldLogFile=$WORK/slurmctld.log
SlurmdLogFile=$WORK/slurmd.log
SlurmctldPort=$((16817 + RANDOM % 1000))
SlurmdPort=$((17818 + RANDOM % 1000))
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MinJobAge=3600
NodeName=$HOST CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=check Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$WORK/slurm.conf"
echo "slurm-check: node $HOST, $CPUS CPUs, $MEM_MB MB; config $SLURM_CONF"

# MUNGE: its own socket and pid file in the scratch directory, run as the munge user.
chown munge:munge "$WORK/munge-run"
MUNGE_SOCKET="$WORK/munge-run/munge.socket.2"
setpriv --reuid=munge --regid=munge --init-groups -- /usr/sbin/munged --foreground --socket="$MUNGE_SOCKET" \
    --pid-file="$WORK/munge-run/munged.pid" --log-file="$WORK/munge-run/munged.log" \
    >"$WORK/munged.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do [ -S "$MUNGE_SOCKET" ] && break; sleep 0.1; done
[ -S "$MUNGE_SOCKET" ] || { echo "slurm-check: munged did not start"; exit 1; }
# Slurm's auth/munge plugin reads the socket path from AuthInfo.
sed -i "s|^AuthType=auth/munge|AuthType=auth/munge\nAuthInfo=socket=$MUNGE_SOCKET|" "$SLURM_CONF"

/usr/sbin/slurmctld -D -i -f "$SLURM_CONF" >"$WORK/slurmctld.out" 2>&1 &
PIDS+=($!)
/usr/sbin/slurmd -D -f "$SLURM_CONF" -N "$HOST" >"$WORK/slurmd.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do
    sinfo -h -o '%T' 2>/dev/null | grep -qE '^(idle|mixed)' && break
    sleep 0.3
done
sinfo -h -o '%T' | grep -qE '^(idle|mixed)' || { echo "slurm-check: the node did not come up"; sinfo || true; exit 1; }
echo "slurm-check: slurmctld and slurmd up ($(sinfo -h -o '%P %T %c'))"

# The job scripts, as a user would write them.
RESULTS="$WORK/results"
"$BIN" slurm "$SCENARIO" --array "$TASKS" --cpus-per-task 1 --time 00:20:00 \
    --results "$RESULTS" --reports "$WORK/reports" --binary "$BIN" --dir "$WORK/jobs" >"$WORK/slurm-command.txt"
ARRAY_SCRIPT="$WORK/jobs/$NAME.sbatch"
MERGE_SCRIPT="$WORK/jobs/$NAME-merge.sbatch"
sbatch --test-only "$ARRAY_SCRIPT" 2>&1 | tee "$WORK/test-only.txt"
grep -q "to start at" "$WORK/test-only.txt" || { echo "slurm-check: sbatch --test-only refused the array script"; exit 1; }
echo "slurm-check: sbatch --test-only accepts $ARRAY_SCRIPT"

# Submitted from here (the jobs' working directory), as the single-process run below.
ARRAY_ID=$(sbatch --parsable "$ARRAY_SCRIPT")
ARRAY_ID=${ARRAY_ID%%;*}
MERGE_ID=$(sbatch --parsable --dependency=afterok:"$ARRAY_ID" "$MERGE_SCRIPT")
MERGE_ID=${MERGE_ID%%;*}
echo "slurm-check: submitted array job $ARRAY_ID ($TASKS tasks) and merge job $MERGE_ID (afterok)"

# The single-process run of the same scenario meanwhile.
"$BIN" run "$SCENARIO" --results "$WORK/single" --quiet

deadline=$((SECONDS + TIMEOUT_S))
while :; do
    state=$(scontrol show job "$MERGE_ID" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | cut -d= -f2)
    case "$state" in
        COMPLETED) break ;;
        FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|DEADLINE)
            echo "slurm-check: merge job $MERGE_ID ended $state"; scontrol show job "$ARRAY_ID" || true
            cat "$WORK"/jobs/*.out || true; exit 1 ;;
    esac
    if [ "$SECONDS" -ge "$deadline" ]; then
        echo "slurm-check: timed out after ${TIMEOUT_S}s (merge job $MERGE_ID: ${state:-unknown})"
        squeue || true; exit 1
    fi
    sleep 2
done
echo "slurm-check: the array and the merge job completed"

# Every task printed its own job id and task id.
outs=("$WORK"/jobs/"$NAME"-"$ARRAY_ID"_*.out)
[ "${#outs[@]}" -eq "$TASKS" ] || { echo "slurm-check: expected $TASKS task outputs, found ${#outs[@]}"; exit 1; }
grep -h '^SLURM_JOB_ID=' "${outs[@]}" | tee "$WORK/task-ids.txt"
jobs=$(grep -o 'SLURM_JOB_ID=[0-9]*' "$WORK/task-ids.txt" | sort -u | wc -l)
tasks=$(grep -o 'SLURM_ARRAY_TASK_ID=[0-9]*' "$WORK/task-ids.txt" | sort -u | wc -l)
[ "$jobs" -eq "$TASKS" ] && [ "$tasks" -eq "$TASKS" ] || {
    echo "slurm-check: $jobs distinct SLURM_JOB_IDs and $tasks distinct SLURM_ARRAY_TASK_IDs for $TASKS tasks"; exit 1; }
echo "slurm-check: $TASKS tasks, each with its own SLURM_JOB_ID and SLURM_ARRAY_TASK_ID"

# The merged result equals the single-process one but for the wall time.
"$BIN" compare "$NAME" --results "$RESULTS" --against "$WORK/single" --ignore wall_time_s
[ -f "$WORK/reports/$NAME/index.html" ] || { echo "slurm-check: the merge job rendered no report"; exit 1; }
echo "slurm-check: passed"
