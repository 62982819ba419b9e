/* The asymptotic laws of the bigram experiment (Kunstner & Bach, arXiv:2505.19227): Theorem
 * 3.1's loss of GD with eta = 1/pi_1 in the three regimes of the Zipf exponent a, and Theorem
 * 4.5's envelope of sign descent with the best step per horizon. Both are recorded next to the
 * finite-d values, which approach them as d grows. */
#include <math.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_sf_expint.h>
#include <gsl/gsl_sf_gamma.h>
#include <gsl/gsl_sf_zeta.h>

#include "bigram.h"

/* Theorem 3.1 of the paper for eta = 1/pi_1, rebuilt by replacing the sum over i by an
 * integral: a < 1 with 2t = tau d^a: ((1 - a)/a) E_{1/a}(tau), E_p(x) = x^(p-1) Gamma(1-p, x);
 * a = 1: the finite-d form [E_1(2t/d) - E_1(2t)] / H(d, 1); a > 1: B(2t+1, 1-1/a)/(a zeta(a)).
 * GSL reports underflow (result 0) for the far tail: that is the right value. */
double ts_bigram_gd_law(const ts_bigram_model *m, int64_t t)
{
    if (t == 0) return 1.0;
    double a = m->a, d = (double)m->d, two_t = 2.0 * (double)t;
    gsl_sf_result g, e1, e2, lb, z;
    if (a < 1) {
        double tau = two_t / pow(d, a), p = 1 / a;
        int rc = gsl_sf_gamma_inc_e(1 - p, tau, &g);
        if (rc == GSL_EUNDRFLW) return 0;
        if (rc) return NAN;
        return (1 - a) / a * exp((p - 1) * log(tau)) * g.val;
    }
    if (a == 1) {
        int rc1 = gsl_sf_expint_E1_e(two_t / d, &e1), rc2 = gsl_sf_expint_E1_e(two_t, &e2);
        if ((rc1 && rc1 != GSL_EUNDRFLW) || (rc2 && rc2 != GSL_EUNDRFLW)) return NAN;
        return ((rc1 ? 0 : e1.val) - (rc2 ? 0 : e2.val)) / m->harmonic;
    }
    if (gsl_sf_lnbeta_e(two_t + 1, 1 - 1 / a, &lb) || gsl_sf_zeta_e(a, &z)) return NAN;
    return exp(lb.val) / (a * z.val);
}

/* Theorem 4.5's envelope, a > 1/2, with tau^2 = 4 T^2 / d. */
double ts_bigram_sign_best_law(const ts_bigram_model *m, int64_t horizon)
{
    if (m->a <= 0.5 || horizon == 0) return NAN;
    gsl_sf_result z;
    if (gsl_sf_zeta_e(2 * m->a, &z)) return NAN;
    double tau2 = 4.0 * (double)horizon * (double)horizon / (double)m->d;
    return 1.0 / (z.val * (1 + tau2));
}

void ts_bigram_record_asymptotic(const ts_bigram_run *run, ts_recorder *r)
{
    if (run->optim.kind != TS_OPTIM_GD || run->objective != TS_BIGRAM_SQUARE ||
        !ts_bigram_constant_step(run) || !ts_point_is(run->point, "step_rule", "inverse_pi1"))
        return;
    double *law = ts_recorder_series(r, TS_BIGRAM_ASYMPTOTIC);
    for (size_t k = 0; k < r->layout.nrecords; k++)
        law[k] = ts_bigram_gd_law(&run->model, r->times[k]);
}
