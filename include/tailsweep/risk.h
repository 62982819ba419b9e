/* Empirical risks of linear predictors on a data set (data.h): the mean loss of w over the
 * samples and its gradient, through the BLAS. levy_sgd's problems, and any experiment with a
 * linear model, share them. */
#ifndef TAILSWEEP_RISK_H
#define TAILSWEEP_RISK_H

#include <stddef.h>

#include "tailsweep/data.h"

typedef enum ts_loss {
    TS_LOSS_SQUARED,  /* l = 1/2 (w . x - y)^2 */
    TS_LOSS_LOGISTIC  /* l = softplus(-w . x): the label is folded into the row, which holds
                       * y x (the loss depends on y x only); y is unused */
} ts_loss;

/* The mean loss of w over s and, unless grad is NULL, its gradient X^T l'(X w) / n (written,
 * not added). One pass over X in row blocks that stay in cache between the two matrix-vector
 * products (BLAS has no fused X w, X^T r: two full passes made a step twice as slow at
 * n d = 10^6). Uses s->res as scratch. */
double ts_risk_eval(ts_loss loss, ts_dataset *s, const double *w, double *grad);

/* softplus(x) = log(1 + e^x) and sigma(x) = 1 / (1 + e^-x), without overflow at any x. */
double ts_softplus(double x);
double ts_sigmoid(double x);

#endif
