/* GD's finite-d closed form on the Zipf bigram model (Kunstner & Bach, arXiv:2505.19227, the
 * paper's Prop. 2.2): from W0 = 0 every entry moves on its own with curvature pi_i, so
 *   r(t) = sum_i pi_i |1 - eta pi_i|^(2t) = sum_i pi_i exp(s ell_i),
 * s = 2t, ell_i = log|1 - eta pi_i|.
 *
 * A record at d = 10^6 summed term by term costs 10^6 vector exps (0.65 ms, compute-bound on
 * libmvec: 1.7x a streaming triad over the same arrays). Most of those terms are smooth in i:
 * over a block of TS_BIGRAM_CHUNK coordinates with centre c and spread |ell_i - c| <= rho,
 *   sum_i pi_i exp(s ell_i) = exp(s c) sum_j (s rho)^j M_j,   M_j = sum_i pi_i u_i^j / j!,
 * u_i = (ell_i - c) / rho in [-1, 1], and when s rho <= 1/2 the first TS_BIGRAM_GD_TERMS = 16
 * moments carry it to rounding: the truncation is below (1/2)^16/16! e^(2 * 1/2) = 2e-18 of the
 * block, and Horner's rounding is amplified at most by sum_j (s rho)^j |M_j| / block <=
 * e^(2 s rho) = e, i.e. a few 1e-15. So a block costs 16 multiply-adds and one exp instead of
 * 256 exps; only the blocks where the contraction still varies fast on the time scale s (the
 * large pi_i, ell_i ~ -eta pi_i, at large t) are summed term by term: at d = 10^6, a = 1,
 * eta = 1/pi_1, the first 16 sqrt(2t) coordinates. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_roots.h>

#include "bigram.h"

enum { BLOCK = TS_BIGRAM_CHUNK, TERMS = TS_BIGRAM_GD_TERMS };

/* The largest s * radius at which a block is summed from its moments (see the top). */
static const double taylor_reach = 0.5;

/* log|1 - x| for x = eta pi_k: log1p keeps the precision of tiny eta pi_k at huge t; x = 1 (the
 * paper's eta = 1/pi_1 on pi_1) removes the coordinate in one step, log 0 = -inf. */
static double log_contraction(double x)
{
    return x < 1 ? log1p(-x) : x == 1 ? -INFINITY : log(x - 1);
}

size_t ts_bigram_gd_form_bytes(size_t d)
{
    size_t nblocks = (d + BLOCK - 1) / BLOCK;
    return sizeof(double) * (d + (TERMS + 2) * nblocks);
}

void ts_bigram_gd_form_free(ts_bigram_gd_form *g)
{
    free(g->ell);
    free(g->center);
    free(g->radius);
    free(g->moment);
    memset(g, 0, sizeof *g);
}

/* Centre, radius and moments of block b (n <= BLOCK coordinates, padded with pi = 0). A block
 * holding a non-finite ell (a coordinate removed in one step) is always summed term by term.
 * The moments are taken in units of the radius, so that |u^j / j!| <= 1: raw powers of spreads
 * near 1e-7 fall into subnormals, which cost ~100 cycles each. */
TS_BIGRAM_INLINE void block_moments_body(ts_bigram_gd_form *g, size_t b, size_t n)
{
    const double *pi = g->m->pi + b * BLOCK, *ell = g->ell + b * BLOCK;
    double lo = INFINITY, hi = -INFINITY;
    for (size_t k = 0; k < n; k++) { /* ell is never NaN: plain comparisons, not libm calls */
        lo = ell[k] < lo ? ell[k] : lo;
        hi = ell[k] > hi ? ell[k] : hi;
    }
    if (!isfinite(lo) || !isfinite(hi)) {
        g->center[b] = 0;
        g->radius[b] = INFINITY;
        for (size_t j = 0; j < TERMS; j++) g->moment[j * g->nblocks + b] = 0;
        return;
    }
    double c = lo + 0.5 * (hi - lo);
    g->center[b] = c;
    g->radius[b] = hi - c > c - lo ? hi - c : c - lo;
    double u[BLOCK] = {0}, w[BLOCK] = {0};
    double unit = g->radius[b] > 0 ? 1 / g->radius[b] : 0;
    for (size_t k = 0; k < n; k++) {
        u[k] = (ell[k] - c) * unit;
        w[k] = pi[k];
    }
    for (size_t j = 0; j < TERMS; j++) { /* w = pi u^j / j! */
        g->moment[j * g->nblocks + b] = ts_bigram_chunk_sum(w);
        double next = 1.0 / (double)(j + 1);
        for (size_t k = 0; k < BLOCK; k++) w[k] *= u[k] * next;
    }
}

TS_BIGRAM_INLINE void all_moments_body(ts_bigram_gd_form *g)
{
    for (size_t b = 0; b < g->nblocks; b++)
        block_moments_body(g, b, g->m->d - b * BLOCK < BLOCK ? g->m->d - b * BLOCK : BLOCK);
}

/* Horner in s rho_b over n <= BLOCK blocks from b, across blocks so that the loops vectorise. */
TS_BIGRAM_INLINE void horner_body(const ts_bigram_gd_form *g, size_t b, size_t n, double s,
                                  double *restrict acc)
{
    double x[BLOCK];
    const double *top = g->moment + (TERMS - 1) * g->nblocks + b;
    for (size_t l = 0; l < n; l++) {
        x[l] = s * g->radius[b + l];
        acc[l] = top[l];
    }
    for (size_t j = TERMS - 1; j-- > 0;) {
        const double *mj = g->moment + j * g->nblocks + b;
        for (size_t l = 0; l < n; l++) acc[l] = acc[l] * x[l] + mj[l];
    }
}

/* AVX2 copies of the two loops (ISO C mode keeps gcc from contracting into FMAs, so they round
 * like the baseline): 4 lanes instead of 2. */
#if TS_BIGRAM_AVX2
TS_BIGRAM_AVX2_TARGET static void all_moments_avx2(ts_bigram_gd_form *g)
{
    all_moments_body(g);
}

TS_BIGRAM_AVX2_TARGET static void horner_avx2(const ts_bigram_gd_form *g, size_t b, size_t n,
                                              double s, double *acc)
{
    horner_body(g, b, n, s, acc);
}
#endif

static void all_moments(ts_bigram_gd_form *g)
{
#if TS_BIGRAM_AVX2
    if (ts_cpu_has_avx2()) {
        all_moments_avx2(g);
        return;
    }
#endif
    all_moments_body(g);
}

static void horner(const ts_bigram_gd_form *g, size_t b, size_t n, double s, double *acc)
{
#if TS_BIGRAM_AVX2
    if (ts_cpu_has_avx2()) {
        horner_avx2(g, b, n, s, acc);
        return;
    }
#endif
    horner_body(g, b, n, s, acc);
}

int ts_bigram_gd_form_init(ts_bigram_gd_form *g, const ts_bigram_model *m, double eta,
                           ts_error *err)
{
    memset(g, 0, sizeof *g);
    g->m = m;
    g->nblocks = (m->d + BLOCK - 1) / BLOCK;
    g->ell = malloc(m->d * sizeof *g->ell);
    g->center = malloc(g->nblocks * sizeof *g->center);
    g->radius = malloc(g->nblocks * sizeof *g->radius);
    g->moment = malloc(TERMS * g->nblocks * sizeof *g->moment);
    if (!g->ell || !g->center || !g->radius || !g->moment) {
        ts_bigram_gd_form_free(g);
        return ts_error_set(err, TS_ERUNTIME, "out of memory for dim = %zu", m->d);
    }
    for (size_t k = 0; k < m->d; k++) g->ell[k] = log_contraction(eta * m->pi[k]);
    all_moments(g);
    return TS_OK;
}

static int from_moments(const ts_bigram_gd_form *g, size_t b, double s)
{
    return s * g->radius[b] <= taylor_reach;
}

/* Blocks [b, e) from their moments, BLOCK blocks at a time, weighted by exp(s c_b) in one
 * vector-exp sum. */
static double moment_sum(const ts_bigram_gd_form *g, size_t b, size_t e, double s)
{
    double sum = 0, acc[BLOCK];
    for (; b < e; b += BLOCK) {
        size_t n = e - b < BLOCK ? e - b : BLOCK;
        horner(g, b, n, s, acc);
        sum += ts_bigram_weighted_exp_sum(acc, g->center + b, s, n);
    }
    return sum;
}

/* Blocks [b, e) term by term. */
static double direct_sum(const ts_bigram_gd_form *g, size_t b, size_t e, double s)
{
    size_t first = b * BLOCK, last = e * BLOCK < g->m->d ? e * BLOCK : g->m->d;
    return ts_bigram_weighted_exp_sum(g->m->pi + first, g->ell + first, s, last - first);
}

/* r(0) = 1 by definition (0 * -inf is not 0). Runs of blocks alike go in one call each. */
double ts_bigram_gd_rel_err(const ts_bigram_gd_form *g, double t)
{
    if (t == 0) return 1.0;
    double s = 2 * t, sum = 0;
    for (size_t b = 0; b < g->nblocks;) {
        int taylor = from_moments(g, b, s);
        size_t e = b + 1;
        while (e < g->nblocks && from_moments(g, e, s) == taylor) e++;
        sum += taylor ? moment_sum(g, b, e, s) : direct_sum(g, b, e, s);
        b = e;
    }
    return sum;
}

typedef struct gd_root {
    const ts_bigram_gd_form *g;
    double eps;
} gd_root;

static double gd_root_fn(double t, void *params)
{
    const gd_root *q = params;
    return ts_bigram_gd_rel_err(q->g, t) - q->eps;
}

/* r decreases in t for a run that has not diverged, so GSL's Brent solver on [0, steps] finds
 * the crossing; the upper end of the final bracket is returned, so that r(t) <= eps holds there
 * and its ceiling is the first integer hit. */
double ts_bigram_gd_steps_to_eps(const ts_bigram_gd_form *g, double eps, int64_t steps)
{
    gd_root q = {g, eps};
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
