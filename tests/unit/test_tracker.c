/* The iteration tracker against a hand-made sequence of values on a declared test experiment:
 * what lands in which record slot, first hits, the final values, and the blow-up rules. */
#include <check.h>
#include <math.h>
#include <stdlib.h>

#include "tailsweep/grid.h"
#include "tailsweep/tracker.h"
#include "check_main.h"

static const double eps_list[] = {0.5, 0.1};
static const ts_param_def params[] = {
    TS_ITERATION_PARAMS(10, TS_RECORD_LOG, 4),
    TS_EPS_PARAM(eps_list, 2, "relative values for the first hits"),
    {0},
};
enum { M_VALUE, M_REL, M_HITS, M_FINAL, M_FINAL_REL, NMETRICS };
static const ts_metric_def metrics[] = {
    [M_VALUE] = {.name = "value", .kind = TS_SERIES, .unit = "", .doc = "v"},
    [M_REL] = {.name = "rel", .kind = TS_SERIES, .unit = "", .doc = "v / v0"},
    [M_HITS] = {.name = "hits", .kind = TS_SCALAR, .unit = "", .doc = "first hits",
                .dims = {"eps"}},
    [M_FINAL] = {.name = "final", .kind = TS_SCALAR, .unit = "", .doc = "v(T)"},
    [M_FINAL_REL] = {.name = "final_rel", .kind = TS_SCALAR, .unit = "", .doc = "rel(T)"},
    [NMETRICS] = {0},
};
static const ts_tracked all = {M_VALUE, M_REL, M_HITS, M_FINAL, M_FINAL_REL};

static ts_experiment experiment(ts_blowup rule)
{
    return (ts_experiment){.name = "tracked", .params = params, .metrics = metrics,
                           .blowup = rule};
}

typedef struct fixture {
    ts_experiment x;
    ts_grid *g;
    ts_value values[8];
    ts_point p;
    ts_recorder r;
    ts_tracker k;
} fixture;

static void setup(fixture *f, ts_blowup rule, double reference)
{
    f->x = experiment(rule);
    f->g = ts_grid_alloc(&f->x);
    ts_grid_point(f->g, 0, 0, f->values, &f->p);
    ts_error err;
    ck_assert_int_eq(ts_recorder_init(&f->r, &f->p, &err), TS_OK);
    ck_assert_int_eq(ts_tracker_init(&f->k, &f->p, &f->r, &all, reference, &err), TS_OK);
}

static void teardown(fixture *f)
{
    ts_recorder_free(&f->r);
    ts_grid_free(f->g);
}

static const ts_blowup loose = {.quantity = "v", .bound = 100, .relative = 1};

START_TEST(records_first_hits_and_final_values_of_a_decreasing_run)
{
    fixture f;
    setup(&f, loose, NAN);
    /* {log: 4} over 10 steps records t = 0, 2, 5, 10 (record.c) */
    ck_assert_int_eq(f.r.times[1], 2);
    ck_assert_int_eq(f.r.times[2], 5);
    for (int64_t t = 0; t <= 10; t++) {
        double v = 8.0 * pow(0.75, (double)t); /* rel 0.75^t: <= 0.5 from t = 3, <= 0.1 from 9 */
        ck_assert_int_eq(ts_tracker_wants(&f.k, t), 1);
        ck_assert_int_eq(ts_tracker_track(&f.k, t, v), TS_DONE);
    }
    const double *value = ts_recorder_series(&f.r, M_VALUE), *rel = ts_recorder_series(&f.r, M_REL);
    int64_t at[] = {0, 2, 5, 10};
    for (int j = 0; j < 4; j++) {
        ck_assert_double_eq(value[j], 8.0 * pow(0.75, (double)at[j]));
        ck_assert_double_eq(rel[j], value[j] / 8.0);
    }
    ck_assert_double_eq(ts_recorder_scalar(&f.r, M_HITS)[0], 3);
    ck_assert_double_eq(ts_recorder_scalar(&f.r, M_HITS)[1], 9);
    ck_assert_double_eq(*ts_recorder_scalar(&f.r, M_FINAL), value[3]);
    ck_assert_double_eq(*ts_recorder_scalar(&f.r, M_FINAL_REL), rel[3]);
    teardown(&f);
}
END_TEST

START_TEST(unreached_eps_stays_nan_and_values_are_wanted_only_at_record_times_after_hits)
{
    fixture f;
    setup(&f, loose, 2.0); /* an explicit reference: rel = v / 2 */
    for (int64_t t = 0; t <= 10; t++) {
        double v = t < 4 ? 2.0 : 0.6; /* rel 0.3: the first eps from t = 4, never the second */
        ck_assert_int_eq(ts_tracker_track(&f.k, t, v), TS_DONE);
    }
    ck_assert_double_eq(ts_recorder_scalar(&f.r, M_HITS)[0], 4);
    ck_assert(isnan(ts_recorder_scalar(&f.r, M_HITS)[1]));
    ck_assert_double_eq(*ts_recorder_scalar(&f.r, M_FINAL_REL), 0.3);
    teardown(&f);

    setup(&f, loose, 1.0);
    ck_assert_int_eq(ts_tracker_track(&f.k, 0, 0.01), TS_DONE); /* both hits at t = 0 */
    ck_assert_int_eq(ts_tracker_wants(&f.k, 1), 0);
    ck_assert_int_eq(ts_tracker_wants(&f.k, 2), 1);
    teardown(&f);
}
END_TEST

START_TEST(relative_rule_diverges_above_bound_times_reference_and_on_nan)
{
    fixture f;
    setup(&f, loose, NAN);
    ck_assert_int_eq(ts_tracker_track(&f.k, 0, 3.0), TS_DONE);
    ck_assert_int_eq(ts_tracker_guard(&f.k, 300.0), TS_DONE);   /* exactly 100 x: kept */
    ck_assert_int_eq(ts_tracker_guard(&f.k, 300.001), TS_DIVERGED);
    ck_assert_int_eq(ts_tracker_track(&f.k, 1, NAN), TS_DIVERGED);
    teardown(&f);
    setup(&f, loose, NAN);
    ck_assert_int_eq(ts_tracker_track(&f.k, 0, 1.0), TS_DONE);
    ck_assert_int_eq(ts_tracker_track(&f.k, 1, 1.0), TS_DONE);
    ck_assert_int_eq(ts_tracker_track(&f.k, 2, INFINITY), TS_DIVERGED);
    /* the record at t = 2 holds the diverged value, and nothing final is claimed */
    ck_assert(isinf(ts_recorder_series(&f.r, M_VALUE)[1]));
    ck_assert(isnan(*ts_recorder_scalar(&f.r, M_FINAL)));
    teardown(&f);
}
END_TEST

START_TEST(absolute_rule_ignores_the_reference)
{
    fixture f;
    setup(&f, (ts_blowup){.quantity = "v", .bound = 5.0}, 1e-9);
    ck_assert_int_eq(ts_tracker_track(&f.k, 0, 4.0), TS_DONE);
    ck_assert_int_eq(ts_tracker_guard(&f.k, 5.0), TS_DONE);
    ck_assert_int_eq(ts_tracker_guard(&f.k, -INFINITY), TS_DIVERGED);
    ck_assert_int_eq(ts_tracker_track(&f.k, 1, 5.5), TS_DIVERGED);
    char text[128];
    ck_assert_str_eq(ts_blowup_describe(&f.k.blowup, text, sizeof text),
                     "v is not finite or above 5");
    teardown(&f);
}
END_TEST

START_TEST(first_hits_without_an_eps_parameter_are_refused)
{
    static const ts_param_def no_eps[] = {TS_ITERATION_PARAMS(10, TS_RECORD_LOG, 4), {0}};
    ts_experiment x = {.name = "no_eps", .params = no_eps, .metrics = metrics, .blowup = loose};
    ts_grid *g = ts_grid_alloc(&x);
    ts_value values[4];
    ts_point p;
    ts_grid_point(g, 0, 0, values, &p);
    ts_recorder r = {0};
    ts_tracker k;
    ts_error err;
    ck_assert_int_eq(ts_tracker_init(&k, &p, &r, &all, NAN, &err), TS_EUSAGE);
    ts_grid_free(g);
}
END_TEST

TS_TEST_MAIN("tracker",
             records_first_hits_and_final_values_of_a_decreasing_run,
             unreached_eps_stays_nan_and_values_are_wanted_only_at_record_times_after_hits,
             relative_rule_diverges_above_bound_times_reference_and_on_nan,
             absolute_rule_ignores_the_reference,
             first_hits_without_an_eps_parameter_are_refused)
