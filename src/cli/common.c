#include <errno.h>
#include <libgen.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "tailsweep/checkpoint.h"

int cli_is_root(void)
{
    int initialized = 0, rank = 0;
    MPI_Initialized(&initialized);
    if (initialized) MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    return rank == 0;
}

int cli_report(const ts_error *err)
{
    if (cli_is_root()) {
        char buf[2048];
        fprintf(stderr, "tailsweep: %s\n", ts_error_format(err, buf, sizeof buf));
    }
    return err->code == TS_EUSAGE ? EXIT_USAGE : EXIT_RUNTIME;
}

ts_spec *cli_load_spec(const char *path)
{
    ts_error err;
    ts_error_clear(&err);
    ts_spec *spec = ts_spec_load(path, ts_experiment_list(), &err);
    if (spec && ts_grid_check_points(spec->grid, &err) != TS_OK) {
        snprintf(err.file, sizeof err.file, "%s", path); /* a combination: no single location */
        ts_spec_free(spec);
        spec = NULL;
    }
    if (!spec) cli_report(&err);
    return spec;
}

const char *cli_bytes(double bytes, char *buf, size_t cap)
{
    static const char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int k = 0;
    while (bytes >= 1024 && k < 4) {
        bytes /= 1024;
        k++;
    }
    snprintf(buf, cap, k ? "%.1f %s" : "%.0f %s", bytes, unit[k]);
    return buf;
}

const char *cli_archive_rate(const char *path, double seconds, char *buf, size_t cap)
{
    struct stat st;
    char size[32], time[32];
    if (stat(path, &st) != 0 || seconds <= 0) {
        snprintf(buf, cap, "in %s", cli_duration(seconds, time, sizeof time));
        return buf;
    }
    snprintf(buf, cap, "%s in %s, %.1f MiB/s", cli_bytes((double)st.st_size, size, sizeof size),
             cli_duration(seconds, time, sizeof time), (double)st.st_size / seconds / 1048576.0);
    return buf;
}

const char *cli_duration(double s, char *buf, size_t cap)
{
    if (s < 0) snprintf(buf, cap, "?");
    else if (s < 10) snprintf(buf, cap, "%.2fs", s);
    else if (s < 60) snprintf(buf, cap, "%.0fs", s);
    else if (s < 3600) snprintf(buf, cap, "%dm%02ds", (int)(s / 60), (int)s % 60);
    else snprintf(buf, cap, "%dh%02dm", (int)(s / 3600), (int)(s / 60) % 60);
    return buf;
}

/* mkdir -p */
static int make_dirs(const char *path)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    return mkdir(buf, 0777) != 0 && errno != EEXIST ? -1 : 0;
}

/* Without creating anything: the nearest existing ancestor of path must be a writable dir. */
static int could_create(const char *path)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (;;) {
        char *dir = dirname(buf);
        struct stat st;
        if (stat(dir, &st) == 0) {
            if (!S_ISDIR(st.st_mode)) {
                errno = ENOTDIR;
                return -1;
            }
            return access(dir, W_OK);
        }
        if (errno != ENOENT || strcmp(dir, "/") == 0 || strcmp(dir, ".") == 0) return -1;
        memmove(buf, dir, strlen(dir) + 1);
    }
}

int cli_check_output(const ts_spec *spec, const char *output, int from_spec, int create,
                     ts_error *err)
{
    char *parts = ts_parts_dir(output);
    int rc = TS_OK, ok;
    if (!parts) return ts_error_set(err, TS_ERUNTIME, "out of memory");
    ok = create ? make_dirs(parts) == 0 && access(parts, W_OK) == 0 : could_create(parts) == 0;
    if (!ok) {
        int e = errno;
        if (from_spec && spec->output_line > 0)
            rc = ts_error_at(err, TS_EUSAGE, spec->path, spec->output_line, spec->output_column,
                             "output: cannot write \"%s\": %s", output, strerror(e));
        else
            rc = ts_error_set(err, TS_EUSAGE, "cannot write \"%s\": %s", output, strerror(e));
    }
    free(parts);
    return rc;
}
