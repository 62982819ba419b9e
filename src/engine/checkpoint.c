/* Crash-safe live state of a sweep under OUT.h5.parts/ (DESIGN.md section 5).
 *
 * Shard file layout. Every integer and double is little-endian, encoded byte by byte below so a
 * shard written on one machine reads the same on any other (doubles as their IEEE-754 bits):
 *
 *   file header  "TSSHARD1" (8 bytes) | version u32 (= 1) | spec sha256, 64 hex characters
 *   record       magic u32 ("TSR1") | body length u32 | body | crc32 of the body u32 (zlib)
 *   body         item u64 | status i32 | rank i32 | wall_seconds f64 | host (64 bytes, NUL padded)
 *                | message length u32 | message bytes (no NUL) | nvalues u64 | values f64[nvalues]
 *
 * A record goes to the file in one write(2) at the end of the file, so a kill -9 leaves either
 * whole records or whole records plus one torn tail; the checksum catches a tail that has its
 * full length but not its content (a crash of the node before the page cache reached the disk).
 * Every invocation of a rank starts a new shard, so nothing is ever appended after a torn tail. */
#include "tailsweep/checkpoint.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

_Static_assert(sizeof(double) == 8, "shards store doubles as 8-byte IEEE-754 values");

#define SPEC_FILE "spec.canonical"
#define SHARD_PREFIX "shard-"
#define SHARD_SUFFIX ".tsj"

#define SHARD_MAGIC "TSSHARD1"
#define SHARD_MAGIC_LEN 8
#define SHARD_VERSION 1u
#define SHA_HEX_LEN 64
#define FILE_HEADER_LEN (SHARD_MAGIC_LEN + 4 + SHA_HEX_LEN)

#define RECORD_MAGIC 0x31525354u /* the bytes "TSR1" read as a little-endian u32 */
#define RECORD_FRAME 8           /* magic + body length */
#define RECORD_TRAILER 4         /* crc32 */

/* Offsets inside a body; the message, nvalues and the values follow at variable offsets. */
#define BODY_ITEM 0
#define BODY_STATUS 8
#define BODY_RANK 12
#define BODY_WALL 16
#define BODY_HOST 24
#define BODY_MSGLEN (BODY_HOST + TS_HOST_MAX)
#define BODY_MSG (BODY_MSGLEN + 4)
#define BODY_FIXED (BODY_MSG + 8) /* a body without message and values */
#define MESSAGE_LEN_MAX (TS_MESSAGE_MAX - 1)
/* Everything of a body before its values, at most. */
#define BODY_PREFIX_MAX (BODY_MSG + MESSAGE_LEN_MAX + 8)

#define SCAN_BUFFER (1u << 20)
#define QUOTE_MAX 160 /* characters of a canonical line quoted in a message */

/* ------------------------------------------------------------------ little-endian encoding */

static void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put_f64(unsigned char *p, double x)
{
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    put_u64(p, bits);
}

static uint32_t get_u32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}

static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static double get_f64(const unsigned char *p)
{
    uint64_t bits = get_u64(p);
    double x;
    memcpy(&x, &bits, sizeof x);
    return x;
}

static int32_t get_i32(const unsigned char *p)
{
    uint32_t u = get_u32(p);
    int32_t v;
    memcpy(&v, &u, sizeof v); /* two's complement, without implementation-defined conversion */
    return v;
}

static void put_i32(unsigned char *p, int32_t v)
{
    uint32_t u;
    memcpy(&u, &v, sizeof u);
    put_u32(p, u);
}

static uint32_t crc_of(uint32_t crc, const unsigned char *p, size_t n)
{
    /* zlib's crc32 takes a uInt length; a body never exceeds UINT32_MAX bytes, but feed it in
     * pieces anyway so no narrowing can ever drop bytes. */
    while (n > 0) {
        uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;
        crc = (uint32_t)crc32(crc, p, k);
        p += k;
        n -= k;
    }
    return crc;
}

static int valid_status(int64_t s)
{
    return s == TS_DONE || s == TS_DIVERGED || s == TS_FAILED;
}

/* ------------------------------------------------------------------ system calls, checked */

static int sys_error(ts_error *err, const char *what, const char *path)
{
    return ts_error_set(err, TS_ERUNTIME, "%s %s: %s", what, path, strerror(errno));
}

static char *path_join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + 1 + b + 1);
    if (!p)
        return NULL;
    memcpy(p, dir, a);
    p[a] = '/';
    memcpy(p + a + 1, name, b + 1);
    return p;
}

static int pwrite_all(int fd, const unsigned char *buf, size_t len, off_t offset)
{
    while (len > 0) {
        ssize_t n = pwrite(fd, buf, len, offset);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (n == 0) {
            errno = EIO;
            return -1;
        }
        buf += n;
        len -= (size_t)n;
        offset += n;
    }
    return 0;
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

static int close_checked(int fd, const char *path, ts_error *err)
{
    /* After close fails with EINTR, Linux has already released the descriptor: no retry. */
    if (close(fd) != 0 && errno != EINTR)
        return sys_error(err, "cannot close", path);
    return TS_OK;
}

/* Makes a new or removed directory entry durable. */
static int fsync_dir(const char *dir, ts_error *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return sys_error(err, "cannot open directory", dir);
    int rc = TS_OK;
    /* Some file systems cannot fsync a directory and say EINVAL: their entries are as durable as
     * they will ever be. */
    if (fsync(fd) != 0 && errno != EINVAL)
        rc = sys_error(err, "cannot fsync directory", dir);
    int rc2 = close_checked(fd, dir, err);
    return rc ? rc : rc2;
}

static int now_seconds(double *t)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return -1;
    *t = (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
    return 0;
}

/* mkdir -p; the parent of a directory we create is fsync'd so the new entry survives a crash. */
static int make_dirs(const char *dir, ts_error *err)
{
    size_t len = strlen(dir);
    char *p = malloc(len + 1);
    if (!p)
        return ts_error_set(err, TS_ERUNTIME, "out of memory");
    memcpy(p, dir, len + 1);
    while (len > 1 && p[len - 1] == '/')
        p[--len] = '\0';
    int rc = TS_OK, created = 0;
    for (size_t i = 1; i <= len && rc == TS_OK; i++) {
        if (p[i] != '/' && p[i] != '\0')
            continue;
        char saved = p[i];
        p[i] = '\0';
        if (mkdir(p, 0777) == 0)
            created = 1;
        else if (errno != EEXIST)
            rc = sys_error(err, "cannot create directory", p);
        else
            created = 0;
        p[i] = saved;
    }
    struct stat st;
    if (rc == TS_OK && stat(p, &st) != 0)
        rc = sys_error(err, "cannot stat", p);
    else if (rc == TS_OK && !S_ISDIR(st.st_mode))
        rc = ts_error_set(err, TS_ERUNTIME, "%s exists and is not a directory", p);
    if (rc == TS_OK && created) {
        char *slash = strrchr(p, '/');
        if (slash == p)
            rc = fsync_dir("/", err);
        else if (slash) {
            *slash = '\0';
            rc = fsync_dir(p, err);
        } else
            rc = fsync_dir(".", err);
    }
    free(p);
    return rc;
}

/* The whole file into a NUL-terminated buffer; *text = NULL when the file does not exist. */
static int read_text_file(const char *path, char **text, size_t *len, ts_error *err)
{
    *text = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? TS_OK : sys_error(err, "cannot open", path);
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    int rc = buf ? TS_OK : ts_error_set(err, TS_ERUNTIME, "out of memory");
    while (rc == TS_OK) {
        if (cap - n < 2) {
            char *bigger = realloc(buf, 2 * cap);
            if (!bigger) {
                rc = ts_error_set(err, TS_ERUNTIME, "out of memory");
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        ssize_t got = read(fd, buf + n, cap - n - 1);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            rc = sys_error(err, "cannot read", path);
        else if (got == 0)
            break;
        else
            n += (size_t)got;
    }
    int rc2 = close_checked(fd, path, err);
    if (rc == TS_OK)
        rc = rc2;
    if (rc != TS_OK) {
        free(buf);
        return rc;
    }
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return TS_OK;
}

/* Write to a temporary name, fsync, rename over name, fsync the directory: a reader sees the old
 * file or the new one, whole, even across a crash. */
static int write_file_atomically(const char *dir, const char *name, const char *text,
                                 ts_error *err)
{
    char tmpname[64];
    snprintf(tmpname, sizeof tmpname, ".%s.tmp-%ld", name, (long)getpid());
    char *tmp = path_join(dir, tmpname), *final = path_join(dir, name);
    if (!tmp || !final) {
        free(tmp);
        free(final);
        return ts_error_set(err, TS_ERUNTIME, "out of memory");
    }
    int rc = TS_OK;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0)
        rc = sys_error(err, "cannot create", tmp);
    else {
        if (pwrite_all(fd, (const unsigned char *)text, strlen(text), 0) != 0)
            rc = sys_error(err, "cannot write", tmp);
        else if (fsync(fd) != 0)
            rc = sys_error(err, "cannot fsync", tmp);
        int rc2 = close_checked(fd, tmp, err);
        if (rc == TS_OK)
            rc = rc2;
        if (rc == TS_OK && rename(tmp, final) != 0)
            rc = sys_error(err, "cannot rename into", final);
        if (rc != TS_OK)
            unlink(tmp); /* best effort: the error being reported is the one above */
    }
    if (rc == TS_OK)
        rc = fsync_dir(dir, err);
    free(tmp);
    free(final);
    return rc;
}

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

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* Paths of every shard in dir, sorted by file name so that scans are deterministic. */
static int list_shards(const char *dir, char ***paths, size_t *count, ts_error *err)
{
    *paths = NULL;
    *count = 0;
    DIR *d = opendir(dir);
    if (!d)
        return sys_error(err, "cannot open directory", dir);
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = TS_OK;
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (!de) {
            if (errno != 0)
                rc = sys_error(err, "cannot read directory", dir);
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
        if (!(names[n] = path_join(dir, de->d_name))) {
            rc = ts_error_set(err, TS_ERUNTIME, "out of memory");
            break;
        }
        n++;
    }
    if (closedir(d) != 0 && rc == TS_OK)
        rc = sys_error(err, "cannot close directory", dir);
    if (rc != TS_OK) {
        free_names(names, n);
        return rc;
    }
    if (n > 1)
        qsort(names, n, sizeof *names, compare_names);
    *paths = names;
    *count = n;
    return TS_OK;
}

char *ts_parts_dir(const char *output)
{
    size_t n = strlen(output);
    char *dir = malloc(n + sizeof ".parts");
    if (!dir)
        return NULL;
    memcpy(dir, output, n);
    memcpy(dir + n, ".parts", sizeof ".parts");
    return dir;
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

/* What a scan accepts: sha NULL takes shards of any sweep, check_nvalues 0 any value count. */
typedef struct scan_rules {
    const char *sha;
    uint64_t nitems;
    int check_nvalues;
    size_t nvalues;
} scan_rules;

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
        return sys_error(err, "cannot open", path);
    unsigned char header[FILE_HEADER_LEN];
    size_t got;
    int rc = TS_OK;
    if (reader_take(&r, header, sizeof header, NULL, &got) != 0)
        rc = sys_error(err, "cannot read", path);
    else if (header_accepted(header, got, rules)) {
        *accepted = 1;
        for (;;) {
            ts_parts_entry e = {.file = file};
            record_outcome out;
            if (next_record(&r, rules, &e, &out) != 0) {
                rc = sys_error(err, "cannot read", path);
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
    int rc2 = close_checked(r.fd, path, err);
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

static int scan(const char *dir, const scan_rules *rules, ts_parts_index *idx, ts_error *err)
{
    memset(idx, 0, sizeof *idx);
    char **paths;
    size_t npaths;
    int rc = list_shards(dir, &paths, &npaths, err);
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
    free_names(paths, npaths);
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
    return scan(dir, &rules, idx, err);
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
            return sys_error(err, "cannot open", path);
    }
    int fd = idx->fds[e->file];
    off_t at = (off_t)e->offset;
    unsigned char head[RECORD_FRAME + BODY_PREFIX_MAX], trailer[RECORD_TRAILER];
    size_t got;
    if (pread_full(fd, head, RECORD_FRAME + BODY_MSG, at, &got) != 0)
        return sys_error(err, "cannot read", path);
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
    if (pread_full(fd, head + RECORD_FRAME + BODY_MSG, msglen + 8, at, &got) != 0)
        return sys_error(err, "cannot read", path);
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
    if (pread_full(fd, raw, 8 * nvalues, at, &got) != 0)
        return sys_error(err, "cannot read", path);
    if (got < 8 * nvalues)
        return changed_since_scan(path, e->offset, "is cut short", err);
    at += (off_t)(8 * nvalues);
    crc = crc_of(crc, raw, 8 * nvalues);
    if (pread_full(fd, trailer, sizeof trailer, at, &got) != 0)
        return sys_error(err, "cannot read", path);
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

/* ------------------------------------------------------------------ spec.canonical */

/* The next line of [*p, end) without its newline; 0 when there is none. */
static int next_line(const char **p, const char *end, const char **line, size_t *len)
{
    if (*p >= end)
        return 0;
    const char *nl = memchr(*p, '\n', (size_t)(end - *p));
    *line = *p;
    *len = nl ? (size_t)(nl - *p) : (size_t)(end - *p);
    *p = nl ? nl + 1 : end;
    return 1;
}

/* Canonical lines read "key: value"; a line without ": " is its own key. */
static size_t key_length(const char *line, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++)
        if (line[i] == ':' && line[i + 1] == ' ')
            return i;
    return len;
}

static int has_key(const char *text, size_t tlen, const char *line, size_t len)
{
    size_t k = key_length(line, len);
    const char *p = text, *end = text + tlen, *l;
    size_t n;
    while (next_line(&p, end, &l, &n))
        if (key_length(l, n) == k && memcmp(l, line, k) == 0)
            return 1;
    return 0;
}

/* The first difference between the canonical texts, in words: `"seed: 1" is now "seed: 2"`,
 * `"x: 1" was added`, `"y: 2" was removed`. Lines are compared in order, and keys decide between
 * a changed line and an added or removed one. */
static void describe_difference(const char *old, size_t oldlen, const char *now, size_t nowlen,
                                char *out, size_t cap)
{
    const char *po = old, *pn = now, *eo = old + oldlen, *en = now + nowlen;
    const char *o = NULL, *n = NULL;
    size_t ol = 0, nl = 0;
    for (;;) {
        int has_o = next_line(&po, eo, &o, &ol), has_n = next_line(&pn, en, &n, &nl);
        if (!has_o)
            o = NULL;
        if (!has_n)
            n = NULL;
        if (!o || !n || ol != nl || memcmp(o, n, ol) != 0)
            break;
    }
    int ko = o ? (int)(ol < QUOTE_MAX ? ol : QUOTE_MAX) : 0;
    int kn = n ? (int)(nl < QUOTE_MAX ? nl : QUOTE_MAX) : 0;
    if (!o && !n) {
        snprintf(out, cap, "the texts differ in line endings only");
        return;
    }
    int added = n && !has_key(old, oldlen, n, nl);
    int removed = o && !has_key(now, nowlen, o, ol);
    int same_key = o && n && key_length(o, ol) == key_length(n, nl) &&
                   memcmp(o, n, key_length(o, ol)) == 0;
    if (o && n && (same_key || added == removed))
        snprintf(out, cap, "\"%.*s\" is now \"%.*s\"", ko, o, kn, n);
    else if (n && (added || !o))
        snprintf(out, cap, "\"%.*s\" was added", kn, n);
    else
        snprintf(out, cap, "\"%.*s\" was removed", ko, o);
}

/* The runs the shards in dir hold for whatever sweep wrote them: what --fresh would discard. */
static int count_finished(const char *dir, size_t *count, ts_error *err)
{
    scan_rules any = {.sha = NULL, .nitems = UINT64_MAX, .check_nvalues = 0};
    ts_parts_index idx;
    int rc = scan(dir, &any, &idx, err);
    *count = rc == TS_OK ? idx.nentries : 0;
    ts_parts_index_free(&idx);
    return rc;
}

static int refuse_other_sweep(const char *dir, const char *old, size_t oldlen,
                              const char *canonical, int for_resume, ts_error *err)
{
    size_t finished;
    int rc = count_finished(dir, &finished, err);
    if (rc != TS_OK)
        return rc;
    char diff[2 * QUOTE_MAX + 64];
    describe_difference(old, oldlen, canonical, strlen(canonical), diff, sizeof diff);
    const char *runs = finished == 1 ? "run" : "runs";
    if (for_resume)
        return ts_error_set(err, TS_EUSAGE,
                            "the sweep in %s was started with another spec: %s (rerun with "
                            "--fresh to discard its %zu finished %s)",
                            dir, diff, finished, runs);
    return ts_error_set(err, TS_EUSAGE,
                        "the sweep in %s was started with another spec: %s (it holds %zu "
                        "finished %s)",
                        dir, diff, finished, runs);
}

static int discard_shards(const char *dir, ts_error *err)
{
    char **paths;
    size_t n;
    int rc = list_shards(dir, &paths, &n, err);
    for (size_t i = 0; i < n && rc == TS_OK; i++)
        if (unlink(paths[i]) != 0 && errno != ENOENT)
            rc = sys_error(err, "cannot remove", paths[i]);
    free_names(paths, n);
    return rc;
}

/* --fresh discards whatever the dir holds, even the same sweep's runs: it asks for a restart. The
 * new spec.canonical replaces the old one by rename, which needs no separate delete. */
int ts_parts_prepare(const char *dir, const char *canonical, int fresh, int *resumed,
                     ts_error *err)
{
    *resumed = 0;
    int rc = make_dirs(dir, err);
    if (rc != TS_OK)
        return rc;
    char *spec = path_join(dir, SPEC_FILE);
    if (!spec)
        return ts_error_set(err, TS_ERUNTIME, "out of memory");
    char *old;
    size_t oldlen;
    rc = read_text_file(spec, &old, &oldlen, err);
    free(spec);
    if (rc != TS_OK)
        return rc;
    int same = old && oldlen == strlen(canonical) && memcmp(old, canonical, oldlen) == 0;
    if (fresh)
        rc = discard_shards(dir, err);
    else if (same)
        *resumed = 1;
    else if (old)
        rc = refuse_other_sweep(dir, old, oldlen, canonical, 1, err);
    free(old);
    if (rc == TS_OK && !*resumed)
        rc = write_file_atomically(dir, SPEC_FILE, canonical, err);
    return rc;
}

int ts_parts_check(const char *dir, const char *canonical, ts_error *err)
{
    char *spec = path_join(dir, SPEC_FILE);
    if (!spec)
        return ts_error_set(err, TS_ERUNTIME, "out of memory");
    char *old;
    size_t oldlen;
    int rc = read_text_file(spec, &old, &oldlen, err);
    free(spec);
    if (rc != TS_OK)
        return rc;
    if (!old)
        return ts_error_set(err, TS_ERUNTIME, "no sweep state at %s", dir);
    if (oldlen != strlen(canonical) || memcmp(old, canonical, oldlen) != 0)
        rc = refuse_other_sweep(dir, old, oldlen, canonical, 0, err);
    free(old);
    return rc;
}

/* ------------------------------------------------------------------ the writer */

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
        if (!(*path = path_join(dir, name)))
            return ts_error_set(err, TS_ERUNTIME, "out of memory");
        *fd = open(*path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (*fd >= 0)
            return TS_OK;
        if (errno != EEXIST) {
            int rc = sys_error(err, "cannot create", *path);
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
    if (pwrite_all(w->fd, header, sizeof header, 0) != 0)
        rc = sys_error(err, "cannot write", w->path);
    else if (fsync(w->fd) != 0)
        rc = sys_error(err, "cannot fsync", w->path);
    else if (now_seconds(&w->last_sync) != 0)
        rc = ts_error_set(err, TS_ERUNTIME, "cannot read the clock: %s", strerror(errno));
    /* Records fsync'd into a file whose directory entry was lost in a crash would be lost too. */
    if (rc == TS_OK)
        rc = fsync_dir(dir, err);
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
        return sys_error(err, "cannot fsync", w->path);
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
    if (pwrite_all(w->fd, w->buf, total, (off_t)w->size) != 0) {
        rc = sys_error(err, "cannot write", w->path);
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
    int rc2 = close_checked(w->fd, w->path, rc == TS_OK ? err : NULL);
    free(w->path);
    free(w->buf);
    free(w);
    return rc ? rc : rc2;
}
