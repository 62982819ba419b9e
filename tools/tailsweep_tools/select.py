"""Selecting runs by parameter value: sweep axes, zipped parameters, extra dimensions, repeat.

xarray's .sel works only on indexed dimensions; a zip group's parameters are plain coordinates
over zipK, and values typed on a command line ("0.1") come as text. This module handles both, so
`select(ds, steps=40)` and `--sel steps=40` mean the same thing.
"""
import numpy as np

from .archive import dim_of

# Values typed by hand (or printed with fewer digits than stored, e.g. a logspace point) match a
# coordinate when they agree to this relative precision; exact matches are tried first.
MATCH_RTOL = 1e-6


def select(ds, selection=None, **criteria):
    """ds restricted to the given values: {name: value or list of values}.

    A single value drops the dimension (like .sel with a scalar); a list keeps it. A name may be
    a dimension or a 1-D coordinate such as a zipped parameter; a value that occurs at several
    positions of a zip group keeps them all.
    """
    wanted = dict(selection or {}, **criteria)
    for name, value in wanted.items():
        dim = dim_of(ds, name)
        coord = ds[name] if name in ds.coords else ds[dim]
        if coord.ndim != 1:
            raise KeyError(f"{name} varies over {', '.join(coord.dims)}: select by "
                           f"{dim} instead")
        positions = positions_of(coord, value, name)
        ds = ds.isel({dim: positions})
    return ds


def positions_of(coord, value, name):
    """Indices along coord's dimension where it equals value (or any of a list of values)."""
    values = np.asarray(coord.values)
    if isinstance(value, (list, tuple)):
        return sorted({i for v in value for i in matching(values, v, name)})
    found = matching(values, value, name)
    # One match behaves like .sel with a scalar (the dimension goes); several keep it.
    return found[0] if len(found) == 1 else found


def matching(values, value, name):
    """Positions where values == value: exactly, or else to MATCH_RTOL for numbers."""
    found = [i for i, v in enumerate(values) if v == value]
    if not found and np.issubdtype(values.dtype, np.number) and is_number(value):
        found = [i for i, v in enumerate(values)
                 if np.isclose(v, float(value), rtol=MATCH_RTOL, atol=0)]
    if not found:
        shown = ", ".join(str(v) for v in values[:12]) + (", ..." if len(values) > 12 else "")
        raise KeyError(f"{name}={value!r} is not in the archive; {name} takes [{shown}]")
    return found


def is_number(value):
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def parse_selection(ds, items):
    """["dim=100", "mode=iterate", "eps=0.1,0.01"] -> {name: typed value or list}, typed after
    the coordinate each name refers to (so "100" selects the integer 100)."""
    out = {}
    for item in items or ():
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ValueError(f"--sel {item!r}: expected NAME=VALUE (or NAME=V1,V2,...)")
        coord = ds[name] if name in ds.coords else ds[dim_of(ds, name)]
        parts = [convert(p.strip(), coord.dtype, name) for p in text.split(",")]
        out[name] = parts[0] if len(parts) == 1 else parts
    return out


def convert(text, dtype, name):
    """text as a value of dtype (integer, real or string coordinate)."""
    try:
        if np.issubdtype(dtype, np.integer):
            real = float(text)
            return int(real) if real == int(real) else real
        if np.issubdtype(dtype, np.floating):
            return float(text)
    except ValueError:
        raise ValueError(f"--sel {name}={text}: {name} takes numbers") from None
    return text
