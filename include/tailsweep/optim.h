/* Optimizers over a plain parameter vector, shared by every experiment (none keeps a private
 * copy): gradient descent, sign descent and Adam, dense or restricted to a set of coordinates.
 * The step size comes from the caller each step (see schedule.h). */
#ifndef TAILSWEEP_OPTIM_H
#define TAILSWEEP_OPTIM_H

#include <stddef.h>
#include <stdint.h>
#include "tailsweep/error.h"
#include "tailsweep/params.h"

typedef enum ts_optim_kind {
    TS_OPTIM_GD = 0,   /* w -= lr g */
    TS_OPTIM_SIGN = 1, /* w -= lr sign(g), sign(0) = 0 */
    TS_OPTIM_ADAM = 2  /* Kingma & Ba 2015, Algorithm 1, with bias correction */
} ts_optim_kind;

typedef struct ts_optim_config {
    ts_optim_kind kind;
    double beta1, beta2, epsilon; /* Adam only */
} ts_optim_config;

/* An optimizer's state for n coordinates (Adam's two moments; nothing for GD and sign). */
typedef struct ts_optim {
    ts_optim_config cfg;
    size_t n;
    double *m, *v;   /* Adam: first and second moments, [n]; NULL otherwise */
    uint64_t t;      /* steps taken (Adam's bias correction) */
} ts_optim;

/* The spec's names: "gd|sign|adam". */
#define TS_OPTIM_CHOICES "gd|sign|adam"
const char *ts_optim_name(ts_optim_kind kind);

/* TS_EUSAGE for beta outside [0, 1) or epsilon < 0; TS_ERUNTIME out of memory. */
int ts_optim_init(ts_optim *o, const ts_optim_config *cfg, size_t n, ts_error *err);
void ts_optim_free(ts_optim *o);
/* Back to the state before the first step (moments 0, t = 0). */
void ts_optim_reset(ts_optim *o);

/* One step on all n coordinates: w[k] -= lr * direction(g[k]). */
void ts_optim_step(ts_optim *o, double *w, const double *g, double lr);

/* One step on the coordinates idx[0..nidx-1] only (distinct, < n); w and g are indexed by the
 * same idx (g[idx[k]]). Others are untouched, moments included ("sparse" Adam, as PyTorch's
 * SparseAdam): for GD and sign this equals a dense step whose gradient is zero elsewhere. Every
 * call counts as one step for Adam's bias correction. */
void ts_optim_step_sparse(ts_optim *o, double *w, const double *g, const size_t *idx,
                          size_t nidx, double lr);

/* One step whose gradient is c w[k] (w before the step) at every coordinate except
 * idx[0..nidx-1] (strictly increasing, < n), where it is g_idx[j]: a scalar curvature times w
 * plus a sparse term, the form of the sampled bigram mode's batch gradient on a column. Equal bit
 * for bit to ts_optim_step on that gradient written out, in one pass over w (and Adam's moments)
 * without a gradient array. Counts as one step for Adam. */
void ts_optim_step_scaled(ts_optim *o, double *w, double c, const size_t *idx,
                          const double *g_idx, size_t nidx, double lr);

/* Parameter declarations every experiment with an optimizer includes in its table, so that the
 * spec keys are the same everywhere: optimizer, adam_beta1, adam_beta2, adam_epsilon. */
#define TS_OPTIM_PARAMS(default_optimizer)                                                     \
    {"optimizer", TS_ENUM, .def.e = default_optimizer, .choices = TS_OPTIM_CHOICES,           \
     .unit = "", .doc = "gd (gradient descent), sign (sign descent) or adam"},               \
    {"adam_beta1", TS_REAL, .def.r = 0.9, .range = "[0, 1)", .unit = "",                       \
     .doc = "Adam's first-moment decay (beta1 = beta2 = 0 is sign descent)"},                  \
    {"adam_beta2", TS_REAL, .def.r = 0.999, .range = "[0, 1)", .unit = "",                     \
     .doc = "Adam's second-moment decay"},                                                     \
    {"adam_epsilon", TS_REAL, .def.r = 1e-8, .range = "[0, inf)", .unit = "",                  \
     .doc = "Adam's denominator offset"}

/* The configuration a point's TS_OPTIM_PARAMS describe. */
ts_optim_config ts_optim_config_of(const ts_point *p);

#endif
