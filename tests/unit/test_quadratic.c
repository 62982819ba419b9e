/* The quadratic experiment against its exact closed form and the law of its initial loss. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tailsweep/grid.h"
#include "tailsweep/rng.h"
#include "check_main.h"
#include "experiment_fixture.h"

typedef tf_run fixture;

static fixture *setup(int64_t dim, double s, double b, double eta, int64_t steps,
                      const char *mode)
{
    fixture *f = tf_new("quadratic", 2025);
    tf_set_int(f, "dim", dim);
    tf_set_real(f, "spectrum_exponent", s);
    tf_set_real(f, "target_exponent", b);
    tf_set_real(f, "step_size", eta);
    tf_set_int(f, "steps", steps);
    tf_set_choice(f, "mode", mode);
    tf_set_record(f, TS_RECORD_LOG, 50);
    return f;
}

START_TEST(iterated_gd_matches_closed_form_to_1e_12)
{
    /* Iterating multiplies by (1 - eta lambda) t times; the closed form takes exp(2t log c):
     * independent computations whose rounding differs by O(t * 1e-16). */
    fixture *f = setup(200, 1.0, 0.5, 1.0, 2000, "iterate");
    ck_assert_int_eq(tf_go(f, 0), TS_DONE);
    double *loss = tf_values(f, "loss"), *theory = tf_values(f, "theory_loss");
    for (size_t k = 0; k < f->r.layout.nrecords; k++) {
        ck_assert(loss[k] > 0);
        ck_assert_msg(fabs(loss[k] - theory[k]) <= 1e-12 * theory[k], "t=%lld: %.17g vs %.17g",
                      (long long)f->r.times[k], loss[k], theory[k]);
    }
    ck_assert(*tf_values(f, "final_loss") == loss[f->r.layout.nrecords - 1]);
    tf_free(f);
}
END_TEST

START_TEST(closed_form_method_agrees_with_iteration_on_steps_to_eps)
{
    fixture *it = setup(300, 1.0, 0.0, 1.0, 5000, "iterate");
    fixture *cf = setup(300, 1.0, 0.0, 1.0, 5000, "closed_form");
    ck_assert_int_eq(tf_go(it, 3), TS_DONE);
    ck_assert_int_eq(tf_go(cf, 3), TS_DONE);
    size_t neps;
    ts_point_list(&it->p, "eps", &neps);
    double *a = tf_values(it, "steps_to_eps");
    double *b = tf_values(cf, "steps_to_eps");
    int reached = 0;
    for (size_t e = 0; e < neps; e++) {
        ck_assert((isnan(a[e]) && isnan(b[e])) || a[e] == b[e]);
        reached += !isnan(a[e]);
    }
    ck_assert_int_ge(reached, 2); /* the test must compare real hits, not two NaNs */
    double *la = tf_values(it, "loss"), *lb = tf_values(cf, "loss");
    for (size_t k = 0; k < it->r.layout.nrecords; k++)
        ck_assert(fabs(la[k] - lb[k]) <= 1e-12 * lb[k]);
    tf_free(it);
    tf_free(cf);
}
END_TEST

START_TEST(isotropic_unit_step_converges_in_one_step)
{
    /* spectrum_exponent 0: every lambda = 1; eta = 1 removes the error exactly in one step. */
    fixture *f = setup(50, 0.0, 0.0, 1.0, 10, "iterate");
    ck_assert_int_eq(tf_go(f, 0), TS_DONE);
    double *loss = tf_values(f, "loss");
    ck_assert(loss[0] > 0);
    ck_assert(loss[1] == 0.0); /* t = 1 is the second log-spaced time */
    ck_assert_int_eq(f->r.times[1], 1);
    double *hit = tf_values(f, "steps_to_eps");
    ck_assert(hit[0] == 1.0);
    tf_free(f);
}
END_TEST

START_TEST(step_above_two_over_lambda_max_diverges)
{
    fixture *f = setup(20, 1.0, 0.0, 2.05, 100000, "iterate");
    ck_assert_int_eq(tf_go(f, 0), TS_DIVERGED);
    tf_free(f);
    f = setup(20, 1.0, 0.0, 2.05, 100000, "closed_form");
    ck_assert_int_eq(tf_go(f, 0), TS_DIVERGED);
    tf_free(f);
    f = setup(20, 1.0, 0.0, 1.99, 1000, "iterate");
    ck_assert_int_eq(tf_go(f, 0), TS_DONE);
    tf_free(f);
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
        ck_assert_int_eq(tf_go(f, (uint64_t)r), TS_DONE);
        acc += tf_values(f, "loss")[0];
    }
    acc /= R;
    ck_assert_msg(fabs(acc - mean) < 5 * sqrt(var / R), "mean %g vs %g", acc, mean);
    tf_free(f);
}
END_TEST

START_TEST(same_stream_gives_same_values_and_repeats_differ)
{
    fixture *f = setup(100, 1.0, 0.0, 1.0, 100, "iterate");
    tf_go(f, 5);
    double first = tf_values(f, "loss")[0];
    tf_go(f, 6);
    double other = tf_values(f, "loss")[0];
    tf_go(f, 5);
    ck_assert(tf_values(f, "loss")[0] == first);
    ck_assert(other != first);
    tf_free(f);
}
END_TEST

START_TEST(other_optimizers_iterate_without_a_closed_form)
{
    /* Sign descent and Adam go through the shared optimizer; the GD closed form is not theirs,
     * so the overlay is NaN, and mode closed_form refuses them. */
    static const char *const optimizers[] = {"sign", "adam"};
    for (int k = 0; k < 2; k++) {
        fixture *f = setup(100, 1.0, 0.0, 0.01, 500, "iterate");
        tf_set_choice(f, "optimizer", optimizers[k]);
        ck_assert_int_eq(tf_go(f, 0), TS_DONE);
        double *loss = tf_values(f, "loss");
        double *theory = tf_values(f, "theory_loss");
        ck_assert(loss[f->r.layout.nrecords - 1] < 0.5 * loss[0]);
        ck_assert(isnan(theory[0]));
        tf_free(f);
        f = setup(100, 1.0, 0.0, 0.01, 500, "closed_form");
        tf_set_choice(f, "optimizer", optimizers[k]);
        ck_assert_int_eq(tf_go(f, 0), TS_FAILED);
        tf_free(f);
    }
}
END_TEST

START_TEST(linear_decay_ends_with_smaller_steps_than_constant)
{
    /* On the quadratic, GD with a decaying step converges more slowly than the constant step
     * (same base step, every step no larger): its loss is never below the constant run's. */
    fixture *c = setup(100, 1.0, 0.0, 0.5, 300, "iterate");
    fixture *d = setup(100, 1.0, 0.0, 0.5, 300, "iterate");
    tf_set_choice(d, "schedule", "linear_decay");
    ck_assert_int_eq(tf_go(c, 0), TS_DONE);
    ck_assert_int_eq(tf_go(d, 0), TS_DONE);
    double *lc = tf_values(c, "loss"), *ld = tf_values(d, "loss");
    ck_assert(lc[0] == ld[0]);
    for (size_t k = 1; k < c->r.layout.nrecords; k++) ck_assert(ld[k] >= lc[k]);
    ck_assert(ld[c->r.layout.nrecords - 1] > lc[c->r.layout.nrecords - 1]);
    tf_free(c);
    tf_free(d);
}
END_TEST

TS_TEST_MAIN("quadratic",
             iterated_gd_matches_closed_form_to_1e_12,
             closed_form_method_agrees_with_iteration_on_steps_to_eps,
             isotropic_unit_step_converges_in_one_step,
             step_above_two_over_lambda_max_diverges,
             initial_loss_has_the_law_of_the_target,
             same_stream_gives_same_values_and_repeats_differ,
             other_optimizers_iterate_without_a_closed_form,
             linear_decay_ends_with_smaller_steps_than_constant)
