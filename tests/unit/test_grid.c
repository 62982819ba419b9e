#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "tailsweep/grid.h"
#include "tailsweep/rng.h"
#include "check_main.h"

/* synthetic has two numeric parameters that can be swept freely: work and tag, plus steps. */
static ts_grid *grid_3x2_zip2(void)
{
    const ts_experiment *x = ts_experiment_find("synthetic");
    ts_grid *g = ts_grid_alloc(x);
    ts_error err;
    int tag = ts_param_index(x->params, "tag"), work = ts_param_index(x->params, "work");
    int steps = ts_param_index(x->params, "steps");
    ts_value tags[3] = {{.type = TS_REAL, .r = 1}, {.type = TS_REAL, .r = 2},
                        {.type = TS_REAL, .r = 3}};
    ts_value works[2] = {{.type = TS_REAL, .r = 0}, {.type = TS_REAL, .r = 0.5}};
    ck_assert_int_eq(ts_grid_add_axis(g, "tag", 1, &tag, tags, 3, 0, &err), TS_OK);
    ck_assert_int_eq(ts_grid_add_axis(g, "work", 1, &work, works, 2, 0, &err), TS_OK);
    /* A zip group: steps and... steps only varies with itself here, with two params. */
    int zp[1] = {steps};
    ts_value zs[2] = {{.type = TS_INT, .i = 10}, {.type = TS_INT, .i = 20}};
    ck_assert_int_eq(ts_grid_add_axis(g, "zip0", 1, zp, zs, 2, 1, &err), TS_OK);
    g->repeats = 2;
    g->seed = 7;
    return g;
}

START_TEST(points_follow_mixed_radix_order_last_axis_fastest)
{
    ts_grid *g = grid_3x2_zip2();
    ck_assert_uint_eq(g->npoints, 12);
    ck_assert_uint_eq(ts_grid_items(g), 24);
    const ts_experiment *x = g->experiment;
    int tag = ts_param_index(x->params, "tag"), work = ts_param_index(x->params, "work");
    int steps = ts_param_index(x->params, "steps");
    ts_value v[16];
    ts_point p;
    for (uint64_t k = 0; k < g->npoints; k++) {
        size_t c[3];
        ts_grid_coords(g, k, c);
        ck_assert_uint_eq(k, (c[0] * 2 + c[1]) * 2 + c[2]);
        ts_grid_point(g, k, 1, v, &p);
        ck_assert(v[tag].r == (double)(c[0] + 1));
        ck_assert(v[work].r == 0.5 * (double)c[1]);
        ck_assert_int_eq(v[steps].i, 10 * (int64_t)(c[2] + 1));
        ck_assert_uint_eq(p.index, k);
        ck_assert_uint_eq(p.repeat, 1);
        ck_assert_uint_eq(p.seed, 7);
    }
    ck_assert_int_eq(ts_grid_axis_of(g, tag), 0);
    ck_assert_int_eq(ts_grid_axis_of(g, steps), 2);
    ck_assert_int_eq(ts_grid_axis_of(g, ts_param_index(x->params, "outcome")), -1);
    ts_grid_free(g);
}
END_TEST

START_TEST(shared_axes_leave_the_stream_index)
{
    /* axes 3 x 2 x 2 (the zip group last): sharing the middle axis keys point (a, b, c) by
     * a * 2 + c, whatever b; without sharing, the stream index is the canonical index */
    ts_grid *g = grid_3x2_zip2();
    for (uint64_t k = 0; k < g->npoints; k++) ck_assert_uint_eq(ts_grid_stream_of(g, k), k);
    char *before = ts_grid_canonical(g);
    g->axes[1].shared_stream = 1;
    ts_value v[16];
    ts_point p;
    for (uint64_t k = 0; k < g->npoints; k++) {
        size_t c[3];
        ts_grid_coords(g, k, c);
        ts_grid_point(g, k, 0, v, &p);
        ck_assert_uint_eq(p.index, k);
        ck_assert_uint_eq(p.stream, c[0] * 2 + c[2]);
    }
    char *after = ts_grid_canonical(g);
    ck_assert(strstr(before, "shared_streams") == NULL);
    ck_assert_ptr_nonnull(strstr(after, "shared_streams: work"));
    free(before);
    free(after);
    ts_grid_free(g);
}
END_TEST

START_TEST(canonical_text_changes_with_every_ingredient)
{
    ts_grid *a = grid_3x2_zip2(), *b = grid_3x2_zip2();
    char ha[65], hb[65];
    ts_grid_sha256(a, ha);
    ts_grid_sha256(b, hb);
    ck_assert_str_eq(ha, hb);
    ck_assert_uint_eq(strlen(ha), 64);
    b->seed = 8;
    ts_grid_sha256(b, hb);
    ck_assert_str_ne(ha, hb);
    b->seed = 7;
    b->repeats = 3;
    ts_grid_sha256(b, hb);
    ck_assert_str_ne(ha, hb);
    b->repeats = 2;
    b->axes[1].values[1].r = 0.25;
    ts_grid_sha256(b, hb);
    ck_assert_str_ne(ha, hb);
    char *text = ts_grid_canonical(b);
    ck_assert_ptr_nonnull(strstr(text, "sweep.work: [0, 0.25]"));
    ck_assert_ptr_nonnull(strstr(text, "zip0.steps: [10, 20]"));
    ck_assert_ptr_nonnull(strstr(text, "params.outcome: done"));
    ck_assert_ptr_null(strstr(text, "params.tag"));
    char numbers[32]; /* the numbers' generation is part of the identity (rng.h) */
    snprintf(numbers, sizeof numbers, "\nnumbers: %d\n", TS_NUMBERS_VERSION);
    ck_assert_ptr_nonnull(strstr(text, numbers));
    free(text);
    ts_grid_free(a);
    ts_grid_free(b);
}
END_TEST

START_TEST(total_cost_sums_every_run)
{
    ts_grid *g = grid_3x2_zip2();
    /* synthetic's cost is work + 1e-6: 12 points x 2 repeats, half with work 0.5. */
    ck_assert_double_eq_tol(ts_grid_total_cost(g), 2 * (6 * 0.5 + 12 * 1e-6), 1e-12);
    ck_assert_uint_eq(ts_grid_peak_memory(g), 1024);
    ts_grid_free(g);
}
END_TEST

TS_TEST_MAIN("grid",
             points_follow_mixed_radix_order_last_axis_fastest,
             shared_axes_leave_the_stream_index,
             canonical_text_changes_with_every_ingredient,
             total_cost_sums_every_run)
