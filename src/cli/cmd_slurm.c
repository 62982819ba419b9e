/* tailsweep slurm SPEC [options]: print a ready SLURM batch script for a sweep. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "tailsweep/grid.h"

static const char slurm_usage[] =
    "usage: tailsweep slurm SPEC [options] > job.sbatch      then: sbatch job.sbatch\n"
    "\n"
    "Validates SPEC (a bad spec exits 2) and prints a ready SLURM batch script for it, the same\n"
    "as jobs/sweep.sbatch with the options filled in: one allocation whose ranks run the sweep\n"
    "(srun --mpi=pmix, or mpirun with TAILSWEEP_LAUNCHER=mpirun). SLURM sends SIGUSR1\n"
    "--signal-seconds before the time limit; the sweep then stops taking new runs, keeps every\n"
    "finished one and exits 75, and the job requeues itself and resumes where it stopped.\n"
    "With --array N: a job array (as jobs/array.sbatch) whose task i runs slice i of N\n"
    "(`tailsweep run --slice i/N`); --collect prints the job that writes the archive once every\n"
    "task has succeeded (as jobs/collect.sbatch); the array script's header says how to submit\n"
    "both.\n"
    "\n"
    "options:\n"
    "  -n, --ranks N           MPI ranks (SLURM tasks) of the job, or of each array task\n"
    "                          (default: the run count up to 16; 1 with --array or --collect)\n"
    "  -t, --time T            time limit in SLURM's format: M, M:S, H:M:S, D-H, D-H:M, D-H:M:S\n"
    "                          or UNLIMITED (default: the partition's)\n"
    "  -p, --partition P       partition (default: the site's default)\n"
    "  -A, --account A         account to charge (default: the user's default)\n"
    "  -a, --array N           a job array of N tasks, each running one slice of the runs\n"
    "      --collect           the job that writes the archive after an array\n"
    "      --signal-seconds S  warn S seconds before the time limit (default 300, at most a\n"
    "                          quarter of --time); runs still going then finish if they can\n"
    "      --binary PATH       the tailsweep the job runs (default: $TAILSWEEP when the job\n"
    "                          starts, else `tailsweep` on its PATH)\n"
    "  -J, --job-name NAME     job name (default: ts-<spec file name>)\n"
    "  -o, --output OUT        archive path (default: the spec's `output:`)\n"
    "  -h, --help              this text\n"
    "\n"
    "Relative paths mean what they mean here: the job starts in this directory (--chdir).\n"
    "The script reads these environment variables when it runs: TAILSWEEP (the binary),\n"
    "TAILSWEEP_LAUNCHER (default `srun --mpi=pmix`), TAILSWEEP_REQUEUE=0 (exit 75 on the\n"
    "warning instead of requeueing), TAILSWEEP_MAX_RESTARTS (default 100),\n"
    "TAILSWEEP_STARTUP_SECONDS (pass the warning on no sooner than this long after launching\n"
    "the ranks, which it would kill while they start; default 30).\n";

/* The bodies of jobs/sweep.sbatch (also jobs/array.sbatch) and jobs/collect.sbatch, verbatim:
 * tests/slurm/slurm_jobs.sh checks that the printed scripts and the jobs/ scripts agree, so
 * one tested piece of shell serves both. After editing a body there, paste it back here with
 *   sed -n '/^# ---- job body/,$p' jobs/sweep.sbatch |
 *     sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/    "/' -e 's/$/\\n"/'
 * (and '/^# ---- collect body/' from jobs/collect.sbatch). */
static const char job_body[] =
    "# ---- job body: the same in every tailsweep job script, and in `tailsweep slurm`'s ----\n"
    "# Input: $spec, and options for `tailsweep run` in \"$@\".\n"
    "tailsweep=${TAILSWEEP:-tailsweep}\n"
    "launcher=${TAILSWEEP_LAUNCHER:-srun --mpi=pmix}\n"
    "job=${SLURM_JOB_ID:-none}\n"
    "\n"
    "# An array task runs one deterministic slice; `tailsweep collect` then writes the archive.\n"
    "if [ -n \"${SLURM_ARRAY_TASK_ID:-}\" ]; then\n"
    "    job=${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}\n"
    "    step=${SLURM_ARRAY_TASK_STEP:-1}\n"
    "    slice=$(( (SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN) / step ))\n"
    "    slices=$(( (SLURM_ARRAY_TASK_MAX - SLURM_ARRAY_TASK_MIN) / step + 1 ))\n"
    "    if [ \"$slices\" -ne \"${SLURM_ARRAY_TASK_COUNT:-$slices}\" ]; then\n"
    "        echo \"tailsweep job $job: submit the array as one range, not a list:\" \\\n"
    "            \"slices are numbered by the range\" >&2\n"
    "        exit 2\n"
    "    fi\n"
    "    set -- --slice \"$slice/$slices\" \"$@\"\n"
    "fi\n"
    "\n"
    "restarts=${SLURM_RESTART_COUNT:-0}\n"
    "echo \"tailsweep job $job: start $((restarts + 1)) (SLURM_RESTART_COUNT=$restarts)\" \\\n"
    "    \"at $(date '+%F %T') on ${SLURM_JOB_NODELIST:-?}, ${SLURM_NTASKS:-1} task(s)\"\n"
    "echo \"tailsweep job $job: $launcher $tailsweep run $spec --progress line $*\"\n"
    "\n"
    "# SLURM signals only this shell (--signal=B:...), and bash runs a trap only between commands\n"
    "# or while it `wait`s: so the sweep runs in the background and the shell waits for it.\n"
    "warned=0\n"
    "forwarded=0\n"
    "sweep_pid=\n"
    "forward() { # SIGNAL\n"
    "    if [ -n \"$sweep_pid\" ]; then kill -\"$1\" \"$sweep_pid\" 2>/dev/null; fi\n"
    "}\n"
    "on_warning() {\n"
    "    warned=1\n"
    "    echo \"tailsweep job $job: warning signal at $(date '+%F %T'): stopping the sweep\"\n"
    "}\n"
    "# A rank still starting (loading its libraries, before tailsweep sets its handler) is killed\n"
    "# by SIGUSR1: the warning is passed on no sooner than TAILSWEEP_STARTUP_SECONDS after launch.\n"
    "pass_on_warning() {\n"
    "    early=$((launched + ${TAILSWEEP_STARTUP_SECONDS:-30} - SECONDS))\n"
    "    if [ \"$early\" -gt 0 ]; then sleep \"$early\"; fi\n"
    "    forward USR1\n"
    "    forwarded=1\n"
    "}\n"
    "trap on_warning USR1\n"
    "trap 'forward TERM' TERM\n"
    "\n"
    "launched=$SECONDS\n"
    "$launcher \"$tailsweep\" run \"$spec\" --progress line \"$@\" &\n"
    "sweep_pid=$!\n"
    "while :; do\n"
    "    if [ \"$warned\" -eq 1 ] && [ \"$forwarded\" -eq 0 ]; then pass_on_warning; fi\n"
    "    wait \"$sweep_pid\"\n"
    "    status=$?\n"
    "    # A trapped signal ends `wait` early with a status above 128: the sweep still runs.\n"
    "    if [ \"$status\" -gt 128 ] && kill -0 \"$sweep_pid\" 2>/dev/null; then continue; fi\n"
    "    break\n"
    "done\n"
    "echo \"tailsweep job $job: the sweep exited with status $status at $(date '+%F %T')\"\n"
    "\n"
    "# After the warning, the sweep stops with 75; a rank still starting when the warning reached it\n"
    "# dies of SIGUSR1 instead (128 + 10). Every finished run is journalled either way: both resume.\n"
    "stopped=0\n"
    "if [ \"$warned\" -eq 1 ] && { [ \"$status\" -eq 75 ] || [ \"$status\" -eq 138 ]; }; then stopped=1; fi\n"
    "requeue=${TAILSWEEP_REQUEUE:-1}\n"
    "if [ \"$stopped\" -eq 1 ] && [ \"$requeue\" != 0 ]; then\n"
    "    if [ \"$restarts\" -ge \"${TAILSWEEP_MAX_RESTARTS:-100}\" ]; then\n"
    "        echo \"tailsweep job $job: not requeued after $restarts restarts\" \\\n"
    "            \"(TAILSWEEP_MAX_RESTARTS); resubmit the same command to resume\" >&2\n"
    "        exit 75\n"
    "    fi\n"
    "    echo \"tailsweep job $job: finished runs are kept; requeueing to resume\"\n"
    "    # Requeueing ends this job; its next start resumes where this one stopped.\n"
    "    if scontrol requeue \"$job\"; then exit 0; fi\n"
    "    echo \"tailsweep job $job: scontrol requeue failed; resubmit to resume\" >&2\n"
    "fi\n"
    "exit \"$status\"\n";

static const char collect_body[] =
    "# ---- collect body: the same in jobs/collect.sbatch and `tailsweep slurm --collect` ----\n"
    "# Input: $spec, and options for `tailsweep collect` in \"$@\".\n"
    "tailsweep=${TAILSWEEP:-tailsweep}\n"
    "launcher=${TAILSWEEP_LAUNCHER:-srun --mpi=pmix}\n"
    "job=${SLURM_JOB_ID:-none}\n"
    "echo \"tailsweep collect job $job: $launcher $tailsweep collect $spec $*\" \\\n"
    "    \"at $(date '+%F %T')\"\n"
    "$launcher \"$tailsweep\" collect \"$spec\" \"$@\"\n"
    "status=$?\n"
    "echo \"tailsweep collect job $job: exited with status $status\"\n"
    "exit \"$status\"\n";

enum { SIGNAL_SECONDS_DEFAULT = 300, SIGNAL_SECONDS_MAX = 65535, DEFAULT_RANKS_MAX = 16 };
enum { KIND_SWEEP, KIND_ARRAY, KIND_COLLECT };

typedef struct slurm_args {
    const char *spec, *time, *partition, *account, *binary, *job_name, *output;
    long ranks, array, signal_seconds; /* 0: not given */
    int kind;
    long time_seconds; /* -1: no --time */
} slurm_args;

static int usage_error(const char *fmt, const char *arg)
{
    if (cli_is_root()) {
        fprintf(stderr, "tailsweep slurm: ");
        fprintf(stderr, fmt, arg);
        fprintf(stderr, "\n(see tailsweep slurm --help)\n");
    }
    return EXIT_USAGE;
}

static int parse_count(const char *s, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 1 || v > max) return -1;
    *out = v;
    return 0;
}

/* Reads the digits at *p and leaves *p after them. */
static int time_field(const char **p, long *value)
{
    if (**p < '0' || **p > '9') return -1;
    char *end;
    errno = 0;
    *value = strtol(*p, &end, 10);
    if (errno || *value > 1000000) return -1;
    *p = end;
    return 0;
}

/* Seconds of a SLURM time limit (sbatch(1), --time): M, M:S, H:M:S, D-H, D-H:M, D-H:M:S, or 0,
 * UNLIMITED, INFINITE for none (0 here); -1 when it is none of these. Parsed here so that a typo
 * fails now rather than at submission, and so that the warning can be checked to come before
 * the limit. */
static long slurm_time_seconds(const char *t)
{
    static const char *const unlimited[] = {"UNLIMITED", "unlimited", "INFINITE", "infinite"};
    for (size_t k = 0; k < sizeof unlimited / sizeof unlimited[0]; k++)
        if (!strcmp(t, unlimited[k])) return 0;
    long days = -1, f[3];
    int n = 0;
    const char *p = t;
    if (strchr(t, '-')) {
        if (time_field(&p, &days) || *p != '-') return -1;
        p++;
    }
    for (;;) {
        if (n == 3 || time_field(&p, &f[n])) return -1;
        n++;
        if (*p == '\0') break;
        if (*p++ != ':') return -1;
    }
    long seconds;
    if (days >= 0) {
        long h = f[0], m = n > 1 ? f[1] : 0, s = n > 2 ? f[2] : 0;
        seconds = ((days * 24 + h) * 60 + m) * 60 + s;
    } else if (n == 1) {
        seconds = f[0] * 60;
    } else if (n == 2) {
        seconds = f[0] * 60 + f[1];
    } else {
        seconds = (f[0] * 60 + f[1]) * 60 + f[2];
    }
    return seconds;
}

/* sbatch splits #SBATCH lines at blanks and strips quotes, and the array header's collect
 * command is for a shell: such characters would silently change the value. */
static int plain_word(const char *s)
{
    if (!*s) return 0;
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || strchr("'\"#\\$`", *s) || *s == 127) return 0;
    return 1;
}

static int parse_slurm_args(int argc, char **argv, slurm_args *a, int *done)
{
    static const struct option longopts[] = {
        {"ranks", required_argument, 0, 'n'},     {"time", required_argument, 0, 't'},
        {"partition", required_argument, 0, 'p'}, {"account", required_argument, 0, 'A'},
        {"array", required_argument, 0, 'a'},     {"collect", no_argument, 0, 'c'},
        {"signal-seconds", required_argument, 0, 's'}, {"binary", required_argument, 0, 'b'},
        {"job-name", required_argument, 0, 'J'},  {"output", required_argument, 0, 'o'},
        {"help", no_argument, 0, 'h'},            {0, 0, 0, 0},
    };
    *a = (slurm_args){.kind = KIND_SWEEP, .time_seconds = -1};
    *done = 0;
    opterr = 0;
    optind = 1;
    int c, collect = 0;
    /* The leading ':' tells a missing value (':') from an unknown option ('?'). */
    while ((c = getopt_long(argc, argv, ":n:t:p:A:a:J:o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'n':
            if (parse_count(optarg, 1000000, &a->ranks))
                return usage_error("--ranks takes a whole number >= 1, not \"%s\"", optarg);
            break;
        case 't':
            a->time = optarg;
            a->time_seconds = slurm_time_seconds(optarg);
            if (a->time_seconds < 0)
                return usage_error("--time takes a SLURM time limit (M, M:S, H:M:S, D-H, D-H:M, "
                                   "D-H:M:S or UNLIMITED), not \"%s\"", optarg);
            break;
        case 'p': a->partition = optarg; break;
        case 'A': a->account = optarg; break;
        case 'J': a->job_name = optarg; break;
        case 'a':
            if (parse_count(optarg, 10000000, &a->array))
                return usage_error("--array takes a task count >= 1, not \"%s\"", optarg);
            break;
        case 'c': collect = 1; break;
        case 's':
            if (parse_count(optarg, SIGNAL_SECONDS_MAX, &a->signal_seconds))
                return usage_error("--signal-seconds takes 1 to 65535 seconds, not \"%s\"",
                                   optarg);
            break;
        case 'b': a->binary = optarg; break;
        case 'o': a->output = optarg; break;
        case 'h':
            if (cli_is_root()) fputs(slurm_usage, stdout);
            *done = 1;
            return 0;
        case ':': return usage_error("option \"%s\" needs a value", argv[optind - 1]);
        default: return usage_error("unknown option \"%s\"", argv[optind - 1]);
        }
    }
    if (optind != argc - 1) return usage_error("expected one SPEC file%s", "");
    a->spec = argv[optind];
    if (collect && a->array) return usage_error("--array and --collect are two jobs: print "
                                                "each with its own command%s", "");
    a->kind = collect ? KIND_COLLECT : a->array ? KIND_ARRAY : KIND_SWEEP;
    const char *words[][2] = {{"--partition", a->partition}, {"--account", a->account},
                              {"--job-name", a->job_name}};
    for (size_t k = 0; k < sizeof words / sizeof words[0]; k++)
        if (words[k][1] && !plain_word(words[k][1])) {
            if (cli_is_root())
                fprintf(stderr, "tailsweep slurm: %s takes one word without spaces, quotes, "
                        "'#', '$' or '\\', not \"%s\"\n", words[k][0], words[k][1]);
            return EXIT_USAGE;
        }
    return 0;
}

/* The warning must come before the limit, with time to spare for SLURM's coarse timer (it
 * checks limits about once a minute, so the signal can come up to a minute off). */
static int choose_signal_seconds(slurm_args *a)
{
    if (!a->signal_seconds) {
        a->signal_seconds = SIGNAL_SECONDS_DEFAULT;
        if (a->time_seconds > 0 && a->signal_seconds > a->time_seconds / 4)
            a->signal_seconds = a->time_seconds / 4 > 0 ? a->time_seconds / 4 : 1;
    }
    if (a->time_seconds > 0 && a->signal_seconds >= a->time_seconds) {
        if (cli_is_root())
            fprintf(stderr, "tailsweep slurm: --signal-seconds %ld is not below the time limit "
                    "--time %s (%ld s)\n", a->signal_seconds, a->time, a->time_seconds);
        return EXIT_USAGE;
    }
    return 0;
}

/* A word for the shell, single-quoted ('\'' for a quote) so any path survives. */
static void put_quoted(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'') fputs("'\\''", f);
        else fputc(*s, f);
    }
    fputc('\'', f);
}

/* path made absolute against dir (no symlinks resolved: the path need not exist yet). */
static char *absolute(const char *dir, const char *path)
{
    size_t n = strlen(dir) + strlen(path) + 2;
    char *abs = malloc(n);
    if (!abs) return NULL;
    if (path[0] == '/') snprintf(abs, n, "%s", path);
    else snprintf(abs, n, "%s/%s", dir, path);
    return abs;
}

static void default_job_name(const char *spec, char *buf, size_t cap)
{
    const char *base = strrchr(spec, '/');
    base = base ? base + 1 : spec;
    size_t len = strcspn(base, ".");
    snprintf(buf, cap, "ts-%.*s", (int)len, base);
    for (char *p = buf; *p; p++)
        if (!(((*p | 32) >= 'a' && (*p | 32) <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
              *p == '_'))
            *p = '_';
}

typedef struct script {
    const slurm_args *a;
    const ts_grid *grid;
    const char *cwd, *spec_abs, *output_abs; /* output_abs NULL: the spec's own */
    const char *archive;                     /* what the archive will be, for the header */
    char job_name[128];
    long ranks;
} script;

static void print_sweep_summary(FILE *f, const script *s)
{
    const ts_grid *g = s->grid;
    fprintf(f, "# Sweep: experiment %s, %llu runs (%llu points x %u repeat%s), archive %s\n",
            g->experiment->name, (unsigned long long)ts_grid_items(g),
            (unsigned long long)g->npoints, (unsigned)g->repeats, g->repeats == 1 ? "" : "s",
            s->archive);
}

/* The `tailsweep slurm` command that prints the collect job matching this array. */
static void print_collect_command(FILE *f, const script *s)
{
    fputs("tailsweep slurm ", f);
    put_quoted(f, s->spec_abs);
    fputs(" --collect", f);
    if (s->a->partition) fprintf(f, " -p %s", s->a->partition);
    if (s->a->account) fprintf(f, " -A %s", s->a->account);
    if (s->a->job_name) fprintf(f, " -J %s", s->a->job_name);
    if (s->a->binary) {
        fputs(" --binary ", f);
        put_quoted(f, s->a->binary);
    }
    if (s->output_abs) {
        fputs(" -o ", f);
        put_quoted(f, s->output_abs);
    }
}

static void print_header_comment(FILE *f, const script *s)
{
    const slurm_args *a = s->a;
    fprintf(f, "#!/bin/bash\n# tailsweep %s job for %s, printed by `tailsweep slurm` "
            "(tailsweep %s).\n", a->kind == KIND_ARRAY ? "array" : a->kind == KIND_COLLECT
            ? "collect" : "sweep", s->spec_abs, PACKAGE_VERSION);
    print_sweep_summary(f, s);
    fputs("#\n", f);
    switch (a->kind) {
    case KIND_SWEEP:
        fprintf(f, "# Submit: sbatch THIS_FILE   (sbatch options given there override the lines "
                "below)\n# %ld rank%s run the sweep; %ld s before the time limit SLURM sends "
                "SIGUSR1, the sweep\n# stops cleanly (exit 75) and the job requeues itself and "
                "resumes where it stopped.\n", s->ranks, s->ranks == 1 ? "" : "s",
                a->signal_seconds);
        break;
    case KIND_ARRAY:
        fprintf(f, "# %ld array tasks of %ld rank%s; task i runs slice i of %ld (`tailsweep run "
                "--slice i/%ld`). Each task\n# requeues itself on the warning, %ld s before "
                "its time limit, and resumes.\n# Submit the array, then the job that writes the "
                "archive once every task has succeeded:\n#   ", a->array, s->ranks,
                s->ranks == 1 ? "" : "s", a->array, a->array, a->signal_seconds);
        print_collect_command(f, s);
        fputs(" > collect.sbatch\n#   jid=$(sbatch --parsable THIS_FILE) && "
              "sbatch --dependency=afterok:${jid%%;*} collect.sbatch\n", f);
        break;
    case KIND_COLLECT:
        fputs("# Writes the archive from the runs journalled by the array tasks (unfinished ones "
              "are marked\n# missing). Submit after the array: sbatch "
              "--dependency=afterok:ARRAY_JOB_ID THIS_FILE\n", f);
        break;
    }
}

static void print_directives(FILE *f, const script *s)
{
    const slurm_args *a = s->a;
    fprintf(f, "#SBATCH --job-name=%s\n", s->job_name);
    fprintf(f, "#SBATCH --ntasks=%ld\n", s->ranks);
    if (a->time) fprintf(f, "#SBATCH --time=%s\n", a->time);
    if (a->partition) fprintf(f, "#SBATCH --partition=%s\n", a->partition);
    if (a->account) fprintf(f, "#SBATCH --account=%s\n", a->account);
    if (a->kind == KIND_ARRAY) fprintf(f, "#SBATCH --array=0-%ld\n", a->array - 1);
    if (a->kind != KIND_COLLECT)
        fprintf(f, "#SBATCH --signal=B:USR1@%ld\n#SBATCH --requeue\n", a->signal_seconds);
    fputs("#SBATCH --open-mode=append\n", f);
    fprintf(f, "#SBATCH --output=%s\n", a->kind == KIND_ARRAY ? "%x-%A_%a.out" : "%x-%j.out");
    /* sbatch splits directives at blanks unless they stand in double quotes. */
    fprintf(f, strpbrk(s->cwd, " \t") ? "#SBATCH --chdir=\"%s\"\n" : "#SBATCH --chdir=%s\n",
            s->cwd);
}

static void print_script(FILE *f, const script *s)
{
    print_header_comment(f, s);
    print_directives(f, s);
    fputs("\nset -u\nspec=", f);
    put_quoted(f, s->spec_abs);
    fputs("\n", f);
    if (s->output_abs) {
        fputs("set -- -o ", f);
        put_quoted(f, s->output_abs);
        fputs(" \"$@\"\n", f);
    }
    if (s->a->binary) {
        fputs("TAILSWEEP=${TAILSWEEP:-", f);
        put_quoted(f, s->a->binary);
        fputs("}\n", f);
    }
    fputs("\n", f);
    fputs(s->a->kind == KIND_COLLECT ? collect_body : job_body, f);
}

static long default_ranks(const slurm_args *a, const ts_grid *g)
{
    if (a->ranks) return a->ranks;
    if (a->kind != KIND_SWEEP) return 1;
    uint64_t runs = ts_grid_items(g);
    return runs < DEFAULT_RANKS_MAX ? (long)runs : DEFAULT_RANKS_MAX;
}

/* Ranks or tasks beyond the run count would only wait; say so, but the user may know better
 * (e.g. a spec about to grow). */
static void note_idle(const slurm_args *a, long ranks, uint64_t runs)
{
    uint64_t workers = (uint64_t)ranks * (uint64_t)(a->kind == KIND_ARRAY ? a->array : 1);
    if (a->kind != KIND_COLLECT && workers > runs)
        fprintf(stderr, "tailsweep slurm: note: %llu ranks for %llu runs: %llu will have "
                "nothing to do\n", (unsigned long long)workers, (unsigned long long)runs,
                (unsigned long long)(workers - runs));
}

static int print_for_spec(const slurm_args *a, const ts_spec *spec)
{
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd)) {
        fprintf(stderr, "tailsweep slurm: cannot read the current directory: %s\n",
                strerror(errno));
        return EXIT_RUNTIME;
    }
    if (strpbrk(cwd, "\"\n") || strchr(a->spec, '\n') || (a->output && strchr(a->output, '\n'))) {
        fprintf(stderr, "tailsweep slurm: a path with a newline (or a directory with '\"') "
                "cannot go in a job script\n");
        return EXIT_USAGE;
    }
    script s = {.a = a, .grid = spec->grid, .cwd = cwd};
    char *spec_abs = absolute(cwd, a->spec);
    char *output_abs = a->output ? absolute(cwd, a->output) : NULL;
    char *archive = absolute(cwd, a->output ? a->output : spec->output);
    int rc = EXIT_RUNTIME;
    if (!spec_abs || !archive || (a->output && !output_abs)) {
        fprintf(stderr, "tailsweep slurm: out of memory\n");
    } else {
        s.spec_abs = spec_abs;
        s.output_abs = output_abs;
        s.archive = archive;
        s.ranks = default_ranks(a, spec->grid);
        if (a->job_name) snprintf(s.job_name, sizeof s.job_name, "%s", a->job_name);
        else default_job_name(a->spec, s.job_name, sizeof s.job_name);
        if (a->kind == KIND_COLLECT) {
            size_t len = strlen(s.job_name);
            snprintf(s.job_name + len, sizeof s.job_name - len, "-collect");
        }
        note_idle(a, s.ranks, ts_grid_items(spec->grid));
        print_script(stdout, &s);
        if (fflush(stdout) == 0 && !ferror(stdout)) rc = 0;
        else fprintf(stderr, "tailsweep slurm: cannot write the script: %s\n", strerror(errno));
    }
    free(spec_abs);
    free(output_abs);
    free(archive);
    return rc;
}

int ts_cmd_slurm(int argc, char **argv)
{
    slurm_args a;
    int done;
    int rc = parse_slurm_args(argc, argv, &a, &done);
    if (rc || done) return rc;
    if ((rc = choose_signal_seconds(&a))) return rc;
    ts_spec *spec = cli_load_spec(a.spec);
    if (!spec) return EXIT_USAGE;
    if (!cli_is_root()) {
        ts_spec_free(spec);
        return 0;
    }
    ts_error err;
    ts_error_clear(&err);
    uint64_t runs = ts_grid_items(spec->grid);
    if (a.kind == KIND_ARRAY && (uint64_t)a.array > runs) {
        fprintf(stderr, "tailsweep slurm: --array %ld: more tasks than the %llu runs of %s\n",
                a.array, (unsigned long long)runs, a.spec);
        rc = EXIT_USAGE;
    } else if (cli_check_output(spec, a.output ? a.output : spec->output, !a.output, 0, &err)) {
        rc = cli_report(&err);
    } else {
        rc = print_for_spec(&a, spec);
    }
    ts_spec_free(spec);
    return rc;
}
