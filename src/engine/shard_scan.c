/* The journal's reader: indexing the shards of a parts directory and reading records back (the
 * format is in shard_format.h). */
#include "tailsweep/checkpoint.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsutil.h"
#include "shard_format.h"

#define SCAN_BUFFER (1u << 20)

/* ------------------------------------------------------------------ shard names */

static int is_shard_name(const char *name)
{
    size_t n = strlen(name), p = strlen(SHARD_PREFIX), s = strlen(SHARD_SUFFIX);
    return n > p + s && strncmp(name, SHARD_PREFIX, p) == 0 &&
           strcmp(name + n - s, SHARD_SUFFIX) == 0;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Paths of every shard in dir, sorted by file name so that scans are deterministic. */
int ts_ckpt_list_shards(const char *dir, char ***paths, size_t *count, ts_error *err)
{
    *paths = NULL;
    *count = 0;
    DIR *d = opendir(dir);
    if (!d)
        return ts_fs_sys_error(err, "cannot open directory", dir);
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = TS_OK;
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (!de) {
            if (errno != 0)
                rc = ts_fs_sys_error(err, "cannot read directory", dir);
            break;
        }
        if (!is_shard_name(de->d_name))
            continue;
        if (n == cap) {
            size_t ncap = cap ? 2 * cap : 16;
            char **bigger = realloc(names, ncap * sizeof *names);
            if (!bigger) {
                rc = ts_error_set(err, TS_ERUNTIME, "out of memory");
                break;
            }
            names = bigger;
            cap = ncap;
        }
        if (!(names[n] = ts_fs_path_join(dir, de->d_name))) {
            rc = ts_error_set(err, TS_ERUNTIME, "out of memory");
            break;
        }
        n++;
    }
    if (closedir(d) != 0 && rc == TS_OK)
        rc = ts_fs_sys_error(err, "cannot close directory", dir);
    if (rc != TS_OK) {
        ts_fs_free_names(names, n);
        return rc;
    }
    if (n > 1)
        qsort(names, n, sizeof *names, compare_names);
    *paths = names;
    *count = n;
    return TS_OK;
}

/* ------------------------------------------------------------------ scanning */

/* Sequential reads through a bounded buffer: shards can be far larger than memory. */
typedef struct shard_reader {
    int fd;
    unsigned char *buf;
    size_t pos, end;
    uint64_t offset; /* file offset of buf[pos] */
} shard_reader;

/* Takes up to n bytes, copying them to dst (if not NULL) and into *crc (if not NULL); *got < n
 * only at end of file. */
static int reader_take(shard_reader *r, unsigned char *dst, size_t n, uint32_t *crc,
                       size_t *got)
{
    *got = 0;
    while (n > 0) {
        if (r->pos == r->end) {
            ssize_t k = read(r->fd, r->buf, SCAN_BUFFER);
            if (k < 0 && errno == EINTR)
                continue;
            if (k < 0)
                return -1;
            if (k == 0)
                break;
            r->pos = 0;
            r->end = (size_t)k;
        }
        size_t k = r->end - r->pos < n ? r->end - r->pos : n;
        if (dst) {
            memcpy(dst, r->buf + r->pos, k);
            dst += k;
        }
        if (crc)
            *crc = crc_of(*crc, r->buf + r->pos, k);
        r->pos += k;
        r->offset += k;
        *got += k;
        n -= k;
    }
    return 0;
}

typedef struct entry_list {
    ts_parts_entry *v;
    size_t n, cap;
} entry_list;

static int entry_push(entry_list *l, ts_parts_entry e)
{
    if (l->n == l->cap) {
        size_t ncap = l->cap ? 2 * l->cap : 256;
        ts_parts_entry *bigger = realloc(l->v, ncap * sizeof *bigger);
        if (!bigger)
            return -1;
        l->v = bigger;
        l->cap = ncap;
    }
    l->v[l->n++] = e;
    return 0;
}

/* Does the body prefix (as many bytes as the body has, up to BODY_PREFIX_MAX) describe a record
 * the rules accept, with a length that matches its message and value counts? */
static int body_acceptable(const unsigned char *prefix, uint32_t len, const scan_rules *rules)
{
    uint32_t msglen = get_u32(prefix + BODY_MSGLEN);
    if (msglen > MESSAGE_LEN_MAX || (uint64_t)BODY_FIXED + msglen > len)
        return 0;
    uint64_t nv = get_u64(prefix + BODY_MSG + msglen);
    uint64_t room = (uint64_t)len - BODY_FIXED - msglen;
    if (room % 8 != 0 || nv != room / 8)
        return 0;
    if (rules->check_nvalues && nv != (uint64_t)rules->nvalues)
        return 0;
    return get_u64(prefix + BODY_ITEM) < rules->nitems &&
           valid_status(get_i32(prefix + BODY_STATUS));
}

typedef enum { RECORD_OK, RECORD_REJECTED, RECORD_TORN, RECORD_END } record_outcome;

/* Reads the record at the reader's position; on RECORD_OK fills e (its file index aside). */
static int next_record(shard_reader *r, const scan_rules *rules, ts_parts_entry *e,
                       record_outcome *out)
{
    unsigned char frame[RECORD_FRAME], prefix[BODY_PREFIX_MAX], trailer[RECORD_TRAILER];
    uint64_t start = r->offset;
    size_t got;
    if (reader_take(r, frame, sizeof frame, NULL, &got) != 0)
        return -1;
    if (got == 0) {
        *out = RECORD_END;
        return 0;
    }
    *out = RECORD_TORN;
    if (got < sizeof frame || get_u32(frame) != RECORD_MAGIC)
        return 0;
    uint32_t len = get_u32(frame + 4);
    if (len < BODY_FIXED || len > UINT32_MAX - RECORD_FRAME - RECORD_TRAILER)
        return 0;
    uint32_t crc = (uint32_t)crc32(0L, Z_NULL, 0);
    size_t head = len < BODY_PREFIX_MAX ? len : BODY_PREFIX_MAX;
    if (reader_take(r, prefix, head, &crc, &got) != 0)
        return -1;
    if (got < head)
        return 0;
    if (reader_take(r, NULL, len - head, &crc, &got) != 0)
        return -1;
    if (got < len - head)
        return 0;
    if (reader_take(r, trailer, sizeof trailer, NULL, &got) != 0)
        return -1;
    if (got < sizeof trailer || get_u32(trailer) != crc)
        return 0;
    /* The frame is sound, so reading goes on after a record the rules reject. */
    if (!body_acceptable(prefix, len, rules)) {
        *out = RECORD_REJECTED;
        return 0;
    }
    e->item = get_u64(prefix + BODY_ITEM);
    e->offset = start;
    e->length = RECORD_FRAME + len + RECORD_TRAILER;
    e->status = (int8_t)get_i32(prefix + BODY_STATUS);
    *out = RECORD_OK;
    return 0;
}

/* 1 when the header is a shard header for rules->sha (any sha when NULL). */
static int header_accepted(const unsigned char *h, size_t got, const scan_rules *rules)
{
    return got == FILE_HEADER_LEN && memcmp(h, SHARD_MAGIC, SHARD_MAGIC_LEN) == 0 &&
           get_u32(h + SHARD_MAGIC_LEN) == SHARD_VERSION &&
           (!rules->sha || memcmp(h + SHARD_MAGIC_LEN + 4, rules->sha, SHA_HEX_LEN) == 0);
}

/* Adds the records of one shard to list; *accepted = 0 when the shard is not of this sweep. */
static int scan_file(const char *path, uint32_t file, const scan_rules *rules,
                     unsigned char *buf, entry_list *list, size_t *torn, int *accepted,
                     ts_error *err)
{
    *accepted = 0;
    shard_reader r = {.fd = open(path, O_RDONLY | O_CLOEXEC), .buf = buf};
    if (r.fd < 0)
        return ts_fs_sys_error(err, "cannot open", path);
    unsigned char header[FILE_HEADER_LEN];
    size_t got;
    int rc = TS_OK;
    if (reader_take(&r, header, sizeof header, NULL, &got) != 0)
        rc = ts_fs_sys_error(err, "cannot read", path);
    else if (header_accepted(header, got, rules)) {
        *accepted = 1;
        for (;;) {
            ts_parts_entry e = {.file = file};
            record_outcome out;
            if (next_record(&r, rules, &e, &out) != 0) {
                rc = ts_fs_sys_error(err, "cannot read", path);
                break;
            }
            if (out == RECORD_END)
                break;
            if (out != RECORD_OK) {
                (*torn)++;
                if (out == RECORD_TORN)
                    break; /* nothing after a broken frame can be trusted */
                continue;
            }
            if (entry_push(list, e) != 0) {
                rc = ts_error_set(err, TS_ERUNTIME, "out of memory");
                break;
            }
        }
    }
    int rc2 = ts_fs_close_checked(r.fd, path, err);
    return rc ? rc : rc2;
}

static int compare_entries(const void *a, const void *b)
{
    const ts_parts_entry *x = a, *y = b;
    if (x->item != y->item)
        return x->item < y->item ? -1 : 1;
    if (x->file != y->file)
        return x->file < y->file ? -1 : 1;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* Sorted by item; of several records of one item the first in (file name, offset) order stays,
 * because file indices follow name order. */
static void keep_first_per_item(entry_list *l)
{
    if (l->n < 2)
        return;
    qsort(l->v, l->n, sizeof *l->v, compare_entries);
    size_t kept = 1;
    for (size_t i = 1; i < l->n; i++)
        if (l->v[i].item != l->v[kept - 1].item)
            l->v[kept++] = l->v[i];
    l->n = kept;
}

int ts_ckpt_scan(const char *dir, const scan_rules *rules, ts_parts_index *idx, ts_error *err)
{
    memset(idx, 0, sizeof *idx);
    char **paths;
    size_t npaths;
    int rc = ts_ckpt_list_shards(dir, &paths, &npaths, err);
    if (rc != TS_OK)
        return rc;
    entry_list list = {0};
    unsigned char *buf = malloc(SCAN_BUFFER);
    idx->dir = malloc(strlen(dir) + 1);
    idx->files = npaths ? calloc(npaths, sizeof *idx->files) : NULL;
    if (!buf || !idx->dir || (npaths && !idx->files))
        rc = ts_error_set(err, TS_ERUNTIME, "out of memory");
    else
        memcpy(idx->dir, dir, strlen(dir) + 1);
    for (size_t i = 0; i < npaths && rc == TS_OK; i++) {
        int accepted;
        rc = scan_file(paths[i], (uint32_t)idx->nfiles, rules, buf, &list, &idx->torn,
                       &accepted, err);
        if (rc == TS_OK && accepted) {
            idx->files[idx->nfiles++] = paths[i];
            paths[i] = NULL;
        }
    }
    free(buf);
    ts_fs_free_names(paths, npaths);
    if (rc == TS_OK && idx->nfiles > 0) {
        idx->fds = malloc(idx->nfiles * sizeof *idx->fds);
        if (!idx->fds)
            rc = ts_error_set(err, TS_ERUNTIME, "out of memory");
        else
            for (size_t i = 0; i < idx->nfiles; i++)
                idx->fds[i] = -1;
    }
    if (rc != TS_OK) {
        free(list.v);
        ts_parts_index_free(idx);
        return rc;
    }
    keep_first_per_item(&list);
    idx->entries = list.v;
    idx->nentries = list.n;
    return TS_OK;
}

int ts_parts_scan(const char *dir, const char *spec_sha256, uint64_t nitems, size_t nvalues,
                  ts_parts_index *idx, ts_error *err)
{
    memset(idx, 0, sizeof *idx);
    if (!spec_sha256 || strlen(spec_sha256) != SHA_HEX_LEN)
        return ts_error_set(err, TS_ERUNTIME, "a spec hash must be %d hex digits", SHA_HEX_LEN);
    scan_rules rules = {.sha = spec_sha256, .nitems = nitems, .check_nvalues = 1,
                        .nvalues = nvalues};
    return ts_ckpt_scan(dir, &rules, idx, err);
}

void ts_parts_index_free(ts_parts_index *idx)
{
    if (!idx)
        return;
    for (size_t i = 0; i < idx->nfiles; i++) {
        if (idx->fds && idx->fds[i] >= 0)
            close(idx->fds[i]); /* read-only: nothing a failed close could lose */
        free(idx->files[i]);
    }
    for (size_t i = 0; idx->window && i < idx->nfiles; i++) free(idx->window[i]);
    free(idx->window);
    free(idx->window_at);
    free(idx->window_len);
    free(idx->files);
    free(idx->fds);
    free(idx->entries);
    free(idx->dir);
    memset(idx, 0, sizeof *idx);
}

const ts_parts_entry *ts_parts_find(const ts_parts_index *idx, uint64_t item)
{
    size_t lo = 0, hi = idx->nentries;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (idx->entries[mid].item < item)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < idx->nentries && idx->entries[lo].item == item ? &idx->entries[lo] : NULL;
}

/* Reads up to len bytes at offset; *got < len only at end of file. */
static int pread_full(int fd, unsigned char *buf, size_t len, off_t offset, size_t *got)
{
    *got = 0;
    while (*got < len) {
        ssize_t n = pread(fd, buf + *got, len - *got, offset + (off_t)*got);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (n == 0)
            break;
        *got += (size_t)n;
    }
    return 0;
}

/* The read-ahead: 64 MiB over all files at most, 64 KiB to 1 MiB per file. */
#define WINDOW_TOTAL ((size_t)64 << 20)
#define WINDOW_MIN ((size_t)64 << 10)
#define WINDOW_MAX ((size_t)1 << 20)

static int alloc_windows(ts_parts_index *idx, ts_error *err)
{
    size_t size = WINDOW_TOTAL / (idx->nfiles ? idx->nfiles : 1);
    idx->window_size = size < WINDOW_MIN ? WINDOW_MIN : size > WINDOW_MAX ? WINDOW_MAX : size;
    idx->window = calloc(idx->nfiles, sizeof *idx->window);
    idx->window_at = calloc(idx->nfiles, sizeof *idx->window_at);
    idx->window_len = calloc(idx->nfiles, sizeof *idx->window_len);
    if (!idx->window || !idx->window_at || !idx->window_len)
        return ts_error_set(err, TS_ERUNTIME, "out of memory");
    return TS_OK;
}

/* Makes the window of e's file hold the whole record when it fits in one (reading a window from
 * the record on); larger records are read directly. */
static int load_window(ts_parts_index *idx, const ts_parts_entry *e, int fd, ts_error *err)
{
    if (!idx->window && alloc_windows(idx, err) != TS_OK) return TS_ERUNTIME;
    size_t f = e->file;
    if (e->length > idx->window_size ||
        (e->offset >= idx->window_at[f] &&
         e->offset + e->length <= idx->window_at[f] + idx->window_len[f]))
        return TS_OK;
    if (!idx->window[f] && !(idx->window[f] = malloc(idx->window_size)))
        return ts_error_set(err, TS_ERUNTIME, "out of memory");
    size_t got;
    if (pread_full(fd, idx->window[f], idx->window_size, (off_t)e->offset, &got) != 0) {
        idx->window_len[f] = 0;
        return ts_fs_sys_error(err, "cannot read", idx->files[f]);
    }
    idx->window_at[f] = e->offset;
    idx->window_len[f] = got;
    return TS_OK;
}

/* len bytes at offset from the file's window when it holds them, else from the file. */
static int read_at(const ts_parts_index *idx, size_t f, int fd, unsigned char *buf, size_t len,
                   off_t offset, size_t *got)
{
    uint64_t at = (uint64_t)offset;
    if (idx->window && idx->window[f] && at >= idx->window_at[f] &&
        at + len <= idx->window_at[f] + idx->window_len[f]) {
        memcpy(buf, idx->window[f] + (at - idx->window_at[f]), len);
        *got = len;
        return 0;
    }
    return pread_full(fd, buf, len, offset, got);
}

static int changed_since_scan(const char *path, uint64_t offset, const char *what, ts_error *err)
{
    return ts_error_set(err, TS_ERUNTIME,
                        "shard %s changed since it was scanned: the record at offset %llu %s",
                        path, (unsigned long long)offset, what);
}

/* The values go straight into the caller's buffer and are decoded in place, so reading a record
 * needs no memory of its own whatever its size. */
int ts_parts_read(ts_parts_index *idx, const ts_parts_entry *e, ts_run_record *rec,
                  double *values, size_t nvalues, ts_error *err)
{
    if (!e || e->file >= idx->nfiles)
        return ts_error_set(err, TS_ERUNTIME, "no such shard entry in %s", idx->dir);
    const char *path = idx->files[e->file];
    if (idx->fds[e->file] < 0) {
        idx->fds[e->file] = open(path, O_RDONLY | O_CLOEXEC);
        if (idx->fds[e->file] < 0)
            return ts_fs_sys_error(err, "cannot open", path);
    }
    int fd = idx->fds[e->file];
    if (load_window(idx, e, fd, err) != TS_OK) return TS_ERUNTIME;
    off_t at = (off_t)e->offset;
    unsigned char head[RECORD_FRAME + BODY_PREFIX_MAX], trailer[RECORD_TRAILER];
    size_t got;
    if (read_at(idx, e->file, fd, head, RECORD_FRAME + BODY_MSG, at, &got) != 0)
        return ts_fs_sys_error(err, "cannot read", path);
    if (got < RECORD_FRAME + BODY_MSG)
        return changed_since_scan(path, e->offset, "is cut short", err);
    const unsigned char *body = head + RECORD_FRAME;
    uint32_t len = get_u32(head + 4);
    uint32_t msglen = get_u32(body + BODY_MSGLEN);
    if (get_u32(head) != RECORD_MAGIC ||
        (uint64_t)len + RECORD_FRAME + RECORD_TRAILER != e->length || msglen > MESSAGE_LEN_MAX ||
        (uint64_t)BODY_FIXED + msglen > len)
        return changed_since_scan(path, e->offset, "is not the one scanned", err);
    at += RECORD_FRAME + BODY_MSG;
    if (read_at(idx, e->file, fd, head + RECORD_FRAME + BODY_MSG, msglen + 8, at, &got) != 0)
        return ts_fs_sys_error(err, "cannot read", path);
    if (got < msglen + 8)
        return changed_since_scan(path, e->offset, "is cut short", err);
    at += msglen + 8;
    uint64_t nv = get_u64(body + BODY_MSG + msglen);
    if (nv != (uint64_t)nvalues || nv > len / 8 || (uint64_t)len != BODY_FIXED + msglen + 8 * nv)
        return ts_error_set(err, TS_ERUNTIME,
                            "shard %s: the record at offset %llu holds %llu values, not %zu",
                            path, (unsigned long long)e->offset, (unsigned long long)nv,
                            nvalues);
    uint32_t crc = crc_of((uint32_t)crc32(0L, Z_NULL, 0), body, BODY_MSG + msglen + 8);
    unsigned char *raw = (unsigned char *)values;
    if (read_at(idx, e->file, fd, raw, 8 * nvalues, at, &got) != 0)
        return ts_fs_sys_error(err, "cannot read", path);
    if (got < 8 * nvalues)
        return changed_since_scan(path, e->offset, "is cut short", err);
    at += (off_t)(8 * nvalues);
    crc = crc_of(crc, raw, 8 * nvalues);
    if (read_at(idx, e->file, fd, trailer, sizeof trailer, at, &got) != 0)
        return ts_fs_sys_error(err, "cannot read", path);
    if (got < sizeof trailer || get_u32(trailer) != crc)
        return changed_since_scan(path, e->offset, "fails its checksum", err);

    for (size_t i = 0; i < nvalues; i++)
        values[i] = get_f64(raw + 8 * i); /* reads its 8 bytes before overwriting them */
    rec->item = get_u64(body + BODY_ITEM);
    rec->status = (ts_status)get_i32(body + BODY_STATUS);
    rec->rank = get_i32(body + BODY_RANK);
    rec->wall_seconds = get_f64(body + BODY_WALL);
    memcpy(rec->host, body + BODY_HOST, TS_HOST_MAX);
    rec->host[TS_HOST_MAX - 1] = '\0';
    memcpy(rec->message, body + BODY_MSG, msglen);
    rec->message[msglen] = '\0';
    rec->values = values;
    rec->nvalues = nvalues;
    return TS_OK;
}
