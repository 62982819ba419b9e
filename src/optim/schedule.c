/* Step-size schedules (schedule.h; Defazio et al., arXiv:2310.07831). */
#include "tailsweep/schedule.h"

#include "tailsweep/experiment.h"
#include "tailsweep/refine.h"

#include <math.h>
#include <string.h>

#include <gsl/gsl_math.h> /* M_PI, which strict C11 with POSIX does not declare */

const double ts_schedule_default_milestones[2] = {0.5, 0.75};

static const char *const schedule_names[] = {"constant", "linear_decay", "cosine", "step",
                                             "table"};
#define NKINDS (sizeof schedule_names / sizeof schedule_names[0])
/* The kinds a spec can choose (TS_SCHEDULE_CHOICES): all but the table. */
#define NCHOICES (NKINDS - 1)

const char *ts_schedule_name(ts_schedule_kind kind)
{
    return (size_t)kind < NKINDS ? schedule_names[kind] : "unknown";
}

static int check_milestones(const ts_schedule *s, ts_error *err)
{
    if (s->nmilestones > TS_SCHEDULE_MAX_MILESTONES)
        return ts_error_set(err, TS_EUSAGE, "step_milestones: at most %d milestones, got %zu",
                            TS_SCHEDULE_MAX_MILESTONES, s->nmilestones);
    double previous = 0;
    for (size_t i = 0; i < s->nmilestones; i++) {
        double m = s->milestones[i];
        if (!(m > previous && m < 1))
            return ts_error_set(err, TS_EUSAGE,
                                "step_milestones: milestones must increase within (0, 1), got "
                                "%.17g at position %zu",
                                m, i + 1);
        previous = m;
    }
    return TS_OK;
}

static int check_table(const ts_schedule *s, ts_error *err)
{
    if (!s->table) return ts_error_set(err, TS_EUSAGE, "schedule table: no table");
    if (s->warmup != 0)
        return ts_error_set(err, TS_EUSAGE, "schedule table: a table has no warmup (it is the "
                                            "whole schedule)");
    for (int64_t t = 0; t < s->horizon; t++)
        if (!(s->table[t] >= 0 && isfinite(s->table[t])))
            return ts_error_set(err, TS_EUSAGE, "schedule table: entry %lld is %.17g, expected a "
                                "finite multiplier >= 0", (long long)t, s->table[t]);
    return TS_OK;
}

int ts_schedule_check(const ts_schedule *s, ts_error *err)
{
    if ((size_t)s->kind >= NKINDS)
        return ts_error_set(err, TS_EUSAGE, "unknown schedule kind %d", (int)s->kind);
    if (s->horizon < 1)
        return ts_error_set(err, TS_EUSAGE, "schedule: steps must be at least 1, got %lld",
                            (long long)s->horizon);
    if (!(s->warmup >= 0 && s->warmup < 1))
        return ts_error_set(err, TS_EUSAGE, "warmup must lie in [0, 1), got %.17g", s->warmup);
    if (s->kind == TS_SCHEDULE_STEP && !(s->factor > 0 && isfinite(s->factor)))
        return ts_error_set(err, TS_EUSAGE, "step_factor must lie in (0, inf), got %.17g",
                            s->factor);
    if (s->kind == TS_SCHEDULE_TABLE) return check_table(s, err);
    return check_milestones(s, err);
}

/* A fraction of a run as a whole number of steps. Rounding to nearest keeps a fraction the user
 * meant as exact (0.29 of 100 steps is 28.999999999999996 in doubles) on its step. */
static int64_t steps_of(double fraction, int64_t steps)
{
    return (int64_t)llround(fraction * (double)steps);
}

static int64_t warmup_steps(const ts_schedule *s)
{
    int64_t w = steps_of(s->warmup, s->horizon);
    /* At least one step is left for the decay, so that its horizon is never 0. */
    return w < s->horizon ? w : s->horizon - 1;
}

/* The decay factor at step u of a decay that lasts n >= 1 steps (u in [0, n)). */
static double shape(const ts_schedule *s, int64_t u, int64_t n)
{
    switch (s->kind) {
    case TS_SCHEDULE_CONSTANT: return 1.0;
    /* (n - u) / n rather than 1 - x: one rounding, so the last steps are accurate relative to
     * their own small size. */
    case TS_SCHEDULE_LINEAR_DECAY: return (double)(n - u) / (double)n;
    case TS_SCHEDULE_COSINE: return 0.5 * (1.0 + cos(M_PI * (double)u / (double)n));
    case TS_SCHEDULE_STEP: {
        double f = 1.0;
        for (size_t i = 0; i < s->nmilestones; i++)
            if (u >= steps_of(s->milestones[i], n)) f *= s->factor;
        return f;
    }
    case TS_SCHEDULE_TABLE: return s->table[u];
    }
    return NAN;
}

double ts_schedule_lr(const ts_schedule *s, int64_t t)
{
    int64_t T = s->horizon;
    if (t >= T) t = T - 1;
    if (t < 0) t = 0;
    int64_t w = warmup_steps(s);
    if (t < w) return s->base * ((double)(t + 1) / (double)w);
    return s->base * shape(s, t - w, T - w);
}

/* The point's shape settings (warmup, factor, milestones) with the given kind. */
static int schedule_with_kind(const ts_point *p, ts_schedule_kind kind, double base,
                              int64_t steps, ts_schedule *s, ts_error *err)
{
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->base = base;
    s->horizon = steps;
    s->warmup = ts_point_real(p, "warmup");
    s->factor = ts_point_real(p, "step_factor");
    size_t n;
    const double *milestones = ts_point_list(p, "step_milestones", &n);
    if (n > TS_SCHEDULE_MAX_MILESTONES)
        return ts_error_set(err, TS_EUSAGE, "step_milestones: at most %d milestones, got %zu",
                            TS_SCHEDULE_MAX_MILESTONES, n);
    s->nmilestones = n;
    if (n) memcpy(s->milestones, milestones, n * sizeof *milestones);
    return ts_schedule_check(s, err);
}

int ts_schedule_is_refined(const ts_point *p)
{
    return ts_point_is(p, "schedule", "refined");
}

int ts_schedule_of(const ts_point *p, double base, int64_t steps, ts_schedule *s, ts_error *err)
{
    if (ts_schedule_is_refined(p))
        return ts_error_set(err, TS_EUSAGE, "schedule refined needs a first pass, which %s does "
                            "not run: choose constant, linear_decay, cosine or step",
                            p->experiment->name);
    ts_schedule_kind kind = TS_SCHEDULE_CONSTANT;
    for (size_t k = 0; k < NCHOICES; k++)
        if (ts_point_is(p, "schedule", schedule_names[k])) kind = (ts_schedule_kind)k;
    return schedule_with_kind(p, kind, base, steps, s, err);
}

int ts_schedule_first_pass(const ts_point *p, double base, int64_t steps, ts_schedule *s,
                           ts_error *err)
{
    ts_schedule_kind kind = TS_SCHEDULE_LINEAR_DECAY;
    for (size_t k = 0; k < NCHOICES; k++)
        if (ts_point_is(p, "refine_from", schedule_names[k])) kind = (ts_schedule_kind)k;
    return schedule_with_kind(p, kind, base, steps, s, err);
}

int ts_schedule_refined(const ts_point *p, double base, const double *norms, int64_t steps,
                        double *table, ts_schedule *s, ts_error *err)
{
    ts_refine_filter filter = (ts_refine_filter)ts_point_choice(p, "refine_filter");
    double width = ts_point_real(p, "refine_width") * (double)steps;
    if (filter == TS_REFINE_MEDIAN) width = fmax(1.0, round(width));
    /* SGD's analysis weighs the squared norms; sign descent's and Adam's the norms (l1) */
    double power = ts_point_is(p, "optimizer", "gd") ? 2.0 : 1.0;
    int rc = ts_refine_schedule(norms, (size_t)steps, filter, width, power, table, err);
    return rc ? rc : ts_schedule_table(s, base, table, steps, err);
}

int ts_schedule_table(ts_schedule *s, double base, const double *table, int64_t horizon,
                      ts_error *err)
{
    memset(s, 0, sizeof *s);
    s->kind = TS_SCHEDULE_TABLE;
    s->base = base;
    s->horizon = horizon;
    s->table = table;
    return ts_schedule_check(s, err);
}
