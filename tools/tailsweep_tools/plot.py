"""Curves of a metric: one panel per value of a facet axis, one colour per value of a hue axis,
the mean over repeats with the range of the repeats shaded, theory overlays dashed.

Figures are built with matplotlib's object API on the Agg canvas (no pyplot state, no display),
so the tools run on cluster nodes and in tests.
"""
import math

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from .archive import (ITERATION, RECORD, REPEAT, axis_parameters, dim_of, is_series, keep_runs,
                      sweep_axes, theory_overlays)

PANEL_SIZE = (4.4, 3.3)  # inches per facet panel
MAX_COLUMNS = 3
# Theory overlays, in the archive's order: a metric may have several (bigram's rel_err has the
# finite-d closed form and the asymptotic law), told apart by their dash pattern.
OVERLAY_STYLES = ["--", ":", "-."]


def plot_metric(ds, metric, *, x=None, facet=None, hue=None, logx=False, logy=False,
                keep=("done",), title=None, into=None):
    """A matplotlib Figure of metric against x (default: iteration for a series).

    into: a Figure or SubFigure to draw the panels in (returned instead of a new Figure), so
    that a paper figure can stack several metrics (Figure.subfigures).

    Every dimension other than x, repeat, hue and facet must have one value: select the others
    first (tailsweep_tools.select). Only runs whose status is in keep are drawn (diverged runs
    would dominate a mean). Raises ValueError naming the dimensions left to choose.
    """
    if metric not in ds.data_vars:
        raise KeyError(f"no variable named {metric!r}")
    x = x or default_x(ds, metric)
    along = dim_of(ds, x)
    roles = {"x": along, "hue": dim_of(ds, hue) if hue else None,
             "facet": dim_of(ds, facet) if facet else None}
    chosen = [d for d in roles.values() if d]
    if len(set(chosen)) < len(chosen) or REPEAT in chosen:
        raise ValueError("--x, --hue and --facet need different dimensions (and not repeat, "
                         "which every curve averages)")
    flat = [d for d in chosen if d not in ds[metric].dims]
    if flat:
        raise ValueError(f"{metric} does not vary along {flat[0]} (its dimensions: "
                         f"{', '.join(ds[metric].dims)})")
    ds = squeeze_other_dims(keep_runs(ds, *keep), metric, roles)
    names = [metric] + theory_overlays(ds, metric)
    fig, panels = make_panels(ds, roles["facet"], into)
    for panel, facet_pick in panels:
        draw_panel(panel, ds, names, x, roles, facet_pick, logx, logy)
    fig.suptitle(title or default_title(ds, metric), fontsize="medium")
    return fig


def default_x(ds, metric):
    """iteration for a series; for a scalar, its one sweep axis with more than one value."""
    if is_series(ds, metric):
        return ITERATION
    varying = [d for d in sweep_axes(ds) if ds.sizes[d] > 1]
    if len(varying) != 1:
        raise ValueError(f"{metric} is a scalar: say which axis to plot it against with --x "
                         f"(one of {', '.join(varying) or 'none'})")
    return varying[0]


def squeeze_other_dims(ds, metric, roles):
    """ds with every single-valued dimension outside the plot's roles dropped; a dimension with
    several values and no role is an error, since averaging it silently would mislead."""
    used = {d for d in roles.values() if d} | {REPEAT}
    others = [d for d in ds[metric].dims if d not in used]
    several = [f"{d} ({ds.sizes[d]} values)" for d in others if ds.sizes[d] > 1]
    if several:
        raise ValueError(f"{metric}: choose one value of {', '.join(several)} with --sel, or "
                         "draw it with --hue or --facet")
    return ds.isel({d: 0 for d in others})


def panel_grid(ds, facet_dim):
    """(panels, rows, columns) of the grid: one panel per facet value, up to 3 columns."""
    count = ds.sizes[facet_dim] if facet_dim else 1
    ncols = min(count, MAX_COLUMNS)
    return count, math.ceil(count / ncols), ncols


def panels_size(ds, facet_dim):
    """(width, height) in inches of the panels of one metric, its title included."""
    _, nrows, ncols = panel_grid(ds, facet_dim)
    return PANEL_SIZE[0] * ncols, PANEL_SIZE[1] * nrows + 0.4


def make_panels(ds, facet_dim, into=None):
    """The figure (into, or a new one) and its (axes, {facet_dim: index}) panels."""
    count, nrows, ncols = panel_grid(ds, facet_dim)
    fig = into if into is not None else Figure(figsize=panels_size(ds, facet_dim),
                                               layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for extra in axes[count:]:
        extra.set_visible(False)
    picks = [{facet_dim: i} if facet_dim else {} for i in range(count)]
    for ax, pick in zip(axes, picks):
        if facet_dim:
            ax.set_title(label(ds, facet_dim, pick[facet_dim]), fontsize="medium")
    return fig, list(zip(axes, picks))


def draw_panel(ax, ds, names, x, roles, facet_pick, logx, logy):
    """One curve per hue value: the metric solid, its theory overlays dashed, same colour."""
    hue_dim = roles["hue"]
    hue_picks = [{hue_dim: j} for j in range(ds.sizes[hue_dim])] if hue_dim else [{}]
    for j, hue_pick in enumerate(hue_picks):
        pick = {**facet_pick, **hue_pick}
        xs = values_at(ds[x], pick)
        colour = f"C{j % 10}"
        text = label(ds, hue_dim, hue_pick[hue_dim]) if hue_dim else None
        for k, name in enumerate(names):
            runs = values_at(ds[name].transpose(roles["x"], REPEAT, ...), pick)
            draw_curve(ax, xs, runs, colour, text if k == 0 else None, overlay=k,
                       marker=not is_series(ds, names[0]), logx=logx, logy=logy)
    decorate(ax, ds, names, x, hue_dim, logx, logy)


def values_at(da, pick):
    """da's values at the chosen hue/facet indices (those of its dimensions that are picked)."""
    return np.asarray(da.isel({d: i for d, i in pick.items() if d in da.dims}).values,
                      dtype=float)


def draw_curve(ax, xs, runs, colour, text, overlay, marker, logx, logy):
    """Mean over repeats, and (for simulated values) the repeats' range shaded. overlay: 0 for
    the metric, k for its k-th theory overlay. Points that a log axis cannot show (<= 0) are
    left out rather than clipped to a misleading line."""
    runs = runs.reshape(len(xs), -1)
    ok = np.isfinite(xs) & (xs > 0 if logx else True)
    centre = mean_over_repeats(runs)
    ok &= np.isfinite(centre) & (centre > 0 if logy else True)
    if not ok.any():
        return
    # The simulated curve wide and translucent, the overlay thin on top: where they agree (as
    # they should) both stay visible.
    style = (dict(color=colour, linestyle=overlay_style(overlay), linewidth=1.1) if overlay
             else dict(color=colour, linestyle="-", linewidth=2.4, alpha=0.55))
    if marker and not overlay:
        style.update(marker="o", markersize=4)
    ax.plot(xs[ok], centre[ok], label=text, **style)
    if not overlay and runs.shape[1] > 1:
        finite = np.where(np.isfinite(runs[ok]), runs[ok], np.nan)
        low, high = np.nanmin(finite, axis=1), np.nanmax(finite, axis=1)
        ax.fill_between(xs[ok], low, high, color=colour, alpha=0.18, linewidth=0)


def overlay_style(k):
    return OVERLAY_STYLES[(k - 1) % len(OVERLAY_STYLES)]


def mean_over_repeats(runs):
    """Mean of each row's finite values; NaN for a row with none (numpy's nanmean would warn)."""
    finite = np.isfinite(runs)
    count = finite.sum(axis=1)
    total = np.where(finite, runs, 0.0).sum(axis=1)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def decorate(ax, ds, names, x, hue_dim, logx, logy):
    ax.set_xlabel(axis_label(ds, x))
    ax.set_ylabel(axis_label(ds, names[0]))
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ax.grid(True, which="major", alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    for k, name in enumerate(names[1:], start=1):
        handles.append(Line2D([], [], color="0.3", linestyle=overlay_style(k)))
        labels.append(name)
    if handles:
        ax.legend(handles, labels, fontsize="small", title=legend_title(ds, hue_dim),
                  title_fontsize="small")


def label(ds, dim, index):
    """"dim=100" for a plain axis; "steps=20, target_exponent=0" for a zip group."""
    parts = []
    for name in axis_parameters(ds, dim):
        value = ds[name].values[index] if ds[name].ndim == 1 else index
        parts.append(f"{name}={format_value(value)}")
    return ", ".join(parts)


def legend_title(ds, dim):
    return None if dim is None else " / ".join(axis_parameters(ds, dim))


def axis_label(ds, name):
    """name [units], when the variable says its units."""
    units = ds[name].attrs.get("units", "") if name in ds.variables else ""
    # "iteration [iterations]" says nothing twice.
    return f"{name} [{units}]" if units and not units.startswith(name) else name


def default_title(ds, metric):
    """The experiment and every parameter a selection fixed, so a figure says what it shows."""
    fixed = [f"{name}={format_value(c.values[()])}" for name, c in ds.coords.items()
             if c.ndim == 0 and name not in (REPEAT, RECORD, ITERATION)]
    head = f"{ds.attrs.get('experiment', 'tailsweep')}: {metric}"
    return head + (" (" + ", ".join(fixed) + ")" if fixed else "")


def format_value(value):
    if isinstance(value, bytes):
        value = value.decode()
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.4g}"
    return str(value)
