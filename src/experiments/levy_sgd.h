/* Internal to the levy_sgd experiment and its unit test: the population quantities of the logistic
 * loss on a Gaussian mixture. With the sample (x, y), y = +-1, x = y mu + z, z ~ N(0, I_d), the
 * loss softplus(-y w.x) depends on y x = mu + y z ~ N(mu, I_d) only, so for a weight w the margin
 * v = w . (y x) is N(m, s^2) with m = w . mu, s = ||w||, and
 *   population risk  R(w) = E softplus(-v),
 *   its gradient     grad R(w) = -A mu + B w,  A = E sigma(-v),  B = E sigma(v) sigma(-v)
 * (Stein's lemma on the Gaussian part of y x), all one-dimensional Gaussian integrals. */
#ifndef TS_LEVY_SGD_H
#define TS_LEVY_SGD_H

#include <gsl/gsl_integration.h>

#include "tailsweep/error.h"

typedef struct ts_logistic_moments {
    double risk;      /* R = E softplus(-v) */
    double sigmoid;   /* A = E sigma(-v) */
    double curvature; /* B = E sigma(v) sigma(-v) */
} ts_logistic_moments;

/* Subintervals the adaptive quadrature may use: the workspace size to allocate. */
#define TS_LOGISTIC_QUADRATURE_LIMIT 200

/* The moments for v ~ N(m, s^2) (s >= 0) to about 1e-10 relative (or 1e-31 (|m| + s + 1)
 * absolute, when that is larger); only the risk unless with_gradient. Fails (TS_ERUNTIME) when
 * the quadrature does not reach that accuracy. */
int ts_logistic_moments_at(double m, double s, int with_gradient, gsl_integration_workspace *ws,
                           ts_logistic_moments *out, ts_error *err);

/* softplus and sigma themselves are shared: tailsweep/risk.h. */
#include "tailsweep/risk.h"

#endif
