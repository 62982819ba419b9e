/* Deterministic limits beside the simulations: an ODE integrator for theory curves sampled at a
 * run's record times, and Gauss-Hermite expectations under the standard normal. Both are thin
 * layers over GSL (gsl_odeiv2, gsl_integration_fixed) so that every experiment's theory uses
 * the same solver, the same tolerances and the same error messages. */
#ifndef TAILSWEEP_ODE_H
#define TAILSWEEP_ODE_H

#include <stddef.h>

#include "tailsweep/error.h"

/* dy/dt = f(t, y) for y in R^dim; returns 0, or nonzero when y has left the domain where f is
 * defined (the solve then fails with TS_ERUNTIME). */
typedef int (*ts_ode_rhs)(double t, const double *y, double *dydt, void *params);

/* y(times[i]) for i < n into out[i * dim .. i * dim + dim), from y(t0) = y0, times increasing
 * and >= t0: GSL's explicit embedded Runge-Kutta Prince-Dormand (8, 9) with adaptive steps,
 * absolute and relative error per step at most `tol`, and at most about TS_ODE_MAX_STEPS steps
 * in all (max(500, TS_ODE_MAX_STEPS / n) between two output times): an explicit method crawls on
 * a stiff system, and a theory overlay must not hold up its run. TS_EUSAGE for times out of
 * order, TS_ERUNTIME when the solver fails or runs out of steps (the message says at which t);
 * the outputs not reached are NaN. */
enum { TS_ODE_MAX_STEPS = 50000 };
int ts_ode_solve(size_t dim, ts_ode_rhs f, void *params, double t0, const double *y0,
                 const double *times, size_t n, double tol, double *out, ts_error *err);

/* An n-node Gauss-Hermite rule for E h(Z), Z ~ N(0, 1): E h ~ sum_i weight[i] h(node[i]), exact
 * for polynomials of degree < 2n. */
typedef struct ts_gauss_rule {
    size_t n;
    double *node, *weight;
} ts_gauss_rule;

/* TS_ERUNTIME when GSL cannot build the rule or memory runs out. */
int ts_gauss_rule_init(ts_gauss_rule *rule, size_t n, ts_error *err);
void ts_gauss_rule_free(ts_gauss_rule *rule);

#endif
