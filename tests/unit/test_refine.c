/* Refinement and the last-iterate bound (refine.h; Defazio et al., arXiv:2310.07831) against
 * direct small cases and closed forms: constant norms give linear decay, early large norms a
 * warmup, the filters on hand-worked windows and against their naive sums, and the bound of
 * linear decay and of the best constant step at their closed-form values. */
#include <check.h>
#include <math.h>
#include <stdlib.h>

#include <gsl/gsl_randist.h>

#include "tailsweep/refine.h"
#include "tailsweep/rng.h"
#include "check_main.h"

START_TEST(constant_norms_refine_to_exact_linear_decay)
{
    static const size_t sizes[] = {2, 3, 10, 1000, 100000};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        size_t T = sizes[s];
        double *g = malloc(T * sizeof *g), *eta = malloc(T * sizeof *eta);
        for (size_t t = 0; t < T; t++) g[t] = 0.37;
        for (int f = 0; f < 3; f++) {
            double width = f == TS_REFINE_GAUSSIAN ? 3.5 : 5;
            ck_assert_int_eq(ts_refine_schedule(g, T, (ts_refine_filter)f, width, 2.0, eta, NULL),
                             TS_OK);
            for (size_t t = 0; t < T; t++) {
                double want = (double)(T - 1 - t) / (double)(T - 1);
                ck_assert_msg(fabs(eta[t] - want) <= 1e-12, "T %zu filter %d t %zu: %.17g vs %.17g",
                              T, f, t, eta[t], want);
            }
        }
        free(g);
        free(eta);
    }
}
END_TEST

START_TEST(large_early_norms_give_a_warmup)
{
    /* g_t = 1 + 9 e^(-t/20): the weights g^-2 start small, so eta rises before it decays */
    enum { T = 400 };
    double g[T], eta[T];
    for (int t = 0; t < T; t++) g[t] = 1.0 + 9.0 * exp(-t / 20.0);
    ck_assert_int_eq(ts_refine_schedule(g, T, TS_REFINE_NONE, 1, 2.0, eta, NULL), TS_OK);
    int peak = 0;
    for (int t = 1; t < T; t++)
        if (eta[t] > eta[peak]) peak = t;
    ck_assert_int_gt(peak, 20);
    ck_assert(eta[0] < 0.05 && eta[peak] == 1.0 && eta[T - 1] == 0.0);
    for (int t = 1; t <= peak; t++) ck_assert(eta[t] >= eta[t - 1]);
    for (int t = peak + 1; t < T; t++) ck_assert(eta[t] <= eta[t - 1]);
}
END_TEST

START_TEST(median_filter_reflects_at_both_ends)
{
    /* width 3: windows (g0 g0 g1), (g0 g1 g2), ..., (g3 g4 g4); width 4 takes the upper middle of
     * t-2 .. t+1; a width above T reflects more than once (period 2T) */
    const double g[5] = {5, 1, 4, 2, 3};
    double out[5];
    ck_assert_int_eq(ts_refine_smooth(g, 5, TS_REFINE_MEDIAN, 3, out, NULL), TS_OK);
    const double w3[5] = {5, 4, 2, 3, 3};
    for (int t = 0; t < 5; t++) ck_assert_double_eq(out[t], w3[t]);
    ck_assert_int_eq(ts_refine_smooth(g, 5, TS_REFINE_MEDIAN, 4, out, NULL), TS_OK);
    /* t=0: g1 g0 g0 g1 = 1 5 5 1 -> sorted 1 1 5 5 -> rank 2: 5;  t=1: g0 g0 g1 g2 -> 1 4 5 5 -> 5;
     * t=2: g0 g1 g2 g3 -> 1 2 4 5 -> 4;  t=3: g1 g2 g3 g4 -> 1 2 3 4 -> 3;
     * t=4: g2 g3 g4 g4 -> 2 3 3 4 -> 3 */
    const double w4[5] = {5, 5, 4, 3, 3};
    for (int t = 0; t < 5; t++) ck_assert_double_eq(out[t], w4[t]);
    ck_assert_int_eq(ts_refine_smooth(g, 5, TS_REFINE_MEDIAN, 11, out, NULL), TS_OK);
    /* t=0: indices -5..5 reflect to 4 3 2 1 0 0 1 2 3 4 4: sorted median of 11 is the 6th */
    ck_assert_double_eq(out[0], 3);
    ck_assert_int_eq(ts_refine_smooth(g, 5, TS_REFINE_MEDIAN, 1, out, NULL), TS_OK);
    for (int t = 0; t < 5; t++) ck_assert_double_eq(out[t], g[t]);
}
END_TEST

/* The median by sorting each window: what the Fenwick tree must agree with. */
static double naive_median(const double *g, long T, long t, long width)
{
    double *w = malloc((size_t)width * sizeof *w);
    long left = width / 2;
    for (long j = 0; j < width; j++) {
        long i = t - left + j, period = 2 * T, m = ((i % period) + period) % period;
        w[j] = g[m < T ? m : period - 1 - m];
    }
    for (long a = 1; a < width; a++)
        for (long b = a; b > 0 && w[b - 1] > w[b]; b--) {
            double x = w[b];
            w[b] = w[b - 1];
            w[b - 1] = x;
        }
    double m = w[width / 2];
    free(w);
    return m;
}

START_TEST(median_filter_equals_sorting_every_window)
{
    enum { T = 300 };
    gsl_rng *r = ts_rng_alloc(5, 0, 0);
    double g[T], out[T];
    for (int t = 0; t < T; t++) g[t] = t % 17 == 0 ? 2.0 : gsl_ran_exponential(r, 1.0);
    static const long widths[] = {2, 7, 30, 299, 301, 1000};
    for (size_t k = 0; k < sizeof widths / sizeof *widths; k++) {
        ck_assert_int_eq(ts_refine_smooth(g, T, TS_REFINE_MEDIAN, (double)widths[k], out, NULL),
                         TS_OK);
        for (long t = 0; t < T; t++)
            ck_assert_double_eq(out[t], naive_median(g, T, t, widths[k]));
    }
    gsl_rng_free(r);
}
END_TEST

/* scipy.ndimage.gaussian_filter1d(g, sigma, mode='nearest', truncate=4), written out. */
static double naive_gaussian(const double *g, long T, long t, double sigma)
{
    long r = (long)(4.0 * sigma + 0.5);
    double num = 0, den = 0;
    for (long x = -r; x <= r; x++) {
        long i = t + x < 0 ? 0 : t + x >= T ? T - 1 : t + x;
        double w = exp(-0.5 * (double)(x * x) / (sigma * sigma));
        num += w * g[i];
        den += w;
    }
    return num / den;
}

START_TEST(gaussian_filter_direct_and_fft_equal_the_weighted_sum)
{
    enum { T = 2000 };
    gsl_rng *r = ts_rng_alloc(6, 0, 0);
    double *g = malloc(T * sizeof *g), *out = malloc(T * sizeof *out);
    for (int t = 0; t < T; t++) g[t] = 1.0 + gsl_ran_exponential(r, 1.0);
    static const double sigmas[] = {0.4, 3.0, 30.0, 150.0, 700.0}; /* the last two by FFT */
    for (size_t k = 0; k < sizeof sigmas / sizeof *sigmas; k++) {
        ck_assert_int_eq(ts_refine_smooth(g, T, TS_REFINE_GAUSSIAN, sigmas[k], out, NULL), TS_OK);
        for (long t = 0; t < T; t++) {
            double want = naive_gaussian(g, T, t, sigmas[k]);
            ck_assert_msg(fabs(out[t] - want) <= 1e-12 * want, "sigma %g t %ld: %.17g vs %.17g",
                          sigmas[k], t, out[t], want);
        }
    }
    free(g);
    free(out);
    gsl_rng_free(r);
}
END_TEST

/* Norms over 200 decades (a pass that nearly blew up): the FFT's rounding error, about eps times
 * the largest, swamps the small ones; the smoothed values stay inside the data's range (a
 * weighted mean cannot leave it), so the refinement still gets positive norms, and the error
 * stays within its absolute bound. */
START_TEST(gaussian_fft_of_norms_over_many_decades_stays_in_range)
{
    enum { T = 4000 };
    double *g = malloc(T * sizeof *g), *out = malloc(T * sizeof *out);
    for (int t = 0; t < T; t++) g[t] = t < T / 2 ? 1e-100 : 1e100;
    ck_assert_int_eq(ts_refine_smooth(g, T, TS_REFINE_GAUSSIAN, 200.0, out, NULL), TS_OK);
    for (int t = 0; t < T; t++)
        ck_assert_msg(out[t] >= 1e-100 && out[t] <= 1e100, "t %d: %g", t, out[t]);
    /* far from the jump (10 sigma, beyond the 4-sigma truncation) the exact values are the
     * data's: within 1e-12 of the largest norm */
    ck_assert_double_eq_tol(out[T - 1], 1e100, 1e88);
    ck_assert_double_le(out[0], 1e-12 * 1e100);
    free(g);
    free(out);
}
END_TEST

START_TEST(refinement_refuses_what_it_cannot_use)
{
    double g[3] = {1, 0, 1}, eta[3];
    ts_error err;
    ck_assert_int_eq(ts_refine_schedule(g, 3, TS_REFINE_NONE, 1, 2, eta, &err), TS_EUSAGE);
    g[1] = NAN;
    ck_assert_int_eq(ts_refine_schedule(g, 3, TS_REFINE_NONE, 1, 2, eta, &err), TS_EUSAGE);
    g[1] = 1;
    ck_assert_int_eq(ts_refine_schedule(g, 1, TS_REFINE_NONE, 1, 2, eta, &err), TS_EUSAGE);
    ck_assert_int_eq(ts_refine_schedule(g, 3, TS_REFINE_MEDIAN, 2.5, 2, eta, &err), TS_EUSAGE);
    ck_assert_int_eq(ts_refine_schedule(g, 3, TS_REFINE_GAUSSIAN, 0, 2, eta, &err), TS_EUSAGE);
    ck_assert_int_eq(ts_refine_schedule(g, 3, TS_REFINE_NONE, 1, 0, eta, &err), TS_EUSAGE);
    ts_refine_filter f;
    ck_assert_int_eq(ts_refine_filter_parse("gaussian", &f, &err), TS_OK);
    ck_assert_int_eq(f, TS_REFINE_GAUSSIAN);
    ck_assert_int_eq(ts_refine_filter_parse("mean", &f, &err), TS_EUSAGE);
    ck_assert_str_eq(ts_refine_filter_name(TS_REFINE_NONE), "none");
}
END_TEST

/* The bound with constant norms G at steps eta_t = scale shape_t. */
static double bound_of(const double *shape, size_t T, double scale, double G, double D)
{
    double *eta = malloc(T * sizeof *eta), *g = malloc(T * sizeof *g);
    for (size_t t = 0; t < T; t++) eta[t] = scale * shape[t], g[t] = G;
    double b = ts_refine_bound(eta, g, T, D);
    free(eta);
    free(g);
    return b;
}

START_TEST(bound_of_linear_decay_approaches_two_d_g_over_sqrt_t_from_above)
{
    /* eta_t = D/(G sqrt T) (1 - t/T): B sqrt(T) / (D G) falls towards 2 from above */
    const double D = 3.0, G = 0.5;
    double previous = INFINITY;
    static const size_t sizes[] = {100, 1000, 10000, 100000};
    for (size_t s = 0; s < 4; s++) {
        size_t T = sizes[s];
        double *shape = malloc(T * sizeof *shape);
        for (size_t t = 0; t < T; t++) shape[t] = (double)(T - t) / (double)T;
        double ratio = bound_of(shape, T, D / (G * sqrt((double)T)), G, D) * sqrt((double)T) /
                       (D * G);
        ck_assert_msg(ratio > 2.0 && ratio < previous && ratio < 2.0 + 10.0 / sqrt((double)T),
                      "T %zu: %.10g", T, ratio);
        previous = ratio;
        free(shape);
    }
}
END_TEST

START_TEST(bound_of_the_best_constant_step_is_its_closed_form)
{
    /* constant steps eta: B = D^2/(2 T eta) + G^2 eta (1 + H_{T-1}) / 2 exactly (the k-th tail
     * term is eta / (T - 1 - k)), minimised at eta = D/(G sqrt(T (1 + H_{T-1}))) with value
     * D G sqrt((1 + H_{T-1}) / T); within a few percent of D G sqrt(2 + ln(T - 1)) / sqrt(T) */
    const double D = 2.0, G = 1.5;
    static const size_t sizes[] = {100, 1000, 10000};
    for (size_t s = 0; s < 3; s++) {
        size_t T = sizes[s];
        double harmonic = 0;
        for (size_t k = 1; k < T; k++) harmonic += 1.0 / (double)k;
        double *shape = malloc(T * sizeof *shape);
        for (size_t t = 0; t < T; t++) shape[t] = 1.0;
        double best = D / (G * sqrt((double)T * (1 + harmonic)));
        double b = bound_of(shape, T, best, G, D);
        double exact = D * G * sqrt((1 + harmonic) / (double)T);
        ck_assert_msg(fabs(b - exact) <= 1e-12 * exact, "T %zu: %.17g vs %.17g", T, b, exact);
        double approx = D * G * sqrt(2 + log((double)T - 1)) / sqrt((double)T);
        ck_assert_msg(fabs(b / approx - 1) < 0.05, "T %zu: %.6g vs %.6g", T, b, approx);
        /* linear decay at its best scale beats the best constant step */
        for (size_t t = 0; t < T; t++) shape[t] = (double)(T - t) / (double)T;
        double linear = INFINITY;
        for (double c = 0.25; c <= 4.0; c *= 1.05)
            linear = fmin(linear, bound_of(shape, T, c * D / (G * sqrt((double)T)), G, D));
        ck_assert(linear < b);
        free(shape);
    }
}
END_TEST

/* Every term of the bound but D^2 / (2 sum eta) is linear in the scale c of the steps, so
 * B(c) = A / c + B0 c with B0 the bound at D = 0: the best scale is sqrt(A / B0), where B is
 * 2 sqrt(A B0) (checked by evaluating it there and by a scan). */
static double best_bound(const double *shape, size_t T, double G, double D)
{
    double sum = 0;
    for (size_t t = 0; t < T; t++) sum += shape[t];
    double a = D * D / (2 * sum), b0 = bound_of(shape, T, 1.0, G, 0.0);
    double best = 2 * sqrt(a * b0), at = bound_of(shape, T, sqrt(a / b0), G, D);
    ck_assert_msg(fabs(at - best) <= 1e-12 * best, "%.17g vs %.17g", at, best);
    for (double c = 0.8; c <= 1.25; c *= 1.01)
        ck_assert(bound_of(shape, T, c * sqrt(a / b0), G, D) >= best * (1 - 1e-12));
    return best;
}

START_TEST(at_their_best_scales_linear_decay_bounds_below_cosine_and_constant)
{
    const double D = 1.5, G = 2.0, pi = acos(-1.0);
    static const size_t sizes[] = {100, 1000, 10000};
    for (size_t s = 0; s < 3; s++) {
        size_t T = sizes[s];
        double *shape = malloc(T * sizeof *shape);
        for (size_t t = 0; t < T; t++) shape[t] = (double)(T - t) / (double)T;
        double linear = best_bound(shape, T, G, D);
        for (size_t t = 0; t < T; t++) shape[t] = (1 + cos(pi * (double)t / (double)T)) / 2;
        double cosine = best_bound(shape, T, G, D);
        for (size_t t = 0; t < T; t++) shape[t] = 1.0;
        double constant = best_bound(shape, T, G, D);
        ck_assert_msg(linear < cosine && cosine < constant, "T %zu: linear %.6g, cosine %.6g, "
                      "constant %.6g", T, linear, cosine, constant);
        free(shape);
    }
}
END_TEST

START_TEST(bound_ignores_trailing_zero_steps_and_is_nan_without_steps)
{
    double eta[5] = {1, 0.5, 0.25, 0, 0}, G[5] = {1, 2, 3, 4, 5};
    double with_zeros = ts_refine_bound(eta, G, 5, 1.0);
    ck_assert_double_eq(with_zeros, ts_refine_bound(eta, G, 3, 1.0));
    /* T = 3 by hand: S = 1.75, energy 1 + 1 + 0.5625; tail k=0: 1/0.75 * 2.5625/1.75,
     * k=1: 0.5/0.25 * 1.5625/0.75 */
    double want = (1 + 2.5625) / (2 * 1.75) + 0.5 * (2.5625 / 1.75 / 0.75 + 2 * 1.5625 / 0.75);
    ck_assert(fabs(with_zeros - want) <= 1e-15 * want);
    double none[2] = {0, 0};
    ck_assert(isnan(ts_refine_bound(none, G, 2, 1.0)));
}
END_TEST

TS_TEST_MAIN("refine",
             constant_norms_refine_to_exact_linear_decay,
             large_early_norms_give_a_warmup,
             median_filter_reflects_at_both_ends,
             median_filter_equals_sorting_every_window,
             gaussian_filter_direct_and_fft_equal_the_weighted_sum,
             gaussian_fft_of_norms_over_many_decades_stays_in_range,
             refinement_refuses_what_it_cannot_use,
             bound_of_linear_decay_approaches_two_d_g_over_sqrt_t_from_above,
             bound_of_the_best_constant_step_is_its_closed_form,
             at_their_best_scales_linear_decay_bounds_below_cosine_and_constant,
             bound_ignores_trailing_zero_steps_and_is_nan_without_steps)
