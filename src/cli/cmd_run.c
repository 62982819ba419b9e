/* tailsweep run / collect */
#include <getopt.h>
#include <mpi.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "tailsweep/checkpoint.h"
#include "tailsweep/engine.h"
#include "tailsweep/linalg.h"

static const char run_usage[] =
    "usage: tailsweep run SPEC [options]        (alone, or under mpiexec -n N / srun)\n"
    "\n"
    "Runs every (point, repeat) of the sweep that is not finished yet, largest first, spread\n"
    "dynamically over the MPI ranks, and writes OUT (an HDF5 archive) once all are finished.\n"
    "Finished runs are journalled in OUT.parts/ as they complete: rerunning the same command\n"
    "after a crash, kill or time limit resumes where it stopped, and the archive is identical\n"
    "to an uninterrupted run's.\n"
    "\n"
    "options:\n"
    "  -o, --output OUT         archive path (default: the spec's `output:`)\n"
    "      --fresh              discard every finished run and start over (needed to run a\n"
    "                           changed spec on an OUT that holds runs of the old one)\n"
    "      --progress MODE      auto (live line on a terminal, else a line every interval),\n"
    "                           line, or none (default auto)\n"
    "      --progress-interval S  seconds between progress lines (default 10)\n"
    "      --sync-interval S    fsync the journal at least every S seconds (default 2; a\n"
    "                           killed process loses nothing finished, a crashed node at most S s)\n"
    "      --slice I/N          run only slice I of N (0-based), for SLURM job arrays; then\n"
    "                           `tailsweep collect` writes the archive\n"
    "      --blas-threads N     threads of each BLAS call (default 1: the MPI ranks fill the\n"
    "                           cores; raise it with fewer ranks per node than cores)\n"
    "  -h, --help               this text\n"
    "\n"
    "SIGTERM, SIGUSR1 (SLURM's warning before a time limit) and SIGINT stop taking new runs,\n"
    "let running ones finish, keep everything finished and exit 75.\n"
    "Exit status: 0 all runs done or diverged; 1 runtime error; 2 spec or usage error;\n"
    "3 finished with failed runs; 75 stopped by a signal.\n";

static volatile sig_atomic_t stop_requested = 0;

static void on_stop_signal(int sig)
{
    stop_requested = 1;
    /* A second signal acts as usual, so an impatient user can still kill the run. */
    if (sig == SIGINT) signal(sig, SIG_DFL);
}

void cli_install_stop_handlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
}

typedef struct progress_printer {
    int live; /* rewrite one line on a terminal */
} progress_printer;

static void print_progress(const ts_progress *p, void *ctx)
{
    progress_printer *pp = ctx;
    char eta[32], elapsed[32];
    uint64_t finished = p->resumed + p->done;
    double percent = p->total ? 100.0 * (double)finished / (double)p->total : 100.0;
    fprintf(stderr,
            "%stailsweep: %llu/%llu runs (%.1f%%), %.3g runs/s, elapsed %s, ETA %s, "
            "%llu diverged, %llu failed%s",
            pp->live ? "\r\033[K" : "", (unsigned long long)finished,
            (unsigned long long)p->total, percent, p->rate,
            cli_duration(p->elapsed, elapsed, sizeof elapsed),
            p->final ? "0s" : cli_duration(p->eta, eta, sizeof eta),
            (unsigned long long)p->diverged, (unsigned long long)p->failed,
            pp->live && !p->final ? "" : "\n");
    fflush(stderr);
}

typedef struct run_args {
    const char *spec, *output, *progress;
    int fresh;
    double progress_interval, sync_interval;
    unsigned slice_index, slice_count;
    int blas_threads;
} run_args;

static int parse_slice(const char *s, run_args *a)
{
    char extra;
    if (sscanf(s, "%u/%u%c", &a->slice_index, &a->slice_count, &extra) != 2 ||
        a->slice_count == 0 || a->slice_index >= a->slice_count)
        return -1;
    return 0;
}

static int usage_error(const char *fmt, const char *arg)
{
    if (cli_is_root()) {
        fprintf(stderr, "tailsweep run: ");
        fprintf(stderr, fmt, arg);
        fprintf(stderr, "\n(see tailsweep run --help)\n");
    }
    return EXIT_USAGE;
}

static int parse_run_args(int argc, char **argv, run_args *a, int *done)
{
    static const struct option longopts[] = {
        {"output", required_argument, 0, 'o'}, {"fresh", no_argument, 0, 'f'},
        {"progress", required_argument, 0, 'p'}, {"progress-interval", required_argument, 0, 'i'},
        {"sync-interval", required_argument, 0, 's'}, {"slice", required_argument, 0, 'S'},
        {"blas-threads", required_argument, 0, 'B'}, {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    *a = (run_args){.progress = "auto", .progress_interval = 10, .sync_interval = 2,
                    .blas_threads = 1};
    *done = 0;
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'o': a->output = optarg; break;
        case 'f': a->fresh = 1; break;
        case 'p':
            if (strcmp(optarg, "auto") && strcmp(optarg, "line") && strcmp(optarg, "none"))
                return usage_error("--progress takes auto, line or none, not \"%s\"", optarg);
            a->progress = optarg;
            break;
        case 'i':
        case 's': {
            double x = strtod(optarg, &end);
            if (*end || x < 0) return usage_error("expected seconds >= 0, found \"%s\"", optarg);
            if (c == 'i') a->progress_interval = x;
            else a->sync_interval = x;
            break;
        }
        case 'B': {
            long n = strtol(optarg, &end, 10);
            if (*end || end == optarg || n < 1 || n > 1024)
                return usage_error("--blas-threads takes a whole number from 1 to 1024, found "
                                   "\"%s\"", optarg);
            a->blas_threads = (int)n;
            break;
        }
        case 'S':
            if (parse_slice(optarg, a)) return usage_error("--slice takes I/N with 0 <= I < N, "
                                                           "found \"%s\"", optarg);
            break;
        case 'h':
            if (cli_is_root()) fputs(run_usage, stdout);
            *done = 1;
            return 0;
        default: return usage_error("unknown option \"%s\"", argv[optind - 1]);
        }
    }
    if (optind != argc - 1) return usage_error("expected one SPEC file%s", "");
    a->spec = argv[optind];
    return 0;
}

/* Keep the spec's text beside the shards, so `status OUT` works without the spec file; never
 * over the copy of another sweep that this run is about to refuse. */
static void save_spec_copy(const ts_spec *spec, const char *output, int fresh)
{
    char *parts = ts_parts_dir(output);
    char *canonical = ts_grid_canonical(spec->grid);
    ts_error err;
    int other_sweep = parts && canonical && ts_parts_check(parts, canonical, &err) == TS_EUSAGE;
    free(canonical);
    if (!parts || (other_sweep && !fresh)) {
        free(parts);
        return;
    }
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/spec.yaml", parts);
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (f) {
        int ok = fwrite(spec->text, 1, spec->text_len, f) == spec->text_len;
        ok = (fclose(f) == 0) && ok;
        if (ok) rename(tmp, path);
        else remove(tmp);
    }
    free(parts);
}

static int exit_status(const ts_run_summary *s)
{
    if (s->stopped) return EXIT_STOPPED;
    if (s->failed) return EXIT_FAILED_POINTS;
    return EXIT_ALL_DONE;
}

static void print_summary(const ts_run_summary *s, const char *output, int ranks,
                          const run_args *a)
{
    char wall[32], compute[32], journal[32];
    fprintf(stdout, "tailsweep: %llu runs in %s (computing %s, of which journal %s) on %d rank%s: "
            "%llu finished now, %llu before; %llu diverged, %llu failed, %llu missing\n",
            (unsigned long long)s->total, cli_duration(s->wall_seconds, wall, sizeof wall),
            cli_duration(s->compute_seconds, compute, sizeof compute),
            cli_duration(s->journal_seconds, journal, sizeof journal), ranks,
            ranks == 1 ? "" : "s", (unsigned long long)s->done, (unsigned long long)s->resumed,
            (unsigned long long)s->diverged, (unsigned long long)s->failed,
            (unsigned long long)s->missing);
    if (s->archive_written) {
        char rate[64];
        fprintf(stdout, "tailsweep: archive written: %s (%s)\n", output,
                cli_archive_rate(output, s->archive_seconds, rate, sizeof rate));
    }
    else if (s->stopped)
        fprintf(stdout, "tailsweep: stopped; rerun the same command to resume (%s.parts/)\n",
                output);
    else if (a->slice_count)
        fprintf(stdout, "tailsweep: slice %u/%u finished; `tailsweep collect %s%s%s` writes the "
                "archive once every slice is done\n", a->slice_index, a->slice_count, a->spec,
                a->output ? " -o " : "", a->output ? a->output : "");
}

/* Tells `tailsweep status` at once that this invocation stopped (slices share the directory
 * and do not note). A failure costs only that: status then infers it from the journal's age. */
static void note_stop(const char *output)
{
    char *parts = ts_parts_dir(output);
    ts_error err;
    ts_error_clear(&err);
    if (parts && ts_parts_note_stop(parts, &err) != TS_OK)
        fprintf(stderr, "tailsweep: warning: %s\n", err.msg);
    free(parts);
}

int ts_cmd_run(int argc, char **argv)
{
    run_args a;
    int done;
    int rc = parse_run_args(argc, argv, &a, &done);
    if (rc || done) return rc;
    ts_linalg_set_threads(a.blas_threads);
    ts_spec *spec = cli_load_spec(a.spec);
    if (!spec) return EXIT_USAGE;
    const char *output = a.output ? a.output : spec->output;
    int size;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    ts_error err;
    ts_error_clear(&err);
    rc = cli_is_root() ? cli_check_output(spec, output, !a.output, 1, &err) : TS_OK;
    MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (rc) {
        ts_spec_free(spec);
        return cli_report(&err);
    }
    if (cli_is_root()) save_spec_copy(spec, output, a.fresh);
    progress_printer pp = {.live = strcmp(a.progress, "auto") == 0 && isatty(STDERR_FILENO)};
    ts_run_options opt = {
        .output = output, .fresh = a.fresh, .stop = &stop_requested,
        .progress = strcmp(a.progress, "none") ? print_progress : NULL, .progress_ctx = &pp,
        .progress_interval = pp.live ? 0.5 : a.progress_interval,
        .sync_seconds = a.sync_interval, .slice_index = a.slice_index,
        .slice_count = a.slice_count,
    };
    ts_run_summary summary;
    rc = ts_engine_run(MPI_COMM_WORLD, spec, &opt, &summary, &err);
    int status = rc ? cli_report(&err) : exit_status(&summary);
    if (!rc && cli_is_root()) print_summary(&summary, output, size, &a);
    if (!rc && cli_is_root() && summary.stopped && !a.slice_count) note_stop(output);
    ts_spec_free(spec);
    return status;
}

static const char collect_usage[] =
    "usage: tailsweep collect SPEC [-o OUT]\n"
    "\n"
    "Writes the archive OUT (default: the spec's `output:`) from the runs finished so far, also\n"
    "while the sweep is still running: unfinished runs have status 0 (missing) and NaN values.\n"
    "A later `tailsweep run` overwrites it with the complete archive.\n";

int ts_cmd_collect(int argc, char **argv)
{
    const char *spec_path = NULL, *output = NULL;
    for (int k = 1; k < argc; k++) {
        if (!strcmp(argv[k], "-h") || !strcmp(argv[k], "--help")) {
            if (cli_is_root()) fputs(collect_usage, stdout);
            return 0;
        } else if ((!strcmp(argv[k], "-o") || !strcmp(argv[k], "--output")) && k + 1 < argc) {
            output = argv[++k];
        } else if (argv[k][0] != '-' && !spec_path) {
            spec_path = argv[k];
        } else {
            if (cli_is_root()) fprintf(stderr, "tailsweep collect: unexpected \"%s\"\n%s",
                                       argv[k], collect_usage);
            return EXIT_USAGE;
        }
    }
    if (!spec_path) {
        if (cli_is_root()) fputs(collect_usage, stderr);
        return EXIT_USAGE;
    }
    ts_spec *spec = cli_load_spec(spec_path);
    if (!spec) return EXIT_USAGE;
    if (!output) output = spec->output;
    int size;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    ts_error err;
    ts_error_clear(&err);
    uint64_t counts[4] = {0};
    double start = MPI_Wtime();
    int rc = ts_engine_collect(MPI_COMM_WORLD, spec, output, size, &err);
    double seconds = MPI_Wtime() - start;
    if (rc == TS_OK && cli_is_root()) rc = ts_engine_tally(spec, output, counts, &err);
    int status = rc ? cli_report(&err) : 0;
    char rate[64];
    if (!rc && cli_is_root())
        printf("tailsweep: archive written: %s (%llu done, %llu diverged, %llu failed, "
               "%llu missing; %s)\n", output, (unsigned long long)counts[1],
               (unsigned long long)counts[2], (unsigned long long)counts[3],
               (unsigned long long)counts[0],
               cli_archive_rate(output, seconds, rate, sizeof rate));
    ts_spec_free(spec);
    return status;
}
