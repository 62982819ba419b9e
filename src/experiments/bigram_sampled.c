/* The bigram experiment's sampled mode: stochastic steps on mini-batches of (i, j) pairs, i from
 * the Zipf marginal and j from row i's conditional, with the shared optimizers. A batch of B
 * pairs touches at most B columns of W (layout in bigram.h), so a step costs O(B d); the
 * population loss is kept per column and brought up to date only where W changed. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>

#include "tailsweep/variates.h"

#include "bigram.h"

typedef struct pair {
    uint32_t i, j; /* 0-based input token (column) and next token (row) */
} pair;

typedef struct sampled_state {
    size_t d, batch;
    double *w;               /* [d * d] */
    uint32_t *rho;           /* [d * d] (or [d] shared): rho_i(k) - 1 for rank k = 1..d */
    size_t rho_stride;       /* d, or 0 when shared */
    double *gap;             /* [d]: column i's share of L - L* (without pi_i and the 1/2) */
    unsigned char *stale;    /* [d]: column changed since gap[i] was computed */
    size_t *stale_list, nstale;
    double *grad;            /* [d] */
    size_t *draw_i, *draw_k; /* [batch]: 1-based Zipf draws */
    pair *drawn, *pairs;     /* [batch]: in draw order, and grouped by column */
    size_t *start;           /* [d + 1]: counting sort of the pairs by column */
    ts_zipf *zipf;
    ts_optim optim;
    int avx2;
} sampled_state;

size_t ts_bigram_sampled_bytes(size_t d, int shared, int adam, size_t batch_size)
{
    if (d > ((size_t)1 << 28)) return SIZE_MAX; /* d^2 doubles would overflow size_t anyway */
    size_t dd = d * d;
    return sizeof(double) * ((adam ? 3 : 1) * dd + 2 * d) + sizeof(uint32_t) * (shared ? d : dd) +
           (2 * sizeof(size_t) + 1) * d + (2 * sizeof(size_t) + 2 * sizeof(pair)) * batch_size +
           ts_zipf_bytes(d, TS_ZIPF_AUTO);
}

static void state_free(sampled_state *s)
{
    free(s->w);
    free(s->rho);
    free(s->gap);
    free(s->stale);
    free(s->stale_list);
    free(s->grad);
    free(s->draw_i);
    free(s->draw_k);
    free(s->drawn);
    free(s->pairs);
    free(s->start);
    ts_zipf_free(s->zipf);
    ts_optim_free(&s->optim);
}

static void draw_permutations(sampled_state *s, gsl_rng *rng, int shared)
{
    size_t d = s->d, rows = shared ? 1 : d;
    for (size_t i = 0; i < rows; i++) {
        uint32_t *rho = s->rho + i * d;
        for (size_t k = 0; k < d; k++) rho[k] = (uint32_t)k;
        gsl_ran_shuffle(rng, rho, d, sizeof *rho);
    }
}

static int state_init(sampled_state *s, const ts_bigram_run *run, gsl_rng *rng, ts_error *err)
{
    memset(s, 0, sizeof *s);
    size_t d = run->model.d, b = run->batch_size;
    if (d > UINT32_MAX)
        return ts_error_set(err, TS_EUSAGE, "mode sampled: dim = %zu exceeds %lu", d,
                            (unsigned long)UINT32_MAX);
    s->d = d;
    s->batch = b;
    s->rho_stride = run->shared_permutation ? 0 : d;
    s->w = calloc(d * d, sizeof *s->w);
    s->rho = malloc((run->shared_permutation ? d : d * d) * sizeof *s->rho);
    s->gap = malloc(d * sizeof *s->gap);
    s->stale = calloc(d, 1);
    s->stale_list = malloc(d * sizeof *s->stale_list);
    s->grad = malloc(d * sizeof *s->grad);
    s->draw_i = malloc(b * sizeof *s->draw_i);
    s->draw_k = malloc(b * sizeof *s->draw_k);
    s->drawn = malloc(b * sizeof *s->drawn);
    s->pairs = malloc(b * sizeof *s->pairs);
    s->start = malloc((d + 1) * sizeof *s->start);
    if (!s->w || !s->rho || !s->gap || !s->stale || !s->stale_list || !s->grad || !s->draw_i ||
        !s->draw_k || !s->drawn || !s->pairs || !s->start) {
        state_free(s);
        return ts_error_set(err, TS_ERUNTIME, "out of memory for a %zu x %zu matrix", d, d);
    }
    s->zipf = ts_zipf_new(d, run->model.a, TS_ZIPF_AUTO, err);
    int rc = s->zipf ? ts_optim_init(&s->optim, &run->optim, d * d, err) : TS_ERUNTIME;
    if (rc) {
        state_free(s);
        return rc;
    }
    s->avx2 = ts_bigram_have_avx2();
    draw_permutations(s, rng, run->shared_permutation);
    /* W = 0: every column starts at the initial gap (square: ||p_i||^2; cross-entropy:
     * log d - entropy) */
    double start = run->objective == TS_BIGRAM_SQUARE ? run->model.s0
                                                 : log((double)d) - run->model.entropy;
    for (size_t i = 0; i < d; i++) s->gap[i] = start;
    return TS_OK;
}

/* sum over ranks k of (w[rho(k)] - pi_k)^2 = ||w - p||^2: every entry once, the target read
 * through the permutation. (Scalar loads: AVX2's gather made this 1.5x slower here.) */
static double square_gap(const double *restrict w, const uint32_t *restrict rho,
                         const double *restrict pi, size_t d)
{
    double acc[4] = {0};
    size_t k = 0;
    for (; k + 4 <= d; k += 4)
        for (size_t l = 0; l < 4; l++) {
            double e = w[rho[k + l]] - pi[k + l];
            acc[l] += e * e;
        }
    for (; k < d; k++) {
        double e = w[rho[k]] - pi[k];
        acc[0] += e * e;
    }
    return (acc[0] + acc[2]) + (acc[1] + acc[3]);
}

/* Column i's share of the gap: ||w_i - p_i||^2 (square), or lse(w) - sum_k pi_k w[rho_i(k)] -
 * entropy (cross-entropy). */
static double column_gap(const sampled_state *s, const ts_bigram_run *run, size_t i)
{
    const double *w = s->w + i * s->d, *pi = run->model.pi;
    const uint32_t *rho = s->rho + i * s->rho_stride;
    size_t d = s->d;
    if (run->objective == TS_BIGRAM_SQUARE) return square_gap(w, rho, pi, d);
    double top = -INFINITY, dot = 0;
    for (size_t j = 0; j < d; j++) top = w[j] > top ? w[j] : top;
    for (size_t k = 0; k < d; k++) dot += pi[k] * w[rho[k]];
    return top + log(ts_bigram_exp_shifted(w, top, s->grad, d)) - dot - run->model.entropy;
}

/* L - L* = 1/2 sum_i pi_i ||w_i - p_i||^2 (square) or sum_i pi_i KL_i, after refreshing the
 * columns that changed. Summed in column order: the same value whatever the history. */
static double population_gap(sampled_state *s, const ts_bigram_run *run)
{
    for (size_t k = 0; k < s->nstale; k++) {
        size_t i = s->stale_list[k];
        s->gap[i] = column_gap(s, run, i);
        s->stale[i] = 0;
    }
    s->nstale = 0;
    double sum = 0;
    for (size_t i = 0; i < s->d; i++) sum += run->model.pi[i] * s->gap[i];
    return run->objective == TS_BIGRAM_SQUARE ? 0.5 * sum : sum;
}

/* B pairs: i ~ pi, then j = rho_i(k) with k ~ pi, which is ts_zipf_fill_row's law (a Zipf rank
 * mapped through the row's permutation) batched across rows, since every pair has its own row.
 * A counting sort (O(B + d), stable) groups them by column. */
static void draw_batch(sampled_state *s, gsl_rng *rng)
{
    size_t b = s->batch, d = s->d;
    ts_zipf_fill(s->zipf, rng, s->draw_i, b);
    ts_zipf_fill(s->zipf, rng, s->draw_k, b);
    memset(s->start, 0, (d + 1) * sizeof *s->start);
    for (size_t n = 0; n < b; n++) {
        size_t i = s->draw_i[n] - 1;
        s->drawn[n] = (pair){(uint32_t)i, s->rho[i * s->rho_stride + s->draw_k[n] - 1]};
        s->start[i + 1]++;
    }
    for (size_t i = 0; i < d; i++) s->start[i + 1] += s->start[i];
    for (size_t n = 0; n < b; n++) s->pairs[s->start[s->drawn[n].i]++] = s->drawn[n];
}

TS_BIGRAM_INLINE void scale_body(const double *restrict w, double c, double *restrict g, size_t n)
{
    for (size_t j = 0; j < n; j++) g[j] = c * w[j];
}

#if TS_BIGRAM_AVX2
TS_BIGRAM_AVX2_TARGET static void scale_avx2(const double *w, double c, double *g, size_t n)
{
    scale_body(w, c, g, n);
}
#endif

static void scale_column(const double *w, double c, double *g, size_t n, int avx2)
{
#if TS_BIGRAM_AVX2
    if (avx2) {
        scale_avx2(w, c, g, n);
        return;
    }
#endif
    (void)avx2;
    scale_body(w, c, g, n);
}

/* Asks for a column ahead of its use: the batch's columns are scattered over W, and waiting
 * for each one's first lines until the hardware prefetcher has caught on dominates a step. */
static void prefetch_column(const double *w, size_t d)
{
    for (size_t j = 0; j < d; j += 8) __builtin_prefetch(w + j, 1, 3);
}

/* Gradient of the batch-mean loss (1/B) sum_b loss(w_{i_b}, e_{j_b}) on column i, which holds
 * the pairs [first, last): (count/B) w_i - (1/B) sum e_j (square) or (count/B) softmax(w_i) -
 * (1/B) sum e_j (cross-entropy). (Blocking the column for L1, which pays in the full mode,
 * gained nothing here: a step waits on the columns' first touch.) */
static void column_gradient(sampled_state *s, const ts_bigram_run *run, size_t first,
                            size_t last)
{
    size_t d = s->d, i = s->pairs[first].i;
    const double *w = s->w + i * d;
    double inv_b = 1.0 / (double)s->batch, weight = (double)(last - first) * inv_b;
    if (run->objective == TS_BIGRAM_SQUARE) {
        scale_column(w, weight, s->grad, d, s->avx2);
    } else {
        double top = -INFINITY;
        for (size_t j = 0; j < d; j++) top = w[j] > top ? w[j] : top;
        double scale = weight / ts_bigram_exp_shifted(w, top, s->grad, d);
        for (size_t j = 0; j < d; j++) s->grad[j] *= scale;
    }
    for (size_t n = first; n < last; n++) s->grad[s->pairs[n].j] -= inv_b;
}

/* One step on the touched columns only, each through a view of the shared optimizer state
 * (untouched columns keep W and Adam's moments, as sparse Adam does); Adam's counter advances
 * once per step. */
static void sampled_step(sampled_state *s, const ts_bigram_run *run, double lr)
{
    size_t d = s->d;
    for (size_t first = 0, last; first < s->batch; first = last) {
        size_t i = s->pairs[first].i;
        for (last = first + 1; last < s->batch && s->pairs[last].i == i; last++) continue;
        if (last < s->batch) prefetch_column(s->w + s->pairs[last].i * d, d);
        column_gradient(s, run, first, last);
        ts_optim view = s->optim;
        view.n = d;
        if (s->optim.m) {
            view.m = s->optim.m + i * d;
            view.v = s->optim.v + i * d;
        }
        ts_optim_step(&view, s->w + i * d, s->grad, lr);
        if (!s->stale[i]) {
            s->stale[i] = 1;
            s->stale_list[s->nstale++] = i;
        }
    }
    s->optim.t++;
}

ts_status ts_bigram_run_sampled(const ts_bigram_run *run, gsl_rng *rng, ts_recorder *r,
                                ts_error *err)
{
    sampled_state s;
    if (state_init(&s, run, rng, err)) return TS_FAILED;
    ts_bigram_tracker k;
    ts_bigram_tracker_init(&k, run, r);
    ts_status status = TS_DONE;
    for (int64_t t = 0; status == TS_DONE; t++) {
        /* The population gap costs O(d) plus the changed columns: computed at the record times,
         * and at every step only while some eps is unreached (so that hits are first hits). */
        if (ts_bigram_is_record_time(&k, t) || k.unreached > 0)
            status = ts_bigram_track(&k, t, population_gap(&s, run));
        if (t == run->steps || status != TS_DONE) break;
        if ((size_t)t % run->batch_reuse == 0) draw_batch(&s, rng);
        sampled_step(&s, run, ts_schedule_lr(&run->schedule, t));
    }
    state_free(&s);
    return status;
}
