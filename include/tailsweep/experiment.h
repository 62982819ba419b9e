/* An experiment is one file under src/experiments/ that fills this descriptor, plus one line in
 * the registry (src/experiments/registry.c). docs/architecture.md section 2. */
#ifndef TAILSWEEP_EXPERIMENT_H
#define TAILSWEEP_EXPERIMENT_H

#include <stddef.h>
#include <gsl/gsl_rng.h>
#include "tailsweep/error.h"
#include "tailsweep/params.h"
#include "tailsweep/record.h"
#include "tailsweep/tracker.h"

typedef struct ts_experiment {
    const char *name, *summary, *reference;
    const ts_param_def *params;   /* terminated by {0} */
    const ts_metric_def *metrics; /* terminated by {0} */
    double (*cost)(const ts_point *);   /* relative cost, for scheduling largest first */
    size_t (*memory)(const ts_point *); /* bytes a run needs, checked before a sweep starts */
    ts_blowup blowup; /* when a run counts as diverged (tracker.h); describe shows it */
    /* A few small, quick points as the params: (and optionally sweep:) part of a spec, e.g.
     * "params: {dim: 20, steps: 30}\nsweep: {mode: [exact, full]}": the registry's conformance
     * test (tests/unit/test_conformance.c) runs each, and each choice of every enum parameter
     * from each, checking determinism, declared memory, that the metrics get filled and that
     * `check` refuses whatever `run` would fail on. */
    const char *test_points;
    /* Runs one point: fills the recorder and returns TS_DONE or TS_DIVERGED; on an error fills
     * err and returns TS_FAILED. Must not print, exit or keep state between calls. */
    ts_status (*run)(const ts_point *, gsl_rng *, ts_recorder *, ts_error *);
    /* Optional: rejects a combination of parameter values that cannot run (e.g. a mode that
     * needs another optimizer) with TS_EUSAGE and a message, so that `plan` and `run` refuse the
     * spec before any work instead of recording failed runs. Cheap; no allocation. */
    int (*check)(const ts_point *, ts_error *);
} ts_experiment;

/* The registry. */
const ts_experiment *ts_experiment_find(const char *name);
/* NULL-terminated list of every experiment. */
const ts_experiment *const *ts_experiment_list(void);

/* Declaration checks that every experiment must pass (a unit test runs it over the registry):
 * names unique, defaults in range, series metrics need "steps" (TS_INT) and "record"
 * (TS_RECORD), extra dims name a TS_INT or TS_REAL_LIST parameter. */
int ts_experiment_validate(const ts_experiment *x, ts_error *err);

#endif
