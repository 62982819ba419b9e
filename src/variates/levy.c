/* alpha-stable variates: GSL's per-call samplers (the reference) and a batched
 * Chambers-Mallows-Stuck loop that gcc vectorises (the fast path). Parameterizations and the
 * scale convention are stated in include/tailsweep/variates.h. */
#include "tailsweep/variates.h"

#include <float.h>
#include <math.h>
#include <string.h>
#include <strings.h>

#include <gsl/gsl_math.h> /* M_PI, M_PI_2, M_2_PI without _DEFAULT_SOURCE */
#include <gsl/gsl_randist.h>

#include "tailsweep/cpu.h"
#include "tailsweep/rng.h"

/* ------------------------------------------------------------------ vector math
 *
 * glibc's libmvec holds SIMD versions of sin, cos, log and exp, but gcc only calls them when the
 * functions are declared `simd` and cannot set errno, which math.h declares only under
 * -ffast-math. Rather than change the build flags for the whole library (-ffast-math also slows
 * the memory-bound loops, measured here), these aliases declare exactly that for the loops below:
 * same symbols, errno ignored (we never read it). The loops run over a compile-time count, so
 * gcc's -O2 cost model vectorises them, and the AVX2+FMA copy is chosen at run time. */
#if TS_CPU_LIBMVEC
#define TS_LIBMVEC 1
#define TS_VECTOR_MATH(name) \
    double vec_##name(double) __asm__(#name) __attribute__((const, nothrow, simd("notinbranch")))
TS_VECTOR_MATH(sin);
TS_VECTOR_MATH(cos);
TS_VECTOR_MATH(log);
TS_VECTOR_MATH(exp);
#define TS_INLINE static inline __attribute__((always_inline))
#else
#define TS_LIBMVEC 0
#define vec_sin sin
#define vec_cos cos
#define vec_log log
#define vec_exp exp
#define TS_INLINE static inline
#endif

/* Variates per vectorised chunk: 2 x 256 uniforms and 256 results stay in L1. */
enum { CHUNK = 256 };

/* ------------------------------------------------------------------ names */

const char *ts_levy_param_name(ts_levy_param param)
{
    return param == TS_LEVY_S1 ? "S1" : "S0";
}

int ts_levy_param_parse(const char *name, ts_levy_param *param, ts_error *err)
{
    if (strcasecmp(name, "S0") == 0 || strcmp(name, "0") == 0)
        *param = TS_LEVY_S0;
    else if (strcasecmp(name, "S1") == 0 || strcmp(name, "1") == 0)
        *param = TS_LEVY_S1;
    else
        return ts_error_set(err, TS_EUSAGE,
                            "unknown alpha-stable parameterization '%s' (expected S0 or S1)",
                            name);
    return TS_OK;
}

const char *ts_levy_noise_name(ts_levy_noise noise)
{
    return noise == TS_LEVY_COORDINATE ? "coordinate" : "isotropic";
}

int ts_levy_noise_parse(const char *name, ts_levy_noise *noise, ts_error *err)
{
    if (strcmp(name, "isotropic") == 0)
        *noise = TS_LEVY_ISOTROPIC;
    else if (strcmp(name, "coordinate") == 0)
        *noise = TS_LEVY_COORDINATE;
    else
        return ts_error_set(err, TS_EUSAGE,
                            "unknown noise '%s' (expected isotropic or coordinate)", name);
    return TS_OK;
}

/* ------------------------------------------------------------------ set-up */

static int check_alpha_scale(double alpha, double scale, ts_error *err)
{
    if (!(alpha > 0 && alpha <= 2))
        return ts_error_set(err, TS_EUSAGE, "alpha-stable: alpha = %g, expected 0 < alpha <= 2",
                            alpha);
    if (!(scale > 0 && isfinite(scale)))
        return ts_error_set(err, TS_EUSAGE, "alpha-stable: scale = %g, expected a finite c > 0",
                            scale);
    return TS_OK;
}

/* tan(pi alpha/2), exactly 0 at alpha = 2 where floating point gives -1.2e-16: the Gaussian
 * has no skewness, and S0 and S1 must coincide there. */
static double tan_half_pi_alpha(double alpha)
{
    return alpha == 2 ? 0.0 : tan(M_PI_2 * alpha);
}

int ts_levy_init(ts_levy *law, double alpha, double beta, double scale, double loc,
                 ts_levy_param param, ts_error *err)
{
    int status = check_alpha_scale(alpha, scale, err);
    if (status != TS_OK)
        return status;
    if (!(beta >= -1 && beta <= 1))
        return ts_error_set(err, TS_EUSAGE, "alpha-stable: beta = %g, expected -1 <= beta <= 1",
                            beta);
    if (!isfinite(loc))
        return ts_error_set(err, TS_EUSAGE, "alpha-stable: location = %g, expected finite", loc);
    if (param != TS_LEVY_S0 && param != TS_LEVY_S1)
        return ts_error_set(err, TS_EUSAGE, "alpha-stable: unknown parameterization %d",
                            (int)param);

    memset(law, 0, sizeof *law);
    law->alpha = alpha;
    law->beta = beta;
    law->scale = scale;
    law->loc = loc;
    law->param = param;

    /* GSL draws S1(alpha, beta, c, 0). Nolan (2020, section 1.3): S0 location = S1 location
     * + beta c tan(pi alpha/2) (alpha != 1), + beta (2/pi) c log c (alpha = 1); so an S0 draw is
     * an S1 draw minus that, at alpha = 1 as well (GSL's alpha = 1 branch already adds
     * beta (2/pi) c log c to c Z1, and S0 takes it off again). The unit tests check both signs
     * against the characteristic functions with c != 1. */
    double s0_minus_s1;
    if (alpha == 1) {
        s0_minus_s1 = beta * M_2_PI * scale * log(scale);
        /* c Z1 with Z1 ~ S1(1, beta, 1, 0) is S1(1, beta, c, -beta (2/pi) c log c) (Nolan
         * 2020, section 1.3), so the standard CMS variate times c is already S0(1, beta, c, 0). */
        law->cms_shift = param == TS_LEVY_S0 ? loc : loc + s0_minus_s1;
    } else {
        s0_minus_s1 = beta * scale * tan_half_pi_alpha(alpha);
        law->cms_shift = param == TS_LEVY_S0 ? loc - s0_minus_s1 : loc;
        /* Weron (1996), Statist. Probab. Lett. 28:165-171: B = arctan(beta tan(pi alpha/2))
         * / alpha and S = (1 + beta^2 tan^2(pi alpha/2))^(1/(2 alpha)). */
        double t = beta * tan_half_pi_alpha(alpha);
        law->cms_alpha_b = atan(t);
        law->cms_log_s = log1p(t * t) / (2 * alpha);
    }
    law->gsl_shift = param == TS_LEVY_S0 ? loc - s0_minus_s1 : loc;
    return TS_OK;
}

/* ------------------------------------------------------------------ per call (GSL) */

double ts_levy_draw(const ts_levy *law, gsl_rng *r)
{
    return gsl_ran_levy_skew(r, law->scale, law->alpha, law->beta) + law->gsl_shift;
}

/* ------------------------------------------------------------------ batched CMS
 *
 * Chambers, Mallows & Stuck (1976) in Weron's (1996) form for S1(alpha, beta, 1, 0), from
 * V = pi (U1 - 1/2) uniform on (-pi/2, pi/2) and W = -log U2 exponential:
 *   alpha != 1: X = S sin(alpha (V + B)) / cos(V)^(1/alpha)
 *                   * (cos(V - alpha (V + B)) / W)^((1 - alpha)/alpha)
 *   alpha = 1:  X = (2/pi) [(pi/2 + beta V) tan V - beta log((pi/2) W cos V / (pi/2 + beta V))]
 * The powers are taken as exp of sums of logs so that the loop needs only sin, cos, log, exp.
 * The at_least guards keep log's argument positive where rounding at V = +-pi/2 could make a
 * cosine 0 or negative (the exact value is positive on the open interval). */

/* max(x, lo) as one vector instruction: fmax is a libm call for gcc unless NaNs and signed zeros
 * are ruled out, which would stop the loops from vectorising. */
TS_INLINE double at_least(double x, double lo)
{
    return x > lo ? x : lo;
}

TS_INLINE void cms_body(const ts_levy *law, const double *restrict u, double *restrict x,
                        size_t count)
{
    const double alpha = law->alpha, beta = law->beta, c = law->scale, shift = law->cms_shift;
    if (alpha == 1) {
        for (size_t i = 0; i < count; i++) {
            double v = M_PI * (u[2 * i] - 0.5);
            double w = -vec_log(u[2 * i + 1]);
            double cos_v = at_least(vec_cos(v), DBL_MIN);
            double p = at_least(M_PI_2 + beta * v, DBL_MIN);
            double z = (p * vec_sin(v) / cos_v - beta * vec_log(M_PI_2 * w * cos_v / p)) * M_2_PI;
            x[i] = c * z + shift;
        }
        return;
    }
    const double alpha_b = law->cms_alpha_b, log_s = law->cms_log_s;
    const double inv_alpha = 1 / alpha, power = (1 - alpha) / alpha;
    for (size_t i = 0; i < count; i++) {
        double v = M_PI * (u[2 * i] - 0.5);
        double w = -vec_log(u[2 * i + 1]);
        double a = alpha * v + alpha_b; /* alpha (V + B) */
        double log_cos_v = vec_log(at_least(vec_cos(v), DBL_MIN));
        double log_cos_rest = vec_log(at_least(vec_cos(v - a), DBL_MIN));
        double log_mag = log_s - inv_alpha * log_cos_v + power * (log_cos_rest - vec_log(w));
        x[i] = c * (vec_sin(a) * vec_exp(log_mag)) + shift;
    }
}

/* Box-Muller: (sqrt(-2 log U1) cos(2 pi U2), sqrt(-2 log U1) sin(2 pi U2)) are independent
 * N(0, 1), exactly, one uniform per variate (so a fill's stream use is known in advance and a
 * split fill gives the same values). GSL has no batched Gaussian; this is the form that
 * vectorises (no rejection, unlike a ziggurat). sqrt vectorises because the build has
 * -fno-math-errno; it is correctly rounded, unlike the exp(log(.)/2) this loop used before
 * tailsweep 0.2 (values differ from that in the last bits). With U1 >= 2^-53 the largest |z| is
 * sqrt(106 log 2) = 8.57: P(|Z| > 8.57) = 1e-17, never reached in any sweep. */
TS_INLINE void box_muller_chunk_body(const double *restrict u, double *restrict g)
{
    for (size_t i = 0; i < CHUNK; i++) {
        double radius = sqrt(-2 * vec_log(u[2 * i]));
        double angle = 2 * M_PI * u[2 * i + 1];
        g[2 * i] = radius * vec_cos(angle);
        g[2 * i + 1] = radius * vec_sin(angle);
    }
}

#if TS_LIBMVEC
/* The same loops for AVX-512 (eight lanes, libmvec's _ZGVeN8v_ functions) and AVX2 + FMA (four
 * lanes, _ZGVdN4v_). */
TS_TARGET_AVX512 static void cms_chunk_avx512(const ts_levy *law, const double *restrict u,
                                              double *restrict x)
{
    cms_body(law, u, x, CHUNK);
}

TS_TARGET_AVX512 static void box_muller_chunk_avx512(const double *restrict u, double *restrict g)
{
    box_muller_chunk_body(u, g);
}

TS_TARGET_AVX2 static void cms_chunk_avx2(const ts_levy *law, const double *restrict u,
                                          double *restrict x)
{
    cms_body(law, u, x, CHUNK);
}

TS_TARGET_AVX2 static void box_muller_chunk_avx2(const double *restrict u, double *restrict g)
{
    box_muller_chunk_body(u, g);
}
#endif

static void cms_chunk_default(const ts_levy *law, const double *restrict u, double *restrict x)
{
    cms_body(law, u, x, CHUNK);
}

/* One variate from u[0], u[1], for the callers that need a single one (scalar libm). */
static double cms_one(const ts_levy *law, const double *u)
{
    double x;
    cms_body(law, u, &x, 1);
    return x;
}

static void box_muller_chunk_default(const double *restrict u, double *restrict g)
{
    box_muller_chunk_body(u, g);
}

/* x[0 .. CHUNK-1] from u[0 .. 2 CHUNK-1]. */
static void cms_chunk(const ts_levy *law, const double *u, double *x)
{
#if TS_LIBMVEC
    if (ts_cpu_has_avx512()) {
        cms_chunk_avx512(law, u, x);
        return;
    }
    if (ts_cpu_has_avx2()) {
        cms_chunk_avx2(law, u, x);
        return;
    }
#endif
    cms_chunk_default(law, u, x);
}

/* g[0 .. 2 CHUNK-1] from u[0 .. 2 CHUNK-1]. */
static void box_muller_chunk(const double *u, double *g)
{
#if TS_LIBMVEC
    if (ts_cpu_has_avx512()) {
        box_muller_chunk_avx512(u, g);
        return;
    }
    if (ts_cpu_has_avx2()) {
        box_muller_chunk_avx2(u, g);
        return;
    }
#endif
    box_muller_chunk_default(u, g);
}

const char *ts_levy_fill_isa(void)
{
    return ts_cpu_vector_path();
}

/* Unused lanes of a partial chunk get a harmless uniform, so that no lane reads uninitialised
 * memory; lanes are independent, so a value never depends on how a fill was split. */
static void pad_uniforms(double *u, size_t used, size_t capacity)
{
    for (size_t i = used; i < capacity; i++)
        u[i] = 0.5;
}

void ts_levy_fill(const ts_levy *law, gsl_rng *r, double *x, size_t n)
{
    double u[2 * CHUNK], out[CHUNK];
    while (n > 0) {
        size_t m = n < CHUNK ? n : CHUNK;
        ts_rng_fill_uniform_pos(r, u, 2 * m);
        pad_uniforms(u, 2 * m, 2 * CHUNK);
        cms_chunk(law, u, out);
        memcpy(x, out, m * sizeof *x);
        x += m;
        n -= m;
    }
}

void ts_gaussian_fill(gsl_rng *r, double sigma, double *x, size_t n)
{
    double u[2 * CHUNK], g[2 * CHUNK];
    while (n > 0) {
        size_t m = n < 2 * CHUNK ? n : 2 * CHUNK;
        size_t words = m + (m & 1); /* two words per pair of variates */
        ts_rng_fill_uniform_pos(r, u, words);
        pad_uniforms(u, words, 2 * CHUNK);
        box_muller_chunk(u, g);
        for (size_t i = 0; i < m; i++)
            x[i] = sigma * g[i];
        x += m;
        n -= m;
    }
}

/* ------------------------------------------------------------------ multivariate */

int ts_levy_vec_init(ts_levy_vec *law, ts_levy_noise noise, double alpha, double scale,
                     size_t dim, ts_error *err)
{
    int status = check_alpha_scale(alpha, scale, err);
    if (status != TS_OK)
        return status;
    if (dim == 0)
        return ts_error_set(err, TS_EUSAGE, "alpha-stable noise: dim = 0, expected >= 1");
    if (noise != TS_LEVY_ISOTROPIC && noise != TS_LEVY_COORDINATE)
        return ts_error_set(err, TS_EUSAGE, "alpha-stable noise: unknown kind %d", (int)noise);
    memset(law, 0, sizeof *law);
    law->noise = noise;
    law->dim = dim;
    law->alpha = alpha;
    law->scale = scale;
    status = ts_levy_init(&law->coordinate, alpha, 0, scale, 0, TS_LEVY_S0, err);
    if (status == TS_OK && alpha < 2) {
        /* Samorodnitsky & Taqqu (1994), Prop. 2.5.2 with G ~ N(0, 2I): phi/2 ~
         * S1(alpha/2, 1, cos(pi alpha/4)^(2/alpha), 0) gives E exp(i<u, L>) = exp(-||u||^alpha);
         * we fold the 2 into phi so that G is standard. */
        double mixing_scale = 2 * pow(cos(M_PI * alpha / 4), 2 / alpha);
        status = ts_levy_init(&law->mixing, alpha / 2, 1, mixing_scale, 0, TS_LEVY_S1, err);
    }
    return status;
}

/* phi is positive in exact arithmetic (a totally skewed law with alpha/2 < 1 lives on
 * [0, inf)); rounding in the CMS formula can give -0 or a tiny negative, which sqrt would turn
 * into NaN. */
static double mixing_radius(const ts_levy_vec *law, double phi)
{
    return law->scale * sqrt(fmax(phi, 0));
}

void ts_levy_vec_draw(const ts_levy_vec *law, gsl_rng *r, double *x)
{
    if (law->noise == TS_LEVY_COORDINATE) {
        for (size_t k = 0; k < law->dim; k++)
            x[k] = ts_levy_draw(&law->coordinate, r);
        return;
    }
    double phi = law->alpha < 2 ? ts_levy_draw(&law->mixing, r) : 2.0;
    double radius = mixing_radius(law, phi);
    for (size_t k = 0; k < law->dim; k++)
        x[k] = radius * gsl_ran_gaussian(r, 1.0);
}

/* Stream layout of one isotropic vector, whatever the batching: two words for phi (none at
 * alpha = 2), then two words per pair of Gaussian coordinates (an odd dim drops the last
 * pair's second Gaussian). So each vector is a function of its position in the stream. */
typedef struct {
    size_t phi_words, gauss_words, words;
} iso_layout;

static iso_layout iso_layout_of(const ts_levy_vec *law)
{
    iso_layout l;
    l.phi_words = law->alpha < 2 ? 2 : 0;
    l.gauss_words = law->dim + (law->dim & 1);
    l.words = l.phi_words + l.gauss_words;
    return l;
}

/* Small vectors: whole vectors per chunk, phi for all of them in one CMS chunk and their
 * Gaussians in one Box-Muller chunk. Requires layout.words <= 2 CHUNK. */
static size_t iso_fill_group(const ts_levy_vec *law, iso_layout layout, gsl_rng *r, double *x,
                             size_t n)
{
    double u[2 * CHUNK], phi_u[2 * CHUNK], gauss_u[2 * CHUNK], phi[CHUNK], g[2 * CHUNK];
    size_t m = 2 * CHUNK / layout.words;
    if (m > n)
        m = n;
    ts_rng_fill_uniform_pos(r, u, m * layout.words);
    for (size_t j = 0; j < m; j++) {
        const double *vec_u = u + j * layout.words;
        memcpy(phi_u + j * layout.phi_words, vec_u, layout.phi_words * sizeof *u);
        memcpy(gauss_u + j * layout.gauss_words, vec_u + layout.phi_words,
               layout.gauss_words * sizeof *u);
    }
    if (layout.phi_words > 0) {
        pad_uniforms(phi_u, m * layout.phi_words, 2 * CHUNK);
        cms_chunk(&law->mixing, phi_u, phi);
    }
    pad_uniforms(gauss_u, m * layout.gauss_words, 2 * CHUNK);
    box_muller_chunk(gauss_u, g);
    for (size_t j = 0; j < m; j++) {
        double radius = mixing_radius(law, layout.phi_words > 0 ? phi[j] : 2.0);
        for (size_t k = 0; k < law->dim; k++)
            x[j * law->dim + k] = radius * g[j * layout.gauss_words + k];
    }
    return m;
}

/* Large vectors: one at a time, phi by one scalar CMS step, Gaussians in chunks. */
static void iso_fill_one(const ts_levy_vec *law, iso_layout layout, gsl_rng *r, double *x)
{
    double u[2 * CHUNK], g[2 * CHUNK];
    double phi_value = 2.0;
    if (layout.phi_words > 0) {
        ts_rng_fill_uniform_pos(r, u, 2);
        phi_value = cms_one(&law->mixing, u);
    }
    double radius = mixing_radius(law, phi_value);
    for (size_t k = 0; k < law->dim; k += 2 * CHUNK) {
        size_t m = law->dim - k < 2 * CHUNK ? law->dim - k : 2 * CHUNK;
        size_t words = m + (m & 1);
        ts_rng_fill_uniform_pos(r, u, words);
        pad_uniforms(u, words, 2 * CHUNK);
        box_muller_chunk(u, g);
        for (size_t i = 0; i < m; i++)
            x[k + i] = radius * g[i];
    }
}

void ts_levy_vec_fill(const ts_levy_vec *law, gsl_rng *r, double *x, size_t n)
{
    if (law->noise == TS_LEVY_COORDINATE) {
        ts_levy_fill(&law->coordinate, r, x, n * law->dim);
        return;
    }
    iso_layout layout = iso_layout_of(law);
    if (layout.words <= 2 * CHUNK) {
        while (n > 0) {
            size_t m = iso_fill_group(law, layout, r, x, n);
            x += m * law->dim;
            n -= m;
        }
        return;
    }
    for (size_t i = 0; i < n; i++)
        iso_fill_one(law, layout, r, x + i * law->dim);
}
