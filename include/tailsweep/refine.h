/* Schedule refinement and the last-iterate bound (Defazio, Cutkosky, Mehta, Mishchenko,
 * arXiv:2310.07831; docs/experiments.md section 4): a step-size schedule built from an earlier
 * run's gradient norms, and the bound that explains why linear decay and refinement work. Both
 * are O(T) or O(T log T) in the run's length, for T up to 10^8.
 *
 * Refinement, for norms g_0 .. g_{T-1} (T >= 2):
 *   1. smooth them (ts_refine_smooth): s = filter(g);
 *   2. weights w_t = s_t^(-power) (power 2 for SGD, 1 for sign descent and Adam);
 *   3. eta_t = w_t sum_{u > t} w_u, so that eta_{T-1} = 0;
 *   4. normalise to max_t eta_t = 1 (the base step size multiplies the result).
 * Constant norms give exactly linear decay, eta_t = (T - 1 - t) / (T - 1). */
#ifndef TAILSWEEP_REFINE_H
#define TAILSWEEP_REFINE_H

#include <stddef.h>

#include "tailsweep/error.h"

typedef enum ts_refine_filter {
    TS_REFINE_MEDIAN = 0,
    TS_REFINE_GAUSSIAN = 1,
    TS_REFINE_NONE = 2
} ts_refine_filter;

/* The spec's and the command line's names, in enum order. */
#define TS_REFINE_FILTER_CHOICES "median|gaussian|none"
const char *ts_refine_filter_name(ts_refine_filter f);
/* TS_EUSAGE for a name that is not a choice. */
int ts_refine_filter_parse(const char *name, ts_refine_filter *f, ts_error *err);

/* out[t] for t < T from g (out must not alias g):
 *   median    the median of the window of `width` steps around t, t - floor(width/2) ..
 *             t + width - 1 - floor(width/2), reflecting at both ends (... g1 g0 | g0 g1 ...):
 *             scipy.ndimage.median_filter(g, size=width, mode='reflect'), whose median of an
 *             even window is its upper middle element; O(T log T);
 *   gaussian  the Gaussian-weighted mean with standard deviation `width` steps, truncated at
 *             4 width (radius floor(4 width + 1/2)), edges repeated:
 *             scipy.ndimage.gaussian_filter1d(g, width, mode='nearest', truncate=4); O(T radius)
 *             while that is small, by FFT (GSL) beyond (radius > 128): there the error is
 *             absolute, about 1e-15 max g, and the result is clamped into [min g, max g];
 *   none      a copy.
 * width: at least 1 for median (a whole number of steps), > 0 for gaussian. TS_EUSAGE for a
 * bad width, TS_ERUNTIME out of memory. */
int ts_refine_smooth(const double *g, size_t T, ts_refine_filter f, double width, double *out,
                     ts_error *err);

/* The refined multipliers eta[0 .. T) from the norms (each > 0 and finite; T >= 2), as the
 * header says. TS_EUSAGE for a norm that is not positive and finite, T < 2, or a bad width or
 * power (> 0). */
int ts_refine_schedule(const double *norms, size_t T, ts_refine_filter f, double width,
                       double power, double *eta, ts_error *err);

/* The last-iterate bound in step-size form (Defazio et al., Theorem 1) for step sizes
 * eta[0 .. T) (>= 0) with gradient norms G[0 .. T) and distance D = ||x_0 - x*||:
 *   B = (D^2 + sum_t G_t^2 eta_t^2) / (2 sum_t eta_t)
 *     + 1/2 sum_{k < T-1} eta_k / (sum_{t > k} eta_t) * (sum_{t >= k} G_t^2 eta_t^2) /
 *                                                        (sum_{t >= k} eta_t),
 * in O(T) from suffix sums (compensated). Steps of size 0 at the end move nothing, so the sums
 * run to the last positive step. NaN when every step is 0. */
double ts_refine_bound(const double *eta, const double *G, size_t T, double D);

#endif
