/* The sweep spec: YAML (libyaml's document API, whose nodes keep their marks) to a validated
 * ts_grid. Every error names the spec, the line and column of the node at fault, the key, what
 * was expected and what was found (spec_diag.c words them). */
#include "tailsweep/spec.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "tailsweep/experiment.h"

#include "spec_internal.h"

static const char *const top_keys[] = {
    "experiment", "output", "seed", "repeats", "params", "sweep", "zip", "shared_streams",
    "archive", NULL};

static const char **param_names(const ts_experiment *x)
{
    size_t n = ts_param_count(x->params);
    const char **names = malloc((n + 1) * sizeof *names);
    if (!names)
        return NULL;
    for (size_t i = 0; i < n; i++)
        names[i] = x->params[i].name;
    names[n] = NULL;
    return names;
}

/* A section that may be written empty (`params:` alone) or must be a mapping. */
static int expect_mapping(spec_parser *sp, const yaml_node_t *n, const char *path,
                          const char *what)
{
    char buf[96];
    if (is_mapping(n))
        return spec_check_keys(sp, n, path);
    return spec_fail(sp, n, "%s: expected %s, found %s", path, what,
                     spec_describe(n, buf, sizeof buf));
}

/* ------------------------------------------------------------------ parameters */

/* The parameter a key names, or an error with a suggestion. */
static int lookup_param(spec_parser *sp, const yaml_node_t *key, const char *section, int *idx)
{
    char hint[512];
    *idx = ts_param_index(sp->x->params, text_of(key));
    if (*idx >= 0)
        return TS_OK;
    const char **names = param_names(sp->x);
    if (!names)
        return spec_out_of_memory(sp);
    spec_suggestion(text_of(key), names, hint, sizeof hint);
    free(names);
    return spec_fail(sp, key, "%s: unknown parameter \"%s\" for experiment %s%s", section,
                     text_of(key), sp->x->name, hint);
}

/* A parameter may be set in one place only among params, sweep and zip groups. */
static int claim(spec_parser *sp, int idx, const yaml_node_t *key, const char *section)
{
    spec_site *s = &sp->sites[idx];
    if (s->section)
        return spec_fail(sp, key, "%s.%s: parameter \"%s\" is already set under %s at line %d; a "
                         "parameter goes in one place only (params, sweep or one zip group)",
                         section, text_of(key), text_of(key), s->section, s->line);
    snprintf(s->section_buf, sizeof s->section_buf, "%s", section);
    s->section = s->section_buf;
    s->line = (int)key->start_mark.line + 1;
    s->column = (int)key->start_mark.column + 1;
    return TS_OK;
}

/* Lists and record rules are whole values, and a parameter that sizes a metric's extra
 * dimension fixes the archive's shape: none of them can vary along an axis. */
static int check_sweepable(spec_parser *sp, int idx, const yaml_node_t *key, const char *path)
{
    const ts_param_def *def = &sp->x->params[idx];
    if (def->type == TS_REAL_LIST)
        return spec_fail(sp, key, "%s: %s is a list parameter and cannot be swept (a list is its "
                         "value); set it under params", path, def->name);
    if (def->type == TS_RECORD)
        return spec_fail(sp, key, "%s: %s is a record rule and cannot be swept; set it under "
                         "params", path, def->name);
    /* A dimension named after the parameter itself would clash with the axis's coordinate of
     * the same name; one with a name of its own ("neuron:hidden") is padded to the largest size
     * (ts_grid_layout). */
    for (const ts_metric_def *m = sp->x->metrics; m && m->name; m++)
        for (size_t d = 0; d < TS_MAX_EXTRA_DIMS && m->dims[d]; d++)
            if (!strcmp(m->dims[d], def->name))
                return spec_fail(sp, key, "%s: %s cannot be swept: it is the extra dimension of "
                                 "metric %s; set it under params", path, def->name, m->name);
    return TS_OK;
}

/* Runs are numbered point * repeats + repeat in a uint64_t (grid.h): refuse a grid whose run
 * count would wrap, at the axis that makes it too large. */
static int check_grid_size(spec_parser *sp, const yaml_node_t *key, const char *path,
                           size_t size)
{
    uint64_t room = UINT64_MAX / sp->grid->repeats;
    if (sp->grid->npoints <= room / size)
        return TS_OK;
    return spec_fail(sp, key, "%s: expected a sweep of at most 2^64 - 1 runs, found %" PRIu64
                     " points times %zu values times %" PRIu32 " repeats", path, sp->grid->npoints,
                     size, sp->grid->repeats);
}

static int parse_params(spec_parser *sp, const yaml_node_t *map)
{
    char path[160];
    if (is_null(map))
        return TS_OK;
    int rc = expect_mapping(sp, map, "params", "a mapping of parameter names to values");
    for (size_t k = 0; !rc && k < mapping_length(map); k++) {
        const yaml_node_t *key = mapping_key(sp, map, k);
        int idx;
        if ((rc = lookup_param(sp, key, "params", &idx)) || (rc = claim(sp, idx, key, "params")))
            break;
        snprintf(path, sizeof path, "params.%s", text_of(key));
        rc = spec_parse_fixed_value(sp, &sp->x->params[idx], mapping_value(sp, map, k), path,
                                    &sp->grid->base[idx]);
    }
    return rc;
}

static int parse_sweep(spec_parser *sp, const yaml_node_t *map)
{
    char path[160];
    if (is_null(map))
        return TS_OK;
    int rc = expect_mapping(sp, map, "sweep", "a mapping of parameter names to value lists");
    for (size_t k = 0; !rc && k < mapping_length(map); k++) {
        const yaml_node_t *key = mapping_key(sp, map, k);
        int idx;
        snprintf(path, sizeof path, "sweep.%s", text_of(key));
        if ((rc = lookup_param(sp, key, "sweep", &idx)) || (rc = claim(sp, idx, key, "sweep")) ||
            (rc = check_sweepable(sp, idx, key, path)))
            break;
        ts_value *values;
        size_t n;
        rc = spec_parse_axis_values(sp, &sp->x->params[idx], mapping_value(sp, map, k), path,
                                    &values, &n);
        if (!rc && (rc = check_grid_size(sp, key, path, n)))
            free(values);
        if (!rc) {
            rc = ts_grid_add_axis(sp->grid, sp->x->params[idx].name, 1, &idx, values, n, 0,
                                  sp->err);
            free(values);
        }
    }
    return rc;
}

/* One zip group: parameters whose value lists advance together as one axis. */
static int parse_zip_group(spec_parser *sp, const yaml_node_t *group, size_t g)
{
    char section[32], path[160], buf[96];
    snprintf(section, sizeof section, "zip[%zu]", g);
    if (!is_mapping(group))
        return spec_fail(sp, group, "%s: expected a mapping of parameter names to value lists, "
                         "found %s", section, spec_describe(group, buf, sizeof buf));
    int rc = spec_check_keys(sp, group, section);
    if (rc)
        return rc;
    size_t np = mapping_length(group);
    if (np < 2)
        return spec_fail(sp, group, "%s: expected at least two parameters in a zip group, found "
                         "%zu; a single parameter goes under sweep:", section, np);
    int *param = calloc(np, sizeof *param);
    ts_value **lists = calloc(np, sizeof *lists);
    size_t *sizes = calloc(np, sizeof *sizes);
    ts_value *values = NULL;
    if (!param || !lists || !sizes)
        rc = spec_out_of_memory(sp);
    for (size_t j = 0; !rc && j < np; j++) {
        const yaml_node_t *key = mapping_key(sp, group, j);
        snprintf(path, sizeof path, "%s.%s", section, text_of(key));
        if ((rc = lookup_param(sp, key, section, &param[j])) ||
            (rc = claim(sp, param[j], key, section)) ||
            (rc = check_sweepable(sp, param[j], key, path)))
            break;
        rc = spec_parse_axis_values(sp, &sp->x->params[param[j]], mapping_value(sp, group, j), path,
                                    &lists[j], &sizes[j]);
        if (!rc && sizes[j] != sizes[0])
            rc = spec_fail(sp, group, "%s: expected value lists of the same length, found %s with "
                           "%zu values and %s with %zu", section,
                           text_of(mapping_key(sp, group, 0)), sizes[0], text_of(key), sizes[j]);
    }
    if (!rc)
        rc = check_grid_size(sp, group, section, sizes[0]);
    if (!rc && !(values = malloc(np * sizes[0] * sizeof *values)))
        rc = spec_out_of_memory(sp);
    if (!rc) {
        for (size_t j = 0; j < np; j++)
            memcpy(values + j * sizes[0], lists[j], sizes[0] * sizeof *values);
        char name[TS_NAME_MAX];
        snprintf(name, sizeof name, "zip%zu", g);
        rc = ts_grid_add_axis(sp->grid, name, np, param, values, sizes[0], 1, sp->err);
    }
    for (size_t j = 0; lists && j < np; j++)
        free(lists[j]);
    free(values);
    free(lists);
    free(sizes);
    free(param);
    return rc;
}

static int parse_zip(spec_parser *sp, const yaml_node_t *seq)
{
    char buf[96];
    if (is_null(seq))
        return TS_OK;
    if (!is_sequence(seq))
        return spec_fail(sp, seq, "zip: expected a list of groups ({param: values, ...}), found %s",
                         spec_describe(seq, buf, sizeof buf));
    int rc = TS_OK;
    for (size_t g = 0; !rc && g < sequence_length(seq); g++)
        rc = parse_zip_group(sp, sequence_item(sp, seq, g), g);
    return rc;
}

/* ------------------------------------------------------------------ record rules */

/* The fewest steps any point takes (the fixed value, or the smallest on its axis). */
static int64_t fewest_steps(const ts_grid *g, int steps)
{
    for (size_t a = 0; a < g->naxes; a++)
        for (size_t j = 0; j < g->axes[a].nparams; j++)
            if (g->axes[a].param[j] == steps) {
                const ts_value *v = g->axes[a].values + j * g->axes[a].size;
                int64_t least = v[0].i;
                for (size_t k = 1; k < g->axes[a].size; k++)
                    if (v[k].i < least)
                        least = v[k].i;
                return least;
            }
    return g->base[steps].i;
}

/* The rule of ts_record_times: count times in [0, steps], distinct integers, so
 * steps >= count - 1 at every point. Checked here so that the error points into the spec. */
static int check_record_rules(spec_parser *sp)
{
    const ts_param_def *defs = sp->x->params;
    int steps = ts_param_index(defs, "steps");
    if (steps < 0 || defs[steps].type != TS_INT)
        return TS_OK;
    int64_t least = fewest_steps(sp->grid, steps);
    for (size_t i = 0; i < sp->grid->nparams; i++) {
        if (defs[i].type != TS_RECORD)
            continue;
        ts_record_rule rule = sp->grid->base[i].rec;
        const char *kind = rule.kind == TS_RECORD_LOG ? "log" : "linear";
        if (least >= rule.count - 1)
            continue;
        const spec_site *at = &sp->sites[i];
        if (at->section)
            return spec_fail_at(sp, at->line, at->column, "%s.%s: {%s: %" PRId64 "} needs steps "
                                ">= %" PRId64 " (%" PRId64 " distinct record times in [0, steps]), "
                                "found steps = %" PRId64, at->section, defs[i].name, kind,
                                rule.count, rule.count - 1, rule.count, least);
        at = &sp->sites[steps];
        return spec_fail_at(sp, at->line, at->column, "%s.%s: expected steps >= %" PRId64 " for "
                            "the default %s rule {%s: %" PRId64 "}, found %" PRId64 "; set a "
                            "smaller %s under params", at->section, defs[steps].name,
                            rule.count - 1, defs[i].name, kind, rule.count, least, defs[i].name);
    }
    return TS_OK;
}

/* ------------------------------------------------------------------ top level */

typedef struct top_entry {
    const yaml_node_t *key, *value;
} top_entry;

static int parse_experiment(spec_parser *sp, const yaml_node_t *n)
{
    char buf[96], hint[512];
    if (!is_scalar(n) || is_null(n))
        return spec_fail(sp, n, "experiment: expected an experiment name, found %s",
                         spec_describe(n, buf, sizeof buf));
    size_t count = 0;
    while (sp->experiments[count] && strcmp(sp->experiments[count]->name, text_of(n)))
        count++;
    sp->x = sp->experiments[count];
    if (!sp->x) {
        const char **names = malloc((count + 1) * sizeof *names);
        if (!names)
            return spec_out_of_memory(sp);
        for (size_t k = 0; k < count; k++)
            names[k] = sp->experiments[k]->name;
        names[count] = NULL;
        spec_suggestion(text_of(n), names, hint, sizeof hint);
        free(names);
        return spec_fail(sp, n, "experiment: unknown experiment \"%s\"%s", text_of(n), hint);
    }
    sp->grid = ts_grid_alloc(sp->x);
    sp->sites = calloc(sp->grid ? sp->grid->nparams + 1 : 1, sizeof *sp->sites);
    if (!sp->grid || !sp->sites)
        return spec_out_of_memory(sp);
    return TS_OK;
}

static int parse_seed(spec_parser *sp, const yaml_node_t *n)
{
    char buf[96];
    const char *s = is_scalar(n) ? text_of(n) : "";
    int digits = *s && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    for (const char *p = s; *p; p++)
        digits = digits && isdigit((unsigned char)*p);
    errno = 0;
    unsigned long long v = digits ? strtoull(s, NULL, 10) : 0;
    if (!digits || errno == ERANGE)
        return spec_fail(sp, n, "seed: expected an unsigned 64-bit integer, found %s",
                         spec_describe(n, buf, sizeof buf));
    sp->grid->seed = (uint64_t)v;
    return TS_OK;
}

static int parse_repeats(spec_parser *sp, const yaml_node_t *n)
{
    char buf[96];
    double x;
    int64_t i;
    int is_int;
    int ok = spec_parse_number(n, &x, &i, &is_int) == 0 && (is_int || spec_integral_value(x, &i));
    if (!ok || i < 1 || i > (int64_t)UINT32_MAX)
        return spec_fail(sp, n, "repeats: expected an integer in [1, %" PRIu32 "], found %s",
                         UINT32_MAX, spec_describe(n, buf, sizeof buf));
    sp->grid->repeats = (uint32_t)i;
    return TS_OK;
}

/* "<spec file name without .yaml/.yml>.h5", in the current directory. */
static char *default_output(const char *name)
{
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    size_t len = strlen(base);
    if (len > 5 && !strcmp(base + len - 5, ".yaml"))
        len -= 5;
    else if (len > 4 && !strcmp(base + len - 4, ".yml"))
        len -= 4;
    char *out = malloc(len + 4);
    if (out)
        snprintf(out, len + 4, "%.*s.h5", (int)len, base);
    return out;
}

static int parse_output(spec_parser *sp, const top_entry *e)
{
    char buf[96];
    if (!e->value) {
        sp->spec->output = default_output(sp->name);
        return sp->spec->output ? TS_OK : spec_out_of_memory(sp);
    }
    if (!is_scalar(e->value) || is_null(e->value))
        return spec_fail(sp, e->value, "output: expected a file name, found %s",
                         spec_describe(e->value, buf, sizeof buf));
    sp->spec->output = strdup(text_of(e->value));
    sp->spec->output_line = (int)e->key->start_mark.line + 1;
    sp->spec->output_column = (int)e->key->start_mark.column + 1;
    return sp->spec->output ? TS_OK : spec_out_of_memory(sp);
}

/* The top-level keys, each known and given once; entry[k] matches top_keys[k]. */
static int read_top_level(spec_parser *sp, const yaml_node_t *root, top_entry *entry)
{
    char buf[96], hint[256];
    if (!is_mapping(root))
        return spec_fail(sp, root, "expected a mapping (experiment:, seed:, params:, sweep:, ...) "
                         "at the top level, found %s", spec_describe(root, buf, sizeof buf));
    int rc = spec_check_keys(sp, root, "");
    for (size_t k = 0; !rc && k < mapping_length(root); k++) {
        const yaml_node_t *key = mapping_key(sp, root, k);
        size_t t = 0;
        while (top_keys[t] && strcmp(top_keys[t], text_of(key)))
            t++;
        if (!top_keys[t])
            return spec_fail(sp, key, "unknown key \"%s\"%s", text_of(key),
                             spec_suggestion(text_of(key), top_keys, hint, sizeof hint));
        entry[t].key = key;
        entry[t].value = mapping_value(sp, root, k);
    }
    return rc;
}

enum { TOP_EXPERIMENT, TOP_OUTPUT, TOP_SEED, TOP_REPEATS, TOP_PARAMS, TOP_SWEEP, TOP_ZIP,
       TOP_SHARED_STREAMS, TOP_ARCHIVE, TOP_COUNT };

/* archive: {compression: deflate | none, level: 1..9}: how the archive stores its chunks. The
 * data are the same whatever the choice, so it is not part of the sweep's identity (a sweep may
 * be resumed with another). */
static int parse_archive(spec_parser *sp, const yaml_node_t *n)
{
    static const char *const keys[] = {"compression", "level", NULL};
    char buf[96], hint[256];
    if (!is_mapping(n))
        return spec_fail(sp, n, "archive: expected a mapping {compression: deflate or none, "
                         "level: 1 to 9}, found %s", spec_describe(n, buf, sizeof buf));
    int rc = spec_check_keys(sp, n, "archive");
    const yaml_node_t *compression = NULL, *level = NULL;
    for (size_t k = 0; !rc && k < mapping_length(n); k++) {
        const yaml_node_t *key = mapping_key(sp, n, k);
        if (!strcmp(text_of(key), "compression"))
            compression = mapping_value(sp, n, k);
        else if (!strcmp(text_of(key), "level"))
            level = mapping_value(sp, n, k);
        else
            return spec_fail(sp, key, "archive: unknown key \"%s\"%s", text_of(key),
                             spec_suggestion(text_of(key), keys, hint, sizeof hint));
    }
    if (rc) return rc;
    int deflate = 1;
    if (compression) {
        const char *c = is_scalar(compression) ? text_of(compression) : "";
        if (strcmp(c, "deflate") && strcmp(c, "none"))
            return spec_fail(sp, compression, "archive.compression: expected deflate or none, "
                             "found %s", spec_describe(compression, buf, sizeof buf));
        deflate = !strcmp(c, "deflate");
    }
    int64_t lv = TS_SPEC_DEFLATE_DEFAULT;
    if (level) {
        double x;
        int is_int;
        if (!deflate)
            return spec_fail(sp, level, "archive.level: a deflate level, but compression is "
                             "none");
        if (spec_parse_number(level, &x, &lv, &is_int) || !is_int || lv < 1 || lv > 9)
            return spec_fail(sp, level, "archive.level: expected an integer from 1 (fastest) "
                             "to 9 (smallest), found %s", spec_describe(level, buf, sizeof buf));
    }
    sp->spec->deflate_level = deflate ? (int)lv : TS_SPEC_NO_COMPRESSION;
    return TS_OK;
}

/* shared_streams: [names of swept parameters]: points that differ only along those axes run on
 * the same random streams (the same data, noise and initialisation), for paired comparisons
 * (single- vs multi-pass on the same batches). A zip group's parameter shares its whole group. */
static int parse_shared_streams(spec_parser *sp, const yaml_node_t *n)
{
    char buf[96];
    if (!is_sequence(n))
        return spec_fail(sp, n, "shared_streams: expected a list of swept parameters, found %s",
                         spec_describe(n, buf, sizeof buf));
    for (size_t k = 0; k < sequence_length(n); k++) {
        const yaml_node_t *item = sequence_item(sp, n, k);
        int idx, rc;
        if (!is_scalar(item))
            return spec_fail(sp, item, "shared_streams[%zu]: expected a parameter name, found %s",
                             k, spec_describe(item, buf, sizeof buf));
        if ((rc = lookup_param(sp, item, "shared_streams", &idx))) return rc;
        int axis = ts_grid_axis_of(sp->grid, idx);
        if (axis < 0)
            return spec_fail(sp, item, "shared_streams[%zu]: %s is not swept: only a sweep or zip "
                             "axis can share its streams", k, text_of(item));
        if (sp->grid->axes[axis].shared_stream)
            return spec_fail(sp, item, "shared_streams[%zu]: %s shares its streams already "
                             "(listed twice, or with another parameter of its zip group)", k,
                             text_of(item));
        sp->grid->axes[axis].shared_stream = 1;
    }
    return TS_OK;
}

static int parse_root(spec_parser *sp, const yaml_node_t *root)
{
    top_entry e[TOP_COUNT] = {{0}};
    int rc = read_top_level(sp, root, e);
    if (rc)
        return rc;
    if (!e[TOP_EXPERIMENT].value)
        return spec_fail_at(sp, 1, 1, "missing key \"experiment\": expected the name of an "
                            "experiment (see tailsweep describe)");
    if (!e[TOP_SEED].value)
        return spec_fail_at(sp, 1, 1, "missing key \"seed\": expected the master seed, an unsigned "
                            "64-bit integer");
    if ((rc = parse_experiment(sp, e[TOP_EXPERIMENT].value)) ||
        (rc = parse_seed(sp, e[TOP_SEED].value)) || (rc = parse_output(sp, &e[TOP_OUTPUT])))
        return rc;
    if (e[TOP_REPEATS].value && (rc = parse_repeats(sp, e[TOP_REPEATS].value)))
        return rc;
    if (e[TOP_PARAMS].value && (rc = parse_params(sp, e[TOP_PARAMS].value)))
        return rc;
    if (e[TOP_SWEEP].value && (rc = parse_sweep(sp, e[TOP_SWEEP].value)))
        return rc;
    if (e[TOP_ZIP].value && (rc = parse_zip(sp, e[TOP_ZIP].value)))
        return rc;
    if (e[TOP_SHARED_STREAMS].value &&
        (rc = parse_shared_streams(sp, e[TOP_SHARED_STREAMS].value)))
        return rc;
    if (e[TOP_ARCHIVE].value && (rc = parse_archive(sp, e[TOP_ARCHIVE].value)))
        return rc;
    return check_record_rules(sp);
}

/* ------------------------------------------------------------------ YAML */

/* libyaml rejects tabs in indentation with a generic message; say what to do. */
static const char *tab_hint(const char *text, size_t len, size_t line)
{
    size_t at = 0;
    for (size_t l = 0; l < line && at < len; at++)
        if (text[at] == '\n')
            l++;
    for (; at < len && (text[at] == ' ' || text[at] == '\t'); at++)
        if (text[at] == '\t')
            return "; tabs cannot indent YAML: use spaces";
    return "";
}

static int syntax_error(spec_parser *sp, const yaml_parser_t *parser)
{
    if (parser->error == YAML_MEMORY_ERROR)
        return spec_out_of_memory(sp);
    const yaml_mark_t *m = &parser->problem_mark;
    char context[160] = "";
    if (parser->context)
        snprintf(context, sizeof context, " (%s at line %zu, column %zu)", parser->context,
                 parser->context_mark.line + 1, parser->context_mark.column + 1);
    return spec_fail_at(sp, (int)m->line + 1, (int)m->column + 1, "YAML syntax error: %s%s%s",
                        parser->problem ? parser->problem : "unreadable YAML", context,
                        tab_hint(sp->text, sp->len, m->line));
}

/* Load the one YAML document of the text; a second document is an error. */
static int load_document(spec_parser *sp, yaml_document_t *doc)
{
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return spec_out_of_memory(sp);
    yaml_parser_set_input_string(&parser, (const unsigned char *)sp->text, sp->len);
    int rc = TS_OK;
    if (!yaml_parser_load(&parser, doc)) {
        rc = syntax_error(sp, &parser);
        yaml_parser_delete(&parser);
        return rc;
    }
    yaml_document_t extra;
    if (!yaml_parser_load(&parser, &extra)) {
        rc = syntax_error(sp, &parser);
    } else {
        const yaml_node_t *root = yaml_document_get_root_node(&extra);
        if (root && yaml_document_get_root_node(doc))
            rc = spec_fail(sp, root, "expected one YAML document, found a second one");
        yaml_document_delete(&extra);
    }
    if (rc)
        yaml_document_delete(doc);
    yaml_parser_delete(&parser);
    return rc;
}

static int parse_text(spec_parser *sp)
{
    yaml_document_t doc;
    int rc = load_document(sp, &doc);
    if (rc)
        return rc;
    sp->doc = &doc;
    const yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root)
        rc = spec_fail_at(sp, 1, 1, "empty spec: expected a mapping with at least experiment: and "
                          "seed:");
    else
        rc = parse_root(sp, root);
    sp->doc = NULL;
    yaml_document_delete(&doc);
    return rc;
}

ts_spec *ts_spec_parse(const char *text, size_t len, const char *name,
                       const ts_experiment *const *experiments, ts_error *err)
{
    if (err)
        ts_error_clear(err);
    spec_parser sp = {.name = name, .text = text, .len = len, .err = err,
                      .experiments = experiments};
    ts_spec *s = calloc(1, sizeof *s);
    if (!s) {
        spec_out_of_memory(&sp);
        return NULL;
    }
    sp.spec = s;
    s->deflate_level = TS_SPEC_DEFLATE_DEFAULT;
    s->path = strdup(name);
    s->text = malloc(len + 1);
    int rc = !s->path || !s->text ? spec_out_of_memory(&sp) : TS_OK;
    if (!rc) {
        memcpy(s->text, text, len);
        s->text[len] = '\0';
        s->text_len = len;
        rc = parse_text(&sp);
    }
    free(sp.sites);
    s->grid = sp.grid;
    if (rc) {
        ts_spec_free(s);
        return NULL;
    }
    return s;
}

/* The whole file; NULL with errno set on failure. */
static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, used = 0;
    char *buf = malloc(cap);
    int failed = !buf, saved = ENOMEM;
    while (!failed) {
        used += fread(buf + used, 1, cap - used, f);
        if (ferror(f)) {
            saved = errno ? errno : EIO;
            failed = 1;
        } else if (used == cap) {
            char *bigger = realloc(buf, cap *= 2);
            failed = !bigger;
            if (bigger)
                buf = bigger;
        } else {
            break;
        }
    }
    fclose(f);
    if (failed) {
        free(buf);
        errno = saved;
        return NULL;
    }
    *len = used;
    return buf;
}

ts_spec *ts_spec_load(const char *path, const ts_experiment *const *experiments, ts_error *err)
{
    if (err)
        ts_error_clear(err);
    size_t len = 0;
    char *text = read_file(path, &len);
    if (!text) {
        ts_error_set(err, TS_EUSAGE, "cannot read spec %s: %s", path, strerror(errno));
        return NULL;
    }
    ts_spec *s = ts_spec_parse(text, len, path, experiments, err);
    free(text);
    return s;
}

void ts_spec_free(ts_spec *s)
{
    if (!s)
        return;
    ts_grid_free(s->grid);
    free(s->path);
    free(s->text);
    free(s->output);
    free(s);
}
