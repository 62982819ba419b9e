/* The command line: the only place that prints for the user and picks exit statuses. */
#ifndef TAILSWEEP_CLI_H
#define TAILSWEEP_CLI_H

#include "tailsweep/error.h"
#include "tailsweep/spec.h"

/* Exit statuses (docs/architecture.md section 7; README, "Running a sweep"). */
enum {
    EXIT_ALL_DONE = 0,
    EXIT_RUNTIME = 1,
    EXIT_USAGE = 2,
    EXIT_FAILED_POINTS = 3,
    EXIT_STOPPED = 75 /* EX_TEMPFAIL: a requeued job resumes */
};

int ts_cmd_run(int argc, char **argv);
/* `run` stops cleanly on SIGTERM, SIGUSR1 and SIGINT; main installs this before MPI_Init so
 * that a signal during start-up is not fatal either. */
void cli_install_stop_handlers(void);
int ts_cmd_collect(int argc, char **argv);
int ts_cmd_plan(int argc, char **argv);
int ts_cmd_describe(int argc, char **argv);
int ts_cmd_status(int argc, char **argv);
int ts_cmd_sample(int argc, char **argv);
int ts_cmd_slurm(int argc, char **argv);
int ts_cmd_export(int argc, char **argv);
int ts_cmd_schedule(int argc, char **argv);

/* Rank 0 prints "tailsweep: <located message>" to stderr; returns the exit status for err. */
int cli_report(const ts_error *err);
/* Print only on rank 0 (all ranks run the CLI under mpiexec). */
int cli_is_root(void);
/* Load a spec, reporting errors; NULL on error (the status is EXIT_USAGE). */
ts_spec *cli_load_spec(const char *path);
/* Can the archive (and OUT.parts/) be written? With create, make the directories (run);
 * without, only check (plan). A failure is a spec error located at `output:` when the path came
 * from the spec. */
int cli_check_output(const ts_spec *spec, const char *output, int from_spec, int create,
                     ts_error *err);
/* "1.5 GiB", "12 KiB" */
const char *cli_bytes(double bytes, char *buf, size_t cap);
/* "1h02m", "42s" */
const char *cli_duration(double seconds, char *buf, size_t cap);
/* "650.1 MiB in 45s, 14.4 MiB/s": the archive at path written in `seconds`. */
const char *cli_archive_rate(const char *path, double seconds, char *buf, size_t cap);

#endif
