/* Dynamic work distribution (private to the engine). The work list is the same on every rank;
 * positions in it are handed out one at a time, so a grid whose runs differ 1000x in cost keeps
 * every rank busy. Rank 0 serves requests from a helper thread and computes too; other ranks ask
 * for their next position while still computing the current one, which hides the round trip. */
#ifndef TAILSWEEP_DISPATCH_H
#define TAILSWEEP_DISPATCH_H

#include <mpi.h>
#include <signal.h>
#include <stdint.h>

#include "tailsweep/engine.h"
#include "tailsweep/experiment.h"

typedef struct ts_dispatch ts_dispatch;

typedef struct ts_dispatch_config {
    MPI_Comm comm;
    uint64_t nwork;                /* positions 0 .. nwork-1 */
    volatile sig_atomic_t *stop;   /* this rank's stop request */
    int threaded;                  /* MPI_THREAD_MULTIPLE available: rank 0 computes too */
    ts_progress base;              /* totals known before the work starts (rank 0) */
    void (*progress)(const ts_progress *, void *);
    void *progress_ctx;
    double progress_interval;
} ts_dispatch_config;

ts_dispatch *ts_dispatch_start(const ts_dispatch_config *cfg);
/* Next position for this rank, or -1 when there is none (or a stop was requested). On rank 0
 * without threads this serves the other ranks until they are all done and returns -1. */
int64_t ts_dispatch_next(ts_dispatch *d);
/* Report a finished run (for progress). */
void ts_dispatch_finished(ts_dispatch *d, ts_status status);
/* Leave the work phase; on rank 0 waits until every rank has left. Frees d. Fills *final with
 * the last progress figures (rank 0). */
void ts_dispatch_end(ts_dispatch *d, ts_progress *final);

#endif
