/* The archive: one netCDF4-compatible HDF5 file per sweep, written collectively from the shards.
 * docs/architecture.md section 6.
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
 * a block is one contiguous range of the flattened leading dimensions.
 *
 * This file plans the archive, opens, closes and publishes it; archive_layout.c creates the
 * skeleton, archive_data.c writes the runs, archive_util.c turns HDF5 failures into messages
 * and agrees on a status across ranks. */
#include "tailsweep/archive.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hdf5.h>

#include "archive_internal.h"
#include "fsutil.h"

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

/* The metrics' extra dimensions, each once (by name), in order of first use, with the sizes of
 * the journal's layout. */
static int plan_extra_dims(archive *a, ts_error *err)
{
    a->extra = alloc_array(a->nmetrics * TS_MAX_EXTRA_DIMS, sizeof *a->extra);
    a->metric_extra = alloc_array(a->nmetrics, sizeof *a->metric_extra);
    a->metric_nextra = alloc_array(a->nmetrics, sizeof *a->metric_nextra);
    if (!a->extra || !a->metric_extra || !a->metric_nextra)
        return ts_error_set(err, TS_ERUNTIME, "out of memory");
    for (size_t m = 0; m < a->nmetrics; m++) {
        const ts_metric_def *md = &a->x->metrics[m];
        for (int d = 0; d < TS_MAX_EXTRA_DIMS && md->dims[d]; d++) {
            char name[TS_NAME_MAX];
            snprintf(name, sizeof name, "%.*s", (int)ts_dim_name_len(md->dims[d]), md->dims[d]);
            hsize_t size = a->layout.shape[m][d];
            int e = find_extra(a, name);
            if (e >= 0 && a->extra[e].size != size)
                return ts_error_set(err, TS_ERUNTIME, "metric %s: dimension %s has size %llu "
                                    "here and %llu in an earlier metric", md->name, name,
                                    (unsigned long long)size,
                                    (unsigned long long)a->extra[e].size);
            if (e < 0) {
                int p = ts_param_index(a->x->params, ts_dim_param(md->dims[d]));
                if (p < 0 || (a->x->params[p].type != TS_INT &&
                              a->x->params[p].type != TS_REAL_LIST))
                    return ts_error_set(err, TS_EUSAGE,
                                        "metric %s: extra dimension %s is not sized by a list or "
                                        "integer parameter",
                                        md->name, md->dims[d]);
                if (size == 0)
                    return ts_error_set(err, TS_EUSAGE, "metric %s: dimension %s is empty",
                                        md->name, name);
                e = (int)a->nextra++;
                a->extra[e] = (extra_dim){.param = p, .size = size, .scale = H5I_INVALID_HID};
                snprintf(a->extra[e].name, sizeof a->extra[e].name, "%s", name);
            }
            a->metric_extra[m][a->metric_nextra[m]++] = (size_t)e;
        }
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
    /* Every run's values in the journal's layout: an extra dimension sized by a swept
     * parameter has its largest size, and the record count is the same at every point
     * (plan_times). */
    int rc = ts_grid_layout(a->g, &a->layout, err);
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

/* ------------------------------------------------------------------ files */

static int open_file(archive *a, const char *tmp, ts_error *err)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS), fcpl = H5Pcreate(H5P_FILE_CREATE);
    /* Creation order lets h5netcdf list variables as created (coordinates first). */
    int ok = fapl >= 0 && fcpl >= 0 && H5Pset_fapl_mpio(fapl, a->comm, MPI_INFO_NULL) >= 0 &&
             H5Pset_obj_track_times(fcpl, 0) >= 0 &&
             H5Pset_link_creation_order(fcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED) >= 0;
    if (ok) a->file = H5Fcreate(tmp, H5F_ACC_TRUNC, fcpl, fapl);
    int rc = a->file < 0 ? ts_arch_h5_fail(err, "creating %s", tmp) : TS_OK;
    if (fapl >= 0) H5Pclose(fapl);
    if (fcpl >= 0) H5Pclose(fcpl);
    if (rc) return rc;
    a->dxpl = H5Pcreate(H5P_DATASET_XFER);
    if (a->dxpl < 0 || H5Pset_dxpl_mpio(a->dxpl, H5FD_MPIO_COLLECTIVE) < 0)
        return ts_arch_h5_fail(err, "collective transfer property list");
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
        int rc = ts_arch_h5_fail(err, "flushing the archive");
        H5Fclose(a->file);
        a->file = H5I_INVALID_HID;
        return rc;
    }
    herr_t s = H5Fclose(a->file);
    a->file = H5I_INVALID_HID;
    return s < 0 ? ts_arch_h5_fail(err, "closing the archive") : TS_OK;
}


/* Enum (and any other non-numeric) axis values become string coordinates. */
static int param_is_string(const ts_experiment *x, int param)
{
    return x->params[param].type != TS_INT && x->params[param].type != TS_REAL;
}


static int write_string_values(hid_t file, const ts_grid *g, const ts_axis *ax, size_t j,
                               ts_error *err)
{
    const ts_param_def *def = &g->experiment->params[ax->param[j]];
    char *text = alloc_array(ax->size, 256);
    const char **ptr = alloc_array(ax->size, sizeof *ptr);
    hid_t type = ts_arch_utf8_string_type(H5T_VARIABLE);
    hid_t ds = H5Dopen2(file, def->name, H5P_DEFAULT);
    int rc = !text || !ptr ? ts_error_set(err, TS_ERUNTIME, "out of memory") : TS_OK;
    for (size_t k = 0; !rc && k < ax->size; k++) {
        ptr[k] = text + k * 256;
        if (def->type == TS_ENUM) ts_param_choice_name(def, ax->values[j * ax->size + k].e,
                                                       text + k * 256);
        else ts_value_format(def, &ax->values[j * ax->size + k], text + k * 256, 256);
    }
    if (!rc && (type < 0 || ds < 0 || H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, ptr) < 0))
        rc = ts_arch_h5_fail(err, "writing coordinate %s", def->name);
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
    if (file < 0) return ts_arch_h5_fail(err, "reopening %s", tmp);
    int rc = TS_OK;
    for (size_t i = 0; i < a->naxes && !rc; i++) {
        const ts_axis *ax = &a->g->axes[i];
        for (size_t j = 0; j < ax->nparams && !rc; j++) {
            if (param_is_string(a->x, ax->param[j]))
                rc = write_string_values(file, a->g, ax, j, err);
        }
    }
    if (H5Fclose(file) < 0 && !rc) rc = ts_arch_h5_fail(err, "closing %s", tmp);
    return rc;
}

/* The archive either does not exist or is complete: data on disk before the rename, the rename
 * on disk before we report success. */
static int publish(const char *tmp, const char *path, ts_error *err)
{
    int rc = ts_fs_fsync_file(tmp, err);
    if (rc) return rc;
    if (rename(tmp, path) != 0)
        return ts_error_set(err, TS_ERUNTIME, "renaming %s to %s: %s", tmp, path,
                            strerror(errno));
    return ts_fs_fsync_parent(path, err);
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
    int rc = ts_arch_agree(a, measure_errors(a, idx, err), err);
    if (rc) return rc;
    rc = ts_arch_agree(a, open_file(a, tmp, err), err);
    if (!rc) rc = ts_arch_agree(a, ts_arch_create_skeleton(a, spec, meta, err), err);
    if (!rc) rc = ts_arch_write_data(a, idx, err);
    ts_error close_err = {0};
    int closed = ts_arch_agree(a, close_file(a, &close_err), &close_err);
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
                 .deflate_level = spec->deflate_level == 0 ? TS_SPEC_DEFLATE_DEFAULT
                                  : spec->deflate_level < 0 ? 0 : spec->deflate_level,
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
    int rc = ts_arch_agree(
        &a, tmp ? plan(&a, &local) : ts_error_set(&local, TS_ERUNTIME, "out of memory"), &local);
    if (!rc) rc = build(&a, spec, idx, tmp, meta, &local);
    if (a.rank == 0 && !rc) rc = write_string_coordinates(&a, tmp, &local);
    if (a.rank == 0 && !rc) rc = publish(tmp, path, &local);
    if (a.rank == 0 && rc && tmp) unlink(tmp);
    rc = ts_arch_agree(&a, rc, &local);

    free(tmp);
    archive_free(&a);
    H5Eset_auto2(H5E_DEFAULT, old_func, old_data);
    if (rc && err) *err = local;
    return rc;
}
