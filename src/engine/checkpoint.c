/* Crash-safe live state of a sweep under OUT.h5.parts/: the parts directory and its
 * spec.canonical. The shard format is described in shard_format.h; shard.c writes shards,
 * shard_scan.c reads them, fsutil.c holds the checked system calls all three use. */
#include "tailsweep/checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "fsutil.h"
#include "shard_format.h"

#define SPEC_FILE "spec.canonical"
#define STOP_FILE "stopped"
#define QUOTE_MAX 160 /* characters of a canonical line quoted in a message */

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
            rc = ts_fs_sys_error(err, "cannot create directory", p);
        else
            created = 0;
        p[i] = saved;
    }
    struct stat st;
    if (rc == TS_OK && stat(p, &st) != 0)
        rc = ts_fs_sys_error(err, "cannot stat", p);
    else if (rc == TS_OK && !S_ISDIR(st.st_mode))
        rc = ts_error_set(err, TS_ERUNTIME, "%s exists and is not a directory", p);
    if (rc == TS_OK && created) {
        char *slash = strrchr(p, '/');
        if (slash == p)
            rc = ts_fs_fsync_dir("/", err);
        else if (slash) {
            *slash = '\0';
            rc = ts_fs_fsync_dir(p, err);
        } else
            rc = ts_fs_fsync_dir(".", err);
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
        return errno == ENOENT ? TS_OK : ts_fs_sys_error(err, "cannot open", path);
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
            rc = ts_fs_sys_error(err, "cannot read", path);
        else if (got == 0)
            break;
        else
            n += (size_t)got;
    }
    int rc2 = ts_fs_close_checked(fd, path, err);
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
    char *tmp = ts_fs_path_join(dir, tmpname), *final = ts_fs_path_join(dir, name);
    if (!tmp || !final) {
        free(tmp);
        free(final);
        return ts_error_set(err, TS_ERUNTIME, "out of memory");
    }
    int rc = TS_OK;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0)
        rc = ts_fs_sys_error(err, "cannot create", tmp);
    else {
        if (ts_fs_pwrite_all(fd, (const unsigned char *)text, strlen(text), 0) != 0)
            rc = ts_fs_sys_error(err, "cannot write", tmp);
        else if (fsync(fd) != 0)
            rc = ts_fs_sys_error(err, "cannot fsync", tmp);
        int rc2 = ts_fs_close_checked(fd, tmp, err);
        if (rc == TS_OK)
            rc = rc2;
        if (rc == TS_OK && rename(tmp, final) != 0)
            rc = ts_fs_sys_error(err, "cannot rename into", final);
        if (rc != TS_OK)
            unlink(tmp); /* best effort: the error being reported is the one above */
    }
    if (rc == TS_OK)
        rc = ts_fs_fsync_dir(dir, err);
    free(tmp);
    free(final);
    return rc;
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
    int rc = ts_ckpt_scan(dir, &any, &idx, err);
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
    int rc = ts_ckpt_list_shards(dir, &paths, &n, err);
    for (size_t i = 0; i < n && rc == TS_OK; i++)
        if (unlink(paths[i]) != 0 && errno != ENOENT)
            rc = ts_fs_sys_error(err, "cannot remove", paths[i]);
    ts_fs_free_names(paths, n);
    return rc;
}

/* This invocation runs: an earlier one's stop note no longer describes the sweep. */
static int remove_stop_note(const char *dir, ts_error *err)
{
    char *stop = ts_fs_path_join(dir, STOP_FILE);
    if (!stop) return ts_error_set(err, TS_ERUNTIME, "out of memory");
    int rc = unlink(stop) != 0 && errno != ENOENT ? ts_fs_sys_error(err, "cannot remove", stop)
                                                   : TS_OK;
    free(stop);
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
    char *spec = ts_fs_path_join(dir, SPEC_FILE);
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
    if (rc == TS_OK)
        rc = remove_stop_note(dir, err);
    return rc;
}

int ts_parts_note_stop(const char *dir, ts_error *err)
{
    char text[32];
    snprintf(text, sizeof text, "%ld\n", (long)time(NULL));
    return write_file_atomically(dir, STOP_FILE, text, err);
}

int ts_parts_stopped(const char *dir, long *when)
{
    char *path = ts_fs_path_join(dir, STOP_FILE);
    FILE *f = path ? fopen(path, "r") : NULL;
    free(path);
    if (!f) return 0;
    int found = fscanf(f, "%ld", when) == 1;
    fclose(f);
    return found;
}

int ts_parts_check(const char *dir, const char *canonical, ts_error *err)
{
    char *spec = ts_fs_path_join(dir, SPEC_FILE);
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
