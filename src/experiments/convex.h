/* Private interface of the `convex` experiment (Defazio et al., arXiv:2310.07831;
 * docs/experiments.md section 4) for its unit test: a point's problem (data, f and its gradient,
 * the minimiser the run computes), so that the test checks f* against an independent solve. */
#ifndef TS_CONVEX_H
#define TS_CONVEX_H

#include <stddef.h>

#include <gsl/gsl_rng.h>

#include "tailsweep/data.h"
#include "tailsweep/error.h"
#include "tailsweep/experiment.h"

typedef struct ts_convex_problem ts_convex_problem;

/* The point's data (drawn from rng as a run draws them) and its minimiser; NULL with err set
 * when memory runs out or Newton's method fails. */
ts_convex_problem *ts_convex_problem_alloc(const ts_point *p, gsl_rng *rng, ts_error *err);
void ts_convex_problem_free(ts_convex_problem *q);

/* The data as the objective reads them: least squares rows x_i with labels y_i; logistic rows
 * y_i x_i with y = 0 (risk.h). */
const ts_dataset *ts_convex_data(const ts_convex_problem *q);
/* f(w) and, unless grad is NULL, its gradient at w [dim]. */
double ts_convex_objective(ts_convex_problem *q, const double *w, double *grad);
/* The minimiser [dim] and f* = f(minimiser). */
const double *ts_convex_minimiser(const ts_convex_problem *q);
double ts_convex_fstar(const ts_convex_problem *q);

#endif
