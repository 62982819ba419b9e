/* A synthetic experiment for testing and benchmarking the engine itself: each run spins the CPU
 * for a declared time, records draws from its stream (so a run's values identify its stream),
 * and ends done, diverged or failed on request. No science here.
 *
 * Fault injection for the crash and signal tests: with TAILSWEEP_SYNTHETIC_HOLD_FROM=K in the
 * environment, a run of a point whose index is K or more holds (sleeps) before finishing, for
 * TAILSWEEP_SYNTHETIC_HOLD_SECONDS (default 120). Runs are dispatched in point order when costs
 * tie, so such a sweep journals the runs of points 0..K-1 promptly and then crawls, runs in
 * flight: a kill or a signal lands at a known stage however loaded the machine is. These are
 * environment variables, not parameters, so that the resume runs the same spec without them. */
#include <math.h>
#include <stdlib.h>
#include <time.h>

#include "tailsweep/experiment.h"

static const ts_param_def params[] = {
    {"work", TS_REAL, .def.r = 0.0, .range = "[0, 3600]", .unit = "s",
     .doc = "wall-clock time each run keeps its rank busy"},
    {"outcome", TS_ENUM, .def.e = "done", .choices = "done|diverge|fail", .unit = "",
     .doc = "how every run ends"},
    {"steps", TS_INT, .def.i = 10, .range = "[1, inf)", .unit = "iterations",
     .doc = "length of the recorded series"},
    {"record", TS_RECORD, .def.rec = {TS_RECORD_LINEAR, 11}, .unit = "",
     .doc = "record times over [0, steps]"},
    {"tag", TS_REAL, .def.r = 0.0, .range = "(-inf, inf)", .unit = "",
     .doc = "a free parameter to sweep over (it changes nothing but the grid)"},
    {0},
};

enum { M_DRAW, M_SUM };
static const ts_metric_def metrics[] = {
    {.name = "draw", .kind = TS_SERIES, .unit = "",
     .doc = "a uniform draw from the run's stream at each record time"},
    {.name = "sum", .kind = TS_SCALAR, .unit = "", .doc = "sum of the recorded draws"},
    {0},
};

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void spin(double duration)
{
    /* Wall-clock time, busy: a run occupies its rank for exactly this long whatever else the
     * machine runs, so the engine benchmark measures scheduling, not the machine's contention. */
    double until = seconds() + duration;
    volatile double x = 1;
    while (seconds() < until)
        for (int k = 0; k < 1000; k++) x = x * 1.0000001 + 1e-9;
}

static double env_number(const char *name, double fallback)
{
    const char *text = getenv(name);
    if (!text || !*text) return fallback;
    char *end;
    double x = strtod(text, &end);
    return *end ? fallback : x;
}

static void hold_if_asked(const ts_point *p)
{
    double from = env_number("TAILSWEEP_SYNTHETIC_HOLD_FROM", -1);
    if (from < 0 || (double)p->index < from) return;
    double until = seconds() + env_number("TAILSWEEP_SYNTHETIC_HOLD_SECONDS", 120);
    struct timespec tenth = {0, 100000000L};
    while (seconds() < until) nanosleep(&tenth, NULL);
}

static ts_status run(const ts_point *p, gsl_rng *rng, ts_recorder *r, ts_error *err)
{
    spin(ts_point_real(p, "work"));
    hold_if_asked(p);
    double *draw = ts_recorder_series(r, M_DRAW), sum = 0;
    for (size_t k = 0; k < r->layout.nrecords; k++) sum += draw[k] = gsl_rng_uniform(rng);
    *ts_recorder_scalar(r, M_SUM) = sum;
    if (ts_point_is(p, "outcome", "fail")) {
        ts_error_set(err, TS_ERUNTIME, "synthetic failure of point %llu repeat %u",
                     (unsigned long long)p->index, (unsigned)p->repeat);
        return TS_FAILED;
    }
    if (ts_point_is(p, "outcome", "diverge")) {
        draw[r->layout.nrecords - 1] = INFINITY;
        return TS_DIVERGED;
    }
    return TS_DONE;
}

static double cost(const ts_point *p) { return ts_point_real(p, "work") + 1e-6; }

static size_t memory(const ts_point *p)
{
    (void)p;
    return 1024;
}

const ts_experiment ts_experiment_synthetic = {
    .name = "synthetic",
    .summary = "engine test and benchmark: spins, records stream draws, ends as asked",
    .reference = "none (tests the engine, not a paper)",
    .params = params,
    .metrics = metrics,
    .cost = cost,
    .memory = memory,
    .blowup = {.quantity = "its outcome parameter says so (no value is watched)",
               .bound = INFINITY},
    .test_points = "params: {steps: 5, record: {linear: 6}}",
    .run = run,
};
