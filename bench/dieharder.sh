#!/bin/sh
# The stream's statistical quality (issue 14): dieharder's whole battery (-a) on the raw words of
# one stream and on the word-by-word interleaving of a stream with its four neighbouring keys
# (point + 1, repeat + 1, substream + 1, seed + 1; bench/rng_stream.c), each with -Y 1 (a WEAK
# p-value is retested on more samples until it passes or fails). Exit 0 when no test fails.
#
# usage: bench/dieharder.sh [SEED]     from the build directory (make check-rng runs it), or with
#        RNG_STREAM=/path/to/bench/rng_stream
# Takes about 45 minutes per battery on one core (the interleaved one runs after the other);
# bench/README.md has the last results. Logs: dieharder-single.log, dieharder-neighbours.log.
set -eu
stream=${RNG_STREAM:-./bench/rng_stream}
seed=${1:-2031}
if ! command -v dieharder >/dev/null 2>&1; then
    echo "bench/dieharder.sh: dieharder is not installed (Debian package dieharder; ./setup.sh deps installs it)" >&2
    exit 2
fi
if [ ! -x "$stream" ]; then
    echo "bench/dieharder.sh: no $stream (run 'make bench/rng_stream' or set RNG_STREAM)" >&2
    exit 2
fi

status=0
battery() { # NAME ARGS...: one battery on rng_stream ARGS
    name=$1; shift
    log=dieharder-$name.log
    echo "== dieharder -a -g 200 -Y 1 on: rng_stream $*   ($(date -u +%H:%M) UTC, log $log)"
    start=$(date +%s)
    # rng_stream dies of SIGPIPE when dieharder is done reading: that is its normal end.
    { "$stream" "$@" || true; } | dieharder -a -g 200 -Y 1 > "$log" 2>&1 || true
    passed=$(grep -c 'PASSED' "$log" || true)
    weak=$(grep -c 'WEAK' "$log" || true)
    failed=$(grep -c 'FAILED' "$log" || true)
    echo "   $passed passed, $weak weak, $failed failed in $(( $(date +%s) - start )) s"
    grep 'FAILED' "$log" || true
    if [ "$failed" -ne 0 ] || [ "$passed" -eq 0 ]; then status=1; fi
}
battery single "$seed" 0 0
battery neighbours --neighbours "$seed" 0 0
exit $status
