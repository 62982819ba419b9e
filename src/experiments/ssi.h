/* Private interface of the `ssi` experiment (Arnaboldi, Loureiro, Stephan, Krzakala, Zdeborova,
 * arXiv:2506.02651; docs/experiments.md section 5), shared by its files and its unit test:
 *   ssi.c         descriptor, targets, the three models, the online spherical SGD loop;
 *   ssi_theory.c  the high-dimensional limit of the overlap for the tied models (an ODE in
 *                 tau = n / d, expectations by Gauss-Hermite and closed Gaussian moments). */
#ifndef TS_SSI_H
#define TS_SSI_H

#include <stddef.h>

#include "tailsweep/error.h"
#include "tailsweep/ode.h"

typedef enum { TS_SSI_TIED, TS_SSI_UNTIED, TS_SSI_ATTENTION } ts_ssi_model;
typedef enum { TS_SSI_RELU, TS_SSI_SQUARE } ts_ssi_activation;
typedef enum { TS_SSI_IDENTITY, TS_SSI_TRACE } ts_ssi_reduction;

/* A target: one row of the table in ssi.c, in the order of the `target` choices. z holds the
 * teacher's projections z_l = x_l . w* of the L tokens. */
typedef struct ts_ssi_target {
    const char *name, *formula;
    int sie; /* the sequence information exponent (0: none, the target is not a sum) */
    /* y = scale(L) sum_l token(z_l): the separable sums, whose conditional moments given
     * zeta = L^(-1/2) sum_l z_l the theory computes from `token` alone; NULL otherwise */
    double (*token)(double z);
    double (*scale)(size_t L);
    /* the others: a scalar y(z) (pathological) or, matrix set, Y [L x L] (positional_semantic,
     * which also reads omega) */
    double (*scalar)(const double *z, size_t L);
    void (*matrix)(const double *z, size_t L, double omega, double *y);
    size_t min_len, max_len; /* the seq_len it is defined for; 0: unbounded */
} ts_ssi_target;

extern const ts_ssi_target ts_ssi_targets[]; /* NULL-name terminated */

/* A network: model, activation (tied and untied), reduction (attention), L tokens of dimension
 * d, and attention's positional direction p (unit norm; P_l = (-1)^l p / sqrt(d)). */
typedef struct ts_ssi_net {
    ts_ssi_model model;
    ts_ssi_activation activation;
    ts_ssi_reduction reduction;
    size_t L, d;
    const double *p;
} ts_ssi_net;

/* Doubles of work space ts_ssi_loss_grad needs, and the size of the weights (d; L d untied). */
size_t ts_ssi_work_size(const ts_ssi_net *net);
size_t ts_ssi_weight_size(const ts_ssi_net *net);
/* Whether the model's output (and so its label) is the L x L matrix: attention, identity. */
int ts_ssi_matrix_output(const ts_ssi_net *net);

/* The label of a sample in the shape of the model's output, from its projections z [L]: the
 * target's scalar, or its matrix (reduced by the trace, (1/sqrt L) tr Y, when the network
 * reduces so). y holds 1 or L^2 doubles. */
void ts_ssi_label(const ts_ssi_net *net, const ts_ssi_target *target, double omega,
                  const double *z, double *y);

/* One sample X [L x d] row-major, label y: returns the loss (y - f)^2 (squared Frobenius norm
 * for matrix outputs) and, with grad non-NULL, writes its gradient in the weights w (d, or
 * [L x d] untied). work holds ts_ssi_work_size doubles. */
double ts_ssi_loss_grad(const ts_ssi_net *net, const double *x, const double *w,
                        const double *y, double *grad, double *work);

/* ------------------------------------------------------------------ the limit (ssi_theory.c) */

/* The ODE of the overlap m of a tied model (relu or square) on a separable or pathological
 * target as d -> infinity at fixed step gamma, in tau = n / d (docs/experiments.md 5.3):
 *   dm/dtau = gamma (E[G zeta] - m E[G h]) - gamma^2 / 2 m E[G^2],
 *   G = 2 (y - sigma(h)) sigma'(h), h = m zeta + sqrt(1 - m^2) eta,
 * over zeta, eta ~ N(0, 1) independent and y given zeta. */
typedef struct ts_ssi_limit {
    ts_ssi_activation activation;
    ts_gauss_rule rule;  /* over zeta */
    double *mu1, *mu2;   /* E[y | zeta], E[y^2 | zeta] at the rule's nodes */
} ts_ssi_limit;

/* TS_EUSAGE when the target has no limit here (not a sum, nor pathological; or matrix). */
int ts_ssi_limit_init(ts_ssi_limit *lim, const ts_ssi_target *target, size_t L,
                      ts_ssi_activation activation, ts_error *err);
void ts_ssi_limit_free(ts_ssi_limit *lim);

/* dm/dtau at overlap m (|m| <= 1) and step gamma. */
double ts_ssi_limit_drift(const ts_ssi_limit *lim, double m, double gamma);

/* E[y | zeta] and E[y^2 | zeta] of a target at seq_len L (the conditional law of the tokens
 * given their normalised sum), for the theory and its test. */
void ts_ssi_conditional_moments(const ts_ssi_target *target, size_t L, const ts_gauss_rule *r,
                                double zeta, double *mu1, double *mu2);

/* m(tau_i) for the n times tau[] (increasing, from 0) from m(0) = m0, the step at time tau
 * being gamma(tau, params). */
int ts_ssi_limit_overlap(const ts_ssi_limit *lim, double m0,
                         double (*gamma)(double tau, void *params), void *params,
                         const double *tau, size_t n, double *out, ts_error *err);

#endif
