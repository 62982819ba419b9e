/* tailsweep sample: draws from the very samplers the experiments use (include/tailsweep/
 * variates.h), for users to inspect a law and for external checks. Runs on rank 0 only. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hdf5.h>

#include "cli.h"
#include "config.h"
#include "tailsweep/rng.h"
#include "tailsweep/variates.h"

static const char sample_usage[] =
    "usage: tailsweep sample levy     --alpha A [--beta B] [--scale C] [--loc M] [--param S0|S1]\n"
    "       tailsweep sample levy-iso --alpha A --dim D [--scale C]\n"
    "       tailsweep sample zipf     --dim D --exponent S [--method auto|alias|rejection]\n"
    "   each with: -n N --seed S [--point P] [--repeat R] [--per-call] [-o FILE.h5 | --text]\n"
    "\n"
    "Draws N variates on the stream of (seed, point, repeat), the stream a sweep gives that\n"
    "run, through the batched samplers the experiments use (--per-call: GSL's per-call\n"
    "samplers, the reference; same law, different draws).\n"
    "\n"
    "  levy      alpha-stable, alpha in (0, 2], beta in [-1, 1], scale c > 0, location M, in\n"
    "            Nolan's S0 (default; continuous in alpha) or S1 (GSL's) parameterization.\n"
    "            Scale convention: E exp(itX) = exp(-|ct|^alpha) for beta = 0, M = 0, so\n"
    "            alpha = 2 is Gaussian with variance 2 c^2.\n"
    "  levy-iso  rotation-invariant D-dimensional alpha-stable vectors with\n"
    "            E exp(i<u, X>) = exp(-||c u||^alpha) (alpha = 2: N(0, 2 c^2 I)); one row each.\n"
    "  zipf      k in 1..D with P(k) proportional to k^-S, S >= 0 (S = 0: uniform), by Walker's\n"
    "            alias table or rejection-inversion (auto: the table up to 64 MiB).\n"
    "\n"
    "options:\n"
    "  -n N              number of variates (rows for levy-iso)\n"
    "      --seed S      master seed (as in a spec); --point P, --repeat R select the run's\n"
    "                    stream (default 0, 0)\n"
    "      --per-call    use the per-call (GSL) samplers instead of the batched ones\n"
    "  -o FILE.h5        write dataset \"samples\" ([N] or [N, D]) with the parameters as\n"
    "                    attributes\n"
    "      --text        print one value (row) per line on stdout (the default)\n"
    "  -h, --help        this text\n"
    "Exit status: 0 ok; 1 runtime error (I/O); 2 usage error.\n";

typedef enum { SAMPLER_LEVY, SAMPLER_LEVY_ISO, SAMPLER_ZIPF } sampler_kind;

static const char *const sampler_names[] = {"levy", "levy-iso", "zipf"};

/* Options, as bits of sample_args.given, to check which apply to which sampler. */
enum {
    OPT_ALPHA = 1 << 0,
    OPT_BETA = 1 << 1,
    OPT_SCALE = 1 << 2,
    OPT_LOC = 1 << 3,
    OPT_PARAM = 1 << 4,
    OPT_DIM = 1 << 5,
    OPT_EXPONENT = 1 << 6,
    OPT_METHOD = 1 << 7,
    OPT_N = 1 << 8,
    OPT_SEED = 1 << 9
};

static const struct option longopts[] = {
    {"alpha", required_argument, 0, 'a'},  {"beta", required_argument, 0, 'b'},
    {"scale", required_argument, 0, 'c'},  {"loc", required_argument, 0, 'm'},
    {"param", required_argument, 0, 'P'},  {"dim", required_argument, 0, 'd'},
    {"exponent", required_argument, 0, 'e'}, {"method", required_argument, 0, 'M'},
    {"seed", required_argument, 0, 's'},   {"point", required_argument, 0, 'p'},
    {"repeat", required_argument, 0, 'r'}, {"per-call", no_argument, 0, 'C'},
    {"output", required_argument, 0, 'o'}, {"text", no_argument, 0, 't'},
    {"help", no_argument, 0, 'h'},         {0, 0, 0, 0},
};

/* Which options each sampler takes, and which it needs. */
static const unsigned allowed_options[] = {
    [SAMPLER_LEVY] = OPT_ALPHA | OPT_BETA | OPT_SCALE | OPT_LOC | OPT_PARAM,
    [SAMPLER_LEVY_ISO] = OPT_ALPHA | OPT_SCALE | OPT_DIM,
    [SAMPLER_ZIPF] = OPT_DIM | OPT_EXPONENT | OPT_METHOD,
};
static const unsigned required_options[] = {
    [SAMPLER_LEVY] = OPT_ALPHA | OPT_N | OPT_SEED,
    [SAMPLER_LEVY_ISO] = OPT_ALPHA | OPT_DIM | OPT_N | OPT_SEED,
    [SAMPLER_ZIPF] = OPT_DIM | OPT_EXPONENT | OPT_N | OPT_SEED,
};

typedef struct {
    sampler_kind kind;
    double alpha, beta, scale, loc;
    ts_levy_param param;
    size_t dim;
    double exponent;
    ts_zipf_method method;
    size_t n;
    uint64_t seed, point, repeat;
    int per_call, text;
    const char *output;
    unsigned given;
} sample_args;

static int usage_error(ts_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int usage_error(ts_error *err, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return ts_error_set(err, TS_EUSAGE, "sample: %s (see tailsweep sample --help)", msg);
}

static const char *option_name(unsigned bit)
{
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {{OPT_ALPHA, "--alpha"}, {OPT_BETA, "--beta"},       {OPT_SCALE, "--scale"},
                 {OPT_LOC, "--loc"},     {OPT_PARAM, "--param"},     {OPT_DIM, "--dim"},
                 {OPT_EXPONENT, "--exponent"}, {OPT_METHOD, "--method"}, {OPT_N, "-n"},
                 {OPT_SEED, "--seed"}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].bit == bit)
            return names[i].name;
    return "?";
}

static int parse_real(const char *text, const char *opt, double *x, ts_error *err)
{
    char *end;
    errno = 0;
    *x = strtod(text, &end);
    if (end == text || *end != '\0' || errno == ERANGE)
        return usage_error(err, "%s expects a number, found \"%s\"", opt, text);
    return TS_OK;
}

/* Unsigned decimal integer; strtoull alone would accept "-1" as 2^64 - 1. */
static int parse_count(const char *text, const char *opt, uint64_t *x, ts_error *err)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (end == text || *end != '\0' || errno == ERANGE || strchr(text, '-') != NULL)
        return usage_error(err, "%s expects a non-negative integer, found \"%s\"", opt, text);
    *x = (uint64_t)v;
    return TS_OK;
}

static int parse_size(const char *text, const char *opt, size_t *x, ts_error *err)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (end == text || *end != '\0' || errno == ERANGE || strchr(text, '-') != NULL || v == 0 ||
        v > SIZE_MAX)
        return usage_error(err, "%s expects a positive integer, found \"%s\"", opt, text);
    *x = (size_t)v;
    return TS_OK;
}

static int parse_option(int c, const char *arg, sample_args *a, ts_error *err)
{
    switch (c) {
    case 'a': a->given |= OPT_ALPHA; return parse_real(arg, "--alpha", &a->alpha, err);
    case 'b': a->given |= OPT_BETA; return parse_real(arg, "--beta", &a->beta, err);
    case 'c': a->given |= OPT_SCALE; return parse_real(arg, "--scale", &a->scale, err);
    case 'm': a->given |= OPT_LOC; return parse_real(arg, "--loc", &a->loc, err);
    case 'P': a->given |= OPT_PARAM; return ts_levy_param_parse(arg, &a->param, err);
    case 'd': a->given |= OPT_DIM; return parse_size(arg, "--dim", &a->dim, err);
    case 'e': a->given |= OPT_EXPONENT; return parse_real(arg, "--exponent", &a->exponent, err);
    case 'M': a->given |= OPT_METHOD; return ts_zipf_method_parse(arg, &a->method, err);
    case 'n': a->given |= OPT_N; return parse_size(arg, "-n", &a->n, err);
    case 's': a->given |= OPT_SEED; return parse_count(arg, "--seed", &a->seed, err);
    case 'p': return parse_count(arg, "--point", &a->point, err);
    case 'r': return parse_count(arg, "--repeat", &a->repeat, err);
    case 'C': a->per_call = 1; return TS_OK;
    case 'o': a->output = arg; return TS_OK;
    case 't': a->text = 1; return TS_OK;
    default: return usage_error(err, "unknown option");
    }
}

static int check_options(const sample_args *a, ts_error *err)
{
    unsigned extra = a->given & ~(allowed_options[a->kind] | OPT_N | OPT_SEED);
    unsigned missing = required_options[a->kind] & ~a->given;
    for (unsigned bit = 1; bit <= OPT_SEED; bit <<= 1) {
        if (extra & bit)
            return usage_error(err, "%s does not apply to %s", option_name(bit),
                               sampler_names[a->kind]);
        if (missing & bit)
            return usage_error(err, "%s needs %s", sampler_names[a->kind], option_name(bit));
    }
    if (a->output != NULL && a->text)
        return usage_error(err, "-o and --text exclude each other");
    return TS_OK;
}

/* Returns TS_OK with *help set when --help was asked for. */
static int parse_sample_args(int argc, char **argv, sample_args *a, int *help, ts_error *err)
{
    *a = (sample_args){.scale = 1, .param = TS_LEVY_S0, .method = TS_ZIPF_AUTO};
    *help = 0;
    opterr = 0;
    optind = 1;
    int c, status;
    while ((c = getopt_long(argc, argv, ":n:o:h", longopts, NULL)) != -1) {
        if (c == 'h') {
            *help = 1;
            return TS_OK;
        }
        if (c == ':')
            return usage_error(err, "option \"%s\" needs a value", argv[optind - 1]);
        if (c == '?')
            return usage_error(err, "unknown option \"%s\"", argv[optind - 1]);
        status = parse_option(c, optarg, a, err);
        if (status != TS_OK)
            return status;
    }
    if (optind != argc - 1)
        return usage_error(err, "expected one sampler (levy, levy-iso or zipf)");
    size_t k = 0;
    while (k < 3 && strcmp(argv[optind], sampler_names[k]) != 0)
        k++;
    if (k == 3)
        return usage_error(err, "unknown sampler \"%s\" (expected levy, levy-iso or zipf)",
                           argv[optind]);
    a->kind = (sampler_kind)k;
    return check_options(a, err);
}

/* ------------------------------------------------------------------ the sampler */

typedef struct {
    const sample_args *args;
    ts_levy levy;
    ts_levy_vec vec;
    ts_zipf *zipf;
    gsl_rng *r;
    size_t width; /* values per row */
} sampler;

static int sampler_open(sampler *s, const sample_args *a, ts_error *err)
{
    memset(s, 0, sizeof *s);
    s->args = a;
    s->width = a->kind == SAMPLER_LEVY_ISO ? a->dim : 1;
    int status = TS_OK;
    if (a->kind == SAMPLER_LEVY)
        status = ts_levy_init(&s->levy, a->alpha, a->beta, a->scale, a->loc, a->param, err);
    else if (a->kind == SAMPLER_LEVY_ISO)
        status = ts_levy_vec_init(&s->vec, TS_LEVY_ISOTROPIC, a->alpha, a->scale, a->dim, err);
    else if ((s->zipf = ts_zipf_alloc(a->dim, a->exponent, a->method, err)) == NULL)
        status = err->code;
    if (status != TS_OK)
        return status;
    s->r = ts_rng_alloc(a->seed, a->point, a->repeat);
    if (s->r == NULL)
        return ts_error_set(err, TS_ERUNTIME, "sample: out of memory for the random stream");
    return TS_OK;
}

static void sampler_close(sampler *s)
{
    ts_zipf_free(s->zipf);
    if (s->r != NULL)
        gsl_rng_free(s->r);
}

/* The next `rows` rows: doubles into x (levy, levy-iso) or integers into k (zipf). */
static void sampler_next(sampler *s, size_t rows, double *x, size_t *k)
{
    const int per_call = s->args->per_call;
    switch (s->args->kind) {
    case SAMPLER_LEVY:
        if (per_call)
            for (size_t i = 0; i < rows; i++)
                x[i] = ts_levy_draw(&s->levy, s->r);
        else
            ts_levy_fill(&s->levy, s->r, x, rows);
        break;
    case SAMPLER_LEVY_ISO:
        if (per_call)
            for (size_t i = 0; i < rows; i++)
                ts_levy_vec_draw(&s->vec, s->r, x + i * s->width);
        else
            ts_levy_vec_fill(&s->vec, s->r, x, rows);
        break;
    case SAMPLER_ZIPF:
        if (per_call)
            for (size_t i = 0; i < rows; i++)
                k[i] = ts_zipf_draw(s->zipf, s->r);
        else
            ts_zipf_fill(s->zipf, s->r, k, rows);
        break;
    }
}

/* Rows per block: about 64 Ki values, so memory stays bounded whatever N. */
static size_t block_rows(const sampler *s)
{
    size_t rows = ((size_t)1 << 16) / s->width;
    return rows == 0 ? 1 : rows;
}

typedef struct {
    double *x;
    size_t *k;
} block;

static int block_alloc(block *b, const sampler *s, size_t rows, ts_error *err)
{
    b->x = s->args->kind == SAMPLER_ZIPF ? NULL : malloc(rows * s->width * sizeof *b->x);
    b->k = s->args->kind == SAMPLER_ZIPF ? malloc(rows * sizeof *b->k) : NULL;
    if (b->x == NULL && b->k == NULL)
        return ts_error_set(err, TS_ERUNTIME, "sample: out of memory for %zu rows of %zu",
                            rows, s->width);
    return TS_OK;
}

static void block_free(block *b)
{
    free(b->x);
    free(b->k);
}

/* ------------------------------------------------------------------ text */

static int write_text(sampler *s, ts_error *err)
{
    size_t rows = block_rows(s);
    block b;
    int status = block_alloc(&b, s, rows, err);
    for (size_t done = 0; status == TS_OK && done < s->args->n; done += rows) {
        if (rows > s->args->n - done)
            rows = s->args->n - done;
        sampler_next(s, rows, b.x, b.k);
        for (size_t i = 0; i < rows; i++) {
            if (b.k != NULL) {
                printf("%zu\n", b.k[i]);
                continue;
            }
            for (size_t j = 0; j < s->width; j++)
                printf(j + 1 < s->width ? "%.17g " : "%.17g\n", b.x[i * s->width + j]);
        }
        if (ferror(stdout))
            status = ts_error_set(err, TS_ERUNTIME, "sample: writing to stdout: %s",
                                  strerror(errno));
    }
    block_free(&b);
    if (status == TS_OK && fflush(stdout) != 0)
        status = ts_error_set(err, TS_ERUNTIME, "sample: writing to stdout: %s",
                              strerror(errno));
    return status;
}

/* ------------------------------------------------------------------ HDF5 */

static herr_t attr_write(hid_t obj, const char *name, hid_t type, const void *value)
{
    hid_t space = H5Screate(H5S_SCALAR);
    if (space < 0)
        return -1;
    hid_t attr = H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    herr_t status = attr < 0 ? -1 : H5Awrite(attr, type, value);
    if (attr >= 0 && H5Aclose(attr) < 0)
        status = -1;
    H5Sclose(space);
    return status;
}

static herr_t attr_string(hid_t obj, const char *name, const char *value)
{
    hid_t type = H5Tcopy(H5T_C_S1);
    if (type < 0)
        return -1;
    herr_t status = H5Tset_size(type, strlen(value) + 1);
    if (status >= 0)
        status = attr_write(obj, name, type, value);
    H5Tclose(type);
    return status;
}

static herr_t attr_double(hid_t obj, const char *name, double value)
{
    return attr_write(obj, name, H5T_NATIVE_DOUBLE, &value);
}

static herr_t attr_u64(hid_t obj, const char *name, uint64_t value)
{
    return attr_write(obj, name, H5T_NATIVE_UINT64, &value);
}

/* Every parameter that determines the draws, so that a file says how to reproduce itself. */
static herr_t write_attributes(hid_t dset, const sampler *s)
{
    const sample_args *a = s->args;
    herr_t st = attr_string(dset, "sampler", sampler_names[a->kind]);
    st |= attr_string(dset, "path", a->per_call ? "per-call" : "batched");
    st |= attr_u64(dset, "n", a->n);
    st |= attr_u64(dset, "seed", a->seed);
    st |= attr_u64(dset, "point", a->point);
    st |= attr_u64(dset, "repeat", a->repeat);
    st |= attr_string(dset, "tailsweep_version", PACKAGE_VERSION);
    if (a->kind == SAMPLER_ZIPF) {
        st |= attr_u64(dset, "dim", a->dim);
        st |= attr_double(dset, "exponent", a->exponent);
        st |= attr_string(dset, "method", ts_zipf_method_name(ts_zipf_method_used(s->zipf)));
        return st;
    }
    st |= attr_double(dset, "alpha", a->alpha);
    st |= attr_double(dset, "scale", a->scale);
    if (!a->per_call)
        st |= attr_string(dset, "vector_math", ts_levy_fill_isa());
    if (a->kind == SAMPLER_LEVY) {
        st |= attr_double(dset, "beta", a->beta);
        st |= attr_double(dset, "loc", a->loc);
        st |= attr_string(dset, "param", ts_levy_param_name(a->param));
        st |= attr_string(dset, "scale_convention",
                          "E exp(itX) = exp(-|scale t|^alpha) at beta = 0, loc = 0: alpha = 2 "
                          "is Gaussian with variance 2 scale^2");
    } else {
        st |= attr_u64(dset, "dim", a->dim);
        st |= attr_string(dset, "scale_convention",
                          "E exp(i<u, X>) = exp(-||scale u||^alpha): alpha = 2 is "
                          "N(0, 2 scale^2 I)");
    }
    return st;
}

static hid_t create_samples_dataset(hid_t file, const sampler *s)
{
    hsize_t dims[2] = {s->args->n, s->width};
    int rank = s->args->kind == SAMPLER_LEVY_ISO ? 2 : 1;
    hid_t type = s->args->kind == SAMPLER_ZIPF ? H5T_STD_U64LE : H5T_IEEE_F64LE;
    hid_t space = H5Screate_simple(rank, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t dset = -1;
    /* No object timestamps: the same command writes the same bytes. */
    if (space >= 0 && dcpl >= 0 && H5Pset_obj_track_times(dcpl, 0) >= 0)
        dset = H5Dcreate2(file, "samples", type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (space >= 0)
        H5Sclose(space);
    return dset;
}

/* Rows [first, first + rows) of the dataset from the block. */
static herr_t write_rows(hid_t dset, const sampler *s, const block *b, size_t first, size_t rows,
                         uint64_t *k64)
{
    int rank = s->args->kind == SAMPLER_LEVY_ISO ? 2 : 1;
    hsize_t start[2] = {first, 0}, count[2] = {rows, s->width};
    hid_t file_space = H5Dget_space(dset);
    hid_t mem_space = H5Screate_simple(rank, count, NULL);
    herr_t st = -1;
    if (file_space >= 0 && mem_space >= 0 &&
        H5Sselect_hyperslab(file_space, H5S_SELECT_SET, start, NULL, count, NULL) >= 0) {
        if (b->k != NULL) {
            for (size_t i = 0; i < rows; i++)
                k64[i] = b->k[i];
            st = H5Dwrite(dset, H5T_NATIVE_UINT64, mem_space, file_space, H5P_DEFAULT, k64);
        } else {
            st = H5Dwrite(dset, H5T_NATIVE_DOUBLE, mem_space, file_space, H5P_DEFAULT, b->x);
        }
    }
    if (mem_space >= 0)
        H5Sclose(mem_space);
    if (file_space >= 0)
        H5Sclose(file_space);
    return st;
}

static int write_hdf5(sampler *s, const char *path, ts_error *err)
{
    size_t rows = block_rows(s);
    block b;
    int status = block_alloc(&b, s, rows, err);
    if (status != TS_OK)
        return status;
    uint64_t *k64 = b.k != NULL ? malloc(rows * sizeof *k64) : NULL;
    if (b.k != NULL && k64 == NULL) {
        block_free(&b);
        return ts_error_set(err, TS_ERUNTIME, "sample: out of memory");
    }
    /* The default (sec2) file driver: one process writes this file. */
    hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (file < 0) {
        free(k64);
        block_free(&b);
        return ts_error_set(err, TS_ERUNTIME,
                            "sample: cannot create HDF5 file \"%s\" (does its directory exist "
                            "and is it writable?)",
                            path);
    }
    hid_t dset = create_samples_dataset(file, s);
    herr_t st = dset >= 0 ? write_attributes(dset, s) : -1;
    for (size_t done = 0; st >= 0 && done < s->args->n; done += rows) {
        if (rows > s->args->n - done)
            rows = s->args->n - done;
        sampler_next(s, rows, b.x, b.k);
        st = write_rows(dset, s, &b, done, rows, k64);
    }
    if (dset >= 0 && H5Dclose(dset) < 0)
        st = -1;
    if (H5Fclose(file) < 0)
        st = -1;
    if (st < 0) {
        status = ts_error_set(err, TS_ERUNTIME, "sample: writing HDF5 file \"%s\" failed", path);
        unlink(path); /* no half-written file left behind */
    }
    free(k64);
    block_free(&b);
    return status;
}

/* ------------------------------------------------------------------ the command */

/* argv[0] is "sample"; argv[1..] the sampler and its options. */
int ts_cmd_sample(int argc, char **argv)
{
    sample_args args;
    int help;
    ts_error err;
    ts_error_clear(&err);
    if (parse_sample_args(argc, argv, &args, &help, &err) != TS_OK)
        return cli_report(&err);
    if (help) {
        if (cli_is_root())
            fputs(sample_usage, stdout);
        return 0;
    }
    if (!cli_is_root())
        return 0; /* one process draws and writes; the others have checked the same options */
    sampler s;
    int status = sampler_open(&s, &args, &err);
    if (status == TS_OK)
        status = args.output != NULL ? write_hdf5(&s, args.output, &err) : write_text(&s, &err);
    sampler_close(&s);
    return status == TS_OK ? 0 : cli_report(&err);
}
