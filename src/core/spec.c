/* The sweep spec: YAML (libyaml's document API, whose nodes keep their marks) to a validated
 * ts_grid. DESIGN.md section 2. Every error names the spec, the line and column of the node at
 * fault, the key, what was expected and what was found. */
#include "tailsweep/spec.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "tailsweep/experiment.h"

/* A bound on one axis: a typo like num: 1e9 must fail here, not exhaust memory later. */
#define SPEC_AXIS_MAX 1000000
/* Generated values this close to an integer (in ulps) count as that integer: linspace and
 * logspace arithmetic may land a few ulps off a value the user meant exactly. */
#define SPEC_INTEGRAL_ULPS 4.0
/* numpy.arange's end test, with the tolerance the spec format promises (DESIGN.md section 2). */
#define SPEC_RANGE_TOLERANCE 1e-9

static const char *const top_keys[] = {
    "experiment", "output", "seed", "repeats", "params", "sweep", "zip", NULL};
static const char *const generator_keys[] = {"linspace", "logspace", "range", "num", "round",
                                             NULL};
static const char *const record_kinds[] = {"log", "linear", NULL};

/* Where a parameter was set, so that a second occurrence can name the first. */
typedef struct spec_site {
    const char *section; /* "params", "sweep", "zip[0]", ...; NULL when not set */
    char section_buf[32];
    int line, column;
} spec_site;

typedef struct spec_parser {
    yaml_document_t *doc;
    const char *name;
    const char *text;
    size_t len;
    ts_error *err;
    ts_spec *spec;
    const ts_experiment *x;
    ts_grid *grid;
    spec_site *sites; /* [grid->nparams] */
} spec_parser;

/* ------------------------------------------------------------------ errors and nodes */

static int fail_at(spec_parser *sp, int line, int column, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail_at(spec_parser *sp, int line, int column, const char *fmt, ...)
{
    char msg[sizeof sp->err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return ts_error_at(sp->err, TS_EUSAGE, sp->name, line, column, "%s", msg);
}

static int fail(spec_parser *sp, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(spec_parser *sp, const yaml_node_t *n, const char *fmt, ...)
{
    char msg[sizeof sp->err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int line = n ? (int)n->start_mark.line + 1 : 1;
    int column = n ? (int)n->start_mark.column + 1 : 1;
    return ts_error_at(sp->err, TS_EUSAGE, sp->name, line, column, "%s", msg);
}

static int out_of_memory(spec_parser *sp)
{
    return ts_error_set(sp->err, TS_ERUNTIME, "%s: out of memory", sp->name);
}

static yaml_node_t *node(spec_parser *sp, int index)
{
    return yaml_document_get_node(sp->doc, index);
}

static const char *text_of(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

static int is_scalar(const yaml_node_t *n) { return n->type == YAML_SCALAR_NODE; }
static int is_mapping(const yaml_node_t *n) { return n->type == YAML_MAPPING_NODE; }
static int is_sequence(const yaml_node_t *n) { return n->type == YAML_SEQUENCE_NODE; }

static size_t sequence_length(const yaml_node_t *n)
{
    return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
}

static yaml_node_t *sequence_item(spec_parser *sp, const yaml_node_t *n, size_t k)
{
    return node(sp, n->data.sequence.items.start[k]);
}

static size_t mapping_length(const yaml_node_t *n)
{
    return (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
}

static yaml_node_t *mapping_key(spec_parser *sp, const yaml_node_t *n, size_t k)
{
    return node(sp, n->data.mapping.pairs.start[k].key);
}

static yaml_node_t *mapping_value(spec_parser *sp, const yaml_node_t *n, size_t k)
{
    return node(sp, n->data.mapping.pairs.start[k].value);
}

/* A YAML null (`key:` with nothing, `~`, `null`) only where a section may be empty. */
static int is_null(const yaml_node_t *n)
{
    if (!is_scalar(n) || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return 0;
    const char *s = text_of(n);
    return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
           !strcmp(s, "NULL");
}

/* What a node is, for "found ..." in messages. */
static const char *describe(const yaml_node_t *n, char *buf, size_t cap)
{
    switch (n->type) {
    case YAML_SEQUENCE_NODE:
        return sequence_length(n) ? "a list" : "an empty list []";
    case YAML_MAPPING_NODE:
        return mapping_length(n) ? "a mapping" : "an empty mapping {}";
    case YAML_SCALAR_NODE:
        if (is_null(n))
            return "nothing";
        if (strlen(text_of(n)) > 60)
            snprintf(buf, cap, "\"%.57s...\"", text_of(n));
        else
            snprintf(buf, cap, "\"%s\"", text_of(n));
        return buf;
    default:
        return "nothing";
    }
}

/* ------------------------------------------------------------------ "did you mean" */

/* Case-insensitive Levenshtein distance with two rows. Hand-written: neither libyaml, GSL nor
 * the C library has one, and the words are short. Words longer than the buffer count as far. */
static size_t edit_distance(const char *a, const char *b)
{
    enum { CAP = 128 };
    size_t la = strlen(a), lb = strlen(b);
    if (la >= CAP || lb >= CAP)
        return SIZE_MAX;
    size_t prev[CAP], cur[CAP];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            int same = tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 1]);
            size_t best = prev[j - 1] + (same ? 0 : 1);
            if (prev[j] + 1 < best)
                best = prev[j] + 1;
            if (cur[j - 1] + 1 < best)
                best = cur[j - 1] + 1;
            cur[j] = best;
        }
        memcpy(prev, cur, (lb + 1) * sizeof *prev);
    }
    return prev[lb];
}

const char *ts_spec_nearest(const char *word, const char *const *candidates)
{
    if (!word || !candidates)
        return NULL;
    size_t len = strlen(word);
    /* A typo is at most two edits, or a third of the word for long names; a suggestion that
     * shares no letter position with the word (distance >= both lengths) helps nobody. */
    size_t allowed = len / 3 > 2 ? len / 3 : 2;
    const char *best = NULL;
    size_t best_d = SIZE_MAX;
    for (const char *const *c = candidates; *c; c++) {
        size_t d = edit_distance(word, *c);
        size_t longer = strlen(*c) > len ? strlen(*c) : len;
        if (d <= allowed && d < longer && d < best_d) {
            best = *c;
            best_d = d;
        }
    }
    return best;
}

/* "; did you mean "x"?" when a candidate is close, else "; expected one of a, b, c". */
static const char *suggestion(const char *word, const char *const *candidates, char *buf,
                              size_t cap)
{
    const char *near = ts_spec_nearest(word, candidates);
    if (near) {
        snprintf(buf, cap, "; did you mean \"%s\"?", near);
        return buf;
    }
    size_t used = (size_t)snprintf(buf, cap, "; expected one of ");
    for (const char *const *c = candidates; *c && used < cap; c++)
        used += (size_t)snprintf(buf + used, cap - used, "%s%s", c == candidates ? "" : ", ", *c);
    return buf;
}

/* A NULL-terminated array of the experiment's parameter names (caller frees the array). */
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
static int parse_number(const yaml_node_t *n, double *x, int64_t *i, int *is_int)
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
static int integral_value(double x, int64_t *out)
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

/* ------------------------------------------------------------------ mappings */

/* Every key a scalar, no key twice; an error at the second occurrence. */
static int check_keys(spec_parser *sp, const yaml_node_t *map, const char *path)
{
    char buf[96];
    size_t n = mapping_length(map);
    for (size_t k = 0; k < n; k++) {
        const yaml_node_t *key = mapping_key(sp, map, k);
        if (!is_scalar(key))
            return fail(sp, key, "%s%sexpected a name as key, found %s", path, *path ? ": " : "",
                        describe(key, buf, sizeof buf));
        for (size_t j = 0; j < k; j++) {
            const yaml_node_t *first = mapping_key(sp, map, j);
            if (!strcmp(text_of(first), text_of(key)))
                return fail(sp, key, "%s%sduplicate key \"%s\" (first at line %d)", path,
                            *path ? ": " : "", text_of(key), (int)first->start_mark.line + 1);
        }
    }
    return TS_OK;
}

/* A section that may be written empty (`params:` alone) or must be a mapping. */
static int expect_mapping(spec_parser *sp, const yaml_node_t *n, const char *path,
                          const char *what)
{
    char buf[96];
    if (is_mapping(n))
        return check_keys(sp, n, path);
    return fail(sp, n, "%s: expected %s, found %s", path, what, describe(n, buf, sizeof buf));
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
    int ok = parse_number(n, &x, &i, &is_int) == 0;
    if (ok && !is_int)
        ok = integral_value(x, &i);
    if (!ok || !in_range(def, (double)i))
        return fail(sp, n, "%s: expected %s, found %s%s", path,
                    expected_number(def, want, sizeof want), describe(n, buf, sizeof buf),
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
    if (parse_number(n, &x, &i, &is_int) != 0 || !in_range(def, x))
        return fail(sp, n, "%s: expected %s, found %s%s", path,
                    expected_number(def, want, sizeof want), describe(n, buf, sizeof buf),
                    quoted_hint(n));
    *out = x;
    return TS_OK;
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
        return fail(sp, n, "%s: expected one of %s, found %s", path, def->choices,
                    describe(n, buf, sizeof buf));
    char *storage = NULL;
    const char **choices = choice_names(def, &storage);
    if (!choices)
        return out_of_memory(sp);
    const char *near = ts_spec_nearest(text_of(n), choices);
    if (near)
        snprintf(hint, sizeof hint, "; did you mean \"%s\"?", near);
    else
        hint[0] = '\0';
    free(choices);
    free(storage);
    return fail(sp, n, "%s: expected one of %s, found %s%s", path, def->choices,
                describe(n, buf, sizeof buf), hint);
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
        return fail(sp, n, "%s: expected a non-empty list of real numbers%s%s, found %s", path,
                    def->range ? " in " : "", def->range ? def->range : "",
                    describe(n, buf, sizeof buf));
    double *list = malloc(len * sizeof *list);
    if (!list)
        return out_of_memory(sp);
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
        return out_of_memory(sp);
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
        return fail(sp, n, "%s: expected {log: N} or {linear: N}, found %s", path,
                    describe(n, buf, sizeof buf));
    const yaml_node_t *key = mapping_key(sp, n, 0);
    const yaml_node_t *count = mapping_value(sp, n, 0);
    if (!is_scalar(key))
        return fail(sp, key, "%s: expected {log: N} or {linear: N}, found %s", path,
                    describe(key, buf, sizeof buf));
    ts_record_kind kind;
    if (!strcmp(text_of(key), "log"))
        kind = TS_RECORD_LOG;
    else if (!strcmp(text_of(key), "linear"))
        kind = TS_RECORD_LINEAR;
    else
        return fail(sp, key, "%s: unknown record rule \"%s\" (expected {log: N} or {linear: N})%s",
                    path, text_of(key), suggestion(text_of(key), record_kinds, hint, sizeof hint));
    snprintf(subpath, sizeof subpath, "%s.%s", path, text_of(key));
    double x;
    int64_t i;
    int is_int;
    int ok = parse_number(count, &x, &i, &is_int) == 0 && (is_int || integral_value(x, &i));
    if (!ok || i < 2)
        return fail(sp, count,
                    "%s: expected an integer >= 2 (the number of record times, 0 and steps "
                    "included), found %s",
                    subpath, describe(count, buf, sizeof buf));
    memset(v, 0, sizeof *v);
    v->type = TS_RECORD;
    v->rec.kind = kind;
    v->rec.count = i;
    return TS_OK;
}

/* A fixed parameter's value, of any type. */
static int parse_fixed_value(spec_parser *sp, const ts_param_def *def, const yaml_node_t *n,
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
        return fail(sp, n, "%s: expected one of %s, found %s (to sweep over choices, put %s "
                    "under sweep:)", path, def->choices, describe(n, buf, sizeof buf), def->name);
    return fail(sp, n, "%s: expected %s, found %s (to sweep over values, put %s under sweep:)",
                path, expected_number(def, want, sizeof want), describe(n, buf, sizeof buf),
                def->name);
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
    if (parse_number(n, &x, &i, &is_int) != 0 || !isfinite(x))
        return fail(sp, n, "%s: %s: expected a finite number, found %s", path, what,
                    describe(n, buf, sizeof buf));
    *out = x;
    return TS_OK;
}

/* The generator's keys: exactly one of linspace/logspace/range, num, round. */
static int read_generator(spec_parser *sp, const yaml_node_t *map, const char *path,
                          generator *g)
{
    char buf[96], hint[128];
    int rc = check_keys(sp, map, path);
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
                return fail(sp, key, "%s: %s and %s cannot be combined in one value list", path,
                            text_of(kind_key), name);
            kind_key = key;
            g->kind = name;
            g->bounds = val;
        } else if (!strcmp(name, "num")) {
            g->num_key = key;
            g->num = val;
        } else if (!strcmp(name, "round")) {
            if (!is_scalar(val) || strcmp(text_of(val), "int"))
                return fail(sp, val, "%s: round: expected int, found %s", path,
                            describe(val, buf, sizeof buf));
            g->round_int = 1;
        } else {
            return fail(sp, key, "%s: unknown key \"%s\" in a value list generator%s", path, name,
                        suggestion(name, generator_keys, hint, sizeof hint));
        }
    }
    if (!g->kind)
        return fail(sp, map, "%s: expected a list of values or {linspace|logspace|range}, found "
                    "a mapping without linspace, logspace or range", path);
    return TS_OK;
}

static int generator_count(spec_parser *sp, const generator *g, const char *path, size_t *num)
{
    char buf[96];
    if (!g->num)
        return fail(sp, g->node, "%s: %s needs num: (the number of values)", path, g->kind);
    double x;
    int64_t i;
    int is_int;
    int ok = parse_number(g->num, &x, &i, &is_int) == 0 && (is_int || integral_value(x, &i));
    if (!ok || i < 1 || i > SPEC_AXIS_MAX)
        return fail(sp, g->num, "%s: num: expected an integer in [1, %d], found %s", path,
                    SPEC_AXIS_MAX, describe(g->num, buf, sizeof buf));
    *num = (size_t)i;
    return TS_OK;
}

static int generator_bounds(spec_parser *sp, const generator *g, const char *path, size_t want,
                            double *b)
{
    char buf[96];
    const char *shape = want == 2 ? "[a, b]" : "[a, b, step]";
    if (!is_sequence(g->bounds) || sequence_length(g->bounds) != want)
        return fail(sp, g->bounds, "%s: %s: expected %s, found %s", path, g->kind, shape,
                    describe(g->bounds, buf, sizeof buf));
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
            return fail(sp, g->num_key, "%s: num does not apply to range (its step sets the "
                        "count); use linspace, or drop num", path);
        if ((rc = generator_bounds(sp, g, path, 3, b)))
            return rc;
        if (b[2] == 0)
            return fail(sp, sequence_item(sp, g->bounds, 2), "%s: range: expected a non-zero "
                        "step, found 0", path);
        double q = (b[1] - b[0]) / b[2];
        if (q < -SPEC_RANGE_TOLERANCE)
            return fail(sp, g->bounds, "%s: range: expected a step that leads from a to b, "
                        "found an empty range", path);
        if (q + SPEC_RANGE_TOLERANCE >= SPEC_AXIS_MAX)
            return fail(sp, g->bounds, "%s: range: expected at most %d values, found more",
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
                    return fail(sp, end, "%s: logspace: expected endpoints > 0 (the values, not "
                                "exponents), found %s", path, describe(end, buf, sizeof buf));
                }
    }
    double *v = malloc(num * sizeof *v);
    if (!v)
        return out_of_memory(sp);
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
            if (!integral_value(x[k], &v[k].i))
                return fail(sp, g->node, "%s: expected %s, found %s from %s%s", path,
                            expected_number(def, want, sizeof want),
                            format_real(x[k], buf, sizeof buf), g->kind,
                            g->round_int ? "" : "; add round: int to round the values");
            if (!in_range(def, (double)v[k].i))
                return fail(sp, g->node, "%s: expected %s, found %" PRId64 " from %s", path,
                            expected_number(def, want, sizeof want), v[k].i, g->kind);
        } else {
            v[k].r = x[k];
            if (!in_range(def, x[k]))
                return fail(sp, g->node, "%s: expected %s, found %s from %s", path,
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
        return out_of_memory(sp);
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
        return fail(sp, sequence_item(sp, n, dup), "%s: expected distinct values, found %s "
                    "twice (items %zu and %zu)", path, buf, first + 1, dup + 1);
    return fail(sp, n, "%s: expected distinct values, found %s twice (items %zu and %zu of the "
                "generated list%s)", path, buf, first + 1, dup + 1,
                generator_rounds(sp, n) ? ", after rounding" : "");
}

static int parse_value_sequence(spec_parser *sp, const ts_param_def *def, const yaml_node_t *n,
                                const char *path, ts_value *v)
{
    char buf[96];
    for (size_t k = 0; k < sequence_length(n); k++) {
        const yaml_node_t *item = sequence_item(sp, n, k);
        if (!is_scalar(item))
            return fail(sp, item, "%s: expected a list of single values, found %s as item %zu",
                        path, describe(item, buf, sizeof buf), k + 1);
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
        rc = fail(sp, n, "%s: expected a list of choices (%s), found a %s generator", path,
                  def->choices, g.kind);
    if (!rc)
        rc = generate_values(sp, &g, path, &x, count);
    if (rc)
        return rc;
    *out = malloc(*count * sizeof **out);
    if (!*out)
        rc = out_of_memory(sp);
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
static int parse_axis_values(spec_parser *sp, const ts_param_def *def, const yaml_node_t *n,
                             const char *path, ts_value **out, size_t *count)
{
    char buf[96];
    int rc;
    *out = NULL;
    if (is_sequence(n)) {
        *count = sequence_length(n);
        if (*count == 0)
            return fail(sp, n, "%s: expected a non-empty list of values, found an empty list []",
                        path);
        *out = malloc(*count * sizeof **out);
        if (!*out)
            return out_of_memory(sp);
        rc = parse_value_sequence(sp, def, n, path, *out);
    } else if (is_mapping(n)) {
        rc = parse_value_generator(sp, def, n, path, out, count);
    } else {
        return fail(sp, n, "%s: expected a list of values or {linspace|logspace|range}, found %s",
                    path, describe(n, buf, sizeof buf));
    }
    if (!rc)
        rc = check_distinct(sp, def, n, path, *out, *count);
    if (rc) {
        free(*out);
        *out = NULL;
    }
    return rc;
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
        return out_of_memory(sp);
    suggestion(text_of(key), names, hint, sizeof hint);
    free(names);
    return fail(sp, key, "%s: unknown parameter \"%s\" for experiment %s%s", section,
                text_of(key), sp->x->name, hint);
}

/* A parameter may be set in one place only among params, sweep and zip groups. */
static int claim(spec_parser *sp, int idx, const yaml_node_t *key, const char *section)
{
    spec_site *s = &sp->sites[idx];
    if (s->section)
        return fail(sp, key, "%s.%s: parameter \"%s\" is already set under %s at line %d; a "
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
        return fail(sp, key, "%s: %s is a list parameter and cannot be swept (a list is its "
                    "value); set it under params", path, def->name);
    if (def->type == TS_RECORD)
        return fail(sp, key, "%s: %s is a record rule and cannot be swept; set it under params",
                    path, def->name);
    for (const ts_metric_def *m = sp->x->metrics; m && m->name; m++)
        for (size_t d = 0; d < TS_MAX_EXTRA_DIMS && m->dims[d]; d++)
            if (!strcmp(m->dims[d], def->name))
                return fail(sp, key, "%s: %s cannot be swept: it sizes the extra dimension of "
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
    return fail(sp, key, "%s: expected a sweep of at most 2^64 - 1 runs, found %" PRIu64
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
        rc = parse_fixed_value(sp, &sp->x->params[idx], mapping_value(sp, map, k), path,
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
        rc = parse_axis_values(sp, &sp->x->params[idx], mapping_value(sp, map, k), path, &values,
                               &n);
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
        return fail(sp, group, "%s: expected a mapping of parameter names to value lists, found "
                    "%s", section, describe(group, buf, sizeof buf));
    int rc = check_keys(sp, group, section);
    if (rc)
        return rc;
    size_t np = mapping_length(group);
    if (np < 2)
        return fail(sp, group, "%s: expected at least two parameters in a zip group, found %zu; "
                    "a single parameter goes under sweep:", section, np);
    int *param = calloc(np, sizeof *param);
    ts_value **lists = calloc(np, sizeof *lists);
    size_t *sizes = calloc(np, sizeof *sizes);
    ts_value *values = NULL;
    if (!param || !lists || !sizes)
        rc = out_of_memory(sp);
    for (size_t j = 0; !rc && j < np; j++) {
        const yaml_node_t *key = mapping_key(sp, group, j);
        snprintf(path, sizeof path, "%s.%s", section, text_of(key));
        if ((rc = lookup_param(sp, key, section, &param[j])) ||
            (rc = claim(sp, param[j], key, section)) ||
            (rc = check_sweepable(sp, param[j], key, path)))
            break;
        rc = parse_axis_values(sp, &sp->x->params[param[j]], mapping_value(sp, group, j), path,
                               &lists[j], &sizes[j]);
        if (!rc && sizes[j] != sizes[0])
            rc = fail(sp, group, "%s: expected value lists of the same length, found %s with %zu "
                      "values and %s with %zu", section, text_of(mapping_key(sp, group, 0)),
                      sizes[0], text_of(key), sizes[j]);
    }
    if (!rc)
        rc = check_grid_size(sp, group, section, sizes[0]);
    if (!rc && !(values = malloc(np * sizes[0] * sizeof *values)))
        rc = out_of_memory(sp);
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
        return fail(sp, seq, "zip: expected a list of groups ({param: values, ...}), found %s",
                    describe(seq, buf, sizeof buf));
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
            return fail_at(sp, at->line, at->column, "%s.%s: {%s: %" PRId64 "} needs steps >= %"
                           PRId64 " (%" PRId64 " distinct record times in [0, steps]), found "
                           "steps = %" PRId64, at->section, defs[i].name, kind, rule.count,
                           rule.count - 1, rule.count, least);
        at = &sp->sites[steps];
        return fail_at(sp, at->line, at->column, "%s.%s: expected steps >= %" PRId64 " for the "
                       "default %s rule {%s: %" PRId64 "}, found %" PRId64 "; set a smaller "
                       "%s under params", at->section, defs[steps].name, rule.count - 1,
                       defs[i].name, kind, rule.count, least, defs[i].name);
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
        return fail(sp, n, "experiment: expected an experiment name, found %s",
                    describe(n, buf, sizeof buf));
    sp->x = ts_experiment_find(text_of(n));
    if (!sp->x) {
        const ts_experiment *const *all = ts_experiment_list();
        size_t count = 0;
        while (all && all[count])
            count++;
        const char **names = malloc((count + 1) * sizeof *names);
        if (!names)
            return out_of_memory(sp);
        for (size_t k = 0; k < count; k++)
            names[k] = all[k]->name;
        names[count] = NULL;
        suggestion(text_of(n), names, hint, sizeof hint);
        free(names);
        return fail(sp, n, "experiment: unknown experiment \"%s\"%s", text_of(n), hint);
    }
    sp->grid = ts_grid_new(sp->x);
    sp->sites = calloc(sp->grid ? sp->grid->nparams + 1 : 1, sizeof *sp->sites);
    if (!sp->grid || !sp->sites)
        return out_of_memory(sp);
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
        return fail(sp, n, "seed: expected an unsigned 64-bit integer, found %s",
                    describe(n, buf, sizeof buf));
    sp->grid->seed = (uint64_t)v;
    return TS_OK;
}

static int parse_repeats(spec_parser *sp, const yaml_node_t *n)
{
    char buf[96];
    double x;
    int64_t i;
    int is_int;
    int ok = parse_number(n, &x, &i, &is_int) == 0 && (is_int || integral_value(x, &i));
    if (!ok || i < 1 || i > (int64_t)UINT32_MAX)
        return fail(sp, n, "repeats: expected an integer in [1, %" PRIu32 "], found %s",
                    UINT32_MAX, describe(n, buf, sizeof buf));
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
        return sp->spec->output ? TS_OK : out_of_memory(sp);
    }
    if (!is_scalar(e->value) || is_null(e->value))
        return fail(sp, e->value, "output: expected a file name, found %s",
                    describe(e->value, buf, sizeof buf));
    sp->spec->output = strdup(text_of(e->value));
    sp->spec->output_line = (int)e->key->start_mark.line + 1;
    sp->spec->output_column = (int)e->key->start_mark.column + 1;
    return sp->spec->output ? TS_OK : out_of_memory(sp);
}

/* The top-level keys, each known and given once; entry[k] matches top_keys[k]. */
static int read_top_level(spec_parser *sp, const yaml_node_t *root, top_entry *entry)
{
    char buf[96], hint[256];
    if (!is_mapping(root))
        return fail(sp, root, "expected a mapping (experiment:, seed:, params:, sweep:, ...) at "
                    "the top level, found %s", describe(root, buf, sizeof buf));
    int rc = check_keys(sp, root, "");
    for (size_t k = 0; !rc && k < mapping_length(root); k++) {
        const yaml_node_t *key = mapping_key(sp, root, k);
        size_t t = 0;
        while (top_keys[t] && strcmp(top_keys[t], text_of(key)))
            t++;
        if (!top_keys[t])
            return fail(sp, key, "unknown key \"%s\"%s", text_of(key),
                        suggestion(text_of(key), top_keys, hint, sizeof hint));
        entry[t].key = key;
        entry[t].value = mapping_value(sp, root, k);
    }
    return rc;
}

enum { TOP_EXPERIMENT, TOP_OUTPUT, TOP_SEED, TOP_REPEATS, TOP_PARAMS, TOP_SWEEP, TOP_ZIP,
       TOP_COUNT };

static int parse_root(spec_parser *sp, const yaml_node_t *root)
{
    top_entry e[TOP_COUNT] = {{0}};
    int rc = read_top_level(sp, root, e);
    if (rc)
        return rc;
    if (!e[TOP_EXPERIMENT].value)
        return fail_at(sp, 1, 1, "missing key \"experiment\": expected the name of an "
                       "experiment (see tailsweep describe)");
    if (!e[TOP_SEED].value)
        return fail_at(sp, 1, 1, "missing key \"seed\": expected the master seed, an unsigned "
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
        return out_of_memory(sp);
    const yaml_mark_t *m = &parser->problem_mark;
    char context[160] = "";
    if (parser->context)
        snprintf(context, sizeof context, " (%s at line %zu, column %zu)", parser->context,
                 parser->context_mark.line + 1, parser->context_mark.column + 1);
    return fail_at(sp, (int)m->line + 1, (int)m->column + 1, "YAML syntax error: %s%s%s",
                   parser->problem ? parser->problem : "unreadable YAML", context,
                   tab_hint(sp->text, sp->len, m->line));
}

/* Load the one YAML document of the text; a second document is an error. */
static int load_document(spec_parser *sp, yaml_document_t *doc)
{
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return out_of_memory(sp);
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
            rc = fail(sp, root, "expected one YAML document, found a second one");
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
        rc = fail_at(sp, 1, 1, "empty spec: expected a mapping with at least experiment: and "
                     "seed:");
    else
        rc = parse_root(sp, root);
    sp->doc = NULL;
    yaml_document_delete(&doc);
    return rc;
}

ts_spec *ts_spec_parse(const char *text, size_t len, const char *name, ts_error *err)
{
    if (err)
        ts_error_clear(err);
    spec_parser sp = {.name = name, .text = text, .len = len, .err = err};
    ts_spec *s = calloc(1, sizeof *s);
    if (!s) {
        out_of_memory(&sp);
        return NULL;
    }
    sp.spec = s;
    s->path = strdup(name);
    s->text = malloc(len + 1);
    int rc = !s->path || !s->text ? out_of_memory(&sp) : TS_OK;
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

ts_spec *ts_spec_load(const char *path, ts_error *err)
{
    if (err)
        ts_error_clear(err);
    size_t len = 0;
    char *text = read_file(path, &len);
    if (!text) {
        ts_error_set(err, TS_EUSAGE, "cannot read spec %s: %s", path, strerror(errno));
        return NULL;
    }
    ts_spec *s = ts_spec_parse(text, len, path, err);
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
