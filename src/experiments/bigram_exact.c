/* The bigram experiment's exact mode (Kunstner & Bach, arXiv:2505.19227; docs/experiments.md
 * section 1.4): from W0 = 0 under the square loss every entry moves on its own, so GD and sign
 * descent with a constant step have finite-d closed forms (bigram_gd.c, bigram_sign.c) that give
 * the loss at any record time in O(d) memory, d up to 10^7. The same closed forms are the theory
 * overlay of the simulated modes. */
#include <math.h>

#include "bigram.h"

static double gd_rel_of(const ts_bigram_run *run, const void *form, int64_t t)
{
    (void)run;
    return ts_bigram_gd_rel_err(form, (double)t);
}

static double sign_rel_of(const ts_bigram_run *run, const void *table, int64_t t)
{
    return ts_bigram_sign_table_sum(table, t) / run->model.s0;
}

/* Records r(t), and the gap (L0 - L*) r(t), at the record times, from `rel`; TS_DIVERGED once
 * it blows up. In the exact mode the closed form is also the theory overlay. */
static ts_status record_exact(const ts_bigram_run *run, ts_recorder *r,
                              double (*rel)(const ts_bigram_run *, const void *, int64_t),
                              const void *ctx)
{
    double gap0 = ts_bigram_initial_gap(run);
    double *loss = ts_recorder_series(r, TS_BIGRAM_LOSS);
    double *rel_err = ts_recorder_series(r, TS_BIGRAM_REL_ERR);
    double *theory = ts_recorder_series(r, TS_BIGRAM_THEORY);
    for (size_t k = 0; k < r->layout.nrecords; k++) {
        theory[k] = rel_err[k] = rel(run, ctx, r->times[k]);
        loss[k] = gap0 * rel_err[k];
        if (ts_blowup_exceeded(&run->point->experiment->blowup, rel_err[k], 1.0))
            return TS_DIVERGED;
    }
    *ts_recorder_scalar(r, TS_BIGRAM_FINAL) = rel_err[r->layout.nrecords - 1];
    return TS_DONE;
}

static ts_status run_exact_gd(const ts_bigram_run *run, ts_recorder *r, ts_error *err)
{
    ts_bigram_gd_form form;
    if (ts_bigram_gd_form_init(&form, &run->model, run->eta, err)) return TS_FAILED;
    ts_status status = record_exact(run, r, gd_rel_of, &form);
    if (status == TS_DONE) {
        size_t neps;
        const double *eps = ts_point_list(run->point, "eps", &neps);
        for (size_t e = 0; e < neps; e++)
            ts_recorder_scalar(r, TS_BIGRAM_STEPS_TO_EPS)[e] =
                ts_bigram_gd_steps_to_eps(&form, eps[e], run->steps);
    }
    ts_bigram_gd_form_free(&form);
    return status;
}

static ts_status run_exact_sign(const ts_bigram_run *run, ts_recorder *r, ts_error *err)
{
    ts_bigram_sign_table table;
    if (ts_bigram_sign_table_init(&table, &run->model, run->eta, err)) return TS_FAILED;
    ts_status status = record_exact(run, r, sign_rel_of, &table);
    if (status == TS_DONE) {
        size_t neps;
        const double *eps = ts_point_list(run->point, "eps", &neps);
        for (size_t e = 0; e < neps; e++)
            ts_recorder_scalar(r, TS_BIGRAM_STEPS_TO_EPS)[e] =
                ts_bigram_sign_steps_to_eps(&table, run->steps, eps[e] * run->model.s0);
    }
    ts_bigram_sign_table_free(&table);
    int64_t grid = ts_point_int(run->point, "phi_grid");
    if (status != TS_DONE || grid == 0) return status;
    return ts_bigram_record_envelopes(run, r, (size_t)grid, err) ? TS_FAILED : TS_DONE;
}

/* The combinations without closed forms (Adam, cross-entropy, a varying step) are refused by
 * the experiment's check before any work (bigram.c). */
ts_status ts_bigram_run_exact(const ts_bigram_run *run, ts_recorder *r, ts_error *err)
{
    return run->optim.kind == TS_OPTIM_GD ? run_exact_gd(run, r, err)
                                          : run_exact_sign(run, r, err);
}

int ts_bigram_record_theory(const ts_bigram_run *run, ts_recorder *r, ts_error *err)
{
    double *theory = ts_recorder_series(r, TS_BIGRAM_THEORY);
    size_t n = r->layout.nrecords;
    if (run->objective != TS_BIGRAM_SQUARE || !ts_bigram_constant_step(run)) return TS_OK;
    if (run->optim.kind == TS_OPTIM_SIGN) {
        ts_bigram_sign_table table;
        if (ts_bigram_sign_table_init(&table, &run->model, run->eta, err)) return TS_ERUNTIME;
        for (size_t k = 0; k < n; k++) theory[k] = sign_rel_of(run, &table, r->times[k]);
        ts_bigram_sign_table_free(&table);
    } else if (run->optim.kind == TS_OPTIM_GD) {
        ts_bigram_gd_form form;
        if (ts_bigram_gd_form_init(&form, &run->model, run->eta, err)) return TS_ERUNTIME;
        for (size_t k = 0; k < n; k++) theory[k] = gd_rel_of(run, &form, r->times[k]);
        ts_bigram_gd_form_free(&form);
    }
    return TS_OK;
}
