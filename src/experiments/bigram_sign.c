/* Sign descent's finite-d closed forms on the Zipf bigram model (Kunstner & Bach,
 * arXiv:2505.19227; docs/experiments.md section 1.3). From W0 = 0 every entry moves on its own, by
 * eta per step towards its target, and every row holds the same multiset of targets {pi_k}, so
 *   r(t) = sum_k e_k(t)^2 / sum_k pi_k^2,
 * e_k the error of an entry with target pi_k. Here: S(t) = sum_k e_k(t)^2 at one eta for every t
 * (the exact mode), the first t with S(t) below a target, and S at any eta for the iterate and
 * for the mean of the last two iterates (the best-phi envelope, bigram_envelope.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bigram.h"

/* An entry with target p moving by eta from 0: m = floor(p/eta) full steps reach p - m eta =
 * r0 in [0, eta); for t > m it sits at (m + 1) eta when t - m is odd (error eta - r0) and at
 * m eta when even (error r0); r0 = 0 lands exactly and stays. Since pi decreases, m does too:
 * the entries still moving at time t (m >= t, error p - t eta) are a prefix. */

enum { CHUNK = TS_BIGRAM_CHUNK };

typedef struct sign_split {
    double m, r0;
} sign_split;

/* The band loop below vectorises only if it is free of branches and calls, and gcc keeps a
 * select as a branch when an arm computes (a floating-point operation may trap): so selects are
 * blends c x + (1 - c) y with c in {0, 1}, exact for finite x and y, from quiet comparisons
 * (isless and friends: `<` and `==` count as trapping), and floor is the 2^52 rounding trick,
 * exact in round-to-nearest (libm's floor is a call, and gcc vectorises the instruction only
 * under -fno-trapping-math). */
TS_BIGRAM_INLINE double blend(double c, double x, double y)
{
    return c * x + (1 - c) * y;
}

TS_BIGRAM_INLINE double floor_of(double x)
{
    const double big = 4503599627370496.0; /* 2^52: beyond it every double is an integer */
    double nearest = (x + big) - big;
    double floor = nearest - (double)isgreater(nearest, x);
    return blend((double)isless(fabs(x), big), floor, x);
}

TS_BIGRAM_INLINE sign_split sign_split_of(double p, double eta)
{
    double m = floor_of(p / eta), r0 = p - m * eta;
    /* p / eta may round across an integer: keep r0 in [0, eta) */
    double low = (double)isless(r0, 0), high = (double)isgreaterequal(r0, eta);
    return (sign_split){m + high - low, r0 + (low - high) * eta};
}

/* Entries that have arrived (t > m): squared errors of the iterate (r0 or eta - r0 by the
 * parity of t - m) and of the mean of the last two iterates ((m + 1/2) eta: error r0 - eta/2,
 * also at t = m + 1), both 0 for an exact landing. Padding with p = 0 adds 0. */
TS_BIGRAM_INLINE void band_chunk(const double *restrict p, double eta, double tt,
                                 double *s_iterate, double *s_mean)
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
    *s_iterate += ts_bigram_chunk_sum(a);
    *s_mean += ts_bigram_chunk_sum(b);
}

TS_BIGRAM_INLINE void band_body(const double *p, size_t n, double eta, double tt,
                                double *s_iterate, double *s_mean)
{
    size_t k = 0;
    for (; k + CHUNK <= n; k += CHUNK) band_chunk(p + k, eta, tt, s_iterate, s_mean);
    if (k < n) {
        double pt[CHUNK] = {0};
        memcpy(pt, p + k, (n - k) * sizeof *pt);
        band_chunk(pt, eta, tt, s_iterate, s_mean);
    }
}

#if TS_BIGRAM_AVX2
TS_BIGRAM_AVX2_TARGET static void band_avx2(const double *p, size_t n, double eta, double tt,
                                            double *s_it, double *s_mean)
{
    band_body(p, n, eta, tt, s_it, s_mean);
}
#endif

static void band_sums(const double *p, size_t n, double eta, int64_t t, double *s_iterate,
                      double *s_mean)
{
    *s_iterate = *s_mean = 0;
#if TS_BIGRAM_AVX2
    if (ts_cpu_has_avx2()) {
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
void ts_bigram_sign_table_free(ts_bigram_sign_table *s)
{
    free(s->arrived[0]);
    free(s->arrived[1]);
}

int ts_bigram_sign_table_init(ts_bigram_sign_table *s, const ts_bigram_model *m, double eta,
                              ts_error *err)
{
    s->m = m;
    s->eta = eta;
    s->arrived[0] = malloc((m->d + 1) * sizeof(double));
    s->arrived[1] = malloc((m->d + 1) * sizeof(double));
    if (!s->arrived[0] || !s->arrived[1]) {
        ts_bigram_sign_table_free(s);
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

double ts_bigram_sign_table_sum(const ts_bigram_sign_table *s, int64_t t)
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
double ts_bigram_sign_steps_to_eps(const ts_bigram_sign_table *table, int64_t steps,
                                   double target)
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
        if (sum <= target + margin && ts_bigram_sign_table_sum(table, t) <= target) return tt;
        if (head == 0 && settled < 0) settled = t;
        if (settled >= 0 && t >= settled + 1) break;
    }
    return NAN;
}

/* Prefix sums of pi and pi^2, for the envelope's evaluations at ever new eta. */
void ts_bigram_sign_prefix_free(ts_bigram_sign_prefix *q)
{
    free(q->s1);
    free(q->s2);
}

int ts_bigram_sign_prefix_init(ts_bigram_sign_prefix *q, const ts_bigram_model *m,
                               ts_error *err)
{
    q->s1 = malloc((m->d + 1) * sizeof *q->s1);
    q->s2 = malloc((m->d + 1) * sizeof *q->s2);
    if (!q->s1 || !q->s2) {
        ts_bigram_sign_prefix_free(q);
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
static double head_sum(const ts_bigram_sign_prefix *q, size_t k, double c)
{
    return q->s2[k] - 2 * c * q->s1[k] + (double)k * c * c;
}

/* S(t) for the iterate W_t and for the mean of W_{t-1} and W_t (t >= 1) at any eta in
 * O(log d + band): closed forms over the moving head (errors p - t eta and p - (t - 1/2) eta)
 * and over the tail that never completes a step (m = 0: p < eta flips between 0 and eta,
 * errors p or eta - p, and p - eta/2), entry by entry over the band in between, the targets in
 * [eta, t eta). Absolute rounding near 1e-16 S0, from the prefix-sum differences. */
void ts_bigram_sign_sums_at(const ts_bigram_model *m, const ts_bigram_sign_prefix *q, double eta,
                            int64_t t, double *s_iterate, double *s_mean)
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
