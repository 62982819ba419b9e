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
#include "timing.h"

#define MAX_SETTINGS 12

/* One benchmark case: the experiment's parameters as "name=value" (defaults otherwise) and the
 * two step counts whose difference is timed. */
typedef struct bench_case {
    const char *name;
    const char *settings[MAX_SETTINGS]; /* NULL-terminated (the unused tail is NULL) */
    int64_t steps_small, steps_large;
} bench_case;

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

/* This is a program, not the library: a bad case table is a bug in this file, reported and
 * fatal. */
static void die(const char *what, const char *detail)
{
    fprintf(stderr, "bench/levy_sgd: %s: %s\n", what, detail);
    exit(1);
}

/* "log:10" or "linear:10". */
static ts_record_rule parse_record(const char *v)
{
    const char *colon = strchr(v, ':');
    if (!colon) die("record wants kind:count", v);
    ts_record_kind kind = strncmp(v, "log", (size_t)(colon - v)) == 0 ? TS_RECORD_LOG
                                                                       : TS_RECORD_LINEAR;
    return (ts_record_rule){kind, atoll(colon + 1)};
}

/* Sets one "name=value" on the grid's base values. */
static void set_param(ts_grid *g, const char *setting)
{
    char name[TS_NAME_MAX];
    const char *eq = strchr(setting, '=');
    if (!eq) die("setting without '='", setting);
    snprintf(name, sizeof name, "%.*s", (int)(eq - setting), setting);
    int k = ts_param_index(g->experiment->params, name);
    if (k < 0) die("unknown parameter", name);
    const ts_param_def *def = &g->experiment->params[k];
    const char *v = eq + 1;
    if (def->type == TS_INT) g->base[k].i = atoll(v);
    else if (def->type == TS_REAL) g->base[k].r = atof(v);
    else if (def->type == TS_RECORD) g->base[k].rec = parse_record(v);
    else if (def->type == TS_ENUM) {
        g->base[k].e = ts_param_choice_index(def, v);
        if (g->base[k].e < 0) die("unknown choice", setting);
    } else die("parameter type not settable here", setting);
}

/* One levy_sgd run with the case's settings and `steps`; returns its wall time (the run alone:
 * the grid and the recorder are set up outside the clock, the problem's data inside). */
static double time_run(const bench_case *c, int64_t steps)
{
    ts_grid *g = ts_grid_alloc(ts_experiment_find("levy_sgd"));
    if (!g) die(c->name, "out of memory");
    for (const char *const *s = c->settings; *s; s++) set_param(g, *s);
    g->base[ts_param_index(g->experiment->params, "steps")].i = steps;
    ts_value values[64];
    if (g->nparams > sizeof values / sizeof *values) die(c->name, "too many parameters");
    ts_point p;
    ts_grid_point(g, 0, 0, values, &p);
    ts_error err;
    ts_recorder r;
    if (g->experiment->check && g->experiment->check(&p, &err)) die(c->name, err.msg);
    if (ts_recorder_init(&r, &p, &err)) die(c->name, err.msg);
    gsl_rng *rng = ts_rng_alloc(1, 0, 0);
    double start = bench_now();
    ts_status status = g->experiment->run(&p, rng, &r, &err);
    double elapsed = bench_now() - start;
    gsl_rng_free(rng);
    ts_recorder_free(&r);
    ts_grid_free(g);
    /* A diverged run stops early and would time fewer steps than it claims. */
    if (status != TS_DONE) die(c->name, status == TS_DIVERGED ? "run diverged" : err.msg);
    return elapsed;
}

/* (median time(large) - median time(small)) / (large - small), the runs alternating so that a
 * burst of load on the shared machine hits both. */
static double seconds_per_step(const bench_case *c, int repeats)
{
    double *small = malloc((size_t)repeats * sizeof *small);
    double *large = malloc((size_t)repeats * sizeof *large);
    if (!small || !large) die(c->name, "out of memory");
    for (int k = 0; k < repeats; k++) {
        small[k] = time_run(c, c->steps_small);
        large[k] = time_run(c, c->steps_large);
    }
    double t = (bench_median(large, repeats) - bench_median(small, repeats)) /
               (double)(c->steps_large - c->steps_small);
    free(small);
    free(large);
    return t;
}

int main(int argc, char **argv)
{
    const char *filter;
    int repeats = bench_args(argc, argv, &filter);
    if (repeats < 1) die("usage", "bench/levy_sgd [repeats >= 1 [filter]]");
    gsl_set_error_handler_off();
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        if (filter && !strstr(cases[k].name, filter)) continue;
        printf("%s %.6e\n", cases[k].name, seconds_per_step(&cases[k], repeats));
        fflush(stdout);
    }
    return 0;
}
