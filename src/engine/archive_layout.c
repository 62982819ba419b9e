/* The archive's skeleton: every dimension scale, coordinate and variable with its attributes,
 * created with the same calls in the same order on every rank (parallel HDF5 metadata is
 * collective). The layout is described at the top of archive.c. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hdf5.h>
#include <hdf5_hl.h>

#include "archive_internal.h"
#include "tailsweep/rng.h"

/* Chunk sizes: large enough for deflate to work and for few chunk lookups, small enough that a
 * partial read (one curve) does not inflate megabytes. */
#define CHUNK_MIN_BYTES (256.0 * 1024)
#define CHUNK_MAX_BYTES (1024.0 * 1024)

/* ------------------------------------------------------------------ attributes */

hid_t ts_arch_utf8_string_type(size_t size)
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
        rc = ts_arch_h5_fail(err, "writing attribute %s", name);
    if (attr >= 0) H5Aclose(attr);
    if (space >= 0) H5Sclose(space);
    return rc;
}

/* Variable-length UTF-8: what netCDF4 calls a string attribute and h5netcdf returns as str. */
static int attr_string(hid_t obj, const char *name, const char *value, ts_error *err)
{
    hid_t t = ts_arch_utf8_string_type(H5T_VARIABLE);
    if (t < 0) return ts_arch_h5_fail(err, "string type for attribute %s", name);
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

static hid_t create_var(const archive *a, hid_t loc, const var_spec *v, ts_error *err)
{
    hid_t space = H5Screate_simple(v->ndims, v->dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t ds = H5I_INVALID_HID;
    int ok = space >= 0 && dcpl >= 0 && H5Pset_obj_track_times(dcpl, 0) >= 0;
    if (ok && v->fill) ok = H5Pset_fill_value(dcpl, v->fill_type, v->fill) >= 0;
    if (ok && v->nlead >= 0) {
        hsize_t chunk[MAX_DIMS];
        choose_chunk(v->ndims, v->dims, v->nlead, H5Tget_size(v->type), chunk);
        ok = H5Pset_chunk(dcpl, v->ndims, chunk) >= 0;
        if (ok && a->deflate_level > 0) /* the spec's `archive:` (spec.h) */
            ok = H5Pset_shuffle(dcpl) >= 0 &&
                 H5Pset_deflate(dcpl, (unsigned)a->deflate_level) >= 0;
    }
    if (ok) ds = H5Dcreate2(loc, v->name, v->type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (ds < 0) ts_arch_h5_fail(err, "creating dataset %s", v->name);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (space >= 0) H5Sclose(space);
    return ds;
}

static int attach_scales(hid_t ds, const char *name, const hid_t *scales, int n, ts_error *err)
{
    for (int i = 0; i < n; i++)
        if (H5DSattach_scale(ds, scales[i], (unsigned)i) < 0)
            return ts_arch_h5_fail(err, "attaching dimension %d of %s", i, name);
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
        rc = ts_arch_h5_fail(err, "writing %s", name);
    if (space >= 0) H5Sclose(space);
    return rc;
}

/* A 1-D coordinate that is also its own dimension. */
static hid_t create_scale(const archive *a, const char *name, hid_t type, hsize_t size,
                          hid_t mem_type, const void *values, const char *units,
                          const char *long_name, ts_error *err)
{
    var_spec v = {name, type, 1, &size, -1, -1, NULL};
    hid_t ds = create_var(a, a->file, &v, err);
    if (ds < 0) return ds;
    int rc = H5DSset_scale(ds, name) < 0
                 ? ts_arch_h5_fail(err, "making %s a dimension scale", name)
                 : 0;
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

/* Values of parameter j of an axis in the coordinate's memory type; NULL for strings, which
 * are written later (see write_string_coordinates in archive.c). */
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
        str_type = ts_arch_utf8_string_type(H5T_VARIABLE);
        if (str_type < 0) {
            ts_arch_h5_fail(err, "string type for %s", def->name);
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
        ds = create_var(a, a->file, &v, err);
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
        attr_i64(f, "numbers", TS_NUMBERS_VERSION, err) ||
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
    hid_t ds = a->metric_ds[m] = create_var(a, a->file, &v, err);
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
    a->iteration_ds = create_var(a, a->file, &v, err);
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
    hid_t ds = a->status_ds = create_var(a, a->file, &v, err);
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
    hid_t ds = create_var(a, a->provenance, &v, err);
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
    int rc = a->provenance < 0 ? ts_arch_h5_fail(err, "creating group /provenance") : TS_OK;
    if (gcpl >= 0) H5Pclose(gcpl);
    if (rc) return rc;
    a->host_type = ts_arch_utf8_string_type(TS_HOST_MAX);
    a->error_type = ts_arch_utf8_string_type(a->error_width);
    if (a->host_type < 0 || a->error_type < 0) return ts_arch_h5_fail(err, "string types");
    const double nan = NAN;
    const int32_t no_rank = -1;
    a->wall_ds = create_provenance_var(a, "wall_seconds", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &nan,
                                       "s", "wall-clock time of the run", err);
    if (a->wall_ds < 0) return TS_ERUNTIME;
    a->rank_ds = create_provenance_var(a, "rank", H5T_STD_I32LE, H5T_NATIVE_INT32, &no_rank, "",
                                       "MPI rank that ran it (-1: not run)", err);
    if (a->rank_ds < 0) return TS_ERUNTIME;
    a->host_ds = create_provenance_var(a, "host", a->host_type, -1, NULL, "",
                                       "host that ran it and, in parentheses, its vector path "
                                       "and BLAS (cpu.h, linalg.h)",
                                       err);
    if (a->host_ds < 0) return TS_ERUNTIME;
    a->error_ds = create_provenance_var(a, "error", a->error_type, -1, NULL, "",
                                        "error message of a failed run", err);
    return a->error_ds < 0 ? TS_ERUNTIME : TS_OK;
}

int ts_arch_create_skeleton(archive *a, const ts_spec *spec, const ts_archive_meta *meta,
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
