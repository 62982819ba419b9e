#!/bin/sh
# Benchmark of the convex experiment's SGD step against numpy:
#   bench/convex.sh [path/to/bench/convex] [repeats]          (from the repository root)
# Runs bench/convex (C, the library's code path through bench/experiment_case.h) and
# bench/convex_ref.py (the same minibatch SGD in numpy, Debian's /usr/bin/python3), each printing
# the median time per step (the difference of two runs that differ only in `steps`) and the
# set-up left over, and prints per case: C us/step, numpy us/step, numpy / C, both set-ups
# (the data, f* by Newton's method) and both final suboptimalities at the same steps (the check
# that both sides run the same optimisation; their streams differ). Cases: least_squares and logistic at dim 100, n_train 1000,
# batch_size 8 and at dim 1000, n_train 1000, batch_size 64 (linear decay, gd, {log: 40}
# records, the experiment's other defaults); a refined schedule at dim 100 (two passes and the
# median refinement; C only); ts_risk_eval alone on a batch (the gradient part of a step; C only).
# One BLAS thread on both sides: the C program calls openblas_set_num_threads(1); for numpy,
# OPENBLAS_NUM_THREADS=1 and OMP_NUM_THREADS=1 are set before python starts. About 1.5 minutes
# at the default 5 repeats. The machine may be shared: read the load average printed first and
# last, and rerun when it is above the core count.
set -eu
BENCH=${1:-build/bench/convex}
REPEATS=${2:-5}
PYTHON=${PYTHON:-/usr/bin/python3}
here=$(dirname "$0")
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "load: $(uptime | sed 's/.*load average/load average/')"
"$PYTHON" -c '
import numpy
libs = sorted({l.split()[-1] for l in open("/proc/self/maps") if "blas" in l})
print("numpy", numpy.__version__ + ":", ", ".join(libs) or "no BLAS library mapped")'
"$BENCH" "$REPEATS" > "$dir/c.txt"
echo "load after C: $(uptime | sed 's/.*load average/load average/')"
OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 "$PYTHON" "$here/convex_ref.py" "$REPEATS" \
    > "$dir/numpy.txt"
echo "load after numpy: $(uptime | sed 's/.*load average/load average/')"
echo

awk '
    function us(x) { return sprintf("%.2f", x * 1e6) }
    function s(x) { return x == "-" ? "-" : sprintf("%.3f", x) }
    FNR == NR { c[$1] = $2; cs[$1] = $3; cf[$1] = $4; order[++n] = $1; next }
    { py[$1] = $2; ps[$1] = $3; pf[$1] = $4 }
    END {
        printf "%-37s %9s %9s %7s %8s %8s %9s %9s\n", "case", "C us", "numpy us", "numpy/C",
               "C set-up", "np set-up", "C f-f*", "np f-f*"
        for (k = 1; k <= n; k++) {
            name = order[k]
            if (name !~ /^convex_/) continue
            have = name in py
            ratio = "-"
            if (have && c[name] > 0) ratio = sprintf("%.1f", py[name] / c[name])
            printf "%-37s %9s %9s %7s %8s %8s %9s %9s\n", name, us(c[name]),
                   have ? us(py[name]) : "-", ratio, s(cs[name]), have ? s(ps[name]) : "-",
                   cf[name] == "nan" ? "-" : cf[name], have ? pf[name] : "-"
        }
        printf "\nts_risk_eval on one batch (loss and gradient, the batch in cache):\n"
        for (k = 1; k <= n; k++) {
            name = order[k]
            if (name !~ /^risk_/) continue
            step = name
            sub(/^risk_/, "convex_", step)
            share = "-"
            if ((step in c) && c[step] > 0) share = sprintf("%.0f%%", 100 * c[name] / c[step])
            printf "%-37s %9s us, %s of the step\n", name, us(c[name]), share
        }
        print "us: per SGD step (difference of two run lengths). set-up: seconds, the run at the"
        print "smaller steps less those steps (data, f* by Newton; negative = noise). f-f*: the"
        print "final suboptimality of one run at numpy'"'"'s larger steps on each side (different"
        print "streams: the same order of magnitude is the check that both optimise alike)."
    }' "$dir/c.txt" "$dir/numpy.txt"
