/* The convex experiment (Defazio et al.; docs/experiments.md section 4) against what does not
 * come from its code: f* approached from above by long SGD runs (a value of f* that is not the
 * minimum would be crossed), an interpolating least-squares problem whose minimum is exactly 0,
 * schedule refined rebuilt from a plain run's recorded gradient norms with refine.h, the bound
 * above the mean final suboptimality, and the refusals of check. The schedules' comparison over
 * seeds runs from the binary (tests/integration/test_convex.py). */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_blas.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_randist.h>

#include "../../src/experiments/convex.h"
#include "tailsweep/refine.h"
#include "check_main.h"
#include "experiment_fixture.h"

#define SEED 4242

static tf_run *small_run(const char *problem, const char *schedule, double step, int64_t steps)
{
    tf_run *x = tf_new("convex", SEED);
    tf_set_choice(x, "problem", problem);
    tf_set_choice(x, "schedule", schedule);
    tf_set_int(x, "dim", 8);
    tf_set_int(x, "n_train", 60);
    tf_set_int(x, "steps", steps);
    tf_set_real(x, "step_size", step);
    tf_set_record(x, TS_RECORD_LOG, 30);
    return x;
}

static double scalar(tf_run *x, const char *name) { return tf_values(x, name)[0]; }

/* The point's problem as a run builds it (the fixture's point and stream). */
static ts_convex_problem *problem_of(tf_run *x)
{
    ts_grid_point(x->g, 0, 0, x->values, &x->p);
    gsl_rng *rng = ts_rng_alloc(x->g->seed, 0, 0);
    ts_convex_problem *q = ts_convex_problem_alloc(&x->p, rng, &x->err);
    ck_assert_msg(q != NULL, "%s", x->err.msg);
    gsl_rng_free(rng);
    return q;
}

/* Least squares with l2 is the least-squares problem [X / sqrt(n); sqrt(l2) I] w = [y / sqrt(n);
 * 0]: solved by GSL's Householder QR (not the run's Cholesky of the normal equations), f* and the
 * minimiser agree to 1e-12 relative. */
START_TEST(least_squares_f_star_matches_an_independent_qr_solve)
{
    tf_run *x = small_run("least_squares", "constant", 0.1, 10);
    tf_set_int(x, "dim", 12);
    tf_set_int(x, "n_train", 40);
    tf_set_real(x, "l2", 0.01);
    tf_set_real(x, "condition_number", 1e4);
    ts_convex_problem *q = problem_of(x);
    const ts_dataset *data = ts_convex_data(q);
    size_t n = 40, d = 12, rows = n + d;
    gsl_matrix *a = gsl_matrix_calloc(rows, d);
    gsl_vector *b = gsl_vector_calloc(rows), *tau = gsl_vector_alloc(d);
    gsl_vector *w = gsl_vector_alloc(d), *res = gsl_vector_alloc(rows);
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < d; k++)
            gsl_matrix_set(a, i, k, data->x[i * d + k] / sqrt((double)n));
        gsl_vector_set(b, i, data->y[i] / sqrt((double)n));
    }
    for (size_t k = 0; k < d; k++) gsl_matrix_set(a, n + k, k, sqrt(0.01));
    ck_assert_int_eq(gsl_linalg_QR_decomp(a, tau), 0);
    ck_assert_int_eq(gsl_linalg_QR_lssolve(a, tau, b, w, res), 0);
    double fstar = 0.5 * gsl_blas_dnrm2(res) * gsl_blas_dnrm2(res);
    ck_assert_msg(fabs(ts_convex_fstar(q) - fstar) <= 1e-12 * fstar, "f* %.17g, QR %.17g",
                  ts_convex_fstar(q), fstar);
    double wnorm = gsl_blas_dnrm2(w);
    for (size_t k = 0; k < d; k++)
        ck_assert_double_eq_tol(ts_convex_minimiser(q)[k], gsl_vector_get(w, k), 1e-10 * wnorm);
    gsl_matrix_free(a), gsl_vector_free(b), gsl_vector_free(tau), gsl_vector_free(w);
    gsl_vector_free(res);
    ts_convex_problem_free(q);
    tf_free(x);
}
END_TEST

/* At the minimiser the gradient vanishes (1e-10 of its size at 0), and f rises the same either
 * way along random directions: the linear term, which a minimiser that is off by the Newton
 * solve's error would show, is below 1e-3 of the quadratic one. */
static void the_minimiser_is_stationary(const char *problem)
{
    tf_run *x = small_run(problem, "constant", 0.1, 10);
    tf_set_int(x, "dim", 20);
    tf_set_int(x, "n_train", 300);
    ts_convex_problem *q = problem_of(x);
    size_t d = 20;
    double g[20], w[20], plus[20], minus[20], zero[20] = {0};
    const double *opt = ts_convex_minimiser(q);
    double fstar = ts_convex_fstar(q);
    ts_convex_objective(q, zero, g);
    gsl_vector_view gv = gsl_vector_view_array(g, d);
    double g0 = gsl_blas_dnrm2(&gv.vector);
    ck_assert_double_eq(ts_convex_objective(q, opt, g), fstar);
    double gopt = gsl_blas_dnrm2(&gv.vector);
    ck_assert_msg(gopt < 1e-10 * g0, "%s: |grad f(opt)| = %g, |grad f(0)| = %g", problem, gopt,
                  g0);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, SEED);
    for (int trial = 0; trial < 20; trial++) {
        for (size_t k = 0; k < d; k++) w[k] = 1e-3 * gsl_ran_gaussian(rng, 1.0);
        for (size_t k = 0; k < d; k++) plus[k] = opt[k] + w[k], minus[k] = opt[k] - w[k];
        double up = ts_convex_objective(q, plus, NULL) - fstar;
        double down = ts_convex_objective(q, minus, NULL) - fstar;
        ck_assert_msg(up > 0 && down > 0, "%s: f below f* near the minimiser", problem);
        ck_assert_msg(fabs(up - down) < 1e-3 * (up + down), "%s: rises %g and %g", problem, up,
                      down);
    }
    gsl_rng_free(rng);
    ts_convex_problem_free(q);
    tf_free(x);
}

START_TEST(the_minimisers_are_stationary)
{
    the_minimiser_is_stationary("least_squares");
    the_minimiser_is_stationary("logistic");
}
END_TEST

/* A long run with linear decay ends within a small fraction of the initial gap above f*, and
 * no record goes below f* by more than rounding: an f* above the minimum would be crossed, one
 * below it would leave a gap. */
static void converges_from_above(const char *problem, double step)
{
    tf_run *x = small_run(problem, "linear_decay", step, 40000);
    tf_set_int(x, "batch_size", 16);
    for (uint32_t rep = 0; rep < 3; rep++) {
        ck_assert_int_eq(tf_go_ok(x, rep), TS_DONE);
        const double *gap = tf_values(x, "suboptimality"), *loss = tf_values(x, "loss");
        double fstar = scalar(x, "optimum"), rounding = 1e-13 * fmax(1.0, fabs(fstar));
        size_t nrec = tf_nrecords(x);
        ck_assert(gap[0] > 0);
        for (size_t k = 0; k < nrec; k++) {
            ck_assert_msg(gap[k] >= -rounding, "%s: f - f* = %g at record %zu", problem, gap[k],
                          k);
            ck_assert_double_eq_tol(gap[k], loss[k] - fstar, rounding);
        }
        double final = scalar(x, "final_suboptimality");
        ck_assert_double_eq(final, gap[nrec - 1]);
        ck_assert_msg(final < 1e-4 * gap[0], "%s: final gap %g of an initial %g", problem, final,
                      gap[0]);
    }
    tf_free(x);
}

START_TEST(least_squares_sgd_approaches_f_star_from_above)
{
    converges_from_above("least_squares", 0.2);
}
END_TEST

START_TEST(logistic_sgd_approaches_f_star_from_above)
{
    converges_from_above("logistic", 1.0);
}
END_TEST

/* Noiseless labels and no l2: the teacher fits every sample, so f* = 0 and every sample's
 * gradient vanishes there; SGD then converges linearly to it, the full gradient with it. */
START_TEST(an_interpolating_problem_has_f_star_zero_and_sgd_reaches_it)
{
    tf_run *x = small_run("least_squares", "constant", 0.3, 3000);
    tf_set_real(x, "label_noise", 0.0);
    tf_set_real(x, "l2", 0.0);
    tf_set_real(x, "condition_number", 10.0);
    ck_assert_int_eq(tf_go_ok(x, 0), TS_DONE);
    ck_assert_msg(fabs(scalar(x, "optimum")) < 1e-25, "f* = %g", scalar(x, "optimum"));
    ck_assert_msg(scalar(x, "final_suboptimality") < 1e-20, "f(w_T) = %g",
                  scalar(x, "final_suboptimality"));
    ck_assert_msg(tf_last(x, "grad_norm") < 1e-9, "|grad f(w_T)| = %g", tf_last(x, "grad_norm"));
    tf_free(x);
}
END_TEST

/* Schedule refined's first pass is the refine_from run itself (same start, same minibatches);
 * its recorded lr is refine.h's schedule of that run's minibatch gradient norms, times the base
 * step. Every step recorded, so the plain run's grad_norm series holds all the norms. */
static void refined_is_rebuilt_from(const char *problem, const char *filter, double width)
{
    const int64_t T = 50;
    const double eta = 0.3;
    tf_run *plain = small_run(problem, "linear_decay", eta, T);
    tf_run *refined = small_run(problem, "refined", eta, T);
    tf_set_record(plain, TS_RECORD_LINEAR, T + 1);
    tf_set_record(refined, TS_RECORD_LINEAR, T + 1);
    tf_set_choice(refined, "refine_filter", filter);
    tf_set_real(refined, "refine_width", width);
    ck_assert_int_eq(tf_go_ok(plain, 1), TS_DONE);
    ck_assert_int_eq(tf_go_ok(refined, 1), TS_DONE);
    ck_assert_uint_eq(tf_nrecords(plain), (size_t)T + 1);

    const double *first = tf_values(refined, "first_pass_loss"), *loss = tf_values(plain, "loss");
    for (int64_t t = 0; t <= T; t++) ck_assert_double_eq(first[t], loss[t]);
    ck_assert(isnan(tf_values(plain, "first_pass_loss")[0]));

    double *eta_t = malloc((size_t)T * sizeof *eta_t);
    ts_error err;
    double w = strcmp(filter, "median") == 0 ? fmax(1.0, round(width * (double)T))
                                              : width * (double)T;
    ts_refine_filter f;
    ck_assert_int_eq(ts_refine_filter_parse(filter, &f, &err), TS_OK);
    ck_assert_int_eq(ts_refine_schedule(tf_values(plain, "grad_norm"), (size_t)T, f, w, 2.0,
                                        eta_t, &err), TS_OK);
    const double *lr = tf_values(refined, "lr");
    double peak = 0;
    for (int64_t t = 0; t < T; t++) {
        ck_assert_double_eq_tol(lr[t], eta * eta_t[t], 1e-15);
        peak = fmax(peak, lr[t]);
    }
    ck_assert_double_eq(lr[T - 1], 0.0);
    ck_assert_double_eq_tol(peak, eta, 1e-15);
    /* the refined pass starts where the first did, on the same first minibatch */
    ck_assert_double_eq(tf_values(refined, "loss")[0], loss[0]);
    ck_assert_double_eq(tf_values(refined, "grad_norm")[0], tf_values(plain, "grad_norm")[0]);
    free(eta_t);
    tf_free(plain);
    tf_free(refined);
}

START_TEST(refined_runs_on_the_first_pass_norms)
{
    refined_is_rebuilt_from("least_squares", "median", 0.1);
    refined_is_rebuilt_from("logistic", "gaussian", 0.05);
    refined_is_rebuilt_from("least_squares", "none", 0.1);
}
END_TEST

/* Theorem 1 bounds the expected final gap: over seeds, the mean bound stays above the mean
 * final suboptimality for every shape (at a step that converges, so the bound is informative). */
START_TEST(the_bound_is_above_the_mean_final_suboptimality)
{
    const char *schedules[] = {"constant", "linear_decay", "cosine", "refined"};
    const char *problems[] = {"least_squares", "logistic"};
    const uint32_t seeds = 16;
    for (size_t p = 0; p < 2; p++)
        for (size_t s = 0; s < 4; s++) {
            tf_run *x = small_run(problems[p], schedules[s], p ? 1.0 : 0.2, 400);
            double bound = 0, gap = 0;
            for (uint32_t rep = 0; rep < seeds; rep++) {
                ck_assert_int_eq(tf_go_ok(x, rep), TS_DONE);
                double b = scalar(x, "bound");
                ck_assert_msg(isfinite(b) && b > 0, "bound %g", b);
                bound += b / seeds;
                gap += scalar(x, "final_suboptimality") / seeds;
            }
            ck_assert_msg(gap < bound, "%s %s: mean gap %g above the mean bound %g", problems[p],
                          schedules[s], gap, bound);
            tf_free(x);
        }
}
END_TEST

START_TEST(a_step_too_large_diverges_in_either_pass)
{
    tf_run *x = small_run("least_squares", "linear_decay", 50.0, 200);
    ck_assert_int_eq(tf_go(x, 0), TS_DIVERGED);
    tf_set_choice(x, "schedule", "refined");
    ck_assert_int_eq(tf_go(x, 0), TS_DIVERGED);
    tf_free(x);
}
END_TEST

static void refuses(tf_run *x, const char *message)
{
    ck_assert_int_eq(tf_go(x, 0), TS_FAILED);
    ck_assert_msg(strstr(x->err.msg, message) != NULL, "message: %s", x->err.msg);
    ck_assert_int_eq(x->g->experiment->check(&x->p, &x->err), TS_EUSAGE);
    tf_free(x);
}

START_TEST(check_refuses_what_the_model_cannot_run)
{
    tf_run *x = small_run("least_squares", "constant", 0.1, 10);
    tf_set_real(x, "weight_decay", 0.01);
    refuses(x, "set l2");
    x = small_run("least_squares", "refined", 0.1, 1);
    refuses(x, "at least 2 steps");
    x = small_run("logistic", "constant", 0.1, 10);
    tf_set_real(x, "l2", 0.0);
    tf_set_real(x, "label_flip", 0.0);
    refuses(x, "separable");
}
END_TEST

TS_TEST_MAIN("convex", least_squares_f_star_matches_an_independent_qr_solve,
             the_minimisers_are_stationary, least_squares_sgd_approaches_f_star_from_above,
             logistic_sgd_approaches_f_star_from_above,
             an_interpolating_problem_has_f_star_zero_and_sgd_reaches_it,
             refined_runs_on_the_first_pass_norms, the_bound_is_above_the_mean_final_suboptimality,
             a_step_too_large_diverges_in_either_pass, check_refuses_what_the_model_cannot_run)
