/* Benchmark of the ssi experiment (bench/ssi.sh runs it next to bench/ssi_ref.py):
 *   bench/ssi [repeats [filter]]
 * prints one line per case (medians over the repeats):
 *   ssi_MODEL_dD_LL  seconds per online SGD step of the experiment through the library (ts_grid,
 *                    ts_grid_point, ts_recorder_init, experiment->run), relu student, target sum,
 *                    step_size 0.5, constant schedule, {linear: 2} records: a fresh sample X
 *                    [L x d] (ts_gaussian_fill, sigma 1/sqrt d, from the run's Philox stream),
 *                    z_l = x_l . w*, the label, the student's pre-activation, the loss and the
 *                    gradient, w <- w - gamma grad renormalised to its radius, the overlap
 *                    (every step: recovery_step needs it), the tracker. Each time is the
 *                    difference of two runs that differ only in `steps` (bench/experiment_case.h:
 *                    set-up, the directions and the tied models' ODE limit, cancels).
 *   proto_MODEL_dD_LL  not the library: the benchmark's own fused step, the same arithmetic in
 *                    one pass over the sample while it is drawn (chunks of 512 that stay in L1)
 *                    and one pass over the weights (update, rescale, overlap and norm together,
 *                    the rescaling factor from ||w||^2 + 2 a w.g + a^2 ||g||^2), so that the step
 *                    is the draw plus those two passes: what src/experiments/ssi.c could reach.
 *                    It starts from the library's own directions and draws the library's
 *                    samples (the same stream positions), so its trajectory is the library's to
 *                    rounding: `protocheck_*` prints both final overlaps.
 *   draw_dD_LL       seconds per ts_gaussian_fill of L d values (sigma 1/sqrt d): the step's
 *                    RNG bound, the "bandwidth/RNG limit".
 *   uniform_dD_LL    seconds per ts_rng_fill_uniform_pos of L d values (the Philox words and
 *                    their conversion to doubles: the part of the draw before Box-Muller).
 *   nrm2_dD_LL, dotnorm_dD_LL  seconds per norm of L d values in cache: ts_linalg_nrm2
 *                    (OpenBLAS's dnrm2, which the library's renormalisation calls) against
 *                    sqrt(ts_linalg_dot(x, x)).
 *   check_MODEL_dD_LL  "steps mean sem theory": the final overlap after steps = d, mean and
 *                    standard error over CHECK_SEEDS seeds (grid seeds 1, 2, ...), and the
 *                    experiment's theory_overlap at that time (tied; NaN untied):
 *                    bench/ssi_ref.py prints its own from numpy's streams.
 *   protocheck_MODEL_dD_LL  "steps library prototype": the final overlap of the library's run and
 *                    of the prototype's on the same samples, seed 1.
 * One BLAS thread (ts_linalg_set_threads(1), i.e. openblas_set_num_threads(1)), as one MPI rank
 * of a sweep runs. */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>

#include "tailsweep/grid.h"
#include "tailsweep/linalg.h"
#include "tailsweep/record.h"
#include "tailsweep/rng.h"
#include "tailsweep/variates.h"
#define BENCH_PROGRAM "bench/ssi"
#include "experiment_case.h"

#define CHECK_SEEDS 6
#define CHUNK 512      /* the prototype's draw: even, so chunked fills draw what one fill does */

/* Shared by every case: a relu student on the SIE-1 target, the default start (m_0 =
 * 1/sqrt d), sparse records. */
#define COMMON "target=sum", "activation=relu", "step_size=0.5", "record=linear:2"

/* Step counts: about 0.5 to 0.7 s of difference per run pair (a step is about 8 us at L d = 1000,
 * 100 to 120 us at L d = 16000, 8 to 11 ms at L d = 1.28 10^6); bench/ssi_ref.py lists the
 * first six names with its own counts. */
static const bench_case cases[] = {
    {"ssi_tied_d1000_L1", {COMMON, "model=tied", "dim=1000", "seq_len=1"}, 10000, 90000},
    {"ssi_untied_d1000_L1", {COMMON, "model=untied", "dim=1000", "seq_len=1"}, 10000, 90000},
    {"ssi_tied_d1000_L16", {COMMON, "model=tied", "dim=1000", "seq_len=16"}, 1000, 7000},
    {"ssi_untied_d1000_L16", {COMMON, "model=untied", "dim=1000", "seq_len=16"}, 1000, 7000},
    {"ssi_tied_d4000_L4", {COMMON, "model=tied", "dim=4000", "seq_len=4"}, 1000, 7000},
    {"ssi_untied_d4000_L4", {COMMON, "model=untied", "dim=4000", "seq_len=4"}, 1000, 7000},
    /* C only (no numpy twin, no check): a sample of 10 MB, beyond the 1 MiB L2 */
    {"ssi_tied_d20000_L64", {COMMON, "model=tied", "dim=20000", "seq_len=64"}, 10, 60},
    {"ssi_untied_d20000_L64", {COMMON, "model=untied", "dim=20000", "seq_len=64"}, 10, 60},
};
enum { NCASES = sizeof cases / sizeof *cases, NCHECKED = 6 /* the (d, L) */ };

/* ------------------------------------------------------------------ one run */

/* A case's grid and point at `steps` and grid seed `seed` (the point's streams). */
typedef struct case_point {
    ts_grid *g;
    ts_value *values;
    ts_point p;
} case_point;

static void case_point_init(case_point *cp, const bench_case *c, int64_t steps, uint64_t seed)
{
    cp->g = ts_grid_alloc(ts_experiment_find("ssi"));
    if (!cp->g) bench_die(c->name, "out of memory");
    for (const char *const *s = c->settings; *s; s++) bench_set_param(cp->g, *s);
    cp->g->base[ts_param_index(cp->g->experiment->params, "steps")].i = steps;
    cp->g->seed = seed;
    cp->values = calloc(cp->g->nparams + 1, sizeof *cp->values);
    if (!cp->values) bench_die(c->name, "out of memory");
    ts_grid_point(cp->g, 0, 0, cp->values, &cp->p);
    ts_error err;
    if (cp->g->experiment->check(&cp->p, &err)) bench_die(c->name, err.msg);
}

static void case_point_free(case_point *cp)
{
    free(cp->values);
    ts_grid_free(cp->g);
}

/* The last recorded value of a series metric. */
static double last_of(ts_recorder *r, const ts_experiment *x, const char *metric)
{
    int m = ts_metric_index(x->metrics, metric);
    if (m < 0) bench_die("unknown metric", metric);
    return ts_recorder_series(r, m)[r->layout.nrecords - 1];
}

/* One library run (the student's stream: ts_rng_alloc(seed, 0, 0), as experiment_case.h passes
 * at seed 1): the final overlap and theory_overlap; returns the run's wall time. */
static double library_run(const bench_case *c, int64_t steps, uint64_t seed, double *overlap,
                          double *theory)
{
    case_point cp;
    case_point_init(&cp, c, steps, seed);
    ts_error err;
    ts_recorder r;
    if (ts_recorder_init(&r, &cp.p, &err)) bench_die(c->name, err.msg);
    gsl_rng *rng = ts_rng_alloc(seed, 0, 0);
    double start = bench_now();
    ts_status status = cp.g->experiment->run(&cp.p, rng, &r, &err);
    double elapsed = bench_now() - start;
    if (status != TS_DONE) bench_die(c->name, status == TS_DIVERGED ? "run diverged" : err.msg);
    *overlap = last_of(&r, cp.g->experiment, "overlap");
    *theory = last_of(&r, cp.g->experiment, "theory_overlap");
    gsl_rng_free(rng);
    ts_recorder_free(&r);
    case_point_free(&cp);
    return elapsed;
}

/* ------------------------------------------------------------------ the prototype */

typedef struct proto {
    size_t d, L, rows;           /* rows of the weights: 1 tied, L untied */
    double gamma, radius, threshold;
    double *wstar, *w, *x, *s;   /* [d], [rows d], [L d] untied (the sample), [d] tied (sum) */
    double *wt;                  /* [rows]: w_l . w* after the last update */
    double ww;                   /* ||w||^2 after the last update */
    double *chunk;               /* [CHUNK]: tied draws here (the sample is never stored) */
    gsl_rng *data;
} proto;

/* The directions exactly as ssi.c's draw_directions makes them (the same calls on the same
 * streams), the data stream left at the samples' substream. */
static void proto_init(proto *q, const ts_point *pt, gsl_rng *rng, int untied)
{
    size_t d = (size_t)ts_point_int(pt, "dim"), L = (size_t)ts_point_int(pt, "seq_len");
    double dd = (double)d, root_d = sqrt(dd);
    memset(q, 0, sizeof *q);
    q->d = d;
    q->L = L;
    q->rows = untied ? L : 1;
    q->gamma = ts_point_real(pt, "step_size"); /* the cases: step_scaling 0, constant schedule */
    q->threshold = ts_point_real(pt, "recovery_threshold");
    q->radius = sqrt((double)(q->rows * d));
    q->wstar = malloc(d * sizeof *q->wstar);
    q->w = malloc(q->rows * d * sizeof *q->w);
    q->x = untied ? malloc(L * d * sizeof *q->x) : NULL;
    q->s = malloc(d * sizeof *q->s);
    q->wt = malloc(q->rows * sizeof *q->wt);
    q->chunk = malloc(CHUNK * sizeof *q->chunk);
    q->data = ts_rng_alloc_for(pt, 1);
    if (!q->wstar || !q->w || (untied && !q->x) || !q->s || !q->wt || !q->chunk || !q->data)
        bench_die("prototype", "out of memory");
    ts_rng_key_for(q->data, pt, 3);
    ts_gaussian_fill(q->data, 1.0, q->wstar, d);
    ts_linalg_scal(d, root_d / ts_linalg_nrm2(d, q->wstar), q->wstar);
    double m0 = 1.0 / root_d, across = sqrt(fmax(0.0, 1.0 - m0 * m0));
    q->ww = 0;
    for (size_t l = 0; l < q->rows; l++) {
        double *u = q->w + l * d;
        ts_gaussian_fill(rng, 1.0, u, d);
        for (int pass = 0; pass < 2; pass++)
            ts_linalg_axpy(d, -ts_linalg_dot(d, u, q->wstar) / dd, q->wstar, u);
        ts_linalg_scal(d, root_d / ts_linalg_nrm2(d, u), u);
        ts_linalg_scal(d, across, u);
        ts_linalg_axpy(d, m0, q->wstar, u);
        q->wt[l] = ts_linalg_dot(d, u, q->wstar);
        q->ww += ts_linalg_dot(d, u, u);
    }
    ts_rng_key_for(q->data, pt, 1);
}

static void proto_free(proto *q)
{
    free(q->wstar);
    free(q->w);
    free(q->x);
    free(q->s);
    free(q->wt);
    free(q->chunk);
    gsl_rng_free(q->data);
}

static double proto_overlap(const proto *q)
{
    double d = (double)q->d;
    if (!q->x) return q->wt[0] / d; /* tied */
    double sum = 0;
    for (size_t l = 0; l < q->rows; l++) sum += (q->wt[l] / d) * (q->wt[l] / d);
    return sqrt(sum / (double)q->rows);
}

/* The prototype's loops, on GCC's vector types (4 doubles; two SSE2 registers on the x86-64
 * baseline, one AVX2 register in the AVX2 copy, chosen at load time as src/optim/optim.c does;
 * no FMA: the same bits either way) with two accumulators per sum, so that the adds never wait
 * on each other and stay in registers. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define VECTOR_CLONES
#endif
typedef double v4 __attribute__((vector_size(32)));

/* Unaligned loads and stores, and the sum of two accumulators' lanes (through pointers: a v4
 * passed by value would change the baseline copy's ABI). */
#define LOAD4(v, p) memcpy(&(v), (p), sizeof(v4))
#define STORE4(p, v) memcpy((p), &(v), sizeof(v4))

static inline double sum4(const v4 *a, const v4 *b)
{
    v4 c = *a + *b;
    return (c[0] + c[1]) + (c[2] + c[3]);
}

/* tied, a piece of a row: returns g . t, and s += g. */
VECTOR_CLONES static double tied_piece(const double *restrict g, const double *restrict t,
                                       double *restrict s, size_t n)
{
    v4 a0 = {0}, a1 = {0};
    size_t k = 0;
    for (; k + 8 <= n; k += 8) {
        v4 g0, g1, t0, t1, s0, s1;
        LOAD4(g0, g + k);
        LOAD4(g1, g + k + 4);
        LOAD4(t0, t + k);
        LOAD4(t1, t + k + 4);
        LOAD4(s0, s + k);
        LOAD4(s1, s + k + 4);
        a0 += g0 * t0;
        a1 += g1 * t1;
        s0 += g0;
        s1 += g1;
        STORE4(s + k, s0);
        STORE4(s + k + 4, s1);
    }
    double a = sum4(&a0, &a1);
    for (; k < n; k++) {
        a += g[k] * t[k];
        s[k] += g[k];
    }
    return a;
}

/* untied, a piece of a row: returns g . t; *h += g . w, *gg += g . g. */
VECTOR_CLONES static double untied_piece(const double *restrict g, const double *restrict t,
                                         const double *restrict w, size_t n, double *h,
                                         double *gg)
{
    v4 a0 = {0}, a1 = {0}, b0 = {0}, b1 = {0}, c0 = {0}, c1 = {0};
    size_t k = 0;
    for (; k + 8 <= n; k += 8) {
        v4 g0, g1, t0, t1, w0, w1;
        LOAD4(g0, g + k);
        LOAD4(g1, g + k + 4);
        LOAD4(t0, t + k);
        LOAD4(t1, t + k + 4);
        LOAD4(w0, w + k);
        LOAD4(w1, w + k + 4);
        a0 += g0 * t0;
        a1 += g1 * t1;
        b0 += g0 * w0;
        b1 += g1 * w1;
        c0 += g0 * g0;
        c1 += g1 * g1;
    }
    double a = sum4(&a0, &a1), b = sum4(&b0, &b1), c = sum4(&c0, &c1);
    for (; k < n; k++) {
        a += g[k] * t[k];
        b += g[k] * w[k];
        c += g[k] * g[k];
    }
    *h += b;
    *gg += c;
    return a;
}

/* *h = s . w, *gg = s . s. */
VECTOR_CLONES static void tied_sums(const double *restrict s, const double *restrict w, size_t n,
                                    double *h, double *gg)
{
    v4 b0 = {0}, b1 = {0}, c0 = {0}, c1 = {0};
    size_t k = 0;
    for (; k + 8 <= n; k += 8) {
        v4 s0, s1, w0, w1;
        LOAD4(s0, s + k);
        LOAD4(s1, s + k + 4);
        LOAD4(w0, w + k);
        LOAD4(w1, w + k + 4);
        b0 += s0 * w0;
        b1 += s1 * w1;
        c0 += s0 * s0;
        c1 += s1 * s1;
    }
    double b = sum4(&b0, &b1), c = sum4(&c0, &c1);
    for (; k < n; k++) {
        b += s[k] * w[k];
        c += s[k] * s[k];
    }
    *h = b;
    *gg = c;
}

/* w <- (w + a g) c; returns w . t after, and *ww += ||w||^2 after. */
VECTOR_CLONES static double update_row(double *restrict w, const double *restrict g,
                                       const double *restrict t, double a, double c, size_t n,
                                       double *ww)
{
    v4 u0 = {0}, u1 = {0}, v0 = {0}, v1 = {0};
    size_t k = 0;
    for (; k + 8 <= n; k += 8) {
        v4 x0, x1, g0, g1, t0, t1;
        LOAD4(x0, w + k);
        LOAD4(x1, w + k + 4);
        LOAD4(g0, g + k);
        LOAD4(g1, g + k + 4);
        LOAD4(t0, t + k);
        LOAD4(t1, t + k + 4);
        x0 = (x0 + a * g0) * c;
        x1 = (x1 + a * g1) * c;
        STORE4(w + k, x0);
        STORE4(w + k + 4, x1);
        u0 += x0 * t0;
        u1 += x1 * t1;
        v0 += x0 * x0;
        v1 += x1 * x1;
    }
    double u = sum4(&u0, &u1), v = sum4(&v0, &v1);
    for (; k < n; k++) {
        double x = (w[k] + a * g[k]) * c;
        w[k] = x;
        u += x * t[k];
        v += x * x;
    }
    *ww += v;
    return u;
}

/* One step; returns the loss. Pass 1, over the sample as it is drawn in chunks: z_l, and the
 * sum s of the rows (tied) or h = sum_l x_l . w_l and ||X||^2 (untied, which keeps X for the
 * update). Then the label, the residual, and the new norm in closed form; pass 2, over the
 * weights: w <- (w + a g) radius / ||w + a g|| with g = s or X, and w_l . w* and ||w||^2
 * accumulated on the way (the overlap, and the next step's norm). */
static double proto_step(proto *q)
{
    size_t d = q->d, L = q->L, n = L * d;
    double z = 0; /* sum_l z_l: the sum target needs no more */
    double h = 0, gg = 0, inv_root_d = 1.0 / sqrt((double)d);
    int untied = q->x != NULL;
    if (!untied) memset(q->s, 0, d * sizeof *q->s);
    for (size_t i0 = 0; i0 < n; i0 += CHUNK) {
        size_t m = n - i0 < CHUNK ? n - i0 : CHUNK;
        double *buf = untied ? q->x + i0 : q->chunk;
        ts_gaussian_fill(q->data, inv_root_d, buf, m);
        for (size_t j = 0; j < m;) { /* the chunk's pieces of rows */
            size_t k0 = (i0 + j) % d, len = d - k0 < m - j ? d - k0 : m - j;
            if (untied)
                z += untied_piece(buf + j, q->wstar + k0, q->w + i0 + j, len, &h, &gg);
            else
                z += tied_piece(buf + j, q->wstar + k0, q->s + k0, len);
            j += len;
        }
    }
    double scale = 1.0 / sqrt((double)L);
    if (!untied) tied_sums(q->s, q->w, d, &h, &gg);
    double y = scale * z, pre = scale * h, f = pre > 0 ? pre : 0.0, slope = pre > 0 ? 1.0 : 0.0;
    double r = y - f, a = q->gamma * 2.0 * r * slope * scale; /* w <- w + a g */
    double norm = sqrt(fmax(0.0, q->ww + 2.0 * a * h + a * a * gg));
    double c = norm > 0 && isfinite(norm) ? q->radius / norm : 1.0;
    const double *g = untied ? q->x : q->s;
    q->ww = 0;
    for (size_t l = 0; l < q->rows; l++)
        q->wt[l] = update_row(q->w + l * d, g + l * d, q->wstar, a, c, d, &q->ww);
    return r * r;
}

/* One prototype run of `steps` steps on the case's point (its directions and samples as the
 * library draws them); the final overlap in *overlap; returns the wall time (set-up included:
 * the differences cancel it). */
static double proto_run(const bench_case *c, int64_t steps, uint64_t seed, double *overlap)
{
    case_point cp;
    case_point_init(&cp, c, steps, seed);
    int untied = ts_point_is(&cp.p, "model", "untied");
    gsl_rng *rng = ts_rng_alloc(seed, 0, 0);
    double start = bench_now();
    proto q;
    proto_init(&q, &cp.p, rng, untied);
    double loss = 0, recovery = NAN;
    for (int64_t t = 0; t < steps; t++) {
        if (isnan(recovery) && proto_overlap(&q) >= q.threshold) recovery = (double)t;
        loss += proto_step(&q);
    }
    *overlap = proto_overlap(&q);
    double elapsed = bench_now() - start;
    if (!isfinite(loss) || !isfinite(*overlap)) bench_die(c->name, "prototype not finite");
    proto_free(&q);
    gsl_rng_free(rng);
    case_point_free(&cp);
    return elapsed;
}

/* ------------------------------------------------------------------ timing */

typedef double (*run_fn)(const bench_case *c, int64_t steps);

static double time_library(const bench_case *c, int64_t steps)
{
    double m, th;
    return library_run(c, steps, 1, &m, &th);
}

static double time_proto(const bench_case *c, int64_t steps)
{
    double m;
    return proto_run(c, steps, 1, &m);
}

/* (median time(large) - median time(small)) / (large - small), alternating, after one untimed
 * run: bench_seconds_per_step for either runner. */
static double seconds_per_step(run_fn fn, const bench_case *c, int repeats)
{
    double *small = malloc((size_t)repeats * sizeof *small);
    double *large = malloc((size_t)repeats * sizeof *large);
    if (!small || !large) bench_die(c->name, "out of memory");
    fn(c, c->steps_small);
    for (int k = 0; k < repeats; k++) {
        small[k] = fn(c, c->steps_small);
        large[k] = fn(c, c->steps_large);
    }
    double t = (bench_median(large, repeats) - bench_median(small, repeats)) /
               (double)(c->steps_large - c->steps_small);
    free(small);
    free(large);
    return t;
}

/* Seconds per fill of n values (Gaussian, or the uniforms alone), median over the repeats of
 * `calls` fills each, after one untimed batch. */
static double seconds_per_fill(int gaussian, size_t d, size_t n, int repeats)
{
    double *x = malloc(n * sizeof *x), *t = malloc((size_t)repeats * sizeof *t);
    if (!x || !t) bench_die("draw", "out of memory");
    gsl_rng *rng = ts_rng_alloc(7, 0, 0);
    double sigma = 1.0 / sqrt((double)d), sink = 0;
    long calls = (long)(4e7 / (double)n) + 1; /* about 0.25 s of Gaussians */
    for (int k = -1; k < repeats; k++) {
        double start = bench_now();
        for (long i = 0; i < calls; i++) {
            if (gaussian) ts_gaussian_fill(rng, sigma, x, n);
            else ts_rng_fill_uniform_pos(rng, x, n);
            sink += x[i % n];
        }
        if (k >= 0) t[k] = (bench_now() - start) / (double)calls;
    }
    double median = bench_median(t, repeats);
    if (!isfinite(sink)) fprintf(stderr, "bench/ssi: draws not finite\n");
    gsl_rng_free(rng);
    free(x);
    free(t);
    return median;
}

/* Seconds per norm of n values in cache: ts_linalg_nrm2 (OpenBLAS's dnrm2, what ssi.c's
 * spherical_step calls) or sqrt(ts_linalg_dot(x, x)) (ddot). */
static double seconds_per_norm(int nrm2, size_t n, int repeats)
{
    double *x = malloc(n * sizeof *x), *t = malloc((size_t)repeats * sizeof *t), sink = 0;
    if (!x || !t) bench_die("norm", "out of memory");
    gsl_rng *rng = ts_rng_alloc(8, 0, 0);
    ts_gaussian_fill(rng, 1.0, x, n);
    gsl_rng_free(rng);
    long calls = (long)(4e8 / (double)n) + 1;
    for (int k = -1; k < repeats; k++) {
        double start = bench_now();
        for (long i = 0; i < calls; i++) {
            sink += nrm2 ? ts_linalg_nrm2(n, x) : sqrt(ts_linalg_dot(n, x, x));
            x[i % n] += 1e-300; /* keep the calls from being merged */
        }
        if (k >= 0) t[k] = (bench_now() - start) / (double)calls;
    }
    double median = bench_median(t, repeats);
    if (!isfinite(sink)) fprintf(stderr, "bench/ssi: norms not finite\n");
    free(x);
    free(t);
    return median;
}

/* ------------------------------------------------------------------ main */

static int wanted(const char *name, const char *filter) { return !filter || strstr(name, filter); }

/* "tied_d1000_L1" of "ssi_tied_d1000_L1"; "d1000_L1" with the model skipped. */
static const char *case_tail(const bench_case *c, int skip_model)
{
    const char *tail = c->name + strlen("ssi_");
    return skip_model ? strchr(tail, '_') + 1 : tail;
}

int main(int argc, char **argv)
{
    const char *filter;
    int repeats = bench_args(argc, argv, &filter);
    char name[64];
    gsl_set_error_handler_off();
    ts_linalg_set_threads(1); /* openblas_set_num_threads(1) */
    fprintf(stderr, "bench/ssi: %s, %d thread, vector path %s\n", ts_linalg_blas_name(),
            ts_linalg_threads(), ts_levy_fill_isa());
    for (size_t k = 0; k < NCASES; k++) {
        const bench_case *c = &cases[k];
        if (wanted(c->name, filter)) {
            printf("%s %.6e\n", c->name, seconds_per_step(time_library, c, repeats));
            fflush(stdout);
        }
        snprintf(name, sizeof name, "proto_%s", case_tail(c, 0));
        if (wanted(name, filter)) {
            printf("%s %.6e\n", name, seconds_per_step(time_proto, c, repeats));
            fflush(stdout);
        }
    }
    /* the draw limits, once per (d, L): the tied cases name them */
    for (size_t k = 0; k < NCASES; k += 2) {
        const bench_case *c = &cases[k];
        case_point cp;
        case_point_init(&cp, c, 1, 1);
        size_t d = (size_t)ts_point_int(&cp.p, "dim"), L = (size_t)ts_point_int(&cp.p, "seq_len");
        case_point_free(&cp);
        for (int gaussian = 1; gaussian >= 0; gaussian--) {
            snprintf(name, sizeof name, "%s_%s", gaussian ? "draw" : "uniform",
                     case_tail(c, 1));
            if (!wanted(name, filter)) continue;
            printf("%s %.6e\n", name, seconds_per_fill(gaussian, d, L * d, repeats));
            fflush(stdout);
        }
        for (int nrm2 = 1; nrm2 >= 0; nrm2--) {
            snprintf(name, sizeof name, "%s_%s", nrm2 ? "nrm2" : "dotnorm", case_tail(c, 1));
            if (!wanted(name, filter)) continue;
            printf("%s %.6e\n", name, seconds_per_norm(nrm2, L * d, repeats));
            fflush(stdout);
        }
    }
    /* the checks: the final overlap after steps = d over seeds, and the prototype on the
     * library's samples */
    for (size_t k = 0; k < NCHECKED; k++) {
        const bench_case *c = &cases[k];
        case_point cp;
        case_point_init(&cp, c, 1, 1);
        int64_t steps = ts_point_int(&cp.p, "dim");
        case_point_free(&cp);
        snprintf(name, sizeof name, "check_%s", case_tail(c, 0));
        if (wanted(name, filter)) {
            double sum = 0, sq = 0, theory = NAN;
            for (uint64_t seed = 1; seed <= CHECK_SEEDS; seed++) {
                double m;
                library_run(c, steps, seed, &m, &theory);
                sum += m;
                sq += m * m;
            }
            double mean = sum / CHECK_SEEDS;
            double var = fmax(0.0, (sq - CHECK_SEEDS * mean * mean) / (CHECK_SEEDS - 1));
            printf("%s %lld %.6f %.6f %.6f\n", name, (long long)steps, mean,
                   sqrt(var / CHECK_SEEDS), theory);
            fflush(stdout);
        }
        snprintf(name, sizeof name, "protocheck_%s", case_tail(c, 0));
        if (wanted(name, filter)) {
            double lib, th, pro;
            library_run(c, steps, 1, &lib, &th);
            proto_run(c, steps, 1, &pro);
            printf("%s %lld %.15f %.15f\n", name, (long long)steps, lib, pro);
            fflush(stdout);
        }
    }
    return 0;
}
