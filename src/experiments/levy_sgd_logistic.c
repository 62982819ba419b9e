/* Population risk and gradient of the logistic loss on a Gaussian mixture (levy_sgd.h): Gaussian
 * integrals of the logistic functions. They have no closed form, and a fixed Gauss-Hermite rule
 * loses its accuracy as ||w|| grows (the integrands have poles at distance pi / ||w|| from the real
 * axis in the Gaussian variable), so GSL's adaptive rule with breakpoints (QAGP) integrates them,
 * with breakpoints at the scales of both the Gaussian and the logistic bend. */
#include <math.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_sort.h>

#include "tailsweep/risk.h"

#include "levy_sgd.h"

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

/* phi(g) h(m + s g), phi the standard normal density: integrated over g, since over v a tiny s
 * would lose the bump's position to rounding (v - m at |m| >> s). */
static double integrand(double g, void *params)
{
    const gaussian_integrand *gi = params;
    return 0.5 * M_2_SQRTPI * M_SQRT1_2 * exp(-0.5 * g * g) * gi->h(gi->m + gi->s * g);
}

/* The Gaussian factor beyond |g| = 12 weighs 2 Phi(-12) < 4e-33 and the integrands grow at most
 * linearly in g (softplus(-v) <= |v| + log 2; sigma <= 1), so cutting there errs by less than
 * 1e-31 (|m| + s + 1) in absolute terms: a relative error only for values that small. */
#define GAUSSIAN_CUTOFF 12.0

/* The integrands have two features of unrelated widths: the Gaussian bump (width 1 in g, at 0)
 * and the logistic bend (width about 1/s, at g = -m/s). The adaptive rule misses a feature much
 * narrower than the interval it starts on (Gauss-Kronrod nodes avoid the endpoints: a bend of
 * width 1e-4 at a breakpoint went unseen, both rules agreeing on a wrong value), so each gets
 * breakpoints at its own scale: g = {-12, -3, 0, 3, 12} and g = (v - m)/s for the margins
 * v = {-40, -5, 0, 5, 40} (sigma'(40) < 5e-18) that fall inside. Returns their count, sorted. */
static size_t breakpoints(double m, double s, double pts[10])
{
    const double bump[] = {-GAUSSIAN_CUTOFF, -3, 0, 3, GAUSSIAN_CUTOFF};
    const double bend[] = {-40, -5, 0, 5, 40};
    size_t n = 0;
    for (size_t k = 0; k < 5; k++) pts[n++] = bump[k];
    for (size_t k = 0; k < 5; k++) {
        double g = (bend[k] - m) / s;
        if (g > -GAUSSIAN_CUTOFF && g < GAUSSIAN_CUTOFF) pts[n++] = g;
    }
    gsl_sort(pts, 1, n);
    size_t unique = 1;
    for (size_t k = 1; k < n; k++)
        if (pts[k] > pts[unique - 1]) pts[unique++] = pts[k];
    return unique;
}

/* E h(m + s G), G ~ N(0, 1), s > 0. */
static int gaussian_expectation(double (*h)(double), double m, double s,
                                gsl_integration_workspace *ws, double *out, ts_error *err)
{
    const double epsabs = 1e-15, epsrel = 1e-10;
    double pts[10], error;
    size_t npts = breakpoints(m, s, pts);
    gaussian_integrand gi = {h, m, s};
    gsl_function f = {integrand, &gi};
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
