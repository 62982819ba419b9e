/* Heavy-tailed SGD: gradient descent with alpha-stable Levy noise and its generalisation gap
 * (Dupuis & Viallard, arXiv:2312.00427; docs/experiments.md section 3). The Euler scheme
 *   W_{k+1} = W_k - eta_k grad V_S(W_k) + sigma eta_k^(1/alpha) L_k,
 *   V_S = empirical risk + weight_decay/2 ||W||^2 (the shared optimizers' coupled weight decay),
 * runs alongside the "expected dynamics" Wbar, driven by the population risk with the same noise
 * draws L_k (synchronous coupling): ||W_t - Wbar_t|| is the paper's decoupling term.
 *
 * Problems:
 *   quadratic          x ~ N(0, I_d), y = 0, l = 1/2 (w . x)^2: population risk 1/2 ||w||^2,
 *                      empirical 1/2 w^T S w, S = X^T X / n;
 *   linear_regression  x ~ N(0, I_d), y = w* . x + e, e ~ N(0, label_noise^2), ||w*|| =
 *                      teacher_norm in a uniform direction, l = 1/2 (w . x - y)^2: population
 *                      risk 1/2 ||w - w*||^2 + label_noise^2 / 2;
 *   logistic           y = +-1 equally likely, x ~ N(y mu, I_d), ||mu|| = class_mean in a uniform
 *                      direction, l = softplus(-y w . x): population risk and gradient are
 *                      one-dimensional Gaussian integrals (levy_sgd.h, levy_sgd_logistic.c).
 * With `population: exact` these population risks and gradients are used as they are; with
 * `population: test_set` both are estimated on a fresh test set of n_test samples drawn once per
 * run (the expected dynamics then follow the test set's gradient). The empirical risk and its
 * gradient X^T l'(X w) / n cost O(nd) through the BLAS (risk.h), never forming S. Both dynamics
 * step with the point's optimizer (GD by default: (S)GD as the paper; sign and Adam too), as two
 * blocks of one optimizer state, so that each keeps its own moments.
 * For the squared loss with the exact population, Wbar is the linear recursion Wbar_{k+1} = c Wbar_k + eta w* + s L_k with
 * c = 1 - eta (1 + wd), s = sigma eta^(1/alpha); with a constant step each coordinate of Wbar_T
 * is symmetric alpha-stable around m_T = c^T W0 + eta w* (1 - c^T) / (1 - c) with
 * scale^alpha = s^alpha (1 - |c|^(alpha T)) / (1 - |c|^alpha) (a sum of independent stable
 * variates; docs/experiments.md section 3.5 gives the T -> inf limit for the quadratic), which the
 * expected_charfn / theory_charfn pair checks in every run.
 *
 * Streams: W0 from the run's stream (substream 0), the training data from substream 1 (inputs,
 * then labels), the noise from substream 2, the teacher or class mean from substream 3, the test
 * set from substream 4, so that changing n_train or n_test never changes the noise path or the
 * teacher, and vice versa. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tailsweep/data.h"
#include "tailsweep/experiment.h"
#include "tailsweep/linalg.h"
#include "tailsweep/optim.h"
#include "tailsweep/risk.h"
#include "tailsweep/rng.h"
#include "tailsweep/schedule.h"
#include "tailsweep/tracker.h"
#include "tailsweep/variates.h"

#include "levy_sgd.h"

static const double default_charfn_u[] = {1.0, 3.0, 10.0};

static const ts_param_def params[] = {
    {"problem", TS_ENUM, .def.e = "quadratic", .choices = "quadratic|linear_regression|logistic",
     .unit = "", .doc = "quadratic: l = 1/2 (w.x)^2, x ~ N(0, I_d); linear_regression: "
                        "l = 1/2 (w.x - y)^2, y = w*.x + noise; logistic: l = log(1 + e^(-y w.x)), "
                        "y = +-1, x ~ N(y mu, I_d)"},
    {"teacher_norm", TS_REAL, .def.r = 1.0, .range = "[0, inf)", .unit = "",
     .doc = "linear_regression: ||w*||, w* in a uniform direction"},
    {"label_noise", TS_REAL, .def.r = 0.1, .range = "[0, inf)", .unit = "",
     .doc = "linear_regression: standard deviation of the label noise"},
    {"class_mean", TS_REAL, .def.r = 1.0, .range = "[0, inf)", .unit = "",
     .doc = "logistic: ||mu||, the classes' means are +-mu, mu in a uniform direction"},
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
    TS_OPTIM_PARAMS("gd"),
    {"init_scale", TS_REAL, .def.r = 1.0, .range = "[0, inf)", .unit = "",
     .doc = "W0 = Wbar0 = init_scale e/||e||, e ~ N(0, I_d): a uniform direction, norm init_scale"},
    {"population", TS_ENUM, .def.e = "exact", .choices = "exact|test_set", .unit = "",
     .doc = "population risk and gradient: exact (closed form; logistic: adaptive quadrature of "
            "a 1-d Gaussian integral, 1e-10 relative) or test_set (estimated on n_test fresh "
            "samples)"},
    {"n_test", TS_INT, .def.i = 10000, .range = "[1, inf)", .unit = "samples",
     .doc = "population: test_set: the test set's size (drawn once per run)"},
    TS_ITERATION_PARAMS(1000, TS_RECORD_LOG, 50),
    {"charfn_u", TS_REAL_LIST, .def.list = default_charfn_u, .def.n = 3, .range = "(0, inf)",
     .unit = "", .doc = "arguments u of the empirical characteristic function of Wbar_T"},
    TS_SCHEDULE_PARAMS,
    {0},
};

enum {
    M_TRAIN_RISK, M_TEST_RISK, M_GAP, M_DISTANCE, M_EXPECTED_RISK,
    M_FINAL_GAP, M_SUP_GAP, M_SUP_DISTANCE, M_EXPECTED_CHARFN, M_THEORY_CHARFN, NMETRICS
};
static const ts_metric_def metrics[] = {
    [M_TRAIN_RISK] = {.name = "train_risk", .kind = TS_SERIES, .unit = "",
                      .doc = "empirical risk of W_t"},
    [M_TEST_RISK] = {.name = "test_risk", .kind = TS_SERIES, .unit = "",
                     .doc = "population risk of W_t"},
    [M_GAP] = {.name = "gap", .kind = TS_SERIES, .unit = "",
               .doc = "generalisation gap test_risk - train_risk of W_t"},
    [M_DISTANCE] = {.name = "distance", .kind = TS_SERIES, .unit = "",
                    .doc = "decoupling distance ||W_t - Wbar_t|| to the expected dynamics"},
    [M_EXPECTED_RISK] = {.name = "expected_risk", .kind = TS_SERIES, .unit = "",
                         .doc = "population risk of the expected dynamics Wbar_t"},
    [M_FINAL_GAP] = {.name = "final_gap", .kind = TS_SCALAR, .unit = "",
                     .doc = "gap at t = steps"},
    [M_SUP_GAP] = {.name = "sup_gap", .kind = TS_SCALAR, .unit = "",
                   .doc = "max over every step t of gap"},
    [M_SUP_DISTANCE] = {.name = "sup_distance", .kind = TS_SCALAR, .unit = "",
                        .doc = "max over every step t of ||W_t - Wbar_t||"},
    [M_EXPECTED_CHARFN] = {.name = "expected_charfn", .kind = TS_SCALAR, .unit = "",
                           .doc = "mean over coordinates k of cos(u Wbar_T,k), per u in charfn_u",
                           .dims = {"charfn_u"}},
    [M_THEORY_CHARFN] = {
        .name = "theory_charfn", .kind = TS_SCALAR, .unit = "",
        .doc = "its law: mean_k cos(u m_T,k) exp(-|u s|^alpha (1 - |c|^(alpha T)) / "
               "(1 - |c|^alpha)), c = 1 - eta (1 + wd), s = sigma eta^(1/alpha), m_T = c^T W0 + "
               "eta w* (1 - c^T)/(1 - c) (NaN unless the loss is squared, the population exact, "
               "the optimizer plain gd (no momentum) and the schedule constant without warmup)",
        .dims = {"charfn_u"}, .theory_for = "expected_charfn"},
    [NMETRICS] = {0},
};

/* The tracker records the series itself (record_series) and watches the training risk; the
 * blow-up rule also guards the two population risks. */
static const ts_tracked tracked = {-1, -1, -1, -1, -1};

typedef struct problem {
    size_t d;
    ts_loss loss;
    int labelled, exact_population, noisy; /* labelled: linear_regression's y = w*.x + e */
    double weight_decay, sigma, alpha, label_variance;
    ts_dataset train, test;     /* test.n = 0 with the exact population */
    double *target;             /* [d] w* (linear_regression), mu (logistic), 0 (quadratic) */
    double *w, *wbar, *w0;      /* [d] the dynamics, and W0 for the theory */
    double *grad, *grad_bar;    /* [d] the gradients at W and at Wbar */
    double *noise;              /* [noise_block x d] noise vectors drawn ahead */
    size_t noise_block, noise_next;
    gsl_integration_workspace *quadrature;
    ts_levy_vec law;
    gsl_rng *noise_rng;
} problem;

static void problem_free(problem *q)
{
    ts_dataset_free(&q->train);
    ts_dataset_free(&q->test);
    free(q->target);
    free(q->w);
    free(q->wbar);
    free(q->w0);
    free(q->grad);
    free(q->grad_bar);
    free(q->noise);
    if (q->quadrature) gsl_integration_workspace_free(q->quadrature);
    if (q->noise_rng) gsl_rng_free(q->noise_rng);
}

static ts_levy_noise noise_kind(const ts_point *p)
{
    return ts_point_is(p, "noise", "coordinate") ? TS_LEVY_COORDINATE : TS_LEVY_ISOTROPIC;
}

/* v = norm e/||e|| with e Gaussian: a direction with no preferred axis, so that the coordinate
 * and isotropic noises see the same start and teacher. */
static void random_direction(double *v, size_t d, double norm, gsl_rng *rng)
{
    ts_gaussian_fill(rng, 1.0, v, d);
    double length = ts_linalg_nrm2(d, v);
    for (size_t k = 0; k < d; k++) v[k] *= length > 0 ? norm / length : 0.0;
}

static void init_weights(problem *q, double init_scale, gsl_rng *rng)
{
    random_direction(q->w0, q->d, init_scale, rng);
    memcpy(q->w, q->w0, q->d * sizeof *q->w);
    memcpy(q->wbar, q->w0, q->d * sizeof *q->wbar);
}

/* n samples from the problem's law, from the stream r: Gaussian inputs, then
 *   linear_regression  y = X w* + e, e ~ N(0, label_noise^2);
 *   logistic           rows y x = mu + z (y x ~ N(mu, I) whatever y, so no label is drawn). */
static void draw_dataset(problem *q, ts_dataset *s, gsl_rng *r)
{
    ts_gaussian_fill(r, 1.0, s->x, s->n * q->d);
    if (q->loss == TS_LOSS_LOGISTIC) {
        for (size_t i = 0; i < s->n; i++)
            for (size_t k = 0; k < q->d; k++) s->x[i * q->d + k] += q->target[k];
    } else if (q->labelled) {
        ts_gaussian_fill(r, sqrt(q->label_variance), s->y, s->n);
        ts_linalg_gemv(TS_LINALG_N, s->n, q->d, 1.0, s->x, q->d, q->target, 1.0, s->y);
    }
}

static int out_of_memory(problem *q, ts_error *err)
{
    size_t d = q->d, n = q->train.n, n_test = q->test.n;
    problem_free(q);
    return ts_error_set(err, TS_ERUNTIME,
                        "out of memory for dim = %zu, n_train = %zu, n_test = %zu", d, n, n_test);
}

/* Noise vectors drawn per fill: one fill of k vectors gives the same values as k fills of one
 * (variates.h), and a batched fill of a short vector wastes most of its vector-math chunk, so
 * the run draws up to 64 steps ahead, within 512 KiB. */
static size_t noise_block_of(size_t d)
{
    size_t block = ((size_t)1 << 16) / d;
    return block < 1 ? 1 : block > 64 ? 64 : block;
}

static void read_settings(problem *q, const ts_point *p)
{
    memset(q, 0, sizeof *q);
    q->d = (size_t)ts_point_int(p, "dim");
    q->loss = ts_point_is(p, "problem", "logistic") ? TS_LOSS_LOGISTIC : TS_LOSS_SQUARED;
    q->exact_population = ts_point_is(p, "population", "exact");
    q->weight_decay = ts_optim_config_of(p).weight_decay;
    q->sigma = ts_point_real(p, "sigma");
    q->alpha = ts_point_real(p, "levy_alpha");
    q->noisy = q->sigma > 0;
    q->labelled = ts_point_is(p, "problem", "linear_regression");
    if (q->labelled) q->label_variance = pow(ts_point_real(p, "label_noise"), 2);
}

static int problem_init(problem *q, const ts_point *p, gsl_rng *rng, ts_error *err)
{
    read_settings(q, p);
    size_t d = q->d;
    int ok = ts_dataset_init(&q->train, (size_t)ts_point_int(p, "n_train"), d, NULL) == TS_OK;
    if (!q->exact_population)
        ok &= ts_dataset_init(&q->test, (size_t)ts_point_int(p, "n_test"), d, NULL) == TS_OK;
    q->target = calloc(d, sizeof *q->target);
    q->w = malloc(d * sizeof *q->w);
    q->wbar = malloc(d * sizeof *q->wbar);
    q->w0 = malloc(d * sizeof *q->w0);
    q->grad = malloc(d * sizeof *q->grad);
    q->grad_bar = malloc(d * sizeof *q->grad_bar);
    q->noise_block = noise_block_of(d);
    q->noise_next = q->noise_block;
    q->noise = malloc(q->noise_block * d * sizeof *q->noise);
    if (q->loss == TS_LOSS_LOGISTIC && q->exact_population)
        q->quadrature = gsl_integration_workspace_alloc(TS_LOGISTIC_QUADRATURE_LIMIT);
    q->noise_rng = ts_rng_alloc_for(p, 0);
    if (!ok || !q->target || !q->w || !q->wbar || !q->w0 || !q->grad || !q->grad_bar || !q->noise ||
        !q->noise_rng || (q->loss == TS_LOSS_LOGISTIC && q->exact_population && !q->quadrature))
        return out_of_memory(q, err);
    /* Unit scale: sigma eta_k^(1/alpha) multiplies each draw, since eta_k follows the schedule
     * (and sigma may be 0, which the sampler's scale may not). */
    if (ts_levy_vec_init(&q->law, noise_kind(p), q->alpha, 1.0, d, err) != TS_OK) {
        problem_free(q);
        return err->code;
    }
    init_weights(q, ts_point_real(p, "init_scale"), rng);
    /* noise_rng is borrowed for the teacher's and the data's substreams, then re-keyed. */
    gsl_rng *aux = q->noise_rng;
    ts_rng_key_for(aux, p, 3);
    if (q->labelled)
        random_direction(q->target, d, ts_point_real(p, "teacher_norm"), aux);
    else if (q->loss == TS_LOSS_LOGISTIC)
        random_direction(q->target, d, ts_point_real(p, "class_mean"), aux);
    ts_rng_key_for(aux, p, 1);
    draw_dataset(q, &q->train, aux);
    if (q->test.n) {
        ts_rng_key_for(aux, p, 4);
        draw_dataset(q, &q->test, aux);
    }
    ts_rng_key_for(q->noise_rng, p, 2);
    return TS_OK;
}

/* The population risk of w and, unless grad is NULL, its gradient (with weight decay): exact,
 * or from the test set. */
static int population_risk(problem *q, const double *w, double *grad, double *risk,
                           ts_error *err)
{
    if (!q->exact_population) {
        *risk = ts_risk_eval(q->loss, &q->test, w, grad);
        return TS_OK;
    }
    if (q->loss == TS_LOSS_SQUARED) { /* E 1/2 (w.x - w*.x - e)^2, gradient w - w* */
        double sum = 0;
        for (size_t k = 0; k < q->d; k++) {
            sum += (w[k] - q->target[k]) * (w[k] - q->target[k]);
            if (grad) grad[k] = w[k] - q->target[k];
        }
        *risk = 0.5 * (sum + q->label_variance);
        return TS_OK;
    }
    ts_logistic_moments moments;
    if (ts_logistic_moments_at(ts_linalg_dot(q->d, w, q->target), ts_linalg_nrm2(q->d, w),
                               grad != NULL,
                               q->quadrature, &moments, err))
        return err->code;
    *risk = moments.risk;
    if (grad) { /* -A mu + B w (levy_sgd.h) */
        double a = moments.sigmoid, b = moments.curvature;
        for (size_t k = 0; k < q->d; k++) grad[k] = b * w[k] - a * q->target[k];
    }
    return TS_OK;
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
    if (q->noise_next == q->noise_block) {
        ts_levy_vec_fill(&q->law, q->noise_rng, q->noise, q->noise_block);
        q->noise_next = 0;
    }
    const double *noise = q->noise + q->noise_next++ * q->d;
    double scale = q->sigma * pow(lr, 1.0 / q->alpha);
    for (size_t k = 0; k < q->d; k++) {
        q->w[k] += scale * noise[k];
        q->wbar[k] += scale * noise[k];
    }
}

typedef struct risks {
    double train, test, expected, distance;
} risks;

/* The risks at step t, and the gradients of both dynamics in the same passes. */
static int measure(problem *q, risks *now, ts_error *err)
{
    now->train = ts_risk_eval(q->loss, &q->train, q->w, q->grad);
    if (population_risk(q, q->w, NULL, &now->test, err) ||
        population_risk(q, q->wbar, q->grad_bar, &now->expected, err))
        return err->code;
    now->distance = distance_of(q);
    return TS_OK;
}

static void record_series(ts_recorder *r, size_t at, const risks *now)
{
    ts_recorder_series(r, M_TRAIN_RISK)[at] = now->train;
    ts_recorder_series(r, M_TEST_RISK)[at] = now->test;
    ts_recorder_series(r, M_GAP)[at] = now->test - now->train;
    ts_recorder_series(r, M_DISTANCE)[at] = now->distance;
    ts_recorder_series(r, M_EXPECTED_RISK)[at] = now->expected;
}

static ts_status iterate(problem *q, const ts_point *p, ts_optim *opt, const ts_schedule *sched,
                         ts_recorder *r, ts_error *err)
{
    int64_t steps = ts_point_int(p, "steps");
    double *sup_gap = ts_recorder_scalar(r, M_SUP_GAP);
    double *sup_distance = ts_recorder_scalar(r, M_SUP_DISTANCE);
    *sup_gap = -INFINITY;
    *sup_distance = 0;
    ts_tracker k;
    if (ts_tracker_init(&k, p, r, &tracked, 1.0, err)) return TS_FAILED;
    for (int64_t t = 0;; t++) {
        risks now;
        if (measure(q, &now, err)) return TS_FAILED;
        if (now.test - now.train > *sup_gap) *sup_gap = now.test - now.train;
        if (now.distance > *sup_distance) *sup_distance = now.distance;
        if (ts_tracker_is_record_time(&k, t)) record_series(r, ts_tracker_slot(&k), &now);
        if (ts_tracker_track(&k, t, now.train) == TS_DIVERGED ||
            ts_tracker_guard(&k, now.test) == TS_DIVERGED ||
            ts_tracker_guard(&k, now.expected) == TS_DIVERGED)
            return TS_DIVERGED;
        if (t == steps) {
            *ts_recorder_scalar(r, M_FINAL_GAP) = now.test - now.train;
            return TS_DONE;
        }
        double lr = ts_schedule_lr(sched, t);
        ts_optim_begin(opt); /* W and Wbar: two blocks, each with its own state */
        ts_optim_update(opt, 0, q->w, q->grad, q->d, lr);
        ts_optim_update(opt, q->d, q->wbar, q->grad_bar, q->d, lr);
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

/* The finite-T law of Wbar_T,k (header comment): the linear recursion needs the squared loss
 * with the exact population, and the closed form a constant step. */
static void record_theory_charfn(const problem *q, const ts_point *p, ts_recorder *r)
{
    if (q->loss != TS_LOSS_SQUARED || !q->exact_population) return;
    if (!ts_point_is(p, "schedule", "constant") || ts_point_real(p, "warmup") != 0) return;
    ts_optim_config optim = ts_optim_config_of(p);
    if (optim.kind != TS_OPTIM_GD || optim.momentum != 0) return;
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
            sum += cos(u[j] * (contraction * q->w0[k] + pull * q->target[k]));
        ts_recorder_scalar(r, M_THEORY_CHARFN)[j] =
            sum / (double)q->d * exp(-pow(fabs(u[j] * s), q->alpha) * geometric);
    }
}

static int check(const ts_point *p, ts_error *err)
{
    ts_schedule sched;
    ts_optim_config optim = ts_optim_config_of(p);
    if (ts_optim_config_check(&optim, err)) return TS_EUSAGE;
    return ts_schedule_of(p, ts_point_real(p, "step_size"), ts_point_int(p, "steps"), &sched, err);
}

static ts_status run(const ts_point *p, gsl_rng *rng, ts_recorder *r, ts_error *err)
{
    ts_schedule sched;
    if (ts_schedule_of(p, ts_point_real(p, "step_size"), ts_point_int(p, "steps"), &sched, err))
        return TS_FAILED;
    problem q;
    if (problem_init(&q, p, rng, err)) return TS_FAILED;
    ts_optim_config cfg = ts_optim_config_of(p);
    ts_optim opt;
    if (ts_optim_init(&opt, &cfg, 2 * q.d, err) != TS_OK) {
        problem_free(&q);
        return TS_FAILED;
    }
    record_theory_charfn(&q, p, r);
    ts_status status = iterate(&q, p, &opt, &sched, r, err);
    if (status == TS_DONE) record_charfn(&q, p, r);
    ts_optim_free(&opt);
    problem_free(&q);
    return status;
}

/* Test-set samples a point holds (0 with the exact population). */
static double test_samples(const ts_point *p)
{
    return ts_point_is(p, "population", "test_set") ? (double)ts_point_int(p, "n_test") : 0.0;
}

/* Per step: two n x d matrix-vector products on the training set, three on a test set, a noise
 * vector (a few transcendentals per coordinate, counted as 20 multiply-adds); the logistic
 * quadrature takes some thousand evaluations of exp and log1p (counted as 2 10^4). */
static double cost(const ts_point *p)
{
    double d = (double)ts_point_int(p, "dim"), n = (double)ts_point_int(p, "n_train");
    double steps = (double)ts_point_int(p, "steps"), n_test = test_samples(p);
    int quadrature = ts_point_is(p, "problem", "logistic") && n_test == 0;
    return d * (n + n_test) + steps * (d * (2.0 * n + 3.0 * n_test + 20.0) + 2e4 * quadrature);
}

/* The data sets, seven vectors of d, the noise drawn ahead, and the optimizer's state over
 * both dynamics (Adam: two moments; momentum: one buffer). */
static size_t memory(const ts_point *p)
{
    size_t d = (size_t)ts_point_int(p, "dim"), n = (size_t)ts_point_int(p, "n_train");
    size_t n_test = (size_t)test_samples(p);
    ts_optim_config optim = ts_optim_config_of(p);
    size_t state = optim.kind == TS_OPTIM_ADAM ? 2 : optim.momentum > 0 ? 1 : 0;
    return ts_dataset_bytes(n + n_test, d) +
           sizeof(double) * (7 + noise_block_of(d) + 2 * state) * d;
}

const ts_experiment ts_experiment_levy_sgd = {
    .name = "levy_sgd",
    .summary = "GD (or sign, Adam) with alpha-stable Levy noise vs its expected dynamics: gap "
               "and decoupling",
    .reference = "Dupuis & Viallard, From Mutual Information to Expected Dynamics: New "
                 "Generalization Bounds for Heavy-Tailed SGD, arXiv:2312.00427",
    .params = params,
    .metrics = metrics,
    .cost = cost,
    .memory = memory,
    .blowup = {.quantity = "a risk (train, test or of the expected dynamics)", .bound = 1e100},
    .test_points = "params: {dim: 12, n_train: 30, n_test: 60, steps: 40, record: {log: 10}}",
    .run = run,
    .check = check,
};
