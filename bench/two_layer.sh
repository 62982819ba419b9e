#!/bin/sh
# Benchmark of the two_layer experiment against numpy and against the plain GEMMs:
#   bench/two_layer.sh [path/to/bench/two_layer] [repeats]        (from the repository root)
# Runs bench/two_layer (C, the library's code path, plus the step's two products as plain
# whole-matrix cblas_dgemm calls, two streaming reads of X and a square dgemm) and
# bench/two_layer_ref.py (the same step in numpy, Debian's /usr/bin/python3), each printing the
# median time per step, and prints per case (p = 2, n = 3 D):
#   C ms/step; numpy ms/step and numpy / C; the GEMM fraction = (the two plain dgemm calls'
#   time) / (the experiment's step time), above 100% since the step reads X once in cached row
#   blocks where the plain calls read it twice; GFLOP/s = 2 * 2 n p D / time; GB/s = the n D 8
#   bytes of the step's one read of X / time.
# Aims (issue text): per GD step at D = 5000, n = 3 D, >= 2x numpy, and >= 70% of one core's
# cblas_dgemm rate for the same shapes.
# One BLAS thread on both sides: the C program calls openblas_set_num_threads(1) (through
# ts_linalg_set_threads); for numpy, which has no threadpoolctl here, OPENBLAS_NUM_THREADS=1 and
# OMP_NUM_THREADS=1 are set before python starts. OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are
# left as the environment has them, so that both sides run the same kernels; they are printed.
# About 2 minutes at the default 5 repeats; X is 600 MB at D = 5000 (one batch at a time).
# The machine may be shared: read the load average printed first, and rerun when it is above
# the core count.
set -eu
BENCH=${1:-build/bench/two_layer}
REPEATS=${2:-5}
PYTHON=${PYTHON:-/usr/bin/python3}
here=$(dirname "$0")
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "load: $(uptime | sed 's/.*load average/load average/')"
echo "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE-(unset)} OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE-(unset)}" \
     "(both sides); numpy: OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1"
"$PYTHON" -c '
import numpy
libs = sorted({l.split()[-1] for l in open("/proc/self/maps") if "blas" in l})
print("numpy", numpy.__version__ + ":", ", ".join(libs) or "no BLAS library mapped")'
"$BENCH" "$REPEATS" > "$dir/c.txt"
OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 "$PYTHON" "$here/two_layer_ref.py" "$REPEATS" \
    > "$dir/numpy.txt"
echo "load: $(uptime | sed 's/.*load average/load average/')"

awk '
    function dim(name) { return match(name, /_d[0-9]+/) ? substr(name, RSTART + 2, RLENGTH - 2) : 0 }
    function ms(x) { return sprintf("%.1f", x * 1e3) }
    # 2 GEMMs of 2 n p D flops each, p = 2, n = 3 D
    function gflops(d, t) { return sprintf("%.2f", 4 * (3 * d) * 2 * d / t / 1e9) }
    # X [n x D] read `reads` times, 8 bytes a double
    function gbs(d, t, reads) { return sprintf("%.1f", reads * (3 * d) * d * 8 / t / 1e9) }
    FNR == NR { c[$1] = $2; order[++n] = $1; next }
    { py[$1] = $2 }
    END {
        printf "%-28s %9s %9s %8s %9s %9s %8s %7s\n", "case", "C ms", "numpy ms", "numpy/C",
               "GEMM ms", "GEMM/C", "GFLOP/s", "GB/s"
        for (k = 1; k <= n; k++) {
            name = order[k]
            if (name !~ /^two_layer/) continue
            d = dim(name)
            gemm = "gemm_d" d
            printf "%-28s %9s %9s %8s %9s %9s %8s %7s\n", name, ms(c[name]),
                   (name in py) ? ms(py[name]) : "-",
                   ((name in py) && c[name] > 0) ? sprintf("%.2f", py[name] / c[name]) : "-",
                   (gemm in c) ? ms(c[gemm]) : "-",
                   ((gemm in c) && c[name] > 0) ? sprintf("%.0f%%", 100 * c[gemm] / c[name]) : "-",
                   gflops(d, c[name]), gbs(d, c[name], 1)
        }
        printf "\nthe step'"'"'s two products alone, and the bounds:\n"
        printf "%-28s %9s %9s %8s %9s %9s %8s %7s\n", "case", "C ms", "numpy ms", "numpy/C",
               "", "", "GFLOP/s", "GB/s"
        for (k = 1; k <= n; k++) {
            name = order[k]
            if (name !~ /^(gemm|read)_d/) continue
            d = dim(name)
            printf "%-28s %9s %9s %8s %9s %9s %8s %7s\n", name, ms(c[name]),
                   (name in py) ? ms(py[name]) : "-",
                   ((name in py) && c[name] > 0) ? sprintf("%.2f", py[name] / c[name]) : "-",
                   "", "", name ~ /^read/ ? "-" : gflops(d, c[name]), gbs(d, c[name], 2)
        }
        if ("dgemm_peak" in c)
            printf "dgemm 1000 x 1000 x 1000 (one core'"'"'s compute peak): %.1f ms, %.1f GFLOP/s\n",
                   c["dgemm_peak"] * 1e3, 2e9 / c["dgemm_peak"] / 1e9
        print "GEMM/C: the two whole-matrix GEMMs (X read twice) against the experiment'"'"'s step,"
        print "which reads X once in cached row blocks (GB/s counts one read of X); read_d: two"
        print "sequential passes summing X."
    }' "$dir/c.txt" "$dir/numpy.txt"
