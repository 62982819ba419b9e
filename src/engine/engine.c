#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dispatch.h"
#include "tailsweep/archive.h"
#include "tailsweep/checkpoint.h"
#include "tailsweep/cpu.h"
#include "tailsweep/engine.h"
#include "tailsweep/linalg.h"
#include "tailsweep/rng.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Rank 0 decides some things alone (the parts dir, the scan); every rank must then return the
 * same status with the same message. */
static int share_status(MPI_Comm comm, int rc, ts_error *err)
{
    MPI_Bcast(&rc, 1, MPI_INT, 0, comm);
    if (rc != TS_OK) MPI_Bcast(err, (int)sizeof *err, MPI_BYTE, 0, comm);
    return rc;
}

/* Any rank's failure fails all: the one with the lowest rank that failed speaks. */
static int agree_status(MPI_Comm comm, int rc, ts_error *err)
{
    int rank, first;
    MPI_Comm_rank(comm, &rank);
    int mine = rc != TS_OK ? rank : 1 << 30;
    MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, comm);
    if (first == 1 << 30) return TS_OK;
    MPI_Bcast(err, (int)sizeof *err, MPI_BYTE, first, comm);
    return err->code ? err->code : TS_ERUNTIME;
}

static size_t values_per_run(const ts_grid *g, ts_error *err)
{
    ts_layout l;
    if (ts_grid_layout(g, &l, err) != TS_OK) return 0;
    size_t total = l.total;
    ts_layout_free(&l);
    return total;
}

/* ---- the work list: unfinished runs of this slice, largest estimated cost first. */

typedef struct work_item {
    uint64_t item;
    double cost;
} work_item;

static int by_cost_desc(const void *a, const void *b)
{
    const work_item *x = a, *y = b;
    if (x->cost != y->cost) return x->cost < y->cost ? 1 : -1;
    return x->item < y->item ? -1 : x->item > y->item;
}

static double *point_costs(const ts_grid *g)
{
    double *cost = malloc(g->npoints * sizeof *cost + 1);
    ts_value *values = malloc(g->nparams * sizeof *values + 1);
    if (!cost || !values) {
        free(cost);
        free(values);
        return NULL;
    }
    ts_point p;
    for (uint64_t k = 0; k < g->npoints; k++) {
        ts_grid_point(g, k, 0, values, &p);
        cost[k] = g->experiment->cost(&p);
    }
    free(values);
    return cost;
}

/* A slice of a SLURM array is every slice_count-th run of the cost-ordered list of ALL runs, so
 * slices are balanced and do not depend on what is finished already. */
static int in_slice(const ts_run_options *opt, size_t position)
{
    return opt->slice_count == 0 || position % opt->slice_count == opt->slice_index;
}

static work_item *build_work(const ts_grid *g, const ts_run_options *opt, const uint8_t *finished,
                             uint64_t *nwork, uint64_t *nslice)
{
    uint64_t nitems = ts_grid_items(g);
    double *cost = point_costs(g);
    work_item *all = malloc(nitems * sizeof *all + 1);
    if (!cost || !all) {
        free(cost);
        free(all);
        return NULL;
    }
    for (uint64_t k = 0; k < nitems; k++) all[k] = (work_item){k, cost[k / g->repeats]};
    free(cost);
    qsort(all, nitems, sizeof *all, by_cost_desc);
    uint64_t n = 0, slice = 0;
    for (uint64_t k = 0; k < nitems; k++) {
        if (!in_slice(opt, k)) continue;
        slice++;
        if (!finished[all[k].item]) all[n++] = all[k];
    }
    *nwork = n;
    *nslice = slice;
    return all;
}

/* ---- one run */

typedef struct runner {
    const ts_grid *grid;
    gsl_rng *rng;
    ts_value *values;
    ts_shard_writer *shard;
    const char *parts, *sha;
    double sync_seconds;
    int rank;
    char host[TS_HOST_MAX];
    ts_layout layout; /* every run's values in the journal (ts_grid_layout) */
    double *padded;   /* [layout.total]: a run of a smaller shape, padded with NaN */
    double journal_seconds; /* spent appending to and syncing the journal */
} runner;

static int journal_now(runner *r, ts_run_record *rec, ts_error *err)
{
    if (!r->shard) {
        r->shard = ts_shard_create(r->parts, r->rank, r->sha, r->sync_seconds, err);
        if (!r->shard) return err->code ? err->code : TS_ERUNTIME;
    }
    int rc = ts_shard_append(r->shard, rec, err);
    /* The writer fsyncs when an append finds the last sync too old; after a long run the next
     * append may be far off, so sync now: cheap next to the run, and it bounds what a node
     * crash can lose to the sync interval. */
    if (rc == TS_OK && rec->wall_seconds >= r->sync_seconds) rc = ts_shard_sync(r->shard, err);
    return rc;
}

static int journal(runner *r, ts_run_record *rec, ts_error *err)
{
    double start = now();
    int rc = journal_now(r, rec, err);
    r->journal_seconds += now() - start;
    return rc;
}

static ts_status run_one(runner *r, uint64_t item, ts_error *err)
{
    const ts_grid *g = r->grid;
    ts_point p;
    ts_grid_point(g, item / g->repeats, (uint32_t)(item % g->repeats), r->values, &p);
    ts_rng_key_for(r->rng, &p, 0);
    ts_run_record rec = {.item = item, .rank = r->rank};
    memcpy(rec.host, r->host, sizeof rec.host);
    ts_recorder recorder;
    ts_error run_err;
    ts_error_clear(&run_err);
    double start = now();
    if (ts_recorder_init(&recorder, &p, &run_err) != TS_OK) {
        rec.status = TS_FAILED;
    } else {
        rec.status = g->experiment->run(&p, r->rng, &recorder, &run_err);
        if (rec.status != TS_DONE && rec.status != TS_DIVERGED) rec.status = TS_FAILED;
    }
    rec.wall_seconds = now() - start;
    if (rec.status == TS_FAILED)
        snprintf(rec.message, sizeof rec.message, "%.*s", (int)sizeof rec.message - 1,
                 run_err.msg[0] ? run_err.msg : "failed");
    rec.values = recorder.values;
    rec.nvalues = recorder.layout.total;
    if (!ts_layout_same(&recorder.layout, &r->layout)) { /* also a recorder that failed */
        ts_layout_pad(&recorder.layout, &r->layout, recorder.values, r->padded);
        rec.values = r->padded;
        rec.nvalues = r->layout.total;
    }
    int rc = journal(r, &rec, err);
    ts_recorder_free(&recorder);
    return rc == TS_OK ? rec.status : (ts_status)-1;
}

/* ---- the phases of ts_engine_run */

static int check_memory(MPI_Comm comm, const ts_grid *g, ts_error *err)
{
    MPI_Comm node;
    int local = 1, rc = TS_OK;
    MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
    MPI_Comm_size(node, &local);
    MPI_Comm_free(&node);
    double need = (double)ts_grid_peak_memory(g) * local;
    double have = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
    if (have > 0 && need > 0.9 * have)
        rc = ts_error_set(err, TS_EUSAGE,
                          "the largest run needs %.3g GiB per rank; %d ranks on this node need "
                          "%.3g GiB of its %.3g GiB: use fewer ranks per node or smaller points",
                          need / local / 1073741824.0, local, need / 1073741824.0,
                          have / 1073741824.0);
    return agree_status(comm, rc, err);
}

/* Rank 0 prepares the parts dir and reads what is finished; all ranks get the bitmap. */
static int load_finished(MPI_Comm comm, const ts_spec *spec, const ts_run_options *opt,
                         const char *parts, const char *sha, size_t nvalues, uint8_t *finished,
                         ts_progress *base, ts_error *err)
{
    int rank, rc = TS_OK;
    MPI_Comm_rank(comm, &rank);
    uint64_t nitems = ts_grid_items(spec->grid);
    if (rank == 0) {
        char *canonical = ts_grid_canonical(spec->grid);
        int resumed = 0;
        rc = canonical ? ts_parts_prepare(parts, canonical, opt->fresh, &resumed, err)
                       : ts_error_set(err, TS_ERUNTIME, "out of memory");
        free(canonical);
        ts_parts_index idx;
        if (rc == TS_OK) rc = ts_parts_scan(parts, sha, nitems, nvalues, &idx, err);
        if (rc == TS_OK) {
            for (size_t k = 0; k < idx.nentries; k++) {
                finished[idx.entries[k].item] = 1;
                base->diverged += idx.entries[k].status == TS_DIVERGED;
                base->failed += idx.entries[k].status == TS_FAILED;
            }
            ts_parts_index_free(&idx);
        }
    }
    if (share_status(comm, rc, err) != TS_OK) return rc ? rc : err->code;
    /* MPI counts are ints: send big bitmaps in pieces. */
    for (uint64_t off = 0; off < nitems; off += 1u << 30) {
        uint64_t n = nitems - off < (1u << 30) ? nitems - off : (1u << 30);
        MPI_Bcast(finished + off, (int)n, MPI_BYTE, 0, comm);
    }
    return TS_OK;
}

static void iso_time(char *buf, size_t cap, time_t t)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int compute(MPI_Comm comm, const ts_spec *spec, const ts_run_options *opt, runner *r,
                   const work_item *work, uint64_t nwork, int threaded, ts_progress *progress,
                   ts_error *err)
{
    ts_dispatch_config cfg = {
        .comm = comm, .nwork = nwork, .stop = opt->stop, .threaded = threaded,
        .base = *progress, .progress = opt->progress, .progress_ctx = opt->progress_ctx,
        .progress_interval = opt->progress_interval > 0 ? opt->progress_interval : 5.0,
    };
    ts_dispatch *d = ts_dispatch_start(&cfg);
    if (!d) return ts_error_set(err, TS_ERUNTIME, "out of memory");
    int rc = TS_OK;
    (void)spec;
    for (int64_t k; rc == TS_OK && !*opt->stop && (k = ts_dispatch_next(d)) >= 0;) {
        ts_status s = run_one(r, work[k].item, err);
        if ((int)s < 0) rc = err->code ? err->code : TS_ERUNTIME;
        else ts_dispatch_finished(d, s);
    }
    ts_dispatch_end(d, progress);
    return rc;
}

/* "host (vector path, BLAS)": the vectorised loops (cpu.h) and an optimised BLAS (linalg.h) pick
 * their code by CPU type and two choices may differ in the last bits, so each run's provenance
 * names both. The host name is shortened, never the part in parentheses. */
static void host_and_vector_math(char host[TS_HOST_MAX])
{
    char name[TS_HOST_MAX] = "", paths[2 * TS_HOST_MAX];
    gethostname(name, sizeof name - 1);
    snprintf(paths, sizeof paths, " (%s, %s)", ts_cpu_vector_path(), ts_linalg_blas_name());
    size_t tail = strnlen(paths, TS_HOST_MAX - 1), head = strnlen(name, TS_HOST_MAX - 1 - tail);
    memcpy(host, name, head);
    memcpy(host + head, paths, tail);
    host[head + tail] = '\0';
}

int ts_engine_run(MPI_Comm comm, const ts_spec *spec, const ts_run_options *opt,
                  ts_run_summary *summary, ts_error *err)
{
    const ts_grid *g = spec->grid;
    int rank, size, thread_level;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    MPI_Query_thread(&thread_level);
    memset(summary, 0, sizeof *summary);
    ts_error_clear(err);
    double start = now();
    uint64_t nitems = ts_grid_items(g);
    size_t nvalues = values_per_run(g, err);
    int rc = check_memory(comm, g, err);
    if (rc) return rc;

    char sha[65];
    ts_grid_sha256(g, sha);
    char *parts = ts_parts_dir(opt->output);
    uint8_t *finished = calloc(nitems + 1, 1);
    runner r = {.grid = g, .rng = ts_rng_alloc(g->seed, 0, 0),
                .values = malloc(g->nparams * sizeof(ts_value) + 1), .parts = parts,
                .sha = sha, .sync_seconds = opt->sync_seconds, .rank = rank};
    host_and_vector_math(r.host);
    if (!parts || !finished || !r.rng || !r.values)
        rc = ts_error_set(err, TS_ERUNTIME, "out of memory");
    if (rc == TS_OK) rc = ts_grid_layout(g, &r.layout, err);
    if (rc == TS_OK && !(r.padded = malloc((r.layout.total + 1) * sizeof *r.padded)))
        rc = ts_error_set(err, TS_ERUNTIME, "out of memory");
    rc = agree_status(comm, rc, err);

    ts_progress progress = {.total = nitems};
    if (rc == TS_OK)
        rc = load_finished(comm, spec, opt, parts, sha, nvalues, finished, &progress, err);
    uint64_t nwork = 0, nslice = nitems;
    work_item *work = NULL;
    if (rc == TS_OK) {
        work = build_work(g, opt, finished, &nwork, &nslice);
        if (!work) rc = ts_error_set(err, TS_ERUNTIME, "out of memory for the work list");
        rc = agree_status(comm, rc, err);
    }
    if (rc == TS_OK) {
        progress.total = nslice;
        progress.resumed = nslice - nwork;
        summary->resumed = progress.resumed;
        rc = compute(comm, spec, opt, &r, work, nwork, thread_level >= MPI_THREAD_MULTIPLE,
                     &progress, err);
        /* Not needed by the archive phase: its memory goes back before the collect index. */
        free(work);
        work = NULL;
        free(finished);
        finished = NULL;
        ts_error close_err;
        if (r.shard && ts_shard_close(r.shard, &close_err) != TS_OK && rc == TS_OK) {
            *err = close_err;
            rc = close_err.code;
        }
        r.shard = NULL;
        rc = agree_status(comm, rc, err);
    }
    if (rc == TS_OK) {
        int stopped = *opt->stop ? 1 : 0, any_stopped = 0;
        MPI_Allreduce(&stopped, &any_stopped, 1, MPI_INT, MPI_MAX, comm);
        summary->total = nslice;
        summary->done = progress.done;
        summary->compute_seconds = progress.elapsed;
        MPI_Allreduce(&r.journal_seconds, &summary->journal_seconds, 1, MPI_DOUBLE, MPI_MAX,
                      comm);
        uint64_t counts[4] = {0};
        if (rank == 0) rc = ts_engine_tally(spec, opt->output, counts, err);
        rc = share_status(comm, rc, err);
        MPI_Bcast(counts, 4, MPI_UINT64_T, 0, comm);
        summary->diverged = counts[TS_DIVERGED];
        summary->failed = counts[TS_FAILED];
        summary->missing = counts[TS_MISSING];
        summary->stopped = any_stopped && summary->missing > 0;
        if (rc == TS_OK && summary->missing == 0 && opt->slice_count == 0) {
            double archive_start = now();
            rc = ts_engine_collect(comm, spec, opt->output, size, err);
            summary->archive_seconds = now() - archive_start;
            summary->archive_written = rc == TS_OK;
        }
    }
    summary->wall_seconds = now() - start;
    if (rank == 0 && opt->progress && rc == TS_OK) {
        progress.final = 1;
        opt->progress(&progress, opt->progress_ctx);
    }
    free(work);
    free(finished);
    free(parts);
    free(r.values);
    free(r.padded);
    ts_layout_free(&r.layout);
    if (r.rng) gsl_rng_free(r.rng);
    return rc;
}

int ts_engine_tally(const ts_spec *spec, const char *output, uint64_t counts[4], ts_error *err)
{
    const ts_grid *g = spec->grid;
    char sha[65];
    ts_grid_sha256(g, sha);
    char *parts = ts_parts_dir(output);
    char *canonical = ts_grid_canonical(g);
    size_t nvalues = values_per_run(g, err);
    int rc = parts && canonical ? ts_parts_check(parts, canonical, err)
                                : ts_error_set(err, TS_ERUNTIME, "out of memory");
    ts_parts_index idx;
    if (rc == TS_OK) rc = ts_parts_scan(parts, sha, ts_grid_items(g), nvalues, &idx, err);
    if (rc == TS_OK) {
        counts[0] = counts[1] = counts[2] = counts[3] = 0;
        for (size_t k = 0; k < idx.nentries; k++) counts[idx.entries[k].status]++;
        counts[TS_MISSING] = ts_grid_items(g) - idx.nentries;
        ts_parts_index_free(&idx);
    }
    free(parts);
    free(canonical);
    return rc;
}

/* When the sweep began: the parts dir's spec.canonical is written once, at the first run. */
static void created_time(const char *parts, char *buf, size_t cap)
{
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s/spec.canonical", parts);
    iso_time(buf, cap, stat(path, &st) == 0 ? st.st_mtime : time(NULL));
}

size_t ts_engine_memory(const ts_grid *g)
{
    ts_error err;
    double runs = (double)ts_grid_items(g);
    double computing = runs * (double)(sizeof(work_item) + 1); /* + a finished flag */
    /* A block holds the runs' values and provenance (about 200 bytes a run), up to the block
     * size; the index's array grows by doubling, so it may briefly hold twice its entries. */
    double block = runs * (8.0 * (double)values_per_run(g, &err) + 200);
    if (block > TS_ARCHIVE_BLOCK_BYTES) block = TS_ARCHIVE_BLOCK_BYTES;
    double archive = runs * 2 * (double)sizeof(ts_parts_entry) + 2 * block;
    return (size_t)(computing > archive ? computing : archive);
}

int ts_engine_collect(MPI_Comm comm, const ts_spec *spec, const char *output, int mpi_ranks,
                      ts_error *err)
{
    const ts_grid *g = spec->grid;
    int rank;
    MPI_Comm_rank(comm, &rank);
    char sha[65], created[32] = "", finished[32] = "";
    ts_grid_sha256(g, sha);
    char *parts = ts_parts_dir(output);
    size_t nvalues = values_per_run(g, err);
    int rc = parts ? TS_OK : ts_error_set(err, TS_ERUNTIME, "out of memory");
    if (rank == 0 && rc == TS_OK) {
        char *canonical = ts_grid_canonical(g);
        rc = canonical ? ts_parts_check(parts, canonical, err)
                       : ts_error_set(err, TS_ERUNTIME, "out of memory");
        free(canonical);
        created_time(parts, created, sizeof created);
        iso_time(finished, sizeof finished, time(NULL));
    }
    rc = share_status(comm, rc, err);
    MPI_Bcast(created, sizeof created, MPI_CHAR, 0, comm);
    MPI_Bcast(finished, sizeof finished, MPI_CHAR, 0, comm);
    ts_parts_index idx;
    int scanned = rc == TS_OK &&
                  ts_parts_scan(parts, sha, ts_grid_items(g), nvalues, &idx, err) == TS_OK;
    rc = agree_status(comm, rc == TS_OK && !scanned ? err->code : rc, err);
    if (rc == TS_OK) {
        ts_archive_meta meta = {.created = created, .finished = finished, .mpi_ranks = mpi_ranks};
        rc = ts_archive_write(comm, spec, &idx, output, &meta, err);
    }
    if (scanned) ts_parts_index_free(&idx);
    free(parts);
    return rc;
}
