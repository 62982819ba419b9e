"""Paper figures, one function each, found by name (`tailsweep-figure NAME ARCHIVE -o FILE`).

A figure function takes the archive of the matching jobs/ spec (any archive of its experiment
with the axes it needs) and returns a matplotlib Figure. Adding a figure is one decorated
function; the command line and `--list` pick it up from the registry.
"""
import re
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullLocator

from .archive import (ITERATION, RECORD, REPEAT, STATUS, axis_parameters, dim_of, finished_mask,
                      keep_runs, sweep_axes)
from .fit import fit_exponent
from .plot import (PANEL_SIZE, axis_label, default_title, format_value, label,
                   mean_over_repeats, panels_size, plot_metric)
from .select import select


@dataclass(frozen=True)
class FigureDef:
    name: str
    experiment: str  # the archive's root attribute `experiment` must match
    doc: str
    draw: Callable


FIGURES = {}


def register(name, experiment, doc):
    """Decorator: make fn(ds) -> Figure available as figure `name`."""
    def add(fn):
        if name in FIGURES:
            raise ValueError(f"figure {name!r} registered twice")
        FIGURES[name] = FigureDef(name, experiment, doc, fn)
        return fn
    return add


def make_figure(name, ds):
    """Figure `name` drawn from ds; KeyError for an unknown name, ValueError for an archive of
    another experiment or without the axes the figure needs."""
    if name not in FIGURES:
        raise KeyError(f"no figure named {name!r}; figures: {', '.join(sorted(FIGURES))}")
    fig_def = FIGURES[name]
    experiment = ds.attrs.get("experiment")
    if experiment != fig_def.experiment:
        raise ValueError(f"figure {name} draws a {fig_def.experiment} archive; this one holds "
                         f"{experiment}")
    return fig_def.draw(ds)


# ------------------------------------------------------------------ shared steps


def fix_other_axes(ds, keep, preferred=None):
    """ds with one value of every sweep axis not in keep: the preferred one when the archive
    has it, else the first. Figures show a slice; the title says which (plot.default_title)."""
    preferred = preferred or {}
    for axis in sweep_axes(ds):
        if axis in keep or ds.sizes[axis] == 1:
            continue
        values = list(ds[axis].values)
        want = preferred.get(axis)
        ds = select(ds, {axis: want if want in values else values[0]})
    return ds


def require_axes(ds, name, *axes):
    missing = [a for a in axes if a not in ds.dims]
    if missing:
        raise ValueError(f"figure {name} needs the sweep axis {missing[0]} in the archive")


def draw_fits(ax, table, hue, colour_of=None, beside=True, extra=()):
    """Each fitted power law C x^p (one table row per curve), dotted over the x range it was
    fitted on, coloured like its curve (colour_of(row), default the row's position), with the
    exponent and its bootstrap interval in the legend (labelled by the hue column, if any).
    extra: (handle, text) pairs appended to the legend after the fits."""
    handles = []
    for i, row in table.reset_index(drop=True).iterrows():
        if not np.isfinite(row["exponent"]):
            continue
        xs = np.geomspace(row["x_from"], row["x_to"], 50)
        interval = ("" if not np.isfinite(row["ci_low"])
                    else f" [{row['ci_low']:.2f}, {row['ci_high']:.2f}]")
        colour = colour_of(row) if colour_of else f"C{i % 10}"
        curve = f"{hue}={format_value(row[hue])}: " if hue else ""
        (line,) = ax.plot(xs, row["prefactor"] * xs ** row["exponent"], color=colour,
                          linestyle=":", linewidth=1.4,
                          label=f"{curve}slope {row['exponent']:.2f}{interval}")
        handles.append(line)
    for handle, text in extra:
        handle.set_label(text)
        handles.append(handle)
    title = "fitted slope"
    if table["ci_low"].notna().any():
        title += f" ({table.attrs.get('confidence', 0.95):.0%} bootstrap interval)"
    place = dict(loc="upper left", bbox_to_anchor=(1.02, 1)) if beside else dict(loc="best")
    ax.legend(handles=handles, fontsize="small", title=title, title_fontsize="small", **place)


def widen_for_legend(fig):
    width, height = fig.get_size_inches()
    fig.set_size_inches(width * 2, height)


def pick_value(ds, name, wanted):
    """wanted if the coordinate name holds it, else its smallest value (e.g. eps)."""
    values = np.asarray(ds[name].values)
    return wanted if np.any(np.isclose(values, wanted)) else float(values.min())


# ------------------------------------------------------------------ quadratic (docs/figures/quadratic.yaml)


@register("quadratic-curves", "quadratic",
          "GD loss against iteration, one panel per spectrum exponent s, one colour per dim, "
          "the exact closed form dashed (step_size 1 when swept)")
def quadratic_curves(ds):
    require_axes(ds, "quadratic-curves", "spectrum_exponent")
    keep = {"spectrum_exponent", "dim"}
    ds = fix_other_axes(ds, keep, {"step_size": 1.0})
    return plot_metric(ds, "loss", facet="spectrum_exponent",
                       hue="dim" if "dim" in ds.dims else None, logx=True, logy=True)


@register("quadratic-scaling", "quadratic",
          "steps to reach the smallest eps against dim, one colour per spectrum exponent s, "
          "with fitted slopes and bootstrap intervals")
def quadratic_scaling(ds):
    # Why a slope of s when s + b < 1 (b = target_exponent): with lambda_k = k^-s and
    # E w*_k^2 = k^-b, f(t)/f(0) = sum_k k^-(s+b) exp(-2 eta t k^-s) / sum_k k^-(s+b), and for
    # s + b < 1 both sums are dominated by k ~ d; with k = u d they become a function of
    # t d^-s alone, so the t solving f(t)/f(0) = eps grows as d^s. For s + b > 1 the sums
    # converge as d grows and T_eps tends to a constant: slope 0.
    require_axes(ds, "quadratic-scaling", "dim")
    eps = float(np.min(ds["eps"].values))
    ds = fix_other_axes(select(ds, eps=eps), {"dim", "spectrum_exponent"}, {"step_size": 1.0})
    hue = "spectrum_exponent" if "spectrum_exponent" in ds.dims else None
    fig = plot_metric(ds, "steps_to_eps", x="dim", hue=hue, logx=True, logy=True)
    if hue:
        draw_fits(fig.axes[0], fit_exponent(ds, "steps_to_eps", "dim"), hue)
        widen_for_legend(fig)
    return fig


# ------------------------------------------------------------------ bigram (Kunstner & Bach)
# Expected archives: mode exact (or full) with zipf_exponent and dim swept; optimizer swept or
# zipped with step_rule (gd with inverse_pi1, sign with phi and phi_grid > 0 for the tuned
# step). Other axes are fixed at their first value, and the title says so.


def bigram_slice(ds, name, optimizer=None, keep=("zipf_exponent", "dim")):
    """One optimizer's runs (when optimizer is given and swept), the other axes fixed."""
    require_axes_or_coords(ds, name, "zipf_exponent", "dim")
    if optimizer and "optimizer" in ds.coords and ds["optimizer"].ndim == 1:
        ds = select(ds, optimizer=optimizer)
    dims = {dim_of(ds, n) for n in keep if n in ds.coords and ds[n].ndim == 1}
    return fix_other_axes(ds, dims, {"mode": "exact"})


def require_axes_or_coords(ds, name, *names):
    missing = [n for n in names if n not in ds.coords or ds[n].ndim != 1]
    if missing:
        raise ValueError(f"figure {name} needs {missing[0]} swept in the archive")


@register("bigram-gd-curves", "bigram",
          "GD relative error against t (log t, linear r), one panel per Zipf exponent a, one "
          "colour per d; the finite-d closed form dashed, the paper's limit law (Thm 3.1) "
          "dotted (its Fig. 1, 4)")
def bigram_gd_curves(ds):
    ds = bigram_slice(ds, "bigram-gd-curves", optimizer="gd")
    # Linear r in [0, 1] against log t, as in the paper: the d-dependence is where the curves
    # cross r = 1/2, which a log r axis would squeeze into its top decade.
    return plot_metric(ds, "rel_err", facet="zipf_exponent", hue="dim", logx=True,
                       title="bigram, gradient descent: relative error r_d(t)")


@register("bigram-gd-scaling", "bigram",
          "GD steps to reach relative error 0.1 (else the smallest eps) against d, one colour "
          "per Zipf exponent a, with fitted slopes: a for a < 1, near 1 at a = 1, 0 for a > 1")
def bigram_gd_scaling(ds):
    ds = bigram_slice(ds, "bigram-gd-scaling", optimizer="gd")
    ds = select(ds, eps=pick_value(ds, "eps", 0.1))
    fig = plot_metric(ds, "steps_to_eps", x="dim", hue="zipf_exponent", logx=True, logy=True,
                      title=f"bigram, gradient descent: steps to r = {float(ds.eps):g}")
    draw_fits(fig.axes[0], fit_exponent(ds, "steps_to_eps", "dim"), "zipf_exponent")
    widen_for_legend(fig)
    return fig


def tuned_steps_to_eps(ds):
    """Steps to reach eps per run: GD's own steps_to_eps, and for sign descent the horizon at
    which its best-tuned step reaches eps (best_avg_steps_to_eps, the paper's comparison: sign
    descent's step must be tuned to the horizon) when the archive has it (phi_grid > 0)."""
    sign = ds["optimizer"] == "sign"
    steps = ds["steps_to_eps"]
    if bool(ds["best_avg_steps_to_eps"].where(sign).notnull().any()):
        steps = steps.where(~sign, ds["best_avg_steps_to_eps"])
    return steps.assign_attrs(kind="scalar", units="iterations",
                              long_name="steps to reach eps (sign descent: tuned step)")


@register("bigram-sign-vs-gd", "bigram",
          "steps to reach relative error 0.1 against d for GD and sign descent (its step tuned "
          "per horizon when phi_grid > 0), one panel per Zipf exponent a, with fitted slopes: "
          "sign descent ~ d^(1/2) where GD ~ d^a (a < 1) or ~ d (a = 1)")
def bigram_sign_vs_gd(ds):
    require_axes_or_coords(ds, "bigram-sign-vs-gd", "optimizer")
    ds = bigram_slice(ds, "bigram-sign-vs-gd", keep=("zipf_exponent", "dim", "optimizer"))
    ds = select(ds, eps=pick_value(ds, "eps", 0.1))
    ds = ds.assign(steps_to_eps=tuned_steps_to_eps(ds))
    fig = plot_metric(ds, "steps_to_eps", x="dim", hue="optimizer", facet="zipf_exponent",
                      logx=True, logy=True,
                      title=f"bigram: steps to r = {float(ds.eps):g}, GD against sign descent")
    table = fit_exponent(ds, "steps_to_eps", "dim")
    optimizers = list(ds["optimizer"].values)
    for ax, a in zip(fig.axes, ds["zipf_exponent"].values):
        rows = table[np.isclose(table["zipf_exponent"], a)]
        draw_fits(ax, rows, "optimizer", beside=False,
                  colour_of=lambda row: f"C{optimizers.index(row['optimizer']) % 10}")
    return fig


# ------------------------------------------------------------------ levy_sgd (Dupuis & Viallard)
# Expected archives: jobs/levy_sgd.yaml (problem x levy_alpha x dim x repeats), or any levy_sgd
# archive with levy_alpha swept (gap figure) or n_train or dim swept (distance figure). Axes a
# figure does not draw are fixed at their first value, except levy_alpha, fixed at 2 (Gaussian
# noise, where every moment exists) when the archive has it.

LEVY_PREFERRED = {"levy_alpha": 2.0, "noise": "isotropic", "population": "exact"}
# Where the distance's time average starts, as a fraction of the run. Why the second half: the
# expected dynamics relax in about 1/(eta h) steps (h the population curvature: 1 for the
# squared losses, 0.1 to 0.25 for the logistic one; levy_sgd.h), 10 to 100 steps at eta = 0.1,
# so by T/2 of a run of T >= 1000 steps the transient from W0 = Wbar0 is gone.
LATE_FRACTION = 0.5


def swept(ds, name):
    return name in ds.dims and ds.sizes[name] > 1


def stacked_rows(ds, facet, count):
    """A figure with count rows of panels (one SubFigure each, for one metric per row), sized
    like count single-metric figures stacked."""
    width, height = panels_size(ds, facet)
    fig = Figure(figsize=(width, height * count), layout="constrained")
    return fig, list(fig.subfigures(count, 1, squeeze=False).ravel())


def time_average(ds, series, start_fraction=LATE_FRACTION):
    """A series' time average over each run's last part (from start_fraction of its steps): the
    trapezoid integral over iteration of the records from there on, over the time they span (the
    last record alone when it is the only one). A plain mean over records would weight log-
    spaced records ({log: N}) towards the start. Returns a scalar metric (kind "scalar")."""
    values = ds[series].transpose(..., RECORD)
    times = ds["iteration"].broadcast_like(values).transpose(*values.dims)
    t = np.asarray(times.values, dtype=float)
    y = np.asarray(values.values, dtype=float)
    late = t >= start_fraction * t.max(axis=-1, keepdims=True)
    both = late[..., 1:] & late[..., :-1]
    dt = np.where(both, np.diff(t, axis=-1), 0.0)
    area = np.sum(np.where(both, dt * (y[..., 1:] + y[..., :-1]) / 2, 0.0), axis=-1)
    span = dt.sum(axis=-1)
    average = np.where(span > 0, area / np.where(span > 0, span, 1.0), y[..., -1])
    return values.isel({RECORD: -1}, drop=True).copy(data=average).assign_attrs(
        kind="scalar", units=values.attrs.get("units", ""),
        long_name=f"time average of {series} over the last {1 - start_fraction:.0%} of the run")


def symlog_threshold(values):
    """The linear range of a symlog axis: the power of ten below the 10th percentile of the
    values' sizes, so that the few curves near zero are resolved while the decades that
    separate dims stay visible."""
    sizes = np.abs(np.asarray(values, dtype=float))
    sizes = sizes[np.isfinite(sizes) & (sizes > 0)]
    if not len(sizes):
        return 1.0
    return 10.0 ** np.floor(np.log10(np.quantile(sizes, 0.1)))


@register("levy-gap-vs-alpha", "levy_sgd",
          "final generalisation gap (top row) and its sup over the run (bottom) against the "
          "tail index alpha, one panel per problem, one colour per dim: mean over repeats, "
          "their range shaded, symlog y (the gap changes sign and spans decades across dims)")
def levy_gap_vs_alpha(ds):
    require_axes(ds, "levy-gap-vs-alpha", "levy_alpha")
    ds = fix_other_axes(ds, {"levy_alpha", "problem", "dim"}, LEVY_PREFERRED)
    facet = "problem" if "problem" in ds.dims else None
    hue = "dim" if "dim" in ds.dims else None
    metrics = ["final_gap", "sup_gap"]
    fig, rows = stacked_rows(ds, facet, len(metrics))
    for row, metric in zip(rows, metrics):
        plot_metric(ds, metric, x="levy_alpha", hue=hue, facet=facet, into=row)
        threshold = symlog_threshold(ds[metric].mean("repeat").values)
        for ax in row.axes:
            ax.set_yscale("symlog", linthresh=threshold)
            ax.axhline(0.0, color="0.5", linewidth=0.6)
    return fig


@register("levy-distance", "levy_sgd",
          "decoupling distance ||W_t - Wbar_t|| against n_train (when swept, else dim), log-log, "
          "one panel per problem, one colour per dim (else per alpha): its time average over "
          "the second half of the run (top) and its sup (bottom), with fitted slopes: "
          "-1/2 in n_train; about 1 in dim once the noise sets ||Wbar|| ~ sigma sqrt(d)")
def levy_distance(ds):
    # Why these slopes: W - Wbar is driven by eta (grad R_S - grad R)(Wbar), for the quadratic
    # eta (S - I) Wbar, and ||(S - I) v|| ~ sqrt(d / n) ||v|| for v independent of S (each of the
    # d coordinates of (S - I) v has sd ||v|| / sqrt(n)); the time average follows it. In n that
    # is n^(-1/2) (tests/unit/test_levy_sgd.c checks it at d = 10). In d the factor ||Wbar||
    # counts too: at stationarity each coordinate has scale sigma eta^(1/alpha) / (1 - |1 -
    # eta|^alpha)^(1/alpha) (docs/experiments.md section 3.5), so ||Wbar|| ~ sigma sqrt(d) once the
    # noise outweighs init_scale, and the distance grows like d / sqrt(n): slope 1, a little more
    # where d / n is not small (jobs/levy_sgd.yaml at d = 200, n = 500: 1.1 to 1.3).
    x = next((name for name in ("n_train", "dim") if swept(ds, name)), None)
    if x is None:
        raise ValueError("figure levy-distance needs n_train or dim swept in the archive")
    hue = next((name for name in ("dim", "levy_alpha") if name != x and swept(ds, name)), None)
    ds = fix_other_axes(ds, {x, hue, "problem"}, LEVY_PREFERRED)
    ds = ds.assign(mean_distance=time_average(ds, "distance"))
    facet = "problem" if "problem" in ds.dims else None
    metrics = ["mean_distance", "sup_distance"]
    fig, rows = stacked_rows(ds, facet, len(metrics))
    for row, metric in zip(rows, metrics):
        plot_metric(ds, metric, x=x, hue=hue, facet=facet, logx=True, logy=True, into=row)
        draw_panel_fits(row.axes, ds, fit_exponent(ds, metric, x), facet, hue)
    return fig


def draw_panel_fits(axes, ds, table, facet, hue):
    """Each panel's fitted slopes (the table's rows for its facet value), coloured by hue."""
    facet_values = list(ds[facet].values) if facet else [None]
    hue_values = list(ds[hue].values) if hue else []
    for ax, value in zip(axes, facet_values):
        rows = table if facet is None else table[table[facet] == value]
        draw_fits(ax, rows, hue, beside=False,
                  colour_of=lambda row: f"C{hue_values.index(row[hue]) % 10}" if hue else "C0")


# ------------------------------------------------------------------ two_layer (Dandi et al.)
# Expected archives: two_layer (docs/experiments.md section 2) with batch_reuse swept (1 single-
# pass, 0 multi-pass, k each batch k steps), ideally with shared_streams: [batch_reuse] so that
# the protocols share teacher, start and first batch (their step 1 is then identical). target is
# fixed at tanh_he1_he3 when swept (else at its first value), every other axis at its first
# value; the title says the slice.

TWO_LAYER_PREFERRED = {"target": "tanh_he1_he3"}
# The describe defaults, for a parameter the spec sets in params: (not an archive coordinate).
TWO_LAYER_DEFAULTS = {"target": "tanh_he1_he3", "batch_reuse": 0}
# What each target makes of the teacher's first two directions (docs/experiments.md 2.1, 2.7).
DIRECTION_ROLES = {
    "tanh_he1_he3": ("He1", "He3"),
    "staircase": ("z1 term", "z1 z2 term"),
    "he3": ("He3", "not read by the target"),
    "tanh_sum": ("tanh z1", "tanh z2"),
}
OVERLAP_LABEL = "overlap cosine  max_j |M_jk| / sqrt(Q_jj)"
LEGEND_WIDTH = 2.4  # inches added beside the panels for the legend


def spec_value(ds, name, default):
    """A parameter that is not a coordinate: its scalar value in the archive's spec (params:),
    else the experiment's default. Values are read as text, integers converted."""
    found = re.search(rf"^\s*{name}:\s*([A-Za-z0-9_.+-]+)\s*(#.*)?$", ds.attrs.get("spec", ""),
                      re.MULTILINE)
    if not found:
        return default
    text = found.group(1)
    return int(text) if text.isdigit() else text


def reuse_label(value):
    value = int(value)
    if value == 1:
        return "single-pass"
    if value == 0:
        return "multi-pass (one batch)"
    return f"reuse {value}"


def finite_max(values, axis):
    """Max over axis of the finite values; NaN where there are none (padded neurons, runs that
    are not done), without numpy's all-NaN warning."""
    finite = np.isfinite(values)
    top = np.where(finite, values, -np.inf).max(axis=axis)
    return np.where(finite.any(axis=axis), top, np.nan)


def neuron_norms(ds, lead):
    """sqrt(Q_jj) [*lead, neuron, record]: each student row's norm over sqrt(D)."""
    q = ds["self_overlap"].transpose(*lead, "neuron", "neuron2", RECORD)
    diagonal = np.diagonal(np.asarray(q.values, dtype=float), axis1=-3, axis2=-2)  # [..., rec, j]
    return np.sqrt(np.moveaxis(diagonal, -1, -2))


def overlap_cosines(ds, lead):
    """max_j |M_jk| / sqrt(Q_jj) as a numpy array [*lead, direction, record] (lead: the run
    dimensions, e.g. [batch_reuse, repeat]), and the norms sqrt(Q_jj) [*lead, neuron, record]
    it divided by."""
    norms = neuron_norms(ds, lead)
    m = np.asarray(ds["overlap"].transpose(*lead, "neuron", "direction", RECORD).values, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        cosines = np.abs(m) / norms[..., :, None, :]
    return finite_max(cosines, axis=-3), norms


def theory_cosines(ds, lead, norms, step1):
    """max_j |E M_1[j, k]| / sqrt(Q_jj at step 1) [*lead, direction]: the theory scalar
    normalised by the run's own norms at step 1 (record index step1), as the curves are."""
    theory = np.asarray(ds["theory_step1_overlap"].transpose(*lead, "neuron", "direction").values,
                        dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        cosines = np.abs(theory) / norms[..., :, step1][..., None]
    return finite_max(cosines, axis=-2)


@register("two-layer-overlap", "two_layer",
          "overlap cosine max_j |M_jk| / sqrt(Q_jj) against steps, one panel per teacher "
          "direction (z1: He1, z2: He3 of tanh_he1_he3), one colour per batch_reuse "
          "(single-pass, multi-pass, reuse k): mean over done repeats, their range shaded; "
          "theory_step1_overlap at step 1 normalised the same way (crosses), the control "
          "directions' chance level dashed when directions > 2")
def two_layer_overlap(ds):
    """The overlap cosine with the teacher's first two directions against steps, single- vs
    multi-pass (docs/experiments.md section 2; Dandi et al. 2024).

    Drawn, per panel (direction k = 0: z1, k = 1: z2, titled with what the target makes of it,
    e.g. He1 and He3 for tanh_he1_he3):
    - per batch_reuse value, one colour (labels: 1 "single-pass", 0 "multi-pass (one batch)",
      k "reuse k"): the cosine c_k = max_j |M_jk| / sqrt(Q_jj) of each run at each record (the
      largest |cos| between a student row w_j and the teacher row w*_k, whose norm is sqrt(D)),
      against iteration; the solid line is its mean over the done repeats, the band the range
      (min to max) of those repeats; padded neurons (hidden swept) are left out of the max;
    - crosses at step 1, same colour: theory_step1_overlap normalised the same way, max_j
      |E M_1[j, k]| / sqrt(Q_jj at step 1) with each run's own Q at step 1, averaged over the
      done repeats; at finite D the simulated step 1 scatters around it by O(1/sqrt(D)), a
      little upwards on average (the max over neurons picks up the fluctuation). Left out when
      step 1 is not a record or the optimizer is not gd (NaN theory);
    - when the teacher has directions > 2: dashed thin lines, same colour per protocol, the
      chance level, c_k averaged over the control directions k >= 2 and the repeats (per
      protocol: a reused batch raises it).
    One y scale for both panels; the legend is beside the last one.
    """
    require_axes(ds, "two-layer-overlap", "direction", "neuron", "neuron2")
    reuse_swept = "batch_reuse" in ds.coords and ds["batch_reuse"].ndim == 1
    hue = dim_of(ds, "batch_reuse") if reuse_swept else None
    ds = fix_other_axes(ds, {hue} if hue else set(), TWO_LAYER_PREFERRED)
    # Single-valued axes too become scalar coordinates (named in the title), so that the arrays
    # below are [(hue,) repeat, ...].
    ds = keep_runs(ds.isel({a: 0 for a in sweep_axes(ds) if a != hue}), "done")
    target = (format_value(ds["target"].values[()]) if "target" in ds.coords
              else spec_value(ds, "target", TWO_LAYER_DEFAULTS["target"]))
    roles = DIRECTION_ROLES.get(target, ("", ""))
    hues = range(ds.sizes[hue]) if hue else [None]

    lead = ([hue] if hue else []) + [REPEAT]
    cosines, norms = overlap_cosines(ds, lead)  # [(hue,) repeat, direction, record]
    count = min(ds.sizes["direction"], 2)
    # One y scale for both directions (they are compared), the legend beside the last panel.
    fig = Figure(figsize=(PANEL_SIZE[0] * count + LEGEND_WIDTH, PANEL_SIZE[1] + 0.4),
                 layout="constrained")
    axes = fig.subplots(1, count, squeeze=False, sharey=True).ravel()
    for k, ax in enumerate(axes):
        ax.set_title(f"direction {k}: z{k + 1}" + (f" ({roles[k]})" if roles[k] else ""),
                     fontsize="medium")
    marked = False
    for j, pick in enumerate(hues):
        colour = f"C{j % 10}"
        at = (lambda a: a[pick]) if hue else (lambda a: a)
        times = ds["iteration"]
        xs = np.asarray((times.isel({hue: pick}) if hue in times.dims else times).values,
                        dtype=float)
        runs = at(cosines)                      # [repeat, direction, record]
        theory = None
        if np.any(xs == 1):
            step1 = int(np.flatnonzero(xs == 1)[0])
            theory = mean_over_repeats(at(theory_cosines(ds, lead, norms, step1)).T)  # [direction]
        controls = (mean_over_repeats(runs[:, 2:, :].transpose(2, 0, 1).reshape(len(xs), -1))
                    if runs.shape[1] > 2 else None)
        label = curve_label(ds, hue, pick)
        for k, ax in enumerate(axes):
            draw_range(ax, xs, runs[:, k, :].T, colour, label)
            if theory is not None and np.isfinite(theory[k]):
                marked = True
                ax.plot([1.0], [theory[k]], linestyle="none", marker="x", markersize=9,
                        markeredgewidth=2, color=colour, zorder=5, clip_on=False)
            if controls is not None:
                ax.plot(xs, controls, color=colour, linestyle="--", linewidth=1.0, alpha=0.8)
    axes[0].set_ylabel(OVERLAP_LABEL)
    for ax in axes:
        ax.set_xlabel(axis_label(ds, ITERATION))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylim(bottom=0)
        ax.grid(True, which="major", alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    if marked:
        handles.append(Line2D([], [], color="0.3", linestyle="none", marker="x", markersize=8,
                              markeredgewidth=2))
        labels.append("theory E M_1 at step 1")
    if ds.sizes["direction"] > 2:
        handles.append(Line2D([], [], color="0.3", linestyle="--", linewidth=1.0))
        labels.append(f"controls (directions 2-{ds.sizes['direction'] - 1}): chance")
    axes[-1].legend(handles, labels, fontsize="small", title="batch_reuse",
                    title_fontsize="small", loc="upper left", bbox_to_anchor=(1.02, 1))
    fig.suptitle(default_title(ds.assign_coords(target=target),
                               "overlap with the teacher's directions"), fontsize="medium")
    return fig


def curve_label(ds, hue, pick):
    """The protocol's label, with the other parameters of its zip group (if batch_reuse is
    zipped) after it; for an archive that does not sweep batch_reuse, the spec's value."""
    if hue is None:
        if "batch_reuse" in ds.coords:  # one value selected (tailsweep-figure --sel)
            return reuse_label(ds["batch_reuse"].values[()])
        return reuse_label(spec_value(ds, "batch_reuse", TWO_LAYER_DEFAULTS["batch_reuse"]))
    text = reuse_label(ds["batch_reuse"].values[pick])
    others = [n for n in axis_parameters(ds, hue) if n != "batch_reuse"]
    if others:
        text += " (" + ", ".join(f"{n}={format_value(ds[n].values[pick])}" for n in others) + ")"
    return text


def draw_range(ax, xs, runs, colour, label):
    """The mean over repeats (runs: [record, repeat]) as a line, the repeats' range shaded."""
    centre = mean_over_repeats(runs)
    ok = np.isfinite(xs) & np.isfinite(centre)
    if not ok.any():
        return
    ax.plot(xs[ok], centre[ok], color=colour, linewidth=2.0, label=label)
    if runs.shape[1] > 1:
        low, high = np.nanmin(runs[ok], axis=1), np.nanmax(runs[ok], axis=1)
        ax.fill_between(xs[ok], low, high, color=colour, alpha=0.18, linewidth=0)


# ------------------------------------------------------------------ convex (Defazio et al.)
# Expected archives: convex (docs/experiments.md section 4; docs/figures/convex.yaml) with
# schedule and step_size swept, ideally on shared_streams: [schedule, step_size] so that every
# schedule and base step sees the same data and minibatches per repeat; problem and steps may be
# swept too (one panel each). Every other axis is fixed at its first value (refine_from,
# refine_filter and refine_width at their defaults when the archive has them); the title says
# the slice, and `tailsweep-figure --sel NAME=VALUE` picks another.

# The describe defaults: the slice a figure fixes a swept refinement parameter at, and the value
# of one the spec sets in params: (not an archive coordinate).
CONVEX_DEFAULTS = {"refine_from": "linear_decay", "refine_filter": "median", "refine_width": 0.1}
SUBOPTIMALITY_LABEL = "final suboptimality f(w_T) - f*"


def geometric_summary(ds, metric):
    """The geometric mean over the done repeats of a positive scalar metric (DataArray over the
    sweep axes), and the standard error of its log (NaN with fewer than two values). Both are
    NaN where no done run has a positive finite value, or where more than half of the finished
    runs (done or diverged; missing and failed ones do not count) diverged: a step that mostly
    blows up has no typical value, and its few survivors would flatter it."""
    status = ds["status"]
    values = ds[metric]
    used = (status == STATUS["done"]) & np.isfinite(values) & (values > 0)
    logs = np.log(values.where(used, 1.0)).where(used, 0.0)
    count = used.sum(REPEAT)
    n = count.where(count > 0)
    centre = logs.sum(REPEAT) / n
    spread = ((logs - centre) ** 2).where(used, 0.0).sum(REPEAT) / (n - 1).where(n > 1)
    shown = (count > 0) & ~mostly_diverged(ds)
    return np.exp(centre).where(shown), np.sqrt(spread / n).where(shown)


def mostly_diverged(ds):
    """True where more than half of the finished runs (done or diverged) diverged."""
    diverged = (ds["status"] == STATUS["diverged"]).sum(REPEAT)
    return 2 * diverged > finished_mask(ds).sum(REPEAT)


def shade_diverged(ax, xs, blown):
    """Grey spans over the steps (xs sorted, log-spaced or not) where every schedule mostly
    diverged, reaching halfway (in log) to the neighbouring steps; True if any was drawn."""
    logs = np.log(xs)
    mids = (logs[1:] + logs[:-1]) / 2
    edges = np.exp(np.concatenate([[logs[0] - 1.0], mids, [logs[-1] + 1.0]]))
    for i in np.flatnonzero(blown):
        ax.axvspan(edges[i], edges[i + 1], color="0.9", linewidth=0, zorder=0)
    return bool(np.any(blown))


def swept_dim(ds, name, taken=()):
    """The dimension of name (an axis or a zipped parameter) when it has several values and
    another role does not hold that dimension already; else None."""
    if name not in ds.coords or ds[name].ndim != 1:
        return None
    dim = ds[name].dims[0]
    return dim if ds.sizes[dim] > 1 and dim not in taken else None


def schedule_text(ds, dim, index):
    """The schedule's name, with the other parameters of its zip group (if zipped) after it."""
    text = format_value(ds["schedule"].values[index])
    others = [n for n in axis_parameters(ds, dim) if n != "schedule"]
    if others:
        text += " (" + ", ".join(f"{n}={format_value(ds[n].values[index])}" for n in others) + ")"
    return text


def schedule_axes(ds, name):
    """The dimensions of schedule and step_size, ValueError when they are not swept apart."""
    require_axes_or_coords(ds, name, "schedule", "step_size")
    hue, x = dim_of(ds, "schedule"), dim_of(ds, "step_size")
    if hue == x:
        raise ValueError(f"figure {name} needs schedule and step_size swept apart (here they "
                         f"are zipped together in {hue})")
    return hue, x


def draw_best_step(ax, xs, centre, spread, colour, text):
    """One schedule's geometric means against the base step (NaN: not drawn, a gap), the band
    exp(log mean +- standard error of the log), and a star at the lowest one; returns the
    values drawn (centre and band), for the y limits."""
    low, high = centre * np.exp(-spread), centre * np.exp(spread)
    banded = np.isfinite(low) & np.isfinite(high)
    if banded.any():
        ax.fill_between(xs, np.where(banded, low, np.nan), np.where(banded, high, np.nan),
                        where=banded, color=colour, alpha=0.18, linewidth=0)
    if np.isfinite(centre).any():
        best = int(np.nanargmin(centre))
        text += f": {centre[best]:.3g} at {xs[best]:.3g}"
        ax.plot([xs[best]], [centre[best]], linestyle="none", marker="*", markersize=13,
                color=colour, markeredgecolor="black", markeredgewidth=0.6, zorder=5)
    else:
        text += ": no step drawn"
    ax.plot(xs, centre, color=colour, linewidth=1.8, marker="o", markersize=3.5, label=text)
    return np.concatenate([centre, low[banded], high[banded]])


def limit_to_curves(ax, drawn, bound_lows):
    """Log y limits around the simulated values (drawn), widened to each bound's lowest point
    (bound_lows) but not to the rest of it: a bound that grows by decades where the runs blow up
    would otherwise squeeze the curves into a corner."""
    values = np.concatenate(drawn + [np.asarray(bound_lows, dtype=float)])
    values = values[np.isfinite(values) & (values > 0)]
    if len(values):
        ax.set_ylim(values.min() / 1.6, values.max() * 1.6)


@register("convex-schedules", "convex",
          "final suboptimality against the base step, log-log, one line per schedule, one "
          "panel per problem (and per steps when swept): geometric mean over done repeats, a "
          "band of one standard error of its log, a star at each schedule's best step (its "
          "value in the legend); the last-iterate bound dashed (Defazio et al.)")
def convex_schedules(ds):
    """Defazio et al.'s comparison of schedules: f(w_T) - f* against the base step size.

    Drawn, per panel (one per problem, columns; one per steps, rows, when swept):
    - per schedule, one colour (its position in the archive, as in refined-schedule): the
      geometric mean of final_suboptimality over the done repeats at each step_size, with a
      band exp(mean +- standard error) of the log values; diverged runs are left out, and a
      step where more than half of the finished runs diverged is not drawn (geometric_summary);
    - a star at each schedule's lowest geometric mean, whose value and step the legend lists;
    - the last-iterate bound of docs/experiments.md 4.3 (variable bound, per run with its own
      gradient norms), its geometric mean over the same runs, dashed thin in the same colour.
    Log-log axes; steps in the archive's order are sorted for drawing.
    """
    name = "convex-schedules"
    hue, x = schedule_axes(ds, name)
    cols = swept_dim(ds, "problem", {hue, x})
    rows = swept_dim(ds, "steps", {hue, x, cols})
    keep = {d for d in (hue, x, rows, cols) if d}
    ds = fix_other_axes(ds, keep, CONVEX_DEFAULTS)
    ds = ds.isel({a: 0 for a in sweep_axes(ds) if a not in keep})
    centre, spread = geometric_summary(ds, "final_suboptimality")
    bound = geometric_summary(ds, "bound")[0] if "bound" in ds.data_vars else None
    blown = mostly_diverged(ds).all(hue)
    nrows = ds.sizes[rows] if rows else 1
    ncols = ds.sizes[cols] if cols else 1
    # At least 6.4 inches wide: one panel's width would cut the title.
    fig = Figure(figsize=(max(PANEL_SIZE[0] * ncols + 0.6, 6.4),
                          (PANEL_SIZE[1] + 0.5) * nrows + 0.4), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    steps = np.asarray(ds["step_size"].values, dtype=float)
    order = np.argsort(steps)
    xs = steps[order]
    for i in range(nrows):
        for j in range(ncols):
            ax = axes[i, j]
            panel = {**({rows: i} if rows else {}), **({cols: j} if cols else {})}
            title = [label(ds, d, panel[d]) for d in (cols, rows) if d]
            if title:
                ax.set_title(", ".join(title), fontsize="medium")
            drawn, bound_lows = [], []
            for k in range(ds.sizes[hue]):
                pick = {**panel, hue: k}
                colour = f"C{k % 10}"
                at = lambda da: np.asarray(da.isel(pick).transpose(x).values, float)[order]
                drawn.append(draw_best_step(ax, xs, at(centre), at(spread), colour,
                                            schedule_text(ds, hue, k)))
                if bound is not None:
                    ys = at(bound)
                    ax.plot(xs, ys, color=colour, linestyle="--", linewidth=0.9, alpha=0.7)
                    if np.isfinite(ys).any():
                        bound_lows.append(np.nanmin(ys))
            ax.set_xscale("log")
            ax.set_yscale("log")
            # The whole grid of steps, so that the steps that diverged show as a gap.
            ax.set_xlim(xs[xs > 0].min() / 1.3, xs.max() * 1.3)
            limit_to_curves(ax, drawn, bound_lows)
            gap = shade_diverged(ax, xs, np.asarray(blown.isel(panel).transpose(x).values,
                                                    dtype=bool)[order])
            ax.set_xlabel("base step size (step_size)")
            ax.set_ylabel(SUBOPTIMALITY_LABEL)
            ax.grid(True, which="major", alpha=0.3)
            handles, labels = ax.get_legend_handles_labels()
            handles.append(Line2D([], [], color="0.3", linestyle="none", marker="*",
                                  markersize=10, markeredgecolor="black",
                                  markeredgewidth=0.6))
            labels.append("best base step")
            if bound is not None:
                handles.append(Line2D([], [], color="0.3", linestyle="--", linewidth=1.0))
                labels.append("last-iterate bound")
            if gap:
                handles.append(Patch(color="0.9"))
                labels.append("diverged (most runs, every schedule)")
            ax.legend(handles, labels, fontsize="x-small", title="schedule: best at step",
                      title_fontsize="x-small")
    fig.suptitle(default_title(ds, "final suboptimality against the base step (geometric mean "
                                   "over repeats)"), fontsize="medium")
    return fig


def draw_geometric_range(ax, xs, runs, colour, label_text, linestyle="-"):
    """The geometric mean over repeats (runs: [record, repeat]; positive finite values only) as
    a line, the repeats' range shaded; records a log axis cannot show are left out."""
    used = np.isfinite(runs) & (runs > 0)
    count = used.sum(axis=1)
    logs = np.where(used, np.log(np.where(used, runs, 1.0)), 0.0)
    centre = np.where(count > 0, np.exp(logs.sum(axis=1) / np.maximum(count, 1)), np.nan)
    ok = np.isfinite(xs) & (xs > 0) & np.isfinite(centre)
    if not ok.any():
        return
    ax.plot(xs[ok], centre[ok], color=colour, linewidth=2.0, linestyle=linestyle,
            label=label_text)
    if runs.shape[1] > 1:
        low = np.where(used, runs, np.inf).min(axis=1)[ok]
        high = np.where(used, runs, -np.inf).max(axis=1)[ok]
        ax.fill_between(xs[ok], low, high, color=colour, alpha=0.15, linewidth=0)


def refine_source(ds, hue, index):
    """The refine_from schedule of the runs at schedule position index: a coordinate when swept
    (or selected), else the spec's value, else the default linear_decay."""
    if "refine_from" in ds.coords:
        values = ds["refine_from"]
        return format_value(values.values[index] if values.dims == (hue,) else values.values[()])
    return str(spec_value(ds, "refine_from", CONVEX_DEFAULTS["refine_from"]))


@register("refined-schedule", "convex",
          "the refined schedule (lr against iteration, mean over done repeats, range shaded) "
          "against the refine_from one it came from at the same base step (the best for "
          "refined), top; the refined run's suboptimality against its first pass's, log-log, "
          "bottom (one problem: the first, or --sel problem=...)")
def refined_schedule(ds):
    """Refinement (docs/experiments.md 4.2; Defazio et al.): what the schedule became, and what
    it bought, at one base step.

    The base step is the step_size whose refined runs have the lowest geometric mean of
    final_suboptimality (geometric_summary: done runs only), or the archive's only one (or the
    one selected with --sel). Every other axis is fixed at its first value (problem and steps
    too; refine_from, refine_filter and refine_width at their defaults when swept), and the
    title says the slice.
    - Top: lr against iteration (linear axes) of the refined runs, the mean over the done
      repeats (each repeat refines its own first pass's gradient norms) with their range
      shaded, and of the refine_from schedule's runs at the same step (linear_decay by default;
      drawn when the archive has that schedule), in the colours of convex-schedules.
    - Bottom, log-log: the refined runs' suboptimality f(w_t) - f* and their first pass's
      (first_pass_loss - optimum, dashed, the refine_from colour): geometric mean over the done
      repeats, their range shaded. On shared streams the first pass is the refine_from run.
    """
    name = "refined-schedule"
    require_axes_or_coords(ds, name, "schedule")
    hue = dim_of(ds, "schedule")
    if "refined" not in [format_value(v) for v in ds["schedule"].values]:
        raise ValueError(f"figure {name} needs refined among the schedules swept (the archive "
                         f"has {', '.join(format_value(v) for v in ds['schedule'].values)})")
    x = swept_dim(ds, "step_size", {hue})
    if x is None and "step_size" in ds.coords and ds["step_size"].dims == (hue,):
        raise ValueError(f"figure {name} compares schedules at one base step: step_size is "
                         f"zipped with schedule in {hue}")
    keep = {d for d in (hue, x) if d}
    ds = fix_other_axes(ds, keep, CONVEX_DEFAULTS)
    ds = ds.isel({a: 0 for a in sweep_axes(ds) if a not in keep})
    schedules = [format_value(v) for v in ds["schedule"].values]
    refined = schedules.index("refined")
    source = refine_source(ds, hue, refined)
    compare = schedules.index(source) if source in schedules else None
    how = "the only one in the archive or selection"
    if x:
        centre = geometric_summary(ds, "final_suboptimality")[0].isel({hue: refined})
        values = np.asarray(centre.transpose(x).values, dtype=float)
        if not np.isfinite(values).any():
            raise ValueError(f"figure {name}: no base step has a done refined run")
        ds = ds.isel({x: int(np.nanargmin(values))})
        how = "the best for refined"
    base = float(ds["step_size"].values[()]) if "step_size" in ds.coords else float(
        spec_value(ds, "step_size", 0.1))
    ds = keep_runs(ds, "done")

    def runs(metric, index):
        return np.asarray(ds[metric].isel({hue: index}).transpose(RECORD, REPEAT).values, float)

    def times(index):
        t = ds["iteration"]
        return np.asarray((t.isel({hue: index}) if hue in t.dims else t).values, dtype=float)

    refined_colour = f"C{refined % 10}"
    source_colour = f"C{compare % 10}" if compare is not None else "0.4"
    refined_text = f"refined (from {source})"
    fig = Figure(figsize=(PANEL_SIZE[0] * 1.5 + LEGEND_WIDTH, PANEL_SIZE[1] * 2 + 0.6),
                 layout="constrained")
    top, bottom = fig.subplots(2, 1, squeeze=True)
    draw_range(top, times(refined), runs("lr", refined), refined_colour, refined_text)
    if compare is not None:
        draw_range(top, times(compare), runs("lr", compare), source_colour, source)
    top.set_title(f"step size at base step {base:.4g} ({how})", fontsize="medium")
    top.set_xlabel(axis_label(ds, ITERATION))
    top.set_ylabel("lr (step size used)")
    top.set_ylim(bottom=0)
    draw_geometric_range(bottom, times(refined), runs("suboptimality", refined),
                         refined_colour, refined_text)
    optimum = np.asarray(ds["optimum"].isel({hue: refined}).transpose(REPEAT).values, float)
    first = runs("first_pass_loss", refined) - optimum[None, :]
    draw_geometric_range(bottom, times(refined), first, source_colour,
                         f"first pass ({source})", linestyle="--")
    bottom.set_title("suboptimality f(w_t) - f*", fontsize="medium")
    bottom.set_xscale("log")
    bottom.set_yscale("log")
    bottom.set_xlabel(axis_label(ds, ITERATION))
    bottom.set_ylabel("f(w_t) - f* (geometric mean)")
    for ax in (top, bottom):
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.02, 1))
    fig.suptitle(default_title(ds, "refined schedule against its first pass"),
                 fontsize="medium")
    return fig


# ------------------------------------------------------------------ ssi (Arnaboldi et al.)
# Expected archives: jobs/ssi_tied_vs_untied.yaml (model x seq_len x step_size, target zipped
# with step_scaling and steps), jobs/ssi_sie.yaml (target zipped with step_size, dim with steps)
# and jobs/ssi_positional_semantic.yaml (omega swept), or any ssi archive with the axes a figure
# needs. A parameter may be a sweep axis, a zipped parameter or fixed under params:; axes a
# figure does not draw are fixed at their first value (model at tied when it has it), and the
# title says the slice.

# The describe defaults, for a parameter the spec sets in params: or leaves out.
SSI_DEFAULTS = {"seq_len": 2, "dim": 500, "model": "tied", "activation": "relu",
                "reduction": "identity", "target": "sum", "omega": 0.5, "step_size": 0.5,
                "step_scaling": 0.0, "recovery_threshold": 0.5}
SSI_PREFERRED = {"model": "tied", "activation": "relu"}
# The sequence information exponent of each scalar target (docs/experiments.md 5.1).
SSI_SIE = {"sum": 1, "h2_sum": 2, "he3_sum": 3}
# Targets even in w*: m and -m fit them equally well (a run may escape towards -1), so the
# figures draw |m|, as recovery_step does (||(e, m)|| >= threshold).
SSI_EVEN_TARGETS = {"h2_sum", "positional_semantic"}
# ssi-overlap: the first of these that the archive varies (and the facet does not) colours the
# curves.
SSI_OVERLAP_HUES = ("dim", "seq_len", "omega", "step_size", "step_scaling", "model",
                    "activation")
# ssi-overlap: the x axis spans this many times the slowest curve's mean recovery time.
OVERLAP_SPAN = 3.0
# The transition the paper reports for positional_semantic (d = 1000, L = 2), drawn for reference.
SSI_PAPER_OMEGA = 0.64


def plain(value):
    """A coordinate value as a Python scalar (str for bytes and numpy strings)."""
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.generic):
        return value.item()
    return value


def varying(ds, name):
    """True when name is a 1-D coordinate (an axis or a zipped parameter) with several values."""
    return name in ds.coords and ds[name].ndim == 1 and len(set(
        plain(v) for v in ds[name].values)) > 1


def ssi_value(ds, name, values=None):
    """A parameter's value at a point: values (the point's coordinates), else a scalar
    coordinate (an axis fixed by a selection), else the spec's params:, else the default."""
    if values and name in values:
        return values[name]
    if name in ds.coords and ds[name].ndim == 0:
        return plain(ds[name].values[()])
    value = spec_value(ds, name, SSI_DEFAULTS.get(name))
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def sweep_points(ds):
    """Every sweep point of ds in canonical order: (isel picks, {parameter: value}) with the
    values of every axis and zipped parameter at the point."""
    axes = sweep_axes(ds)
    for index in np.ndindex(*(ds.sizes[a] for a in axes)):
        pick = dict(zip(axes, index))
        values = {name: plain(ds[name].values[i]) for a, i in pick.items()
                  for name in axis_parameters(ds, a)}
        yield pick, values


def at_point(da, pick):
    """da at a point's picks (those of its dimensions that are picked)."""
    return da.isel({d: i for d, i in pick.items() if d in da.dims})


def mean_and_error(runs):
    """Mean over the finite values of each row of runs [n, repeat] and its standard error
    (NaN with fewer than two values)."""
    runs = np.asarray(runs, dtype=float)
    finite = np.isfinite(runs)
    count = finite.sum(axis=1)
    centre = mean_over_repeats(runs)
    deviation = np.where(finite, runs - np.where(np.isfinite(centre), centre, 0.0)[:, None], 0.0)
    variance = (deviation ** 2).sum(axis=1) / np.maximum(count - 1, 1)
    error = np.where(count > 1, np.sqrt(variance / np.maximum(count, 1)), np.nan)
    return centre, error


def curve_colours(count):
    """The default cycle for up to 10 curves; beyond, a sequential map (a cycle would repeat
    colours, e.g. for an omega grid)."""
    if count <= 10:
        return [f"C{j}" for j in range(count)]
    from matplotlib import colormaps
    return [colormaps["viridis"](j / (count - 1)) for j in range(count)]


def target_text(target):
    sie = SSI_SIE.get(target)
    return f"target={target}" + (f" (SIE {sie})" if sie else "")


def point_label(values, names):
    return ", ".join(f"{n}={format_value(values[n])}" for n in names) or None


def theory_recovery(times, theory, threshold):
    """The first n at which the theory curve reaches |m| >= threshold, linearly interpolated
    between the record times (NaN if it never does): the limit's recovery step."""
    times = np.asarray(times, dtype=float)
    theory = np.abs(np.asarray(theory, dtype=float))
    ok = np.isfinite(theory)
    times, theory = times[ok], theory[ok]
    above = np.flatnonzero(theory >= threshold)
    if not len(above):
        return np.nan
    k = above[0]
    if k == 0:
        return times[0]
    t0, t1, y0, y1 = times[k - 1], times[k], theory[k - 1], theory[k]
    return t0 + (threshold - y0) * (t1 - t0) / (y1 - y0)


@register("ssi-overlap", "ssi",
          "overlap m against n/d, one panel per target (else per model), one colour per dim "
          "(else seq_len, omega, step_size, ...): mean over done repeats with a band of one "
          "standard error, theory_overlap (the d -> infinity ODE) dashed and "
          "theory_overlap_small_step dotted where they exist; |m| for even targets")
def ssi_overlap(ds):
    """Arnaboldi et al.'s overlap curves: m = w . w* / d against n / d with the limit beside it.

    Drawn, per panel (one per target when the archive has several, else one per model):
    - per point of the archive (one colour each, labelled by what varies within the panel): the
      overlap against iteration / dim, the mean over the done repeats as a line and mean +- one
      standard error shaded; |m| for the even targets (h2_sum, positional_semantic), where a run
      may escape towards -1; for untied, the recorded overlap is ||m|| / sqrt(L) >= 0;
    - theory_overlap (the ODE, tied models only), dashed thin, and theory_overlap_small_step
      (tied relu on sum and h2_sum), dotted, in the same colour, where they are not NaN;
    - the recovery threshold as a grey line.
    """
    facet = next((n for n in ("target", "model") if varying(ds, n)), None)
    hue = next((n for n in SSI_OVERLAP_HUES if n != facet and varying(ds, n)), None)
    keep = {dim_of(ds, n) for n in (facet, hue) if n}
    ds = keep_runs(fix_other_axes(ds, keep, SSI_PREFERRED), "done")
    panels = {}
    for pick, values in sweep_points(ds):
        panels.setdefault(ssi_value(ds, facet, values) if facet else None, []).append(
            (pick, values))
    count = len(panels)
    fig = Figure(figsize=(PANEL_SIZE[0] * 1.15 * count, PANEL_SIZE[1] + 0.9),
                 layout="constrained")
    axes = fig.subplots(1, count, squeeze=False).ravel()
    for ax, (key, points) in zip(axes, panels.items()):
        names = [n for n in points[0][1] if n != "steps"
                 and len({p[1][n] for p in points}) > 1]
        even = [ssi_value(ds, "target", v) in SSI_EVEN_TARGETS for _, v in points]
        theories, slowest, longest = set(), [], 0.0
        colours = curve_colours(len(points))
        for j, (pick, values) in enumerate(points):
            colour = colours[j]
            xs = np.asarray(at_point(ds["iteration"], pick).values, dtype=float) / float(
                ssi_value(ds, "dim", values))
            runs = np.asarray(at_point(ds["overlap"], pick).transpose(RECORD, REPEAT).values,
                              dtype=float)
            if even[j]:
                runs = np.abs(runs)
            centre, error = mean_and_error(runs)
            ok = np.isfinite(centre)
            if not ok.any():
                continue
            longest = max(longest, float(np.max(xs[ok])))
            slowest.append(mean_recovery(ds, pick) / float(ssi_value(ds, "dim", values)))
            ax.plot(xs[ok], centre[ok], color=colour, linewidth=2.2, alpha=0.7,
                    label=point_label(values, names), gid="overlap")
            band = ok & np.isfinite(error)
            if band.any():
                ax.fill_between(xs, np.where(band, centre - error, np.nan),
                                np.where(band, centre + error, np.nan), where=band,
                                color=colour, alpha=0.2, linewidth=0, gid="standard error")
            for name, style in (("theory_overlap", "--"), ("theory_overlap_small_step", ":")):
                if name not in ds.data_vars:
                    continue
                theory = mean_over_repeats(np.asarray(
                    at_point(ds[name], pick).transpose(RECORD, REPEAT).values, dtype=float))
                # The small-step law of h2_sum, m_0 exp(c G), holds at small m only: it is cut
                # where it leaves [-1, 1].
                shown = np.isfinite(theory) & (np.abs(theory) <= 1.0)
                if shown.any():
                    theories.add(name)
                    ax.plot(xs[shown], theory[shown], color=colour, linestyle=style,
                            linewidth=1.1, gid=name)
        if slowest and np.all(np.isfinite(slowest)):
            # The escape is what the panel is about: it ends at OVERLAP_SPAN times the slowest
            # curve's mean recovery time (all of the run when some curve has runs that never
            # recover).
            right = min(longest, OVERLAP_SPAN * max(slowest))
            ax.set_xlim(-0.02 * right, right * 1.02)
        threshold = float(ssi_value(ds, "recovery_threshold", points[0][1]))
        ax.axhline(threshold, color="0.55", linewidth=0.8, linestyle="-.", zorder=0,
                   gid="threshold")
        if key is not None:
            ax.set_title(target_text(key) if facet == "target" else f"{facet}={key}",
                         fontsize="medium")
        ax.set_xlabel("n / d (samples per dimension)")
        ax.set_ylabel("|overlap| |m|" if all(even) else
                      "overlap m (|m| for even targets)" if any(even) else "overlap m")
        ax.grid(True, which="major", alpha=0.3)
        handles, labels = ax.get_legend_handles_labels()
        for name, style in (("theory_overlap", "--"), ("theory_overlap_small_step", ":")):
            if name in theories:
                handles.append(Line2D([], [], color="0.3", linestyle=style, linewidth=1.1))
                labels.append(name + (" (ODE)" if name == "theory_overlap" else ""))
        handles.append(Line2D([], [], color="0.55", linestyle="-.", linewidth=0.8))
        labels.append(f"recovery threshold {threshold:g}")
        ax.legend(handles, labels, fontsize="x-small", ncol=2 if len(points) > 6 else 1,
                  title=" / ".join(names) if names else None, title_fontsize="x-small")
    fig.suptitle(default_title(ds, "overlap against n/d (mean +- standard error over "
                                   "repeats)"), fontsize="medium")
    return fig


def mean_recovery(ds, pick):
    """The mean recovery step of the done runs at a point; inf when some of them never
    recovered, NaN when none is done."""
    values = np.asarray(at_point(ds["recovery_step"], pick).values, dtype=float).ravel()
    done = np.asarray((at_point(ds["status"], pick) == STATUS["done"]).values).ravel()
    if not done.any():
        return np.nan
    return float(values[done].mean()) if np.isfinite(values[done]).all() else np.inf


def recovery_arrays(ds, order):
    """recovery_step of the done runs (NaN otherwise) and the done mask, as numpy arrays in
    the given dimension order."""
    values = np.asarray(keep_runs(ds, "done")["recovery_step"].transpose(*order).values, float)
    done = np.asarray((ds["status"] == STATUS["done"]).transpose(*order).values, dtype=bool)
    return values, done


def fully_recovered(values, done):
    """True where at least one run is done and every done run recovered (over the last axis)."""
    return done.any(axis=-1) & np.all(~done | np.isfinite(values), axis=-1)


def fit_dataset(values, done, coords):
    """A minimal archive-shaped Dataset for fit_exponent: recovery_step over coords' dimensions
    (the last one repeat), status done where done."""
    dims = list(coords)
    metric = xr.DataArray(np.where(done, values, np.nan), dims=dims, coords=coords,
                          attrs={"kind": "scalar", "units": "samples"})
    status = xr.DataArray(np.where(done, STATUS["done"], STATUS["missing"]).astype(np.int8),
                          dims=dims, coords=coords)
    return xr.Dataset({"recovery_step": metric, "status": status})


def pick_steps(values, done, steps):
    """The step indices of the equal-step comparison and of each (model, L)'s best step, from
    values and done [model, L, step, repeat]. A step is complete at a (model, L) when every done
    run there recovered. The equal step: among the steps complete at every (model, L), the one
    with the lowest geometric mean of the (model, L) mean recovery steps, the common best (else
    the step with the most recovered runs). Each best step: the complete one with the lowest
    mean recovery step (-1 where none is complete)."""
    complete = fully_recovered(values, done)             # [model, L, step]
    means = mean_over_repeats(values.reshape(-1, values.shape[-1])).reshape(complete.shape)
    everywhere = complete.all(axis=(0, 1))
    if everywhere.any():
        with np.errstate(divide="ignore"):
            logs = np.where(complete, np.log(np.where(complete, means, 1.0)), 0.0).mean(
                axis=(0, 1))
        equal = int(np.argmin(np.where(everywhere, logs, np.inf)))
    else:
        recovered = np.isfinite(values).sum(axis=(0, 1, 3))
        equal = int(max(range(len(steps)), key=lambda s: (recovered[s], steps[s])))
    best = np.where(complete.any(axis=-1), np.argmin(np.where(complete, means, np.inf), axis=-1),
                    -1)
    return equal, best


def plain_log_ticks(ax):
    """Log axes labelled at 1, 2, 5 x 10^k in plain numbers (a recovery time spans a decade or
    two: one label per decade says too little)."""
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        axis.set_minor_locator(NullLocator())


def draw_recovery_panel(ax, Ls, models, values, done, table, ratio, gammas=None):
    """Mean recovery step +- standard error against L per model (hollow where some done run
    did not recover), the fitted slopes, and the untied/tied ratio's slope in the legend."""
    for m, model in enumerate(models):
        colour = f"C{m % 10}"
        centre, error = mean_and_error(values[m])
        complete = fully_recovered(values[m], done[m])
        ok = np.isfinite(centre)
        ax.errorbar(Ls[ok], centre[ok], yerr=np.where(np.isfinite(error), error, 0)[ok],
                    color=colour, linestyle="-", linewidth=1.0, alpha=0.6, capsize=2)
        ax.plot(Ls[ok & complete], centre[ok & complete], "o", color=colour, markersize=5,
                gid=model)
        ax.plot(Ls[ok & ~complete], centre[ok & ~complete], "o", color=colour, markersize=5,
                markerfacecolor="white", gid=model + " (not every run recovered)")
        if gammas is not None:
            for x, y, g in zip(Ls[ok], centre[ok], gammas[m][ok]):
                ax.annotate(f"{g:.2g}", (x, y), textcoords="offset points",
                            xytext=(4, -9 if m else 4), fontsize=6, color=colour)
    extra = []
    row = ratio.iloc[0] if len(ratio) else None
    if row is not None and np.isfinite(row["exponent"]):
        interval = ("" if not np.isfinite(row["ci_low"])
                    else f" [{row['ci_low']:.2f}, {row['ci_high']:.2f}]")
        extra.append((Line2D([], [], linestyle="none"),
                      f"untied/tied ratio: slope {row['exponent']:.2f}{interval}"))
    if (~fully_recovered(values, done) & done.any(axis=-1)).any():
        extra.append((Line2D([], [], linestyle="none", marker="o", color="0.4",
                             markerfacecolor="white"), "not every run recovered"))
    draw_fits(ax, table, "model", colour_of=lambda r: f"C{models.index(r['model']) % 10}",
              beside=False, extra=extra)
    ax.set_xscale("log")
    ax.set_yscale("log")
    plain_log_ticks(ax)
    ax.set_xticks(Ls)
    ax.set_xticklabels([f"{x:g}" for x in Ls])
    ax.set_xlabel("sequence length L (seq_len)")
    ax.set_ylabel("recovery step n [samples]")
    ax.grid(True, which="major", alpha=0.3)


def recovery_fits(values, done, models, Ls, repeats):
    """The per-model fit table and the untied/tied ratio's (paired by repeat: on shared streams
    the two models see the same samples)."""
    coords = {"model": models, "seq_len": Ls, REPEAT: repeats}
    table = fit_exponent(fit_dataset(values, done, coords), "recovery_step", "seq_len")
    tied, untied = models.index("tied"), models.index("untied")
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = values[untied] / values[tied]
    both = done[untied] & done[tied]
    ratio_ds = fit_dataset(ratio, both, {"seq_len": Ls, REPEAT: repeats})
    return table, fit_exponent(ratio_ds, "recovery_step", "seq_len")


@register("ssi-recovery-vs-L", "ssi",
          "recovery step against L for tied and untied, log-log, one column per target: at an "
          "equal step (top; the common best among the steps where every run recovered) and "
          "each at its best step (bottom, when step_size is swept; gamma annotated), mean +- "
          "standard error, with fitted slopes per model and of the untied/tied ratio "
          "(bootstrap intervals)")
def ssi_recovery_vs_L(ds):
    """Weight sharing (Arnaboldi et al.): the weak-recovery time of the tied and the untied
    model against the sequence length L.

    Per target (columns, when the archive has several):
    - top: at one step_size for both models (equal gamma = step_size L^step_scaling at each L):
      among the steps at which every done run of both models at every L recovered, the one with
      the lowest geometric mean of the (model, L) mean recovery steps (else the one with the
      most recovered runs), or the archive's only one (or --sel step_size=...);
    - bottom (when step_size is swept apart from model and seq_len): each model at each L at
      its best step, the one with the lowest mean recovery step among those where every done
      run recovered; each point is annotated with its gamma.
    Points are the mean over the done runs that recovered, with one standard error; hollow
    where some done run did not recover. Dotted: fit_exponent's power law per model with its
    bootstrap interval over repeats; the legend adds the slope of untied/tied, the ratio taken
    per repeat (paired on shared_streams: [model, step_size]).
    """
    name = "ssi-recovery-vs-L"
    require_axes_or_coords(ds, name, "seq_len", "model")
    models = [m for m in (plain(v) for v in ds["model"].values) if m in ("tied", "untied")]
    if sorted(models) != ["tied", "untied"]:
        raise ValueError(f"figure {name} needs both tied and untied among the models")
    L_dim, M_dim = dim_of(ds, "seq_len"), dim_of(ds, "model")
    if L_dim == M_dim:
        raise ValueError(f"figure {name} needs model and seq_len swept apart (here they are "
                         f"zipped together in {L_dim})")
    ds = select(ds, model=models)
    facet = swept_dim(ds, "target", {L_dim, M_dim})
    if facet is None and varying(ds, "target"):
        raise ValueError(f"figure {name} needs target swept apart from seq_len and model")
    steps_dim = swept_dim(ds, "step_size", {L_dim, M_dim, facet})
    keep = {d for d in (L_dim, M_dim, facet, steps_dim) if d}
    ds = fix_other_axes(ds, keep, SSI_PREFERRED)
    ds = ds.isel({a: 0 for a in sweep_axes(ds) if a not in keep})
    models = [plain(v) for v in ds["model"].values]
    Ls = np.asarray(ds["seq_len"].values, dtype=float)
    columns = ds.sizes[facet] if facet else 1
    rows = 2 if steps_dim else 1
    fig = Figure(figsize=(PANEL_SIZE[0] * 1.25 * columns, (PANEL_SIZE[1] + 0.5) * rows + 0.4),
                 layout="constrained")
    axes = fig.subplots(rows, columns, squeeze=False)
    repeats = np.asarray(ds[REPEAT].values)
    for c in range(columns):
        sub = ds.isel({facet: c}) if facet else ds
        head = target_text(ssi_value(sub, "target")) + ": "
        scaling = float(ssi_value(sub, "step_scaling"))
        law = "" if scaling == 0 else f" L^{scaling:g}"
        order = [M_dim, L_dim] + ([steps_dim] if steps_dim else []) + [REPEAT]
        values, done = recovery_arrays(sub, order)
        if steps_dim:
            steps = np.asarray(sub["step_size"].values, dtype=float)
            equal, best = pick_steps(values, done, steps)
            picked = [(values[:, :, equal], done[:, :, equal], None,
                       f"equal step: gamma = {steps[equal]:.3g}{law}")]
            chosen = np.maximum(best, 0)[..., None, None]
            best_values = np.take_along_axis(values, chosen, axis=2)[:, :, 0]
            best_done = np.take_along_axis(done, chosen, axis=2)[:, :, 0] & (best >= 0)[..., None]
            gammas = (np.where(best >= 0, steps[np.maximum(best, 0)], np.nan)
                      * Ls[None, :] ** scaling)
            picked.append((np.where(best_done, best_values, np.nan), best_done, gammas,
                           "each at its best step (gamma annotated)"))
        else:
            step = float(ssi_value(sub, "step_size"))
            picked = [(values, done, None, f"equal step: gamma = {step:.3g}{law}")]
        for r, (vals, dn, gammas, text) in enumerate(picked):
            table, ratio = recovery_fits(vals, dn, models, Ls, repeats)
            ax = axes[r, c]
            draw_recovery_panel(ax, Ls, models, vals, dn, table, ratio, gammas)
            ax.set_title(head + text, fontsize="small")
    fig.suptitle(default_title(ds, "recovery step against L, tied against untied"),
                 fontsize="medium")
    return fig


@register("ssi-sample-complexity", "ssi",
          "recovery step against d, log-log (left) and over d, log d (right), one colour per "
          "target: mean +- standard error over the runs that recovered, fitted slopes with "
          "bootstrap intervals, and the limit's recovery step (theory_overlap reaching the "
          "threshold) dashed: ~d for SIE 1, ~d log d for SIE 2")
def ssi_sample_complexity(ds):
    """Sample complexity: the weak-recovery time against the dimension, per target (SIE).

    Per target (one colour): the mean recovery step over the done runs that recovered, with
    one standard error, against dim; dotted, fit_exponent's power law with its bootstrap
    interval (a target none of whose runs recovered is named in the legend instead); dashed
    with crosses, the recovery step of the d -> infinity limit at each d (the first n at which
    theory_overlap, started at the run's own m_0, reaches recovery_threshold, interpolated
    between records), with its least-squares slope. Right: the same divided by d, on a log d
    axis, where O(d) is flat and O(d log d) a straight line.
    """
    name = "ssi-sample-complexity"
    require_axes_or_coords(ds, name, "dim")
    D_dim = dim_of(ds, "dim")
    hue = "target" if varying(ds, "target") else None
    if hue and dim_of(ds, "target") == D_dim:
        raise ValueError(f"figure {name} needs target swept apart from dim")
    keep = {D_dim} | ({dim_of(ds, hue)} if hue else set())
    ds = fix_other_axes(ds, keep, SSI_PREFERRED)
    ds = ds.isel({a: 0 for a in sweep_axes(ds) if a not in keep})
    targets = list(dict.fromkeys(plain(v) for v in ds["target"].values)) if hue else [
        ssi_value(ds, "target")]
    fig = Figure(figsize=(PANEL_SIZE[0] * 2.4, PANEL_SIZE[1] + 0.8), layout="constrained")
    left, right = fig.subplots(1, 2)
    tables, extra = [], []
    for k, target in enumerate(targets):
        colour = f"C{k % 10}"
        sub = select(ds, target=target) if hue else ds
        dims = np.asarray(sub["dim"].values, dtype=float)
        values, done = recovery_arrays(sub, [D_dim, REPEAT])
        centre, error = mean_and_error(values)
        ok = np.isfinite(centre)
        order = np.argsort(dims)
        theory = np.array([theory_recovery(
            at_point(sub["iteration"], {D_dim: i}).values,
            mean_over_repeats(np.asarray(sub["theory_overlap"].isel({D_dim: i}).transpose(
                RECORD, REPEAT).values, dtype=float)),
            float(ssi_value(sub, "recovery_threshold"))) for i in range(len(dims))])
        for ax, scale in ((left, np.ones_like(dims)), (right, dims)):
            if ok.any():
                bars = ax.errorbar(dims[ok], centre[ok] / scale[ok],
                                   yerr=np.where(np.isfinite(error), error, 0)[ok] / scale[ok],
                                   color=colour, marker="o", markersize=5, linestyle="none",
                                   capsize=2, label=target_text(target) if ax is right else None)
                bars.lines[0].set_gid(target)
            shown = np.isfinite(theory[order])
            if shown.any():
                ax.plot(dims[order][shown], theory[order][shown] / scale[order][shown],
                        color=colour, linestyle="--", linewidth=1.0, marker="x", markersize=6,
                        gid=target + " limit")
        table = fit_exponent(sub, "recovery_step", "dim")
        table.insert(0, "target", target)
        tables.append(table)
        if not ok.any():
            extra.append((Line2D([], [], linestyle="none"), f"{target}: no run recovered"))
        fine = np.isfinite(theory) & (theory > 0)
        if fine.sum() >= 2:
            slope = np.polyfit(np.log(dims[fine]), np.log(theory[fine]), 1)[0]
            extra.append((Line2D([], [], color=colour, linestyle="--", marker="x"),
                          f"{target} limit (ODE): slope {slope:.2f}"))
    table = pd.concat(tables, ignore_index=True)
    table.attrs.update(tables[0].attrs)
    draw_fits(left, table, "target", colour_of=lambda r: f"C{targets.index(r['target']) % 10}",
              beside=False, extra=extra)
    left.set_xscale("log")
    left.set_yscale("log")
    left.set_ylabel("recovery step n [samples]")
    right.set_xscale("log")
    right.set_ylabel("recovery step / d")
    right.set_ylim(bottom=0)
    right.legend(fontsize="small", title="mean +- s.e.; limit dashed", title_fontsize="small")
    for ax in (left, right):
        ax.set_xlabel("dimension d (dim)")
        ax.grid(True, which="major", alpha=0.3)
    fig.suptitle(default_title(ds, "recovery step against the dimension"), fontsize="medium")
    return fig


def transition_omega(omegas, fraction):
    """The omega at which the fraction of positional runs first crosses 1/2 going up (linear
    interpolation between grid points; NaN if it never does). omegas sorted."""
    omegas = np.asarray(omegas, dtype=float)
    fraction = np.asarray(fraction, dtype=float)
    for k in range(1, len(omegas)):
        f0, f1 = fraction[k - 1], fraction[k]
        if np.isfinite(f0) and np.isfinite(f1) and f0 < 0.5 <= f1:
            return omegas[k - 1] + (0.5 - f0) * (omegas[k] - omegas[k - 1]) / (f1 - f0)
    return np.nan


def final_alignments(ds, pick):
    """|m| and |e| at the last record of the done runs at a point, as arrays [repeat]."""
    def last(name):
        da = at_point(ds[name], pick).transpose(REPEAT, RECORD)
        return np.abs(np.asarray(da.values, dtype=float)[:, -1])
    return last("overlap"), last("positional_overlap")


@register("ssi-positional-semantic", "ssi",
          "attention on positional_semantic: final |m| (semantic) and |e| (positional) "
          "against omega, each run a dot, mean +- standard error (left); the fraction of runs "
          "ending positional (|e| > |m|) with the omega where it crosses 1/2 (right); one "
          "colour per dim when swept")
def ssi_positional_semantic(ds):
    """The semantic-positional transition of single-layer attention (Arnaboldi et al.).

    Left: at each omega, |m| = |w . w*| / d (semantic, solid, circles) and |e| = |w . p| /
    sqrt(d) (positional, dashed, squares) at the last record, each done run a small dot and
    the mean over them with one standard error. Right: the fraction of the done runs that end
    positional (|e| > |m|) with its binomial standard error, the omega where it first crosses
    1/2 (linear interpolation; a vertical line, value in the legend) and the paper's 0.64
    (d = 1000, L = 2) for reference; dashed thin, the fraction of runs that end undecided
    (max(|m|, |e|) below recovery_threshold: not converged at that horizon).
    One colour per dim when dim is swept; every other axis at its first value.
    """
    name = "ssi-positional-semantic"
    require_axes_or_coords(ds, name, "omega")
    O_dim = dim_of(ds, "omega")
    hue = swept_dim(ds, "dim", {O_dim})
    keep = {O_dim} | ({hue} if hue else set())
    ds = fix_other_axes(ds, keep, SSI_PREFERRED)
    ds = keep_runs(ds.isel({a: 0 for a in sweep_axes(ds) if a not in keep}), "done")
    if not np.isfinite(np.asarray(ds["positional_overlap"].values, dtype=float)).any():
        raise ValueError(f"figure {name} needs model attention (positional_overlap is NaN)")
    fig = Figure(figsize=(PANEL_SIZE[0] * 2.4, PANEL_SIZE[1] + 0.8), layout="constrained")
    left, right = fig.subplots(1, 2)
    omegas = np.asarray(ds["omega"].values, dtype=float)
    order = np.argsort(omegas)
    xs = omegas[order]
    threshold = float(ssi_value(ds, "recovery_threshold"))
    for j in range(ds.sizes[hue] if hue else 1):
        colour = f"C{j % 10}"
        label_text = label(ds, hue, j) if hue else None
        m = np.full((len(xs), ds.sizes[REPEAT]), np.nan)
        e = np.full_like(m, np.nan)
        for row, i in enumerate(order):
            m[row], e[row] = final_alignments(ds, {O_dim: i, **({hue: j} if hue else {})})
        for values, style, marker, what in ((m, "-", "o", "|m|"), (e, "--", "s", "|e|")):
            centre, error = mean_and_error(values)
            left.plot(np.repeat(xs, values.shape[1]), values.ravel(), marker, color=colour,
                      markersize=2.5, alpha=0.35, linestyle="none", gid=what + " runs")
            left.errorbar(xs, centre, yerr=np.where(np.isfinite(error), error, 0),
                          color=colour, linestyle=style, marker=marker, markersize=4,
                          capsize=2, linewidth=1.4).lines[0].set_gid(what)
        finished = np.isfinite(m) & np.isfinite(e)
        count = finished.sum(axis=1)
        positional = (finished & (e > m)).sum(axis=1)
        undecided = (finished & (np.maximum(m, e) < threshold)).sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            fraction = np.where(count > 0, positional / count, np.nan)
            spread = np.sqrt(fraction * (1 - fraction) / count)
            loose = np.where(count > 0, undecided / count, np.nan)
        omega_c = transition_omega(xs, fraction)
        text = ("" if label_text is None else label_text + ": ") + (
            f"crosses 1/2 at omega = {omega_c:.3f}" if np.isfinite(omega_c)
            else "never crosses 1/2")
        right.errorbar(xs, fraction, yerr=np.where(np.isfinite(spread), spread, 0),
                       color=colour, marker="o", markersize=4, capsize=2,
                       label=text).lines[0].set_gid("fraction positional")
        if (loose > 0).any():
            right.plot(xs, loose, color=colour, linestyle="--", linewidth=0.9,
                       label=("" if label_text is None else label_text + ": ") + "undecided",
                       gid="fraction undecided")
        if np.isfinite(omega_c):
            right.axvline(omega_c, color=colour, linewidth=0.9, alpha=0.8, gid="transition")
    right.axvline(SSI_PAPER_OMEGA, color="0.5", linestyle=":", linewidth=1.2,
                  label=f"paper: ~{SSI_PAPER_OMEGA} (d = 1000, L = 2)")
    handles = [Line2D([], [], color="0.3", linestyle="-", marker="o"),
               Line2D([], [], color="0.3", linestyle="--", marker="s")]
    labels = ["|m| semantic", "|e| positional"]
    if hue:
        handles += [Line2D([], [], color=f"C{j % 10}") for j in range(ds.sizes[hue])]
        labels += [label(ds, hue, j) for j in range(ds.sizes[hue])]
    left.legend(handles, labels, fontsize="small", title="at the last record",
                title_fontsize="small")
    left.set_ylabel("final |overlap|")
    right.set_ylabel("fraction of runs ending positional (|e| > |m|)")
    right.set_ylim(-0.05, 1.05)
    right.legend(fontsize="small")
    for ax in (left, right):
        ax.set_xlabel("omega (weight of the positional part)")
        ax.grid(True, which="major", alpha=0.3)
    fig.suptitle(default_title(ds, "positional against semantic solutions"), fontsize="medium")
    return fig
