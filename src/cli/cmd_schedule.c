/* tailsweep schedule: the step-size schedules the runs use (schedule.h), refinement from a
 * training log's gradient norms and the last-iterate bound (refine.h), for any training run,
 * ours or not. No MPI. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tailsweep/numfile.h"
#include "tailsweep/refine.h"
#include "tailsweep/schedule.h"

static const char usage[] =
    "usage: tailsweep schedule SHAPE --steps T [--base LR] [--warmup F]\n"
    "                          [--factor X --milestones M1,M2,...]\n"
    "       tailsweep schedule refine --norms FILE [--filter median|gaussian|none]\n"
    "                          [--width W] [--power P] [--base LR]\n"
    "       tailsweep schedule bound --lr FILE --norms FILE [--diameter D]\n"
    "\n"
    "The step-size schedules of Defazio et al. (arXiv:2310.07831) as the runs compute them:\n"
    "  SHAPE   constant, linear_decay, cosine or step: prints `step,lr` for t = 0 .. T-1, the\n"
    "          base step LR (default 1) times the shape, after a linear warmup over the first\n"
    "          fraction F of the run; step multiplies by X at each milestone (fractions of T).\n"
    "  refine  the schedule refined from a run's gradient norms (one per step; l2 norms for\n"
    "          SGD, l1 for sign descent or Adam): smoothed (median over W steps, reflecting at\n"
    "          the ends; or Gaussian with standard deviation W steps; default median over 10%\n"
    "          of the run), weights w_t = norm_t^-P (default P 2, use 1 for sign descent and\n"
    "          Adam), lr_t proportional to w_t times the sum of the later weights, scaled to\n"
    "          max LR: prints `step,lr`. Constant norms give linear decay to 0.\n"
    "  bound   the last-iterate bound of SGD with the step sizes of --lr and the gradient\n"
    "          norms of --norms (one per step each, as many of both) and distance D =\n"
    "          ||x_0 - x*|| (default 1): prints it, one number.\n"
    "FILE is a path or - (standard input): one number per line, or a CSV whose last column\n"
    "holds them, a header line allowed, `#` starting a comment.\n"
    "\n"
    "examples:\n"
    "  tailsweep schedule linear_decay --steps 1000 --base 0.1 --warmup 0.05 > lr.csv\n"
    "  tailsweep schedule step --steps 100 --factor 0.1 --milestones 0.5,0.75\n"
    "  tailsweep schedule refine --norms grad_norms.txt --filter gaussian --width 50 --base 0.3\n"
    "  python train.py | tailsweep schedule refine --norms - --power 1 > refined.csv\n"
    "  tailsweep schedule bound --lr lr.csv --norms grad_norms.txt --diameter 5\n"
    "Exit status: 0 done; 2 a usage error or a bad file (named with its line).\n";

/* Larger inputs are refused rather than read for minutes: 10^8 steps of logged norms fit. */
#define MAX_INPUT_BYTES ((size_t)4 << 30)

typedef struct options {
    const char *norms, *lr, *milestones;
    long long steps;
    double base, warmup, factor, width, power, diameter;
    int have_width;
    ts_refine_filter filter;
} options;

static int fail(const char *fmt, const char *arg)
{
    fprintf(stderr, "tailsweep schedule: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n(see tailsweep schedule --help)\n");
    return EXIT_USAGE;
}

static int report(const ts_error *err)
{
    char buf[1400];
    fprintf(stderr, "tailsweep schedule: %s\n", ts_error_format(err, buf, sizeof buf));
    return err->code == TS_ERUNTIME ? EXIT_RUNTIME : EXIT_USAGE;
}

static int real_arg(const char *text, double *x)
{
    char *end;
    *x = strtod(text, &end);
    return *end == '\0' && end != text && isfinite(*x);
}

static int parse(int argc, char **argv, options *o)
{
    static const struct option longopts[] = {
        {"steps", required_argument, 0, 'T'},    {"base", required_argument, 0, 'b'},
        {"warmup", required_argument, 0, 'w'},   {"factor", required_argument, 0, 'f'},
        {"milestones", required_argument, 0, 'm'}, {"norms", required_argument, 0, 'n'},
        {"lr", required_argument, 0, 'l'},       {"filter", required_argument, 0, 'F'},
        {"width", required_argument, 0, 'W'},    {"power", required_argument, 0, 'p'},
        {"diameter", required_argument, 0, 'D'}, {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    *o = (options){.steps = -1, .base = 1.0, .factor = 0.1, .power = 2.0, .diameter = 1.0};
    opterr = 0;
    optind = 2; /* argv[1] is the form */
    int c;
    ts_error err;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        double x;
        switch (c) {
        case 'T': {
            char *end;
            o->steps = strtoll(optarg, &end, 10);
            if (*end || end == optarg || o->steps < 1)
                return fail("--steps takes a whole number >= 1, found \"%s\"", optarg);
            break;
        }
        case 'b': case 'w': case 'f': case 'W': case 'p': case 'D':
            if (!real_arg(optarg, &x)) return fail("expected a finite number, found \"%s\"", optarg);
            if (c == 'b') o->base = x;
            else if (c == 'w') o->warmup = x;
            else if (c == 'f') o->factor = x;
            else if (c == 'W') o->width = x, o->have_width = 1;
            else if (c == 'p') o->power = x;
            else o->diameter = x;
            break;
        case 'm': o->milestones = optarg; break;
        case 'n': o->norms = optarg; break;
        case 'l': o->lr = optarg; break;
        case 'F':
            if (ts_refine_filter_parse(optarg, &o->filter, &err)) return report(&err);
            break;
        case 'h': return -1;
        default: return fail("unknown option or missing value \"%s\"", argv[optind - 1]);
        }
    }
    if (optind != argc) return fail("unexpected argument \"%s\"", argv[optind]);
    if (!(o->base >= 0)) return fail("--base must be >= 0%s", "");
    return 0;
}

/* The shortest decimal that reads back as exactly x (0.08, not 0.080000000000000016). */
static void print_exact(double x)
{
    char buf[40];
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(buf, sizeof buf, "%.*g", digits, x);
        if (strtod(buf, NULL) == x) break;
    }
    fputs(buf, stdout);
}

static void print_row(long long t, double lr)
{
    printf("%lld,", t);
    print_exact(lr);
    putchar('\n');
}

static void print_csv(const double *lr, size_t T)
{
    printf("step,lr\n");
    for (size_t t = 0; t < T; t++) print_row((long long)t, lr[t]);
}

/* "0.5,0.75" into s->milestones. */
static int parse_milestones(const char *text, ts_schedule *s)
{
    const char *p = text;
    while (*p) {
        if (s->nmilestones == TS_SCHEDULE_MAX_MILESTONES)
            return fail("--milestones: at most 16, found \"%s\"", text);
        char *end;
        double m = strtod(p, &end);
        if (end == p || (*end && *end != ',') || !isfinite(m))
            return fail("--milestones takes fractions like 0.5,0.75, found \"%s\"", text);
        s->milestones[s->nmilestones++] = m;
        p = *end ? end + 1 : end;
    }
    return 0;
}

static int shape_form(const char *shape, const options *o)
{
    static const char *const shapes[] = {"constant", "linear_decay", "cosine", "step"};
    ts_schedule s = {0};
    size_t k = 0;
    while (k < 4 && strcmp(shapes[k], shape)) k++;
    if (k == 4) return fail("unknown schedule \"%s\" (expected constant, linear_decay, cosine, "
                            "step, refine or bound)", shape);
    if (o->steps < 1) return fail("%s needs --steps T", shape);
    s.kind = (ts_schedule_kind)k;
    s.base = o->base;
    s.horizon = o->steps;
    s.warmup = o->warmup;
    s.factor = o->factor;
    if (o->milestones && parse_milestones(o->milestones, &s)) return EXIT_USAGE;
    if (!o->milestones && s.kind == TS_SCHEDULE_STEP) {
        s.nmilestones = 2;
        s.milestones[0] = ts_schedule_default_milestones[0];
        s.milestones[1] = ts_schedule_default_milestones[1];
    }
    ts_error err;
    if (ts_schedule_check(&s, &err)) return report(&err);
    printf("step,lr\n");
    for (int64_t t = 0; t < s.horizon; t++) print_row((long long)t, ts_schedule_lr(&s, t));
    return 0;
}

/* The norms of a file: each > 0 (refine) or >= 0 (bound), located by line when not. */
static int load_norms(const char *path, int strictly_positive, ts_numbers *g)
{
    ts_error err;
    if (ts_numbers_load(path, MAX_INPUT_BYTES, g, &err)) return report(&err);
    for (size_t t = 0; t < g->n; t++)
        if (strictly_positive ? !(g->values[t] > 0) : !(g->values[t] >= 0)) {
            ts_error_at(&err, TS_EUSAGE, strcmp(path, "-") ? path : "<stdin>", (int)g->lines[t], 0,
                        "a gradient norm must be %s, found %.17g",
                        strictly_positive ? "> 0" : ">= 0", g->values[t]);
            ts_numbers_free(g);
            return report(&err);
        }
    return 0;
}

static int refine_form(const options *o)
{
    if (!o->norms) return fail("refine needs --norms FILE%s", "");
    ts_numbers g;
    int rc = load_norms(o->norms, 1, &g);
    if (rc) return rc;
    if (g.n < 2) {
        ts_numbers_free(&g);
        return fail("refine needs at least two norms, found one in %s", o->norms);
    }
    /* the default: a tenth of the run, a whole number of steps for the median */
    double width = o->have_width ? o->width : 0.1 * (double)g.n;
    if (!o->have_width && o->filter == TS_REFINE_MEDIAN) width = fmax(1.0, round(width));
    double *lr = malloc(g.n * sizeof *lr);
    ts_error err;
    rc = lr ? ts_refine_schedule(g.values, g.n, o->filter, width, o->power, lr, &err)
            : ts_error_set(&err, TS_ERUNTIME, "out of memory");
    if (rc == TS_OK) {
        for (size_t t = 0; t < g.n; t++) lr[t] *= o->base;
        print_csv(lr, g.n);
    }
    free(lr);
    ts_numbers_free(&g);
    return rc ? report(&err) : 0;
}

static int bound_form(const options *o)
{
    if (!o->lr || !o->norms) return fail("bound needs --lr FILE and --norms FILE%s", "");
    if (strcmp(o->lr, "-") == 0 && strcmp(o->norms, "-") == 0)
        return fail("--lr and --norms cannot both read standard input%s", "");
    if (!(o->diameter >= 0)) return fail("--diameter must be >= 0%s", "");
    ts_numbers lr, g;
    ts_error err;
    if (ts_numbers_load(o->lr, MAX_INPUT_BYTES, &lr, &err)) return report(&err);
    for (size_t t = 0; t < lr.n; t++)
        if (!(lr.values[t] >= 0)) {
            ts_error_at(&err, TS_EUSAGE, strcmp(o->lr, "-") ? o->lr : "<stdin>",
                        (int)lr.lines[t], 0, "a step size must be >= 0, found %.17g",
                        lr.values[t]);
            ts_numbers_free(&lr);
            return report(&err);
        }
    int rc = load_norms(o->norms, 0, &g);
    if (rc) {
        ts_numbers_free(&lr);
        return rc;
    }
    if (lr.n != g.n) {
        fprintf(stderr, "tailsweep schedule: %s has %zu step sizes and %s %zu norms: one of each "
                "per step\n", o->lr, lr.n, o->norms, g.n);
        rc = EXIT_USAGE;
    } else {
        double b = ts_refine_bound(lr.values, g.values, lr.n, o->diameter);
        if (isnan(b)) {
            fprintf(stderr, "tailsweep schedule: every step size in %s is 0\n", o->lr);
            rc = EXIT_USAGE;
        } else {
            print_exact(b);
            putchar('\n');
        }
    }
    ts_numbers_free(&lr);
    ts_numbers_free(&g);
    return rc;
}

int ts_cmd_schedule(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : 0;
    }
    options o;
    int rc = parse(argc, argv, &o);
    if (rc < 0) {
        fputs(usage, stdout);
        return 0;
    }
    if (rc) return rc;
    if (!strcmp(argv[1], "refine")) return refine_form(&o);
    if (!strcmp(argv[1], "bound")) return bound_form(&o);
    return shape_form(argv[1], &o);
}
