/* Schedule refinement and the last-iterate bound (refine.h). */
#include "tailsweep/refine.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_fft_halfcomplex.h>
#include <gsl/gsl_fft_real.h>

static const char *const filter_names[] = {"median", "gaussian", "none"};
#define NFILTERS (sizeof filter_names / sizeof filter_names[0])

const char *ts_refine_filter_name(ts_refine_filter f)
{
    return (size_t)f < NFILTERS ? filter_names[f] : "unknown";
}

int ts_refine_filter_parse(const char *name, ts_refine_filter *f, ts_error *err)
{
    for (size_t k = 0; k < NFILTERS; k++)
        if (strcmp(name, filter_names[k]) == 0) {
            *f = (ts_refine_filter)k;
            return TS_OK;
        }
    return ts_error_set(err, TS_EUSAGE, "unknown filter \"%s\" (expected %s)", name,
                        TS_REFINE_FILTER_CHOICES);
}

/* ------------------------------------------------------------------ compensated sums */

/* Neumaier's summation: the suffix sums of 10^7 terms keep their last digits (constant norms
 * must give linear decay to 1e-12). */
typedef struct ksum {
    double sum, carry;
} ksum;

static void ksum_add(ksum *k, double x)
{
    double t = k->sum + x;
    k->carry += fabs(k->sum) >= fabs(x) ? (k->sum - t) + x : (x - t) + k->sum;
    k->sum = t;
}

static double ksum_value(const ksum *k) { return k->sum + k->carry; }

/* ------------------------------------------------------------------ median */

/* Index j of the reflected sequence ... g1 g0 | g0 g1 ... g_{T-1} | g_{T-1} g_{T-2} ...: period
 * 2T, so that windows wider than the run stay defined (scipy's mode 'reflect'). */
static size_t reflect(int64_t j, size_t T)
{
    int64_t period = 2 * (int64_t)T, m = j % period;
    if (m < 0) m += period;
    return (size_t)(m < (int64_t)T ? m : period - 1 - m);
}

typedef struct ranked {
    double value;
    size_t index;
} ranked;

static int compare_ranked(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->value != y->value) return x->value < y->value ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

/* A Fenwick tree of counts over the T ranks: the window's multiset, with the k-th smallest in
 * O(log T). */
typedef struct fenwick {
    size_t n, top; /* top: the largest power of two <= n */
    int64_t *c;    /* [n + 1], 1-based */
} fenwick;

static void fenwick_add(fenwick *f, size_t rank, int64_t delta)
{
    for (size_t i = rank + 1; i <= f->n; i += i & (~i + 1)) f->c[i] += delta;
}

/* The 0-based rank of the k-th smallest element (k 0-based) of the multiset. */
static size_t fenwick_kth(const fenwick *f, int64_t k)
{
    size_t pos = 0;
    for (size_t step = f->top; step; step >>= 1)
        if (pos + step <= f->n && f->c[pos + step] <= k) {
            pos += step;
            k -= f->c[pos];
        }
    return pos; /* the 1-based position pos + 1, as a 0-based rank */
}

static int median_filter(const double *g, size_t T, size_t width, double *out, ts_error *err)
{
    ranked *order = malloc(T * sizeof *order);
    size_t *rank = malloc(T * sizeof *rank);
    fenwick f = {.n = T, .c = calloc(T + 1, sizeof *f.c)};
    if (!order || !rank || !f.c) {
        free(order), free(rank), free(f.c);
        return ts_error_set(err, TS_ERUNTIME, "out of memory for a median filter over %zu steps",
                            T);
    }
    for (size_t i = 0; i < T; i++) order[i] = (ranked){g[i], i};
    qsort(order, T, sizeof *order, compare_ranked);
    for (size_t r = 0; r < T; r++) rank[order[r].index] = r;
    for (f.top = 1; f.top * 2 <= T; f.top *= 2) continue;
    int64_t left = (int64_t)(width / 2), right = (int64_t)width - 1 - left;
    for (int64_t j = -left; j <= right; j++) fenwick_add(&f, rank[reflect(j, T)], 1);
    for (size_t t = 0;; t++) {
        out[t] = order[fenwick_kth(&f, (int64_t)(width / 2))].value;
        if (t + 1 == T) break;
        fenwick_add(&f, rank[reflect((int64_t)t - left, T)], -1);
        fenwick_add(&f, rank[reflect((int64_t)t + 1 + right, T)], 1);
    }
    free(order);
    free(rank);
    free(f.c);
    return TS_OK;
}

/* ------------------------------------------------------------------ gaussian */

/* Kernel w[0 .. 2r] for offsets -r .. r, normalised to sum 1 (scipy's _gaussian_kernel1d). */
static double *gaussian_kernel(double sigma, size_t r)
{
    double *w = malloc((2 * r + 1) * sizeof *w);
    if (!w) return NULL;
    ksum total = {0};
    for (size_t i = 0; i <= 2 * r; i++) {
        double x = (double)i - (double)r;
        w[i] = exp(-0.5 * x * x / (sigma * sigma));
        ksum_add(&total, w[i]);
    }
    double sum = ksum_value(&total);
    for (size_t i = 0; i <= 2 * r; i++) w[i] /= sum;
    return w;
}

static size_t clamp_index(int64_t j, size_t T)
{
    return j < 0 ? 0 : j >= (int64_t)T ? T - 1 : (size_t)j;
}

static void gaussian_direct(const double *g, size_t T, const double *w, size_t r, double *out)
{
    for (size_t t = 0; t < T; t++) {
        double sum = 0;
        for (size_t i = 0; i <= 2 * r; i++)
            sum += w[i] * g[clamp_index((int64_t)t + (int64_t)i - (int64_t)r, T)];
        out[t] = sum;
    }
}

/* a * b of two radix-2 halfcomplex spectra of length n, into a (GSL's layout: a[k] the real
 * and a[n - k] the imaginary part of frequency k, a[0] and a[n/2] real). */
static void halfcomplex_multiply(double *a, const double *b, size_t n)
{
    a[0] *= b[0];
    a[n / 2] *= b[n / 2];
    for (size_t k = 1; k < n / 2; k++) {
        double re = a[k] * b[k] - a[n - k] * b[n - k];
        double im = a[k] * b[n - k] + a[n - k] * b[k];
        a[k] = re;
        a[n - k] = im;
    }
}

/* The padded signal (edges repeated r steps out) convolved with the kernel by FFT: the linear
 * convolution has length T + 4r, so a power of two at least that long avoids wrapping. */
static int gaussian_fft(const double *g, size_t T, const double *w, size_t r, double *out,
                        ts_error *err)
{
    size_t n = 1;
    while (n < T + 4 * r + 1) n *= 2;
    double *a = calloc(n, sizeof *a), *k = calloc(n, sizeof *k);
    if (!a || !k) {
        free(a), free(k);
        return ts_error_set(err, TS_ERUNTIME, "out of memory for a %zu-point FFT", n);
    }
    for (size_t i = 0; i < T + 2 * r; i++) a[i] = g[clamp_index((int64_t)i - (int64_t)r, T)];
    memcpy(k, w, (2 * r + 1) * sizeof *k);
    int rc = gsl_fft_real_radix2_transform(a, 1, n) || gsl_fft_real_radix2_transform(k, 1, n);
    if (!rc) {
        halfcomplex_multiply(a, k, n);
        rc = gsl_fft_halfcomplex_radix2_inverse(a, 1, n);
    }
    /* conv[m] = sum_j a[m - j] w[j]; the window of t is centred at padded index t + r. The
     * exact value is a weighted mean of g, inside [min g, max g]; the FFT's rounding error is
     * about eps max g, which for norms spanning many decades (a pass that nearly blew up) can
     * take the small ones to 0 or below: clamped back into the range. */
    if (!rc) {
        double lo = g[0], hi = g[0];
        for (size_t t = 1; t < T; t++) lo = fmin(lo, g[t]), hi = fmax(hi, g[t]);
        for (size_t t = 0; t < T; t++) out[t] = fmin(hi, fmax(lo, a[2 * r + t]));
    }
    free(a);
    free(k);
    return rc ? ts_error_set(err, TS_ERUNTIME, "GSL's FFT failed (%s)", gsl_strerror(rc)) : TS_OK;
}

/* Kernels longer than this go by FFT: the direct sum costs T (2r + 1) multiply-adds. */
enum { DIRECT_KERNEL_MAX = 257 };

static int gaussian_filter(const double *g, size_t T, double sigma, double *out, ts_error *err)
{
    size_t r = (size_t)(4.0 * sigma + 0.5);
    double *w = gaussian_kernel(sigma, r);
    if (!w) return ts_error_set(err, TS_ERUNTIME, "out of memory for a Gaussian kernel");
    int rc = TS_OK;
    if (2 * r + 1 <= DIRECT_KERNEL_MAX) gaussian_direct(g, T, w, r, out);
    else rc = gaussian_fft(g, T, w, r, out, err);
    free(w);
    return rc;
}

/* ------------------------------------------------------------------ the public functions */

int ts_refine_smooth(const double *g, size_t T, ts_refine_filter f, double width, double *out,
                     ts_error *err)
{
    if (T == 0) return TS_OK;
    switch (f) {
    case TS_REFINE_MEDIAN:
        if (!(width >= 1 && width <= (double)SIZE_MAX / 4 && width == floor(width)))
            return ts_error_set(err, TS_EUSAGE, "median filter: the width must be a whole "
                                "number of steps >= 1, got %.17g", width);
        return median_filter(g, T, (size_t)width, out, err);
    case TS_REFINE_GAUSSIAN:
        if (!(width > 0 && width < 1e15))
            return ts_error_set(err, TS_EUSAGE, "gaussian filter: the width (its standard "
                                "deviation in steps) must be > 0, got %.17g", width);
        return gaussian_filter(g, T, width, out, err);
    case TS_REFINE_NONE: memcpy(out, g, T * sizeof *out); return TS_OK;
    }
    return ts_error_set(err, TS_EUSAGE, "unknown filter %d", (int)f);
}

int ts_refine_schedule(const double *norms, size_t T, ts_refine_filter f, double width,
                       double power, double *eta, ts_error *err)
{
    if (T < 2) return ts_error_set(err, TS_EUSAGE, "refinement needs at least 2 steps, got %zu", T);
    if (!(power > 0 && isfinite(power)))
        return ts_error_set(err, TS_EUSAGE, "refinement: the power must be > 0, got %.17g", power);
    for (size_t t = 0; t < T; t++)
        if (!(norms[t] > 0 && isfinite(norms[t])))
            return ts_error_set(err, TS_EUSAGE, "refinement: gradient norm %zu is %.17g, expected "
                                "a finite value > 0", t, norms[t]);
    int rc = ts_refine_smooth(norms, T, f, width, eta, err);
    if (rc) return rc;
    /* eta[t] holds s_t; weights w_t = s_t^-power, then eta_t = w_t sum_{u > t} w_u in one
     * backward pass */
    ksum after = {0};
    double top = 0;
    for (size_t t = T; t-- > 0;) {
        double w = pow(eta[t], -power);
        eta[t] = w * ksum_value(&after);
        ksum_add(&after, w);
        if (eta[t] > top) top = eta[t];
    }
    if (!(top > 0 && isfinite(top)))
        return ts_error_set(err, TS_EUSAGE, "refinement: the weights overflow (norms too small "
                            "for power %.17g)", power);
    for (size_t t = 0; t < T; t++) eta[t] /= top;
    return TS_OK;
}

double ts_refine_bound(const double *eta, const double *G, size_t T, double D)
{
    size_t last = T;
    while (last > 0 && eta[last - 1] == 0) last--;
    if (last == 0) return NAN;
    /* Backward over k: after[k] = sum_{t > k} eta_t, from[k] = sum_{t >= k} eta_t and
     * energy[k] = sum_{t >= k} G_t^2 eta_t^2, each added to as k decreases. */
    ksum after = {0}, energy = {0}, tail = {0};
    for (size_t k = last; k-- > 0;) {
        double e = G[k] * G[k] * eta[k] * eta[k];
        double later = ksum_value(&after); /* sum_{t > k} eta_t */
        ksum_add(&energy, e);
        ksum_add(&after, eta[k]);          /* now sum_{t >= k} eta_t */
        if (k + 1 < last)
            ksum_add(&tail, eta[k] / later * ksum_value(&energy) / ksum_value(&after));
    }
    double total = ksum_value(&after);
    return (D * D + ksum_value(&energy)) / (2.0 * total) + 0.5 * ksum_value(&tail);
}
