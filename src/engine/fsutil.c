/* File-system calls, checked and retried, for the journal (checkpoint.c, shard.c,
 * shard_scan.c) and the archive's publication (archive.c): a leaf module of the engine. */
#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int ts_fs_sys_error(ts_error *err, const char *what, const char *path)
{
    return ts_error_set(err, TS_ERUNTIME, "%s %s: %s", what, path, strerror(errno));
}

char *ts_fs_path_join(const char *dir, const char *name)
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

int ts_fs_pwrite_all(int fd, const unsigned char *buf, size_t len, off_t offset)
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

int ts_fs_close_checked(int fd, const char *path, ts_error *err)
{
    /* After close fails with EINTR, Linux has already released the descriptor: no retry. */
    if (close(fd) != 0 && errno != EINTR)
        return ts_fs_sys_error(err, "cannot close", path);
    return TS_OK;
}

/* Makes a new or removed directory entry durable. */
int ts_fs_fsync_dir(const char *dir, ts_error *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return ts_fs_sys_error(err, "cannot open directory", dir);
    int rc = TS_OK;
    /* Some file systems cannot fsync a directory and say EINVAL: their entries are as durable as
     * they will ever be. */
    if (fsync(fd) != 0 && errno != EINVAL)
        rc = ts_fs_sys_error(err, "cannot fsync directory", dir);
    int rc2 = ts_fs_close_checked(fd, dir, err);
    return rc ? rc : rc2;
}

int ts_fs_fsync_file(const char *path, ts_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ts_fs_sys_error(err, "cannot open", path);
    int rc = fsync(fd) != 0 ? ts_fs_sys_error(err, "cannot fsync", path) : TS_OK;
    int rc2 = ts_fs_close_checked(fd, path, err);
    return rc ? rc : rc2;
}

int ts_fs_fsync_parent(const char *path, ts_error *err)
{
    char *dir = strdup(path);
    if (!dir) return ts_error_set(err, TS_ERUNTIME, "out of memory");
    char *slash = strrchr(dir, '/');
    if (!slash) strcpy(dir, ".");
    else if (slash == dir) slash[1] = '\0';
    else *slash = '\0';
    int rc = ts_fs_fsync_dir(dir, err);
    free(dir);
    return rc;
}

void ts_fs_free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}
