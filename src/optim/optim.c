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

static int check_config(const ts_optim_config *cfg, ts_error *err)
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
    return TS_OK;
}

int ts_optim_init(ts_optim *o, const ts_optim_config *cfg, size_t n, ts_error *err)
{
    memset(o, 0, sizeof *o);
    int rc = check_config(cfg, err);
    if (rc) return rc;
    o->cfg = *cfg;
    o->n = n;
    if (cfg->kind != TS_OPTIM_ADAM) return TS_OK;
    /* calloc(0, ...) may return NULL legitimately: allocate at least one element. */
    size_t cap = n ? n : 1;
    o->m = calloc(cap, sizeof *o->m);
    o->v = calloc(cap, sizeof *o->v);
    if (!o->m || !o->v) {
        ts_optim_free(o);
        return ts_error_set(err, TS_ERUNTIME, "out of memory for Adam's moments (n = %zu)", n);
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

static adam_step adam_begin(ts_optim *o)
{
    o->t++;
    const ts_optim_config *c = &o->cfg;
    double t = (double)o->t;
    return (adam_step){
        .b1 = c->beta1, .b2 = c->beta2, .eps = c->epsilon,
        .a1 = 1.0 - c->beta1, .a2 = 1.0 - c->beta2,
        .c1 = 1.0 / (1.0 - pow(c->beta1, t)), .c2 = 1.0 / (1.0 - pow(c->beta2, t)),
    };
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

VECTOR_CLONES static void adam_dense(ts_optim *o, double *w, const double *g, double lr)
{
    adam_step a = adam_begin(o);
    double *m = o->m, *v = o->v;
    size_t n = o->n;
    for (size_t k = 0; k < n; k++) adam_coord(&a, &w[k], &m[k], &v[k], g[k], lr);
}

static void adam_sparse(ts_optim *o, double *w, const double *g, const size_t *idx, size_t nidx,
                        double lr)
{
    adam_step a = adam_begin(o);
    double *m = o->m, *v = o->v;
    for (size_t j = 0; j < nidx; j++) {
        size_t k = idx[j];
        adam_coord(&a, &w[k], &m[k], &v[k], g[k], lr);
    }
}

/* Coordinates [begin, end) of a scaled Adam step (the moments start at m and v). */
VECTOR_CLONES static void adam_scaled(const adam_step *a, double *w, double *m, double *v, double c,
                        size_t begin, size_t end, double lr)
{
    for (size_t k = begin; k < end; k++) adam_coord(a, &w[k], &m[k], &v[k], c * w[k], lr);
}

void ts_optim_step(ts_optim *o, double *w, const double *g, double lr)
{
    switch (o->cfg.kind) {
    case TS_OPTIM_GD: gd_dense(w, g, o->n, lr); break;
    case TS_OPTIM_SIGN: sign_dense(w, g, o->n, lr); break;
    case TS_OPTIM_ADAM: adam_dense(o, w, g, lr); break;
    }
}

void ts_optim_step_sparse(ts_optim *o, double *w, const double *g, const size_t *idx,
                          size_t nidx, double lr)
{
    switch (o->cfg.kind) {
    case TS_OPTIM_GD: gd_sparse(w, g, idx, nidx, lr); break;
    case TS_OPTIM_SIGN: sign_sparse(w, g, idx, nidx, lr); break;
    case TS_OPTIM_ADAM: adam_sparse(o, w, g, idx, nidx, lr); break;
    }
}

/* The runs between the listed coordinates take g = c w in a vectorised loop, and each listed one
 * its given gradient: every coordinate is updated once, by the rule's one update function, from
 * the same gradient value ts_optim_step would read, so the results are equal bit for bit. */
void ts_optim_step_scaled(ts_optim *o, double *w, double c, const size_t *idx,
                          const double *g_idx, size_t nidx, double lr)
{
    adam_step a = {0};
    if (o->cfg.kind == TS_OPTIM_ADAM) a = adam_begin(o);
    size_t begin = 0;
    for (size_t j = 0; j <= nidx; j++) {
        size_t end = j < nidx ? idx[j] : o->n;
        switch (o->cfg.kind) {
        case TS_OPTIM_GD: gd_scaled(w + begin, c, end - begin, lr); break;
        case TS_OPTIM_SIGN: sign_scaled(w + begin, c, end - begin, lr); break;
        case TS_OPTIM_ADAM: adam_scaled(&a, w, o->m, o->v, c, begin, end, lr); break;
        }
        if (j == nidx) break;
        switch (o->cfg.kind) {
        case TS_OPTIM_GD: gd_coord(&w[end], g_idx[j], lr); break;
        case TS_OPTIM_SIGN: sign_coord(&w[end], g_idx[j], lr); break;
        case TS_OPTIM_ADAM: adam_coord(&a, &w[end], &o->m[end], &o->v[end], g_idx[j], lr); break;
        }
        begin = end + 1;
    }
}

ts_optim_config ts_optim_config_of(const ts_point *p)
{
    ts_optim_config c = {.kind = TS_OPTIM_GD};
    for (size_t k = 0; k < NKINDS; k++)
        if (ts_point_is(p, "optimizer", optim_names[k])) c.kind = (ts_optim_kind)k;
    c.beta1 = ts_point_real(p, "adam_beta1");
    c.beta2 = ts_point_real(p, "adam_beta2");
    c.epsilon = ts_point_real(p, "adam_epsilon");
    return c;
}
