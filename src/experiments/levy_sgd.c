/* Heavy-tailed SGD: gradient descent with alpha-stable Levy noise and its generalisation gap
 * (Dupuis & Viallard, arXiv:2312.00427; PAPERS.md section 3). The Euler scheme
 *   W_{k+1} = W_k - eta_k grad V_S(W_k) + sigma eta_k^(1/alpha) L_k,
 *   V_S = empirical risk + weight_decay/2 ||W||^2,
 * runs alongside the "expected dynamics" Wbar, driven by the population risk with the same noise
 * draws L_k (synchronous coupling): ||W_t - Wbar_t|| is the paper's decoupling term.
 *
 * Problems, both with x ~ N(0, I_d) and the squared loss l(w, (x, y)) = 1/2 (w . x - y)^2:
 *   quadratic          y = 0: population risk 1/2 ||w||^2, empirical 1/2 w^T S w, S = X^T X / n;
 *   linear_regression  y = w* . x + e, e ~ N(0, label_noise^2), ||w*|| = teacher_norm in a
 *                      uniform direction: population risk 1/2 ||w - w*||^2 + label_noise^2 / 2.
 * Both population risks are exact. The empirical risk ||X w - y||^2 / (2n) and its gradient
 * X^T (X w - y) / n cost O(nd) through CBLAS, never forming S.
 * Wbar is then the linear recursion Wbar_{k+1} = c Wbar_k + eta w* + s L_k with
 * c = 1 - eta (1 + wd), s = sigma eta^(1/alpha); with a constant step each coordinate of Wbar_T
 * is symmetric alpha-stable around m_T = c^T W0 + eta w* (1 - c^T) / (1 - c) with
 * scale^alpha = s^alpha (1 - |c|^(alpha T)) / (1 - |c|^alpha) (a sum of independent stable
 * variates; PAPERS.md section 3 gives the T -> inf limit for the quadratic), which the
 * expected_charfn / theory_charfn pair checks in every run.
 *
 * Streams: W0 from the run's stream (substream 0), the data from substream 1 (inputs, then
 * labels), the noise from substream 2, the teacher from substream 3, so that changing n_train
 * never changes the noise path or the teacher, and vice versa. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_blas.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_vector.h>

#include "tailsweep/experiment.h"
#include "tailsweep/optim.h"
#include "tailsweep/rng.h"
#include "tailsweep/schedule.h"
#include "tailsweep/variates.h"

static const double default_charfn_u[] = {1.0, 3.0, 10.0};

static const ts_param_def params[] = {
    {"problem", TS_ENUM, .def.e = "quadratic", .choices = "quadratic|linear_regression",
     .unit = "", .doc = "quadratic: l = 1/2 (w.x)^2; linear_regression: l = 1/2 (w.x - y)^2, "
                        "y = w*.x + noise; x ~ N(0, I_d)"},
    {"teacher_norm", TS_REAL, .def.r = 1.0, .range = "[0, inf)", .unit = "",
     .doc = "linear_regression: ||w*||, w* in a uniform direction"},
    {"label_noise", TS_REAL, .def.r = 0.1, .range = "[0, inf)", .unit = "",
     .doc = "linear_regression: standard deviation of the label noise"},
    {"dim", TS_INT, .def.i = 100, .range = "[1, inf)", .unit = "", .doc = "dimension d"},
    {"n_train", TS_INT, .def.i = 100, .range = "[1, inf)", .unit = "samples",
     .doc = "training set size n"},
    {"levy_alpha", TS_REAL, .def.r = 1.8, .range = "(0, 2]", .unit = "",
     .doc = "tail index alpha of the noise (2: Gaussian, variance 2 per coordinate)"},
    {"sigma", TS_REAL, .def.r = 0.1, .range = "[0, inf)", .unit = "",
     .doc = "noise scale: the step adds sigma eta^(1/alpha) L, E exp(i<u,L>) = exp(-||u||^alpha) "
            "(isotropic)"},
    {"noise", TS_ENUM, .def.e = "isotropic", .choices = "isotropic|coordinate", .unit = "",
     .doc = "rotation-invariant alpha-stable vector, or i.i.d. symmetric alpha-stable coordinates"},
    {"step_size", TS_REAL, .def.r = 0.1, .range = "(0, inf)", .unit = "",
     .doc = "base step eta (the schedule scales it)"},
    {"weight_decay", TS_REAL, .def.r = 0.0, .range = "[0, inf)", .unit = "",
     .doc = "wd in V_S = empirical risk + wd/2 ||W||^2 (and likewise for the expected dynamics)"},
    {"init_scale", TS_REAL, .def.r = 1.0, .range = "[0, inf)", .unit = "",
     .doc = "W0 = Wbar0 = init_scale e/||e||, e ~ N(0, I_d): a uniform direction, norm init_scale"},
    {"population", TS_ENUM, .def.e = "exact", .choices = "exact", .unit = "",
     .doc = "how the population risk is computed: exact (closed form in w)"},
    {"steps", TS_INT, .def.i = 1000, .range = "[1, inf)", .unit = "iterations",
     .doc = "number of steps T"},
    {"record", TS_RECORD, .def.rec = {TS_RECORD_LOG, 50}, .unit = "",
     .doc = "record times over [0, steps]: {log: N} or {linear: N}"},
    {"charfn_u", TS_REAL_LIST, .def.list = default_charfn_u, .def.n = 3, .range = "(0, inf)",
     .unit = "", .doc = "arguments u of the empirical characteristic function of Wbar_T"},
    TS_SCHEDULE_PARAMS,
    {0},
};

enum {
    M_TRAIN_RISK, M_TEST_RISK, M_GAP, M_DISTANCE, M_EXPECTED_RISK,
    M_FINAL_GAP, M_SUP_GAP, M_SUP_DISTANCE, M_EXPECTED_CHARFN, M_THEORY_CHARFN
};
static const ts_metric_def metrics[] = {
    {.name = "train_risk", .kind = TS_SERIES, .unit = "", .doc = "empirical risk of W_t"},
    {.name = "test_risk", .kind = TS_SERIES, .unit = "", .doc = "population risk of W_t"},
    {.name = "gap", .kind = TS_SERIES, .unit = "",
     .doc = "generalisation gap test_risk - train_risk of W_t"},
    {.name = "distance", .kind = TS_SERIES, .unit = "",
     .doc = "decoupling distance ||W_t - Wbar_t|| to the expected dynamics"},
    {.name = "expected_risk", .kind = TS_SERIES, .unit = "",
     .doc = "population risk of the expected dynamics Wbar_t"},
    {.name = "final_gap", .kind = TS_SCALAR, .unit = "", .doc = "gap at t = steps"},
    {.name = "sup_gap", .kind = TS_SCALAR, .unit = "", .doc = "max over every step t of gap"},
    {.name = "sup_distance", .kind = TS_SCALAR, .unit = "",
     .doc = "max over every step t of ||W_t - Wbar_t||"},
    {.name = "expected_charfn", .kind = TS_SCALAR, .unit = "",
     .doc = "mean over coordinates k of cos(u Wbar_T,k), per u in charfn_u", .dims = {"charfn_u"}},
    {.name = "theory_charfn", .kind = TS_SCALAR, .unit = "",
     .doc = "its law: mean_k cos(u m_T,k) exp(-|u s|^alpha (1 - |c|^(alpha T)) / "
            "(1 - |c|^alpha)), c = 1 - eta (1 + wd), s = sigma eta^(1/alpha), m_T = c^T W0 + "
            "eta w* (1 - c^T)/(1 - c) (NaN unless the schedule is constant without warmup)",
     .dims = {"charfn_u"}, .theory_for = "expected_charfn"},
    {0},
};

/* A risk beyond this (or not finite) means the run has blown up: heavy tails alone stay far
 * below it for any alpha a sweep would use. */
#define BLOWUP_RISK 1e100

typedef struct problem {
    size_t d, n;
    double weight_decay, sigma, alpha, label_variance;
    int noisy;
    double *x, *y;              /* [n x d] row-major training inputs, [n] labels */
    double *wstar;              /* [d] the teacher (0 for the quadratic) */
    double *w, *wbar, *w0;      /* [d] the dynamics, and W0 for the theory */
    double *grad, *noise, *res; /* [d], [d], [n] scratch; res = X w - y */
    ts_levy_vec law;
    gsl_rng *noise_rng;
} problem;

static void problem_free(problem *q)
{
    free(q->x);
    free(q->y);
    free(q->wstar);
    free(q->w);
    free(q->wbar);
    free(q->w0);
    free(q->grad);
    free(q->noise);
    free(q->res);
    if (q->noise_rng) gsl_rng_free(q->noise_rng);
}

static ts_levy_noise noise_kind(const ts_point *p)
{
    return ts_point_is(p, "noise", "coordinate") ? TS_LEVY_COORDINATE : TS_LEVY_ISOTROPIC;
}

static double norm2(const double *v, size_t d)
{
    gsl_vector_const_view view = gsl_vector_const_view_array(v, d);
    return gsl_blas_dnrm2(&view.vector);
}

/* v = norm e/||e|| with e Gaussian: a direction with no preferred axis, so that the coordinate
 * and isotropic noises see the same start and teacher. */
static void random_direction(double *v, size_t d, double norm, gsl_rng *rng)
{
    ts_gaussian_fill(rng, 1.0, v, d);
    double length = norm2(v, d);
    for (size_t k = 0; k < d; k++) v[k] *= length > 0 ? norm / length : 0.0;
}

static void init_weights(problem *q, double init_scale, gsl_rng *rng)
{
    random_direction(q->w0, q->d, init_scale, rng);
    memcpy(q->w, q->w0, q->d * sizeof *q->w);
    memcpy(q->wbar, q->w0, q->d * sizeof *q->wbar);
}

/* y = X w* + e, e ~ N(0, label_noise^2). */
static void make_labels(problem *q, const ts_point *p, gsl_rng *r)
{
    double label_noise = ts_point_real(p, "label_noise");
    q->label_variance = label_noise * label_noise;
    gsl_matrix_const_view x = gsl_matrix_const_view_array(q->x, q->n, q->d);
    gsl_vector_const_view wstar = gsl_vector_const_view_array(q->wstar, q->d);
    gsl_vector_view y = gsl_vector_view_array(q->y, q->n);
    ts_gaussian_fill(r, label_noise, q->y, q->n);
    gsl_blas_dgemv(CblasNoTrans, 1.0, &x.matrix, &wstar.vector, 1.0, &y.vector);
}

static int problem_init(problem *q, const ts_point *p, gsl_rng *rng, ts_error *err)
{
    memset(q, 0, sizeof *q);
    q->d = (size_t)ts_point_int(p, "dim");
    q->n = (size_t)ts_point_int(p, "n_train");
    q->weight_decay = ts_point_real(p, "weight_decay");
    q->sigma = ts_point_real(p, "sigma");
    q->alpha = ts_point_real(p, "levy_alpha");
    q->noisy = q->sigma > 0;
    q->x = malloc(q->n * q->d * sizeof *q->x);
    q->y = calloc(q->n, sizeof *q->y);
    q->wstar = calloc(q->d, sizeof *q->wstar);
    q->w = malloc(q->d * sizeof *q->w);
    q->wbar = malloc(q->d * sizeof *q->wbar);
    q->w0 = malloc(q->d * sizeof *q->w0);
    q->grad = malloc(q->d * sizeof *q->grad);
    q->noise = malloc(q->d * sizeof *q->noise);
    q->res = malloc(q->n * sizeof *q->res);
    q->noise_rng = ts_rng_new(p->seed, p->index, p->repeat);
    if (!q->x || !q->y || !q->wstar || !q->w || !q->wbar || !q->w0 || !q->grad || !q->noise ||
        !q->res || !q->noise_rng) {
        problem_free(q);
        return ts_error_set(err, TS_ERUNTIME, "out of memory for dim = %zu, n_train = %zu", q->d,
                            q->n);
    }
    /* Unit scale: sigma eta_k^(1/alpha) multiplies each draw, since eta_k follows the schedule
     * (and sigma may be 0, which the sampler's scale may not). */
    if (ts_levy_vec_init(&q->law, noise_kind(p), q->alpha, 1.0, q->d, err) != TS_OK) {
        problem_free(q);
        return err->code;
    }
    init_weights(q, ts_point_real(p, "init_scale"), rng);
    /* noise_rng is borrowed for the data's and the teacher's substreams, then re-keyed. */
    gsl_rng *aux = q->noise_rng;
    if (ts_point_is(p, "problem", "linear_regression")) {
        ts_rng_key(aux, p->seed, p->index, p->repeat, 3);
        random_direction(q->wstar, q->d, ts_point_real(p, "teacher_norm"), aux);
    }
    ts_rng_key(aux, p->seed, p->index, p->repeat, 1);
    ts_gaussian_fill(aux, 1.0, q->x, q->n * q->d);
    if (ts_point_is(p, "problem", "linear_regression")) make_labels(q, p, aux);
    ts_rng_key(q->noise_rng, p->seed, p->index, p->repeat, 2);
    return TS_OK;
}

/* The residual X w - y into res, and the empirical risk ||X w - y||^2 / (2n). */
static double train_risk_of(problem *q, const double *w)
{
    gsl_matrix_const_view x = gsl_matrix_const_view_array(q->x, q->n, q->d);
    gsl_vector_const_view wv = gsl_vector_const_view_array(w, q->d);
    gsl_vector_view res = gsl_vector_view_array(q->res, q->n);
    memcpy(q->res, q->y, q->n * sizeof *q->res);
    gsl_blas_dgemv(CblasNoTrans, 1.0, &x.matrix, &wv.vector, -1.0, &res.vector);
    double norm = gsl_blas_dnrm2(&res.vector);
    return 0.5 * norm * norm / (double)q->n;
}

/* E 1/2 (w.x - w*.x - e)^2 = 1/2 ||w - w*||^2 + 1/2 label_noise^2. */
static double test_risk_of(const problem *q, const double *w)
{
    double sum = 0;
    for (size_t k = 0; k < q->d; k++) sum += (w[k] - q->wstar[k]) * (w[k] - q->wstar[k]);
    return 0.5 * (sum + q->label_variance);
}

/* grad V_S(w) = X^T (X w - y) / n + wd w, with X w - y already in res (train_risk_of at w). */
static void empirical_gradient(problem *q)
{
    gsl_matrix_const_view x = gsl_matrix_const_view_array(q->x, q->n, q->d);
    gsl_vector_const_view res = gsl_vector_const_view_array(q->res, q->n);
    gsl_vector_view g = gsl_vector_view_array(q->grad, q->d);
    memcpy(q->grad, q->w, q->d * sizeof *q->grad);
    gsl_blas_dgemv(CblasTrans, 1.0 / (double)q->n, &x.matrix, &res.vector, q->weight_decay,
                   &g.vector);
}

/* Population gradient of V: wbar - w* + wd wbar. */
static void population_gradient(problem *q)
{
    for (size_t k = 0; k < q->d; k++)
        q->grad[k] = (1.0 + q->weight_decay) * q->wbar[k] - q->wstar[k];
}

static double distance_of(const problem *q)
{
    double sum = 0;
    for (size_t k = 0; k < q->d; k++) {
        double diff = q->w[k] - q->wbar[k];
        sum += diff * diff;
    }
    return sqrt(sum);
}

/* The same draw L_k is added to both dynamics: the synchronous coupling. */
static void add_noise(problem *q, double lr)
{
    if (!q->noisy) return;
    ts_levy_vec_fill(&q->law, q->noise_rng, q->noise, 1);
    double scale = q->sigma * pow(lr, 1.0 / q->alpha);
    for (size_t k = 0; k < q->d; k++) {
        q->w[k] += scale * q->noise[k];
        q->wbar[k] += scale * q->noise[k];
    }
}

static int blown_up(double risk)
{
    return !isfinite(risk) || risk > BLOWUP_RISK;
}

static ts_status iterate(problem *q, const ts_point *p, ts_optim *opt, const ts_schedule *sched,
                         ts_recorder *r)
{
    int64_t steps = ts_point_int(p, "steps");
    size_t next = 0;
    double *sup_gap = ts_recorder_scalar(r, M_SUP_GAP);
    double *sup_distance = ts_recorder_scalar(r, M_SUP_DISTANCE);
    *sup_gap = -INFINITY;
    *sup_distance = 0;
    for (int64_t t = 0;; t++) {
        double train = train_risk_of(q, q->w), test = test_risk_of(q, q->w);
        double expected = test_risk_of(q, q->wbar), distance = distance_of(q);
        if (test - train > *sup_gap) *sup_gap = test - train;
        if (distance > *sup_distance) *sup_distance = distance;
        if (next < r->layout.nrecords && r->times[next] == t) {
            ts_recorder_series(r, M_TRAIN_RISK)[next] = train;
            ts_recorder_series(r, M_TEST_RISK)[next] = test;
            ts_recorder_series(r, M_GAP)[next] = test - train;
            ts_recorder_series(r, M_DISTANCE)[next] = distance;
            ts_recorder_series(r, M_EXPECTED_RISK)[next] = expected;
            next++;
        }
        if (blown_up(train) || blown_up(test) || blown_up(expected)) return TS_DIVERGED;
        if (t == steps) {
            *ts_recorder_scalar(r, M_FINAL_GAP) = test - train;
            return TS_DONE;
        }
        double lr = ts_schedule_lr(sched, t);
        empirical_gradient(q); /* uses X w - y from train_risk_of above */
        ts_optim_step(opt, q->w, q->grad, lr);
        population_gradient(q);
        ts_optim_step(opt, q->wbar, q->grad, lr);
        add_noise(q, lr);
    }
}

static void record_charfn(const problem *q, const ts_point *p, ts_recorder *r)
{
    size_t nu;
    const double *u = ts_point_list(p, "charfn_u", &nu);
    for (size_t j = 0; j < nu; j++) {
        double sum = 0;
        for (size_t k = 0; k < q->d; k++) sum += cos(u[j] * q->wbar[k]);
        ts_recorder_scalar(r, M_EXPECTED_CHARFN)[j] = sum / (double)q->d;
    }
}

/* The finite-T law of Wbar_T,k (header comment), valid for a constant step only. */
static void record_theory_charfn(const problem *q, const ts_point *p, ts_recorder *r)
{
    if (!ts_point_is(p, "schedule", "constant") || ts_point_real(p, "warmup") != 0) return;
    size_t nu;
    const double *u = ts_point_list(p, "charfn_u", &nu);
    double eta = ts_point_real(p, "step_size"), steps = (double)ts_point_int(p, "steps");
    double c = 1.0 - eta * (1.0 + q->weight_decay), s = q->sigma * pow(eta, 1.0 / q->alpha);
    double ca = pow(fabs(c), q->alpha);
    double geometric = ca == 1.0 ? steps : (1.0 - pow(ca, steps)) / (1.0 - ca);
    double contraction = pow(c, steps);
    double pull = c == 1.0 ? eta * steps : eta * (1.0 - contraction) / (1.0 - c);
    for (size_t j = 0; j < nu; j++) {
        double sum = 0;
        for (size_t k = 0; k < q->d; k++)
            sum += cos(u[j] * (contraction * q->w0[k] + pull * q->wstar[k]));
        ts_recorder_scalar(r, M_THEORY_CHARFN)[j] =
            sum / (double)q->d * exp(-pow(fabs(u[j] * s), q->alpha) * geometric);
    }
}

static int check(const ts_point *p, ts_error *err)
{
    ts_schedule sched;
    return ts_schedule_of(p, ts_point_real(p, "step_size"), ts_point_int(p, "steps"), &sched, err);
}

static ts_status run(const ts_point *p, gsl_rng *rng, ts_recorder *r, ts_error *err)
{
    ts_schedule sched;
    if (ts_schedule_of(p, ts_point_real(p, "step_size"), ts_point_int(p, "steps"), &sched, err))
        return TS_FAILED;
    problem q;
    if (problem_init(&q, p, rng, err)) return TS_FAILED;
    /* Plain (S)GD, through the shared optimizer so that there is one update code; GD keeps no
     * state, so one instance serves both dynamics. */
    ts_optim_config cfg = {.kind = TS_OPTIM_GD};
    ts_optim opt;
    if (ts_optim_init(&opt, &cfg, q.d, err) != TS_OK) {
        problem_free(&q);
        return TS_FAILED;
    }
    record_theory_charfn(&q, p, r);
    ts_status status = iterate(&q, p, &opt, &sched, r);
    if (status == TS_DONE) record_charfn(&q, p, r);
    ts_optim_free(&opt);
    problem_free(&q);
    return status;
}

/* Per step: two n x d matrix-vector products, and a noise vector (a few transcendentals per
 * coordinate, counted as 20 multiply-adds). */
static double cost(const ts_point *p)
{
    double d = (double)ts_point_int(p, "dim"), n = (double)ts_point_int(p, "n_train");
    double steps = (double)ts_point_int(p, "steps");
    return d * n + d * steps * (2.0 * n + 20.0);
}

static size_t memory(const ts_point *p)
{
    size_t d = (size_t)ts_point_int(p, "dim"), n = (size_t)ts_point_int(p, "n_train");
    return sizeof(double) * (n * d + 6 * d + 2 * n);
}

const ts_experiment ts_experiment_levy_sgd = {
    .name = "levy_sgd",
    .summary = "GD with alpha-stable Levy noise vs its expected dynamics: gap and decoupling",
    .reference = "Dupuis & Viallard, arXiv:2312.00427 (PAPERS.md section 3)",
    .params = params,
    .metrics = metrics,
    .cost = cost,
    .memory = memory,
    .run = run,
    .check = check,
};
