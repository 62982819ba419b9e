"""Rank correlation of a metric with a parameter: Kendall's tau, per group, pooled over the rest.

The heavy-tailed SGD line of work (docs/experiments.md section 3.7; jobs/levy_sgd.yaml) summarises
how the generalisation gap depends on the tail index alpha by one number per problem: Kendall's tau
between the gap and alpha over every run of the problem, all widths (dim) and seeds (repeats)
pooled. A rank statistic suits it: the gap of alpha-stable dynamics has heavy tails (infinite
variance for alpha < 2), which would swamp a Pearson correlation, while tau only counts
concordant and discordant pairs.

We use scipy.stats.kendalltau (tau-b): pooling repeats makes ties in the parameter the rule (every
run at one alpha shares it), and tau-b is the variant that corrects for ties. Its p-value is
scipy's two-sided test of tau = 0 (exact for small untied samples, else the normal
approximation with the tie correction).
"""
import numpy as np
import pandas as pd
import xarray as xr

from .archive import RECORD, REPEAT, dim_of, keep_runs
from .fit import group_labels


def kendall_tau(ds, metric, against, *, by=(), keep=("done",)):
    """A table (pandas.DataFrame) with one row per combination of the `by` axes: their values,
    tau (Kendall's tau-b of metric with against), p_value (two-sided, H0: tau = 0), and runs
    (the values correlated).

    against: an axis, a zipped parameter, or another variable of the archive (e.g. a scalar
    metric). Every dimension not named in by (other axes, repeat, a metric's extra dimensions)
    is pooled. Only runs whose status is in keep count, and NaN values are left out. A group
    with fewer than two values, or a constant one, gets tau = p_value = NaN.
    """
    x, y = correlated_arrays(ds, metric, against, keep)
    group_dims = grouping_dims(ds, y, against, by)
    pooled = [d for d in y.dims if d not in group_dims]
    if RECORD in pooled:
        raise ValueError(f"{metric} is a series: pooling its records would correlate time "
                         "points; use a scalar (e.g. final_gap) or select one record "
                         "(--sel record=N)")
    x = x.transpose(*group_dims, *pooled)
    y = y.transpose(*group_dims, *pooled)
    shape = tuple(y.sizes[d] for d in group_dims)
    xs = np.asarray(x.values, dtype=float).reshape(*shape, -1)
    ys = np.asarray(y.values, dtype=float).reshape(*shape, -1)
    rows = []
    for index in np.ndindex(*shape):
        row = group_labels(ds, group_dims, index)
        row.update(tau_of(xs[index], ys[index]))
        rows.append(row)
    table = pd.DataFrame(rows)
    against_dim = None if against in ds.data_vars else dim_of(ds, against)
    table.attrs.update(metric=metric, against=against, by=list(by),
                       pooled=[d for d in pooled if d != against_dim])
    return table


def correlated_arrays(ds, metric, against, keep):
    """metric and against as DataArrays broadcast against each other, outside kept runs NaN."""
    if metric not in ds.data_vars:
        raise KeyError(f"no variable named {metric!r}")
    kept = keep_runs(ds, *keep)
    y = kept[metric]
    if against in ds.data_vars:
        x = kept[against]
    else:
        dim = dim_of(ds, against)
        if dim not in y.dims or dim == REPEAT:
            raise ValueError(f"{metric} does not vary along {against} (its dimensions: "
                             f"{', '.join(y.dims)})")
        x = ds[against]
    x, y = xr.broadcast(x, y)
    # broadcast may order dimensions differently for the two; the callers transpose both.
    return x.drop_vars(list(x.coords)), y.drop_vars(list(y.coords))


def grouping_dims(ds, y, against, by):
    """The dimensions the `by` names stand for (a zipped parameter: its zip group's)."""
    dims = []
    against_dim = None if against in ds.data_vars else dim_of(ds, against)
    for name in by:
        dim = dim_of(ds, name)
        if dim not in y.dims or dim == REPEAT:
            raise ValueError(f"--by {name}: the correlated values do not vary along it (their "
                             f"dimensions: {', '.join(y.dims)})")
        if dim == against_dim:
            raise ValueError(f"--by {name}: cannot group by the parameter it correlates with")
        if dim not in dims:
            dims.append(dim)
    return dims


def tau_of(x, y):
    """tau, p_value and the count of (x, y) pairs with both values finite."""
    # Imported here: scipy is needed by this table only, not by the rest of the package.
    from scipy.stats import kendalltau
    ok = np.isfinite(x) & np.isfinite(y)
    runs = int(np.count_nonzero(ok))
    if runs < 2 or np.ptp(x[ok]) == 0 or np.ptp(y[ok]) == 0:
        return dict(tau=np.nan, p_value=np.nan, runs=runs)
    result = kendalltau(x[ok], y[ok])
    return dict(tau=float(result[0]), p_value=float(result[1]), runs=runs)
