/* Benchmark of the levy_sgd experiment (bench/levy_sgd.sh runs it next to bench/levy_sgd_ref.py):
 *   bench/levy_sgd [repeats [filter]]
 * prints one line per case, "name seconds_per_step" (the median over the repeats), where a step
 * is everything the experiment does per iteration: both dynamics (W with the empirical gradient,
 * Wbar with the population gradient), one alpha-stable noise vector added to both, and the
 * train, test and expected risks, the gap and the distance with their running maxima.
 * Each time is a difference of two runs that differ only in `steps`, so set-up (the n x d data
 * matrix, the labels, the teacher, W0) cancels. Records are sparse ({log: 10}): the experiment
 * computes its risks at every step whatever the record rule, and storing 10 values is free. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gsl/gsl_errno.h>

#include "tailsweep/grid.h"
#include "tailsweep/rng.h"
#define BENCH_PROGRAM "bench/levy_sgd"
#include "experiment_case.h"



/* Shared by every case: the tail index, sparse records. */
#define COMMON "levy_alpha=1.5", "record=log:10"
#define QUADRATIC_100 COMMON, "problem=quadratic", "dim=100", "n_train=100"
#define REGRESSION_1000 COMMON, "problem=linear_regression", "dim=1000", "n_train=1000"

/* Step counts: about 0.1 s of difference per run pair, so that the C part stays well under
 * 20 s at the default 5 repeats. bench/levy_sgd_ref.py lists the same case names. */
static const bench_case cases[] = {
    {"quadratic_d100_iso", {QUADRATIC_100, "noise=isotropic"}, 1000, 11000},
    {"quadratic_d100_coord", {QUADRATIC_100, "noise=coordinate"}, 1000, 11000},
    {"quadratic_d100_sigma0", {QUADRATIC_100, "sigma=0"}, 1000, 11000},
    {"regression_d1000_iso", {REGRESSION_1000, "noise=isotropic"}, 20, 120},
    {"regression_d1000_coord", {REGRESSION_1000, "noise=coordinate"}, 20, 120},
    /* No numpy twin: its population side is a quadrature (levy_sgd_logistic.c). */
    {"logistic_d100_iso", {COMMON, "problem=logistic", "dim=100", "n_train=100"}, 1000, 6000},
};


int main(int argc, char **argv)
{
    const char *filter;
    int repeats = bench_args(argc, argv, &filter);
    if (repeats < 1) bench_die("usage", "bench/levy_sgd [repeats >= 1 [filter]]");
    gsl_set_error_handler_off();
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        if (filter && !strstr(cases[k].name, filter)) continue;
        printf("%s %.6e\n", cases[k].name, bench_seconds_per_step("levy_sgd", &cases[k], repeats));
        fflush(stdout);
    }
    return 0;
}
