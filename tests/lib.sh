# Shared helpers for the integration tests (sourced). Every test gets a scratch dir and counts
# its checks, ending with an "N passed, M failed" line.
set -u
: "${TAILSWEEP:?run under make check}"
: "${top_srcdir:?run under make check}"
MPIEXEC=${MPIEXEC:-mpiexec}
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/tailsweep-test.XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT
passed=0
failed=0

pass() { passed=$((passed + 1)); echo "ok: $*"; }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
check() { # check DESCRIPTION COMMAND...
    desc=$1; shift
    if "$@"; then pass "$desc"; else fail "$desc"; fi
}
finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit $?
}
# wait_for_first_result OUT PID: until the sweep writing OUT has journalled a run (its first
# shard exists); fails if PID ends first or after 10 s.
wait_for_first_result() { # OUT PID
    for _ in $(seq 200); do
        ls "$1.parts"/shard-* >/dev/null 2>&1 && return 0
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}
# finished_runs OUT: how many runs the journal of the sweep writing OUT holds (tailsweep status)
finished_runs() {
    "$TAILSWEEP" status "$1" 2>/dev/null | sed -n 's/^finished: \([0-9]*\).*/\1/p'
}
# compare_archives A B: identical outside /provenance (the determinism contract)
compare_archives() {
    "$PYTHON" "$top_srcdir/tests/archive_compare.py" "$1" "$2"
}
