/* Private interface of the `bigram` experiment (Kunstner & Bach, arXiv:2505.19227; PAPERS.md
 * section 1), shared by its three files:
 *   bigram.c          descriptor, the Zipf model, the exact mode, the closed forms and the laws,
 *                     the vectorised exp;
 *   bigram_full.c     the explicit d x d matrix with the population gradient, and the loss
 *                     tracking both simulated modes share;
 *   bigram_sampled.c  mini-batches of (i, j) pairs.
 *
 * Layout convention: the prediction for input token i is COLUMN W[:, i], and W is stored column
 * by column, so column i is the contiguous block W + i d (0-based i). Row i's conditional
 * p_i = W*[:, i] is a permutation of the marginal: p_{rho_i(k) | i} = pi_k. */
#ifndef TAILSWEEP_BIGRAM_H
#define TAILSWEEP_BIGRAM_H

#include <stddef.h>
#include <stdint.h>

#include <gsl/gsl_rng.h>

#include "tailsweep/experiment.h"
#include "tailsweep/optim.h"
#include "tailsweep/schedule.h"

/* Metric indices, in the order of the metrics table in bigram.c. */
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
    TS_BIGRAM_FINAL
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
} ts_bigram_run;

/* A loss gap this many times the initial one, or not finite, means the run has blown up
 * (TS_DIVERGED). */
#define TS_BIGRAM_BLOWUP 1e6

/* L0 - L*: the loss gap at W = 0, the denominator of every relative error. */
double ts_bigram_initial_gap(const ts_bigram_run *run);

/* Follows the loss of a simulated run (full and sampled modes): records it at the record times,
 * finds the first step at which it falls to each eps, and spots divergence. */
typedef struct ts_bigram_tracker {
    ts_recorder *rec;
    double gap0;       /* L0 - L* */
    size_t next;       /* the next record index */
    const double *eps;
    size_t neps, unreached;
    double *hit;       /* the recorder's steps_to_eps block */
} ts_bigram_tracker;

void ts_bigram_tracker_init(ts_bigram_tracker *k, const ts_bigram_run *run, ts_recorder *r);
/* The loss gap L(t) - L* after t steps. The caller passes it at every record time and at every
 * step while some eps is unreached (so that hits are first hits). Returns TS_DIVERGED when the
 * gap is not finite or exceeds the blow-up bound, TS_DONE otherwise. */
ts_status ts_bigram_track(ts_bigram_tracker *k, int64_t t, double gap);

static inline int ts_bigram_is_record_time(const ts_bigram_tracker *k, int64_t t)
{
    return k->next < k->rec->layout.nrecords && k->rec->times[k->next] == t;
}

/* out[k] = exp(x[k] - shift) (out may alias x), vectorised through libmvec; returns the sum of
 * out. */
double ts_bigram_exp_shifted(const double *x, double shift, double *out, size_t n);

/* The inner loops are compiled twice, for the x86-64 baseline (SSE2) and for AVX2 + FMA, and
 * the copy is chosen at run time: the matrix loops are compute-bound at two lanes (a full d =
 * 2000 GD step takes 2.2x longer in SSE2 here). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define TS_BIGRAM_AVX2 1
#define TS_BIGRAM_AVX2_TARGET __attribute__((target("avx2,fma")))
#define TS_BIGRAM_INLINE static inline __attribute__((always_inline))
#else
#define TS_BIGRAM_AVX2 0
#define TS_BIGRAM_INLINE static inline
#endif
int ts_bigram_have_avx2(void);

/* The simulated modes. Both fill loss, rel_err, steps_to_eps and final_rel_err. */
ts_status ts_bigram_run_full(const ts_bigram_run *run, gsl_rng *rng, ts_recorder *r,
                             ts_error *err);
ts_status ts_bigram_run_sampled(const ts_bigram_run *run, gsl_rng *rng, ts_recorder *r,
                                ts_error *err);
/* Bytes the simulated modes allocate for dim d (memory guard). */
size_t ts_bigram_full_bytes(size_t d, int shared, int adam);
size_t ts_bigram_sampled_bytes(size_t d, int shared, int adam, size_t batch_size);

#endif
