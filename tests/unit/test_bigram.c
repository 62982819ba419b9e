/* The bigram experiment (Kunstner & Bach, arXiv:2505.19227) against its closed forms, its three
 * modes against each other, and the paper's scaling laws. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <valgrind/valgrind.h>

#include "tailsweep/grid.h"
#include "tailsweep/optim.h"
#include "tailsweep/rng.h"
#include "check_main.h"
#include "experiment_fixture.h"

/* ------------------------------------------------------------------ fixture */

/* Under valgrind (make check-valgrind) the statistical cases run on smaller samples, with their
 * tolerances derived from the sample actually drawn, and the scaling-law cases (d up to 10^6,
 * whose code paths the small-d cases run too) are left to the native run. The variable
 * TS_TEST_VALGRIND_SIZES=1 selects the same sizes natively, to check them quickly. */
static int valgrind_sizes(void)
{
    return RUNNING_ON_VALGRIND || getenv("TS_TEST_VALGRIND_SIZES") != NULL;
}

typedef tf_run run;

static void set_eps(run *x, const double *eps, size_t n) { tf_set_list(x, "eps", eps, n); }

/* A run of `mode` at (dim, exponent, steps); further settings before go(). */
static run *make(const char *mode, int64_t dim, double exponent, int64_t steps)
{
    run *x = tf_new("bigram", 2025);
    tf_set_choice(x, "mode", mode);
    tf_set_int(x, "dim", dim);
    tf_set_real(x, "zipf_exponent", exponent);
    tf_set_int(x, "steps", steps);
    tf_set_record(x, TS_RECORD_LOG, 40);
    return x;
}

static int close_rel(double a, double b, double tol)
{
    return (isnan(a) && isnan(b)) || fabs(a - b) <= tol * fmax(fabs(a), fabs(b));
}

/* H(d, a) = sum_k k^-a, summed from the small terms up: the test's own normaliser */
static double harmonic(int64_t d, double a)
{
    double h = 0;
    for (int64_t k = d; k >= 1; k--) h += pow((double)k, -a);
    return h;
}

/* ------------------------------------------------------------------ exact vs full */

/* Every recorded series and final_rel_err agree to 1e-10 relative: the full mode iterates the
 * d x d matrix with the shared optimizer, the exact mode evaluates closed forms; both round
 * near 1e-16 per operation and the iteration compounds it over t <= 400 steps (~1e-13). One
 * limit is the iterate's own: w is stored near its target p, so its error w - p cannot resolve
 * below ulp(p) ~ 1e-16 p; a loss gap of r relative leaves errors near sqrt(r) p, so the runs
 * stop while r >= 1e-6 (relative rounding <= 1e-16 t / 1e-3 = 4e-11). */
static void assert_series_agree(run *ex, run *fu)
{
    static const char *const series[] = {"loss", "rel_err", "theory_rel_err",
                                         "asymptotic_rel_err"};
    ck_assert_int_eq(tf_nrecords(ex), tf_nrecords(fu));
    for (size_t s = 0; s < sizeof series / sizeof series[0]; s++) {
        double *a = tf_values(ex, series[s]), *b = tf_values(fu, series[s]);
        for (size_t k = 0; k < tf_nrecords(ex); k++)
            ck_assert_msg(close_rel(a[k], b[k], 1e-10), "%s at t = %lld: %.17g vs %.17g",
                          series[s], (long long)ex->r.times[k], a[k], b[k]);
    }
    double fa = *tf_values(ex, "final_rel_err"), fb = *tf_values(fu, "final_rel_err");
    ck_assert_msg(close_rel(fa, fb, 1e-10), "final %.17g vs %.17g", fa, fb);
    /* the simulated curve against the finite-d closed form, within the full run itself */
    double *sim = tf_values(fu, "rel_err"), *theory = tf_values(fu, "theory_rel_err");
    for (size_t k = 0; k < tf_nrecords(fu); k++)
        ck_assert_msg(close_rel(sim[k], theory[k], 1e-10), "closed form at t = %lld",
                      (long long)fu->r.times[k]);
}

START_TEST(exact_and_full_gd_agree_to_1e_10)
{
    static const double eps[] = {0.5, 0.3, 0.1};
    const double exponents[] = {0.5, 1.0, 2.0};
    const int64_t dims[] = {300, 120, 60}, steps[] = {80, 300, 200};
    for (int c = 0; c < 3; c++) {
        run *ex = make("exact", dims[c], exponents[c], steps[c]);
        run *fu = make("full", dims[c], exponents[c], steps[c]);
        set_eps(ex, eps, 3);
        set_eps(fu, eps, 3);
        ck_assert_int_eq(tf_go(ex, 0), TS_DONE);
        ck_assert_int_eq(tf_go(fu, 0), TS_DONE);
        ck_assert(*tf_values(ex, "final_rel_err") >= 1e-6);
        assert_series_agree(ex, fu);
        /* exact GD solves r(t) = eps on real t (r decreases), the full mode records the first
         * integer hit: the ceiling of the real root */
        double *a = tf_values(ex, "steps_to_eps"), *b = tf_values(fu, "steps_to_eps");
        int reached = 0;
        for (int e = 0; e < 3; e++) {
            ck_assert_msg((isnan(a[e]) && isnan(b[e])) || ceil(a[e]) == b[e],
                          "a = %g eps %g: %.17g vs %g", exponents[c], eps[e], a[e], b[e]);
            ck_assert(isnan(a[e]) || a[e] != floor(a[e])); /* a real root, not an echo */
            reached += !isnan(a[e]);
        }
        ck_assert_int_ge(reached, 2);
        tf_free(ex);
        tf_free(fu);
    }
}
END_TEST

/* The smallest distance of pi_k / eta to an integer, relative: sign descent's phase decisions
 * are exact comparisons, so the agreement needs targets that are not (nearly) multiples of eta,
 * where the full mode's accumulated rounding picks the landing. */
static double distance_to_multiple(int64_t d, double a, double eta)
{
    double h = harmonic(d, a), worst = 1;
    for (int64_t k = 1; k <= d; k++) {
        double q = pow((double)k, -a) / h / eta;
        worst = fmin(worst, fabs(q - nearbyint(q)));
    }
    return worst;
}

START_TEST(exact_and_full_sign_descent_agree_to_1e_10)
{
    static const double eps[] = {0.5, 0.3, 0.1, 0.02};
    const double exponents[] = {0.5, 1.0, 2.0};
    const int64_t dims[] = {300, 200, 80}, steps = 400;
    for (int c = 0; c < 3; c++) {
        /* an irrational-looking step, so that the targets hit no multiple of it */
        double eta = 1.0 / (harmonic(dims[c], exponents[c]) * 97.3 * sqrt(2.0));
        ck_assert(distance_to_multiple(dims[c], exponents[c], eta) > 1e-7);
        run *ex = make("exact", dims[c], exponents[c], steps);
        run *fu = make("full", dims[c], exponents[c], steps);
        for (run **x = (run *[]){ex, fu, NULL}; *x; x++) {
            tf_set_choice(*x, "optimizer", "sign");
            tf_set_choice(*x, "step_rule", "explicit");
            tf_set_real(*x, "step_size", eta);
            tf_set_record(*x, TS_RECORD_LINEAR, 101); /* both parities of t */
            set_eps(*x, eps, 4);
            ck_assert_int_eq(tf_go(*x, 0), TS_DONE);
        }
        assert_series_agree(ex, fu);
        double *a = tf_values(ex, "steps_to_eps"), *b = tf_values(fu, "steps_to_eps");
        int reached = 0;
        for (int e = 0; e < 4; e++) {
            ck_assert_msg((isnan(a[e]) && isnan(b[e])) || a[e] == b[e], "%g vs %g", a[e], b[e]);
            reached += !isnan(a[e]);
        }
        ck_assert_int_ge(reached, 3);
        tf_free(ex);
        tf_free(fu);
    }
}
END_TEST

/* r(t) = sum_k pi_k |1 - eta pi_k|^(2t) summed term by term, the test's own way: pi from a
 * compensated (Neumaier) harmonic sum, terms added with Neumaier compensation, so that the
 * reference itself is good to a few ulp (long double would not help under valgrind, which
 * computes it in double). */
static double neumaier_add(double sum, double x, double *carry)
{
    double t = sum + x;
    *carry += fabs(sum) >= fabs(x) ? (sum - t) + x : (x - t) + sum;
    return t;
}

static double *compensated_pi(int64_t d, double a)
{
    double *pi = malloc((size_t)d * sizeof *pi), h = 0, carry = 0;
    for (int64_t k = d; k >= 1; k--) h = neumaier_add(h, pow((double)k, -a), &carry);
    h += carry;
    for (int64_t k = 0; k < d; k++) pi[k] = pow((double)(k + 1), -a) / h;
    return pi;
}

static double gd_term_by_term(const double *pi, int64_t d, double eta, int64_t t)
{
    double sum = 0, carry = 0;
    for (int64_t k = 0; k < d; k++) {
        double x = eta * pi[k];
        double ell = x < 1 ? log1p(-x) : x == 1 ? -INFINITY : log(x - 1);
        sum = neumaier_add(sum, t == 0 ? pi[k] : pi[k] * exp(2.0 * (double)t * ell), &carry);
    }
    return sum + carry;
}

/* The exact mode sums blocks of coordinates whose contraction varies little at t from their
 * Taylor moments, the rest term by term; the result must be the term-by-term sum to rounding.
 * Budget, relative, at d = 4 10^4:
 * - the test's pi and log1p against the library's differ by ~2 ulp, i.e. 2.2e-16 |2t ell| with
 *   |2t ell| <= 60 on the terms that carry the sum (the last record is chosen so): 1.3e-14;
 *   with eta = 1/pi_1, eta pi_k = k^-a does not depend on the normaliser H(d, a), whose long
 *   double sum valgrind computes in double: its error then only scales r, by ~sqrt(d) eps =
 *   2e-14 under valgrind;
 * - the moments' truncation 2e-18 and Horner's rounding 16 e eps = 4.8e-15;
 * - the library's summation order (8 lanes per chunk of 256, then chunk by chunk): at most
 *   (d/256 + 40) eps = 2.2e-14; exp's own 1 ulp.
 * Under 8e-14 in all: 1e-13. The record times are log-spaced, so that both kinds of block occur
 * (a coordinate k is summed from moments roughly when k >= 16 sqrt(2t) at a = 1). */
START_TEST(exact_gd_equals_the_term_by_term_sum_to_1e_13)
{
    const int64_t d = 40000;
    const double exponents[] = {1.0, 0.5, 2.0};
    const int64_t steps[] = {1000000, 6000, 10000000};
    const double step_factor[] = {1.0, 1.0, 1.5}; /* eta pi_1: 1.5 > 1 flips coordinate 1 */
    for (int c = 0; c < 3; c++) {
        run *x = make("exact", d, exponents[c], steps[c]);
        double *pi = compensated_pi(d, exponents[c]), eta = step_factor[c] / pi[0];
        if (step_factor[c] != 1) { /* else 1/pi_1: eta pi_k = k^-a whatever the normaliser */
            tf_set_choice(x, "step_rule", "explicit");
            tf_set_real(x, "step_size", eta);
        }
        tf_set_record(x, TS_RECORD_LOG, 25);
        ck_assert_int_eq(tf_go(x, 0), TS_DONE);
        double *rel = tf_values(x, "rel_err");
        for (size_t k = 0; k < tf_nrecords(x); k++) {
            double want = gd_term_by_term(pi, d, eta, x->r.times[k]);
            ck_assert_msg(close_rel(rel[k], want, 1e-13), "a = %g, t = %lld: %.17g vs %.17g",
                          exponents[c], (long long)x->r.times[k], rel[k], want);
        }
        ck_assert(rel[tf_nrecords(x) - 1] < 0.1); /* the run reached the slow tail */
        free(pi);
        tf_free(x);
    }
}
END_TEST

/* An exact sign-descent run with step_rule phi (eta = 1/(H(d, a) T phi^a), T = steps). */
static run *sign_phi_run(int64_t d, int64_t steps, double phi, int64_t grid)
{
    run *x = make("exact", d, 1.0, steps);
    tf_set_choice(x, "optimizer", "sign");
    tf_set_choice(x, "step_rule", "phi");
    tf_set_real(x, "phi", phi);
    tf_set_int(x, "phi_grid", grid);
    tf_set_record(x, TS_RECORD_LINEAR, 3);
    return x;
}

static double last(run *x, const char *name)
{
    return tf_values(x, name)[tf_nrecords(x) - 1];
}

/* The best-phi envelope at the horizon T = steps is a minimum over the same family of steps as
 * step_rule phi: no fixed phi does better, and a run at the reported best phi reproduces it
 * (two code paths: prefix sums at any eta against the suffix-sum table at one eta; both round
 * near 1e-16 S0, and the best phi goes through exp and pow, moving eta by an ulp or two: 1e-9
 * is far above that, far below the gaps between phis). best_avg_steps_to_eps is the first
 * horizon whose envelope of the mean iterate reaches eps; asymptotic_best_rel_err is Thm 4.5's
 * 1/(zeta(2) (1 + 4 T^2 / d)) at a = 1, with zeta(2) = pi^2/6 here. */
START_TEST(sign_descent_best_phi_is_the_minimum_over_phi)
{
    static const double eps[] = {0.3};
    const int64_t d = 2000, steps = 60;
    run *env = sign_phi_run(d, steps, 1.0, 13);
    set_eps(env, eps, 1);
    ck_assert_int_eq(tf_go(env, 0), TS_DONE);
    double best = last(env, "best_rel_err"), phi = last(env, "best_phi");
    ck_assert_msg(phi >= 1 && phi <= (double)d, "phi %g", phi);
    const double fixed[] = {1.0, 1.7, 3.0, 10.0, 100.0, 2000.0};
    for (int c = 0; c < 6; c++) {
        run *x = sign_phi_run(d, steps, fixed[c], 0);
        ck_assert_int_eq(tf_go(x, 0), TS_DONE);
        ck_assert_msg(best <= last(x, "rel_err") * (1 + 1e-12), "phi %g: %.17g < best %.17g",
                      fixed[c], last(x, "rel_err"), best);
        tf_free(x);
    }
    run *at = sign_phi_run(d, steps, phi, 0);
    ck_assert_int_eq(tf_go(at, 0), TS_DONE);
    ck_assert_msg(close_rel(last(at, "rel_err"), best, 1e-9), "%.17g vs %.17g",
                  last(at, "rel_err"), best);
    tf_free(at);

    double hit = tf_values(env, "best_avg_steps_to_eps")[0];
    ck_assert_msg(hit >= 2 && hit <= (double)steps, "steps to eps %g", hit);
    for (int before = 0; before < 2; before++) {
        run *x = sign_phi_run(d, (int64_t)hit - before, 1.0, 13);
        ck_assert_int_eq(tf_go(x, 0), TS_DONE);
        double r = last(x, "best_avg_rel_err");
        ck_assert_msg(before ? r > eps[0] : r <= eps[0], "T = %g: %g", hit - before, r);
        tf_free(x);
    }
    double pi = 4 * atan(1.0), zeta2 = pi * pi / 6;
    double tau2 = 4.0 * (double)(steps * steps) / (double)d;
    ck_assert(close_rel(last(env, "asymptotic_best_rel_err"), 1 / (zeta2 * (1 + tau2)), 1e-12));
    tf_free(env);
}
END_TEST

/* ------------------------------------------------------------------ full mode */

/* Entries evolve independently and every row holds the same multiset of targets, so the loss
 * cannot depend on which permutations were drawn: only the order of summation differs. For
 * Adam and cross-entropy too (softmax is permutation-equivariant). */
START_TEST(full_loss_does_not_depend_on_the_permutations)
{
    const char *optimizers[] = {"gd", "sign", "adam"};
    const char *losses[] = {"square", "square", "cross_entropy"};
    for (int c = 0; c < 3; c++) {
        run *x[2];
        const char *perm[] = {"independent", "shared"};
        for (int k = 0; k < 2; k++) {
            x[k] = make("full", 40, 1.0, 60);
            tf_set_choice(x[k], "optimizer", optimizers[c]);
            tf_set_choice(x[k], "objective", losses[c]);
            tf_set_choice(x[k], "permutation", perm[k]);
            if (c > 0) {
                tf_set_choice(x[k], "step_rule", "explicit");
                tf_set_real(x[k], "step_size", c == 1 ? 1e-3 : 0.05);
            }
            ck_assert_int_eq(tf_go(x[k], 0), TS_DONE);
        }
        double *a = tf_values(x[0], "loss"), *b = tf_values(x[1], "loss");
        ck_assert(a[tf_nrecords(x[0]) - 1] < 0.9 * a[0]); /* the runs did move */
        for (size_t k = 0; k < tf_nrecords(x[0]); k++)
            ck_assert_msg(close_rel(a[k], b[k], 1e-12), "%s: %.17g vs %.17g", optimizers[c],
                          a[k], b[k]);
        tf_free(x[0]);
        tf_free(x[1]);
    }
}
END_TEST

/* Adam with beta1 = beta2 = epsilon = 0 takes g / |g| = sign(g) steps: through the column
 * views of the shared optimizer the two runs must be the same bit for bit. */
START_TEST(full_adam_with_zero_betas_is_sign_descent)
{
    run *x[2];
    const char *opt[] = {"adam", "sign"};
    for (int k = 0; k < 2; k++) {
        x[k] = make("full", 50, 1.0, 80);
        tf_set_choice(x[k], "optimizer", opt[k]);
        tf_set_real(x[k], "adam_beta1", 0);
        tf_set_real(x[k], "adam_beta2", 0);
        tf_set_real(x[k], "adam_epsilon", 0);
        tf_set_choice(x[k], "step_rule", "phi");
        tf_set_real(x[k], "phi", 3.3);
        ck_assert_int_eq(tf_go(x[k], 0), TS_DONE);
    }
    double *a = tf_values(x[0], "loss"), *b = tf_values(x[1], "loss");
    for (size_t k = 0; k < tf_nrecords(x[0]); k++) ck_assert(a[k] == b[k]);
    ck_assert(a[tf_nrecords(x[0]) - 1] < 0.5 * a[0]);
    tf_free(x[0]);
    tf_free(x[1]);
}
END_TEST

/* The full mode steps column by column through views of one optimizer state. Reference: one
 * ts_optim_step over all d^2 entries at once, with identity permutations (the loss does not
 * depend on them), square loss, Adam with its default moments. */
START_TEST(full_adam_matches_one_whole_matrix_step)
{
    const int64_t d = 30, steps = 50;
    const double lr = 0.02;
    run *x = make("full", d, 1.0, steps);
    tf_set_choice(x, "optimizer", "adam");
    tf_set_choice(x, "step_rule", "explicit");
    tf_set_real(x, "step_size", lr);
    tf_set_record(x, TS_RECORD_LINEAR, steps + 1);
    ck_assert_int_eq(tf_go(x, 0), TS_DONE);

    double h = harmonic(d, 1.0), *pi = malloc(d * sizeof *pi);
    for (int64_t k = 0; k < d; k++) pi[k] = 1.0 / ((double)(k + 1) * h);
    double *w = calloc(d * d, sizeof *w), *g = malloc(d * d * sizeof *g);
    ts_optim o;
    ts_optim_config cfg = {.kind = TS_OPTIM_ADAM, .beta1 = 0.9, .beta2 = 0.999,
                           .epsilon = 1e-8};
    ck_assert_int_eq(ts_optim_init(&o, &cfg, d * d, &x->err), TS_OK);
    double *loss = tf_values(x, "loss");
    for (int64_t t = 0; t <= steps; t++) {
        double gap = 0;
        for (int64_t i = 0; i < d; i++)
            for (int64_t j = 0; j < d; j++) {
                double e = w[i * d + j] - pi[j];
                g[i * d + j] = pi[i] * e;
                gap += 0.5 * pi[i] * e * e;
            }
        ck_assert_msg(close_rel(loss[t], gap, 1e-11), "t = %lld: %.17g vs %.17g",
                      (long long)t, loss[t], gap);
        ts_optim_step(&o, w, g, lr);
    }
    ts_optim_free(&o);
    free(pi);
    free(w);
    free(g);
    tf_free(x);
}
END_TEST

START_TEST(gd_above_two_over_pi1_diverges_below_converges)
{
    const int64_t d = 50;
    double h = harmonic(d, 1.0); /* 1/pi_1 */
    const char *modes[] = {"exact", "full"};
    for (int m = 0; m < 2; m++)
        for (int c = 0; c < 2; c++) {
            run *x = make(modes[m], d, 1.0, 2000);
            tf_set_choice(x, "step_rule", "explicit");
            tf_set_real(x, "step_size", (c ? 2.05 : 1.99) * h);
            ck_assert_int_eq(tf_go(x, 0), c ? TS_DIVERGED : TS_DONE);
            tf_free(x);
        }
}
END_TEST

START_TEST(unsupported_exact_settings_fail_with_a_message)
{
    const char *name[] = {"optimizer", "objective", "schedule"};
    const char *choice[] = {"adam", "cross_entropy", "cosine"};
    const char *says[] = {"Adam", "cross-entropy", "constant"};
    for (int c = 0; c < 3; c++) {
        run *x = make("exact", 100, 1.0, 100);
        tf_set_choice(x, name[c], choice[c]);
        ck_assert_int_eq(tf_go(x, 0), TS_FAILED);
        ck_assert_msg(strstr(x->err.msg, says[c]) != NULL, "message: %s", x->err.msg);
        tf_free(x);
    }
}
END_TEST

/* ------------------------------------------------------------------ sampled mode */

static void mean_and_sd(const double *x, int n, double *mean, double *sd)
{
    double m = 0, v = 0;
    for (int k = 0; k < n; k++) m += x[k];
    m /= n;
    for (int k = 0; k < n; k++) v += (x[k] - m) * (x[k] - m);
    *mean = m;
    *sd = sqrt(v / (n - 1));
}

/* SGD on batches of B pairs. Per column the batch gradient is unbiased, E g = pi_i (w_i - p_i),
 * so E w_t follows GD and E r(t) = r_GD(t) + (sum_i pi_i tr Cov w_i(t)) / S0. One pair's term
 * 1{i_b = i}(w_i - e_j) has E||.||^2 = pi_i (||w_i - p_i||^2 + 1 - S0) <= pi_i (1 + V), so
 * Cov grows by at most eta^2 pi_i (1 + V)/B per step (|1 - eta pi_i| <= 1), and with
 * sum_i pi_i^2 = S0: 0 <= E r(t) - r_GD(t) <= t eta^2 (1 + V)/B, V <= that same bound. Around
 * its mean the R-repeat average fluctuates by sd/sqrt(R): allow 5 of those. */
START_TEST(sampled_sgd_with_large_batches_approaches_exact)
{
    enum { R = 8 };
    /* valgrind: fewer steps, so that a 4x smaller batch keeps the bias bound t eta^2 / B under
     * a tenth of r(t) (checked below) */
    const int64_t d = 30, steps = valgrind_sizes() ? 10 : 20;
    const int64_t batch = valgrind_sizes() ? 50000 : 200000;
    run *ex = make("exact", d, 1.0, steps);
    tf_set_record(ex, TS_RECORD_LINEAR, 5);
    ck_assert_int_eq(tf_go(ex, 0), TS_DONE);
    double eta = harmonic(d, 1.0);
    double r_sampled[5][R];
    run *sa = make("sampled", d, 1.0, steps);
    tf_set_record(sa, TS_RECORD_LINEAR, 5);
    tf_set_int(sa, "batch_size", batch);
    for (int rep = 0; rep < R; rep++) {
        ck_assert_int_eq(tf_go(sa, (uint32_t)rep), TS_DONE);
        for (int k = 0; k < 5; k++) r_sampled[k][rep] = tf_values(sa, "rel_err")[k];
    }
    double *exact = tf_values(ex, "rel_err");
    for (int k = 1; k < 5; k++) {
        double t = (double)ex->r.times[k], bias = t * eta * eta / batch;
        bias *= 1 + bias;
        double mean, sd;
        mean_and_sd(r_sampled[k], R, &mean, &sd);
        double noise = 5 * sd / sqrt(R);
        ck_assert_msg(mean >= exact[k] - noise && mean <= exact[k] + bias + noise,
                      "t = %g: sampled %.6g vs exact %.6g (bias <= %.2g, noise %.2g)", t, mean,
                      exact[k], bias, noise);
        /* the tolerance is tight enough to mean something: under 10% of the value */
        ck_assert_msg(bias + noise < 0.1 * exact[k], "t = %g: bias %g noise %g exact %g", t,
                      bias, noise, exact[k]);
    }
    tf_free(ex);
    tf_free(sa);
}
END_TEST

/* The cross-entropy batch gradient (count/B) softmax(w_i) - (1/B) sum e_j is unbiased for the
 * full mode's population gradient pi_i (softmax(w_i) - p_i): at large B the sampled mean
 * follows the full run; the same variance argument as above with a 5 sd allowance, plus a 2%
 * allowance for the (second-order, nonlinear) noise bias. */
START_TEST(sampled_cross_entropy_follows_full_at_large_batches)
{
    enum { R = 6 };
    /* valgrind: half the steps (the noise bias accumulates with t, so the 2% still covers it) */
    const int64_t d = 20, steps = valgrind_sizes() ? 10 : 20;
    run *fu = make("full", d, 1.0, steps), *sa = make("sampled", d, 1.0, steps);
    for (run **x = (run *[]){fu, sa, NULL}; *x; x++) {
        tf_set_choice(*x, "objective", "cross_entropy");
        tf_set_choice(*x, "step_rule", "explicit");
        tf_set_real(*x, "step_size", 20.0);
        tf_set_record(*x, TS_RECORD_LINEAR, 5);
    }
    tf_set_int(sa, "batch_size", 100000);
    ck_assert_int_eq(tf_go(fu, 0), TS_DONE);
    double r[5][R];
    for (int rep = 0; rep < R; rep++) {
        ck_assert_int_eq(tf_go(sa, (uint32_t)rep), TS_DONE);
        for (int k = 0; k < 5; k++) r[k][rep] = tf_values(sa, "rel_err")[k];
    }
    double *full = tf_values(fu, "rel_err");
    ck_assert(full[4] < 0.8); /* it learned something */
    for (int k = 1; k < 5; k++) {
        double mean, sd;
        mean_and_sd(r[k], R, &mean, &sd);
        ck_assert_msg(fabs(mean - full[k]) <= 5 * sd / sqrt(R) + 0.02 * full[k],
                      "t = %lld: %.6g vs %.6g", (long long)fu->r.times[k], mean, full[k]);
    }
    tf_free(fu);
    tf_free(sa);
}
END_TEST

/* With one batch for the whole run (batch_reuse = steps) GD converges to the batch's own
 * minimiser, column i at the empirical conditional of its n_i pairs (an untouched column stays
 * at 0): the population loss settles on a plateau, here above its start (E||w_i - p_i||^2 =
 * (1 - S0)/n_i exceeds ||p_i||^2 = S0 for small n_i); fresh batches learn. */
START_TEST(one_reused_batch_settles_on_its_own_minimiser)
{
    const int64_t steps = 400;
    double last[2], middle[2];
    for (int c = 0; c < 2; c++) {
        run *x = make("sampled", 100, 1.0, steps);
        tf_set_int(x, "batch_size", 50);
        tf_set_int(x, "batch_reuse", c ? steps : 1);
        tf_set_record(x, TS_RECORD_LINEAR, 3);
        tf_set_choice(x, "step_rule", "explicit");
        tf_set_real(x, "step_size", 0.5 * harmonic(100, 1.0));
        ck_assert_int_eq(tf_go(x, 0), TS_DONE);
        middle[c] = tf_values(x, "rel_err")[1];
        last[c] = tf_values(x, "rel_err")[2];
        tf_free(x);
    }
    ck_assert_msg(last[0] < 0.9, "fresh batches: %g", last[0]);
    ck_assert_msg(fabs(last[1] - middle[1]) < 1e-3 * middle[1], "reused: %g -> %g", middle[1],
                  last[1]);
    ck_assert_msg(last[1] > 1, "reused: %g", last[1]);
}
END_TEST

START_TEST(sampled_sgd_lazy_column_scale_equals_dense_updates_to_rounding)
{
    /* sampled_update auto keeps plain SGD's square-loss columns as scale * u (O(batch) per
     * step); dense writes every column out. The two regroup the same products, so each entry
     * differs by a few ulps per step: over 300 steps at most ~300 * 4 eps ~ 1e-13 relative, and
     * the loss gap L - L* amplifies that by at most 1 / rel_err <= 100 here: tolerance 1e-10.
     * The inverse_pi1 rule puts eta * count / B near 1 on the first column, so its scale
     * shrinks by ~100x per hit and leaves [2^-256, 2^256] (folded back into the column) within
     * the run, and batch_reuse 3 repeats batches: both paths of the lazy update are taken. */
    const char *rules[] = {"inverse_pi1", "explicit"};
    for (int r = 0; r < 2; r++)
        for (int64_t reuse = 1; reuse <= 3; reuse += 2) {
            double *series[2][2];
            run *x[2];
            for (int dense = 0; dense < 2; dense++) {
                x[dense] = make("sampled", 60, 1.0, 300);
                tf_set_int(x[dense], "batch_size", 32);
                tf_set_int(x[dense], "batch_reuse", reuse);
                tf_set_choice(x[dense], "step_rule", rules[r]);
                tf_set_real(x[dense], "step_size", 1.0);
                tf_set_choice(x[dense], "sampled_update", dense ? "dense" : "auto");
                tf_set_record(x[dense], TS_RECORD_LINEAR, 31);
                ck_assert_int_eq(tf_go(x[dense], 0), TS_DONE);
                series[dense][0] = tf_values(x[dense], "loss");
                series[dense][1] = tf_values(x[dense], "rel_err");
            }
            for (int m = 0; m < 2; m++)
                for (size_t k = 0; k < tf_nrecords(x[0]); k++)
                    ck_assert_msg(close_rel(series[0][m][k], series[1][m][k], 1e-10),
                                  "%s reuse %d record %zu: %.17g vs %.17g", rules[r], (int)reuse,
                                  k, series[0][m][k], series[1][m][k]);
            double moved = fabs(tf_values(x[0], "rel_err")[tf_nrecords(x[0]) - 1] - 1);
            ck_assert_msg(moved > 0.01, "%s reuse %d: W did not move (rel_err - 1 = %g)",
                          rules[r], (int)reuse, moved);
            tf_free(x[0]);
            tf_free(x[1]);
        }
}
END_TEST

START_TEST(same_stream_same_values_and_repeats_differ)
{
    run *x = make("sampled", 40, 1.0, 30);
    tf_go(x, 3);
    double first = tf_values(x, "final_rel_err")[0];
    tf_go(x, 4);
    double other = tf_values(x, "final_rel_err")[0];
    tf_go(x, 3);
    ck_assert(tf_values(x, "final_rel_err")[0] == first);
    ck_assert(other != first);
    tf_free(x);
}
END_TEST

/* ------------------------------------------------------------------ scaling laws */

/* Least-squares slope of log y against log x. */
static double slope(const double *x, const double *y, int n)
{
    double mx = 0, my = 0, sxy = 0, sxx = 0;
    for (int k = 0; k < n; k++) {
        mx += log(x[k]) / n;
        my += log(y[k]) / n;
    }
    for (int k = 0; k < n; k++) {
        sxy += (log(x[k]) - mx) * (log(y[k]) - my);
        sxx += (log(x[k]) - mx) * (log(x[k]) - mx);
    }
    return sxy / sxx;
}

static const double dims4[] = {1e3, 1e4, 1e5, 1e6};

/* Real-valued steps to r = 0.1 for exact GD with eta = 1/pi_1, at d = 10^3 .. 10^6. */
static void gd_steps_to_tenth(double a, double *t)
{
    static const double eps[] = {0.1};
    for (int k = 0; k < 4; k++) {
        run *x = make("exact", (int64_t)dims4[k], a, 1000000000);
        tf_set_record(x, TS_RECORD_LOG, 2);
        set_eps(x, eps, 1);
        ck_assert_int_eq(tf_go(x, 0), TS_DONE);
        t[k] = tf_values(x, "steps_to_eps")[0];
        ck_assert(isfinite(t[k]));
        tf_free(x);
    }
}

/* Thm 3.1: for a > 1 the loss is carried by a few large pi, so t(0.1) converges as d grows
 * (measured here: 13.98, 14.12, 14.138, 14.1399: fitted slope 0.0016). */
START_TEST(gd_steps_do_not_grow_with_d_at_exponent_2)
{
    double t[4];
    gd_steps_to_tenth(2.0, t);
    double s = slope(dims4, t, 4);
    ck_assert_msg(fabs(s) < 0.01, "slope %g", s);
}
END_TEST

/* a = 1: t ~ d^(1 - eps), the decade slopes rise towards 1 (0.863, 0.873, 0.881 here). */
START_TEST(gd_steps_grow_almost_linearly_at_exponent_1)
{
    double t[4], s[3];
    gd_steps_to_tenth(1.0, t);
    for (int k = 0; k < 3; k++) {
        s[k] = slope(dims4 + k, t + k, 2);
        ck_assert_msg(s[k] > 0.6 && s[k] < 1, "slope %g", s[k]);
    }
    ck_assert_msg(s[0] < s[1] && s[1] < s[2], "slopes %g %g %g", s[0], s[1], s[2]);
}
END_TEST

/* a < 1: 2t = tau d^a at fixed r, so t ~ d^0.5 at a = 0.5 (decade slopes 0.5035, 0.5011,
 * 0.5003; the finite-d correction is O(d^-0.5)). */
START_TEST(gd_steps_grow_as_sqrt_d_at_exponent_half)
{
    double t[4];
    gd_steps_to_tenth(0.5, t);
    double s = slope(dims4, t, 4);
    ck_assert_msg(fabs(s - 0.5) < 0.01, "slope %g", s);
    ck_assert(fabs(slope(dims4 + 2, t + 2, 2) - 0.5) < 0.002);
}
END_TEST

/* Thm 4.5: with the best phi per horizon, sign descent at a = 1 needs T ~ sqrt(d): the law
 * gives T = sqrt(d (1/(zeta(2) eps) - 1))/2. Finite-d decade slopes measured 0.536, 0.522,
 * 0.510 (approaching 0.5 from above): allow 0.05 on the fit, 0.02 on the last decade. */
START_TEST(sign_descent_best_steps_grow_as_sqrt_d_at_exponent_1)
{
    static const double eps[] = {0.1};
    double t[4];
    for (int k = 0; k < 4; k++) {
        run *x = make("exact", (int64_t)dims4[k], 1.0, (int64_t)(4 * sqrt(dims4[k])));
        tf_set_choice(x, "optimizer", "sign");
        tf_set_choice(x, "step_rule", "phi");
        tf_set_int(x, "phi_grid", 13);
        tf_set_record(x, TS_RECORD_LOG, 2);
        set_eps(x, eps, 1);
        ck_assert_int_eq(tf_go(x, 0), TS_DONE);
        t[k] = tf_values(x, "best_avg_steps_to_eps")[0];
        ck_assert(isfinite(t[k]));
        tf_free(x);
    }
    double s = slope(dims4, t, 4);
    ck_assert_msg(fabs(s - 0.5) < 0.05, "slope %g (%g %g %g %g)", s, t[0], t[1], t[2], t[3]);
    ck_assert(fabs(slope(dims4 + 2, t + 2, 2) - 0.5) < 0.02);
}
END_TEST

/* ------------------------------------------------------------------ asymptotic laws */

/* The largest |law / closed form - 1| over the record times t > 0. */
static double law_gap(run *x, const char *law_name, const char *finite_name)
{
    double *law = tf_values(x, law_name), *fin = tf_values(x, finite_name), worst = 0;
    for (size_t k = 1; k < tf_nrecords(x); k++) {
        ck_assert(isfinite(law[k]) && fin[k] > 0);
        worst = fmax(worst, fabs(law[k] / fin[k] - 1));
    }
    return worst;
}

static double gd_law_gap(int64_t d, double a, int64_t steps, int64_t count)
{
    run *x = make("exact", d, a, steps);
    tf_set_record(x, TS_RECORD_LINEAR, count);
    ck_assert_int_eq(tf_go(x, 0), TS_DONE);
    double gap = law_gap(x, "asymptotic_rel_err", "rel_err");
    tf_free(x);
    return gap;
}

/* a = 0.5: 2t = tau d^0.5 over tau in (0, 3]; gaps measured 1.6e-2 (d = 10^4) and 1.6e-3
 * (d = 10^6): an O(d^-1/2) finite-size correction. */
START_TEST(gd_law_below_exponent_1_is_approached_as_d_grows)
{
    double small = gd_law_gap(10000, 0.5, 150, 31), large = gd_law_gap(1000000, 0.5, 1500, 31);
    ck_assert_msg(large < 3e-3 && large < 0.3 * small, "gaps %g %g", small, large);
}
END_TEST

/* a = 1: [E_1(2t/d) - E_1(2t)] / H(d, 1) over t in [d/100, d]; measured 7.3e-4 (d = 10^4) and
 * 7.3e-6 (10^6); the early times (t < 10) are outside the integral approximation. */
START_TEST(gd_law_at_exponent_1_is_approached_as_d_grows)
{
    double small = gd_law_gap(10000, 1.0, 10000, 101);
    double large = gd_law_gap(1000000, 1.0, 1000000, 101);
    ck_assert_msg(large < 1e-4 && large < 0.2 * small, "gaps %g %g", small, large);
}
END_TEST

/* a = 2: B(2t+1, 1/2)/(2 zeta(2)) over t in [10, 1000], a large-t law: measured 5.0e-3 at
 * d = 10^4 (where t approaches d^(1/2)) and 4.7e-4 at 10^6 (the t = 10 end). */
START_TEST(gd_law_above_exponent_1_is_approached_as_d_grows)
{
    double small = gd_law_gap(10000, 2.0, 1000, 100);
    double large = gd_law_gap(1000000, 2.0, 1000, 100);
    ck_assert_msg(large < 1e-3 && large < 0.2 * small, "gaps %g %g", small, large);
}
END_TEST

/* Thm 4.5's envelope 1/(zeta(2a)(1 + tau^2)), 4T^2 = tau^2 d, against the finite-d best over
 * phi at tau = 1 and 2, for the mean of the last two iterates (our reading of the law; the
 * iterate itself oscillates with the parity of T, see best_rel_err): measured largest gaps
 * 16% (d = 10^4) and 2.3% (d = 10^6), at tau = 2. */
START_TEST(sign_descent_envelope_law_is_approached_as_d_grows)
{
    double gap[2];
    const int64_t d[] = {10000, 1000000};
    for (int k = 0; k < 2; k++) {
        int64_t half = (int64_t)sqrt((double)d[k]) / 2; /* tau = 1 */
        run *x = make("exact", d[k], 1.0, 2 * half);
        tf_set_choice(x, "optimizer", "sign");
        tf_set_choice(x, "step_rule", "phi");
        tf_set_int(x, "phi_grid", 13);
        tf_set_record(x, TS_RECORD_LINEAR, 3);
        ck_assert_int_eq(tf_go(x, 0), TS_DONE);
        gap[k] = law_gap(x, "asymptotic_best_rel_err", "best_avg_rel_err");
        /* the best phi of the law is (1 + 1/tau^2)^(1/a): 2 at tau = 1 */
        ck_assert_msg(fabs(tf_values(x, "best_avg_phi")[1] - 2) < 0.25, "phi %g",
                      tf_values(x, "best_avg_phi")[1]);
        tf_free(x);
    }
    ck_assert_msg(gap[1] < 0.04 && gap[1] < 0.6 * gap[0], "gaps %g %g", gap[0], gap[1]);
}
END_TEST

int main(void)
{
    gsl_set_error_handler_off(); /* as the CLI does: statuses are checked */
    Suite *s = suite_create("bigram");
    TCase *tc = tcase_create("bigram");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, exact_and_full_gd_agree_to_1e_10);
    tcase_add_test(tc, exact_and_full_sign_descent_agree_to_1e_10);
    tcase_add_test(tc, exact_gd_equals_the_term_by_term_sum_to_1e_13);
    tcase_add_test(tc, sign_descent_best_phi_is_the_minimum_over_phi);
    tcase_add_test(tc, full_loss_does_not_depend_on_the_permutations);
    tcase_add_test(tc, full_adam_with_zero_betas_is_sign_descent);
    tcase_add_test(tc, full_adam_matches_one_whole_matrix_step);
    tcase_add_test(tc, gd_above_two_over_pi1_diverges_below_converges);
    tcase_add_test(tc, unsupported_exact_settings_fail_with_a_message);
    tcase_add_test(tc, sampled_sgd_with_large_batches_approaches_exact);
    tcase_add_test(tc, sampled_cross_entropy_follows_full_at_large_batches);
    tcase_add_test(tc, one_reused_batch_settles_on_its_own_minimiser);
    tcase_add_test(tc, sampled_sgd_lazy_column_scale_equals_dense_updates_to_rounding);
    tcase_add_test(tc, same_stream_same_values_and_repeats_differ);
    suite_add_tcase(s, tc);
    if (!valgrind_sizes()) { /* d up to 10^6: the paths are those of the cases above */
        TCase *laws = tcase_create("scaling laws");
        tcase_set_timeout(laws, 120);
        tcase_add_test(laws, gd_steps_do_not_grow_with_d_at_exponent_2);
        tcase_add_test(laws, gd_steps_grow_almost_linearly_at_exponent_1);
        tcase_add_test(laws, gd_steps_grow_as_sqrt_d_at_exponent_half);
        tcase_add_test(laws, sign_descent_best_steps_grow_as_sqrt_d_at_exponent_1);
        tcase_add_test(laws, gd_law_below_exponent_1_is_approached_as_d_grows);
        tcase_add_test(laws, gd_law_at_exponent_1_is_approached_as_d_grows);
        tcase_add_test(laws, gd_law_above_exponent_1_is_approached_as_d_grows);
        tcase_add_test(laws, sign_descent_envelope_law_is_approached_as_d_grows);
        suite_add_tcase(s, laws);
    }
    return ts_test_run_suite(s);
}
