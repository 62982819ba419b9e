/* Random variates the experiments draw millions of times per point: alpha-stable Levy noise
 * (scalar and d-dimensional) and Zipf-distributed tokens. docs/experiments.md section 8, issue 3.
 *
 * Every sampler comes in two forms that draw from the same law:
 *   - per call (`_draw`): built on GSL's samplers, the correctness reference;
 *   - batched (`_fill`, n variates into the caller's array): the fast path experiments use.
 * The two forms consume the stream differently, so they give different (equally distributed)
 * draws. A batched fill is a function of the stream position alone: fill(a) then fill(b) gives
 * the same values as fill(a + b) (for ts_gaussian_fill when a is even; for ts_levy_vec_fill a and
 * b count vectors). Fills never allocate. Draws from `gsl_rng *r` work with any GSL generator;
 * tailsweep's per-point streams are ts_rng_philox (rng.h).
 *
 * Bit-for-bit note: the batched alpha-stable and Gaussian fills use glibc's vector math (libmvec)
 * on x86-64, in an AVX-512 variant when the CPU has it, else AVX2+FMA, else SSE2; the variants
 * may differ in the last bits (the uniforms under them never do: rng.h), so a sweep that must be bit-identical across nodes should run on
 * nodes that agree on ts_levy_fill_isa(). */
#ifndef TAILSWEEP_VARIATES_H
#define TAILSWEEP_VARIATES_H

#include <stddef.h>
#include <gsl/gsl_rng.h>
#include "tailsweep/error.h"

/* ------------------------------------------------------------------ alpha-stable laws
 *
 * Parameterizations (Nolan, "Univariate Stable Distributions", Springer 2020, section 1.3),
 * log E exp(itX) with a = alpha, b = beta, for alpha != 1:
 *   S1: -|ct|^a [1 - i b sgn(t) tan(pi a/2)]                  + i mu t
 *   S0: -|ct|^a [1 + i b sgn(t) tan(pi a/2) (|ct|^(1-a) - 1)] + i mu t
 * and for alpha = 1:
 *   S1: -c|t| [1 + i b (2/pi) sgn(t) log|t|]                  + i mu t
 *   S0: -c|t| [1 + i b (2/pi) sgn(t) log(c|t|)]               + i mu t
 * S1 is GSL's gsl_ran_levy_skew (at mu = 0) and jumps at alpha = 1 when beta != 0; S0 is
 * continuous in alpha (sweeps may cross alpha = 1) and is a location-scale family. A sample of
 * S0(alpha, beta, c, mu) is a sample of S1(alpha, beta, c, mu - beta c tan(pi alpha/2)) for
 * alpha != 1, of S1(1, beta, c, mu - beta (2/pi) c log c) for alpha = 1. For beta = 0 they agree.
 *
 * Scale convention: E exp(itX) = exp(-|ct|^alpha) when beta = 0, mu = 0. So alpha = 2 is the
 * Gaussian with variance 2 c^2 (standard deviation sqrt(2) c), not c^2; alpha = 1, beta = 0 is
 * the Cauchy law with half-width c; alpha = 1/2, beta = 1 in S1 is the Levy law with scale c.
 *
 * Accuracy: S0 near alpha = 1 with beta != 0 is drawn as an S1 variate minus its
 * beta c tan(pi alpha/2) shift, which loses about log10(1/|alpha - 1|) digits to cancellation
 * (an absolute error near 1e-16 c / |alpha - 1|). For very small alpha, draws may overflow to
 * +-inf: the law really puts that much mass beyond 1e308. */

typedef enum ts_levy_param {
    TS_LEVY_S0 = 0, /* Nolan's S0: continuous in alpha; the default */
    TS_LEVY_S1 = 1  /* Nolan's S1: GSL's parameterization */
} ts_levy_param;

/* "S0" or "S1". */
const char *ts_levy_param_name(ts_levy_param param);
/* Parse "S0"/"S1" (also "0"/"1"); TS_EUSAGE with a message naming the valid values otherwise. */
int ts_levy_param_parse(const char *name, ts_levy_param *param, ts_error *err);

/* One alpha-stable law, set up once by ts_levy_init (which checks the ranges) and then shared
 * read-only: it owns no memory. The fields after `param` are derived constants. */
typedef struct ts_levy {
    double alpha;        /* stability index, (0, 2] */
    double beta;         /* skewness, [-1, 1] */
    double scale;        /* c > 0 (see the scale convention above) */
    double loc;          /* mu, in the chosen parameterization */
    ts_levy_param param;
    double gsl_shift;    /* added to gsl_ran_levy_skew(r, c, alpha, beta) */
    double cms_shift;    /* added to c times a standard S1 Chambers-Mallows-Stuck variate */
    double cms_alpha_b;  /* alpha B(alpha, beta) of the CMS formula (Weron 1996) */
    double cms_log_s;    /* log S(alpha, beta) of the CMS formula */
} ts_levy;

/* TS_EUSAGE (with a message naming the parameter) for alpha outside (0, 2], beta outside
 * [-1, 1], c <= 0 or any non-finite value. */
int ts_levy_init(ts_levy *law, double alpha, double beta, double scale, double loc,
                 ts_levy_param param, ts_error *err);

/* One variate via gsl_ran_levy / gsl_ran_levy_skew plus the parameterization's shift. */
double ts_levy_draw(const ts_levy *law, gsl_rng *r);

/* n variates by a vectorised Chambers-Mallows-Stuck loop; two stream words per variate. */
void ts_levy_fill(const ts_levy *law, gsl_rng *r, double *x, size_t n);

/* Which vector-math path ts_levy_fill and ts_gaussian_fill take on this CPU: "avx512", "avx2",
 * "sse2" or "scalar" (ts_cpu_vector_path). Record it with results that must be compared bit for bit across machines. */
const char *ts_levy_fill_isa(void);

/* ------------------------------------------------------------------ multivariate noise */

typedef enum ts_levy_noise {
    /* Rotation-invariant: L = c sqrt(phi) G, G ~ N(0, I_d), phi a positive (alpha/2)-stable
     * variate, S1(alpha/2, 1, 2 cos(pi alpha/4)^(2/alpha), 0), so that
     * E exp(i <u, L>) = exp(-||c u||^alpha) (Samorodnitsky & Taqqu 1994, Prop. 2.5.2: a
     * sub-Gaussian stable vector). At alpha = 2, phi = 2 and L ~ N(0, 2 c^2 I). */
    TS_LEVY_ISOTROPIC = 0,
    /* Independent symmetric coordinates: E exp(i <u, L>) = exp(-c^alpha sum_k |u_k|^alpha). */
    TS_LEVY_COORDINATE = 1
} ts_levy_noise;

/* "isotropic" or "coordinate". */
const char *ts_levy_noise_name(ts_levy_noise noise);
int ts_levy_noise_parse(const char *name, ts_levy_noise *noise, ts_error *err);

/* A d-dimensional symmetric alpha-stable law; owns no memory. */
typedef struct ts_levy_vec {
    ts_levy_noise noise;
    size_t dim;
    double alpha, scale;
    ts_levy coordinate;  /* TS_LEVY_COORDINATE: S0(alpha, 0, c, 0) */
    ts_levy mixing;      /* TS_LEVY_ISOTROPIC, alpha < 2: the law of phi */
} ts_levy_vec;

/* TS_EUSAGE for alpha outside (0, 2], c <= 0, dim = 0. */
int ts_levy_vec_init(ts_levy_vec *law, ts_levy_noise noise, double alpha, double scale,
                     size_t dim, ts_error *err);

/* One vector x[0 .. dim-1], per call through GSL. */
void ts_levy_vec_draw(const ts_levy_vec *law, gsl_rng *r, double *x);

/* n vectors, row-major: x[i * dim + k] is coordinate k of vector i. */
void ts_levy_vec_fill(const ts_levy_vec *law, gsl_rng *r, double *x, size_t n);

/* n independent N(0, sigma^2) variates (Box-Muller, vectorised): the Gaussian batch the
 * isotropic noise is built on, exposed for experiments that need Gaussian data. */
void ts_gaussian_fill(gsl_rng *r, double sigma, double *x, size_t n);

/* ------------------------------------------------------------------ Zipf over {1..d}
 *
 * P(k) = k^-s / H(d, s), H(d, s) = sum_{j<=d} j^-s, for any exponent s >= 0 (s = 0: uniform).
 * Two exact methods:
 *   - alias: Walker's alias table (gsl_ran_discrete): O(1) per draw, 16 bytes per word of
 *     vocabulary, O(d) set-up;
 *   - rejection: rejection-inversion (Hormann & Derflinger 1996, ACM TOMACS 6(3) 169-184, in
 *     the form valid for every s >= 0): O(1) memory and set-up, a few transcendentals per draw.
 * TS_ZIPF_AUTO takes the alias table while it needs at most TS_ZIPF_ALIAS_MAX_BYTES. */

#define TS_ZIPF_ALIAS_MAX_BYTES ((size_t)64 << 20)

typedef enum ts_zipf_method {
    TS_ZIPF_AUTO = 0,
    TS_ZIPF_ALIAS = 1,
    TS_ZIPF_REJECTION = 2
} ts_zipf_method;

/* "auto", "alias", "rejection". */
const char *ts_zipf_method_name(ts_zipf_method method);
int ts_zipf_method_parse(const char *name, ts_zipf_method *method, ts_error *err);

typedef struct ts_zipf ts_zipf;

/* TS_EUSAGE for dim = 0 or a negative / non-finite exponent; TS_ERUNTIME when out of memory.
 * Returns NULL on error. */
ts_zipf *ts_zipf_alloc(size_t dim, double exponent, ts_zipf_method method, ts_error *err);
void ts_zipf_free(ts_zipf *z);

size_t ts_zipf_dim(const ts_zipf *z);
double ts_zipf_exponent(const ts_zipf *z);
/* The method chosen (never TS_ZIPF_AUTO). */
ts_zipf_method ts_zipf_method_used(const ts_zipf *z);
/* Bytes the sampler holds (the alias table, or the small fixed struct). */
size_t ts_zipf_bytes(size_t dim, ts_zipf_method method);

/* One draw in 1..dim: gsl_ran_discrete for the alias table. */
size_t ts_zipf_draw(const ts_zipf *z, gsl_rng *r);
/* n draws in 1..dim into k: one stream word per draw for the alias table. */
void ts_zipf_fill(const ts_zipf *z, gsl_rng *r, size_t *k, size_t n);

/* A row of conditionals (Kunstner & Bach's bigram model, docs/experiments.md section 1.1): given a
 * permutation rho of {1..dim}, stored as rho[0 .. dim-1] (rho[k-1] = rho(k)), draw j with
 * P(j = rho(k)) = P(k). The caller owns rho and keeps it valid; it is not checked. */
size_t ts_zipf_draw_row(const ts_zipf *z, gsl_rng *r, const size_t *rho);
void ts_zipf_fill_row(const ts_zipf *z, gsl_rng *r, const size_t *rho, size_t *j, size_t n);

#endif
