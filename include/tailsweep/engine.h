/* The engine: runs a sweep's unfinished runs over the ranks of a communicator, largest estimated
 * cost first, dynamically (rank 0 hands out work from a helper thread and computes too), journals
 * every finished run, and writes the archive when every run is finished. docs/architecture.md
 * section 5.
 *
 * A program that drives the engine (or calls experiments) should call gsl_set_error_handler_off()
 * first, as the tailsweep binary does: the library reports GSL's errors through its own return
 * values and ts_error, and GSL's default handler would abort the whole process (every rank's
 * work) on a numerical error in one run. */
#ifndef TAILSWEEP_ENGINE_H
#define TAILSWEEP_ENGINE_H

#include <mpi.h>
#include <signal.h>
#include <stdint.h>
#include "tailsweep/error.h"
#include "tailsweep/spec.h"

typedef struct ts_progress {
    uint64_t total;     /* runs in the sweep (or the slice) */
    uint64_t resumed;   /* finished before this invocation */
    uint64_t done;      /* finished in this invocation, whatever their status */
    uint64_t diverged, failed; /* of all finished */
    double elapsed;     /* seconds since this invocation started computing */
    double rate;        /* runs per second in this invocation */
    double eta;         /* seconds, < 0 when unknown */
    int final;
} ts_progress;

typedef struct ts_run_options {
    const char *output;              /* archive path */
    int fresh;                       /* discard finished runs of an earlier, different spec */
    volatile sig_atomic_t *stop;     /* set (by signal handlers) to stop taking new runs */
    /* Called on rank 0 every progress_interval seconds, and once at the end with final = 1. */
    void (*progress)(const ts_progress *, void *ctx);
    void *progress_ctx;
    double progress_interval;
    double sync_seconds;             /* fsync interval of the shards (see checkpoint.h) */
    uint32_t slice_index, slice_count; /* run only slice i of N (SLURM arrays); 0/0: everything */
} ts_run_options;

typedef struct ts_run_summary {
    uint64_t total, resumed, done, diverged, failed, missing;
    int stopped;          /* a stop was requested; unfinished runs remain */
    int archive_written;
    double wall_seconds;    /* the whole call, archive included */
    double compute_seconds; /* the work phase alone */
    double journal_seconds; /* of which appending to and syncing journals (the slowest rank) */
    double archive_seconds; /* writing the archive (0 when it was not written) */
} ts_run_summary;

/* Collective over comm. Returns TS_OK (see summary for stopped/failed), or an error code. */
int ts_engine_run(MPI_Comm comm, const ts_spec *spec, const ts_run_options *opt,
                  ts_run_summary *summary, ts_error *err);

/* Write the archive (collective over comm) from whatever the shards hold now; unfinished runs
 * are marked missing. For `collect` and for the end of `run`. */
int ts_engine_collect(MPI_Comm comm, const ts_spec *spec, const char *output, int mpi_ranks,
                      ts_error *err);

/* The engine's own memory per rank for a sweep, beside the experiment's (ts_grid_peak_memory):
 * the work list and finished flags while computing, the collect index and the archive block
 * while writing the archive; the larger of the two phases. */
size_t ts_engine_memory(const ts_grid *g);

/* Count of finished runs by status for a sweep's shards (for `status`): counts[TS_MISSING..
 * TS_FAILED]. Local, not collective. */
int ts_engine_tally(const ts_spec *spec, const char *output, uint64_t counts[4], ts_error *err);

#endif
