/* What archive.c (the plan, the file, publishing), archive_layout.c (the skeleton of dimensions,
 * variables and attributes) and archive_data.c (the runs, written in collective rounds) share.
 * Private to the engine. */
#ifndef TAILSWEEP_ARCHIVE_INTERNAL_H
#define TAILSWEEP_ARCHIVE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <hdf5.h>
#include <mpi.h>

#include "tailsweep/archive.h"
#include "tailsweep/grid.h"
#include "tailsweep/record.h"

#define MAX_DIMS 64

typedef struct extra_dim {
    char name[TS_NAME_MAX]; /* the dimension's name (the sizing parameter's, or its own) */
    int param;              /* the parameter that sizes it */
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
    int deflate_level; /* 0: chunks stored as they are; else shuffle + deflate (spec.h) */
} archive;

/* calloc that never returns NULL for a size of zero, so a NULL result always means no memory. */
static inline void *alloc_array(size_t n, size_t size)
{
    return calloc(n ? n : 1, size);
}

/* An HDF5 failure as "what: HDF5: outermost: innermost (minor)"; call it right after the failing
 * call (archive_util.c). */
int ts_arch_h5_fail(ts_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Collective: every rank returns the lowest failing rank's status and message
 * (archive_util.c). */
int ts_arch_agree(const archive *a, int rc, ts_error *err);

/* A fixed-size (or H5T_VARIABLE) UTF-8 string type (archive_layout.c). */
hid_t ts_arch_utf8_string_type(size_t size);
/* Collective: root attributes, coordinates, metrics, iteration, status, provenance
 * (archive_layout.c). */
int ts_arch_create_skeleton(archive *a, const ts_spec *spec, const ts_archive_meta *meta,
                            ts_error *err);
/* Collective: every run of idx into the skeleton, in rounds of blocks (archive_data.c). */
int ts_arch_write_data(archive *a, ts_parts_index *idx, ts_error *err);

#endif
