/* tailsweep export ARCHIVE --csv [-o FILE] [--metric NAME ...]
 *
 * The archive as a tidy CSV for users without Python: one row per run, per entry of the metrics'
 * extra dimensions and per record, the same rows and columns as tailsweep_tools.to_dataframe.
 * export_plan.c reads the archive, using only what it says about itself (docs/architecture.md
 * section 6); this file writes the CSV. Memory stays bounded: one grid point's block is read at a
 * time. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "export_plan.h"

static const char export_usage[] =
    "usage: tailsweep export ARCHIVE --csv [-o FILE] [--metric NAME ...]\n"
    "\n"
    "Writes the archive as CSV (to FILE, or standard output): one row per run, per entry of\n"
    "the metrics' extra dimensions (e.g. eps) and per record. Columns: the swept parameters\n"
    "(a zip group gives one column per zipped parameter), repeat, the extra dimensions, record\n"
    "and iteration (when a series is exported), status (missing, done, diverged, failed), then\n"
    "one column per metric. A metric without one of these dimensions repeats its value along\n"
    "it. --metric (repeatable) exports only the named metrics (default: all). Unfinished runs\n"
    "of a partial archive are rows too, with status missing and NaN values. NaN is written\n"
    "as NaN, infinities as Inf and -Inf. Reads one grid point at a time, so any archive fits.\n";

static const char *const status_names[] = {"missing", "done", "diverged", "failed"};

/* ------------------------------------------------------------------ CSV */

/* RFC 4180: quote a field holding a separator, a quote or a line break; double its quotes. */
static void put_string(FILE *out, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"') fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

/* The shortest of %.15g, %.16g, %.17g that reads back as the same double (17 digits always
 * do), so 0.1 prints as 0.1 and every value round-trips exactly. NaN and infinities in the
 * spelling R, Julia and pandas all read (glibc would print a NaN with its sign bit as -nan). */
static void put_real(FILE *out, double v)
{
    if (isnan(v)) {
        fputs("NaN", out);
        return;
    }
    if (isinf(v)) {
        fputs(v > 0 ? "Inf" : "-Inf", out);
        return;
    }
    char buf[32];
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(buf, sizeof buf, "%.*g", digits, v);
        if (strtod(buf, NULL) == v) break;
    }
    fputs(buf, out);
}

static void put_column_value(FILE *out, const column *c, size_t k)
{
    if (c->kind == COLUMN_INT) fprintf(out, "%" PRId64, c->i[k]);
    else if (c->kind == COLUMN_REAL) put_real(out, c->r[k]);
    else put_string(out, c->s[k]);
}

static void write_header(FILE *out, const plan *p)
{
    for (size_t a = 0; a < p->naxes; a++)
        for (size_t c = 0; c < p->axes[a].ncols; c++) {
            put_string(out, p->axes[a].cols[c].name);
            fputc(',', out);
        }
    fputs("repeat", out);
    for (size_t t = 0; t < p->ntrail; t++) {
        fputc(',', out);
        put_string(out, p->trail[t].name);
        if ((int)t == p->record && p->iteration >= 0) fputs(",iteration", out);
    }
    fputs(",status", out);
    for (size_t k = 0; k < p->nmetrics; k++) {
        fputc(',', out);
        put_string(out, p->metrics[k].name);
    }
    fputc('\n', out);
}

static void write_row(FILE *out, const plan *p, const hsize_t *idx, hsize_t r,
                      const hsize_t *pos)
{
    for (size_t a = 0; a < p->naxes; a++)
        for (size_t c = 0; c < p->axes[a].ncols; c++) {
            put_column_value(out, &p->axes[a].cols[c], (size_t)idx[a]);
            fputc(',', out);
        }
    fprintf(out, "%llu", (unsigned long long)r);
    for (size_t t = 0; t < p->ntrail; t++) {
        fputc(',', out);
        put_column_value(out, &p->trail[t].cols[0], (size_t)pos[t]);
        if ((int)t == p->record && p->iteration >= 0)
            fprintf(out, ",%" PRId64, p->times[pos[t]]);
    }
    int8_t s = p->status_block[r];
    fprintf(out, ",%s", s >= 0 && s <= 3 ? status_names[s] : "unknown");
    for (size_t k = 0; k < p->nmetrics; k++) {
        const metric *m = &p->metrics[k];
        hsize_t at = r * m->per_run;
        for (size_t t = 0; t < m->ntrail; t++) at += pos[m->trail[t]] * m->stride[t];
        fputc(',', out);
        put_real(out, m->block[at]);
    }
    fputc('\n', out);
}

/* Advance a row-major multi-index over sizes[0..n); 0 when it wraps around. */
static int next_index(hsize_t *pos, const hsize_t *sizes, size_t n)
{
    for (size_t d = n; d-- > 0;) {
        if (++pos[d] < sizes[d]) return 1;
        pos[d] = 0;
    }
    return 0;
}

static void write_point_rows(FILE *out, const plan *p, const hsize_t *idx)
{
    hsize_t sizes[MAX_DIMS], pos[MAX_DIMS] = {0};
    for (size_t t = 0; t < p->ntrail; t++) sizes[t] = p->trail[t].size;
    for (hsize_t r = 0; r < p->repeats; r++) {
        memset(pos, 0, sizeof pos);
        do write_row(out, p, idx, r, pos);
        while (next_index(pos, sizes, p->ntrail));
    }
}

static int write_csv(FILE *out, plan *p, ts_error *err)
{
    write_header(out, p);
    hsize_t sizes[MAX_DIMS], idx[MAX_DIMS] = {0};
    for (size_t a = 0; a < p->naxes; a++) {
        sizes[a] = p->axes[a].size;
        if (sizes[a] == 0) return TS_OK;
    }
    if (p->repeats == 0) return TS_OK;
    do {
        if (export_read_point(p, idx, err)) return TS_ERUNTIME;
        write_point_rows(out, p, idx);
        if (ferror(out)) return ts_error_set(err, TS_ERUNTIME, "writing: %s", strerror(errno));
    } while (next_index(idx, sizes, p->naxes));
    return TS_OK;
}

/* ------------------------------------------------------------------ the command */

typedef struct export_args {
    const char *archive, *output;
    int csv;
    const char **metrics;
    size_t nmetrics;
} export_args;

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
    if (cli_is_root()) {
        va_list ap;
        va_start(ap, fmt);
        fputs("tailsweep export: ", stderr);
        vfprintf(stderr, fmt, ap);
        fprintf(stderr, "\n%s", export_usage);
        va_end(ap);
    }
    return EXIT_USAGE;
}

/* 0 to go on, -1 after --help, else the exit status of a usage error. */
static int parse_args(int argc, char **argv, export_args *a)
{
    a->metrics = calloc((size_t)argc, sizeof *a->metrics);
    if (!a->metrics) return EXIT_RUNTIME;
    for (int k = 1; k < argc; k++) {
        const char *arg = argv[k];
        if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
            if (cli_is_root()) fputs(export_usage, stdout);
            return -1;
        } else if (!strcmp(arg, "--csv")) {
            a->csv = 1;
        } else if ((!strcmp(arg, "-o") || !strcmp(arg, "--output")) && k + 1 < argc) {
            a->output = argv[++k];
        } else if (!strcmp(arg, "--metric") && k + 1 < argc) {
            a->metrics[a->nmetrics++] = argv[++k];
        } else if (arg[0] != '-' && !a->archive) {
            a->archive = arg;
        } else {
            return usage_error("unexpected \"%s\"", arg);
        }
    }
    if (!a->archive) return usage_error("which archive?");
    if (!a->csv) return usage_error("choose a format: --csv (the only one so far)");
    return 0;
}

static int export_report(const ts_error *err)
{
    fprintf(stderr, "tailsweep export: %s\n", err->msg);
    return err->code == TS_EUSAGE ? EXIT_USAGE : EXIT_RUNTIME;
}

static int export_archive(const export_args *a)
{
    ts_error err;
    ts_error_clear(&err);
    plan p;
    int rc = export_plan_open(&p, a->archive, a->metrics, a->nmetrics, &err);
    FILE *out = stdout;
    if (!rc && a->output && !(out = fopen(a->output, "w")))
        rc = ts_error_set(&err, TS_ERUNTIME, "%s: %s", a->output, strerror(errno));
    if (!rc) rc = write_csv(out, &p, &err);
    if (out && out != stdout && fclose(out) != 0 && !rc)
        rc = ts_error_set(&err, TS_ERUNTIME, "%s: %s", a->output, strerror(errno));
    if (out == stdout && fflush(stdout) != 0 && !rc)
        rc = ts_error_set(&err, TS_ERUNTIME, "standard output: %s", strerror(errno));
    export_plan_free(&p);
    return rc ? export_report(&err) : 0;
}

int ts_cmd_export(int argc, char **argv)
{
    export_args a = {0};
    int rc = parse_args(argc, argv, &a);
    /* Under mpiexec every rank runs the CLI; one writer is enough. */
    if (rc == 0 && cli_is_root()) rc = export_archive(&a);
    free(a.metrics);
    return rc < 0 ? 0 : rc;
}
