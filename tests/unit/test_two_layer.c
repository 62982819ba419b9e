/* The two_layer experiment (Dandi et al.; docs/experiments.md section 2) against what does not
 * come from its code: Stein's identities for the targets' moments, the first step's expected
 * overlap and the initial test error (within their sampling errors over seeds), finite
 * differences of the summed loss, plain loops for the GEMMs, and the protocols' shared first
 * step. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_math.h>
#include <gsl/gsl_randist.h>

#include "../../src/experiments/two_layer.h"
#include "check_main.h"
#include "experiment_fixture.h"

#define SEED 2027

static tf_run *small_run(const char *target, int64_t dim, double ratio, int64_t steps)
{
    tf_run *x = tf_new("two_layer", SEED);
    tf_set_choice(x, "target", target);
    tf_set_int(x, "dim", dim);
    tf_set_real(x, "sample_ratio", ratio);
    tf_set_int(x, "steps", steps);
    tf_set_record(x, TS_RECORD_LINEAR, steps + 1);
    tf_set_int(x, "test_size", 2000);
    return x;
}

/* Element (j, k) of a [neuron, direction, record] series at record r. */
static double overlap_at(tf_run *x, const char *metric, size_t j, size_t k, size_t r)
{
    size_t nk = (size_t)tf_param(x, "directions")->i, nrec = tf_nrecords(x);
    return tf_values(x, metric)[(j * nk + k) * nrec + r];
}

START_TEST(the_target_table_follows_the_choices)
{
    const ts_experiment *e = ts_experiment_find("two_layer");
    const ts_param_def *def = &e->params[ts_param_index(e->params, "target")];
    size_t k = 0;
    for (; ts_two_layer_targets[k].name; k++)
        ck_assert_int_eq(ts_param_choice_index(def, ts_two_layer_targets[k].name), (int)k);
    char buf[64];
    ck_assert_str_eq(ts_param_choice_name(def, (int)k, buf), ""); /* no choice without a row */
}
END_TEST

START_TEST(target_moments_obey_steins_identities)
{
    /* E[z g(z)] = E[g'(z)]: with tanh' = 1 - tanh^2 this ties the linear moment to the square;
     * the polynomial targets have exact moments. */
    ts_two_layer_moments m[4];
    ts_error err;
    for (int k = 0; k < 4; k++)
        ck_assert_int_eq(ts_two_layer_moments_of(&ts_two_layer_targets[k], &m[k], &err), TS_OK);
    /* tanh(z1 + He3(z2)): E z1 g = E tanh' = 1 - E g^2 */
    ck_assert_msg(fabs(m[0].linear[0] - (1.0 - m[0].square)) < 1e-5, "%.10g vs %.10g",
                  m[0].linear[0], 1.0 - m[0].square);
    ck_assert(fabs(m[0].mean) < 1e-12);
    ck_assert(m[0].linear[1] < -0.25); /* the He3 direction has a linear part: see the docs */
    /* z1 + z1 z2: E g^2 = 2, E z1 g = 1, E z2 g = 0 */
    ck_assert(fabs(m[1].square - 2.0) < 1e-9 && fabs(m[1].linear[0] - 1.0) < 1e-9);
    ck_assert(fabs(m[1].linear[1]) < 1e-12 && fabs(m[1].mean) < 1e-12);
    /* He3(z1)/sqrt(6): unit variance, no linear part */
    ck_assert(fabs(m[2].square - 1.0) < 1e-9 && fabs(m[2].linear[0]) < 1e-12);
    /* tanh z1 + tanh z2: E g^2 = 2 E tanh^2, E z_k g = 1 - E tanh^2 = 1 - E g^2 / 2 */
    ck_assert(fabs(m[3].linear[0] - (1.0 - m[3].square / 2.0)) < 1e-8);
    ck_assert(fabs(m[3].linear[0] - m[3].linear[1]) < 1e-12);
}
END_TEST

START_TEST(the_initial_student_has_the_relu_moments)
{
    double mean, square;
    ts_two_layer_initial_student(2, &mean, &square);
    ck_assert(fabs(mean) < 1e-15);
    ck_assert(fabs(square - (0.5 - 1.0 / (2.0 * M_PI))) < 1e-15);
    /* p = 3, a = (1, -1, 1)/sqrt 3: E f = 1/sqrt(3) E relu, and the cross terms sum to
     * (1 - 1 - 1)/3 * 2 of E relu relu */
    ts_two_layer_initial_student(3, &mean, &square);
    ck_assert(fabs(mean - 1.0 / sqrt(3.0) / sqrt(2.0 * M_PI)) < 1e-15);
    ck_assert(fabs(square - (0.5 - 2.0 / 3.0 / (2.0 * M_PI))) < 1e-15);
}
END_TEST

/* Mean and sample standard deviation of x[0..n). */
static void mean_sd(const double *x, int n, double *mean, double *sd)
{
    double s = 0, ss = 0;
    for (int k = 0; k < n; k++) s += x[k];
    *mean = s / n;
    for (int k = 0; k < n; k++) ss += (x[k] - *mean) * (x[k] - *mean);
    *sd = sqrt(ss / (n - 1));
}

START_TEST(first_step_overlap_and_initial_error_match_their_expectations)
{
    /* Over R independent runs (repeats: new teacher, student and data), the overlap after one
     * step averages to E M_1 = eta (n/D) a_j E[z_k g]/2 and the initial test error to its closed
     * form, each within 5 standard errors (from the runs' own spread). he3 has E[z g] = 0: its
     * first step stays at zero within the same error, single-pass or not. */
    enum { R = 10 };
    const char *targets[] = {"tanh_he1_he3", "he3", "staircase"};
    for (int t = 0; t < 3; t++) {
        tf_run *x = small_run(targets[t], 400, 3.0, 1);
        double m1[4][R], e0[R];
        for (int r = 0; r < R; r++) {
            ck_assert_int_eq(tf_go_ok(x, (uint32_t)r), TS_DONE);
            for (int i = 0; i < 4; i++) m1[i][r] = overlap_at(x, "overlap", i / 2, i % 2, 1);
            e0[r] = tf_values(x, "test_error")[0];
        }
        for (int i = 0; i < 4; i++) {
            double mean, sd, theory = tf_values(x, "theory_step1_overlap")[i];
            mean_sd(m1[i], R, &mean, &sd);
            ck_assert_msg(fabs(mean - theory) <= 5 * sd / sqrt(R), "%s M1[%d]: %g vs %g (se %g)",
                          targets[t], i, mean, theory, sd / sqrt(R));
        }
        double mean, sd, theory = *tf_values(x, "theory_initial_test_error");
        mean_sd(e0, R, &mean, &sd);
        ck_assert_msg(fabs(mean - theory) <= 5 * sd / sqrt(R), "%s E0: %g vs %g (se %g)",
                      targets[t], mean, theory, sd / sqrt(R));
        tf_free(x);
    }
}
END_TEST

START_TEST(overlap_starts_at_zero_and_self_overlap_at_identity)
{
    tf_run *x = small_run("staircase", 300, 2.0, 2);
    tf_set_int(x, "hidden", 3);
    tf_set_int(x, "directions", 5);
    ck_assert_int_eq(tf_go_ok(x, 0), TS_DONE);
    for (size_t j = 0; j < 3; j++) {
        for (size_t k = 0; k < 5; k++) ck_assert(fabs(overlap_at(x, "overlap", j, k, 0)) < 1e-13);
        for (size_t l = 0; l < 3; l++) {
            size_t nrec = tf_nrecords(x);
            double q = tf_values(x, "self_overlap")[(j * 3 + l) * nrec];
            ck_assert(fabs(q - (j == l ? 1.0 : 0.0)) < 1e-13);
        }
    }
    /* the controls beyond the two directions the target reads have no first-step theory */
    for (size_t k = 2; k < 5; k++) ck_assert(tf_values(x, "theory_step1_overlap")[k] == 0.0);
    tf_free(x);
}
END_TEST

START_TEST(single_and_multi_pass_share_the_first_step_and_part_after)
{
    tf_run *x[2];
    for (int k = 0; k < 2; k++) {
        x[k] = small_run("tanh_he1_he3", 200, 2.0, 3);
        tf_set_int(x[k], "batch_reuse", k ? 0 : 1);
        ck_assert_int_eq(tf_go_ok(x[k], 0), TS_DONE);
    }
    const double *a = tf_values(x[0], "overlap"), *b = tf_values(x[1], "overlap");
    size_t nrec = tf_nrecords(x[0]);
    int differ_at_2 = 0;
    for (size_t i = 0; i < 4; i++) {
        ck_assert(a[i * nrec + 1] == b[i * nrec + 1]);
        differ_at_2 |= a[i * nrec + 2] != b[i * nrec + 2];
    }
    ck_assert(differ_at_2);
    ck_assert(tf_values(x[0], "train_loss")[1] != tf_values(x[1], "train_loss")[1]);
    tf_free(x[0]);
    tf_free(x[1]);
}
END_TEST

/* A small random problem for the pass's own checks. */
enum { N = 30, D = 7, P = 3 };

typedef struct problem {
    double x[N * D], y[N], w[P * D], a[P];
    double u[N * P], f[N], r[N], e[N * P], grad[P * D];
} problem;

static void random_problem(problem *q)
{
    gsl_rng *rng = ts_rng_alloc(SEED, 1, 2);
    for (int k = 0; k < N * D; k++) q->x[k] = gsl_ran_gaussian(rng, 1.0);
    for (int k = 0; k < N; k++) q->y[k] = gsl_ran_gaussian(rng, 1.0);
    for (int k = 0; k < P * D; k++) q->w[k] = gsl_ran_gaussian(rng, 1.0);
    for (int j = 0; j < P; j++) q->a[j] = (j % 2 ? -1.0 : 1.0) / sqrt((double)P);
    gsl_rng_free(rng);
}

static double summed_loss(problem *q)
{
    return ts_two_layer_pass(N, D, P, q->x, q->y, q->w, q->a, q->u, q->f, q->r, q->e, NULL);
}

START_TEST(the_pass_matches_plain_loops)
{
    problem q;
    random_problem(&q);
    double loss = ts_two_layer_pass(N, D, P, q.x, q.y, q.w, q.a, q.u, q.f, q.r, q.e, q.grad);
    double want_loss = 0, want_grad[P * D] = {0};
    for (int mu = 0; mu < N; mu++) {
        double f = 0, u[P];
        for (int j = 0; j < P; j++) {
            u[j] = 0;
            for (int i = 0; i < D; i++) u[j] += q.w[j * D + i] * q.x[mu * D + i] / sqrt((double)D);
            f += q.a[j] * (u[j] > 0 ? u[j] : 0);
            ck_assert(fabs(u[j] - q.u[mu * P + j]) < 1e-13);
        }
        double r = q.y[mu] - f;
        want_loss += 0.5 * r * r;
        for (int j = 0; j < P; j++)
            for (int i = 0; i < D; i++)
                want_grad[j * D + i] -=
                    r * q.a[j] * (u[j] > 0) * q.x[mu * D + i] / sqrt((double)D);
    }
    ck_assert(fabs(loss - want_loss) < 1e-12 * want_loss);
    for (int k = 0; k < P * D; k++) ck_assert(fabs(q.grad[k] - want_grad[k]) < 1e-12);
}
END_TEST

START_TEST(the_gradient_matches_finite_differences_of_the_summed_loss)
{
    /* Central differences, O(h^2) accurate away from a ReLU kink: the step h = 1e-6 moves a
     * preactivation by ~h |x|, so a kink is crossed only by a preactivation within ~1e-5 of 0,
     * which this draw has none of (asserted). */
    problem q;
    random_problem(&q);
    ts_two_layer_pass(N, D, P, q.x, q.y, q.w, q.a, q.u, q.f, q.r, q.e, q.grad);
    for (int k = 0; k < N * P; k++) ck_assert(fabs(q.u[k]) > 1e-4);
    const double h = 1e-6;
    for (int k = 0; k < P * D; k++) {
        double w = q.w[k];
        q.w[k] = w + h;
        double up = summed_loss(&q);
        q.w[k] = w - h;
        double down = summed_loss(&q);
        q.w[k] = w;
        double fd = (up - down) / (2 * h);
        ck_assert_msg(fabs(fd - q.grad[k]) <= 1e-6 * (1 + fabs(q.grad[k])), "%d: %g vs %g", k,
                      fd, q.grad[k]);
    }
}
END_TEST

START_TEST(staircase_is_learned_and_tanh_sum_only_along_z1_plus_z2)
{
    /* Both protocols, 8 steps at D = 300, n = 5 D: staircase's second direction, which the first
     * step cannot see (E z2 g = 0), gains overlap through z1 z2 once z1 is learned; the
     * symmetric tanh_sum is learned along z1 + z2 only: each neuron's two overlaps stay equal to
     * within a tenth of their size. */
    for (int reuse = 0; reuse < 2; reuse++) {
        tf_run *x = small_run("staircase", 300, 5.0, 8);
        tf_set_int(x, "batch_reuse", reuse);
        ck_assert_int_eq(tf_go_ok(x, 0), TS_DONE);
        double z1 = fabs(overlap_at(x, "overlap", 0, 0, 8));
        double z2 = fmax(fabs(overlap_at(x, "overlap", 0, 1, 8)),
                         fabs(overlap_at(x, "overlap", 1, 1, 8)));
        double z2_first = fmax(fabs(overlap_at(x, "overlap", 0, 1, 1)),
                               fabs(overlap_at(x, "overlap", 1, 1, 1)));
        ck_assert_msg(z1 > 0.5 && z2 > 0.2 && z2 > 5 * z2_first, "reuse %d: %g %g %g", reuse, z1,
                      z2, z2_first);
        ck_assert(tf_last(x, "test_error") < 0.7 * tf_values(x, "test_error")[0]);
        tf_free(x);
        x = small_run("tanh_sum", 300, 5.0, 8);
        tf_set_int(x, "batch_reuse", reuse);
        ck_assert_int_eq(tf_go_ok(x, 0), TS_DONE);
        for (size_t j = 0; j < 2; j++) {
            double m1 = overlap_at(x, "overlap", j, 0, 8), m2 = overlap_at(x, "overlap", j, 1, 8);
            ck_assert_msg(fabs(m1 + m2) > 0.4 && fabs(m1 - m2) < 0.1 * fabs(m1 + m2),
                          "reuse %d neuron %zu: %g %g", reuse, j, m1, m2);
        }
        tf_free(x);
    }
}
END_TEST

START_TEST(check_refuses_what_cannot_run)
{
    tf_run *x = small_run("he3", 3, 1.0, 1);
    ts_grid_point(x->g, 0, 0, x->values, &x->p);
    ck_assert_int_eq(x->g->experiment->check(&x->p, &x->err), TS_EUSAGE); /* 3 < 2 + 2 */
    ck_assert_ptr_nonnull(strstr(x->err.msg, "directions + hidden"));
    tf_set_int(x, "dim", 50);
    tf_set_real(x, "sample_ratio", 0.001);
    ts_grid_point(x->g, 0, 0, x->values, &x->p);
    ck_assert_int_eq(x->g->experiment->check(&x->p, &x->err), TS_EUSAGE);
    tf_set_real(x, "sample_ratio", 1.0);
    tf_set_choice(x, "optimizer", "adam");
    tf_set_real(x, "momentum", 0.5);
    ts_grid_point(x->g, 0, 0, x->values, &x->p);
    ck_assert_int_eq(x->g->experiment->check(&x->p, &x->err), TS_EUSAGE);
    ck_assert_int_eq(tf_go(x, 0), TS_FAILED);
    tf_free(x);
}
END_TEST

START_TEST(memory_counts_the_batch_and_the_test_set)
{
    /* D = 5000, n = 3 D: the batch alone is 15000 x 5000 doubles = 600 MB (the figure) */
    tf_run *x = small_run("he3", 5000, 3.0, 1);
    ts_grid_point(x->g, 0, 0, x->values, &x->p);
    size_t bytes = x->g->experiment->memory(&x->p);
    size_t batch = 15000ull * 5000 * 8, test = 2000ull * 5000 * 8;
    ck_assert(bytes >= batch + test);
    ck_assert(bytes < batch + test + 20000ull * 5000 * 8 / 100); /* the rest is small */
    tf_free(x);
}
END_TEST

TS_TEST_MAIN("two_layer",
             the_target_table_follows_the_choices,
             target_moments_obey_steins_identities,
             the_initial_student_has_the_relu_moments,
             first_step_overlap_and_initial_error_match_their_expectations,
             overlap_starts_at_zero_and_self_overlap_at_identity,
             single_and_multi_pass_share_the_first_step_and_part_after,
             the_pass_matches_plain_loops,
             the_gradient_matches_finite_differences_of_the_summed_loss,
             staircase_is_learned_and_tanh_sum_only_along_z1_plus_z2,
             check_refuses_what_cannot_run,
             memory_counts_the_batch_and_the_test_set)
