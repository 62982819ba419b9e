#!/bin/sh
# Run bench/variates (C) and bench/variates_ref.py (scipy/numpy) on the same number of draws
# and print each pair with its speed-up (reference ns / our ns). See bench/README.md.
#
# usage: bench/variates.sh [N [REPEATS]]     from the build directory, or with
#        VARIATES=/path/to/bench/variates  PYTHON=/usr/bin/python3
set -eu
here=$(cd "$(dirname "$0")" && pwd)
variates=${VARIATES:-./bench/variates}
python=${PYTHON:-/usr/bin/python3}
n=${1:-1000000}
repeats=${2:-5}

if [ ! -x "$variates" ]; then
    echo "bench/variates.sh: no $variates (run 'make bench/variates' or set VARIATES)" >&2
    exit 2
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== C: $variates $n $repeats"
"$variates" "$n" "$repeats" | tee "$tmp/c"
echo
echo "== Python: $python $here/variates_ref.py $n $repeats"
"$python" "$here/variates_ref.py" "$n" "$repeats" | tee "$tmp/ref"
echo

# pairs: our key, reference key
cat > "$tmp/pairs" <<'EOF'
stable.fill_skew stable.numpy_cms_skew
stable.fill_skew stable.scipy
stable.fill_sym stable.numpy_cms_sym
stable.fill_alpha1 stable.numpy_cms_alpha1
stable.gsl_levy stable.numpy_cms_sym
stable.draw stable.numpy_cms_skew
gauss.fill gauss.numpy
uniform.fill uniform.numpy
zipf.alias_fill_d1000 zipf.choice_d1000
zipf.alias_fill_d1000 zipf.cdf_d1000
zipf.alias_fill64_d1000 zipf.choice64_d1000
zipf.alias_fill_d1000000 zipf.choice_d1000000
zipf.alias_fill_d1000000 zipf.cdf_d1000000
zipf.alias_fill64_d1000000 zipf.choice64_d1000000
zipf.rejection_fill_d1000000 zipf.cdf_d1000000
zipf.alias_fill_d1000000_s1.5 zipf.numpy_zipf_d1000000_s1.5
zipf.rejection_fill_d1000000_s1.5 zipf.numpy_zipf_d1000000_s1.5
EOF

echo "== speed-ups (reference ns per draw / ours; > 1 means ours is faster)"
awk '
    FNR == 1 { file++ }
    file == 1 && $1 !~ /^#/ { ours[$1] = $2 }
    file == 2 && $1 !~ /^#/ { ref[$1] = $2 }
    file == 3 {
        if (!($1 in ours) || !($2 in ref)) { printf "%-30s vs %-30s  (missing)\n", $1, $2; next }
        printf "%-30s %8.2f ns  vs %-30s %8.2f ns  x %6.1f\n", \
            $1, ours[$1], $2, ref[$2], ref[$2] / ours[$1]
    }' "$tmp/c" "$tmp/ref" "$tmp/pairs"
