/* The registry's conformance test: what every experiment promises, checked on each one's declared
 * test points (ts_experiment.test_points) and on every choice of each of its enum parameters
 * from each, one at a time:
 *   - the declarations pass ts_experiment_validate;
 *   - whatever `check` accepts, `run` does not fail on (a combination that cannot run is refused
 *     before any work, not recorded as a failed run);
 *   - two runs of one point on the same stream give the same bits;
 *   - every metric that is not a theory overlay is filled (somewhere) by the runs that end done;
 *   - each test point runs within its declared memory: in a child process whose data segment
 *     (RLIMIT_DATA) may grow by the declared bytes plus a small slack, `run` succeeds (skipped
 *     under valgrind and AddressSanitizer, whose own allocators the limit would count, and with
 *     CK_FORK=no, where memory the earlier tests freed would serve the run unaccounted).
 * A new experiment gets all of this by declaring its test points. */
#include <check.h>
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <valgrind/valgrind.h>

#include "tailsweep/experiment.h"
#include "tailsweep/linalg.h"
#include "tailsweep/rng.h"
#include "tailsweep/spec.h"
#include "check_main.h"

#if defined(__SANITIZE_ADDRESS__)
#define TS_TEST_ASAN 1
#else
#define TS_TEST_ASAN 0
#endif

#define SEED 31

/* The spec of x's test points. */
static ts_spec *test_spec(const ts_experiment *x)
{
    char text[4096];
    snprintf(text, sizeof text, "experiment: %s\nseed: %d\n%s\n", x->name, SEED, x->test_points);
    ts_error err;
    ts_spec *spec = ts_spec_parse(text, strlen(text), "test_points", ts_experiment_list(), &err);
    ck_assert_msg(spec != NULL, "%s: its test_points do not parse: %s", x->name, err.msg);
    ck_assert_uint_le(spec->grid->npoints, 16); /* a few points, not a sweep */
    return spec;
}

/* A grid of one point: the base values of g with point k's axis values written in. */
static ts_grid *single_point(const ts_grid *g, uint64_t k)
{
    ts_grid *one = ts_grid_alloc(g->experiment);
    one->seed = g->seed;
    ts_point p;
    ts_grid_point(g, k, 0, one->base, &p);
    return one;
}

typedef struct outcome {
    ts_status status;
    ts_error err;
    ts_recorder r;
} outcome;

/* One run of point 0 (the grid's base values) on its stream, substream 0. */
static void run_once(const ts_grid *g, ts_value *values, outcome *out)
{
    ts_point p;
    ts_grid_point(g, 0, 0, values, &p);
    ck_assert_msg(ts_recorder_init(&out->r, &p, &out->err) == TS_OK, "%s: recorder: %s",
                  g->experiment->name, out->err.msg);
    gsl_rng *rng = ts_rng_alloc_for(&p, 0);
    ts_error_clear(&out->err);
    out->status = g->experiment->run(&p, rng, &out->r, &out->err);
    gsl_rng_free(rng);
}

/* What the variant is, for messages: "mode=full" or "the test point". */
static const char *variant_name(const ts_param_def *def, int choice, char *buf, size_t cap)
{
    char name[64];
    if (!def) return snprintf(buf, cap, "the test point"), buf;
    snprintf(buf, cap, "%s=%s", def->name, ts_param_choice_name(def, choice, name));
    return buf;
}

/* Runs the grid's base point if check accepts it: twice, the same bits, not failed; marks the
 * metrics a done run fills. Returns whether it ran. */
static int check_variant(const ts_grid *g, const char *what, int *filled)
{
    const ts_experiment *x = g->experiment;
    ts_value *values = calloc(g->nparams + 1, sizeof *values);
    ts_point p;
    ts_grid_point(g, 0, 0, values, &p);
    ts_error why;
    ts_error_clear(&why);
    if (x->check && x->check(&p, &why) != TS_OK) {
        ck_assert_msg(why.msg[0], "%s, %s: check refuses without a message", x->name, what);
        free(values);
        return 0;
    }
    outcome a, b;
    run_once(g, values, &a);
    run_once(g, values, &b);
    ck_assert_msg(a.status != TS_FAILED, "%s, %s: check accepts it but run fails: %s", x->name,
                  what, a.err.msg);
    ck_assert_int_eq(a.status, b.status);
    ck_assert_uint_eq(a.r.layout.total, b.r.layout.total);
    ck_assert_msg(memcmp(a.r.values, b.r.values, a.r.layout.total * sizeof(double)) == 0,
                  "%s, %s: two runs on one stream differ", x->name, what);
    if (a.status == TS_DONE)
        for (size_t m = 0; m < a.r.layout.nmetrics; m++) {
            size_t end = m + 1 < a.r.layout.nmetrics ? a.r.layout.offset[m + 1] : a.r.layout.total;
            for (size_t k = a.r.layout.offset[m]; k < end && !filled[m]; k++)
                filled[m] = !isnan(a.r.values[k]);
        }
    ts_recorder_free(&a.r);
    ts_recorder_free(&b.r);
    free(values);
    return 1;
}

/* The synthetic experiment fails when its outcome parameter asks it to: it is the engine's test
 * fixture, and that is its purpose. No other exemption. */
static int fails_on_request(const ts_experiment *x, const ts_param_def *def, int choice)
{
    char name[64];
    return !strcmp(x->name, "synthetic") && def && !strcmp(def->name, "outcome") &&
           !strcmp(ts_param_choice_name(def, choice, name), "fail");
}

/* The point, then each other choice of every enum parameter from it; returns the runs made. */
static size_t check_point_and_choices(ts_grid *g, int *filled)
{
    const ts_experiment *x = g->experiment;
    char what[128];
    ck_assert_msg(check_variant(g, variant_name(NULL, 0, what, sizeof what), filled),
                  "%s: check refuses its own test point", x->name);
    size_t ran = 1;
    for (size_t k = 0; k < g->nparams; k++) {
        const ts_param_def *def = &x->params[k];
        if (def->type != TS_ENUM) continue;
        ts_value saved = g->base[k];
        for (int c = 0; ts_param_choice_name(def, c, what)[0]; c++) {
            if (c == saved.e || fails_on_request(x, def, c)) continue;
            g->base[k].e = c;
            ran += (size_t)check_variant(g, variant_name(def, c, what, sizeof what), filled);
        }
        g->base[k] = saved;
    }
    return ran;
}

START_TEST(every_experiment_keeps_its_promises_on_its_test_points_and_each_choice)
{
    for (const ts_experiment *const *e = ts_experiment_list(); *e; e++) {
        const ts_experiment *x = *e;
        ts_error err;
        ck_assert_msg(ts_experiment_validate(x, &err) == TS_OK, "%s: %s", x->name, err.msg);
        ts_spec *spec = test_spec(x);
        int *filled = calloc(ts_metric_count(x->metrics) + 1, sizeof *filled);
        size_t ran = 0;
        for (uint64_t k = 0; k < spec->grid->npoints; k++) {
            ts_grid *one = single_point(spec->grid, k);
            ran += check_point_and_choices(one, filled);
            ts_grid_free(one);
        }
        if (getenv("TS_TEST_VERBOSE")) fprintf(stderr, "%s: %zu runs\n", x->name, ran);
        for (size_t m = 0; x->metrics[m].name; m++)
            ck_assert_msg(filled[m] || x->metrics[m].theory_for,
                          "%s: metric %s stays NaN in all %zu runs (test points and choices)",
                          x->name, x->metrics[m].name, ran);
        free(filled);
        ts_spec_free(spec);
    }
}
END_TEST

/* Kilobytes of a /proc/self/status line ("VmData:  1234 kB"), or -1. */
static long status_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    long kb = -1;
    size_t len = strlen(key);
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, key, len) && line[len] == ':') kb = strtol(line + len + 1, NULL, 10);
    fclose(f);
    return kb;
}

/* In a child: the data segment may grow by the declared bytes plus 2 MiB and 2% for what a run
 * allocates besides its arrays (GSL workspaces, the quadrature rules, stdio); the run must not
 * fail. The BLAS is warmed up first, so that its own buffers (a few hundred MB of address space
 * at start-up) are not charged to the run. */
static int memory_checks_apply(void)
{
    const char *fork_mode = getenv("CK_FORK");
    return !RUNNING_ON_VALGRIND && !TS_TEST_ASAN && !(fork_mode && !strcmp(fork_mode, "no"));
}

static int runs_within(const ts_grid *g, size_t declared, char *msg, size_t cap)
{
    int fd[2];
    ck_assert_int_eq(pipe(fd), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(fd[0]);
        /* Large blocks from fresh mappings, which the limit counts: glibc would otherwise serve
         * them from memory the process freed before, which it does not. */
        mallopt(M_MMAP_THRESHOLD, 64 * 1024);
        ts_value *values = calloc(g->nparams + 1, sizeof *values);
        ts_point p;
        ts_grid_point(g, 0, 0, values, &p);
        ts_recorder r;
        ts_error err;
        gsl_rng *rng = ts_rng_alloc_for(&p, 0);
        if (ts_recorder_init(&r, &p, &err) != TS_OK || !rng) _exit(2);
        long data = status_kb("VmData");
        rlim_t limit = (rlim_t)data * 1024 + declared + declared / 50 + (2u << 20);
        struct rlimit rl = {limit, limit};
        if (data < 0 || setrlimit(RLIMIT_DATA, &rl) != 0) _exit(2);
        ts_error_clear(&err);
        ts_status status = g->experiment->run(&p, rng, &r, &err);

        if (status == TS_FAILED) {
            ssize_t ignored = write(fd[1], err.msg, strlen(err.msg));
            (void)ignored;
        }
        _exit(status == TS_FAILED ? 1 : 0);
    }
    close(fd[1]);
    ssize_t n = read(fd[0], msg, cap - 1);
    msg[n > 0 ? n : 0] = '\0';
    close(fd[0]);
    int wstatus;
    ck_assert_int_eq(waitpid(pid, &wstatus, 0), pid);
    return WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 3;
}

START_TEST(every_test_point_runs_within_its_declared_memory)
{
    if (!memory_checks_apply()) return;
    double a[4] = {1, 2, 3, 4}, c[4];
    ts_linalg_gemm(TS_LINALG_N, TS_LINALG_N, 2, 2, 2, 1.0, a, 2, a, 2, 0.0, c, 2);
    for (const ts_experiment *const *e = ts_experiment_list(); *e; e++) {
        ts_spec *spec = test_spec(*e);
        ts_value *values = calloc(spec->grid->nparams + 1, sizeof *values);
        for (uint64_t k = 0; k < spec->grid->npoints; k++) {
            ts_grid *one = single_point(spec->grid, k);
            ts_point p;
            ts_grid_point(one, 0, 0, values, &p);
            size_t declared = (*e)->memory(&p);
            char msg[1024];
            int rc = runs_within(one, declared, msg, sizeof msg);
            ck_assert_msg(rc == 0, "%s: test point %llu needs more than the %zu bytes it "
                          "declares (exit %d: %s)", (*e)->name, (unsigned long long)k, declared,
                          rc, msg);
            ts_grid_free(one);
        }
        free(values);
        ts_spec_free(spec);
    }
}
END_TEST

START_TEST(the_memory_check_catches_an_understatement)
{
    /* The same child, told that two_layer's test point needs a tenth of what it declares: the
     * limit must make the run fail, or the check above proves nothing. */
    if (!memory_checks_apply()) return;
    const ts_experiment *x = ts_experiment_find("two_layer");
    ts_spec *spec = test_spec(x);
    ts_value *values = calloc(spec->grid->nparams + 1, sizeof *values);
    ts_point p;
    ts_grid_point(spec->grid, 0, 0, values, &p);
    size_t declared = x->memory(&p);
    ck_assert_uint_gt(declared, 4u << 20); /* large enough for the slack not to hide it */
    char msg[1024];
    ck_assert_int_eq(runs_within(spec->grid, declared / 10, msg, sizeof msg), 1);
    ck_assert_ptr_nonnull(strstr(msg, "out of memory"));
    free(values);
    ts_spec_free(spec);
}
END_TEST

TS_TEST_MAIN("conformance",
             every_experiment_keeps_its_promises_on_its_test_points_and_each_choice,
             every_test_point_runs_within_its_declared_memory,
             the_memory_check_catches_an_understatement)
