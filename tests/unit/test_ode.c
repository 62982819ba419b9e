/* The shared theory layer (ode.h) against closed forms: the logistic equation and a linear
 * oscillator at many output times, a right-hand side that leaves its domain, output times out of
 * order, and the Gauss-Hermite rule's moments of the standard normal. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tailsweep/ode.h"
#include "check_main.h"

/* y' = r y (1 - y): y(t) = 1 / (1 + (1/y0 - 1) e^(-r t)) */
static int logistic(double t, const double *y, double *dydt, void *params)
{
    (void)t;
    double r = *(const double *)params;
    dydt[0] = r * y[0] * (1.0 - y[0]);
    return 0;
}

START_TEST(the_logistic_equation_matches_its_solution)
{
    double r = 1.7, y0 = 1e-3, times[50], out[50];
    for (int i = 0; i < 50; i++) times[i] = 0.4 * i;
    ts_error err = {0};
    ck_assert_int_eq(ts_ode_solve(1, logistic, &r, 0.0, &y0, times, 50, 1e-10, out, &err), TS_OK);
    for (int i = 0; i < 50; i++) {
        double exact = 1.0 / (1.0 + (1.0 / y0 - 1.0) * exp(-r * times[i]));
        ck_assert_msg(fabs(out[i] - exact) <= 1e-8 * exact + 1e-12, "t = %g: %.12g vs %.12g",
                      times[i], out[i], exact);
    }
}
END_TEST

/* y'' = -w^2 y as a system: (cos, -w sin) */
static int oscillator(double t, const double *y, double *dydt, void *params)
{
    (void)t;
    double w = *(const double *)params;
    dydt[0] = y[1];
    dydt[1] = -w * w * y[0];
    return 0;
}

START_TEST(a_system_of_two_matches_cos_and_sin)
{
    double w = 3.0, y0[2] = {1.0, 0.0}, times[3] = {0.0, 1.0, 10.0}, out[6];
    ts_error err = {0};
    ck_assert_int_eq(ts_ode_solve(2, oscillator, &w, 0.0, y0, times, 3, 1e-11, out, &err), TS_OK);
    for (int i = 0; i < 3; i++) {
        ck_assert_double_eq_tol(out[2 * i], cos(w * times[i]), 1e-8);
        ck_assert_double_eq_tol(out[2 * i + 1], -w * sin(w * times[i]), 1e-8);
    }
}
END_TEST

static int leaves_domain(double t, const double *y, double *dydt, void *params)
{
    (void)params;
    dydt[0] = 1.0;
    return t > 0.5 || y[0] > 0.5;
}

START_TEST(a_right_hand_side_that_fails_and_times_out_of_order_are_errors)
{
    double y0 = 0.0, times[2] = {0.25, 1.0}, out[2];
    ts_error err = {0};
    ck_assert_int_eq(ts_ode_solve(1, leaves_domain, NULL, 0.0, &y0, times, 2, 1e-8, out, &err),
                     TS_ERUNTIME);
    ck_assert_ptr_nonnull(strstr(err.msg, "stopped"));
    ck_assert_double_eq_tol(out[0], 0.25, 1e-12);
    ck_assert(isnan(out[1]));
    double backwards[2] = {1.0, 0.5};
    ck_assert_int_eq(ts_ode_solve(1, leaves_domain, NULL, 0.0, &y0, backwards, 2, 1e-8, out, &err),
                     TS_EUSAGE);
}
END_TEST

/* y' = -k (y - cos t) with k = 1e9: an explicit method needs ~k steps; the budget stops it. */
static int stiff(double t, const double *y, double *dydt, void *params)
{
    (void)params;
    dydt[0] = -1e9 * (y[0] - cos(t));
    return 0;
}

START_TEST(a_stiff_system_runs_out_of_steps_quickly_and_says_so)
{
    double y0 = 1.0, times[4] = {1.0, 2.0, 3.0, 4.0}, out[4];
    ts_error err = {0};
    ck_assert_int_eq(ts_ode_solve(1, stiff, NULL, 0.0, &y0, times, 4, 1e-10, out, &err),
                     TS_ERUNTIME);
    ck_assert_msg(strstr(err.msg, "too many steps"), "%s", err.msg);
    for (int i = 0; i < 4; i++) ck_assert(isnan(out[i]) || fabs(out[i] - cos(times[i])) < 1e-6);
    ck_assert(isnan(out[3]));
}
END_TEST

/* E Z^(2k) = (2k - 1)!!, odd moments 0, exactly for degree < 2n; E cos(Z) = e^(-1/2). */
START_TEST(the_gauss_rule_gives_the_normal_moments)
{
    ts_gauss_rule rule;
    ts_error err = {0};
    ck_assert_int_eq(ts_gauss_rule_init(&rule, 12, &err), TS_OK);
    double dfact = 1.0;
    for (int k = 0; k <= 11; k++) {
        double moment = 0;
        for (size_t i = 0; i < rule.n; i++) moment += rule.weight[i] * pow(rule.node[i], 2 * k);
        if (k > 0) dfact *= 2 * k - 1;
        ck_assert_msg(fabs(moment - dfact) <= 1e-12 * dfact, "E Z^%d = %.15g, not %.15g", 2 * k,
                      moment, dfact);
        double odd = 0;
        for (size_t i = 0; i < rule.n; i++) odd += rule.weight[i] * pow(rule.node[i], 2 * k + 1);
        ck_assert_double_eq_tol(odd, 0.0, 1e-12 * dfact * (2 * k + 1));
    }
    ts_gauss_rule_free(&rule);
    ck_assert_int_eq(ts_gauss_rule_init(&rule, 60, &err), TS_OK);
    double c = 0;
    for (size_t i = 0; i < rule.n; i++) c += rule.weight[i] * cos(rule.node[i]);
    ck_assert_double_eq_tol(c, exp(-0.5), 1e-14);
    ts_gauss_rule_free(&rule);
}
END_TEST

TS_TEST_MAIN("ode", the_logistic_equation_matches_its_solution, a_system_of_two_matches_cos_and_sin,
             a_right_hand_side_that_fails_and_times_out_of_order_are_errors,
             a_stiff_system_runs_out_of_steps_quickly_and_says_so,
             the_gauss_rule_gives_the_normal_moments)
