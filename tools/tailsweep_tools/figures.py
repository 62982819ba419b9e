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
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

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
