/* File-system calls, checked: private to the engine, shared by the journal and the archive. */
#ifndef TS_ENGINE_FSUTIL_H
#define TS_ENGINE_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

#include "tailsweep/error.h"

/* "what path: strerror(errno)" as a TS_ERUNTIME error; returns TS_ERUNTIME. */
int ts_fs_sys_error(ts_error *err, const char *what, const char *path);
/* dir "/" name, malloc'd; NULL when out of memory. */
char *ts_fs_path_join(const char *dir, const char *name);
/* All len bytes at offset, retrying short writes and EINTR; 0 or -1 with errno set. */
int ts_fs_pwrite_all(int fd, const unsigned char *buf, size_t len, off_t offset);
int ts_fs_close_checked(int fd, const char *path, ts_error *err);
/* Makes a new or removed directory entry durable (a file system that cannot fsync a directory,
 * EINVAL, is as durable as it gets). */
int ts_fs_fsync_dir(const char *dir, ts_error *err);
/* A file's data on storage. */
int ts_fs_fsync_file(const char *path, ts_error *err);
/* The directory entry of path (its parent directory) on storage. */
int ts_fs_fsync_parent(const char *path, ts_error *err);
/* Frees n malloc'd strings and the array. */
void ts_fs_free_names(char **names, size_t n);

#endif
