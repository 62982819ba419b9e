/* The experiment registry: the table is src/experiments/list.h, one line per experiment. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "tailsweep/experiment.h"

#define TS_EXPERIMENT(name) extern const ts_experiment ts_experiment_##name;
#include "list.h"
#undef TS_EXPERIMENT

static const ts_experiment *const registry[] = {
#define TS_EXPERIMENT(name) &ts_experiment_##name,
#include "list.h"
#undef TS_EXPERIMENT
    NULL,
};

const ts_experiment *const *ts_experiment_list(void) { return registry; }

const ts_experiment *ts_experiment_find(const char *name)
{
    for (size_t k = 0; registry[k]; k++)
        if (strcmp(registry[k]->name, name) == 0) return registry[k];
    return NULL;
}

static int check_param(const ts_experiment *x, const ts_param_def *def, ts_error *err)
{
    if (ts_param_index(x->params, def->name) != def - x->params)
        return ts_error_set(err, TS_ERUNTIME, "%s: parameter %s declared twice", x->name,
                            def->name);
    if (!def->doc || !def->unit)
        return ts_error_set(err, TS_ERUNTIME, "%s: parameter %s needs a unit and a doc",
                            x->name, def->name);
    ts_value v = ts_param_default(def);
    ts_error why;
    switch (def->type) {
    case TS_INT:
    case TS_REAL:
        if (ts_param_check_range(def, def->type == TS_INT ? (double)v.i : v.r, &why))
            return ts_error_set(err, TS_ERUNTIME, "%s: default of %s is not %s", x->name,
                                def->name, why.msg);
        break;
    case TS_ENUM:
        if (!def->choices || v.e < 0)
            return ts_error_set(err, TS_ERUNTIME, "%s: enum %s has no valid default", x->name,
                                def->name);
        break;
    case TS_REAL_LIST:
        for (size_t k = 0; k < v.n; k++)
            if (ts_param_check_range(def, v.list[k], &why))
                return ts_error_set(err, TS_ERUNTIME, "%s: default of %s is not %s", x->name,
                                    def->name, why.msg);
        break;
    case TS_RECORD:
        if (v.rec.count < 2)
            return ts_error_set(err, TS_ERUNTIME, "%s: record default needs >= 2 times",
                                x->name);
        break;
    }
    return TS_OK;
}

static int check_metric(const ts_experiment *x, const ts_metric_def *m, ts_error *err)
{
    if (!m->unit || !m->doc)
        return ts_error_set(err, TS_ERUNTIME, "%s: metric %s needs a unit and a doc", x->name,
                            m->name);
    if (ts_param_index(x->params, m->name) >= 0)
        return ts_error_set(err, TS_ERUNTIME, "%s: metric %s shadows a parameter", x->name,
                            m->name);
    for (int d = 0; d < TS_MAX_EXTRA_DIMS && m->dims[d]; d++) {
        const char *dim = m->dims[d], *sizer = ts_dim_param(dim);
        int k = ts_param_index(x->params, sizer);
        if (k < 0 || (x->params[k].type != TS_INT && x->params[k].type != TS_REAL_LIST))
            return ts_error_set(err, TS_ERUNTIME,
                                "%s: metric %s: dimension %s must be sized by an int or list "
                                "parameter",
                                x->name, m->name, dim);
        size_t len = ts_dim_name_len(dim);
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)len, dim);
        if (sizer != dim && (len == 0 || ts_param_index(x->params, name) >= 0 ||
                             ts_metric_index(x->metrics, name) >= 0))
            return ts_error_set(err, TS_ERUNTIME,
                                "%s: metric %s: dimension %s needs a name that is neither a "
                                "parameter nor a metric",
                                x->name, m->name, dim);
    }
    if (m->kind == TS_SERIES) {
        int steps = ts_param_index(x->params, "steps");
        int record = ts_param_index(x->params, "record");
        if (steps < 0 || x->params[steps].type != TS_INT || record < 0 ||
            x->params[record].type != TS_RECORD)
            return ts_error_set(err, TS_ERUNTIME,
                                "%s: series metric %s needs int \"steps\" and \"record\" params",
                                x->name, m->name);
    }
    return TS_OK;
}

int ts_experiment_validate(const ts_experiment *x, ts_error *err)
{
    if (!x->name || !x->summary || !x->reference || !x->params || !x->metrics || !x->cost ||
        !x->memory || !x->run || !x->test_points)
        return ts_error_set(err, TS_ERUNTIME, "experiment %s: incomplete descriptor",
                            x->name ? x->name : "?");
    if (!x->blowup.quantity || !(x->blowup.bound > 0))
        return ts_error_set(err, TS_ERUNTIME, "experiment %s: declares no blow-up rule (a quantity "
                            "and a bound > 0)", x->name);
    for (const ts_param_def *def = x->params; def->name; def++) {
        int rc = check_param(x, def, err);
        if (rc) return rc;
    }
    for (const ts_metric_def *m = x->metrics; m->name; m++) {
        if (ts_metric_count(x->metrics) && m != x->metrics) {
            for (const ts_metric_def *o = x->metrics; o != m; o++)
                if (strcmp(o->name, m->name) == 0)
                    return ts_error_set(err, TS_ERUNTIME, "%s: metric %s declared twice",
                                        x->name, m->name);
        }
        int rc = check_metric(x, m, err);
        if (rc) return rc;
    }
    return TS_OK;
}
