/* Benchmark of the bigram experiment (bench/bigram.sh runs it next to bench/bigram_ref.py):
 *   bench/bigram [repeats [filter]]
 * prints one line per case, "name seconds" (the median over the repeats), for:
 *   exact_gd_record / exact_sign_record   one closed-form evaluation at a record time, d = 10^6
 *                                         (sign: averaged over record times spread on [0, T])
 *   full_gd_step / full_sign_step         one step of the d x d matrix with its loss, d = 2000
 *   sampled_step_2000 / _10000            one batch-64 SGD step (loss at record times only)
 *   sampled_step_loss_2000                the same with the population loss at every step
 *   sampled_sign_step_2000                one batch-64 sign-SGD step (dense column updates)
 *   triad_1e6 / triad_4e6                 a[i] = b[i] + s c[i] over arrays of d and d^2 doubles
 * Each experiment time is a difference of two runs that differ only in the number of records
 * (exact) or of steps (full, sampled), so set-up (the Zipf table, the permutations, allocating
 * W) cancels. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gsl/gsl_errno.h>

#include "tailsweep/grid.h"
#include "tailsweep/rng.h"
#include "timing.h"

/* One bigram run described by "name=value" settings; returns its wall time, or a negative
 * value when it did not finish (the message goes to stderr: this is a program, not the
 * library). */
static double time_run(const char *const *settings)
{
    ts_grid *g = ts_grid_alloc(ts_experiment_find("bigram"));
    static const double never[] = {1e-300}, early[] = {0.999};
    for (const char *const *s = settings; *s; s++) {
        char name[64];
        const char *eq = strchr(*s, '=');
        snprintf(name, sizeof name, "%.*s", (int)(eq - *s), *s);
        int k = ts_param_index(g->experiment->params, name);
        const ts_param_def *def = &g->experiment->params[k];
        const char *v = eq + 1;
        if (def->type == TS_INT) g->base[k].i = atoll(v);
        else if (def->type == TS_REAL) g->base[k].r = atof(v);
        else if (def->type == TS_ENUM) g->base[k].e = ts_param_choice_index(def, v);
        else if (def->type == TS_RECORD)
            g->base[k].rec = (ts_record_rule){TS_RECORD_LINEAR, atoll(v)};
        else if (def->type == TS_REAL_LIST) { /* eps=never: no run reaches it; eps=early */
            g->base[k].list = strcmp(v, "never") == 0 ? never : early;
            g->base[k].n = 1;
        }
    }
    ts_value values[64];
    ts_point p;
    ts_grid_point(g, 0, 0, values, &p);
    ts_recorder r;
    ts_error err;
    if (ts_recorder_init(&r, &p, &err)) {
        fprintf(stderr, "bench: %s\n", err.msg);
        exit(1);
    }
    gsl_rng *rng = ts_rng_alloc(1, 0, 0);
    double start = bench_now();
    ts_status status = g->experiment->run(&p, rng, &r, &err);
    double elapsed = bench_now() - start;
    if (status != TS_DONE)
        fprintf(stderr, "bench: run ended with status %d: %s\n", status, err.msg);
    gsl_rng_free(rng);
    ts_recorder_free(&r);
    ts_grid_free(g);
    return status == TS_DONE ? elapsed : -1;
}

/* (median time(large) - median time(small)) / units, the runs alternating. */
static double per_unit(const char *const *small, const char *const *large, double units,
                       int repeats)
{
    double *a = malloc((size_t)repeats * sizeof *a), *b = malloc((size_t)repeats * sizeof *b);
    for (int k = 0; k < repeats; k++) {
        a[k] = time_run(small);
        b[k] = time_run(large);
    }
    double t = (bench_median(b, repeats) - bench_median(a, repeats)) / units;
    free(a);
    free(b);
    return t;
}

static double triad(size_t n, int repeats)
{
    double *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b), *c = malloc(n * sizeof *c);
    for (size_t i = 0; i < n; i++) {
        a[i] = 0;
        b[i] = (double)i;
        c[i] = 1.0 / (double)(i + 1);
    }
    double *x = malloc((size_t)repeats * 20 * sizeof *x), s = 0.5;
    for (int k = 0; k < repeats * 20; k++) {
        double start = bench_now();
        for (size_t i = 0; i < n; i++) a[i] = b[i] + s * c[i];
        x[k] = bench_now() - start;
        s = a[n / 2] * 1e-300 + 0.5; /* keeps the loop from being hoisted */
    }
    double m = bench_median(x, repeats * 20);
    free(a);
    free(b);
    free(c);
    free(x);
    return m;
}

#define RUN(...) ((const char *const[]){__VA_ARGS__, NULL})
#define EXACT_GD "dim=1000000", "steps=100000", "eps=never"
#define EXACT_SIGN "dim=1000000", "optimizer=sign", "step_rule=phi", "phi=2", "steps=100000", \
                   "eps=never"
#define FULL "mode=full", "dim=2000", "record=2"
#define SAMPLED "mode=sampled", "step_rule=explicit", "step_size=0.3", "record=2"
#define SAMPLED_SIGN "mode=sampled", "optimizer=sign", "step_rule=explicit", "step_size=0.001", \
                     "record=2"

static int wanted(const char *name, const char *filter)
{
    return filter == NULL || strstr(name, filter) != NULL;
}

static void report(const char *name, double seconds)
{
    printf("%s %.6e\n", name, seconds);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    const char *filter;
    int repeats = bench_args(argc, argv, &filter);
    gsl_set_error_handler_off();
    /* exact: 2 vs 2002 record times at d = 10^6 (sign: 2 vs 50002, a record costs O(moving
     * entries + log d)); eps is never reached, which costs one evaluation (GD) or one
     * O(d + steps) scan (sign) in both runs */
    if (wanted("exact_gd_record", filter))
        report("exact_gd_record", per_unit(RUN(EXACT_GD, "record=2"),
                                           RUN(EXACT_GD, "record=2002"), 2000, repeats));
    if (wanted("exact_sign_record", filter))
        report("exact_sign_record", per_unit(RUN(EXACT_SIGN, "record=2"),
                                             RUN(EXACT_SIGN, "record=50002"), 50000, repeats));
    /* full: 4 vs 24 steps at d = 2000 (32 MB of W, 32 MB of targets) */
    if (wanted("full_gd_step", filter))
        report("full_gd_step", per_unit(RUN(FULL, "steps=4"), RUN(FULL, "steps=24"), 20,
                                        repeats));
    if (wanted("full_sign_step", filter))
        report("full_sign_step",
               per_unit(RUN(FULL, "optimizer=sign", "step_rule=phi", "steps=4"),
                        RUN(FULL, "optimizer=sign", "step_rule=phi", "steps=24"), 20, repeats));
    /* sampled: batch 64, 1000 vs 21000 steps; eps = 0.999 is reached at once, after which the
     * population loss is computed at the record times only; eps = never keeps it every step.
     * Plain SGD steps cost O(B), not O(B d) (a lazy scale per column): 1000 vs 201000 steps,
     * so that the difference stands well above the set-up's noise. */
    if (wanted("sampled_step_2000", filter))
        report("sampled_step_2000",
               per_unit(RUN(SAMPLED, "dim=2000", "eps=early", "steps=1000"),
                        RUN(SAMPLED, "dim=2000", "eps=early", "steps=201000"), 200000,
                        repeats));
    if (wanted("sampled_sign_step_2000", filter))
        report("sampled_sign_step_2000",
               per_unit(RUN(SAMPLED_SIGN, "dim=2000", "eps=early", "steps=1000"),
                        RUN(SAMPLED_SIGN, "dim=2000", "eps=early", "steps=21000"), 20000,
                        repeats));
    if (wanted("sampled_step_loss_2000", filter))
        report("sampled_step_loss_2000",
               per_unit(RUN(SAMPLED, "dim=2000", "eps=never", "steps=1000"),
                        RUN(SAMPLED, "dim=2000", "eps=never", "steps=21000"), 20000, repeats));
    if (wanted("sampled_step_10000", filter))
        report("sampled_step_10000",
               per_unit(RUN(SAMPLED, "dim=10000", "eps=early", "steps=1000"),
                        RUN(SAMPLED, "dim=10000", "eps=early", "steps=201000"), 200000,
                        repeats));
    if (wanted("triad_1e6", filter)) report("triad_1e6", triad(1000000, repeats));
    if (wanted("triad_4e6", filter)) report("triad_4e6", triad(4000000, repeats));
    return 0;
}
