#!/bin/sh
# Engine benchmark: what the engine itself costs, and how well it keeps ranks busy.
#   bench/engine.sh [path/to/tailsweep]        (from the repository root; 2 cores suffice)
# Uses the `synthetic` experiment, whose runs spin the CPU for a declared time. Prints:
#   1. per-run overhead of trivial runs (zero work), in microseconds per run;
#   2. overhead at 10 ms runs: compute time against the ideal total work / ranks;
#   3. parallel efficiency on a grid whose run costs differ 1000-fold: the ideal
#      max(total / ranks, largest run) over the measured compute time;
#   4. (unless ENGINE_SCALE=0) the archive phase at scale (issue 13): 10^6 tiny runs and 10^5
#      runs of 8 KB, on 1 and 2 ranks, with the archive's size, time and MiB/s, the peak RSS per
#      rank, and a plain fsync'd write of the same number of bytes (dd) in the same run.
#      About 5 minutes.
# "computing" is the work phase the engine reports (start-up and the archive excluded; the
# whole command's wall time is printed beside it).
set -eu
TAILSWEEP=${1:-build/tailsweep}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

# run NP SPEC -> "compute_seconds wall_seconds"
run() {
    start=$(date +%s.%N)
    mpiexec -n "$1" "$TAILSWEEP" run "$2" -o "$dir/out.h5" --fresh --progress none > "$dir/out.txt"
    end=$(date +%s.%N)
    compute=$(sed -n 's/.*(computing \([0-9.]*\)s,.*/\1/p' "$dir/out.txt")
    echo "$compute $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')"
}

cat > "$dir/trivial.yaml" <<'YAML'
experiment: synthetic
seed: 1
repeats: 20
params: {work: 0}
sweep:
  tag: {range: [1, 1000, 1]}
YAML
cat > "$dir/ten_ms.yaml" <<'YAML'
experiment: synthetic
seed: 1
repeats: 4
params: {work: 0.01}
sweep:
  tag: {range: [1, 100, 1]}
YAML
cat > "$dir/spread.yaml" <<'YAML'
experiment: synthetic
seed: 1
sweep:
  work: {logspace: [0.001, 1.0], num: 40}
YAML

echo "engine benchmark ($(nproc) cores)"
for np in 1 2; do
    set -- $(run $np "$dir/trivial.yaml")
    echo "trivial runs, $np rank(s): 20000 runs computed in $1 s (command $2 s):" \
         "$(awk -v c="$1" 'BEGIN { printf "%.1f", c / 20000 * 1e6 }') us per run"
done
set -- $(run 2 "$dir/ten_ms.yaml")
echo "10 ms runs, 2 ranks: 400 runs, ideal 2.00 s, computed in $1 s (command $2 s):" \
     "overhead $(awk -v c="$1" 'BEGIN { printf "%.1f", (c / 2.0 - 1) * 100 }')% (aim < 2%)"
ideal=$(/usr/bin/python3 -c '
import numpy as np
w = np.logspace(np.log10(0.001), 0, 40)
print(f"{max(w.sum() / 2, w.max()):.3f}")')
set -- $(run 2 "$dir/spread.yaml")
echo "1000x cost spread, 2 ranks: ideal $ideal s, computed in $1 s (command $2 s):" \
     "efficiency $(awk -v i="$ideal" -v c="$1" 'BEGIN { printf "%.1f", i / c * 100 }')% (aim >= 90%)"

[ "${ENGINE_SCALE:-1}" = 0 ] && exit 0

cat > "$dir/tiny.yaml" <<'YAML'
experiment: synthetic
seed: 1
repeats: 1000
params: {work: 0}
sweep:
  tag: {range: [1, 1000, 1]}
YAML
cat > "$dir/kb8.yaml" <<'YAML'
experiment: synthetic
seed: 1
repeats: 100
params: {work: 0, steps: 1000, record: {linear: 1001}}
sweep:
  tag: {range: [1, 1000, 1]}
YAML
echo
echo "archive phase at scale (computing = the work phase; archive = writing OUT from the journals)"
for case in tiny kb8; do
    for np in 1 2; do
        /usr/bin/time -f "rss %M" -o "$dir/rss" true # so the file exists on every path
        mpiexec -n "$np" /usr/bin/time -a -f "rss %M" -o "$dir/rss" "$TAILSWEEP" run \
            "$dir/$case.yaml" -o "$dir/out.h5" --fresh --progress none > "$dir/out.txt"
        runs=$(sed -n 's/^tailsweep: \([0-9]*\) runs in \([^ ]*\) (computing \([^,]*\),.*/\1 \2 \3/p' "$dir/out.txt")
        archive=$(sed -n 's/^tailsweep: archive written: [^(]*(\(.*\))$/\1/p' "$dir/out.txt")
        rss=$(awk '/^rss/ && NR > 1 { if ($2 > m) m = $2 } END { printf "%.0f", m / 1024 }' "$dir/rss")
        set -- $runs
        echo "$case, $np rank(s): $1 runs in $2 (computing $3); archive $archive; peak RSS $rss MiB per rank"
    done
    mib=$(du -m "$dir/out.h5" | cut -f1)
    start=$(date +%s.%N)
    dd if=/dev/zero of="$dir/plain" bs=1M count="$mib" conv=fsync status=none
    end=$(date +%s.%N)
    echo "$case: a plain fsync'd write of the same $mib MiB: $(awk -v a="$start" -v b="$end" -v m="$mib" 'BEGIN { printf "%.2f s, %.0f MiB/s", b - a, m / (b - a) }')"
    rm -f "$dir/plain" "$dir/out.h5"
done
