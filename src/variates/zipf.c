/* Zipf over {1..d}, P(k) proportional to k^-s, s >= 0: Walker's alias table from GSL, or
 * rejection-inversion in O(1) memory. Both exact; see include/tailsweep/variates.h. */
#include "tailsweep/variates.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_randist.h>

#include "tailsweep/rng.h"

/* Draws per refill of the uniform buffer in the batched loops. */
enum { CHUNK = 512 };

/* Rejection-inversion constants (Hormann & Derflinger 1996, algorithm ZRI, with the hat integral
 * H(x) = (x^(1-s) - 1)/(1 - s), which has a limit at s = 1 and so covers every s >= 0; this is
 * the form Apache Commons uses). Hat h(x) = x^-s on [1/2, d + 1/2]. */
typedef struct {
    double s;
    double h_integral_x1; /* H(3/2) - h(1): the lower end of the inversion range */
    double h_integral_d;  /* H(d + 1/2): the upper end */
    double squeeze;       /* k - x <= squeeze accepts without evaluating the hat */
} rejection_inversion;

struct ts_zipf {
    size_t dim;
    double exponent;
    ts_zipf_method method;
    gsl_ran_discrete_t *table; /* TS_ZIPF_ALIAS */
    rejection_inversion ri;    /* TS_ZIPF_REJECTION */
};

/* ------------------------------------------------------------------ names */

const char *ts_zipf_method_name(ts_zipf_method method)
{
    switch (method) {
    case TS_ZIPF_ALIAS:
        return "alias";
    case TS_ZIPF_REJECTION:
        return "rejection";
    default:
        return "auto";
    }
}

int ts_zipf_method_parse(const char *name, ts_zipf_method *method, ts_error *err)
{
    static const ts_zipf_method all[] = {TS_ZIPF_AUTO, TS_ZIPF_ALIAS, TS_ZIPF_REJECTION};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (strcmp(name, ts_zipf_method_name(all[i])) == 0) {
            *method = all[i];
            return TS_OK;
        }
    return ts_error_set(err, TS_EUSAGE,
                        "unknown Zipf method '%s' (expected auto, alias or rejection)", name);
}

/* ------------------------------------------------------------------ rejection-inversion */

/* log(1 + x)/x and (exp(x) - 1)/x, continuous through x = 0 (where the quotient is 0/0); the
 * series branch keeps full precision for |x| < 1e-8. */
static double log1p_over_x(double x)
{
    return fabs(x) > 1e-8 ? log1p(x) / x : 1 - x * (0.5 - x * (1.0 / 3 - 0.25 * x));
}

static double expm1_over_x(double x)
{
    return fabs(x) > 1e-8 ? expm1(x) / x : 1 + x * 0.5 * (1 + x * (1.0 / 3) * (1 + 0.25 * x));
}

static double hat(double s, double x)
{
    return exp(-s * log(x));
}

static double hat_integral(double s, double x)
{
    double log_x = log(x);
    return expm1_over_x((1 - s) * log_x) * log_x;
}

static double hat_integral_inverse(double s, double y)
{
    double t = y * (1 - s);
    if (t < -1) /* rounding can push t below its bound -1 by an ulp */
        t = -1;
    return exp(log1p_over_x(t) * y);
}

static rejection_inversion rejection_inversion_of(size_t dim, double s)
{
    rejection_inversion ri;
    ri.s = s;
    ri.h_integral_x1 = hat_integral(s, 1.5) - 1;
    ri.h_integral_d = hat_integral(s, (double)dim + 0.5);
    ri.squeeze = 2 - hat_integral_inverse(s, hat_integral(s, 2.5) - hat(s, 2));
    return ri;
}

/* One attempt from a uniform u01 in [0, 1): returns the candidate k if accepted, 0 otherwise.
 * y is uniform on (H(3/2) - 1, H(d + 1/2)]; the hat's mass over [k - 1/2, k + 1/2] is at least
 * h(k) because x^-s is convex, and k = 1 (mass exactly h(1)) is always accepted. */
static size_t rejection_inversion_try(const rejection_inversion *ri, size_t dim, double u01)
{
    double y = ri->h_integral_d + u01 * (ri->h_integral_x1 - ri->h_integral_d);
    double x = hat_integral_inverse(ri->s, y);
    double k_real = floor(x + 0.5);
    size_t k = k_real < 1 ? 1 : k_real > (double)dim ? dim : (size_t)k_real;
    double kd = (double)k;
    if (kd - x <= ri->squeeze || y >= hat_integral(ri->s, kd + 0.5) - hat(ri->s, kd))
        return k;
    return 0;
}

/* ------------------------------------------------------------------ set-up */

/* gsl_ran_discrete_t holds one size_t alias and one double per outcome; SIZE_MAX when that
 * does not fit in a size_t. */
static size_t alias_table_bytes(size_t dim)
{
    const size_t per_word = sizeof(size_t) + sizeof(double);
    return dim > (SIZE_MAX - sizeof(gsl_ran_discrete_t)) / per_word
               ? SIZE_MAX
               : sizeof(gsl_ran_discrete_t) + dim * per_word;
}

static ts_zipf_method resolve_method(size_t dim, ts_zipf_method method)
{
    if (method != TS_ZIPF_AUTO)
        return method;
    return alias_table_bytes(dim) <= TS_ZIPF_ALIAS_MAX_BYTES ? TS_ZIPF_ALIAS : TS_ZIPF_REJECTION;
}

size_t ts_zipf_bytes(size_t dim, ts_zipf_method method)
{
    if (resolve_method(dim, method) == TS_ZIPF_REJECTION)
        return sizeof(ts_zipf);
    size_t table = alias_table_bytes(dim);
    return table == SIZE_MAX ? SIZE_MAX : sizeof(ts_zipf) + table;
}

/* gsl_ran_discrete_preproc normalises the weights itself. */
static gsl_ran_discrete_t *alias_table_new(size_t dim, double s)
{
    if (alias_table_bytes(dim) == SIZE_MAX)
        return NULL;
    double *weight = malloc(dim * sizeof *weight);
    if (weight == NULL)
        return NULL;
    for (size_t k = 0; k < dim; k++)
        weight[k] = s == 0 ? 1.0 : pow((double)(k + 1), -s);
    gsl_ran_discrete_t *table = gsl_ran_discrete_preproc(dim, weight);
    free(weight);
    return table;
}

ts_zipf *ts_zipf_alloc(size_t dim, double exponent, ts_zipf_method method, ts_error *err)
{
    if (dim == 0) {
        ts_error_set(err, TS_EUSAGE, "Zipf: dim = 0, expected >= 1");
        return NULL;
    }
    if (!(exponent >= 0 && isfinite(exponent))) {
        ts_error_set(err, TS_EUSAGE, "Zipf: exponent = %g, expected a finite value >= 0",
                     exponent);
        return NULL;
    }
    if (method != TS_ZIPF_AUTO && method != TS_ZIPF_ALIAS && method != TS_ZIPF_REJECTION) {
        ts_error_set(err, TS_EUSAGE, "Zipf: unknown method %d", (int)method);
        return NULL;
    }
    method = resolve_method(dim, method);

    ts_zipf *z = calloc(1, sizeof *z);
    if (z == NULL) {
        ts_error_set(err, TS_ERUNTIME, "Zipf: out of memory");
        return NULL;
    }
    z->dim = dim;
    z->exponent = exponent;
    z->method = method;
    if (method == TS_ZIPF_ALIAS) {
        z->table = alias_table_new(dim, exponent);
        if (z->table == NULL) {
            ts_error_set(err, TS_ERUNTIME,
                         "Zipf: out of memory for an alias table over %zu words (%zu bytes)",
                         dim, ts_zipf_bytes(dim, TS_ZIPF_ALIAS));
            free(z);
            return NULL;
        }
    } else {
        z->ri = rejection_inversion_of(dim, exponent);
    }
    return z;
}

void ts_zipf_free(ts_zipf *z)
{
    if (z == NULL)
        return;
    if (z->table != NULL)
        gsl_ran_discrete_free(z->table);
    free(z);
}

size_t ts_zipf_dim(const ts_zipf *z)
{
    return z->dim;
}

double ts_zipf_exponent(const ts_zipf *z)
{
    return z->exponent;
}

ts_zipf_method ts_zipf_method_used(const ts_zipf *z)
{
    return z->method;
}

/* ------------------------------------------------------------------ draws */

size_t ts_zipf_draw(const ts_zipf *z, gsl_rng *r)
{
    if (z->method == TS_ZIPF_ALIAS)
        return gsl_ran_discrete(r, z->table) + 1;
    for (;;) {
        size_t k = rejection_inversion_try(&z->ri, z->dim, gsl_rng_uniform(r));
        if (k != 0)
            return k;
    }
}

/* The lookup of gsl_ran_discrete (GSL 2.x, randist/discrete.c), which stores
 * F[c] = (c + f_c)/K (Knuth's convention) so that one uniform picks the column and flips its
 * coin. Inlined here to take uniforms from a batch instead of one gsl_rng call each, and
 * branch-free: the coin is unpredictable, and a mispredicted branch cost more than the draw
 * (10-20 ns vs 1 ns at d = 1000). GSL's extra test F[c] == 1.0 is implied by u < F[c] since
 * u < 1, and every A[c] is set by the preprocessing, so loading it unconditionally is safe.
 * The unit tests check this against gsl_ran_discrete draw for draw. u * K < K <= SIZE_MAX/16,
 * so the signed conversion (one instruction, unlike the unsigned one) is exact. */
static inline size_t alias_lookup(const gsl_ran_discrete_t *g, double u)
{
    size_t c = (size_t)(int64_t)(u * (double)g->K);
    size_t alias = g->A[c];
    return u < g->F[c] ? c : alias;
}

static void alias_fill(const ts_zipf *z, gsl_rng *r, size_t *k, size_t n)
{
    double u[CHUNK];
    while (n > 0) {
        size_t m = n < CHUNK ? n : CHUNK;
        ts_rng_fill_uniform_pos(r, u, m);
        for (size_t i = 0; i < m; i++)
            k[i] = alias_lookup(z->table, u[i]) + 1;
        k += m;
        n -= m;
    }
}

/* Attempts take uniforms from a buffer refilled with at most as many words as draws remain, so
 * that no word is drawn and then discarded: the draws are a function of the stream position
 * alone, however the caller splits its fills. */
static void rejection_fill(const ts_zipf *z, gsl_rng *r, size_t *k, size_t n)
{
    double u[CHUNK];
    size_t filled = 0, used = 0;
    for (size_t i = 0; i < n;) {
        if (used == filled) {
            filled = n - i < CHUNK ? n - i : CHUNK;
            used = 0;
            ts_rng_fill_uniform_pos(r, u, filled);
        }
        size_t candidate = rejection_inversion_try(&z->ri, z->dim, u[used++]);
        if (candidate != 0)
            k[i++] = candidate;
    }
}

void ts_zipf_fill(const ts_zipf *z, gsl_rng *r, size_t *k, size_t n)
{
    if (z->method == TS_ZIPF_ALIAS)
        alias_fill(z, r, k, n);
    else
        rejection_fill(z, r, k, n);
}

size_t ts_zipf_draw_row(const ts_zipf *z, gsl_rng *r, const size_t *rho)
{
    return rho[ts_zipf_draw(z, r) - 1];
}

void ts_zipf_fill_row(const ts_zipf *z, gsl_rng *r, const size_t *rho, size_t *j, size_t n)
{
    ts_zipf_fill(z, r, j, n);
    for (size_t i = 0; i < n; i++)
        j[i] = rho[j[i] - 1];
}
