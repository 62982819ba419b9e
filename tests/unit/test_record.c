#include <check.h>
#include <math.h>
#include <stdlib.h>

#include "tailsweep/experiment.h"
#include "tailsweep/grid.h"
#include "tailsweep/record.h"
#include "check_main.h"

static void assert_valid_times(ts_record_rule rule, int64_t steps)
{
    int64_t *t = malloc((size_t)rule.count * sizeof *t);
    ts_error err;
    ck_assert_int_eq(ts_record_times(rule, steps, t, &err), TS_OK);
    ck_assert_int_eq(t[0], 0);
    ck_assert_int_eq(t[rule.count - 1], steps);
    for (int64_t k = 1; k < rule.count; k++) ck_assert_int_lt(t[k - 1], t[k]);
    free(t);
}

START_TEST(log_times_are_strictly_increasing_from_0_to_steps)
{
    static const int64_t counts[] = {2, 3, 10, 50, 100, 1000};
    static const int64_t steps[] = {1, 9, 99, 100, 1000, 123457, 10000000000LL};
    for (size_t i = 0; i < sizeof counts / sizeof *counts; i++)
        for (size_t j = 0; j < sizeof steps / sizeof *steps; j++)
            if (steps[j] >= counts[i] - 1) {
                assert_valid_times((ts_record_rule){TS_RECORD_LOG, counts[i]}, steps[j]);
                assert_valid_times((ts_record_rule){TS_RECORD_LINEAR, counts[i]}, steps[j]);
            }
}
END_TEST

START_TEST(log_times_are_geometric_where_integers_allow)
{
    /* With few records over many steps nothing collides: t_k = round(T^(k/(n-1))). */
    int64_t t[7];
    ts_error err;
    ck_assert_int_eq(ts_record_times((ts_record_rule){TS_RECORD_LOG, 7}, 1000000, t, &err), 0);
    for (int k = 1; k < 7; k++) ck_assert_int_eq(t[k], llround(pow(10.0, k)));
}
END_TEST

START_TEST(linear_times_are_evenly_spaced)
{
    int64_t t[11];
    ts_error err;
    ck_assert_int_eq(ts_record_times((ts_record_rule){TS_RECORD_LINEAR, 11}, 1000, t, &err), 0);
    for (int k = 0; k < 11; k++) ck_assert_int_eq(t[k], 100 * k);
}
END_TEST

START_TEST(too_many_records_for_the_steps_is_an_error)
{
    int64_t t[12];
    ts_error err;
    ck_assert_int_eq(ts_record_times((ts_record_rule){TS_RECORD_LOG, 12}, 10, t, &err), TS_EUSAGE);
    ck_assert_int_eq(ts_record_times((ts_record_rule){TS_RECORD_LOG, 1}, 10, t, &err), TS_EUSAGE);
    ck_assert_int_eq(ts_record_times((ts_record_rule){TS_RECORD_LOG, 11}, 10, t, &err), TS_OK);
}
END_TEST

START_TEST(layout_sizes_series_scalars_and_extra_dims)
{
    /* quadratic: loss, theory_loss (series), steps_to_eps [eps], final_loss (scalars). */
    const ts_experiment *x = ts_experiment_find("quadratic");
    ck_assert_ptr_nonnull(x);
    ts_grid *g = ts_grid_alloc(x);
    int rec = ts_param_index(x->params, "record");
    g->base[rec].rec.count = 7;
    ts_value values[32];
    ts_point p;
    ts_grid_point(g, 0, 0, values, &p);
    ts_recorder r;
    ts_error err;
    ck_assert_int_eq(ts_recorder_init(&r, &p, &err), TS_OK);
    size_t neps;
    ts_point_list(&p, "eps", &neps);
    ck_assert_uint_eq(r.layout.nrecords, 7);
    ck_assert_uint_eq(r.layout.total, 7 + 7 + neps + 1);
    ck_assert_uint_eq(r.layout.offset[1], 7);
    ck_assert_uint_eq(r.layout.offset[2], 14);
    ck_assert_uint_eq(r.layout.extent[2], neps);
    ck_assert_uint_eq(r.layout.offset[3], 14 + neps);
    for (size_t k = 0; k < r.layout.total; k++) ck_assert(isnan(r.values[k]));
    ts_recorder_free(&r);
    ts_grid_free(g);
}
END_TEST

/* A declared experiment with a width-sized series and a [width, width2] scalar, for padding. */
static const ts_param_def padded_params[] = {
    {"width", TS_INT, .def.i = 2, .range = "[1, inf)", .unit = "", .doc = "w"},
    {"steps", TS_INT, .def.i = 4, .range = "[1, inf)", .unit = "", .doc = "T"},
    {"record", TS_RECORD, .def.rec = {TS_RECORD_LINEAR, 3}, .unit = "", .doc = "r"},
    {0},
};
static const ts_metric_def padded_metrics[] = {
    {.name = "a", .kind = TS_SERIES, .unit = "", .doc = "a", .dims = {"unit:width"}},
    {.name = "b", .kind = TS_SCALAR, .unit = "", .doc = "b",
     .dims = {"unit:width", "other:width"}},
    {.name = "c", .kind = TS_SCALAR, .unit = "", .doc = "c"},
    {0},
};

START_TEST(a_smaller_run_is_padded_into_the_larger_layout_with_nan)
{
    ts_experiment x = {.name = "padded", .params = padded_params, .metrics = padded_metrics};
    ts_grid *g = ts_grid_alloc(&x);
    ts_value values[4];
    ts_point p;
    ts_grid_point(g, 0, 0, values, &p);
    ts_layout small, large;
    ts_error err;
    ck_assert_int_eq(ts_layout_init(&small, &x, &p, &err), TS_OK); /* width 2 */
    values[0].i = 3;
    ck_assert_int_eq(ts_layout_init(&large, &x, &p, &err), TS_OK); /* width 3 */
    ck_assert(!ts_layout_same(&small, &large) && ts_layout_same(&large, &large));
    ck_assert_uint_eq(small.total, 2 * 3 + 2 * 2 + 1);
    ck_assert_uint_eq(large.total, 3 * 3 + 3 * 3 + 1);
    ck_assert_uint_eq(large.shape[1][0], 3);
    ck_assert_uint_eq(large.shape[1][1], 3);
    ck_assert_uint_eq(large.shape[1][2], 1);
    double src[11], dst[19];
    for (int k = 0; k < 11; k++) src[k] = k + 1;
    ts_layout_pad(&small, &large, src, dst);
    /* a [unit, record]: rows 0 and 1 copied, row 2 NaN */
    for (int k = 0; k < 6; k++) ck_assert_double_eq(dst[k], src[k]);
    for (int k = 6; k < 9; k++) ck_assert(isnan(dst[k]));
    /* b [unit, other]: src 7 8 / 9 10 lands at (0,0) (0,1) (1,0) (1,1) of a 3 x 3 block */
    const double *b = dst + 9;
    ck_assert(b[0] == 7 && b[1] == 8 && isnan(b[2]) && b[3] == 9 && b[4] == 10);
    ck_assert(isnan(b[5]) && isnan(b[6]) && isnan(b[7]) && isnan(b[8]));
    ck_assert_double_eq(dst[18], 11); /* c */
    ts_layout_free(&small);
    ts_layout_free(&large);
    ts_grid_free(g);
}
END_TEST

START_TEST(the_grid_layout_takes_the_largest_swept_size)
{
    ts_experiment x = {.name = "padded", .params = padded_params, .metrics = padded_metrics};
    ts_grid *g = ts_grid_alloc(&x);
    ts_value widths[3] = {
        {.type = TS_INT, .i = 4}, {.type = TS_INT, .i = 7}, {.type = TS_INT, .i = 1}};
    int param = 0;
    ts_error err;
    ck_assert_int_eq(ts_grid_add_axis(g, "width", 1, &param, widths, 3, 0, &err), TS_OK);
    ts_layout l;
    ck_assert_int_eq(ts_grid_layout(g, &l, &err), TS_OK);
    ck_assert_uint_eq(l.shape[0][0], 7);
    ck_assert_uint_eq(l.total, 7 * 3 + 7 * 7 + 1);
    ts_layout_free(&l);
    ts_grid_free(g);
}
END_TEST

TS_TEST_MAIN("record",
             log_times_are_strictly_increasing_from_0_to_steps,
             log_times_are_geometric_where_integers_allow,
             linear_times_are_evenly_spaced,
             too_many_records_for_the_steps_is_an_error,
             layout_sizes_series_scalars_and_extra_dims,
             a_smaller_run_is_padded_into_the_larger_layout_with_nan,
             the_grid_layout_takes_the_largest_swept_size)
