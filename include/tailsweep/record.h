/* The recorder: one run's results (series at the record times, scalars), in a flat buffer that
 * is exactly the payload of a shard record and of the archive's datasets. */
#ifndef TAILSWEEP_RECORD_H
#define TAILSWEEP_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include "tailsweep/params.h"

struct ts_experiment;

/* How a run ended; also the archive's /status codes. */
typedef enum {
    TS_MISSING = 0,  /* not (yet) computed */
    TS_DONE = 1,
    TS_DIVERGED = 2, /* NaN/Inf or a value beyond the experiment's blow-up rule: kept, not fatal */
    TS_FAILED = 3    /* an error with a message: kept, the sweep goes on */
} ts_status;

/* The record times for a rule over [0, steps]: rule.count strictly increasing integers, first 0,
 * last steps. Needs rule.count >= 2 and steps >= rule.count - 1 (else TS_EUSAGE). */
int ts_record_times(ts_record_rule rule, int64_t steps, int64_t *times, ts_error *err);

/* Layout of one run's values: for each metric in declaration order, the product of its extra
 * dimensions times (the record count, for a series). Sizes come from the point's parameters. */
typedef struct ts_layout {
    size_t nmetrics;
    size_t nrecords;   /* 0 when the experiment records no series */
    size_t total;      /* values per run */
    size_t *offset;    /* [nmetrics] */
    size_t *extent;    /* [nmetrics] product of extra dims */
    size_t (*shape)[TS_MAX_EXTRA_DIMS]; /* [nmetrics]: each extra dimension's size, 1 beyond */
} ts_layout;

int ts_layout_init(ts_layout *l, const struct ts_experiment *x, const ts_point *p, ts_error *err);
void ts_layout_free(ts_layout *l);
/* Whether a run's layout is the archive's (the same shapes), so no padding is needed. */
int ts_layout_same(const ts_layout *a, const ts_layout *b);
/* A run's values in its own layout `from`, copied into the larger layout `to` of the same
 * experiment (every extra dimension at least as large, the same records), NaN elsewhere: how a
 * run whose swept parameter sizes an extra dimension enters a rectangular archive. */
void ts_layout_pad(const ts_layout *from, const ts_layout *to, const double *src, double *dst);

typedef struct ts_recorder {
    ts_layout layout;
    int64_t *times;   /* [nrecords] */
    double *values;   /* [layout.total], NaN until set */
} ts_recorder;

/* Sets up for point p: record times from its "steps" and "record" parameters. */
int ts_recorder_init(ts_recorder *r, const ts_point *p, ts_error *err);
void ts_recorder_free(ts_recorder *r);
/* Forget every value (NaN), keep the layout. */
void ts_recorder_reset(ts_recorder *r);

/* Block of a series metric: [extra..., record], row-major. */
static inline double *ts_recorder_series(ts_recorder *r, int metric)
{
    return r->values + r->layout.offset[metric];
}
/* Block of a scalar metric: [extra...]. */
static inline double *ts_recorder_scalar(ts_recorder *r, int metric)
{
    return r->values + r->layout.offset[metric];
}

#endif
