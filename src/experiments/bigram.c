/* Gradient descent vs sign descent on the linear bigram model under Zipf's law (Kunstner & Bach,
 * "Scaling Laws for Gradient Descent and Sign Descent for Linear Bigram Models under Zipf's Law",
 * arXiv:2505.19227; docs/experiments.md section 1). This file: the descriptor, the Zipf model and
 * the run dispatch; the modes and the theory live in the files bigram.h lists.
 *
 * Model: pi_k = k^-a / H(d, a); row i's conditional p_i is a permutation of pi; square loss
 *   L(W) - L* = 1/2 sum_i pi_i ||w_i - p_i||^2,   gradient column i: pi_i (w_i - p_i),
 * so from W0 = 0 every entry (j, i) moves on its own with curvature pi_i and initial error
 * p_{j|i}, and every row holds the same multiset of errors {pi_k}:
 *   GD:   r(t) = sum_i pi_i (1 - eta pi_i)^(2t)                      (the paper's Prop. 2.2)
 *   sign: r(t) = sum_k e_k(t)^2 / sum_k pi_k^2, e_k the error of an entry with target pi_k
 *         that moves by eta per step towards its target and then oscillates around it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tailsweep/data.h"

#include "bigram.h"

/* ------------------------------------------------------------------ declarations */

static const double default_eps[] = {0.5, 0.3, 0.1};

static const ts_param_def params[] = {
    {"dim", TS_INT, .def.i = 1000, .range = "[1, inf)", .unit = "tokens",
     .doc = "vocabulary size d (W is d x d)"},
    {"zipf_exponent", TS_REAL, .def.r = 1.0, .range = "(0, inf)", .unit = "",
     .doc = "a in pi_k = k^-a / H(d, a); text is a ~ 1"},
    {"mode", TS_ENUM, .def.e = "exact", .choices = "exact|full|sampled", .unit = "",
     .doc = "exact: decoupled closed forms, O(d); full: d x d matrix, population gradient; "
            "sampled: mini-batches of (i, j) pairs"},
    {"objective", TS_ENUM, .def.e = "square", .choices = "square|cross_entropy", .unit = "",
     .doc = "square (the paper) or softmax cross-entropy (its Fig. 8; full and sampled only)"},
    TS_OPTIM_PARAMS("gd"),
    TS_SCHEDULE_PARAMS,
    {"step_rule", TS_ENUM, .def.e = "inverse_pi1", .choices = "inverse_pi1|explicit|phi",
     .unit = "",
     .doc = "base step: 1/pi_1 (the paper's GD step), step_size, or 1/(H(d,a) steps phi^a)"},
    {"step_size", TS_REAL, .def.r = 1.0, .range = "(0, inf)", .unit = "",
     .doc = "base step for step_rule explicit"},
    {"phi", TS_REAL, .def.r = 1.0, .range = "[1, inf)", .unit = "tokens",
     .doc = "step_rule phi: about how many coordinates still move at the horizon"},
    {"phi_grid", TS_INT, .def.i = 0, .range = "[0, inf)", .unit = "",
     .doc = "exact sign descent: best phi over this many log-spaced values in [1, d] per "
            "record time (0: off)"},
    TS_ITERATION_PARAMS(1000, TS_RECORD_LOG, 50),
    TS_EPS_PARAM(default_eps, 3, "relative errors for steps_to_eps"),
    {"permutation", TS_ENUM, .def.e = "independent", .choices = "independent|shared",
     .unit = "", .doc = "rows' conditionals: an independent random permutation each, or one"},
    {"batch_size", TS_INT, .def.i = 64, .range = "[1, inf)", .unit = "pairs",
     .doc = "sampled: (i, j) pairs per mini-batch"},
    TS_BATCH_REUSE_PARAM(1),
    {"sampled_update", TS_ENUM, .def.e = "auto", .choices = "auto|dense", .unit = "",
     .doc = "sampled: auto keeps a lazy scale per column for plain SGD on the square loss "
            "(O(batch) per step, equal to dense up to rounding); dense writes whole columns "
            "(to check auto, or time the difference)"},
    {0},
};

static const ts_metric_def metrics[] = {
    [TS_BIGRAM_LOSS] = {.name = "loss", .kind = TS_SERIES,
     .unit = "nats (cross-entropy) or squared error",
     .doc = "L(W_t) - L*, the population loss gap"},
    [TS_BIGRAM_REL_ERR] = {.name = "rel_err", .kind = TS_SERIES, .unit = "",
     .doc = "(L(W_t) - L*) / (L(W_0) - L*)"},
    [TS_BIGRAM_THEORY] = {.name = "theory_rel_err", .kind = TS_SERIES, .unit = "",
     .theory_for = "rel_err",
     .doc = "finite-d closed form of full-batch GD or sign descent (square loss, constant "
            "step); NaN otherwise"},
    [TS_BIGRAM_ASYMPTOTIC] = {.name = "asymptotic_rel_err", .kind = TS_SERIES, .unit = "",
     .theory_for = "rel_err",
     .doc = "GD with eta = 1/pi_1: the paper's limit law (Thm 3.1; a = 1: its finite-d form); "
            "NaN otherwise"},
    [TS_BIGRAM_BEST] = {.name = "best_rel_err", .kind = TS_SERIES, .unit = "",
     .doc = "exact sign descent: min over phi of r(T) with eta = 1/(H T phi^a), T the record "
            "time (phi_grid > 0)"},
    [TS_BIGRAM_BEST_PHI] = {.name = "best_phi", .kind = TS_SERIES, .unit = "tokens",
     .doc = "argmin of best_rel_err"},
    [TS_BIGRAM_BEST_AVG] = {.name = "best_avg_rel_err", .kind = TS_SERIES, .unit = "",
     .doc = "as best_rel_err for the mean of the last two iterates (W_{T-1} + W_T)/2, which "
            "removes the period-2 oscillation"},
    [TS_BIGRAM_BEST_AVG_PHI] = {.name = "best_avg_phi", .kind = TS_SERIES, .unit = "tokens",
     .doc = "argmin of best_avg_rel_err"},
    [TS_BIGRAM_ASYMPTOTIC_BEST] = {.name = "asymptotic_best_rel_err", .kind = TS_SERIES, .unit = "",
     .theory_for = "best_avg_rel_err",
     .doc = "1/(zeta(2a) (1 + tau^2)), 4 T^2 = tau^2 d (the paper's Thm 4.5, a > 1/2)"},
    [TS_BIGRAM_STEPS_TO_EPS] = {.name = "steps_to_eps", .kind = TS_SCALAR, .unit = "iterations",
     .dims = {"eps"},
     .doc = "first t with rel_err <= eps (exact GD: real t solving r(t) = eps); NaN if never"},
    [TS_BIGRAM_BEST_AVG_STEPS_TO_EPS] = {.name = "best_avg_steps_to_eps", .kind = TS_SCALAR,
     .unit = "iterations", .dims = {"eps"},
     .doc = "smallest horizon T with best_avg_rel_err <= eps (bisection); NaN if none"},
    [TS_BIGRAM_FINAL] = {.name = "final_rel_err", .kind = TS_SCALAR, .unit = "",
     .doc = "rel_err at t = steps"},
    [TS_BIGRAM_NMETRICS] = {0},
};

static int run_init(ts_bigram_run *run, const ts_point *p, ts_error *err)
{
    memset(run, 0, sizeof *run);
    run->point = p;
    int rc = ts_bigram_model_init(&run->model, (size_t)ts_point_int(p, "dim"),
                        ts_point_real(p, "zipf_exponent"), err);
    if (rc) return rc;
    run->objective =
        ts_point_is(p, "objective", "square") ? TS_BIGRAM_SQUARE : TS_BIGRAM_CROSS_ENTROPY;
    run->optim = ts_optim_config_of(p);
    run->steps = ts_point_int(p, "steps");
    run->shared_permutation = ts_point_is(p, "permutation", "shared");
    run->batch_size = (size_t)ts_point_int(p, "batch_size");
    run->batch_reuse = (size_t)ts_point_int(p, "batch_reuse");
    run->dense_updates = ts_point_is(p, "sampled_update", "dense");
    if (ts_point_is(p, "step_rule", "inverse_pi1"))
        run->eta = 1.0 / run->model.pi[0];
    else if (ts_point_is(p, "step_rule", "explicit"))
        run->eta = ts_point_real(p, "step_size");
    else /* the paper's sign-descent parameterisation eta(T, phi) = 1/(H(d,a) T phi^a) */
        run->eta = 1.0 / (run->model.harmonic * (double)run->steps *
                          pow(ts_point_real(p, "phi"), run->model.a));
    rc = ts_schedule_of(p, run->eta, run->steps, &run->schedule, err);
    if (rc) ts_bigram_model_free(&run->model);
    return rc;
}


/* ------------------------------------------------------------------ the descriptor */

/* Combinations that cannot run, refused by `plan` and `run` before any work (and by run, for
 * callers of the library that skip the check). Cheap: no model is built. */
static int check(const ts_point *p, ts_error *err)
{
    int cross_entropy = ts_point_is(p, "objective", "cross_entropy");
    int64_t d = ts_point_int(p, "dim");
    if (cross_entropy && d < 2)
        return ts_error_set(err, TS_EUSAGE, "objective cross_entropy needs dim >= 2 (at dim 1 it "
                                            "is 0)");
    if (ts_point_is(p, "mode", "sampled") && (uint64_t)d > UINT32_MAX)
        return ts_error_set(err, TS_EUSAGE, "mode sampled: dim = %lld exceeds %lu", (long long)d,
                            (unsigned long)UINT32_MAX);
    ts_schedule sched; /* the step's base value does not change the schedule's shape */
    if (ts_schedule_of(p, 1.0, ts_point_int(p, "steps"), &sched, err)) return TS_EUSAGE;
    ts_optim_config optim = ts_optim_config_of(p);
    if (ts_optim_config_check(&optim, err)) return TS_EUSAGE;
    int plain = optim.momentum == 0 && optim.weight_decay == 0;
    if (ts_point_is(p, "mode", "sampled") && !plain)
        return ts_error_set(err, TS_EUSAGE,
                            "mode sampled steps only the batch's columns: momentum and "
                            "weight_decay would move every entry at every step; use mode full");
    if (!ts_point_is(p, "mode", "exact")) return TS_OK;
    if (!plain)
        return ts_error_set(err, TS_EUSAGE, "mode exact has closed forms for plain gd and sign "
                                            "only (momentum 0, weight_decay 0); use mode full");
    if (optim.kind == TS_OPTIM_ADAM)
        return ts_error_set(err, TS_EUSAGE,
                            "mode exact has closed forms for gd and sign only: Adam's "
                            "per-entry moments break the decoupling; use mode full or sampled");
    if (cross_entropy)
        return ts_error_set(err, TS_EUSAGE,
                            "mode exact needs objective square (cross-entropy has no closed form); "
                            "use mode full or sampled");
    if (sched.kind != TS_SCHEDULE_CONSTANT || sched.warmup != 0)
        return ts_error_set(err, TS_EUSAGE,
                            "mode exact needs schedule constant without warmup (its closed "
                            "forms assume a constant step); use mode full");
    return TS_OK;
}

static ts_status run(const ts_point *p, gsl_rng *rng, ts_recorder *r, ts_error *err)
{
    if (check(p, err)) return TS_FAILED;
    ts_bigram_run q;
    if (run_init(&q, p, err)) return TS_FAILED;
    ts_status status = TS_FAILED;
    ts_bigram_record_asymptotic(&q, r);
    if (ts_point_is(p, "mode", "exact")) {
        status = ts_bigram_run_exact(&q, r, err);
    } else if (ts_bigram_record_theory(&q, r, err) == TS_OK) {
        status = ts_point_is(p, "mode", "full") ? ts_bigram_run_full(&q, rng, r, err)
                                                : ts_bigram_run_sampled(&q, rng, r, err);
    }
    ts_bigram_model_free(&q.model);
    return status;
}

static double record_count(const ts_point *p)
{
    return (double)ts_point_value(p, "record")->rec.count;
}

static double cost(const ts_point *p)
{
    double d = (double)ts_point_int(p, "dim"), steps = (double)ts_point_int(p, "steps");
    double records = record_count(p), grid = (double)ts_point_int(p, "phi_grid");
    size_t neps;
    ts_point_list(p, "eps", &neps);
    if (ts_point_is(p, "mode", "exact")) {
        /* GD: setting up the moments costs about 50 term-by-term evaluations, after which an
         * evaluation (a record, or one of ~40 root-finding steps per eps) costs about 1/30 of
         * one (bigram_gd.c) */
        if (ts_point_is(p, "optimizer", "gd"))
            return d * (50 + (records + 40.0 * (double)neps) / 30);
        double envelope = grid > 0 ? d * (grid + 30) * (records + 2 * log2(steps + 1)) : 0;
        return d * (records + (double)neps) + steps + envelope;
    }
    double per_entry = ts_point_is(p, "objective", "cross_entropy") ? 6.0 : 1.0;
    if (ts_point_is(p, "mode", "full")) return d * d * (steps + 1) * per_entry;
    double batch = (double)ts_point_int(p, "batch_size");
    return d * d * (1 + records) + steps * fmin(batch, d) * d * per_entry;
}

static size_t memory(const ts_point *p)
{
    size_t d = (size_t)ts_point_int(p, "dim");
    int shared = ts_point_is(p, "permutation", "shared");
    int adam = ts_point_is(p, "optimizer", "adam");
    if (ts_point_is(p, "mode", "full")) return ts_bigram_full_bytes(d, shared, adam);
    if (ts_point_is(p, "mode", "sampled"))
        return ts_bigram_sampled_bytes(d, shared, adam, (size_t)ts_point_int(p, "batch_size"));
    /* pi, and GD's closed form or two suffix sums (sign), and two prefix sums for the
     * best-phi envelope */
    size_t pi = d * sizeof(double);
    if (!ts_point_is(p, "optimizer", "sign")) return pi + ts_bigram_gd_form_bytes(d);
    int envelope = ts_point_int(p, "phi_grid") > 0;
    return pi + (size_t)(2 + 2 * envelope) * (d + 1) * sizeof(double);
}

const ts_experiment ts_experiment_bigram = {
    .name = "bigram",
    .summary = "GD vs sign descent on a linear bigram model under Zipf's law: closed forms "
               "(exact), the d x d matrix (full) or mini-batches (sampled)",
    .reference = "Kunstner & Bach, Scaling Laws for Gradient Descent and Sign Descent for Linear "
                 "Bigram Models under Zipf's Law, arXiv:2505.19227 (NeurIPS 2025)",
    .params = params,
    .metrics = metrics,
    .cost = cost,
    .memory = memory,
    .blowup = {.quantity = "the loss gap L(W_t) - L*", .bound = 1e6, .relative = 1},
    .test_points = "params: {dim: 40, steps: 60, record: {log: 12}, phi_grid: 4, batch_size: 16}\n"
                   "sweep: {mode: [exact, full, sampled], optimizer: [gd, sign]}",
    .run = run,
    .check = check,
};

