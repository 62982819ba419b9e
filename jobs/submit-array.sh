#!/bin/bash
# Submit a tailsweep sweep as a SLURM job array of N tasks (jobs/array.sbatch), each running one
# slice, plus the job that writes the archive once every task has succeeded (jobs/collect.sbatch,
# --dependency=afterok). Prints both job ids.
#
# usage: jobs/submit-array.sh [sbatch options] SPEC.yaml N [-o OUT]
#   e.g. jobs/submit-array.sh -p short --ntasks=4 --time=1:00:00 sweep.yaml 20 -o /scratch/s.h5
# The sbatch options go to both jobs (the collect job writes with as many ranks, well within the
# time); partition, account and time may also come from SBATCH_PARTITION, SBATCH_ACCOUNT and
# SBATCH_TIMELIMIT. TAILSWEEP and TAILSWEEP_LAUNCHER as in the job scripts.
set -eu
jobs_dir=$(cd "$(dirname "$0")" && pwd)
usage() {
    echo "usage: $0 [sbatch options] SPEC N [-o OUT]" >&2
    exit 2
}
# The last arguments are SPEC N [-o OUT]; everything before them goes to sbatch.
args=("$@")
n=$#
tail=2
if [ "$n" -ge 4 ] && { [ "${args[n - 2]}" = -o ] || [ "${args[n - 2]}" = --output ]; }; then
    tail=4
fi
[ "$n" -ge "$tail" ] || usage
sbatch_options=("${args[@]:0:n - tail}")
spec=${args[n - tail]}
tasks=${args[n - tail + 1]}
output_options=("${args[@]:n - tail + 2}")
case $tasks in '' | *[!0-9]* | 0) usage ;; esac

# ${a[@]+"${a[@]}"}: an empty array under `set -u` in bash before 4.4.
array=$(sbatch --parsable --array="0-$((tasks - 1))" ${sbatch_options[@]+"${sbatch_options[@]}"} \
    "$jobs_dir/array.sbatch" "$spec" ${output_options[@]+"${output_options[@]}"})
array=${array%%;*} # --parsable prints "jobid[;cluster]"
collect=$(sbatch --parsable --dependency="afterok:$array" \
    ${sbatch_options[@]+"${sbatch_options[@]}"} "$jobs_dir/collect.sbatch" "$spec" \
    ${output_options[@]+"${output_options[@]}"})
collect=${collect%%;*}
echo "array job $array ($tasks tasks), collect job $collect (after all tasks succeed)"
