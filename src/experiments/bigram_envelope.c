/* The best-phi envelope of exact sign descent (Kunstner & Bach, arXiv:2505.19227, Thm 4.5 and
 * its figures): per horizon T, the smallest relative error over the step eta = 1/(H T phi^a),
 * phi in [1, d], of the iterate W_T and of the mean of W_{T-1} and W_T, and the first horizon at
 * which the latter reaches each eps. Each evaluation is S at a new eta (bigram_sign.c). */
#include <math.h>
#include <stdlib.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_min.h>

#include "bigram.h"

typedef struct envelope {
    const ts_bigram_model *m;
    const ts_bigram_sign_prefix *q;
    int64_t horizon;
    int mean;          /* 0: the iterate W_T; 1: the mean of W_{T-1} and W_T */
    double best, best_log_phi;
} envelope;

static double envelope_fn(double log_phi, void *params)
{
    envelope *v = params;
    double eta = 1.0 / (v->m->harmonic * (double)v->horizon * exp(v->m->a * log_phi));
    double s_it, s_mean;
    ts_bigram_sign_sums_at(v->m, v->q, eta, v->horizon, &s_it, &s_mean);
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


static void record_best(const ts_bigram_run *run, const ts_bigram_sign_prefix *q, ts_recorder *r,
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
        law[k] = ts_bigram_sign_best_law(&run->model, horizon);
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

int ts_bigram_record_envelopes(const ts_bigram_run *run, ts_recorder *r, size_t grid,
                               ts_error *err)
{
    ts_bigram_sign_prefix q;
    if (ts_bigram_sign_prefix_init(&q, &run->model, err)) return TS_ERUNTIME;
    record_best(run, &q, r, grid);
    ts_bigram_sign_prefix_free(&q);
    return TS_OK;
}
