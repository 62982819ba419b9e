/* Gradient descent, sign descent and Adam over a plain parameter vector (optim.h).
 * The per-coordinate loops are kept free of calls and of branches the compiler cannot turn into
 * blends, so that they vectorise: they are the inner loops of every experiment. */
#include "tailsweep/optim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const optim_names[] = {"gd", "sign", "adam"};
#define NKINDS (sizeof optim_names / sizeof optim_names[0])

const char *ts_optim_name(ts_optim_kind kind)
{
    return (size_t)kind < NKINDS ? optim_names[kind] : "unknown";
}

int ts_optim_config_check(const ts_optim_config *cfg, ts_error *err)
{
    if ((size_t)cfg->kind >= NKINDS)
        return ts_error_set(err, TS_EUSAGE, "unknown optimizer kind %d", (int)cfg->kind);
    /* Checked for every kind, as the spec checks them: a config means the same everywhere.
     * Written as !(in range) so that NaN is rejected too. */
    if (!(cfg->beta1 >= 0 && cfg->beta1 < 1))
        return ts_error_set(err, TS_EUSAGE, "adam_beta1 must lie in [0, 1), got %.17g",
                            cfg->beta1);
    if (!(cfg->beta2 >= 0 && cfg->beta2 < 1))
        return ts_error_set(err, TS_EUSAGE, "adam_beta2 must lie in [0, 1), got %.17g",
                            cfg->beta2);
    if (!(cfg->epsilon >= 0))
        return ts_error_set(err, TS_EUSAGE, "adam_epsilon must be >= 0, got %.17g",
                            cfg->epsilon);
    if (!(cfg->momentum >= 0 && cfg->momentum < 1))
        return ts_error_set(err, TS_EUSAGE, "momentum must lie in [0, 1), got %.17g",
                            cfg->momentum);
    if (cfg->kind == TS_OPTIM_ADAM && cfg->momentum != 0)
        return ts_error_set(err, TS_EUSAGE, "momentum is for gd and sign: Adam's momentum is "
                                            "adam_beta1");
    if (!(cfg->weight_decay >= 0 && isfinite(cfg->weight_decay)))
        return ts_error_set(err, TS_EUSAGE, "weight_decay must be finite and >= 0, got %.17g",
                            cfg->weight_decay);
    return TS_OK;
}

int ts_optim_init(ts_optim *o, const ts_optim_config *cfg, size_t n, ts_error *err)
{
    memset(o, 0, sizeof *o);
    int rc = ts_optim_config_check(cfg, err);
    if (rc) return rc;
    o->cfg = *cfg;
    o->n = n;
    int adam = cfg->kind == TS_OPTIM_ADAM;
    if (!adam && cfg->momentum == 0) return TS_OK;
    /* calloc(0, ...) may return NULL legitimately: allocate at least one element. */
    size_t cap = n ? n : 1;
    o->m = calloc(cap, sizeof *o->m);
    if (adam) o->v = calloc(cap, sizeof *o->v);
    if (!o->m || (adam && !o->v)) {
        ts_optim_free(o);
        return ts_error_set(err, TS_ERUNTIME, "out of memory for the optimizer's state (n = %zu)",
                            n);
    }
    return TS_OK;
}

void ts_optim_free(ts_optim *o)
{
    free(o->m);
    free(o->v);
    o->m = o->v = NULL;
}

void ts_optim_reset(ts_optim *o)
{
    if (o->m) memset(o->m, 0, o->n * sizeof *o->m);
    if (o->v) memset(o->v, 0, o->n * sizeof *o->v);
    o->t = 0;
}

/* The plain rules (no momentum, no weight decay) run the loops below on the gradient as given;
 * the others first form the effective gradient of a chunk (effective_chunk) and run the same
 * loops on it, so that every rule's update of a coordinate is written once. */
static int plain(const ts_optim *o)
{
    return o->cfg.momentum == 0 && o->cfg.weight_decay == 0;
}

/* The dense and scaled loops are compiled twice, for the x86-64 baseline (two lanes) and for
 * AVX2 (four), and the copy is chosen when the program loads: sign descent's and Adam's selects
 * and divisions made a sampled bigram step compute-bound at two lanes (AVX2 halved its time).
 * Both copies give the same bits: the AVX2 target has no FMA to contract a * b + c into (and C11
 * mode forbids contraction anyway), and +, *, / and sqrt are correctly rounded at any width. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define VECTOR_CLONES
#endif

/* Each rule's update of one coordinate is written once, as an inline function, and every loop
 * (dense, sparse, scaled) calls it: the three entry points cannot drift apart, and GCC inlines
 * the call before it vectorises the loop. */

/* ---- gradient descent */

static inline void gd_coord(double *w, double g, double lr)
{
    *w -= lr * g;
}

VECTOR_CLONES static void gd_dense(double *w, const double *g, size_t n, double lr)
{
    for (size_t k = 0; k < n; k++) gd_coord(&w[k], g[k], lr);
}

static void gd_sparse(double *w, const double *g, const size_t *idx, size_t nidx, double lr)
{
    for (size_t j = 0; j < nidx; j++) gd_coord(&w[idx[j]], g[idx[j]], lr);
}

VECTOR_CLONES static void gd_scaled(double *w, double c, size_t n, double lr)
{
    for (size_t k = 0; k < n; k++) gd_coord(&w[k], c * w[k], lr);
}

/* ---- sign descent
 * sign(g) is 1, -1, +0 for g = +-0, and g itself for NaN, so that a diverged gradient shows in
 * w. The zero is +0 because w - lr * (+0) leaves every w unchanged, -0 included; with it Adam at
 * beta1 = beta2 = epsilon = 0 (whose zero step is +0 as well) matches sign descent bit for bit.
 * Written as three selects rather than nested conditionals so that GCC vectorises the loop. */

static inline void sign_coord(double *w, double g, double lr)
{
    double s = g > 0 ? 1.0 : -1.0;
    s = g == 0 ? 0.0 : s;
    s = isnan(g) ? g : s;
    *w -= lr * s;
}

VECTOR_CLONES static void sign_dense(double *w, const double *g, size_t n, double lr)
{
    for (size_t k = 0; k < n; k++) sign_coord(&w[k], g[k], lr);
}

static void sign_sparse(double *w, const double *g, const size_t *idx, size_t nidx, double lr)
{
    for (size_t j = 0; j < nidx; j++) sign_coord(&w[idx[j]], g[idx[j]], lr);
}

VECTOR_CLONES static void sign_scaled(double *w, double c, size_t n, double lr)
{
    for (size_t k = 0; k < n; k++) sign_coord(&w[k], c * w[k], lr);
}

/* ---- Adam (Kingma & Ba 2015, Algorithm 1)
 *   m = b1 m + (1 - b1) g,  v = b2 v + (1 - b2) g^2,
 *   w -= lr mhat / (sqrt(vhat) + eps),  mhat = m / (1 - b1^t),  vhat = v / (1 - b2^t).
 * The ratio mhat / (sqrt(vhat) + eps) is formed before it is scaled by lr: with b1 = b2 = eps = 0
 * it is g / |g| = +-1 exactly (sqrt(g * g) == |g| barring over- or underflow), so lr * ratio is
 * the sign step exactly. A denominator of 0 (eps = 0 and every gradient so far 0, so mhat = 0
 * too) is made 1 by adding (den == 0), because a branch or a select around the division stops
 * GCC from vectorising the loop: the step is then mhat = 0, not 0/0. Adding +0.0 turns a -0
 * ratio into +0, sign descent's zero step (see above), and changes nothing else. A NaN gradient
 * makes mhat NaN and passes into w. (The loop vectorises under -fno-math-errno; otherwise the
 * errno path of sqrt keeps it scalar.) */

typedef struct adam_step {
    double a1, a2;   /* 1 - beta1, 1 - beta2 */
    double c1, c2;   /* bias corrections 1 / (1 - beta^t), hoisted out of the loop */
    double b1, b2, eps;
} adam_step;

static adam_step adam_of(const ts_optim *o)
{
    const ts_optim_config *c = &o->cfg;
    return (adam_step){
        .b1 = c->beta1, .b2 = c->beta2, .eps = c->epsilon,
        .a1 = 1.0 - c->beta1, .a2 = 1.0 - c->beta2, .c1 = o->c1, .c2 = o->c2,
    };
}

void ts_optim_begin(ts_optim *o)
{
    o->t++;
    if (o->cfg.kind != TS_OPTIM_ADAM) return;
    double t = (double)o->t;
    o->c1 = 1.0 / (1.0 - pow(o->cfg.beta1, t));
    o->c2 = 1.0 / (1.0 - pow(o->cfg.beta2, t));
}

static inline void adam_coord(const adam_step *a, double *w, double *m, double *v, double g,
                              double lr)
{
    *m = a->b1 * *m + a->a1 * g;
    *v = a->b2 * *v + a->a2 * (g * g);
    double mhat = *m * a->c1;
    double den = sqrt(*v * a->c2) + a->eps;
    double ratio = mhat / (den + (double)(den == 0)) + 0.0;
    *w -= lr * ratio;
}

/* Coordinates [0, n) of a dense Adam step, the moments at m and v. */
VECTOR_CLONES static void adam_dense(const adam_step *a, double *w, double *m, double *v,
                                     const double *g, size_t n, double lr)
{
    for (size_t k = 0; k < n; k++) adam_coord(a, &w[k], &m[k], &v[k], g[k], lr);
}

/* Coordinates [begin, end) of a scaled Adam step (the moments start at m and v). */
VECTOR_CLONES static void adam_scaled(const adam_step *a, double *w, double *m, double *v, double c,
                        size_t begin, size_t end, double lr)
{
    for (size_t k = begin; k < end; k++) adam_coord(a, &w[k], &m[k], &v[k], c * w[k], lr);
}

/* ---- the rules on a block whose gradient is given */

/* One plain update of w[0, len), the state at offset. */
static void plain_update(ts_optim *o, size_t offset, double *w, const double *g, size_t len,
                         double lr)
{
    switch (o->cfg.kind) {
    case TS_OPTIM_GD: gd_dense(w, g, len, lr); break;
    case TS_OPTIM_SIGN: sign_dense(w, g, len, lr); break;
    case TS_OPTIM_ADAM: {
        adam_step a = adam_of(o);
        adam_dense(&a, w, o->m + offset, o->v + offset, g, len, lr);
        break;
    }
    }
}

/* Coordinates per chunk of the effective gradient: it stays in L1 between its two passes. */
enum { CHUNK = 256 };

/* The gradient the rule steps on, for coordinates [0, len) of a chunk at state offset: g + wd w,
 * and through the momentum buffer when there is one (which it advances). */
static void effective_chunk(ts_optim *o, size_t offset, const double *w, const double *g,
                            size_t len, double *out)
{
    double wd = o->cfg.weight_decay, mu = o->cfg.momentum;
    for (size_t k = 0; k < len; k++) out[k] = g[k] + wd * w[k];
    if (mu == 0) return;
    double *b = o->m + offset, fresh = o->cfg.kind == TS_OPTIM_SIGN ? 1.0 - mu : 1.0;
    for (size_t k = 0; k < len; k++) {
        b[k] = mu * b[k] + fresh * out[k];
        out[k] = b[k];
    }
}

/* A momentum buffer is a gradient that plain GD or sign descent then follow. */
static void chunk_update(ts_optim *o, size_t offset, double *w, const double *g, size_t len,
                         double lr)
{
    double eff[CHUNK];
    effective_chunk(o, offset, w, g, len, eff);
    plain_update(o, offset, w, eff, len, lr);
}

void ts_optim_update(ts_optim *o, size_t offset, double *w, const double *g, size_t len,
                     double lr)
{
    if (plain(o)) {
        plain_update(o, offset, w, g, len, lr);
        return;
    }
    for (size_t k = 0; k < len; k += CHUNK)
        chunk_update(o, offset + k, w + k, g + k, len - k < CHUNK ? len - k : CHUNK, lr);
}

void ts_optim_step(ts_optim *o, double *w, const double *g, double lr)
{
    ts_optim_begin(o);
    ts_optim_update(o, 0, w, g, o->n, lr);
}

void ts_optim_step_sparse(ts_optim *o, double *w, const double *g, const size_t *idx,
                          size_t nidx, double lr)
{
    ts_optim_begin(o);
    if (!plain(o)) { /* each listed coordinate is a chunk of one */
        for (size_t j = 0; j < nidx; j++) chunk_update(o, idx[j], &w[idx[j]], &g[idx[j]], 1, lr);
        return;
    }
    switch (o->cfg.kind) {
    case TS_OPTIM_GD: gd_sparse(w, g, idx, nidx, lr); break;
    case TS_OPTIM_SIGN: sign_sparse(w, g, idx, nidx, lr); break;
    case TS_OPTIM_ADAM: {
        adam_step a = adam_of(o);
        for (size_t j = 0; j < nidx; j++) {
            size_t k = idx[j];
            adam_coord(&a, &w[k], &o->m[k], &o->v[k], g[k], lr);
        }
        break;
    }
    }
}

/* The scaled gradient written out chunk by chunk (c w, and g_idx at the listed coordinates),
 * then stepped like any other: the rules with state or decay touch every coordinate anyway. */
static void scaled_by_chunks(ts_optim *o, size_t offset, double *w, size_t len, double c,
                             const size_t *idx, const double *g_idx, size_t nidx, double lr)
{
    double g[CHUNK];
    size_t j = 0;
    for (size_t k0 = 0; k0 < len; k0 += CHUNK) {
        size_t n = len - k0 < CHUNK ? len - k0 : CHUNK;
        for (size_t k = 0; k < n; k++) g[k] = c * w[k0 + k];
        for (; j < nidx && idx[j] < k0 + n; j++) g[idx[j] - k0] = g_idx[j];
        chunk_update(o, offset + k0, w + k0, g, n, lr);
    }
}

/* The runs between the listed coordinates take g = c w in a vectorised loop, and each listed one
 * its given gradient: every coordinate is updated once, by the rule's one update function, from
 * the same gradient value ts_optim_step would read, so the results are equal bit for bit. */
void ts_optim_update_scaled(ts_optim *o, size_t offset, double *w, size_t len, double c,
                            const size_t *idx, const double *g_idx, size_t nidx, double lr)
{
    if (!plain(o)) {
        scaled_by_chunks(o, offset, w, len, c, idx, g_idx, nidx, lr);
        return;
    }
    adam_step a = {0};
    double *m = o->m ? o->m + offset : NULL, *v = o->v ? o->v + offset : NULL;
    if (o->cfg.kind == TS_OPTIM_ADAM) a = adam_of(o);
    size_t begin = 0;
    for (size_t j = 0; j <= nidx; j++) {
        size_t end = j < nidx ? idx[j] : len;
        switch (o->cfg.kind) {
        case TS_OPTIM_GD: gd_scaled(w + begin, c, end - begin, lr); break;
        case TS_OPTIM_SIGN: sign_scaled(w + begin, c, end - begin, lr); break;
        case TS_OPTIM_ADAM: adam_scaled(&a, w, m, v, c, begin, end, lr); break;
        }
        if (j == nidx) break;
        switch (o->cfg.kind) {
        case TS_OPTIM_GD: gd_coord(&w[end], g_idx[j], lr); break;
        case TS_OPTIM_SIGN: sign_coord(&w[end], g_idx[j], lr); break;
        case TS_OPTIM_ADAM: adam_coord(&a, &w[end], &m[end], &v[end], g_idx[j], lr); break;
        }
        begin = end + 1;
    }
}

void ts_optim_step_scaled(ts_optim *o, double *w, double c, const size_t *idx,
                          const double *g_idx, size_t nidx, double lr)
{
    ts_optim_begin(o);
    ts_optim_update_scaled(o, 0, w, o->n, c, idx, g_idx, nidx, lr);
}

ts_optim_config ts_optim_config_of(const ts_point *p)
{
    ts_optim_config c = {.kind = TS_OPTIM_GD};
    for (size_t k = 0; k < NKINDS; k++)
        if (ts_point_is(p, "optimizer", optim_names[k])) c.kind = (ts_optim_kind)k;
    c.beta1 = ts_point_real(p, "adam_beta1");
    c.beta2 = ts_point_real(p, "adam_beta2");
    c.epsilon = ts_point_real(p, "adam_epsilon");
    c.momentum = ts_point_real(p, "momentum");
    c.weight_decay = ts_point_real(p, "weight_decay");
    return c;
}
