/* YAML nodes to typed parameter values: numbers, enums, real lists, record rules, and the value
 * lists of sweep axes (a YAML sequence or a linspace / logspace / range generator). The document
 * around them (sections, claims, the grid) is spec.c's; errors go through spec_fail, which names
 * the node's line and column. */
#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "spec_internal.h"

/* A bound on one axis: a typo like num: 1e9 must fail here, not exhaust memory later. */
#define SPEC_AXIS_MAX 1000000
/* Generated values this close to an integer (in ulps) count as that integer: linspace and
 * logspace arithmetic may land a few ulps off a value the user meant exactly. */
#define SPEC_INTEGRAL_ULPS 4.0
/* range's end test: b is a value when it lies on the grid a + k step to this fraction of a step
 * (README, "The sweep spec"), so that [0.1, 0.5, 0.1] ends at 0.5 despite rounding. */
#define SPEC_RANGE_TOLERANCE 1e-9

static const char *const generator_keys[] = {"linspace", "logspace", "range", "num", "round",
                                             NULL};
static const char *const record_kinds[] = {"log", "linear", NULL};

/* ------------------------------------------------------------------ numbers */

/* YAML 1.1/1.2 core-schema infinities plus the bare "inf" the spec format allows. */
static int parse_infinity(const char *s, double *x)
{
    double sign = 1;
    if (*s == '+' || *s == '-')
        sign = *s++ == '-' ? -1 : 1;
    static const char *const forms[] = {"inf", "Inf", "INF", ".inf", ".Inf", ".INF", NULL};
    for (const char *const *f = forms; *f; f++)
        if (!strcmp(s, *f)) {
            *x = sign * INFINITY;
            return 1;
        }
    return 0;
}

/* Decimal syntax only: strtod alone would also take "nan", "0x1p3" and leading blanks. */
static int looks_decimal(const char *s, int *integer)
{
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    size_t digits = 0, fraction = 0;
    while (isdigit((unsigned char)*p))
        p++, digits++;
    int has_point = *p == '.';
    if (has_point)
        for (p++; isdigit((unsigned char)*p); p++)
            fraction++;
    if (digits + fraction == 0)
        return 0;
    int has_exponent = *p == 'e' || *p == 'E';
    if (has_exponent) {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!isdigit((unsigned char)*p))
            return 0;
        while (isdigit((unsigned char)*p))
            p++;
    }
    *integer = !has_point && !has_exponent;
    return *p == '\0';
}

/* A plain scalar as a number: 0 on success, -1 when it is not a number. *is_int tells that
 * the text is an integer literal that fits in int64 (then *i holds it exactly). */
int spec_parse_number(const yaml_node_t *n, double *x, int64_t *i, int *is_int)
{
    *is_int = 0;
    if (!is_scalar(n) || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return -1;
    const char *s = text_of(n);
    if (parse_infinity(s, x))
        return 0;
    int integer;
    if (!looks_decimal(s, &integer))
        return -1;
    if (integer) {
        errno = 0;
        long long v = strtoll(s, NULL, 10);
        if (errno == 0) {
            *i = v;
            *x = (double)v;
            *is_int = 1;
            return 0;
        }
    }
    errno = 0;
    *x = strtod(s, NULL);
    if (errno == ERANGE && fabs(*x) > 1)
        return -1; /* overflow: 1e400 is not a number we can hold */
    return 0;
}

/* x as an int64 if it is integral (within a few ulps) and representable. */
int spec_integral_value(double x, int64_t *out)
{
    if (!isfinite(x))
        return 0;
    double r = round(x);
    if (fabs(x - r) > SPEC_INTEGRAL_ULPS * DBL_EPSILON * fmax(1.0, fabs(r)))
        return 0;
    if (r < -9223372036854775808.0 || r >= 9223372036854775808.0)
        return 0;
    *out = (int64_t)r;
    return 1;
}

/* Shortest of %.15g and %.17g that reads back as x: messages show 0.1, not 0.10000000000000001. */
static const char *format_real(double x, char *buf, size_t cap)
{
    snprintf(buf, cap, "%.15g", x);
    if (strtod(buf, NULL) != x)
        snprintf(buf, cap, "%.17g", x);
    return buf;
}

static const char *type_phrase(const ts_param_def *def)
{
    return def->type == TS_INT ? "an integer" : "a real number";
}

/* "an integer in [1, inf)" or "a real number". */
static const char *expected_number(const ts_param_def *def, char *buf, size_t cap)
{
    if (def->range)
        snprintf(buf, cap, "%s in %s", type_phrase(def), def->range);
    else
        snprintf(buf, cap, "%s", type_phrase(def));
    return buf;
}

static int in_range(const ts_param_def *def, double x)
{
    ts_error scratch;
    ts_error_clear(&scratch);
    return isnan(x) ? 0 : ts_param_check_range(def, x, &scratch) == TS_OK;
}

/* ------------------------------------------------------------------ single values */

/* A quoted "10" is a string in YAML: say so, or the message would read "found 10". */
static const char *quoted_hint(const yaml_node_t *n)
{
    return is_scalar(n) && n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE
               ? " (quoted, so a string: write numbers without quotes)"
               : "";
}

static int parse_int_value(spec_parser *sp, const ts_param_def *def, const yaml_node_t *n,
                           const char *path, int64_t *out)
{
    char buf[96], want[96];
    double x;
    int64_t i;
    int is_int;
    int ok = spec_parse_number(n, &x, &i, &is_int) == 0;
    if (ok && !is_int)
        ok = spec_integral_value(x, &i);
    if (!ok || !in_range(def, (double)i))
        return spec_fail(sp, n, "%s: expected %s, found %s%s", path,
                         expected_number(def, want, sizeof want), spec_describe(n, buf, sizeof buf),
                         quoted_hint(n));
    *out = i;
    return TS_OK;
}

static int parse_real_value(spec_parser *sp, const ts_param_def *def, const yaml_node_t *n,
                            const char *path, double *out)
{
    char buf[96], want[96];
    double x;
    int64_t i;
    int is_int;
    if (spec_parse_number(n, &x, &i, &is_int) != 0 || !in_range(def, x))
        return spec_fail(sp, n, "%s: expected %s, found %s%s", path,
                         expected_number(def, want, sizeof want), spec_describe(n, buf, sizeof buf),
                         quoted_hint(n));
    *out = x;
    return TS_OK;
}

/* The choices "a|b|c" of an enum, split into buf as a NULL-terminated array (caller frees both). */
static const char **choice_names(const ts_param_def *def, char **storage)
{
    size_t n = 1;
    for (const char *s = def->choices; *s; s++)
        n += *s == '|';
    char *copy = strdup(def->choices);
    const char **names = malloc((n + 1) * sizeof *names);
    if (!copy || !names) {
        free(copy);
        free(names);
        return NULL;
    }
    size_t k = 0;
    names[k++] = copy;
    for (char *s = copy; *s; s++)
        if (*s == '|') {
            *s = '\0';
            names[k++] = s + 1;
        }
    names[k] = NULL;
    *storage = copy;
    return names;
}

static int parse_enum_value(spec_parser *sp, const ts_param_def *def, const yaml_node_t *n,
                            const char *path, int *out)
{
    char buf[96], hint[256];
    int e = is_scalar(n) ? ts_param_choice_index(def, text_of(n)) : -1;
    if (e >= 0) {
        *out = e;
        return TS_OK;
    }
    if (!is_scalar(n))
        return spec_fail(sp, n, "%s: expected one of %s, found %s", path, def->choices,
                         spec_describe(n, buf, sizeof buf));
    char *storage = NULL;
    const char **choices = choice_names(def, &storage);
    if (!choices)
        return spec_out_of_memory(sp);
    const char *near = ts_spec_nearest(text_of(n), choices);
    if (near)
        snprintf(hint, sizeof hint, "; did you mean \"%s\"?", near);
    else
        hint[0] = '\0';
    free(choices);
    free(storage);
    return spec_fail(sp, n, "%s: expected one of %s, found %s%s", path, def->choices,
                     spec_describe(n, buf, sizeof buf), hint);
}

/* One scalar of an INT, REAL or ENUM parameter. */
static int parse_scalar_value(spec_parser *sp, const ts_param_def *def, const yaml_node_t *n,
                              const char *path, ts_value *v)
{
    memset(v, 0, sizeof *v);
    v->type = def->type;
    switch (def->type) {
    case TS_INT:
        return parse_int_value(sp, def, n, path, &v->i);
    case TS_REAL:
        return parse_real_value(sp, def, n, path, &v->r);
    case TS_ENUM:
        return parse_enum_value(sp, def, n, path, &v->e);
    default:
        return ts_error_set(sp->err, TS_ERUNTIME, "%s: parameter %s has no scalar form", path,
                            def->name);
    }
}

static int parse_real_list(spec_parser *sp, const ts_param_def *def, const yaml_node_t *n,
                           const char *path, ts_value *v)
{
    char buf[96];
    size_t len = is_sequence(n) ? sequence_length(n) : 0;
    if (len == 0)
        return spec_fail(sp, n, "%s: expected a non-empty list of real numbers%s%s, found %s", path,
                         def->range ? " in " : "", def->range ? def->range : "",
                         spec_describe(n, buf, sizeof buf));
    double *list = malloc(len * sizeof *list);
    if (!list)
        return spec_out_of_memory(sp);
    for (size_t k = 0; k < len; k++) {
        const yaml_node_t *item = sequence_item(sp, n, k);
        int rc = parse_real_value(sp, def, item, path, &list[k]);
        if (rc) {
            free(list);
            return rc;
        }
    }
    if (!ts_grid_own_list(sp->grid, list)) {
        free(list);
        return spec_out_of_memory(sp);
    }
    memset(v, 0, sizeof *v);
    v->type = TS_REAL_LIST;
    v->list = list;
    v->n = len;
    return TS_OK;
}

static int parse_record(spec_parser *sp, const yaml_node_t *n, const char *path, ts_value *v)
{
    char buf[96], hint[128], subpath[200];
    if (!is_mapping(n) || mapping_length(n) != 1)
        return spec_fail(sp, n, "%s: expected {log: N} or {linear: N}, found %s", path,
                         spec_describe(n, buf, sizeof buf));
    const yaml_node_t *key = mapping_key(sp, n, 0);
    const yaml_node_t *count = mapping_value(sp, n, 0);
    if (!is_scalar(key))
        return spec_fail(sp, key, "%s: expected {log: N} or {linear: N}, found %s", path,
                         spec_describe(key, buf, sizeof buf));
    ts_record_kind kind;
    if (!strcmp(text_of(key), "log"))
        kind = TS_RECORD_LOG;
    else if (!strcmp(text_of(key), "linear"))
        kind = TS_RECORD_LINEAR;
    else
        return spec_fail(sp, key, "%s: unknown record rule \"%s\" (expected {log: N} or "
                         "{linear: N})%s", path, text_of(key),
                         spec_suggestion(text_of(key), record_kinds, hint, sizeof hint));
    snprintf(subpath, sizeof subpath, "%s.%s", path, text_of(key));
    double x;
    int64_t i;
    int is_int;
    int ok = spec_parse_number(count, &x, &i, &is_int) == 0 &&
             (is_int || spec_integral_value(x, &i));
    if (!ok || i < 2)
        return spec_fail(sp, count,
                         "%s: expected an integer >= 2 (the number of record times, 0 and steps "
                         "included), found %s",
                         subpath, spec_describe(count, buf, sizeof buf));
    memset(v, 0, sizeof *v);
    v->type = TS_RECORD;
    v->rec.kind = kind;
    v->rec.count = i;
    return TS_OK;
}

/* A fixed parameter's value, of any type. */
int spec_parse_fixed_value(spec_parser *sp, const ts_param_def *def, const yaml_node_t *n,
                           const char *path, ts_value *v)
{
    char buf[96], want[96];
    if (def->type == TS_REAL_LIST)
        return parse_real_list(sp, def, n, path, v);
    if (def->type == TS_RECORD)
        return parse_record(sp, n, path, v);
    if (is_scalar(n))
        return parse_scalar_value(sp, def, n, path, v);
    if (def->type == TS_ENUM)
        return spec_fail(sp, n, "%s: expected one of %s, found %s (to sweep over choices, put %s "
                         "under sweep:)", path, def->choices, spec_describe(n, buf, sizeof buf),
                         def->name);
    return spec_fail(sp, n, "%s: expected %s, found %s (to sweep over values, put %s under sweep:)",
                     path, expected_number(def, want, sizeof want),
                     spec_describe(n, buf, sizeof buf), def->name);
}

/* ------------------------------------------------------------------ value lists (axes) */

typedef struct generator {
    const yaml_node_t *node;
    const char *kind; /* "linspace", "logspace" or "range" */
    const yaml_node_t *bounds;
    const yaml_node_t *num_key, *num;
    int round_int;
} generator;

static int parse_finite(spec_parser *sp, const yaml_node_t *n, const char *path,
                        const char *what, double *out)
{
    char buf[96];
    double x;
    int64_t i;
    int is_int;
    if (spec_parse_number(n, &x, &i, &is_int) != 0 || !isfinite(x))
        return spec_fail(sp, n, "%s: %s: expected a finite number, found %s", path, what,
                         spec_describe(n, buf, sizeof buf));
    *out = x;
    return TS_OK;
}

/* The generator's keys: exactly one of linspace/logspace/range, num, round. */
static int read_generator(spec_parser *sp, const yaml_node_t *map, const char *path,
                          generator *g)
{
    char buf[96], hint[128];
    int rc = spec_check_keys(sp, map, path);
    if (rc)
        return rc;
    memset(g, 0, sizeof *g);
    g->node = map;
    const yaml_node_t *kind_key = NULL;
    for (size_t k = 0; k < mapping_length(map); k++) {
        const yaml_node_t *key = mapping_key(sp, map, k), *val = mapping_value(sp, map, k);
        const char *name = text_of(key);
        if (!strcmp(name, "linspace") || !strcmp(name, "logspace") || !strcmp(name, "range")) {
            if (kind_key)
                return spec_fail(sp, key, "%s: %s and %s cannot be combined in one value list",
                                 path, text_of(kind_key), name);
            kind_key = key;
            g->kind = name;
            g->bounds = val;
        } else if (!strcmp(name, "num")) {
            g->num_key = key;
            g->num = val;
        } else if (!strcmp(name, "round")) {
            if (!is_scalar(val) || strcmp(text_of(val), "int"))
                return spec_fail(sp, val, "%s: round: expected int, found %s", path,
                                 spec_describe(val, buf, sizeof buf));
            g->round_int = 1;
        } else {
            return spec_fail(sp, key, "%s: unknown key \"%s\" in a value list generator%s", path,
                             name, spec_suggestion(name, generator_keys, hint, sizeof hint));
        }
    }
    if (!g->kind)
        return spec_fail(sp, map, "%s: expected a list of values or {linspace|logspace|range}, "
                         "found a mapping without linspace, logspace or range", path);
    return TS_OK;
}

static int generator_count(spec_parser *sp, const generator *g, const char *path, size_t *num)
{
    char buf[96];
    if (!g->num)
        return spec_fail(sp, g->node, "%s: %s needs num: (the number of values)", path, g->kind);
    double x;
    int64_t i;
    int is_int;
    int ok = spec_parse_number(g->num, &x, &i, &is_int) == 0 &&
             (is_int || spec_integral_value(x, &i));
    if (!ok || i < 1 || i > SPEC_AXIS_MAX)
        return spec_fail(sp, g->num, "%s: num: expected an integer in [1, %d], found %s", path,
                         SPEC_AXIS_MAX, spec_describe(g->num, buf, sizeof buf));
    *num = (size_t)i;
    return TS_OK;
}

static int generator_bounds(spec_parser *sp, const generator *g, const char *path, size_t want,
                            double *b)
{
    char buf[96];
    const char *shape = want == 2 ? "[a, b]" : "[a, b, step]";
    if (!is_sequence(g->bounds) || sequence_length(g->bounds) != want)
        return spec_fail(sp, g->bounds, "%s: %s: expected %s, found %s", path, g->kind, shape,
                         spec_describe(g->bounds, buf, sizeof buf));
    for (size_t k = 0; k < want; k++) {
        int rc = parse_finite(sp, sequence_item(sp, g->bounds, k), path, g->kind, &b[k]);
        if (rc)
            return rc;
    }
    return TS_OK;
}

/* numpy.linspace: a + k * step, the last value exactly b. */
static void fill_linspace(double a, double b, size_t num, double *out)
{
    double step = num > 1 ? (b - a) / (double)(num - 1) : 0;
    for (size_t k = 0; k < num; k++)
        out[k] = a + (double)k * step;
    out[num - 1] = num > 1 ? b : a;
}

/* numpy.geomspace: a and b are the endpoint values; 10^linspace(log10 a, log10 b) in between
 * (powers of ten then come out exact), the endpoints exactly a and b. */
static void fill_logspace(double a, double b, size_t num, double *out)
{
    fill_linspace(log10(a), log10(b), num, out);
    for (size_t k = 0; k < num; k++)
        out[k] = pow(10.0, out[k]);
    out[0] = a;
    if (num > 1)
        out[num - 1] = b;
}

static int generate_values(spec_parser *sp, const generator *g, const char *path, double **out,
                           size_t *n)
{
    double b[3];
    size_t num = 0;
    int rc;
    if (!strcmp(g->kind, "range")) {
        if (g->num_key)
            return spec_fail(sp, g->num_key, "%s: num does not apply to range (its step sets the "
                             "count); use linspace, or drop num", path);
        if ((rc = generator_bounds(sp, g, path, 3, b)))
            return rc;
        if (b[2] == 0)
            return spec_fail(sp, sequence_item(sp, g->bounds, 2), "%s: range: expected a non-zero "
                             "step, found 0", path);
        double q = (b[1] - b[0]) / b[2];
        if (q < -SPEC_RANGE_TOLERANCE)
            return spec_fail(sp, g->bounds, "%s: range: expected a step that leads from a to b, "
                             "found an empty range", path);
        if (q + SPEC_RANGE_TOLERANCE >= SPEC_AXIS_MAX)
            return spec_fail(sp, g->bounds, "%s: range: expected at most %d values, found more",
                             path, SPEC_AXIS_MAX);
        num = (size_t)floor(q + SPEC_RANGE_TOLERANCE) + 1;
    } else {
        if ((rc = generator_bounds(sp, g, path, 2, b)) || (rc = generator_count(sp, g, path, &num)))
            return rc;
        if (!strcmp(g->kind, "logspace"))
            for (size_t k = 0; k < 2; k++)
                if (b[k] <= 0) {
                    char buf[96];
                    const yaml_node_t *end = sequence_item(sp, g->bounds, k);
                    return spec_fail(sp, end, "%s: logspace: expected endpoints > 0 (the values, "
                                     "not exponents), found %s", path,
                                     spec_describe(end, buf, sizeof buf));
                }
    }
    double *v = malloc(num * sizeof *v);
    if (!v)
        return spec_out_of_memory(sp);
    if (!strcmp(g->kind, "linspace"))
        fill_linspace(b[0], b[1], num, v);
    else if (!strcmp(g->kind, "logspace"))
        fill_logspace(b[0], b[1], num, v);
    else {
        for (size_t k = 0; k < num; k++)
            v[k] = b[0] + (double)k * b[2];
        if (fabs(v[num - 1] - b[1]) <= SPEC_RANGE_TOLERANCE * fabs(b[2]))
            v[num - 1] = b[1];
    }
    if (g->round_int)
        for (size_t k = 0; k < num; k++)
            v[k] = round(v[k]); /* half away from zero: 2.5 -> 3, as people round */
    *out = v;
    *n = num;
    return TS_OK;
}

/* Generated doubles to values of the parameter's type, each checked. */
static int convert_generated(spec_parser *sp, const ts_param_def *def, const generator *g,
                             const char *path, const double *x, size_t n, ts_value *v)
{
    char buf[64], want[96];
    for (size_t k = 0; k < n; k++) {
        memset(&v[k], 0, sizeof v[k]);
        v[k].type = def->type;
        if (def->type == TS_INT) {
            if (!spec_integral_value(x[k], &v[k].i))
                return spec_fail(sp, g->node, "%s: expected %s, found %s from %s%s", path,
                                 expected_number(def, want, sizeof want),
                                 format_real(x[k], buf, sizeof buf), g->kind,
                                 g->round_int ? "" : "; add round: int to round the values");
            if (!in_range(def, (double)v[k].i))
                return spec_fail(sp, g->node, "%s: expected %s, found %" PRId64 " from %s", path,
                                 expected_number(def, want, sizeof want), v[k].i, g->kind);
        } else {
            v[k].r = x[k];
            if (!in_range(def, x[k]))
                return spec_fail(sp, g->node, "%s: expected %s, found %s from %s", path,
                                 expected_number(def, want, sizeof want),
                                 format_real(x[k], buf, sizeof buf), g->kind);
        }
    }
    return TS_OK;
}

static int values_equal(const ts_value *a, const ts_value *b)
{
    switch (a->type) {
    case TS_INT:
        return a->i == b->i;
    case TS_REAL:
        return a->r == b->r;
    case TS_ENUM:
        return a->e == b->e;
    default:
        return 0;
    }
}

static int compare_values(const void *pa, const void *pb)
{
    const ts_value *a = pa, *b = pb;
    switch (a->type) {
    case TS_INT:
        return (a->i > b->i) - (a->i < b->i);
    case TS_REAL:
        return (a->r > b->r) - (a->r < b->r);
    default:
        return (a->e > b->e) - (a->e < b->e);
    }
}

/* Index of the second occurrence of a value that repeats on an axis, or n. Sorting a copy
 * keeps this O(n log n) for long generated axes. */
static size_t find_duplicate(const ts_value *v, size_t n, ts_value *sorted)
{
    memcpy(sorted, v, n * sizeof *v);
    qsort(sorted, n, sizeof *sorted, compare_values);
    size_t k = 1;
    while (k < n && !values_equal(&sorted[k - 1], &sorted[k]))
        k++;
    if (k >= n)
        return n;
    size_t seen = 0, j = 0;
    for (; j < n; j++)
        if (values_equal(&v[j], &sorted[k]) && ++seen == 2)
            break;
    return j;
}

/* Whether a generator mapping (already validated) carries round: int. */
static int generator_rounds(spec_parser *sp, const yaml_node_t *map)
{
    for (size_t k = 0; is_mapping(map) && k < mapping_length(map); k++)
        if (!strcmp(text_of(mapping_key(sp, map, k)), "round"))
            return 1;
    return 0;
}

static int check_distinct(spec_parser *sp, const ts_param_def *def, const yaml_node_t *n,
                          const char *path, const ts_value *v, size_t count)
{
    ts_value *sorted = malloc(count * sizeof *sorted);
    if (!sorted)
        return spec_out_of_memory(sp);
    size_t dup = find_duplicate(v, count, sorted);
    free(sorted);
    if (dup == count)
        return TS_OK;
    char buf[128];
    if (def->type == TS_REAL)
        format_real(v[dup].r, buf, sizeof buf); /* 0.1, where %.17g would say 0.10000000000000001 */
    else
        ts_value_format(def, &v[dup], buf, sizeof buf);
    size_t first = 0;
    while (!values_equal(&v[first], &v[dup]))
        first++;
    if (is_sequence(n))
        return spec_fail(sp, sequence_item(sp, n, dup), "%s: expected distinct values, found %s "
                         "twice (items %zu and %zu)", path, buf, first + 1, dup + 1);
    return spec_fail(sp, n, "%s: expected distinct values, found %s twice (items %zu and %zu of "
                     "the generated list%s)", path, buf, first + 1, dup + 1,
                     generator_rounds(sp, n) ? ", after rounding" : "");
}

static int parse_value_sequence(spec_parser *sp, const ts_param_def *def, const yaml_node_t *n,
                                const char *path, ts_value *v)
{
    char buf[96];
    for (size_t k = 0; k < sequence_length(n); k++) {
        const yaml_node_t *item = sequence_item(sp, n, k);
        if (!is_scalar(item))
            return spec_fail(sp, item, "%s: expected a list of single values, found %s as item %zu",
                             path, spec_describe(item, buf, sizeof buf), k + 1);
        int rc = parse_scalar_value(sp, def, item, path, &v[k]);
        if (rc)
            return rc;
    }
    return TS_OK;
}

static int parse_value_generator(spec_parser *sp, const ts_param_def *def,
                                 const yaml_node_t *n, const char *path, ts_value **out,
                                 size_t *count)
{
    generator g;
    double *x = NULL;
    int rc = read_generator(sp, n, path, &g);
    if (!rc && def->type == TS_ENUM)
        rc = spec_fail(sp, n, "%s: expected a list of choices (%s), found a %s generator", path,
                       def->choices, g.kind);
    if (!rc)
        rc = generate_values(sp, &g, path, &x, count);
    if (rc)
        return rc;
    *out = malloc(*count * sizeof **out);
    if (!*out)
        rc = spec_out_of_memory(sp);
    else
        rc = convert_generated(sp, def, &g, path, x, *count, *out);
    free(x);
    if (rc) {
        free(*out);
        *out = NULL;
    }
    return rc;
}

/* An axis's values: a YAML sequence or a generator mapping. Caller frees *out. */
int spec_parse_axis_values(spec_parser *sp, const ts_param_def *def, const yaml_node_t *n,
                           const char *path, ts_value **out, size_t *count)
{
    char buf[96];
    int rc;
    *out = NULL;
    if (is_sequence(n)) {
        *count = sequence_length(n);
        if (*count == 0)
            return spec_fail(sp, n, "%s: expected a non-empty list of values, found an empty "
                             "list []", path);
        *out = malloc(*count * sizeof **out);
        if (!*out)
            return spec_out_of_memory(sp);
        rc = parse_value_sequence(sp, def, n, path, *out);
    } else if (is_mapping(n)) {
        rc = parse_value_generator(sp, def, n, path, out, count);
    } else {
        return spec_fail(sp, n, "%s: expected a list of values or {linspace|logspace|range}, "
                         "found %s", path, spec_describe(n, buf, sizeof buf));
    }
    if (!rc)
        rc = check_distinct(sp, def, n, path, *out, *count);
    if (rc) {
        free(*out);
        *out = NULL;
    }
    return rc;
}
