/* The iteration tracker: what every iterative experiment's loop needs besides its own numbers,
 * so that a loop reads "compute, step, track":
 *
 *     ts_tracker k;
 *     ts_tracker_init(&k, p, r, &tracked, NAN, err);         // NAN: relative to the value at 0
 *     for (int64_t t = 0;; t++) {
 *         double loss = compute(...);
 *         if (ts_tracker_is_record_time(&k, t)) series[ts_tracker_slot(&k)] = other(...);
 *         if (ts_tracker_track(&k, t, loss) == TS_DIVERGED) return TS_DIVERGED;
 *         if (t == steps) break;
 *         step(...);
 *     }
 *
 * It records the tracked value (and its relative value) at the record times, the first step at
 * which the relative value falls to each `eps`, the final value, and decides divergence by the
 * experiment's declared blow-up rule (ts_experiment.blowup, shown by `tailsweep describe`). */
#ifndef TAILSWEEP_TRACKER_H
#define TAILSWEEP_TRACKER_H

#include <stddef.h>
#include <stdint.h>

#include "tailsweep/error.h"
#include "tailsweep/params.h"
#include "tailsweep/record.h"

struct ts_experiment;

/* What "diverged" means for an experiment, declared once in its descriptor. A run diverges when
 * a tracked (or guarded) value is not finite, or exceeds `bound` (times the run's reference
 * value, usually the value at t = 0, when `relative`). */
typedef struct ts_blowup {
    const char *quantity; /* what is watched, for describe: "the loss f(w_t) - f*" */
    double bound;
    int relative;
} ts_blowup;

/* Whether value breaks rule b (reference: the value the bound is relative to, if relative). */
int ts_blowup_exceeded(const ts_blowup *b, double value, double reference);

/* "the loss f(w_t) - f* is not finite or above 1e+100 times its value at t = 0", into buf. */
const char *ts_blowup_describe(const ts_blowup *b, char *buf, size_t cap);

/* Which metrics the tracker fills from the tracked value v(t) (-1: none). rel(t) = v(t) / v_ref,
 * v_ref the reference given to ts_tracker_init. */
typedef struct ts_tracked {
    int value_series;    /* series: v at the record times */
    int relative_series; /* series: rel at the record times */
    int first_hits;      /* scalar [eps]: the first t with rel(t) <= eps, NaN if never; needs a
                          * TS_REAL_LIST parameter "eps" */
    int final_value;     /* scalar: v(steps) */
    int final_relative;  /* scalar: rel(steps) */
} ts_tracked;

/* Parameters every iterative experiment declares (series need them): the horizon and the record
 * times. Experiments with first hits add TS_EPS_PARAM. */
#define TS_ITERATION_PARAMS(default_steps, record_kind, default_records)                     \
    {"steps", TS_INT, .def.i = default_steps, .range = "[1, inf)", .unit = "iterations",     \
     .doc = "number of steps T (also the horizon of the step-size schedule)"},               \
    {"record", TS_RECORD, .def.rec = {record_kind, default_records}, .unit = "",             \
     .doc = "record times over [0, steps]: {log: N} or {linear: N}"}

#define TS_EPS_PARAM(default_list, default_n, description)                                   \
    {"eps", TS_REAL_LIST, .def.list = default_list, .def.n = default_n, .range = "(0, 1)",   \
     .unit = "", .doc = description}

typedef struct ts_tracker {
    ts_recorder *rec;
    ts_tracked tracked;
    ts_blowup blowup;
    double reference; /* v_ref; NaN until the first value when taken from t = 0 */
    size_t next;      /* the next record index */
    const double *eps;
    size_t neps, unreached;
    double *hit;
} ts_tracker;

/* For point p's run recording into r. reference: v_ref, or NaN for the value at t = 0. The
 * blow-up rule is p's experiment's. TS_EUSAGE when tracked metrics name a first_hits metric
 * without an "eps" list parameter. */
int ts_tracker_init(ts_tracker *k, const ts_point *p, ts_recorder *r, const ts_tracked *tracked,
                    double reference, ts_error *err);

/* Whether t is the next record time: the caller writes its other series at ts_tracker_slot
 * before it calls ts_tracker_track for t. */
static inline int ts_tracker_is_record_time(const ts_tracker *k, int64_t t)
{
    return k->next < k->rec->layout.nrecords && k->rec->times[k->next] == t;
}
static inline size_t ts_tracker_slot(const ts_tracker *k) { return k->next; }

/* Whether the value at t is needed: at record times, and at every step while some eps is
 * unreached (so that hits are first hits). A loop may skip computing v elsewhere. */
static inline int ts_tracker_wants(const ts_tracker *k, int64_t t)
{
    return k->unreached > 0 || ts_tracker_is_record_time(k, t);
}

/* The tracked value after t steps (t = 0, 1, ..., steps, each at most once, increasing; every
 * record time must be passed). Returns TS_DIVERGED by the blow-up rule, else TS_DONE. */
ts_status ts_tracker_track(ts_tracker *k, int64_t t, double value);

/* Another value under the same blow-up rule (relative to the same reference): TS_DIVERGED or
 * TS_DONE. For experiments that watch several quantities (levy_sgd's three risks). */
ts_status ts_tracker_guard(const ts_tracker *k, double value);

#endif
