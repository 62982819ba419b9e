/* The CBLAS layer and the CPU probe: every product against a plain loop written here, on shapes
 * with row strides wider than the rows, so that a swapped dimension or stride shows. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>

#include "tailsweep/cpu.h"
#include "tailsweep/linalg.h"
#include "tailsweep/rng.h"
#include "check_main.h"

static double *random_matrix(gsl_rng *r, size_t rows, size_t ld)
{
    double *a = malloc(rows * ld * sizeof *a);
    for (size_t k = 0; k < rows * ld; k++) a[k] = gsl_ran_gaussian(r, 1.0);
    return a;
}

/* op(A)[i][l] of a row-major A with stride lda. */
static double at(const double *a, size_t lda, ts_linalg_op op, size_t i, size_t l)
{
    return op == TS_LINALG_N ? a[i * lda + l] : a[l * lda + i];
}

/* The tolerance scales with the sum of |terms|, the size of a dot product's rounding error. */
static void check_gemm(ts_linalg_op op_a, ts_linalg_op op_b, size_t m, size_t n, size_t k)
{
    gsl_rng *r = ts_rng_alloc(7, m * 100 + n, k);
    size_t lda = (op_a == TS_LINALG_N ? k : m) + 3, ldb = (op_b == TS_LINALG_N ? n : k) + 2;
    size_t ldc = n + 5;
    double *a = random_matrix(r, op_a == TS_LINALG_N ? m : k, lda);
    double *b = random_matrix(r, op_b == TS_LINALG_N ? k : n, ldb);
    double *c = random_matrix(r, m, ldc), *c0 = malloc(m * ldc * sizeof *c0);
    memcpy(c0, c, m * ldc * sizeof *c0);
    double alpha = 0.75, beta = -0.5;
    ts_linalg_gemm(op_a, op_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < ldc; j++) {
            if (j >= n) { /* the stride's padding is never written */
                ck_assert(c[i * ldc + j] == c0[i * ldc + j]);
                continue;
            }
            double sum = 0, scale = 0;
            for (size_t l = 0; l < k; l++) {
                double t = at(a, lda, op_a, i, l) * at(b, ldb, op_b, l, j);
                sum += t;
                scale += fabs(t);
            }
            double want = alpha * sum + beta * c0[i * ldc + j];
            double tol = 1e-14 * (fabs(alpha) * scale + fabs(beta * c0[i * ldc + j]) + 1);
            ck_assert_msg(fabs(c[i * ldc + j] - want) <= tol, "C[%zu][%zu] = %.17g, want %.17g",
                          i, j, c[i * ldc + j], want);
        }
    free(a), free(b), free(c), free(c0);
    gsl_rng_free(r);
}

START_TEST(gemm_matches_a_plain_loop_for_every_transpose)
{
    ts_linalg_op ops[] = {TS_LINALG_N, TS_LINALG_T};
    for (int x = 0; x < 2; x++)
        for (int y = 0; y < 2; y++) {
            check_gemm(ops[x], ops[y], 37, 29, 53);
            check_gemm(ops[x], ops[y], 1, 5, 300);
        }
}
END_TEST

/* Lower triangle of alpha A^T A + beta C against the plain sums; the upper triangle and the
 * stride's padding untouched. */
START_TEST(syrk_lower_matches_a_plain_loop_and_leaves_the_upper_triangle)
{
    static const size_t shapes[][2] = {{1, 1}, {5, 9}, {17, 4}, {64, 130}};
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        size_t n = shapes[s][0], k = shapes[s][1], lda = n + 3, ldc = n + 2;
        gsl_rng *r = ts_rng_alloc(8, n, k);
        double *a = random_matrix(r, k, lda), *c = random_matrix(r, n, ldc);
        double *c0 = malloc(n * ldc * sizeof *c0);
        memcpy(c0, c, n * ldc * sizeof *c0);
        ts_linalg_syrk_lower(n, k, 1.5, a, lda, 0.25, c, ldc);
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < ldc; j++) {
                if (j > i) {
                    ck_assert(c[i * ldc + j] == c0[i * ldc + j]);
                    continue;
                }
                double sum = 0, scale = 0;
                for (size_t l = 0; l < k; l++) {
                    sum += a[l * lda + i] * a[l * lda + j];
                    scale += fabs(a[l * lda + i] * a[l * lda + j]);
                }
                double want = 1.5 * sum + 0.25 * c0[i * ldc + j];
                ck_assert_msg(fabs(c[i * ldc + j] - want) <= 1e-14 * (1.5 * scale + 1),
                              "C[%zu][%zu] = %.17g, want %.17g", i, j, c[i * ldc + j], want);
            }
        free(a), free(c), free(c0);
        gsl_rng_free(r);
    }
}
END_TEST

START_TEST(gemm_with_beta_zero_ignores_nan_in_c)
{
    double a[4] = {1, 2, 3, 4}, b[4] = {1, 0, 0, 1}, c[4] = {NAN, NAN, NAN, NAN};
    ts_linalg_gemm(TS_LINALG_N, TS_LINALG_N, 2, 2, 2, 1.0, a, 2, b, 2, 0.0, c, 2);
    for (int k = 0; k < 4; k++) ck_assert(c[k] == a[k]);
}
END_TEST

START_TEST(gemv_dot_nrm2_axpy_scal_match_plain_loops)
{
    gsl_rng *r = ts_rng_alloc(8, 0, 0);
    size_t m = 41, n = 23, lda = 30;
    double *a = random_matrix(r, m, lda), *x = random_matrix(r, 1, m), *y = random_matrix(r, 1, m);
    double *out = calloc(m, sizeof *out);
    memcpy(out, y, m * sizeof *out);
    ts_linalg_gemv(TS_LINALG_N, m, n, 2.0, a, lda, x, 0.5, out);
    for (size_t i = 0; i < m; i++) {
        double sum = 0;
        for (size_t j = 0; j < n; j++) sum += a[i * lda + j] * x[j];
        ck_assert(fabs(out[i] - (2.0 * sum + 0.5 * y[i])) < 1e-12);
    }
    double t[64];
    ts_linalg_gemv(TS_LINALG_T, m, n, 1.0, a, lda, x, 0.0, t);
    for (size_t j = 0; j < n; j++) {
        double sum = 0;
        for (size_t i = 0; i < m; i++) sum += a[i * lda + j] * x[i];
        ck_assert(fabs(t[j] - sum) < 1e-12);
    }
    double dot = 0, sq = 0;
    for (size_t i = 0; i < m; i++) dot += x[i] * y[i], sq += x[i] * x[i];
    ck_assert(fabs(ts_linalg_dot(m, x, y) - dot) < 1e-12);
    ck_assert(fabs(ts_linalg_nrm2(m, x) - sqrt(sq)) < 1e-12);
    memcpy(out, y, m * sizeof *out);
    ts_linalg_axpy(m, -3.0, x, out);
    /* an optimised axpy may fuse the multiply and add: one rounding instead of two */
    for (size_t i = 0; i < m; i++)
        ck_assert(fabs(out[i] - (y[i] - 3.0 * x[i])) <= 1e-15 * (fabs(y[i]) + 3.0 * fabs(x[i])));
    double *before = malloc(m * sizeof *before);
    memcpy(before, out, m * sizeof *before);
    ts_linalg_scal(m, 0.5, out);
    for (size_t i = 0; i < m; i++) ck_assert(out[i] == 0.5 * before[i]);
    free(before);
    free(a), free(x), free(y), free(out);
    gsl_rng_free(r);
}
END_TEST

/* The norm is sqrt(x . x) where that is safe and the scaled dnrm2 where the squares would
 * overflow or underflow: within 1e-14 of a long double reference at every scale. */
START_TEST(nrm2_is_accurate_at_every_scale)
{
    enum { N = 1000 };
    static double x[N];
    static const double scales[] = {1, 1e-170, 1e-300, 1e170, 1e300, 1e-160};
    for (size_t k = 0; k < sizeof scales / sizeof scales[0]; k++) {
        long double sq = 0;
        for (size_t i = 0; i < N; i++) {
            x[i] = scales[k] * sin(0.37 * (double)i + 1); /* mixed signs and sizes */
            sq += (long double)(x[i] / scales[k]) * (x[i] / scales[k]);
        }
        double want = (double)sqrtl(sq) * scales[k], got = ts_linalg_nrm2(N, x);
        ck_assert_msg(isfinite(got) && fabs(got - want) <= 1e-14 * want, "scale %g: %.17g vs %.17g",
                      scales[k], got, want);
    }
    ck_assert(ts_linalg_nrm2(N, (double[N]){0}) == 0);
    x[3] = INFINITY;
    ck_assert(isinf(ts_linalg_nrm2(N, x)));
    x[3] = NAN;
    ck_assert(isnan(ts_linalg_nrm2(N, x)));
}
END_TEST

START_TEST(blas_and_cpu_level_are_named)
{
    const char *blas = ts_linalg_blas_name();
    ck_assert(strncmp(blas, "OpenBLAS ", 9) == 0 || strcmp(blas, "GSL CBLAS") == 0);
    ck_assert_int_eq(ts_linalg_threads(), 1);
    ts_cpu_level level = ts_cpu_level_get();
    ck_assert_int_eq(level, ts_cpu_level_get());
    ck_assert_int_eq(ts_cpu_has_avx2(), level >= TS_CPU_AVX2);
    const char *path = ts_cpu_vector_path();
    ck_assert(strcmp(path, "scalar") == 0 || strcmp(path, ts_cpu_level_name(level)) == 0);
}
END_TEST

TS_TEST_MAIN("linalg", syrk_lower_matches_a_plain_loop_and_leaves_the_upper_triangle,
             gemm_matches_a_plain_loop_for_every_transpose,
             gemm_with_beta_zero_ignores_nan_in_c,
             gemv_dot_nrm2_axpy_scal_match_plain_loops,
             nrm2_is_accurate_at_every_scale, blas_and_cpu_level_are_named)
