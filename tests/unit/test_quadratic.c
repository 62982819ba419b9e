/* The quadratic experiment against its exact closed form and the law of its initial loss. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tailsweep/grid.h"
#include "tailsweep/rng.h"
#include "check_main.h"

enum { M_LOSS, M_THEORY, M_STEPS_TO_EPS, M_FINAL };

typedef struct fixture {
    ts_grid *g;
    ts_value values[16];
    ts_point p;
    ts_recorder r;
    gsl_rng *rng;
} fixture;

static void set_real(ts_grid *g, const char *name, double x)
{
    g->base[ts_param_index(g->experiment->params, name)].r = x;
}

static void set_int(ts_grid *g, const char *name, int64_t x)
{
    g->base[ts_param_index(g->experiment->params, name)].i = x;
}

static void set_choice(ts_grid *g, const char *name, const char *choice)
{
    int k = ts_param_index(g->experiment->params, name);
    g->base[k].e = ts_param_choice_index(&g->experiment->params[k], choice);
}

static fixture *setup(int64_t dim, double s, double b, double eta, int64_t steps,
                      const char *mode)
{
    fixture *f = calloc(1, sizeof *f);
    f->g = ts_grid_new(ts_experiment_find("quadratic"));
    set_int(f->g, "dim", dim);
    set_real(f->g, "spectrum_exponent", s);
    set_real(f->g, "target_exponent", b);
    set_real(f->g, "step_size", eta);
    set_int(f->g, "steps", steps);
    set_choice(f->g, "mode", mode);
    ts_value *rec = &f->g->base[ts_param_index(f->g->experiment->params, "record")];
    if (rec->rec.count > steps + 1) rec->rec.count = steps + 1;
    f->g->seed = 2025;
    ts_grid_point(f->g, 0, 0, f->values, &f->p);
    ts_error err;
    ck_assert_int_eq(ts_recorder_init(&f->r, &f->p, &err), TS_OK);
    f->rng = ts_rng_new(2025, 0, 0);
    return f;
}

static ts_status run(fixture *f, uint64_t repeat)
{
    ts_error err;
    ts_rng_key(f->rng, 2025, 0, repeat, 0);
    ts_recorder_reset(&f->r);
    return f->g->experiment->run(&f->p, f->rng, &f->r, &err);
}

static void teardown(fixture *f)
{
    ts_recorder_free(&f->r);
    gsl_rng_free(f->rng);
    ts_grid_free(f->g);
    free(f);
}

START_TEST(iterated_gd_matches_closed_form_to_1e_12)
{
    /* Iterating multiplies by (1 - eta lambda) t times; the closed form takes exp(2t log c):
     * independent computations whose rounding differs by O(t * 1e-16). */
    fixture *f = setup(200, 1.0, 0.5, 1.0, 2000, "iterate");
    ck_assert_int_eq(run(f, 0), TS_DONE);
    double *loss = ts_recorder_series(&f->r, M_LOSS), *theory = ts_recorder_series(&f->r, M_THEORY);
    for (size_t k = 0; k < f->r.layout.nrecords; k++) {
        ck_assert(loss[k] > 0);
        ck_assert_msg(fabs(loss[k] - theory[k]) <= 1e-12 * theory[k], "t=%lld: %.17g vs %.17g",
                      (long long)f->r.times[k], loss[k], theory[k]);
    }
    ck_assert(*ts_recorder_scalar(&f->r, M_FINAL) == loss[f->r.layout.nrecords - 1]);
    teardown(f);
}
END_TEST

START_TEST(closed_form_method_agrees_with_iteration_on_steps_to_eps)
{
    fixture *it = setup(300, 1.0, 0.0, 1.0, 5000, "iterate");
    fixture *cf = setup(300, 1.0, 0.0, 1.0, 5000, "closed_form");
    ck_assert_int_eq(run(it, 3), TS_DONE);
    ck_assert_int_eq(run(cf, 3), TS_DONE);
    size_t neps;
    ts_point_list(&it->p, "eps", &neps);
    double *a = ts_recorder_scalar(&it->r, M_STEPS_TO_EPS);
    double *b = ts_recorder_scalar(&cf->r, M_STEPS_TO_EPS);
    int reached = 0;
    for (size_t e = 0; e < neps; e++) {
        ck_assert((isnan(a[e]) && isnan(b[e])) || a[e] == b[e]);
        reached += !isnan(a[e]);
    }
    ck_assert_int_ge(reached, 2); /* the test must compare real hits, not two NaNs */
    double *la = ts_recorder_series(&it->r, M_LOSS), *lb = ts_recorder_series(&cf->r, M_LOSS);
    for (size_t k = 0; k < it->r.layout.nrecords; k++)
        ck_assert(fabs(la[k] - lb[k]) <= 1e-12 * lb[k]);
    teardown(it);
    teardown(cf);
}
END_TEST

START_TEST(isotropic_unit_step_converges_in_one_step)
{
    /* spectrum_exponent 0: every lambda = 1; eta = 1 removes the error exactly in one step. */
    fixture *f = setup(50, 0.0, 0.0, 1.0, 10, "iterate");
    ck_assert_int_eq(run(f, 0), TS_DONE);
    double *loss = ts_recorder_series(&f->r, M_LOSS);
    ck_assert(loss[0] > 0);
    ck_assert(loss[1] == 0.0); /* t = 1 is the second log-spaced time */
    ck_assert_int_eq(f->r.times[1], 1);
    double *hit = ts_recorder_scalar(&f->r, M_STEPS_TO_EPS);
    ck_assert(hit[0] == 1.0);
    teardown(f);
}
END_TEST

START_TEST(step_above_two_over_lambda_max_diverges)
{
    fixture *f = setup(20, 1.0, 0.0, 2.05, 100000, "iterate");
    ck_assert_int_eq(run(f, 0), TS_DIVERGED);
    teardown(f);
    f = setup(20, 1.0, 0.0, 2.05, 100000, "closed_form");
    ck_assert_int_eq(run(f, 0), TS_DIVERGED);
    teardown(f);
    f = setup(20, 1.0, 0.0, 1.99, 1000, "iterate");
    ck_assert_int_eq(run(f, 0), TS_DONE);
    teardown(f);
}
END_TEST

START_TEST(initial_loss_has_the_law_of_the_target)
{
    /* L(0) = 1/2 sum_k lambda_k w*_k^2 with w*_k ~ N(0, k^-b): mean 1/2 sum k^-(s+b), variance
     * 1/2 sum k^-2(s+b). Over R repeats the sample mean is within 5 standard errors. */
    const int64_t d = 400;
    const double s = 0.5, b = 0.5;
    const int R = 400;
    fixture *f = setup(d, s, b, 0.1, 10, "closed_form");
    double mean = 0, var = 0, acc = 0;
    for (int64_t k = 1; k <= d; k++) {
        mean += 0.5 * pow((double)k, -(s + b));
        var += 0.5 * pow((double)k, -2 * (s + b));
    }
    for (int r = 0; r < R; r++) {
        ck_assert_int_eq(run(f, (uint64_t)r), TS_DONE);
        acc += ts_recorder_series(&f->r, M_LOSS)[0];
    }
    acc /= R;
    ck_assert_msg(fabs(acc - mean) < 5 * sqrt(var / R), "mean %g vs %g", acc, mean);
    teardown(f);
}
END_TEST

START_TEST(same_stream_gives_same_values_and_repeats_differ)
{
    fixture *f = setup(100, 1.0, 0.0, 1.0, 100, "iterate");
    run(f, 5);
    double first = ts_recorder_series(&f->r, M_LOSS)[0];
    run(f, 6);
    double other = ts_recorder_series(&f->r, M_LOSS)[0];
    run(f, 5);
    ck_assert(ts_recorder_series(&f->r, M_LOSS)[0] == first);
    ck_assert(other != first);
    teardown(f);
}
END_TEST

START_TEST(other_optimizers_iterate_without_a_closed_form)
{
    /* Sign descent and Adam go through the shared optimizer; the GD closed form is not theirs,
     * so the overlay is NaN, and mode closed_form refuses them. */
    static const char *const optimizers[] = {"sign", "adam"};
    for (int k = 0; k < 2; k++) {
        fixture *f = setup(100, 1.0, 0.0, 0.01, 500, "iterate");
        set_choice(f->g, "optimizer", optimizers[k]);
        ts_grid_point(f->g, 0, 0, f->values, &f->p);
        ck_assert_int_eq(run(f, 0), TS_DONE);
        double *loss = ts_recorder_series(&f->r, M_LOSS);
        double *theory = ts_recorder_series(&f->r, M_THEORY);
        ck_assert(loss[f->r.layout.nrecords - 1] < 0.5 * loss[0]);
        ck_assert(isnan(theory[0]));
        teardown(f);
        f = setup(100, 1.0, 0.0, 0.01, 500, "closed_form");
        set_choice(f->g, "optimizer", optimizers[k]);
        ts_grid_point(f->g, 0, 0, f->values, &f->p);
        ck_assert_int_eq(run(f, 0), TS_FAILED);
        teardown(f);
    }
}
END_TEST

START_TEST(linear_decay_ends_with_smaller_steps_than_constant)
{
    /* On the quadratic, GD with a decaying step converges more slowly than the constant step
     * (same base step, every step no larger): its loss is never below the constant run's. */
    fixture *c = setup(100, 1.0, 0.0, 0.5, 300, "iterate");
    fixture *d = setup(100, 1.0, 0.0, 0.5, 300, "iterate");
    set_choice(d->g, "schedule", "linear_decay");
    ts_grid_point(d->g, 0, 0, d->values, &d->p);
    ck_assert_int_eq(run(c, 0), TS_DONE);
    ck_assert_int_eq(run(d, 0), TS_DONE);
    double *lc = ts_recorder_series(&c->r, M_LOSS), *ld = ts_recorder_series(&d->r, M_LOSS);
    ck_assert(lc[0] == ld[0]);
    for (size_t k = 1; k < c->r.layout.nrecords; k++) ck_assert(ld[k] >= lc[k]);
    ck_assert(ld[c->r.layout.nrecords - 1] > lc[c->r.layout.nrecords - 1]);
    teardown(c);
    teardown(d);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("quadratic");
    TCase *tc = tcase_create("quadratic");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, iterated_gd_matches_closed_form_to_1e_12);
    tcase_add_test(tc, closed_form_method_agrees_with_iteration_on_steps_to_eps);
    tcase_add_test(tc, isotropic_unit_step_converges_in_one_step);
    tcase_add_test(tc, step_above_two_over_lambda_max_diverges);
    tcase_add_test(tc, initial_loss_has_the_law_of_the_target);
    tcase_add_test(tc, same_stream_gives_same_values_and_repeats_differ);
    tcase_add_test(tc, other_optimizers_iterate_without_a_closed_form);
    tcase_add_test(tc, linear_decay_ends_with_smaller_steps_than_constant);
    suite_add_tcase(s, tc);
    return ts_test_run_suite(s);
}
