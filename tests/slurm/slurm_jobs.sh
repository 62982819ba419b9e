#!/bin/sh
# The SLURM job scripts (jobs/*.sbatch, jobs/submit-array.sh) and `tailsweep slurm`, on a real
# single-node SLURM started here (munged, slurmctld, slurmd; tests/slurm/slurmlib.sh). Every
# archive a job writes must equal the archive of a plain `mpiexec -n 2 tailsweep run` of the same
# spec, also when the job was warned mid-sweep (scancel --signal=USR1, or its real time limit
# with --signal), stopped with exit 75, requeued itself and resumed.
# Without slurm-wlm and munge, or without root, only the offline checks of `tailsweep slurm` and
# the scripts run, and the test says it skipped the rest (77). About 90 s, mostly the time-limit
# job.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/slurm/slurmlib.sh"
JOBS=$top_srcdir/jobs

ref_pids=
cleanup() {
    # The background reference runs (mpiexec stops its ranks on SIGTERM), then the cluster.
    for pid in $ref_pids; do kill "$pid" 2>/dev/null; done
    slurm_stop
    # KEEP_SCRATCH=1 keeps the job logs and archives for a look.
    if [ "${KEEP_SCRATCH:-0}" = 1 ]; then echo "kept $SCRATCH"; else rm -rf "$SCRATCH"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# check_log LOG DESCRIPTION COMMAND...: like check, and on failure show the job's log.
check_log() {
    log=$1
    shift
    desc=$1
    shift
    if "$@"; then
        pass "$desc"
    else
        fail "$desc"
        if [ -f "$log" ]; then sed 's/^/    | /' "$log"; fi
    fi
}

spec() { # NAME SEED WORK TAGS REPEATS
    cat > "$SCRATCH/$1.yaml" <<EOF
experiment: synthetic
seed: $2
repeats: $5
params:
  work: $3
  steps: 20
sweep:
  tag: {range: [1, $4, 1]}
EOF
}
spec quick 11 0.05 10 2     # 20 runs, about a second on 2 ranks
spec preempt 12 0.3 80 1    # 80 runs, 12 s on 2 ranks: warned once runs are journalled
spec array 14 0.1 8 3       # 24 runs in 3 or 4 slices
# The time-limit job: --time=1 with the warning 20 s before it. SLURM checks limits every 30 s
# and warns early by up to that much, so the warning comes 10 to 40 s after the start (and is
# passed on 30 s after the launch at the earliest, TAILSWEEP_STARTUP_SECONDS): the sweep must
# last longer, 180 runs of 0.5 s on 2 ranks = 45 s.
spec limit 13 0.5 180 1

start_reference() { # NAME: the archive of a plain mpiexec run, in the background
    "$MPIEXEC" -n 2 "$TAILSWEEP" run "$SCRATCH/$1.yaml" -o "$SCRATCH/$1-ref.h5" --progress none \
        > "$SCRATCH/$1-ref.log" 2>&1 &
    ref_pids="$ref_pids $!"
}

# ---------------------------------------------------------------- tailsweep slurm, offline
ts_slurm() { "$TAILSWEEP" slurm "$@" 2> "$SCRATCH/slurm.err"; }
cd "$SCRATCH" || exit 1

ts_slurm --help > help.txt
check "slurm --help exits 0" test $? -eq 0
check "slurm --help documents --array" grep -q -e '--array N' help.txt
check "slurm --help documents --signal-seconds" grep -q -e '--signal-seconds S' help.txt
printf 'experiment: synthetic\nseed: 1\nsweep:\n  tagg: [1, 2]\n' > bad.yaml
ts_slurm bad.yaml > bad.out
rc=$?
check "a bad spec exits 2 (got $rc)" test "$rc" -eq 2
check "a bad spec prints the located spec error" grep -q 'bad.yaml:4:.*tagg' "$SCRATCH/slurm.err"
check "a bad spec prints no script" test ! -s bad.out
ts_slurm quick.yaml --time 1:2:3:4 > /dev/null
check "a malformed --time exits 2" test $? -eq 2
ts_slurm quick.yaml --time 5 --signal-seconds 300 > /dev/null
check "a warning not before the time limit exits 2" test $? -eq 2
ts_slurm quick.yaml --time 8 > t8.sbatch
check "a short --time caps the default warning at a quarter of it" \
    grep -q -x -e '#SBATCH --signal=B:USR1@120' t8.sbatch
ts_slurm quick.yaml --array 21 > /dev/null
check "more array tasks than runs exits 2" test $? -eq 2
ts_slurm quick.yaml --partition 'a b' > /dev/null
check "a partition with a space exits 2" test $? -eq 2

ts_slurm quick.yaml --ranks 3 --time 2-03:04 --partition short --account proj42 \
    --signal-seconds 90 --binary "$TAILSWEEP" --job-name qk -o "out dir/q.h5" > gen.sbatch
check "slurm SPEC with every option exits 0" test $? -eq 0
check "the script is valid bash" bash -n gen.sbatch
for line in '#SBATCH --ntasks=3' '#SBATCH --time=2-03:04' '#SBATCH --partition=short' \
    '#SBATCH --account=proj42' '#SBATCH --signal=B:USR1@90' '#SBATCH --job-name=qk' \
    '#SBATCH --requeue' '#SBATCH --open-mode=append' "#SBATCH --chdir=$SCRATCH" \
    "spec='$SCRATCH/quick.yaml'" "set -- -o '$SCRATCH/out dir/q.h5' \"\$@\"" \
    "TAILSWEEP=\${TAILSWEEP:-'$TAILSWEEP'}"; do
    check "the script has: $line" grep -q -x -F -e "$line" gen.sbatch
done
check "the script's header gives the run count" grep -q '^# .* 20 runs (10 points x 2 repeats)' \
    gen.sbatch
# One tested piece of shell: the printed body is the jobs/ scripts' body, verbatim.
body() { sed -n "/^# ---- $1/,\$p" "$2"; }
body 'job body' gen.sbatch > gen.body
body 'job body' "$JOBS/sweep.sbatch" > sweep.body
check "the printed job body is jobs/sweep.sbatch's" cmp -s gen.body sweep.body
body 'job body' "$JOBS/array.sbatch" > array.body
check "jobs/array.sbatch has the same body" cmp -s array.body sweep.body
ts_slurm quick.yaml --collect > gen-collect.sbatch
body 'collect body' gen-collect.sbatch > gen-collect.body
body 'collect body' "$JOBS/collect.sbatch" > collect.body
check "the printed collect body is jobs/collect.sbatch's" cmp -s gen-collect.body collect.body
mkdir "sp ace"
(cd "sp ace" && ts_slurm ../quick.yaml --ranks 2 --binary "$TAILSWEEP" -J space -o q.h5) \
    > space.sbatch
check "a directory with a space is quoted in --chdir" \
    grep -q -x -F -e "#SBATCH --chdir=\"$SCRATCH/sp ace\"" space.sbatch
ts_slurm quick.yaml --array 4 > a4.sbatch
check "--array 4 gives #SBATCH --array=0-3" grep -q -x -e '#SBATCH --array=0-3' a4.sbatch
check "--array gives one rank per task by default" grep -q -x -e '#SBATCH --ntasks=1' a4.sbatch
for f in "$JOBS"/*.sbatch "$JOBS/submit-array.sh"; do
    check "$(basename "$f") is valid bash" bash -n "$f"
done

# ---------------------------------------------------------------- on a real SLURM
missing=$(slurm_missing)
if [ -n "$missing" ]; then
    echo "SKIP: $missing: the jobs were not submitted to a real SLURM (only the $passed" \
        "offline checks above ran)"
    [ "$failed" -eq 0 ] || finish
    exit 77
fi
# munged must reach its socket through the scratch directory.
chmod 0755 "$SCRATCH"
slurm_start "$SCRATCH/slurm" > slurm-start.log 2>&1
rc=$?
check_log slurm-start.log "a single-node SLURM starts (munged, slurmctld, slurmd; node idle)" \
    test "$rc" -eq 0
if [ "$rc" -ne 0 ]; then
    for f in "$SCRATCH"/slurm/log/*.log "$SCRATCH"/slurm/munge/munged.log; do
        [ -f "$f" ] && tail -n 20 "$f"
    done
    finish
fi

# The long job first: the generated script, with mpirun as the launcher, stopped by its real
# time limit's warning. Its reference runs meanwhile.
"$TAILSWEEP" slurm limit.yaml --ranks 2 --time 1 --signal-seconds 20 --binary "$TAILSWEEP" \
    --job-name limit -o limit.h5 > limit.sbatch
limit_job=$(TAILSWEEP_LAUNCHER=mpirun submit limit.sbatch)
start_reference limit

# jobs/sweep.sbatch under srun, plain; and a generated script, from a directory with a space.
quick_job=$(submit -n 2 -J quick "$JOBS/sweep.sbatch" quick.yaml -o quick.h5)
space_job=$(submit space.sbatch)

# jobs/submit-array.sh: 3 array tasks, then jobs/collect.sbatch after them.
"$JOBS/submit-array.sh" -J array array.yaml 3 -o array.h5 > submit-array.out 2>&1
check_log submit-array.out "jobs/submit-array.sh submits the array and the collect job" \
    grep -q '^array job [0-9]* (3 tasks), collect job [0-9]*' submit-array.out
array_job=$(sed -n 's/^array job \([0-9]*\).*/\1/p' submit-array.out)
array_collect=$(sed -n 's/.*collect job \([0-9]*\).*/\1/p' submit-array.out)

# The generated array (4 tasks of 1 rank) and collect scripts, submitted as their header says.
"$TAILSWEEP" slurm array.yaml --array 4 --binary "$TAILSWEEP" -J garray -o garray.h5 > ga.sbatch
"$TAILSWEEP" slurm array.yaml --collect --binary "$TAILSWEEP" -J garray -o garray.h5 > gc.sbatch
check "the array script's header says how to submit it with its collect job" \
    grep -q 'sbatch --dependency=afterok:${jid%%;\*} collect.sbatch' ga.sbatch
garray_job=$(submit ga.sbatch)
garray_collect=$(submit --dependency="afterok:$garray_job" gc.sbatch)

# Preemption: jobs/sweep.sbatch gets the warning (as SLURM sends it: to the batch shell only)
# once a few runs are journalled; it must stop (75), requeue itself and finish on its restart.
# The warning comes once runs are journalled, so the ranks are up: no startup grace is needed.
preempt_job=$(TAILSWEEP_STARTUP_SECONDS=0 submit -n 2 -J preempt "$JOBS/sweep.sbatch" \
    preempt.yaml -o preempt.h5 --progress-interval 0.5)
# The journal shows when runs are kept: its first shard appears with the first finished run
# (the job log is no good for this: srun may pass output on late).
journalled=no
for _ in $(seq 1200); do
    if ls preempt.h5.parts/shard-* >/dev/null 2>&1; then journalled=yes; break; fi
    sleep 0.05
done
state=$(squeue -h -j "$preempt_job" -o %T 2>/dev/null)
scancel --signal=USR1 --batch "$preempt_job"
check "the warning was sent mid-sweep (runs journalled: $journalled, job $state)" \
    test "$journalled" = yes -a "$state" = RUNNING

# The references run while wait_jobs releases requeued jobs from SLURM's start delay.
for name in quick preempt array; do start_reference "$name"; done
# The deadline is generous: on a loaded machine the time-limit job can need a third start (its
# first one killed by the warning before the ranks ran, as this test allows); ~90 s otherwise.
wait_jobs 300 "$quick_job" "$space_job" "$preempt_job" "$array_job" "$array_collect" "$garray_job" \
    "$garray_collect" "$limit_job"
check "the jobs ended within 300 s" test $? -eq 0
refs_ok=1
for pid in $ref_pids; do wait "$pid" || refs_ok=0; done
ref_pids=
check "the reference runs (plain mpiexec -n 2)" test "$refs_ok" -eq 1

log=quick-$quick_job.out
check_log "$log" "sweep.sbatch (srun) completed" test "$(job_states "$quick_job")" = COMPLETED
check_log "$log" "sweep.sbatch: archive equals mpiexec's" compare_archives quick-ref.h5 quick.h5
log="sp ace/space-$space_job.out"
check_log "$log" "generated script (srun) completed" test "$(job_states "$space_job")" = COMPLETED
check_log "$log" "generated script: ran in its directory, archive equals mpiexec's" \
    compare_archives quick-ref.h5 "sp ace/q.h5"

log=preempt-$preempt_job.out
check_log "$log" "preempted job completed" test "$(job_states "$preempt_job")" = COMPLETED
check_log "$log" "preempted job: SLURM requeued it once (Restarts=1)" \
    test "$(job_field "$preempt_job" Restarts)" = 1
check_log "$log" "preempted job: the sweep stopped with status 75 on the warning" \
    grep -q 'the sweep exited with status 75' "$log"
check_log "$log" "preempted job: it requeued itself" grep -q 'requeueing to resume' "$log"
check_log "$log" "preempted job: its restart ran with SLURM_RESTART_COUNT=1" \
    grep -q 'start 2 (SLURM_RESTART_COUNT=1)' "$log"
check_log "$log" "preempted job: the restart resumed (kept runs, ran only the rest)" \
    grep -q ' [1-9][0-9]* before;' "$log"
check_log "$log" "preempted job: archive equals mpiexec's" \
    compare_archives preempt-ref.h5 preempt.h5

log=array-$array_collect.out
check_log "array-${array_job}_0.out" "array.sbatch: all 3 tasks completed" \
    test "$(job_states "$array_job")" = "COMPLETED COMPLETED COMPLETED"
check_log "array-${array_job}_2.out" "array.sbatch: task 2 ran slice 2/3" \
    grep -q -e '--slice 2/3' "array-${array_job}_2.out"
check_log "$log" "collect.sbatch ran after the array and completed" \
    test "$(job_states "$array_collect")" = COMPLETED
check_log "$log" "array + collect: archive equals mpiexec's" \
    compare_archives array-ref.h5 array.h5

log=garray-collect-$garray_collect.out
check "generated array: all 4 tasks completed" \
    test "$(job_states "$garray_job")" = "COMPLETED COMPLETED COMPLETED COMPLETED"
check_log "$log" "generated collect job completed" \
    test "$(job_states "$garray_collect")" = COMPLETED
check_log "$log" "generated array + collect: archive equals mpiexec's" \
    compare_archives array-ref.h5 garray.h5

log=limit-$limit_job.out
check_log "$log" "time-limit job (generated script, mpirun) completed" \
    test "$(job_states "$limit_job")" = COMPLETED
check_log "$log" "time-limit job: SLURM's --signal warning came before the limit" \
    grep -q 'warning signal at' "$log"
# Under load the ranks may still be starting when the warning is passed on: they then die of it
# (138) rather than stop (75); the script requeues both, and nothing finished is lost.
check_log "$log" "time-limit job: stopped on the warning and requeued itself" \
    grep -q 'finished runs are kept; requeueing to resume' "$log"
restarts=$(job_field "$limit_job" Restarts)
check_log "$log" "time-limit job: restarted (Restarts=$restarts)" test "${restarts:-0}" -ge 1
check_log "$log" "time-limit job: one log holds every start (--open-mode=append)" \
    grep -q "start $((restarts + 1)) (SLURM_RESTART_COUNT=$restarts)" "$log"
check_log "$log" "time-limit job: archive equals mpiexec's" compare_archives limit-ref.h5 limit.h5

# On a failure, what SLURM says of every job that did not complete, for the CI log.
if [ "$failed" -gt 0 ]; then
    for id in "$quick_job" "$space_job" "$preempt_job" "$array_job" "$array_collect" \
        "$garray_job" "$garray_collect" "$limit_job"; do
        states=$(job_states "$id")
        if [ -n "$states" ] && ! echo "$states" | tr ' ' '\n' | grep -qv '^COMPLETED$'; then
            continue
        fi
        echo "job $id: $(scontrol show job -o "$id" 2>&1 | head -n 1)"
        grep -E "JobId=$id([^0-9]|$)" "$SLURM_DIR/log/slurmctld.log" | tail -n 20 | sed 's/^/    | /'
    done
fi
finish
