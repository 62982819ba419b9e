#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "tailsweep/experiment.h"
#include "check_main.h"

START_TEST(every_registered_experiment_is_well_declared)
{
    size_t n = 0;
    for (const ts_experiment *const *x = ts_experiment_list(); *x; x++, n++) {
        ts_error err;
        ts_error_clear(&err);
        int rc = ts_experiment_validate(*x, &err);
        ck_assert_msg(rc == TS_OK, "%s: %s", (*x)->name, err.msg);
        ck_assert_ptr_eq(ts_experiment_find((*x)->name), *x);
    }
    ck_assert_uint_ge(n, 2);
    ck_assert_ptr_null(ts_experiment_find("no_such_experiment"));
}
END_TEST

static ts_status no_run(const ts_point *p, gsl_rng *r, ts_recorder *rec, ts_error *e)
{
    (void)p, (void)r, (void)rec, (void)e;
    return TS_DONE;
}
static double no_cost(const ts_point *p) { (void)p; return 1; }
static size_t no_memory(const ts_point *p) { (void)p; return 1; }

START_TEST(validation_rejects_bad_declarations)
{
    static const ts_param_def out_of_range[] = {
        {"dim", TS_INT, .def.i = 0, .range = "[1, inf)", .unit = "", .doc = "d"}, {0}};
    static const ts_param_def no_steps[] = {
        {"dim", TS_INT, .def.i = 1, .range = "[1, inf)", .unit = "", .doc = "d"}, {0}};
    static const ts_metric_def series[] = {
        {.name = "loss", .kind = TS_SERIES, .unit = "", .doc = "l"}, {0}};
    static const ts_metric_def bad_dim[] = {
        {.name = "m", .kind = TS_SCALAR, .unit = "", .doc = "m", .dims = {"nope"}}, {0}};
    ts_experiment x = {.name = "bad", .summary = "s", .reference = "r", .params = no_steps,
                       .metrics = bad_dim + 1, .cost = no_cost, .memory = no_memory,
                       .run = no_run, .test_points = "params: {}"};
    ts_error err;
    ck_assert_int_ne(ts_experiment_validate(&x, &err), TS_OK);
    ck_assert_ptr_nonnull(strstr(err.msg, "blow-up"));
    x.blowup = (ts_blowup){.quantity = "the loss", .bound = 1e6, .relative = 1};
    x.params = out_of_range;
    ck_assert_int_ne(ts_experiment_validate(&x, &err), TS_OK);
    ck_assert_ptr_nonnull(strstr(err.msg, "dim"));
    x.params = no_steps;
    x.metrics = series;
    ck_assert_int_ne(ts_experiment_validate(&x, &err), TS_OK);
    ck_assert_ptr_nonnull(strstr(err.msg, "steps"));
    x.metrics = bad_dim;
    ck_assert_int_ne(ts_experiment_validate(&x, &err), TS_OK);
    ck_assert_ptr_nonnull(strstr(err.msg, "nope"));
    x.metrics = bad_dim + 1;
    ck_assert_int_eq(ts_experiment_validate(&x, &err), TS_OK);
}
END_TEST

TS_TEST_MAIN("registry",
             every_registered_experiment_is_well_declared,
             validation_rejects_bad_declarations)
