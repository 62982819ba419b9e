/* The bigram experiment's model helpers, which every mode and the theory share (bigram.h): the
 * Zipf marginal and its sums, the initial loss gap, and the tracker of a simulated run. A leaf
 * of the experiment's files. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bigram.h"

void ts_bigram_model_free(ts_bigram_model *m)
{
    free(m->pi);
    m->pi = NULL;
}

/* Sums run from the smallest term up, in long double, so that H(d, a) and the entropy keep full
 * double precision at d = 10^7. */
int ts_bigram_model_init(ts_bigram_model *m, size_t d, double a, ts_error *err)
{
    memset(m, 0, sizeof *m);
    m->d = d;
    m->a = a;
    m->pi = malloc(d * sizeof *m->pi);
    if (!m->pi) return ts_error_set(err, TS_ERUNTIME, "out of memory for dim = %zu", d);
    long double h = 0, s0 = 0, ent = 0;
    for (size_t k = d; k-- > 0;) {
        m->pi[k] = pow((double)(k + 1), -a);
        h += m->pi[k];
    }
    m->harmonic = (double)h;
    for (size_t k = d; k-- > 0;) {
        m->pi[k] /= m->harmonic;
        s0 += (long double)m->pi[k] * m->pi[k];
        ent -= m->pi[k] > 0 ? (long double)m->pi[k] * log(m->pi[k]) : 0;
    }
    m->s0 = (double)s0;
    m->entropy = (double)ent;
    return TS_OK;
}

double ts_bigram_initial_gap(const ts_bigram_run *run)
{
    if (run->objective == TS_BIGRAM_CROSS_ENTROPY) /* W = 0 predicts uniformly: log d - entropy */
        return log((double)run->model.d) - run->model.entropy;
    return 0.5 * run->model.s0;
}

int ts_bigram_constant_step(const ts_bigram_run *run)
{
    return run->schedule.kind == TS_SCHEDULE_CONSTANT && run->schedule.warmup == 0;
}

int ts_bigram_tracker_init(ts_tracker *k, const ts_bigram_run *run, ts_recorder *r,
                           ts_error *err)
{
    static const ts_tracked tracked = {
        .value_series = TS_BIGRAM_LOSS, .relative_series = TS_BIGRAM_REL_ERR,
        .first_hits = TS_BIGRAM_STEPS_TO_EPS, .final_value = -1,
        .final_relative = TS_BIGRAM_FINAL};
    return ts_tracker_init(k, run->point, r, &tracked, ts_bigram_initial_gap(run), err);
}
