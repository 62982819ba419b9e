#!/bin/sh
# Nothing is lost on a crash: kill -9 of the whole job at several moments, then the same command
# resumes, and the final archive is identical to an uninterrupted run's. A torn last journal
# record is detected and its run recomputed. A changed spec is refused unless --fresh.
. "$top_srcdir/tests/lib.sh"

# 96 runs of 100 ms each: about 5 s on 2 ranks.
cat > "$SCRATCH/s.yaml" <<'YAML'
experiment: synthetic
seed: 99
repeats: 4
params:
  work: 0.1
sweep:
  tag: {linspace: [0, 1], num: 24}
YAML
"$TAILSWEEP" run "$SCRATCH/s.yaml" -o "$SCRATCH/ref.h5" --progress none >/dev/null
check "the uninterrupted reference run succeeds" test $? -eq 0



# wait_until_journalled OUT PID N: until the sweep writing OUT has journalled at least N runs;
# fails if PID ends first or after 60 s.
wait_until_journalled() { # OUT PID N
    wait_for_first_result "$1" "$2" || return 1
    for _ in $(seq 600); do
        [ "$(finished_runs "$1")" -ge "$3" ] 2>/dev/null && return 0
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

# job_processes SID OUT: the live processes of the job (zombies do not count: a container's
# init may never reap orphaned ranks). Found both by session and by the output path on their
# command line, so that a rank that left the session is found too.
job_processes() { # SID OUT
    { pgrep --runstates R,S,D,T -s "$1"; pgrep --runstates R,S,D,T -f -- "-o $2"; } 2>/dev/null
}

# Kill moments. A polled kill races the sweep (a loaded machine once let all 96 runs finish
# between the poll and the kill), so the moment is pinned instead: the synthetic experiment's
# fault injection holds every run of point K or later (TAILSWEEP_SYNTHETIC_HOLD_FROM), so the
# job journals exactly the 4K runs of points 0..K-1 and then waits, runs in flight, for the kill.
for points in 1 5 12; do
    kept=$((4 * points))
    out="$SCRATCH/kill-$points.h5"
    # setsid: the job gets its own session; killing the session reaches mpiexec and every rank
    # (Open MPI moves the ranks to process groups of their own).
    TAILSWEEP_SYNTHETIC_HOLD_FROM=$points setsid "$MPIEXEC" -n 2 "$TAILSWEEP" run \
        "$SCRATCH/s.yaml" -o "$out" --progress none >/dev/null 2>&1 &
    pid=$!
    wait_until_journalled "$out" "$pid" "$kept"
    sleep 0.5
    check "held after $kept runs: the sweep is still running" kill -0 "$pid"
    n=$(finished_runs "$out")
    check "held after $kept runs: exactly those runs are journalled ($n)" test "${n:-0}" -eq "$kept"
    pkill -KILL -s "$pid"
    pkill -KILL -f -- "-o $out"
    wait "$pid" 2>/dev/null
    survivors=$(job_processes "$pid" "$out")
    check "killed after $kept runs: no process of the job survives ($survivors)" \
        test -z "$survivors"
    check "killed after $kept runs: no archive yet" test ! -e "$out"
    n=$(finished_runs "$out")
    check "killed after $kept runs: the journal kept those runs ($n)" test "${n:-0}" -eq "$kept"
    "$MPIEXEC" -n 2 "$TAILSWEEP" run "$SCRATCH/s.yaml" -o "$out" --progress none \
        > "$SCRATCH/resume.out"
    check "killed after $kept runs: the resume succeeds" test $? -eq 0
    check "killed after $kept runs: the resume skipped the kept runs" \
        grep -q "$((96 - kept)) finished now, $kept before" "$SCRATCH/resume.out"
    check "killed after $kept runs: the archive equals the uninterrupted one" \
        compare_archives "$SCRATCH/ref.h5" "$out"
done

# A torn last record: cut the newest shard in the middle of its last record.
out="$SCRATCH/torn.h5"
"$MPIEXEC" -n 2 "$TAILSWEEP" run "$SCRATCH/s.yaml" -o "$out" --progress none >/dev/null
rm -f "$out"
shard=$(ls -t "$out.parts"/shard-* | head -n 1)
size=$(stat -c %s "$shard")
truncate -s $((size - 20)) "$shard"
check "a torn record is reported by status" \
    sh -c '"$1" status "$2" | grep -q "1 torn"' _ "$TAILSWEEP" "$out"
check "the torn record's run counts as remaining" \
    sh -c '"$1" status "$2" | grep -q "remaining: 1$"' _ "$TAILSWEEP" "$out"
"$TAILSWEEP" run "$SCRATCH/s.yaml" -o "$out" --progress none > "$SCRATCH/torn.out"
check "the resume after a torn record recomputes one run" grep -q "1 finished now" "$SCRATCH/torn.out"
check "the archive after a torn record equals the reference" compare_archives "$SCRATCH/ref.h5" "$out"

# A changed spec is refused, naming the difference; --fresh starts over.
sed 's/^seed: 99/seed: 100/' "$SCRATCH/s.yaml" > "$SCRATCH/changed.yaml"
"$TAILSWEEP" run "$SCRATCH/changed.yaml" -o "$out" --progress none 2>"$SCRATCH/err" >/dev/null
rc=$?
check "a changed spec is refused with exit 2" test "$rc" -eq 2
check "the refusal names the changed key" grep -q "seed" "$SCRATCH/err"
check "the refusal mentions --fresh" grep -q -- "--fresh" "$SCRATCH/err"
"$MPIEXEC" -n 2 "$TAILSWEEP" run "$SCRATCH/changed.yaml" -o "$out" --fresh --progress none \
    >"$SCRATCH/fresh.out"
check "--fresh runs the changed spec from scratch" grep -q "96 finished now, 0 before" "$SCRATCH/fresh.out"
finish
