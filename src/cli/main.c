/* tailsweep: run large parameter sweeps of optimizer-dynamics simulations on MPI clusters. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <hdf5.h>

#include "cli.h"
#include "config.h"

static const char usage[] =
    "usage: tailsweep COMMAND [ARGS]   (under mpiexec / srun, or alone)\n"
    "\n"
    "commands:\n"
    "  run SPEC [-o OUT] [--fresh] [--progress auto|line|none]\n"
    "                       run the sweep (resumes a stopped one), write the HDF5 archive\n"
    "  plan SPEC [--list]   validate; show axes, run count, cost and memory estimates\n"
    "  status SPEC|OUT      finished / diverged / failed / remaining runs, rate, ETA\n"
    "  collect SPEC [-o OUT] write an archive from the runs finished so far (others missing)\n"
    "  describe [EXPERIMENT] experiments, their parameters, ranges, units and metrics\n"
    "  sample levy|levy-iso|zipf ...  draw from the samplers the experiments use\n"
    "  slurm SPEC [options]  print a ready sbatch script for the sweep\n"
    "  export ARCHIVE --csv  the archive as CSV (one row per run and record), no Python needed\n"
    "  schedule SHAPE|refine|bound ...  step-size schedules, refinement from gradient norms,\n"
    "                       the last-iterate bound (for any training log)\n"
    "\n"
    "`tailsweep COMMAND --help` explains each command. Exit status: 0 every run done or\n"
    "diverged; 1 runtime error; 2 usage or spec error; 3 finished with failed runs;\n"
    "75 stopped by a signal (SIGTERM, SIGUSR1, SIGINT) with all finished runs kept.\n";

typedef struct command {
    const char *name;
    int (*fn)(int, char **);
} command;

static const command commands[] = {
    {"run", ts_cmd_run},       {"plan", ts_cmd_plan},         {"status", ts_cmd_status},
    {"collect", ts_cmd_collect}, {"describe", ts_cmd_describe}, {"sample", ts_cmd_sample},
    {"slurm", ts_cmd_slurm},     {"export", ts_cmd_export},     {"schedule", ts_cmd_schedule},
};

static int dispatch(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        if (cli_is_root()) fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        if (cli_is_root()) printf("tailsweep %s\n", PACKAGE_VERSION);
        return 0;
    }
    for (size_t k = 0; k < sizeof commands / sizeof commands[0]; k++)
        if (strcmp(argv[1], commands[k].name) == 0) return commands[k].fn(argc - 1, argv + 1);
    if (cli_is_root())
        fprintf(stderr, "tailsweep: unknown command \"%s\"\n\n%s", argv[1], usage);
    return EXIT_USAGE;
}

/* Whether a launcher started this process as one rank of several (Open MPI, PMI, PMIx). */
static int launched_as_a_rank(void)
{
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMI_SIZE") || getenv("PMIX_RANK");
}

/* plan, describe, status, slurm, sample, export and schedule work serially: outside a
 * launcher they skip MPI_Init, which costs half a second alone and, as a singleton next to a
 * running sweep that keeps every core busy, waited seconds for it to end (`tailsweep status` of
 * a live sweep). Serial HDF5 (the default file driver) needs no MPI even in a parallel build. */
static int needs_mpi(int argc, char **argv)
{
    static const char *const serial[] = {"plan",   "describe", "status",  "slurm",
                                         "sample", "export",   "schedule"};
    if (launched_as_a_rank() || argc < 2) return 1;
    for (size_t k = 0; k < sizeof serial / sizeof serial[0]; k++)
        if (strcmp(argv[1], serial[k]) == 0) return 0;
    return 1;
}

int main(int argc, char **argv)
{
    /* Rank 0 serves work requests from a helper thread while it computes. */
    if (argc > 1 && strcmp(argv[1], "run") == 0) cli_install_stop_handlers();
    int provided, mpi = needs_mpi(argc, argv);
    if (mpi) MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
    gsl_set_error_handler_off();
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    int status = dispatch(argc, argv);
    fflush(stdout);
    if (mpi) MPI_Finalize();
    return status;
}
