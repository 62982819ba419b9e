/* Parameter and metric declarations, parameter values, and the point an experiment runs. */
#ifndef TAILSWEEP_PARAMS_H
#define TAILSWEEP_PARAMS_H

#include <stddef.h>
#include <stdint.h>
#include "tailsweep/error.h"

typedef enum {
    TS_INT,       /* 64-bit integer */
    TS_REAL,      /* double */
    TS_ENUM,      /* one of .choices ("gd|sign|adam"), stored as the choice's index */
    TS_REAL_LIST, /* a fixed list of doubles, e.g. eps: [0.5, 0.1]; never a sweep axis */
    TS_RECORD     /* when to record series: {log: N} or {linear: N} over [0, steps] */
} ts_type;

typedef enum { TS_RECORD_LOG, TS_RECORD_LINEAR } ts_record_kind;

typedef struct ts_record_rule {
    ts_record_kind kind;
    int64_t count; /* number of record times, including t = 0 and t = steps */
} ts_record_rule;

/* A parameter's value. Not a union: the few bytes buy simple copying and printing. */
typedef struct ts_value {
    ts_type type;
    int64_t i;          /* TS_INT */
    double r;           /* TS_REAL */
    int e;              /* TS_ENUM: index into the def's choices */
    const double *list; /* TS_REAL_LIST: owned by the grid or the def */
    size_t n;           /* TS_REAL_LIST: length */
    ts_record_rule rec; /* TS_RECORD */
} ts_value;

typedef struct ts_param_def {
    const char *name;
    ts_type type;
    struct {
        int64_t i;
        double r;
        const char *e;      /* default choice, by name */
        const double *list; /* default list */
        size_t n;
        ts_record_rule rec;
    } def;
    /* Valid range in interval notation, checked for TS_INT, TS_REAL and each element of a
     * TS_REAL_LIST: "[1, inf)", "(0, 2]", "[-1, 1]". NULL means unbounded. */
    const char *range;
    const char *choices; /* TS_ENUM: "gd|sign|adam" */
    const char *unit;    /* "" when dimensionless */
    const char *doc;     /* one line */
} ts_param_def;

typedef enum { TS_SERIES, TS_SCALAR } ts_metric_kind;

#define TS_MAX_EXTRA_DIMS 3

typedef struct ts_metric_def {
    const char *name;
    ts_metric_kind kind; /* TS_SERIES: one value per record time; TS_SCALAR: one per run */
    const char *unit;
    const char *doc;
    /* Extra dimensions, each sized by a parameter: a TS_REAL_LIST parameter (its values become
     * the coordinate) or a TS_INT parameter n (coordinate 0..n-1). An entry is the parameter's
     * name, which then names the dimension too, or "NAME:PARAM", a dimension called NAME sized
     * by PARAM (so that two dimensions may share a size: self_overlap [neuron, neuron2]). A
     * TS_INT one may be swept: the archive's dimension has the largest size and shorter runs
     * are padded with NaN. NULL-terminated. */
    const char *dims[TS_MAX_EXTRA_DIMS + 1];
    /* For a theory overlay: the name of the simulated metric it predicts; NULL otherwise. */
    const char *theory_for;
} ts_metric_def;

struct ts_experiment;

/* One run: a grid point with one repeat. values[] holds one value per experiment parameter,
 * in declaration order. */
typedef struct ts_point {
    const struct ts_experiment *experiment;
    const ts_value *values;
    uint64_t index;  /* canonical grid index of the point (repeats excluded) */
    uint64_t stream; /* the point's key for its random streams: index, except that points
                      * differing only along shared_streams axes have the same one */
    uint32_t repeat; /* 0 .. repeats-1 */
    uint64_t seed;   /* the sweep's master seed */
} ts_point;

/* Accessors by name, for an experiment's set-up code. A name the experiment did not declare, or
 * a type mismatch, is a programming error and aborts. ts_point_real also reads TS_INT. */
int64_t ts_point_int(const ts_point *p, const char *name);
double ts_point_real(const ts_point *p, const char *name);
/* A TS_ENUM parameter: its choice's index, or whether it is the named choice. */
int ts_point_choice(const ts_point *p, const char *name);
int ts_point_is(const ts_point *p, const char *name, const char *choice);
const double *ts_point_list(const ts_point *p, const char *name, size_t *n);
const ts_value *ts_point_value(const ts_point *p, const char *name);

/* Declarations. Index of a parameter by name, or -1. */
int ts_param_index(const ts_param_def *defs, const char *name);
size_t ts_param_count(const ts_param_def *defs);
size_t ts_metric_count(const ts_metric_def *defs);
/* Index of a metric by name, or -1. */
int ts_metric_index(const ts_metric_def *defs, const char *name);
/* An extra dimension's entry ("NAME" or "NAME:PARAM"): the parameter that sizes it, and the
 * length of its name (the entry up to the colon). */
const char *ts_dim_param(const char *dim);
size_t ts_dim_name_len(const char *dim);
/* Index of `choice` in def->choices, or -1. */
int ts_param_choice_index(const ts_param_def *def, const char *choice);
/* Name of choice number e (into buf, which must hold 64 bytes); returns buf. */
const char *ts_param_choice_name(const ts_param_def *def, int e, char *buf);
/* The declared default, as a value. */
ts_value ts_param_default(const ts_param_def *def);
/* 0 if x lies in def->range; otherwise TS_EUSAGE with err->msg saying what was expected, e.g.
 * "a value in (0, 2]". The caller adds the location. */
int ts_param_check_range(const ts_param_def *def, double x, ts_error *err);
/* A value printed exactly (reals with %.17g), for canonical text and messages. */
void ts_value_format(const ts_param_def *def, const ts_value *v, char *buf, size_t cap);

#endif
