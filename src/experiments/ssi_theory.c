/* The high-dimensional limit of online spherical SGD for the tied models of the `ssi`
 * experiment (docs/experiments.md section 5.3 has the derivation).
 *
 * A tied student sees the sequence only through s = L^(-1/2) sum_l x_l: f = sigma(h), h = s . w,
 * and the gradient of l = (y - f)^2 is -G s with G = 2 (y - sigma(h)) sigma'(h). With
 * zeta = s . w* (the normalised sum of the teacher's projections z_l) and ||s||^2 -> 1, one step
 * w' = w + gamma G s followed by w' -> sqrt(d) w' / ||w'|| moves m = w . w* / d by
 *   (gamma / d) (G zeta - m G h) - (gamma^2 / 2d) m G^2 + O(d^-2),
 * so that as d -> infinity m(n) concentrates on the solution of dm/dtau = the expectation of
 * that increment times d, in tau = n / d (the spherical online-SGD limit of Ben Arous,
 * Gheissari and Jagannath, JMLR 22 (2021) 106, section 2, and Arnaboldi et al.,
 * arXiv:2506.02651, section 3). Writing w = m w* + sqrt(1 - m^2) w_perp, h = m zeta +
 * sqrt(1 - m^2) eta with eta = s . w_perp ~ N(0, 1) independent of every z_l, so the
 * expectation is over zeta, eta ~ N(0, 1) and y given zeta. G is linear in y and G^2
 * quadratic, so y enters only through mu1 = E[y | zeta] and mu2 = E[y^2 | zeta]; eta is
 * integrated in closed form (truncated Gaussian moments for relu, raw moments for the square),
 * zeta by a Gauss-Hermite rule. The conditional moments come from z_l | zeta = zeta / sqrt(L)
 * + nu_l, nu ~ N(0, I - 1 1^T / L): one- and two-token Gaussian expectations, by a second rule
 * (exact for the polynomial targets). */
#include <math.h>
#include <stdlib.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>

#include "ssi.h"

/* Nodes of the rule over zeta (the relu terms are smooth in zeta but steep near |m| = 1) and of
 * the rule for the conditional moments (exact for tokens of degree < 24). */
enum { OUTER_NODES = 160, INNER_NODES = 24 };

static double separable_mean(const ts_ssi_target *t, const ts_gauss_rule *r, double centre,
                             double sd)
{
    double sum = 0;
    for (size_t i = 0; i < r->n; i++) sum += r->weight[i] * t->token(centre + sd * r->node[i]);
    return sum;
}

static double separable_square(const ts_ssi_target *t, const ts_gauss_rule *r, double centre,
                               double sd)
{
    double sum = 0;
    for (size_t i = 0; i < r->n; i++) {
        double g = t->token(centre + sd * r->node[i]);
        sum += r->weight[i] * g * g;
    }
    return sum;
}

/* E g(c + nu_1) g(c + nu_2), (nu_1, nu_2) with variances v and correlation rho. */
static double separable_pair(const ts_ssi_target *t, const ts_gauss_rule *r, double centre,
                             double v, double rho)
{
    double sd = sqrt(v), across = sqrt(fmax(0.0, 1.0 - rho * rho)), sum = 0;
    for (size_t i = 0; i < r->n; i++) {
        double g1 = t->token(centre + sd * r->node[i]);
        for (size_t j = 0; j < r->n; j++) {
            double nu2 = sd * (rho * r->node[i] + across * r->node[j]);
            sum += r->weight[i] * r->weight[j] * g1 * t->token(centre + nu2);
        }
    }
    return sum;
}

void ts_ssi_conditional_moments(const ts_ssi_target *target, size_t L, const ts_gauss_rule *r,
                                double zeta, double *mu1, double *mu2)
{
    if (!target->token) { /* pathological z1 - z2: symmetric in the tokens, Var(nu1 - nu2) = 2 */
        *mu1 = 0.0;
        *mu2 = 2.0;
        return;
    }
    double c = target->scale(L), n = (double)L, centre = zeta / sqrt(n), v = 1.0 - 1.0 / n;
    if (L == 1) {
        double g = target->token(zeta);
        *mu1 = c * g;
        *mu2 = c * c * g * g;
        return;
    }
    *mu1 = c * n * separable_mean(target, r, centre, sqrt(v));
    double pair = separable_pair(target, r, centre, v, -1.0 / (n - 1.0));
    *mu2 = c * c * (n * separable_square(target, r, centre, sqrt(v)) + n * (n - 1.0) * pair);
}

int ts_ssi_limit_init(ts_ssi_limit *lim, const ts_ssi_target *target, size_t L,
                      ts_ssi_activation activation, ts_error *err)
{
    *lim = (ts_ssi_limit){.activation = activation};
    if (target->matrix || (!target->token && !target->scalar))
        return ts_error_set(err, TS_EUSAGE, "target %s has no tied-model limit", target->name);
    ts_gauss_rule inner = {0};
    if (ts_gauss_rule_init(&lim->rule, OUTER_NODES, err) ||
        ts_gauss_rule_init(&inner, INNER_NODES, err)) {
        ts_ssi_limit_free(lim);
        return TS_ERUNTIME;
    }
    lim->mu1 = malloc(OUTER_NODES * sizeof *lim->mu1);
    lim->mu2 = malloc(OUTER_NODES * sizeof *lim->mu2);
    if (!lim->mu1 || !lim->mu2) {
        ts_gauss_rule_free(&inner);
        ts_ssi_limit_free(lim);
        return ts_error_set(err, TS_ERUNTIME, "out of memory for the overlap's limit");
    }
    for (size_t i = 0; i < OUTER_NODES; i++)
        ts_ssi_conditional_moments(target, L, &inner, lim->rule.node[i], &lim->mu1[i],
                                   &lim->mu2[i]);
    ts_gauss_rule_free(&inner);
    return TS_OK;
}

void ts_ssi_limit_free(ts_ssi_limit *lim)
{
    ts_gauss_rule_free(&lim->rule);
    free(lim->mu1);
    free(lim->mu2);
    lim->mu1 = lim->mu2 = NULL;
}

/* E over eta of the seven products of sigma, sigma' and h that G, G h and G^2 need, at
 * h ~ N(a, b^2): sp = sigma', ssp = sigma sigma', sph = sigma' h, ssph = sigma sigma' h,
 * sp2 = sigma'^2, ssp2 = sigma sigma'^2, s2sp2 = sigma^2 sigma'^2. */
typedef struct eta_moments {
    double sp, ssp, sph, ssph, sp2, ssp2, s2sp2;
} eta_moments;

static eta_moments relu_moments(double a, double b)
{
    double t0, t1, t2; /* E[h^k 1(h > 0)], k = 0, 1, 2 */
    if (b > 0) {
        double alpha = a / b, cdf = gsl_cdf_ugaussian_P(alpha), pdf = gsl_ran_ugaussian_pdf(alpha);
        t0 = cdf;
        t1 = a * cdf + b * pdf;
        t2 = (a * a + b * b) * cdf + a * b * pdf;
    } else {
        t0 = a > 0;
        t1 = a > 0 ? a : 0.0;
        t2 = a > 0 ? a * a : 0.0;
    }
    return (eta_moments){.sp = t0, .ssp = t1, .sph = t1, .ssph = t2, .sp2 = t0, .ssp2 = t1,
                         .s2sp2 = t2};
}

static eta_moments square_moments(double a, double b)
{
    double a2 = a * a, b2 = b * b; /* raw moments of N(a, b^2) */
    double m2 = a2 + b2, m3 = a * (a2 + 3 * b2), m4 = a2 * a2 + 6 * a2 * b2 + 3 * b2 * b2;
    double m6 = a2 * a2 * a2 + 15 * a2 * a2 * b2 + 45 * a2 * b2 * b2 + 15 * b2 * b2 * b2;
    /* sigma = h^2, sigma' = 2 h */
    return (eta_moments){.sp = 2 * a, .ssp = 2 * m3, .sph = 2 * m2, .ssph = 2 * m4,
                         .sp2 = 4 * m2, .ssp2 = 4 * m4, .s2sp2 = 4 * m6};
}

double ts_ssi_limit_drift(const ts_ssi_limit *lim, double m, double gamma)
{
    m = fmax(-1.0, fmin(1.0, m));
    double b = sqrt(fmax(0.0, 1.0 - m * m));
    double g_zeta = 0, g_h = 0, g_sq = 0;
    for (size_t i = 0; i < lim->rule.n; i++) {
        double zeta = lim->rule.node[i], a = m * zeta, mu1 = lim->mu1[i], mu2 = lim->mu2[i];
        eta_moments e = lim->activation == TS_SSI_RELU ? relu_moments(a, b) : square_moments(a, b);
        double w = lim->rule.weight[i];
        g_zeta += w * zeta * 2.0 * (mu1 * e.sp - e.ssp);
        g_h += w * 2.0 * (mu1 * e.sph - e.ssph);
        g_sq += w * 4.0 * (mu2 * e.sp2 - 2.0 * mu1 * e.ssp2 + e.s2sp2);
    }
    return gamma * (g_zeta - m * g_h) - 0.5 * gamma * gamma * m * g_sq;
}

typedef struct ode_params {
    const ts_ssi_limit *lim;
    double (*gamma)(double, void *);
    void *params;
} ode_params;

static int overlap_rhs(double tau, const double *y, double *dydt, void *params)
{
    const ode_params *o = params;
    dydt[0] = ts_ssi_limit_drift(o->lim, y[0], o->gamma(tau, o->params));
    return !isfinite(dydt[0]);
}

int ts_ssi_limit_overlap(const ts_ssi_limit *lim, double m0,
                         double (*gamma)(double tau, void *params), void *params,
                         const double *tau, size_t n, double *out, ts_error *err)
{
    ode_params o = {lim, gamma, params};
    return ts_ode_solve(1, overlap_rhs, &o, 0.0, &m0, tau, n, 1e-10, out, err);
}
