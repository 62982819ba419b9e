/* The archive: one netCDF4-compatible HDF5 file per sweep, written collectively from the shards.
 * DESIGN.md section 6.
 *
 * Layout (every dimension is a dimension scale, every variable has its scales attached, so
 * h5netcdf and xarray name the dimensions without glue code):
 *   /<axis> or /zipK (+ one variable per zipped parameter), /repeat, /<extra dim>, /record,
 *   /iteration, one variable per metric, /status, /provenance/{wall_seconds,rank,host,error}.
 *
 * How: every rank creates every object with the same calls in the same order (parallel HDF5
 * metadata is collective), then the points are written in rounds: each rank takes a block of
 * consecutive points per round and every dataset gets one collective H5Dwrite per round. Blocks
 * are consecutive in canonical order, and canonical order is the row-major order of the axes, so
 * a block is one contiguous range of the flattened leading dimensions. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hdf5.h>
#include <hdf5_hl.h>

#include "tailsweep/archive.h"
#include "tailsweep/record.h"

/* A block's buffers stay under this per rank, whatever the sweep's size. */
#define BLOCK_BYTES ((size_t)64 << 20)
/* Chunk sizes: large enough for deflate to work and for few chunk lookups, small enough that a
 * partial read (one curve) does not inflate megabytes. */
#define CHUNK_MIN_BYTES (256.0 * 1024)
#define CHUNK_MAX_BYTES (1024.0 * 1024)
#define DEFLATE_LEVEL 4
#define MAX_DIMS 64

typedef struct extra_dim {
    const char *name; /* the parameter's name, which is also the dimension's */
    int param;
    hsize_t size;
    hid_t scale;
} extra_dim;

typedef struct archive {
    MPI_Comm comm;
    int rank, nranks;
    const ts_grid *g;
    const ts_experiment *x;
    ts_layout layout;
    size_t nmetrics, nrecords;
    int steps_param, record_param;
    int times_vary;  /* steps or the record rule is on an axis: iteration is [axes..., record] */
    int64_t *times;  /* [nrecords], when they do not vary */
    size_t naxes;
    hsize_t *axis_size;
    hid_t *axis_scale;
    hid_t repeat_scale, record_scale;
    extra_dim *extra;
    size_t nextra;
    size_t (*metric_extra)[TS_MAX_EXTRA_DIMS]; /* indices into extra[] */
    size_t *metric_nextra;
    char *coords_plain, *coords_series; /* the CF `coordinates` attribute values */
    hid_t file, provenance, dxpl;
    hid_t *metric_ds;
    hid_t iteration_ds, status_ds, wall_ds, rank_ds, host_ds, error_ds;
    hid_t host_type, error_type;
    size_t error_width;
} archive;

/* ------------------------------------------------------------------ errors */

typedef struct h5_trace {
    int depth;
    char outer[256], inner[256], minor[128];
} h5_trace;

static herr_t trace_entry(unsigned n, const H5E_error2_t *e, void *data)
{
    h5_trace *t = data;
    (void)n;
    const char *desc = e->desc ? e->desc : "";
    if (t->depth++ == 0) snprintf(t->outer, sizeof t->outer, "%s", desc);
    snprintf(t->inner, sizeof t->inner, "%s", desc);
    if (H5Eget_msg(e->min_num, NULL, t->minor, sizeof t->minor) < 0) t->minor[0] = '\0';
    return 0;
}

/* An HDF5 failure as "what: HDF5: outermost: innermost (minor)"; the innermost entry says why
 * (errno text, a name), the outermost what was attempted. Call it right after the failing call:
 * every HDF5 API call, even a successful close, clears the error stack. */
static int h5_fail(ts_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int h5_fail(ts_error *err, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    h5_trace t = {0};
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, trace_entry, &t);
    H5Eclear2(H5E_DEFAULT);
    if (t.depth == 0) return ts_error_set(err, TS_ERUNTIME, "%s: HDF5 call failed", what);
    if (t.depth == 1 || strcmp(t.outer, t.inner) == 0)
        return ts_error_set(err, TS_ERUNTIME, "%s: HDF5: %s (%s)", what, t.inner, t.minor);
    return ts_error_set(err, TS_ERUNTIME, "%s: HDF5: %s: %s (%s)", what, t.outer, t.inner,
                        t.minor);
}

/* Every rank leaves a collective phase with the same status and message: the lowest failing
 * rank's, so the caller's exit status does not depend on which rank saw the problem. */
static int agree(const archive *a, int rc, ts_error *err)
{
    int mine = rc ? a->rank : a->nranks, first;
    MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, a->comm);
    if (first == a->nranks) return TS_OK;
    struct {
        int code;
        char msg[sizeof err->msg];
    } m = {0};
    if (a->rank == first) {
        m.code = err->code ? err->code : TS_ERUNTIME;
        memcpy(m.msg, err->msg, sizeof m.msg);
    }
    MPI_Bcast(&m, (int)sizeof m, MPI_BYTE, first, a->comm);
    if (a->rank != first) ts_error_set(err, m.code, "%s", m.msg);
    return m.code;
}

static void *alloc_array(size_t n, size_t size)
{
    return calloc(n ? n : 1, size);
}

/* ------------------------------------------------------------------ attributes */

static hid_t utf8_string_type(size_t size)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0) return t;
    if (H5Tset_size(t, size) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0 ||
        H5Tset_strpad(t, H5T_STR_NULLTERM) < 0) {
        H5Tclose(t);
        return H5I_INVALID_HID;
    }
    return t;
}

static int attr_write(hid_t obj, const char *name, hid_t file_type, hid_t mem_type, hsize_t n,
                      const void *value, ts_error *err)
{
    hid_t space = n ? H5Screate_simple(1, &n, NULL) : H5Screate(H5S_SCALAR);
    hid_t attr = space < 0 ? H5I_INVALID_HID
                           : H5Acreate2(obj, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT);
    int rc = TS_OK;
    if (attr < 0 || H5Awrite(attr, mem_type, value) < 0)
        rc = h5_fail(err, "writing attribute %s", name);
    if (attr >= 0) H5Aclose(attr);
    if (space >= 0) H5Sclose(space);
    return rc;
}

/* Variable-length UTF-8: what netCDF4 calls a string attribute and h5netcdf returns as str. */
static int attr_string(hid_t obj, const char *name, const char *value, ts_error *err)
{
    hid_t t = utf8_string_type(H5T_VARIABLE);
    if (t < 0) return h5_fail(err, "string type for attribute %s", name);
    const char *v = value ? value : "";
    int rc = attr_write(obj, name, t, t, 0, &v, err);
    H5Tclose(t);
    return rc;
}

static int attr_i64(hid_t obj, const char *name, int64_t v, ts_error *err)
{
    return attr_write(obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, 0, &v, err);
}

static int attr_f64(hid_t obj, const char *name, double v, ts_error *err)
{
    return attr_write(obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 0, &v, err);
}

/* CF's units and long_name, on every variable and coordinate. */
static int attr_describe(hid_t obj, const char *units, const char *long_name, ts_error *err)
{
    if (attr_string(obj, "units", units ? units : "", err)) return TS_ERUNTIME;
    return attr_string(obj, "long_name", long_name ? long_name : "", err);
}

/* ------------------------------------------------------------------ datasets */

/* Leading (per-point) dimensions start at 1 and trailing (per-run) ones whole, so one run's curve
 * is in one chunk; then a run block too big is split (repeat first, keeping curves whole as long
 * as possible) and one too small grows along the axes from the last, so chunks land within
 * [CHUNK_MIN_BYTES, CHUNK_MAX_BYTES] when the shape allows. */
static void choose_chunk(int ndims, const hsize_t *dims, int nlead, size_t elem, hsize_t *chunk)
{
    double bytes = (double)elem;
    for (int i = 0; i < ndims; i++) {
        chunk[i] = i < nlead ? 1 : dims[i];
        bytes *= (double)chunk[i];
    }
    for (int i = nlead; i < ndims && bytes > CHUNK_MAX_BYTES; i++) {
        while (chunk[i] > 1 && bytes > CHUNK_MAX_BYTES) {
            hsize_t half = (chunk[i] + 1) / 2;
            bytes = bytes / (double)chunk[i] * (double)half;
            chunk[i] = half;
        }
    }
    for (int i = nlead - 1; i >= 0 && bytes < CHUNK_MIN_BYTES; i--) {
        double want = floor(CHUNK_MAX_BYTES / bytes);
        chunk[i] = want >= (double)dims[i] ? dims[i] : (hsize_t)(want < 1 ? 1 : want);
        bytes *= (double)chunk[i];
    }
}

typedef struct var_spec {
    const char *name;
    hid_t type;       /* file type */
    int ndims;
    const hsize_t *dims;
    int nlead;        /* leading dimensions indexed by point; < 0 for a contiguous variable */
    hid_t fill_type;  /* memory type of *fill, or -1 for no fill value */
    const void *fill;
} var_spec;

static hid_t create_var(hid_t loc, const var_spec *v, ts_error *err)
{
    hid_t space = H5Screate_simple(v->ndims, v->dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t ds = H5I_INVALID_HID;
    int ok = space >= 0 && dcpl >= 0 && H5Pset_obj_track_times(dcpl, 0) >= 0;
    if (ok && v->fill) ok = H5Pset_fill_value(dcpl, v->fill_type, v->fill) >= 0;
    if (ok && v->nlead >= 0) {
        hsize_t chunk[MAX_DIMS];
        choose_chunk(v->ndims, v->dims, v->nlead, H5Tget_size(v->type), chunk);
        ok = H5Pset_chunk(dcpl, v->ndims, chunk) >= 0 && H5Pset_shuffle(dcpl) >= 0 &&
             H5Pset_deflate(dcpl, DEFLATE_LEVEL) >= 0;
    }
    if (ok) ds = H5Dcreate2(loc, v->name, v->type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (ds < 0) h5_fail(err, "creating dataset %s", v->name);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (space >= 0) H5Sclose(space);
    return ds;
}

static int attach_scales(hid_t ds, const char *name, const hid_t *scales, int n, ts_error *err)
{
    for (int i = 0; i < n; i++)
        if (H5DSattach_scale(ds, scales[i], (unsigned)i) < 0)
            return h5_fail(err, "attaching dimension %d of %s", i, name);
    return TS_OK;
}

/* Small data known on every rank (coordinates): rank 0 writes it, in a collective call. */
static int write_whole(const archive *a, hid_t ds, hid_t mem_type, const void *buf,
                       const char *name, ts_error *err)
{
    hid_t space = H5Dget_space(ds);
    int rc = TS_OK;
    if (space < 0 || (a->rank != 0 && H5Sselect_none(space) < 0) ||
        H5Dwrite(ds, mem_type, space, space, a->dxpl, buf) < 0)
        rc = h5_fail(err, "writing %s", name);
    if (space >= 0) H5Sclose(space);
    return rc;
}

/* A 1-D coordinate that is also its own dimension. */
static hid_t create_scale(const archive *a, const char *name, hid_t type, hsize_t size,
                          hid_t mem_type, const void *values, const char *units,
                          const char *long_name, ts_error *err)
{
    var_spec v = {name, type, 1, &size, -1, -1, NULL};
    hid_t ds = create_var(a->file, &v, err);
    if (ds < 0) return ds;
    int rc = H5DSset_scale(ds, name) < 0 ? h5_fail(err, "making %s a dimension scale", name) : 0;
    if (!rc) rc = attr_describe(ds, units, long_name, err);
    if (!rc && values) rc = write_whole(a, ds, mem_type, values, name, err);
    if (rc) {
        H5Dclose(ds);
        return H5I_INVALID_HID;
    }
    return ds;
}

static hid_t create_index_scale(const archive *a, const char *name, hsize_t size,
                                const char *long_name, ts_error *err)
{
    int64_t *v = alloc_array(size, sizeof *v);
    if (!v) {
        ts_error_set(err, TS_ERUNTIME, "out of memory");
        return H5I_INVALID_HID;
    }
    for (hsize_t k = 0; k < size; k++) v[k] = (int64_t)k;
    hid_t ds = create_scale(a, name, H5T_STD_I64LE, size, H5T_NATIVE_INT64, v, "", long_name,
                            err);
    free(v);
    return ds;
}

/* ------------------------------------------------------------------ coordinates */

/* Enum (and any other non-numeric) axis values become string coordinates. */
static int param_is_string(const ts_experiment *x, int param)
{
    return x->params[param].type != TS_INT && x->params[param].type != TS_REAL;
}

/* Values of parameter j of an axis in the coordinate's memory type; NULL for strings, which
 * are written later (see write_string_coordinates). */
static void *axis_values(const ts_grid *g, const ts_axis *ax, size_t j, hid_t *type,
                         hid_t *mem_type)
{
    const ts_param_def *def = &g->experiment->params[ax->param[j]];
    const ts_value *v = ax->values + j * ax->size;
    if (def->type == TS_INT) {
        int64_t *out = alloc_array(ax->size, sizeof *out);
        for (size_t k = 0; out && k < ax->size; k++) out[k] = v[k].i;
        *type = H5T_STD_I64LE;
        *mem_type = H5T_NATIVE_INT64;
        return out;
    }
    if (def->type == TS_REAL) {
        double *out = alloc_array(ax->size, sizeof *out);
        for (size_t k = 0; out && k < ax->size; k++) out[k] = v[k].r;
        *type = H5T_IEEE_F64LE;
        *mem_type = H5T_NATIVE_DOUBLE;
        return out;
    }
    *type = *mem_type = H5I_INVALID_HID;
    return NULL;
}

/* A coordinate variable for parameter j of axis ax: a dimension scale for a plain axis, a
 * variable over zipK for a zipped parameter. */
static hid_t create_param_coordinate(const archive *a, const ts_axis *ax, size_t j, hid_t dim,
                                     ts_error *err)
{
    const ts_param_def *def = &a->g->experiment->params[ax->param[j]];
    hid_t type, mem_type, str_type = H5I_INVALID_HID;
    void *values = axis_values(a->g, ax, j, &type, &mem_type);
    if (!values && (def->type == TS_INT || def->type == TS_REAL)) {
        ts_error_set(err, TS_ERUNTIME, "out of memory");
        return H5I_INVALID_HID;
    }
    if (!values) {
        str_type = utf8_string_type(H5T_VARIABLE);
        if (str_type < 0) {
            h5_fail(err, "string type for %s", def->name);
            return H5I_INVALID_HID;
        }
        type = str_type;
    }
    hid_t ds;
    if (!ax->is_zip) {
        ds = create_scale(a, def->name, type, ax->size, mem_type, values, def->unit, def->doc,
                          err);
    } else {
        hsize_t size = ax->size;
        var_spec v = {def->name, type, 1, &size, -1, -1, NULL};
        ds = create_var(a->file, &v, err);
        int rc = ds < 0;
        if (!rc) rc = attr_describe(ds, def->unit, def->doc, err);
        if (!rc) rc = attach_scales(ds, def->name, &dim, 1, err);
        if (!rc && values) rc = write_whole(a, ds, mem_type, values, def->name, err);
        if (rc && ds >= 0) {
            H5Dclose(ds);
            ds = H5I_INVALID_HID;
        }
    }
    if (str_type >= 0) H5Tclose(str_type);
    free(values);
    return ds;
}

static int create_axis(archive *a, size_t i, ts_error *err)
{
    const ts_axis *ax = &a->g->axes[i];
    if (!ax->is_zip) {
        a->axis_scale[i] = create_param_coordinate(a, ax, 0, H5I_INVALID_HID, err);
        return a->axis_scale[i] < 0 ? TS_ERUNTIME : TS_OK;
    }
    char long_name[TS_NAME_MAX * 8] = "zip group of";
    for (size_t j = 0; j < ax->nparams; j++) {
        size_t used = strlen(long_name);
        snprintf(long_name + used, sizeof long_name - used, "%s %s", j ? "," : "",
                 a->g->experiment->params[ax->param[j]].name);
    }
    a->axis_scale[i] = create_index_scale(a, ax->name, ax->size, long_name, err);
    if (a->axis_scale[i] < 0) return TS_ERUNTIME;
    for (size_t j = 0; j < ax->nparams; j++) {
        hid_t ds = create_param_coordinate(a, ax, j, a->axis_scale[i], err);
        if (ds < 0) return TS_ERUNTIME;
        H5Dclose(ds);
    }
    return TS_OK;
}

static int create_extra_scale(archive *a, extra_dim *e, ts_error *err)
{
    const ts_param_def *def = &a->x->params[e->param];
    const ts_value *v = &a->g->base[e->param];
    if (def->type == TS_REAL_LIST) {
        e->scale = create_scale(a, e->name, H5T_IEEE_F64LE, e->size, H5T_NATIVE_DOUBLE, v->list,
                                def->unit, def->doc, err);
    } else {
        e->scale = create_index_scale(a, e->name, e->size, def->doc, err);
    }
    return e->scale < 0 ? TS_ERUNTIME : TS_OK;
}

/* ------------------------------------------------------------------ planning */

static int name_taken(const char *const *names, size_t n, const char *name)
{
    for (size_t k = 0; k < n; k++)
        if (strcmp(names[k], name) == 0) return 1;
    return 0;
}

/* Every dimension and variable lives in the root group, so their names must differ. */
static int check_names(const archive *a, ts_error *err)
{
    size_t cap = 8 + a->nmetrics + a->nextra, n = 0;
    for (size_t i = 0; i < a->naxes; i++) cap += 1 + a->g->axes[i].nparams;
    const char **names = alloc_array(cap, sizeof *names);
    if (!names) return ts_error_set(err, TS_ERUNTIME, "out of memory");
    int rc = TS_OK;
#define ADD_NAME(s)                                                                             \
    do {                                                                                        \
        const char *s_ = (s);                                                                   \
        if (!rc && name_taken(names, n, s_))                                                    \
            rc = ts_error_set(err, TS_EUSAGE,                                                   \
                              "the archive would hold two variables named \"%s\"", s_);         \
        names[n++] = s_;                                                                        \
    } while (0)
    for (size_t i = 0; i < a->naxes; i++) {
        const ts_axis *ax = &a->g->axes[i];
        if (ax->is_zip) {
            ADD_NAME(ax->name);
            for (size_t j = 0; j < ax->nparams; j++) ADD_NAME(a->x->params[ax->param[j]].name);
        } else {
            ADD_NAME(a->x->params[ax->param[0]].name);
        }
    }
    ADD_NAME("repeat");
    for (size_t e = 0; e < a->nextra; e++) ADD_NAME(a->extra[e].name);
    if (a->nrecords) {
        ADD_NAME("record");
        ADD_NAME("iteration");
    }
    for (size_t m = 0; m < a->nmetrics; m++) ADD_NAME(a->x->metrics[m].name);
    ADD_NAME("status");
    ADD_NAME("provenance");
#undef ADD_NAME
    free(names);
    return rc;
}

static int find_extra(const archive *a, const char *name)
{
    for (size_t e = 0; e < a->nextra; e++)
        if (strcmp(a->extra[e].name, name) == 0) return (int)e;
    return -1;
}

/* The metrics' extra dimensions, each once, in order of first use. */
static int plan_extra_dims(archive *a, ts_error *err)
{
    a->extra = alloc_array(a->nmetrics * TS_MAX_EXTRA_DIMS, sizeof *a->extra);
    a->metric_extra = alloc_array(a->nmetrics, sizeof *a->metric_extra);
    a->metric_nextra = alloc_array(a->nmetrics, sizeof *a->metric_nextra);
    if (!a->extra || !a->metric_extra || !a->metric_nextra)
        return ts_error_set(err, TS_ERUNTIME, "out of memory");
    for (size_t m = 0; m < a->nmetrics; m++) {
        const ts_metric_def *md = &a->x->metrics[m];
        hsize_t extent = 1;
        for (int d = 0; d < TS_MAX_EXTRA_DIMS && md->dims[d]; d++) {
            int e = find_extra(a, md->dims[d]);
            if (e < 0) {
                int p = ts_param_index(a->x->params, md->dims[d]);
                if (p < 0 || (a->x->params[p].type != TS_INT &&
                              a->x->params[p].type != TS_REAL_LIST))
                    return ts_error_set(err, TS_EUSAGE,
                                        "metric %s: extra dimension %s is not a list or integer "
                                        "parameter",
                                        md->name, md->dims[d]);
                if (ts_grid_axis_of(a->g, p) >= 0)
                    return ts_error_set(err, TS_EUSAGE,
                                        "metric %s: its dimension %s cannot be a sweep axis",
                                        md->name, md->dims[d]);
                const ts_value *v = &a->g->base[p];
                hsize_t size = a->x->params[p].type == TS_REAL_LIST ? v->n
                               : v->i > 0                           ? (hsize_t)v->i
                                                                    : 0;
                if (size == 0)
                    return ts_error_set(err, TS_EUSAGE, "metric %s: dimension %s is empty",
                                        md->name, md->dims[d]);
                e = (int)a->nextra++;
                a->extra[e] = (extra_dim){md->dims[d], p, size, H5I_INVALID_HID};
            }
            a->metric_extra[m][a->metric_nextra[m]++] = (size_t)e;
            extent *= a->extra[e].size;
        }
        if (extent != a->layout.extent[m])
            return ts_error_set(err, TS_ERUNTIME,
                                "metric %s: %llu values per record in the layout, %llu in its "
                                "dimensions",
                                md->name, (unsigned long long)a->layout.extent[m],
                                (unsigned long long)extent);
    }
    return TS_OK;
}

/* Series are recorded at ts_record_times(record, steps): the same for every point unless one
 * of the two is on an axis. The record count must not vary: the archive is rectangular. */
static int plan_times(archive *a, ts_error *err)
{
    if (!a->nrecords) return TS_OK;
    a->steps_param = ts_param_index(a->x->params, "steps");
    a->record_param = ts_param_index(a->x->params, "record");
    if (a->steps_param < 0 || a->record_param < 0)
        return ts_error_set(err, TS_ERUNTIME, "experiment %s records series without steps/record",
                            a->x->name);
    a->times_vary = ts_grid_axis_of(a->g, a->steps_param) >= 0 ||
                    ts_grid_axis_of(a->g, a->record_param) >= 0;
    int ax = ts_grid_axis_of(a->g, a->record_param);
    if (ax >= 0) {
        const ts_axis *axis = &a->g->axes[ax];
        for (size_t j = 0; j < axis->nparams; j++) {
            if (axis->param[j] != a->record_param) continue;
            for (size_t k = 0; k < axis->size; k++)
                if ((size_t)axis->values[j * axis->size + k].rec.count != a->nrecords)
                    return ts_error_set(err, TS_EUSAGE,
                                        "record: every swept rule must have the same count "
                                        "(%zu and %lld)",
                                        a->nrecords,
                                        (long long)axis->values[j * axis->size + k].rec.count);
        }
    }
    if (a->times_vary) return TS_OK;
    a->times = alloc_array(a->nrecords, sizeof *a->times);
    if (!a->times) return ts_error_set(err, TS_ERUNTIME, "out of memory");
    return ts_record_times(a->g->base[a->record_param].rec, a->g->base[a->steps_param].i,
                           a->times, err);
}

static char *join_names(const archive *a, int with_iteration)
{
    size_t cap = 16;
    for (size_t i = 0; i < a->naxes; i++)
        if (a->g->axes[i].is_zip) cap += a->g->axes[i].nparams * (TS_NAME_MAX + 1);
    char *s = calloc(cap, 1);
    if (!s) return NULL;
    for (size_t i = 0; i < a->naxes; i++) {
        const ts_axis *ax = &a->g->axes[i];
        for (size_t j = 0; ax->is_zip && j < ax->nparams; j++) {
            if (*s) strcat(s, " ");
            strcat(s, a->x->params[ax->param[j]].name);
        }
    }
    if (with_iteration) strcat(s, *s ? " iteration" : "iteration");
    return s;
}

static int plan(archive *a, ts_error *err)
{
    ts_value *values = alloc_array(a->g->nparams, sizeof *values);
    if (!values) return ts_error_set(err, TS_ERUNTIME, "out of memory");
    ts_point p;
    ts_grid_point(a->g, 0, 0, values, &p);
    /* Extra dimensions come from parameters that cannot be swept, and the record count is the
     * same at every point (plan_times), so point 0's layout is every run's. */
    int rc = ts_layout_init(&a->layout, a->x, &p, err);
    free(values);
    if (rc) return rc;
    a->nmetrics = a->layout.nmetrics;
    a->nrecords = a->layout.nrecords;
    a->naxes = a->g->naxes;
    if (a->naxes + TS_MAX_EXTRA_DIMS + 2 > MAX_DIMS)
        return ts_error_set(err, TS_EUSAGE, "%zu sweep axes: the archive allows at most %d",
                            a->naxes, MAX_DIMS - TS_MAX_EXTRA_DIMS - 2);
    a->axis_size = alloc_array(a->naxes, sizeof *a->axis_size);
    a->axis_scale = alloc_array(a->naxes, sizeof *a->axis_scale);
    a->metric_ds = alloc_array(a->nmetrics, sizeof *a->metric_ds);
    if (!a->axis_size || !a->axis_scale || !a->metric_ds)
        return ts_error_set(err, TS_ERUNTIME, "out of memory");
    for (size_t i = 0; i < a->naxes; i++) {
        a->axis_size[i] = a->g->axes[i].size;
        a->axis_scale[i] = H5I_INVALID_HID;
    }
    for (size_t m = 0; m < a->nmetrics; m++) a->metric_ds[m] = H5I_INVALID_HID;
    if ((rc = plan_extra_dims(a, err)) || (rc = plan_times(a, err)) || (rc = check_names(a, err)))
        return rc;
    a->coords_plain = join_names(a, 0);
    a->coords_series = join_names(a, a->nrecords > 0);
    if (!a->coords_plain || !a->coords_series)
        return ts_error_set(err, TS_ERUNTIME, "out of memory");
    return TS_OK;
}

/* The error strings are fixed-length (parallel HDF5 cannot write variable-length data), so
 * their width is the longest message: each rank reads a share of the failed runs. */
static int measure_errors(archive *a, ts_parts_index *idx, ts_error *err)
{
    double *values = alloc_array(a->layout.total, sizeof *values);
    if (!values) return ts_error_set(err, TS_ERUNTIME, "out of memory");
    unsigned long longest = 0;
    int rc = TS_OK;
    size_t seen = 0;
    for (size_t k = 0; k < idx->nentries && !rc; k++) {
        if (idx->entries[k].status != TS_FAILED) continue;
        if (seen++ % (size_t)a->nranks != (size_t)a->rank) continue;
        ts_run_record rec;
        rc = ts_parts_read(idx, &idx->entries[k], &rec, values, a->layout.total, err);
        if (!rc) {
            size_t n = strnlen(rec.message, sizeof rec.message - 1);
            if (n > longest) longest = n;
        }
    }
    free(values);
    unsigned long all;
    MPI_Allreduce(&longest, &all, 1, MPI_UNSIGNED_LONG, MPI_MAX, a->comm);
    a->error_width = (size_t)all + 1;
    return rc;
}

/* ------------------------------------------------------------------ the skeleton */

static int write_root_attrs(const archive *a, const ts_spec *spec, const ts_archive_meta *meta,
                            ts_error *err)
{
    char sha[65];
    ts_grid_sha256(a->g, sha);
    uint64_t seed = a->g->seed;
    int32_t ranks = meta ? meta->mpi_ranks : a->nranks;
    hid_t f = a->file;
    if (attr_string(f, "tailsweep_version", PACKAGE_VERSION, err) ||
        attr_string(f, "experiment", a->x->name, err) ||
        attr_string(f, "reference", a->x->reference, err) ||
        attr_string(f, "spec", spec->text, err) || attr_string(f, "spec_sha256", sha, err) ||
        attr_write(f, "seed", H5T_STD_U64LE, H5T_NATIVE_UINT64, 0, &seed, err) ||
        attr_i64(f, "repeats", (int64_t)a->g->repeats, err) ||
        attr_string(f, "created", meta ? meta->created : "", err) ||
        attr_string(f, "finished", meta ? meta->finished : "", err) ||
        attr_write(f, "mpi_ranks", H5T_STD_I32LE, H5T_NATIVE_INT32, 0, &ranks, err))
        return TS_ERUNTIME;
    return TS_OK;
}

/* Dimensions of a per-run variable: [axes..., repeat, tail...], with their scales. */
static int run_dims(const archive *a, hsize_t *dims, hid_t *scales)
{
    int n = 0;
    for (size_t i = 0; i < a->naxes; i++, n++) {
        dims[n] = a->axis_size[i];
        scales[n] = a->axis_scale[i];
    }
    dims[n] = a->g->repeats;
    scales[n++] = a->repeat_scale;
    return n;
}

static int create_metric(archive *a, size_t m, ts_error *err)
{
    const ts_metric_def *md = &a->x->metrics[m];
    hsize_t dims[MAX_DIMS];
    hid_t scales[MAX_DIMS];
    int n = run_dims(a, dims, scales);
    for (size_t e = 0; e < a->metric_nextra[m]; e++, n++) {
        const extra_dim *x = &a->extra[a->metric_extra[m][e]];
        dims[n] = x->size;
        scales[n] = x->scale;
    }
    int series = md->kind == TS_SERIES;
    if (series) {
        dims[n] = a->nrecords;
        scales[n++] = a->record_scale;
    }
    const double nan = NAN;
    var_spec v = {md->name, H5T_IEEE_F64LE, n, dims, (int)a->naxes, H5T_NATIVE_DOUBLE, &nan};
    hid_t ds = a->metric_ds[m] = create_var(a->file, &v, err);
    if (ds < 0) return TS_ERUNTIME;
    const char *coords = series ? a->coords_series : a->coords_plain;
    if (attach_scales(ds, md->name, scales, n, err) ||
        attr_describe(ds, md->unit, md->doc ? md->doc : md->name, err) ||
        attr_string(ds, "kind", series ? "series" : "scalar", err) ||
        attr_f64(ds, "_FillValue", nan, err) ||
        (md->theory_for && attr_string(ds, "theory_for", md->theory_for, err)) ||
        (*coords && attr_string(ds, "coordinates", coords, err)))
        return TS_ERUNTIME;
    return TS_OK;
}

static int create_iteration(archive *a, ts_error *err)
{
    hsize_t dims[MAX_DIMS];
    hid_t scales[MAX_DIMS];
    int n = 0, nlead = -1;
    if (a->times_vary) {
        for (size_t i = 0; i < a->naxes; i++, n++) {
            dims[n] = a->axis_size[i];
            scales[n] = a->axis_scale[i];
        }
        nlead = n;
    }
    dims[n] = a->nrecords;
    scales[n++] = a->record_scale;
    var_spec v = {"iteration", H5T_STD_I64LE, n, dims, nlead, -1, NULL};
    a->iteration_ds = create_var(a->file, &v, err);
    if (a->iteration_ds < 0) return TS_ERUNTIME;
    if (attach_scales(a->iteration_ds, "iteration", scales, n, err) ||
        attr_describe(a->iteration_ds, "iterations", "optimizer step at each record time", err))
        return TS_ERUNTIME;
    if (!a->times_vary)
        return write_whole(a, a->iteration_ds, H5T_NATIVE_INT64, a->times, "iteration", err);
    return TS_OK;
}

static int create_status(archive *a, ts_error *err)
{
    hsize_t dims[MAX_DIMS];
    hid_t scales[MAX_DIMS];
    int n = run_dims(a, dims, scales);
    const int8_t missing = TS_MISSING, flags[4] = {TS_MISSING, TS_DONE, TS_DIVERGED, TS_FAILED};
    var_spec v = {"status", H5T_STD_I8LE, n, dims, (int)a->naxes, H5T_NATIVE_INT8, &missing};
    hid_t ds = a->status_ds = create_var(a->file, &v, err);
    if (ds < 0) return TS_ERUNTIME;
    if (attach_scales(ds, "status", scales, n, err) ||
        attr_describe(ds, "", "how the run ended", err) ||
        attr_write(ds, "flag_values", H5T_STD_I8LE, H5T_NATIVE_INT8, 4, flags, err) ||
        attr_string(ds, "flag_meanings", "missing done diverged failed", err) ||
        (*a->coords_plain && attr_string(ds, "coordinates", a->coords_plain, err)))
        return TS_ERUNTIME;
    return TS_OK;
}

static hid_t create_provenance_var(archive *a, const char *name, hid_t type, hid_t fill_type,
                                   const void *fill, const char *units, const char *long_name,
                                   ts_error *err)
{
    hsize_t dims[MAX_DIMS];
    hid_t scales[MAX_DIMS];
    int n = run_dims(a, dims, scales);
    var_spec v = {name, type, n, dims, (int)a->naxes, fill_type, fill};
    hid_t ds = create_var(a->provenance, &v, err);
    if (ds < 0) return ds;
    int fixed_string = H5Tget_class(type) == H5T_STRING;
    /* xarray decodes fixed-length strings to str only when told their encoding. */
    if (attach_scales(ds, name, scales, n, err) || attr_describe(ds, units, long_name, err) ||
        (fixed_string && attr_string(ds, "_Encoding", "utf-8", err))) {
        H5Dclose(ds);
        return H5I_INVALID_HID;
    }
    return ds;
}

static int create_provenance(archive *a, ts_error *err)
{
    hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
    int ok = gcpl >= 0 && H5Pset_obj_track_times(gcpl, 0) >= 0 &&
             H5Pset_link_creation_order(gcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED) >= 0;
    if (ok) a->provenance = H5Gcreate2(a->file, "provenance", H5P_DEFAULT, gcpl, H5P_DEFAULT);
    int rc = a->provenance < 0 ? h5_fail(err, "creating group /provenance") : TS_OK;
    if (gcpl >= 0) H5Pclose(gcpl);
    if (rc) return rc;
    a->host_type = utf8_string_type(TS_HOST_MAX);
    a->error_type = utf8_string_type(a->error_width);
    if (a->host_type < 0 || a->error_type < 0) return h5_fail(err, "string types");
    const double nan = NAN;
    const int32_t no_rank = -1;
    a->wall_ds = create_provenance_var(a, "wall_seconds", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &nan,
                                       "s", "wall-clock time of the run", err);
    if (a->wall_ds < 0) return TS_ERUNTIME;
    a->rank_ds = create_provenance_var(a, "rank", H5T_STD_I32LE, H5T_NATIVE_INT32, &no_rank, "",
                                       "MPI rank that ran it (-1: not run)", err);
    if (a->rank_ds < 0) return TS_ERUNTIME;
    a->host_ds = create_provenance_var(a, "host", a->host_type, -1, NULL, "",
                                       "host that ran it", err);
    if (a->host_ds < 0) return TS_ERUNTIME;
    a->error_ds = create_provenance_var(a, "error", a->error_type, -1, NULL, "",
                                        "error message of a failed run", err);
    return a->error_ds < 0 ? TS_ERUNTIME : TS_OK;
}

static int create_skeleton(archive *a, const ts_spec *spec, const ts_archive_meta *meta,
                           ts_error *err)
{
    int rc = write_root_attrs(a, spec, meta, err);
    for (size_t i = 0; i < a->naxes && !rc; i++) rc = create_axis(a, i, err);
    if (!rc) {
        a->repeat_scale = create_index_scale(a, "repeat", a->g->repeats,
                                             "independent repeat of a grid point", err);
        rc = a->repeat_scale < 0;
    }
    for (size_t e = 0; e < a->nextra && !rc; e++) rc = create_extra_scale(a, &a->extra[e], err);
    if (!rc && a->nrecords) {
        a->record_scale = create_index_scale(a, "record", a->nrecords, "record index", err);
        rc = a->record_scale < 0;
        if (!rc) rc = create_iteration(a, err);
    }
    for (size_t m = 0; m < a->nmetrics && !rc; m++) rc = create_metric(a, m, err);
    if (!rc) rc = create_status(a, err);
    if (!rc) rc = create_provenance(a, err);
    return rc ? TS_ERUNTIME : TS_OK;
}

/* ------------------------------------------------------------------ the data */

typedef struct block {
    size_t cap; /* points */
    double *values;    /* [runs][layout.total] */
    int8_t *status;    /* [runs] */
    double *wall;      /* [runs] */
    int32_t *rank;     /* [runs] */
    char *host;        /* [runs][TS_HOST_MAX] */
    char *error;       /* [runs][error_width] */
    int64_t *iteration; /* [points][nrecords], when the times vary */
    ts_value *params;  /* [nparams] scratch for ts_grid_point */
} block;

static size_t bytes_per_point(const archive *a)
{
    size_t per_run = a->layout.total * sizeof(double) + sizeof(int8_t) + sizeof(double) +
                     sizeof(int32_t) + TS_HOST_MAX + a->error_width;
    return a->g->repeats * per_run + (a->times_vary ? a->nrecords * sizeof(int64_t) : 0);
}

static void block_free(block *b)
{
    free(b->values);
    free(b->status);
    free(b->wall);
    free(b->rank);
    free(b->host);
    free(b->error);
    free(b->iteration);
    free(b->params);
}

static int block_alloc(block *b, const archive *a, size_t cap, ts_error *err)
{
    size_t runs = cap * a->g->repeats;
    *b = (block){.cap = cap};
    b->values = alloc_array(runs * a->layout.total, sizeof *b->values);
    b->status = alloc_array(runs, sizeof *b->status);
    b->wall = alloc_array(runs, sizeof *b->wall);
    b->rank = alloc_array(runs, sizeof *b->rank);
    b->host = alloc_array(runs, TS_HOST_MAX);
    b->error = alloc_array(runs, a->error_width);
    b->iteration = alloc_array(a->times_vary ? cap * a->nrecords : 0, sizeof *b->iteration);
    b->params = alloc_array(a->g->nparams, sizeof *b->params);
    if (!b->values || !b->status || !b->wall || !b->rank || !b->host || !b->error ||
        !b->iteration || !b->params) {
        block_free(b);
        return ts_error_set(err, TS_ERUNTIME, "out of memory for a block of %zu points", cap);
    }
    return TS_OK;
}

static void mark_missing(const archive *a, block *b, size_t run)
{
    double *v = b->values + run * a->layout.total;
    for (size_t k = 0; k < a->layout.total; k++) v[k] = NAN;
    b->status[run] = TS_MISSING;
    b->wall[run] = NAN;
    b->rank[run] = -1;
}

static int read_run(const archive *a, ts_parts_index *idx, block *b, size_t run, uint64_t item,
                    ts_error *err)
{
    const ts_parts_entry *e = ts_parts_find(idx, item);
    if (!e) {
        mark_missing(a, b, run);
        return TS_OK;
    }
    ts_run_record rec;
    int rc = ts_parts_read(idx, e, &rec, b->values + run * a->layout.total, a->layout.total, err);
    if (rc) return rc;
    if (rec.item != item)
        return ts_error_set(err, TS_ERUNTIME, "shard record for run %llu holds run %llu",
                            (unsigned long long)item, (unsigned long long)rec.item);
    b->status[run] = (int8_t)rec.status;
    b->wall[run] = rec.wall_seconds;
    b->rank[run] = rec.rank;
    memcpy(b->host + run * TS_HOST_MAX, rec.host, strnlen(rec.host, TS_HOST_MAX - 1));
    memcpy(b->error + run * a->error_width, rec.message,
           strnlen(rec.message, a->error_width - 1));
    return TS_OK;
}

static int read_block(const archive *a, ts_parts_index *idx, block *b, uint64_t p0, uint64_t p1,
                      ts_error *err)
{
    size_t runs = (size_t)(p1 - p0) * a->g->repeats;
    memset(b->host, 0, runs * TS_HOST_MAX);
    memset(b->error, 0, runs * a->error_width);
    for (uint64_t p = p0; p < p1; p++) {
        for (uint32_t r = 0; r < a->g->repeats; r++) {
            size_t run = (size_t)(p - p0) * a->g->repeats + r;
            int rc = read_run(a, idx, b, run, p * a->g->repeats + r, err);
            if (rc) return rc;
        }
        if (!a->times_vary) continue;
        ts_point pt;
        ts_grid_point(a->g, p, 0, b->params, &pt);
        int rc = ts_record_times(b->params[a->record_param].rec, b->params[a->steps_param].i,
                                 b->iteration + (size_t)(p - p0) * a->nrecords, err);
        if (rc) return rc;
    }
    return TS_OK;
}

/* Points [p0, p1) of the sub-grid of axes level.., whose earlier coordinates are in start[]:
 * the head of a partial row, whole rows, the tail of a partial row, recursively; at most
 * 2 * naxes - 1 boxes, so the selection stays small whatever the block size. */
static int select_range(hid_t space, const hsize_t *dims, int naxes, int level, hsize_t *start,
                        hsize_t *count, hsize_t p0, hsize_t p1)
{
    if (p0 >= p1) return 0;
    if (level == naxes) /* no axes at all: the one point */
        return H5Sselect_hyperslab(space, H5S_SELECT_OR, start, NULL, count, NULL) < 0;
    hsize_t stride = 1;
    for (int i = level + 1; i < naxes; i++) stride *= dims[i];
    hsize_t c0 = p0 / stride, c1 = p1 / stride;
    if (level == naxes - 1) {
        start[level] = p0;
        count[level] = p1 - p0;
        return H5Sselect_hyperslab(space, H5S_SELECT_OR, start, NULL, count, NULL) < 0;
    }
    if (c0 == c1) {
        start[level] = c0;
        count[level] = 1;
        return select_range(space, dims, naxes, level + 1, start, count, p0 - c0 * stride,
                            p1 - c0 * stride);
    }
    if (p0 % stride) {
        start[level] = c0;
        count[level] = 1;
        if (select_range(space, dims, naxes, level + 1, start, count, p0 % stride, stride))
            return 1;
        c0++;
    }
    if (c1 > c0) {
        start[level] = c0;
        count[level] = c1 - c0;
        for (int i = level + 1; i < naxes; i++) {
            start[i] = 0;
            count[i] = dims[i];
        }
        if (H5Sselect_hyperslab(space, H5S_SELECT_OR, start, NULL, count, NULL) < 0) return 1;
    }
    if (p1 % stride) {
        start[level] = c1;
        count[level] = 1;
        return select_range(space, dims, naxes, level + 1, start, count, 0, p1 % stride);
    }
    return 0;
}

/* Select points [p0, p1) (all their trailing elements) of a dataset whose leading dimensions
 * are the axes. */
static int select_points(hid_t space, int naxes, uint64_t p0, uint64_t p1)
{
    hsize_t dims[MAX_DIMS], start[MAX_DIMS], count[MAX_DIMS];
    int ndims = H5Sget_simple_extent_dims(space, dims, NULL);
    if (ndims < 0 || H5Sselect_none(space) < 0) return 1;
    for (int i = naxes; i < ndims; i++) {
        start[i] = 0;
        count[i] = dims[i];
    }
    return select_range(space, dims, naxes, 0, start, count, p0, p1);
}

/* Memory holding `rows` rows of `row_len` elements, of which columns [col0, col0 + ncols) are
 * written: how one metric is picked out of the runs' values without a copy. */
static hid_t memory_space(size_t rows, size_t row_len, size_t col0, size_t ncols)
{
    hsize_t dims[2] = {rows ? rows : 1, row_len}, start[2] = {0, col0}, count[2] = {rows, ncols};
    hid_t space = H5Screate_simple(2, dims, NULL);
    if (space < 0) return space;
    herr_t s = rows ? H5Sselect_hyperslab(space, H5S_SELECT_SET, start, NULL, count, NULL)
                    : H5Sselect_none(space);
    if (s < 0) {
        H5Sclose(space);
        return H5I_INVALID_HID;
    }
    return space;
}

/* One collective write of points [p0, p1) (none when p0 == p1) from buf. */
static int write_points(const archive *a, hid_t ds, hid_t mem_type, uint64_t p0, uint64_t p1,
                        size_t rows, size_t row_len, size_t col0, size_t ncols, const void *buf,
                        const char *name, ts_error *err)
{
    hid_t file_space = H5Dget_space(ds);
    hid_t mem_space = memory_space(rows, row_len, col0, ncols);
    int rc = TS_OK;
    if (file_space < 0 || mem_space < 0 || select_points(file_space, (int)a->naxes, p0, p1) ||
        H5Dwrite(ds, mem_type, mem_space, file_space, a->dxpl, buf) < 0)
        rc = h5_fail(err, "writing %s", name);
    if (mem_space >= 0) H5Sclose(mem_space);
    if (file_space >= 0) H5Sclose(file_space);
    return rc;
}

static int write_block(const archive *a, const block *b, uint64_t p0, uint64_t p1,
                       ts_error *err)
{
    size_t runs = (size_t)(p1 - p0) * a->g->repeats, total = a->layout.total;
    for (size_t m = 0; m < a->nmetrics; m++) {
        size_t width = a->layout.extent[m] *
                       (a->x->metrics[m].kind == TS_SERIES ? a->nrecords : 1);
        if (write_points(a, a->metric_ds[m], H5T_NATIVE_DOUBLE, p0, p1, runs, total,
                         a->layout.offset[m], width, b->values, a->x->metrics[m].name, err))
            return TS_ERUNTIME;
    }
    if (a->times_vary &&
        write_points(a, a->iteration_ds, H5T_NATIVE_INT64, p0, p1, (size_t)(p1 - p0),
                     a->nrecords, 0, a->nrecords, b->iteration, "iteration", err))
        return TS_ERUNTIME;
    if (write_points(a, a->status_ds, H5T_NATIVE_INT8, p0, p1, runs, 1, 0, 1, b->status,
                     "status", err) ||
        write_points(a, a->wall_ds, H5T_NATIVE_DOUBLE, p0, p1, runs, 1, 0, 1, b->wall,
                     "provenance/wall_seconds", err) ||
        write_points(a, a->rank_ds, H5T_NATIVE_INT32, p0, p1, runs, 1, 0, 1, b->rank,
                     "provenance/rank", err) ||
        write_points(a, a->host_ds, a->host_type, p0, p1, runs, 1, 0, 1, b->host,
                     "provenance/host", err) ||
        write_points(a, a->error_ds, a->error_type, p0, p1, runs, 1, 0, 1, b->error,
                     "provenance/error", err))
        return TS_ERUNTIME;
    return TS_OK;
}

/* Rounds of blocks: in round r rank k takes points [(r * nranks + k) * B, + B). Every rank runs
 * every round, with an empty block once the points run out, because each write is collective. */
static int write_data(archive *a, ts_parts_index *idx, ts_error *err)
{
    uint64_t npoints = a->g->npoints, share = (npoints + (uint64_t)a->nranks - 1) / a->nranks;
    uint64_t cap = BLOCK_BYTES / bytes_per_point(a);
    if (cap < 1) cap = 1;
    if (cap > share) cap = share;
    /* A smaller block only costs speed, never changes the file: the unit test uses it to force
     * many rounds. Rank 0's value counts, since every rank must run the same rounds. */
    const char *limit = getenv("TAILSWEEP_ARCHIVE_BLOCK_POINTS");
    unsigned long long points = limit ? strtoull(limit, NULL, 10) : 0;
    MPI_Bcast(&points, 1, MPI_UNSIGNED_LONG_LONG, 0, a->comm);
    if (points >= 1 && points < cap) cap = points;
    block b;
    int mine = block_alloc(&b, a, (size_t)cap, err), rc = agree(a, mine, err);
    if (rc) {
        if (!mine) block_free(&b);
        return rc;
    }
    uint64_t per_round = cap * (uint64_t)a->nranks;
    uint64_t rounds = (npoints + per_round - 1) / per_round;
    for (uint64_t r = 0; r < rounds && !rc; r++) {
        uint64_t p0 = r * per_round + (uint64_t)a->rank * cap;
        if (p0 > npoints) p0 = npoints;
        uint64_t p1 = p0 + cap < npoints ? p0 + cap : npoints;
        rc = agree(a, read_block(a, idx, &b, p0, p1, err), err);
        if (!rc) rc = agree(a, write_block(a, &b, p0, p1, err), err);
    }
    block_free(&b);
    return rc;
}

/* ------------------------------------------------------------------ files */

static int open_file(archive *a, const char *tmp, ts_error *err)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS), fcpl = H5Pcreate(H5P_FILE_CREATE);
    /* Creation order lets h5netcdf list variables as created (coordinates first). */
    int ok = fapl >= 0 && fcpl >= 0 && H5Pset_fapl_mpio(fapl, a->comm, MPI_INFO_NULL) >= 0 &&
             H5Pset_obj_track_times(fcpl, 0) >= 0 &&
             H5Pset_link_creation_order(fcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED) >= 0;
    if (ok) a->file = H5Fcreate(tmp, H5F_ACC_TRUNC, fcpl, fapl);
    int rc = a->file < 0 ? h5_fail(err, "creating %s", tmp) : TS_OK;
    if (fapl >= 0) H5Pclose(fapl);
    if (fcpl >= 0) H5Pclose(fcpl);
    if (rc) return rc;
    a->dxpl = H5Pcreate(H5P_DATASET_XFER);
    if (a->dxpl < 0 || H5Pset_dxpl_mpio(a->dxpl, H5FD_MPIO_COLLECTIVE) < 0)
        return h5_fail(err, "collective transfer property list");
    return TS_OK;
}

static void close_id(hid_t *id, herr_t (*close_fn)(hid_t))
{
    if (*id >= 0) close_fn(*id);
    *id = H5I_INVALID_HID;
}

/* Collective: every rank holds the same objects open. */
static int close_file(archive *a, ts_error *err)
{
    for (size_t m = 0; m < a->nmetrics; m++) close_id(&a->metric_ds[m], H5Dclose);
    for (size_t i = 0; i < a->naxes; i++) close_id(&a->axis_scale[i], H5Dclose);
    for (size_t e = 0; e < a->nextra; e++) close_id(&a->extra[e].scale, H5Dclose);
    close_id(&a->repeat_scale, H5Dclose);
    close_id(&a->record_scale, H5Dclose);
    close_id(&a->iteration_ds, H5Dclose);
    close_id(&a->status_ds, H5Dclose);
    close_id(&a->wall_ds, H5Dclose);
    close_id(&a->rank_ds, H5Dclose);
    close_id(&a->host_ds, H5Dclose);
    close_id(&a->error_ds, H5Dclose);
    close_id(&a->provenance, H5Gclose);
    close_id(&a->host_type, H5Tclose);
    close_id(&a->error_type, H5Tclose);
    close_id(&a->dxpl, H5Pclose);
    if (a->file < 0) return TS_OK;
    /* Each rank's raw data must reach storage, not only rank 0's, before rank 0 renames the
     * file into place: a flush syncs the MPI-IO file on every rank (closing alone does not). */
    if (H5Fflush(a->file, H5F_SCOPE_GLOBAL) < 0) {
        int rc = h5_fail(err, "flushing the archive");
        H5Fclose(a->file);
        a->file = H5I_INVALID_HID;
        return rc;
    }
    herr_t s = H5Fclose(a->file);
    a->file = H5I_INVALID_HID;
    return s < 0 ? h5_fail(err, "closing the archive") : TS_OK;
}

static int write_string_values(hid_t file, const ts_grid *g, const ts_axis *ax, size_t j,
                               ts_error *err)
{
    const ts_param_def *def = &g->experiment->params[ax->param[j]];
    char *text = alloc_array(ax->size, 256);
    const char **ptr = alloc_array(ax->size, sizeof *ptr);
    hid_t type = utf8_string_type(H5T_VARIABLE);
    hid_t ds = H5Dopen2(file, def->name, H5P_DEFAULT);
    int rc = !text || !ptr ? ts_error_set(err, TS_ERUNTIME, "out of memory") : TS_OK;
    for (size_t k = 0; !rc && k < ax->size; k++) {
        ptr[k] = text + k * 256;
        if (def->type == TS_ENUM) ts_param_choice_name(def, ax->values[j * ax->size + k].e,
                                                       text + k * 256);
        else ts_value_format(def, &ax->values[j * ax->size + k], text + k * 256, 256);
    }
    if (!rc && (type < 0 || ds < 0 || H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, ptr) < 0))
        rc = h5_fail(err, "writing coordinate %s", def->name);
    if (ds >= 0) H5Dclose(ds);
    if (type >= 0) H5Tclose(type);
    free(ptr);
    free(text);
    return rc;
}

/* String coordinates (enum axes) are variable-length, which parallel HDF5 1.10 refuses to write
 * ("Parallel IO does not support writing VL datatypes"): rank 0 writes them through the default
 * (serial) driver once the parallel file is closed. Coordinates only: a few short strings. */
static int write_string_coordinates(const archive *a, const char *tmp, ts_error *err)
{
    int any = 0;
    for (size_t i = 0; i < a->naxes; i++)
        for (size_t j = 0; j < a->g->axes[i].nparams; j++)
            any |= param_is_string(a->x, a->g->axes[i].param[j]);
    if (!any) return TS_OK;
    hid_t file = H5Fopen(tmp, H5F_ACC_RDWR, H5P_DEFAULT);
    if (file < 0) return h5_fail(err, "reopening %s", tmp);
    int rc = TS_OK;
    for (size_t i = 0; i < a->naxes && !rc; i++) {
        const ts_axis *ax = &a->g->axes[i];
        for (size_t j = 0; j < ax->nparams && !rc; j++) {
            if (param_is_string(a->x, ax->param[j]))
                rc = write_string_values(file, a->g, ax, j, err);
        }
    }
    if (H5Fclose(file) < 0 && !rc) rc = h5_fail(err, "closing %s", tmp);
    return rc;
}

static int fsync_path(const char *path, int flags, ts_error *err)
{
    int fd = open(path, flags);
    if (fd < 0) return ts_error_set(err, TS_ERUNTIME, "opening %s: %s", path, strerror(errno));
    int rc = fsync(fd) != 0 ? ts_error_set(err, TS_ERUNTIME, "fsync %s: %s", path,
                                           strerror(errno))
                            : TS_OK;
    close(fd);
    return rc;
}

/* The archive either does not exist or is complete: data on disk before the rename, the rename
 * on disk before we report success. */
static int publish(const char *tmp, const char *path, ts_error *err)
{
    int rc = fsync_path(tmp, O_RDONLY, err);
    if (rc) return rc;
    if (rename(tmp, path) != 0)
        return ts_error_set(err, TS_ERUNTIME, "renaming %s to %s: %s", tmp, path,
                            strerror(errno));
    char *dir = strdup(path);
    if (!dir) return ts_error_set(err, TS_ERUNTIME, "out of memory");
    char *slash = strrchr(dir, '/');
    if (!slash) strcpy(dir, ".");
    else if (slash == dir) slash[1] = '\0';
    else *slash = '\0';
    rc = fsync_path(dir, O_RDONLY | O_DIRECTORY, err);
    free(dir);
    return rc;
}

/* ------------------------------------------------------------------ entry point */

static void archive_free(archive *a)
{
    ts_layout_free(&a->layout);
    free(a->times);
    free(a->axis_size);
    free(a->axis_scale);
    free(a->extra);
    free(a->metric_extra);
    free(a->metric_nextra);
    free(a->metric_ds);
    free(a->coords_plain);
    free(a->coords_series);
}

static char *temp_name(const archive *a, const char *path)
{
    long pid = a->rank == 0 ? (long)getpid() : 0;
    MPI_Bcast(&pid, 1, MPI_LONG, 0, a->comm);
    size_t n = strlen(path) + 32;
    char *tmp = malloc(n);
    if (tmp) snprintf(tmp, n, "%s.tmp.%ld", path, pid);
    return tmp;
}

/* Everything from the file's creation to its close; the file is closed on every path. */
static int build(archive *a, const ts_spec *spec, ts_parts_index *idx, const char *tmp,
                 const ts_archive_meta *meta, ts_error *err)
{
    int rc = agree(a, measure_errors(a, idx, err), err);
    if (rc) return rc;
    rc = agree(a, open_file(a, tmp, err), err);
    if (!rc) rc = agree(a, create_skeleton(a, spec, meta, err), err);
    if (!rc) rc = write_data(a, idx, err);
    ts_error close_err = {0};
    int closed = agree(a, close_file(a, &close_err), &close_err);
    if (!rc && closed) {
        *err = close_err;
        rc = closed;
    }
    return rc;
}

int ts_archive_write(MPI_Comm comm, const ts_spec *spec, ts_parts_index *idx, const char *path,
                     const ts_archive_meta *meta, ts_error *err)
{
    ts_error local = {0};
    archive a = {.comm = comm,
                 .g = spec->grid,
                 .x = spec->grid->experiment,
                 .repeat_scale = H5I_INVALID_HID,
                 .record_scale = H5I_INVALID_HID,
                 .file = H5I_INVALID_HID,
                 .provenance = H5I_INVALID_HID,
                 .dxpl = H5I_INVALID_HID,
                 .iteration_ds = H5I_INVALID_HID,
                 .status_ds = H5I_INVALID_HID,
                 .wall_ds = H5I_INVALID_HID,
                 .rank_ds = H5I_INVALID_HID,
                 .host_ds = H5I_INVALID_HID,
                 .error_ds = H5I_INVALID_HID,
                 .host_type = H5I_INVALID_HID,
                 .error_type = H5I_INVALID_HID};
    MPI_Comm_rank(comm, &a.rank);
    MPI_Comm_size(comm, &a.nranks);
    /* HDF5's own printing would bypass the CLI; failures come back through ts_error. */
    H5E_auto2_t old_func;
    void *old_data;
    H5Eget_auto2(H5E_DEFAULT, &old_func, &old_data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);

    char *tmp = temp_name(&a, path);
    int rc = agree(&a, tmp ? plan(&a, &local) : ts_error_set(&local, TS_ERUNTIME, "out of memory"),
                   &local);
    if (!rc) rc = build(&a, spec, idx, tmp, meta, &local);
    if (a.rank == 0 && !rc) rc = write_string_coordinates(&a, tmp, &local);
    if (a.rank == 0 && !rc) rc = publish(tmp, path, &local);
    if (a.rank == 0 && rc && tmp) unlink(tmp);
    rc = agree(&a, rc, &local);

    free(tmp);
    archive_free(&a);
    H5Eset_auto2(H5E_DEFAULT, old_func, old_data);
    if (rc && err) *err = local;
    return rc;
}
