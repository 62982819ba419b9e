/* Reading an archive for `tailsweep export`: its layout, planned once (export_plan_open), then its
 * values, one grid point at a time (export_read_point). It reads only what the archive says about
 * itself (docs/architecture.md section 6): the sweep axes are the dimension scales of /status
 * before `repeat`, a zip group's parameters are the coordinates that /status names in its CF
 * `coordinates` attribute, and the metrics are the variables with a `kind` attribute. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hdf5.h>
#include <hdf5_hl.h>

#include "export_plan.h"

/* record's place among the trailing dimensions is known once every extra one is (finish_trail). */
#define RECORD_PENDING ((size_t)-1)

/* ------------------------------------------------------------------ HDF5 reading */

static int h5_fail(ts_error *err, const char *what, const char *name)
{
    H5Eclear2(H5E_DEFAULT);
    return ts_error_set(err, TS_ERUNTIME, "%s %s: not a readable tailsweep archive variable",
                        what, name);
}

static herr_t copy_scale_name(hid_t did, unsigned index, hid_t scale, void *data)
{
    (void)did;
    (void)index;
    char path[NAME_CAP + 1];
    ssize_t len = H5Iget_name(scale, path, sizeof path);
    /* The archive keeps every dimension in the root group: "/eps" names dimension eps. */
    if (len < 2 || len > NAME_CAP || path[0] != '/') return -1;
    memcpy(data, path + 1, (size_t)len);
    return 1;
}

/* The names and sizes of ds's dimensions, from the dimension scales attached to them. */
static int dataset_dims(hid_t ds, const char *name, char (*names)[NAME_CAP], hsize_t *sizes,
                        int *ndims, ts_error *err)
{
    hid_t space = H5Dget_space(ds);
    int n = space < 0 ? -1 : H5Sget_simple_extent_ndims(space);
    if (n < 0 || n > MAX_DIMS || H5Sget_simple_extent_dims(space, sizes, NULL) < 0) {
        if (space >= 0) H5Sclose(space);
        return h5_fail(err, "variable", name);
    }
    H5Sclose(space);
    for (int d = 0; d < n; d++) {
        names[d][0] = '\0';
        if (H5DSiterate_scales(ds, (unsigned)d, NULL, copy_scale_name, names[d]) != 1)
            return ts_error_set(err, TS_ERUNTIME,
                                "%s: dimension %d has no dimension scale (not a tailsweep "
                                "archive?)",
                                name, d);
    }
    *ndims = n;
    return TS_OK;
}

/* A variable-length or fixed string attribute; an empty string when obj has none. */
static int read_string_attr(hid_t obj, const char *name, char *buf, size_t cap)
{
    buf[0] = '\0';
    if (H5Aexists(obj, name) <= 0) return TS_OK;
    hid_t attr = H5Aopen(obj, name, H5P_DEFAULT);
    hid_t type = attr < 0 ? H5I_INVALID_HID : H5Aget_type(attr);
    int rc = TS_ERUNTIME;
    if (type >= 0 && H5Tget_class(type) == H5T_STRING) {
        hid_t mem = H5Tcopy(type);
        if (H5Tis_variable_str(type) > 0) {
            char *value = NULL;
            if (H5Aread(attr, mem, &value) >= 0 && value) {
                snprintf(buf, cap, "%s", value);
                H5free_memory(value);
                rc = TS_OK;
            }
        } else {
            size_t size = H5Tget_size(type);
            char *value = calloc(size + 1, 1);
            if (value && H5Aread(attr, mem, value) >= 0) {
                snprintf(buf, cap, "%s", value);
                rc = TS_OK;
            }
            free(value);
        }
        H5Tclose(mem);
    }
    if (type >= 0) H5Tclose(type);
    if (attr >= 0) H5Aclose(attr);
    H5Eclear2(H5E_DEFAULT);
    return rc;
}

static int read_strings(hid_t ds, hid_t type, column *c)
{
    c->s = calloc(c->n ? c->n : 1, sizeof *c->s);
    if (!c->s) return TS_ERUNTIME;
    hid_t mem = H5Tcopy(type);
    int rc = TS_ERUNTIME;
    if (H5Tis_variable_str(type) > 0) {
        char **raw = calloc(c->n ? c->n : 1, sizeof *raw);
        if (raw && H5Dread(ds, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw) >= 0) {
            rc = TS_OK;
            for (size_t k = 0; k < c->n; k++)
                if (!(c->s[k] = strdup(raw[k] ? raw[k] : ""))) rc = TS_ERUNTIME;
            hid_t space = H5Dget_space(ds);
            H5Dvlen_reclaim(mem, space, H5P_DEFAULT, raw);
            H5Sclose(space);
        }
        free(raw);
    } else {
        size_t width = H5Tget_size(type);
        char *raw = calloc(c->n * width + 1, 1);
        if (raw && H5Dread(ds, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw) >= 0) {
            rc = TS_OK;
            for (size_t k = 0; k < c->n; k++)
                if (!(c->s[k] = strndup(raw + k * width, width))) rc = TS_ERUNTIME;
        }
        free(raw);
    }
    H5Tclose(mem);
    return rc;
}

/* A 1-D coordinate of length size, read whole as integers, reals or strings. */
static int read_column(hid_t file, const char *name, hsize_t size, column *c, ts_error *err)
{
    snprintf(c->name, sizeof c->name, "%s", name);
    c->n = (size_t)size;
    hid_t ds = H5Dopen2(file, name, H5P_DEFAULT);
    hid_t type = ds < 0 ? H5I_INVALID_HID : H5Dget_type(ds);
    int rc = type < 0 ? TS_ERUNTIME : TS_OK;
    if (!rc) {
        H5T_class_t cls = H5Tget_class(type);
        if (cls == H5T_INTEGER) {
            c->kind = COLUMN_INT;
            c->i = calloc(c->n ? c->n : 1, sizeof *c->i);
            rc = !c->i || H5Dread(ds, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, c->i) < 0;
        } else if (cls == H5T_FLOAT) {
            c->kind = COLUMN_REAL;
            c->r = calloc(c->n ? c->n : 1, sizeof *c->r);
            rc = !c->r ||
                 H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, c->r) < 0;
        } else if (cls == H5T_STRING) {
            c->kind = COLUMN_STRING;
            rc = read_strings(ds, type, c);
        } else {
            rc = TS_ERUNTIME;
        }
    }
    if (type >= 0) H5Tclose(type);
    if (ds >= 0) H5Dclose(ds);
    return rc ? h5_fail(err, "coordinate", name) : TS_OK;
}

static void column_free(column *c)
{
    free(c->i);
    free(c->r);
    for (size_t k = 0; c->s && k < c->n; k++) free(c->s[k]);
    free(c->s);
}

/* ------------------------------------------------------------------ planning */

/* Is name a 1-D variable over dimension dim_name? (A zipped parameter over zipK.) */
static int is_coordinate_of(hid_t file, const char *name, const char *dim_name)
{
    if (H5Lexists(file, name, H5P_DEFAULT) <= 0) return 0;
    hid_t ds = H5Dopen2(file, name, H5P_DEFAULT);
    if (ds < 0) return 0;
    char names[MAX_DIMS][NAME_CAP];
    hsize_t sizes[MAX_DIMS];
    int n = 0;
    int yes = dataset_dims(ds, name, names, sizes, &n, NULL) == TS_OK && n == 1 &&
              strcmp(names[0], dim_name) == 0;
    H5Dclose(ds);
    H5Eclear2(H5E_DEFAULT);
    return yes;
}

/* A sweep axis's columns: its zipped parameters when it is a zip group (listed in /status's
 * `coordinates` attribute), else the axis's own coordinate, named after its parameter. */
static int plan_axis(plan *p, dim *d, const char *coordinates, ts_error *err)
{
    size_t words = 1;
    for (const char *c = coordinates; *c; c++) words += *c == ' ';
    d->cols = calloc(words + 1, sizeof *d->cols);
    if (!d->cols) return ts_error_set(err, TS_ERUNTIME, "out of memory");
    char list[4096];
    snprintf(list, sizeof list, "%s", coordinates);
    char *save = NULL;
    for (char *tok = strtok_r(list, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        if (!is_coordinate_of(p->file, tok, d->name)) continue;
        if (read_column(p->file, tok, d->size, &d->cols[d->ncols++], err)) return TS_ERUNTIME;
    }
    if (d->ncols > 0) return TS_OK;
    d->ncols = 1;
    return read_column(p->file, d->name, d->size, &d->cols[0], err);
}

/* The sweep axes and the repeat count, from /status: [axes..., repeat]. */
static int plan_axes(plan *p, ts_error *err)
{
    p->status = H5Dopen2(p->file, "status", H5P_DEFAULT);
    if (p->status < 0) {
        H5Eclear2(H5E_DEFAULT);
        return ts_error_set(err, TS_ERUNTIME, "no /status variable: not a tailsweep archive");
    }
    char names[MAX_DIMS][NAME_CAP];
    hsize_t sizes[MAX_DIMS];
    int n = 0;
    if (dataset_dims(p->status, "status", names, sizes, &n, err)) return TS_ERUNTIME;
    if (n < 1 || strcmp(names[n - 1], "repeat") != 0)
        return ts_error_set(err, TS_ERUNTIME, "/status does not end with dimension repeat");
    char coordinates[4096];
    read_string_attr(p->status, "coordinates", coordinates, sizeof coordinates);
    p->naxes = (size_t)n - 1;
    p->repeats = sizes[n - 1];
    p->axes = calloc(p->naxes ? p->naxes : 1, sizeof *p->axes);
    p->status_block = calloc(p->repeats ? p->repeats : 1, sizeof *p->status_block);
    if (!p->axes || !p->status_block) return ts_error_set(err, TS_ERUNTIME, "out of memory");
    for (size_t a = 0; a < p->naxes; a++) {
        snprintf(p->axes[a].name, NAME_CAP, "%s", names[a]);
        p->axes[a].size = sizes[a];
        if (plan_axis(p, &p->axes[a], coordinates, err)) return TS_ERUNTIME;
    }
    return TS_OK;
}

typedef struct metric_list {
    char (*names)[NAME_CAP];
    size_t n, cap;
} metric_list;

/* H5Literate callback: collect root variables with a `kind` attribute (series or scalar). */
static herr_t collect_metric(hid_t group, const char *name, const H5L_info_t *info, void *data)
{
    (void)info;
    metric_list *list = data;
    hid_t obj = H5Oopen(group, name, H5P_DEFAULT);
    char kind[32] = "";
    if (obj >= 0 && H5Iget_type(obj) == H5I_DATASET) read_string_attr(obj, "kind", kind, sizeof kind);
    if (obj >= 0) H5Oclose(obj);
    H5Eclear2(H5E_DEFAULT);
    if (strcmp(kind, "series") && strcmp(kind, "scalar")) return 0;
    if (list->n == list->cap) {
        size_t cap = list->cap ? 2 * list->cap : 16;
        void *grown = realloc(list->names, cap * sizeof *list->names);
        if (!grown) return -1;
        list->names = grown;
        list->cap = cap;
    }
    snprintf(list->names[list->n++], NAME_CAP, "%s", name);
    return 0;
}

/* Every metric, in the order the archive created them (the experiment's order), falling back
 * to name order for a file that does not track creation order. */
static int list_metrics(hid_t file, metric_list *list, ts_error *err)
{
    hsize_t at = 0;
    if (H5Literate(file, H5_INDEX_CRT_ORDER, H5_ITER_INC, &at, collect_metric, list) < 0) {
        H5Eclear2(H5E_DEFAULT);
        list->n = 0;
        at = 0;
        if (H5Literate(file, H5_INDEX_NAME, H5_ITER_INC, &at, collect_metric, list) < 0)
            return h5_fail(err, "group", "/");
    }
    return TS_OK;
}

/* Index of the trailing dimension name in p->trail, adding it (with its coordinate) if new. */
static int trail_index(plan *p, const char *name, hsize_t size, ts_error *err)
{
    for (size_t t = 0; t < p->ntrail; t++) {
        if (strcmp(p->trail[t].name, name)) continue;
        if (p->trail[t].size != size)
            return -ts_error_set(err, TS_ERUNTIME, "dimension %s has two lengths", name);
        return (int)t;
    }
    if (p->ntrail == MAX_DIMS) return -ts_error_set(err, TS_ERUNTIME, "too many dimensions");
    dim *d = &p->trail[p->ntrail];
    snprintf(d->name, NAME_CAP, "%s", name);
    d->size = size;
    d->cols = calloc(1, sizeof *d->cols);
    if (!d->cols) return -ts_error_set(err, TS_ERUNTIME, "out of memory");
    d->ncols = 1;
    p->ntrail++; /* counted before reading, so that export_plan_free frees it whatever happens */
    if (read_column(p->file, name, size, &d->cols[0], err)) return -TS_ERUNTIME;
    return (int)p->ntrail - 1;
}

/* A metric's dimensions must be [axes..., repeat, trailing...]; the trailing ones join the
 * plan's rows. record is kept apart so that it comes last among them whatever the order. */
static int plan_metric(plan *p, metric *m, const char *name, hsize_t *record_size,
                       ts_error *err)
{
    snprintf(m->name, NAME_CAP, "%s", name);
    m->ds = H5Dopen2(p->file, name, H5P_DEFAULT);
    if (m->ds < 0) return h5_fail(err, "metric", name);
    char names[MAX_DIMS][NAME_CAP];
    hsize_t sizes[MAX_DIMS];
    int n = 0;
    if (dataset_dims(m->ds, name, names, sizes, &n, err)) return TS_ERUNTIME;
    int lead = (int)p->naxes + 1;
    for (int d = 0; d < lead && d < n; d++)
        if (strcmp(names[d], d < lead - 1 ? p->axes[d].name : "repeat"))
            return ts_error_set(err, TS_ERUNTIME, "%s: dimension %d is %s, not %s", name, d,
                                names[d], d < lead - 1 ? p->axes[d].name : "repeat");
    if (n < lead || n - lead > MAX_TRAIL)
        return ts_error_set(err, TS_ERUNTIME, "%s: unexpected dimensions", name);
    m->ntrail = (size_t)(n - lead);
    for (size_t t = 0; t < m->ntrail; t++) {
        const char *tname = names[lead + t];
        if (strcmp(tname, "record") == 0) {
            *record_size = sizes[lead + t];
            m->trail[t] = RECORD_PENDING;
            continue;
        }
        int idx = trail_index(p, tname, sizes[lead + t], err);
        if (idx < 0) return TS_ERUNTIME;
        m->trail[t] = (size_t)idx;
    }
    m->per_run = 1;
    for (size_t t = m->ntrail; t-- > 0;) {
        m->stride[t] = m->per_run;
        m->per_run *= sizes[lead + t];
    }
    hsize_t values = p->repeats * m->per_run;
    m->block = calloc(values ? values : 1, sizeof *m->block);
    return m->block ? TS_OK : ts_error_set(err, TS_ERUNTIME, "out of memory");
}

/* Append record (with the iteration coordinate) after the extra dimensions. */
static int finish_trail(plan *p, hsize_t record_size, ts_error *err)
{
    if (!record_size) return TS_OK;
    int idx = trail_index(p, "record", record_size, err);
    if (idx < 0) return TS_ERUNTIME;
    p->record = idx;
    for (size_t k = 0; k < p->nmetrics; k++)
        for (size_t t = 0; t < p->metrics[k].ntrail; t++)
            if (p->metrics[k].trail[t] == RECORD_PENDING) p->metrics[k].trail[t] = (size_t)idx;
    p->times = calloc(record_size, sizeof *p->times);
    if (!p->times) return ts_error_set(err, TS_ERUNTIME, "out of memory");
    if (H5Lexists(p->file, "iteration", H5P_DEFAULT) <= 0) return TS_OK;
    p->iteration = H5Dopen2(p->file, "iteration", H5P_DEFAULT);
    char names[MAX_DIMS][NAME_CAP];
    hsize_t sizes[MAX_DIMS];
    int n = 0;
    if (p->iteration < 0 || dataset_dims(p->iteration, "iteration", names, sizes, &n, err))
        return h5_fail(err, "coordinate", "iteration");
    p->times_vary = n > 1;
    if (n != (p->times_vary ? (int)p->naxes + 1 : 1))
        return ts_error_set(err, TS_ERUNTIME, "iteration: unexpected dimensions");
    if (p->times_vary) return TS_OK;
    if (H5Dread(p->iteration, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, p->times) < 0)
        return h5_fail(err, "coordinate", "iteration");
    return TS_OK;
}

static int name_listed(const metric_list *list, const char *name)
{
    for (size_t k = 0; k < list->n; k++)
        if (strcmp(list->names[k], name) == 0) return 1;
    return 0;
}

/* The metrics to export: those asked for (each must exist), or all of them. */
static int plan_metrics(plan *p, const char *const *wanted, size_t nwanted, ts_error *err)
{
    metric_list all = {0};
    int rc = list_metrics(p->file, &all, err);
    for (size_t k = 0; !rc && k < nwanted; k++) {
        if (name_listed(&all, wanted[k])) continue;
        char known[2048] = "";
        for (size_t j = 0; j < all.n; j++)
            snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", j ? ", " : "",
                     all.names[j]);
        rc = ts_error_set(err, TS_EUSAGE, "--metric %s: no such metric; the archive has %s",
                          wanted[k], known);
    }
    p->nmetrics = nwanted ? nwanted : all.n;
    p->metrics = rc ? NULL : calloc(p->nmetrics ? p->nmetrics : 1, sizeof *p->metrics);
    if (!rc && !p->metrics) rc = ts_error_set(err, TS_ERUNTIME, "out of memory");
    for (size_t k = 0; p->metrics && k < p->nmetrics; k++) p->metrics[k].ds = H5I_INVALID_HID;
    hsize_t record_size = 0;
    for (size_t k = 0; !rc && k < p->nmetrics; k++)
        rc = plan_metric(p, &p->metrics[k], nwanted ? wanted[k] : all.names[k], &record_size,
                         err);
    if (!rc) rc = finish_trail(p, record_size, err);
    free(all.names);
    return rc;
}

static void dim_free(dim *d)
{
    for (size_t c = 0; d->cols && c < d->ncols; c++) column_free(&d->cols[c]);
    free(d->cols);
}

void export_plan_free(plan *p)
{
    for (size_t a = 0; p->axes && a < p->naxes; a++) dim_free(&p->axes[a]);
    for (size_t t = 0; p->trail && t < p->ntrail; t++) dim_free(&p->trail[t]);
    for (size_t k = 0; p->metrics && k < p->nmetrics; k++) {
        if (p->metrics[k].ds >= 0) H5Dclose(p->metrics[k].ds);
        free(p->metrics[k].block);
    }
    if (p->iteration >= 0) H5Dclose(p->iteration);
    if (p->status >= 0) H5Dclose(p->status);
    if (p->file >= 0) H5Fclose(p->file);
    free(p->axes);
    free(p->trail);
    free(p->metrics);
    free(p->times);
    free(p->status_block);
}

int export_plan_open(plan *p, const char *path, const char *const *wanted, size_t nwanted,
                     ts_error *err)
{
    *p = (plan){.file = H5I_INVALID_HID, .record = -1, .iteration = H5I_INVALID_HID,
                .status = H5I_INVALID_HID};
    FILE *probe = fopen(path, "rb");
    if (!probe) return ts_error_set(err, TS_ERUNTIME, "%s: %s", path, strerror(errno));
    fclose(probe);
    p->file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (p->file < 0) {
        H5Eclear2(H5E_DEFAULT);
        return ts_error_set(err, TS_ERUNTIME, "%s: not an HDF5 file", path);
    }
    p->trail = calloc(MAX_DIMS, sizeof *p->trail);
    if (!p->trail) return ts_error_set(err, TS_ERUNTIME, "out of memory");
    if (plan_axes(p, err) || plan_metrics(p, wanted, nwanted, err)) return err->code;
    return TS_OK;
}

/* ------------------------------------------------------------------ one point */

/* Read [idx..., all of the rest] of ds into buf. */
static int read_point_block(hid_t ds, const hsize_t *idx, size_t nlead, hid_t mem_type,
                            void *buf)
{
    hid_t space = H5Dget_space(ds);
    int n = space < 0 ? -1 : H5Sget_simple_extent_ndims(space);
    hsize_t start[MAX_DIMS] = {0}, count[MAX_DIMS];
    int ok = n >= 0 && H5Sget_simple_extent_dims(space, count, NULL) >= 0;
    for (size_t d = 0; ok && d < nlead; d++) {
        start[d] = idx[d];
        count[d] = 1;
    }
    hid_t mem = H5I_INVALID_HID;
    if (ok) {
        hsize_t total = 1;
        for (int d = 0; d < n; d++) total *= count[d];
        mem = H5Screate_simple(1, &total, NULL);
        ok = mem >= 0 &&
             H5Sselect_hyperslab(space, H5S_SELECT_SET, start, NULL, count, NULL) >= 0 &&
             H5Dread(ds, mem_type, mem, space, H5P_DEFAULT, buf) >= 0;
    }
    if (mem >= 0) H5Sclose(mem);
    if (space >= 0) H5Sclose(space);
    return ok ? TS_OK : TS_ERUNTIME;
}

int export_read_point(plan *p, const hsize_t *idx, ts_error *err)
{
    if (read_point_block(p->status, idx, p->naxes, H5T_NATIVE_INT8, p->status_block))
        return h5_fail(err, "variable", "status");
    for (size_t k = 0; k < p->nmetrics; k++)
        if (read_point_block(p->metrics[k].ds, idx, p->naxes, H5T_NATIVE_DOUBLE,
                             p->metrics[k].block))
            return h5_fail(err, "metric", p->metrics[k].name);
    if (p->times_vary &&
        read_point_block(p->iteration, idx, p->naxes, H5T_NATIVE_INT64, p->times))
        return h5_fail(err, "coordinate", "iteration");
    return TS_OK;
}

