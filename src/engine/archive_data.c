/* The archive's data: the runs read from the shards in blocks of consecutive points and written
 * with one collective H5Dwrite per dataset and round (see the top of archive.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <hdf5.h>

#include "archive_internal.h"

/* A block's buffers stay under this per rank, whatever the sweep's size. HDF5's collective
 * write holds about as much again while it writes a block, so this is about half the archive
 * phase's memory: measured at 10^6 tiny runs, 64 MiB gave 236 MB of peak RSS and 16 MiB 110 MB,
 * for a 10% slower archive. */
#define BLOCK_BYTES TS_ARCHIVE_BLOCK_BYTES

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
        rc = ts_arch_h5_fail(err, "writing %s", name);
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
int ts_arch_write_data(archive *a, ts_parts_index *idx, ts_error *err)
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
    int mine = block_alloc(&b, a, (size_t)cap, err), rc = ts_arch_agree(a, mine, err);
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
        rc = ts_arch_agree(a, read_block(a, idx, &b, p0, p1, err), err);
        if (!rc) rc = ts_arch_agree(a, write_block(a, &b, p0, p1, err), err);
    }
    block_free(&b);
    return rc;
}
