/* The bigram experiment's vector math: sums of exp over long arrays, which the GD closed form
 * (bigram_gd.c) and the softmax of the cross-entropy modes spend their time in.
 *
 * glibc's libmvec has SIMD exp, but gcc calls it only for functions declared `simd` that cannot
 * set errno (math.h says so only under -ffast-math, which slows the memory-bound loops,
 * as measured here). As in levy.c, an alias declares exactly that for the loops below, which run
 * over a compile-time count so that -O2 vectorises them, in AVX2+FMA (and, for the weighted sum,
 * AVX-512) copies chosen at run time. The copies may differ in the last bits (see the note in
 * variates.h). */
#include <math.h>
#include <string.h>

#include "bigram.h"

#if TS_CPU_LIBMVEC
#define BG_LIBMVEC 1
double bg_vec_exp(double) __asm__("exp") __attribute__((const, nothrow, simd("notinbranch")));
#else
#define BG_LIBMVEC 0
#define bg_vec_exp exp
#endif

enum { CHUNK = TS_BIGRAM_CHUNK };

TS_BIGRAM_INLINE double weighted_exp_chunk(const double *restrict w, const double *restrict x,
                                           double scale)
{
    double e[CHUNK];
    for (size_t k = 0; k < CHUNK; k++) e[k] = w[k] * bg_vec_exp(scale * x[k]);
    return ts_bigram_chunk_sum(e);
}

TS_BIGRAM_INLINE double exp_shifted_chunk(const double *restrict x, double shift,
                                          double *restrict out)
{
    for (size_t k = 0; k < CHUNK; k++) out[k] = bg_vec_exp(x[k] - shift);
    return ts_bigram_chunk_sum(out);
}

/* The last partial chunk is padded with w = 0. */
TS_BIGRAM_INLINE double weighted_exp_sum_body(const double *w, const double *x, double scale,
                                              size_t n)
{
    double sum = 0;
    size_t k = 0;
    for (; k + CHUNK <= n; k += CHUNK) sum += weighted_exp_chunk(w + k, x + k, scale);
    if (k < n) {
        double wt[CHUNK] = {0}, xt[CHUNK] = {0};
        memcpy(wt, w + k, (n - k) * sizeof *wt);
        memcpy(xt, x + k, (n - k) * sizeof *xt);
        sum += weighted_exp_chunk(wt, xt, scale);
    }
    return sum;
}

TS_BIGRAM_INLINE double exp_shifted_body(const double *x, double shift, double *out, size_t n)
{
    double sum = 0;
    size_t k = 0;
    for (; k + CHUNK <= n; k += CHUNK) {
        double tmp[CHUNK];
        sum += exp_shifted_chunk(x + k, shift, tmp);
        memcpy(out + k, tmp, sizeof tmp);
    }
    if (k < n) {
        double xt[CHUNK], tmp[CHUNK];
        for (size_t l = 0; l < CHUNK; l++) xt[l] = k + l < n ? x[k + l] : -INFINITY;
        sum += exp_shifted_chunk(xt, shift, tmp);
        memcpy(out + k, tmp, (n - k) * sizeof *tmp);
    }
    return sum;
}

#if BG_LIBMVEC
TS_BIGRAM_AVX2_TARGET static double weighted_exp_sum_avx2(const double *w, const double *x,
                                                          double scale, size_t n)
{
    return weighted_exp_sum_body(w, x, scale, n);
}

TS_BIGRAM_AVX2_TARGET static double exp_shifted_avx2(const double *x, double shift, double *out,
                                                     size_t n)
{
    return exp_shifted_body(x, shift, out, n);
}

/* 8 lanes of exp instead of 4: 0.67 instead of 1.0 ns per term at d = 10^6 here */
TS_TARGET_AVX512 static double weighted_exp_sum_avx512(const double *w,
                                                                          const double *x,
                                                                          double scale, size_t n)
{
    return weighted_exp_sum_body(w, x, scale, n);
}
#endif

double ts_bigram_weighted_exp_sum(const double *w, const double *x, double scale, size_t n)
{
#if BG_LIBMVEC
    if (ts_cpu_has_avx512()) return weighted_exp_sum_avx512(w, x, scale, n);
    if (ts_cpu_has_avx2()) return weighted_exp_sum_avx2(w, x, scale, n);
#endif
    return weighted_exp_sum_body(w, x, scale, n);
}

double ts_bigram_exp_shifted(const double *x, double shift, double *out, size_t n)
{
#if BG_LIBMVEC
    if (ts_cpu_has_avx2()) return exp_shifted_avx2(x, shift, out, n);
#endif
    return exp_shifted_body(x, shift, out, n);
}
