#!/bin/sh
# The informational commands: describe, plan, --help, and usage errors.
. "$top_srcdir/tests/lib.sh"

out=$("$TAILSWEEP" describe)
check "describe lists quadratic" sh -c 'echo "$1" | grep -q "^  quadratic "' _ "$out"
check "describe lists synthetic" sh -c 'echo "$1" | grep -q "^  synthetic "' _ "$out"
out=$("$TAILSWEEP" describe quadratic)
for p in dim spectrum_exponent target_exponent step_size steps record eps mode; do
    check "describe quadratic shows parameter $p" sh -c 'echo "$1" | grep -q "^  $2 "' _ "$out" "$p"
done
check "describe shows the metric dims" sh -c 'echo "$1" | grep -q "steps_to_eps.*\[eps\]"' _ "$out"
"$TAILSWEEP" describe quadratc 2>"$SCRATCH/err"; rc=$?
check "describe with a typo exits 2" test "$rc" -eq 2
check "describe with a typo suggests the name" grep -q 'did you mean "quadratic"' "$SCRATCH/err"

cat > "$SCRATCH/s.yaml" <<'YAML'
experiment: quadratic
seed: 1
repeats: 3
params:
  steps: 100
  record: {log: 10}
sweep:
  dim: [10, 20]
  step_size: {linspace: [0.5, 1.5], num: 3}
YAML
out=$("$TAILSWEEP" plan "$SCRATCH/s.yaml"); rc=$?
check "plan exits 0" test "$rc" -eq 0
check "plan counts points and runs" sh -c 'echo "$1" | grep -q "points: 6 x 3 repeats = 18 runs"' _ "$out"
check "plan shows the step_size axis" sh -c 'echo "$1" | grep -q "step_size = \[0.5, 1, 1.5\]"' _ "$out"
check "plan shows the memory estimate" sh -c 'echo "$1" | grep -q "peak memory per rank: 640 B"' _ "$out"
check "plan says nothing ran yet" sh -c 'echo "$1" | grep -q "state: not started"' _ "$out"
# The engine's own memory grows with the runs: 10^6 runs need the collect index (tens of bytes a
# run) and two archive blocks, tens of MiB; 18 runs a few KiB.
check "plan shows the engine's memory for a small sweep in KiB" \
    sh -c 'echo "$1" | grep -Eq "engine memory per rank: [0-9.]+ KiB"' _ "$out"
printf 'experiment: synthetic\nseed: 1\nrepeats: 1000\nsweep:\n  tag: {range: [1, 1000, 1]}\n' \
    > "$SCRATCH/million.yaml"
mib=$("$TAILSWEEP" plan "$SCRATCH/million.yaml" |
      sed -n 's/^engine memory per rank: \([0-9.]*\) MiB.*/\1/p')
check "plan puts 10^6 runs' engine memory between 40 and 200 MiB (found ${mib:-none})" \
    awk -v m="${mib:-0}" 'BEGIN { exit !(m >= 40 && m <= 200) }'
out=$("$TAILSWEEP" status "$SCRATCH/s.yaml"); rc=$?
check "status of a sweep not started says so (exit $rc)" \
    sh -c '[ "$1" -eq 0 ] && echo "$2" | grep -q "state: not started"' _ "$rc" "$out"
n=$("$TAILSWEEP" plan "$SCRATCH/s.yaml" --list | grep -c '^  [0-9]*: dim=')
check "plan --list lists every point" test "$n" -eq 6
"$TAILSWEEP" plan "$SCRATCH/s.yaml" --list | grep -q '^  5: dim=20 step_size=1.5$'
check "the last point is the last of every axis" test $? -eq 0

# A combination the experiment cannot run is refused before any work, naming the point.
cat > "$SCRATCH/combo.yaml" <<'YAML'
experiment: quadratic
seed: 1
params: {mode: closed_form}
sweep:
  optimizer: [gd, adam]
YAML
"$TAILSWEEP" run "$SCRATCH/combo.yaml" -o "$SCRATCH/combo.h5" 2>"$SCRATCH/err"; rc=$?
check "an impossible combination exits 2" test "$rc" -eq 2
check "the refusal names the point and the reason" \
    grep -q "combo.yaml: the point optimizer=adam: mode closed_form needs optimizer gd" "$SCRATCH/err"
check "nothing was started" test ! -e "$SCRATCH/combo.h5.parts"

# bigram's combinations without closed forms (or without meaning), each refused by plan.
bigram_refuses() { # DESCRIPTION PARAMS(flow mapping body, after steps: 100) EXPECTED-SUBSTRING
    printf 'experiment: bigram\nseed: 1\nparams: {steps: 100, %s}\n' "$2" \
        > "$SCRATCH/bigram-combo.yaml"
    "$TAILSWEEP" plan "$SCRATCH/bigram-combo.yaml" >/dev/null 2>"$SCRATCH/err"; rc=$?
    check "bigram refuses $1 (exit $rc)" sh -c '[ "$1" -eq 2 ] && grep -q -- "$2" "$3"' _ \
        "$rc" "$3" "$SCRATCH/err"
}
bigram_refuses "exact with adam" "dim: 100, mode: exact, optimizer: adam" \
    "closed forms for gd and sign only"
bigram_refuses "exact with cross-entropy" "dim: 100, mode: exact, objective: cross_entropy" \
    "mode exact needs objective square"
bigram_refuses "exact with a cosine schedule" "dim: 100, mode: exact, schedule: cosine" \
    "mode exact needs schedule constant"
bigram_refuses "cross-entropy at dim 1" "mode: full, objective: cross_entropy, dim: 1" \
    "cross_entropy needs dim >= 2"
printf 'experiment: bigram\nseed: 1\nparams: {%s}\n' \
    "dim: 100, steps: 100, mode: full, objective: cross_entropy, optimizer: adam" \
    > "$SCRATCH/bigram-ok.yaml"
"$TAILSWEEP" plan "$SCRATCH/bigram-ok.yaml" >/dev/null 2>&1
check "bigram accepts full with cross-entropy and adam" test $? -eq 0

"$TAILSWEEP" frobnicate 2>/dev/null; rc=$?
check "an unknown command exits 2" test "$rc" -eq 2
"$TAILSWEEP" run --help >/dev/null; rc=$?
check "run --help exits 0" test "$rc" -eq 0
"$TAILSWEEP" run "$SCRATCH/s.yaml" --progress sometimes 2>/dev/null; rc=$?
check "a bad option value exits 2" test "$rc" -eq 2
"$TAILSWEEP" run "$SCRATCH/missing.yaml" 2>"$SCRATCH/err"; rc=$?
check "a missing spec exits 2" test "$rc" -eq 2
check "a missing spec is named" grep -q "missing.yaml" "$SCRATCH/err"

# Every shipped spec is valid: plan checks each of its points.
for spec in "$top_srcdir"/jobs/*.yaml; do
    "$TAILSWEEP" plan "$spec" >/dev/null 2>"$SCRATCH/err"
    check "$(basename "$spec") plans (exit 0)" test $? -eq 0
done
# So does the example in README.md's "The sweep spec" (the first yaml block after it).
sed -n '/^## The sweep spec/,/^## /p' "$top_srcdir/README.md" |
    sed -n '/^```yaml/,/^```$/p' | sed '1d;$d' > "$SCRATCH/readme.yaml"
"$TAILSWEEP" plan "$SCRATCH/readme.yaml" >/dev/null 2>"$SCRATCH/err"; rc=$?
check "README's example spec plans (exit $rc)" \
    sh -c 'test "$1" -eq 0 && test -s "$2"' _ "$rc" "$SCRATCH/readme.yaml"
finish
