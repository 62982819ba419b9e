/* Step-size schedules, a parameter of every iterative experiment (Defazio et al.,
 * arXiv:2310.07831): lr(t) = base * warmup(t) * shape(t) for t = 0 .. T-1, with
 *   constant      shape = 1
 *   linear_decay  shape = 1 - t/T                       (worst-case optimal last iterate)
 *   cosine        shape = (1 + cos(pi t/T)) / 2
 *   step          shape = factor^(number of milestones m with t >= m T), milestones as fractions
 *   table         shape = table[t], a per-step table the run computes (ts_schedule_table)
 * and an optional linear warmup over the first `warmup` fraction of the run:
 *   warmup(t) = (t + 1) / (warmup T) while t < warmup T, then 1; the decay shapes then run over
 *   the remaining steps (t - warmup T out of T - warmup T).
 * Precisely, in whole steps: W = warmup T rounded to the nearest integer, at most T - 1 (so
 * W = 0, no warmup, when warmup T < 1/2); for t < W, lr = base (t + 1) / W (shape 1); for
 * t >= W the shapes above are evaluated at u = t - W with horizon n = T - W in place of t and T,
 * and a step milestone m falls at u = m n rounded to the nearest integer. Rounding, not the
 * real comparison, keeps fractions meant as exact on their step (0.29 * 100 is
 * 28.999999999999996 in doubles). */
#ifndef TAILSWEEP_SCHEDULE_H
#define TAILSWEEP_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>
#include "tailsweep/error.h"
#include "tailsweep/params.h"
#include "tailsweep/refine.h"

typedef enum ts_schedule_kind {
    TS_SCHEDULE_CONSTANT = 0,
    TS_SCHEDULE_LINEAR_DECAY = 1,
    TS_SCHEDULE_COSINE = 2,
    TS_SCHEDULE_STEP = 3,
    /* lr(t) = base * table[t]: a schedule a run computes (refinement from a first pass's
     * gradient norms); not a spec choice, and warmup does not apply */
    TS_SCHEDULE_TABLE = 4
} ts_schedule_kind;

/* The spec's choices: the kinds above but the table, and "refined" (a table the run computes
 * from a first pass: ts_schedule_refined). */
#define TS_SCHEDULE_CHOICES "constant|linear_decay|cosine|step|refined"
#define TS_SCHEDULE_MAX_MILESTONES 16

typedef struct ts_schedule {
    ts_schedule_kind kind;
    double base;       /* the base step size */
    int64_t horizon;   /* T */
    double warmup;     /* fraction of T in [0, 1) */
    double factor;     /* step: multiplier at each milestone */
    size_t nmilestones;
    double milestones[TS_SCHEDULE_MAX_MILESTONES]; /* step: increasing fractions of T in (0, 1) */
    const double *table; /* table: [horizon] multipliers of base, finite and >= 0; borrowed */
} ts_schedule;

const char *ts_schedule_name(ts_schedule_kind kind);

/* TS_EUSAGE for an unknown kind, a horizon < 1, warmup outside [0, 1), milestones not increasing
 * in (0, 1) or more than TS_SCHEDULE_MAX_MILESTONES, for the step schedule a factor outside
 * (0, inf), and for a table a missing table, a warmup, or an entry not finite or negative. */
int ts_schedule_check(const ts_schedule *s, ts_error *err);

/* The step size at step t (0-based; t >= T gives the value at T - 1, t < 0 the value at 0) of a
 * schedule that passed ts_schedule_check. */
double ts_schedule_lr(const ts_schedule *s, int64_t t);

/* Parameter declarations for every experiment's table: schedule, warmup, step_factor,
 * step_milestones (the base step size and the horizon are the experiment's own step_size and
 * steps). */
#define TS_SCHEDULE_PARAMS                                                                     \
    {"schedule", TS_ENUM, .def.e = "constant", .choices = TS_SCHEDULE_CHOICES, .unit = "",   \
     .doc = "step-size schedule over the run (refined: from a first pass's gradient norms, "   \
            "where the experiment runs one)"},                                                 \
    {"warmup", TS_REAL, .def.r = 0.0, .range = "[0, 1)", .unit = "",                          \
     .doc = "fraction of the run with a linear warmup"},                                       \
    {"step_factor", TS_REAL, .def.r = 0.1, .range = "(0, inf)", .unit = "",                   \
     .doc = "schedule step: multiplier at each milestone"},                                   \
    {"step_milestones", TS_REAL_LIST, .def.list = ts_schedule_default_milestones, .def.n = 2,  \
     .range = "(0, 1)", .unit = "", .doc = "schedule step: milestones as fractions of steps"}, \
    {"refine_from", TS_ENUM, .def.e = "linear_decay",                                          \
     .choices = "constant|linear_decay|cosine|step", .unit = "",                               \
     .doc = "schedule refined: the first pass's schedule"},                                    \
    {"refine_filter", TS_ENUM, .def.e = "median", .choices = TS_REFINE_FILTER_CHOICES,         \
     .unit = "", .doc = "schedule refined: smoothing of the first pass's gradient norms"},     \
    {"refine_width", TS_REAL, .def.r = 0.1, .range = "(0, 1]", .unit = "",                     \
     .doc = "schedule refined: the filter's width (median window; gaussian sigma) as a "      \
            "fraction of steps"}

extern const double ts_schedule_default_milestones[2]; /* {0.5, 0.75} */

/* A tabulated schedule of `horizon` steps, lr(t) = base * table[t] (the table is borrowed and
 * must outlive the schedule); TS_EUSAGE as ts_schedule_check. */
int ts_schedule_table(ts_schedule *s, double base, const double *table, int64_t horizon,
                      ts_error *err);

/* The schedule a point's TS_SCHEDULE_PARAMS describe, with base step size `base` over `steps`.
 * For schedule refined, TS_EUSAGE: an experiment that runs a first pass asks for
 * ts_schedule_first_pass and ts_schedule_refined instead, so that every other one refuses
 * `refined` in its check. */
int ts_schedule_of(const ts_point *p, double base, int64_t steps, ts_schedule *s, ts_error *err);

/* Schedule refined (Defazio et al.'s refinement, refine.h): whether the point asks for it; the
 * first pass's schedule (refine_from, with the point's warmup and step settings); and, from that
 * pass's gradient norms norms[0 .. steps) (l2 for gd, l1 for sign descent and Adam), the refined
 * table in caller storage table[0 .. steps) and the schedule over it (power 2 for gd, 1 for
 * sign and adam; refine_filter over refine_width x steps). TS_EUSAGE as refine.h says. */
int ts_schedule_is_refined(const ts_point *p);
int ts_schedule_first_pass(const ts_point *p, double base, int64_t steps, ts_schedule *s,
                           ts_error *err);
int ts_schedule_refined(const ts_point *p, double base, const double *norms, int64_t steps,
                        double *table, ts_schedule *s, ts_error *err);

#endif
