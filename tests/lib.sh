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
# compare_archives A B: identical outside /provenance (the determinism contract)
compare_archives() {
    "$PYTHON" "$top_srcdir/tests/archive_compare.py" "$1" "$2"
}
