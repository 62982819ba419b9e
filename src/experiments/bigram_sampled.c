/* The bigram experiment's sampled mode: stochastic steps on mini-batches of (i, j) pairs, i from
 * the Zipf marginal and j from row i's conditional, with the shared optimizers. A batch of B
 * pairs touches at most B columns of W (layout in bigram.h), so a step costs O(B d), and plain
 * SGD on the square loss only O(B) (a lazy scale per column, see lazy_sgd_column); the
 * population loss is kept per column and brought up to date only where W changed. */
#define _DEFAULT_SOURCE /* madvise's MADV_HUGEPAGE (Linux); _POSIX_C_SOURCE alone hides it */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sys/mman.h>

#include <gsl/gsl_randist.h>

#include "tailsweep/data.h"
#include "tailsweep/variates.h"

#include "bigram.h"

typedef struct pair {
    uint32_t i, j; /* 0-based input token (column) and next token (row) */
} pair;

typedef struct sampled_state {
    size_t d, batch;
    double *w;               /* [d * d]: column i of W is scale[i] * (w + i d) */
    double *scale;           /* [d]: 1 except under lazy SGD */
    int lazy;                /* plain SGD on the square loss: see lazy_sgd_column */
    uint32_t *rho;           /* [d * d] (or [d] shared): rho_i(k) - 1 for rank k = 1..d */
    size_t rho_stride;       /* d, or 0 when shared */
    double *gap;             /* [d]: column i's share of L - L* (without pi_i and the 1/2) */
    unsigned char *stale;    /* [d]: column changed since gap[i] was computed */
    size_t *stale_list, nstale;
    double *grad;            /* [d] */
    size_t *draw_i, *draw_k; /* [batch]: 1-based Zipf draws */
    pair *drawn, *pairs;     /* [batch]: in draw order, and grouped by column */
    size_t *slot;            /* [d]: while a batch is grouped, 1 + column i's place in cols */
    size_t *cols, *start;    /* [batch], [batch + 1]: the batch's columns, their pairs' start */
    int sort_rows;           /* square loss: each column's pairs sorted by row j */
    size_t *idx;             /* [batch]: a column's distinct rows j (square loss) */
    double *g_idx;           /* [batch]: the batch gradient there */
    ts_zipf *zipf;
    ts_optim optim;
} sampled_state;

size_t ts_bigram_sampled_bytes(size_t d, int shared, int adam, size_t batch_size)
{
    if (d > ((size_t)1 << 28)) return SIZE_MAX; /* d^2 doubles would overflow size_t anyway */
    size_t dd = d * d;
    size_t per_pair = 5 * sizeof(size_t) + sizeof(double) + 2 * sizeof(pair);
    return sizeof(double) * ((adam ? 3 : 1) * dd + 3 * d) + sizeof(uint32_t) * (shared ? d : dd) +
           (2 * sizeof(size_t) + 1) * d + per_pair * batch_size + sizeof(size_t) +
           ts_zipf_bytes(d, TS_ZIPF_AUTO);
}

static void state_free(sampled_state *s)
{
    free(s->w);
    free(s->scale);
    free(s->rho);
    free(s->gap);
    free(s->stale);
    free(s->stale_list);
    free(s->grad);
    free(s->draw_i);
    free(s->draw_k);
    free(s->drawn);
    free(s->pairs);
    free(s->slot);
    free(s->cols);
    free(s->idx);
    free(s->g_idx);
    free(s->start);
    ts_zipf_free(s->zipf);
    ts_optim_free(&s->optim);
}

/* W (and the permutations) span d^2 entries, 800 MB at d = 10^4, and a step writes a few
 * scattered entries of each column it touches: with 4 KiB pages nearly every write is a TLB miss
 * and, the first time, a page fault (a third of a step's time here at d = 10^4). Asking for
 * transparent huge pages (where the system allows them only on request, as Debian's default
 * "madvise" does) cuts both by 512. Only the 2 MiB-aligned interior of the block can be
 * backed; a refusal changes nothing but speed, so its status is ignored. */
static void advise_huge_pages(void *block, size_t bytes)
{
#if defined(MADV_HUGEPAGE)
    const uintptr_t huge = (uintptr_t)1 << 21;
    uintptr_t begin = ((uintptr_t)block + huge - 1) & ~(huge - 1);
    uintptr_t end = ((uintptr_t)block + bytes) & ~(huge - 1);
    if (end > begin) (void)madvise((void *)begin, end - begin, MADV_HUGEPAGE);
#else
    (void)block;
    (void)bytes;
#endif
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
    /* dim <= UINT32_MAX (a pair holds 32-bit indices) is checked before any work (bigram.c) */
    s->d = d;
    s->batch = b;
    s->rho_stride = run->shared_permutation ? 0 : d;
    s->w = calloc(d * d, sizeof *s->w);
    s->scale = malloc(d * sizeof *s->scale);
    s->rho = malloc((run->shared_permutation ? d : d * d) * sizeof *s->rho);
    s->gap = malloc(d * sizeof *s->gap);
    s->stale = calloc(d, 1);
    s->stale_list = malloc(d * sizeof *s->stale_list);
    s->grad = malloc(d * sizeof *s->grad);
    s->draw_i = malloc(b * sizeof *s->draw_i);
    s->draw_k = malloc(b * sizeof *s->draw_k);
    s->drawn = malloc(b * sizeof *s->drawn);
    s->pairs = malloc(b * sizeof *s->pairs);
    s->slot = calloc(d, sizeof *s->slot);
    s->cols = malloc(b * sizeof *s->cols);
    s->idx = malloc(b * sizeof *s->idx);
    s->g_idx = malloc(b * sizeof *s->g_idx);
    s->start = malloc((b + 1) * sizeof *s->start);
    if (!s->w || !s->scale || !s->rho || !s->gap || !s->stale || !s->stale_list || !s->grad ||
        !s->draw_i || !s->draw_k || !s->drawn || !s->pairs || !s->slot || !s->cols || !s->idx ||
        !s->g_idx || !s->start) {
        state_free(s);
        return ts_error_set(err, TS_ERUNTIME, "out of memory for a %zu x %zu matrix", d, d);
    }
    s->zipf = ts_zipf_alloc(d, run->model.a, TS_ZIPF_AUTO, err);
    int rc = s->zipf ? ts_optim_init(&s->optim, &run->optim, d * d, err) : TS_ERUNTIME;
    if (rc) {
        state_free(s);
        return rc;
    }
    advise_huge_pages(s->w, d * d * sizeof *s->w);
    if (!run->shared_permutation) advise_huge_pages(s->rho, d * d * sizeof *s->rho);
    s->lazy = run->objective == TS_BIGRAM_SQUARE && run->optim.kind == TS_OPTIM_GD &&
              !run->dense_updates;
    s->sort_rows = run->objective == TS_BIGRAM_SQUARE;
    draw_permutations(s, rng, run->shared_permutation);
    /* W = 0: every column starts at the initial gap (square: ||p_i||^2; cross-entropy:
     * log d - entropy) */
    double start = run->objective == TS_BIGRAM_SQUARE ? run->model.s0
                                                 : log((double)d) - run->model.entropy;
    for (size_t i = 0; i < d; i++) {
        s->gap[i] = start;
        s->scale[i] = 1;
    }
    return TS_OK;
}

/* sum over ranks k of (c w[rho(k)] - pi_k)^2 = ||c w - p||^2: every entry once, the target read
 * through the permutation. (Scalar loads: AVX2's gather made this 1.5x slower here.) c = 1
 * changes nothing (1 * x == x exactly). */
static double square_gap(const double *restrict w, double c, const uint32_t *restrict rho,
                         const double *restrict pi, size_t d)
{
    double acc[4] = {0};
    size_t k = 0;
    for (; k + 4 <= d; k += 4)
        for (size_t l = 0; l < 4; l++) {
            double e = c * w[rho[k + l]] - pi[k + l];
            acc[l] += e * e;
        }
    for (; k < d; k++) {
        double e = c * w[rho[k]] - pi[k];
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
    if (run->objective == TS_BIGRAM_SQUARE) return square_gap(w, s->scale[i], rho, pi, d);
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

static int by_row(const void *a, const void *b)
{
    uint32_t x = ((const pair *)a)->j, y = ((const pair *)b)->j;
    return (x > y) - (x < y);
}

/* A column's pairs by row j: insertion sort for the few a column holds at small batches (most
 * hold one or two), qsort for large batches. */
static void sort_by_row(pair *p, size_t n)
{
    if (n > 32) {
        qsort(p, n, sizeof *p, by_row);
        return;
    }
    for (size_t k = 1; k < n; k++) {
        pair x = p[k];
        size_t m = k;
        for (; m > 0 && p[m - 1].j > x.j; m--) p[m] = p[m - 1];
        p[m] = x;
    }
}

/* B pairs: i ~ pi, then j = rho_i(k) with k ~ pi, which is ts_zipf_fill_row's law (a Zipf rank
 * mapped through the row's permutation) batched across rows, since every pair has its own row.
 * A counting sort over the batch's own columns (in order of first appearance; slot is reset
 * afterwards) groups the pairs by column in O(B), where one over all d columns cost a d-long
 * clear and prefix sum per batch. The order of the columns and of the pairs within a column
 * does not change a step: columns are updated independently, and a column's pairs only add
 * equal amounts into its gradient or its entries. */
static void draw_batch(sampled_state *s, gsl_rng *rng)
{
    size_t b = s->batch, ncols = 0;
    ts_zipf_fill(s->zipf, rng, s->draw_i, b);
    ts_zipf_fill(s->zipf, rng, s->draw_k, b);
    for (size_t n = 0; n < b; n++) {
        size_t i = s->draw_i[n] - 1;
        s->drawn[n] = (pair){(uint32_t)i, s->rho[i * s->rho_stride + s->draw_k[n] - 1]};
        if (!s->slot[i]) {
            s->cols[ncols++] = i;
            s->slot[i] = ncols;
            s->start[ncols] = 0;
        }
        s->start[s->slot[i]]++;
    }
    s->start[0] = 0;
    for (size_t c = 0; c < ncols; c++) s->start[c + 1] += s->start[c];
    for (size_t n = 0; n < b; n++) s->pairs[s->start[s->slot[s->drawn[n].i] - 1]++] = s->drawn[n];
    for (size_t c = 0; c < ncols; c++) s->slot[s->cols[c]] = 0;
    /* column c's pairs now end at start[c] */
    if (s->sort_rows)
        for (size_t c = 0; c < ncols; c++) {
            size_t begin = c ? s->start[c - 1] : 0;
            sort_by_row(s->pairs + begin, s->start[c] - begin);
        }
}

/* Asks for a column ahead of its use: the batch's columns are scattered over W, and waiting
 * for each one's first lines until the hardware prefetcher has caught on dominates a step. */
static void prefetch_column(const double *w, size_t d)
{
    for (size_t j = 0; j < d; j += 8) __builtin_prefetch(w + j, 1, 3);
}

/* Gradient of the batch-mean cross-entropy (1/B) sum_b loss(w_{i_b}, e_{j_b}) on column i,
 * which holds the pairs [first, last): (count/B) softmax(w_i) - (1/B) sum e_j. */
static void cross_entropy_gradient(sampled_state *s, size_t first, size_t last)
{
    size_t d = s->d, i = s->pairs[first].i;
    const double *w = s->w + i * d;
    double inv_b = 1.0 / (double)s->batch, weight = (double)(last - first) * inv_b;
    double top = -INFINITY;
    for (size_t j = 0; j < d; j++) top = w[j] > top ? w[j] : top;
    double scale = weight / ts_bigram_exp_shifted(w, top, s->grad, d);
    for (size_t j = 0; j < d; j++) s->grad[j] *= scale;
    for (size_t n = first; n < last; n++) s->grad[s->pairs[n].j] -= inv_b;
}

/* The shared optimizer's step on column i, which holds the pairs [first, last), as one block of
 * its state (untouched columns keep W and Adam's moments, as sparse Adam does). The square
 * loss's batch gradient is (count/B) w_i - (1/B) sum e_j: c w_i except at the column's distinct
 * rows j (its pairs are sorted by j, see draw_batch), which is ts_optim_step_scaled's form, so
 * the column is read and written in one pass with no gradient array. The values at the j are
 * formed as a written-out gradient would hold them (c w_j, then 1/B subtracted once per pair),
 * so the step equals ts_optim_step's bit for bit. (Blocking the column for L1, which pays in
 * the full mode, gained nothing here: a step waits on the columns' first touch.) */
static void dense_column_step(sampled_state *s, const ts_bigram_run *run, size_t first,
                              size_t last, double lr)
{
    size_t d = s->d, i = s->pairs[first].i;
    double *w = s->w + i * d;
    if (run->objective == TS_BIGRAM_CROSS_ENTROPY) {
        cross_entropy_gradient(s, first, last);
        ts_optim_update(&s->optim, i * d, w, s->grad, d, lr);
        return;
    }
    double inv_b = 1.0 / (double)s->batch, c = (double)(last - first) * inv_b;
    size_t nidx = 0;
    for (size_t n = first; n < last; n++) {
        size_t j = s->pairs[n].j;
        if (nidx == 0 || s->idx[nidx - 1] != j) {
            s->idx[nidx] = j;
            s->g_idx[nidx++] = c * w[j];
        }
        s->g_idx[nidx - 1] -= inv_b;
    }
    ts_optim_update_scaled(&s->optim, i * d, w, d, c, s->idx, s->g_idx, nidx, lr);
}

/* Bounds on a lazy column scale: outside them (or at 0, or not finite) the scale is folded into
 * the column before it under- or overflows, and the step taken densely. 2^+-256 keeps every
 * stored entry and every increment lr / (B scale) far from the double range's ends. */
#define LAZY_SCALE_MIN 0x1p-256
#define LAZY_SCALE_MAX 0x1p+256

/* Plain SGD on the square loss. The batch gradient on column i is c w_i - (1/B) sum_b e_{j_b},
 * c = count / B, so the step is w_i <- (1 - lr c) w_i + (lr / B) sum_b e_{j_b}: a scalar times
 * the column plus count entries. With w_i = scale_i u_i (the stored u), the scalar goes into
 * scale_i and each pair adds lr / (B scale_i') to u at j: O(count) instead of O(d). It is the
 * same arithmetic regrouped, so every entry of w_i agrees with the dense update's to rounding
 * (a few ulp per touch, like the dense update's own rounding: recorded losses agreed to 1e-14
 * relative over 3000 steps). The other optimizers and the cross-entropy gradient are not linear
 * in w_i, so they keep the dense step. Untouched entries of u are never read, so a column's
 * pages are not even faulted in until its loss is needed. */
static void lazy_sgd_column(sampled_state *s, const ts_bigram_run *run, size_t first,
                            size_t last, double lr)
{
    size_t d = s->d, i = s->pairs[first].i;
    double inv_b = 1.0 / (double)s->batch, c = (double)(last - first) * inv_b;
    double scale = s->scale[i] * (1.0 - lr * c);
    if (!(fabs(scale) >= LAZY_SCALE_MIN && fabs(scale) <= LAZY_SCALE_MAX)) {
        double *u = s->w + i * d;
        for (size_t k = 0; k < d; k++) u[k] *= s->scale[i];
        s->scale[i] = 1;
        dense_column_step(s, run, first, last, lr);
        return;
    }
    s->scale[i] = scale;
    double add = lr * inv_b / scale;
    for (size_t n = first; n < last; n++) s->w[i * d + s->pairs[n].j] += add;
}

/* One step on the touched columns only; Adam's counter advances once per step. */
static void sampled_step(sampled_state *s, const ts_bigram_run *run, double lr)
{
    size_t d = s->d;
    ts_optim_begin(&s->optim);
    for (size_t first = 0, last; first < s->batch; first = last) {
        size_t i = s->pairs[first].i;
        for (last = first + 1; last < s->batch && s->pairs[last].i == i; last++) continue;
        if (s->lazy) {
            lazy_sgd_column(s, run, first, last, lr);
        } else {
            if (last < s->batch) prefetch_column(s->w + s->pairs[last].i * d, d);
            dense_column_step(s, run, first, last, lr);
        }
        if (!s->stale[i]) {
            s->stale[i] = 1;
            s->stale_list[s->nstale++] = i;
        }
    }
}

ts_status ts_bigram_run_sampled(const ts_bigram_run *run, gsl_rng *rng, ts_recorder *r,
                                ts_error *err)
{
    ts_tracker k;
    sampled_state s;
    if (ts_bigram_tracker_init(&k, run, r, err) || state_init(&s, run, rng, err))
        return TS_FAILED;
    ts_status status = TS_DONE;
    for (int64_t t = 0; status == TS_DONE; t++) {
        /* The population gap costs O(d) plus the changed columns: only when the tracker needs
         * it. */
        if (ts_tracker_wants(&k, t)) status = ts_tracker_track(&k, t, population_gap(&s, run));
        if (t == run->steps || status != TS_DONE) break;
        if (ts_batch_is_fresh(t, (int64_t)run->batch_reuse)) draw_batch(&s, rng);
        sampled_step(&s, run, ts_schedule_lr(&run->schedule, t));
    }
    state_free(&s);
    return status;
}
