/* tailsweep status SPEC|OUT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "tailsweep/checkpoint.h"
#include "tailsweep/engine.h"

static const char status_usage[] =
    "usage: tailsweep status SPEC|OUT\n"
    "\n"
    "How far a sweep is, running or stopped: finished runs (done, diverged, failed), remaining\n"
    "ones, the rate and ETA of the latest invocation, and whether the archive is written; or\n"
    "that it has not started. Exit status 0 in each case.\n"
    "Given OUT (the archive path), it reads the spec saved in OUT.parts/spec.yaml.\n";

static int is_spec_path(const char *path)
{
    size_t n = strlen(path);
    return (n > 5 && !strcmp(path + n - 5, ".yaml")) || (n > 4 && !strcmp(path + n - 4, ".yml"));
}

/* Shard names carry their invocation's start time (shard-r<rank>-<unix time>-<pid>.tsj). */
static long shard_start(const char *path)
{
    const char *base = strrchr(path, '/');
    long rank, start;
    if (sscanf(base ? base + 1 : path, "shard-r%ld-%ld-", &rank, &start) != 2) return -1;
    return start;
}

typedef struct latest {
    long start;        /* of the latest invocation */
    time_t last_write; /* newest shard modification */
    uint64_t runs;     /* finished by the latest invocation */
} latest;

static latest latest_invocation(const ts_parts_index *idx)
{
    latest l = {-1, 0, 0};
    for (size_t f = 0; f < idx->nfiles; f++) {
        long s = shard_start(idx->files[f]);
        if (s > l.start) l.start = s;
    }
    /* Ranks of one invocation start within a minute of each other. */
    uint8_t *mine = calloc(idx->nfiles + 1, 1);
    if (!mine) return l;
    for (size_t f = 0; f < idx->nfiles; f++) {
        struct stat st;
        mine[f] = shard_start(idx->files[f]) >= l.start - 60;
        if (mine[f] && stat(idx->files[f], &st) == 0 && st.st_mtime > l.last_write)
            l.last_write = st.st_mtime;
    }
    for (size_t k = 0; k < idx->nentries; k++) l.runs += mine[idx->entries[k].file];
    free(mine);
    return l;
}

static void report(const ts_spec *spec, const char *output, const char *parts,
                   const ts_parts_index *idx)
{
    uint64_t total = ts_grid_items(spec->grid), counts[4] = {0};
    for (size_t k = 0; k < idx->nentries; k++) counts[idx->entries[k].status]++;
    uint64_t finished = counts[1] + counts[2] + counts[3], remaining = total - finished;
    printf("sweep: %s (experiment %s, %llu runs)\n", output, spec->grid->experiment->name,
           (unsigned long long)total);
    printf("finished: %llu (%llu done, %llu diverged, %llu failed); remaining: %llu\n",
           (unsigned long long)finished, (unsigned long long)counts[1],
           (unsigned long long)counts[2], (unsigned long long)counts[3],
           (unsigned long long)remaining);
    if (idx->torn) printf("journal: %zu torn or corrupt records skipped (recomputed on resume)\n",
                          idx->torn);
    struct stat st;
    int written = stat(output, &st) == 0;
    latest l = latest_invocation(idx);
    if (l.start >= 0) {
        char ago[32], eta[32];
        double since = difftime(time(NULL), l.last_write);
        double span = difftime(l.last_write, (time_t)l.start);
        double rate = span > 0 ? (double)l.runs / span : 0;
        char state[96], when[32];
        long stopped_at;
        if (remaining == 0)
            snprintf(state, sizeof state, "complete");
        else if (ts_parts_stopped(parts, &stopped_at))
            snprintf(state, sizeof state, "stopped by a signal %s ago; rerun to resume",
                     cli_duration(difftime(time(NULL), (time_t)stopped_at), when, sizeof when));
        else
            snprintf(state, sizeof state, "%s", since < 120 ? "probably running"
                                                            : "stopped or idle");
        printf("latest invocation: %llu runs, %.3g runs/s; last result %s ago (%s)\n",
               (unsigned long long)l.runs, rate, cli_duration(since, ago, sizeof ago), state);
        if (remaining && rate > 0)
            printf("ETA at that rate: %s\n",
                   cli_duration((double)remaining / rate, eta, sizeof eta));
    }
    printf("archive: %s\n", written ? "written" : "not written yet");
}

int ts_cmd_status(int argc, char **argv)
{
    if (argc != 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        if (cli_is_root()) fputs(status_usage, argc == 2 ? stdout : stderr);
        return argc == 2 ? 0 : EXIT_USAGE;
    }
    if (!cli_is_root()) return 0;
    char saved[4096];
    const char *spec_path = argv[1], *output = NULL;
    if (!is_spec_path(argv[1])) {
        output = argv[1];
        snprintf(saved, sizeof saved, "%s.parts/spec.yaml", output);
        spec_path = saved;
    }
    ts_spec *spec = cli_load_spec(spec_path);
    if (!spec) return EXIT_USAGE;
    if (!output) output = spec->output;
    ts_error err;
    ts_error_clear(&err);
    char *parts = ts_parts_dir(output), *canonical = ts_grid_canonical(spec->grid);
    char sha[65];
    ts_grid_sha256(spec->grid, sha);
    ts_parts_index idx;
    struct stat st;
    if (stat(parts, &st) != 0) { /* nothing ran yet: a state, not an error (plan says the same) */
        printf("sweep: %s (experiment %s, %llu runs)\nstate: not started (no %s)\n", output,
               spec->grid->experiment->name, (unsigned long long)ts_grid_items(spec->grid), parts);
        free(parts);
        free(canonical);
        ts_spec_free(spec);
        return 0;
    }
    int rc = ts_parts_check(parts, canonical, &err);
    if (rc == TS_OK) {
        ts_layout layout;
        rc = ts_grid_layout(spec->grid, &layout, &err);
        if (rc == TS_OK) {
            rc = ts_parts_scan(parts, sha, ts_grid_items(spec->grid), layout.total, &idx, &err);
            ts_layout_free(&layout);
        }
    }
    if (rc == TS_OK) {
        report(spec, output, parts, &idx);
        ts_parts_index_free(&idx);
    }
    int status = rc ? cli_report(&err) : 0;
    free(parts);
    free(canonical);
    ts_spec_free(spec);
    return status;
}
