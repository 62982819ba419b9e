/* The variates module against exact laws: alpha-stable (KS against closed-form CDFs, empirical
 * characteristic functions against Nolan's definitions), multivariate noise, Gaussian batches
 * and Zipf (chi-square against the exact pmf).
 *
 * Tolerances, once for all the tests below:
 *  - KS one-sample: reject when sqrt(n) D_n > 2.2253. Kolmogorov's limit law gives
 *    P(sqrt(n) D_n > x) <= 2 exp(-2 x^2) = 1.0e-4 at x = 2.2253. Two-sample: the same bound on
 *    sqrt(n m / (n + m)) D.
 *  - Empirical characteristic function (ECF) at t from n draws: mean cos(tX) has variance
 *    [(1 + Re phi(2t))/2 - Re phi(t)^2] / n and mean sin(tX) has [(1 - Re phi(2t))/2 -
 *    Im phi(t)^2] / n (from cos^2 = (1 + cos 2x)/2, sin^2 = (1 - cos 2x)/2), each at most 1/n.
 *    We accept within 5 of these standard deviations (CLT; two-sided 5.7e-7 per check, so
 *    below 1e-3 for the whole file's ~1500 checks) plus 1e-12 for rounding.
 *  - Chi-square: bins merged (consecutive k) until each expected count is >= 5; reject at
 *    p < 1e-4 (gsl_cdf_chisq_Q with bins - 1 degrees of freedom).
 * All seeds are fixed, so a run is deterministic; the bounds say how unlikely a false failure
 * would be for a correct sampler. */
#include <check.h>
#include <complex.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_math.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sf_erf.h>
#include <gsl/gsl_sort.h>

#include "tailsweep/rng.h"
#include "tailsweep/variates.h"
#include "check_main.h"

/* Under valgrind, which checks memory safety and runs ~50x slower, samples shrink 10x: every
 * tolerance is derived from the sample size, so the tests stay valid, with less power. */
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define TS_UNDER_VALGRIND() RUNNING_ON_VALGRIND
#endif
#endif
#ifndef TS_UNDER_VALGRIND
#define TS_UNDER_VALGRIND() 0
#endif

static size_t sample_size(size_t n)
{
    return TS_UNDER_VALGRIND() ? n / 10 : n;
}

static const double KS_CRITICAL = 2.2253;
static const double SIGMAS = 5.0;
static const double CHISQ_P_MIN = 1e-4;

/* ------------------------------------------------------------------ helpers: laws */

/* Nolan (2020, section 1.3): the S0 and S1 characteristic functions, written out independently
 * of levy.c. */
static double complex stable_cf(double alpha, double beta, double c, double mu,
                                ts_levy_param param, double t)
{
    if (t == 0)
        return 1;
    double abs_t = fabs(t), sign_t = t > 0 ? 1 : -1;
    double complex log_phi;
    if (alpha == 1) {
        double log_term = param == TS_LEVY_S0 ? log(c * abs_t) : log(abs_t);
        log_phi = -c * abs_t * (1 + I * beta * (2 / M_PI) * sign_t * log_term);
    } else {
        double tan_term = tan(M_PI * alpha / 2);
        double ct_alpha = pow(c * abs_t, alpha);
        if (param == TS_LEVY_S1)
            log_phi = -ct_alpha * (1 - I * beta * sign_t * tan_term);
        else
            log_phi = -ct_alpha * (1 + I * beta * sign_t * tan_term *
                                           (pow(c * abs_t, 1 - alpha) - 1));
    }
    return cexp(log_phi + I * mu * t);
}

typedef struct {
    double re, im;
} ecf_value;

static ecf_value ecf(const double *x, size_t n, double t)
{
    double sum_cos = 0, sum_sin = 0;
    for (size_t i = 0; i < n; i++) {
        sum_cos += cos(t * x[i]);
        sum_sin += sin(t * x[i]);
    }
    return (ecf_value){sum_cos / (double)n, sum_sin / (double)n};
}

/* ECF of <u, X> for n vectors of dimension d stored row-major. */
static ecf_value ecf_projected(const double *x, size_t n, size_t d, const double *u)
{
    double sum_cos = 0, sum_sin = 0;
    for (size_t i = 0; i < n; i++) {
        double dot = 0;
        for (size_t k = 0; k < d; k++)
            dot += u[k] * x[i * d + k];
        sum_cos += cos(dot);
        sum_sin += sin(dot);
    }
    return (ecf_value){sum_cos / (double)n, sum_sin / (double)n};
}

/* Standard deviations of the two ECF parts, from the exact cf at t and 2t (see the top). */
static double sd_cos_part(double complex phi_t, double complex phi_2t, size_t n)
{
    double var = (1 + creal(phi_2t)) / 2 - creal(phi_t) * creal(phi_t);
    return sqrt(fmax(var, 0) / (double)n);
}

static double sd_sin_part(double complex phi_t, double complex phi_2t, size_t n)
{
    double var = (1 - creal(phi_2t)) / 2 - cimag(phi_t) * cimag(phi_t);
    return sqrt(fmax(var, 0) / (double)n);
}

static void assert_ecf_matches(ecf_value got, double complex phi_t, double complex phi_2t,
                               size_t n, const char *what)
{
    double tol_re = SIGMAS * sd_cos_part(phi_t, phi_2t, n) + 1e-12;
    double tol_im = SIGMAS * sd_sin_part(phi_t, phi_2t, n) + 1e-12;
    ck_assert_msg(fabs(got.re - creal(phi_t)) <= tol_re,
                  "%s: Re ECF %.5f vs Re cf %.5f (tolerance %.5f)", what, got.re, creal(phi_t),
                  tol_re);
    ck_assert_msg(fabs(got.im - cimag(phi_t)) <= tol_im,
                  "%s: Im ECF %.5f vs Im cf %.5f (tolerance %.5f)", what, got.im, cimag(phi_t),
                  tol_im);
}

typedef double (*cdf_fn)(double x, const double *param);

/* sqrt(n) times the KS distance between the sample (sorted in place) and cdf. */
static double ks_scaled(double *x, size_t n, cdf_fn cdf, const double *param)
{
    gsl_sort(x, 1, n);
    double d = 0;
    for (size_t i = 0; i < n; i++) {
        double f = cdf(x[i], param);
        d = fmax(d, fmax((double)(i + 1) / (double)n - f, f - (double)i / (double)n));
    }
    return sqrt((double)n) * d;
}

/* sqrt(n m / (n + m)) times the two-sample KS distance; sorts both in place. */
static double ks2_scaled(double *a, size_t n, double *b, size_t m)
{
    gsl_sort(a, 1, n);
    gsl_sort(b, 1, m);
    size_t i = 0, j = 0;
    double d = 0;
    while (i < n && j < m) {
        double v = fmin(a[i], b[j]);
        while (i < n && a[i] == v)
            i++;
        while (j < m && b[j] == v)
            j++;
        d = fmax(d, fabs((double)i / (double)n - (double)j / (double)m));
    }
    return sqrt((double)n * (double)m / (double)(n + m)) * d;
}

/* param = {c, mu}: alpha = 2 is N(mu, 2 c^2). */
static double gaussian_cdf(double x, const double *p)
{
    return gsl_cdf_gaussian_P(x - p[1], M_SQRT2 * p[0]);
}

static double cauchy_cdf(double x, const double *p)
{
    return gsl_cdf_cauchy_P(x - p[1], p[0]);
}

/* The Levy distribution with location p[1] and scale p[0]: erfc(sqrt(c / (2 (x - mu)))). */
static double levy_distribution_cdf(double x, const double *p)
{
    return x <= p[1] ? 0 : gsl_sf_erfc(sqrt(p[0] / (2 * (x - p[1]))));
}

static double normal_cdf(double x, const double *p)
{
    return gsl_cdf_gaussian_P(x, p[0]);
}

static double *new_doubles(size_t n)
{
    double *x = malloc(n * sizeof *x);
    ck_assert_ptr_nonnull(x);
    return x;
}

static ts_levy make_levy(double alpha, double beta, double c, double mu, ts_levy_param param)
{
    ts_levy law;
    ts_error err;
    ck_assert_int_eq(ts_levy_init(&law, alpha, beta, c, mu, param, &err), TS_OK);
    return law;
}

/* n variates per call (batched = 0) or in one batched fill (batched = 1). */
static void levy_sample(const ts_levy *law, uint64_t seed, int batched, double *x, size_t n)
{
    gsl_rng *r = ts_rng_alloc(seed, 0, 0);
    ck_assert_ptr_nonnull(r);
    if (batched)
        ts_levy_fill(law, r, x, n);
    else
        for (size_t i = 0; i < n; i++)
            x[i] = ts_levy_draw(law, r);
    gsl_rng_free(r);
}

/* ------------------------------------------------------------------ KS: closed forms */

#define KS_N sample_size(100000)

static void assert_ks_passes(const ts_levy *law, uint64_t seed, cdf_fn cdf, const double *p,
                             const char *what)
{
    double *x = new_doubles(KS_N);
    for (int batched = 0; batched <= 1; batched++) {
        levy_sample(law, seed + (uint64_t)batched, batched, x, KS_N);
        double stat = ks_scaled(x, KS_N, cdf, p);
        ck_assert_msg(stat <= KS_CRITICAL, "%s (%s, %s): sqrt(n) D = %.3f > %.4f", what,
                      ts_levy_param_name(law->param), batched ? "batched" : "per call", stat,
                      KS_CRITICAL);
    }
    free(x);
}

/* At alpha = 2 beta has no effect and S0 = S1. */
START_TEST(ks_alpha_2_is_gaussian_with_variance_2c2)
{
    const double c = 1.7, mu = 0.3, p[2] = {c, mu};
    for (int param = TS_LEVY_S0; param <= TS_LEVY_S1; param++) {
        ts_levy law = make_levy(2, 0.6, c, mu, (ts_levy_param)param);
        assert_ks_passes(&law, 101, gaussian_cdf, p, "alpha 2");
    }
}
END_TEST

START_TEST(ks_alpha_1_beta_0_is_cauchy)
{
    const double c = 1.7, mu = 0.3, p[2] = {c, mu};
    for (int param = TS_LEVY_S0; param <= TS_LEVY_S1; param++) {
        ts_levy law = make_levy(1, 0, c, mu, (ts_levy_param)param);
        assert_ks_passes(&law, 201, cauchy_cdf, p, "Cauchy");
    }
}
END_TEST

/* S1(1/2, 1, c, mu) is the Levy distribution at location mu; in S0 the location moves by
 * -beta c tan(pi/4) = -c (Nolan 2020, section 1.3). */
START_TEST(ks_alpha_half_beta_1_is_levy_distribution)
{
    const double c = 1.7, mu = 0.3;
    ts_levy s1 = make_levy(0.5, 1, c, mu, TS_LEVY_S1);
    const double p1[2] = {c, mu};
    assert_ks_passes(&s1, 301, levy_distribution_cdf, p1, "Levy distribution");
    ts_levy s0 = make_levy(0.5, 1, c, mu, TS_LEVY_S0);
    const double p0[2] = {c, mu - c};
    assert_ks_passes(&s0, 303, levy_distribution_cdf, p0, "Levy distribution");
}
END_TEST

/* ------------------------------------------------------------------ ECF: the general case */

#define ECF_N sample_size(100000)
static const double grid_alpha[] = {0.5, 0.9, 1, 1.1, 1.5, 1.9};
static const double grid_beta[] = {-1, -0.5, 0, 0.7, 1};
static const double ecf_t[] = {0.2, 0.5, 1, 2}; /* in units of 1/c */

/* _i runs over the alpha x beta grid; each case checks S0 and S1, per call and batched. The
 * scale c = 1.7 makes log c != 0, so that the alpha = 1 shift's sign is tested too. */
START_TEST(ecf_matches_nolan_cf_over_alpha_beta_grid)
{
    const double alpha = grid_alpha[_i / 5], beta = grid_beta[_i % 5], c = 1.7, mu = 0.3;
    double *x = new_doubles(ECF_N);
    for (int param = TS_LEVY_S0; param <= TS_LEVY_S1; param++) {
        ts_levy law = make_levy(alpha, beta, c, mu, (ts_levy_param)param);
        for (int batched = 0; batched <= 1; batched++) {
            levy_sample(&law, 1000 + (uint64_t)(_i * 4 + param * 2 + batched), batched, x,
                        ECF_N);
            for (size_t k = 0; k < sizeof ecf_t / sizeof ecf_t[0]; k++) {
                double t = ecf_t[k] / c;
                char what[128];
                snprintf(what, sizeof what, "alpha %g beta %g %s %s t %g", alpha, beta,
                         ts_levy_param_name(law.param), batched ? "batched" : "per call", t);
                assert_ecf_matches(ecf(x, ECF_N, t),
                                   stable_cf(alpha, beta, c, mu, law.param, t),
                                   stable_cf(alpha, beta, c, mu, law.param, 2 * t), ECF_N,
                                   what);
            }
        }
    }
    free(x);
}
END_TEST

/* S0 is continuous in alpha: at alpha = 0.99 and 1.01 (beta = 0.7) the ECFs differ by no more
 * than the exact cfs do plus the sampling error of both (5 standard deviations of the
 * difference of two independent means). In S1 the same pair differs by far more (the location
 * jumps by about 2 beta c tan(pi 0.99/2) = 152), which shows the check has power. */
START_TEST(s0_is_continuous_across_alpha_1)
{
    const double beta = 0.7, c = 1.7, mu = 0.3, t = 0.5 / c;
    double *lo = new_doubles(ECF_N), *hi = new_doubles(ECF_N);
    for (int batched = 0; batched <= 1; batched++) {
        ts_levy below = make_levy(0.99, beta, c, mu, TS_LEVY_S0);
        ts_levy above = make_levy(1.01, beta, c, mu, TS_LEVY_S0);
        levy_sample(&below, 41, batched, lo, ECF_N);
        levy_sample(&above, 42, batched, hi, ECF_N);
        ecf_value a = ecf(lo, ECF_N, t), b = ecf(hi, ECF_N, t);
        double complex cf_a = stable_cf(0.99, beta, c, mu, TS_LEVY_S0, t);
        double complex cf_b = stable_cf(1.01, beta, c, mu, TS_LEVY_S0, t);
        double complex cf_a2 = stable_cf(0.99, beta, c, mu, TS_LEVY_S0, 2 * t);
        double complex cf_b2 = stable_cf(1.01, beta, c, mu, TS_LEVY_S0, 2 * t);
        double sd_re = hypot(sd_cos_part(cf_a, cf_a2, ECF_N), sd_cos_part(cf_b, cf_b2, ECF_N));
        double sd_im = hypot(sd_sin_part(cf_a, cf_a2, ECF_N), sd_sin_part(cf_b, cf_b2, ECF_N));
        ck_assert_double_le(fabs(a.re - b.re), fabs(creal(cf_a - cf_b)) + SIGMAS * sd_re);
        ck_assert_double_le(fabs(a.im - b.im), fabs(cimag(cf_a - cf_b)) + SIGMAS * sd_im);
        ck_assert_double_le(cabs(cf_a - cf_b), 0.05); /* the law itself barely moves */

        ts_levy below1 = make_levy(0.99, beta, c, mu, TS_LEVY_S1);
        ts_levy above1 = make_levy(1.01, beta, c, mu, TS_LEVY_S1);
        levy_sample(&below1, 41, batched, lo, ECF_N);
        levy_sample(&above1, 42, batched, hi, ECF_N);
        a = ecf(lo, ECF_N, t);
        b = ecf(hi, ECF_N, t);
        ck_assert_double_ge(hypot(a.re - b.re, a.im - b.im), 0.3);
    }
    free(lo);
    free(hi);
}
END_TEST

/* On one stream, an S0 draw minus the S1 draw with the same (alpha, beta, c, mu) is
 * -(S0 location - S1 location of the same law) = -beta c tan(pi alpha/2) for alpha != 1 and
 * -beta (2/pi) c log c for alpha = 1 (Nolan 2020, section 1.3), up to rounding of the sum. */
START_TEST(s0_minus_s1_is_nolans_location_shift)
{
    const double alphas[] = {0.5, 1, 1.5};
    const double beta = -0.7, c = 2.5, mu = 0.3;
    enum { N = 1000 };
    double s0[N], s1[N];
    for (size_t a = 0; a < sizeof alphas / sizeof alphas[0]; a++) {
        double alpha = alphas[a];
        double expect = alpha == 1 ? -beta * (2 / M_PI) * c * log(c)
                                   : -beta * c * tan(M_PI * alpha / 2);
        ts_levy law0 = make_levy(alpha, beta, c, mu, TS_LEVY_S0);
        ts_levy law1 = make_levy(alpha, beta, c, mu, TS_LEVY_S1);
        for (int batched = 0; batched <= 1; batched++) {
            levy_sample(&law0, 7, batched, s0, N);
            levy_sample(&law1, 7, batched, s1, N);
            size_t off = 0;
            for (size_t i = 0; i < N; i++)
                off += !(fabs(s0[i] - s1[i] - expect) <= 1e-12 * (fabs(s0[i]) + fabs(s1[i]) + 1));
            ck_assert_msg(off == 0, "alpha %g: %zu draws off the shift %g", alpha, off, expect);
        }
    }
}
END_TEST

/* ------------------------------------------------------------------ batched vs per call */

static const double same_law_cases[][2] = {{0.5, 0.3}, {1, 0}, {1, -0.8}, {1.3, 1}, {2, 0}};

START_TEST(levy_fill_and_gsl_draw_have_the_same_law)
{
    const double alpha = same_law_cases[_i][0], beta = same_law_cases[_i][1];
    double *a = new_doubles(KS_N), *b = new_doubles(KS_N);
    ts_levy law = make_levy(alpha, beta, 1.3, -0.2, TS_LEVY_S0);
    levy_sample(&law, 500 + (uint64_t)_i, 0, a, KS_N);
    levy_sample(&law, 600 + (uint64_t)_i, 1, b, KS_N);
    double stat = ks2_scaled(a, KS_N, b, KS_N);
    ck_assert_msg(stat <= KS_CRITICAL, "alpha %g beta %g: two-sample KS %.3f", alpha, beta,
                  stat);
    free(a);
    free(b);
}
END_TEST

/* ------------------------------------------------------------------ reproducibility */

START_TEST(levy_draws_depend_only_on_seed_point_repeat)
{
    enum { N = 700 };
    double a[N], b[N], c[N];
    ts_levy law = make_levy(1.5, 0.4, 1, 0, TS_LEVY_S0);
    gsl_rng *r1 = ts_rng_alloc(9, 4, 2), *r2 = ts_rng_alloc(9, 4, 2), *r3 = ts_rng_alloc(9, 4, 3);
    ck_assert(r1 && r2 && r3);
    for (size_t i = 0; i < N; i++) {
        a[i] = ts_levy_draw(&law, r1);
        b[i] = ts_levy_draw(&law, r2);
        c[i] = ts_levy_draw(&law, r3);
    }
    ck_assert_mem_eq(a, b, sizeof a);
    ck_assert(memcmp(a, c, sizeof a) != 0);
    ts_levy_fill(&law, r1, a, N);
    ts_levy_fill(&law, r2, b, N);
    ck_assert_mem_eq(a, b, sizeof a);
    gsl_rng_free(r1);
    gsl_rng_free(r2);
    gsl_rng_free(r3);
}
END_TEST

/* fill(37) then fill(N - 37) gives the same values as fill(N): each variate is a function of
 * its position in the stream, not of chunk boundaries. */
START_TEST(levy_fill_does_not_depend_on_how_it_is_split)
{
    enum { N = 1000, SPLIT = 37 };
    double whole[N], parts[N];
    ts_levy law = make_levy(0.8, -0.3, 2, 1, TS_LEVY_S0);
    gsl_rng *r = ts_rng_alloc(5, 5, 5);
    ck_assert_ptr_nonnull(r);
    ts_levy_fill(&law, r, whole, N);
    ts_rng_key(r, 5, 5, 5, 0);
    ts_levy_fill(&law, r, parts, SPLIT);
    ts_levy_fill(&law, r, parts + SPLIT, N - SPLIT);
    ck_assert_mem_eq(whole, parts, sizeof whole);
    gsl_rng_free(r);
}
END_TEST

START_TEST(levy_init_rejects_out_of_range_parameters)
{
    ts_levy law;
    ts_error err;
    ck_assert_int_eq(ts_levy_init(&law, 0, 0, 1, 0, TS_LEVY_S0, &err), TS_EUSAGE);
    ck_assert(strstr(err.msg, "alpha") != NULL);
    ck_assert_int_eq(ts_levy_init(&law, 2.01, 0, 1, 0, TS_LEVY_S0, &err), TS_EUSAGE);
    ck_assert_int_eq(ts_levy_init(&law, NAN, 0, 1, 0, TS_LEVY_S0, &err), TS_EUSAGE);
    ck_assert_int_eq(ts_levy_init(&law, 1.5, 1.01, 1, 0, TS_LEVY_S0, &err), TS_EUSAGE);
    ck_assert(strstr(err.msg, "beta") != NULL);
    ck_assert_int_eq(ts_levy_init(&law, 1.5, 0, 0, 0, TS_LEVY_S0, &err), TS_EUSAGE);
    ck_assert(strstr(err.msg, "scale") != NULL);
    ck_assert_int_eq(ts_levy_init(&law, 1.5, 0, 1, INFINITY, TS_LEVY_S0, &err), TS_EUSAGE);
    ck_assert_int_eq(ts_levy_init(&law, 1.5, 0, 1, 0, (ts_levy_param)7, &err), TS_EUSAGE);
    ts_levy_param param;
    ck_assert_int_eq(ts_levy_param_parse("S2", &param, &err), TS_EUSAGE);
    ck_assert_int_eq(ts_levy_param_parse("s1", &param, &err), TS_OK);
    ck_assert_int_eq(param, TS_LEVY_S1);
    ts_levy_vec vec;
    ck_assert_int_eq(ts_levy_vec_init(&vec, TS_LEVY_ISOTROPIC, 1.5, 1, 0, &err), TS_EUSAGE);
    ck_assert_int_eq(ts_levy_vec_init(&vec, TS_LEVY_ISOTROPIC, -1, 1, 3, &err), TS_EUSAGE);
}
END_TEST

/* ------------------------------------------------------------------ multivariate */

#define VEC_N sample_size(100000)
enum { VEC_D = 4 };

static ts_levy_vec make_vec(ts_levy_noise noise, double alpha, double c, size_t d)
{
    ts_levy_vec law;
    ts_error err;
    ck_assert_int_eq(ts_levy_vec_init(&law, noise, alpha, c, d, &err), TS_OK);
    return law;
}

static void vec_sample(const ts_levy_vec *law, uint64_t seed, int batched, double *x, size_t n)
{
    gsl_rng *r = ts_rng_alloc(seed, 1, 0);
    ck_assert_ptr_nonnull(r);
    if (batched)
        ts_levy_vec_fill(law, r, x, n);
    else
        for (size_t i = 0; i < n; i++)
            ts_levy_vec_draw(law, r, x + i * law->dim);
    gsl_rng_free(r);
}

static double vec_norm(const double *u, size_t d)
{
    double s = 0;
    for (size_t k = 0; k < d; k++)
        s += u[k] * u[k];
    return sqrt(s);
}

/* E exp(i<u, L>) = exp(-||c u||^alpha) (isotropic) or exp(-c^alpha sum |u_k|^alpha)
 * (coordinate): real cf, so the imaginary part must vanish. */
static double complex vec_cf(const ts_levy_vec *law, const double *u)
{
    double s = 0;
    if (law->noise == TS_LEVY_ISOTROPIC)
        s = pow(law->scale * vec_norm(u, law->dim), law->alpha);
    else
        for (size_t k = 0; k < law->dim; k++)
            s += pow(law->scale * fabs(u[k]), law->alpha);
    return exp(-s);
}

static const double iso_alpha[] = {0.5, 1, 1.5, 1.9, 2};

/* Directions: an axis, the diagonal, and an arbitrary one; lengths 0.5, 1, 2 (times 1/c). The
 * off-axis directions separate the isotropic law from the coordinate one. */
START_TEST(levy_vec_ecf_matches_exact_cf_along_directions)
{
    const double alpha = iso_alpha[_i % 5], c = 1.3;
    const ts_levy_noise noise = _i < 5 ? TS_LEVY_ISOTROPIC : TS_LEVY_COORDINATE;
    static const double dirs[3][VEC_D] = {{1, 0, 0, 0}, {1, 1, 1, 1}, {1, -2, 0.5, 3}};
    static const double lengths[] = {0.5, 1, 2};
    ts_levy_vec law = make_vec(noise, alpha, c, VEC_D);
    double *x = new_doubles(VEC_N * VEC_D);
    for (int batched = 0; batched <= 1; batched++) {
        vec_sample(&law, 2000 + (uint64_t)(2 * _i + batched), batched, x, VEC_N);
        for (size_t d = 0; d < 3; d++)
            for (size_t l = 0; l < 3; l++) {
                double u[VEC_D], u2[VEC_D];
                double norm = vec_norm(dirs[d], VEC_D);
                for (size_t k = 0; k < VEC_D; k++) {
                    u[k] = dirs[d][k] / norm * lengths[l] / c;
                    u2[k] = 2 * u[k];
                }
                char what[128];
                snprintf(what, sizeof what, "%s alpha %g %s direction %zu length %g",
                         ts_levy_noise_name(noise), alpha, batched ? "batched" : "per call", d,
                         lengths[l]);
                assert_ecf_matches(ecf_projected(x, VEC_N, VEC_D, u), vec_cf(&law, u),
                                   vec_cf(&law, u2), VEC_N, what);
            }
    }
    free(x);
}
END_TEST

/* At alpha = 2 the isotropic law is N(0, 2 c^2 I). With n vectors, the mean of X_k^2
 * estimates 2 c^2 with standard deviation sqrt(Var(X_k^2)/n) = sqrt(2 (2 c^2)^2 / n), and the
 * mean of X_j X_k (j != k) estimates 0 with standard deviation 2 c^2 / sqrt(n); 5 of each. */
START_TEST(levy_iso_alpha_2_has_variance_2_per_coordinate)
{
    const double c = 1.0, var = 2 * c * c;
    ts_levy_vec law = make_vec(TS_LEVY_ISOTROPIC, 2, c, VEC_D);
    double *x = new_doubles(VEC_N * VEC_D);
    for (int batched = 0; batched <= 1; batched++) {
        vec_sample(&law, 77 + (uint64_t)batched, batched, x, VEC_N);
        for (size_t j = 0; j < VEC_D; j++)
            for (size_t k = j; k < VEC_D; k++) {
                double s = 0;
                for (size_t i = 0; i < VEC_N; i++)
                    s += x[i * VEC_D + j] * x[i * VEC_D + k];
                s /= VEC_N;
                if (j == k)
                    ck_assert_double_le(fabs(s - var), SIGMAS * sqrt(2 * var * var / VEC_N));
                else
                    ck_assert_double_le(fabs(s), SIGMAS * var / sqrt(VEC_N));
            }
    }
    free(x);
}
END_TEST

static int compare_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

/* Hill's estimator from the k largest norms ||L||: 1/alpha_hat = mean log(R_(i)/R_(k+1)).
 * sqrt(k) (alpha_hat/alpha - 1) is asymptotically N(0, 1) (Hill 1975; de Haan & Ferreira 2006,
 * Th. 3.2.5); the bias is of order k/n because the stable tail is C r^-alpha (1 + O(r^-alpha))
 * (second-order index -alpha). With n = 10^6, k = 5000: 5 standard deviations = 7% of alpha,
 * bias ~0.5%. */
START_TEST(levy_iso_hill_estimator_recovers_tail_index)
{
    enum { D = 3 };
    const size_t N = sample_size(1000000), K = N / 200;
    const double alphas[] = {0.8, 1.5};
    double *x = new_doubles((size_t)N * D), *norms = new_doubles(N);
    for (size_t a = 0; a < 2; a++) {
        ts_levy_vec law = make_vec(TS_LEVY_ISOTROPIC, alphas[a], 1, D);
        vec_sample(&law, 31 + a, 1, x, N);
        for (size_t i = 0; i < N; i++)
            norms[i] = vec_norm(x + i * D, D);
        qsort(norms, N, sizeof *norms, compare_desc);
        double s = 0;
        for (size_t i = 0; i < K; i++)
            s += log(norms[i] / norms[K]);
        double alpha_hat = K / s;
        ck_assert_msg(fabs(alpha_hat / alphas[a] - 1) <= SIGMAS / sqrt(K),
                      "Hill: alpha_hat %.4f for alpha %.2f", alpha_hat, alphas[a]);
    }
    free(x);
    free(norms);
}
END_TEST

START_TEST(levy_vec_fill_and_draw_have_the_same_law)
{
    enum { D = 3 };
    const size_t N = sample_size(50000);
    double *a = new_doubles(N * D), *b = new_doubles(N * D);
    double *na = new_doubles(N), *nb = new_doubles(N);
    for (int noise = 0; noise <= 1; noise++) {
        ts_levy_vec law = make_vec((ts_levy_noise)noise, 1.2, 0.7, D);
        vec_sample(&law, 61, 0, a, N);
        vec_sample(&law, 62, 1, b, N);
        for (size_t i = 0; i < N; i++) {
            na[i] = vec_norm(a + i * D, D);
            nb[i] = vec_norm(b + i * D, D);
        }
        ck_assert_double_le(ks2_scaled(na, N, nb, N), KS_CRITICAL);
        for (size_t i = 0; i < N; i++) {
            na[i] = a[i * D + 1];
            nb[i] = b[i * D + 1];
        }
        ck_assert_double_le(ks2_scaled(na, N, nb, N), KS_CRITICAL);
    }
    free(a);
    free(b);
    free(na);
    free(nb);
}
END_TEST

/* Vectors are functions of their stream position: for a small dim (several vectors per chunk)
 * and a large one (one vector in several chunks), and an odd dim. */
START_TEST(levy_vec_fill_does_not_depend_on_how_it_is_split)
{
    static const size_t dims[] = {1, 5, 700};
    enum { N = 300, SPLIT = 7 };
    for (size_t t = 0; t < 3; t++) {
        size_t d = dims[t];
        ts_levy_vec law = make_vec(TS_LEVY_ISOTROPIC, 1.7, 1, d);
        double *whole = new_doubles(N * d), *parts = new_doubles(N * d);
        gsl_rng *r = ts_rng_alloc(1, 2, 3);
        ck_assert_ptr_nonnull(r);
        ts_levy_vec_fill(&law, r, whole, N);
        ts_rng_key(r, 1, 2, 3, 0);
        ts_levy_vec_fill(&law, r, parts, SPLIT);
        ts_levy_vec_fill(&law, r, parts + SPLIT * d, N - SPLIT);
        ck_assert_mem_eq(whole, parts, N * d * sizeof *whole);
        size_t not_finite = 0;
        for (size_t i = 0; i < N * d; i++)
            not_finite += !isfinite(whole[i]);
        ck_assert_uint_eq(not_finite, 0);
        gsl_rng_free(r);
        free(whole);
        free(parts);
    }
}
END_TEST

/* ------------------------------------------------------------------ Gaussian batches */

START_TEST(gaussian_fill_is_normal_with_sigma)
{
    const double sigma = 0.7;
    double *x = new_doubles(KS_N);
    gsl_rng *r = ts_rng_alloc(88, 0, 0);
    ck_assert_ptr_nonnull(r);
    ts_gaussian_fill(r, sigma, x, KS_N - 1); /* odd count: the last pair is cut */
    ts_gaussian_fill(r, sigma, x + KS_N - 1, 1);
    gsl_rng_free(r);
    double stat = ks_scaled(x, KS_N, normal_cdf, &sigma);
    free(x);
    ck_assert_double_le(stat, KS_CRITICAL);
}
END_TEST

/* 10^7 standard Gaussians (10^6 under valgrind) from ts_gaussian_fill, in fills of uneven even
 * sizes so that the chunk boundaries fall everywhere. */
#define GAUSS_N sample_size(10000000)

static double *gaussian_sample(uint64_t seed, size_t n)
{
    double *x = new_doubles(n);
    gsl_rng *r = ts_rng_alloc(seed, 0, 0);
    ck_assert_ptr_nonnull(r);
    for (size_t done = 0, m = 2; done < n; m = m * 3 % 1998 + 2) {
        size_t take = m < n - done ? m : n - done;
        ts_gaussian_fill(r, 1.0, x + done, take);
        done += take;
    }
    gsl_rng_free(r);
    return x;
}

/* Kolmogorov-Smirnov against Phi at n = 10^7: sqrt(n) D <= 2.2253 (p = 10^-4). */
START_TEST(gaussian_fill_passes_ks_at_1e7)
{
    const double sigma = 1;
    double *x = gaussian_sample(301, GAUSS_N);
    double stat = ks_scaled(x, GAUSS_N, normal_cdf, &sigma);
    free(x);
    ck_assert_msg(stat <= KS_CRITICAL, "sqrt(n) D = %.3f", stat);
}
END_TEST

/* The sample moments E z^k, k = 1..4, against 0, 1, 0, 3, each within 5 standard deviations
 * sqrt((E z^2k - (E z^k)^2) / n) = sqrt(1/n), sqrt(2/n), sqrt(15/n), sqrt(96/n); and the tails
 * P(|z| > t) for t = 3, 4, 5 against 2 Phi(-t), the count within 5 binomial standard deviations
 * (at t = 5, n p = 5.7: the test mostly guards against too many). No |z| beyond the largest
 * value Box-Muller can give, sqrt(-2 log 2^-53). */
START_TEST(gaussian_fill_moments_and_tails_at_1e7)
{
    const size_t n = GAUSS_N;
    double *x = gaussian_sample(302, n);
    static const double thresholds[3] = {3, 4, 5};
    double m[5] = {0};
    size_t beyond[3] = {0};
    double largest = 0;
    for (size_t i = 0; i < n; i++) {
        double z = x[i], zk = 1;
        for (int k = 1; k <= 4; k++) m[k] += (zk *= z);
        for (int t = 0; t < 3; t++) beyond[t] += fabs(z) > thresholds[t];
        largest = fmax(largest, fabs(z));
    }
    free(x);
    static const double expect[5] = {1, 0, 1, 0, 3}, var[5] = {0, 1, 2, 15, 96};
    for (int k = 1; k <= 4; k++) {
        double mean = m[k] / (double)n, sd = sqrt(var[k] / (double)n);
        ck_assert_msg(fabs(mean - expect[k]) <= SIGMAS * sd, "E z^%d = %.6f (expected %g +- %.2g)",
                      k, mean, expect[k], SIGMAS * sd);
    }
    for (int t = 0; t < 3; t++) {
        double p = 2 * gsl_cdf_ugaussian_Q(thresholds[t]);
        double mean = (double)n * p, sd = sqrt((double)n * p * (1 - p));
        ck_assert_msg(fabs((double)beyond[t] - mean) <= SIGMAS * sd,
                      "P(|z| > %g): %zu of %zu, expected %.1f +- %.1f", thresholds[t], beyond[t],
                      n, mean, sd);
    }
    ck_assert_double_le(largest, sqrt(-2 * log(ldexp(1, -53))));
}
END_TEST

/* The two variates of a Box-Muller pair are independent: their correlation, and that of their
 * squares (which a shared radius would correlate), are N(0, 1/pairs) (5 standard deviations). */
START_TEST(gaussian_fill_pairs_are_independent)
{
    const size_t pairs = GAUSS_N / 2;
    double *x = gaussian_sample(303, 2 * pairs);
    double sxy = 0, sqq = 0;
    for (size_t i = 0; i < pairs; i++) {
        double a = x[2 * i], b = x[2 * i + 1];
        sxy += a * b;
        sqq += (a * a - 1) * (b * b - 1) / 2; /* var(z^2) = 2 */
    }
    free(x);
    double tol = SIGMAS / sqrt((double)pairs);
    ck_assert_msg(fabs(sxy / (double)pairs) <= tol, "corr(z1, z2) = %g", sxy / (double)pairs);
    ck_assert_msg(fabs(sqq / (double)pairs) <= tol, "corr(z1^2, z2^2) = %g", sqq / (double)pairs);
}
END_TEST

/* ------------------------------------------------------------------ Zipf */

/* Exact pmf, from the definition: pi_k = k^-s / sum_j j^-s (long double sum). */
static double *zipf_pmf(size_t d, double s)
{
    double *p = new_doubles(d);
    long double total = 0;
    for (size_t k = 1; k <= d; k++)
        total += powl((long double)k, -(long double)s);
    for (size_t k = 1; k <= d; k++)
        p[k - 1] = (double)(powl((long double)k, -(long double)s) / total);
    return p;
}

/* Pearson's chi-square of counts[0..d-1] (n draws) against pmf, consecutive bins merged until
 * each expected count is >= 5 (a short remainder joins the last bin); returns the p-value. */
static double chisq_p_value(const size_t *counts, const double *pmf, size_t d, size_t n)
{
    double stat = 0, expected = 0, observed = 0;
    size_t bins = 0;
    double last_e = 0, last_o = 0;
    for (size_t k = 0; k < d; k++) {
        expected += (double)n * pmf[k];
        observed += (double)counts[k];
        if (expected >= 5) {
            stat += (observed - expected) * (observed - expected) / expected;
            last_e = expected;
            last_o = observed;
            bins++;
            expected = observed = 0;
        }
    }
    if (expected > 0 || observed > 0) { /* fold the remainder into the last full bin */
        ck_assert_uint_gt(bins, 0);
        stat -= (last_o - last_e) * (last_o - last_e) / last_e;
        last_e += expected;
        last_o += observed;
        stat += (last_o - last_e) * (last_o - last_e) / last_e;
    }
    ck_assert_uint_ge(bins, 2);
    return gsl_cdf_chisq_Q(stat, (double)(bins - 1));
}

/* Check records every passed assertion through a pipe, so hot loops count and assert once. */
static size_t *count_draws(const size_t *k, size_t n, size_t d)
{
    size_t *counts = calloc(d, sizeof *counts);
    ck_assert_ptr_nonnull(counts);
    size_t out_of_range = 0;
    for (size_t i = 0; i < n; i++) {
        if (k[i] < 1 || k[i] > d)
            out_of_range++;
        else
            counts[k[i] - 1]++;
    }
    ck_assert_uint_eq(out_of_range, 0);
    return counts;
}

static ts_zipf *make_zipf(size_t d, double s, ts_zipf_method method)
{
    ts_error err;
    ts_zipf *z = ts_zipf_alloc(d, s, method, &err);
    ck_assert_msg(z != NULL, "ts_zipf_alloc: %s", err.msg);
    return z;
}

static const double zipf_exponents[] = {0, 0.5, 1, 1.5, 2};
static const size_t zipf_dims[] = {10, 1000, 1000000};

/* _i over exponent x dim; both methods, batched (10^6 draws) and per call (2 10^5). */
START_TEST(zipf_chisquare_matches_pmf)
{
    const double s = zipf_exponents[_i % 5];
    const size_t d = zipf_dims[_i / 5];
    const size_t N_FILL = sample_size(1000000), N_DRAW = sample_size(200000);
    double *pmf = zipf_pmf(d, s);
    size_t *k = malloc(N_FILL * sizeof *k);
    ck_assert_ptr_nonnull(k);
    for (int m = TS_ZIPF_ALIAS; m <= TS_ZIPF_REJECTION; m++) {
        ts_zipf *z = make_zipf(d, s, (ts_zipf_method)m);
        ck_assert_int_eq(ts_zipf_method_used(z), m);
        gsl_rng *r = ts_rng_alloc(3000 + (uint64_t)_i, (uint64_t)m, 0);
        ck_assert_ptr_nonnull(r);
        ts_zipf_fill(z, r, k, N_FILL);
        size_t *counts = count_draws(k, N_FILL, d);
        double p = chisq_p_value(counts, pmf, d, N_FILL);
        ck_assert_msg(p >= CHISQ_P_MIN, "%s batched d %zu s %g: p = %.3g",
                      ts_zipf_method_name((ts_zipf_method)m), d, s, p);
        free(counts);
        for (size_t i = 0; i < N_DRAW; i++)
            k[i] = ts_zipf_draw(z, r);
        counts = count_draws(k, N_DRAW, d);
        p = chisq_p_value(counts, pmf, d, N_DRAW);
        ck_assert_msg(p >= CHISQ_P_MIN, "%s per call d %zu s %g: p = %.3g",
                      ts_zipf_method_name((ts_zipf_method)m), d, s, p);
        free(counts);
        gsl_rng_free(r);
        ts_zipf_free(z);
    }
    free(k);
    free(pmf);
}
END_TEST

/* Two-sample chi-square (homogeneity) of alias vs rejection counts, equal sample sizes:
 * sum (a - b)^2 / (a + b) over bins merged until the expected pooled count 2 n pi >= 10,
 * chi-square with bins - 1 degrees of freedom under the null. */
START_TEST(zipf_alias_and_rejection_agree)
{
    const double exponents[] = {0.7, 1.0, 1.8};
    enum { D = 1000 };
    const size_t N = sample_size(1000000);
    size_t *k = malloc(N * sizeof *k);
    ck_assert_ptr_nonnull(k);
    for (size_t e = 0; e < 3; e++) {
        size_t *counts[2];
        for (int m = 0; m < 2; m++) {
            ts_zipf *z = make_zipf(D, exponents[e], m == 0 ? TS_ZIPF_ALIAS : TS_ZIPF_REJECTION);
            gsl_rng *r = ts_rng_alloc(4000 + e, (uint64_t)m, 0);
            ck_assert_ptr_nonnull(r);
            ts_zipf_fill(z, r, k, N);
            counts[m] = count_draws(k, N, D);
            gsl_rng_free(r);
            ts_zipf_free(z);
        }
        double *pmf = zipf_pmf(D, exponents[e]);
        double stat = 0, expected = 0, a = 0, b = 0;
        size_t bins = 0;
        for (size_t i = 0; i < D; i++) {
            expected += 2.0 * N * pmf[i];
            a += (double)counts[0][i];
            b += (double)counts[1][i];
            if (expected >= 10 || i == D - 1) {
                if (a + b > 0)
                    stat += (a - b) * (a - b) / (a + b);
                bins++;
                expected = a = b = 0;
            }
        }
        double p = gsl_cdf_chisq_Q(stat, (double)(bins - 1));
        ck_assert_msg(p >= CHISQ_P_MIN, "exponent %g: homogeneity p = %.3g", exponents[e], p);
        free(pmf);
        free(counts[0]);
        free(counts[1]);
    }
    free(k);
}
END_TEST

/* A gsl_rng that replays given doubles, to feed gsl_ran_discrete the very uniforms the batched
 * alias fill used. */
typedef struct {
    const double *u;
    size_t next;
} replay_state;

static void replay_set(void *state, unsigned long seed)
{
    (void)state;
    (void)seed;
}

static double replay_get_double(void *state)
{
    replay_state *s = state;
    return s->u[s->next++];
}

static unsigned long replay_get(void *state)
{
    return (unsigned long)(replay_get_double(state) * 4294967296.0);
}

static const gsl_rng_type replay_type = {"replay", 0xffffffffUL, 0, sizeof(replay_state),
                                         replay_set, replay_get, replay_get_double};

START_TEST(zipf_alias_fill_matches_gsl_ran_discrete_draw_for_draw)
{
    enum { N = 100000 };
    const size_t d = 1000;
    size_t *filled = malloc(N * sizeof *filled);
    double *u = new_doubles(N);
    ck_assert_ptr_nonnull(filled);
    ts_zipf *z = make_zipf(d, 1.1, TS_ZIPF_ALIAS);
    gsl_rng *r = ts_rng_alloc(12, 0, 0);
    ck_assert_ptr_nonnull(r);
    ts_zipf_fill(z, r, filled, N);
    ts_rng_key(r, 12, 0, 0, 0);
    ts_rng_fill_uniform_pos(r, u, N); /* the fill takes one open uniform per draw */
    gsl_rng *replay = gsl_rng_alloc(&replay_type);
    ck_assert_ptr_nonnull(replay);
    ((replay_state *)replay->state)->u = u;
    ((replay_state *)replay->state)->next = 0;
    size_t differ = 0;
    for (size_t i = 0; i < N; i++)
        differ += ts_zipf_draw(z, replay) != filled[i];
    ck_assert_uint_eq(differ, 0);
    gsl_rng_free(replay);
    gsl_rng_free(r);
    ts_zipf_free(z);
    free(u);
    free(filled);
}
END_TEST

/* j = rho(k) with k ~ Zipf: counting k = rho^-1(j) must give the Zipf pmf, for a random
 * permutation rho (so a sampler that ignored rho, or inverted it, fails). */
START_TEST(zipf_row_sampler_follows_the_permutation)
{
    const size_t N = sample_size(1000000);
    const size_t d = 1000;
    const double s = 1.0;
    size_t *rho = malloc(d * sizeof *rho), *rho_inv = malloc((d + 1) * sizeof *rho_inv);
    size_t *j = malloc(N * sizeof *j);
    ck_assert(rho && rho_inv && j);
    for (size_t k = 0; k < d; k++)
        rho[k] = k + 1;
    gsl_rng *r = ts_rng_alloc(13, 0, 0);
    ck_assert_ptr_nonnull(r);
    gsl_ran_shuffle(r, rho, d, sizeof *rho);
    for (size_t k = 0; k < d; k++)
        rho_inv[rho[k]] = k + 1;
    double *pmf = zipf_pmf(d, s);
    for (int m = TS_ZIPF_ALIAS; m <= TS_ZIPF_REJECTION; m++) {
        ts_zipf *z = make_zipf(d, s, (ts_zipf_method)m);
        ts_zipf_fill_row(z, r, rho, j, N - 1000);
        for (size_t i = N - 1000; i < N; i++)
            j[i] = ts_zipf_draw_row(z, r, rho);
        for (size_t i = 0; i < N; i++)
            j[i] = rho_inv[j[i]];
        size_t *counts = count_draws(j, N, d);
        double p = chisq_p_value(counts, pmf, d, N);
        ck_assert_msg(p >= CHISQ_P_MIN, "row sampler (%s): p = %.3g",
                      ts_zipf_method_name((ts_zipf_method)m), p);
        free(counts);
        ts_zipf_free(z);
    }
    gsl_rng_free(r);
    free(pmf);
    free(rho);
    free(rho_inv);
    free(j);
}
END_TEST

START_TEST(zipf_fill_does_not_depend_on_how_it_is_split)
{
    enum { N = 3000, SPLIT = 1001 };
    size_t whole[N], parts[N];
    for (int m = TS_ZIPF_ALIAS; m <= TS_ZIPF_REJECTION; m++) {
        ts_zipf *z = make_zipf(500, 0.9, (ts_zipf_method)m);
        gsl_rng *r = ts_rng_alloc(2, 2, 2);
        ck_assert_ptr_nonnull(r);
        ts_zipf_fill(z, r, whole, N);
        ts_rng_key(r, 2, 2, 2, 0);
        ts_zipf_fill(z, r, parts, SPLIT);
        ts_zipf_fill(z, r, parts + SPLIT, N - SPLIT);
        ck_assert_mem_eq(whole, parts, sizeof whole);
        ts_rng_key(r, 2, 2, 3, 0);
        ts_zipf_fill(z, r, parts, N);
        ck_assert(memcmp(whole, parts, sizeof whole) != 0);
        gsl_rng_free(r);
        ts_zipf_free(z);
    }
}
END_TEST

START_TEST(zipf_auto_picks_alias_below_memory_threshold)
{
    size_t small = TS_ZIPF_ALIAS_MAX_BYTES / 32, large = TS_ZIPF_ALIAS_MAX_BYTES / 8;
    ts_zipf *z = make_zipf(small, 1, TS_ZIPF_AUTO);
    ck_assert_int_eq(ts_zipf_method_used(z), TS_ZIPF_ALIAS);
    ck_assert_uint_le(ts_zipf_bytes(small, TS_ZIPF_AUTO), TS_ZIPF_ALIAS_MAX_BYTES + 4096);
    ts_zipf_free(z);
    z = make_zipf(large, 1, TS_ZIPF_AUTO);
    ck_assert_int_eq(ts_zipf_method_used(z), TS_ZIPF_REJECTION);
    ck_assert_uint_lt(ts_zipf_bytes(large, TS_ZIPF_AUTO), 4096);
    ck_assert_uint_eq(ts_zipf_dim(z), large);
    ts_zipf_free(z);
}
END_TEST

START_TEST(zipf_new_rejects_bad_arguments)
{
    ts_error err;
    ck_assert_ptr_null(ts_zipf_alloc(0, 1, TS_ZIPF_AUTO, &err));
    ck_assert_int_eq(err.code, TS_EUSAGE);
    ck_assert_ptr_null(ts_zipf_alloc(10, -0.5, TS_ZIPF_AUTO, &err));
    ck_assert_int_eq(err.code, TS_EUSAGE);
    ck_assert(strstr(err.msg, "exponent") != NULL);
    ck_assert_ptr_null(ts_zipf_alloc(10, NAN, TS_ZIPF_AUTO, &err));
    ck_assert_ptr_null(ts_zipf_alloc(SIZE_MAX / 4, 1, TS_ZIPF_ALIAS, &err));
    ck_assert_int_eq(err.code, TS_ERUNTIME);
    ts_zipf_method method;
    ck_assert_int_eq(ts_zipf_method_parse("walker", &method, &err), TS_EUSAGE);
    ck_assert_int_eq(ts_zipf_method_parse("rejection", &method, &err), TS_OK);
    ck_assert_int_eq(method, TS_ZIPF_REJECTION);
}
END_TEST

/* A vocabulary of one word, and an exponent large enough that nearly all mass is on k = 1. */
START_TEST(zipf_handles_degenerate_vocabularies)
{
    for (int m = TS_ZIPF_ALIAS; m <= TS_ZIPF_REJECTION; m++) {
        ts_zipf *z = make_zipf(1, 1.3, (ts_zipf_method)m);
        gsl_rng *r = ts_rng_alloc(1, 1, 1);
        ck_assert_ptr_nonnull(r);
        size_t k[100];
        ts_zipf_fill(z, r, k, 100);
        size_t not_one = 0;
        for (size_t i = 0; i < 100; i++)
            not_one += k[i] != 1;
        ck_assert_uint_eq(not_one, 0);
        ck_assert_uint_eq(ts_zipf_draw(z, r), 1);
        gsl_rng_free(r);
        ts_zipf_free(z);
    }
}
END_TEST

static Suite *variates_suite(void)
{
    Suite *s = suite_create("variates");
    TCase *stable = tcase_create("alpha-stable");
    tcase_set_timeout(stable, 120);
    tcase_add_test(stable, ks_alpha_2_is_gaussian_with_variance_2c2);
    tcase_add_test(stable, ks_alpha_1_beta_0_is_cauchy);
    tcase_add_test(stable, ks_alpha_half_beta_1_is_levy_distribution);
    tcase_add_loop_test(stable, ecf_matches_nolan_cf_over_alpha_beta_grid, 0, 30);
    tcase_add_test(stable, s0_is_continuous_across_alpha_1);
    tcase_add_test(stable, s0_minus_s1_is_nolans_location_shift);
    tcase_add_loop_test(stable, levy_fill_and_gsl_draw_have_the_same_law, 0,
                        (int)(sizeof same_law_cases / sizeof same_law_cases[0]));
    tcase_add_test(stable, levy_draws_depend_only_on_seed_point_repeat);
    tcase_add_test(stable, levy_fill_does_not_depend_on_how_it_is_split);
    tcase_add_test(stable, levy_init_rejects_out_of_range_parameters);
    suite_add_tcase(s, stable);

    TCase *vec = tcase_create("multivariate");
    tcase_set_timeout(vec, 120);
    tcase_add_loop_test(vec, levy_vec_ecf_matches_exact_cf_along_directions, 0, 10);
    tcase_add_test(vec, levy_iso_alpha_2_has_variance_2_per_coordinate);
    tcase_add_test(vec, levy_iso_hill_estimator_recovers_tail_index);
    tcase_add_test(vec, levy_vec_fill_and_draw_have_the_same_law);
    tcase_add_test(vec, levy_vec_fill_does_not_depend_on_how_it_is_split);
    tcase_add_test(vec, gaussian_fill_is_normal_with_sigma);
    tcase_add_test(vec, gaussian_fill_passes_ks_at_1e7);
    tcase_add_test(vec, gaussian_fill_moments_and_tails_at_1e7);
    tcase_add_test(vec, gaussian_fill_pairs_are_independent);
    suite_add_tcase(s, vec);

    TCase *zipf = tcase_create("zipf");
    tcase_set_timeout(zipf, 120);
    tcase_add_loop_test(zipf, zipf_chisquare_matches_pmf, 0, 15);
    tcase_add_test(zipf, zipf_alias_and_rejection_agree);
    tcase_add_test(zipf, zipf_alias_fill_matches_gsl_ran_discrete_draw_for_draw);
    tcase_add_test(zipf, zipf_row_sampler_follows_the_permutation);
    tcase_add_test(zipf, zipf_fill_does_not_depend_on_how_it_is_split);
    tcase_add_test(zipf, zipf_auto_picks_alias_below_memory_threshold);
    tcase_add_test(zipf, zipf_new_rejects_bad_arguments);
    tcase_add_test(zipf, zipf_handles_degenerate_vocabularies);
    suite_add_tcase(s, zipf);
    return s;
}

int main(void)
{
    gsl_set_error_handler_off(); /* as in the CLI: GSL failures come back as status codes */
    return ts_test_run_suite(variates_suite());
}
