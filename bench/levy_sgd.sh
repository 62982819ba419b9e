#!/bin/sh
# Benchmark of the levy_sgd experiment against numpy (issue 5):
#   bench/levy_sgd.sh [path/to/bench/levy_sgd] [repeats]        (from the repository root)
# Runs bench/levy_sgd (C, the library's code path) and bench/levy_sgd_ref.py (the same step in
# numpy, Debian's /usr/bin/python3), each printing the median time per step, and prints per case:
#   C us/step; numpy us/step with scipy's levy_stable for the noise, and numpy / C; numpy us/step
#   with a vectorised numpy Chambers-Mallows-Stuck for the noise, and numpy / C; C steps/s.
# A step is both dynamics (W, and Wbar with the same noise draw), the train, test and expected
# risks, the gap, the distance and their maxima. Before timing, levy_sgd_ref.py --check tests
# that both numpy samplers draw the C code's noise laws. The machine may be shared: repeat,
# read the medians, and note the load average printed first.
set -eu
BENCH=${1:-build/bench/levy_sgd}
REPEATS=${2:-5}
PYTHON=${PYTHON:-/usr/bin/python3}
here=$(dirname "$0")
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

echo "load: $(uptime | sed 's/.*load average/load average/')"
printf 'numpy noise samplers follow the C laws: '
"$PYTHON" "$here/levy_sgd_ref.py" --check
"$BENCH" "$REPEATS" > "$dir/c.txt"
"$PYTHON" "$here/levy_sgd_ref.py" "$REPEATS" > "$dir/numpy.txt"

awk '
    function us(x) { return sprintf("%.1f", x * 1e6) }
    function ratio(x, base) { return base > 0 ? sprintf("%.1f", x / base) : "-" }
    FNR == NR { c[$1] = $2; order[++n] = $1; next }
    { py[$1] = $2 }
    END {
        printf "%-24s %9s %13s %7s %13s %7s %9s\n", "case", "C us", "numpy(scipy)",
               "ratio", "numpy(CMS)", "ratio", "C step/s"
        for (k = 1; k <= n; k++) {
            name = order[k]
            scipy = name ".scipy"
            cms = name ".cms"
            printf "%-24s %9s %13s %7s %13s %7s %9.0f\n", name, us(c[name]),
                   (scipy in py) ? us(py[scipy]) : "-",
                   (scipy in py) ? ratio(py[scipy], c[name]) : "-",
                   (cms in py) ? us(py[cms]) : "-",
                   (cms in py) ? ratio(py[cms], c[name]) : "-",
                   (c[name] > 0) ? 1 / c[name] : 0
        }
    }' "$dir/c.txt" "$dir/numpy.txt"
