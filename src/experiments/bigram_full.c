/* The bigram experiment's full mode: the explicit d x d matrix W (column i predicts the next
 * token after token i; layout in bigram.h) trained on the population loss, square or softmax
 * cross-entropy, with the shared optimizers. The exact mode's check at small d, and the only way
 * to run Adam (whose per-entry moments break the decoupling) or cross-entropy (the paper's
 * Fig. 8) on the whole matrix. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>

#include "bigram.h"

/* ------------------------------------------------------------------ the full mode */

typedef struct full_state {
    size_t d;
    double *w;      /* [d * d], column by column */
    double *target; /* [d * d]: column i is p_i; [d] when all rows share one permutation */
    size_t target_stride; /* d, or 0 when shared */
    double *grad;   /* [d]: one column's gradient */
    ts_optim optim; /* over all d * d entries */
} full_state;

size_t ts_bigram_full_bytes(size_t d, int shared, int adam)
{
    if (d > ((size_t)1 << 28)) return SIZE_MAX; /* d^2 doubles would overflow size_t anyway */
    size_t dd = d * d;
    size_t matrices = 1 + (shared ? 0 : 1) + (adam ? 2 : 0); /* W, targets, Adam's m and v */
    return sizeof(double) * (matrices * dd + (shared ? d : 0) + 2 * d) + sizeof(size_t) * d;
}

static void state_free(full_state *s)
{
    free(s->w);
    free(s->target);
    free(s->grad);
    ts_optim_free(&s->optim);
}

/* Row i's conditional: p_{rho_i(k) | i} = pi_k with rho_i uniform, drawn in row order from the
 * point's stream (one draw when the rows share it). */
static int draw_targets(full_state *s, const ts_bigram_model *m, gsl_rng *rng, int shared,
                        ts_error *err)
{
    size_t d = s->d, columns = shared ? 1 : d;
    size_t *rho = malloc(d * sizeof *rho);
    if (!rho) return ts_error_set(err, TS_ERUNTIME, "out of memory for dim = %zu", d);
    for (size_t i = 0; i < columns; i++) {
        for (size_t k = 0; k < d; k++) rho[k] = k;
        gsl_ran_shuffle(rng, rho, d, sizeof *rho);
        double *p = s->target + i * d;
        for (size_t k = 0; k < d; k++) p[rho[k]] = m->pi[k];
    }
    free(rho);
    return TS_OK;
}

static int state_init(full_state *s, const ts_bigram_run *run, gsl_rng *rng, ts_error *err)
{
    memset(s, 0, sizeof *s);
    size_t d = run->model.d;
    s->d = d;
    s->target_stride = run->shared_permutation ? 0 : d;
    s->w = calloc(d * d, sizeof *s->w);
    s->target = malloc((run->shared_permutation ? d : d * d) * sizeof *s->target);
    s->grad = malloc(d * sizeof *s->grad);
    if (!s->w || !s->target || !s->grad) {
        state_free(s);
        return ts_error_set(err, TS_ERUNTIME, "out of memory for a %zu x %zu matrix", d, d);
    }
    int rc = ts_optim_init(&s->optim, &run->optim, d * d, err);
    if (!rc) rc = draw_targets(s, &run->model, rng, run->shared_permutation, err);
    if (rc) state_free(s);
    return rc;
}

/* Square loss on a block of column i: g = pi_i (w - p); returns sum (w - p)^2. */
TS_BIGRAM_INLINE double square_block_body(const double *restrict w, const double *restrict p,
                                          double pi_i, double *restrict g, size_t n)
{
    double acc[4] = {0};
    size_t j = 0;
    for (; j + 4 <= n; j += 4)
        for (size_t l = 0; l < 4; l++) {
            double e = w[j + l] - p[j + l];
            g[j + l] = pi_i * e;
            acc[l] += e * e;
        }
    for (; j < n; j++) {
        double e = w[j] - p[j];
        g[j] = pi_i * e;
        acc[0] += e * e;
    }
    return (acc[0] + acc[2]) + (acc[1] + acc[3]);
}

#if TS_BIGRAM_AVX2
TS_BIGRAM_AVX2_TARGET static double square_block_avx2(const double *w, const double *p,
                                                      double pi_i, double *g, size_t n)
{
    return square_block_body(w, p, pi_i, g, n);
}
#endif

static double square_block(const double *w, const double *p, double pi_i, double *g, size_t n,
                           int avx2)
{
#if TS_BIGRAM_AVX2
    if (avx2) return square_block_avx2(w, p, pi_i, g, n);
#endif
    (void)avx2;
    return square_block_body(w, p, pi_i, g, n);
}

/* Cross-entropy, column i: softmax q of w with a stable log-sum-exp, g = pi_i (q - p); returns
 * KL(p || q) = lse(w) - <p, w> - entropy(p), the column's share of L - L*. */
static double cross_entropy_column(const double *w, const double *p, double pi_i, double *g,
                                   size_t d, double entropy)
{
    double top = -INFINITY, dot = 0;
    for (size_t j = 0; j < d; j++) {
        top = w[j] > top ? w[j] : top;
        dot += p[j] * w[j];
    }
    double sum = ts_bigram_exp_shifted(w, top, g, d);
    double scale = pi_i / sum;
    for (size_t j = 0; j < d; j++) g[j] = scale * g[j] - pi_i * p[j];
    return top + log(sum) - dot - entropy;
}

/* Entries per block: W, the targets and the gradient of a block (3 x 4 KB) stay in L1 between
 * the gradient and the optimizer's pass. */
enum { BLOCK = 512 };

/* The loss gap at the current W; with stepping on, also one optimizer step at rate lr, a block
 * of entries at a time: the entries are independent, so stepping a block while its gradient is
 * still in L1 is the same step as one call on all d^2 entries (the optimizer's block API). */
static double full_step(full_state *s, const ts_bigram_run *run, double lr, int stepping,
                        int avx2)
{
    const ts_bigram_model *m = &run->model;
    size_t d = s->d;
    double gap = 0;
    if (stepping) ts_optim_begin(&s->optim);
    for (size_t i = 0; i < d; i++) {
        double *w = s->w + i * d;
        const double *p = s->target + i * s->target_stride;
        double part = 0;
        if (run->objective == TS_BIGRAM_SQUARE) {
            for (size_t j = 0; j < d; j += BLOCK) {
                size_t n = d - j < BLOCK ? d - j : BLOCK;
                part += square_block(w + j, p + j, m->pi[i], s->grad, n, avx2);
                if (stepping) ts_optim_update(&s->optim, i * d + j, w + j, s->grad, n, lr);
            }
            part *= 0.5;
        } else {
            part = cross_entropy_column(w, p, m->pi[i], s->grad, d, m->entropy);
            if (stepping) ts_optim_update(&s->optim, i * d, w, s->grad, d, lr);
        }
        gap += m->pi[i] * part;
    }
    return gap;
}

ts_status ts_bigram_run_full(const ts_bigram_run *run, gsl_rng *rng, ts_recorder *r,
                             ts_error *err)
{
    ts_tracker k;
    full_state s;
    if (ts_bigram_tracker_init(&k, run, r, err) || state_init(&s, run, rng, err))
        return TS_FAILED;
    ts_status status = TS_DONE;
    int avx2 = ts_cpu_has_avx2();
    for (int64_t t = 0; t <= run->steps && status == TS_DONE; t++) {
        int stepping = t < run->steps;
        double lr = stepping ? ts_schedule_lr(&run->schedule, t) : 0;
        status = ts_tracker_track(&k, t, full_step(&s, run, lr, stepping, avx2));
    }
    state_free(&s);
    return status;
}
