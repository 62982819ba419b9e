/* Private interface of the `two_layer` experiment (Dandi et al., arXiv:2402.03220;
 * docs/experiments.md section 2), shared by its files and its unit test:
 *   two_layer.c         descriptor, targets, the network, the GD loop;
 *   two_layer_theory.c  Gauss-Hermite expectations over the teacher's directions. */
#ifndef TS_TWO_LAYER_H
#define TS_TWO_LAYER_H

#include <stddef.h>

#include "tailsweep/error.h"

/* Directions a target reads (z1, z2); the teacher may have more rows, which no target uses. */
enum { TS_TWO_LAYER_TARGET_DIRECTIONS = 2 };

/* A target y = g(z1, z2): one row of the table in two_layer.c. */
typedef struct ts_two_layer_target {
    const char *name;
    double (*g)(double z1, double z2);
    const char *formula; /* for describe */
} ts_two_layer_target;

/* The table, NULL-name terminated, in the order of the `target` choices. */
extern const ts_two_layer_target ts_two_layer_targets[];

/* Expectations of g over z ~ N(0, I_2), by a product Gauss-Hermite rule: E[g], E[g^2] and
 * E[z_k g] (k = 0, 1). TS_ERUNTIME if GSL cannot build the rule. */
typedef struct ts_two_layer_moments {
    double mean, square, linear[TS_TWO_LAYER_TARGET_DIRECTIONS];
} ts_two_layer_moments;

/* Nodes per axis of the rule: tanh(z1 + He3(z2)) is a steep function of z2, which needs many
 * (about 1e-5 relative error at 200, docs/experiments.md section 2.7). */
enum { TS_TWO_LAYER_QUADRATURE_NODES = 300 };

int ts_two_layer_moments_of(const ts_two_layer_target *target, ts_two_layer_moments *out,
                            ts_error *err);

/* E[f] and E[f^2] of the student f = sum_j a_j relu(u_j) at u ~ N(0, I_p) (orthonormal rows
 * after scaling), with a_j = (+1, -1, +1, ...)/sqrt(p). */
void ts_two_layer_initial_student(size_t hidden, double *mean, double *square);

/* The network's one forward and backward pass on n samples (row-major x [n x dim]), for the loop
 * and for the unit test's finite differences: u = x w^T / sqrt(dim) [n x hidden], f = relu(u) a,
 * r = y - f; returns the summed loss sum 1/2 r^2. With grad non-NULL also writes
 * grad = dL/dW [hidden x dim] = -(1/sqrt(dim)) E^T x, E[mu][j] = r_mu a_j 1[u > 0], using e
 * [n x hidden] as scratch. f and r are [n]. One pass over x, in row blocks (two_layer.c). */
double ts_two_layer_pass(size_t n, size_t dim, size_t hidden, const double *x, const double *y,
                         const double *w, const double *a, double *u, double *f, double *r,
                         double *e, double *grad);

#endif
