/* The two_layer experiment's closed forms (docs/experiments.md sections 2.5 and 2.6): the
 * target's Gaussian moments by a product Gauss-Hermite rule (GSL), and the moments of the
 * initial student, whose preactivations are independent standard normals. */
#include <math.h>

#include <gsl/gsl_integration.h>
#include <gsl/gsl_math.h>

#include "two_layer.h"

int ts_two_layer_moments_of(const ts_two_layer_target *target, ts_two_layer_moments *out,
                            ts_error *err)
{
    /* weight exp(-x^2 / 2) on the real line (a = 0, b = 1/2): sum w_i h(x_i) = sqrt(2 pi) E h */
    const size_t n = TS_TWO_LAYER_QUADRATURE_NODES;
    gsl_integration_fixed_workspace *rule =
        gsl_integration_fixed_alloc(gsl_integration_fixed_hermite, n, 0.0, 0.5, 0.0, 0.0);
    if (!rule) return ts_error_set(err, TS_ERUNTIME, "GSL could not build a %zu-node rule", n);
    const double *x = gsl_integration_fixed_nodes(rule), *w = gsl_integration_fixed_weights(rule);
    double mean = 0, square = 0, linear[2] = {0, 0}, norm = 1.0 / (2.0 * M_PI);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            double weight = w[i] * w[j] * norm, g = target->g(x[i], x[j]);
            mean += weight * g;
            square += weight * g * g;
            linear[0] += weight * x[i] * g;
            linear[1] += weight * x[j] * g;
        }
    gsl_integration_fixed_free(rule);
    *out = (ts_two_layer_moments){.mean = mean, .square = square,
                                  .linear = {linear[0], linear[1]}};
    return TS_OK;
}

/* E relu(u) = 1/sqrt(2 pi), E relu(u)^2 = 1/2, and E relu(u_j) relu(u_l) = 1/(2 pi) for
 * independent u_j, u_l. */
void ts_two_layer_initial_student(size_t hidden, double *mean, double *square)
{
    double sum_a = 0, sum_a2 = 0;
    for (size_t j = 0; j < hidden; j++) {
        double a = (j % 2 ? -1.0 : 1.0) / sqrt((double)hidden);
        sum_a += a;
        sum_a2 += a * a;
    }
    *mean = sum_a / sqrt(2.0 * M_PI);
    *square = sum_a2 / 2.0 + (sum_a * sum_a - sum_a2) / (2.0 * M_PI);
}
