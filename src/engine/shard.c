/* The journal's writer: one shard per invocation of a rank, records appended whole (the format is
 * in shard_format.h). */
#include "tailsweep/checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fsutil.h"
#include "shard_format.h"

/* ------------------------------------------------------------------ the writer */

static int now_seconds(double *t)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return -1;
    *t = (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
    return 0;
}

struct ts_shard_writer {
    int fd;
    char *path;
    double sync_seconds;
    double last_sync; /* monotonic seconds */
    int unsynced;     /* records written since the last fsync */
    int broken;       /* a failed write or fsync: the file's state is unknown */
    uint64_t size;    /* bytes of whole records (and the header) */
    unsigned char *buf;
    size_t cap;
};

static int open_new_shard(const char *dir, int rank, char **path, int *fd, ts_error *err)
{
    time_t now = time(NULL);
    if (now == (time_t)-1)
        return ts_error_set(err, TS_ERUNTIME, "cannot read the clock: %s", strerror(errno));
    char name[128];
    for (int attempt = 0; attempt < 1000; attempt++) {
        if (attempt == 0)
            snprintf(name, sizeof name, SHARD_PREFIX "r%d-%lld-%ld" SHARD_SUFFIX, rank,
                     (long long)now, (long)getpid());
        else
            snprintf(name, sizeof name, SHARD_PREFIX "r%d-%lld-%ld-%d" SHARD_SUFFIX, rank,
                     (long long)now, (long)getpid(), attempt);
        if (!(*path = ts_fs_path_join(dir, name)))
            return ts_error_set(err, TS_ERUNTIME, "out of memory");
        *fd = open(*path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (*fd >= 0)
            return TS_OK;
        if (errno != EEXIST) {
            int rc = ts_fs_sys_error(err, "cannot create", *path);
            free(*path);
            *path = NULL;
            return rc;
        }
        free(*path);
        *path = NULL;
    }
    return ts_error_set(err, TS_ERUNTIME, "cannot find a free shard name in %s", dir);
}

ts_shard_writer *ts_shard_create(const char *dir, int rank, const char *spec_sha256,
                                 double sync_seconds, ts_error *err)
{
    if (!spec_sha256 || strlen(spec_sha256) != SHA_HEX_LEN) {
        ts_error_set(err, TS_ERUNTIME, "a spec hash must be %d hex digits", SHA_HEX_LEN);
        return NULL;
    }
    ts_shard_writer *w = calloc(1, sizeof *w);
    if (!w) {
        ts_error_set(err, TS_ERUNTIME, "out of memory");
        return NULL;
    }
    w->sync_seconds = sync_seconds;
    if (open_new_shard(dir, rank, &w->path, &w->fd, err) != TS_OK) {
        free(w);
        return NULL;
    }
    unsigned char header[FILE_HEADER_LEN];
    memcpy(header, SHARD_MAGIC, SHARD_MAGIC_LEN);
    put_u32(header + SHARD_MAGIC_LEN, SHARD_VERSION);
    memcpy(header + SHARD_MAGIC_LEN + 4, spec_sha256, SHA_HEX_LEN);
    int rc = TS_OK;
    if (ts_fs_pwrite_all(w->fd, header, sizeof header, 0) != 0)
        rc = ts_fs_sys_error(err, "cannot write", w->path);
    else if (fsync(w->fd) != 0)
        rc = ts_fs_sys_error(err, "cannot fsync", w->path);
    else if (now_seconds(&w->last_sync) != 0)
        rc = ts_error_set(err, TS_ERUNTIME, "cannot read the clock: %s", strerror(errno));
    /* Records fsync'd into a file whose directory entry was lost in a crash would be lost too. */
    if (rc == TS_OK)
        rc = ts_fs_fsync_dir(dir, err);
    if (rc != TS_OK) {
        close(w->fd);      /* best effort: the error being reported is the one above */
        unlink(w->path);
        free(w->path);
        free(w);
        return NULL;
    }
    w->size = FILE_HEADER_LEN;
    return w;
}

/* Lays out the record in w->buf; *total is its size. */
static int encode_record(ts_shard_writer *w, const ts_run_record *rec, size_t *total,
                         ts_error *err)
{
    if (!valid_status(rec->status))
        return ts_error_set(err, TS_ERUNTIME, "a journalled run needs status done, diverged "
                                              "or failed, not %d", (int)rec->status);
    if (rec->nvalues > 0 && !rec->values)
        return ts_error_set(err, TS_ERUNTIME, "a record of %zu values without values",
                            rec->nvalues);
    size_t msglen = strnlen(rec->message, MESSAGE_LEN_MAX);
    size_t hostlen = strnlen(rec->host, TS_HOST_MAX - 1);
    size_t room = UINT32_MAX - RECORD_FRAME - RECORD_TRAILER - BODY_FIXED - msglen;
    if (rec->nvalues > room / 8)
        return ts_error_set(err, TS_ERUNTIME, "a record of %zu values is too large for a shard",
                            rec->nvalues);
    size_t len = BODY_FIXED + msglen + 8 * rec->nvalues;
    *total = RECORD_FRAME + len + RECORD_TRAILER;
    if (*total > w->cap) {
        unsigned char *bigger = realloc(w->buf, *total);
        if (!bigger)
            return ts_error_set(err, TS_ERUNTIME, "out of memory for a record of %zu bytes",
                                *total);
        w->buf = bigger;
        w->cap = *total;
    }
    unsigned char *p = w->buf, *body = p + RECORD_FRAME;
    put_u32(p, RECORD_MAGIC);
    put_u32(p + 4, (uint32_t)len);
    put_u64(body + BODY_ITEM, rec->item);
    put_i32(body + BODY_STATUS, (int32_t)rec->status);
    put_i32(body + BODY_RANK, rec->rank);
    put_f64(body + BODY_WALL, rec->wall_seconds);
    memset(body + BODY_HOST, 0, TS_HOST_MAX);
    memcpy(body + BODY_HOST, rec->host, hostlen);
    put_u32(body + BODY_MSGLEN, (uint32_t)msglen);
    memcpy(body + BODY_MSG, rec->message, msglen);
    put_u64(body + BODY_MSG + msglen, rec->nvalues);
    unsigned char *v = body + BODY_MSG + msglen + 8;
    for (size_t i = 0; i < rec->nvalues; i++)
        put_f64(v + 8 * i, rec->values[i]);
    put_u32(body + len, crc_of((uint32_t)crc32(0L, Z_NULL, 0), body, len));
    return TS_OK;
}

static int shard_fsync(ts_shard_writer *w, ts_error *err)
{
    if (fsync(w->fd) != 0) {
        /* After a failed fsync Linux may mark the lost pages clean, so a later fsync would
         * succeed without the data: the shard cannot be trusted any more. */
        w->broken = 1;
        return ts_fs_sys_error(err, "cannot fsync", w->path);
    }
    w->unsynced = 0;
    if (now_seconds(&w->last_sync) != 0)
        return ts_error_set(err, TS_ERUNTIME, "cannot read the clock: %s", strerror(errno));
    return TS_OK;
}

int ts_shard_append(ts_shard_writer *w, const ts_run_record *rec, ts_error *err)
{
    if (w->broken)
        return ts_error_set(err, TS_ERUNTIME, "shard %s is unusable after an earlier error",
                            w->path);
    size_t total = 0;
    int rc = encode_record(w, rec, &total, err);
    if (rc != TS_OK)
        return rc;
    /* One write of the whole record, at the end of the whole records: a kill between appends
     * never splits a record. */
    if (ts_fs_pwrite_all(w->fd, w->buf, total, (off_t)w->size) != 0) {
        rc = ts_fs_sys_error(err, "cannot write", w->path);
        /* Cut off a partly written record so later appends are not stranded behind it. */
        if (ftruncate(w->fd, (off_t)w->size) != 0)
            w->broken = 1;
        return rc;
    }
    w->size += total;
    w->unsynced = 1;
    double now;
    if (now_seconds(&now) != 0)
        return ts_error_set(err, TS_ERUNTIME, "cannot read the clock: %s", strerror(errno));
    if (w->sync_seconds <= 0 || now - w->last_sync >= w->sync_seconds)
        return shard_fsync(w, err);
    return TS_OK;
}

/* The sync_seconds bound holds while appends or syncs keep coming: a caller that may sit idle
 * longer calls this on its own clock. */
int ts_shard_sync(ts_shard_writer *w, ts_error *err)
{
    if (w->broken)
        return ts_error_set(err, TS_ERUNTIME, "shard %s is unusable after an earlier error",
                            w->path);
    return w->unsynced ? shard_fsync(w, err) : TS_OK;
}

int ts_shard_close(ts_shard_writer *w, ts_error *err)
{
    if (!w)
        return TS_OK;
    int rc = ts_shard_sync(w, err);
    int rc2 = ts_fs_close_checked(w->fd, w->path, rc == TS_OK ? err : NULL);
    free(w->path);
    free(w->buf);
    free(w);
    return rc ? rc : rc2;
}
