/* Private interface of the `bigram` experiment (Kunstner & Bach, arXiv:2505.19227;
 * docs/experiments.md section 1), one file per concern:
 *   bigram.c           descriptor, parameters and metrics, the run dispatch;
 *   bigram_model.c     the Zipf model, the initial gap, the tracker (what the others share);
 *   bigram_vecmath.c   the vectorised exp sums (libmvec) the closed forms and softmax share;
 *   bigram_gd.c        GD's finite-d closed form r(t) (the paper's Prop. 2.2) and its root;
 *   bigram_sign.c      sign descent's finite-d closed forms, at one eta and at any eta;
 *   bigram_envelope.c  the best-phi envelope of sign descent per horizon;
 *   bigram_theory.c    the asymptotic laws of Theorems 3.1 and 4.5;
 *   bigram_exact.c     the exact mode, and the closed forms as overlays of simulated runs;
 *   bigram_full.c      the explicit d x d matrix with the population gradient;
 *   bigram_sampled.c   mini-batches of (i, j) pairs.
 *
 * Layout convention: the prediction for input token i is COLUMN W[:, i], and W is stored column
 * by column, so column i is the contiguous block W + i d (0-based i). Row i's conditional
 * p_i = W*[:, i] is a permutation of the marginal: p_{rho_i(k) | i} = pi_k. */
#ifndef TAILSWEEP_BIGRAM_H
#define TAILSWEEP_BIGRAM_H

#include <stddef.h>
#include <stdint.h>

#include <gsl/gsl_rng.h>

#include "tailsweep/cpu.h"
#include "tailsweep/experiment.h"
#include "tailsweep/optim.h"
#include "tailsweep/schedule.h"
#include "tailsweep/tracker.h"

/* Metric indices: the metrics table in bigram.c is indexed by them. */
enum {
    TS_BIGRAM_LOSS,
    TS_BIGRAM_REL_ERR,
    TS_BIGRAM_THEORY,
    TS_BIGRAM_ASYMPTOTIC,
    TS_BIGRAM_BEST,
    TS_BIGRAM_BEST_PHI,
    TS_BIGRAM_BEST_AVG,
    TS_BIGRAM_BEST_AVG_PHI,
    TS_BIGRAM_ASYMPTOTIC_BEST,
    TS_BIGRAM_STEPS_TO_EPS,
    TS_BIGRAM_BEST_AVG_STEPS_TO_EPS,
    TS_BIGRAM_FINAL,
    TS_BIGRAM_NMETRICS
};

typedef enum { TS_BIGRAM_SQUARE, TS_BIGRAM_CROSS_ENTROPY } ts_bigram_objective;

/* The Zipf marginal pi_k = k^-a / H(d, a), k = 1..d, stored 0-based and decreasing. */
typedef struct ts_bigram_model {
    size_t d;
    double a;
    double harmonic; /* H(d, a) */
    double *pi;      /* [d] */
    double s0;       /* sum_k pi_k^2 = ||p_i||^2, the same for every row */
    double entropy;  /* -sum_k pi_k log pi_k: every row's entropy, the cross-entropy minimum */
} ts_bigram_model;

/* One run's resolved settings. */
typedef struct ts_bigram_run {
    const ts_point *point;
    ts_bigram_model model;
    ts_bigram_objective objective;
    ts_optim_config optim;
    ts_schedule schedule; /* base step eta over the horizon `steps` */
    double eta;           /* the base step size */
    int64_t steps;
    int shared_permutation;
    size_t batch_size, batch_reuse; /* sampled mode */
    int dense_updates;              /* sampled mode: never the lazy column scale */
} ts_bigram_run;

/* pi_k = k^-a / H(d, a) for k = 1..d, with H, s0 and the entropy (bigram_model.c). */
int ts_bigram_model_init(ts_bigram_model *m, size_t d, double a, ts_error *err);
void ts_bigram_model_free(ts_bigram_model *m);

/* L0 - L*: the loss gap at W = 0, the denominator of every relative error. */
double ts_bigram_initial_gap(const ts_bigram_run *run);

/* The tracker of a simulated run (full and sampled modes), relative to L0 - L*: it records loss
 * and rel_err at the record times, steps_to_eps and final_rel_err (bigram_model.c). */
int ts_bigram_tracker_init(ts_tracker *k, const ts_bigram_run *run, ts_recorder *r,
                           ts_error *err);

/* The inner loops are compiled twice, for the x86-64 baseline (SSE2) and for AVX2 + FMA, and
 * the copy is chosen at run time: the matrix loops are compute-bound at two lanes (a full d =
 * 2000 GD step takes 2.2x longer in SSE2 here). */
#if TS_CPU_DISPATCH
#define TS_BIGRAM_AVX2 1
#define TS_BIGRAM_AVX2_TARGET TS_TARGET_AVX2
#define TS_BIGRAM_INLINE static inline __attribute__((always_inline))
#else
#define TS_BIGRAM_AVX2 0
#define TS_BIGRAM_INLINE static inline
#endif

/* ------------------------------------------------------------ shared by the files */

/* Inner loops run over chunks of this many doubles: a compile-time trip count is what lets
 * gcc -O2 vectorise them (and call libmvec). */
enum { TS_BIGRAM_CHUNK = 256 };

/* Eight independent partial sums of a chunk: gcc vectorises this without reassociating. */
TS_BIGRAM_INLINE double ts_bigram_chunk_sum(const double *e)
{
    double acc[8] = {0};
    for (size_t k = 0; k < TS_BIGRAM_CHUNK; k += 8)
        for (size_t l = 0; l < 8; l++) acc[l] += e[k + l];
    return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

/* out[k] = exp(x[k] - shift) (out may alias x), vectorised through libmvec; returns the sum of
 * out. */
double ts_bigram_exp_shifted(const double *x, double shift, double *out, size_t n);
/* sum_k w[k] exp(scale x[k]), vectorised through libmvec. */
double ts_bigram_weighted_exp_sum(const double *w, const double *x, double scale, size_t n);

/* Schedule constant without warmup: what every closed form assumes. */
int ts_bigram_constant_step(const ts_bigram_run *run);

/* GD's closed form r(t) = sum_i pi_i |1 - eta pi_i|^(2t) (bigram_gd.c), prepared once per run:
 * the log-contractions, and per block of TS_BIGRAM_CHUNK coordinates the Taylor moments that
 * let a block whose spread of log-contractions is small at t cost one exp instead of 256. */
typedef struct ts_bigram_gd_form {
    const ts_bigram_model *m;
    size_t nblocks;
    double *ell;    /* [d]: log|1 - eta pi_k| */
    double *center; /* [nblocks]: mid-range of the block's ell */
    double *radius; /* [nblocks]: max |ell - center|; infinite when some ell is not finite */
    double *moment; /* [TS_BIGRAM_GD_TERMS * nblocks]: term j of block b at j * nblocks + b,
                     * in units of the radius (bigram_gd.c) */
} ts_bigram_gd_form;

enum { TS_BIGRAM_GD_TERMS = 16 };

int ts_bigram_gd_form_init(ts_bigram_gd_form *g, const ts_bigram_model *m, double eta,
                           ts_error *err);
void ts_bigram_gd_form_free(ts_bigram_gd_form *g);
/* Bytes the form allocates for dim d (memory guard). */
size_t ts_bigram_gd_form_bytes(size_t d);
/* r(t) for any real t >= 0; r(0) = 1. */
double ts_bigram_gd_rel_err(const ts_bigram_gd_form *g, double t);
/* The real t in [0, steps] with r(t) = eps (GSL's Brent); NaN when r(steps) > eps. */
double ts_bigram_gd_steps_to_eps(const ts_bigram_gd_form *g, double eps, int64_t steps);

/* Sign descent's closed forms (bigram_sign.c). S(t) = sum_k e_k(t)^2 at one eta, in
 * O(moving entries + log d) per t from suffix sums over the entries that have arrived. */
typedef struct ts_bigram_sign_table {
    const ts_bigram_model *m;
    double eta;
    double *arrived[2]; /* [d + 1]: sum over k' >= k of the squared error at even / odd t */
} ts_bigram_sign_table;

int ts_bigram_sign_table_init(ts_bigram_sign_table *s, const ts_bigram_model *m, double eta,
                              ts_error *err);
void ts_bigram_sign_table_free(ts_bigram_sign_table *s);
double ts_bigram_sign_table_sum(const ts_bigram_sign_table *s, int64_t t);
/* First integer t <= steps with S(t) <= target; NaN when none. */
double ts_bigram_sign_steps_to_eps(const ts_bigram_sign_table *s, int64_t steps, double target);

/* Prefix sums of pi and pi^2, for evaluations at ever new eta (the best-phi envelope). */
typedef struct ts_bigram_sign_prefix {
    double *s1, *s2; /* [d + 1]: sums over the first k targets */
} ts_bigram_sign_prefix;

int ts_bigram_sign_prefix_init(ts_bigram_sign_prefix *q, const ts_bigram_model *m,
                               ts_error *err);
void ts_bigram_sign_prefix_free(ts_bigram_sign_prefix *q);
/* S(t) of the iterate W_t and of the mean of W_{t-1} and W_t (t >= 1) at any eta. */
void ts_bigram_sign_sums_at(const ts_bigram_model *m, const ts_bigram_sign_prefix *q, double eta,
                            int64_t t, double *s_iterate, double *s_mean);

/* Exact sign descent's best phi per record time and best_avg_steps_to_eps (bigram_envelope.c). */
int ts_bigram_record_envelopes(const ts_bigram_run *run, ts_recorder *r, size_t grid,
                               ts_error *err);

/* The asymptotic laws (bigram_theory.c): Theorem 3.1 for GD with eta = 1/pi_1, and
 * Theorem 4.5's best-phi envelope of sign descent. */
double ts_bigram_gd_law(const ts_bigram_model *m, int64_t t);
double ts_bigram_sign_best_law(const ts_bigram_model *m, int64_t horizon);
/* Fills asymptotic_rel_err where Theorem 3.1 applies (any mode). */
void ts_bigram_record_asymptotic(const ts_bigram_run *run, ts_recorder *r);

/* The exact mode, and the finite-d closed forms as theory_rel_err of simulated runs
 * (bigram_exact.c). */
ts_status ts_bigram_run_exact(const ts_bigram_run *run, ts_recorder *r, ts_error *err);
int ts_bigram_record_theory(const ts_bigram_run *run, ts_recorder *r, ts_error *err);

/* The simulated modes. Both fill loss, rel_err, steps_to_eps and final_rel_err. */
ts_status ts_bigram_run_full(const ts_bigram_run *run, gsl_rng *rng, ts_recorder *r,
                             ts_error *err);
ts_status ts_bigram_run_sampled(const ts_bigram_run *run, gsl_rng *rng, ts_recorder *r,
                                ts_error *err);
/* Bytes the simulated modes allocate for dim d (memory guard). */
size_t ts_bigram_full_bytes(size_t d, int shared, int adam);
size_t ts_bigram_sampled_bytes(size_t d, int shared, int adam, size_t batch_size);

#endif
