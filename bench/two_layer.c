/* Benchmark of the two_layer experiment (bench/two_layer.sh runs it next to bench/two_layer_ref.py):
 *   bench/two_layer [repeats [filter]]
 * prints one line per case, "name seconds_per_step" (the median over the repeats). Cases:
 *   two_layer_*  one GD step of the experiment through the library (ts_grid, ts_grid_point,
 *                ts_recorder_init, experiment->run): over row blocks of X that stay in cache,
 *                the forward GEMM U_b = X_b W^T / sqrt(D), the residuals and E_b = r a 1[U > 0],
 *                and the gradient GEMM G += -(1/sqrt D) E_b^T X_b, so X is read once; then the
 *                training loss and the tracker, the update;
 *                single-pass also draws a fresh batch (n D Gaussians, the label GEMM n x 2 x D,
 *                n targets), multi-pass reuses the first one. Each time is the difference of two
 *                runs that differ only in `steps`, so set-up (the first batch, the teacher, the
 *                student, the test set, the closed forms) cancels. Records are sparse
 *                ({linear: 2}) and the test set small (100), so records cost nothing.
 *   gemm_dD      the step's two products as two plain whole-matrix cblas_dgemm calls, with the
 *                experiment's shapes, transposes and strides (p = 2, n = 3 D): the GEMM rate for
 *                these shapes, which reads X twice.
 *   read_dD      two sequential passes summing X [n x D]: the memory-bandwidth bound of a step
 *                that reads X twice.
 *   dgemm_peak   one 1000 x 1000 x 1000 dgemm (seconds per call): one core's compute peak.
 * Everything runs on one BLAS thread (ts_linalg_set_threads(1), i.e. openblas_set_num_threads),
 * which is what one MPI rank of a sweep uses. */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>

#if TS_HAVE_OPENBLAS
#include <cblas.h>
#else
#include <gsl/gsl_cblas.h>
#endif

#include "tailsweep/grid.h"
#include "tailsweep/linalg.h"
#include "tailsweep/rng.h"
#include "tailsweep/variates.h"
#define BENCH_PROGRAM "bench/two_layer"
#include "experiment_case.h"

#define HIDDEN 2          /* p, the experiment's default */
#define SAMPLE_RATIO 3.0  /* n = 3 D */
#define STEP_SIZE 0.2     /* the experiment's default eta */


/* Shared by every case: the default target (tanh_he1_he3) and width, n = 3 D, sparse records,
 * a small test set. */
#define COMMON "sample_ratio=3", "hidden=2", "record=linear:2", "test_size=100"

/* Step counts: about 1 s of difference per run pair (a step is about 22 ms at D = 2000, 130 ms
 * at D = 5000, 100 ms single-pass), at least twice the set-up at D = 5000 (drawing the 600 MB
 * batch), whose noise on a loaded machine is what the difference does not cancel; the C part
 * takes about a minute at the default 5 repeats. bench/two_layer_ref.py lists the same case
 * names and step counts. */
static const bench_case cases[] = {
    {"two_layer_d2000_multipass", {COMMON, "dim=2000", "batch_reuse=0"}, 5, 45},
    {"two_layer_d5000_multipass", {COMMON, "dim=5000", "batch_reuse=0"}, 2, 17},
    {"two_layer_d2000_singlepass", {COMMON, "dim=2000", "batch_reuse=1"}, 2, 8},
};

/* The plain-BLAS cases, at the dimensions of the experiment's cases. */
typedef struct shape_case {
    size_t D;
    int64_t steps_small, steps_large;
} shape_case;
static const shape_case shapes[] = {{2000, 5, 45}, {5000, 2, 12}};



/* ------------------------------------------------------------------ plain BLAS */

/* A batch and the network, laid out as two_layer.c lays them out (row-major, ld = row length). */
typedef struct gemm_data {
    size_t n, D, p;
    double *x, *y, *w, *a, *u, *e, *g;
    double sink; /* keeps the read loop's sum alive */
} gemm_data;

static void gemm_data_init(gemm_data *d, size_t D)
{
    d->D = D;
    d->p = HIDDEN;
    d->n = (size_t)round(SAMPLE_RATIO * (double)D);
    d->x = malloc(d->n * D * sizeof *d->x);
    d->y = malloc(d->n * sizeof *d->y);
    d->w = malloc(d->p * D * sizeof *d->w);
    d->a = malloc(d->p * sizeof *d->a);
    d->u = malloc(d->n * d->p * sizeof *d->u);
    d->e = malloc(d->n * d->p * sizeof *d->e);
    d->g = malloc(d->p * D * sizeof *d->g);
    d->sink = 0;
    if (!d->x || !d->y || !d->w || !d->a || !d->u || !d->e || !d->g)
        bench_die("gemm", "out of memory");
    gsl_rng *rng = ts_rng_alloc(2, 0, 0);
    ts_gaussian_fill(rng, 1.0, d->x, d->n * D);
    ts_gaussian_fill(rng, 1.0, d->y, d->n);
    ts_gaussian_fill(rng, 1.0, d->w, d->p * D);
    /* E as the experiment has it: about half of its entries zero (1[U > 0]) */
    ts_gaussian_fill(rng, 1.0, d->e, d->n * d->p);
    for (size_t i = 0; i < d->n * d->p; i++) d->e[i] = d->e[i] > 0 ? d->e[i] : 0.0;
    for (size_t j = 0; j < d->p; j++) d->a[j] = (j % 2 ? -1.0 : 1.0) / sqrt((double)d->p);
    gsl_rng_free(rng);
}

static void gemm_data_free(gemm_data *d)
{
    free(d->x);
    free(d->y);
    free(d->w);
    free(d->a);
    free(d->u);
    free(d->e);
    free(d->g);
}

/* The step's two products exactly as ts_two_layer_pass calls them (ts_linalg_gemm is a direct
 * cblas_dgemm call): U = s X W^T, then G = -s E^T X. */
static void gemm_step(gemm_data *d)
{
    int n = (int)d->n, D = (int)d->D, p = (int)d->p;
    double s = 1.0 / sqrt((double)d->D);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, p, D, s, d->x, D, d->w, D, 0.0, d->u,
                p);
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, p, D, n, -s, d->e, p, d->x, D, 0.0, d->g,
                D);
}

/* Two passes over X, each summing it with 8 independent accumulators (so the adds never limit
 * the rate): what reading X twice from memory costs. */
static void read_step(gemm_data *d)
{
    size_t len = d->n * d->D;
    for (int pass = 0; pass < 2; pass++) {
        double acc[8] = {0};
        size_t i = 0;
        for (; i + 8 <= len; i += 8)
            for (int k = 0; k < 8; k++) acc[k] += d->x[i + k];
        for (; i < len; i++) acc[0] += d->x[i];
        for (int k = 0; k < 8; k++) d->sink += acc[k];
    }
}


/* Seconds per call of fn, as the difference of two loop lengths (median over the repeats). */
static double seconds_per_call(void (*fn)(gemm_data *), gemm_data *d, const shape_case *c,
                               int repeats)
{
    double *small = malloc((size_t)repeats * sizeof *small);
    double *large = malloc((size_t)repeats * sizeof *large);
    if (!small || !large) bench_die("plain BLAS", "out of memory");
    fn(d); /* warm: first touch of the scratch, OpenBLAS's buffers */
    for (int k = 0; k < repeats; k++) {
        for (int which = 0; which < 2; which++) {
            int64_t calls = which ? c->steps_large : c->steps_small;
            double start = bench_now();
            for (int64_t i = 0; i < calls; i++) fn(d);
            (which ? large : small)[k] = bench_now() - start;
        }
    }
    double t = (bench_median(large, repeats) - bench_median(small, repeats)) /
               (double)(c->steps_large - c->steps_small);
    free(small);
    free(large);
    return t;
}

/* One square dgemm of order 1000 (2 10^9 flops), seconds per call: one core's compute peak. */
static double dgemm_peak(int repeats)
{
    const int m = 1000;
    double *a = malloc((size_t)m * m * sizeof *a), *b = malloc((size_t)m * m * sizeof *b);
    double *c = malloc((size_t)m * m * sizeof *c), *t = malloc((size_t)repeats * sizeof *t);
    if (!a || !b || !c || !t) bench_die("dgemm_peak", "out of memory");
    gsl_rng *rng = ts_rng_alloc(3, 0, 0);
    ts_gaussian_fill(rng, 1.0, a, (size_t)m * m);
    ts_gaussian_fill(rng, 1.0, b, (size_t)m * m);
    gsl_rng_free(rng);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, m, m, 1.0, a, m, b, m, 0.0, c, m);
    for (int k = 0; k < repeats; k++) {
        double start = bench_now();
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, m, m, 1.0, a, m, b, m, 0.0, c,
                    m);
        t[k] = bench_now() - start;
    }
    double median = bench_median(t, repeats);
    free(a);
    free(b);
    free(c);
    free(t);
    return median;
}

static int wanted(const char *name, const char *filter) { return !filter || strstr(name, filter); }

int main(int argc, char **argv)
{
    const char *filter;
    int repeats = bench_args(argc, argv, &filter);
    gsl_set_error_handler_off();
    ts_linalg_set_threads(1); /* openblas_set_num_threads(1): one thread is the point */
    fprintf(stderr, "bench/two_layer: %s, %d thread\n", ts_linalg_blas_name(),
            ts_linalg_threads());
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        if (!wanted(cases[k].name, filter)) continue;
        printf("%s %.6e\n", cases[k].name, bench_seconds_per_step("two_layer", &cases[k], repeats));
        fflush(stdout);
    }
    static const struct {
        const char *prefix;
        void (*fn)(gemm_data *);
    } plain[] = {{"gemm", gemm_step}, {"read", read_step}};
    for (size_t k = 0; k < sizeof shapes / sizeof *shapes; k++) {
        enum { NPLAIN = sizeof plain / sizeof *plain };
        char names[NPLAIN][32];
        int any = 0;
        for (size_t f = 0; f < NPLAIN; f++) {
            snprintf(names[f], sizeof names[f], "%s_d%zu", plain[f].prefix, shapes[k].D);
            any |= wanted(names[f], filter);
        }
        if (!any) continue;
        gemm_data d;
        gemm_data_init(&d, shapes[k].D);
        for (size_t f = 0; f < NPLAIN; f++) {
            if (!wanted(names[f], filter)) continue;
            printf("%s %.6e\n", names[f], seconds_per_call(plain[f].fn, &d, &shapes[k], repeats));
            fflush(stdout);
        }
        if (!isfinite(d.sink)) fprintf(stderr, "bench/two_layer: sum of X not finite\n");
        gemm_data_free(&d);
    }
    if (wanted("dgemm_peak", filter)) printf("dgemm_peak %.6e\n", dgemm_peak(repeats));
    return 0;
}
