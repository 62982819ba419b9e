#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dispatch.h"

enum { TAG_TO_ROOT = 7301, TAG_REPLY = 7302 };
enum { MSG_REQUEST = 1, MSG_FINISHED = 2, MSG_LEAVE = 3 };

/* Between polls the server thread sleeps this long: short enough that a request waits a small
 * fraction of a 10 ms run (and clients ask ahead anyway), long enough not to steal a core. */
#define POLL_NS 100000L

struct ts_dispatch {
    ts_dispatch_config cfg;
    int rank, size;
    /* rank 0 */
    atomic_uint_fast64_t next;
    atomic_uint_fast64_t done, diverged, failed;
    atomic_int main_left;
    int left; /* other ranks that have left */
    pthread_t server;
    int server_running;
    double started, last_report;
    /* other ranks: the request sent ahead */
    int64_t prefetched;
    MPI_Request reply_req;
    int reply_pending;
    int64_t reply_buf;
    int64_t send_buf[2];
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void nap(void)
{
    struct timespec ts = {0, POLL_NS};
    nanosleep(&ts, NULL);
}

static int64_t take_next(ts_dispatch *d)
{
    if (*d->cfg.stop) return -1;
    uint64_t k = atomic_fetch_add(&d->next, 1);
    return k < d->cfg.nwork ? (int64_t)k : -1;
}

static void count_status(ts_dispatch *d, int64_t status)
{
    atomic_fetch_add(&d->done, 1);
    if (status == TS_DIVERGED) atomic_fetch_add(&d->diverged, 1);
    if (status == TS_FAILED) atomic_fetch_add(&d->failed, 1);
}

static ts_progress snapshot(ts_dispatch *d, int final)
{
    ts_progress p = d->cfg.base;
    p.done = atomic_load(&d->done);
    p.diverged += atomic_load(&d->diverged);
    p.failed += atomic_load(&d->failed);
    p.elapsed = now() - d->started;
    p.rate = p.elapsed > 0 ? (double)p.done / p.elapsed : 0;
    uint64_t left = p.total - p.resumed > p.done ? p.total - p.resumed - p.done : 0;
    p.eta = p.rate > 0 ? (double)left / p.rate : -1;
    p.final = final;
    return p;
}

static void maybe_report(ts_dispatch *d)
{
    if (!d->cfg.progress) return;
    double t = now();
    if (t - d->last_report < d->cfg.progress_interval) return;
    d->last_report = t;
    ts_progress p = snapshot(d, 0);
    d->cfg.progress(&p, d->cfg.progress_ctx);
}

/* Serves one message from another rank; returns 1 when that rank has left. */
static int serve(ts_dispatch *d, const int64_t msg[2], int source)
{
    switch (msg[0]) {
    case MSG_REQUEST: {
        int64_t k = take_next(d);
        MPI_Send(&k, 1, MPI_INT64_T, source, TAG_REPLY, d->cfg.comm);
        return 0;
    }
    case MSG_FINISHED: count_status(d, msg[1]); return 0;
    default: return 1;
    }
}

/* Rank 0's server: answers requests until every other rank has left (and, threaded, until rank
 * 0's own main thread has left too), reporting progress on the way. */
static void serve_all(ts_dispatch *d)
{
    while (d->left < d->size - 1 || (d->server_running && !atomic_load(&d->main_left))) {
        int flag = 0;
        MPI_Status st;
        if (d->left < d->size - 1) MPI_Iprobe(MPI_ANY_SOURCE, TAG_TO_ROOT, d->cfg.comm, &flag, &st);
        if (flag) {
            int64_t msg[2];
            MPI_Recv(msg, 2, MPI_INT64_T, st.MPI_SOURCE, TAG_TO_ROOT, d->cfg.comm,
                     MPI_STATUS_IGNORE);
            d->left += serve(d, msg, st.MPI_SOURCE);
        } else {
            nap();
        }
        maybe_report(d);
    }
}

static void *server_main(void *arg)
{
    serve_all(arg);
    return NULL;
}

static void send_to_root(ts_dispatch *d, int64_t type, int64_t value)
{
    d->send_buf[0] = type;
    d->send_buf[1] = value;
    MPI_Send(d->send_buf, 2, MPI_INT64_T, 0, TAG_TO_ROOT, d->cfg.comm);
}

static void ask_ahead(ts_dispatch *d)
{
    send_to_root(d, MSG_REQUEST, 0);
    MPI_Irecv(&d->reply_buf, 1, MPI_INT64_T, 0, TAG_REPLY, d->cfg.comm, &d->reply_req);
    d->reply_pending = 1;
}

static int64_t await_reply(ts_dispatch *d)
{
    MPI_Wait(&d->reply_req, MPI_STATUS_IGNORE);
    d->reply_pending = 0;
    return d->reply_buf;
}

ts_dispatch *ts_dispatch_start(const ts_dispatch_config *cfg)
{
    ts_dispatch *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    d->cfg = *cfg;
    MPI_Comm_rank(cfg->comm, &d->rank);
    MPI_Comm_size(cfg->comm, &d->size);
    atomic_init(&d->next, 0);
    atomic_init(&d->done, 0);
    atomic_init(&d->diverged, 0);
    atomic_init(&d->failed, 0);
    atomic_init(&d->main_left, 0);
    d->started = d->last_report = now();
    d->prefetched = -2;
    if (d->rank == 0 && cfg->threaded) {
        /* Also with one rank: the thread reports progress while a long run computes. */
        d->server_running = 1; /* before the thread starts: it reads the flag */
        if (pthread_create(&d->server, NULL, server_main, d) != 0) d->server_running = 0;
    }
    return d;
}

int64_t ts_dispatch_next(ts_dispatch *d)
{
    if (d->rank == 0) {
        if (d->server_running || d->size == 1) {
            if (!d->server_running) maybe_report(d);
            return take_next(d);
        }
        serve_all(d); /* no threads: rank 0 only coordinates */
        return -1;
    }
    if (d->prefetched == -2) ask_ahead(d); /* first call */
    int64_t k = await_reply(d);
    if (k >= 0 && !*d->cfg.stop) ask_ahead(d);
    return *d->cfg.stop ? -1 : k;
}

void ts_dispatch_finished(ts_dispatch *d, ts_status status)
{
    d->prefetched = -1;
    if (d->rank == 0) count_status(d, status);
    else send_to_root(d, MSG_FINISHED, status);
}

void ts_dispatch_end(ts_dispatch *d, ts_progress *final)
{
    if (d->rank == 0) {
        atomic_store(&d->main_left, 1);
        if (d->server_running) pthread_join(d->server, NULL);
        else serve_all(d); /* returns at once when every rank has already left */
        if (final) *final = snapshot(d, 1);
    } else {
        /* A position handed out ahead but never started is simply not done: a resume runs it. */
        if (d->reply_pending) await_reply(d);
        send_to_root(d, MSG_LEAVE, 0);
    }
    free(d);
}
