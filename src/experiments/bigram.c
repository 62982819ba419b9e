/* Gradient descent vs sign descent on the linear bigram model under Zipf's law (Kunstner & Bach,
 * "Scaling Laws for Gradient Descent and Sign Descent for Linear Bigram Models under Zipf's Law",
 * arXiv:2505.19227; PAPERS.md section 1). This file: the descriptor, the Zipf model, the exact
 * mode (closed forms, O(d) memory), the theory overlays and the run dispatch; the simulated
 * modes live in bigram_full.c and bigram_sampled.c (layout convention in bigram.h).
 *
 * Model: pi_k = k^-a / H(d, a); row i's conditional p_i is a permutation of pi; square loss
 *   L(W) - L* = 1/2 sum_i pi_i ||w_i - p_i||^2,   gradient column i: pi_i (w_i - p_i),
 * so from W0 = 0 every entry (j, i) moves on its own with curvature pi_i and initial error
 * p_{j|i}, and every row holds the same multiset of errors {pi_k}:
 *   GD:   r(t) = sum_i pi_i (1 - eta pi_i)^(2t)                      (the paper's Prop. 2.2)
 *   sign: r(t) = sum_k e_k(t)^2 / sum_k pi_k^2, e_k the error of an entry with target pi_k
 *         that moves by eta per step towards its target and then oscillates around it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_min.h>
#include <gsl/gsl_roots.h>
#include <gsl/gsl_sf_expint.h>
#include <gsl/gsl_sf_gamma.h>
#include <gsl/gsl_sf_zeta.h>

#include "bigram.h"

/* ------------------------------------------------------------------ vector math
 * The closed forms spend their time in exp over d-long arrays. glibc's libmvec has SIMD exp, but
 * gcc calls it only for functions declared `simd` that cannot set errno (math.h says so only
 * under -ffast-math, which slows the memory-bound loops: RECIPES.md). As in levy.c, an alias
 * declares exactly that for the loops below, which run over a compile-time count so that -O2
 * vectorises them, in AVX2+FMA (and, for the exp-bound GD closed form, AVX-512) copies chosen at
 * run time. The copies may differ in the last bits (see the note in variates.h). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__GLIBC__)
#define BG_LIBMVEC 1
double bg_vec_exp(double) __asm__("exp") __attribute__((const, nothrow, simd("notinbranch")));
#define BG_INLINE static inline __attribute__((always_inline))
#else
#define BG_LIBMVEC 0
#define bg_vec_exp exp
#define BG_INLINE static inline
#endif

enum { CHUNK = 256 };

/* Eight independent partial sums: gcc vectorises this without reassociating anything. */
BG_INLINE double chunk_sum(const double *e)
{
    double acc[8] = {0};
    for (size_t k = 0; k < CHUNK; k += 8)
        for (size_t l = 0; l < 8; l++) acc[l] += e[k + l];
    return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

BG_INLINE double weighted_exp_chunk(const double *restrict w, const double *restrict x,
                                    double scale)
{
    double e[CHUNK];
    for (size_t k = 0; k < CHUNK; k++) e[k] = w[k] * bg_vec_exp(scale * x[k]);
    return chunk_sum(e);
}

BG_INLINE double exp_shifted_chunk(const double *restrict x, double shift, double *restrict out)
{
    for (size_t k = 0; k < CHUNK; k++) out[k] = bg_vec_exp(x[k] - shift);
    return chunk_sum(out);
}

/* sum_k w[k] exp(scale x[k]); the last partial chunk is padded with w = 0. */
BG_INLINE double weighted_exp_sum_body(const double *w, const double *x, double scale, size_t n)
{
    double sum = 0;
    size_t k = 0;
    for (; k + CHUNK <= n; k += CHUNK) sum += weighted_exp_chunk(w + k, x + k, scale);
    if (k < n) {
        double wt[CHUNK] = {0}, xt[CHUNK] = {0};
        memcpy(wt, w + k, (n - k) * sizeof *wt);
        memcpy(xt, x + k, (n - k) * sizeof *xt);
        sum += weighted_exp_chunk(wt, xt, scale);
    }
    return sum;
}

BG_INLINE double exp_shifted_body(const double *x, double shift, double *out, size_t n)
{
    double sum = 0;
    size_t k = 0;
    for (; k + CHUNK <= n; k += CHUNK) {
        double tmp[CHUNK];
        sum += exp_shifted_chunk(x + k, shift, tmp);
        memcpy(out + k, tmp, sizeof tmp);
    }
    if (k < n) {
        double xt[CHUNK], tmp[CHUNK];
        for (size_t l = 0; l < CHUNK; l++) xt[l] = k + l < n ? x[k + l] : -INFINITY;
        sum += exp_shifted_chunk(xt, shift, tmp);
        memcpy(out + k, tmp, (n - k) * sizeof *tmp);
    }
    return sum;
}

#if BG_LIBMVEC
__attribute__((target("avx2,fma"))) static double weighted_exp_sum_avx2(const double *w,
                                                                         const double *x,
                                                                         double scale, size_t n)
{
    return weighted_exp_sum_body(w, x, scale, n);
}

__attribute__((target("avx2,fma"))) static double exp_shifted_avx2(const double *x, double shift,
                                                                    double *out, size_t n)
{
    return exp_shifted_body(x, shift, out, n);
}

/* 8 lanes of exp instead of 4: 0.67 instead of 1.0 ns per term at d = 10^6 here */
__attribute__((target("avx512f"))) static double weighted_exp_sum_avx512(const double *w,
                                                                          const double *x,
                                                                          double scale, size_t n)
{
    return weighted_exp_sum_body(w, x, scale, n);
}

static int have_avx2_fma(void)
{
    return ts_bigram_have_avx2();
}

static int have_avx512f(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f");
}
#endif

static double weighted_exp_sum(const double *w, const double *x, double scale, size_t n)
{
#if BG_LIBMVEC
    if (have_avx512f()) return weighted_exp_sum_avx512(w, x, scale, n);
    if (have_avx2_fma()) return weighted_exp_sum_avx2(w, x, scale, n);
#endif
    return weighted_exp_sum_body(w, x, scale, n);
}

int ts_bigram_have_avx2(void)
{
#if TS_BIGRAM_AVX2
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

double ts_bigram_exp_shifted(const double *x, double shift, double *out, size_t n)
{
#if BG_LIBMVEC
    if (have_avx2_fma()) return exp_shifted_avx2(x, shift, out, n);
#endif
    return exp_shifted_body(x, shift, out, n);
}

/* ------------------------------------------------------------------ declarations */

static const double default_eps[] = {0.5, 0.3, 0.1};

static const ts_param_def params[] = {
    {"dim", TS_INT, .def.i = 1000, .range = "[1, inf)", .unit = "tokens",
     .doc = "vocabulary size d (W is d x d)"},
    {"zipf_exponent", TS_REAL, .def.r = 1.0, .range = "(0, inf)", .unit = "",
     .doc = "a in pi_k = k^-a / H(d, a); text is a ~ 1"},
    {"mode", TS_ENUM, .def.e = "exact", .choices = "exact|full|sampled", .unit = "",
     .doc = "exact: decoupled closed forms, O(d); full: d x d matrix, population gradient; "
            "sampled: mini-batches of (i, j) pairs"},
    {"objective", TS_ENUM, .def.e = "square", .choices = "square|cross_entropy", .unit = "",
     .doc = "square (the paper) or softmax cross-entropy (its Fig. 8; full and sampled only)"},
    TS_OPTIM_PARAMS("gd"),
    TS_SCHEDULE_PARAMS,
    {"step_rule", TS_ENUM, .def.e = "inverse_pi1", .choices = "inverse_pi1|explicit|phi",
     .unit = "",
     .doc = "base step: 1/pi_1 (the paper's GD step), step_size, or 1/(H(d,a) steps phi^a)"},
    {"step_size", TS_REAL, .def.r = 1.0, .range = "(0, inf)", .unit = "",
     .doc = "base step for step_rule explicit"},
    {"phi", TS_REAL, .def.r = 1.0, .range = "[1, inf)", .unit = "tokens",
     .doc = "step_rule phi: about how many coordinates still move at the horizon"},
    {"phi_grid", TS_INT, .def.i = 0, .range = "[0, inf)", .unit = "",
     .doc = "exact sign descent: best phi over this many log-spaced values in [1, d] per "
            "record time (0: off)"},
    {"steps", TS_INT, .def.i = 1000, .range = "[1, inf)", .unit = "iterations",
     .doc = "number of steps T (the horizon of schedules and of step_rule phi)"},
    {"record", TS_RECORD, .def.rec = {TS_RECORD_LOG, 50}, .unit = "",
     .doc = "record times over [0, steps]: {log: N} or {linear: N}"},
    {"eps", TS_REAL_LIST, .def.list = default_eps, .def.n = 3, .range = "(0, 1)", .unit = "",
     .doc = "relative errors for steps_to_eps"},
    {"permutation", TS_ENUM, .def.e = "independent", .choices = "independent|shared",
     .unit = "", .doc = "rows' conditionals: an independent random permutation each, or one"},
    {"batch_size", TS_INT, .def.i = 64, .range = "[1, inf)", .unit = "pairs",
     .doc = "sampled: (i, j) pairs per mini-batch"},
    {"batch_reuse", TS_INT, .def.i = 1, .range = "[1, inf)", .unit = "steps",
     .doc = "sampled: consecutive steps on each drawn batch"},
    {0},
};

static const ts_metric_def metrics[] = {
    {.name = "loss", .kind = TS_SERIES, .unit = "nats (cross-entropy) or squared error",
     .doc = "L(W_t) - L*, the population loss gap"},
    {.name = "rel_err", .kind = TS_SERIES, .unit = "",
     .doc = "(L(W_t) - L*) / (L(W_0) - L*)"},
    {.name = "theory_rel_err", .kind = TS_SERIES, .unit = "", .theory_for = "rel_err",
     .doc = "finite-d closed form of full-batch GD or sign descent (square loss, constant "
            "step); NaN otherwise"},
    {.name = "asymptotic_rel_err", .kind = TS_SERIES, .unit = "", .theory_for = "rel_err",
     .doc = "GD with eta = 1/pi_1: the paper's limit law (Thm 3.1; a = 1: its finite-d form); "
            "NaN otherwise"},
    {.name = "best_rel_err", .kind = TS_SERIES, .unit = "",
     .doc = "exact sign descent: min over phi of r(T) with eta = 1/(H T phi^a), T the record "
            "time (phi_grid > 0)"},
    {.name = "best_phi", .kind = TS_SERIES, .unit = "tokens", .doc = "argmin of best_rel_err"},
    {.name = "best_avg_rel_err", .kind = TS_SERIES, .unit = "",
     .doc = "as best_rel_err for the mean of the last two iterates (W_{T-1} + W_T)/2, which "
            "removes the period-2 oscillation"},
    {.name = "best_avg_phi", .kind = TS_SERIES, .unit = "tokens",
     .doc = "argmin of best_avg_rel_err"},
    {.name = "asymptotic_best_rel_err", .kind = TS_SERIES, .unit = "",
     .theory_for = "best_avg_rel_err",
     .doc = "1/(zeta(2a) (1 + tau^2)), 4 T^2 = tau^2 d (the paper's Thm 4.5, a > 1/2)"},
    {.name = "steps_to_eps", .kind = TS_SCALAR, .unit = "iterations", .dims = {"eps"},
     .doc = "first t with rel_err <= eps (exact GD: real t solving r(t) = eps); NaN if never"},
    {.name = "best_avg_steps_to_eps", .kind = TS_SCALAR, .unit = "iterations", .dims = {"eps"},
     .doc = "smallest horizon T with best_avg_rel_err <= eps (bisection); NaN if none"},
    {.name = "final_rel_err", .kind = TS_SCALAR, .unit = "", .doc = "rel_err at t = steps"},
    {0},
};

/* ------------------------------------------------------------------ the model */

static void model_free(ts_bigram_model *m)
{
    free(m->pi);
    m->pi = NULL;
}

/* Sums run from the smallest term up, in long double, so that H(d, a) and the entropy keep full
 * double precision at d = 10^7. */
static int model_init(ts_bigram_model *m, size_t d, double a, ts_error *err)
{
    memset(m, 0, sizeof *m);
    m->d = d;
    m->a = a;
    m->pi = malloc(d * sizeof *m->pi);
    if (!m->pi) return ts_error_set(err, TS_ERUNTIME, "out of memory for dim = %zu", d);
    long double h = 0, s0 = 0, ent = 0;
    for (size_t k = d; k-- > 0;) {
        m->pi[k] = pow((double)(k + 1), -a);
        h += m->pi[k];
    }
    m->harmonic = (double)h;
    for (size_t k = d; k-- > 0;) {
        m->pi[k] /= m->harmonic;
        s0 += (long double)m->pi[k] * m->pi[k];
        ent -= m->pi[k] > 0 ? (long double)m->pi[k] * log(m->pi[k]) : 0;
    }
    m->s0 = (double)s0;
    m->entropy = (double)ent;
    return TS_OK;
}

double ts_bigram_initial_gap(const ts_bigram_run *run)
{
    if (run->objective == TS_BIGRAM_CROSS_ENTROPY) /* W = 0 predicts uniformly: log d - entropy */
        return log((double)run->model.d) - run->model.entropy;
    return 0.5 * run->model.s0;
}

static int constant_step(const ts_bigram_run *run)
{
    return run->schedule.kind == TS_SCHEDULE_CONSTANT && run->schedule.warmup == 0;
}

static int run_init(ts_bigram_run *run, const ts_point *p, ts_error *err)
{
    memset(run, 0, sizeof *run);
    run->point = p;
    int rc = model_init(&run->model, (size_t)ts_point_int(p, "dim"),
                        ts_point_real(p, "zipf_exponent"), err);
    if (rc) return rc;
    run->objective =
        ts_point_is(p, "objective", "square") ? TS_BIGRAM_SQUARE : TS_BIGRAM_CROSS_ENTROPY;
    run->optim = ts_optim_config_of(p);
    run->steps = ts_point_int(p, "steps");
    run->shared_permutation = ts_point_is(p, "permutation", "shared");
    run->batch_size = (size_t)ts_point_int(p, "batch_size");
    run->batch_reuse = (size_t)ts_point_int(p, "batch_reuse");
    if (ts_point_is(p, "step_rule", "inverse_pi1"))
        run->eta = 1.0 / run->model.pi[0];
    else if (ts_point_is(p, "step_rule", "explicit"))
        run->eta = ts_point_real(p, "step_size");
    else /* the paper's sign-descent parameterisation eta(T, phi) = 1/(H(d,a) T phi^a) */
        run->eta = 1.0 / (run->model.harmonic * (double)run->steps *
                          pow(ts_point_real(p, "phi"), run->model.a));
    rc = ts_schedule_of(p, run->eta, run->steps, &run->schedule, err);
    if (rc) model_free(&run->model);
    return rc;
}

/* ------------------------------------------------------------------ gradient descent */

/* log|1 - x| for x = eta pi_k, so that |1 - x|^(2t) = exp(2t log|1 - x|) for any real t >= 0:
 * log1p keeps the precision of tiny eta pi_k at huge t; x = 1 (the paper's eta = 1/pi_1 on
 * pi_1) removes the coordinate in one step, log 0 = -inf. */
static double *gd_log_contraction(const ts_bigram_model *m, double eta, ts_error *err)
{
    double *ell = malloc(m->d * sizeof *ell);
    if (!ell) {
        ts_error_set(err, TS_ERUNTIME, "out of memory for dim = %zu", m->d);
        return NULL;
    }
    for (size_t k = 0; k < m->d; k++) {
        double x = eta * m->pi[k];
        ell[k] = x < 1 ? log1p(-x) : x == 1 ? -INFINITY : log(x - 1);
    }
    return ell;
}

/* r(t) = sum_i pi_i |1 - eta pi_i|^(2t); r(0) = 1 by definition (0 * -inf is not 0). */
static double gd_rel_err(const ts_bigram_model *m, const double *ell, double t)
{
    return t == 0 ? 1.0 : weighted_exp_sum(m->pi, ell, 2 * t, m->d);
}

typedef struct gd_root {
    const ts_bigram_model *m;
    const double *ell;
    double eps;
} gd_root;

static double gd_root_fn(double t, void *params)
{
    const gd_root *q = params;
    return gd_rel_err(q->m, q->ell, t) - q->eps;
}

/* The real t with r(t) = eps (r decreases in t for a run that has not diverged), by GSL's Brent
 * solver on [0, steps]; the upper end of the final bracket, so that r(t) <= eps holds there and
 * its ceiling is the first integer hit. NaN when r(steps) > eps. */
static double gd_steps_to_eps(const ts_bigram_model *m, const double *ell, double eps,
                              int64_t steps)
{
    gd_root q = {m, ell, eps};
    if (gd_root_fn((double)steps, &q) > 0) return NAN;
    gsl_function f = {gd_root_fn, &q};
    gsl_root_fsolver *s = gsl_root_fsolver_alloc(gsl_root_fsolver_brent);
    if (!s) return NAN;
    double lo = 0, hi = (double)steps;
    int rc = gsl_root_fsolver_set(s, &f, lo, hi); /* f(0) = 1 - eps > 0 >= f(steps) */
    for (int iter = 0; iter < 300 && rc == GSL_SUCCESS; iter++) {
        if (gsl_root_fsolver_iterate(s) != GSL_SUCCESS) break;
        lo = gsl_root_fsolver_x_lower(s);
        hi = gsl_root_fsolver_x_upper(s);
        if (gsl_root_test_interval(lo, hi, 1e-9, 1e-13) == GSL_SUCCESS) break;
    }
    gsl_root_fsolver_free(s);
    return hi;
}

/* Theorem 3.1 of the paper for eta = 1/pi_1, rebuilt by replacing the sum over i by an
 * integral: a < 1 with 2t = tau d^a: ((1 - a)/a) E_{1/a}(tau), E_p(x) = x^(p-1) Gamma(1-p, x);
 * a = 1: the finite-d form [E_1(2t/d) - E_1(2t)] / H(d, 1); a > 1: B(2t+1, 1-1/a)/(a zeta(a)).
 * GSL reports underflow (result 0) for the far tail: that is the right value. */
static double gd_asymptotic(const ts_bigram_model *m, int64_t t)
{
    if (t == 0) return 1.0;
    double a = m->a, d = (double)m->d, two_t = 2.0 * (double)t;
    gsl_sf_result g, e1, e2, lb, z;
    if (a < 1) {
        double tau = two_t / pow(d, a), p = 1 / a;
        int rc = gsl_sf_gamma_inc_e(1 - p, tau, &g);
        if (rc == GSL_EUNDRFLW) return 0;
        if (rc) return NAN;
        return (1 - a) / a * exp((p - 1) * log(tau)) * g.val;
    }
    if (a == 1) {
        int rc1 = gsl_sf_expint_E1_e(two_t / d, &e1), rc2 = gsl_sf_expint_E1_e(two_t, &e2);
        if ((rc1 && rc1 != GSL_EUNDRFLW) || (rc2 && rc2 != GSL_EUNDRFLW)) return NAN;
        return ((rc1 ? 0 : e1.val) - (rc2 ? 0 : e2.val)) / m->harmonic;
    }
    if (gsl_sf_lnbeta_e(two_t + 1, 1 - 1 / a, &lb) || gsl_sf_zeta_e(a, &z)) return NAN;
    return exp(lb.val) / (a * z.val);
}

/* ------------------------------------------------------------------ sign descent
 * An entry with target p moving by eta from 0: m = floor(p/eta) full steps reach p - m eta =
 * r0 in [0, eta); for t > m it sits at (m + 1) eta when t - m is odd (error eta - r0) and at
 * m eta when even (error r0); r0 = 0 lands exactly and stays. Since pi decreases, m does too:
 * the entries still moving at time t (m >= t, error p - t eta) are a prefix. */

typedef struct sign_split {
    double m, r0;
} sign_split;

/* The band loop below vectorises only if it is free of branches and calls, and gcc keeps a
 * select as a branch when an arm computes (a floating-point operation may trap): so selects are
 * blends c x + (1 - c) y with c in {0, 1}, exact for finite x and y, from quiet comparisons
 * (isless and friends: `<` and `==` count as trapping), and floor is the 2^52 rounding trick,
 * exact in round-to-nearest (libm's floor is a call, and gcc vectorises the instruction only
 * under -fno-trapping-math). */
BG_INLINE double blend(double c, double x, double y)
{
    return c * x + (1 - c) * y;
}

BG_INLINE double floor_of(double x)
{
    const double big = 4503599627370496.0; /* 2^52: beyond it every double is an integer */
    double nearest = (x + big) - big;
    double floor = nearest - (double)isgreater(nearest, x);
    return blend((double)isless(fabs(x), big), floor, x);
}

BG_INLINE sign_split sign_split_of(double p, double eta)
{
    double m = floor_of(p / eta), r0 = p - m * eta;
    /* p / eta may round across an integer: keep r0 in [0, eta) */
    double low = (double)isless(r0, 0), high = (double)isgreaterequal(r0, eta);
    return (sign_split){m + high - low, r0 + (low - high) * eta};
}

/* Entries that have arrived (t > m): squared errors of the iterate (r0 or eta - r0 by the
 * parity of t - m) and of the mean of the last two iterates ((m + 1/2) eta: error r0 - eta/2,
 * also at t = m + 1), both 0 for an exact landing. Padding with p = 0 adds 0. */
BG_INLINE void band_chunk(const double *restrict p, double eta, double tt, double *s_iterate,
                          double *s_mean)
{
    double a[CHUNK], b[CHUNK];
    for (size_t k = 0; k < CHUNK; k++) {
        sign_split s = sign_split_of(p[k], eta);
        double lag = tt - s.m, odd = lag - 2 * floor_of(0.5 * lag);
        double moved = (double)isgreater(s.r0, 0);
        double e = moved * blend(odd, eta - s.r0, s.r0), f = moved * (s.r0 - 0.5 * eta);
        a[k] = e * e;
        b[k] = f * f;
    }
    *s_iterate += chunk_sum(a);
    *s_mean += chunk_sum(b);
}

BG_INLINE void band_body(const double *p, size_t n, double eta, double tt, double *s_iterate,
                         double *s_mean)
{
    size_t k = 0;
    for (; k + CHUNK <= n; k += CHUNK) band_chunk(p + k, eta, tt, s_iterate, s_mean);
    if (k < n) {
        double pt[CHUNK] = {0};
        memcpy(pt, p + k, (n - k) * sizeof *pt);
        band_chunk(pt, eta, tt, s_iterate, s_mean);
    }
}

#if BG_LIBMVEC
__attribute__((target("avx2,fma"))) static void band_avx2(const double *p, size_t n, double eta,
                                                           double tt, double *s_it, double *s_mean)
{
    band_body(p, n, eta, tt, s_it, s_mean);
}
#endif

static void band_sums(const double *p, size_t n, double eta, int64_t t, double *s_iterate,
                      double *s_mean)
{
    *s_iterate = *s_mean = 0;
#if BG_LIBMVEC
    if (have_avx2_fma()) {
        band_avx2(p, n, eta, (double)t, s_iterate, s_mean);
        return;
    }
#endif
    band_body(p, n, eta, (double)t, s_iterate, s_mean);
}

/* How many targets have m >= level (a prefix). */
static size_t count_reaching(const ts_bigram_model *m, double eta, double level)
{
    size_t lo = 0, hi = m->d;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (sign_split_of(m->pi[mid], eta).m >= level) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* sum_{k < n} (p_k - c)^2 */
static double moving_sum(const double *p, size_t n, double c)
{
    double acc[4] = {0};
    size_t k = 0;
    for (; k + 4 <= n; k += 4)
        for (size_t l = 0; l < 4; l++) acc[l] += (p[k + l] - c) * (p[k + l] - c);
    for (; k < n; k++) acc[0] += (p[k] - c) * (p[k] - c);
    return (acc[0] + acc[2]) + (acc[1] + acc[3]);
}

/* S(t) = sum_k e_k(t)^2 at a fixed eta in O(K + log d), K the entries still moving: those are
 * summed directly, the arrived ones come from suffix sums of their squared errors at even and
 * at odd t. The reference value for every other sign-descent evaluation here. */
typedef struct sign_table {
    const ts_bigram_model *m;
    double eta;
    double *arrived[2]; /* [d + 1]: sum over k' >= k of the squared error at even / odd t */
} sign_table;

static void sign_table_free(sign_table *s)
{
    free(s->arrived[0]);
    free(s->arrived[1]);
}

static int sign_table_init(sign_table *s, const ts_bigram_model *m, double eta, ts_error *err)
{
    s->m = m;
    s->eta = eta;
    s->arrived[0] = malloc((m->d + 1) * sizeof(double));
    s->arrived[1] = malloc((m->d + 1) * sizeof(double));
    if (!s->arrived[0] || !s->arrived[1]) {
        sign_table_free(s);
        return ts_error_set(err, TS_ERUNTIME, "out of memory for dim = %zu", m->d);
    }
    long double sum[2] = {0, 0}; /* from the smallest terms up */
    s->arrived[0][m->d] = s->arrived[1][m->d] = 0;
    for (size_t k = m->d; k-- > 0;) {
        sign_split q = sign_split_of(m->pi[k], eta);
        int m_odd = fmod(q.m, 2.0) != 0;
        for (int parity = 0; parity < 2; parity++) {
            double e = q.r0 == 0 ? 0 : parity != m_odd ? eta - q.r0 : q.r0;
            sum[parity] += (long double)e * e;
            s->arrived[parity][k] = (double)sum[parity];
        }
    }
    return TS_OK;
}

static double sign_table_sum(const sign_table *s, int64_t t)
{
    if (t == 0) return s->m->s0;
    size_t moving = count_reaching(s->m, s->eta, (double)t);
    return moving_sum(s->m->pi, moving, (double)t * s->eta) + s->arrived[t % 2][moving];
}

/* First integer t <= steps with S(t) <= target, in one scan of O(d + steps): as t grows,
 * entries stop moving once each and join running sums of r0 and r0^2 split by the parity of m,
 * which decides their phase; the moving entries' sums are the totals minus what left. These
 * sums round differently from sign_table_sum (an absolute error near 1e-16 (S0 + d eta^2)), so
 * a candidate within a margin of the target is confirmed with it. Once every entry has arrived
 * S has period 2 and two more steps settle it. */
static double sign_steps_to_eps(const sign_table *table, int64_t steps, double target)
{
    const ts_bigram_model *m = table->m;
    double eta = table->eta;
    long double total1 = 0;
    for (size_t k = 0; k < m->d; k++) total1 += m->pi[k];
    double head1 = (double)total1, head2 = m->s0;
    double n[2] = {0}, s1[2] = {0}, s2[2] = {0};
    double margin = 1e-11 * (m->s0 + (double)m->d * eta * eta);
    size_t head = m->d;
    int64_t settled = -1;
    for (int64_t t = 0; t <= steps; t++) {
        double tt = (double)t;
        while (head > 0) {
            double p = m->pi[head - 1];
            sign_split s = sign_split_of(p, eta);
            if (s.m >= tt) break;
            head1 -= p;
            head2 -= p * p;
            if (s.r0 > 0) {
                int c = fmod(s.m, 2.0) != 0;
                n[c] += 1;
                s1[c] += s.r0;
                s2[c] += s.r0 * s.r0;
            }
            head--;
        }
        double c = tt * eta, sum = head2 - 2 * c * head1 + (double)head * c * c;
        for (int parity = 0; parity < 2; parity++) {
            int in_phase = (t % 2) == parity; /* t - m even: error r0 */
            sum += in_phase ? s2[parity]
                            : n[parity] * eta * eta - 2 * eta * s1[parity] + s2[parity];
        }
        if (sum <= target + margin && sign_table_sum(table, t) <= target) return tt;
        if (head == 0 && settled < 0) settled = t;
        if (settled >= 0 && t >= settled + 1) break;
    }
    return NAN;
}

/* Prefix sums of pi and pi^2, for the envelope's evaluations at ever new eta. */
typedef struct sign_prefix {
    double *s1, *s2; /* [d + 1]: sums over the first k targets */
} sign_prefix;

static void sign_prefix_free(sign_prefix *q)
{
    free(q->s1);
    free(q->s2);
}

static int sign_prefix_init(sign_prefix *q, const ts_bigram_model *m, ts_error *err)
{
    q->s1 = malloc((m->d + 1) * sizeof *q->s1);
    q->s2 = malloc((m->d + 1) * sizeof *q->s2);
    if (!q->s1 || !q->s2) {
        sign_prefix_free(q);
        return ts_error_set(err, TS_ERUNTIME, "out of memory for dim = %zu", m->d);
    }
    long double s1 = 0, s2 = 0;
    q->s1[0] = q->s2[0] = 0;
    for (size_t k = 0; k < m->d; k++) {
        s1 += m->pi[k];
        s2 += (long double)m->pi[k] * m->pi[k];
        q->s1[k + 1] = (double)s1;
        q->s2[k + 1] = (double)s2;
    }
    return TS_OK;
}

/* sum over the first k targets of (pi - c)^2, from the prefix sums */
static double head_sum(const sign_prefix *q, size_t k, double c)
{
    return q->s2[k] - 2 * c * q->s1[k] + (double)k * c * c;
}

/* S(t) for the iterate W_t and for the mean of W_{t-1} and W_t (t >= 1) at any eta in
 * O(log d + band): closed forms over the moving head (errors p - t eta and p - (t - 1/2) eta)
 * and over the tail that never completes a step (m = 0: p < eta flips between 0 and eta,
 * errors p or eta - p, and p - eta/2), entry by entry over the band in between, the targets in
 * [eta, t eta). Absolute rounding near 1e-16 S0, from the prefix-sum differences. */
static void sign_sums_at(const ts_bigram_model *m, const sign_prefix *q, double eta, int64_t t,
                         double *s_iterate, double *s_mean)
{
    double tt = (double)t;
    size_t head = count_reaching(m, eta, tt), moved = count_reaching(m, eta, 1.0);
    double it = head_sum(q, head, tt * eta), mean = head_sum(q, head, (tt - 0.5) * eta);
    double n = (double)(m->d - moved), a1 = q->s1[m->d] - q->s1[moved];
    double a2 = q->s2[m->d] - q->s2[moved];
    it += t % 2 == 0 ? a2 : n * eta * eta - 2 * eta * a1 + a2;
    mean += a2 - eta * a1 + 0.25 * n * eta * eta;
    double band_it, band_mean;
    band_sums(m->pi + head, moved - head, eta, t, &band_it, &band_mean);
    *s_iterate = it + band_it;
    *s_mean = mean + band_mean;
}

/* ------------------------------------------------------------------ best phi per horizon */

typedef struct envelope {
    const ts_bigram_model *m;
    const sign_prefix *q;
    int64_t horizon;
    int mean;          /* 0: the iterate W_T; 1: the mean of W_{T-1} and W_T */
    double best, best_log_phi;
} envelope;

static double envelope_fn(double log_phi, void *params)
{
    envelope *v = params;
    double eta = 1.0 / (v->m->harmonic * (double)v->horizon * exp(v->m->a * log_phi));
    double s_it, s_mean;
    sign_sums_at(v->m, v->q, eta, v->horizon, &s_it, &s_mean);
    double r = (v->mean ? s_mean : s_it) / v->m->s0;
    if (r < v->best) {
        v->best = r;
        v->best_log_phi = log_phi;
    }
    return r;
}

/* GSL's Brent minimiser on log phi from a bracket (mid below both ends). The loss is only
 * piecewise smooth in phi at finite d (floor), so this finds a local minimum; what is recorded
 * is the smallest value evaluated (envelope_fn keeps it). */
static void envelope_brent(envelope *v, double lo, double mid, double hi)
{
    gsl_function f = {envelope_fn, v};
    double f_lo = envelope_fn(lo, v), f_mid = envelope_fn(mid, v), f_hi = envelope_fn(hi, v);
    if (!(f_mid < f_lo && f_mid < f_hi)) return;
    gsl_min_fminimizer *s = gsl_min_fminimizer_alloc(gsl_min_fminimizer_brent);
    if (!s) return;
    if (gsl_min_fminimizer_set_with_values(s, &f, mid, f_mid, lo, f_lo, hi, f_hi) == 0)
        for (int iter = 0; iter < 40; iter++) {
            if (gsl_min_fminimizer_iterate(s) != GSL_SUCCESS) break;
            if (gsl_min_test_interval(gsl_min_fminimizer_x_lower(s),
                                      gsl_min_fminimizer_x_upper(s), 1e-4, 0) == GSL_SUCCESS)
                break;
        }
    gsl_min_fminimizer_free(s);
}

/* The best of `n` log-spaced points in [lo, hi] (each kept by envelope_fn); returns its index. */
static size_t envelope_scan(envelope *v, double lo, double hi, size_t n)
{
    size_t best = 0;
    for (size_t j = 0; j < n; j++) {
        double before = v->best;
        envelope_fn(n > 1 ? lo + (hi - lo) * (double)j / (double)(n - 1) : lo, v);
        if (v->best < before) best = j;
    }
    return best;
}

/* min over phi in [1, d] of the relative error at horizon T with eta = 1/(H T phi^a): a log
 * grid of `grid` values, a finer grid of 9 between the best one's neighbours (the optimum is
 * often within one coarse step of phi = 1, where no bracket exists on the coarse grid), then
 * Brent around the best fine point. */
static void envelope_at(envelope *v, int64_t horizon, size_t grid)
{
    enum { FINE = 9 };
    double top = log((double)v->m->d);
    v->horizon = horizon;
    v->best = INFINITY;
    v->best_log_phi = 0;
    size_t j = envelope_scan(v, 0, top, grid);
    if (grid < 2 || top == 0) return;
    double step = top / (double)(grid - 1);
    double lo = j > 0 ? step * (double)(j - 1) : 0;
    double hi = j + 1 < grid ? step * (double)(j + 1) : top;
    size_t f = envelope_scan(v, lo, hi, FINE);
    if (f == 0 || f + 1 == FINE) return;
    double fine = (hi - lo) / (FINE - 1), x = lo + fine * (double)f;
    envelope_brent(v, x - fine, x, x + fine);
}

/* Smallest horizon T in [1, steps] with best_avg_rel_err(T) <= eps, by bisection: the envelope
 * of the mean iterate decreases with T (Thm 4.5's law does, and so does every finite-d run
 * checked here). */
static double envelope_steps_to_eps(envelope *v, size_t grid, double eps, int64_t steps)
{
    envelope_at(v, steps, grid);
    if (!(v->best <= eps)) return NAN;
    int64_t lo = 0, hi = steps; /* envelope(lo) > eps >= envelope(hi); T = 0 has r = 1 */
    while (hi - lo > 1) {
        int64_t mid = lo + (hi - lo) / 2;
        envelope_at(v, mid, grid);
        if (v->best <= eps) hi = mid;
        else lo = mid;
    }
    return (double)hi;
}

/* Theorem 4.5's envelope, a > 1/2, with tau^2 = 4 T^2 / d. */
static double sign_asymptotic_best(const ts_bigram_model *m, int64_t horizon)
{
    if (m->a <= 0.5 || horizon == 0) return NAN;
    gsl_sf_result z;
    if (gsl_sf_zeta_e(2 * m->a, &z)) return NAN;
    double tau2 = 4.0 * (double)horizon * (double)horizon / (double)m->d;
    return 1.0 / (z.val * (1 + tau2));
}

static void record_envelopes(const ts_bigram_run *run, const sign_prefix *q, ts_recorder *r,
                             size_t grid)
{
    envelope it = {.m = &run->model, .q = q, .mean = 0};
    envelope mean = {.m = &run->model, .q = q, .mean = 1};
    double *best = ts_recorder_series(r, TS_BIGRAM_BEST);
    double *phi = ts_recorder_series(r, TS_BIGRAM_BEST_PHI);
    double *best_avg = ts_recorder_series(r, TS_BIGRAM_BEST_AVG);
    double *phi_avg = ts_recorder_series(r, TS_BIGRAM_BEST_AVG_PHI);
    double *law = ts_recorder_series(r, TS_BIGRAM_ASYMPTOTIC_BEST);
    for (size_t k = 0; k < r->layout.nrecords; k++) {
        int64_t horizon = r->times[k];
        law[k] = sign_asymptotic_best(&run->model, horizon);
        if (horizon == 0) { /* no step taken: whatever eta, r = 1 */
            best[k] = best_avg[k] = 1.0;
            continue;
        }
        envelope_at(&it, horizon, grid);
        envelope_at(&mean, horizon, grid);
        best[k] = it.best;
        phi[k] = exp(it.best_log_phi);
        best_avg[k] = mean.best;
        phi_avg[k] = exp(mean.best_log_phi);
    }
    size_t neps;
    const double *eps = ts_point_list(run->point, "eps", &neps);
    double *hit = ts_recorder_scalar(r, TS_BIGRAM_BEST_AVG_STEPS_TO_EPS);
    for (size_t e = 0; e < neps; e++)
        hit[e] = envelope_steps_to_eps(&mean, grid, eps[e], run->steps);
}

/* ------------------------------------------------------------------ the exact mode */

static int exact_supported(const ts_bigram_run *run, ts_error *err)
{
    if (run->optim.kind == TS_OPTIM_ADAM)
        return ts_error_set(err, TS_EUSAGE,
                            "mode exact has closed forms for gd and sign only: Adam's "
                            "per-entry moments break the decoupling; use mode full or sampled");
    if (run->objective != TS_BIGRAM_SQUARE)
        return ts_error_set(err, TS_EUSAGE,
                            "mode exact needs objective square (cross-entropy has no closed form); "
                            "use mode full or sampled");
    if (!constant_step(run))
        return ts_error_set(err, TS_EUSAGE,
                            "mode exact needs schedule constant without warmup (its closed "
                            "forms assume a constant step); use mode full");
    return TS_OK;
}

/* Records r(t), and the gap (L0 - L*) r(t), at the record times, from `rel`; TS_DIVERGED once
 * it blows up. In the exact mode the closed form is also the theory overlay. */
static ts_status record_exact(const ts_bigram_run *run, ts_recorder *r,
                              double (*rel)(const ts_bigram_run *, const void *, int64_t),
                              const void *ctx)
{
    double gap0 = ts_bigram_initial_gap(run);
    double *loss = ts_recorder_series(r, TS_BIGRAM_LOSS);
    double *rel_err = ts_recorder_series(r, TS_BIGRAM_REL_ERR);
    double *theory = ts_recorder_series(r, TS_BIGRAM_THEORY);
    for (size_t k = 0; k < r->layout.nrecords; k++) {
        theory[k] = rel_err[k] = rel(run, ctx, r->times[k]);
        loss[k] = gap0 * rel_err[k];
        if (!isfinite(rel_err[k]) || rel_err[k] > TS_BIGRAM_BLOWUP) return TS_DIVERGED;
    }
    *ts_recorder_scalar(r, TS_BIGRAM_FINAL) = rel_err[r->layout.nrecords - 1];
    return TS_DONE;
}

static double gd_rel_of(const ts_bigram_run *run, const void *ell, int64_t t)
{
    return gd_rel_err(&run->model, ell, (double)t);
}

static double sign_rel_of(const ts_bigram_run *run, const void *table, int64_t t)
{
    return sign_table_sum(table, t) / run->model.s0;
}

static ts_status run_exact_gd(const ts_bigram_run *run, ts_recorder *r, ts_error *err)
{
    double *ell = gd_log_contraction(&run->model, run->eta, err);
    if (!ell) return TS_FAILED;
    ts_status status = record_exact(run, r, gd_rel_of, ell);
    if (status == TS_DONE) {
        size_t neps;
        const double *eps = ts_point_list(run->point, "eps", &neps);
        for (size_t e = 0; e < neps; e++)
            ts_recorder_scalar(r, TS_BIGRAM_STEPS_TO_EPS)[e] =
                gd_steps_to_eps(&run->model, ell, eps[e], run->steps);
    }
    free(ell);
    return status;
}

static ts_status run_exact_sign(const ts_bigram_run *run, ts_recorder *r, ts_error *err)
{
    sign_table table;
    if (sign_table_init(&table, &run->model, run->eta, err)) return TS_FAILED;
    ts_status status = record_exact(run, r, sign_rel_of, &table);
    if (status == TS_DONE) {
        size_t neps;
        const double *eps = ts_point_list(run->point, "eps", &neps);
        for (size_t e = 0; e < neps; e++)
            ts_recorder_scalar(r, TS_BIGRAM_STEPS_TO_EPS)[e] =
                sign_steps_to_eps(&table, run->steps, eps[e] * run->model.s0);
    }
    sign_table_free(&table);
    int64_t grid = ts_point_int(run->point, "phi_grid");
    if (status != TS_DONE || grid == 0) return status;
    sign_prefix q;
    if (sign_prefix_init(&q, &run->model, err)) return TS_FAILED;
    record_envelopes(run, &q, r, (size_t)grid);
    sign_prefix_free(&q);
    return TS_DONE;
}

/* ------------------------------------------------------------------ theory for simulated runs */

static int record_theory(const ts_bigram_run *run, ts_recorder *r, ts_error *err)
{
    double *theory = ts_recorder_series(r, TS_BIGRAM_THEORY);
    size_t n = r->layout.nrecords;
    if (run->objective != TS_BIGRAM_SQUARE || !constant_step(run)) return TS_OK;
    if (run->optim.kind == TS_OPTIM_SIGN) {
        sign_table table;
        if (sign_table_init(&table, &run->model, run->eta, err)) return TS_ERUNTIME;
        for (size_t k = 0; k < n; k++) theory[k] = sign_rel_of(run, &table, r->times[k]);
        sign_table_free(&table);
    } else if (run->optim.kind == TS_OPTIM_GD) {
        double *ell = gd_log_contraction(&run->model, run->eta, err);
        if (!ell) return TS_ERUNTIME;
        for (size_t k = 0; k < n; k++) theory[k] = gd_rel_of(run, ell, r->times[k]);
        free(ell);
    }
    return TS_OK;
}

static void record_asymptotic(const ts_bigram_run *run, ts_recorder *r)
{
    if (run->optim.kind != TS_OPTIM_GD || run->objective != TS_BIGRAM_SQUARE ||
        !constant_step(run) || !ts_point_is(run->point, "step_rule", "inverse_pi1"))
        return;
    double *law = ts_recorder_series(r, TS_BIGRAM_ASYMPTOTIC);
    for (size_t k = 0; k < r->layout.nrecords; k++)
        law[k] = gd_asymptotic(&run->model, r->times[k]);
}

/* ------------------------------------------------------------------ the descriptor */

static ts_status run(const ts_point *p, gsl_rng *rng, ts_recorder *r, ts_error *err)
{
    ts_bigram_run q;
    if (run_init(&q, p, err)) return TS_FAILED;
    ts_status status = TS_FAILED;
    record_asymptotic(&q, r);
    if (q.objective == TS_BIGRAM_CROSS_ENTROPY && q.model.d < 2) {
        ts_error_set(err, TS_EUSAGE, "objective cross_entropy needs dim >= 2 (at dim 1 it is 0)");
    } else if (ts_point_is(p, "mode", "exact")) {
        if (exact_supported(&q, err) == TS_OK)
            status = q.optim.kind == TS_OPTIM_GD ? run_exact_gd(&q, r, err)
                                                 : run_exact_sign(&q, r, err);
    } else if (record_theory(&q, r, err) == TS_OK) {
        status = ts_point_is(p, "mode", "full") ? ts_bigram_run_full(&q, rng, r, err)
                                                : ts_bigram_run_sampled(&q, rng, r, err);
    }
    model_free(&q.model);
    return status;
}

static double record_count(const ts_point *p)
{
    return (double)ts_point_value(p, "record")->rec.count;
}

static double cost(const ts_point *p)
{
    double d = (double)ts_point_int(p, "dim"), steps = (double)ts_point_int(p, "steps");
    double records = record_count(p), grid = (double)ts_point_int(p, "phi_grid");
    size_t neps;
    ts_point_list(p, "eps", &neps);
    if (ts_point_is(p, "mode", "exact")) {
        if (ts_point_is(p, "optimizer", "gd")) return d * (records + 40.0 * (double)neps);
        double envelope = grid > 0 ? d * (grid + 30) * (records + 2 * log2(steps + 1)) : 0;
        return d * (records + (double)neps) + steps + envelope;
    }
    double per_entry = ts_point_is(p, "objective", "cross_entropy") ? 6.0 : 1.0;
    if (ts_point_is(p, "mode", "full")) return d * d * (steps + 1) * per_entry;
    double batch = (double)ts_point_int(p, "batch_size");
    return d * d * (1 + records) + steps * fmin(batch, d) * d * per_entry;
}

static size_t memory(const ts_point *p)
{
    size_t d = (size_t)ts_point_int(p, "dim");
    int shared = ts_point_is(p, "permutation", "shared");
    int adam = ts_point_is(p, "optimizer", "adam");
    if (ts_point_is(p, "mode", "full")) return ts_bigram_full_bytes(d, shared, adam);
    if (ts_point_is(p, "mode", "sampled"))
        return ts_bigram_sampled_bytes(d, shared, adam, (size_t)ts_point_int(p, "batch_size"));
    /* pi, and log-contractions (GD) or two suffix sums (sign), and two prefix sums for the
     * best-phi envelope */
    int sign = ts_point_is(p, "optimizer", "sign"), envelope = sign && ts_point_int(p, "phi_grid");
    return (size_t)(sign ? 3 + 2 * envelope : 2) * (d + 1) * sizeof(double);
}

const ts_experiment ts_experiment_bigram = {
    .name = "bigram",
    .summary = "GD vs sign descent on a linear bigram model under Zipf's law: closed forms "
               "(exact), the d x d matrix (full) or mini-batches (sampled)",
    .reference = "Kunstner & Bach, Scaling Laws for Gradient Descent and Sign Descent for Linear "
                 "Bigram Models under Zipf's Law, arXiv:2505.19227 (NeurIPS 2025)",
    .params = params,
    .metrics = metrics,
    .cost = cost,
    .memory = memory,
    .run = run,
};
