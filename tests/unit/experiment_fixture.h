/* The experiment test kit: one run of an experiment from the registry, set up the way the engine
 * sets it up (a grid with every parameter at its default, the point, a recorder, the run's
 * stream keyed by (seed, point, repeat, substream 0)), so that an experiment's test states only
 * what it changes and what it asserts:
 *
 *     tf_run *x = tf_new("quadratic", 2025);
 *     tf_set_int(x, "dim", 200);
 *     ck_assert_int_eq(tf_go(x, 0), TS_DONE);
 *     double *loss = tf_series(x, "loss");
 *     tf_free(x);
 *
 * Header-only (static inline), so a new test is one line in Makefile.am. */
#ifndef TS_TEST_EXPERIMENT_FIXTURE_H
#define TS_TEST_EXPERIMENT_FIXTURE_H

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "tailsweep/experiment.h"
#include "tailsweep/grid.h"
#include "tailsweep/rng.h"

#include "check_main.h"

typedef struct tf_run {
    ts_grid *g;
    ts_value *values; /* [g->nparams]: the point's values */
    ts_point p;
    ts_recorder r;
    gsl_rng *rng;
    ts_status status;
    ts_error err;
} tf_run;

static inline tf_run *tf_new(const char *experiment, uint64_t seed)
{
    const ts_experiment *x = ts_experiment_find(experiment);
    ck_assert_msg(x != NULL, "no experiment %s", experiment);
    tf_run *f = calloc(1, sizeof *f);
    f->g = ts_grid_alloc(x);
    ck_assert_ptr_nonnull(f->g);
    f->g->seed = seed;
    f->values = calloc(f->g->nparams + 1, sizeof *f->values);
    return f;
}

static inline void tf_free(tf_run *f)
{
    ts_recorder_free(&f->r);
    if (f->rng) gsl_rng_free(f->rng);
    ts_grid_free(f->g);
    free(f->values);
    free(f);
}

/* The parameter's base value (what every run of the fixture gets). */
static inline ts_value *tf_param(tf_run *f, const char *name)
{
    int k = ts_param_index(f->g->experiment->params, name);
    ck_assert_msg(k >= 0, "%s has no parameter %s", f->g->experiment->name, name);
    return &f->g->base[k];
}

static inline void tf_set_real(tf_run *f, const char *name, double v)
{
    ts_value *value = tf_param(f, name);
    ck_assert_msg(value->type == TS_REAL, "%s is not a real parameter", name);
    value->r = v;
}

static inline void tf_set_int(tf_run *f, const char *name, int64_t v)
{
    ts_value *value = tf_param(f, name);
    ck_assert_msg(value->type == TS_INT, "%s is not an int parameter", name);
    value->i = v;
}

static inline void tf_set_choice(tf_run *f, const char *name, const char *choice)
{
    ts_value *value = tf_param(f, name);
    const ts_param_def *def = &f->g->experiment->params[value - f->g->base];
    value->e = ts_param_choice_index(def, choice);
    ck_assert_msg(value->e >= 0, "%s is not a choice of %s", choice, name);
}

/* The list is borrowed: it must outlive the fixture's runs. */
static inline void tf_set_list(tf_run *f, const char *name, const double *list, size_t n)
{
    ts_value *value = tf_param(f, name);
    ck_assert_msg(value->type == TS_REAL_LIST, "%s is not a list parameter", name);
    value->list = list;
    value->n = n;
}

/* count is clipped to steps + 1, the most record times the run has. */
static inline void tf_set_record(tf_run *f, ts_record_kind kind, int64_t count)
{
    int64_t steps = tf_param(f, "steps")->i;
    ts_value *rec = tf_param(f, "record");
    rec->rec.kind = kind;
    rec->rec.count = count > steps + 1 ? steps + 1 : count;
}

/* Runs point 0 with this repeat on a fresh recorder; the status is also kept in f->status and
 * a failure's message in f->err. */
static inline ts_status tf_go(tf_run *f, uint32_t repeat)
{
    ts_grid_point(f->g, 0, repeat, f->values, &f->p);
    ts_recorder_free(&f->r);
    ck_assert_msg(ts_recorder_init(&f->r, &f->p, &f->err) == TS_OK, "recorder: %s", f->err.msg);
    if (!f->rng) f->rng = ts_rng_alloc(f->g->seed, 0, repeat);
    ts_rng_key(f->rng, f->g->seed, 0, repeat, 0);
    ts_error_clear(&f->err);
    f->status = f->g->experiment->run(&f->p, f->rng, &f->r, &f->err);
    return f->status;
}

/* As tf_go, failing the test (with the run's message) unless the run is done or diverged. */
static inline ts_status tf_go_ok(tf_run *f, uint32_t repeat)
{
    ts_status s = tf_go(f, repeat);
    ck_assert_msg(s == TS_DONE || s == TS_DIVERGED, "%s failed: %s", f->g->experiment->name,
                  f->err.msg);
    return s;
}

static inline int tf_metric(const tf_run *f, const char *name)
{
    int k = ts_metric_index(f->g->experiment->metrics, name);
    ck_assert_msg(k >= 0, "%s has no metric %s", f->g->experiment->name, name);
    return k;
}

/* A metric's block in the last run: [extra..., record] for a series, [extra...] for a scalar.
 * Valid until the next tf_go on f, which starts a fresh recorder. */
static inline double *tf_values(tf_run *f, const char *name)
{
    return f->r.values + f->r.layout.offset[tf_metric(f, name)];
}
static inline size_t tf_nrecords(const tf_run *f) { return f->r.layout.nrecords; }
/* The last record of a series without extra dimensions. */
static inline double tf_last(tf_run *f, const char *name)
{
    return tf_values(f, name)[tf_nrecords(f) - 1];
}

#endif
