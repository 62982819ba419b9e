/* The iteration tracker (tracker.h). */
#include "tailsweep/tracker.h"

#include <math.h>
#include <stdio.h>

#include "tailsweep/experiment.h"

const char *ts_blowup_describe(const ts_blowup *b, char *buf, size_t cap)
{
    if (isinf(b->bound)) /* no value is watched: the quantity says what decides */
        snprintf(buf, cap, "%s", b->quantity);
    else
        snprintf(buf, cap, "%s is not finite or above %g%s", b->quantity, b->bound,
                 b->relative ? " times its value at t = 0" : "");
    return buf;
}

int ts_tracker_init(ts_tracker *k, const ts_point *p, ts_recorder *r, const ts_tracked *tracked,
                    double reference, ts_error *err)
{
    *k = (ts_tracker){.rec = r, .tracked = *tracked, .blowup = p->experiment->blowup,
                      .reference = reference};
    if (tracked->first_hits < 0) return TS_OK;
    const ts_value *eps = ts_point_value(p, "eps");
    if (!eps || eps->type != TS_REAL_LIST)
        return ts_error_set(err, TS_EUSAGE, "%s: first hits need a list parameter eps",
                            p->experiment->name);
    k->eps = eps->list;
    k->neps = k->unreached = eps->n;
    k->hit = ts_recorder_scalar(r, tracked->first_hits);
    return TS_OK;
}

/* A relative rule tests the ratio (as the relative series records it), not value against
 * bound * reference, so that a bound of 1e100 cannot overflow. Written as !(within) so that
 * NaN diverges too. */
int ts_blowup_exceeded(const ts_blowup *b, double value, double reference)
{
    double x = b->relative ? value / reference : value;
    return !(isfinite(x) && x <= b->bound);
}

static int beyond_bound(const ts_tracker *k, double value)
{
    return ts_blowup_exceeded(&k->blowup, value, k->reference);
}

ts_status ts_tracker_guard(const ts_tracker *k, double value)
{
    return beyond_bound(k, value) ? TS_DIVERGED : TS_DONE;
}

static void set_scalar(ts_tracker *k, int metric, double x)
{
    if (metric >= 0) *ts_recorder_scalar(k->rec, metric) = x;
}

ts_status ts_tracker_track(ts_tracker *k, int64_t t, double value)
{
    if (isnan(k->reference)) k->reference = value;
    double rel = value / k->reference;
    if (ts_tracker_is_record_time(k, t)) {
        if (k->tracked.value_series >= 0)
            ts_recorder_series(k->rec, k->tracked.value_series)[k->next] = value;
        if (k->tracked.relative_series >= 0)
            ts_recorder_series(k->rec, k->tracked.relative_series)[k->next] = rel;
        if (++k->next == k->rec->layout.nrecords) { /* the last record time is t = steps */
            set_scalar(k, k->tracked.final_value, value);
            set_scalar(k, k->tracked.final_relative, rel);
        }
    }
    if (beyond_bound(k, value)) return TS_DIVERGED;
    for (size_t e = 0; k->unreached && e < k->neps; e++)
        if (isnan(k->hit[e]) && rel <= k->eps[e]) {
            k->hit[e] = (double)t;
            k->unreached--;
        }
    return TS_DONE;
}
