"""Scaling-law fits: y ~ C x^p, the exponent p of a metric against an axis.

For each combination of the other dimensions (a group), the repeats at each x are reduced to one
value (their mean by default), and p is the least-squares slope of log(value) against log(x).
Its confidence interval comes from the percentile bootstrap over repeats: the repeats at each x
are independent runs (each has its own random stream), so resampling them with replacement,
independently per x, and refitting gives the slope's sampling distribution. The generator is
seeded, so a table is reproducible.
"""
import numpy as np
import pandas as pd

from .archive import REPEAT, axis_parameters, dim_of, keep_runs

# The statistic of the repeats at each x. mean fits the law of E[y] (the usual statement of a
# scaling law); geomean the law of exp E[log y]; median is robust to a few outlying runs.
STATISTICS = {
    "mean": lambda v, axis=-1: np.mean(v, axis=axis),
    "median": lambda v, axis=-1: np.median(v, axis=axis),
    "geomean": lambda v, axis=-1: np.exp(np.mean(np.log(v), axis=axis)),
}


def fit_exponent(ds, metric, against, *, statistic="mean", n_boot=1000, confidence=0.95,
                 seed=0, xmin=None, xmax=None, keep=("done",)):
    """A table (pandas.DataFrame) with one row per group: the group's coordinates, exponent,
    ci_low, ci_high (the bootstrap interval at the given confidence), prefactor C, points (x
    values used), runs (repeats used), and x_from, x_to (the range of x fitted).

    against: an axis, a zipped parameter, or iteration (for a series). Only runs whose status is
    in keep count; values that are NaN or <= 0 (e.g. steps_to_eps not reached) are left out, and
    so are x outside [xmin, xmax] (to fit an asymptotic regime only). With one repeat per x there
    is nothing to resample and the interval is NaN.
    """
    if statistic not in STATISTICS:
        raise ValueError(f"statistic {statistic!r}: use one of {', '.join(STATISTICS)}")
    y, x, groups = fit_arrays(ds, metric, against, keep)
    rows = []
    for index in np.ndindex(*y.shape[:len(groups)]):
        rng = np.random.default_rng([seed, *index])
        row = group_labels(ds, groups, index)
        row.update(fit_group(x[index], y[index], STATISTICS[statistic], n_boot, confidence,
                             rng, xmin, xmax))
        rows.append(row)
    table = pd.DataFrame(rows)
    table.attrs.update(metric=metric, against=against, statistic=statistic, n_boot=n_boot,
                       confidence=confidence, seed=seed)
    return table


def fit_arrays(ds, metric, against, keep=("done",)):
    """y as [groups..., x, repeat], x as [groups..., x] (x may vary by group, as iteration does
    when steps is swept), and the group dimensions."""
    if metric not in ds.data_vars:
        raise KeyError(f"no variable named {metric!r}")
    da = keep_runs(ds, *keep)[metric]
    dim = dim_of(ds, against)
    if dim not in da.dims or dim == REPEAT:
        raise ValueError(f"{metric} does not vary along {against} (its dimensions: "
                         f"{', '.join(da.dims)})")
    groups = [d for d in da.dims if d not in (dim, REPEAT)]
    y = da.transpose(*groups, dim, REPEAT)
    x = ds[against].broadcast_like(y.isel({REPEAT: 0}, drop=True)).transpose(*groups, dim)
    return np.asarray(y.values, dtype=float), np.asarray(x.values, dtype=float), groups


def group_labels(ds, groups, index):
    """{parameter: value} naming one group; a zip group contributes each of its parameters."""
    labels = {}
    for dim, i in zip(groups, index):
        for name in axis_parameters(ds, dim):
            labels[name] = ds[name].values[i] if ds[name].ndim == 1 else i
    return labels


def usable_points(x, y, xmin, xmax):
    """The x values with at least one usable run, and each one's usable runs."""
    good = np.isfinite(y) & (y > 0)
    keep = np.isfinite(x) & (x > 0) & good.any(axis=-1)
    if xmin is not None:
        keep &= x >= xmin
    if xmax is not None:
        keep &= x <= xmax
    return x[keep], [row[ok] for row, ok in zip(y[keep], good[keep])]


def fit_group(x, y, stat, n_boot, confidence, rng, xmin=None, xmax=None):
    """Exponent, interval and prefactor for one group: x [points], y [points, repeats]."""
    xs, samples = usable_points(x, y, xmin, xmax)
    runs = sum(len(s) for s in samples)
    span = dict(x_from=xs.min() if len(xs) else np.nan, x_to=xs.max() if len(xs) else np.nan)
    if len(xs) < 2:
        return dict(exponent=np.nan, ci_low=np.nan, ci_high=np.nan, prefactor=np.nan,
                    points=len(xs), runs=runs, **span)
    centre = np.array([stat(s) for s in samples])
    slope, intercept = np.polyfit(np.log(xs), np.log(centre), 1)
    low = high = np.nan
    if n_boot > 0 and max(len(s) for s in samples) > 1:
        slopes = bootstrap_slopes(xs, samples, stat, n_boot, rng)
        tail = (1 - confidence) / 2
        low, high = np.quantile(slopes, [tail, 1 - tail])
    return dict(exponent=slope, ci_low=low, ci_high=high, prefactor=np.exp(intercept),
                points=len(xs), runs=runs, **span)


def bootstrap_slopes(xs, samples, stat, n_boot, rng):
    """n_boot slopes, each refitted on repeats resampled with replacement at every x."""
    resampled = np.empty((len(xs), n_boot))
    for p, s in enumerate(samples):
        picks = rng.integers(0, len(s), size=(n_boot, len(s)))
        resampled[p] = stat(s[picks], axis=1)
    # polyfit fits every column at once: one least-squares solve for all replicates.
    slopes, _ = np.polyfit(np.log(xs), np.log(resampled), 1)
    return slopes
