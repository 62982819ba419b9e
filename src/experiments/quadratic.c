/* Gradient descent on a diagonal quadratic with power-law spectrum: the foundation's reference
 * experiment, with an exact closed form to check the whole pipeline against.
 *   f(w) = 1/2 sum_k lambda_k (w_k - w*_k)^2,  lambda_k = k^-s,  w*_k ~ N(0, k^-b),  w_0 = 0.
 * GD contracts each error coordinate by (1 - eta lambda_k) per step, so
 *   f(w_t) = 1/2 sum_k lambda_k (1 - eta lambda_k)^(2t) w*_k^2,
 * and a step above 2 / lambda_1 = 2 diverges. `iterate` runs any of the shared optimizers and
 * schedules; the closed form (theory_loss, and mode closed_form) holds for GD with a constant
 * step. */
#include <math.h>
#include <stdlib.h>

#include <gsl/gsl_randist.h>

#include "tailsweep/experiment.h"
#include "tailsweep/optim.h"
#include "tailsweep/schedule.h"
#include "tailsweep/tracker.h"

static const double default_eps[] = {0.5, 0.1, 0.01};

static const ts_param_def params[] = {
    {"dim", TS_INT, .def.i = 100, .range = "[1, inf)", .unit = "", .doc = "dimension d"},
    {"spectrum_exponent", TS_REAL, .def.r = 1.0, .range = "[0, inf)", .unit = "",
     .doc = "s in lambda_k = k^-s (lambda_1 = 1)"},
    {"target_exponent", TS_REAL, .def.r = 0.0, .range = "(-inf, inf)", .unit = "",
     .doc = "b in w*_k ~ N(0, k^-b)"},
    {"step_size", TS_REAL, .def.r = 1.0, .range = "(0, inf)", .unit = "",
     .doc = "GD step eta; eta > 2 diverges"},
    TS_ITERATION_PARAMS(1000, TS_RECORD_LOG, 50),
    TS_EPS_PARAM(default_eps, 3, "relative errors f(w_t)/f(w_0) for steps_to_eps"),
    {"mode", TS_ENUM, .def.e = "iterate", .choices = "iterate|closed_form", .unit = "",
     .doc = "iterate the optimizer, or evaluate only GD's closed form (any steps, O(d) per record)"},
    TS_OPTIM_PARAMS("gd"),
    TS_SCHEDULE_PARAMS,
    {0},
};

enum { M_LOSS, M_THEORY_LOSS, M_STEPS_TO_EPS, M_FINAL_LOSS, NMETRICS };
static const ts_metric_def metrics[] = {
    [M_LOSS] = {.name = "loss", .kind = TS_SERIES, .unit = "",
                .doc = "f(w_t) - f*, simulated (iterate) or closed form (closed_form)"},
    [M_THEORY_LOSS] = {.name = "theory_loss", .kind = TS_SERIES, .unit = "",
                       .doc = "GD's closed form 1/2 sum_k lambda_k (1 - eta lambda_k)^(2t) "
                              "w*_k^2 (NaN for other optimizers or schedules)",
                       .theory_for = "loss"},
    [M_STEPS_TO_EPS] = {.name = "steps_to_eps", .kind = TS_SCALAR, .unit = "iterations",
                        .doc = "first t with f(w_t) <= eps f(w_0); NaN when not reached within "
                               "steps",
                        .dims = {"eps"}},
    [M_FINAL_LOSS] = {.name = "final_loss", .kind = TS_SCALAR, .unit = "", .doc = "f(w_T) - f*"},
    [NMETRICS] = {0},
};

/* What the tracker fills from the loss of an iterated run. */
static const ts_tracked tracked = {.value_series = M_LOSS, .relative_series = -1,
                                   .first_hits = M_STEPS_TO_EPS, .final_value = M_FINAL_LOSS,
                                   .final_relative = -1};

typedef struct problem {
    size_t d;
    double eta;
    double *lambda, *contraction, *err; /* err = w - w* */
    double *grad;
} problem;

static void problem_free(problem *q)
{
    free(q->lambda);
    free(q->contraction);
    free(q->err);
    free(q->grad);
}

static int problem_init(problem *q, const ts_point *p, gsl_rng *rng, ts_error *err)
{
    q->d = (size_t)ts_point_int(p, "dim");
    q->eta = ts_point_real(p, "step_size");
    double s = ts_point_real(p, "spectrum_exponent"), b = ts_point_real(p, "target_exponent");
    q->lambda = malloc(q->d * sizeof *q->lambda);
    q->contraction = malloc(q->d * sizeof *q->contraction);
    q->err = malloc(q->d * sizeof *q->err);
    q->grad = malloc(q->d * sizeof *q->grad);
    if (!q->lambda || !q->contraction || !q->err || !q->grad) {
        problem_free(q);
        return ts_error_set(err, TS_ERUNTIME, "out of memory for dim = %zu", q->d);
    }
    for (size_t k = 0; k < q->d; k++) {
        double index = (double)(k + 1);
        q->lambda[k] = pow(index, -s);
        q->contraction[k] = 1.0 - q->eta * q->lambda[k];
        q->err[k] = -gsl_ran_gaussian(rng, pow(index, -b / 2));
    }
    return TS_OK;
}

/* (1 - x)^(2t) as exp(2t log1p(-x)) keeps precision for tiny eta lambda and huge t; a negative
 * base (eta lambda > 1) needs the plain power, whose even exponent makes it positive. */
static double contraction_power(double c, double two_t)
{
    return c > 0 ? exp(two_t * log(c)) : pow(c, two_t);
}

static double closed_form(const problem *q, int64_t t)
{
    double sum = 0;
    for (size_t k = 0; k < q->d; k++)
        sum += q->lambda[k] * contraction_power(q->contraction[k], 2.0 * (double)t) * q->err[k] *
               q->err[k];
    return 0.5 * sum;
}

/* The first integer t in [0, steps] with L(t) <= target; L is non-increasing when every
 * |1 - eta lambda_k| <= 1, which holds for runs that have not diverged. */
static double first_time_below(const problem *q, double target, int64_t steps)
{
    if (closed_form(q, steps) > target) return NAN;
    int64_t lo = -1, hi = steps; /* L(lo) > target >= L(hi) */
    while (hi - lo > 1) {
        int64_t mid = lo + (hi - lo) / 2;
        if (closed_form(q, mid) <= target) hi = mid;
        else lo = mid;
    }
    return (double)hi;
}

static ts_status run_closed_form(const problem *q, const ts_point *p, ts_recorder *r)
{
    int64_t steps = ts_point_int(p, "steps");
    double initial = closed_form(q, 0);
    double *loss = ts_recorder_series(r, M_LOSS), *theory = ts_recorder_series(r, M_THEORY_LOSS);
    for (size_t k = 0; k < r->layout.nrecords; k++) {
        loss[k] = theory[k] = closed_form(q, r->times[k]);
        if (ts_blowup_exceeded(&p->experiment->blowup, loss[k], initial)) return TS_DIVERGED;
    }
    size_t neps;
    const double *eps = ts_point_list(p, "eps", &neps);
    for (size_t e = 0; e < neps; e++)
        ts_recorder_scalar(r, M_STEPS_TO_EPS)[e] = first_time_below(q, eps[e] * initial, steps);
    *ts_recorder_scalar(r, M_FINAL_LOSS) = closed_form(q, steps);
    return TS_DONE;
}

static double loss_of(const problem *q)
{
    double sum = 0;
    for (size_t k = 0; k < q->d; k++) sum += q->lambda[k] * q->err[k] * q->err[k];
    return 0.5 * sum;
}

/* Minimising f over w is minimising over err = w - w* with the same steps, since w* is fixed:
 * the optimizer updates err in place with the gradient lambda * err. */
static ts_status iterate(problem *q, const ts_point *p, ts_optim *opt, const ts_schedule *sched,
                         ts_recorder *r, ts_error *err)
{
    int64_t steps = ts_point_int(p, "steps");
    ts_tracker k;
    if (ts_tracker_init(&k, p, r, &tracked, NAN, err)) return TS_FAILED;
    for (int64_t t = 0;; t++) {
        if (ts_tracker_track(&k, t, loss_of(q)) == TS_DIVERGED) return TS_DIVERGED;
        if (t == steps) return TS_DONE;
        for (size_t j = 0; j < q->d; j++) q->grad[j] = q->lambda[j] * q->err[j];
        ts_optim_step(opt, q->err, q->grad, ts_schedule_lr(sched, t));
    }
}

static ts_status run_iterate(problem *q, const ts_point *p, ts_recorder *r, ts_error *err)
{
    ts_optim_config cfg = ts_optim_config_of(p);
    ts_schedule sched;
    ts_optim opt;
    if (ts_schedule_of(p, q->eta, ts_point_int(p, "steps"), &sched, err) != TS_OK) return TS_FAILED;
    if (ts_optim_init(&opt, &cfg, q->d, err) != TS_OK) return TS_FAILED;
    ts_status status = iterate(q, p, &opt, &sched, r, err);
    ts_optim_free(&opt);
    return status;
}

/* The closed form describes plain GD with a constant step only. */
static int closed_form_applies(const ts_point *p)
{
    ts_optim_config c = ts_optim_config_of(p);
    return c.kind == TS_OPTIM_GD && c.momentum == 0 && c.weight_decay == 0 &&
           ts_point_is(p, "schedule", "constant") && ts_point_real(p, "warmup") == 0;
}

static int check(const ts_point *p, ts_error *err)
{
    ts_optim_config optim = ts_optim_config_of(p);
    if (ts_optim_config_check(&optim, err)) return TS_EUSAGE;
    if (ts_point_is(p, "mode", "closed_form") && !closed_form_applies(p))
        return ts_error_set(err, TS_EUSAGE, "mode closed_form needs optimizer gd without "
                                            "momentum or weight_decay and schedule constant "
                                            "without warmup");
    if (ts_point_real(p, "weight_decay") != 0)
        return ts_error_set(err, TS_EUSAGE, "weight_decay is not offered here: the optimizer "
                                            "steps on the error w - w*, so it would decay towards "
                                            "w*; set weight_decay 0");
    ts_schedule sched;
    return ts_schedule_of(p, ts_point_real(p, "step_size"), ts_point_int(p, "steps"), &sched, err);
}

static ts_status run(const ts_point *p, gsl_rng *rng, ts_recorder *r, ts_error *err)
{
    if (check(p, err) != TS_OK) return TS_FAILED;
    problem q;
    if (problem_init(&q, p, rng, err)) return TS_FAILED;
    ts_status status;
    if (ts_point_is(p, "mode", "closed_form")) {
        status = run_closed_form(&q, p, r);
    } else {
        /* The theory overlay needs w*, which iterating overwrites: evaluate it first. */
        double *theory = ts_recorder_series(r, M_THEORY_LOSS);
        if (closed_form_applies(p))
            for (size_t k = 0; k < r->layout.nrecords; k++)
                theory[k] = closed_form(&q, r->times[k]);
        status = run_iterate(&q, p, r, err);
    }
    problem_free(&q);
    return status;
}

static double cost(const ts_point *p)
{
    double d = (double)ts_point_int(p, "dim"), steps = (double)ts_point_int(p, "steps");
    if (ts_point_is(p, "mode", "closed_form"))
        return d * (64.0 + log2(steps + 1.0) * 3.0); /* records plus the bisections */
    return d * steps;
}

static size_t memory(const ts_point *p)
{
    size_t arrays = ts_point_is(p, "optimizer", "adam") ? 6 : 4; /* Adam adds two moments */
    return arrays * sizeof(double) * (size_t)ts_point_int(p, "dim");
}

const ts_experiment ts_experiment_quadratic = {
    .name = "quadratic",
    .summary = "optimizers on a diagonal quadratic with power-law spectrum; GD's closed form",
    .reference = "classical (the foundation's closed-form check)",
    .params = params,
    .metrics = metrics,
    .cost = cost,
    .memory = memory,
    .blowup = {.quantity = "the loss f(w_t) - f*", .bound = 1e100, .relative = 1},
    .test_points = "params: {dim: 30, steps: 60, record: {log: 12}}",
    .run = run,
    .check = check,
};
