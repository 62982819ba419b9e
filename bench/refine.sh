#!/bin/sh
# Benchmark of schedule refinement and the last-iterate bound (include/tailsweep/refine.h)
# against numpy/scipy/pandas:
#   bench/refine.sh [path/to/bench/refine] [repeats]             (from the repository root)
#   REFINE_T=1e5,1e6 bench/refine.sh ...                          (other run lengths)
# First the agreement: bench/refine --check writes our smoothed norms, schedules and bounds at
# T = 2001, 20000 and 10^6 (every filter, both Gaussian paths, windows wider than half the run),
# bench/refine_ref.py --check compares them with scipy.ndimage (where its O(T w) filters are
# affordable), pandas' rolling quantile, scipy.signal.fftconvolve and the bound's formula in
# numpy; the script stops when any differs by more than 1e-9 relative. Then the timing: both
# programs time one call per case at each T (default 10^5, 10^6, 10^7; the median over the
# repeats, default 3; calls over 10 s in Python run once) and the table gives ns per step
# (= seconds per call / T) and reference / ours.
# Cases: smooth_median_0.1T (the experiment's default width, round(0.1 T) steps),
# smooth_median_101, smooth_gaussian_0.1T (sigma 0.1 T: the FFT path), smooth_gaussian_32 (the
# widest kernel summed directly, 257 taps), smooth_gaussian_33 (the narrowest by FFT),
# schedule_* (ts_refine_schedule, power 2, with each filter), bound (ts_refine_bound).
# About 12 minutes at the defaults, most of it at T = 10^7 (pandas' rolling quantile with a
# 10^6 window takes about 80 s a call, our FFT path about 18 s); 1.5 GB of memory at most.
# The machine may be shared: read the load average printed first and last, and rerun when it is
# above the core count.
set -eu
BENCH=${1:-build/bench/refine}
REPEATS=${2:-3}
PYTHON=${PYTHON:-/usr/bin/python3}
here=$(dirname "$0")
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "load: $(uptime | sed 's/.*load average/load average/')"
"$PYTHON" -c 'import numpy, scipy, pandas; print("numpy", numpy.__version__, "scipy",
    scipy.__version__, "pandas", pandas.__version__)'

echo
echo "agreement with the reference (bench/refine --check, bench/refine_ref.py --check):"
mkdir "$dir/check"
"$BENCH" --check "$dir/check"
"$PYTHON" "$here/refine_ref.py" --check "$dir/check"
rm -rf "$dir/check"

export REFINE_T="${REFINE_T:-100000,1000000,10000000}"
echo
echo "timing, T = $REFINE_T, $REPEATS repeats"
"$BENCH" "$REPEATS" > "$dir/c.txt"
echo "load after C: $(uptime | sed 's/.*load average/load average/')"
"$PYTHON" "$here/refine_ref.py" "$REPEATS" > "$dir/ref.txt"
echo "load after the reference: $(uptime | sed 's/.*load average/load average/')"
echo

awk '
    function ns(x, T) { return sprintf("%.1f", x / T * 1e9) }
    FNR == NR { c[$1 " " $2] = $3; order[++n] = $1 " " $2; next }
    { key = $1 " " $2; refs[key] = refs[key] SUBSEP $3 SUBSEP $4 SUBSEP $5 }
    END {
        printf "%-24s %9s %10s  %-15s %11s %8s %5s\n", "case", "T", "C ns/step", "reference",
               "ref ns/step", "ref/C", "runs"
        for (k = 1; k <= n; k++) {
            key = order[k]
            split(key, kt, " ")
            T = kt[2]
            m = split(refs[key], f, SUBSEP)
            if (m < 4) {
                printf "%-24s %9s %10s  %-15s\n", kt[1], T, ns(c[key], T), "-"
                continue
            }
            for (i = 2; i + 2 <= m; i += 3) {
                impl = f[i]; t = f[i + 1]; runs = f[i + 2]
                name = ""; TT = ""; ours = ""
                if (i == 2) { name = kt[1]; TT = T; ours = ns(c[key], T) }
                if (t == "skipped") { refns = "(O(T w))"; ratio = ""; runs = "" }
                else {
                    refns = ns(t, T)
                    ratio = c[key] > 0 ? sprintf("%.2f", t / c[key]) : "-"
                }
                printf "%-24s %9s %10s  %-15s %11s %8s %5s\n", name, TT, ours, impl, refns,
                       ratio, runs
            }
        }
        print "ref/C > 1: ours is faster. (O(T w)): scipy.ndimage skipped, its direct filter"
        print "would take minutes to hours at this size."
    }' "$dir/c.txt" "$dir/ref.txt"
