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
    ts_grid *g = ts_grid_new(x);
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

int main(void)
{
    Suite *s = suite_create("record");
    TCase *tc = tcase_create("record");
    tcase_add_test(tc, log_times_are_strictly_increasing_from_0_to_steps);
    tcase_add_test(tc, log_times_are_geometric_where_integers_allow);
    tcase_add_test(tc, linear_times_are_evenly_spaced);
    tcase_add_test(tc, too_many_records_for_the_steps_is_an_error);
    tcase_add_test(tc, layout_sizes_series_scalars_and_extra_dims);
    suite_add_tcase(s, tc);
    return ts_test_run_suite(s);
}
