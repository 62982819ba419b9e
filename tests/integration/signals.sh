#!/bin/sh
# SIGUSR1 (SLURM's warning) and SIGTERM stop a sweep cleanly: exit 75, finished runs kept; the
# same command then completes it, with the archive of an uninterrupted run.
. "$top_srcdir/tests/lib.sh"

cat > "$SCRATCH/s.yaml" <<'YAML'
experiment: synthetic
seed: 3
params:
  work: 0.08
sweep:
  tag: {range: [1, 40, 1]}
YAML
"$TAILSWEEP" run "$SCRATCH/s.yaml" -o "$SCRATCH/ref.h5" --progress none >/dev/null
check "reference run" test $? -eq 0

# Like SLURM's warning, the signal comes once the sweep computes (wait_for_first_result). So
# that it lands mid-sweep however loaded the machine is, runs of point 5 on take 2 s more
# (synthetic's fault injection): the sweep cannot end within half a minute of its first result.
# (env execs the command, so $! is the command's own PID.)
hold="env TAILSWEEP_SYNTHETIC_HOLD_FROM=5 TAILSWEEP_SYNTHETIC_HOLD_SECONDS=2"

# Under mpiexec, which forwards SIGUSR1 to every rank.
$hold "$MPIEXEC" -n 2 "$TAILSWEEP" run "$SCRATCH/s.yaml" -o "$SCRATCH/usr1.h5" --progress none \
    > "$SCRATCH/usr1.out" 2>&1 &
pid=$!
wait_for_first_result "$SCRATCH/usr1.h5" "$pid"
kill -USR1 "$pid"
wait "$pid"
rc=$?
check "SIGUSR1 under mpiexec exits 75 (got $rc)" test "$rc" -eq 75
check "SIGUSR1: no archive is written" test ! -e "$SCRATCH/usr1.h5"
check "SIGUSR1: the run says how to resume" grep -q "rerun the same command" "$SCRATCH/usr1.out"
n=$(finished_runs "$SCRATCH/usr1.h5")
check "SIGUSR1: the finished runs are kept, not all ran ($n)" test "${n:-0}" -ge 1 -a "${n:-0}" -lt 40
check "SIGUSR1: status says the sweep stopped" \
    sh -c '"$1" status "$2" | grep -q "(stopped by a signal .* ago; rerun to resume)"' _ \
    "$TAILSWEEP" "$SCRATCH/usr1.h5"
"$MPIEXEC" -n 2 "$TAILSWEEP" run "$SCRATCH/s.yaml" -o "$SCRATCH/usr1.h5" --progress none >/dev/null
check "after SIGUSR1 the same command completes" test $? -eq 0
check "after SIGUSR1 the archive equals the reference" compare_archives "$SCRATCH/ref.h5" "$SCRATCH/usr1.h5"
check "after the resume status says complete" \
    sh -c '"$1" status "$2" | grep -q "(complete)"' _ "$TAILSWEEP" "$SCRATCH/usr1.h5"

# SIGTERM to a run with no launcher.
$hold "$TAILSWEEP" run "$SCRATCH/s.yaml" -o "$SCRATCH/term.h5" --progress none >/dev/null 2>&1 &
pid=$!
wait_for_first_result "$SCRATCH/term.h5" "$pid"
kill -TERM "$pid"
wait "$pid"
rc=$?
check "SIGTERM exits 75 (got $rc)" test "$rc" -eq 75
n=$(finished_runs "$SCRATCH/term.h5")
check "SIGTERM: the finished runs are kept, not all ran ($n)" test "${n:-0}" -ge 1 -a "${n:-0}" -lt 40
"$TAILSWEEP" run "$SCRATCH/s.yaml" -o "$SCRATCH/term.h5" --progress none >/dev/null
check "after SIGTERM the same command completes" test $? -eq 0
check "after SIGTERM the archive equals the reference" compare_archives "$SCRATCH/ref.h5" "$SCRATCH/term.h5"

# Progress lines: plain lines when stderr is not a terminal.
"$TAILSWEEP" run "$SCRATCH/s.yaml" -o "$SCRATCH/p.h5" --fresh --progress line \
    --progress-interval 0.2 2> "$SCRATCH/progress.err" >/dev/null
check "progress lines report runs, rate and ETA" \
    grep -q "runs (.*%), .* runs/s, elapsed .*, ETA .*, 0 diverged, 0 failed" "$SCRATCH/progress.err"
check "the final progress line reports all runs" grep -q "40/40 runs (100.0%)" "$SCRATCH/progress.err"
finish
