#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tailsweep/experiment.h"
#include "tailsweep/params.h"

int ts_param_index(const ts_param_def *defs, const char *name)
{
    for (int k = 0; defs[k].name; k++)
        if (strcmp(defs[k].name, name) == 0) return k;
    return -1;
}

size_t ts_param_count(const ts_param_def *defs)
{
    size_t n = 0;
    while (defs[n].name) n++;
    return n;
}

size_t ts_metric_count(const ts_metric_def *defs)
{
    size_t n = 0;
    while (defs[n].name) n++;
    return n;
}

int ts_metric_index(const ts_metric_def *defs, const char *name)
{
    for (int k = 0; defs[k].name; k++)
        if (strcmp(defs[k].name, name) == 0) return k;
    return -1;
}

const char *ts_dim_param(const char *dim)
{
    const char *colon = strchr(dim, ':');
    return colon ? colon + 1 : dim;
}

size_t ts_dim_name_len(const char *dim)
{
    const char *colon = strchr(dim, ':');
    return colon ? (size_t)(colon - dim) : strlen(dim);
}

/* Choices are one '|'-separated string, so a declaration states them once, readable as is. */
int ts_param_choice_index(const ts_param_def *def, const char *choice)
{
    if (!def->choices) return -1;
    size_t len = strlen(choice);
    const char *p = def->choices;
    for (int k = 0;; k++) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        if (n == len && strncmp(p, choice, n) == 0) return k;
        if (!bar) return -1;
        p = bar + 1;
    }
}

const char *ts_param_choice_name(const ts_param_def *def, int e, char *buf)
{
    buf[0] = '\0';
    const char *p = def->choices ? def->choices : "";
    for (int k = 0; k < e; k++) {
        p = strchr(p, '|');
        if (!p) return buf;
        p++;
    }
    const char *bar = strchr(p, '|');
    size_t n = bar ? (size_t)(bar - p) : strlen(p);
    if (n > 63) n = 63;
    memcpy(buf, p, n);
    buf[n] = '\0';
    return buf;
}

ts_value ts_param_default(const ts_param_def *def)
{
    ts_value v = {.type = def->type};
    switch (def->type) {
    case TS_INT: v.i = def->def.i; break;
    case TS_REAL: v.r = def->def.r; break;
    case TS_ENUM: v.e = def->def.e ? ts_param_choice_index(def, def->def.e) : 0; break;
    case TS_REAL_LIST: v.list = def->def.list; v.n = def->def.n; break;
    case TS_RECORD: v.rec = def->def.rec; break;
    }
    return v;
}

/* Parses interval notation "[a, b)" once per check; declarations stay readable and `describe`
 * can print them verbatim. */
typedef struct interval {
    double lo, hi;
    int lo_open, hi_open;
} interval;

static int parse_bound(const char *s, double *x)
{
    while (*s == ' ') s++;
    if (strncmp(s, "-inf", 4) == 0) { *x = -INFINITY; return 0; }
    if (strncmp(s, "inf", 3) == 0 || strncmp(s, "+inf", 4) == 0) { *x = INFINITY; return 0; }
    char *end;
    *x = strtod(s, &end);
    return end == s ? -1 : 0;
}

static int parse_interval(const char *range, interval *iv)
{
    const char *comma = strchr(range, ',');
    size_t n = strlen(range);
    if (n < 4 || !comma) return -1;
    iv->lo_open = range[0] == '(';
    iv->hi_open = range[n - 1] == ')';
    if ((range[0] != '(' && range[0] != '[') || (range[n - 1] != ')' && range[n - 1] != ']'))
        return -1;
    if (parse_bound(range + 1, &iv->lo) || parse_bound(comma + 1, &iv->hi)) return -1;
    return 0;
}

int ts_param_check_range(const ts_param_def *def, double x, ts_error *err)
{
    if (isnan(x)) return ts_error_set(err, TS_EUSAGE, "a number, not NaN");
    if (!def->range) return TS_OK;
    interval iv;
    if (parse_interval(def->range, &iv) != 0)
        return ts_error_set(err, TS_ERUNTIME, "parameter %s declares a malformed range \"%s\"",
                            def->name, def->range);
    int below = iv.lo_open ? !(x > iv.lo) : !(x >= iv.lo);
    int above = iv.hi_open ? !(x < iv.hi) : !(x <= iv.hi);
    if (below || above)
        return ts_error_set(err, TS_EUSAGE, "a value in %s", def->range);
    return TS_OK;
}

/* The shortest decimal that reads back as exactly x: 0.1 prints as 0.1, yet canonical text stays
 * exact (17 significant digits always suffice for a double). */
static void format_real(double x, char *buf, size_t cap)
{
    if (isinf(x)) {
        snprintf(buf, cap, x > 0 ? "inf" : "-inf");
        return;
    }
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(buf, cap, "%.*g", digits, x);
        if (strtod(buf, NULL) == x) return;
    }
}

void ts_value_format(const ts_param_def *def, const ts_value *v, char *buf, size_t cap)
{
    char name[64];
    switch (v->type) {
    case TS_INT: snprintf(buf, cap, "%lld", (long long)v->i); return;
    case TS_REAL: format_real(v->r, buf, cap); return;
    case TS_ENUM: snprintf(buf, cap, "%s", ts_param_choice_name(def, v->e, name)); return;
    case TS_RECORD:
        snprintf(buf, cap, "{%s: %lld}", v->rec.kind == TS_RECORD_LOG ? "log" : "linear",
                 (long long)v->rec.count);
        return;
    case TS_REAL_LIST: {
        size_t used = (size_t)snprintf(buf, cap, "[");
        for (size_t k = 0; k < v->n && used < cap; k++) {
            char x[40];
            format_real(v->list[k], x, sizeof x);
            used += (size_t)snprintf(buf + used, cap - used, "%s%s", k ? ", " : "", x);
        }
        if (used < cap) snprintf(buf + used, cap - used, "]");
        return;
    }
    }
}

/* ---- point accessors: a wrong name or type is a bug in an experiment, so it aborts loudly. */

static const ts_value *lookup(const ts_point *p, const char *name, ts_type want, int loose)
{
    int k = ts_param_index(p->experiment->params, name);
    if (k < 0) {
        fprintf(stderr, "tailsweep: bug: experiment %s has no parameter %s\n",
                p->experiment->name, name);
        abort();
    }
    const ts_value *v = &p->values[k];
    if (v->type != want && !(loose && v->type == TS_INT)) {
        fprintf(stderr, "tailsweep: bug: parameter %s of %s read with the wrong type\n", name,
                p->experiment->name);
        abort();
    }
    return v;
}

const ts_value *ts_point_value(const ts_point *p, const char *name)
{
    int k = ts_param_index(p->experiment->params, name);
    return k < 0 ? NULL : &p->values[k];
}

int64_t ts_point_int(const ts_point *p, const char *name)
{
    return lookup(p, name, TS_INT, 0)->i;
}

double ts_point_real(const ts_point *p, const char *name)
{
    const ts_value *v = lookup(p, name, TS_REAL, 1);
    return v->type == TS_INT ? (double)v->i : v->r;
}

int ts_point_choice(const ts_point *p, const char *name)
{
    return lookup(p, name, TS_ENUM, 0)->e;
}

int ts_point_is(const ts_point *p, const char *name, const char *choice)
{
    const ts_value *v = lookup(p, name, TS_ENUM, 0);
    const ts_param_def *def = &p->experiment->params[ts_param_index(p->experiment->params, name)];
    int k = ts_param_choice_index(def, choice);
    if (k < 0) {
        fprintf(stderr, "tailsweep: bug: %s is not a choice of %s\n", choice, name);
        abort();
    }
    return v->e == k;
}

const double *ts_point_list(const ts_point *p, const char *name, size_t *n)
{
    const ts_value *v = lookup(p, name, TS_REAL_LIST, 0);
    *n = v->n;
    return v->list;
}
