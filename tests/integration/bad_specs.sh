#!/bin/sh
# Every malformed spec in tests/specs/bad/ must make `tailsweep plan` exit 2 with an error that
# names the file, the line and column, and the distinctive part of the message that the file's
# first line promises:   # expect: LINE:COL: SUBSTRING
# Run by `make check` with TAILSWEEP (the binary) and top_srcdir set.

: "${TAILSWEEP:?set TAILSWEEP to the tailsweep binary}"
: "${top_srcdir:?set top_srcdir to the source tree}"

case $TAILSWEEP in
/*) ;;
*/*) TAILSWEEP=$PWD/$TAILSWEEP ;; # the runs below happen in another directory
esac
dir=$(cd "$top_srcdir/tests/specs/bad" && pwd) || exit 1
work=$(mktemp -d "${TMPDIR:-/tmp}/bad_specs.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
# Specs without output: name an archive in the current directory: keep the build tree clean
# should the binary ever create one.
cd "$work" || exit 1

# Each run is mostly MPI start-up latency (about 0.5 s), so run a few at once.
jobs=0
n=0
for spec in "$dir"/*.yaml; do
    n=$((n + 1))
    ( "$TAILSWEEP" plan "$spec" >/dev/null 2>"$work/$n.err"; echo $? >"$work/$n.status" ) &
    jobs=$((jobs + 1))
    if [ "$jobs" -ge 8 ]; then
        wait
        jobs=0
    fi
done
wait

passed=0
failed=0
n=0
for spec in "$dir"/*.yaml; do
    n=$((n + 1))
    name=${spec##*/}
    expect=$(sed -n '1s/^# expect: //p' "$spec")
    location=${expect%%: *}   # LINE:COL
    substring=${expect#*: }   # the rest of the line
    status=$(cat "$work/$n.status")
    why=
    if [ -z "$expect" ]; then
        why="its first line is not '# expect: LINE:COL: SUBSTRING'"
    elif [ "$status" -ne 2 ]; then
        why="exit status $status, expected 2"
    elif ! grep -F -q -- "$spec:$location:" "$work/$n.err"; then
        why="stderr does not name $spec:$location:"
    elif ! grep -F -q -- "$substring" "$work/$n.err"; then
        why="stderr lacks \"$substring\""
    fi
    if [ -z "$why" ]; then
        echo "ok   $name"
        passed=$((passed + 1))
    else
        echo "FAIL $name: $why; stderr was:"
        sed 's/^/     /' "$work/$n.err"
        failed=$((failed + 1))
    fi
done

if [ "$n" -lt 30 ]; then
    echo "FAIL the catalogue holds $n specs, fewer than 30"
    failed=$((failed + 1))
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
