/* The expanded sweep: fixed parameters, axes, and the canonical order of points.
 * Canonical order is mixed-radix over the axes as the spec lists them (sweep axes first, then
 * zip groups, each group one axis), the last axis fastest; a run is (point, repeat) and its item
 * number is point * repeats + repeat. docs/architecture.md sections 3 and 4. */
#ifndef TAILSWEEP_GRID_H
#define TAILSWEEP_GRID_H

#include <stddef.h>
#include <stdint.h>
#include "tailsweep/error.h"
#include "tailsweep/experiment.h"
#include "tailsweep/params.h"

#define TS_NAME_MAX 64

typedef struct ts_axis {
    char name[TS_NAME_MAX]; /* the parameter's name, or zip0, zip1, ... for a zip group */
    size_t size;            /* number of values (> 0) */
    size_t nparams;         /* 1 for a plain axis; the group's parameters for a zip group */
    int *param;             /* [nparams] indices into the experiment's params */
    ts_value *values;       /* [nparams * size]: values[j * size + k] is param j at position k */
    int is_zip;
    int shared_stream;      /* points that differ only along shared axes share their random
                             * streams (the spec's shared_streams): common random numbers */
} ts_axis;

typedef struct ts_grid {
    const ts_experiment *experiment;
    size_t nparams;   /* ts_param_count(experiment->params) */
    ts_value *base;   /* [nparams] each parameter's value outside the axes (default or fixed) */
    size_t naxes;
    ts_axis *axes;
    uint64_t npoints; /* product of the axis sizes (1 with no axes) */
    uint32_t repeats; /* >= 1 */
    uint64_t seed;
    /* Lists (TS_REAL_LIST values) the grid owns, freed with it. */
    double **owned;
    size_t nowned;
} ts_grid;

/* An empty grid for experiment x: every parameter at its default, no axes, one repeat. */
ts_grid *ts_grid_alloc(const ts_experiment *x);
void ts_grid_free(ts_grid *g);
/* Take ownership of a malloc'd list (for TS_REAL_LIST values); returns it. */
const double *ts_grid_own_list(ts_grid *g, double *list);
/* Append an axis (copied; values copied). For a zip group pass nparams > 1 and is_zip = 1.
 * Returns TS_ERUNTIME only when out of memory. */
int ts_grid_add_axis(ts_grid *g, const char *name, size_t nparams, const int *param,
                     const ts_value *values, size_t size, int is_zip, ts_error *err);

static inline uint64_t ts_grid_items(const ts_grid *g) { return g->npoints * g->repeats; }

/* The point's position on each axis: coords[naxes]. */
void ts_grid_coords(const ts_grid *g, uint64_t point, size_t *coords);
/* Fill values[nparams] for a point and make *p describe run (point, repeat). */
void ts_grid_point(const ts_grid *g, uint64_t point, uint32_t repeat, ts_value *values,
                   ts_point *p);
/* The axis that holds parameter `param`, or -1 (the parameter is fixed). */
int ts_grid_axis_of(const ts_grid *g, int param);
/* The stream index of a point (ts_point.stream): its canonical index over the axes that do not
 * share streams, in the same mixed radix. The canonical index itself when no axis does. */
uint64_t ts_grid_stream_of(const ts_grid *g, uint64_t point);

/* Canonical text of the resolved sweep: experiment, seed, repeats, every parameter's value
 * (defaults included) and every axis, one item per line, values printed exactly. Two specs that
 * mean the same sweep give the same text; it is what resume compares and what is hashed.
 * Caller frees. */
char *ts_grid_canonical(const ts_grid *g);
/* SHA-256 of the canonical text, as 64 hex digits plus NUL. */
void ts_grid_sha256(const ts_grid *g, char hex[65]);

/* Every point through the experiment's check (if it has one): the first point refused gives
 * TS_EUSAGE with a message naming the point's axis values. */
int ts_grid_check_points(const ts_grid *g, ts_error *err);

/* The layout of every run's values in the journal and the archive: point 0's, except that an
 * extra dimension sized by a swept integer parameter takes that parameter's largest value (runs
 * of smaller ones are padded with NaN, ts_layout_pad). The record count never varies. */
int ts_grid_layout(const ts_grid *g, ts_layout *l, ts_error *err);

/* Totals over every run, for `plan`: sum of experiment->cost, and the largest memory of a run. */
double ts_grid_total_cost(const ts_grid *g);
size_t ts_grid_peak_memory(const ts_grid *g);

#endif
