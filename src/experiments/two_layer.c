/* Reusing batches in two-layer networks (Dandi, Troiani, Arnaboldi, Pesce, Zdeborova, Krzakala,
 * ICML 2024, arXiv:2402.03220; docs/experiments.md section 2). Batch GD on a committee of ReLUs
 *   f(x) = sum_j a_j relu(w_j . x / sqrt(D)),  a = (+1, -1, +1, ...) / sqrt(p) fixed,
 * learning y = g(z), z = W* x / sqrt(D), x ~ N(0, I_D), from batches of n = round(sample_ratio D)
 * samples on the summed loss L = sum_mu 1/2 (y_mu - f(x_mu))^2, each batch used for batch_reuse
 * consecutive steps (0: one batch for the whole run, the paper's multi-pass protocol). The
 * forward pass and the gradient are two GEMMs per step (linalg.h): U = X W^T / sqrt(D) and
 * grad L = -(1/sqrt(D)) E^T X with E[mu][j] = (y_mu - f_mu) a_j 1[U[mu][j] > 0].
 *
 * Teacher and student: W* has `directions` orthonormal rows of norm sqrt(D) drawn from the run's
 * stream (the targets read the first two; further rows are controls whose overlap shows what
 * chance looks like); the student's rows are drawn, then projected out of the teacher's span and
 * of each other (Gram-Schmidt, twice: "twice is enough" for orthogonality to rounding), norm
 * sqrt(D). So the overlap starts at zero to rounding (|M_0| ~ 1e-16) and Q_0 = I.
 *
 * Streams: the student from the run's stream (substream 0), the batches from substream 1 (the
 * inputs, and y = g(z) from them), the teacher from 3, the test set from 4, the label noise from
 * 5: every protocol (batch_reuse) draws the same first batch, so single- and multi-pass take the
 * same first step, and noise_std changes no input. The test set's labels are noiseless: test_error
 * is the error against g. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tailsweep/data.h"
#include "tailsweep/experiment.h"
#include "tailsweep/linalg.h"
#include "tailsweep/optim.h"
#include "tailsweep/rng.h"
#include "tailsweep/schedule.h"
#include "tailsweep/tracker.h"
#include "tailsweep/variates.h"

#include "two_layer.h"

/* ------------------------------------------------------------------ the targets */

static double he3(double z) { return z * z * z - 3.0 * z; }
static double tanh_he1_he3(double z1, double z2) { return tanh(z1 + he3(z2)); }
static double staircase(double z1, double z2) { return z1 + z1 * z2; }
static double he3_unit(double z1, double z2) { return (void)z2, he3(z1) / sqrt(6.0); }
static double tanh_sum(double z1, double z2) { return tanh(z1) + tanh(z2); }

/* One row per target, in the order of TARGET_CHOICES (a unit test checks the two agree). */
const ts_two_layer_target ts_two_layer_targets[] = {
    {"tanh_he1_he3", tanh_he1_he3, "tanh(He1(z1) + He3(z2)), He3(z) = z^3 - 3z"},
    {"staircase", staircase, "z1 + z1 z2"},
    {"he3", he3_unit, "He3(z1) / sqrt(6)"},
    {"tanh_sum", tanh_sum, "tanh(z1) + tanh(z2)"},
    {0},
};
#define TARGET_CHOICES "tanh_he1_he3|staircase|he3|tanh_sum"

/* ------------------------------------------------------------------ declarations */

static const ts_param_def params[] = {
    {"dim", TS_INT, .def.i = 1000, .range = "[3, inf)", .unit = "", .doc = "input dimension D"},
    {"sample_ratio", TS_REAL, .def.r = 3.0, .range = "(0, inf)", .unit = "",
     .doc = "n / D: a batch holds n = round(sample_ratio D) samples"},
    {"target", TS_ENUM, .def.e = "tanh_he1_he3", .choices = TARGET_CHOICES, .unit = "",
     .doc = "y = g(z): tanh(He1(z1) + He3(z2)), z1 + z1 z2, He3(z1)/sqrt(6) or tanh(z1) + "
            "tanh(z2)"},
    {"hidden", TS_INT, .def.i = 2, .range = "[1, inf)", .unit = "neurons",
     .doc = "student width p; second layer a = (+1, -1, ...)/sqrt(p), fixed"},
    {"directions", TS_INT, .def.i = 2, .range = "[2, inf)", .unit = "",
     .doc = "rows of the teacher W*: the targets read the first two, further ones are controls"},
    {"step_size", TS_REAL, .def.r = 0.2, .range = "(0, inf)", .unit = "",
     .doc = "base step eta on the loss summed over the batch (the schedule scales it)"},
    TS_BATCH_REUSE_PARAM(0),
    {"noise_std", TS_REAL, .def.r = 0.0, .range = "[0, inf)", .unit = "",
     .doc = "standard deviation of Gaussian label noise on the training batches"},
    {"test_size", TS_INT, .def.i = 10000, .range = "[1, inf)", .unit = "samples",
     .doc = "test samples (noiseless labels), drawn once per run"},
    TS_ITERATION_PARAMS(100, TS_RECORD_LINEAR, 101),
    TS_OPTIM_PARAMS("gd"),
    TS_SCHEDULE_PARAMS,
    {0},
};

enum {
    M_OVERLAP, M_SELF_OVERLAP, M_TEST_ERROR, M_TRAIN_LOSS, M_FINAL_TEST_ERROR,
    M_THEORY_STEP1_OVERLAP, M_THEORY_INITIAL_TEST_ERROR, NMETRICS
};
static const ts_metric_def metrics[] = {
    [M_OVERLAP] = {.name = "overlap", .kind = TS_SERIES, .unit = "",
                   .doc = "M = W W*^T / D, the student's overlap with the teacher's directions",
                   .dims = {"neuron:hidden", "direction:directions"}},
    [M_SELF_OVERLAP] = {.name = "self_overlap", .kind = TS_SERIES, .unit = "",
                        .doc = "Q = W W^T / D", .dims = {"neuron:hidden", "neuron2:hidden"}},
    [M_TEST_ERROR] = {.name = "test_error", .kind = TS_SERIES, .unit = "",
                      .doc = "1/2 mean (g(z) - f(x))^2 over the test set"},
    [M_TRAIN_LOSS] = {.name = "train_loss", .kind = TS_SERIES, .unit = "",
                      .doc = "1/2 mean (y - f(x))^2 over the batch the step at t uses (at "
                             "t = steps, the last step's)"},
    [M_FINAL_TEST_ERROR] = {.name = "final_test_error", .kind = TS_SCALAR, .unit = "",
                            .doc = "test_error at t = steps"},
    [M_THEORY_STEP1_OVERLAP] = {
        .name = "theory_step1_overlap", .kind = TS_SCALAR, .unit = "",
        .doc = "E M_1 = lr_0 (n/D) a_j 1/2 E[z_k g(z)] (Gauss-Hermite), the overlap after the "
               "first step (gd only, NaN otherwise)",
        .dims = {"neuron:hidden", "direction:directions"}, .theory_for = "overlap"},
    [M_THEORY_INITIAL_TEST_ERROR] = {
        .name = "theory_initial_test_error", .kind = TS_SCALAR, .unit = "",
        .doc = "1/2 (E g^2 - 2 E f E g + E f^2) at the orthogonal start (Gauss-Hermite)",
        .theory_for = "test_error"},
    [NMETRICS] = {0},
};

/* The tracker watches the training loss at every step and records it. */
static const ts_tracked tracked = {.value_series = M_TRAIN_LOSS, .relative_series = -1,
                                   .first_hits = -1, .final_value = -1, .final_relative = -1};

/* ------------------------------------------------------------------ settings */

/* A run's parameters, read once (check, run, cost and memory all start here). */
typedef struct settings {
    size_t D, n, p, k, ntest;
    const ts_two_layer_target *target;
    double eta, noise_std;
    int64_t reuse, steps;
    ts_optim_config optim;
} settings;

static settings settings_of(const ts_point *p)
{
    settings s = {
        .D = (size_t)ts_point_int(p, "dim"), .p = (size_t)ts_point_int(p, "hidden"),
        .k = (size_t)ts_point_int(p, "directions"), .ntest = (size_t)ts_point_int(p, "test_size"),
        .target = &ts_two_layer_targets[ts_point_choice(p, "target")],
        .eta = ts_point_real(p, "step_size"), .noise_std = ts_point_real(p, "noise_std"),
        .reuse = ts_point_int(p, "batch_reuse"), .steps = ts_point_int(p, "steps"),
        .optim = ts_optim_config_of(p),
    };
    double n = round(ts_point_real(p, "sample_ratio") * (double)s.D);
    s.n = n < 1 ? 0 : n > (double)SIZE_MAX / 2 ? SIZE_MAX / 2 : (size_t)n;
    return s;
}

/* Rows of the scratch that the batch and the test set share. */
static size_t scratch_rows(const settings *s) { return s->n > s->ntest ? s->n : s->ntest; }

/* ------------------------------------------------------------------ the network */

/* Rows of X per block of the pass: about 256 KiB (a quarter of L2 here), at least 8 rows.
 * Each block is read from memory once for both of its products, U_b = X_b W^T and
 * grad += E_b^T X_b, while it is in cache: the two whole-matrix GEMMs read X twice, and with
 * p = 2 a step is bound by that traffic (bench/README.md, two_layer: 2x faster per step at
 * D = 5000, n = 3 D). The gradient is summed block by block, which changes its last bits
 * against one GEMM, not its value. */
static size_t block_rows(size_t dim)
{
    size_t rows = ((size_t)256 << 10) / (dim * sizeof(double));
    return rows < 8 ? 8 : rows;
}

double ts_two_layer_pass(size_t n, size_t dim, size_t hidden, const double *x, const double *y,
                         const double *w, const double *a, double *u, double *f, double *r,
                         double *e, double *grad)
{
    double scale = 1.0 / sqrt((double)dim), loss = 0;
    size_t rows = block_rows(dim);
    for (size_t b0 = 0; b0 < n; b0 += rows) {
        size_t m = n - b0 < rows ? n - b0 : rows;
        const double *xb = x + b0 * dim;
        double *ub = u + b0 * hidden;
        ts_linalg_gemm(TS_LINALG_N, TS_LINALG_T, m, hidden, dim, scale, xb, dim, w, dim, 0.0,
                       ub, hidden);
        for (size_t mu = b0; mu < b0 + m; mu++) {
            const double *um = u + mu * hidden;
            double out = 0;
            for (size_t j = 0; j < hidden; j++) out += um[j] > 0 ? a[j] * um[j] : 0.0;
            f[mu] = out;
            r[mu] = y[mu] - out;
            loss += 0.5 * r[mu] * r[mu];
            if (grad)
                for (size_t j = 0; j < hidden; j++)
                    e[mu * hidden + j] = um[j] > 0 ? r[mu] * a[j] : 0.0;
        }
        if (grad)
            ts_linalg_gemm(TS_LINALG_T, TS_LINALG_N, hidden, dim, m, -scale, e + b0 * hidden,
                           hidden, xb, dim, b0 ? 1.0 : 0.0, grad, dim);
    }
    return loss;
}

typedef struct state {
    settings s;
    double *teacher;             /* [k x D], rows of norm sqrt(D) */
    double *w, *grad;            /* [p x D] */
    double *a;                   /* [p] second layer */
    ts_dataset batch, test;      /* x, y = g(z) (+ noise for the batch), res = y - f */
    double *u, *e, *f;           /* scratch [rows x p], [rows x p], [rows] */
    double *z;                   /* [rows x 2]: the projections the targets read */
    double *m, *q;               /* [p x k], [p x p] */
    gsl_rng *data, *noise;       /* substreams 1 and 5 (noise only with noise_std > 0) */
    ts_optim optim;
} state;

static void state_free(state *st)
{
    free(st->teacher);
    free(st->w);
    free(st->grad);
    free(st->a);
    ts_dataset_free(&st->batch);
    ts_dataset_free(&st->test);
    free(st->u);
    free(st->e);
    free(st->f);
    free(st->z);
    free(st->m);
    free(st->q);
    if (st->data) gsl_rng_free(st->data);
    if (st->noise) gsl_rng_free(st->noise);
    ts_optim_free(&st->optim);
}

/* Rows of v [nrows x D] from the stream, made orthogonal to the rows of `basis` [nbasis x D]
 * (each of norm sqrt(D)), then to each other, each scaled to norm sqrt(D). Modified
 * Gram-Schmidt, twice, so that the rows are orthogonal to rounding whatever the draw. */
static void orthonormal_rows(double *v, size_t nrows, const double *basis, size_t nbasis,
                             size_t D, gsl_rng *rng)
{
    double norm = sqrt((double)D);
    ts_gaussian_fill(rng, 1.0, v, nrows * D);
    for (size_t i = 0; i < nrows; i++) {
        double *row = v + i * D;
        for (int pass = 0; pass < 2; pass++) {
            for (size_t b = 0; b < nbasis; b++) {
                const double *e = basis + b * D;
                ts_linalg_axpy(D, -ts_linalg_dot(D, row, e) / (double)D, e, row);
            }
            for (size_t b = 0; b < i; b++) {
                const double *e = v + b * D;
                ts_linalg_axpy(D, -ts_linalg_dot(D, row, e) / (double)D, e, row);
            }
        }
        ts_linalg_scal(D, norm / ts_linalg_nrm2(D, row), row);
    }
}

/* rows samples into x, y = g(z) (z = x W*_{1,2}^T / sqrt(D)), plus label noise when noise is
 * given. */
static void draw_samples(state *st, ts_dataset *set, gsl_rng *inputs, gsl_rng *noise)
{
    const settings *s = &st->s;
    size_t rows = set->n;
    ts_gaussian_fill(inputs, 1.0, set->x, rows * s->D);
    ts_linalg_gemm(TS_LINALG_N, TS_LINALG_T, rows, TS_TWO_LAYER_TARGET_DIRECTIONS, s->D,
                   1.0 / sqrt((double)s->D), set->x, s->D, st->teacher, s->D, 0.0, st->z,
                   TS_TWO_LAYER_TARGET_DIRECTIONS);
    for (size_t mu = 0; mu < rows; mu++)
        set->y[mu] = s->target->g(st->z[2 * mu], st->z[2 * mu + 1]);
    if (!noise) return;
    ts_gaussian_fill(noise, s->noise_std, set->res, rows); /* res is free until the pass */
    for (size_t mu = 0; mu < rows; mu++) set->y[mu] += set->res[mu];
}

static int out_of_memory(state *st, ts_error *err)
{
    settings s = st->s;
    state_free(st);
    return ts_error_set(err, TS_ERUNTIME,
                        "out of memory for dim = %zu, n = %zu, test_size = %zu, hidden = %zu",
                        s.D, s.n, s.ntest, s.p);
}

static int state_init(state *st, const ts_point *p, gsl_rng *rng, ts_error *err)
{
    memset(st, 0, sizeof *st);
    settings *s = &st->s;
    *s = settings_of(p);
    size_t D = s->D, rows = scratch_rows(s);
    st->teacher = malloc(s->k * D * sizeof *st->teacher);
    st->w = malloc(s->p * D * sizeof *st->w);
    st->grad = malloc(s->p * D * sizeof *st->grad);
    st->a = malloc(s->p * sizeof *st->a);
    st->u = malloc(rows * s->p * sizeof *st->u);
    st->e = malloc(rows * s->p * sizeof *st->e);
    st->f = malloc(rows * sizeof *st->f);
    st->z = malloc(rows * TS_TWO_LAYER_TARGET_DIRECTIONS * sizeof *st->z);
    st->m = malloc(s->p * s->k * sizeof *st->m);
    st->q = malloc(s->p * s->p * sizeof *st->q);
    st->data = ts_rng_alloc_for(p, 0);
    if (s->noise_std > 0) st->noise = ts_rng_alloc_for(p, 0);
    int ok = ts_dataset_init(&st->batch, s->n, D, NULL) == TS_OK &&
             ts_dataset_init(&st->test, s->ntest, D, NULL) == TS_OK;
    if (!ok || !st->teacher || !st->w || !st->grad || !st->a || !st->u || !st->e || !st->f ||
        !st->z || !st->m || !st->q || !st->data || (s->noise_std > 0 && !st->noise))
        return out_of_memory(st, err);
    if (ts_optim_init(&st->optim, &s->optim, s->p * D, err) != TS_OK) {
        state_free(st);
        return TS_ERUNTIME;
    }
    for (size_t j = 0; j < s->p; j++) st->a[j] = (j % 2 ? -1.0 : 1.0) / sqrt((double)s->p);
    /* the data stream is borrowed for the teacher's and the test set's substreams */
    ts_rng_key_for(st->data, p, 3);
    orthonormal_rows(st->teacher, s->k, NULL, 0, D, st->data);
    orthonormal_rows(st->w, s->p, st->teacher, s->k, D, rng);
    ts_rng_key_for(st->data, p, 4);
    draw_samples(st, &st->test, st->data, NULL);
    ts_rng_key_for(st->data, p, 1);
    if (st->noise) ts_rng_key_for(st->noise, p, 5);
    return TS_OK;
}

/* ------------------------------------------------------------------ records */

static double test_error(state *st)
{
    const settings *s = &st->s;
    double loss = ts_two_layer_pass(s->ntest, s->D, s->p, st->test.x, st->test.y, st->w, st->a,
                                    st->u, st->f, st->test.res, NULL, NULL);
    return loss / (double)s->ntest;
}

/* The overlaps and the test error into record slot `at`; returns the test error. */
static double record_at(state *st, ts_recorder *r, size_t at)
{
    const settings *s = &st->s;
    size_t nrec = r->layout.nrecords, D = s->D;
    ts_linalg_gemm(TS_LINALG_N, TS_LINALG_T, s->p, s->k, D, 1.0 / (double)D, st->w, D,
                   st->teacher, D, 0.0, st->m, s->k);
    ts_linalg_gemm(TS_LINALG_N, TS_LINALG_T, s->p, s->p, D, 1.0 / (double)D, st->w, D, st->w, D,
                   0.0, st->q, s->p);
    double *overlap = ts_recorder_series(r, M_OVERLAP);
    double *self = ts_recorder_series(r, M_SELF_OVERLAP);
    for (size_t i = 0; i < s->p * s->k; i++) overlap[i * nrec + at] = st->m[i];
    for (size_t i = 0; i < s->p * s->p; i++) self[i * nrec + at] = st->q[i];
    double error = test_error(st);
    ts_recorder_series(r, M_TEST_ERROR)[at] = error;
    if (at + 1 == nrec) *ts_recorder_scalar(r, M_FINAL_TEST_ERROR) = error;
    return error;
}

/* The closed forms (two_layer_theory.c): the first step's expected overlap (plain first step:
 * gd, whose first momentum step is the gradient itself, and whose weight decay moves W_0
 * within the student's own span, orthogonal to the teacher), and the initial test error. */
static int record_theory(const state *st, const ts_schedule *sched, ts_recorder *r, ts_error *err)
{
    const settings *s = &st->s;
    ts_two_layer_moments g;
    if (ts_two_layer_moments_of(s->target, &g, err)) return TS_ERUNTIME;
    double f_mean, f_square;
    ts_two_layer_initial_student(s->p, &f_mean, &f_square);
    *ts_recorder_scalar(r, M_THEORY_INITIAL_TEST_ERROR) =
        0.5 * (g.square - 2.0 * f_mean * g.mean + f_square);
    if (s->optim.kind != TS_OPTIM_GD) return TS_OK;
    double *m1 = ts_recorder_scalar(r, M_THEORY_STEP1_OVERLAP);
    double scale = ts_schedule_lr(sched, 0) * (double)s->n / (double)s->D * 0.5;
    for (size_t j = 0; j < s->p; j++)
        for (size_t k = 0; k < s->k; k++)
            m1[j * s->k + k] = k < TS_TWO_LAYER_TARGET_DIRECTIONS ? scale * st->a[j] * g.linear[k]
                                                                  : 0.0;
    return TS_OK;
}

/* ------------------------------------------------------------------ the run */

static ts_status iterate(state *st, const ts_point *p, const ts_schedule *sched, ts_recorder *r,
                         ts_error *err)
{
    const settings *s = &st->s;
    ts_tracker k;
    if (ts_tracker_init(&k, p, r, &tracked, NAN, err)) return TS_FAILED;
    for (int64_t t = 0;; t++) {
        int stepping = t < s->steps;
        if (stepping && ts_batch_is_fresh(t, s->reuse))
            draw_samples(st, &st->batch, st->data, st->noise);
        double loss = ts_two_layer_pass(s->n, s->D, s->p, st->batch.x, st->batch.y, st->w, st->a,
                                        st->u, st->f, st->batch.res, st->e,
                                        stepping ? st->grad : NULL) /
                      (double)s->n;
        /* the tracker sets the reference (the loss at t = 0) that the test error's guard uses */
        int recording = ts_tracker_is_record_time(&k, t);
        size_t slot = ts_tracker_slot(&k);
        if (ts_tracker_track(&k, t, loss) == TS_DIVERGED ||
            (recording && ts_tracker_guard(&k, record_at(st, r, slot)) == TS_DIVERGED))
            return TS_DIVERGED;
        if (!stepping) return TS_DONE;
        ts_optim_step(&st->optim, st->w, st->grad, ts_schedule_lr(sched, t));
    }
}

static int check(const ts_point *p, ts_error *err)
{
    settings s = settings_of(p);
    ts_schedule sched;
    if (ts_optim_config_check(&s.optim, err) ||
        ts_schedule_of(p, s.eta, s.steps, &sched, err))
        return TS_EUSAGE;
    if (s.D < s.k + s.p)
        return ts_error_set(err, TS_EUSAGE,
                            "dim = %zu is too small: the %zu student rows must be orthogonal to "
                            "the %zu teacher rows and to each other (dim >= directions + hidden)",
                            s.D, s.p, s.k);
    if (s.n < 1)
        return ts_error_set(err, TS_EUSAGE, "sample_ratio x dim rounds to no sample");
    const size_t cblas_max = INT32_MAX; /* CBLAS takes int sizes */
    if (s.n > cblas_max || s.ntest > cblas_max || s.D > cblas_max)
        return ts_error_set(err, TS_EUSAGE, "n = %zu, test_size = %zu and dim = %zu must each be "
                            "below 2^31 (CBLAS)", s.n, s.ntest, s.D);
    return TS_OK;
}

static ts_status run(const ts_point *p, gsl_rng *rng, ts_recorder *r, ts_error *err)
{
    if (check(p, err)) return TS_FAILED;
    state st;
    if (state_init(&st, p, rng, err)) return TS_FAILED;
    ts_schedule sched;
    ts_status status = TS_FAILED;
    if (ts_schedule_of(p, st.s.eta, st.s.steps, &sched, err) == TS_OK &&
        record_theory(&st, &sched, r, err) == TS_OK)
        status = iterate(&st, p, &sched, r, err);
    state_free(&st);
    return status;
}

/* Per GD step two GEMMs of 2 n p D multiply-adds; a fresh batch costs n D Gaussians (counted as
 * 10 multiply-adds each) and its labels 2 n 2 D; a record one test pass, 2 ntest p D. */
static double cost(const ts_point *p)
{
    settings s = settings_of(p);
    double D = (double)s.D, n = (double)s.n, pw = (double)s.p, steps = (double)s.steps;
    double ntest = (double)s.ntest, records = (double)ts_point_value(p, "record")->rec.count;
    double batches = s.reuse == 0 ? 1.0 : ceil(steps / (double)s.reuse);
    return steps * 4.0 * n * pw * D + batches * n * D * 14.0 + ntest * D * 14.0 +
           records * (2.0 * ntest * pw * D + (pw * (pw + (double)s.k)) * D);
}

/* Exactly what state_init allocates: the batch and the test set (ts_dataset_bytes), teacher,
 * W, gradient and optimizer state, and the scratch both passes share. */
static size_t memory(const ts_point *p)
{
    settings s = settings_of(p);
    size_t rows = scratch_rows(&s), D = s.D;
    size_t state = s.optim.kind == TS_OPTIM_ADAM ? 2 : s.optim.momentum > 0 ? 1 : 0;
    size_t doubles = (s.k + (2 + state) * s.p) * D + s.p + rows * (2 * s.p + 1 + 2) +
                     s.p * (s.k + s.p);
    return ts_dataset_bytes(s.n, D) + ts_dataset_bytes(s.ntest, D) + sizeof(double) * doubles;
}

const ts_experiment ts_experiment_two_layer = {
    .name = "two_layer",
    .summary = "batch GD with batch reuse on a two-layer ReLU network: single- vs multi-pass "
               "overlaps with a multi-index teacher (GEMMs on the BLAS)",
    .reference = "Dandi, Troiani, Arnaboldi, Pesce, Zdeborova, Krzakala, The Benefits of Reusing "
                 "Batches for Gradient Descent in Two-Layer Networks, ICML 2024, arXiv:2402.03220",
    .params = params,
    .metrics = metrics,
    .cost = cost,
    .memory = memory,
    .blowup = {.quantity = "the training loss (or the test error)", .bound = 1e6,
               .relative = 1},
    .test_points = "params: {dim: 400, sample_ratio: 3, steps: 4, record: {linear: 5}, "
                   "test_size: 1000}",
    .run = run,
    .check = check,
};
