/* The archive: one netCDF4-compatible HDF5 file per sweep, written collectively with parallel
 * HDF5 from the shards, in canonical order, to a temporary name then renamed into place.
 * docs/architecture.md section 6. */
#ifndef TAILSWEEP_ARCHIVE_H
#define TAILSWEEP_ARCHIVE_H

#include <mpi.h>
#include "tailsweep/checkpoint.h"
#include "tailsweep/error.h"
#include "tailsweep/spec.h"

typedef struct ts_archive_meta {
    const char *created;  /* ISO 8601, UTC; identical on every rank (broadcast by the caller) */
    const char *finished;
    int mpi_ranks;        /* ranks of the run that computed the sweep */
} ts_archive_meta;

/* The buffers of one block of runs per rank; HDF5's collective write holds about as much again
 * while it writes the block. */
#define TS_ARCHIVE_BLOCK_BYTES ((size_t)16 << 20)

/* Collective over comm: every rank passes the same spec and an index of the same shards.
 * Runs without an entry are written as TS_MISSING with NaN values. Memory per rank is bounded by
 * a block of runs, whatever the sweep's size (beside the index, which the caller holds). */
int ts_archive_write(MPI_Comm comm, const ts_spec *spec, ts_parts_index *idx, const char *path,
                     const ts_archive_meta *meta, ts_error *err);

#endif
