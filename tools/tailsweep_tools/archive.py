"""Opening a tailsweep archive and finding its parts (docs/architecture.md section 6).

The archive is netCDF4-compatible HDF5, so xarray opens it with no glue; this module only adds
what the layout knows and xarray does not: which variables are metrics, which dimensions are
sweep axes, which parameters a zip group holds, what the status codes mean.
"""
import numpy as np
import xarray as xr

#: The status codes of /status (its attributes flag_values / flag_meanings say the same).
STATUS = {"missing": 0, "done": 1, "diverged": 2, "failed": 3}

REPEAT = "repeat"
RECORD = "record"
ITERATION = "iteration"


def open_archive(path):
    """The archive at path as an xarray.Dataset, read lazily (values load on first use).

    Dimensions: the sweep axes, repeat, the metrics' extra dimensions, record. Every attribute
    (root and per variable) is kept, and so is /status. A partial archive from `tailsweep
    collect` opens the same way: its unfinished runs have status "missing" and NaN values.
    """
    return xr.open_dataset(path, engine="h5netcdf")


def open_provenance(path, ds=None):
    """The /provenance group (wall_seconds, rank, host, error) with the archive's coordinates.

    h5netcdf does not follow dimension scales out of a group, so the group's dimensions come
    back without coordinates; they are the root's run dimensions, whose coordinates we copy.
    """
    prov = xr.open_dataset(path, engine="h5netcdf", group="provenance")
    root = ds if ds is not None else open_archive(path)
    coords = {name: c for name, c in root.coords.items() if set(c.dims) <= set(prov.dims)}
    return prov.assign_coords(coords)


def metric_names(ds):
    """The recorded metrics (series and scalars), in the archive's order."""
    return [name for name, v in ds.data_vars.items() if v.attrs.get("kind") in ("series", "scalar")]


def is_series(ds, metric):
    return RECORD in ds[metric].dims


def theory_overlays(ds, metric):
    """Variables that hold a theory curve for metric (attribute theory_for = metric)."""
    return [name for name, v in ds.data_vars.items() if v.attrs.get("theory_for") == metric]


def sweep_axes(ds):
    """The sweep dimensions in canonical order: /status is [axes..., repeat]."""
    return [d for d in ds["status"].dims if d != REPEAT]


def extra_dims(ds, metric):
    """A metric's per-run dimensions besides record (e.g. eps of steps_to_eps)."""
    dims = ds[metric].dims
    return [d for d in dims[dims.index(REPEAT) + 1:] if d != RECORD]


def axis_parameters(ds, dim):
    """The parameters a dimension stands for: itself for a plain axis, each zipped parameter
    (1-D coordinates over zipK) for a zip group."""
    zipped = [name for name, c in ds.coords.items() if c.dims == (dim,) and name != dim]
    return zipped or [dim]


def dim_of(ds, name):
    """The dimension a name selects along: a dimension itself, or the one dimension of a 1-D
    coordinate (a zipped parameter); iteration stands for record."""
    if name in ds.dims:
        return name
    if name == ITERATION and ITERATION in ds.coords:
        return RECORD
    if name in ds.coords and ds[name].ndim == 1:
        return ds[name].dims[0]
    raise KeyError(f"no axis or coordinate named {name!r}; the archive has "
                   f"{', '.join(list(ds.dims) + [c for c in ds.coords if c not in ds.dims])}")


def status_mask(ds, *names):
    """True where a run's status is one of names ("missing", "done", "diverged", "failed")."""
    unknown = [n for n in names if n not in STATUS]
    if unknown:
        raise ValueError(f"unknown status {unknown[0]!r}; use one of {', '.join(STATUS)}")
    return ds["status"].isin([STATUS[n] for n in names])


def finished_mask(ds):
    """True for runs that ran to an end (done or diverged), False for missing or failed ones:
    the runs whose values mean something."""
    return status_mask(ds, "done", "diverged")


def keep_runs(ds, *names):
    """ds with every metric set to NaN outside runs of the given statuses (default: done), so
    that averages over repeats see only those runs. Status itself is left as it is."""
    mask = status_mask(ds, *(names or ("done",)))
    out = ds.copy()
    for metric in metric_names(ds):
        out[metric] = ds[metric].where(mask)
    return out


def count_status(ds):
    """{status name: number of runs} over the whole archive."""
    values = np.asarray(ds["status"].values)
    return {name: int(np.count_nonzero(values == code)) for name, code in STATUS.items()}
