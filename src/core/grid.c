#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nettle/sha2.h>

#include "tailsweep/grid.h"
#include "tailsweep/rng.h"

ts_grid *ts_grid_alloc(const ts_experiment *x)
{
    ts_grid *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    g->experiment = x;
    g->nparams = ts_param_count(x->params);
    g->base = calloc(g->nparams ? g->nparams : 1, sizeof *g->base);
    if (!g->base) {
        free(g);
        return NULL;
    }
    for (size_t k = 0; k < g->nparams; k++) g->base[k] = ts_param_default(&x->params[k]);
    g->npoints = 1;
    g->repeats = 1;
    return g;
}

void ts_grid_free(ts_grid *g)
{
    if (!g) return;
    for (size_t a = 0; a < g->naxes; a++) {
        free(g->axes[a].param);
        free(g->axes[a].values);
    }
    free(g->axes);
    for (size_t k = 0; k < g->nowned; k++) free(g->owned[k]);
    free(g->owned);
    free(g->base);
    free(g);
}

const double *ts_grid_own_list(ts_grid *g, double *list)
{
    double **grown = realloc(g->owned, (g->nowned + 1) * sizeof *grown);
    if (!grown) return NULL;
    g->owned = grown;
    g->owned[g->nowned++] = list;
    return list;
}

int ts_grid_add_axis(ts_grid *g, const char *name, size_t nparams, const int *param,
                     const ts_value *values, size_t size, int is_zip, ts_error *err)
{
    ts_axis *grown = realloc(g->axes, (g->naxes + 1) * sizeof *grown);
    if (!grown) return ts_error_set(err, TS_ERUNTIME, "out of memory adding axis %s", name);
    g->axes = grown;
    ts_axis *a = &g->axes[g->naxes];
    memset(a, 0, sizeof *a);
    snprintf(a->name, sizeof a->name, "%s", name);
    a->size = size;
    a->nparams = nparams;
    a->is_zip = is_zip;
    a->param = malloc(nparams * sizeof *a->param);
    a->values = malloc(nparams * size * sizeof *a->values);
    if (!a->param || !a->values) {
        free(a->param);
        free(a->values);
        return ts_error_set(err, TS_ERUNTIME, "out of memory adding axis %s", name);
    }
    memcpy(a->param, param, nparams * sizeof *param);
    memcpy(a->values, values, nparams * size * sizeof *values);
    g->naxes++;
    g->npoints *= size;
    return TS_OK;
}

uint64_t ts_grid_stream_of(const ts_grid *g, uint64_t point)
{
    uint64_t stream = 0, radix = 1, rest = point;
    for (size_t a = g->naxes; a-- > 0;) {
        const ts_axis *ax = &g->axes[a];
        uint64_t k = rest % ax->size;
        rest /= ax->size;
        if (ax->shared_stream) continue;
        stream += k * radix;
        radix *= ax->size;
    }
    return stream;
}

void ts_grid_coords(const ts_grid *g, uint64_t point, size_t *coords)
{
    /* Mixed radix with the last axis fastest: the archive's row-major order. */
    for (size_t a = g->naxes; a-- > 0;) {
        coords[a] = (size_t)(point % g->axes[a].size);
        point /= g->axes[a].size;
    }
}

void ts_grid_point(const ts_grid *g, uint64_t point, uint32_t repeat, ts_value *values,
                   ts_point *p)
{
    memcpy(values, g->base, g->nparams * sizeof *values);
    uint64_t rest = point;
    for (size_t a = g->naxes; a-- > 0;) {
        const ts_axis *ax = &g->axes[a];
        size_t k = (size_t)(rest % ax->size);
        rest /= ax->size;
        for (size_t j = 0; j < ax->nparams; j++) values[ax->param[j]] = ax->values[j * ax->size + k];
    }
    p->experiment = g->experiment;
    p->values = values;
    p->index = point;
    p->stream = ts_grid_stream_of(g, point);
    p->repeat = repeat;
    p->seed = g->seed;
}

int ts_grid_axis_of(const ts_grid *g, int param)
{
    for (size_t a = 0; a < g->naxes; a++)
        for (size_t j = 0; j < g->axes[a].nparams; j++)
            if (g->axes[a].param[j] == param) return (int)a;
    return -1;
}

/* ---- canonical text: a growing buffer of "key: value" lines. */

typedef struct text {
    char *buf;
    size_t len, cap;
} text;

static void text_add(text *t, const char *s)
{
    size_t n = strlen(s);
    if (!t->buf) return; /* an earlier allocation failed: the caller sees NULL */
    if (t->len + n + 1 > t->cap) {
        size_t cap = 2 * (t->len + n + 1);
        char *grown = realloc(t->buf, cap);
        if (!grown) {
            free(t->buf);
            t->buf = NULL;
            return;
        }
        t->buf = grown;
        t->cap = cap;
    }
    memcpy(t->buf + t->len, s, n + 1);
    t->len += n;
}

static void add_axis_values(text *t, const ts_grid *g, const ts_axis *a, size_t j)
{
    const ts_param_def *def = &g->experiment->params[a->param[j]];
    char v[4096];
    text_add(t, "[");
    for (size_t k = 0; k < a->size; k++) {
        ts_value_format(def, &a->values[j * a->size + k], v, sizeof v);
        if (k) text_add(t, ", ");
        text_add(t, v);
    }
    text_add(t, "]");
}

char *ts_grid_canonical(const ts_grid *g)
{
    text t = {malloc(256), 0, 256};
    if (!t.buf) return NULL;
    t.buf[0] = '\0';
    char line[4096 + 128];
    /* The numbers' generation is part of a sweep's identity: a sweep begun by a release that
     * drew other numbers is another sweep, so resuming it is refused (rng.h). */
    snprintf(line, sizeof line, "experiment: %s\nseed: %llu\nrepeats: %u\nnumbers: %d\n",
             g->experiment->name, (unsigned long long)g->seed, (unsigned)g->repeats,
             TS_NUMBERS_VERSION);
    text_add(&t, line);
    for (size_t k = 0; k < g->nparams; k++) {
        if (ts_grid_axis_of(g, (int)k) >= 0) continue;
        const ts_param_def *def = &g->experiment->params[k];
        char v[4096];
        ts_value_format(def, &g->base[k], v, sizeof v);
        snprintf(line, sizeof line, "params.%s: %s\n", def->name, v);
        text_add(&t, line);
    }
    for (size_t a = 0; a < g->naxes; a++) {
        const ts_axis *ax = &g->axes[a];
        for (size_t j = 0; j < ax->nparams; j++) {
            snprintf(line, sizeof line, "%s.%s: ", ax->is_zip ? ax->name : "sweep",
                     g->experiment->params[ax->param[j]].name);
            text_add(&t, line);
            add_axis_values(&t, g, ax, j);
            text_add(&t, "\n");
        }
    }
    /* only when used, so that the text of every sweep without it stays as it was */
    for (size_t a = 0; a < g->naxes; a++)
        if (g->axes[a].shared_stream) {
            snprintf(line, sizeof line, "shared_streams: %s\n", g->axes[a].name);
            text_add(&t, line);
        }
    return t.buf;
}

void ts_grid_sha256(const ts_grid *g, char hex[65])
{
    char *canonical = ts_grid_canonical(g);
    uint8_t digest[SHA256_DIGEST_SIZE];
    struct sha256_ctx ctx;
    sha256_init(&ctx);
    if (canonical) sha256_update(&ctx, strlen(canonical), (const uint8_t *)canonical);
    sha256_digest(&ctx, sizeof digest, digest);
    free(canonical);
    for (size_t k = 0; k < sizeof digest; k++) snprintf(hex + 2 * k, 3, "%02x", digest[k]);
}

double ts_grid_total_cost(const ts_grid *g)
{
    ts_value *values = malloc(g->nparams * sizeof *values + 1);
    if (!values) return 0;
    double total = 0;
    ts_point p;
    for (uint64_t k = 0; k < g->npoints; k++) {
        ts_grid_point(g, k, 0, values, &p);
        total += g->experiment->cost(&p) * g->repeats;
    }
    free(values);
    return total;
}

size_t ts_grid_peak_memory(const ts_grid *g)
{
    ts_value *values = malloc(g->nparams * sizeof *values + 1);
    if (!values) return 0;
    size_t peak = 0;
    ts_point p;
    for (uint64_t k = 0; k < g->npoints; k++) {
        ts_grid_point(g, k, 0, values, &p);
        size_t m = g->experiment->memory(&p);
        if (m > peak) peak = m;
    }
    free(values);
    return peak;
}

/* Whether parameter k sizes an extra dimension of some metric. */
static int sizes_a_dimension(const ts_experiment *x, int k)
{
    for (const ts_metric_def *m = x->metrics; m->name; m++)
        for (int d = 0; d < TS_MAX_EXTRA_DIMS && m->dims[d]; d++)
            if (strcmp(ts_dim_param(m->dims[d]), x->params[k].name) == 0) return 1;
    return 0;
}

/* The largest value a swept integer parameter takes on its axis. */
static int64_t axis_max(const ts_grid *g, int k)
{
    const ts_axis *ax = &g->axes[ts_grid_axis_of(g, k)];
    size_t j = 0;
    while (ax->param[j] != k) j++;
    int64_t top = ax->values[j * ax->size].i;
    for (size_t v = 1; v < ax->size; v++)
        if (ax->values[j * ax->size + v].i > top) top = ax->values[j * ax->size + v].i;
    return top;
}

int ts_grid_layout(const ts_grid *g, ts_layout *l, ts_error *err)
{
    ts_value *values = malloc(g->nparams * sizeof *values + 1);
    if (!values) return ts_error_set(err, TS_ERUNTIME, "out of memory");
    ts_point p;
    ts_grid_point(g, 0, 0, values, &p);
    for (size_t k = 0; k < g->nparams; k++)
        if (values[k].type == TS_INT && ts_grid_axis_of(g, (int)k) >= 0 &&
            sizes_a_dimension(g->experiment, (int)k))
            values[k].i = axis_max(g, (int)k);
    int rc = ts_layout_init(l, g->experiment, &p, err);
    free(values);
    return rc;
}

/* "dim=100, mode=exact": the axis values that single out point p. */
static void describe_point(const ts_grid *g, const ts_value *values, char *buf, size_t cap)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t a = 0; a < g->naxes && used < cap; a++)
        for (size_t j = 0; j < g->axes[a].nparams && used < cap; j++) {
            int param = g->axes[a].param[j];
            char v[128];
            ts_value_format(&g->experiment->params[param], &values[param], v, sizeof v);
            used += (size_t)snprintf(buf + used, cap - used, "%s%s=%s", used ? ", " : "",
                                     g->experiment->params[param].name, v);
        }
}

int ts_grid_check_points(const ts_grid *g, ts_error *err)
{
    if (!g->experiment->check) return TS_OK;
    ts_value *values = malloc(g->nparams * sizeof *values + 1);
    if (!values) return ts_error_set(err, TS_ERUNTIME, "out of memory");
    int rc = TS_OK;
    ts_point p;
    for (uint64_t k = 0; k < g->npoints && rc == TS_OK; k++) {
        ts_grid_point(g, k, 0, values, &p);
        ts_error why;
        ts_error_clear(&why);
        if (g->experiment->check(&p, &why) != TS_OK) {
            char where[512];
            describe_point(g, values, where, sizeof where);
            rc = ts_error_set(err, TS_EUSAGE, "%s%s%s: %s", where[0] ? "the point " : "",
                              where, where[0] ? "" : "the parameters", why.msg);
        }
    }
    free(values);
    return rc;
}
