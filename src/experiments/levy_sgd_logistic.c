/* Population risk and gradient of the logistic loss on a Gaussian mixture (levy_sgd.h): Gaussian
 * integrals of the logistic functions. They have no closed form, and a fixed Gauss-Hermite rule
 * loses its accuracy as ||w|| grows (the integrands have poles at distance pi / ||w|| from the real
 * axis in the Gaussian variable), so GSL's adaptive rule with breakpoints (QAGP) integrates them,
 * with a breakpoint where the logistic functions bend. */
#include <math.h>

#include <gsl/gsl_errno.h>

#include "levy_sgd.h"

double ts_softplus(double x)
{
    return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
}

double ts_sigmoid(double x)
{
    return x >= 0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x));
}

static double loss_of_margin(double v) { return ts_softplus(-v); }
static double sigmoid_of_minus(double v) { return ts_sigmoid(-v); }

/* sigma(v) sigma(-v) = e^-|v| / (1 + e^-|v|)^2: symmetric, and no overflow. */
static double sigmoid_slope(double v)
{
    double e = exp(-fabs(v));
    return e / ((1.0 + e) * (1.0 + e));
}

typedef struct gaussian_integrand {
    double (*h)(double);
    double m, s;
} gaussian_integrand;

/* phi(g) h(m + s g), phi the standard normal density. */
static double integrand(double g, void *params)
{
    const gaussian_integrand *gi = params;
    return 0.5 * M_2_SQRTPI * M_SQRT1_2 * exp(-0.5 * g * g) * gi->h(gi->m + gi->s * g);
}

/* The Gaussian factor beyond |g| = 12 weighs 2 Phi(-12) < 4e-33: far below the accuracy asked,
 * since the integrands grow at most linearly. */
#define GAUSSIAN_CUTOFF 12.0

/* E h(m + s G), G ~ N(0, 1), for s > 0: on [-12, 12] with breakpoints that resolve the Gaussian
 * bump (-3, 0, 3) and the logistic bend at the margin's zero g = -m/s, whose width is 1/s. */
static int gaussian_expectation(double (*h)(double), double m, double s,
                                gsl_integration_workspace *ws, double *out, ts_error *err)
{
    const double epsabs = 1e-15, epsrel = 1e-10, bend = -m / s;
    double pts[6] = {-GAUSSIAN_CUTOFF, -3, 0, 3, GAUSSIAN_CUTOFF};
    size_t npts = 5;
    if (fabs(bend) < GAUSSIAN_CUTOFF && bend != -3 && bend != 0 && bend != 3) {
        size_t k = npts++;
        for (; pts[k - 1] > bend; k--) pts[k] = pts[k - 1];
        pts[k] = bend;
    }
    gaussian_integrand gi = {h, m, s};
    gsl_function f = {integrand, &gi};
    double error;
    int status = gsl_integration_qagp(&f, pts, npts, epsabs, epsrel, TS_LOGISTIC_QUADRATURE_LIMIT,
                                      ws, out, &error);
    if (status != GSL_SUCCESS)
        return ts_error_set(err, TS_ERUNTIME,
                            "logistic population integral at margin mean %g, sd %g: %s", m, s,
                            gsl_strerror(status));
    return TS_OK;
}

int ts_logistic_moments_at(double m, double s, int with_gradient, gsl_integration_workspace *ws,
                           ts_logistic_moments *out, ts_error *err)
{
    if (s == 0) { /* w = 0 or w orthogonal to everything: the margin is the constant m */
        *out = (ts_logistic_moments){loss_of_margin(m), sigmoid_of_minus(m), sigmoid_slope(m)};
        return TS_OK;
    }
    out->sigmoid = out->curvature = NAN;
    if (gaussian_expectation(loss_of_margin, m, s, ws, &out->risk, err)) return err->code;
    if (!with_gradient) return TS_OK;
    if (gaussian_expectation(sigmoid_of_minus, m, s, ws, &out->sigmoid, err)) return err->code;
    return gaussian_expectation(sigmoid_slope, m, s, ws, &out->curvature, err);
}
