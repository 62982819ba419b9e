"""The archive as a tidy table, for pandas users.

Rows and columns are the ones `tailsweep export ARCHIVE --csv` writes (src/cli/cmd_export.c), so
a CSV and this frame can be compared cell for cell; only status differs in spelling: its code
here (tailsweep_tools.STATUS), its name in the CSV.
"""
import importlib.util

from .archive import (ITERATION, RECORD, REPEAT, axis_parameters, extra_dims, metric_names,
                      sweep_axes)


def row_dims(ds, metrics):
    """The dimensions rows run over, slowest first: sweep axes, repeat, the metrics' extra
    dimensions in order of first use, record. Metrics that lack a dimension are repeated along
    it (xarray's broadcasting), as in the CSV export."""
    extras = []
    for m in metrics:
        extras += [d for d in extra_dims(ds, m) if d not in extras]
    series = any(RECORD in ds[m].dims for m in metrics)
    return sweep_axes(ds) + [REPEAT] + extras + ([RECORD] if series else [])


def column_order(ds, dims, metrics):
    """Parameter columns (a zip group gives one per zipped parameter, not its index), then
    repeat, extra dimensions, record and iteration, status, the metrics. Parameters fixed by a
    selection (scalar coordinates) come first, so a row still says which point it is."""
    cols = [name for name, c in ds.coords.items() if c.ndim == 0]
    for d in dims:
        cols += axis_parameters(ds, d) if d not in (REPEAT, RECORD) else [d]
        if d == RECORD and ITERATION in ds.coords:
            cols.append(ITERATION)
    return cols + ["status"] + list(metrics)


def to_dataframe(ds, metrics=None):
    """A pandas.DataFrame with one row per run, per extra-dimension entry and per record.

    metrics: names to include (default: every metric). Missing and failed runs are rows too,
    with their status and NaN values; filter on the status column to drop them.
    """
    # xarray imports pandas only when asked for a frame; say which package is missing.
    if importlib.util.find_spec("pandas") is None:
        raise ImportError("to_dataframe needs pandas (python3-pandas)")
    names = list(metrics) if metrics else metric_names(ds)
    missing = [m for m in names if m not in ds.data_vars]
    if missing:
        raise KeyError(f"no metric named {missing[0]!r}; the archive has "
                       f"{', '.join(metric_names(ds))}")
    dims = row_dims(ds, names)
    frame = ds[names + ["status"]].to_dataframe(dim_order=dims).reset_index()
    return frame[column_order(ds, dims, names)]
