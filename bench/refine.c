/* Benchmark of schedule refinement and the last-iterate bound (include/tailsweep/refine.h;
 * bench/refine.sh runs it next to bench/refine_ref.py):
 *   bench/refine [repeats [filter]]   prints "name T seconds_per_call" per case and run length
 *                                      (the median over the repeats, after one untimed call
 *                                      when that took under 1 s)
 *   bench/refine --check DIR          writes the inputs and our outputs of the agreement cases
 *                                      into DIR (raw native doubles) with DIR/manifest, which
 *                                      bench/refine_ref.py --check DIR compares with scipy
 * The run lengths are REFINE_T (a comma-separated list, default 100000,1000000,10000000).
 * Cases (the input is one synthetic series of gradient norms per T, decaying with noise):
 *   smooth_median_0.1T    ts_refine_smooth, median window round(0.1 T): the experiment's default
 *                         refine_width (and Defazio et al.'s), 10^6 steps wide at T = 10^7;
 *   smooth_median_101     a window of 101 steps (the Fenwick-tree filter costs O(T log T)
 *                         whatever the width; scipy's costs O(T width));
 *   smooth_gaussian_0.1T  Gaussian sigma 0.1 T (radius 0.4 T: the FFT path);
 *   smooth_gaussian_32    sigma 32, radius 128, 257 taps: the widest kernel on the direct path;
 *   smooth_gaussian_33    sigma 33, radius 132, 265 taps: the narrowest on the FFT path;
 *   schedule_median_0.1T, schedule_gaussian_0.1T, schedule_none
 *                         ts_refine_schedule (power 2, SGD's) with each filter: the smoothing,
 *                         then the weights s^-2 and the suffix sums (none: only those);
 *   bound                 ts_refine_bound of the median-refined schedule with the same norms;
 *   prototype_gaussian_32 not the library: smooth_gaussian_32 with the clamp out of the inner
 *                         loop (gaussian_direct_split below), what the direct path could cost.
 * Each call allocates and frees its scratch as the library does (page faults included). */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>

#include "tailsweep/refine.h"
#include "tailsweep/rng.h"
#include "tailsweep/variates.h"
#include "timing.h"

#define PROGRAM "bench/refine"

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "%s: %s: %s\n", PROGRAM, what, detail);
    exit(1);
}

static void *xmalloc(size_t bytes)
{
    void *p = malloc(bytes);
    if (!p) die("out of memory", "");
    return p;
}

/* Gradient norms as a run produces them: a decay from 3 to 1 over the run times log-normal
 * noise (no two equal, so the median's order is unambiguous). Seeded by T. */
static double *norms_of(size_t T)
{
    double *g = xmalloc(T * sizeof *g);
    gsl_rng *rng = ts_rng_alloc(7, T, 0);
    ts_gaussian_fill(rng, 0.3, g, T);
    for (size_t t = 0; t < T; t++)
        g[t] = (1.0 + 2.0 * exp(-5.0 * (double)t / (double)T)) * exp(g[t]);
    gsl_rng_free(rng);
    return g;
}

/* ------------------------------------------------------------------ the cases */

enum kind { SMOOTH, SCHEDULE, BOUND, PROTOTYPE };

typedef struct refine_case {
    const char *name;
    enum kind kind;
    ts_refine_filter filter;
    double fraction; /* width = fraction T (rounded for median) when > 0 ... */
    double width;    /* ... else this many steps */
} refine_case;

static const refine_case cases[] = {
    {"smooth_median_0.1T", SMOOTH, TS_REFINE_MEDIAN, 0.1, 0},
    {"smooth_median_101", SMOOTH, TS_REFINE_MEDIAN, 0, 101},
    {"smooth_gaussian_0.1T", SMOOTH, TS_REFINE_GAUSSIAN, 0.1, 0},
    {"smooth_gaussian_32", SMOOTH, TS_REFINE_GAUSSIAN, 0, 32},
    {"smooth_gaussian_33", SMOOTH, TS_REFINE_GAUSSIAN, 0, 33},
    {"schedule_median_0.1T", SCHEDULE, TS_REFINE_MEDIAN, 0.1, 0},
    {"schedule_gaussian_0.1T", SCHEDULE, TS_REFINE_GAUSSIAN, 0.1, 0},
    {"schedule_none", SCHEDULE, TS_REFINE_NONE, 0, 1},
    {"bound", BOUND, TS_REFINE_MEDIAN, 0.1, 0},
    {"prototype_gaussian_32", PROTOTYPE, TS_REFINE_GAUSSIAN, 0, 32},
};

#define POWER 2.0 /* SGD's */
#define DISTANCE 3.7

/* The width in steps as ts_schedule_refined makes it from a fraction. */
static double width_of(const refine_case *c, size_t T)
{
    if (c->fraction <= 0) return c->width;
    double w = c->fraction * (double)T;
    return c->filter == TS_REFINE_MEDIAN ? fmax(1.0, round(w)) : w;
}

typedef struct inputs {
    size_t T;
    const double *g;
    double *out;       /* [T] */
    const double *eta; /* [T] the median-refined schedule, for the bound */
    double sink;
} inputs;

/* Not the library: the direct Gaussian sum of refine.c with the clamping taken out of the inner
 * loop (the windows that reach past an end clamp as refine.c does; the others are a plain dot
 * product with four accumulators), to measure what the per-tap clamp costs. Checked against
 * ts_refine_smooth (1e-12 relative) before it is timed. */
static void gaussian_direct_split(const double *g, size_t T, double sigma, double *out)
{
    size_t r = (size_t)(4.0 * sigma + 0.5), n = 2 * r + 1;
    double *w = xmalloc(n * sizeof *w), total = 0;
    for (size_t i = 0; i < n; i++) {
        double x = (double)i - (double)r;
        w[i] = exp(-0.5 * x * x / (sigma * sigma));
        total += w[i];
    }
    for (size_t i = 0; i < n; i++) w[i] /= total;
    for (size_t t = 0; t < T; t++) {
        if (t < r || t + r >= T) {
            double sum = 0;
            for (size_t i = 0; i < n; i++) {
                int64_t j = (int64_t)t + (int64_t)i - (int64_t)r;
                sum += w[i] * g[j < 0 ? 0 : j >= (int64_t)T ? T - 1 : (size_t)j];
            }
            out[t] = sum;
            continue;
        }
        const double *x = g + t - r;
        double a0 = 0, a1 = 0, a2 = 0, a3 = 0;
        size_t i = 0;
        for (; i + 4 <= n; i += 4) {
            a0 += w[i] * x[i];
            a1 += w[i + 1] * x[i + 1];
            a2 += w[i + 2] * x[i + 2];
            a3 += w[i + 3] * x[i + 3];
        }
        for (; i < n; i++) a0 += w[i] * x[i];
        out[t] = (a0 + a1) + (a2 + a3);
    }
    free(w);
}

static void call(const refine_case *c, inputs *in)
{
    ts_error err;
    double w = width_of(c, in->T);
    int rc = TS_OK;
    switch (c->kind) {
    case SMOOTH: rc = ts_refine_smooth(in->g, in->T, c->filter, w, in->out, &err); break;
    case SCHEDULE:
        rc = ts_refine_schedule(in->g, in->T, c->filter, w, POWER, in->out, &err);
        break;
    case BOUND: in->sink += ts_refine_bound(in->eta, in->g, in->T, DISTANCE); break;
    case PROTOTYPE: gaussian_direct_split(in->g, in->T, w, in->out); break;
    }
    if (rc) die(c->name, err.msg);
    if (c->kind != BOUND) in->sink += in->out[in->T / 2];
}

static double seconds_per_call(const refine_case *c, inputs *in, int repeats)
{
    double *t = xmalloc((size_t)repeats * sizeof *t);
    /* The first call touches the pages first; over 1 s it is a repeat like the others, since
     * at that size every call maps its scratch afresh (glibc's malloc returns it to the
     * kernel on free), so the first is no slower. */
    double start = bench_now();
    call(c, in);
    double first = bench_now() - start;
    int k = 0;
    if (first > 1.0) t[k++] = first;
    for (; k < repeats; k++) {
        start = bench_now();
        call(c, in);
        t[k] = bench_now() - start;
    }
    double median = bench_median(t, repeats);
    free(t);
    return median;
}

/* The prototype's output against the library's, before timing it. */
static void prototype_check(const refine_case *c, inputs *in)
{
    double *ref = xmalloc(in->T * sizeof *ref);
    ts_error err;
    if (ts_refine_smooth(in->g, in->T, c->filter, c->width, ref, &err)) die(c->name, err.msg);
    call(c, in);
    double worst = 0;
    for (size_t t = 0; t < in->T; t++) worst = fmax(worst, fabs(in->out[t] - ref[t]) / ref[t]);
    if (!(worst <= 1e-12)) die(c->name, "differs from ts_refine_smooth by more than 1e-12");
    free(ref);
}

/* REFINE_T, or the default run lengths; returns their count. */
static size_t run_lengths(size_t *T, size_t max)
{
    const char *list = getenv("REFINE_T");
    if (!list || !*list) list = "100000,1000000,10000000";
    size_t n = 0;
    for (const char *s = list; *s && n < max;) {
        char *end;
        errno = 0;
        double v = strtod(s, &end); /* 1e7 as well as 10000000 */
        if (end == s || errno || !(v >= 2 && v <= 1e9) || v != floor(v))
            die("REFINE_T wants a comma-separated list of run lengths >= 2", list);
        T[n++] = (size_t)v;
        s = *end == ',' ? end + 1 : end;
        if (*end && *end != ',') die("REFINE_T wants a comma-separated list", list);
    }
    return n;
}

static int time_all(int repeats, const char *filter)
{
    size_t lengths[16];
    size_t nT = run_lengths(lengths, 16);
    for (size_t i = 0; i < nT; i++) {
        size_t T = lengths[i];
        inputs in = {.T = T, .g = norms_of(T), .out = xmalloc(T * sizeof(double))};
        double *eta = xmalloc(T * sizeof *eta);
        ts_error err;
        if (ts_refine_schedule(in.g, T, TS_REFINE_MEDIAN, fmax(1.0, round(0.1 * (double)T)),
                               POWER, eta, &err))
            die("schedule for the bound", err.msg);
        in.eta = eta;
        for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
            if (filter && !strstr(cases[k].name, filter)) continue;
            if (cases[k].kind == PROTOTYPE) prototype_check(&cases[k], &in);
            printf("%s %zu %.6e\n", cases[k].name, T, seconds_per_call(&cases[k], &in, repeats));
            fflush(stdout);
        }
        if (!isfinite(in.sink)) fprintf(stderr, "%s: results not finite at T = %zu\n", PROGRAM, T);
        free((void *)in.g);
        free(in.out);
        free(eta);
    }
    return 0;
}

/* ------------------------------------------------------------------ --check */

static void write_doubles(const char *dir, const char *file, const double *x, size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(x, sizeof *x, n, f) != n || fclose(f)) die("cannot write", path);
}

/* The agreement cases: each filter and path at T = 20000 (scipy's own filters are cheap there),
 * the windows of refine_width 1 (wider than half the run: reflection and clamping at both ends
 * at once) and a median window 2.5 times the run (reflected more than once) at T = 2001, and the timed cases' widths at T = 10^6, where the reference uses its
 * fast filters (pandas' rolling quantile, FFT convolution) beside scipy's where affordable. */
typedef struct check_case {
    size_t T;
    ts_refine_filter filter;
    double width;
} check_case;

static const check_case smooth_checks[] = {
    {20000, TS_REFINE_MEDIAN, 2000}, {20000, TS_REFINE_MEDIAN, 101},
    {20000, TS_REFINE_MEDIAN, 1},    {20000, TS_REFINE_GAUSSIAN, 2000},
    {20000, TS_REFINE_GAUSSIAN, 32}, {20000, TS_REFINE_GAUSSIAN, 33},
    {20000, TS_REFINE_GAUSSIAN, 0.5}, {2001, TS_REFINE_MEDIAN, 2001},
    {2001, TS_REFINE_MEDIAN, 1000},  {2001, TS_REFINE_MEDIAN, 5001},
    {2001, TS_REFINE_GAUSSIAN, 2001},
    {2001, TS_REFINE_GAUSSIAN, 200.1}, {1000000, TS_REFINE_MEDIAN, 100000},
    {1000000, TS_REFINE_MEDIAN, 101}, {1000000, TS_REFINE_GAUSSIAN, 100000},
    {1000000, TS_REFINE_GAUSSIAN, 32}, {1000000, TS_REFINE_GAUSSIAN, 33},
};

static const check_case schedule_checks[] = {
    {20000, TS_REFINE_MEDIAN, 2000}, {20000, TS_REFINE_GAUSSIAN, 2000},
    {20000, TS_REFINE_NONE, 1},      {2001, TS_REFINE_MEDIAN, 2001},
    {1000000, TS_REFINE_MEDIAN, 100000}, {1000000, TS_REFINE_GAUSSIAN, 100000},
};

static const size_t check_lengths[] = {20000, 2001, 1000000};

static int check_all(const char *dir)
{
    char path[4096], file[256], gfile[64];
    snprintf(path, sizeof path, "%s/manifest", dir);
    FILE *manifest = fopen(path, "w");
    if (!manifest) die("cannot write", path);
    ts_error err;
    int n = 0;
    for (size_t i = 0; i < sizeof check_lengths / sizeof *check_lengths; i++) {
        size_t T = check_lengths[i];
        double *g = norms_of(T), *out = xmalloc(T * sizeof *out);
        snprintf(gfile, sizeof gfile, "g_%zu.bin", T);
        write_doubles(dir, gfile, g, T);
        for (size_t k = 0; k < sizeof smooth_checks / sizeof *smooth_checks; k++) {
            const check_case *c = &smooth_checks[k];
            if (c->T != T) continue;
            if (ts_refine_smooth(g, T, c->filter, c->width, out, &err)) die("smooth", err.msg);
            snprintf(file, sizeof file, "out_%d.bin", n++);
            write_doubles(dir, file, out, T);
            fprintf(manifest, "smooth %s %.17g - %zu %s %s\n", ts_refine_filter_name(c->filter),
                    c->width, T, gfile, file);
        }
        for (size_t k = 0; k < sizeof schedule_checks / sizeof *schedule_checks; k++) {
            const check_case *c = &schedule_checks[k];
            if (c->T != T) continue;
            for (double power = 1; power <= 2; power++) {
                if (ts_refine_schedule(g, T, c->filter, c->width, power, out, &err))
                    die("schedule", err.msg);
                snprintf(file, sizeof file, "out_%d.bin", n++);
                write_doubles(dir, file, out, T);
                fprintf(manifest, "schedule %s %.17g %g %zu %s %s\n",
                        ts_refine_filter_name(c->filter), c->width, power, T, gfile, file);
                if (c->filter != TS_REFINE_MEDIAN || power != 2) continue;
                /* the bound of this schedule; then with ten more zero steps at the end (the
                 * sums stop at the last positive step); then of linear decay */
                double *eta = xmalloc(T * sizeof *eta);
                for (int variant = 0; variant < 3; variant++) {
                    memcpy(eta, out, T * sizeof *eta);
                    if (variant == 1)
                        for (size_t t = T - 11; t < T; t++) eta[t] = 0;
                    if (variant == 2)
                        for (size_t t = 0; t < T; t++)
                            eta[t] = (double)(T - 1 - t) / (double)(T - 1);
                    snprintf(file, sizeof file, "out_%d.bin", n++);
                    write_doubles(dir, file, eta, T);
                    fprintf(manifest, "bound %s %.17g %.17g %zu %s %s\n",
                            variant == 0   ? "refined"
                            : variant == 1 ? "refined_zero_tail"
                                           : "linear_decay",
                            DISTANCE, ts_refine_bound(eta, g, T, DISTANCE), T, gfile, file);
                }
                free(eta);
            }
        }
        free(g);
        free(out);
    }
    if (fclose(manifest)) die("cannot write", path);
    return 0;
}

int main(int argc, char **argv)
{
    gsl_set_error_handler_off();
    if (argc == 3 && !strcmp(argv[1], "--check")) return check_all(argv[2]);
    const char *filter;
    int repeats = bench_args(argc, argv, &filter);
    return time_all(repeats, filter);
}
