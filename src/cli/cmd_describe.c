/* tailsweep describe [EXPERIMENT] */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "tailsweep/experiment.h"

static const char describe_usage[] =
    "usage: tailsweep describe [EXPERIMENT]\n"
    "\n"
    "Without a name: the experiments. With one: its parameters (type, default, valid range or\n"
    "choices, unit, meaning) and the metrics it records (series over the record times, or\n"
    "scalars; extra dimensions; units). Spec keys are exactly these parameter names.\n";

static const char *type_name(ts_type t)
{
    switch (t) {
    case TS_INT: return "int";
    case TS_REAL: return "real";
    case TS_ENUM: return "choice";
    case TS_REAL_LIST: return "list";
    case TS_RECORD: return "record";
    }
    return "?";
}

static void describe_param(const ts_param_def *def)
{
    char value[256];
    ts_value v = ts_param_default(def);
    ts_value_format(def, &v, value, sizeof value);
    const char *valid = def->type == TS_ENUM ? def->choices : def->range;
    printf("  %-20s %-6s default %-14s %-14s %s%s%s%s\n", def->name, type_name(def->type), value,
           valid ? valid : "", def->doc, def->unit[0] ? " [" : "", def->unit,
           def->unit[0] ? "]" : "");
}

static void describe_metric(const ts_metric_def *m)
{
    char dims[160] = "";
    for (int d = 0; d < TS_MAX_EXTRA_DIMS && m->dims[d]; d++) {
        size_t used = strlen(dims);
        /* "neuron:hidden" reads "neuron (hidden)": the dimension, and what sizes it */
        const char *dim = m->dims[d], *sizer = ts_dim_param(dim);
        snprintf(dims + used, sizeof dims - used, "%s%.*s%s%s%s", d ? ", " : "[",
                 (int)ts_dim_name_len(dim), dim, sizer != dim ? " (" : "",
                 sizer != dim ? sizer : "", sizer != dim ? ")" : "");
    }
    if (dims[0]) strncat(dims, "]", sizeof dims - strlen(dims) - 1);
    char theory[96] = "";
    if (m->theory_for) snprintf(theory, sizeof theory, " (theory overlay for %s)", m->theory_for);
    printf("  %-20s %-6s %-10s %s%s%s%s%s\n", m->name, m->kind == TS_SERIES ? "series" : "scalar",
           dims, m->doc, m->unit[0] ? " [" : "", m->unit, m->unit[0] ? "]" : "", theory);
}

static void describe_one(const ts_experiment *x)
{
    printf("%s: %s\nreference: %s\n\nparameters (spec keys under params:, sweep: or zip:):\n",
           x->name, x->summary, x->reference);
    for (const ts_param_def *def = x->params; def->name; def++) describe_param(def);
    printf("\nmetrics (archive variables; series are [sweep axes..., repeat, extra..., "
           "record]):\n");
    for (const ts_metric_def *m = x->metrics; m->name; m++) describe_metric(m);
    char rule[256];
    printf("\nevery run also records status (done, diverged, failed) and provenance; a run is "
           "diverged when %s.\n", ts_blowup_describe(&x->blowup, rule, sizeof rule));
}

int ts_cmd_describe(int argc, char **argv)
{
    if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        if (cli_is_root()) fputs(describe_usage, stdout);
        return 0;
    }
    if (!cli_is_root()) return 0;
    if (argc < 2) {
        printf("experiments (tailsweep describe NAME for details):\n");
        for (const ts_experiment *const *x = ts_experiment_list(); *x; x++)
            printf("  %-12s %s\n", (*x)->name, (*x)->summary);
        return 0;
    }
    const ts_experiment *x = ts_experiment_find(argv[1]);
    if (!x) {
        const char *names[64];
        size_t n = 0;
        for (const ts_experiment *const *e = ts_experiment_list(); *e && n < 63; e++)
            names[n++] = (*e)->name;
        names[n] = NULL;
        const char *near = ts_spec_nearest(argv[1], names);
        fprintf(stderr, "tailsweep describe: unknown experiment \"%s\"%s%s%s\n", argv[1],
                near ? "; did you mean \"" : "", near ? near : "", near ? "\"?" : "");
        return EXIT_USAGE;
    }
    describe_one(x);
    return 0;
}
