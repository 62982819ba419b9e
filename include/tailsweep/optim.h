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
    /* gd: heavy ball, b = momentum b + g, w -= lr b (PyTorch's SGD without dampening);
     * sign: signum, b = momentum b + (1 - momentum) g, w -= lr sign(b). 0 for none; Adam has
     * its own (beta1) and refuses this one. */
    double momentum;
    /* Coupled L2 ("weight decay" as PyTorch's SGD and Adam apply it): every rule steps on
     * g + weight_decay w, the gradient of the loss plus weight_decay/2 ||w||^2. 0 for none. */
    double weight_decay;
} ts_optim_config;

/* An optimizer's state for n coordinates, which may be split into blocks (ts_optim_update). */
typedef struct ts_optim {
    ts_optim_config cfg;
    size_t n;
    double *m, *v;   /* Adam: first and second moments; gd/sign with momentum: m is the
                      * momentum buffer; [n], NULL when unused */
    uint64_t t;      /* steps begun (Adam's bias correction) */
    double c1, c2;   /* Adam: the bias corrections 1 / (1 - beta^t) of the step begun */
} ts_optim;

/* The spec's names: "gd|sign|adam". */
#define TS_OPTIM_CHOICES "gd|sign|adam"
const char *ts_optim_name(ts_optim_kind kind);

/* TS_EUSAGE for beta outside [0, 1), epsilon < 0, momentum outside [0, 1) (or > 0 with Adam),
 * weight_decay < 0; TS_ERUNTIME out of memory. */
int ts_optim_init(ts_optim *o, const ts_optim_config *cfg, size_t n, ts_error *err);
/* The same checks without allocating (for an experiment's check hook). */
int ts_optim_config_check(const ts_optim_config *cfg, ts_error *err);
void ts_optim_free(ts_optim *o);
/* Back to the state before the first step (moments and momentum 0, t = 0). */
void ts_optim_reset(ts_optim *o);

/* ---- one step over all n coordinates at once */

/* w[k] -= lr * direction(g[k]) for every k. */
void ts_optim_step(ts_optim *o, double *w, const double *g, double lr);

/* One step on the coordinates idx[0..nidx-1] only (distinct, < n); w and g are indexed by the
 * same idx (g[idx[k]]). Others are untouched, moments and momentum included ("sparse" Adam, as
 * PyTorch's SparseAdam): for plain GD and sign this equals a dense step whose gradient is zero
 * elsewhere. Every call counts as one step for Adam's bias correction. */
void ts_optim_step_sparse(ts_optim *o, double *w, const double *g, const size_t *idx,
                          size_t nidx, double lr);

/* One step whose gradient is c w[k] (w before the step) at every coordinate except
 * idx[0..nidx-1] (strictly increasing, < n), where it is g_idx[j]: a scalar curvature times w
 * plus a sparse term, the form of the sampled bigram mode's batch gradient on a column. Equal bit
 * for bit to ts_optim_step on that gradient written out, in one pass over w (and Adam's moments)
 * without a gradient array. Counts as one step for Adam. */
void ts_optim_step_scaled(ts_optim *o, double *w, double c, const size_t *idx,
                          const double *g_idx, size_t nidx, double lr);

/* ---- one step over several parameter blocks (W1 and W2, Q/K/V, the columns of a matrix)
 * The optimizer's n coordinates are the blocks laid end to end: begin the step once, then update
 * each block once, in any order, as [offset, offset + len) of the state, with the block's own
 * parameters w and gradient g. The result equals one ts_optim_step on the concatenation, bit for
 * bit, and a block may be stepped while its gradient is still in cache. */
void ts_optim_begin(ts_optim *o);
void ts_optim_update(ts_optim *o, size_t offset, double *w, const double *g, size_t len,
                     double lr);
/* The block form of ts_optim_step_scaled: idx are indices within the block. */
void ts_optim_update_scaled(ts_optim *o, size_t offset, double *w, size_t len, double c,
                            const size_t *idx, const double *g_idx, size_t nidx, double lr);

/* Parameter declarations every experiment with an optimizer includes in its table, so that the
 * spec keys are the same everywhere: optimizer, adam_beta1, adam_beta2, adam_epsilon, momentum,
 * weight_decay. */
#define TS_OPTIM_PARAMS(default_optimizer)                                                     \
    {"optimizer", TS_ENUM, .def.e = default_optimizer, .choices = TS_OPTIM_CHOICES,           \
     .unit = "", .doc = "gd (gradient descent), sign (sign descent) or adam"},               \
    {"adam_beta1", TS_REAL, .def.r = 0.9, .range = "[0, 1)", .unit = "",                       \
     .doc = "Adam's first-moment decay (beta1 = beta2 = 0 is sign descent)"},                  \
    {"adam_beta2", TS_REAL, .def.r = 0.999, .range = "[0, 1)", .unit = "",                     \
     .doc = "Adam's second-moment decay"},                                                     \
    {"adam_epsilon", TS_REAL, .def.r = 1e-8, .range = "[0, inf)", .unit = "",                  \
     .doc = "Adam's denominator offset"},                                                      \
    {"momentum", TS_REAL, .def.r = 0.0, .range = "[0, 1)", .unit = "",                         \
     .doc = "gd: heavy ball b = mu b + g; sign: signum b = mu b + (1 - mu) g (0: none; not "    \
            "for adam, whose momentum is adam_beta1)"},                                        \
    {"weight_decay", TS_REAL, .def.r = 0.0, .range = "[0, inf)", .unit = "",                   \
     .doc = "coupled L2: every optimizer steps on g + weight_decay w, the gradient of the "     \
            "loss + weight_decay/2 ||w||^2"}

/* The configuration a point's TS_OPTIM_PARAMS describe. */
ts_optim_config ts_optim_config_of(const ts_point *p);

#endif
