/* Optimizers and step-size schedules (optim.h, schedule.h). Expected values come from the
 * formulas of schedule.h and of Kingma & Ba's Algorithm 1, evaluated here in another form (closed
 * sums instead of recursions, half-angle identities, exact binary fractions) so that a test does
 * not repeat the implementation's arithmetic. */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_math.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "tailsweep/grid.h"
#include "tailsweep/optim.h"
#include "tailsweep/schedule.h"
#include "check_main.h"

/* |a - b| within tol relative to |b| above 1 and absolute below: a schedule's values are
 * base * shape with shape in [0, 1], accurate to a few ulps of base, not of the value (1 - x and
 * 1 + cos lose relative accuracy near the end of the run). */
static int close_to(double a, double b, double tol)
{
    return fabs(a - b) <= tol * fmax(1.0, fabs(b));
}

static int same_bits(const double *a, const double *b, size_t n)
{
    return memcmp(a, b, n * sizeof *a) == 0;
}

static ts_schedule schedule(ts_schedule_kind kind, double base, int64_t horizon)
{
    ts_schedule s = {.kind = kind, .base = base, .horizon = horizon, .factor = 0.1,
                     .nmilestones = 2, .milestones = {0.5, 0.75}};
    return s;
}

/* A few ulps: each schedule value is at most a handful of correctly rounded operations. */
#define ULPS (8 * DBL_EPSILON)

/* ---------------------------------------------------------------- schedules */

START_TEST(constant_schedule_is_base_everywhere_including_outside_the_run)
{
    ts_schedule s = schedule(TS_SCHEDULE_CONSTANT, 0.3, 10);
    ck_assert_int_eq(ts_schedule_check(&s, NULL), TS_OK);
    int64_t ts[] = {-5, 0, 1, 5, 9, 10, 1000};
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++)
        ck_assert_double_eq(ts_schedule_lr(&s, ts[i]), 0.3);
}
END_TEST

START_TEST(linear_decay_falls_as_one_minus_t_over_T)
{
    /* T = 8: every value base (T - t) / T is an exact binary fraction. */
    ts_schedule s = schedule(TS_SCHEDULE_LINEAR_DECAY, 2.0, 8);
    ck_assert_double_eq(ts_schedule_lr(&s, 0), 2.0);
    ck_assert_double_eq(ts_schedule_lr(&s, 4), 1.0);  /* T/2 */
    ck_assert_double_eq(ts_schedule_lr(&s, 7), 0.25); /* T-1: 2 * 1/8 */
    ck_assert_double_eq(ts_schedule_lr(&s, 8), 0.25); /* t >= T clamps to T-1 */
    ck_assert_double_eq(ts_schedule_lr(&s, 80), 0.25);
    ck_assert_double_eq(ts_schedule_lr(&s, -1), 2.0);
    /* A long run: the line (T - t) / T, strictly positive and strictly decreasing. */
    s = schedule(TS_SCHEDULE_LINEAR_DECAY, 0.7, 1000);
    double previous = INFINITY;
    for (int64_t t = 0; t < 1000; t++) {
        double lr = ts_schedule_lr(&s, t);
        ck_assert_msg(close_to(lr, 0.7 * (double)(1000 - t) / 1000.0, ULPS), "t = %lld",
                      (long long)t);
        ck_assert(lr > 0 && lr < previous);
        previous = lr;
    }
}
END_TEST

START_TEST(cosine_is_half_cosine_at_quarter_points)
{
    /* (1 + cos(pi t / T)) / 2 = cos^2(pi t / (2 T)): quarter points by the half-angle values. */
    ts_schedule s = schedule(TS_SCHEDULE_COSINE, 1.0, 8);
    double half_sqrt2 = sqrt(2.0) / 2;
    ck_assert_double_eq(ts_schedule_lr(&s, 0), 1.0);
    ck_assert(close_to(ts_schedule_lr(&s, 2), (1 + half_sqrt2) / 2, ULPS));
    ck_assert(close_to(ts_schedule_lr(&s, 4), 0.5, ULPS));
    ck_assert(close_to(ts_schedule_lr(&s, 6), (1 - half_sqrt2) / 2, ULPS));
    double last = pow(sin(M_PI / 16), 2); /* cos^2(7 pi / 16) */
    ck_assert(close_to(ts_schedule_lr(&s, 7), last, ULPS));
    ck_assert(close_to(ts_schedule_lr(&s, 8), last, ULPS));
    s = schedule(TS_SCHEDULE_COSINE, 3.0, 500);
    for (int64_t t = 0; t < 500; t++) {
        double c = cos(M_PI * (double)t / 1000.0);
        ck_assert(close_to(ts_schedule_lr(&s, t), 3.0 * c * c, ULPS));
    }
}
END_TEST

START_TEST(step_schedule_multiplies_by_factor_at_each_milestone)
{
    ts_schedule s = schedule(TS_SCHEDULE_STEP, 1.0, 100); /* factor 0.1 at 0.5 and 0.75 */
    ck_assert_double_eq(ts_schedule_lr(&s, 0), 1.0);
    ck_assert_double_eq(ts_schedule_lr(&s, 49), 1.0);
    ck_assert(close_to(ts_schedule_lr(&s, 50), 0.1, ULPS));
    ck_assert(close_to(ts_schedule_lr(&s, 74), 0.1, ULPS));
    ck_assert(close_to(ts_schedule_lr(&s, 75), 0.01, ULPS));
    ck_assert(close_to(ts_schedule_lr(&s, 99), 0.01, ULPS));
    ck_assert(close_to(ts_schedule_lr(&s, 150), 0.01, ULPS));
    /* Three milestones, factor 1/2: exact powers of two on T = 10. */
    ts_schedule h = {.kind = TS_SCHEDULE_STEP, .base = 4.0, .horizon = 10, .factor = 0.5,
                     .nmilestones = 3, .milestones = {0.2, 0.4, 0.6}};
    ck_assert_int_eq(ts_schedule_check(&h, NULL), TS_OK);
    double expected[10] = {4, 4, 2, 2, 1, 1, 0.5, 0.5, 0.5, 0.5};
    for (int64_t t = 0; t < 10; t++) ck_assert_double_eq(ts_schedule_lr(&h, t), expected[t]);
}
END_TEST

START_TEST(fractions_of_the_run_round_to_the_nearest_step)
{
    /* 0.07 * 100 = 7.000000000000001 in doubles: the drop still comes at step 7. */
    ts_schedule s = {.kind = TS_SCHEDULE_STEP, .base = 1.0, .horizon = 100, .factor = 0.5,
                     .nmilestones = 1, .milestones = {0.07}};
    ck_assert_double_eq(ts_schedule_lr(&s, 6), 1.0);
    ck_assert_double_eq(ts_schedule_lr(&s, 7), 0.5);
    /* 0.33 of 10 steps is 3.3: rounded to step 3. */
    s.horizon = 10;
    s.milestones[0] = 0.33;
    ck_assert_double_eq(ts_schedule_lr(&s, 2), 1.0);
    ck_assert_double_eq(ts_schedule_lr(&s, 3), 0.5);
    /* Warmup 0.29 of 100 is 28.999999999999996: still 29 warmup steps, full rate at t = 28. */
    ts_schedule w = schedule(TS_SCHEDULE_CONSTANT, 1.0, 100);
    w.warmup = 0.29;
    ck_assert(close_to(ts_schedule_lr(&w, 27), 28.0 / 29.0, ULPS));
    ck_assert_double_eq(ts_schedule_lr(&w, 28), 1.0);
    /* Less than half a step of warmup is none. */
    w.horizon = 3;
    w.warmup = 0.1;
    ck_assert_double_eq(ts_schedule_lr(&w, 0), 1.0);
}
END_TEST

START_TEST(warmup_ramps_linearly_then_decay_runs_over_the_remaining_steps)
{
    /* T = 20, warmup 0.25: W = 5 ramp steps (t + 1) / 5, then linear decay over n = 15. */
    ts_schedule s = schedule(TS_SCHEDULE_LINEAR_DECAY, 2.0, 20);
    s.warmup = 0.25;
    ck_assert_int_eq(ts_schedule_check(&s, NULL), TS_OK);
    double ramp[5] = {0.4, 0.8, 1.2, 1.6, 2.0};
    for (int64_t t = 0; t < 5; t++) ck_assert(close_to(ts_schedule_lr(&s, t), ramp[t], ULPS));
    ck_assert_double_eq(ts_schedule_lr(&s, 5), 2.0);
    ck_assert(close_to(ts_schedule_lr(&s, 10), 2.0 * 2.0 / 3.0, ULPS)); /* 1 - 5/15 */
    ck_assert(close_to(ts_schedule_lr(&s, 19), 2.0 / 15.0, ULPS));      /* 1 - 14/15 */
    ck_assert(close_to(ts_schedule_lr(&s, 25), 2.0 / 15.0, ULPS));

    /* Constant after warmup. */
    s.kind = TS_SCHEDULE_CONSTANT;
    ck_assert(close_to(ts_schedule_lr(&s, 2), 1.2, ULPS));
    for (int64_t t = 4; t < 20; t++) ck_assert_double_eq(ts_schedule_lr(&s, t), 2.0);

    /* Cosine: T = 21, W = 5, n = 16; quarter points of the decay at t = 9, 13, 17. */
    ts_schedule c = schedule(TS_SCHEDULE_COSINE, 1.0, 21);
    c.warmup = 5.0 / 21.0;
    ck_assert(close_to(ts_schedule_lr(&c, 0), 0.2, ULPS));
    ck_assert_double_eq(ts_schedule_lr(&c, 5), 1.0);
    ck_assert(close_to(ts_schedule_lr(&c, 9), (1 + sqrt(2.0) / 2) / 2, ULPS));
    ck_assert(close_to(ts_schedule_lr(&c, 13), 0.5, ULPS));
    ck_assert(close_to(ts_schedule_lr(&c, 17), (1 - sqrt(2.0) / 2) / 2, ULPS));

    /* Step: T = 30, W = 6, n = 24; milestones 0.5 and 0.75 of n fall at t = 6 + 12, 6 + 18. */
    ts_schedule st = schedule(TS_SCHEDULE_STEP, 1.0, 30);
    st.factor = 0.5;
    st.warmup = 0.2;
    ck_assert(close_to(ts_schedule_lr(&st, 2), 0.5, ULPS)); /* ramp 3/6 */
    ck_assert_double_eq(ts_schedule_lr(&st, 17), 1.0);
    ck_assert_double_eq(ts_schedule_lr(&st, 18), 0.5);
    ck_assert_double_eq(ts_schedule_lr(&st, 23), 0.5);
    ck_assert_double_eq(ts_schedule_lr(&st, 24), 0.25);
    ck_assert_double_eq(ts_schedule_lr(&st, 29), 0.25);

    /* Warmup that would fill the run leaves one decay step: T = 2, warmup 0.9 -> W = 1. */
    ts_schedule tiny = schedule(TS_SCHEDULE_LINEAR_DECAY, 1.0, 2);
    tiny.warmup = 0.9;
    ck_assert_double_eq(ts_schedule_lr(&tiny, 0), 1.0);
    ck_assert_double_eq(ts_schedule_lr(&tiny, 1), 1.0);
}
END_TEST

START_TEST(schedule_check_rejects_each_malformed_field)
{
    ts_error err;
    ts_schedule ok = schedule(TS_SCHEDULE_STEP, 0.1, 100);
    ck_assert_int_eq(ts_schedule_check(&ok, &err), TS_OK);
    ts_schedule bad[16];
    size_t nbad = 0;
    bad[nbad] = ok, bad[nbad++].horizon = 0;
    bad[nbad] = ok, bad[nbad++].horizon = -3;
    bad[nbad] = ok, bad[nbad++].warmup = -0.01;
    bad[nbad] = ok, bad[nbad++].warmup = 1.0;
    bad[nbad] = ok, bad[nbad++].warmup = NAN;
    bad[nbad] = ok, bad[nbad++].milestones[1] = 0.5;  /* not increasing: 0.5, 0.5 */
    bad[nbad] = ok, bad[nbad++].milestones[0] = 0.8;  /* decreasing: 0.8, 0.75 */
    bad[nbad] = ok, bad[nbad++].milestones[0] = 0.0;  /* outside (0, 1) */
    bad[nbad] = ok, bad[nbad++].milestones[1] = 1.0;
    bad[nbad] = ok, bad[nbad++].milestones[1] = NAN;
    bad[nbad] = ok, bad[nbad++].factor = 0.0;
    bad[nbad] = ok, bad[nbad++].factor = INFINITY;
    bad[nbad] = ok, bad[nbad++].kind = (ts_schedule_kind)4;
    /* One milestone too many, each of them valid. */
    bad[nbad] = ok;
    bad[nbad].nmilestones = TS_SCHEDULE_MAX_MILESTONES + 1;
    for (size_t i = 0; i < TS_SCHEDULE_MAX_MILESTONES; i++)
        bad[nbad].milestones[i] = (double)(i + 1) / (TS_SCHEDULE_MAX_MILESTONES + 2);
    nbad++;
    for (size_t k = 0; k < nbad; k++) {
        ts_error_clear(&err);
        ck_assert_msg(ts_schedule_check(&bad[k], &err) == TS_EUSAGE, "case %zu accepted", k);
        ck_assert_int_eq(err.code, TS_EUSAGE);
        ck_assert_msg(err.msg[0] != '\0', "case %zu has no message", k);
    }
    /* The factor only matters to the step schedule. */
    ts_schedule constant = ok;
    constant.kind = TS_SCHEDULE_CONSTANT;
    constant.factor = 0.0;
    ck_assert_int_eq(ts_schedule_check(&constant, &err), TS_OK);
    /* Exactly the maximum number of milestones is fine. */
    ts_schedule full = bad[nbad - 1];
    full.nmilestones = TS_SCHEDULE_MAX_MILESTONES;
    ck_assert_int_eq(ts_schedule_check(&full, &err), TS_OK);
}
END_TEST

/* The names are the spec's choices, in enum order: "a|b|c" == names joined by "|". */
static void assert_names_are_choices(const char *(*name)(int), int count, const char *choices)
{
    char joined[256] = "";
    for (int k = 0; k < count; k++) {
        if (k) strcat(joined, "|");
        strcat(joined, name(k));
    }
    ck_assert_str_eq(joined, choices);
}

static const char *optim_name(int k) { return ts_optim_name((ts_optim_kind)k); }
static const char *schedule_name(int k) { return ts_schedule_name((ts_schedule_kind)k); }

START_TEST(names_follow_the_spec_choices_in_enum_order)
{
    assert_names_are_choices(optim_name, 3, TS_OPTIM_CHOICES);
    /* the spec's schedules: the four shapes in enum order, then refined (a table a run makes) */
    assert_names_are_choices(schedule_name, 4, "constant|linear_decay|cosine|step");
    ck_assert_str_eq(TS_SCHEDULE_CHOICES, "constant|linear_decay|cosine|step|refined");
    ck_assert_str_eq(ts_optim_name(TS_OPTIM_ADAM), "adam");
    ck_assert_str_eq(ts_schedule_name(TS_SCHEDULE_LINEAR_DECAY), "linear_decay");
    ck_assert_double_eq(ts_schedule_default_milestones[0], 0.5);
    ck_assert_double_eq(ts_schedule_default_milestones[1], 0.75);
}
END_TEST

START_TEST(a_table_schedule_returns_base_times_its_entries)
{
    static const double table[5] = {0.0, 0.5, 1.0, 0.25, 0.0};
    ts_schedule s;
    ts_error err;
    ck_assert_int_eq(ts_schedule_table(&s, 0.2, table, 5, &err), TS_OK);
    for (int64_t t = 0; t < 5; t++) ck_assert_double_eq(ts_schedule_lr(&s, t), 0.2 * table[t]);
    ck_assert_double_eq(ts_schedule_lr(&s, 9), 0.0); /* past the end: the last entry */
    ck_assert_double_eq(ts_schedule_lr(&s, -3), 0.0);
    ck_assert_str_eq(ts_schedule_name(TS_SCHEDULE_TABLE), "table");
    ck_assert_ptr_null(strstr(TS_SCHEDULE_CHOICES, "table")); /* runs compute tables */
    static const double bad[3] = {1.0, NAN, 1.0}, negative[3] = {1.0, -0.5, 1.0};
    ck_assert_int_eq(ts_schedule_table(&s, 0.2, bad, 3, &err), TS_EUSAGE);
    ck_assert_ptr_nonnull(strstr(err.msg, "entry 1"));
    ck_assert_int_eq(ts_schedule_table(&s, 0.2, negative, 3, &err), TS_EUSAGE);
    ck_assert_int_eq(ts_schedule_table(&s, 0.2, NULL, 3, &err), TS_EUSAGE);
    ck_assert_int_eq(ts_schedule_table(&s, 0.2, table, 5, &err), TS_OK);
    s.warmup = 0.2;
    ck_assert_int_eq(ts_schedule_check(&s, &err), TS_EUSAGE);
}
END_TEST

/* ---------------------------------------------------------------- optimizers */

static ts_optim make_optim(ts_optim_kind kind, double b1, double b2, double eps, size_t n)
{
    ts_optim o;
    ts_optim_config cfg = {.kind = kind, .beta1 = b1, .beta2 = b2, .epsilon = eps};
    ts_error err;
    ck_assert_int_eq(ts_optim_init(&o, &cfg, n, &err), TS_OK);
    return o;
}

START_TEST(gd_subtracts_lr_times_gradient)
{
    ts_optim o = make_optim(TS_OPTIM_GD, 0, 0, 0, 4);
    ck_assert_ptr_null(o.m);
    double w[4] = {1, -2, 0.5, 3}, g[4] = {0.5, 0.25, -4, 0};
    ts_optim_step(&o, w, g, 0.5);
    double expected[4] = {0.75, -2.125, 2.5, 3};
    ck_assert(same_bits(w, expected, 4));
    ts_optim_free(&o);
}
END_TEST

START_TEST(sign_descent_moves_lr_against_the_sign_and_not_at_zero)
{
    ts_optim o = make_optim(TS_OPTIM_SIGN, 0, 0, 0, 7);
    double w[7] = {1, 1, 1, 1, 1, 1, -0.0};
    double g[7] = {3, -1e-300, 0.0, -0.0, INFINITY, -1e300, -0.0};
    ts_optim_step(&o, w, g, 0.25);
    double expected[7] = {0.75, 1.25, 1, 1, 0.75, 1.25, -0.0};
    ck_assert(same_bits(w, expected, 7)); /* includes w = -0 staying -0 under g = -0 */
    ts_optim_free(&o);
}
END_TEST

START_TEST(a_nan_gradient_reaches_the_weights_of_every_optimizer)
{
    for (int kind = 0; kind < 3; kind++) {
        ts_optim o = make_optim((ts_optim_kind)kind, 0.9, 0.999, 1e-8, 3);
        double w[3] = {1, 2, 3}, g[3] = {1, NAN, -1};
        ts_optim_step(&o, w, g, 0.1);
        ck_assert_msg(isnan(w[1]), "%s", ts_optim_name((ts_optim_kind)kind));
        ck_assert(isfinite(w[0]) && isfinite(w[2]));
        size_t idx[1] = {1};
        double w2[3] = {1, 2, 3};
        ts_optim_reset(&o);
        ts_optim_step_sparse(&o, w2, g, idx, 1, 0.1);
        ck_assert(isnan(w2[1]));
        ts_optim_free(&o);
    }
}
END_TEST

START_TEST(optim_init_rejects_betas_outside_unit_interval_and_negative_epsilon)
{
    ts_optim_config bad[] = {
        {.kind = TS_OPTIM_ADAM, .beta1 = 1.0, .beta2 = 0.999, .epsilon = 1e-8},
        {.kind = TS_OPTIM_ADAM, .beta1 = -0.1, .beta2 = 0.999, .epsilon = 1e-8},
        {.kind = TS_OPTIM_ADAM, .beta1 = NAN, .beta2 = 0.999, .epsilon = 1e-8},
        {.kind = TS_OPTIM_ADAM, .beta1 = 0.9, .beta2 = 1.0, .epsilon = 1e-8},
        {.kind = TS_OPTIM_ADAM, .beta1 = 0.9, .beta2 = -1e-3, .epsilon = 1e-8},
        {.kind = TS_OPTIM_ADAM, .beta1 = 0.9, .beta2 = 0.999, .epsilon = -1e-9},
        {.kind = TS_OPTIM_ADAM, .beta1 = 0.9, .beta2 = 0.999, .epsilon = NAN},
        {.kind = (ts_optim_kind)3, .beta1 = 0.9, .beta2 = 0.999, .epsilon = 1e-8},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        ts_optim o;
        ts_error err;
        ts_error_clear(&err);
        ck_assert_msg(ts_optim_init(&o, &bad[k], 4, &err) == TS_EUSAGE, "case %zu", k);
        ck_assert(err.msg[0] != '\0');
        ck_assert_ptr_null(o.m);
        ts_optim_free(&o); /* harmless on a rejected config */
    }
    ts_optim o = make_optim(TS_OPTIM_ADAM, 0, 0, 0, 0); /* empty vector: nothing to step */
    ts_optim_step(&o, NULL, NULL, 1.0);
    ck_assert_uint_eq(o.t, 1);
    ts_optim_free(&o);
}
END_TEST

/* Kingma & Ba with the recursions unrolled: m_t = (1 - b1) sum_{i<=t} b1^(t-i) g_i (and v_t with
 * g_i^2), then the bias-corrected step. */
static double adam_reference_step(const double *gs, size_t stride, int t, double b1, double b2,
                                  double eps)
{
    double m = 0, v = 0;
    for (int i = 1; i <= t; i++) {
        double g = gs[(size_t)(i - 1) * stride];
        m += (1 - b1) * pow(b1, t - i) * g;
        v += (1 - b2) * pow(b2, t - i) * g * g;
    }
    double mhat = m / (1 - pow(b1, t)), vhat = v / (1 - pow(b2, t));
    return mhat / (sqrt(vhat) + eps);
}

START_TEST(adam_follows_kingma_ba_algorithm_1)
{
    enum { N = 4, STEPS = 8 };
    const double b1 = 0.9, b2 = 0.999, eps = 1e-3;
    double gs[STEPS][N], w[N], ref[N];
    for (int t = 0; t < STEPS; t++)
        for (int k = 0; k < N; k++)
            gs[t][k] = k == 3 ? 0.0 : (k + 1) * cos(1.3 * t + k); /* coordinate 3: always 0 */
    for (int k = 0; k < N; k++) w[k] = ref[k] = 0.5 * k - 1;
    ts_optim o = make_optim(TS_OPTIM_ADAM, b1, b2, eps, N);
    for (int t = 1; t <= STEPS; t++) {
        double lr = 0.1 / t;
        ts_optim_step(&o, w, gs[t - 1], lr);
        for (int k = 0; k < N; k++) {
            ref[k] -= lr * adam_reference_step(&gs[0][k], N, t, b1, b2, eps);
            /* Cauchy-Schwarz: |m| <= (1 - b1) sqrt(v) / sqrt((1 - b2)(1 - b1^2 / b2)), so with
             * the bias corrections the step ratio stays below 3 here, and the two orders of
             * summation differ by a few ulps of that per step: ~1e-15 per step, ~1e-14 after
             * 8 steps. 1e-12 leaves a wide margin yet catches any wrong term (>= 1e-3 here). */
            ck_assert_msg(close_to(w[k], ref[k], 1e-12), "t = %d, k = %d: %.17g vs %.17g", t,
                          k, w[k], ref[k]);
        }
    }
    ck_assert_uint_eq(o.t, STEPS);
    ck_assert_double_eq(w[3], 0.5 * 3 - 1); /* a zero gradient never moves its weight */
    ts_optim_free(&o);

    /* The first step is lr g / (|g| + eps) whatever the betas: the bias correction undoes the
     * (1 - b) factors. */
    o = make_optim(TS_OPTIM_ADAM, 0.5, 0.75, 0.5, 2);
    double w1[2] = {0, 0}, g1[2] = {2, -0.5};
    ts_optim_step(&o, w1, g1, 1.0);
    ck_assert(close_to(w1[0], -2.0 / 2.5, ULPS));
    ck_assert(close_to(w1[1], 0.5 / 1.0, ULPS));
    ts_optim_free(&o);
}
END_TEST

START_TEST(adam_without_momentum_or_epsilon_is_sign_descent_bit_for_bit)
{
    /* f(w) = 1/2 sum_k lambda_k w_k^2 - b_k w_k; coordinates 2 and 9 are flat (gradient exactly
     * 0, or -0 where w < 0), and every other gradient is zeroed (as +0 or -0) at random steps. */
    enum { N = 12, STEPS = 1000 };
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 20240601);
    double lambda[N], b[N], wa[N], ws[N], w0[N], ga[N], gs[N];
    for (int k = 0; k < N; k++) {
        int flat = k == 2 || k == 9;
        lambda[k] = flat ? 0 : 0.5 + 1.5 * gsl_rng_uniform(r);
        b[k] = flat ? 0 : gsl_ran_gaussian(r, 1.0);
        w0[k] = wa[k] = ws[k] = gsl_ran_gaussian(r, 2.0);
    }
    ts_optim adam = make_optim(TS_OPTIM_ADAM, 0, 0, 0, N);
    ts_optim sign = make_optim(TS_OPTIM_SIGN, 0, 0, 0, N);
    ts_schedule s = schedule(TS_SCHEDULE_LINEAR_DECAY, 0.05, STEPS);
    int zeroed = 0;
    for (int t = 0; t < STEPS; t++) {
        for (int k = 0; k < N; k++) {
            ga[k] = lambda[k] * wa[k] - b[k];
            gs[k] = lambda[k] * ws[k] - b[k];
            double u = gsl_rng_uniform(r);
            if (u < 0.1) ga[k] = gs[k] = (u < 0.05 ? 0.0 : -0.0), zeroed++;
        }
        double lr = ts_schedule_lr(&s, t);
        ts_optim_step(&adam, wa, ga, lr);
        ts_optim_step(&sign, ws, gs, lr);
        ck_assert_msg(same_bits(wa, ws, N), "first difference at step %d", t + 1);
    }
    ck_assert_int_gt(zeroed, 0);
    ck_assert(same_bits(&wa[2], &w0[2], 1) && same_bits(&wa[9], &w0[9], 1));
    /* The run went somewhere: each curved coordinate ends near its minimiser b / lambda (sign
     * descent with a decaying step reaches within the last few step sizes of it). */
    for (int k = 0; k < N; k++)
        if (lambda[k] > 0) ck_assert(fabs(wa[k] - b[k] / lambda[k]) < 0.01);
    ts_optim_free(&adam);
    ts_optim_free(&sign);
    gsl_rng_free(r);
}
END_TEST

START_TEST(sparse_gd_and_sign_equal_a_dense_step_with_zero_gradient_elsewhere)
{
    enum { N = 50, NIDX = 17 };
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 7);
    size_t all[N], idx[NIDX];
    for (size_t k = 0; k < N; k++) all[k] = k;
    gsl_ran_choose(r, idx, NIDX, all, N, sizeof(size_t));
    gsl_ran_shuffle(r, idx, NIDX, sizeof(size_t)); /* order must not matter */
    for (int kind = TS_OPTIM_GD; kind <= TS_OPTIM_SIGN; kind++) {
        double w_sparse[N], w_dense[N], g[N], g_masked[N] = {0};
        for (size_t k = 0; k < N; k++) {
            w_sparse[k] = w_dense[k] = gsl_ran_gaussian(r, 1.0);
            g[k] = gsl_ran_gaussian(r, 1.0);
        }
        for (size_t j = 0; j < NIDX; j++) g_masked[idx[j]] = g[idx[j]];
        ts_optim o = make_optim((ts_optim_kind)kind, 0, 0, 0, N);
        ts_optim_step_sparse(&o, w_sparse, g, idx, NIDX, 0.3);
        ts_optim_step(&o, w_dense, g_masked, 0.3);
        ck_assert_msg(same_bits(w_sparse, w_dense, N), "%s", ts_optim_name((ts_optim_kind)kind));
        ts_optim_free(&o);
    }
    gsl_rng_free(r);
}
END_TEST

START_TEST(sparse_adam_keeps_untouched_moments_and_counts_every_call)
{
    const double b1 = 0.8, b2 = 0.9, eps = 1e-2;
    enum { N = 10 };
    ts_optim o = make_optim(TS_OPTIM_ADAM, b1, b2, eps, N);
    double w[N], w0[N], g[N];
    for (int k = 0; k < N; k++) w[k] = w0[k] = k - 4.5, g[k] = 0.3 * k - 1;
    size_t first[3] = {7, 1, 4}, second[1] = {4}, third[2] = {9, 1};
    ts_optim_step_sparse(&o, w, g, first, 3, 0.1);
    double m7 = o.m[7], v7 = o.v[7], w7 = w[7];
    ts_optim_step_sparse(&o, w, g, second, 1, 0.2);
    g[1] = 2.0; /* a new gradient for coordinate 1 at its second touch */
    ts_optim_step_sparse(&o, w, g, third, 2, 0.4);
    ck_assert_uint_eq(o.t, 3);
    /* Never touched: weight and moments as they started. */
    int untouched[] = {0, 2, 3, 5, 6, 8};
    for (size_t i = 0; i < sizeof untouched / sizeof untouched[0]; i++) {
        int k = untouched[i];
        ck_assert(w[k] == w0[k] && o.m[k] == 0 && o.v[k] == 0);
    }
    /* Touched once, at step 1: frozen since (no decay at steps 2 and 3). */
    ck_assert(o.m[7] == m7 && o.v[7] == v7 && w[7] == w7);
    /* Coordinate 1, touched at steps 1 (g = -0.7) and 3 (g = 2): its moments decayed once, and
     * step 3's bias correction uses t = 3. */
    double ga = 0.3 * 1 - 1, gb = 2.0;
    double m = b1 * (1 - b1) * ga + (1 - b1) * gb;
    double v = b2 * (1 - b2) * ga * ga + (1 - b2) * gb * gb;
    ck_assert(close_to(o.m[1], m, 4 * DBL_EPSILON) && close_to(o.v[1], v, 4 * DBL_EPSILON));
    double step1 = 0.1 * ga / (fabs(ga) + eps); /* first step: lr g / (|g| + eps) */
    double step3 = 0.4 * (m / (1 - b1 * b1 * b1)) / (sqrt(v / (1 - b2 * b2 * b2)) + eps);
    ck_assert(close_to(w[1], w0[1] - step1 - step3, 1e-14));
    ts_optim_free(&o);
}
END_TEST

START_TEST(sparse_adam_on_a_fixed_set_equals_dense_adam_on_that_set)
{
    enum { N = 9, NIDX = 4, STEPS = 20 };
    size_t idx[NIDX] = {8, 0, 3, 5};
    ts_optim full = make_optim(TS_OPTIM_ADAM, 0.9, 0.99, 1e-6, N);
    ts_optim sub = make_optim(TS_OPTIM_ADAM, 0.9, 0.99, 1e-6, NIDX);
    double w[N], g[N], ws[NIDX], gsub[NIDX];
    for (int k = 0; k < N; k++) w[k] = 0.1 * k;
    for (int j = 0; j < NIDX; j++) ws[j] = w[idx[j]];
    for (int t = 0; t < STEPS; t++) {
        for (int k = 0; k < N; k++) g[k] = sin(0.7 * t + 1.1 * k);
        for (int j = 0; j < NIDX; j++) gsub[j] = g[idx[j]];
        ts_optim_step_sparse(&full, w, g, idx, NIDX, 0.05);
        ts_optim_step(&sub, ws, gsub, 0.05);
    }
    for (int j = 0; j < NIDX; j++) {
        ck_assert(same_bits(&w[idx[j]], &ws[j], 1));
        ck_assert(same_bits(&full.m[idx[j]], &sub.m[j], 1));
        ck_assert(same_bits(&full.v[idx[j]], &sub.v[j], 1));
    }
    ck_assert(w[1] == 0.1 && w[4] == 0.4);
    ts_optim_free(&full);
    ts_optim_free(&sub);
}
END_TEST

/* The scaled step spells its gradient c w + (sparse term) implicitly; written out into an array
 * and handed to the dense step it must give the same bits, for every rule, over several steps
 * (so that Adam's moments and counter carry over), with listed coordinates at both ends, next
 * to each other, and none at all; a zero c gives sign descent's zero step. */
START_TEST(scaled_step_equals_dense_step_on_the_written_out_gradient_bit_for_bit)
{
    enum { N = 37, STEPS = 12 };
    static const size_t lists[][5] = {{0, 1, 2, 20, N - 1}, {5, 17, 18, 30, 31}};
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 11);
    for (int kind = TS_OPTIM_GD; kind <= TS_OPTIM_ADAM; kind++) {
        ts_optim fused = make_optim((ts_optim_kind)kind, 0.9, 0.99, 1e-8, N);
        ts_optim plain = make_optim((ts_optim_kind)kind, 0.9, 0.99, 1e-8, N);
        double wf[N], wp[N], g[N];
        for (size_t k = 0; k < N; k++) wf[k] = wp[k] = gsl_ran_gaussian(r, 1.0);
        for (int t = 0; t < STEPS; t++) {
            size_t nidx = t % 3 == 2 ? 0 : 5;
            const size_t *idx = lists[t % 2];
            double c = t == 5 ? 0.0 : 0.01 + 0.2 * gsl_rng_uniform(r), g_idx[5];
            for (size_t k = 0; k < N; k++) g[k] = c * wp[k];
            for (size_t j = 0; j < nidx; j++) g[idx[j]] = g_idx[j] = gsl_ran_gaussian(r, 1.0);
            ts_optim_step_scaled(&fused, wf, c, idx, g_idx, nidx, 0.1);
            ts_optim_step(&plain, wp, g, 0.1);
            ck_assert_msg(same_bits(wf, wp, N), "%s step %d",
                          ts_optim_name((ts_optim_kind)kind), t);
        }
        if (kind == TS_OPTIM_ADAM) {
            ck_assert_uint_eq(fused.t, STEPS);
            ck_assert(same_bits(fused.m, plain.m, N) && same_bits(fused.v, plain.v, N));
        }
        ts_optim_free(&fused);
        ts_optim_free(&plain);
    }
    gsl_rng_free(r);
}
END_TEST

START_TEST(reset_makes_adam_start_over)
{
    enum { N = 5 };
    ts_optim o = make_optim(TS_OPTIM_ADAM, 0.9, 0.999, 1e-8, N);
    double first[N] = {0}, again[N] = {0}, g[N];
    for (int t = 0; t < 6; t++) {
        for (int k = 0; k < N; k++) g[k] = cos(t + 2.0 * k);
        ts_optim_step(&o, first, g, 0.01);
    }
    ts_optim_reset(&o);
    ck_assert_uint_eq(o.t, 0);
    for (int k = 0; k < N; k++) ck_assert(o.m[k] == 0 && o.v[k] == 0);
    for (int t = 0; t < 6; t++) {
        for (int k = 0; k < N; k++) g[k] = cos(t + 2.0 * k);
        ts_optim_step(&o, again, g, 0.01);
    }
    ck_assert(same_bits(first, again, N));
    ts_optim_free(&o);
    ck_assert_ptr_null(o.m);
    ck_assert_ptr_null(o.v);
}
END_TEST

/* ---------------------------------------------------------------- reading a point */

static const ts_param_def probe_params[] = {
    TS_OPTIM_PARAMS("gd"),
    TS_SCHEDULE_PARAMS,
    {0},
};
static const ts_metric_def probe_metrics[] = {{0}};
static const ts_experiment probe = {
    .name = "optim_probe", .summary = "the optimizer and schedule parameters alone",
    .reference = "", .params = probe_params, .metrics = probe_metrics,
};

static ts_value *base_of(ts_grid *g, const char *name)
{
    int k = ts_param_index(probe_params, name);
    ck_assert_int_ge(k, 0);
    return &g->base[k];
}

static double default_of(const char *name)
{
    return ts_param_default(&probe_params[ts_param_index(probe_params, name)]).r;
}

static int choice(const char *param, const char *name)
{
    return ts_param_choice_index(&probe_params[ts_param_index(probe_params, param)], name);
}

START_TEST(configs_read_the_points_parameters)
{
    ts_grid *g = ts_grid_alloc(&probe);
    ck_assert_ptr_nonnull(g);
    ts_value values[16];
    ts_point p;
    ts_error err;
    ck_assert_uint_le(g->nparams, 16);

    /* Defaults: the declared ones. */
    ts_grid_point(g, 0, 0, values, &p);
    ts_optim_config c = ts_optim_config_of(&p);
    ck_assert_int_eq(c.kind, TS_OPTIM_GD);
    ck_assert_double_eq(c.beta1, default_of("adam_beta1"));
    ck_assert_double_eq(c.beta2, default_of("adam_beta2"));
    ck_assert_double_eq(c.epsilon, default_of("adam_epsilon"));
    ts_schedule s;
    ck_assert_int_eq(ts_schedule_of(&p, 0.5, 40, &s, &err), TS_OK);
    ck_assert_int_eq(s.kind, TS_SCHEDULE_CONSTANT);
    ck_assert_uint_eq(s.nmilestones, 2);
    ck_assert(s.milestones[0] == 0.5 && s.milestones[1] == 0.75);

    /* Every choice maps to the kind of the same name. */
    for (int k = 0; k < 3; k++) {
        base_of(g, "optimizer")->e = choice("optimizer", ts_optim_name((ts_optim_kind)k));
        ts_grid_point(g, 0, 0, values, &p);
        ck_assert_int_eq(ts_optim_config_of(&p).kind, k);
    }
    for (int k = 0; k < 4; k++) {
        base_of(g, "schedule")->e = choice("schedule", ts_schedule_name((ts_schedule_kind)k));
        ts_grid_point(g, 0, 0, values, &p);
        ck_assert_int_eq(ts_schedule_of(&p, 0.5, 40, &s, &err), TS_OK);
        ck_assert_int_eq(s.kind, k);
    }

    /* Changed values arrive in the configs. */
    static const double milestones[3] = {0.2, 0.6, 0.9};
    base_of(g, "optimizer")->e = choice("optimizer", "adam");
    base_of(g, "adam_beta1")->r = 0.8;
    base_of(g, "adam_beta2")->r = 0.95;
    base_of(g, "adam_epsilon")->r = 1e-6;
    base_of(g, "schedule")->e = choice("schedule", "step");
    base_of(g, "warmup")->r = 0.1;
    base_of(g, "step_factor")->r = 0.5;
    base_of(g, "step_milestones")->list = milestones;
    base_of(g, "step_milestones")->n = 3;
    ts_grid_point(g, 0, 0, values, &p);
    c = ts_optim_config_of(&p);
    ck_assert_int_eq(c.kind, TS_OPTIM_ADAM);
    ck_assert(c.beta1 == 0.8 && c.beta2 == 0.95 && c.epsilon == 1e-6);
    ck_assert_int_eq(ts_schedule_of(&p, 0.3, 200, &s, &err), TS_OK);
    ck_assert_int_eq(s.kind, TS_SCHEDULE_STEP);
    ck_assert(s.base == 0.3 && s.horizon == 200 && s.warmup == 0.1 && s.factor == 0.5);
    ck_assert_uint_eq(s.nmilestones, 3);
    ck_assert(same_bits(s.milestones, milestones, 3));

    /* What the declarations cannot catch is caught here: order, count, horizon. */
    static const double backwards[2] = {0.6, 0.2};
    base_of(g, "step_milestones")->list = backwards;
    base_of(g, "step_milestones")->n = 2;
    ts_grid_point(g, 0, 0, values, &p);
    ck_assert_int_eq(ts_schedule_of(&p, 0.3, 200, &s, &err), TS_EUSAGE);
    ck_assert_ptr_nonnull(strstr(err.msg, "step_milestones"));
    double many[TS_SCHEDULE_MAX_MILESTONES + 1];
    for (size_t i = 0; i <= TS_SCHEDULE_MAX_MILESTONES; i++)
        many[i] = (double)(i + 1) / (TS_SCHEDULE_MAX_MILESTONES + 2);
    base_of(g, "step_milestones")->list = many;
    base_of(g, "step_milestones")->n = TS_SCHEDULE_MAX_MILESTONES + 1;
    ts_grid_point(g, 0, 0, values, &p);
    ck_assert_int_eq(ts_schedule_of(&p, 0.3, 200, &s, &err), TS_EUSAGE);
    base_of(g, "step_milestones")->n = TS_SCHEDULE_MAX_MILESTONES;
    ts_grid_point(g, 0, 0, values, &p);
    ck_assert_int_eq(ts_schedule_of(&p, 0.3, 200, &s, &err), TS_OK);
    ck_assert_int_eq(ts_schedule_of(&p, 0.3, 0, &s, &err), TS_EUSAGE);
    ts_grid_free(g);
}
END_TEST

static ts_optim make_config(ts_optim_config cfg, size_t n)
{
    ts_optim o;
    ts_error err;
    ck_assert_int_eq(ts_optim_init(&o, &cfg, n, &err), TS_OK);
    return o;
}

START_TEST(heavy_ball_accumulates_gradients_and_signum_their_average)
{
    /* gd: b1 = g1, b2 = mu b1 + g2; sign: b1 = (1 - mu) g1, b2 = mu b1 + (1 - mu) g2 */
    double mu = 0.5, lr = 0.1, g1[2] = {1.0, -2.0}, g2[2] = {-3.0, 1.0};
    ts_optim gd = make_config((ts_optim_config){.kind = TS_OPTIM_GD, .momentum = mu}, 2);
    double w[2] = {0, 0};
    ts_optim_step(&gd, w, g1, lr);
    ts_optim_step(&gd, w, g2, lr);
    for (int k = 0; k < 2; k++) {
        double b1 = g1[k], b2 = mu * b1 + g2[k];
        ck_assert_double_eq(w[k], (0.0 - lr * b1) - lr * b2);
    }
    ts_optim sign = make_config((ts_optim_config){.kind = TS_OPTIM_SIGN, .momentum = mu}, 2);
    double v[2] = {0, 0};
    ts_optim_step(&sign, v, g1, lr);
    ts_optim_step(&sign, v, g2, lr);
    /* coordinate 0: b = 0.5, then 0.25 - 1.5 < 0; coordinate 1: -1, then -0.5 + 0.5 = 0 */
    ck_assert_double_eq(v[0], -lr + lr);
    ck_assert_double_eq(v[1], lr);
    ts_optim_reset(&gd);
    ck_assert_double_eq(gd.m[0], 0);
    ts_optim_free(&gd);
    ts_optim_free(&sign);
}
END_TEST

START_TEST(weight_decay_steps_on_the_gradient_of_the_decayed_loss)
{
    /* every rule on (g, wd) equals the plain rule on g + wd w, bit for bit */
    enum { N = 600 }; /* more than one chunk of the effective gradient */
    for (int kind = 0; kind < 3; kind++) {
        ts_optim_config plain_cfg = {.kind = (ts_optim_kind)kind, .beta1 = 0.9, .beta2 = 0.99,
                                     .epsilon = 1e-8};
        ts_optim_config decayed_cfg = plain_cfg;
        decayed_cfg.weight_decay = 0.3;
        ts_optim plain = make_config(plain_cfg, N), decayed = make_config(decayed_cfg, N);
        double wp[N], wd[N], g[N], ge[N];
        for (int k = 0; k < N; k++) wp[k] = wd[k] = sin(k + 1.0);
        for (int t = 0; t < 3; t++) {
            for (int k = 0; k < N; k++) {
                g[k] = cos(3.0 * k + t);
                ge[k] = g[k] + 0.3 * wp[k];
            }
            ts_optim_step(&plain, wp, ge, 0.05);
            ts_optim_step(&decayed, wd, g, 0.05);
        }
        ck_assert_msg(same_bits(wp, wd, N), "%s", ts_optim_name((ts_optim_kind)kind));
        ts_optim_free(&plain);
        ts_optim_free(&decayed);
    }
}
END_TEST

START_TEST(momentum_is_refused_for_adam_and_outside_unit_interval)
{
    ts_optim_config bad[] = {
        {.kind = TS_OPTIM_ADAM, .beta1 = 0.9, .beta2 = 0.9, .momentum = 0.5},
        {.kind = TS_OPTIM_GD, .momentum = 1.0},
        {.kind = TS_OPTIM_SIGN, .momentum = -0.1},
        {.kind = TS_OPTIM_GD, .weight_decay = -1},
        {.kind = TS_OPTIM_GD, .weight_decay = INFINITY},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        ts_optim o;
        ts_error err;
        ck_assert_msg(ts_optim_init(&o, &bad[k], 4, &err) == TS_EUSAGE, "case %zu", k);
    }
}
END_TEST

/* Blocks of 1, 300 and 211 coordinates (so some cross a chunk) stepped in a shuffled order. */
static void step_in_blocks(ts_optim *o, double *w, const double *g, double lr)
{
    static const size_t offset[3] = {301, 0, 1}, len[3] = {211, 1, 300};
    ts_optim_begin(o);
    for (int b = 0; b < 3; b++)
        ts_optim_update(o, offset[b], w + offset[b], g + offset[b], len[b], lr);
}

START_TEST(a_step_over_blocks_equals_one_step_over_their_concatenation)
{
    enum { N = 512 };
    ts_optim_config cfgs[] = {
        {.kind = TS_OPTIM_GD}, {.kind = TS_OPTIM_SIGN},
        {.kind = TS_OPTIM_ADAM, .beta1 = 0.9, .beta2 = 0.999, .epsilon = 1e-8},
        {.kind = TS_OPTIM_GD, .momentum = 0.9, .weight_decay = 0.01},
        {.kind = TS_OPTIM_SIGN, .momentum = 0.8},
        {.kind = TS_OPTIM_ADAM, .beta1 = 0.5, .beta2 = 0.9, .epsilon = 1e-6, .weight_decay = 0.1},
    };
    for (size_t c = 0; c < sizeof cfgs / sizeof cfgs[0]; c++) {
        ts_optim whole = make_config(cfgs[c], N), blocks = make_config(cfgs[c], N);
        double w1[N], w2[N], g[N];
        for (int k = 0; k < N; k++) w1[k] = w2[k] = cos(0.1 * k);
        for (int t = 0; t < 4; t++) {
            for (int k = 0; k < N; k++) g[k] = sin(0.7 * k * (t + 1)) - 0.2 * w1[k];
            ts_optim_step(&whole, w1, g, 0.02);
            step_in_blocks(&blocks, w2, g, 0.02);
        }
        ck_assert_msg(same_bits(w1, w2, N), "config %zu", c);
        ck_assert_uint_eq(whole.t, blocks.t);
        ts_optim_free(&whole);
        ts_optim_free(&blocks);
    }
}
END_TEST

START_TEST(scaled_and_sparse_steps_with_momentum_and_decay_equal_their_written_out_forms)
{
    enum { N = 700, NIDX = 5 };
    const size_t idx[NIDX] = {0, 255, 256, 513, 699};
    ts_optim_config cfgs[] = {
        {.kind = TS_OPTIM_GD, .momentum = 0.9, .weight_decay = 0.05},
        {.kind = TS_OPTIM_SIGN, .weight_decay = 0.2},
        {.kind = TS_OPTIM_ADAM, .beta1 = 0.9, .beta2 = 0.99, .epsilon = 1e-8, .weight_decay = 0.1},
    };
    for (size_t c = 0; c < sizeof cfgs / sizeof cfgs[0]; c++) {
        ts_optim fused = make_config(cfgs[c], N), dense = make_config(cfgs[c], N);
        double wf[N], wp[N], g[N], g_idx[NIDX];
        for (int k = 0; k < N; k++) wf[k] = wp[k] = 1.0 + 0.01 * k;
        for (int t = 0; t < 3; t++) {
            double scale = 0.3 + t;
            for (int k = 0; k < N; k++) g[k] = scale * wp[k];
            for (int j = 0; j < NIDX; j++) g[idx[j]] = g_idx[j] = -1.0 - j - t;
            ts_optim_step_scaled(&fused, wf, scale, idx, g_idx, NIDX, 0.1);
            ts_optim_step(&dense, wp, g, 0.1);
        }
        ck_assert_msg(same_bits(wf, wp, N), "scaled, config %zu", c);
        ts_optim_free(&fused);
        ts_optim_free(&dense);
    }
    /* sparse with momentum: the listed coordinates move as a dense heavy ball would on them,
     * the others keep their weights and their momentum */
    ts_optim sparse = make_config((ts_optim_config){.kind = TS_OPTIM_GD, .momentum = 0.5}, 4);
    ts_optim sub = make_config((ts_optim_config){.kind = TS_OPTIM_GD, .momentum = 0.5}, 2);
    double w[4] = {1, 2, 3, 4}, gs[4] = {1, -1, 2, -2}, ws[2] = {2, 4}, gsub[2] = {-1, -2};
    const size_t list[2] = {1, 3};
    for (int t = 0; t < 3; t++) {
        ts_optim_step_sparse(&sparse, w, gs, list, 2, 0.25);
        ts_optim_step(&sub, ws, gsub, 0.25);
    }
    ck_assert(w[0] == 1 && w[2] == 3 && sparse.m[0] == 0 && sparse.m[2] == 0);
    ck_assert(w[1] == ws[0] && w[3] == ws[1]);
    ts_optim_free(&sparse);
    ts_optim_free(&sub);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("optim");
    TCase *sched = tcase_create("schedule");
    tcase_add_test(sched, constant_schedule_is_base_everywhere_including_outside_the_run);
    tcase_add_test(sched, linear_decay_falls_as_one_minus_t_over_T);
    tcase_add_test(sched, cosine_is_half_cosine_at_quarter_points);
    tcase_add_test(sched, step_schedule_multiplies_by_factor_at_each_milestone);
    tcase_add_test(sched, fractions_of_the_run_round_to_the_nearest_step);
    tcase_add_test(sched, warmup_ramps_linearly_then_decay_runs_over_the_remaining_steps);
    tcase_add_test(sched, schedule_check_rejects_each_malformed_field);
    tcase_add_test(sched, names_follow_the_spec_choices_in_enum_order);
    tcase_add_test(sched, a_table_schedule_returns_base_times_its_entries);
    suite_add_tcase(s, sched);
    TCase *optim = tcase_create("optim");
    tcase_add_test(optim, gd_subtracts_lr_times_gradient);
    tcase_add_test(optim, sign_descent_moves_lr_against_the_sign_and_not_at_zero);
    tcase_add_test(optim, a_nan_gradient_reaches_the_weights_of_every_optimizer);
    tcase_add_test(optim, optim_init_rejects_betas_outside_unit_interval_and_negative_epsilon);
    tcase_add_test(optim, adam_follows_kingma_ba_algorithm_1);
    tcase_add_test(optim, adam_without_momentum_or_epsilon_is_sign_descent_bit_for_bit);
    tcase_add_test(optim, sparse_gd_and_sign_equal_a_dense_step_with_zero_gradient_elsewhere);
    tcase_add_test(optim, sparse_adam_keeps_untouched_moments_and_counts_every_call);
    tcase_add_test(optim, sparse_adam_on_a_fixed_set_equals_dense_adam_on_that_set);
    tcase_add_test(optim, scaled_step_equals_dense_step_on_the_written_out_gradient_bit_for_bit);
    tcase_add_test(optim, reset_makes_adam_start_over);
    tcase_add_test(optim, heavy_ball_accumulates_gradients_and_signum_their_average);
    tcase_add_test(optim, weight_decay_steps_on_the_gradient_of_the_decayed_loss);
    tcase_add_test(optim, momentum_is_refused_for_adam_and_outside_unit_interval);
    tcase_add_test(optim, a_step_over_blocks_equals_one_step_over_their_concatenation);
    tcase_add_test(optim, scaled_and_sparse_steps_with_momentum_and_decay_equal_their_written_out_forms);
    suite_add_tcase(s, optim);
    TCase *point = tcase_create("point");
    tcase_add_test(point, configs_read_the_points_parameters);
    suite_add_tcase(s, point);
    return ts_test_run_suite(s);
}
