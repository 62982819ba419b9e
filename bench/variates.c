/* bench/variates: nanoseconds per draw for each sampler of include/tailsweep/variates.h, next
 * to the GSL per-call samplers they are tested against. bench/variates_ref.py times the Python
 * references (scipy, numpy) on the same number of draws; bench/variates.sh prints both with
 * their ratios. See bench/README.md.
 *
 * usage: bench/variates [N [REPEATS]]   (default N = 1000000 draws, median of 5 repeats)
 * Output: one line per measurement, "key ns_per_draw description". */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "tailsweep/rng.h"
#include "tailsweep/variates.h"

typedef struct {
    size_t n, repeats;
    gsl_rng *r;
    double *x;
    size_t *k;
    double sink; /* every result feeds this, so no loop is optimised away */
} bench;

static double now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return 1e9 * (double)t.tv_sec + (double)t.tv_nsec;
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef void (*kernel)(bench *b, const void *ctx);

/* Median over the repeats of (time for n draws) / n; the median resists the 5-35% noise of
 * this machine (bench/README.md) better than the mean. */
static void run(bench *b, const char *key, const char *what, kernel fn, const void *ctx,
                size_t per_call_units)
{
    double *t = malloc(b->repeats * sizeof *t);
    if (t == NULL)
        exit(1);
    fn(b, ctx); /* warm up: page in the output array, fill caches and tables */
    for (size_t i = 0; i < b->repeats; i++) {
        double start = now_ns();
        fn(b, ctx);
        t[i] = (now_ns() - start) / (double)(b->n * per_call_units);
        b->sink += b->x[b->n / 2] + (double)b->k[b->n / 3];
    }
    qsort(t, b->repeats, sizeof *t, compare_double);
    printf("%-28s %8.2f  %s\n", key, t[b->repeats / 2], what);
    fflush(stdout);
    free(t);
}

/* ------------------------------------------------------------------ kernels */

static void uniform_per_call(bench *b, const void *ctx)
{
    (void)ctx;
    for (size_t i = 0; i < b->n; i++)
        b->x[i] = gsl_rng_uniform(b->r);
}

static void uniform_fill(bench *b, const void *ctx)
{
    (void)ctx;
    ts_rng_fill_uniform_pos(b->r, b->x, b->n);
}

static void gsl_levy_symmetric(bench *b, const void *ctx)
{
    const ts_levy *law = ctx;
    for (size_t i = 0; i < b->n; i++)
        b->x[i] = gsl_ran_levy(b->r, law->scale, law->alpha);
}

static void gsl_levy_skew(bench *b, const void *ctx)
{
    const ts_levy *law = ctx;
    for (size_t i = 0; i < b->n; i++)
        b->x[i] = gsl_ran_levy_skew(b->r, law->scale, law->alpha, law->beta);
}

static void levy_draw(bench *b, const void *ctx)
{
    for (size_t i = 0; i < b->n; i++)
        b->x[i] = ts_levy_draw(ctx, b->r);
}

static void levy_fill(bench *b, const void *ctx)
{
    ts_levy_fill(ctx, b->r, b->x, b->n);
}

/* n coordinates = n / dim vectors. */
static void levy_vec_draw(bench *b, const void *ctx)
{
    const ts_levy_vec *law = ctx;
    for (size_t i = 0; i + law->dim <= b->n; i += law->dim)
        ts_levy_vec_draw(law, b->r, b->x + i);
}

static void levy_vec_fill(bench *b, const void *ctx)
{
    const ts_levy_vec *law = ctx;
    ts_levy_vec_fill(law, b->r, b->x, b->n / law->dim);
}

static void gaussian_per_call(bench *b, const void *ctx)
{
    (void)ctx;
    for (size_t i = 0; i < b->n; i++)
        b->x[i] = gsl_ran_gaussian_ziggurat(b->r, 1.0);
}

static void gaussian_fill(bench *b, const void *ctx)
{
    (void)ctx;
    ts_gaussian_fill(b->r, 1.0, b->x, b->n);
}

static void zipf_draw(bench *b, const void *ctx)
{
    for (size_t i = 0; i < b->n; i++)
        b->k[i] = ts_zipf_draw(ctx, b->r);
}

static void zipf_fill(bench *b, const void *ctx)
{
    ts_zipf_fill(ctx, b->r, b->k, b->n);
}

/* Mini-batches of 64, the size a sampled bigram step draws: per-call overheads show here. */
static void zipf_fill_batches_of_64(bench *b, const void *ctx)
{
    for (size_t i = 0; i + 64 <= b->n; i += 64)
        ts_zipf_fill(ctx, b->r, b->k + i, 64);
}

/* ------------------------------------------------------------------ the table */

static void bench_stable(bench *b)
{
    ts_levy sym, skew, s1, cauchy_skew;
    ts_error err;
    if (ts_levy_init(&sym, 1.5, 0, 1, 0, TS_LEVY_S0, &err) ||
        ts_levy_init(&skew, 1.5, 0.5, 1, 0, TS_LEVY_S0, &err) ||
        ts_levy_init(&s1, 1.5, 0.5, 1, 0, TS_LEVY_S1, &err) ||
        ts_levy_init(&cauchy_skew, 1, 0.5, 1, 0, TS_LEVY_S0, &err)) {
        fprintf(stderr, "bench/variates: %s\n", err.msg);
        exit(1);
    }
    run(b, "stable.gsl_levy", "gsl_ran_levy, alpha 1.5 (per call)", gsl_levy_symmetric, &sym, 1);
    run(b, "stable.gsl_levy_skew", "gsl_ran_levy_skew, alpha 1.5 beta 0.5 (per call)",
        gsl_levy_skew, &s1, 1);
    run(b, "stable.draw", "ts_levy_draw, alpha 1.5 beta 0.5 S0 (per call, GSL)", levy_draw,
        &skew, 1);
    run(b, "stable.fill_sym", "ts_levy_fill, alpha 1.5 beta 0 (batched CMS)", levy_fill, &sym, 1);
    run(b, "stable.fill_skew", "ts_levy_fill, alpha 1.5 beta 0.5 S0 (batched CMS)", levy_fill,
        &skew, 1);
    run(b, "stable.fill_alpha1", "ts_levy_fill, alpha 1 beta 0.5 S0 (batched CMS)", levy_fill,
        &cauchy_skew, 1);
}

static void bench_multivariate(bench *b)
{
    ts_levy_vec iso, coord;
    ts_error err;
    if (ts_levy_vec_init(&iso, TS_LEVY_ISOTROPIC, 1.5, 1, 100, &err) ||
        ts_levy_vec_init(&coord, TS_LEVY_COORDINATE, 1.5, 1, 100, &err)) {
        fprintf(stderr, "bench/variates: %s\n", err.msg);
        exit(1);
    }
    run(b, "iso.draw_d100", "ts_levy_vec_draw isotropic d 100, per coordinate (GSL)",
        levy_vec_draw, &iso, 1);
    run(b, "iso.fill_d100", "ts_levy_vec_fill isotropic d 100, per coordinate", levy_vec_fill,
        &iso, 1);
    run(b, "coord.fill_d100", "ts_levy_vec_fill coordinate d 100, per coordinate",
        levy_vec_fill, &coord, 1);
    run(b, "gauss.gsl_ziggurat", "gsl_ran_gaussian_ziggurat (per call)", gaussian_per_call, NULL,
        1);
    run(b, "gauss.fill", "ts_gaussian_fill (batched Box-Muller)", gaussian_fill, NULL, 1);
    run(b, "uniform.gsl", "gsl_rng_uniform on ts_philox (per call)", uniform_per_call, NULL, 1);
    run(b, "uniform.fill", "ts_rng_fill_uniform_pos", uniform_fill, NULL, 1);
}

static void bench_zipf_case(bench *b, size_t dim, double exponent)
{
    char key[64], what[128];
    ts_error err;
    ts_zipf *alias = ts_zipf_alloc(dim, exponent, TS_ZIPF_ALIAS, &err);
    ts_zipf *rejection = ts_zipf_alloc(dim, exponent, TS_ZIPF_REJECTION, &err);
    if (alias == NULL || rejection == NULL) {
        fprintf(stderr, "bench/variates: %s\n", err.msg);
        exit(1);
    }
    const char *tag = exponent == 1 ? "" : "_s1.5";
    snprintf(key, sizeof key, "zipf.alias_draw_d%zu%s", dim, tag);
    snprintf(what, sizeof what, "ts_zipf_draw alias (gsl_ran_discrete), d %zu s %g", dim,
             exponent);
    run(b, key, what, zipf_draw, alias, 1);
    snprintf(key, sizeof key, "zipf.alias_fill_d%zu%s", dim, tag);
    snprintf(what, sizeof what, "ts_zipf_fill alias, d %zu s %g", dim, exponent);
    run(b, key, what, zipf_fill, alias, 1);
    snprintf(key, sizeof key, "zipf.alias_fill64_d%zu%s", dim, tag);
    snprintf(what, sizeof what, "ts_zipf_fill alias in batches of 64, d %zu s %g", dim,
             exponent);
    run(b, key, what, zipf_fill_batches_of_64, alias, 1);
    snprintf(key, sizeof key, "zipf.rejection_draw_d%zu%s", dim, tag);
    snprintf(what, sizeof what, "ts_zipf_draw rejection-inversion, d %zu s %g", dim, exponent);
    run(b, key, what, zipf_draw, rejection, 1);
    snprintf(key, sizeof key, "zipf.rejection_fill_d%zu%s", dim, tag);
    snprintf(what, sizeof what, "ts_zipf_fill rejection-inversion, d %zu s %g", dim, exponent);
    run(b, key, what, zipf_fill, rejection, 1);
    ts_zipf_free(alias);
    ts_zipf_free(rejection);
}

int main(int argc, char **argv)
{
    gsl_set_error_handler_off();
    bench b = {.n = 1000000, .repeats = 5};
    if (argc > 1)
        b.n = strtoull(argv[1], NULL, 10);
    if (argc > 2)
        b.repeats = strtoull(argv[2], NULL, 10);
    if (b.n < 1000 || b.repeats < 1) {
        fprintf(stderr, "usage: bench/variates [N >= 1000 [REPEATS >= 1]]\n");
        return 2;
    }
    b.r = ts_rng_alloc(2025, 0, 0);
    b.x = calloc(b.n, sizeof *b.x);
    b.k = calloc(b.n, sizeof *b.k);
    if (b.r == NULL || b.x == NULL || b.k == NULL) {
        fprintf(stderr, "bench/variates: out of memory\n");
        return 1;
    }
    printf("# bench/variates: ns per draw, median of %zu runs of %zu draws; vector math: %s\n",
           b.repeats, b.n, ts_levy_fill_isa());
    bench_stable(&b);
    bench_multivariate(&b);
    bench_zipf_case(&b, 1000, 1.0);
    bench_zipf_case(&b, 1000000, 1.0);
    bench_zipf_case(&b, 1000000, 1.5);
    printf("# checksum %g\n", b.sink);
    gsl_rng_free(b.r);
    free(b.x);
    free(b.k);
    return 0;
}
