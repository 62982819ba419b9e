/* tailsweep plan SPEC [--list] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tailsweep/engine.h"

static const char plan_usage[] =
    "usage: tailsweep plan SPEC [--list] [-o OUT]\n"
    "\n"
    "Validates SPEC (errors name file:line:column; exit 2) and shows the sweep: its axes in\n"
    "canonical order (the last varies fastest), the fixed parameters, the number of points and\n"
    "runs (points x repeats), the estimated total cost (relative units: the experiment's cost\n"
    "model), the peak memory of one run, and how much of it is already finished in OUT.parts/.\n"
    "--list prints every point with its parameter values.\n";

static void print_values(const ts_grid *g, const ts_axis *a, size_t j)
{
    const ts_param_def *def = &g->experiment->params[a->param[j]];
    char v[256];
    printf("[");
    for (size_t k = 0; k < a->size; k++) {
        /* Long axes: the first three and the last two are enough to recognise them. */
        if (a->size > 8 && k == 3) {
            printf(", ...");
            k = a->size - 3;
            continue;
        }
        ts_value_format(def, &a->values[j * a->size + k], v, sizeof v);
        printf("%s%s", k ? ", " : "", v);
    }
    printf("]");
}

static void print_axes(const ts_grid *g)
{
    printf("axes (canonical order, the last varies fastest):\n");
    if (g->naxes == 0) printf("  (none: a single point)\n");
    int width = 4;
    for (size_t a = 0; a < g->naxes; a++)
        if ((int)strlen(g->axes[a].name) > width) width = (int)strlen(g->axes[a].name);
    for (size_t a = 0; a < g->naxes; a++) {
        const ts_axis *ax = &g->axes[a];
        for (size_t j = 0; j < ax->nparams; j++) {
            if (j == 0) printf("  %-*s %6zu  ", width, ax->name, ax->size);
            else printf("  %-*s %6s  ", width, "", "");
            printf("%s = ", g->experiment->params[ax->param[j]].name);
            print_values(g, ax, j);
            printf("\n");
        }
    }
}

static void print_fixed(const ts_grid *g)
{
    printf("fixed parameters:\n");
    for (size_t k = 0; k < g->nparams; k++) {
        if (ts_grid_axis_of(g, (int)k) >= 0) continue;
        char v[512];
        ts_value_format(&g->experiment->params[k], &g->base[k], v, sizeof v);
        printf("  %s = %s\n", g->experiment->params[k].name, v);
    }
}

static void print_list(const ts_grid *g)
{
    ts_value *values = malloc(g->nparams * sizeof *values + 1);
    if (!values) return;
    printf("points:\n");
    for (uint64_t k = 0; k < g->npoints; k++) {
        ts_point p;
        ts_grid_point(g, k, 0, values, &p);
        printf("  %llu:", (unsigned long long)k);
        for (size_t a = 0; a < g->naxes; a++)
            for (size_t j = 0; j < g->axes[a].nparams; j++) {
                int param = g->axes[a].param[j];
                char v[256];
                ts_value_format(&g->experiment->params[param], &values[param], v, sizeof v);
                printf(" %s=%s", g->experiment->params[param].name, v);
            }
        printf("\n");
    }
    free(values);
}

static void print_state(const ts_spec *spec, const char *output)
{
    uint64_t counts[4];
    ts_error err;
    if (ts_engine_tally(spec, output, counts, &err) != TS_OK) {
        printf("state: not started (%s.parts/ holds no runs of this sweep)\n", output);
        return;
    }
    printf("state: %llu of %llu runs finished in %s.parts/ (%llu diverged, %llu failed); "
           "`tailsweep run` resumes\n",
           (unsigned long long)(counts[1] + counts[2] + counts[3]),
           (unsigned long long)ts_grid_items(spec->grid), output, (unsigned long long)counts[2],
           (unsigned long long)counts[3]);
}

int ts_cmd_plan(int argc, char **argv)
{
    const char *path = NULL, *output = NULL;
    int list = 0;
    for (int k = 1; k < argc; k++) {
        if (!strcmp(argv[k], "-h") || !strcmp(argv[k], "--help")) {
            if (cli_is_root()) fputs(plan_usage, stdout);
            return 0;
        } else if (!strcmp(argv[k], "--list")) {
            list = 1;
        } else if ((!strcmp(argv[k], "-o") || !strcmp(argv[k], "--output")) && k + 1 < argc) {
            output = argv[++k];
        } else if (argv[k][0] != '-' && !path) {
            path = argv[k];
        } else {
            if (cli_is_root())
                fprintf(stderr, "tailsweep plan: unexpected \"%s\"\n%s", argv[k], plan_usage);
            return EXIT_USAGE;
        }
    }
    if (!path) {
        if (cli_is_root()) fputs(plan_usage, stderr);
        return EXIT_USAGE;
    }
    ts_spec *spec = cli_load_spec(path);
    if (!spec) return EXIT_USAGE;
    if (!cli_is_root()) {
        ts_spec_free(spec);
        return 0;
    }
    const ts_grid *g = spec->grid;
    ts_error err;
    if (cli_check_output(spec, output ? output : spec->output, !output, 0, &err) != TS_OK) {
        ts_spec_free(spec);
        return cli_report(&err);
    }
    if (!output) output = spec->output;
    char mem[32], sha[65];
    ts_grid_sha256(g, sha);
    printf("spec: %s (sha256 %.12s)\nexperiment: %s  (%s)\noutput: %s\nseed: %llu\n", path, sha,
           g->experiment->name, g->experiment->reference, output, (unsigned long long)g->seed);
    print_axes(g);
    print_fixed(g);
    printf("points: %llu x %u repeat%s = %llu runs\n", (unsigned long long)g->npoints,
           (unsigned)g->repeats, g->repeats == 1 ? "" : "s", (unsigned long long)ts_grid_items(g));
    printf("estimated cost: %.3g (relative units of the experiment's cost model)\n",
           ts_grid_total_cost(g));
    printf("peak memory per rank: %s (the largest run)\n",
           cli_bytes((double)ts_grid_peak_memory(g), mem, sizeof mem));
    printf("engine memory per rank: %s (work list, collect index and archive block; about 30 "
           "MiB more for MPI and HDF5)\n", cli_bytes((double)ts_engine_memory(g), mem, sizeof mem));
    print_state(spec, output);
    if (list) print_list(g);
    ts_spec_free(spec);
    return 0;
}
