/* Empirical risks of linear predictors (risk.h). */
#include "tailsweep/risk.h"

#include <math.h>
#include <string.h>

#include "tailsweep/linalg.h"

double ts_softplus(double x)
{
    return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
}

double ts_sigmoid(double x)
{
    return x >= 0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x));
}

/* Rows per block of a pass over a data set: a block of 256 KiB stays in the L2 cache between
 * the two matrix-vector products that read it. */
static size_t rows_per_block(size_t d)
{
    size_t rows = ((size_t)1 << 15) / (d ? d : 1);
    return rows < 1 ? 1 : rows;
}

/* res[0 .. rows) = the loss's derivative in each prediction of w on rows x[0 .. rows), and
 * their summed loss. */
static double block_loss(ts_loss loss, const double *x, const double *y, double *res,
                         size_t rows, size_t d, const double *w)
{
    memcpy(res, y, rows * sizeof *res);
    ts_linalg_gemv(TS_LINALG_N, rows, d, 1.0, x, d, w, -1.0, res);
    if (loss == TS_LOSS_SQUARED) return 0.5 * ts_linalg_dot(rows, res, res);
    double sum = 0;
    for (size_t i = 0; i < rows; i++) { /* res holds the margins y w.x */
        sum += ts_softplus(-res[i]);
        res[i] = -ts_sigmoid(-res[i]);
    }
    return sum;
}

double ts_risk_eval(ts_loss loss, ts_dataset *s, const double *w, double *grad)
{
    size_t d = s->d, block = rows_per_block(d);
    double sum = 0;
    if (grad) memset(grad, 0, d * sizeof *grad);
    for (size_t i = 0; i < s->n; i += block) {
        size_t rows = s->n - i < block ? s->n - i : block;
        sum += block_loss(loss, s->x + i * d, s->y + i, s->res + i, rows, d, w);
        if (grad) /* grad += X_block^T res_block / n */
            ts_linalg_gemv(TS_LINALG_T, rows, d, 1.0 / (double)s->n, s->x + i * d, d, s->res + i,
                           1.0, grad);
    }
    return sum / (double)s->n;
}
