#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tailsweep/experiment.h"
#include "tailsweep/record.h"

/* Log-spaced integer times must stay strictly increasing and keep a fixed count (the archive's
 * record dimension has one length for every point), so rounding collisions at small t are pushed
 * up by one, and the tail is pulled down so the last time is exactly `steps`. */
static void log_times(int64_t n, int64_t steps, int64_t *t)
{
    t[0] = 0;
    for (int64_t k = 1; k < n; k++) {
        double target = pow((double)steps, (double)k / (double)(n - 1));
        int64_t r = (int64_t)llround(target);
        t[k] = r > t[k - 1] ? r : t[k - 1] + 1;
    }
    t[n - 1] = steps;
    for (int64_t k = n - 1; k-- > 1;)
        if (t[k] >= t[k + 1]) t[k] = t[k + 1] - 1;
}

int ts_record_times(ts_record_rule rule, int64_t steps, int64_t *times, ts_error *err)
{
    if (rule.count < 2)
        return ts_error_set(err, TS_EUSAGE, "record needs at least 2 times, found %lld",
                            (long long)rule.count);
    if (steps < rule.count - 1)
        return ts_error_set(err, TS_EUSAGE,
                            "record asks for %lld times but steps = %lld allows at most %lld",
                            (long long)rule.count, (long long)steps, (long long)steps + 1);
    if (rule.kind == TS_RECORD_LOG) {
        log_times(rule.count, steps, times);
    } else {
        /* floor(k * steps / (n - 1)) in exact integers without overflow: split steps into
         * q (n - 1) + r. Never collides when n - 1 <= steps. */
        int64_t q = steps / (rule.count - 1), r = steps % (rule.count - 1);
        for (int64_t k = 0; k < rule.count; k++)
            times[k] = k * q + (k * r) / (rule.count - 1);
    }
    return TS_OK;
}

/* The sizes of metric m's extra dimensions at point p (1 beyond the last); their product. */
static size_t extra_shape(const ts_metric_def *m, const ts_point *p,
                          size_t shape[TS_MAX_EXTRA_DIMS])
{
    size_t extent = 1;
    for (int d = 0; d < TS_MAX_EXTRA_DIMS; d++) {
        shape[d] = 1;
        if (!m->dims[d]) continue;
        const ts_value *v = ts_point_value(p, ts_dim_param(m->dims[d]));
        shape[d] = v->type == TS_REAL_LIST ? v->n : (size_t)v->i;
        extent *= shape[d];
    }
    return extent;
}

int ts_layout_init(ts_layout *l, const ts_experiment *x, const ts_point *p, ts_error *err)
{
    memset(l, 0, sizeof *l);
    l->nmetrics = ts_metric_count(x->metrics);
    l->offset = calloc(l->nmetrics + 1, sizeof *l->offset);
    l->extent = calloc(l->nmetrics + 1, sizeof *l->extent);
    l->shape = calloc(l->nmetrics + 1, sizeof *l->shape);
    if (!l->offset || !l->extent || !l->shape) {
        ts_layout_free(l);
        return ts_error_set(err, TS_ERUNTIME, "out of memory");
    }
    const ts_value *rec = ts_point_value(p, "record");
    l->nrecords = rec && rec->type == TS_RECORD ? (size_t)rec->rec.count : 0;
    for (size_t m = 0; m < l->nmetrics; m++) {
        const ts_metric_def *def = &x->metrics[m];
        l->offset[m] = l->total;
        l->extent[m] = extra_shape(def, p, l->shape[m]);
        l->total += l->extent[m] * (def->kind == TS_SERIES ? l->nrecords : 1);
    }
    return TS_OK;
}

int ts_layout_same(const ts_layout *a, const ts_layout *b)
{
    if (a->nmetrics != b->nmetrics || a->nrecords != b->nrecords || a->total != b->total)
        return 0;
    for (size_t m = 0; m < a->nmetrics; m++)
        for (int d = 0; d < TS_MAX_EXTRA_DIMS; d++)
            if (a->shape[m][d] != b->shape[m][d]) return 0;
    return 1;
}

/* Values per extra multi-index of metric m: the record count for a series, 1 for a scalar. */
static size_t inner_size(const ts_layout *l, size_t m)
{
    size_t end = m + 1 < l->nmetrics ? l->offset[m + 1] : l->total;
    return l->extent[m] ? (end - l->offset[m]) / l->extent[m] : 0;
}

_Static_assert(TS_MAX_EXTRA_DIMS == 3, "ts_layout_pad walks three extra dimensions");

/* Row-major [d0, d1, d2, inner] in both layouts: each run of `inner` values is copied to the
 * same multi-index in the larger shape. */
void ts_layout_pad(const ts_layout *from, const ts_layout *to, const double *src, double *dst)
{
    for (size_t k = 0; k < to->total; k++) dst[k] = NAN;
    for (size_t m = 0; m < from->nmetrics; m++) {
        const size_t *fs = from->shape[m], *ts = to->shape[m], inner = inner_size(from, m);
        for (size_t i = 0; i < fs[0]; i++)
            for (size_t j = 0; j < fs[1]; j++)
                for (size_t k = 0; k < fs[2]; k++) {
                    size_t a = (i * fs[1] + j) * fs[2] + k, b = (i * ts[1] + j) * ts[2] + k;
                    memcpy(dst + to->offset[m] + b * inner, src + from->offset[m] + a * inner,
                           inner * sizeof *dst);
                }
    }
}

void ts_layout_free(ts_layout *l)
{
    free(l->offset);
    free(l->extent);
    free(l->shape);
    memset(l, 0, sizeof *l);
}

int ts_recorder_init(ts_recorder *r, const ts_point *p, ts_error *err)
{
    memset(r, 0, sizeof *r);
    int rc = ts_layout_init(&r->layout, p->experiment, p, err);
    if (rc) return rc;
    r->times = malloc((r->layout.nrecords + 1) * sizeof *r->times);
    r->values = malloc((r->layout.total + 1) * sizeof *r->values);
    if (!r->times || !r->values) {
        ts_recorder_free(r);
        return ts_error_set(err, TS_ERUNTIME, "out of memory");
    }
    if (r->layout.nrecords) {
        const ts_value *rec = ts_point_value(p, "record");
        rc = ts_record_times(rec->rec, ts_point_int(p, "steps"), r->times, err);
        if (rc) {
            ts_recorder_free(r);
            return rc;
        }
    }
    ts_recorder_reset(r);
    return TS_OK;
}

void ts_recorder_reset(ts_recorder *r)
{
    for (size_t k = 0; k < r->layout.total; k++) r->values[k] = NAN;
}

void ts_recorder_free(ts_recorder *r)
{
    ts_layout_free(&r->layout);
    free(r->times);
    free(r->values);
    memset(r, 0, sizeof *r);
}
