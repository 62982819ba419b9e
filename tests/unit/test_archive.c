/* NP=2 */
/* The archive writer (src/engine/archive.c), run under MPI with two ranks (tests/mpi-run).
 *
 * Every collective step (shards, archives) runs once in main() before the suite; the tests only
 * read the files back with the HDF5 C API, so a failing assertion on one rank cannot leave the
 * other waiting in a collective call. Records are synthetic (value = f(item, index)) so every
 * value in the archive can be traced back to the run and slot it came from. */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hdf5.h>
#include <hdf5_hl.h>

#include "tailsweep/archive.h"
#include "tailsweep/checkpoint.h"
#include "tailsweep/experiment.h"
#include "tailsweep/grid.h"
#include "tailsweep/record.h"
#include "tailsweep/rng.h"

#define FAILED_ITEM 5
#define DIVERGED_ITEM 8
#define FAILURE_TEXT "synthetic failure of run 5: singular matrix"
#define RECORDS_A 5
#define RECORDS_B 4

static int g_rank, g_nranks;
static char g_dir[256];

/* ------------------------------------------------------------------ the synthetic sweep */

typedef struct scenario {
    ts_grid *grid;
    ts_spec spec;
    size_t nvalues;
    char sha[65];
} scenario;

static int is_missing(uint64_t item) { return item % 7 == 3; }

static ts_status status_of(uint64_t item)
{
    if (is_missing(item)) return TS_MISSING;
    if (item == FAILED_ITEM) return TS_FAILED;
    if (item == DIVERGED_ITEM) return TS_DIVERGED;
    return TS_DONE;
}

/* Distinct for every (item, slot), exactly representable. */
static double value_of(uint64_t item, size_t slot)
{
    return (double)item * 1000.0 + (double)slot + 0.25;
}

static void set_record_rule(ts_grid *g, int64_t count)
{
    int rec = ts_param_index(g->experiment->params, "record");
    g->base[rec].rec = (ts_record_rule){TS_RECORD_LINEAR, count};
}

static size_t values_per_run(const ts_grid *g)
{
    ts_value v[64];
    ts_point p;
    ts_layout l;
    ts_error err;
    ts_grid_point(g, 0, 0, v, &p);
    if (ts_layout_init(&l, g->experiment, &p, &err)) return 0;
    size_t n = l.total;
    ts_layout_free(&l);
    return n;
}

static void scenario_finish(scenario *s, const char *text)
{
    s->spec = (ts_spec){.text = (char *)text, .text_len = strlen(text), .grid = s->grid};
    s->nvalues = values_per_run(s->grid);
    ts_grid_sha256(s->grid, s->sha);
}

/* quadratic swept over step_size (3 reals) x zip0 {dim, steps} (2) x mode (2 strings),
 * 2 repeats: 24 runs; steps on an axis makes the record times differ between points. */
static void scenario_a(scenario *s)
{
    const ts_experiment *x = ts_experiment_find("quadratic");
    ts_error err;
    s->grid = ts_grid_alloc(x);
    int step = ts_param_index(x->params, "step_size"), dim = ts_param_index(x->params, "dim");
    int steps = ts_param_index(x->params, "steps"), mode = ts_param_index(x->params, "mode");
    ts_value sizes[3] = {{.type = TS_REAL, .r = 0.5}, {.type = TS_REAL, .r = 1.0},
                         {.type = TS_REAL, .r = 1.5}};
    int zp[2] = {dim, steps};
    ts_value zv[4] = {{.type = TS_INT, .i = 4}, {.type = TS_INT, .i = 8},
                      {.type = TS_INT, .i = 10}, {.type = TS_INT, .i = 20}};
    ts_value modes[2] = {{.type = TS_ENUM, .e = 0}, {.type = TS_ENUM, .e = 1}};
    ts_grid_add_axis(s->grid, "step_size", 1, &step, sizes, 3, 0, &err);
    ts_grid_add_axis(s->grid, "zip0", 2, zp, zv, 2, 1, &err);
    ts_grid_add_axis(s->grid, "mode", 1, &mode, modes, 2, 0, &err);
    s->grid->repeats = 2;
    s->grid->seed = 7;
    set_record_rule(s->grid, RECORDS_A);
    scenario_finish(s, "experiment: quadratic\n# scenario A, built in code by test_archive\n");
}

/* No axes at all: one point, 4 repeats (run 3 missing), fixed record times. */
static void scenario_b(scenario *s)
{
    s->grid = ts_grid_alloc(ts_experiment_find("quadratic"));
    s->grid->repeats = 4;
    s->grid->seed = 11;
    set_record_rule(s->grid, RECORDS_B);
    scenario_finish(s, "experiment: quadratic\n# scenario B\n");
}

/* Rank r journals the items with item % nranks == r (missing ones skipped). */
static int write_shards(const scenario *s, const char *dir, ts_error *err)
{
    if (g_rank == 0 && mkdir(dir, 0755) != 0) return ts_error_set(err, 1, "mkdir %s", dir);
    MPI_Barrier(MPI_COMM_WORLD);
    ts_shard_writer *w = ts_shard_create(dir, g_rank, s->sha, 0.0, err);
    if (!w) return 1;
    double *values = malloc(s->nvalues * sizeof *values);
    int rc = 0;
    for (uint64_t item = (uint64_t)g_rank; item < ts_grid_items(s->grid) && !rc;
         item += (uint64_t)g_nranks) {
        if (is_missing(item)) continue;
        ts_run_record rec = {.item = item, .status = status_of(item), .rank = g_rank,
                             .wall_seconds = 0.5 * (double)item, .values = values,
                             .nvalues = s->nvalues};
        snprintf(rec.host, sizeof rec.host, "node-%d", g_rank);
        if (item == FAILED_ITEM) snprintf(rec.message, sizeof rec.message, FAILURE_TEXT);
        for (size_t k = 0; k < s->nvalues; k++)
            values[k] = item == FAILED_ITEM ? NAN : value_of(item, k);
        rc = ts_shard_append(w, &rec, err);
    }
    free(values);
    if (ts_shard_close(w, err)) rc = 1;
    MPI_Barrier(MPI_COMM_WORLD);
    return rc;
}

static const ts_archive_meta META = {"2025-01-02T03:04:05Z", "2025-01-02T03:04:06Z", 2};

static int write_archive(MPI_Comm comm, const scenario *s, const char *parts, const char *name,
                         ts_error *err)
{
    ts_parts_index idx;
    int rc = ts_parts_scan(parts, s->sha, ts_grid_items(s->grid), s->nvalues, &idx, err), any;
    /* ts_archive_write is collective: call it on every rank of comm or on none. */
    MPI_Allreduce(&rc, &any, 1, MPI_INT, MPI_MAX, comm);
    if (any) {
        ts_parts_index_free(&idx);
        return rc ? rc : ts_error_set(err, TS_ERUNTIME, "scan failed on another rank");
    }
    char path[512];
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    rc = ts_archive_write(comm, &s->spec, &idx, path, &META, err);
    ts_parts_index_free(&idx);
    return rc;
}

/* ------------------------------------------------------------------ results of main's setup */

static scenario A, B;
static int setup_rc;
static char setup_msg[1200];
static int bad_rc, bad_same_message, bad_left_temp;
static char bad_msg[1024];

static void record_setup_failure(const char *what, const ts_error *err)
{
    if (!setup_rc) snprintf(setup_msg, sizeof setup_msg, "%s: %s", what, err->msg);
    setup_rc = 1;
}

static int dir_has_temp(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    int found = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        found |= strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    if (d) closedir(d);
    return found;
}

static void setup(void)
{
    ts_error err = {0};
    char parts_a[300], parts_b[300];
    scenario_a(&A);
    scenario_b(&B);
    snprintf(parts_a, sizeof parts_a, "%s/a.parts", g_dir);
    snprintf(parts_b, sizeof parts_b, "%s/b.parts", g_dir);
    if (write_shards(&A, parts_a, &err)) record_setup_failure("shards A", &err);
    if (write_shards(&B, parts_b, &err)) record_setup_failure("shards B", &err);
    if (write_archive(MPI_COMM_WORLD, &A, parts_a, "a2.h5", &err))
        record_setup_failure("archive a2", &err);
    if (write_archive(MPI_COMM_WORLD, &B, parts_b, "b2.h5", &err))
        record_setup_failure("archive b2", &err);
    /* Many rounds: blocks of 1 and of 5 points (5 straddles rows of the 3 x 2 x 2 grid). */
    setenv("TAILSWEEP_ARCHIVE_BLOCK_POINTS", "1", 1);
    if (write_archive(MPI_COMM_WORLD, &A, parts_a, "a2_block1.h5", &err))
        record_setup_failure("archive a2_block1", &err);
    setenv("TAILSWEEP_ARCHIVE_BLOCK_POINTS", "5", 1);
    if (write_archive(MPI_COMM_WORLD, &A, parts_a, "a2_block5.h5", &err))
        record_setup_failure("archive a2_block5", &err);
    unsetenv("TAILSWEEP_ARCHIVE_BLOCK_POINTS");
    if (g_rank == 0 && write_archive(MPI_COMM_SELF, &A, parts_a, "a1.h5", &err))
        record_setup_failure("archive a1", &err);
    MPI_Barrier(MPI_COMM_WORLD);

    /* A directory that does not exist: every rank must fail alike, leaving nothing behind. */
    char bad_dir[300];
    snprintf(bad_dir, sizeof bad_dir, "%s/no/such/dir", g_dir);
    ts_parts_index idx;
    ts_error bad = {0};
    if (ts_parts_scan(parts_a, A.sha, ts_grid_items(A.grid), A.nvalues, &idx, &bad))
        record_setup_failure("scan", &bad);
    char path[400];
    snprintf(path, sizeof path, "%s/x.h5", bad_dir);
    bad_rc = ts_archive_write(MPI_COMM_WORLD, &A.spec, &idx, path, &META, &bad);
    ts_parts_index_free(&idx);
    snprintf(bad_msg, sizeof bad_msg, "%s", bad.msg);
    char first[1024];
    memcpy(first, bad_msg, sizeof first);
    MPI_Bcast(first, sizeof first, MPI_CHAR, 0, MPI_COMM_WORLD);
    bad_same_message = strcmp(first, bad_msg) == 0;
    bad_left_temp = dir_has_temp(g_dir, "x.h5.tmp");
    MPI_Barrier(MPI_COMM_WORLD);
}

/* ------------------------------------------------------------------ reading back */

static hid_t open_archive(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    ck_assert_msg(f >= 0, "cannot open %s", path);
    return f;
}

static int dims_of(hid_t f, const char *name, hsize_t *dims)
{
    hid_t ds = H5Dopen2(f, name, H5P_DEFAULT);
    ck_assert_msg(ds >= 0, "no dataset %s", name);
    hid_t space = H5Dget_space(ds);
    int n = H5Sget_simple_extent_dims(space, dims, NULL);
    H5Sclose(space);
    H5Dclose(ds);
    return n;
}

static void assert_dims(hid_t f, const char *name, int n, const hsize_t *want)
{
    hsize_t dims[32];
    int got = dims_of(f, name, dims);
    ck_assert_msg(got == n, "%s has %d dimensions, not %d", name, got, n);
    for (int i = 0; i < n; i++)
        ck_assert_msg(dims[i] == want[i], "%s dimension %d is %llu, not %llu", name, i,
                      (unsigned long long)dims[i], (unsigned long long)want[i]);
}

/* The whole dataset in memory type t; *n elements. Caller frees. */
static void *read_all(hid_t f, const char *name, hid_t t, size_t *n)
{
    hid_t ds = H5Dopen2(f, name, H5P_DEFAULT);
    ck_assert_msg(ds >= 0, "no dataset %s", name);
    hid_t space = H5Dget_space(ds);
    size_t count = (size_t)H5Sget_simple_extent_npoints(space);
    void *buf = malloc((count ? count : 1) * H5Tget_size(t));
    ck_assert_msg(H5Dread(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0, "reading %s", name);
    H5Sclose(space);
    H5Dclose(ds);
    if (n) *n = count;
    return buf;
}

static char *read_string_attr(hid_t obj, const char *name)
{
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    ck_assert_msg(a >= 0, "no attribute %s", name);
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    char *v = NULL;
    ck_assert_msg(H5Aread(a, t, &v) >= 0, "reading attribute %s", name);
    char *copy = strdup(v ? v : "");
    H5free_memory(v);
    H5Tclose(t);
    H5Aclose(a);
    return copy;
}

static void assert_string_attr(hid_t obj, const char *name, const char *want)
{
    char *got = read_string_attr(obj, name);
    ck_assert_msg(strcmp(got, want) == 0, "attribute %s is \"%s\", not \"%s\"", name, got, want);
    free(got);
}

/* Row-major index of run (point, repeat) in a [axes..., repeat] array, from the point's
 * coordinates as the grid computes them (not from the writer's own arithmetic). */
static size_t run_index(const ts_grid *g, uint64_t point, uint32_t repeat)
{
    size_t c[16], k = 0;
    ts_grid_coords(g, point, c);
    for (size_t i = 0; i < g->naxes; i++) k = k * g->axes[i].size + c[i];
    return k * g->repeats + repeat;
}

static ts_layout layout_of(const ts_grid *g)
{
    ts_value v[64];
    ts_point p;
    ts_layout l;
    ts_error err;
    ts_grid_point(g, 0, 0, v, &p);
    ck_assert_int_eq(ts_layout_init(&l, g->experiment, &p, &err), TS_OK);
    return l;
}

/* Every metric of every run holds the record's values (or NaN for missing and failed runs). */
static void check_metric_values(const scenario *s, const char *file)
{
    hid_t f = open_archive(file);
    ts_layout l = layout_of(s->grid);
    const ts_experiment *x = s->grid->experiment;
    for (size_t m = 0; m < l.nmetrics; m++) {
        size_t width = l.extent[m] * (x->metrics[m].kind == TS_SERIES ? l.nrecords : 1), n;
        double *v = read_all(f, x->metrics[m].name, H5T_NATIVE_DOUBLE, &n);
        ck_assert_uint_eq(n, ts_grid_items(s->grid) * width);
        for (uint64_t p = 0; p < s->grid->npoints; p++)
            for (uint32_t r = 0; r < s->grid->repeats; r++) {
                uint64_t item = p * s->grid->repeats + r;
                const double *got = v + run_index(s->grid, p, r) * width;
                for (size_t k = 0; k < width; k++) {
                    int nan = is_missing(item) || item == FAILED_ITEM;
                    double want = value_of(item, l.offset[m] + k);
                    ck_assert_msg(nan ? isnan(got[k]) : got[k] == want,
                                  "%s: %s run %llu slot %zu is %g, not %g", file,
                                  x->metrics[m].name, (unsigned long long)item, k, got[k],
                                  nan ? NAN : want);
                }
            }
        free(v);
    }
    ts_layout_free(&l);
    H5Fclose(f);
}

/* ------------------------------------------------------------------ tests */

START_TEST(setup_wrote_every_archive)
{
    ck_assert_msg(setup_rc == 0, "%s", setup_msg);
}
END_TEST

START_TEST(shapes_are_axes_then_repeat_then_extra_then_record)
{
    hid_t f = open_archive("a2.h5");
    hsize_t series[] = {3, 2, 2, 2, RECORDS_A}, eps[] = {3, 2, 2, 2, 3}, run[] = {3, 2, 2, 2};
    hsize_t iteration[] = {3, 2, 2, RECORDS_A}, two[] = {2}, three[] = {3};
    hsize_t records[] = {RECORDS_A};
    assert_dims(f, "loss", 5, series);
    assert_dims(f, "theory_loss", 5, series);
    assert_dims(f, "steps_to_eps", 5, eps);
    assert_dims(f, "final_loss", 4, run);
    assert_dims(f, "status", 4, run);
    assert_dims(f, "iteration", 4, iteration);
    assert_dims(f, "provenance/wall_seconds", 4, run);
    assert_dims(f, "provenance/error", 4, run);
    assert_dims(f, "step_size", 1, three);
    assert_dims(f, "zip0", 1, two);
    assert_dims(f, "dim", 1, two);
    assert_dims(f, "steps", 1, two);
    assert_dims(f, "mode", 1, two);
    assert_dims(f, "repeat", 1, two);
    assert_dims(f, "eps", 1, three);
    assert_dims(f, "record", 1, records);
    H5Fclose(f);
}
END_TEST

START_TEST(coordinates_hold_the_axis_values)
{
    hid_t f = open_archive("a2.h5");
    double *step = read_all(f, "step_size", H5T_NATIVE_DOUBLE, NULL);
    ck_assert(step[0] == 0.5 && step[1] == 1.0 && step[2] == 1.5);
    int64_t *dim = read_all(f, "dim", H5T_NATIVE_INT64, NULL);
    int64_t *steps = read_all(f, "steps", H5T_NATIVE_INT64, NULL);
    ck_assert(dim[0] == 4 && dim[1] == 8 && steps[0] == 10 && steps[1] == 20);
    int64_t *rep = read_all(f, "repeat", H5T_NATIVE_INT64, NULL);
    ck_assert(rep[0] == 0 && rep[1] == 1);
    double *eps = read_all(f, "eps", H5T_NATIVE_DOUBLE, NULL);
    const ts_value *def_eps = &A.grid->base[ts_param_index(A.grid->experiment->params, "eps")];
    for (size_t k = 0; k < 3; k++) ck_assert(eps[k] == def_eps->list[k]);
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    char **mode = read_all(f, "mode", t, NULL);
    ck_assert_str_eq(mode[0], "iterate");
    ck_assert_str_eq(mode[1], "closed_form");
    H5free_memory(mode[0]);
    H5free_memory(mode[1]);
    H5Tclose(t);
    free(step);
    free(dim);
    free(steps);
    free(rep);
    free(eps);
    free(mode);
    H5Fclose(f);
}
END_TEST

START_TEST(every_value_comes_from_its_runs_record)
{
    check_metric_values(&A, "a2.h5");
}
END_TEST

START_TEST(status_and_provenance_follow_the_records)
{
    hid_t f = open_archive("a2.h5");
    int8_t *status = read_all(f, "status", H5T_NATIVE_INT8, NULL);
    int32_t *rank = read_all(f, "provenance/rank", H5T_NATIVE_INT32, NULL);
    double *wall = read_all(f, "provenance/wall_seconds", H5T_NATIVE_DOUBLE, NULL);
    hid_t ds = H5Dopen2(f, "provenance/error", H5P_DEFAULT);
    hid_t ft = H5Dget_type(ds);
    size_t width = H5Tget_size(ft);
    ck_assert_uint_eq(width, strlen(FAILURE_TEXT) + 1);
    char *error = read_all(f, "provenance/error", ft, NULL);
    hid_t hds = H5Dopen2(f, "provenance/host", H5P_DEFAULT);
    hid_t ht = H5Dget_type(hds);
    ck_assert_uint_eq(H5Tget_size(ht), TS_HOST_MAX);
    char *host = read_all(f, "provenance/host", ht, NULL);
    H5Dclose(hds);
    for (uint64_t p = 0; p < A.grid->npoints; p++)
        for (uint32_t r = 0; r < A.grid->repeats; r++) {
            uint64_t item = p * A.grid->repeats + r;
            size_t k = run_index(A.grid, p, r);
            ck_assert_int_eq(status[k], status_of(item));
            char want_host[TS_HOST_MAX] = "";
            if (!is_missing(item)) snprintf(want_host, sizeof want_host, "node-%d",
                                            (int)(item % (uint64_t)g_nranks));
            ck_assert_str_eq(host + k * TS_HOST_MAX, want_host);
            ck_assert_str_eq(error + k * width, item == FAILED_ITEM ? FAILURE_TEXT : "");
            if (is_missing(item)) {
                ck_assert_int_eq(rank[k], -1);
                ck_assert(isnan(wall[k]));
            } else {
                ck_assert_int_eq(rank[k], (int)(item % (uint64_t)g_nranks));
                ck_assert(wall[k] == 0.5 * (double)item);
            }
        }
    H5Tclose(ht);
    H5Tclose(ft);
    H5Dclose(ds);
    free(status);
    free(rank);
    free(wall);
    free(error);
    free(host);
    H5Fclose(f);
}
END_TEST

START_TEST(iteration_follows_each_points_steps)
{
    hid_t f = open_archive("a2.h5");
    int64_t *it = read_all(f, "iteration", H5T_NATIVE_INT64, NULL);
    int steps = ts_param_index(A.grid->experiment->params, "steps");
    int rec = ts_param_index(A.grid->experiment->params, "record");
    for (uint64_t p = 0; p < A.grid->npoints; p++) {
        ts_value v[64];
        ts_point pt;
        ts_error err;
        int64_t want[RECORDS_A];
        ts_grid_point(A.grid, p, 0, v, &pt);
        ck_assert_int_eq(ts_record_times(v[rec].rec, v[steps].i, want, &err), TS_OK);
        size_t k = run_index(A.grid, p, 0) / A.grid->repeats;
        for (size_t j = 0; j < RECORDS_A; j++)
            ck_assert_int_eq(it[k * RECORDS_A + j], want[j]);
        ck_assert_int_eq(it[k * RECORDS_A + RECORDS_A - 1], v[steps].i);
    }
    free(it);
    H5Fclose(f);
}
END_TEST

typedef struct scales_seen {
    char name[128];
    int count;
} scales_seen;

static herr_t note_scale(hid_t did, unsigned dim, hid_t dsid, void *data)
{
    (void)did;
    (void)dim;
    scales_seen *s = data;
    char path[128];
    H5Iget_name(dsid, path, sizeof path);
    snprintf(s->name, sizeof s->name, "%s", path[0] == '/' ? path + 1 : path);
    s->count++;
    return 0;
}

/* dims: space-separated dimension names the variable must have, each with its scale. */
static void assert_scales(hid_t f, const char *var, const char *dims)
{
    hid_t ds = H5Dopen2(f, var, H5P_DEFAULT);
    ck_assert_msg(ds >= 0, "no dataset %s", var);
    char list[256];
    snprintf(list, sizeof list, "%s", dims);
    int i = 0;
    for (char *save, *d = strtok_r(list, " ", &save); d; d = strtok_r(NULL, " ", &save), i++) {
        scales_seen s = {"", 0};
        ck_assert_msg(H5DSget_num_scales(ds, (unsigned)i) == 1, "%s dim %d: %d scales", var, i,
                      H5DSget_num_scales(ds, (unsigned)i));
        H5DSiterate_scales(ds, (unsigned)i, NULL, note_scale, &s);
        ck_assert_msg(strcmp(s.name, d) == 0, "%s dim %d is %s, not %s", var, i, s.name, d);
    }
    hid_t space = H5Dget_space(ds);
    ck_assert_int_eq(H5Sget_simple_extent_ndims(space), i);
    H5Sclose(space);
    H5Dclose(ds);
}

START_TEST(every_dimension_has_its_scale_attached)
{
    hid_t f = open_archive("a2.h5");
    const char *run = "step_size zip0 mode repeat";
    char buf[256];
    snprintf(buf, sizeof buf, "%s record", run);
    assert_scales(f, "loss", buf);
    assert_scales(f, "theory_loss", buf);
    snprintf(buf, sizeof buf, "%s eps", run);
    assert_scales(f, "steps_to_eps", buf);
    assert_scales(f, "final_loss", run);
    assert_scales(f, "status", run);
    assert_scales(f, "iteration", "step_size zip0 mode record");
    assert_scales(f, "dim", "zip0");
    assert_scales(f, "steps", "zip0");
    assert_scales(f, "provenance/wall_seconds", run);
    assert_scales(f, "provenance/rank", run);
    assert_scales(f, "provenance/host", run);
    assert_scales(f, "provenance/error", run);
    const char *scales[] = {"step_size", "zip0", "mode", "repeat", "eps", "record"};
    for (size_t k = 0; k < sizeof scales / sizeof *scales; k++) {
        hid_t ds = H5Dopen2(f, scales[k], H5P_DEFAULT);
        ck_assert_msg(H5DSis_scale(ds) > 0, "%s is not a dimension scale", scales[k]);
        H5Dclose(ds);
    }
    H5Fclose(f);
}
END_TEST

START_TEST(variables_carry_units_long_name_and_cf_attributes)
{
    hid_t f = open_archive("a2.h5");
    const char *vars[] = {"loss", "theory_loss", "steps_to_eps", "final_loss", "status",
                          "iteration", "step_size", "dim", "steps", "mode", "zip0",
                          "repeat", "eps", "record"};
    for (size_t k = 0; k < sizeof vars / sizeof *vars; k++) {
        hid_t ds = H5Dopen2(f, vars[k], H5P_DEFAULT);
        ck_assert_msg(H5Aexists(ds, "units") > 0, "%s has no units", vars[k]);
        ck_assert_msg(H5Aexists(ds, "long_name") > 0, "%s has no long_name", vars[k]);
        H5Dclose(ds);
    }
    hid_t loss = H5Dopen2(f, "loss", H5P_DEFAULT), theory = H5Dopen2(f, "theory_loss", H5P_DEFAULT);
    hid_t status = H5Dopen2(f, "status", H5P_DEFAULT), fin = H5Dopen2(f, "final_loss", H5P_DEFAULT);
    assert_string_attr(loss, "kind", "series");
    assert_string_attr(fin, "kind", "scalar");
    assert_string_attr(theory, "theory_for", "loss");
    ck_assert_int_eq(H5Aexists(loss, "theory_for"), 0);
    assert_string_attr(loss, "coordinates", "dim steps iteration");
    assert_string_attr(fin, "coordinates", "dim steps");
    assert_string_attr(status, "flag_meanings", "missing done diverged failed");
    int8_t flags[4] = {-1, -1, -1, -1};
    hid_t a = H5Aopen(status, "flag_values", H5P_DEFAULT);
    ck_assert(H5Aread(a, H5T_NATIVE_INT8, flags) >= 0);
    for (int k = 0; k < 4; k++) ck_assert_int_eq(flags[k], k);
    H5Aclose(a);
    H5Dclose(loss);
    H5Dclose(theory);
    H5Dclose(status);
    H5Dclose(fin);
    H5Fclose(f);
}
END_TEST

START_TEST(root_attributes_identify_the_sweep)
{
    hid_t f = open_archive("a2.h5");
    hid_t root = H5Gopen2(f, "/", H5P_DEFAULT);
    assert_string_attr(root, "tailsweep_version", PACKAGE_VERSION);
    assert_string_attr(root, "experiment", "quadratic");
    assert_string_attr(root, "reference", A.grid->experiment->reference);
    assert_string_attr(root, "spec", A.spec.text);
    assert_string_attr(root, "spec_sha256", A.sha);
    assert_string_attr(root, "created", META.created);
    assert_string_attr(root, "finished", META.finished);
    uint64_t seed = 0;
    int64_t repeats = 0;
    int32_t ranks = 0;
    hid_t a = H5Aopen(root, "seed", H5P_DEFAULT);
    ck_assert(H5Aread(a, H5T_NATIVE_UINT64, &seed) >= 0);
    H5Aclose(a);
    a = H5Aopen(root, "repeats", H5P_DEFAULT);
    ck_assert(H5Aread(a, H5T_NATIVE_INT64, &repeats) >= 0);
    H5Aclose(a);
    a = H5Aopen(root, "mpi_ranks", H5P_DEFAULT);
    ck_assert(H5Aread(a, H5T_NATIVE_INT32, &ranks) >= 0);
    H5Aclose(a);
    int64_t numbers = 0;
    a = H5Aopen(root, "numbers", H5P_DEFAULT);
    ck_assert(H5Aread(a, H5T_NATIVE_INT64, &numbers) >= 0);
    H5Aclose(a);
    ck_assert_int_eq(numbers, TS_NUMBERS_VERSION);
    ck_assert_uint_eq(seed, A.grid->seed);
    ck_assert_int_eq(repeats, A.grid->repeats);
    ck_assert_int_eq(ranks, META.mpi_ranks);
    H5Gclose(root);
    H5Fclose(f);
}
END_TEST

START_TEST(series_are_chunked_compressed_and_untimestamped)
{
    hid_t f = open_archive("a2.h5");
    const char *vars[] = {"loss", "status", "provenance/error", "step_size", "provenance", "/"};
    for (size_t k = 0; k < sizeof vars / sizeof *vars; k++) {
        H5O_info_t info;
        ck_assert(H5Oget_info_by_name2(f, vars[k], &info, H5O_INFO_TIME, H5P_DEFAULT) >= 0);
        ck_assert_msg(info.ctime == 0 && info.mtime == 0, "%s records timestamps", vars[k]);
        if (k >= 3) continue;
        hid_t ds = H5Dopen2(f, vars[k], H5P_DEFAULT);
        hid_t dcpl = H5Dget_create_plist(ds);
        unsigned flags, cd[8];
        size_t ncd = 8;
        ck_assert_int_eq(H5Pget_layout(dcpl), H5D_CHUNKED);
        ck_assert_msg(H5Pget_filter_by_id2(dcpl, H5Z_FILTER_DEFLATE, &flags, &ncd, cd, 0, NULL,
                                           NULL) >= 0,
                      "%s is not deflated", vars[k]);
        ncd = 8;
        ck_assert_msg(H5Pget_filter_by_id2(dcpl, H5Z_FILTER_SHUFFLE, &flags, &ncd, cd, 0, NULL,
                                           NULL) >= 0,
                      "%s is not shuffled", vars[k]);
        H5Pclose(dcpl);
        H5Dclose(ds);
    }
    H5Fclose(f);
}
END_TEST

/* ---- the determinism contract: same data whatever the rank count and block size */

typedef struct name_list {
    char names[64][128];
    int n;
} name_list;

static herr_t note_dataset(hid_t obj, const char *name, const H5O_info_t *info, void *data)
{
    (void)obj;
    name_list *l = data;
    if (info->type == H5O_TYPE_DATASET && strncmp(name, "provenance", 10) != 0 && l->n < 64)
        snprintf(l->names[l->n++], sizeof l->names[0], "%s", name);
    return 0;
}

static void datasets_outside_provenance(hid_t f, name_list *l)
{
    l->n = 0;
    ck_assert(H5Ovisit(f, H5_INDEX_NAME, H5_ITER_INC, note_dataset, l) >= 0);
}

/* Compares in the stored (file) type, bytes for fixed-size data, strings for variable ones. */
static void assert_same_dataset(hid_t fa, hid_t fb, const char *name, const char *files)
{
    hid_t da = H5Dopen2(fa, name, H5P_DEFAULT), db = H5Dopen2(fb, name, H5P_DEFAULT);
    ck_assert_msg(db >= 0, "%s: %s only in one file", files, name);
    hid_t ta = H5Dget_type(da), tb = H5Dget_type(db);
    ck_assert_msg(H5Tequal(ta, tb) > 0, "%s: %s types differ", files, name);
    size_t na, nb;
    if (H5Tis_variable_str(ta) > 0) {
        char **a = read_all(fa, name, ta, &na), **b = read_all(fb, name, tb, &nb);
        ck_assert_uint_eq(na, nb);
        for (size_t k = 0; k < na; k++) {
            ck_assert_msg(strcmp(a[k], b[k]) == 0, "%s: %s[%zu] differs", files, name, k);
            H5free_memory(a[k]);
            H5free_memory(b[k]);
        }
        free(a);
        free(b);
    } else {
        unsigned char *a = read_all(fa, name, ta, &na), *b = read_all(fb, name, tb, &nb);
        ck_assert_uint_eq(na, nb);
        ck_assert_msg(memcmp(a, b, na * H5Tget_size(ta)) == 0, "%s: %s differs", files, name);
        free(a);
        free(b);
    }
    H5Tclose(ta);
    H5Tclose(tb);
    H5Dclose(da);
    H5Dclose(db);
}

static void assert_same_archive(const char *a, const char *b)
{
    char files[64];
    snprintf(files, sizeof files, "%s vs %s", a, b);
    hid_t fa = open_archive(a), fb = open_archive(b);
    name_list la, lb;
    datasets_outside_provenance(fa, &la);
    datasets_outside_provenance(fb, &lb);
    ck_assert_int_eq(la.n, lb.n);
    ck_assert_int_ge(la.n, 14);
    for (int k = 0; k < la.n; k++) {
        ck_assert_str_eq(la.names[k], lb.names[k]);
        assert_same_dataset(fa, fb, la.names[k], files);
    }
    H5Fclose(fa);
    H5Fclose(fb);
}

START_TEST(one_rank_and_two_ranks_write_identical_data)
{
    assert_same_archive("a2.h5", "a1.h5");
}
END_TEST

START_TEST(block_size_does_not_change_the_data)
{
    assert_same_archive("a2.h5", "a2_block1.h5");
    assert_same_archive("a2.h5", "a2_block5.h5");
    check_metric_values(&A, "a2_block5.h5");
}
END_TEST

START_TEST(a_grid_without_axes_has_repeat_leading_and_1d_iteration)
{
    hid_t f = open_archive("b2.h5");
    hsize_t series[] = {4, RECORDS_B}, eps[] = {4, 3}, run[] = {4}, rec[] = {RECORDS_B};
    assert_dims(f, "loss", 2, series);
    assert_dims(f, "steps_to_eps", 2, eps);
    assert_dims(f, "status", 1, run);
    assert_dims(f, "iteration", 1, rec);
    int8_t *status = read_all(f, "status", H5T_NATIVE_INT8, NULL);
    for (uint64_t r = 0; r < 4; r++) ck_assert_int_eq(status[r], status_of(r));
    ck_assert_int_eq(status[3], TS_MISSING);
    int64_t *it = read_all(f, "iteration", H5T_NATIVE_INT64, NULL);
    int64_t want[RECORDS_B];
    ts_error err;
    int steps = ts_param_index(B.grid->experiment->params, "steps");
    ck_assert_int_eq(ts_record_times((ts_record_rule){TS_RECORD_LINEAR, RECORDS_B},
                                     B.grid->base[steps].i, want, &err),
                     TS_OK);
    for (int k = 0; k < RECORDS_B; k++) ck_assert_int_eq(it[k], want[k]);
    hid_t loss = H5Dopen2(f, "loss", H5P_DEFAULT);
    assert_string_attr(loss, "coordinates", "iteration");
    H5Dclose(loss);
    free(status);
    free(it);
    H5Fclose(f);
    check_metric_values(&B, "b2.h5");
}
END_TEST

START_TEST(a_failed_write_fails_alike_on_every_rank_and_leaves_no_file)
{
    ck_assert_int_eq(bad_rc, TS_ERUNTIME);
    /* "HDF5: " starts the reason read off HDF5's error stack; the bare fallback means the
     * stack was lost before it was read. */
    ck_assert_msg(strstr(bad_msg, "HDF5: ") && !strstr(bad_msg, "HDF5 call failed") &&
                      strstr(bad_msg, "no/such/dir"),
                  "message without HDF5's reason or the path: %s", bad_msg);
    ck_assert_msg(bad_same_message, "ranks report different errors");
    ck_assert_msg(!bad_left_temp, "a temporary file was left behind");
}
END_TEST

static Suite *archive_suite(void)
{
    Suite *s = suite_create("archive");
    TCase *tc = tcase_create("archive");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, setup_wrote_every_archive);
    tcase_add_test(tc, shapes_are_axes_then_repeat_then_extra_then_record);
    tcase_add_test(tc, coordinates_hold_the_axis_values);
    tcase_add_test(tc, every_value_comes_from_its_runs_record);
    tcase_add_test(tc, status_and_provenance_follow_the_records);
    tcase_add_test(tc, iteration_follows_each_points_steps);
    tcase_add_test(tc, every_dimension_has_its_scale_attached);
    tcase_add_test(tc, variables_carry_units_long_name_and_cf_attributes);
    tcase_add_test(tc, root_attributes_identify_the_sweep);
    tcase_add_test(tc, series_are_chunked_compressed_and_untimestamped);
    tcase_add_test(tc, one_rank_and_two_ranks_write_identical_data);
    tcase_add_test(tc, block_size_does_not_change_the_data);
    tcase_add_test(tc, a_grid_without_axes_has_repeat_leading_and_1d_iteration);
    tcase_add_test(tc, a_failed_write_fails_alike_on_every_rank_and_leaves_no_file);
    suite_add_tcase(s, tc);
    return s;
}

static void remove_tree(const char *path)
{
    DIR *d = opendir(path);
    if (!d) {
        unlink(path);
        return;
    }
    for (struct dirent *e; (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char sub[1024];
        snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
        remove_tree(sub);
    }
    closedir(d);
    rmdir(path);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_nranks);
    if (g_rank == 0) {
        snprintf(g_dir, sizeof g_dir, "%s/test_archive.XXXXXX",
                 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        if (!mkdtemp(g_dir)) g_dir[0] = '\0';
    }
    MPI_Bcast(g_dir, sizeof g_dir, MPI_CHAR, 0, MPI_COMM_WORLD);
    if (!g_dir[0]) {
        if (g_rank == 0) fprintf(stderr, "test_archive: cannot make a scratch directory\n");
        MPI_Finalize();
        return 1;
    }
    setup();

    SRunner *sr = srunner_create(archive_suite());
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, g_rank == 0 ? CK_NORMAL : CK_SILENT);
    int failed = srunner_ntests_failed(sr), all;
    srunner_free(sr);
    MPI_Allreduce(&failed, &all, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (g_rank == 0 && all > failed)
        fprintf(stderr, "test_archive: %d failure(s) on other ranks\n", all - failed);

    MPI_Barrier(MPI_COMM_WORLD);
    if (g_rank == 0 && getenv("TEST_ARCHIVE_KEEP") == NULL) remove_tree(g_dir);
    ts_grid_free(A.grid);
    ts_grid_free(B.grid);
    MPI_Finalize();
    return all ? 1 : 0;
}
