/* ts_ode_solve and ts_gauss_rule (ode.h) over GSL. */
#include <math.h>
#include <stdlib.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_integration.h>
#include <gsl/gsl_math.h>
#include <gsl/gsl_odeiv2.h>

#include "tailsweep/ode.h"

typedef struct rhs_adapter {
    ts_ode_rhs f;
    void *params;
} rhs_adapter;

static int gsl_rhs(double t, const double y[], double dydt[], void *params)
{
    const rhs_adapter *a = params;
    return a->f(t, y, dydt, a->params) ? GSL_EBADFUNC : GSL_SUCCESS;
}

int ts_ode_solve(size_t dim, ts_ode_rhs f, void *params, double t0, const double *y0,
                 const double *times, size_t n, double tol, double *out, ts_error *err)
{
    for (size_t i = 0; i < n; i++)
        if (!(times[i] >= (i ? times[i - 1] : t0)))
            return ts_error_set(err, TS_EUSAGE, "ODE output times must increase from t0 = %g "
                                "(time %zu is %g)", t0, i, times[i]);
    double *y = malloc(dim * sizeof *y);
    rhs_adapter adapter = {f, params};
    gsl_odeiv2_system sys = {gsl_rhs, NULL, dim, &adapter};
    /* the first step is a guess the driver adapts; a unit step suits our O(1) time scales */
    double first = n && times[n - 1] > t0 ? fmin(1e-3, times[n - 1] - t0) : 1e-3;
    gsl_odeiv2_driver *d =
        y ? gsl_odeiv2_driver_alloc_y_new(&sys, gsl_odeiv2_step_rk8pd, first, tol, tol) : NULL;
    if (!d) {
        free(y);
        return ts_error_set(err, TS_ERUNTIME, "out of memory for an ODE of dimension %zu", dim);
    }
    /* a budget of steps over the whole solve, so that a stiff system fails in seconds instead
     * of running without end (an explicit method's steps shrink with the stiffness) */
    gsl_odeiv2_driver_set_nmax(d, n ? (TS_ODE_MAX_STEPS / n > 500 ? TS_ODE_MAX_STEPS / n : 500)
                                    : TS_ODE_MAX_STEPS);
    for (size_t k = 0; k < dim; k++) y[k] = y0[k];
    double t = t0;
    int rc = TS_OK;
    gsl_error_handler_t *old = gsl_set_error_handler_off();
    for (size_t i = 0; i < n; i++) {
        int status = rc != TS_OK ? GSL_SUCCESS
                     : times[i] > t ? gsl_odeiv2_driver_apply(d, &t, times[i], y)
                                    : GSL_SUCCESS;
        if (status != GSL_SUCCESS && rc == TS_OK)
            rc = ts_error_set(err, TS_ERUNTIME, "the ODE solver stopped at t = %g on the way to "
                              "%g: %s", t, times[i],
                              status == GSL_EMAXITER ? "too many steps (a stiff system?)"
                                                     : gsl_strerror(status));
        for (size_t k = 0; k < dim; k++) out[i * dim + k] = rc == TS_OK ? y[k] : NAN;
    }
    gsl_set_error_handler(old);
    gsl_odeiv2_driver_free(d);
    free(y);
    return rc;
}

int ts_gauss_rule_init(ts_gauss_rule *rule, size_t n, ts_error *err)
{
    rule->n = n;
    rule->node = malloc(n * sizeof *rule->node);
    rule->weight = malloc(n * sizeof *rule->weight);
    /* weight exp(-x^2 / 2) on the real line (a = 0, b = 1/2): sum w_i h(x_i) = sqrt(2 pi) E h */
    gsl_integration_fixed_workspace *w =
        rule->node && rule->weight
            ? gsl_integration_fixed_alloc(gsl_integration_fixed_hermite, n, 0.0, 0.5, 0.0, 0.0)
            : NULL;
    if (!w) {
        ts_gauss_rule_free(rule);
        return ts_error_set(err, TS_ERUNTIME, "could not build a %zu-node Gauss-Hermite rule",
                            n);
    }
    const double *x = gsl_integration_fixed_nodes(w), *v = gsl_integration_fixed_weights(w);
    for (size_t i = 0; i < n; i++) {
        rule->node[i] = x[i];
        rule->weight[i] = v[i] / sqrt(2.0 * M_PI);
    }
    gsl_integration_fixed_free(w);
    return TS_OK;
}

void ts_gauss_rule_free(ts_gauss_rule *rule)
{
    free(rule->node);
    free(rule->weight);
    rule->node = rule->weight = NULL;
    rule->n = 0;
}
