"""Paper figures, one function each, found by name (`tailsweep-figure NAME ARCHIVE -o FILE`).

A figure function takes the archive of the matching jobs/ spec (any archive of its experiment
with the axes it needs) and returns a matplotlib Figure. Adding a figure is one decorated
function; the command line and `--list` pick it up from the registry.
"""
import re
from dataclasses import dataclass
from typing import Callable

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from .archive import ITERATION, RECORD, REPEAT, axis_parameters, dim_of, keep_runs, sweep_axes
from .fit import fit_exponent
from .plot import (PANEL_SIZE, axis_label, default_title, format_value, mean_over_repeats,
                   panels_size, plot_metric)
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


def draw_fits(ax, table, hue, colour_of=None, beside=True):
    """Each fitted power law C x^p (one table row per curve), dotted over the x range it was
    fitted on, coloured like its curve (colour_of(row), default the row's position), with the
    exponent and its bootstrap interval in the legend (labelled by the hue column, if any)."""
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
