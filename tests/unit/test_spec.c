/* The sweep spec: YAML text to a validated grid, and every class of error located exactly.
 * Parse tests use the registry's `quadratic` experiment (README, "The sweep spec"). */
#include <check.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tailsweep/experiment.h"
#include "tailsweep/spec.h"
#include "check_main.h"

static ts_error err;

static ts_spec *parse(const char *text)
{
    ts_error_clear(&err);
    return ts_spec_parse(text, strlen(text), "inline.yaml", ts_experiment_list(), &err);
}

/* A spec that must parse; the test fails with the parser's message otherwise. */
static ts_spec *parse_ok(const char *text)
{
    ts_spec *s = parse(text);
    ck_assert_msg(s != NULL, "unexpected error %d:%d: %s", err.line, err.column, err.msg);
    ck_assert_int_eq(err.code, TS_OK);
    return s;
}

static int param(const ts_spec *s, const char *name)
{
    int k = ts_param_index(s->grid->experiment->params, name);
    ck_assert_msg(k >= 0, "quadratic has no parameter %s", name);
    return k;
}

static const ts_axis *axis(const ts_spec *s, const char *name)
{
    for (size_t a = 0; a < s->grid->naxes; a++)
        if (!strcmp(s->grid->axes[a].name, name))
            return &s->grid->axes[a];
    ck_abort_msg("no axis %s", name);
    return NULL;
}

/* Where the source tree is: make check sets top_srcdir; by hand, this file's own path. */
static void source_path(const char *rel, char *buf, size_t cap)
{
    const char *top = getenv("top_srcdir");
    if (top && *top) {
        snprintf(buf, cap, "%s/%s", top, rel);
        return;
    }
    const char *here = __FILE__, *cut = strstr(here, "tests/unit/");
    ck_assert_msg(cut != NULL, "set top_srcdir");
    snprintf(buf, cap, "%.*s%s", (int)(cut - here), here, rel);
}

/* ------------------------------------------------------------------ good specs */

START_TEST(minimal_spec_keeps_every_default)
{
    ts_spec *s = parse_ok("experiment: quadratic\nseed: 7\n");
    const ts_grid *g = s->grid;
    ck_assert_ptr_eq(g->experiment, ts_experiment_find("quadratic"));
    ck_assert_uint_eq(g->seed, 7);
    ck_assert_uint_eq(g->repeats, 1);
    ck_assert_uint_eq(g->naxes, 0);
    ck_assert_uint_eq(g->npoints, 1);
    for (size_t k = 0; k < g->nparams; k++) {
        const ts_param_def *def = &g->experiment->params[k];
        char got[256], want[256];
        ts_value d = ts_param_default(def);
        ts_value_format(def, &g->base[k], got, sizeof got);
        ts_value_format(def, &d, want, sizeof want);
        ck_assert_msg(!strcmp(got, want), "%s: %s, default %s", def->name, got, want);
    }
    ck_assert_str_eq(s->output, "inline.h5");
    ck_assert_int_eq(s->output_line, 0);
    ts_spec_free(s);
}
END_TEST

START_TEST(spec_text_and_name_are_kept_verbatim)
{
    const char *text = "# a comment the archive must keep\nexperiment: quadratic\nseed: 1\n";
    ts_spec *s = parse_ok(text);
    ck_assert_str_eq(s->text, text);
    ck_assert_uint_eq(s->text_len, strlen(text));
    ck_assert_str_eq(s->path, "inline.yaml");
    ts_spec_free(s);
}
END_TEST

START_TEST(default_output_drops_directory_and_yaml_extension)
{
    static const char *const cases[][2] = {
        {"jobs/figure1.yaml", "figure1.h5"},
        {"/abs/dir/a.b.yml", "a.b.h5"},
        {"plain", "plain.h5"},
        {"spec.yaml.txt", "spec.yaml.txt.h5"},
    };
    const char *text = "experiment: quadratic\nseed: 1\n";
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        ts_spec *s = ts_spec_parse(text, strlen(text), cases[k][0], ts_experiment_list(), &err);
        ck_assert_ptr_nonnull(s);
        ck_assert_str_eq(s->output, cases[k][1]);
        ts_spec_free(s);
    }
}
END_TEST

START_TEST(output_key_location_is_recorded)
{
    ts_spec *s = parse_ok("experiment: quadratic\nseed: 1\n  # indented comment\n"
                          "output: out/q.h5\n");
    ck_assert_str_eq(s->output, "out/q.h5");
    ck_assert_int_eq(s->output_line, 4);
    ck_assert_int_eq(s->output_column, 1);
    ts_spec_free(s);
}
END_TEST

START_TEST(fixed_params_override_defaults_with_their_types)
{
    ts_spec *s = parse_ok("experiment: quadratic\n"
                          "seed: 1\n"
                          "repeats: 5\n"
                          "params:\n"
                          "  steps: 1.0e4\n"
                          "  spectrum_exponent: 2\n"
                          "  target_exponent: -0.5\n"
                          "  record: {linear: 11}\n"
                          "  eps: [0.5, 0.25]\n"
                          "  mode: closed_form\n");
    const ts_grid *g = s->grid;
    const ts_param_def *defs = g->experiment->params;
    ck_assert_uint_eq(g->repeats, 5);
    ck_assert_int_eq(g->base[param(s, "steps")].i, 10000);
    ck_assert(g->base[param(s, "spectrum_exponent")].r == 2.0);
    ck_assert(g->base[param(s, "target_exponent")].r == -0.5);
    ck_assert_int_eq(g->base[param(s, "record")].rec.kind, TS_RECORD_LINEAR);
    ck_assert_int_eq(g->base[param(s, "record")].rec.count, 11);
    const ts_value *eps = &g->base[param(s, "eps")];
    ck_assert_uint_eq(eps->n, 2);
    ck_assert(eps->list[0] == 0.5 && eps->list[1] == 0.25);
    int mode = param(s, "mode");
    ck_assert_int_eq(g->base[mode].e, ts_param_choice_index(&defs[mode], "closed_form"));
    /* untouched parameters keep their defaults */
    ck_assert_int_eq(g->base[param(s, "dim")].i, ts_param_default(&defs[param(s, "dim")]).i);
    ck_assert_uint_eq(g->naxes, 0);
    ts_spec_free(s);
}
END_TEST

START_TEST(empty_sections_are_allowed)
{
    ts_spec *s = parse_ok("experiment: quadratic\nseed: 1\nparams:\nsweep: {}\nzip: []\n");
    ck_assert_uint_eq(s->grid->naxes, 0);
    ck_assert_uint_eq(s->grid->npoints, 1);
    ts_spec_free(s);
}
END_TEST

START_TEST(seed_takes_the_full_unsigned_64_bit_range)
{
    ts_spec *s = parse_ok("experiment: quadratic\nseed: 18446744073709551615\n");
    ck_assert(s->grid->seed == UINT64_MAX);
    ts_spec_free(s);
    ck_assert_ptr_null(parse("experiment: quadratic\nseed: 18446744073709551616\n"));
    ck_assert_int_eq(err.line, 2);
    ck_assert_int_eq(err.column, 7);
}
END_TEST

START_TEST(sweep_axes_keep_written_order_and_types)
{
    ts_spec *s = parse_ok("experiment: quadratic\nseed: 1\nsweep:\n"
                          "  mode: [closed_form, iterate]\n"
                          "  dim: [30, 10, 20]\n"
                          "  step_size: [0.5, 1]\n");
    const ts_grid *g = s->grid;
    ck_assert_uint_eq(g->naxes, 3);
    ck_assert_str_eq(g->axes[0].name, "mode");
    ck_assert_str_eq(g->axes[1].name, "dim");
    ck_assert_str_eq(g->axes[2].name, "step_size");
    ck_assert_uint_eq(g->npoints, 2 * 3 * 2);
    const ts_param_def *mode = &g->experiment->params[param(s, "mode")];
    ck_assert_int_eq(g->axes[0].values[0].type, TS_ENUM);
    ck_assert_int_eq(g->axes[0].values[0].e, ts_param_choice_index(mode, "closed_form"));
    ck_assert_int_eq(g->axes[0].values[1].e, ts_param_choice_index(mode, "iterate"));
    ck_assert_int_eq(g->axes[1].values[0].type, TS_INT);
    ck_assert_int_eq(g->axes[1].values[0].i, 30);
    ck_assert_int_eq(g->axes[1].values[2].i, 20);
    ck_assert_int_eq(g->axes[2].values[1].type, TS_REAL);
    ck_assert(g->axes[2].values[1].r == 1.0);
    for (size_t a = 0; a < g->naxes; a++) {
        ck_assert_uint_eq(g->axes[a].nparams, 1);
        ck_assert_int_eq(g->axes[a].is_zip, 0);
    }
    ck_assert_int_eq(g->axes[1].param[0], param(s, "dim"));
    ts_spec_free(s);
}
END_TEST

/* numpy.linspace: a + k (b - a) / (num - 1), last value exactly b. */
START_TEST(linspace_values_follow_numpy)
{
    ts_spec *s = parse_ok("experiment: quadratic\nseed: 1\nsweep:\n"
                          "  step_size: {linspace: [0.1, 0.7], num: 4}\n"
                          "  spectrum_exponent: {linspace: [3, 3], num: 1}\n");
    const ts_axis *a = axis(s, "step_size");
    ck_assert_uint_eq(a->size, 4);
    double step = (0.7 - 0.1) / 3;
    for (size_t k = 0; k < 3; k++)
        ck_assert(a->values[k].r == 0.1 + (double)k * step);
    ck_assert(a->values[3].r == 0.7);
    const ts_axis *one = axis(s, "spectrum_exponent");
    ck_assert_uint_eq(one->size, 1);
    ck_assert(one->values[0].r == 3.0);
    ts_spec_free(s);
}
END_TEST

/* logspace takes the endpoint values (numpy.geomspace), not exponents. */
START_TEST(logspace_endpoints_are_values_and_ratios_are_constant)
{
    ts_spec *s = parse_ok("experiment: quadratic\nseed: 1\nsweep:\n"
                          "  dim: {logspace: [10, 1000], num: 3, round: int}\n"
                          "  step_size: {logspace: [1.0e-3, 2], num: 5}\n");
    const ts_axis *d = axis(s, "dim");
    ck_assert_uint_eq(d->size, 3);
    ck_assert_int_eq(d->values[0].i, 10);
    ck_assert_int_eq(d->values[1].i, 100);
    ck_assert_int_eq(d->values[2].i, 1000);
    const ts_axis *e = axis(s, "step_size");
    ck_assert_uint_eq(e->size, 5);
    ck_assert(e->values[0].r == 1.0e-3);
    ck_assert(e->values[4].r == 2.0);
    /* Each value is 10^x_k with x_k on a linspace over [log10 a, log10 b], |x_k| <= 3: x_k is
     * off by a few roundings of size <= 3 eps (log10, the step, the multiply-add: say 4, so
     * dx <= 12 eps), and 10^x turns dx into a relative error ln(10) dx <= 28 eps, plus pow's own
     * rounding. A ratio of two values is then within 2 * 29 eps < 64 eps of (b/a)^(1/4); a
     * spacing that is not geometric misses by factors, not ulps. */
    double ratio = pow(2.0 / 1.0e-3, 0.25);
    for (size_t k = 1; k < 5; k++)
        ck_assert_double_eq_tol(e->values[k].r / e->values[k - 1].r, ratio,
                                64 * DBL_EPSILON * ratio);
    ts_spec_free(s);
}
END_TEST

/* numpy.arange, with b included when hit within 1e-9 |step|. */
START_TEST(range_includes_its_end_only_when_hit)
{
    ts_spec *s = parse_ok("experiment: quadratic\nseed: 1\nparams:\n  record: {linear: 2}\n"
                          "sweep:\n"
                          "  dim: {range: [1, 10, 4]}\n"
                          "  spectrum_exponent: {range: [0, 0.3, 0.1]}\n"
                          "  steps: {range: [100, 10, -30]}\n");
    const ts_axis *d = axis(s, "dim");
    ck_assert_uint_eq(d->size, 3); /* 1, 5, 9: 10 is not hit */
    ck_assert_int_eq(d->values[2].i, 9);
    /* 0.3 / 0.1 is 2.9999999999999996 in doubles: the tolerance keeps 0.3 in */
    const ts_axis *x = axis(s, "spectrum_exponent");
    ck_assert_uint_eq(x->size, 4);
    ck_assert(x->values[1].r == 0.1);
    ck_assert(x->values[3].r == 0.3);
    const ts_axis *t = axis(s, "steps");
    ck_assert_uint_eq(t->size, 4); /* 100, 70, 40, 10 */
    ck_assert_int_eq(t->values[0].i, 100);
    ck_assert_int_eq(t->values[3].i, 10);
    ts_spec_free(s);
}
END_TEST

START_TEST(round_int_rounds_to_nearest_half_away_from_zero)
{
    ts_spec *s = parse_ok("experiment: quadratic\nseed: 1\nsweep:\n"
                          "  dim: {linspace: [1, 4], num: 3, round: int}\n"
                          "  spectrum_exponent: {linspace: [0.2, 2.2], num: 2, round: int}\n");
    const ts_axis *d = axis(s, "dim");
    ck_assert_int_eq(d->values[0].i, 1);
    ck_assert_int_eq(d->values[1].i, 3); /* 2.5 */
    ck_assert_int_eq(d->values[2].i, 4);
    const ts_axis *x = axis(s, "spectrum_exponent"); /* a real parameter made integral */
    ck_assert(x->values[0].r == 0.0 && x->values[1].r == 2.0);
    ts_spec_free(s);
}
END_TEST

START_TEST(integral_reals_are_accepted_for_integers)
{
    ts_spec *s = parse_ok("experiment: quadratic\nseed: 1\nparams:\n  record: {linear: 2}\n"
                          "sweep:\n  steps: [1.0e4, 2e1, 30.0]\n");
    const ts_axis *t = axis(s, "steps");
    ck_assert_int_eq(t->values[0].i, 10000);
    ck_assert_int_eq(t->values[1].i, 20);
    ck_assert_int_eq(t->values[2].i, 30);
    ts_spec_free(s);
}
END_TEST

START_TEST(zip_groups_follow_sweep_axes_as_one_axis_each)
{
    ts_spec *s = parse_ok("experiment: quadratic\nseed: 1\n"
                          "zip:\n"
                          "  - {dim: [1000, 2000], steps: [100, 400]}\n"
                          "  - {spectrum_exponent: [1, 2, 3], target_exponent: [0, 0.5, 1]}\n"
                          "sweep:\n"
                          "  step_size: [0.1, 0.2, 0.3]\n");
    const ts_grid *g = s->grid;
    ck_assert_uint_eq(g->naxes, 3);
    ck_assert_str_eq(g->axes[0].name, "step_size");
    ck_assert_str_eq(g->axes[1].name, "zip0");
    ck_assert_str_eq(g->axes[2].name, "zip1");
    const ts_axis *z = &g->axes[1];
    ck_assert_int_eq(z->is_zip, 1);
    ck_assert_uint_eq(z->nparams, 2);
    ck_assert_uint_eq(z->size, 2);
    ck_assert_int_eq(z->param[0], param(s, "dim"));
    ck_assert_int_eq(z->param[1], param(s, "steps"));
    /* values[j * size + k]: parameter j at position k */
    ck_assert_int_eq(z->values[0 * 2 + 1].i, 2000);
    ck_assert_int_eq(z->values[1 * 2 + 0].i, 100);
    ck_assert_int_eq(z->values[1 * 2 + 1].i, 400);
    ck_assert(g->axes[2].values[1 * 3 + 1].r == 0.5);
    ck_assert_uint_eq(g->npoints, 3 * 2 * 3);
    ts_spec_free(s);
}
END_TEST

START_TEST(record_rule_fits_exactly_when_steps_is_count_minus_one)
{
    /* steps = count - 1 gives every step a record time: the tightest legal rule */
    ts_spec *s = parse_ok("experiment: quadratic\nseed: 1\nparams:\n  record: {log: 20}\n"
                          "zip:\n  - {steps: [100, 19], dim: [1, 2]}\n");
    ts_spec_free(s);
    ck_assert_ptr_null(parse("experiment: quadratic\nseed: 1\nparams:\n  record: {log: 20}\n"
                             "zip:\n  - {steps: [100, 18], dim: [1, 2]}\n"));
    ck_assert_int_eq(err.line, 4);
    ck_assert_int_eq(err.column, 3);
    ck_assert_ptr_nonnull(strstr(err.msg, "params.record"));
    ck_assert_ptr_nonnull(strstr(err.msg, "18"));
}
END_TEST

START_TEST(spec_file_loads_into_the_full_grid)
{
    char path[1024];
    source_path("tests/specs/good/full.yaml", path, sizeof path);
    ts_error_clear(&err);
    ts_spec *s = ts_spec_load(path, ts_experiment_list(), &err);
    ck_assert_msg(s != NULL, "%s:%d:%d: %s", err.file, err.line, err.column, err.msg);
    ck_assert_str_eq(s->path, path);
    ck_assert_str_eq(s->output, "full-sweep.h5");
    ck_assert(s->grid->seed == UINT64_MAX);
    ck_assert_uint_eq(s->grid->repeats, 3);
    ck_assert_uint_eq(s->grid->naxes, 4);
    uint64_t points = 1;
    for (size_t a = 0; a < s->grid->naxes; a++)
        points *= s->grid->axes[a].size;
    ck_assert_uint_eq(s->grid->npoints, points);
    ck_assert_uint_eq(points, 3 * 3 * 5 * 2);
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    char text[4096];
    size_t n = fread(text, 1, sizeof text, f);
    fclose(f);
    ck_assert_uint_eq(s->text_len, n);
    ck_assert(!memcmp(s->text, text, n));
    ts_spec_free(s);
}
END_TEST

START_TEST(missing_file_is_a_usage_error_naming_path_and_cause)
{
    const char *path = "/nonexistent-dir/spec.yaml";
    ts_error_clear(&err);
    ck_assert_ptr_null(ts_spec_load(path, ts_experiment_list(), &err));
    ck_assert_int_eq(err.code, TS_EUSAGE);
    ck_assert_ptr_nonnull(strstr(err.msg, path));
    ck_assert_ptr_nonnull(strstr(err.msg, strerror(ENOENT)));
}
END_TEST

/* ------------------------------------------------------------------ errors */

typedef struct bad_case {
    const char *text;
    int line, column;
    const char *needles[3]; /* substrings the message must contain */
} bad_case;

#define HEAD "experiment: quadratic\nseed: 1\n"

static const bad_case bad[] = {
    /* YAML itself: libyaml's 0-based problem mark, plus one */
    {HEAD "sweep:\n  dim: [10, 20\n", 5, 1, {"YAML syntax error", "']'"}},
    {HEAD "params:\n\tsteps: 10\n", 4, 1, {"YAML syntax error", "tabs cannot indent"}},
    {HEAD "---\nseed: 2\n", 4, 1, {"second"}},
    {"", 1, 1, {"empty spec"}},
    {"# only a comment\n", 1, 1, {"empty spec"}},
    {"- experiment: quadratic\n", 1, 1, {"top level", "found a list"}},
    /* top level */
    {HEAD "sweeps: {}\n", 3, 1, {"\"sweeps\"", "did you mean \"sweep\"?"}},
    {HEAD "Repeats: 2\n", 3, 1, {"\"Repeats\"", "did you mean \"repeats\"?"}},
    {HEAD "zzzzzz: 1\n", 3, 1, {"\"zzzzzz\"", "expected one of experiment, output"}},
    {"experiment: quadratc\nseed: 1\n", 1, 13, {"\"quadratc\"", "did you mean \"quadratic\"?"}},
    {"experiment: [quadratic]\nseed: 1\n", 1, 13, {"experiment:", "found a list"}},
    {"seed: 1\nrepeats: 2\n", 1, 1, {"missing key \"experiment\""}},
    {"\n\nexperiment: quadratic\n", 1, 1, {"missing key \"seed\""}},
    {"experiment: quadratic\nseed: 2.5\n", 2, 7, {"seed:", "unsigned 64-bit", "\"2.5\""}},
    {"experiment: quadratic\nseed: -1\n", 2, 7, {"seed:", "\"-1\""}},
    {HEAD "repeats: 0\n", 3, 10, {"repeats:", "[1, 4294967295]", "\"0\""}},
    {HEAD "repeats: -3\n", 3, 10, {"repeats:", "\"-3\""}},
    {HEAD "seed: 2\n", 3, 1, {"duplicate key \"seed\"", "line 2"}},
    {HEAD "output: [a, b]\n", 3, 9, {"output:", "found a list"}},
    /* parameter names */
    {HEAD "sweep:\n  stepsize: [0.1]\n", 4, 3,
     {"sweep: unknown parameter \"stepsize\" for experiment quadratic",
      "did you mean \"step_size\"?"}},
    {HEAD "params:\n  Dim: 3\n", 4, 3,
     {"params: unknown parameter \"Dim\"", "did you mean \"dim\"?"}},
    {HEAD "zip:\n  - {dim: [1, 2], stpes: [1, 2]}\n", 4, 19,
     {"zip[0]: unknown parameter \"stpes\"", "did you mean \"steps\"?"}},
    {HEAD "params:\n  steps: 10\n  steps: 20\n", 5, 3,
     {"params: duplicate key \"steps\"", "line 4"}},
    /* scalar values */
    {HEAD "params:\n  step_size: -1\n", 4, 14,
     {"params.step_size: expected a real number in (0, inf), found \"-1\""}},
    {HEAD "params:\n  steps: many\n", 4, 10,
     {"params.steps: expected an integer in [1, inf)", "\"many\""}},
    {HEAD "params:\n  steps: 10.5\n", 4, 10, {"params.steps: expected an integer", "\"10.5\""}},
    {HEAD "params:\n  dim: \"10\"\n", 4, 8, {"params.dim", "quoted"}},
    {HEAD "params:\n  dim: [1, 2]\n", 4, 8, {"params.dim", "found a list", "under sweep"}},
    {HEAD "params:\n  eps: {a: 1}\n", 4, 8,
     {"params.eps", "list of real numbers in (0, 1)", "found a mapping"}},
    {HEAD "params:\n  eps: [0.5, 1.5]\n", 4, 14, {"params.eps", "(0, 1)", "\"1.5\""}},
    {HEAD "params:\n  spectrum_exponent: nan\n", 4, 22, {"params.spectrum_exponent", "\"nan\""}},
    {HEAD "params:\n  mode: iterat\n", 4, 9,
     {"params.mode: expected one of iterate|closed_form", "did you mean \"iterate\"?"}},
    {HEAD "params:\n  record: {logg: 10}\n", 4, 12,
     {"params.record", "\"logg\"", "did you mean \"log\"?"}},
    {HEAD "params:\n  record: {log: 1}\n", 4, 17, {"params.record.log", ">= 2"}},
    {HEAD "params:\n  record: 50\n", 4, 11, {"params.record", "{log: N} or {linear: N}"}},
    /* value lists */
    {HEAD "sweep:\n  dim: 100\n", 4, 8,
     {"sweep.dim: expected a list of values or {linspace|logspace|range}", "\"100\""}},
    {HEAD "sweep:\n  dim: []\n", 4, 8, {"sweep.dim", "non-empty"}},
    {HEAD "sweep:\n  dim: [1, [2]]\n", 4, 12, {"sweep.dim", "found a list"}},
    {HEAD "sweep:\n  mode: [iterate, closedform]\n", 4, 19,
     {"sweep.mode", "\"closedform\"", "did you mean \"closed_form\"?"}},
    {HEAD "sweep:\n  step_size: [0.1, 0.2, 0.1]\n", 4, 25,
     {"sweep.step_size", "distinct", "0.1 twice"}},
    {HEAD "sweep:\n  step_size: {linspace: [0.1, 1]}\n", 4, 14,
     {"sweep.step_size", "linspace needs num"}},
    {HEAD "sweep:\n  step_size: {linspace: [0.1, 1], nmu: 3}\n", 4, 35,
     {"sweep.step_size", "\"nmu\"", "did you mean \"num\"?"}},
    {HEAD "sweep:\n  step_size: {linspace: [0.1, 1], range: [1, 2, 1]}\n", 4, 35,
     {"sweep.step_size", "cannot be combined"}},
    {HEAD "sweep:\n  step_size: {num: 3}\n", 4, 14,
     {"sweep.step_size", "{linspace|logspace|range}"}},
    {HEAD "sweep:\n  step_size: {logspace: [1, -2], num: 3}\n", 4, 29,
     {"sweep.step_size", "logspace", "> 0"}},
    {HEAD "sweep:\n  step_size: {linspace: [1], num: 3}\n", 4, 25, {"sweep.step_size", "[a, b]"}},
    {HEAD "sweep:\n  dim: {range: [1, 10, 0]}\n", 4, 24, {"sweep.dim", "non-zero step"}},
    {HEAD "sweep:\n  dim: {range: [10, 1, 1]}\n", 4, 16, {"sweep.dim", "empty range"}},
    {HEAD "sweep:\n  dim: {linspace: [1, 10], num: 3}\n", 4, 8,
     {"sweep.dim: expected an integer", "5.5", "round: int"}},
    {HEAD "sweep:\n  dim: {linspace: [1, 2], num: 4, round: int}\n", 4, 8,
     {"sweep.dim", "distinct", "after rounding"}},
    {HEAD "sweep:\n  step_size: {linspace: [1, 1], num: 2}\n", 4, 14,
     {"sweep.step_size", "found 1 twice (items 1 and 2 of the generated list)"}},
    {HEAD "sweep:\n  dim: {linspace: [1, 2], num: 2, round: integer}\n", 4, 42,
     {"sweep.dim", "round: expected int"}},
    {HEAD "sweep:\n  dim: {linspace: [0, 2], num: 3}\n", 4, 8,
     {"sweep.dim", "[1, inf)", "found 0"}},
    {HEAD "sweep:\n  mode: {linspace: [0, 1], num: 2}\n", 4, 9, {"sweep.mode", "choices"}},
    {HEAD "sweep:\n  dim: {linspace: [1, 2], num: 2000000}\n", 4, 32, {"sweep.dim", "num"}},
    /* (2^32 - 1) repeats leave room for 2^32 + 1 points: 70000^2 runs would wrap the run number */
    {HEAD "repeats: 4294967295\nsweep:\n  dim: {range: [1, 70000, 1]}\n"
          "  steps: {range: [1, 70000, 1]}\n", 6, 3, {"sweep.steps", "2^64 - 1 runs"}},
    /* where a parameter may go */
    {HEAD "params:\n  steps: 10\nsweep:\n  steps: [10, 20]\n", 6, 3,
     {"sweep.steps", "already set under params at line 4"}},
    {HEAD "zip:\n  - {dim: [1, 2], steps: [10, 20]}\n  - {dim: [3, 4], step_size: [1, 2]}\n", 5, 6,
     {"zip[1].dim", "already set under zip[0] at line 4"}},
    {HEAD "sweep:\n  eps: [0.1, 0.2]\n", 4, 3, {"sweep.eps", "cannot be swept"}},
    {HEAD "sweep:\n  record: [{log: 2}]\n", 4, 3, {"sweep.record", "cannot be swept"}},
    /* shared streams */
    {HEAD "sweep:\n  dim: [1, 2]\nshared_streams: [steps]\n", 5, 18,
     {"shared_streams[0]", "steps is not swept"}},
    {HEAD "sweep:\n  dim: [1, 2]\nshared_streams: [dim, dim]\n", 5, 23,
     {"shared_streams[1]", "already"}},
    {HEAD "sweep:\n  dim: [1, 2]\nshared_streams: dim\n", 5, 17,
     {"shared_streams", "expected a list"}},
    {HEAD "sweep:\n  dim: [1, 2]\nshared_streams: [dimm]\n", 5, 18,
     {"unknown parameter \"dimm\"", "did you mean"}},
    /* archive */
    {HEAD "archive: deflate\n", 3, 10, {"archive: expected a mapping", "\"deflate\""}},
    {HEAD "archive: {compression: gzip}\n", 3, 24,
     {"archive.compression: expected deflate or none", "\"gzip\""}},
    {HEAD "archive: {level: 10}\n", 3, 18, {"archive.level", "1 (fastest) to 9", "\"10\""}},
    {HEAD "archive: {level: 1.5}\n", 3, 18, {"archive.level", "\"1.5\""}},
    {HEAD "archive: {compression: none, level: 3}\n", 3, 37, {"archive.level", "is none"}},
    {HEAD "archive: {levle: 3}\n", 3, 11, {"archive: unknown key \"levle\"", "\"level\""}},
    {HEAD "archive: {level: 1, level: 2}\n", 3, 21, {"archive: duplicate key \"level\""}},
    /* zip groups */
    {HEAD "zip:\n  - {dim: [1, 2], steps: [10, 20, 30]}\n", 4, 5,
     {"zip[0]", "dim with 2 values", "steps with 3"}},
    {HEAD "zip:\n  - {dim: [1, 2]}\n", 4, 5, {"zip[0]", "at least two parameters"}},
    {HEAD "zip:\n  dim: [1, 2]\n", 4, 3, {"zip:", "found a mapping"}},
    {HEAD "zip:\n  - [1, 2]\n", 4, 5, {"zip[0]", "found a list"}},
    /* record rules against steps */
    {HEAD "params:\n  steps: 20\n  record: {log: 50}\n", 5, 3,
     {"params.record", "{log: 50}", "steps >= 49"}},
    {HEAD "sweep:\n  steps: [1000, 10]\n", 4, 3, {"sweep.steps", "default record", "found 10"}},
};

/* archive: chooses how chunks are stored (deflate 4 by default), and stays out of the sweep's
 * identity: the data are the same whatever the choice. */
START_TEST(archive_compression_is_a_choice_outside_the_identity)
{
    ts_spec *plain = parse_ok(HEAD);
    ts_spec *none = parse_ok(HEAD "archive: {compression: none}\n");
    ts_spec *fast = parse_ok(HEAD "archive: {compression: deflate, level: 1}\n");
    ts_spec *level = parse_ok(HEAD "archive: {level: 9}\n");
    ck_assert_int_eq(plain->deflate_level, TS_SPEC_DEFLATE_DEFAULT);
    ck_assert_int_eq(TS_SPEC_DEFLATE_DEFAULT, 4);
    ck_assert_int_eq(none->deflate_level, TS_SPEC_NO_COMPRESSION);
    ck_assert_int_eq(fast->deflate_level, 1);
    ck_assert_int_eq(level->deflate_level, 9);
    char a[65], b[65];
    ts_grid_sha256(plain->grid, a);
    ts_grid_sha256(none->grid, b);
    ck_assert_str_eq(a, b);
    ts_spec_free(plain);
    ts_spec_free(none);
    ts_spec_free(fast);
    ts_spec_free(level);
}
END_TEST

START_TEST(each_error_names_its_location_key_and_suggestion)
{
    const bad_case *c = &bad[_i];
    ts_spec *s = parse(c->text);
    ck_assert_msg(s == NULL, "case %d parsed:\n%s", _i, c->text);
    ck_assert_int_eq(err.code, TS_EUSAGE);
    ck_assert_str_eq(err.file, "inline.yaml");
    ck_assert_msg(err.line == c->line && err.column == c->column,
                  "case %d: %d:%d, expected %d:%d (%s)", _i, err.line, err.column, c->line,
                  c->column, err.msg);
    for (size_t k = 0; k < 3 && c->needles[k]; k++)
        ck_assert_msg(strstr(err.msg, c->needles[k]), "case %d: \"%s\" not in \"%s\"", _i,
                      c->needles[k], err.msg);
}
END_TEST

START_TEST(error_without_error_struct_returns_null)
{
    const char *text = HEAD "sweeps: {}\n";
    ck_assert_ptr_null(ts_spec_parse(text, strlen(text), "x.yaml", ts_experiment_list(), NULL));
}
END_TEST

/* ------------------------------------------------------------------ ts_spec_nearest */

START_TEST(nearest_finds_typos_case_insensitively)
{
    static const char *const names[] = {"dim", "steps", "step_size", "spectrum_exponent", NULL};
    ck_assert_str_eq(ts_spec_nearest("stepsize", names), "step_size");
    ck_assert_str_eq(ts_spec_nearest("STEPS", names), "steps");
    ck_assert_str_eq(ts_spec_nearest("dmi", names), "dim");
    ck_assert_str_eq(ts_spec_nearest("spectrum_exponnet", names), "spectrum_exponent");
    ck_assert_str_eq(ts_spec_nearest("step", names), "steps"); /* 1 edit beats 5 */
}
END_TEST

START_TEST(nearest_rejects_words_too_far_from_every_candidate)
{
    static const char *const names[] = {"dim", "steps", NULL};
    ck_assert_ptr_null(ts_spec_nearest("learning_rate", names));
    ck_assert_ptr_null(ts_spec_nearest("xyz", names)); /* 3 edits from dim, nothing shared */
    ck_assert_ptr_null(ts_spec_nearest("dim", NULL));
    static const char *const none[] = {NULL};
    ck_assert_ptr_null(ts_spec_nearest("dim", none));
}
END_TEST

/* Long names allow a third of their length: 4 edits in 12 letters, not 5. */
START_TEST(nearest_allows_a_third_of_a_long_word)
{
    static const char *const names[] = {"abcdefghijkl", NULL};
    ck_assert_str_eq(ts_spec_nearest("abcdefghWXYZ", names), "abcdefghijkl");
    ck_assert_ptr_null(ts_spec_nearest("abcdefgVWXYZ", names));
    /* short words keep the absolute allowance of two edits */
    static const char *const short_names[] = {"eps", NULL};
    ck_assert_str_eq(ts_spec_nearest("ex", short_names), "eps");
}
END_TEST

static Suite *spec_suite(void)
{
    Suite *s = suite_create("spec");
    TCase *good = tcase_create("good");
    tcase_add_test(good, archive_compression_is_a_choice_outside_the_identity);
    tcase_add_test(good, minimal_spec_keeps_every_default);
    tcase_add_test(good, spec_text_and_name_are_kept_verbatim);
    tcase_add_test(good, default_output_drops_directory_and_yaml_extension);
    tcase_add_test(good, output_key_location_is_recorded);
    tcase_add_test(good, fixed_params_override_defaults_with_their_types);
    tcase_add_test(good, empty_sections_are_allowed);
    tcase_add_test(good, seed_takes_the_full_unsigned_64_bit_range);
    tcase_add_test(good, sweep_axes_keep_written_order_and_types);
    tcase_add_test(good, linspace_values_follow_numpy);
    tcase_add_test(good, logspace_endpoints_are_values_and_ratios_are_constant);
    tcase_add_test(good, range_includes_its_end_only_when_hit);
    tcase_add_test(good, round_int_rounds_to_nearest_half_away_from_zero);
    tcase_add_test(good, integral_reals_are_accepted_for_integers);
    tcase_add_test(good, zip_groups_follow_sweep_axes_as_one_axis_each);
    tcase_add_test(good, record_rule_fits_exactly_when_steps_is_count_minus_one);
    tcase_add_test(good, spec_file_loads_into_the_full_grid);
    tcase_add_test(good, missing_file_is_a_usage_error_naming_path_and_cause);
    suite_add_tcase(s, good);
    TCase *errors = tcase_create("errors");
    tcase_add_loop_test(errors, each_error_names_its_location_key_and_suggestion, 0,
                        (int)(sizeof bad / sizeof bad[0]));
    tcase_add_test(errors, error_without_error_struct_returns_null);
    suite_add_tcase(s, errors);
    TCase *nearest = tcase_create("nearest");
    tcase_add_test(nearest, nearest_finds_typos_case_insensitively);
    tcase_add_test(nearest, nearest_rejects_words_too_far_from_every_candidate);
    tcase_add_test(nearest, nearest_allows_a_third_of_a_long_word);
    suite_add_tcase(s, nearest);
    return s;
}

int main(void)
{
    return ts_test_run_suite(spec_suite());
}
