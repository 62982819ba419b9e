/* Online SGD on sequence single-index models and single-layer attention (Arnaboldi, Loureiro,
 * Stephan, Krzakala, Zdeborova, NeurIPS 2025, arXiv:2506.02651; docs/experiments.md section 5).
 *
 * One fresh sample per step: X [L x d] with entries N(0, 1/d), the teacher's projections
 * z_l = x_l . w* (||w*|| = sqrt(d), so z_l ~ N(0, 1) i.i.d.) and the label y = g(z). Students:
 *   tied       f = sigma(L^(-1/2) sum_l x_l . w),            ||w|| = sqrt(d)
 *   untied     f = sigma(L^(-1/2) sum_l x_l . w_l),          ||W|| = sqrt(L d) jointly
 *   attention  f = R(softmax((X + P) w w^T (X + P)^T)), row-wise softmax, d_head 1, V = I,
 *              P_l = (-1)^l p / sqrt(d) with p a unit vector orthogonal to w* and w_0 (the
 *              paper's P_1 = -P_2 at L = 2), R the identity (matrix output) or (1/sqrt L) tr.
 * Spherical online SGD on l = (y - f)^2 (no factor 1/2; Frobenius for matrices): w <- w - gamma
 * grad l, then w rescaled to its norm (exactly the fixed radius, so no drift accumulates), with
 * gamma = step_size L^step_scaling times the schedule.
 *
 * Streams: the student's initial direction from the run's stream (substream 0), the samples from
 * substream 1, the teacher and then p from substream 3: no choice of model or activation
 * changes a draw of the samples, so under shared_streams: [model] tied and untied train on the
 * same samples (paired comparisons). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_math.h>

#include "tailsweep/experiment.h"
#include "tailsweep/linalg.h"
#include "tailsweep/rng.h"
#include "tailsweep/schedule.h"
#include "tailsweep/tracker.h"
#include "tailsweep/variates.h"

#include "ssi.h"

/* ------------------------------------------------------------------ the targets */

static double identity_token(double z) { return z; }
static double he2_token(double z) { return (z * z - 1.0) / M_SQRT2; }
static double he3_token(double z) { return (z * z * z - 3.0 * z) / sqrt(6.0); }
static double inverse_sqrt_len(size_t L) { return 1.0 / sqrt((double)L); }
static double unit_scale(size_t L) { return (void)L, 1.0; }
static double pathological(const double *z, size_t L) { return (void)L, z[0] - z[1]; }

/* Row-wise softmax of the L x L matrix s, in place (each row shifted by its maximum). */
static void softmax_rows(double *s, size_t L)
{
    for (size_t l = 0; l < L; l++) {
        double *row = s + l * L, top = row[0], sum = 0;
        for (size_t k = 1; k < L; k++) top = fmax(top, row[k]);
        for (size_t k = 0; k < L; k++) sum += row[k] = exp(row[k] - top);
        for (size_t k = 0; k < L; k++) row[k] /= sum;
    }
}

/* (1 - omega) softmax(z z^T) + omega softmax([[1, -1], [-1, 1]]), L = 2: a semantic part that
 * the teacher's direction decides and a positional part that p can express. */
static void positional_semantic(const double *z, size_t L, double omega, double *y)
{
    double positional[4] = {1.0, -1.0, -1.0, 1.0};
    for (size_t l = 0; l < L; l++)
        for (size_t k = 0; k < L; k++) y[l * L + k] = z[l] * z[k];
    softmax_rows(y, L);
    softmax_rows(positional, 2);
    for (size_t i = 0; i < L * L; i++) y[i] = (1.0 - omega) * y[i] + omega * positional[i];
}

/* One row per target, in the order of TARGET_CHOICES (a unit test checks the two agree). */
const ts_ssi_target ts_ssi_targets[] = {
    {"sum", "L^(-1/2) sum_l z_l", 1, identity_token, inverse_sqrt_len, NULL, NULL, 0, 0},
    {"h2_sum", "sum_l (z_l^2 - 1) / sqrt(2)", 2, he2_token, unit_scale, NULL, NULL, 0, 0},
    {"he3_sum", "sum_l He3(z_l) / sqrt(6)", 3, he3_token, unit_scale, NULL, NULL, 0, 0},
    {"pathological", "z_1 - z_2", 0, NULL, NULL, pathological, NULL, 2, 0},
    {"positional_semantic", "(1 - omega) softmax(z z^T) + omega softmax([[1, -1], [-1, 1]])", 0,
     NULL, NULL, NULL, positional_semantic, 2, 2},
    {0},
};
#define TARGET_CHOICES "sum|h2_sum|he3_sum|pathological|positional_semantic"

/* ------------------------------------------------------------------ declarations */

static const ts_param_def params[] = {
    {"seq_len", TS_INT, .def.i = 2, .range = "[1, inf)", .unit = "tokens",
     .doc = "sequence length L"},
    {"dim", TS_INT, .def.i = 500, .range = "[3, inf)", .unit = "", .doc = "token dimension d"},
    {"model", TS_ENUM, .def.e = "tied", .choices = "tied|untied|attention", .unit = "",
     .doc = "tied: one w for every token; untied: W [L x d]; attention: single-layer "
            "attention, d_head 1, with positional encoding"},
    {"activation", TS_ENUM, .def.e = "relu", .choices = "relu|square", .unit = "",
     .doc = "sigma of the tied and untied models (square: linear attention)"},
    {"reduction", TS_ENUM, .def.e = "identity", .choices = "identity|trace", .unit = "",
     .doc = "attention's output: the L x L matrix, or its trace over sqrt(L) (scalar targets)"},
    {"target", TS_ENUM, .def.e = "sum", .choices = TARGET_CHOICES, .unit = "",
     .doc = "y: L^(-1/2) sum z_l (SIE 1), sum He2(z_l)/sqrt2 (SIE 2), sum He3(z_l)/sqrt6 "
            "(SIE 3), z_1 - z_2, or the positional-semantic matrix (attention, L = 2)"},
    {"omega", TS_REAL, .def.r = 0.5, .range = "[0, 1]", .unit = "",
     .doc = "positional_semantic: weight of the positional part"},
    {"step_size", TS_REAL, .def.r = 0.5, .range = "(0, inf)", .unit = "",
     .doc = "base step; gamma = step_size L^step_scaling (times the schedule)"},
    {"step_scaling", TS_REAL, .def.r = 0.0, .unit = "",
     .doc = "exponent s of the step's factor L^s (the paper: 0, 1/2, 1, 2)"},
    {"start", TS_ENUM, .def.e = "positive", .choices = "positive|overlap", .unit = "",
     .doc = "initial overlap m_0 = w_0 . w* / d: positive = 1/sqrt(dim) (the paper's), "
            "overlap = init_overlap"},
    {"init_overlap", TS_REAL, .def.r = 0.0, .range = "[-1, 1]", .unit = "",
     .doc = "start overlap: m_0 exactly (0: the paper's zero start)"},
    {"recovery_threshold", TS_REAL, .def.r = 0.5, .range = "(0, 1]", .unit = "",
     .doc = "recovery_step is the first n with ||(e, m)|| >= this"},
    TS_ITERATION_PARAMS(10000, TS_RECORD_LINEAR, 101),
    TS_SCHEDULE_PARAMS,
    {0},
};

enum {
    M_OVERLAP, M_POSITIONAL_OVERLAP, M_LOSS, M_RECOVERY_STEP, M_THEORY_OVERLAP,
    M_THEORY_SMALL_STEP, NMETRICS
};
static const ts_metric_def metrics[] = {
    [M_OVERLAP] = {.name = "overlap", .kind = TS_SERIES, .unit = "",
                   .doc = "m = w . w* / d (untied: the norm of the L token overlaps over "
                          "sqrt(L))"},
    [M_POSITIONAL_OVERLAP] = {.name = "positional_overlap", .kind = TS_SERIES, .unit = "",
                              .doc = "e = w . p / sqrt(d) (attention; NaN for the others)"},
    [M_LOSS] = {.name = "loss", .kind = TS_SERIES, .unit = "",
                .doc = "mean of (y - f)^2 over the steps since the previous record (NaN at 0)"},
    [M_RECOVERY_STEP] = {.name = "recovery_step", .kind = TS_SCALAR, .unit = "samples",
                         .doc = "first n with ||(e, m)|| >= recovery_threshold (NaN if never)"},
    [M_THEORY_OVERLAP] = {
        .name = "theory_overlap", .kind = TS_SERIES, .unit = "",
        .doc = "the overlap's d -> infinity limit (an ODE in n/d) for tied models on sum, "
               "h2_sum, he3_sum and pathological; NaN otherwise, and past where a step so large "
               "that the ODE is stiff exhausts the solver",
        .theory_for = "overlap"},
    [M_THEORY_SMALL_STEP] = {
        .name = "theory_overlap_small_step", .kind = TS_SERIES, .unit = "",
        .doc = "small-step closed forms, tied relu: tanh(G + atanh m_0) on sum, m_0 exp((2 / "
               "sqrt(pi)) G) on h2_sum, G = sum of the steps so far / d; NaN otherwise",
        .theory_for = "overlap"},
    [NMETRICS] = {0},
};

/* Nothing for the tracker to record: it keeps the record times and watches the weights' norm
 * after each step, before renormalisation, relative to the radius. */
static const ts_tracked tracked = {.value_series = -1, .relative_series = -1, .first_hits = -1,
                                   .final_value = -1, .final_relative = -1};

/* ------------------------------------------------------------------ settings */

typedef struct settings {
    ts_ssi_net net;
    const ts_ssi_target *target;
    double omega, gamma, m0, threshold;
    int64_t steps;
} settings;

static settings settings_of(const ts_point *p)
{
    settings s = {
        .net = {.model = (ts_ssi_model)ts_point_choice(p, "model"),
                .activation = (ts_ssi_activation)ts_point_choice(p, "activation"),
                .reduction = (ts_ssi_reduction)ts_point_choice(p, "reduction"),
                .L = (size_t)ts_point_int(p, "seq_len"), .d = (size_t)ts_point_int(p, "dim")},
        .target = &ts_ssi_targets[ts_point_choice(p, "target")],
        .omega = ts_point_real(p, "omega"),
        .m0 = ts_point_is(p, "start", "positive") ? 1.0 / sqrt((double)ts_point_int(p, "dim"))
                                                  : ts_point_real(p, "init_overlap"),
        .threshold = ts_point_real(p, "recovery_threshold"),
        .steps = ts_point_int(p, "steps"),
    };
    s.gamma = ts_point_real(p, "step_size") *
              pow((double)s.net.L, ts_point_real(p, "step_scaling"));
    return s;
}

/* ------------------------------------------------------------------ the networks */

size_t ts_ssi_weight_size(const ts_ssi_net *net)
{
    return net->model == TS_SSI_UNTIED ? net->L * net->d : net->d;
}

size_t ts_ssi_work_size(const ts_ssi_net *net)
{
    return net->d + 2 * net->L + 2 * net->L * net->L;
}

int ts_ssi_matrix_output(const ts_ssi_net *net)
{
    return net->model == TS_SSI_ATTENTION && net->reduction == TS_SSI_IDENTITY;
}

void ts_ssi_label(const ts_ssi_net *net, const ts_ssi_target *target, double omega,
                  const double *z, double *y)
{
    size_t L = net->L;
    if (target->token) {
        double sum = 0;
        for (size_t l = 0; l < L; l++) sum += target->token(z[l]);
        y[0] = target->scale(L) * sum;
    } else if (target->scalar) {
        y[0] = target->scalar(z, L);
    } else {
        target->matrix(z, L, omega, y);
        if (ts_ssi_matrix_output(net)) return;
        double trace = 0;
        for (size_t l = 0; l < L; l++) trace += y[l * L + l];
        y[0] = trace / sqrt((double)L);
    }
}

/* sigma(h) and sigma'(h). */
static double activate(ts_ssi_activation a, double h, double *slope)
{
    if (a == TS_SSI_SQUARE) {
        *slope = 2.0 * h;
        return h * h;
    }
    *slope = h > 0 ? 1.0 : 0.0;
    return h > 0 ? h : 0.0;
}

/* tied: f = sigma(s . w), s = L^(-1/2) sum_l x_l; grad = -G s, G = 2 (y - f) sigma'. */
static double tied_loss_grad(const ts_ssi_net *net, const double *x, const double *w, double y,
                             double *grad, double *s)
{
    size_t L = net->L, d = net->d;
    memcpy(s, x, d * sizeof *s);
    for (size_t l = 1; l < L; l++) ts_linalg_axpy(d, 1.0, x + l * d, s);
    double scale = 1.0 / sqrt((double)L), slope;
    double r = y - activate(net->activation, scale * ts_linalg_dot(d, s, w), &slope);
    if (grad) {
        memset(grad, 0, d * sizeof *grad);
        ts_linalg_axpy(d, -2.0 * r * slope * scale, s, grad);
    }
    return r * r;
}

/* untied: f = sigma(L^(-1/2) sum_l x_l . w_l); grad_l = -G L^(-1/2) x_l. */
static double untied_loss_grad(const ts_ssi_net *net, const double *x, const double *w, double y,
                               double *grad)
{
    size_t L = net->L, d = net->d;
    double scale = 1.0 / sqrt((double)L), h = 0, slope;
    for (size_t l = 0; l < L; l++) h += ts_linalg_dot(d, x + l * d, w + l * d);
    double r = y - activate(net->activation, scale * h, &slope);
    if (grad)
        for (size_t l = 0; l < L; l++) {
            double *g = grad + l * d;
            const double *xl = x + l * d, c = -2.0 * r * slope * scale;
            for (size_t k = 0; k < d; k++) g[k] = c * xl[k];
        }
    return r * r;
}

/* attention: a_l = (x_l + P_l) . w, A = softmax_rows(a a^T), f = A or tr(A) / sqrt(L).
 * Backward: Gamma = dl/dA; dl/dS_lk = A_lk (Gamma_lk - sum_j A_lj Gamma_lj) (row softmax);
 * dl/da_l = sum_k (dS_lk + dS_kl) a_k; grad = sum_l (dl/da_l) (x_l + P_l). */
static double attention_loss_grad(const ts_ssi_net *net, const double *x, const double *w,
                                  const double *y, double *grad, double *work)
{
    size_t L = net->L, d = net->d;
    double *a = work, *c = a + L, *A = c + L, *dS = A + L * L;
    double root_d = sqrt((double)d), pw = ts_linalg_dot(d, net->p, w) / root_d;
    for (size_t l = 0; l < L; l++)
        a[l] = ts_linalg_dot(d, x + l * d, w) + (l % 2 ? -pw : pw);
    for (size_t l = 0; l < L; l++)
        for (size_t k = 0; k < L; k++) A[l * L + k] = a[l] * a[k];
    softmax_rows(A, L);
    double loss = 0;
    if (ts_ssi_matrix_output(net)) {
        for (size_t i = 0; i < L * L; i++) {
            double r = y[i] - A[i];
            loss += r * r;
            dS[i] = -2.0 * r; /* Gamma, overwritten row by row below */
        }
    } else {
        double trace = 0;
        for (size_t l = 0; l < L; l++) trace += A[l * L + l];
        double r = y[0] - trace / sqrt((double)L);
        loss = r * r;
        for (size_t i = 0; i < L * L; i++) dS[i] = 0.0;
        for (size_t l = 0; l < L; l++) dS[l * L + l] = -2.0 * r / sqrt((double)L);
    }
    if (!grad) return loss;
    for (size_t l = 0; l < L; l++) {
        double mean = 0;
        for (size_t k = 0; k < L; k++) mean += A[l * L + k] * dS[l * L + k];
        for (size_t k = 0; k < L; k++) dS[l * L + k] = A[l * L + k] * (dS[l * L + k] - mean);
    }
    double positional = 0;
    memset(grad, 0, d * sizeof *grad);
    for (size_t l = 0; l < L; l++) {
        c[l] = 0;
        for (size_t k = 0; k < L; k++) c[l] += (dS[l * L + k] + dS[k * L + l]) * a[k];
        ts_linalg_axpy(d, c[l], x + l * d, grad);
        positional += l % 2 ? -c[l] : c[l];
    }
    ts_linalg_axpy(d, positional / root_d, net->p, grad);
    return loss;
}

double ts_ssi_loss_grad(const ts_ssi_net *net, const double *x, const double *w,
                        const double *y, double *grad, double *work)
{
    switch (net->model) {
    case TS_SSI_TIED: return tied_loss_grad(net, x, w, y[0], grad, work);
    case TS_SSI_UNTIED: return untied_loss_grad(net, x, w, y[0], grad);
    case TS_SSI_ATTENTION: return attention_loss_grad(net, x, w, y, grad, work);
    }
    return NAN;
}

/* ------------------------------------------------------------------ the run's state */

typedef struct state {
    settings s;
    double *teacher, *p; /* [d]: norm sqrt(d); unit norm (attention) */
    double *w, *grad;    /* [weight size] */
    double *x, *z, *y;   /* the sample [L x d], its projections [L], its label [L^2] */
    double *work;
    gsl_rng *data;
    double radius; /* ||w||: sqrt(d), sqrt(L d) untied */
} state;

static void state_free(state *st)
{
    free(st->teacher);
    free(st->p);
    free(st->w);
    free(st->grad);
    free(st->x);
    free(st->z);
    free(st->y);
    free(st->work);
    if (st->data) gsl_rng_free(st->data);
}

/* v made orthogonal to the unit-free directions basis[i] (each of squared norm sq[i]), twice
 * (so to rounding whatever the draw), then scaled to norm `norm`. */
static void orthogonalise(double *v, size_t d, const double *const *basis, const double *sq,
                          size_t nbasis, double norm)
{
    for (int pass = 0; pass < 2; pass++)
        for (size_t b = 0; b < nbasis; b++)
            ts_linalg_axpy(d, -ts_linalg_dot(d, v, basis[b]) / sq[b], basis[b], v);
    ts_linalg_scal(d, norm / ts_linalg_nrm2(d, v), v);
}

/* The teacher, p, and each student row w_l = m0 w* + sqrt(1 - m0^2) u_l with u_l uniform on the
 * sphere of radius sqrt(d) orthogonal to w* (and p): overlap m0 to rounding. */
static void draw_directions(state *st, const ts_point *pt, gsl_rng *rng)
{
    const settings *s = &st->s;
    size_t d = s->net.d, rows = s->net.model == TS_SSI_UNTIED ? s->net.L : 1;
    double dd = (double)d, root_d = sqrt(dd);
    ts_rng_key_for(st->data, pt, 3);
    ts_gaussian_fill(st->data, 1.0, st->teacher, d);
    ts_linalg_scal(d, root_d / ts_linalg_nrm2(d, st->teacher), st->teacher);
    const double *basis[2] = {st->teacher, st->p};
    double sq[2] = {dd, 1.0};
    size_t nbasis = 1;
    if (st->p) {
        ts_gaussian_fill(st->data, 1.0, st->p, d);
        orthogonalise(st->p, d, basis, sq, 1, 1.0);
        nbasis = 2;
    }
    double along = s->m0, across = sqrt(fmax(0.0, 1.0 - s->m0 * s->m0));
    for (size_t l = 0; l < rows; l++) {
        double *u = st->w + l * d;
        ts_gaussian_fill(rng, 1.0, u, d);
        orthogonalise(u, d, basis, sq, nbasis, root_d);
        ts_linalg_scal(d, across, u);
        ts_linalg_axpy(d, along, st->teacher, u);
    }
    ts_rng_key_for(st->data, pt, 1);
}

static int state_init(state *st, const ts_point *pt, gsl_rng *rng, ts_error *err)
{
    memset(st, 0, sizeof *st);
    settings *s = &st->s;
    *s = settings_of(pt);
    size_t d = s->net.d, L = s->net.L, nw = ts_ssi_weight_size(&s->net);
    st->teacher = malloc(d * sizeof *st->teacher);
    if (s->net.model == TS_SSI_ATTENTION) st->p = malloc(d * sizeof *st->p);
    st->w = malloc(nw * sizeof *st->w);
    st->grad = malloc(nw * sizeof *st->grad);
    st->x = malloc(L * d * sizeof *st->x);
    st->z = malloc(L * sizeof *st->z);
    st->y = malloc(L * L * sizeof *st->y);
    st->work = malloc(ts_ssi_work_size(&s->net) * sizeof *st->work);
    st->data = ts_rng_alloc_for(pt, 1);
    if (!st->teacher || (s->net.model == TS_SSI_ATTENTION && !st->p) || !st->w || !st->grad ||
        !st->x || !st->z || !st->y || !st->work || !st->data) {
        state_free(st);
        return ts_error_set(err, TS_ERUNTIME, "out of memory for seq_len = %zu, dim = %zu", L,
                            d);
    }
    s->net.p = st->p;
    st->radius = sqrt((double)nw);
    draw_directions(st, pt, rng);
    return TS_OK;
}

/* m (untied: ||(w_l . w* / d)_l|| / sqrt(L)) and e. */
static double overlap_of(const state *st)
{
    const settings *s = &st->s;
    size_t d = s->net.d;
    if (s->net.model != TS_SSI_UNTIED) return ts_linalg_dot(d, st->w, st->teacher) / (double)d;
    double sum = 0;
    for (size_t l = 0; l < s->net.L; l++) {
        double m = ts_linalg_dot(d, st->w + l * d, st->teacher) / (double)d;
        sum += m * m;
    }
    return sqrt(sum / (double)s->net.L);
}

static double positional_of(const state *st)
{
    size_t d = st->s.net.d;
    return st->p ? ts_linalg_dot(d, st->w, st->p) / sqrt((double)d) : NAN;
}

/* A fresh sample, its projections and its label; returns the loss and leaves the gradient. */
static double sample_step(state *st)
{
    const settings *s = &st->s;
    size_t d = s->net.d, L = s->net.L;
    ts_gaussian_fill(st->data, 1.0 / sqrt((double)d), st->x, L * d);
    for (size_t l = 0; l < L; l++) st->z[l] = ts_linalg_dot(d, st->x + l * d, st->teacher);
    ts_ssi_label(&s->net, s->target, s->omega, st->z, st->y);
    return ts_ssi_loss_grad(&s->net, st->x, st->w, st->y, st->grad, st->work);
}

/* w <- w - lr grad, rescaled to the radius; returns ||w'|| / radius before the rescaling. */
static double spherical_step(state *st, double lr)
{
    size_t nw = ts_ssi_weight_size(&st->s.net);
    ts_linalg_axpy(nw, -lr, st->grad, st->w);
    double norm = ts_linalg_nrm2(nw, st->w);
    if (norm > 0 && isfinite(norm)) ts_linalg_scal(nw, st->radius / norm, st->w);
    return norm / st->radius;
}

/* ------------------------------------------------------------------ the theory */

typedef struct step_law {
    const ts_schedule *sched;
    double factor, dim; /* L^s, d */
} step_law;

/* The step at continuous time tau = n / d: the schedule interpolated between whole steps (the
 * limit sees a schedule in tau, not its per-step jumps). */
static double step_at(double tau, void *params)
{
    const step_law *law = params;
    double t = tau * law->dim, whole = floor(t);
    double before = ts_schedule_lr(law->sched, (int64_t)whole);
    double after = ts_schedule_lr(law->sched, (int64_t)whole + 1);
    return law->factor * (before + (t - whole) * (after - before));
}

static int has_limit(const settings *s)
{
    return s->net.model == TS_SSI_TIED && !s->target->matrix;
}

static int record_limit(const settings *s, const ts_schedule *sched, ts_recorder *r,
                        ts_error *err)
{
    size_t nrec = r->layout.nrecords;
    double *series = ts_recorder_series(r, M_THEORY_OVERLAP);
    if (!has_limit(s)) return TS_OK;
    double *tau = malloc(nrec * sizeof *tau);
    if (!tau) return ts_error_set(err, TS_ERUNTIME, "out of memory for the theory");
    for (size_t i = 0; i < nrec; i++) tau[i] = (double)r->times[i] / (double)s->net.d;
    ts_ssi_limit lim;
    step_law law = {sched, s->gamma / sched->base, (double)s->net.d};
    int rc = ts_ssi_limit_init(&lim, s->target, s->net.L, s->net.activation, err);
    if (rc == TS_OK) {
        /* a step so large that the limit is stiff exhausts the solver's budget: the theory is
         * then NaN from there on (ts_ode_solve leaves the times not reached NaN), the run goes on */
        ts_error stiff = {0};
        ts_ssi_limit_overlap(&lim, s->m0, step_at, &law, tau, nrec, series, &stiff);
        ts_ssi_limit_free(&lim);
    }
    free(tau);
    return rc;
}

/* tanh(G + atanh m0) (sum) and m0 exp((2 / sqrt(pi)) G) (h2_sum), G = sum_{t < n} gamma_t / d:
 * the limit's first-order terms in gamma (docs/experiments.md 5.3), with the steps summed so
 * that a schedule enters as its integral. */
static void record_small_step(const settings *s, const ts_schedule *sched, ts_recorder *r)
{
    int sum = s->target->token && s->target->sie == 1, h2 = s->target->sie == 2;
    if (s->net.model != TS_SSI_TIED || s->net.activation != TS_SSI_RELU || !(sum || h2)) return;
    double *series = ts_recorder_series(r, M_THEORY_SMALL_STEP), factor = s->gamma / sched->base;
    double G = 0, c = 0; /* Neumaier's compensated sum of the steps */
    int64_t t = 0;
    for (size_t i = 0; i < r->layout.nrecords; i++) {
        for (; t < r->times[i]; t++) {
            double x = factor * ts_schedule_lr(sched, t) / (double)s->net.d, next = G + x;
            c += fabs(G) >= fabs(x) ? (G - next) + x : (x - next) + G;
            G = next;
        }
        series[i] = sum ? tanh(G + c + atanh(s->m0)) : s->m0 * exp(2.0 / sqrt(M_PI) * (G + c));
    }
}

/* ------------------------------------------------------------------ the run */

static ts_status iterate(state *st, const ts_point *pt, const ts_schedule *sched, ts_recorder *r,
                         ts_error *err)
{
    const settings *s = &st->s;
    double *overlap = ts_recorder_series(r, M_OVERLAP);
    double *positional = ts_recorder_series(r, M_POSITIONAL_OVERLAP);
    double *loss = ts_recorder_series(r, M_LOSS), *recovery = ts_recorder_scalar(r, M_RECOVERY_STEP);
    double factor = s->gamma / sched->base, loss_sum = 0, growth = 1.0;
    int64_t since = 0;
    ts_tracker k;
    if (ts_tracker_init(&k, pt, r, &tracked, 1.0, err)) return TS_FAILED;
    for (int64_t t = 0;; t++) {
        double m = overlap_of(st), e = positional_of(st);
        if (isnan(*recovery) && hypot(m, isnan(e) ? 0.0 : e) >= s->threshold)
            *recovery = (double)t;
        if (ts_tracker_is_record_time(&k, t)) {
            size_t slot = ts_tracker_slot(&k);
            overlap[slot] = m;
            positional[slot] = e;
            loss[slot] = since ? loss_sum / (double)since : NAN;
            loss_sum = 0;
            since = 0;
        }
        if (ts_tracker_track(&k, t, growth) == TS_DIVERGED) return TS_DIVERGED;
        if (t == s->steps) return TS_DONE;
        loss_sum += sample_step(st);
        since++;
        growth = spherical_step(st, factor * ts_schedule_lr(sched, t));
    }
}

static int check(const ts_point *pt, ts_error *err)
{
    settings s = settings_of(pt);
    ts_schedule sched;
    if (ts_schedule_of(pt, 1.0, s.steps, &sched, err)) return TS_EUSAGE;
    const ts_ssi_target *t = s.target;
    size_t L = s.net.L;
    if ((t->min_len && L < t->min_len) || (t->max_len && L > t->max_len)) {
        if (t->min_len == t->max_len)
            return ts_error_set(err, TS_EUSAGE, "target %s is defined for seq_len = %zu only "
                                "(seq_len = %zu)", t->name, t->min_len, L);
        return ts_error_set(err, TS_EUSAGE, "target %s needs seq_len >= %zu (seq_len = %zu)",
                            t->name, t->min_len, L);
    }
    if (t->matrix && s.net.model != TS_SSI_ATTENTION)
        return ts_error_set(err, TS_EUSAGE, "target %s is a matrix: it needs model attention "
                            "(model is %s)", t->name,
                            s.net.model == TS_SSI_TIED ? "tied" : "untied");
    if (!t->matrix && ts_ssi_matrix_output(&s.net))
        return ts_error_set(err, TS_EUSAGE, "target %s is a scalar but attention with reduction "
                            "identity outputs an L x L matrix: use reduction: trace", t->name);
    if (ts_point_is(pt, "start", "positive") && ts_point_real(pt, "init_overlap") != 0.0)
        return ts_error_set(err, TS_EUSAGE, "init_overlap = %g is only read with start: overlap "
                            "(start: positive begins at 1/sqrt(dim))",
                            ts_point_real(pt, "init_overlap"));
    if (!isfinite(s.gamma) || s.gamma <= 0)
        return ts_error_set(err, TS_EUSAGE, "step_size x seq_len^step_scaling = %g is not a "
                            "positive finite step", s.gamma);
    if ((double)L * (double)s.net.d > (double)(SIZE_MAX / sizeof(double) / 4))
        return ts_error_set(err, TS_EUSAGE, "seq_len x dim = %zu x %zu is too large", L,
                            s.net.d);
    return TS_OK;
}

static ts_status run(const ts_point *pt, gsl_rng *rng, ts_recorder *r, ts_error *err)
{
    if (check(pt, err)) return TS_FAILED;
    state st;
    if (state_init(&st, pt, rng, err)) return TS_FAILED;
    ts_schedule sched;
    ts_status status = TS_FAILED;
    /* the schedule over the unscaled step_size; the runs multiply by L^s */
    if (ts_schedule_of(pt, ts_point_real(pt, "step_size"), st.s.steps, &sched, err) == TS_OK &&
        record_limit(&st.s, &sched, r, err) == TS_OK) {
        record_small_step(&st.s, &sched, r);
        status = iterate(&st, pt, &sched, r, err);
    }
    state_free(&st);
    return status;
}

/* Per step L d Gaussians (about 10 multiply-adds each) and about 6 passes over L d. */
static double cost(const ts_point *pt)
{
    settings s = settings_of(pt);
    return (double)s.steps * (double)s.net.L * (double)s.net.d * 16.0;
}

/* What state_init allocates, plus the theory's rules and record times. */
static size_t memory(const ts_point *pt)
{
    settings s = settings_of(pt);
    size_t L = s.net.L, d = s.net.d, nw = ts_ssi_weight_size(&s.net);
    size_t nrec = (size_t)ts_point_value(pt, "record")->rec.count;
    size_t doubles = 2 * d + 2 * nw + L * d + L + L * L + ts_ssi_work_size(&s.net) + nrec + 4096;
    return sizeof(double) * doubles;
}

const ts_experiment ts_experiment_ssi = {
    .name = "ssi",
    .summary = "online spherical SGD on sequence single-index models (tied, untied) and "
               "single-layer attention, with the overlap's high-dimensional limit beside it",
    .reference = "Arnaboldi, Loureiro, Stephan, Krzakala, Zdeborova, Asymptotics of SGD in "
                 "Sequence-Single Index Models and Single-Layer Attention Networks, NeurIPS "
                 "2025, arXiv:2506.02651",
    .params = params,
    .metrics = metrics,
    .cost = cost,
    .memory = memory,
    .blowup = {.quantity = "the weights' norm after a step, before renormalisation, over the "
                           "radius",
               .bound = 1e100, .relative = 0},
    .test_points = "params: {dim: 40, seq_len: 2, steps: 60, record: {linear: 5}, "
                   "reduction: trace}\nsweep: {model: [tied, untied, attention]}",
    .run = run,
    .check = check,
};
