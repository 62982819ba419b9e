/* Data sets and batches for the experiments that train on samples (levy_sgd, two_layer, ...):
 * n samples of dimension d stored row-major for the BLAS (linalg.h), and the one rule of how a
 * batch is reused, so that `batch_reuse` means the same in every experiment. */
#ifndef TAILSWEEP_DATA_H
#define TAILSWEEP_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "tailsweep/error.h"

/* Inputs x [n x d] (row i is sample i), targets y [n], and res [n], scratch for what a loss
 * needs per sample (its derivative in each prediction). */
typedef struct ts_dataset {
    size_t n, d;
    double *x, *y, *res;
} ts_dataset;

/* Caller storage: allocates x, y (zeroed) and res; TS_ERUNTIME when out of memory (nothing is
 * left allocated). */
int ts_dataset_init(ts_dataset *s, size_t n, size_t d, ts_error *err);
void ts_dataset_free(ts_dataset *s);
/* Bytes ts_dataset_init allocates (memory models). */
size_t ts_dataset_bytes(size_t n, size_t d);

/* Batch reuse: 1 draws a fresh batch at every step (single-pass), k uses each batch for k
 * consecutive steps, 0 keeps the first batch for the whole run (multi-pass). Whether step t
 * (0-based) starts on a freshly drawn batch. */
static inline int ts_batch_is_fresh(int64_t t, int64_t reuse)
{
    return reuse == 0 ? t == 0 : t % reuse == 0;
}

/* The parameter, with the same meaning in every experiment that draws batches. */
#define TS_BATCH_REUSE_PARAM(default_reuse)                                                  \
    {"batch_reuse", TS_INT, .def.i = default_reuse, .range = "[0, inf)", .unit = "steps",    \
     .doc = "consecutive steps on each drawn batch: 1 a fresh batch every step (single-pass), " \
            "k each batch k times, 0 one batch for the whole run (multi-pass)"}

#endif
