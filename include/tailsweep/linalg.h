/* Dense linear algebra on plain row-major arrays: a thin layer over the CBLAS that configure
 * linked (OpenBLAS when present, else GSL's reference CBLAS), so that experiments call one set of
 * names and provenance can say which BLAS made their numbers. Matrices are row-major with a row
 * stride (ld >= the row length); every size must be below 2^31 (CBLAS takes int).
 *
 * An optimised BLAS picks its kernels by CPU type, so two nodes of different types may differ
 * in the last bits (as the vector math may, cpu.h): /provenance/host names the BLAS and its
 * kernel. The thread count is set by the program (ts_linalg_set_threads), never read from the
 * environment: one thread per MPI rank by default, since the ranks already fill the cores. */
#ifndef TAILSWEEP_LINALG_H
#define TAILSWEEP_LINALG_H

#include <stddef.h>

typedef enum ts_linalg_op { TS_LINALG_N = 0, TS_LINALG_T = 1 } ts_linalg_op;

/* C = alpha op(A) op(B) + beta C with op(A) m x k, op(B) k x n, C m x n. With beta = 0, C is
 * only written (NaN in C does not propagate). */
void ts_linalg_gemm(ts_linalg_op op_a, ts_linalg_op op_b, size_t m, size_t n, size_t k,
                    double alpha, const double *a, size_t lda, const double *b, size_t ldb,
                    double beta, double *c, size_t ldc);

/* The lower triangle (j <= i) of C = alpha A^T A + beta C, A k x n (rows of n), C n x n; the
 * strict upper triangle is not touched. A Gram matrix or Hessian X^T X at half a GEMM's cost. */
void ts_linalg_syrk_lower(size_t n, size_t k, double alpha, const double *a, size_t lda,
                          double beta, double *c, size_t ldc);

/* y = alpha op(A) x + beta y, A m x n (op(A) x has m entries for N, n for T). */
void ts_linalg_gemv(ts_linalg_op op_a, size_t m, size_t n, double alpha, const double *a,
                    size_t lda, const double *x, double beta, double *y);

double ts_linalg_dot(size_t n, const double *x, const double *y);
double ts_linalg_nrm2(size_t n, const double *x);
/* y += alpha x */
void ts_linalg_axpy(size_t n, double alpha, const double *x, double *y);
/* x *= alpha */
void ts_linalg_scal(size_t n, double alpha, double *x);

/* The BLAS and its kernel, e.g. "OpenBLAS 0.3.21 Haswell", or "GSL CBLAS". */
const char *ts_linalg_blas_name(void);
/* Threads one BLAS call may use (>= 1; GSL's CBLAS always uses 1). Set it before any work. */
void ts_linalg_set_threads(int threads);
int ts_linalg_threads(void);

#endif
