/* What cmd_export.c (the CSV and the command) and export_plan.c (reading the archive) share: the
 * plan, that is the dimensions rows run over, the columns that label them and the metrics, and
 * the reading of one grid point's values. Private to `tailsweep export`. */
#ifndef TAILSWEEP_EXPORT_PLAN_H
#define TAILSWEEP_EXPORT_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include <hdf5.h>

#include "tailsweep/error.h"

#define NAME_CAP 256
#define MAX_DIMS 64
/* Trailing dimensions of one metric: its extra dimensions (TS_MAX_EXTRA_DIMS) and record. */
#define MAX_TRAIL 8

/* ------------------------------------------------------------------ the plan */

typedef enum { COLUMN_INT, COLUMN_REAL, COLUMN_STRING } column_kind;

/* The values of one coordinate along its dimension, read whole: a dimension's length is small
 * next to the archive. */
typedef struct column {
    char name[NAME_CAP];
    column_kind kind;
    size_t n;
    int64_t *i;
    double *r;
    char **s;
} column;

/* A dimension rows run over, and the columns that label its entries. */
typedef struct dim {
    char name[NAME_CAP];
    hsize_t size;
    column *cols;
    size_t ncols;
} dim;

typedef struct metric {
    char name[NAME_CAP];
    hid_t ds;
    size_t ntrail;
    size_t trail[MAX_TRAIL];   /* each trailing dimension's index in plan.trail */
    hsize_t stride[MAX_TRAIL]; /* row-major strides of the trailing dimensions */
    hsize_t per_run;           /* values per run */
    double *block;             /* one point: [repeat, trailing...] */
} metric;

typedef struct plan {
    hid_t file;
    dim *axes;
    size_t naxes;
    hsize_t repeats;
    dim *trail; /* the metrics' extra dimensions in order of first use, then record */
    size_t ntrail;
    int record;        /* index of record in trail, or -1 */
    hid_t iteration;   /* /iteration, or -1 */
    int times_vary;    /* iteration is [axes..., record] rather than [record] */
    int64_t *times;    /* the current point's record times */
    hid_t status;
    int8_t *status_block;
    metric *metrics;
    size_t nmetrics;
} plan;

/* Plan the export of the archive at path: the metrics named in wanted, or all of them when
 * nwanted is 0. Call export_plan_free afterwards, also when this fails. */
int export_plan_open(plan *p, const char *path, const char *const *wanted, size_t nwanted,
                     ts_error *err);
void export_plan_free(plan *p);
/* Read grid point idx (one index per sweep axis) into p's status block, metric blocks and,
 * when they vary, record times. */
int export_read_point(plan *p, const hsize_t *idx, ts_error *err);

#endif
