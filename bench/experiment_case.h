/* What the experiment benchmarks share (bench/levy_sgd.c, bench/two_layer.c): a case is an
 * experiment's parameters as "name=value" settings (defaults otherwise) and two step counts, and
 * its time per step is the difference of two runs that differ only in `steps`, so that set-up
 * cancels. A program includes it after defining BENCH_PROGRAM (its name, for messages). */
#ifndef TS_BENCH_EXPERIMENT_CASE_H
#define TS_BENCH_EXPERIMENT_CASE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tailsweep/grid.h"
#include "tailsweep/rng.h"
#include "timing.h"

#define BENCH_MAX_SETTINGS 12

typedef struct bench_case {
    const char *name;
    const char *settings[BENCH_MAX_SETTINGS]; /* NULL-terminated (the unused tail is NULL) */
    int64_t steps_small, steps_large;
} bench_case;

/* This is a program, not the library: a bad case table is a bug in the program, reported and
 * fatal. */
static inline void bench_die(const char *what, const char *detail)
{
    fprintf(stderr, "%s: %s: %s\n", BENCH_PROGRAM, what, detail);
    exit(1);
}

/* "log:10" or "linear:10". */
static inline ts_record_rule bench_parse_record(const char *v)
{
    const char *colon = strchr(v, ':');
    if (!colon) bench_die("record wants kind:count", v);
    ts_record_kind kind = strncmp(v, "log", (size_t)(colon - v)) == 0 ? TS_RECORD_LOG
                                                                       : TS_RECORD_LINEAR;
    return (ts_record_rule){kind, atoll(colon + 1)};
}

/* Sets one "name=value" on the grid's base values. */
static inline void bench_set_param(ts_grid *g, const char *setting)
{
    char name[TS_NAME_MAX];
    const char *eq = strchr(setting, '=');
    if (!eq) bench_die("setting without '='", setting);
    snprintf(name, sizeof name, "%.*s", (int)(eq - setting), setting);
    int k = ts_param_index(g->experiment->params, name);
    if (k < 0) bench_die("unknown parameter", name);
    const ts_param_def *def = &g->experiment->params[k];
    const char *v = eq + 1;
    if (def->type == TS_INT) g->base[k].i = atoll(v);
    else if (def->type == TS_REAL) g->base[k].r = atof(v);
    else if (def->type == TS_RECORD) g->base[k].rec = bench_parse_record(v);
    else if (def->type == TS_ENUM) {
        g->base[k].e = ts_param_choice_index(def, v);
        if (g->base[k].e < 0) bench_die("unknown choice", setting);
    } else bench_die("parameter type not settable here", setting);
}

/* One run of the experiment with the case's settings and `steps`; returns its wall time (the run
 * alone: the grid and the recorder are set up outside the clock, the problem's data inside).
 * With scalar non-NULL, also stores the run's value of that scalar metric in *value (a check
 * that the run computed what the benchmark claims). */
static inline double bench_time_run_scalar(const char *experiment, const bench_case *c,
                                           int64_t steps, const char *scalar, double *value)
{
    ts_grid *g = ts_grid_alloc(ts_experiment_find(experiment));
    if (!g) bench_die(c->name, "out of memory");
    for (const char *const *s = c->settings; *s; s++) bench_set_param(g, *s);
    g->base[ts_param_index(g->experiment->params, "steps")].i = steps;
    ts_value *values = calloc(g->nparams + 1, sizeof *values);
    if (!values) bench_die(c->name, "out of memory");
    ts_point p;
    ts_grid_point(g, 0, 0, values, &p);
    ts_error err;
    ts_recorder r;
    if (g->experiment->check && g->experiment->check(&p, &err)) bench_die(c->name, err.msg);
    if (ts_recorder_init(&r, &p, &err)) bench_die(c->name, err.msg);
    gsl_rng *rng = ts_rng_alloc(1, 0, 0);
    double start = bench_now();
    ts_status status = g->experiment->run(&p, rng, &r, &err);
    double elapsed = bench_now() - start;
    if (scalar) {
        int m = ts_metric_index(g->experiment->metrics, scalar);
        if (m < 0) bench_die("unknown metric", scalar);
        *value = *ts_recorder_scalar(&r, m);
    }
    gsl_rng_free(rng);
    ts_recorder_free(&r);
    free(values);
    ts_grid_free(g);
    /* A diverged run stops early and would time fewer steps than it claims. */
    if (status != TS_DONE) bench_die(c->name, status == TS_DIVERGED ? "run diverged" : err.msg);
    return elapsed;
}

static inline double bench_time_run(const char *experiment, const bench_case *c, int64_t steps)
{
    return bench_time_run_scalar(experiment, c, steps, NULL, NULL);
}

/* (median time(large) - median time(small)) / (large - small), the runs alternating so that a
 * burst of load on the shared machine hits both, after one untimed run (the process's first run
 * pays first-use costs: page faults, the BLAS's buffers). */
static inline double bench_seconds_per_step(const char *experiment, const bench_case *c,
                                            int repeats)
{
    double *small = malloc((size_t)repeats * sizeof *small);
    double *large = malloc((size_t)repeats * sizeof *large);
    if (!small || !large) bench_die(c->name, "out of memory");
    bench_time_run(experiment, c, c->steps_small);
    for (int k = 0; k < repeats; k++) {
        small[k] = bench_time_run(experiment, c, c->steps_small);
        large[k] = bench_time_run(experiment, c, c->steps_large);
    }
    double t = (bench_median(large, repeats) - bench_median(small, repeats)) /
               (double)(c->steps_large - c->steps_small);
    free(small);
    free(large);
    return t;
}

#endif
