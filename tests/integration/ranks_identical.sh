#!/bin/sh
# The determinism contract: the archive's data depends only on the spec, never on the number of
# ranks (no launcher, 1, 2, 4 oversubscribed) or on scheduling.
. "$top_srcdir/tests/lib.sh"

cat > "$SCRATCH/q.yaml" <<'YAML'
experiment: quadratic
seed: 11
repeats: 3
params:
  steps: 300
  record: {log: 20}
  eps: [0.5, 0.1]
sweep:
  dim: {logspace: [10, 1000], num: 3, round: int}
  step_size: [0.5, 1.0, 1.9, 2.5]
  mode: [iterate, closed_form]
YAML
cat > "$SCRATCH/s.yaml" <<'YAML'
experiment: synthetic
seed: 5
repeats: 4
sweep:
  tag: {range: [0, 9, 1]}
zip:
  - {work: [0.0, 0.01], steps: [10, 20]}
YAML

for spec in q s; do
    "$TAILSWEEP" run "$SCRATCH/$spec.yaml" -o "$SCRATCH/$spec.alone.h5" --progress none >/dev/null
    check "$spec: a run with no launcher succeeds" test $? -eq 0
    for np in 1 2 4; do
        "$MPIEXEC" -n $np "$TAILSWEEP" run "$SCRATCH/$spec.yaml" -o "$SCRATCH/$spec.$np.h5" \
            --progress none >/dev/null
        check "$spec: a run on $np ranks succeeds" test $? -eq 0
        check "$spec: $np ranks give the same archive as no launcher" \
            compare_archives "$SCRATCH/$spec.alone.h5" "$SCRATCH/$spec.$np.h5"
    done
done
if [ -n "${H5DIFF:-}" ]; then
    check "h5diff finds /loss identical for 1 and 4 ranks" \
        "$H5DIFF" -q "$SCRATCH/q.1.h5" "$SCRATCH/q.4.h5" /loss /loss
    check "h5diff finds /status identical for 1 and 4 ranks" \
        "$H5DIFF" -q "$SCRATCH/q.1.h5" "$SCRATCH/q.4.h5" /status /status
fi
# The comparison must be able to fail: a different seed gives a different archive.
sed 's/^seed: 11/seed: 12/' "$SCRATCH/q.yaml" > "$SCRATCH/q2.yaml"
"$TAILSWEEP" run "$SCRATCH/q2.yaml" -o "$SCRATCH/q2.h5" --progress none >/dev/null
if compare_archives "$SCRATCH/q.alone.h5" "$SCRATCH/q2.h5" >/dev/null 2>&1; then
    fail "another seed gives another archive"
else
    pass "another seed gives another archive"
fi
check "no shards are left half-written: the parts dir records every run" \
    sh -c '"$1" status "$2" | grep -q "remaining: 0"' _ "$TAILSWEEP" "$SCRATCH/q.4.h5"
finish
