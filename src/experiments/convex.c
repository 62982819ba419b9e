/* SGD on synthetic convex problems under every step-size schedule, with the last-iterate bound
 * beside it: the benchmark behind Defazio, Cutkosky, Mehta, Mishchenko, "Optimal Linear Decay
 * Learning Rate Schedules and Further Refinements", arXiv:2310.07831 (docs/experiments.md
 * section 4).
 *
 * Data: n_train inputs x_i ~ N(0, Sigma), Sigma = diag(lambda_k), lambda_k = k^-s with
 * s = ln(condition_number) / ln(dim), so the eigenvalues fall as a power law from 1 to
 * 1/condition_number. A teacher w* ~ N(0, I/dim).
 *   least_squares  y = w* . x + label_noise z;  f(w) = 1/(2n) sum (x_i . w - y_i)^2 + l2/2 |w|^2;
 *                  f* by solving the normal equations (Cholesky, one step of iterative
 *                  refinement);
 *   logistic       y = sign(w* . x), flipped with probability label_flip;
 *                  f(w) = 1/n sum softplus(-y_i x_i . w) + l2/2 |w|^2; f* by Newton's method with
 *                  backtracking line search, to a gradient norm of 1e-13 (f* to about 1e-16
 *                  relative: the error of f is quadratic in the gradient's);
 * both from w_0 = 0. SGD (any shared optimizer) on minibatches of batch_size indices drawn with
 * replacement, the gradient of the minibatch loss plus l2 w.
 *
 * schedule refined: a first pass with refine_from records the minibatch gradient norms (l2 for
 * gd, l1 for sign and adam), then the run trains again from w_0 on the same minibatches (the
 * data stream is re-keyed) with the refined schedule; the recorded series are the second pass's,
 * first_pass_loss the first's.
 *
 * Streams: the teacher and the inputs from substream 3, the labels' noise or flips from 4, the
 * minibatches from 1. Memory: the n x d data, d x d for the solve, the schedule and the gradient
 * norms of the run (`steps` doubles each) for the bound, two more for the refined schedule;
 * logistic 256 scaled rows for the Hessian. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_linalg.h>
#include <gsl/gsl_randist.h>

#include "tailsweep/data.h"
#include "tailsweep/experiment.h"
#include "tailsweep/linalg.h"
#include "tailsweep/optim.h"
#include "tailsweep/refine.h"
#include "tailsweep/rng.h"
#include "tailsweep/risk.h"
#include "tailsweep/schedule.h"
#include "tailsweep/tracker.h"
#include "tailsweep/variates.h"

#include "convex.h"

/* ------------------------------------------------------------------ declarations */

static const ts_param_def params[] = {
    {"problem", TS_ENUM, .def.e = "least_squares", .choices = "least_squares|logistic",
     .unit = "", .doc = "least_squares: 1/(2n) |Xw - y|^2; logistic: mean softplus(-y x.w); "
                        "both + l2/2 |w|^2"},
    {"dim", TS_INT, .def.i = 20, .range = "[1, inf)", .unit = "", .doc = "dimension d"},
    {"n_train", TS_INT, .def.i = 500, .range = "[1, inf)", .unit = "samples",
     .doc = "training set size n"},
    {"condition_number", TS_REAL, .def.r = 100.0, .range = "[1, inf)", .unit = "",
     .doc = "lambda_1 / lambda_d of the inputs' covariance, eigenvalues k^-s in between"},
    {"label_noise", TS_REAL, .def.r = 0.1, .range = "[0, inf)", .unit = "",
     .doc = "least_squares: standard deviation of the label noise"},
    {"label_flip", TS_REAL, .def.r = 0.05, .range = "[0, 0.5]", .unit = "",
     .doc = "logistic: probability that a label is flipped"},
    {"l2", TS_REAL, .def.r = 1e-3, .range = "[0, inf)", .unit = "",
     .doc = "l2/2 |w|^2 in the objective (logistic needs > 0 when the data are separable)"},
    {"batch_size", TS_INT, .def.i = 8, .range = "[1, inf)", .unit = "samples",
     .doc = "minibatch size (indices drawn with replacement)"},
    {"step_size", TS_REAL, .def.r = 0.1, .range = "(0, inf)", .unit = "",
     .doc = "base step size (the schedule scales it)"},
    TS_ITERATION_PARAMS(1000, TS_RECORD_LOG, 40),
    TS_OPTIM_PARAMS("gd"),
    TS_SCHEDULE_PARAMS,
    {0},
};

enum {
    M_LOSS, M_SUBOPTIMALITY, M_GRAD_NORM, M_LR, M_FIRST_PASS_LOSS, M_FINAL_SUBOPTIMALITY,
    M_BOUND, M_OPTIMUM, NMETRICS
};
static const ts_metric_def metrics[] = {
    [M_LOSS] = {.name = "loss", .kind = TS_SERIES, .unit = "", .doc = "f(w_t), the objective"},
    [M_SUBOPTIMALITY] = {.name = "suboptimality", .kind = TS_SERIES, .unit = "",
                         .doc = "f(w_t) - f*"},
    [M_GRAD_NORM] = {.name = "grad_norm", .kind = TS_SERIES, .unit = "",
                     .doc = "l2 norm of the minibatch gradient the step at t takes (at "
                            "t = steps: the full gradient's)"},
    [M_LR] = {.name = "lr", .kind = TS_SERIES, .unit = "",
              .doc = "the step size at t (the schedule used; 0 at t = steps)"},
    [M_FIRST_PASS_LOSS] = {.name = "first_pass_loss", .kind = TS_SERIES, .unit = "",
                           .doc = "schedule refined: f(w_t) in the first pass (NaN otherwise)"},
    [M_FINAL_SUBOPTIMALITY] = {.name = "final_suboptimality", .kind = TS_SCALAR, .unit = "",
                               .doc = "f(w_T) - f*"},
    [M_BOUND] = {.name = "bound", .kind = TS_SCALAR, .unit = "",
                 .doc = "the last-iterate bound of the schedule used with the run's minibatch "
                        "gradient norms and D = |w_0 - w*| (refine.h)",
                 .theory_for = "final_suboptimality"},
    [M_OPTIMUM] = {.name = "optimum", .kind = TS_SCALAR, .unit = "", .doc = "f*"},
    [NMETRICS] = {0},
};

/* Diverged: the suboptimality above this multiple of its initial value (or not finite). */
#define BLOWUP 1e8

static const ts_tracked tracked = {.value_series = M_SUBOPTIMALITY, .relative_series = -1,
                                   .first_hits = -1, .final_value = M_FINAL_SUBOPTIMALITY,
                                   .final_relative = -1};

/* ------------------------------------------------------------------ settings */

typedef struct settings {
    int logistic;
    size_t d, n, batch;
    double kappa, noise, flip, l2, eta;
    int64_t steps;
    ts_optim_config optim;
    int refined;
} settings;

static settings settings_of(const ts_point *p)
{
    return (settings){
        .logistic = ts_point_is(p, "problem", "logistic"),
        .d = (size_t)ts_point_int(p, "dim"), .n = (size_t)ts_point_int(p, "n_train"),
        .batch = (size_t)ts_point_int(p, "batch_size"),
        .kappa = ts_point_real(p, "condition_number"), .noise = ts_point_real(p, "label_noise"),
        .flip = ts_point_real(p, "label_flip"), .l2 = ts_point_real(p, "l2"),
        .eta = ts_point_real(p, "step_size"), .steps = ts_point_int(p, "steps"),
        .optim = ts_optim_config_of(p), .refined = ts_schedule_is_refined(p),
    };
}

/* ------------------------------------------------------------------ the problem */

typedef struct ts_convex_problem problem;
struct ts_convex_problem {
    settings s;
    ts_dataset data;        /* x [n x d]; y labels (least squares) or 0 with rows y x (logistic) */
    double *w, *wstar;      /* [d] the iterate, the teacher */
    double *opt;            /* [d] the minimiser of f, w* of the bound's D = |w_0 - opt| */
    double *grad, *full;    /* [d] minibatch and full gradients */
    double *hessian;        /* [d x d] the solve's matrix */
    double *block;          /* [HESSIAN_BLOCK x d] logistic: rows scaled for the Hessian */
    double *norms, *table;  /* [steps]: refined only */
    double *lrs;            /* [steps]: the schedule used, for the bound */
    double *gnorms;         /* [steps]: the minibatch gradient norms, for the bound */
    double fstar;
    gsl_rng *batches;       /* substream 1 */
};

static void problem_free(problem *q)
{
    ts_dataset_free(&q->data);
    free(q->w), free(q->wstar), free(q->opt), free(q->grad), free(q->full), free(q->hessian);
    free(q->block);
    free(q->norms), free(q->table), free(q->lrs), free(q->gnorms);
    if (q->batches) gsl_rng_free(q->batches);
}

/* The teacher and inputs with covariance diag(k^-s), then the labels. */
static void draw_data(problem *q, const ts_point *p, gsl_rng *aux)
{
    const settings *s = &q->s;
    size_t d = s->d, n = s->n;
    double slope = d > 1 ? log(s->kappa) / log((double)d) : 0.0;
    ts_rng_key_for(aux, p, 3);
    ts_gaussian_fill(aux, 1.0 / sqrt((double)d), q->wstar, d);
    ts_gaussian_fill(aux, 1.0, q->data.x, n * d);
    for (size_t k = 0; k < d; k++) {
        double scale = pow((double)(k + 1), -slope / 2.0);
        for (size_t i = 0; i < n; i++) q->data.x[i * d + k] *= scale;
    }
    ts_rng_key_for(aux, p, 4);
    ts_linalg_gemv(TS_LINALG_N, n, d, 1.0, q->data.x, d, q->wstar, 0.0, q->data.y);
    if (!s->logistic) {
        for (size_t i = 0; i < n; i++) q->data.y[i] += s->noise * gsl_ran_gaussian(aux, 1.0);
        return;
    }
    /* logistic: the row holds y x (the loss depends on y x only, risk.h), y = +-1 */
    for (size_t i = 0; i < n; i++) {
        double y = q->data.y[i] >= 0 ? 1.0 : -1.0;
        if (gsl_rng_uniform(aux) < s->flip) y = -y;
        for (size_t k = 0; k < d; k++) q->data.x[i * d + k] *= y;
        q->data.y[i] = 0.0;
    }
}

static ts_loss loss_kind(const settings *s)
{
    return s->logistic ? TS_LOSS_LOGISTIC : TS_LOSS_SQUARED;
}

/* f(w) and, unless grad is NULL, its gradient (risk.h plus the l2 term). */
static double objective(problem *q, const double *w, double *grad)
{
    const settings *s = &q->s;
    double f = ts_risk_eval(loss_kind(s), &q->data, w, grad);
    double sq = ts_linalg_dot(s->d, w, w);
    if (grad) ts_linalg_axpy(s->d, s->l2, w, grad);
    return f + 0.5 * s->l2 * sq;
}

/* Rows per block of the weighted Hessian: the scaled copy (HESSIAN_BLOCK x d) stays small. */
enum { HESSIAN_BLOCK = 256 };

/* H = (1/n) X^T diag(c) X + l2 I with c = 1 (least squares) or sigma(m)(1 - sigma(m)) at the
 * margins m = X w (logistic), into the lower triangle of q->hessian (what Cholesky reads), by
 * SYRK: least squares on X itself, logistic on blocks of rows scaled by sqrt(c_i). */
static void hessian_at(problem *q, const double *w)
{
    const settings *s = &q->s;
    size_t d = s->d, n = s->n;
    double *c = q->data.res; /* free between objective evaluations */
    memset(q->hessian, 0, d * d * sizeof *q->hessian);
    if (!s->logistic) {
        ts_linalg_syrk_lower(d, n, 1.0 / (double)n, q->data.x, d, 0.0, q->hessian, d);
    } else {
        ts_linalg_gemv(TS_LINALG_N, n, d, 1.0, q->data.x, d, w, 0.0, c);
        for (size_t i0 = 0; i0 < n; i0 += HESSIAN_BLOCK) {
            size_t rows = n - i0 < HESSIAN_BLOCK ? n - i0 : HESSIAN_BLOCK;
            for (size_t i = 0; i < rows; i++) {
                double sg = ts_sigmoid(c[i0 + i]);
                double scale = sqrt(sg * (1.0 - sg));
                const double *x = q->data.x + (i0 + i) * d;
                for (size_t k = 0; k < d; k++) q->block[i * d + k] = scale * x[k];
            }
            ts_linalg_syrk_lower(d, rows, 1.0 / (double)n, q->block, d, 1.0, q->hessian, d);
        }
    }
    for (size_t a = 0; a < d; a++) q->hessian[a * d + a] += s->l2;
}

/* Solves H dx = -g in place of g (Cholesky); TS_ERUNTIME when H is not positive definite. */
static int newton_direction(problem *q, double *g, ts_error *err)
{
    size_t d = q->s.d;
    gsl_matrix_view h = gsl_matrix_view_array(q->hessian, d, d);
    gsl_vector_view v = gsl_vector_view_array(g, d);
    if (gsl_linalg_cholesky_decomp1(&h.matrix) || gsl_linalg_cholesky_svx(&h.matrix, &v.vector))
        return ts_error_set(err, TS_ERUNTIME, "the objective's Hessian is not positive definite "
                            "(set l2 > 0)");
    ts_linalg_scal(d, -1.0, g);
    return TS_OK;
}

/* f* and its minimiser: Newton's method from 0, with backtracking (Armijo) for logistic;
 * least squares is quadratic, so its first step is the solve and a second one refines it. The
 * stop: the Newton decrement lambda^2 = -g . dir, which is twice the quadratic model's gap
 * f - f*, below 1e-15 |f| (f* to about 1e-15 relative, the 1e-12 with room). */
static int solve_optimum(problem *q, ts_error *err)
{
    const settings *s = &q->s;
    size_t d = s->d;
    double *x = q->opt, *g = q->full, *dir = q->grad, *trial = q->w; /* w: scratch here */
    memset(x, 0, d * sizeof *x);
    for (int it = 0; it < 200; it++) {
        double f = objective(q, x, g);
        hessian_at(q, x);
        memcpy(dir, g, d * sizeof *dir);
        if (newton_direction(q, dir, err)) return TS_ERUNTIME;
        double decrement = -ts_linalg_dot(d, g, dir);
        if (decrement <= 1e-15 * fabs(f) || (!s->logistic && it == 2)) {
            q->fstar = f;
            return TS_OK;
        }
        double t = 1.0;
        for (int k = 0; k < 60; k++, t *= 0.5) {
            for (size_t j = 0; j < d; j++) trial[j] = x[j] + t * dir[j];
            if (!s->logistic || objective(q, trial, NULL) <= f - 1e-4 * t * decrement) break;
        }
        memcpy(x, trial, d * sizeof *x);
    }
    return ts_error_set(err, TS_ERUNTIME, "Newton's method did not converge in 200 steps");
}

static int problem_init(problem *q, const ts_point *p, gsl_rng *rng, ts_error *err)
{
    memset(q, 0, sizeof *q);
    q->s = settings_of(p);
    const settings *s = &q->s;
    size_t d = s->d, T = (size_t)s->steps;
    int ok = ts_dataset_init(&q->data, s->n, d, NULL) == TS_OK;
    q->w = calloc(d, sizeof *q->w);
    q->wstar = malloc(d * sizeof *q->wstar);
    q->opt = malloc(d * sizeof *q->opt);
    q->grad = malloc(d * sizeof *q->grad);
    q->full = malloc(d * sizeof *q->full);
    q->hessian = malloc(d * d * sizeof *q->hessian);
    size_t block_rows = s->n < HESSIAN_BLOCK ? s->n : HESSIAN_BLOCK;
    q->block = s->logistic ? malloc(block_rows * d * sizeof *q->block) : NULL;
    q->lrs = malloc(T * sizeof *q->lrs);
    q->gnorms = malloc(T * sizeof *q->gnorms);
    if (s->refined) {
        q->norms = malloc(T * sizeof *q->norms);
        q->table = malloc(T * sizeof *q->table);
    }
    q->batches = ts_rng_alloc_for(p, 1);
    if (!ok || !q->w || !q->wstar || !q->opt || !q->grad || !q->full || !q->hessian || !q->lrs ||
        (s->logistic && !q->block) ||
        !q->gnorms || (s->refined && (!q->norms || !q->table)) || !q->batches) {
        problem_free(q);
        return ts_error_set(err, TS_ERUNTIME, "out of memory for dim = %zu, n_train = %zu, "
                            "steps = %zu", d, s->n, T);
    }
    draw_data(q, p, rng);
    int rc = solve_optimum(q, err);
    if (rc) problem_free(q);
    return rc;
}

/* The private interface (convex.h), for the unit test. */
ts_convex_problem *ts_convex_problem_alloc(const ts_point *p, gsl_rng *rng, ts_error *err)
{
    problem *q = malloc(sizeof *q);
    if (!q) {
        ts_error_set(err, TS_ERUNTIME, "out of memory");
        return NULL;
    }
    if (problem_init(q, p, rng, err)) {
        free(q);
        return NULL;
    }
    return q;
}

void ts_convex_problem_free(ts_convex_problem *q)
{
    if (!q) return;
    problem_free(q);
    free(q);
}

const ts_dataset *ts_convex_data(const ts_convex_problem *q) { return &q->data; }
double ts_convex_objective(ts_convex_problem *q, const double *w, double *grad)
{
    return objective(q, w, grad);
}
const double *ts_convex_minimiser(const ts_convex_problem *q) { return q->opt; }
double ts_convex_fstar(const ts_convex_problem *q) { return q->fstar; }

/* ------------------------------------------------------------------ SGD */

/* The minibatch gradient at w: the loss over batch_size rows drawn with replacement (its own
 * small data set view), plus l2 w. */
static void minibatch_gradient(problem *q, ts_dataset *batch, size_t *rows)
{
    const settings *s = &q->s;
    size_t d = s->d;
    for (size_t b = 0; b < s->batch; b++) {
        rows[b] = (size_t)gsl_rng_uniform_int(q->batches, (unsigned long)s->n);
        memcpy(batch->x + b * d, q->data.x + rows[b] * d, d * sizeof *batch->x);
        batch->y[b] = q->data.y[rows[b]];
    }
    ts_risk_eval(loss_kind(s), batch, q->w, q->grad);
    ts_linalg_axpy(d, s->l2, q->w, q->grad);
}

static double l1_norm(const double *v, size_t d)
{
    double sum = 0;
    for (size_t k = 0; k < d; k++) sum += fabs(v[k]);
    return sum;
}

typedef struct pass {
    const ts_schedule *sched;
    double *first_loss; /* the first pass's series, or NULL */
    double *norms;      /* the first pass's gradient norms for refinement, or NULL */
} pass;

/* One pass of `steps` SGD steps from w_0 = 0 on the minibatch stream from its start; the main
 * pass records through the tracker and fills lrs and gnorms (the bound's inputs). */
static ts_status sgd_pass(problem *q, const ts_point *p, const pass *how, ts_recorder *r,
                          ts_error *err)
{
    const settings *s = &q->s;
    size_t d = s->d;
    ts_dataset batch;
    size_t *rows = malloc(s->batch * sizeof *rows);
    ts_optim opt;
    if (!rows || ts_dataset_init(&batch, s->batch, d, err) != TS_OK) {
        free(rows);
        ts_error_set(err, TS_ERUNTIME, "out of memory for a minibatch of %zu", s->batch);
        return TS_FAILED;
    }
    if (ts_optim_init(&opt, &s->optim, d, err)) {
        free(rows), ts_dataset_free(&batch);
        return TS_FAILED;
    }
    memset(q->w, 0, d * sizeof *q->w);
    ts_rng_key_for(q->batches, p, 1);
    ts_tracker k;
    int main_pass = how->first_loss == NULL;
    ts_status status = TS_DONE;
    if (main_pass && ts_tracker_init(&k, p, r, &tracked, NAN, err)) status = TS_FAILED;
    size_t nrec = r->layout.nrecords, next = 0;
    for (int64_t t = 0; status == TS_DONE; t++) {
        int record = next < nrec && r->times[next] == t;
        int stepping = t < s->steps;
        double lr = stepping ? ts_schedule_lr(how->sched, t) : 0.0, gnorm;
        if (stepping) {
            minibatch_gradient(q, &batch, rows);
            gnorm = ts_linalg_nrm2(d, q->grad);
            if (how->norms)
                how->norms[t] = s->optim.kind == TS_OPTIM_GD ? gnorm : l1_norm(q->grad, d);
            if (main_pass) q->lrs[t] = lr, q->gnorms[t] = gnorm;
        }
        if (record) {
            double f = objective(q, q->w, stepping ? NULL : q->full);
            if (!stepping) gnorm = ts_linalg_nrm2(d, q->full);
            if (main_pass) {
                ts_recorder_series(r, M_LOSS)[next] = f;
                ts_recorder_series(r, M_GRAD_NORM)[next] = gnorm;
                ts_recorder_series(r, M_LR)[next] = lr;
                status = ts_tracker_track(&k, t, f - q->fstar);
            } else {
                how->first_loss[next] = f;
                /* the first pass blows up by the same rule as the tracked one */
                double gap = f - q->fstar, gap0 = how->first_loss[0] - q->fstar;
                if (!isfinite(gap) || gap > BLOWUP * gap0) status = TS_DIVERGED;
            }
            next++;
        }
        if (!stepping) break;
        ts_optim_step(&opt, q->w, q->grad, lr);
    }
    ts_optim_free(&opt);
    ts_dataset_free(&batch);
    free(rows);
    return status;
}

static ts_status run_passes(problem *q, const ts_point *p, ts_recorder *r, ts_error *err)
{
    const settings *s = &q->s;
    ts_schedule sched;
    if (!s->refined) {
        if (ts_schedule_of(p, s->eta, s->steps, &sched, err)) return TS_FAILED;
        return sgd_pass(q, p, &(pass){.sched = &sched}, r, err);
    }
    if (ts_schedule_first_pass(p, s->eta, s->steps, &sched, err)) return TS_FAILED;
    double *first = ts_recorder_series(r, M_FIRST_PASS_LOSS);
    ts_status st = sgd_pass(q, p, &(pass){.sched = &sched, .first_loss = first,
                                          .norms = q->norms}, r, err);
    if (st != TS_DONE) return st;
    /* a first pass that blew up leaves norms the refinement cannot take: diverged */
    for (int64_t t = 0; t < s->steps; t++)
        if (!(q->norms[t] > 0 && isfinite(q->norms[t]))) {
            if (!isfinite(q->norms[t])) return TS_DIVERGED;
            q->norms[t] = 1e-300; /* an exactly zero gradient: the optimum itself */
        }
    ts_schedule refined;
    if (ts_schedule_refined(p, s->eta, q->norms, s->steps, q->table, &refined, err))
        return TS_FAILED;
    return sgd_pass(q, p, &(pass){.sched = &refined}, r, err);
}

static int check(const ts_point *p, ts_error *err)
{
    settings s = settings_of(p);
    ts_schedule sched;
    if (ts_optim_config_check(&s.optim, err)) return TS_EUSAGE;
    if (s.optim.weight_decay != 0)
        return ts_error_set(err, TS_EUSAGE, "weight_decay is not offered here: set l2, which is "
                            "part of the objective f* is computed for");
    int rc = s.refined ? ts_schedule_first_pass(p, s.eta, s.steps, &sched, err)
                       : ts_schedule_of(p, s.eta, s.steps, &sched, err);
    if (rc) return TS_EUSAGE;
    if (s.refined && s.steps < 2)
        return ts_error_set(err, TS_EUSAGE, "schedule refined needs at least 2 steps");
    if (s.logistic && s.l2 == 0 && s.flip == 0)
        return ts_error_set(err, TS_EUSAGE, "logistic with label_flip 0 and l2 0 has separable "
                            "data and no minimum: set l2 > 0");
    if (s.n > INT32_MAX || s.d > 46340) /* CBLAS int sizes; d^2 for the solve */
        return ts_error_set(err, TS_EUSAGE, "n_train must be below 2^31 and dim below 46341");
    return TS_OK;
}

static ts_status run(const ts_point *p, gsl_rng *rng, ts_recorder *r, ts_error *err)
{
    if (check(p, err)) return TS_FAILED;
    problem q;
    if (problem_init(&q, p, rng, err)) return TS_FAILED;
    *ts_recorder_scalar(r, M_OPTIMUM) = q.fstar;
    ts_status status = run_passes(&q, p, r, err);
    if (status == TS_DONE)
        *ts_recorder_scalar(r, M_BOUND) =
            ts_refine_bound(q.lrs, q.gnorms, (size_t)q.s.steps, ts_linalg_nrm2(q.s.d, q.opt));
    problem_free(&q);
    return status;
}

/* Per step a minibatch gradient (2 batch d), a record the full objective (2 n d), the set-up the
 * data (n d draws, counted 10 each), the Hessian (n d^2 / 2 per Newton step, a few steps) and
 * the solve (d^3 / 3); refined runs take two passes. */
static double cost(const ts_point *p)
{
    settings s = settings_of(p);
    double d = (double)s.d, n = (double)s.n, steps = (double)s.steps;
    double records = (double)ts_point_value(p, "record")->rec.count;
    double newton = s.logistic ? 8.0 : 2.0;
    double passes = s.refined ? 2.0 : 1.0;
    return passes * (steps * 2.0 * (double)s.batch * d + records * 2.0 * n * d) + n * d * 10.0 +
           newton * (n * d * d / 2.0 + d * d * d / 3.0);
}

static size_t memory(const ts_point *p)
{
    settings s = settings_of(p);
    size_t d = s.d, T = (size_t)s.steps;
    size_t state = s.optim.kind == TS_OPTIM_ADAM ? 2 : s.optim.momentum > 0 ? 1 : 0;
    size_t block = s.logistic ? (s.n < HESSIAN_BLOCK ? s.n : HESSIAN_BLOCK) * d : 0;
    size_t doubles = (6 + state) * d + d * d + block + 2 * T + (s.refined ? 2 * T : 0);
    return ts_dataset_bytes(s.n, d) + ts_dataset_bytes(s.batch, d) + s.batch * sizeof(size_t) +
           sizeof(double) * doubles;
}

const ts_experiment ts_experiment_convex = {
    .name = "convex",
    .summary = "SGD under every step-size schedule (refined included) on least squares and "
               "logistic regression, with f* exact and the last-iterate bound",
    .reference = "Defazio, Cutkosky, Mehta, Mishchenko, Optimal Linear Decay Learning Rate "
                 "Schedules and Further Refinements, arXiv:2310.07831",
    .params = params,
    .metrics = metrics,
    .cost = cost,
    .memory = memory,
    .blowup = {.quantity = "the suboptimality f(w_t) - f*", .bound = BLOWUP, .relative = 1},
    .test_points = "params: {dim: 8, n_train: 60, steps: 40, record: {log: 8}}\n"
                   "sweep: {schedule: [constant, refined]}",
    .run = run,
    .check = check,
};
