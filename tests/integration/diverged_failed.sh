#!/bin/sh
# A diverging run is recorded as diverged and the sweep goes on (exit 0); a failing run is
# recorded with its message, the sweep goes on, and the exit status says so (3).
. "$top_srcdir/tests/lib.sh"

cat > "$SCRATCH/q.yaml" <<'YAML'
experiment: quadratic
seed: 1
params: {steps: 2000, record: {log: 10}}
sweep:
  step_size: [1.0, 2.5]
YAML
"$MPIEXEC" -n 2 "$TAILSWEEP" run "$SCRATCH/q.yaml" -o "$SCRATCH/q.h5" --progress none >"$SCRATCH/q.out"
rc=$?
check "a sweep with a diverging point exits 0 (got $rc)" test "$rc" -eq 0
check "the summary counts it" grep -q "1 diverged, 0 failed" "$SCRATCH/q.out"
check "the archive marks it diverged" "$PYTHON" -c '
import sys, h5py
f = h5py.File(sys.argv[1], "r")
st = f["status"][:, 0].tolist()
assert st == [1, 2], st' "$SCRATCH/q.h5"

cat > "$SCRATCH/s.yaml" <<'YAML'
experiment: synthetic
seed: 2
repeats: 2
sweep:
  outcome: [done, diverge, fail]
YAML
"$MPIEXEC" -n 2 "$TAILSWEEP" run "$SCRATCH/s.yaml" -o "$SCRATCH/s.h5" --progress none >"$SCRATCH/s.out"
rc=$?
check "a sweep with failed runs exits 3 (got $rc)" test "$rc" -eq 3
check "the summary counts them" grep -q "2 diverged, 2 failed" "$SCRATCH/s.out"
check "the archive keeps statuses and the failure message" "$PYTHON" -c '
import sys, h5py
f = h5py.File(sys.argv[1], "r")
assert f["status"][:].tolist() == [[1, 1], [2, 2], [3, 3]], f["status"][:]
err = f["provenance/error"][2, 1]
err = err.decode() if isinstance(err, bytes) else str(err)
assert "synthetic failure of point 2 repeat 1" in err, err
assert f["provenance/error"][0, 0] in (b"", "")' "$SCRATCH/s.h5"
finish
