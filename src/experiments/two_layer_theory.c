/* The two_layer experiment's closed forms (docs/experiments.md sections 2.5 and 2.6): the
 * target's Gaussian moments by a product Gauss-Hermite rule (ode.h), and the moments of the
 * initial student, whose preactivations are independent standard normals. */
#include <math.h>

#include <gsl/gsl_math.h>

#include "tailsweep/ode.h"
#include "two_layer.h"

int ts_two_layer_moments_of(const ts_two_layer_target *target, ts_two_layer_moments *out,
                            ts_error *err)
{
    ts_gauss_rule rule;
    if (ts_gauss_rule_init(&rule, TS_TWO_LAYER_QUADRATURE_NODES, err)) return TS_ERUNTIME;
    const double *x = rule.node, *w = rule.weight;
    double mean = 0, square = 0, linear[2] = {0, 0};
    for (size_t i = 0; i < rule.n; i++)
        for (size_t j = 0; j < rule.n; j++) {
            double weight = w[i] * w[j], g = target->g(x[i], x[j]);
            mean += weight * g;
            square += weight * g * g;
            linear[0] += weight * x[i] * g;
            linear[1] += weight * x[j] * g;
        }
    ts_gauss_rule_free(&rule);
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
