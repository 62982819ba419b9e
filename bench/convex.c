/* Benchmark of the convex experiment (bench/convex.sh runs it next to bench/convex_ref.py):
 *   bench/convex [repeats [filter]]
 * prints one line per case, "name seconds_per_step setup_seconds final_suboptimality" (medians
 * over the repeats; the last, f(w_T) - f* of one run at bench/convex_ref.py's larger `steps`):
 *   convex_*     one SGD step of the experiment through the library (ts_grid, ts_grid_point,
 *                ts_recorder_init, experiment->run), everything the run does per step: batch_size
 *                row indices (gsl_rng_uniform_int), the rows copied into the batch, the minibatch
 *                loss and gradient (ts_risk_eval: two gemv), + l2 w, its l2 norm, the schedule's
 *                step size (linear decay), the optimizer's step (gd), the step size and the norm
 *                stored for the bound. Each time is the difference of two runs that differ only in
 *                `steps`, so set-up cancels: the data (n x d Gaussians), f* by Newton's method
 *                (the d x d Hessian, Cholesky), the {log: 40} records' full objectives (40 in
 *                either run) and the bound (O(steps), which does not cancel: a few ns a step).
 *                setup_seconds = median run time at the smaller `steps` minus its steps.
 *   risk_*       ts_risk_eval on a batch-sized data set alone (seconds per call): the part of a
 *                step that is the gradient itself.
 * One BLAS thread (ts_linalg_set_threads(1)), as one MPI rank of a sweep runs. */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>

#include "tailsweep/data.h"
#include "tailsweep/grid.h"
#include "tailsweep/linalg.h"
#include "tailsweep/risk.h"
#include "tailsweep/rng.h"
#include "tailsweep/variates.h"
#define BENCH_PROGRAM "bench/convex"
#include "experiment_case.h"

/* Shared by every case: the experiment's defaults otherwise (condition number 100, l2 1e-3,
 * step size 0.1, gd, {log: 40} records), the paper's linear decay. */
#define COMMON "schedule=linear_decay", "record=log:40"
#define SMALL COMMON, "dim=100", "n_train=1000", "batch_size=8"
#define LARGE COMMON, "dim=1000", "n_train=1000", "batch_size=64"

/* Step counts: about 1 s of difference per run pair on this machine. bench/convex_ref.py lists
 * the same case names (with its own step counts: numpy's step is slower); check_steps below are
 * its larger counts. */
static const bench_case cases[] = {
    {"convex_least_squares_d100_b8", {SMALL, "problem=least_squares"}, 200000, 2200000},
    {"convex_logistic_d100_b8", {SMALL, "problem=logistic"}, 200000, 2200000},
    {"convex_least_squares_d1000_b64", {LARGE, "problem=least_squares"}, 2000, 42000},
    {"convex_logistic_d1000_b64", {LARGE, "problem=logistic"}, 2000, 42000},
    /* no numpy twin: two passes and the median refinement (O(T log T)) in between */
    {"convex_refined_least_squares_d100_b8",
     {SMALL, "problem=least_squares", "schedule=refined"}, 100000, 600000},
};

/* The run lengths at which both sides report f(w_T) - f*, per case (bench/convex_ref.py's
 * larger step counts); 0: none. */
static const int64_t check_steps[] = {110000, 110000, 21000, 21000, 0};
_Static_assert(sizeof check_steps / sizeof *check_steps == sizeof cases / sizeof *cases,
               "one check_steps entry per case");

/* bench_seconds_per_step, also returning the set-up (the median time of the small runs less
 * their steps at the measured rate) and the final suboptimality f(w_T) - f* of the untimed first
 * run, made at check steps (the check that the runs optimise as the numpy ones do:
 * bench/convex_ref.py prints its own at the same T; the streams differ). */
static double seconds_per_step(const bench_case *c, int64_t check, int repeats, double *setup,
                               double *final)
{
    double *small = malloc((size_t)repeats * sizeof *small);
    double *large = malloc((size_t)repeats * sizeof *large);
    if (!small || !large) bench_die(c->name, "out of memory");
    *final = NAN;
    bench_time_run_scalar("convex", c, check ? check : c->steps_small, "final_suboptimality",
                          final);
    if (!check) *final = NAN;
    for (int k = 0; k < repeats; k++) {
        small[k] = bench_time_run("convex", c, c->steps_small);
        large[k] = bench_time_run("convex", c, c->steps_large);
    }
    double ms = bench_median(small, repeats), ml = bench_median(large, repeats);
    double t = (ml - ms) / (double)(c->steps_large - c->steps_small);
    *setup = ms - t * (double)c->steps_small;
    free(small);
    free(large);
    return t;
}

/* ts_risk_eval on a batch of b Gaussian rows of length d, seconds per call. */
static double risk_seconds(ts_loss loss, size_t d, size_t b, int repeats)
{
    ts_dataset s;
    ts_error err;
    if (ts_dataset_init(&s, b, d, &err)) bench_die("risk", err.msg);
    double *w = malloc(d * sizeof *w), *g = malloc(d * sizeof *g);
    double *t = malloc((size_t)repeats * sizeof *t);
    if (!w || !g || !t) bench_die("risk", "out of memory");
    gsl_rng *rng = ts_rng_alloc(5, d, b);
    ts_gaussian_fill(rng, 1.0, s.x, b * d);
    ts_gaussian_fill(rng, 1.0, s.y, b);
    ts_gaussian_fill(rng, 1.0 / sqrt((double)d), w, d);
    gsl_rng_free(rng);
    long calls = (long)(2e8 / (double)(b * d)) + 1; /* about 0.1 s */
    double sink = 0;
    for (int k = 0; k < repeats; k++) {
        double start = bench_now();
        for (long i = 0; i < calls; i++) sink += ts_risk_eval(loss, &s, w, g);
        t[k] = (bench_now() - start) / (double)calls;
    }
    if (!isfinite(sink + g[0])) fprintf(stderr, "%s: risk not finite\n", BENCH_PROGRAM);
    double median = bench_median(t, repeats);
    ts_dataset_free(&s);
    free(w), free(g), free(t);
    return median;
}

int main(int argc, char **argv)
{
    const char *filter;
    int repeats = bench_args(argc, argv, &filter);
    gsl_set_error_handler_off();
    ts_linalg_set_threads(1);
    fprintf(stderr, "bench/convex: %s, %d thread\n", ts_linalg_blas_name(), ts_linalg_threads());
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        if (filter && !strstr(cases[k].name, filter)) continue;
        double setup, final;
        double t = seconds_per_step(&cases[k], check_steps[k], repeats, &setup, &final);
        printf("%s %.6e %.6e %.3e\n", cases[k].name, t, setup, final);
        fflush(stdout);
    }
    static const struct {
        const char *name;
        ts_loss loss;
        size_t d, b;
    } risks[] = {
        {"risk_least_squares_d100_b8", TS_LOSS_SQUARED, 100, 8},
        {"risk_logistic_d100_b8", TS_LOSS_LOGISTIC, 100, 8},
        {"risk_least_squares_d1000_b64", TS_LOSS_SQUARED, 1000, 64},
        {"risk_logistic_d1000_b64", TS_LOSS_LOGISTIC, 1000, 64},
    };
    for (size_t k = 0; k < sizeof risks / sizeof *risks; k++) {
        if (filter && !strstr(risks[k].name, filter)) continue;
        printf("%s %.6e - -\n", risks[k].name,
               risk_seconds(risks[k].loss, risks[k].d, risks[k].b, repeats));
        fflush(stdout);
    }
    return 0;
}
