/* The CBLAS layer (linalg.h). */
#include "config.h"

#include "tailsweep/linalg.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#if TS_HAVE_OPENBLAS
#include <cblas.h>
#else
#include <gsl/gsl_cblas.h>
#endif

static void ensure_threads(void);

static enum CBLAS_TRANSPOSE trans_of(ts_linalg_op op)
{
    return op == TS_LINALG_T ? CblasTrans : CblasNoTrans;
}

void ts_linalg_gemm(ts_linalg_op op_a, ts_linalg_op op_b, size_t m, size_t n, size_t k,
                    double alpha, const double *a, size_t lda, const double *b, size_t ldb,
                    double beta, double *c, size_t ldc)
{
    if (m == 0 || n == 0) return;
    ensure_threads();
    cblas_dgemm(CblasRowMajor, trans_of(op_a), trans_of(op_b), (int)m, (int)n, (int)k, alpha, a,
                (int)lda, b, (int)ldb, beta, c, (int)ldc);
}

void ts_linalg_syrk_lower(size_t n, size_t k, double alpha, const double *a, size_t lda,
                          double beta, double *c, size_t ldc)
{
    if (n == 0) return;
    ensure_threads();
    cblas_dsyrk(CblasRowMajor, CblasLower, CblasTrans, (int)n, (int)k, alpha, a, (int)lda, beta,
                c, (int)ldc);
}

void ts_linalg_gemv(ts_linalg_op op_a, size_t m, size_t n, double alpha, const double *a,
                    size_t lda, const double *x, double beta, double *y)
{
    if (m == 0 || n == 0) return;
    ensure_threads();
    cblas_dgemv(CblasRowMajor, trans_of(op_a), (int)m, (int)n, alpha, a, (int)lda, x, 1, beta, y,
                1);
}

double ts_linalg_dot(size_t n, const double *x, const double *y)
{
    ensure_threads();
    return cblas_ddot((int)n, x, 1, y, 1);
}

/* Scaled by the largest |x_i|, so that no square overflows or underflows, as LAPACK's dnrm2
 * does. Written here rather than left to the BLAS: OpenBLAS 0.3.21's dnrm2 does not scale but
 * relies on the x87 unit's 80-bit exponent range, which valgrind does not emulate (it returned 0
 * there for 1000 values of 1e-170). Only for the rare vectors whose squares leave the range. */
static double scaled_nrm2(size_t n, const double *x)
{
    double scale = 0;
    for (size_t i = 0; i < n; i++) scale = fmax(scale, fabs(x[i]));
    if (scale == 0 || isinf(scale)) return scale;
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        double t = x[i] / scale;
        sum += t * t;
    }
    return scale * sqrt(sum);
}

/* sqrt(x . x) where the sum of squares neither overflows nor underflows (2^-900 < x . x <
 * inf: squares lost below DBL_MIN then weigh less than n 2^-122 of the sum), else scaled. Why
 * not the BLAS's dnrm2: OpenBLAS 0.3.21's kernel for it is scalar x87 code, five times slower
 * than ddot (measured: 0.55 against 0.11 ns a value, bench/README.md "ssi"), and the
 * experiments renormalise every step. */
double ts_linalg_nrm2(size_t n, const double *x)
{
    ensure_threads();
    double sum = cblas_ddot((int)n, x, 1, x, 1);
    if (isnan(sum)) return sum;
    if (isfinite(sum) && sum > 0x1p-900) return sqrt(sum);
    return scaled_nrm2(n, x);
}

void ts_linalg_axpy(size_t n, double alpha, const double *x, double *y)
{
    ensure_threads();
    cblas_daxpy((int)n, alpha, x, 1, y, 1);
}

void ts_linalg_scal(size_t n, double alpha, double *x)
{
    ensure_threads();
    cblas_dscal((int)n, alpha, x, 1);
}

#if TS_HAVE_OPENBLAS
/* OpenBLAS reads OPENBLAS_NUM_THREADS when it loads; the first product here (or the program,
 * through ts_linalg_set_threads) overrides it, so the environment never changes a run's threads
 * silently. */
static int threads = 1, configured = 0;

static void ensure_threads(void)
{
    if (!configured) ts_linalg_set_threads(threads);
}

const char *ts_linalg_blas_name(void)
{
    static char name[64];
    if (!name[0]) {
        /* openblas_get_config() starts "OpenBLAS 0.3.21 ...": keep the name and version */
        char product[16] = "", version[16] = "";
        if (sscanf(openblas_get_config(), "%15s %15s", product, version) != 2)
            snprintf(version, sizeof version, "?");
        snprintf(name, sizeof name, "OpenBLAS %s %s", version, openblas_get_corename());
    }
    return name;
}

void ts_linalg_set_threads(int n)
{
    threads = n < 1 ? 1 : n;
    configured = 1;
    openblas_set_num_threads(threads);
}

int ts_linalg_threads(void) { return threads; }
#else
static void ensure_threads(void) {}
const char *ts_linalg_blas_name(void) { return "GSL CBLAS"; }
void ts_linalg_set_threads(int n) { (void)n; }
int ts_linalg_threads(void) { return 1; }
#endif
