"""The analysis package (tools/) and `tailsweep export --csv`, over archives the real binary writes.

Every archive here comes from `$TAILSWEEP run` on a small spec (quadratic, bigram, levy_sgd,
two_layer, convex, ssi, synthetic) written into a temporary directory (tests needing one skip when
TAILSWEEP is unset).
The package is imported from the source tree (tools/), its console scripts run as
`python -m tailsweep_tools`, and one test installs it with pip into a fresh virtual environment
with the network unreachable.

The exact law the fit must recover (test_fit_recovers_the_linear_growth_of_the_loss_with_dim):
the quadratic experiment has f(w_t) = 1/2 sum_k lambda_k (1 - eta lambda_k)^(2t) w*_k^2 with
lambda_k = k^-s and w*_k ~ N(0, k^-b) independent. At s = 0 and b = 0 every lambda_k = 1 and
every w*_k^2 has mean 1, so E[final_loss] = 1/2 (1 - eta)^(2T) d exactly: exponent 1 in dim,
prefactor 1/2 (1 - eta)^(2T), for every step size.
"""
import csv
import io
import math
import os
import re
import shlex
import shutil
import subprocess
import sys

import numpy as np
import pytest

xr = pytest.importorskip("xarray")
pytest.importorskip("h5netcdf")
h5py = pytest.importorskip("h5py")
pd = pytest.importorskip("pandas")
pytest.importorskip("matplotlib")
from matplotlib import image as mpimg  # noqa: E402  (after the importorskip above)
from matplotlib.figure import Figure  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.path.normpath(os.path.join(HERE, "..", "..", "tools"))
sys.path.insert(0, TOOLS)
# No __pycache__ in the source tree: `make dist` would ship it, distcheck's is read-only.
sys.dont_write_bytecode = True
import tailsweep_tools as tt  # noqa: E402
from tailsweep_tools import cli  # noqa: E402
from tailsweep_tools.plot import plot_metric  # noqa: E402
from tailsweep_tools.figures import (FIGURES, make_figure, theory_recovery,  # noqa: E402
                                     time_average, transition_omega, tuned_steps_to_eps)

TAILSWEEP = os.environ.get("TAILSWEEP")
PYTHON = os.environ.get("PYTHON") or sys.executable
needs_binary = pytest.mark.skipif(not TAILSWEEP, reason="TAILSWEEP is not set (run under make check)")

RECORDS = 6
GRID_SPEC = f"""\
experiment: quadratic
seed: 11
repeats: 3
params:
  steps: 400
  record: {{log: {RECORDS}}}
  eps: [0.5, 0.1]
sweep:
  dim: [8, 32]
  spectrum_exponent: [0.5, 1.0]
  step_size: [0.5, 1.0, 2.5]
"""

# A string axis, a zip group (steps varies, so iteration is per point), three eps.
ZIP_SPEC = """\
experiment: quadratic
seed: 5
repeats: 2
params:
  dim: 12
  record: {linear: 4}
sweep:
  mode: [iterate, closed_form]
zip:
  - {steps: [20, 40], target_exponent: [0.0, 1.0]}
"""

SCALING_DIMS = [16, 64, 256, 1024, 4096]
SCALING_REPEATS = 32
SCALING_STEPS = 2
SCALING_SPEC = f"""\
experiment: quadratic
seed: 2025
repeats: {SCALING_REPEATS}
params:
  steps: {SCALING_STEPS}
  record: {{linear: 3}}
  spectrum_exponent: 0.0
  target_exponent: 0.0
sweep:
  step_size: [0.25, 0.5]
  dim: {SCALING_DIMS}
"""


# Kunstner & Bach's bigram model in exact mode (closed forms, fast): GD at its default step
# 1/pi_1, sign descent with the step tuned per horizon (phi_grid > 0), zipped with its step rule.
BIGRAM_SPEC = """\
experiment: bigram
seed: 1
repeats: 1
params:
  mode: exact
  steps: 20000
  record: {log: 20}
  eps: [0.5, 0.1]
  phi_grid: 8
sweep:
  zipf_exponent: [0.5, 1.0, 2.0]
  dim: [100, 1000, 10000]
zip:
  - {optimizer: [gd, sign], step_rule: [inverse_pi1, phi]}
"""

# The engine's test experiment ends each run as told: done, diverged (its last draw is +inf) or
# failed; a sweep with failed runs exits 3.
OUTCOMES_SPEC = """\
experiment: synthetic
seed: 2
repeats: 2
params:
  steps: 4
  record: {linear: 3}
sweep:
  outcome: [done, diverge, fail]
"""

# Heavy-tailed SGD (Dupuis & Viallard; jobs/levy_sgd.yaml in miniature): the gap against alpha
# across problems, dims and seeds.
LEVY_SPEC = """\
experiment: levy_sgd
seed: 7
repeats: 3
params:
  n_train: 100
  sigma: 0.5
  steps: 200
  record: {log: 20}
sweep:
  problem: [quadratic, logistic]
  levy_alpha: [1.4, 1.7, 2.0]
  dim: [5, 20]
"""

# The decoupling distance against n_train at d = 10, Gaussian noise (alpha = 2, sigma = 1), as in
# tests/unit/test_levy_sgd.c: linear records, so that the second half of the run (the part the
# time average uses) holds 51 of them.
DISTANCE_NS = [100, 400, 1600]
DISTANCE_REPEATS = 8
DISTANCE_SPEC = f"""\
experiment: levy_sgd
seed: 2027
repeats: {DISTANCE_REPEATS}
params:
  problem: quadratic
  dim: 10
  levy_alpha: 2.0
  sigma: 1.0
  step_size: 0.1
  steps: 1000
  record: {{linear: 101}}
sweep:
  n_train: {DISTANCE_NS}
"""

# Dandi et al.'s two-layer network (docs/experiments.md section 2) in miniature: single- and
# multi-pass on shared streams, so that both see the same teacher, start and first batch.
TWO_LAYER_SPEC = """\
experiment: two_layer
seed: 3
repeats: 2
params:
  dim: 60
  sample_ratio: 2
  steps: 3
  record: {linear: 4}
  test_size: 200
sweep:
  target: [tanh_he1_he3, he3]
  batch_reuse: [1, 0]
shared_streams: [batch_reuse]
"""

# Defazio et al.'s schedule benchmark (docs/experiments.md section 4) in miniature: every
# schedule and base step on shared streams, so that a repeat sees the same data and minibatches
# under each (and the refined runs' first pass is the linear_decay run at the same step).
CONVEX_SCHEDULES = ["constant", "linear_decay", "cosine", "refined"]
CONVEX_SPEC = """\
experiment: convex
seed: 4
repeats: 3
params:
  dim: 6
  n_train: 40
  steps: 60
  record: {linear: 61}
sweep:
  problem: [least_squares, logistic]
  schedule: [constant, linear_decay, cosine, refined]
  step_size: {logspace: [0.05, 1.6], num: 4}
shared_streams: [schedule, step_size]
"""

# The same least-squares problem at larger steps: at 25.6 every run blows up (the refined ones in
# their linear-decay first pass), at 3.2 constant's three and one of cosine's (seed 4), none of
# linear_decay's or refined's.
CONVEX_DIVERGING_SPEC = """\
experiment: convex
seed: 4
repeats: 3
params:
  problem: least_squares
  dim: 6
  n_train: 40
  steps: 60
  record: {linear: 61}
sweep:
  schedule: [constant, linear_decay, cosine, refined]
  step_size: [0.4, 3.2, 25.6]
shared_streams: [schedule, step_size]
"""


# Arnaboldi et al.'s sequence single-index models (docs/experiments.md section 5) in miniature:
# jobs/ssi_tied_vs_untied.yaml (tied against untied over L and the step, paired on shared
# streams; some untied h2_sum runs at L = 4 do not recover in 3000 steps), jobs/ssi_sie.yaml
# (the three SIE targets over d; he3_sum cannot be learned) and
# jobs/ssi_positional_semantic.yaml (attention over omega).
SSI_TIED_SPEC = """\
experiment: ssi
seed: 6
repeats: 4
params:
  dim: 40
  record: {linear: 41}
sweep:
  model: [tied, untied]
  seq_len: [1, 2, 4]
  step_size: [0.3, 0.6, 1.0]
zip:
  - {target: [sum, h2_sum], step_scaling: [0, -1], steps: [800, 3000]}
shared_streams: [model, step_size]
"""

SSI_SIE_SPEC = """\
experiment: ssi
seed: 7
repeats: 3
params:
  seq_len: 2
  record: {linear: 51}
zip:
  - {target: [sum, h2_sum, he3_sum], step_size: [0.3, 0.2, 0.1]}
  - {dim: [40, 80, 160], steps: [2000, 4000, 8000]}
"""

SSI_ATTENTION_SPEC = """\
experiment: ssi
seed: 8
repeats: 4
params:
  dim: 60
  seq_len: 2
  model: attention
  target: positional_semantic
  step_size: 0.5
  steps: 6000
  record: {linear: 31}
sweep:
  omega: [0.2, 0.6, 0.7, 0.95]
"""


def run_sweep(directory, text, name, *extra, status=0):
    spec = directory / (name + ".yaml")
    spec.write_text(text)
    out = directory / (name + ".h5")
    proc = subprocess.run([TAILSWEEP, "run", str(spec), "-o", str(out), "--progress", "none",
                           *extra], cwd=directory, capture_output=True, text=True, timeout=120)
    assert proc.returncode == status, "tailsweep run:\n" + proc.stdout + proc.stderr
    return spec, out, proc


def archive(tmp_path_factory, text, name, status=0):
    if not TAILSWEEP:
        pytest.skip("TAILSWEEP is not set (run under make check)")
    return run_sweep(tmp_path_factory.mktemp(name), text, name, status=status)[1]


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    return archive(tmp_path_factory, GRID_SPEC, "grid")


@pytest.fixture(scope="module")
def zipped(tmp_path_factory):
    return archive(tmp_path_factory, ZIP_SPEC, "zipped")


@pytest.fixture(scope="module")
def scaling(tmp_path_factory):
    return archive(tmp_path_factory, SCALING_SPEC, "scaling")


@pytest.fixture(scope="module")
def bigram(tmp_path_factory):
    return archive(tmp_path_factory, BIGRAM_SPEC, "bigram")


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    return archive(tmp_path_factory, OUTCOMES_SPEC, "outcomes", status=3)


@pytest.fixture(scope="module")
def levy(tmp_path_factory):
    return archive(tmp_path_factory, LEVY_SPEC, "levy")


@pytest.fixture(scope="module")
def levy_distance(tmp_path_factory):
    return archive(tmp_path_factory, DISTANCE_SPEC, "levy_distance")


@pytest.fixture(scope="module")
def two_layer(tmp_path_factory):
    return archive(tmp_path_factory, TWO_LAYER_SPEC, "two_layer")


@pytest.fixture(scope="module")
def convex(tmp_path_factory):
    return archive(tmp_path_factory, CONVEX_SPEC, "convex")


@pytest.fixture(scope="module")
def convex_diverging(tmp_path_factory):
    return archive(tmp_path_factory, CONVEX_DIVERGING_SPEC, "convex_diverging")


@pytest.fixture(scope="module")
def ssi_tied(tmp_path_factory):
    return archive(tmp_path_factory, SSI_TIED_SPEC, "ssi_tied")


@pytest.fixture(scope="module")
def ssi_sie(tmp_path_factory):
    return archive(tmp_path_factory, SSI_SIE_SPEC, "ssi_sie")


@pytest.fixture(scope="module")
def ssi_attention(tmp_path_factory):
    return archive(tmp_path_factory, SSI_ATTENTION_SPEC, "ssi_attention")


@pytest.fixture(scope="module")
def partial(tmp_path_factory):
    """Half a sweep: `run --slice 0/2` computes one slice, `collect` archives what is there."""
    if not TAILSWEEP:
        pytest.skip("TAILSWEEP is not set (run under make check)")
    directory = tmp_path_factory.mktemp("partial")
    spec, out, proc = run_sweep(directory, GRID_SPEC, "partial", "--slice", "0/2")
    assert not out.exists()
    # the run names the collect command to use next; followed literally, it writes the archive
    hint = re.search(r"`(tailsweep collect [^`]*)`", proc.stdout)
    assert hint, proc.stdout
    command = shlex.split(hint.group(1))
    assert command[2:] == [str(spec), "-o", str(out)], command
    proc = subprocess.run([TAILSWEEP, *command[1:]], cwd=directory, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


def tool(*args, cwd=None):
    """Run a console script from the source tree: python -m tailsweep_tools plot|fit|figure."""
    env = dict(os.environ, PYTHONPATH=TOOLS, PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run([PYTHON, "-m", "tailsweep_tools", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


# export and plan never spawn MPI processes: an isolated singleton skips starting Open MPI's
# helper daemon, a third of each call's start-up time.
SINGLETON = dict(os.environ, OMPI_MCA_ess_singleton_isolated="1")


def export(*args):
    return subprocess.run([TAILSWEEP, "export", *map(str, args)], capture_output=True,
                          text=True, timeout=120, env=SINGLETON)


def assert_drawn_png(path, min_width=300, min_height=200):
    """The PNG opens, has a plausible size, and holds curves: coloured pixels (axes, ticks and
    text are black or grey, so colour means a data line or band was drawn)."""
    pixels = mpimg.imread(str(path))
    height, width = pixels.shape[:2]
    assert width >= min_width and height >= min_height, pixels.shape
    rgb = pixels[..., :3]
    ink = np.mean(rgb.min(axis=-1) < 0.9)
    colour = np.mean(rgb.max(axis=-1) - rgb.min(axis=-1) > 0.25)
    assert ink > 0.01, f"almost blank: {ink:.4f} of the pixels are not white"
    assert colour > 0.001, f"no curves: {colour:.5f} of the pixels are coloured"


# ------------------------------------------------------------------ loading


def test_open_archive_names_axes_repeat_extra_and_record_and_keeps_attributes(grid):
    with tt.open_archive(grid) as ds:
        assert tt.sweep_axes(ds) == ["dim", "spectrum_exponent", "step_size"]
        assert dict(ds.sizes) == {"dim": 2, "spectrum_exponent": 2, "step_size": 3,
                                  "repeat": 3, "eps": 2, "record": RECORDS}
        assert tt.metric_names(ds) == ["loss", "theory_loss", "steps_to_eps", "final_loss"]
        assert tt.theory_overlays(ds, "loss") == ["theory_loss"]
        assert ds.attrs["experiment"] == "quadratic"
        assert "step_size: [0.5, 1.0, 2.5]" in ds.attrs["spec"]
        assert ds.status.dtype == np.int8
        assert ds.status.attrs["flag_meanings"] == "missing done diverged failed"
        assert ds.steps_to_eps.attrs["units"] == "iterations"


def test_status_masks_separate_diverged_from_done_runs(grid):
    with tt.open_archive(grid) as ds:
        # eta = 2.5 > 2 / lambda_1 = 2: the first mode's error grows by |1 - 2.5| = 1.5 per step,
        # its loss by 2.25 per step, past 1e100 times the initial loss within 400 steps
        # (2.25^400 = 1e141) unless w*_1^2 / f(0) < 1e-41; with eta <= 1 every mode contracts.
        diverged = tt.status_mask(ds, "diverged")
        assert bool(diverged.sel(step_size=2.5).all())
        assert not bool(diverged.sel(step_size=[0.5, 1.0]).any())
        assert bool(tt.finished_mask(ds).all())
        kept = tt.keep_runs(ds, "done")
        assert bool(kept.final_loss.sel(step_size=2.5).isnull().all())
        assert not bool(kept.final_loss.sel(step_size=1.0).isnull().any())
        assert tt.count_status(ds) == {"missing": 0, "done": 24, "diverged": 12, "failed": 0}


def test_finished_mask_keeps_done_and_diverged_runs_and_drops_failed_ones(outcomes):
    with tt.open_archive(outcomes) as ds:
        np.testing.assert_array_equal(tt.finished_mask(ds).values,
                                      [[True, True], [True, True], [False, False]])
        np.testing.assert_array_equal(tt.status_mask(ds, "failed").values,
                                      [[False, False], [False, False], [True, True]])
        with pytest.raises(ValueError, match="unknown status"):
            tt.status_mask(ds, "finished")


def test_provenance_comes_with_the_archive_coordinates(grid):
    prov = tt.open_provenance(grid)
    assert prov.wall_seconds.dims == ("dim", "spectrum_exponent", "step_size", "repeat")
    np.testing.assert_array_equal(prov.dim.values, [8, 32])
    assert bool((prov["rank"] == 0).all())


# ------------------------------------------------------------------ selection


def test_select_by_axis_by_zipped_parameter_and_by_list(zipped):
    with tt.open_archive(zipped) as ds:
        one = tt.select(ds, steps=40)
        assert "zip0" not in one.dims and float(one.target_exponent) == 1.0
        assert one.iteration.values[0, -1] == 40
        closed = tt.select(ds, {"mode": "closed_form", "eps": [0.5, 0.01]})
        assert closed.steps_to_eps.dims == ("zip0", "repeat", "eps")
        np.testing.assert_array_equal(closed.eps.values, [0.5, 0.01])
        with pytest.raises(KeyError, match=r"steps=30 .*\[20, 40\]"):
            tt.select(ds, steps=30)


def test_parse_selection_types_values_after_their_coordinate(zipped):
    with tt.open_archive(zipped) as ds:
        sel = tt.parse_selection(ds, ["steps=40", "mode=iterate", "eps=0.1,0.01"])
        assert sel == {"steps": 40, "mode": "iterate", "eps": [0.1, 0.01]}
        assert isinstance(sel["steps"], int)
        # A value typed with fewer digits than stored matches within a relative 1e-6.
        near = tt.select(ds, eps=0.1000000001)
        assert float(near.eps) == 0.1
        with pytest.raises(ValueError, match="NAME=VALUE"):
            tt.parse_selection(ds, ["steps"])


# ------------------------------------------------------------------ partial archives


def test_partial_archive_marks_unfinished_runs_missing_with_nan_values(partial):
    with tt.open_archive(partial) as ds:
        counts = tt.count_status(ds)
        total = 2 * 2 * 3 * 3
        assert 0 < counts["missing"] < total
        assert counts["missing"] + counts["done"] + counts["diverged"] == total
        finished = tt.finished_mask(ds)
        assert int(finished.sum()) == total - counts["missing"]
        # Values exist exactly for the runs that ran (the initial loss is recorded even by a run
        # that diverges later).
        np.testing.assert_array_equal(ds.loss.isel(record=0).notnull().values, finished.values)
        frame = tt.to_dataframe(ds, ["final_loss"])
        assert len(frame) == total
        assert frame.loc[frame.status == tt.STATUS["missing"], "final_loss"].isna().all()
        # A fit uses only the runs that are there, and says how many.
        table = tt.fit_exponent(ds, "final_loss", "dim", n_boot=50)
        assert table["runs"].sum() == counts["done"]


def test_export_of_a_partial_archive_writes_missing_rows(partial):
    proc = export(partial, "--csv", "--metric", "final_loss")
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(proc.stdout.splitlines()))
    missing = [r for r in rows if r["status"] == "missing"]
    assert len(rows) == 36 and 0 < len(missing) < 36
    assert all(r["final_loss"] == "NaN" for r in missing)


# ------------------------------------------------------------------ tidy table


def test_to_dataframe_has_one_row_per_run_eps_and_record(zipped):
    with tt.open_archive(zipped) as ds:
        frame = tt.to_dataframe(ds)
        assert list(frame.columns) == ["mode", "steps", "target_exponent", "repeat", "eps",
                                       "record", "iteration", "status", "loss", "theory_loss",
                                       "steps_to_eps", "final_loss"]
        assert len(frame) == 2 * 2 * 2 * 3 * 4
        ref = h5py.File(zipped, "r")
        row = frame[(frame["mode"] == "closed_form") & (frame.steps == 40) & (frame.repeat == 1)
                    & (frame.eps == 0.01) & (frame.record == 2)]
        assert len(row) == 1
        assert row.iteration.item() == ref["iteration"][1, 1, 2]
        assert row.loss.item() == ref["loss"][1, 1, 1, 2]
        assert row.steps_to_eps.item() == ref["steps_to_eps"][1, 1, 1, 2]


# ------------------------------------------------------------------ fits


def synthetic(values, xs, name="y"):
    """A minimal archive-shaped Dataset: y [group, dim, repeat] with status all done."""
    values = np.asarray(values, dtype=float)
    dims = ("group", "dim", "repeat")
    coords = {"group": np.arange(values.shape[0]), "dim": xs,
              "repeat": np.arange(values.shape[2])}
    y = xr.DataArray(values, dims=dims, coords=coords, attrs={"kind": "scalar"})
    status = xr.DataArray(np.ones(values.shape, np.int8), dims=dims, coords=coords)
    return xr.Dataset({name: y, "status": status})


def test_fit_is_exact_on_a_noise_free_power_law_and_its_interval_collapses():
    xs = np.array([10.0, 100.0, 1000.0, 10000.0])
    laws = [(3.0, -0.7), (0.5, 1.5)]
    values = [[[c * x ** p] * 4 for x in xs] for c, p in laws]
    table = tt.fit_exponent(synthetic(values, xs), "y", "dim", seed=1)
    for (c, p), (_, row) in zip(laws, table.iterrows()):
        assert row.exponent == pytest.approx(p, abs=1e-12)
        assert row.prefactor == pytest.approx(c, rel=1e-10)
        # Identical repeats: every bootstrap replicate is the data itself.
        assert row.ci_low == pytest.approx(p, abs=1e-12)
        assert row.ci_high == pytest.approx(p, abs=1e-12)
        assert row.points == 4 and row.runs == 16


def test_fit_leaves_out_nan_nonpositive_values_and_x_outside_the_range():
    xs = np.array([1.0, 2.0, 4.0, 8.0, 16.0])
    good = [[[5 * x ** 2.0] * 3 for x in xs]]
    bad = np.array(good)
    bad[0, 0, :] = 1e9           # outside xmin: would ruin the slope if it were used
    bad[0, 2, 0] = np.nan        # a run that did not reach eps
    bad[0, 3, 1] = -1.0          # not loggable
    table = tt.fit_exponent(synthetic(bad, xs), "y", "dim", xmin=2.0)
    row = table.iloc[0]
    assert row.exponent == pytest.approx(2.0, abs=1e-12)
    assert row.points == 4 and row.runs == 10


def test_fit_interval_is_nan_with_one_repeat_and_reproducible_with_a_seed():
    xs = np.array([1.0, 10.0, 100.0])
    one = tt.fit_exponent(synthetic([[[x] for x in xs]], xs), "y", "dim")
    assert np.isnan(one.ci_low.iloc[0]) and np.isnan(one.ci_high.iloc[0])
    rng = np.random.default_rng(0)
    noisy = synthetic(rng.lognormal(size=(1, 3, 5)) * xs[None, :, None], xs)
    first = tt.fit_exponent(noisy, "y", "dim", seed=7)
    again = tt.fit_exponent(noisy, "y", "dim", seed=7)
    other = tt.fit_exponent(noisy, "y", "dim", seed=8)
    pd.testing.assert_frame_equal(first, again)
    assert first.ci_low.iloc[0] != other.ci_low.iloc[0]


def test_fit_recovers_the_linear_growth_of_the_loss_with_dim(scaling):
    """E[final_loss] = 1/2 (1 - eta)^(2T) d exactly (module docstring): exponent 1.

    Tolerances: at each d the mean of R = 32 repeats of chi2_d / d has relative sd
    sigma_d = sqrt(2 / (d R)) (0.0625 at d = 16, 0.004 at d = 4096), and so about that sd in
    log. With log d centred at c_i = (-2, -1, 0, 1, 2) log 4, the least-squares slope has sd
    sqrt(sum c_i^2 sigma_i^2) / sum c_i^2 = 0.0094 (computed below). The exponent must be within
    5 sd of 1 (a correct fit misses with probability < 1e-6; a slope of 1/2 or 2 cannot pass).
    The intercept's sd is about 0.055 (the slope's times the mean log d, 5.5, plus the mean
    error), so the prefactor must be within exp(0.3) (5 sd) of 1/2 (1 - eta)^(2T).
    The 99.9% bootstrap interval must contain 1 (it would miss about once in 1000 seeds) and
    have a half-width within a factor 2 of 3.29 sd: an interval that is degenerate or far too
    wide fails.
    """
    with tt.open_archive(scaling) as ds:
        table = tt.fit_exponent(ds, "final_loss", "dim", n_boot=2000, seed=3, confidence=0.999)
    assert list(table.step_size) == [0.25, 0.5]
    centred = (np.arange(len(SCALING_DIMS)) - 2) * math.log(4)
    variances = [2 / (d * SCALING_REPEATS) for d in SCALING_DIMS]
    slope_sd = math.sqrt(np.sum(centred ** 2 * variances)) / np.sum(centred ** 2)
    assert 0.008 < slope_sd < 0.011
    for _, row in table.iterrows():
        assert abs(row.exponent - 1.0) < 5 * slope_sd
        assert row.ci_low <= 1.0 <= row.ci_high
        half_width = (row.ci_high - row.ci_low) / 2
        assert 3.29 * slope_sd / 2 < half_width < 3.29 * slope_sd * 2
        expected = 0.5 * (1 - row.step_size) ** (2 * SCALING_STEPS)
        assert abs(math.log(row.prefactor / expected)) < 0.3
        assert row.points == len(SCALING_DIMS)
        assert row.runs == len(SCALING_DIMS) * SCALING_REPEATS


def test_fit_cli_prints_the_table_and_the_same_numbers_as_csv(scaling, capsys):
    args = [str(scaling), "final_loss", "--against", "dim", "--sel", "step_size=0.5"]
    assert cli.fit_main(args) == 0
    assert "exponent" in capsys.readouterr().out
    assert cli.fit_main(args + ["--csv"]) == 0
    rows = list(csv.DictReader(capsys.readouterr().out.splitlines()))
    assert len(rows) == 1
    with tt.open_archive(scaling) as ds:
        ref = tt.fit_exponent(tt.select(ds, step_size=0.5), "final_loss", "dim")
    for key in ("exponent", "ci_low", "ci_high", "prefactor"):
        assert float(rows[0][key]) == pytest.approx(float(ref[key].iloc[0]), rel=1e-9)


# ------------------------------------------------------------------ plots and figures


def test_theory_overlays_are_drawn_dashed_over_their_curves(grid):
    with tt.open_archive(grid) as ds:
        one = tt.select(ds, step_size=1.0)
        fig = plot_metric(one, "loss", facet="spectrum_exponent", hue="dim", logx=True,
                          logy=True)
        assert len(fig.axes) == 2
        for ax, s in zip(fig.axes, one.spectrum_exponent.values):
            solid = [line for line in ax.lines if line.get_linestyle() == "-"]
            dashed = [line for line in ax.lines if line.get_linestyle() == "--"]
            assert len(solid) == len(dashed) == 2  # one per dim
            for k, (sim, theory) in enumerate(zip(solid, dashed)):
                assert sim.get_color() == theory.get_color()
                # The dashed line is the repeats' mean of theory_loss at this point (t = 0 is
                # left out: the x axis is logarithmic).
                want = one.theory_loss.sel(spectrum_exponent=s).isel(dim=k).mean("repeat")
                np.testing.assert_allclose(theory.get_ydata(), want.values[1:], rtol=1e-12)


def test_plot_cli_writes_png_and_pdf(grid, tmp_path):
    png = tmp_path / "loss.png"
    proc = tool("plot", grid, "loss", "--sel", "step_size=1", "--facet", "spectrum_exponent",
                "--hue", "dim", "--logx", "--logy", "-o", png)
    assert proc.returncode == 0, proc.stderr
    assert_drawn_png(png, min_width=600)  # two facets side by side
    pdf = tmp_path / "scalar.pdf"
    proc = tool("plot", grid, "steps_to_eps", "--x", "dim", "--hue", "eps", "--sel",
                "step_size=0.5", "--sel", "spectrum_exponent=1", "-o", pdf)
    assert proc.returncode == 0, proc.stderr
    assert pdf.read_bytes()[:5] == b"%PDF-"


def test_plot_names_the_dimensions_left_to_choose(grid, tmp_path, capsys):
    out = tmp_path / "x.png"
    assert cli.plot_main([str(grid), "loss", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "dim (2 values)" in err and "--sel" in err
    assert not out.exists()
    assert cli.plot_main([str(grid), "loss", "--sel", "step_size=3", "-o", str(out)]) == 2
    assert "step_size takes [0.5, 1.0, 2.5]" in capsys.readouterr().err


def test_every_quadratic_figure_is_drawn_from_an_archive(grid, tmp_path, capsys):
    names = [name for name, f in FIGURES.items() if f.experiment == "quadratic"]
    assert {"quadratic-curves", "quadratic-scaling"} <= set(names)
    for name in names:
        out = tmp_path / (name + ".png")
        assert cli.figure_main([name, str(grid), "-o", str(out)]) == 0, capsys.readouterr().err
        assert_drawn_png(out)
    assert cli.figure_main(["no-such-figure", str(grid), "-o", str(tmp_path / "x.png")]) == 2
    assert "quadratic-curves" in capsys.readouterr().err


def test_every_bigram_figure_is_drawn_from_an_archive(bigram, tmp_path, capsys):
    names = [name for name, f in FIGURES.items() if f.experiment == "bigram"]
    assert {"bigram-gd-curves", "bigram-gd-scaling", "bigram-sign-vs-gd"} <= set(names)
    for name in names:
        out = tmp_path / (name + ".png")
        assert cli.figure_main([name, str(bigram), "-o", str(out)]) == 0, capsys.readouterr().err
        assert_drawn_png(out)


def test_sign_descent_is_compared_at_its_tuned_step(bigram):
    with tt.open_archive(bigram) as ds:
        steps = tuned_steps_to_eps(ds)
        sign = ds["optimizer"] == "sign"
        best = ds["best_avg_steps_to_eps"]
        assert bool(best.where(sign).notnull().any())
        np.testing.assert_array_equal(steps.where(sign).values, best.where(sign).values)
        np.testing.assert_array_equal(steps.where(~sign).values,
                                      ds["steps_to_eps"].where(~sign).values)


def test_figure_refuses_an_archive_of_another_experiment(grid):
    with tt.open_archive(grid) as ds:
        other = ds.assign_attrs(experiment="bigram")
        with pytest.raises(ValueError, match="draws a quadratic archive"):
            make_figure("quadratic-curves", other)


# ------------------------------------------------------------------ levy_sgd: figures, Kendall tau


def test_every_levy_sgd_figure_is_drawn_from_an_archive(levy, levy_distance, tmp_path, capsys):
    names = [name for name, f in FIGURES.items() if f.experiment == "levy_sgd"]
    assert {"levy-gap-vs-alpha", "levy-distance"} <= set(names)
    for name in names:
        out = tmp_path / (name + ".png")
        assert cli.figure_main([name, str(levy), "-o", str(out)]) == 0, capsys.readouterr().err
        assert_drawn_png(out, min_width=600, min_height=400)  # two problems, two metric rows
    # Swept n_train (one problem, one dim): x is n_train, one column of panels.
    out = tmp_path / "distance-n_train.png"
    proc = tool("figure", "levy-distance", levy_distance, "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert_drawn_png(out, min_height=400)


def test_gap_figure_draws_each_dims_repeat_mean_against_alpha_per_problem(levy):
    with tt.open_archive(levy) as ds:
        assert tt.count_status(ds)["done"] == ds.status.size  # so every run enters each mean
        fig = make_figure("levy-gap-vs-alpha", ds)
        problems = list(ds.problem.values)
        panels = [(metric, p) for metric in ("final_gap", "sup_gap") for p in problems]
        assert len(fig.axes) == len(panels)
        for ax, (metric, problem) in zip(fig.axes, panels):
            assert ax.get_ylabel() == metric and ax.get_title() == f"problem={problem}"
            assert ax.get_yscale() == "symlog"  # the gap changes sign
            curves = [line for line in ax.lines if line.get_marker() == "o"]
            assert [c.get_label() for c in curves] == [f"dim={d}" for d in ds.dim.values]
            for k, curve in enumerate(curves):
                np.testing.assert_allclose(curve.get_xdata(), ds.levy_alpha.values)
                want = ds[metric].sel(problem=problem).isel(dim=k).mean("repeat")
                np.testing.assert_allclose(curve.get_ydata(), want.values, rtol=1e-12)


def test_distance_figure_draws_one_fitted_slope_per_alpha_in_each_panel(levy):
    with tt.open_archive(levy) as ds:
        fig = make_figure("levy-distance", ds)
        with_average = ds.assign(mean_distance=time_average(ds, "distance"))
        problems = list(ds.problem.values)
        panels = [(metric, p) for metric in ("mean_distance", "sup_distance") for p in problems]
        assert len(fig.axes) == len(panels)
        for ax, (metric, problem) in zip(fig.axes, panels):
            assert ax.get_xlabel() == "dim" and ax.get_ylabel() == metric
            assert ax.get_xscale() == ax.get_yscale() == "log"
            fits = [line for line in ax.lines if line.get_linestyle() == ":"]
            table = tt.fit_exponent(tt.select(with_average, problem=problem), metric, "dim")
            assert len(fits) == len(table) == ds.sizes["levy_alpha"]
            for line, (_, row) in zip(fits, table.iterrows()):
                assert line.get_label().startswith(
                    f"levy_alpha={row.levy_alpha:g}: slope {row.exponent:.2f} [")


def series_dataset(times, values):
    """A minimal archive-shaped Dataset: distance [run, repeat, record] over record times."""
    values = np.asarray(values, dtype=float)
    dims = ("run", "repeat", "record")
    coords = {"run": np.arange(values.shape[0]), "repeat": np.arange(values.shape[1]),
              "record": np.arange(values.shape[2]), "iteration": ("record", times)}
    return xr.Dataset({"distance": xr.DataArray(values, dims=dims, coords=coords,
                                                attrs={"kind": "series"})})


def test_time_average_integrates_over_the_second_half_whatever_the_record_spacing():
    # Log-spaced records, as {log: N} gives: a mean over records would favour early times.
    times = np.unique(np.round(np.geomspace(1, 1000, 30))).astype(int)
    times = np.concatenate([[0], times])
    start = times[times >= 500][0]
    ramp = 3.0 + 2.0 * times                     # the trapezoid rule is exact for a line
    transient = np.where(times < 500, 1e6, 7.0)  # what happens before T/2 does not count
    ds = series_dataset(times, [[ramp, 2 * ramp], [transient, transient]])
    average = time_average(ds, "distance")
    assert average.dims == ("run", "repeat") and average.attrs["kind"] == "scalar"
    line_mean = 3.0 + 2.0 * (start + 1000) / 2  # (1/(T - t0)) int_t0^T (3 + 2t) dt
    np.testing.assert_allclose(average.values, [[line_mean, 2 * line_mean], [7.0, 7.0]],
                               rtol=1e-12)
    # Only the last record in the second half: its value is the average.
    sparse = series_dataset([0, 10, 100, 1000], [[[5.0, 4.0, 3.0, 2.0]]])
    assert time_average(sparse, "distance").values.item() == 2.0


def test_time_averaged_distance_falls_like_one_over_sqrt_n_train(levy_distance):
    """||W - Wbar|| ~ sqrt(d / n) ||Wbar|| (docs/experiments.md section 3.6;
    figures.levy_distance): the fitted exponent in n_train must be -1/2, for the time average and
    for the sup.

    Tolerance, as in tests/unit/test_levy_sgd.c: the time average of one run has a relative
    spread near 0.14 (S and the noise path are random; measured below), so the mean of R = 8
    runs has an sd near 0.14 / sqrt(8) = 0.05 in log. Over ln n centred at (-1, 0, 1) ln 4 the
    least-squares slope then has sd 0.05 / (sqrt(2) ln 4) = 0.025 (computed below from the
    archive's own spread, and required to stay under 0.035). The finite-n bias: ||S - I|| ~
    sqrt(d/n) (1 + O(sqrt(d/n))) with d/n up to 0.1 steepens the slope (seen: -0.54 on average
    over 12 seeds). Tolerance 0.15 = bias 0.05 + 4 sd: a correct exponent fails with
    probability under 1e-4 for a changed seed; an exponent of 0 or -1 cannot pass.
    """
    with tt.open_archive(levy_distance) as ds:
        ds = ds.assign(mean_distance=time_average(ds, "distance"))
        for metric in ("mean_distance", "sup_distance"):
            runs = ds[metric].transpose("n_train", "repeat").values
            centred = np.log(DISTANCE_NS) - np.mean(np.log(DISTANCE_NS))
            point_sd = runs.std(axis=1, ddof=1) / runs.mean(axis=1) / math.sqrt(runs.shape[1])
            slope_sd = math.sqrt(np.sum(centred ** 2 * point_sd ** 2)) / np.sum(centred ** 2)
            assert slope_sd < 0.035, (metric, slope_sd)
            table = tt.fit_exponent(ds, metric, "n_train", n_boot=0)
            assert table.runs.iloc[0] == len(DISTANCE_NS) * DISTANCE_REPEATS
            assert abs(table.exponent.iloc[0] + 0.5) <= 0.15, (metric, table.exponent.iloc[0])


def levy_like(values, alphas, status=None):
    """A minimal archive-shaped Dataset: y [problem, levy_alpha, dim, repeat]."""
    values = np.asarray(values, dtype=float)
    dims = ("problem", "levy_alpha", "dim", "repeat")
    coords = {"problem": ["quadratic", "logistic"][:values.shape[0]], "levy_alpha": alphas,
              "dim": 5 * (1 + np.arange(values.shape[2])), "repeat": np.arange(values.shape[3])}
    status = np.ones(values.shape, np.int8) if status is None else status
    return xr.Dataset({"y": xr.DataArray(values, dims=dims, coords=coords,
                                         attrs={"kind": "scalar"}),
                       "status": xr.DataArray(status, dims=dims, coords=coords)})


def pair_count_tau(x, y):
    """Kendall's tau-b by its definition, counting pairs (no scipy): (concordant - discordant)
    / sqrt((pairs - pairs tied in x) (pairs - pairs tied in y))."""
    concordant = discordant = tied_x = tied_y = 0
    for i in range(len(x)):
        for j in range(i + 1, len(x)):
            sign = np.sign(x[i] - x[j]) * np.sign(y[i] - y[j])
            concordant += sign > 0
            discordant += sign < 0
            tied_x += x[i] == x[j]
            tied_y += y[i] == y[j]
    pairs = len(x) * (len(x) - 1) / 2
    return (concordant - discordant) / math.sqrt((pairs - tied_x) * (pairs - tied_y))


def test_kendall_tau_is_one_for_an_increasing_relation_and_minus_one_for_a_decreasing_one():
    """Per problem, y is a function of alpha alone (the same for every dim and repeat): every
    pair with different alphas is concordant (exp) or discordant (-alpha^3), tau-b = +-1.

    The p-value: under tau = 0, tau-b over n = 60 runs has sd about sqrt(2 (2n + 5) / (9 n
    (n - 1))) = 0.09, a little more with 4 tied groups of 15; tau = 1 is more than 8 sd away,
    so p < 1e-6 with room to spare."""
    alphas = np.array([1.1, 1.4, 1.7, 2.0])
    values = np.empty((2, 4, 3, 5))
    values[0] = np.exp(alphas)[:, None, None]
    values[1] = -alphas[:, None, None] ** 3
    table = tt.kendall_tau(levy_like(values, alphas), "y", "levy_alpha", by=["problem"])
    assert list(table.problem) == ["quadratic", "logistic"]
    assert table.tau.tolist() == pytest.approx([1.0, -1.0], abs=1e-12)
    assert (table.p_value < 1e-6).all()
    assert table.runs.tolist() == [60, 60]
    # Pooled over problems, the two relations cancel pair for pair: without --by, tau = 0.
    pooled = tt.kendall_tau(levy_like(values, alphas), "y", "levy_alpha")
    assert len(pooled) == 1 and abs(pooled.tau.iloc[0]) < 1e-12


def test_kendall_tau_pools_dims_and_repeats_as_a_pair_count_does_and_skips_unfinished_runs():
    rng = np.random.default_rng(4)
    alphas = np.array([1.2, 1.5, 1.8, 2.0])
    shape = (2, 4, 3, 5)
    trend = np.array([5.0, -5.0])[:, None, None, None] * alphas[None, :, None, None]
    # Rounded to one decimal: ties in y too, which tau-b must discount.
    values = np.round(trend + rng.normal(size=shape), 1)
    status = np.ones(shape, np.int8)
    status[0, 0, 1, :2] = tt.STATUS["failed"]
    status[1, 3, 2, 4] = tt.STATUS["missing"]
    status[1, 1, 0, 0] = tt.STATUS["diverged"]
    values[status != tt.STATUS["done"]] = 1e6  # would break the trend if it were counted
    values[0, 2, 0, 3] = np.nan                # a done run without a value
    table = tt.kendall_tau(levy_like(values, alphas, status), "y", "levy_alpha",
                           by=["problem"])
    x = np.broadcast_to(alphas[:, None, None], shape[1:])
    for p in range(2):
        used = (status[p] == tt.STATUS["done"]) & np.isfinite(values[p])
        assert table.runs.iloc[p] == used.sum() == 60 - (3, 2)[p]
        want = pair_count_tau(x[used], values[p][used])
        assert table.tau.iloc[p] == pytest.approx(want, abs=1e-12)
    assert table.tau.iloc[0] > 0.3 and table.tau.iloc[1] < -0.3


def test_kendall_tau_of_the_gap_with_alpha_is_finite_per_problem_on_an_archive(levy):
    with tt.open_archive(levy) as ds:
        table = tt.kendall_tau(ds, "final_gap", "levy_alpha", by=["problem"])
        itself = tt.kendall_tau(ds, "final_gap", "final_gap", by=["problem"])
    assert list(table.problem) == ["quadratic", "logistic"]
    assert np.isfinite(table.tau).all() and (table.tau.abs() <= 1).all()
    assert ((0 < table.p_value) & (table.p_value <= 1)).all()
    assert table.runs.tolist() == [3 * 2 * 3] * 2  # alphas x dims x repeats, pooled
    assert itself.tau.tolist() == pytest.approx([1.0, 1.0], abs=1e-12)


def test_kendall_cli_prints_tau_per_problem_and_the_same_numbers_as_csv(levy, capsys):
    args = [str(levy), "final_gap", "--against", "levy_alpha", "--kendall", "--by", "problem"]
    assert cli.fit_main(args) == 0
    out = capsys.readouterr().out
    assert "pooled over dim, repeat" in out and "quadratic" in out and "logistic" in out
    assert cli.fit_main(args + ["--csv"]) == 0
    rows = list(csv.DictReader(capsys.readouterr().out.splitlines()))
    with tt.open_archive(levy) as ds:
        ref = tt.kendall_tau(ds, "final_gap", "levy_alpha", by=["problem"])
    assert [r["problem"] for r in rows] == list(ref.problem)
    for row, (_, want) in zip(rows, ref.iterrows()):
        assert float(row["tau"]) == pytest.approx(want.tau, rel=1e-9)
        assert float(row["p_value"]) == pytest.approx(want.p_value, rel=1e-9)
        assert int(row["runs"]) == want.runs
    # --sel narrows what is pooled: one dim leaves alphas x repeats per problem.
    assert cli.fit_main(args + ["--csv", "--sel", "dim=20"]) == 0
    rows = list(csv.DictReader(capsys.readouterr().out.splitlines()))
    assert [int(r["runs"]) for r in rows] == [3 * 3] * 2


def test_kendall_cli_refuses_a_series_its_own_axis_as_group_and_by_without_kendall(levy,
                                                                                  capsys):
    kendall = ["--against", "levy_alpha", "--kendall"]
    assert cli.fit_main([str(levy), "gap", *kendall]) == 2
    assert "series" in capsys.readouterr().err
    assert cli.fit_main([str(levy), "final_gap", *kendall, "--by", "levy_alpha"]) == 2
    assert "cannot group by" in capsys.readouterr().err
    assert cli.fit_main([str(levy), "nope", *kendall]) == 2
    assert "nope" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        cli.fit_main([str(levy), "final_gap", "--against", "levy_alpha", "--by", "problem"])
    assert exit_info.value.code == 2


# ------------------------------------------------------------------ two_layer: overlap figure


def cosine_max_over_neurons(overlap, self_overlap):
    """max_j |M_jk| / sqrt(Q_jj), computed with xarray alone (figures.py uses numpy)."""
    norms = np.sqrt(xr.concat([self_overlap.isel(neuron=j, neuron2=j)
                               for j in range(self_overlap.sizes["neuron"])], "neuron"))
    return (abs(overlap) / norms).max("neuron")


def test_two_layer_overlap_figure_draws_both_directions_and_one_first_step(two_layer):
    """One panel per teacher direction, one curve per protocol; on shared streams the step-1
    overlaps of single- and multi-pass are the same numbers (the same teacher, start and first
    batch), and they part from step 2 on (the second batch differs)."""
    with tt.open_archive(two_layer) as ds:
        assert tt.count_status(ds)["done"] == ds.status.size
        # Listed second, tanh_he1_he3 is still the slice drawn (the preferred target).
        fig = make_figure("two-layer-overlap", ds.isel(target=[1, 0]))
        assert isinstance(fig, Figure)
        assert len(fig.axes) == 2
        assert [ax.get_title() for ax in fig.axes] == ["direction 0: z1 (He1)",
                                                       "direction 1: z2 (He3)"]
        assert "target=tanh_he1_he3" in fig._suptitle.get_text()
        assert "cosine" in fig.axes[0].get_ylabel()
        one = ds.sel(target="tanh_he1_he3")
        want = cosine_max_over_neurons(one.overlap, one.self_overlap).mean("repeat")
        steps = ds.iteration.values
        assert list(steps) == [0, 1, 2, 3]
        for k, ax in enumerate(fig.axes):
            curves = {line.get_label(): line for line in ax.lines
                      if line.get_label() in ("single-pass", "multi-pass (one batch)")}
            assert set(curves) == {"single-pass", "multi-pass (one batch)"}
            single, multi = curves["single-pass"], curves["multi-pass (one batch)"]
            for line, reuse in ((single, 1), (multi, 0)):
                np.testing.assert_array_equal(line.get_xdata(), steps)
                np.testing.assert_allclose(
                    line.get_ydata(), want.sel(batch_reuse=reuse, direction=k).values,
                    rtol=1e-12)
            at = list(steps).index(1)
            assert single.get_ydata()[at] > 0
            assert single.get_ydata()[at] == multi.get_ydata()[at]
            assert single.get_ydata()[at + 1] != multi.get_ydata()[at + 1]
            # The theory crosses at step 1: |E M_1| over each run's own sqrt(Q_jj) at step 1.
            crosses = [line for line in ax.lines if line.get_marker() == "x"]
            assert len(crosses) == 2  # one per protocol, on top of each other
            norms = np.sqrt(xr.concat([one.self_overlap.isel(neuron=j, neuron2=j, record=at)
                                       for j in range(2)], "neuron"))
            theory = (abs(one.theory_step1_overlap) / norms).max("neuron").mean("repeat")
            for cross, reuse in zip(crosses, (1, 0)):
                np.testing.assert_array_equal(cross.get_xdata(), [1.0])
                np.testing.assert_allclose(
                    cross.get_ydata(), [theory.sel(batch_reuse=reuse, direction=k).item()],
                    rtol=1e-12)


def test_two_layer_overlap_figure_renders_and_refuses_another_experiment(two_layer, grid,
                                                                         tmp_path, capsys):
    assert "two-layer-overlap" in FIGURES
    assert FIGURES["two-layer-overlap"].experiment == "two_layer"
    out = tmp_path / "two-layer-overlap.png"
    assert cli.figure_main(["two-layer-overlap", str(two_layer), "-o", str(out)]) == 0, \
        capsys.readouterr().err
    assert_drawn_png(out, min_width=600)  # two panels side by side
    with tt.open_archive(grid) as ds:
        with pytest.raises(ValueError, match="draws a two_layer archive; this one holds "
                                             "quadratic"):
            make_figure("two-layer-overlap", ds)
    with tt.open_archive(two_layer) as ds:
        with pytest.raises(ValueError, match="draws a quadratic archive"):
            make_figure("quadratic-curves", ds)


# ------------------------------------------------------------------ convex: schedules, refinement


def geometric_means(values, status):
    """Geometric mean over the last axis (repeats) of the done runs' values, numpy alone, and
    the standard error of their log; NaN where more than half of the finished runs diverged."""
    values = np.asarray(values, dtype=float)
    status = np.asarray(status)
    done = status == tt.STATUS["done"]
    diverged = (status == tt.STATUS["diverged"]).sum(axis=-1)
    finished = done.sum(axis=-1) + diverged
    centre = np.full(values.shape[:-1], np.nan)
    spread = np.full(values.shape[:-1], np.nan)
    for index in np.ndindex(*values.shape[:-1]):
        logs = np.log(values[index][done[index]])
        if len(logs) and 2 * diverged[index] <= finished[index]:
            centre[index] = math.exp(logs.mean())
            if len(logs) > 1:
                spread[index] = logs.std(ddof=1) / math.sqrt(len(logs))
    return centre, spread


def schedule_curves(ax):
    """The panel's curves, one per schedule (the lines with dots), by schedule name."""
    return {line.get_label().split(":")[0]: line for line in ax.lines if line.get_marker() == "o"}


def stars(ax):
    return [line for line in ax.lines if line.get_marker() == "*"]


def test_convex_schedules_figure_draws_each_schedules_geometric_mean_and_stars_its_best_step(
        convex):
    with tt.open_archive(convex) as ds:
        assert tt.count_status(ds)["done"] == ds.status.size
        fig = make_figure("convex-schedules", ds)
        steps = ds.step_size.values
        np.testing.assert_allclose(steps, np.geomspace(0.05, 1.6, 4), rtol=1e-12)
        order = ("problem", "schedule", "step_size", "repeat")
        status = ds.status.transpose(*order).values
        want, spread = geometric_means(ds.final_suboptimality.transpose(*order).values, status)
        bound, _ = geometric_means(ds.bound.transpose(*order).values, status)
        assert len(fig.axes) == 2
        for p, ax in enumerate(fig.axes):
            assert ax.get_title() == f"problem={ds.problem.values[p]}"
            assert ax.get_xscale() == ax.get_yscale() == "log"
            curves = schedule_curves(ax)
            assert list(curves) == CONVEX_SCHEDULES  # one line per schedule, in archive order
            marks = stars(ax)
            assert len(marks) == len(CONVEX_SCHEDULES)
            dashed = [line for line in ax.lines if line.get_linestyle() == "--"]
            assert len(dashed) == len(CONVEX_SCHEDULES)
            for k, name in enumerate(CONVEX_SCHEDULES):
                line = curves[name]
                np.testing.assert_allclose(line.get_xdata(), steps, rtol=1e-12)
                np.testing.assert_allclose(line.get_ydata(), want[p, k], rtol=1e-10)
                best = int(np.argmin(want[p, k]))
                np.testing.assert_allclose(marks[k].get_xdata(), [steps[best]], rtol=1e-12)
                np.testing.assert_allclose(marks[k].get_ydata(), [want[p, k, best]], rtol=1e-10)
                assert marks[k].get_color() == line.get_color() == dashed[k].get_color()
                assert line.get_label() == f"{name}: {want[p, k, best]:.3g} at {steps[best]:.3g}"
                np.testing.assert_allclose(dashed[k].get_ydata(), bound[p, k], rtol=1e-10)
                # The band: one standard error of the log either side of the geometric mean.
                band = ax.collections[k].get_paths()[0].vertices[:, 1]
                np.testing.assert_allclose(
                    [band.min(), band.max()],
                    [np.min(want[p, k] * np.exp(-spread[p, k])),
                     np.max(want[p, k] * np.exp(spread[p, k]))], rtol=1e-10)


def test_convex_schedules_figure_leaves_out_diverged_runs_and_mostly_diverged_steps(
        convex_diverging, convex):
    with tt.open_archive(convex_diverging) as ds:
        status = ds.status.transpose("schedule", "step_size", "repeat").values
        diverged = (status == tt.STATUS["diverged"]).sum(axis=-1)
        # The cases this test is about are in the archive: a step where one run in three
        # diverged (cosine at 3.2), and steps where every run did.
        assert diverged[2, 1] == 1 and diverged[0, 1] == 3 and (diverged[:3, 2] == 3).all()
        # A diverged run holds no final value; the finite values of done runs are what's left.
        assert bool(ds.final_suboptimality.where(tt.status_mask(ds, "diverged")).isnull().all())
        want, _ = geometric_means(
            ds.final_suboptimality.transpose("schedule", "step_size", "repeat").values, status)
        assert np.isnan(want[0, 1]) and np.isfinite(want[2, 1])
        fig = make_figure("convex-schedules", ds)
        assert len(fig.axes) == 1 and fig.axes[0].get_title() == ""  # one problem, no facet
        # A grey span over 25.6, where every schedule diverged, and none over 3.2, where some
        # did not.
        assert (diverged[:, 2] == 3).all()
        ax = fig.axes[0]
        assert len(ax.patches) == 1
        span = ax.patches[0]
        corners = span.get_transform().transform(span.get_path().vertices)
        left, right = np.sort(np.unique(np.round(
            ax.transData.inverted().transform(corners)[:, 0], 9)))[[0, -1]]
        assert ds.step_size.values[1] < left < ds.step_size.values[2] < right
        curves = schedule_curves(fig.axes[0])
        assert list(curves) == CONVEX_SCHEDULES
        for k, name in enumerate(CONVEX_SCHEDULES):
            np.testing.assert_allclose(curves[name].get_ydata(), want[k], rtol=1e-10)
        done = ds.final_suboptimality.isel(schedule=2, step_size=1).values[status[2, 1] == 1]
        assert len(done) == 2
        assert curves["cosine"].get_ydata()[1] == pytest.approx(math.sqrt(done[0] * done[1]),
                                                                rel=1e-10)
    # Status decides, not the value: runs marked diverged are left out even with a value that
    # would be the best, and a step where two of three diverged is not drawn at all.
    with tt.open_archive(convex) as ds:
        ds = ds.load()
        status = ds.status.values.copy()
        values = ds.final_suboptimality.values.copy()
        # least_squares, linear_decay: one of three diverged at step 0, two of three at step 3
        status[0, 1, 0, 0] = tt.STATUS["diverged"]
        values[0, 1, 0, 0] = 1e-30
        status[0, 1, 3, :2] = tt.STATUS["diverged"]
        ds["status"] = ds.status.copy(data=status)
        ds["final_suboptimality"] = ds.final_suboptimality.copy(data=values)
        want, _ = geometric_means(values[0, 1], status[0, 1])
        assert np.isnan(want[3]) and want[0] == pytest.approx(
            math.sqrt(values[0, 1, 0, 1] * values[0, 1, 0, 2]), rel=1e-12)
        ax = make_figure("convex-schedules", ds).axes[0]
        line = schedule_curves(ax)["linear_decay"]
        np.testing.assert_allclose(line.get_ydata(), want, rtol=1e-10)
        best = int(np.nanargmin(want))
        np.testing.assert_allclose(stars(ax)[1].get_xdata(), [ds.step_size.values[best]])


def test_refined_schedule_figure_draws_the_archives_lr_at_the_best_step_for_refined(convex):
    """Top: the refined runs' lr (mean over repeats) and linear_decay's at the step where the
    refined runs' geometric mean of final_suboptimality is lowest; bottom: the refined runs'
    suboptimality against their first pass's. On shared streams the first pass is the
    linear_decay run itself."""
    with tt.open_archive(convex) as ds:
        ls = ds.sel(problem="least_squares")  # the first problem is the one drawn
        order = ("schedule", "step_size", "repeat")
        want, _ = geometric_means(ls.final_suboptimality.transpose(*order).values,
                                  ls.status.transpose(*order).values)
        best = int(np.argmin(want[3]))
        one = ls.isel(step_size=best)
        refined, linear = one.sel(schedule="refined"), one.sel(schedule="linear_decay")
        # the first pass of a refined run is the linear_decay run at its step, value for value
        np.testing.assert_array_equal(refined.first_pass_loss.values, linear.loss.values)
        # a refined schedule is not linear decay: it comes from the noisy gradient norms
        assert not np.allclose(refined.lr.values, linear.lr.values)
        fig = make_figure("refined-schedule", ds)
        top, bottom = fig.axes[:2]
        assert f"step_size={ds.step_size.values[best]:.4g}" in fig._suptitle.get_text()
        assert "problem=least_squares" in fig._suptitle.get_text()
        assert "(the best for refined)" in top.get_title()
        lines = {line.get_label(): line for line in top.lines}
        assert set(lines) == {"refined (from linear_decay)", "linear_decay"}
        iterations = ds.iteration.values
        for line in lines.values():
            np.testing.assert_array_equal(line.get_xdata(), iterations)
        np.testing.assert_allclose(lines["refined (from linear_decay)"].get_ydata(),
                                   refined.lr.mean("repeat").values, rtol=1e-12)
        # linear decay is the same for every repeat: its line is the archive's values (up to
        # the rounding of their mean)
        np.testing.assert_allclose(lines["linear_decay"].get_ydata(),
                                   linear.lr.isel(repeat=0).values, rtol=1e-15, atol=0)
        np.testing.assert_allclose(linear.lr.values[:, :-1],
                                   np.broadcast_to(ds.step_size.values[best]
                                                   * (60 - iterations[:-1]) / 60, (3, 60)),
                                   rtol=1e-12)
        assert bottom.get_xscale() == bottom.get_yscale() == "log"
        curves = {line.get_label(): line for line in bottom.lines}
        assert set(curves) == {"refined (from linear_decay)", "first pass (linear_decay)"}
        later = iterations > 0  # t = 0 is left out on the log axis
        first = refined.first_pass_loss - refined.optimum
        for text, series in (("refined (from linear_decay)", refined.suboptimality),
                             ("first pass (linear_decay)", first)):
            np.testing.assert_array_equal(curves[text].get_xdata(), iterations[later])
            np.testing.assert_allclose(curves[text].get_ydata(),
                                       np.exp(np.log(series).mean("repeat")).values[later],
                                       rtol=1e-10)
        np.testing.assert_allclose(first.values, linear.suboptimality.values, rtol=1e-9,
                                   atol=1e-15)


def test_refined_schedule_figure_takes_the_best_step_wherever_it_is(convex_diverging):
    with tt.open_archive(convex_diverging) as ds:
        refined = ds.sel(schedule="refined")
        assert bool((refined.status.sel(step_size=[0.4, 3.2]) == tt.STATUS["done"]).all())
        assert bool((refined.status.sel(step_size=25.6) == tt.STATUS["diverged"]).all())
        want, _ = geometric_means(refined.final_suboptimality.transpose("step_size",
                                                                        "repeat").values,
                                  refined.status.transpose("step_size", "repeat").values)
        best = int(np.nanargmin(want))
        # 3.2: between a step too small and one that blows up
        assert np.isnan(want[2]) and best == 1
        fig = make_figure("refined-schedule", ds)
        assert "step_size=3.2" in fig._suptitle.get_text()
        line = [line for line in fig.axes[0].lines if line.get_label().startswith("refined")][0]
        np.testing.assert_allclose(line.get_ydata(),
                                   refined.lr.isel(step_size=best).mean("repeat").values,
                                   rtol=1e-12)


def test_convex_figures_render_select_and_refuse_other_archives(convex, grid, two_layer,
                                                                tmp_path, capsys):
    assert FIGURES["convex-schedules"].experiment == FIGURES["refined-schedule"].experiment \
        == "convex"
    for name in ("convex-schedules", "refined-schedule"):
        out = tmp_path / (name + ".png")
        assert cli.figure_main([name, str(convex), "-o", str(out)]) == 0, \
            capsys.readouterr().err
        assert_drawn_png(out, min_width=600)
        with tt.open_archive(grid) as ds:
            with pytest.raises(ValueError, match=f"figure {name} draws a convex archive; this "
                                                 "one holds quadratic"):
                make_figure(name, ds)
    # --sel picks the slice a figure draws: the second problem, here through the console script
    out = tmp_path / "logistic.png"
    proc = tool("figure", "refined-schedule", convex, "--sel", "problem=logistic", "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert_drawn_png(out)
    with tt.open_archive(convex) as ds:
        fig = make_figure("refined-schedule", tt.select(ds, problem="logistic"))
        assert "problem=logistic" in fig._suptitle.get_text()
        one = make_figure("convex-schedules", tt.select(ds, problem="logistic"))
        assert len(one.axes) == 1 and "problem=logistic" in one._suptitle.get_text()
        # without refined, or without step_size swept, there is nothing to draw
        with pytest.raises(ValueError, match="needs refined among the schedules"):
            make_figure("refined-schedule", tt.select(ds, schedule=["constant", "cosine"]))
        with pytest.raises(ValueError, match="needs step_size swept"):
            make_figure("convex-schedules", tt.select(ds, step_size=0.05))
    assert cli.figure_main(["convex-schedules", str(convex), "--sel", "problem=nope", "-o",
                            str(tmp_path / "x.png")]) == 2
    assert "problem takes [least_squares, logistic]" in capsys.readouterr().err
    # A selected protocol keeps its name in another experiment's figure too.
    with tt.open_archive(two_layer) as ds:
        fig = make_figure("two-layer-overlap", tt.select(ds, batch_reuse=1))
        assert [t.get_text() for t in fig.axes[-1].get_legend().get_texts()][0] == "single-pass"


# ------------------------------------------------------------------ ssi: overlap, recovery, omega


def mean_and_se(runs):
    """Mean over the last axis and its standard error (ddof 1), numpy alone, finite values only."""
    out = []
    for row in np.asarray(runs, dtype=float).reshape(-1, np.shape(runs)[-1]):
        row = row[np.isfinite(row)]
        out.append((row.mean() if len(row) else np.nan,
                    row.std(ddof=1) / math.sqrt(len(row)) if len(row) > 1 else np.nan))
    shape = np.shape(runs)[:-1]
    return (np.array([m for m, _ in out]).reshape(shape),
            np.array([e for _, e in out]).reshape(shape))


def gid_lines(ax, gid):
    return [line for line in ax.lines if line.get_gid() == gid]


def first_crossing(times, values, level):
    """The first time a piecewise-linear curve reaches level (NaN if never), plain Python."""
    for k in range(len(values)):
        if abs(values[k]) >= level:
            if k == 0:
                return float(times[0])
            t0, t1, y0, y1 = times[k - 1], times[k], abs(values[k - 1]), abs(values[k])
            return float(t0 + (level - y0) / (y1 - y0) * (t1 - t0))
    return math.nan


def test_theory_recovery_and_transition_omega_interpolate_their_crossing():
    times = np.array([0.0, 10.0, 20.0, 30.0])
    assert theory_recovery(times, [0.1, 0.3, 0.7, 0.9], 0.5) == pytest.approx(15.0)
    assert theory_recovery(times, [0.1, -0.3, -0.7, 0.9], 0.5) == pytest.approx(15.0)  # |m|
    assert theory_recovery(times, [0.6, 0.7, 0.8, 0.9], 0.5) == 0.0
    assert np.isnan(theory_recovery(times, [0.1, 0.2, np.nan, 0.3], 0.5))
    omegas = [0.2, 0.6, 0.7, 0.8]
    assert transition_omega(omegas, [0.0, 0.25, 0.75, 1.0]) == pytest.approx(0.65)
    assert transition_omega(omegas, [0.0, 0.5, 1.0, 1.0]) == pytest.approx(0.6)
    assert np.isnan(transition_omega(omegas, [0.0, 0.0, 0.25, 0.25]))


def test_ssi_overlap_figure_draws_each_dims_mean_its_standard_error_and_the_theory(ssi_sie):
    """One panel per target, one curve per d against n/d: the mean over repeats (|m| for the
    even h2_sum) with mean +- standard error shaded, theory_overlap dashed for every d, the
    small-step law dotted where it is not NaN and within [-1, 1] (sum, h2_sum; not he3_sum)."""
    with tt.open_archive(ssi_sie) as ds:
        assert tt.count_status(ds)["done"] == ds.status.size
        fig = make_figure("ssi-overlap", ds)
        targets = ["sum", "h2_sum", "he3_sum"]
        assert [ax.get_title() for ax in fig.axes] == [
            f"target={t} (SIE {k})" for k, t in enumerate(targets, 1)]
        dims = [int(d) for d in ds.dim.values]
        for t, (ax, target) in enumerate(zip(fig.axes, targets)):
            one = ds.isel(zip0=t)
            assert str(one.target.values) == target
            curves = gid_lines(ax, "overlap")
            assert [c.get_label() for c in curves] == [f"dim={d}" for d in dims]
            bands = [c for c in ax.collections if c.get_gid() == "standard error"]
            theories = gid_lines(ax, "theory_overlap")
            smalls = gid_lines(ax, "theory_overlap_small_step")
            assert len(bands) == len(theories) == len(dims)
            assert len(smalls) == (0 if target == "he3_sum" else len(dims))
            slowest = []
            for k, d in enumerate(dims):
                run = one.isel(zip1=k)
                x = run.iteration.values / d
                overlap = run.overlap.transpose("record", "repeat").values
                if target == "h2_sum":
                    overlap = np.abs(overlap)
                mean, se = mean_and_se(overlap)
                np.testing.assert_allclose(curves[k].get_xdata(), x, rtol=1e-15)
                np.testing.assert_allclose(curves[k].get_ydata(), mean, rtol=1e-12)
                assert curves[k].get_color() == theories[k].get_color() == f"C{k}"
                # the band holds mean - se and mean + se at every record time
                corners = bands[k].get_paths()[0].vertices
                for xi, low, high in zip(x, mean - se, mean + se):
                    ys = corners[np.isclose(corners[:, 0], xi), 1]
                    assert np.isclose(ys, low, rtol=1e-10).any() and np.isclose(
                        ys, high, rtol=1e-10).any()
                theory = run.theory_overlap.isel(repeat=0).values
                np.testing.assert_array_equal(theories[k].get_xdata(), x)
                np.testing.assert_allclose(theories[k].get_ydata(), theory, rtol=1e-12)
                if smalls:
                    small = run.theory_overlap_small_step.isel(repeat=0).values
                    kept = np.abs(small) <= 1
                    np.testing.assert_allclose(smalls[k].get_ydata(), small[kept], rtol=1e-12)
                recovery = run.recovery_step.values
                slowest.append(recovery.mean() / d if np.isfinite(recovery).all() else np.inf)
            (threshold,) = gid_lines(ax, "threshold")
            assert list(threshold.get_ydata()) == [0.5, 0.5]
            # the x axis ends at three times the slowest mean recovery time, or at the end of
            # the run when some run never recovers (he3_sum: none does)
            last = ds.iteration.values.max() / dims[-1]
            if target == "he3_sum":
                assert not np.isfinite(slowest).any()
            else:
                assert ax.get_xlim()[1] == pytest.approx(min(last, 3 * max(slowest)) * 1.02)


def recovery_choices(values, status, steps):
    """The equal step and each (model, L)'s best step, plain Python over values [model, L,
    step, repeat]: a step counts at a (model, L) when every done run there recovered; the equal
    one has the lowest mean of log(mean recovery) over all (model, L) among the steps that count
    everywhere; the best one the lowest mean recovery step at its (model, L)."""
    models, lengths, count = values.shape[:3]

    def counts(m, l, s):
        done = status[m, l, s] == tt.STATUS["done"]
        return done.any() and np.isfinite(values[m, l, s][done]).all()

    def mean(m, l, s):
        done = status[m, l, s] == tt.STATUS["done"]
        return values[m, l, s][done].mean()

    everywhere = [s for s in range(count)
                  if all(counts(m, l, s) for m in range(models) for l in range(lengths))]
    equal = min(everywhere, key=lambda s: np.mean(
        [math.log(mean(m, l, s)) for m in range(models) for l in range(lengths)]))
    best = [[min((s for s in range(count) if counts(m, l, s)), key=lambda s: mean(m, l, s))
             for l in range(lengths)] for m in range(models)]
    return equal, best


def slope_text(exponent, low, high):
    return f"slope {exponent:.2f} [{low:.2f}, {high:.2f}]"


def test_ssi_recovery_figure_fits_each_model_at_an_equal_step_and_at_its_best(ssi_tied):
    """Top row: both models at the common best step (the one every (model, L) recovers at
    with the lowest geometric mean); the fitted slopes are fit_exponent's on that slice, and
    the ratio's slope is that of the repeat-wise untied/tied ratio. Bottom row: each (model,
    L) at its own best step, annotated with its gamma = step_size L^step_scaling."""
    with tt.open_archive(ssi_tied) as ds:
        assert tt.count_status(ds)["done"] == ds.status.size
        order = ("model", "seq_len", "step_size", "repeat")
        h2 = ds.sel(zip0=1)
        # The case the choice of steps is about is in the archive: untied h2_sum at L = 4 has
        # steps where some run did not recover in its 3000 steps.
        missed = np.isnan(h2.recovery_step.sel(model="untied", seq_len=4).values).any(axis=-1)
        assert missed.any() and not missed.all()
        # At L = 1 the untied network is the tied one: on shared streams, the same runs.
        np.testing.assert_array_equal(ds.recovery_step.sel(model="tied", seq_len=1).values,
                                      ds.recovery_step.sel(model="untied", seq_len=1).values)
        fig = make_figure("ssi-recovery-vs-L", ds)
        assert len(fig.axes) == 4  # (equal, best) x (sum, h2_sum)
        steps = ds.step_size.values
        lengths = ds.seq_len.values.astype(float)
        for t, (target, scaling, law) in enumerate((("sum", 0, ""), ("h2_sum", -1, " L^-1"))):
            one = ds.isel(zip0=t)
            values = one.recovery_step.transpose(*order).values
            status = one.status.transpose(*order).values
            equal, best = recovery_choices(values, status, steps)
            top, bottom = fig.axes[t], fig.axes[2 + t]
            sie = 1 + t
            assert top.get_title() == (f"target={target} (SIE {sie}): equal step: gamma = "
                                       f"{steps[equal]:.3g}{law}")
            assert bottom.get_title() == (f"target={target} (SIE {sie}): each at its best "
                                          "step (gamma annotated)")
            # top: the means at the equal step and fit_exponent's slopes on that slice
            table = tt.fit_exponent(tt.select(ds, target=target, step_size=steps[equal]),
                                    "recovery_step", "seq_len")
            texts = [text.get_text() for text in top.get_legend().get_texts()]
            for m, model in enumerate(("tied", "untied")):
                (points,) = gid_lines(top, model)
                np.testing.assert_array_equal(points.get_xdata(), lengths)
                np.testing.assert_allclose(points.get_ydata(), values[m, :, equal].mean(axis=-1),
                                           rtol=1e-12)
                assert not len(gid_lines(top, model + " (not every run recovered)")[0]
                               .get_xdata())
                row = table[table.model == model].iloc[0]
                assert texts[m] == f"model={model}: " + slope_text(row.exponent, row.ci_low,
                                                                     row.ci_high)
            ratio = (values[1, :, equal] / values[0, :, equal]).mean(axis=-1)
            slope = np.polyfit(np.log(lengths), np.log(ratio), 1)[0]
            assert texts[2].startswith(f"untied/tied ratio: slope {slope:.2f} [")
            # bottom: each point at its own best step, gamma next to it
            for m, model in enumerate(("tied", "untied")):
                (points,) = gid_lines(bottom, model)
                want = [values[m, l, best[m][l]].mean() for l in range(len(lengths))]
                np.testing.assert_allclose(points.get_ydata(), want, rtol=1e-12)
                gammas = [steps[best[m][l]] * lengths[l] ** scaling for l in range(len(lengths))]
                notes = [a.get_text() for a in bottom.texts if a.get_color() == f"C{m}"]
                assert notes == [f"{g:.2g}" for g in gammas]
                slope = np.polyfit(np.log(lengths), np.log(want), 1)[0]
                text = bottom.get_legend().get_texts()[m].get_text()
                assert text.startswith(f"model={model}: slope {slope:.2f} [")
        # --sel step_size=... compares the models at that step only: one row
        one = make_figure("ssi-recovery-vs-L", tt.select(ds, step_size=0.6))
        assert len(one.axes) == 2
        assert one.axes[1].get_title() == ("target=h2_sum (SIE 2): equal step: gamma = 0.6 "
                                           "L^-1")


def test_ssi_sample_complexity_figure_fits_each_target_and_draws_the_limit(ssi_sie):
    with tt.open_archive(ssi_sie) as ds:
        # he3_sum cannot be learned by a relu student (no third Hermite coefficient): no run
        # recovers; sum and h2_sum always do here.
        recovered = np.isfinite(ds.recovery_step.values)
        assert recovered[:2].all() and not recovered[2].any()
        fig = make_figure("ssi-sample-complexity", ds)
        left, right = fig.axes
        assert left.get_xscale() == left.get_yscale() == "log" and right.get_xscale() == "log"
        dims = ds.dim.values.astype(float)
        texts = [text.get_text() for text in left.get_legend().get_texts()]
        for t, target in enumerate(("sum", "h2_sum")):
            one = ds.isel(zip0=t)
            mean, _ = mean_and_se(one.recovery_step.transpose("zip1", "repeat").values)
            (points,) = gid_lines(left, target)
            np.testing.assert_array_equal(points.get_xdata(), dims)
            np.testing.assert_allclose(points.get_ydata(), mean, rtol=1e-12)
            (scaled,) = gid_lines(right, target)
            np.testing.assert_allclose(scaled.get_ydata(), mean / dims, rtol=1e-12)
            row = tt.fit_exponent(tt.select(ds, target=target), "recovery_step", "dim").iloc[0]
            assert texts[t] == f"target={target}: " + slope_text(row.exponent, row.ci_low,
                                                                  row.ci_high)
            limit = [first_crossing(one.iteration.isel(zip1=k).values,
                                    one.theory_overlap.isel(zip1=k, repeat=0).values, 0.5)
                     for k in range(len(dims))]
            (line,) = gid_lines(left, target + " limit")
            np.testing.assert_allclose(line.get_ydata(), limit, rtol=1e-12)
            slope = np.polyfit(np.log(dims), np.log(limit), 1)[0]
            assert f"{target} limit (ODE): slope {slope:.2f}" in texts
        assert "he3_sum: no run recovered" in texts
        assert not gid_lines(left, "he3_sum")


def test_ssi_positional_semantic_figure_counts_the_runs_that_end_positional(ssi_attention):
    with tt.open_archive(ssi_attention) as ds:
        assert tt.count_status(ds)["done"] == ds.status.size
        m = np.abs(ds.overlap.isel(record=-1).transpose("omega", "repeat").values)
        e = np.abs(ds.positional_overlap.isel(record=-1).transpose("omega", "repeat").values)
        fraction = (e > m).mean(axis=1)
        # small omega semantic, omega near 1 positional, as the paper finds
        assert fraction[0] == 0 and fraction[-1] == 1
        fig = make_figure("ssi-positional-semantic", ds)
        left, right = fig.axes
        omegas = ds.omega.values
        for name, values in (("|m|", m), ("|e|", e)):
            (line,) = gid_lines(left, name)
            np.testing.assert_allclose(line.get_ydata(), values.mean(axis=1), rtol=1e-12)
            (runs,) = gid_lines(left, name + " runs")
            np.testing.assert_allclose(runs.get_ydata(), values.ravel(), rtol=1e-12)
        (line,) = gid_lines(right, "fraction positional")
        np.testing.assert_array_equal(line.get_xdata(), omegas)
        np.testing.assert_allclose(line.get_ydata(), fraction, rtol=1e-12)
        k = int(np.flatnonzero(fraction >= 0.5)[0])
        want = omegas[k - 1] + (0.5 - fraction[k - 1]) / (fraction[k] - fraction[k - 1]) * (
            omegas[k] - omegas[k - 1])
        (mark,) = gid_lines(right, "transition")
        assert mark.get_xdata()[0] == pytest.approx(want, rel=1e-12)
        labels = [text.get_text() for text in right.get_legend().get_texts()]
        assert f"crosses 1/2 at omega = {want:.3f}" in labels
        # every run ended at |m| or |e| >= 0.5: none is undecided, so no such curve
        assert (np.maximum(m, e) >= 0.5).all() and not gid_lines(right, "fraction undecided")


def test_ssi_figures_render_select_and_refuse_archives_without_their_axes(
        ssi_tied, ssi_sie, ssi_attention, grid, tmp_path, capsys):
    drawn = {"ssi-overlap": ssi_sie, "ssi-recovery-vs-L": ssi_tied,
             "ssi-sample-complexity": ssi_sie, "ssi-positional-semantic": ssi_attention}
    assert {name for name, f in FIGURES.items() if f.experiment == "ssi"} == set(drawn)
    for name, path in drawn.items():
        out = tmp_path / (name + ".png")
        assert cli.figure_main([name, str(path), "-o", str(out)]) == 0, capsys.readouterr().err
        assert_drawn_png(out, min_width=600)
        with tt.open_archive(grid) as ds:
            with pytest.raises(ValueError, match=f"figure {name} draws a ssi archive; this one "
                                                 "holds quadratic"):
                make_figure(name, ds)
    for name, path, missing in (("ssi-recovery-vs-L", ssi_sie, "seq_len"),
                                ("ssi-sample-complexity", ssi_tied, "dim"),
                                ("ssi-positional-semantic", ssi_tied, "omega")):
        assert cli.figure_main([name, str(path), "-o", str(tmp_path / "x.png")]) == 2
        assert f"needs {missing} swept" in capsys.readouterr().err
    with tt.open_archive(ssi_tied) as ds:
        with pytest.raises(ValueError, match="needs both tied and untied"):
            make_figure("ssi-recovery-vs-L", tt.select(ds, model=["tied"]))
        # The overlap of the untied runs, picked with --sel: no theory (NaN for untied).
        fig = make_figure("ssi-overlap", tt.select(ds, model="untied"))
        assert "model=untied" in fig._suptitle.get_text()
        assert [ax.get_title() for ax in fig.axes] == ["target=sum (SIE 1)",
                                                       "target=h2_sum (SIE 2)"]
        for ax in fig.axes:
            assert len(gid_lines(ax, "overlap")) == 3  # seq_len 1, 2, 4
            assert not gid_lines(ax, "theory_overlap")
    # the same through the console script
    out = tmp_path / "untied.png"
    proc = tool("figure", "ssi-overlap", ssi_tied, "--sel", "model=untied", "--sel",
                "step_size=0.6", "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert_drawn_png(out)


# ------------------------------------------------------------------ tailsweep export --csv


def expected_zip_rows(path):
    """The rows `export --csv` must write for ZIP_SPEC's archive, built from h5py alone:
    [mode, steps, target_exponent, repeat, eps, record, iteration, status, loss, theory_loss,
    steps_to_eps, final_loss], in canonical order (mode, zip0, repeat, eps, record)."""
    names = ["missing", "done", "diverged", "failed"]
    with h5py.File(path, "r") as f:
        mode = [m.decode() for m in f["mode"][...]]
        steps, target, eps = f["steps"][...], f["target_exponent"][...], f["eps"][...]
        iteration, status = f["iteration"][...], f["status"][...]
        loss, theory = f["loss"][...], f["theory_loss"][...]
        hits, final = f["steps_to_eps"][...], f["final_loss"][...]
    rows = []
    for m in range(2):
        for z in range(2):
            for r in range(2):
                for e in range(len(eps)):
                    for k in range(4):
                        rows.append([mode[m], steps[z], target[z], r, eps[e], k,
                                     iteration[m, z, k], names[status[m, z, r]],
                                     loss[m, z, r, k], theory[m, z, r, k], hits[m, z, r, e],
                                     final[m, z, r]])
    return rows


@needs_binary
def test_export_csv_writes_every_run_eps_and_record_with_exact_values(zipped, tmp_path):
    out = tmp_path / "zipped.csv"
    proc = export(zipped, "--csv", "-o", out)
    assert proc.returncode == 0, proc.stderr
    with open(out, newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        got = list(reader)
    assert header == ["mode", "steps", "target_exponent", "repeat", "eps", "record",
                      "iteration", "status", "loss", "theory_loss", "steps_to_eps",
                      "final_loss"]
    want = expected_zip_rows(zipped)
    assert len(got) == len(want) == 96
    for g, w in zip(got, want):
        assert g[0] == w[0] and g[7] == w[7]
        assert [int(v) for v in (g[1], g[3], g[5], g[6])] == [w[1], w[3], w[5], w[6]]
        # Values round-trip exactly: the export prints enough digits for float() to give
        # back the stored double.
        assert [float(v) for v in g[2:3] + g[4:5] + g[8:]] == [float(w[2]), float(w[4])] + [
            float(v) for v in w[8:]]


@needs_binary
def test_export_csv_agrees_with_to_dataframe(grid, tmp_path):
    out = tmp_path / "grid.csv"
    proc = export(grid, "--csv", "-o", out, "--metric", "steps_to_eps", "--metric", "loss")
    assert proc.returncode == 0, proc.stderr
    # round_trip: pandas' default float parser may be off by one ulp.
    frame = pd.read_csv(out, float_precision="round_trip")
    with tt.open_archive(grid) as ds:
        ref = tt.to_dataframe(ds, ["steps_to_eps", "loss"])
    assert list(frame.columns) == list(ref.columns)
    assert len(frame) == len(ref) == 2 * 2 * 3 * 3 * 2 * RECORDS
    codes = {name: code for name, code in tt.STATUS.items()}
    np.testing.assert_array_equal(frame.status.map(codes).values, ref.status.values)
    for column in ("dim", "spectrum_exponent", "step_size", "repeat", "eps", "record",
                   "iteration", "steps_to_eps", "loss"):
        np.testing.assert_array_equal(frame[column].values, ref[column].values, column)


@needs_binary
def test_export_one_scalar_gives_one_row_per_run(grid):
    proc = export(grid, "--csv", "--metric", "final_loss")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "dim,spectrum_exponent,step_size,repeat,status,final_loss"
    assert len(lines) == 1 + 2 * 2 * 3 * 3
    diverged = [line for line in lines[1:] if line.split(",")[2] == "2.5"]
    assert len(diverged) == 12 and all(",diverged," in line for line in diverged)


@needs_binary
def test_export_names_every_status_and_writes_infinities_readably(outcomes):
    proc = export(outcomes, "--csv")
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(proc.stdout.splitlines()))
    assert [r["status"] for r in rows[::3]] == ["done", "done", "diverged", "diverged",
                                                 "failed", "failed"]
    with h5py.File(outcomes, "r") as f:
        draws = f["draw"][...].ravel()
    assert np.isinf(draws).sum() == 2  # the diverged runs' last draws
    assert [r["draw"] for r in rows if np.isinf(float(r["draw"]))] == ["Inf", "Inf"]
    frame = pd.read_csv(io.StringIO(proc.stdout), float_precision="round_trip")
    np.testing.assert_array_equal(frame["draw"].values, draws)


@needs_binary
def test_export_usage_and_runtime_errors(grid, tmp_path):
    for args, status, text in [
        ((grid,), 2, "--csv"),
        ((grid, "--csv", "--metric", "nope"), 2, "the archive has loss, theory_loss"),
        ((tmp_path / "absent.h5", "--csv"), 1, "No such file"),
        ((tmp_path, "--csv"), 1, "not an HDF5 file"),
        ((grid, "--csv", "-o", tmp_path / "no" / "dir.csv"), 1, "dir.csv"),
    ]:
        proc = export(*args)
        assert proc.returncode == status, (args, proc.stderr)
        assert proc.stderr.startswith("tailsweep export: ") and text in proc.stderr, proc.stderr


DOC_SPEC = os.path.normpath(os.path.join(HERE, "..", "..", "docs", "figures", "bigram.yaml"))


@needs_binary
@pytest.mark.skipif(not os.path.exists(DOC_SPEC), reason="docs/ is not in this tree")
def test_the_spec_behind_the_readme_figure_stays_valid(tmp_path):
    proc = subprocess.run([TAILSWEEP, "plan", DOC_SPEC], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, env=SINGLETON)
    assert proc.returncode == 0, proc.stderr
    assert "= 24 runs" in proc.stdout


CONVEX_DOC_SPEC = os.path.join(os.path.dirname(DOC_SPEC), "convex.yaml")


@needs_binary
@pytest.mark.skipif(not os.path.exists(CONVEX_DOC_SPEC), reason="docs/ is not in this tree")
def test_the_spec_behind_the_convex_figure_stays_valid(tmp_path):
    proc = subprocess.run([TAILSWEEP, "plan", CONVEX_DOC_SPEC], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, env=SINGLETON)
    assert proc.returncode == 0, proc.stderr
    assert "88 x 12 repeats = 1056 runs" in proc.stdout


# ------------------------------------------------------------------ installation


def test_pip_installs_the_package_offline_into_a_fresh_venv(grid, tmp_path):
    """pip install --no-deps --no-build-isolation --no-index into a venv that sees Debian's
    packages, with every proxy pointing at a closed port so that any download would fail."""
    python = os.environ.get("PYTHON") or "/usr/bin/python3"
    venv = tmp_path / "venv"
    made = subprocess.run([python, "-m", "venv", "--system-site-packages", str(venv)],
                          capture_output=True, text=True, timeout=120)
    if made.returncode != 0:
        pytest.skip("no venv with pip here (python3-venv): " + made.stderr.strip()[-200:])
    # A copy: pip builds in the source directory, which `make distcheck` makes read-only.
    source = tmp_path / "tools"
    shutil.copytree(TOOLS, source, ignore=shutil.ignore_patterns("__pycache__", "build",
                                                                 "*.egg-info"))
    offline = dict(os.environ, PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1",
                   http_proxy="http://127.0.0.1:9", https_proxy="http://127.0.0.1:9",
                   HTTP_PROXY="http://127.0.0.1:9", HTTPS_PROXY="http://127.0.0.1:9")
    offline.pop("PYTHONPATH", None)
    bin_dir = venv / "bin"
    pip = subprocess.run([bin_dir / "python", "-m", "pip", "install", "--no-deps",
                          "--no-build-isolation", "--no-index", str(source)],
                         capture_output=True, text=True, timeout=300, env=offline)
    assert pip.returncode == 0, pip.stdout + pip.stderr
    listing = subprocess.run([bin_dir / "tailsweep-figure", "--list"], capture_output=True,
                             text=True, timeout=120, env=offline, cwd=tmp_path)
    assert listing.returncode == 0 and "quadratic-curves" in listing.stdout, listing.stderr
    fitted = subprocess.run([bin_dir / "tailsweep-fit", str(grid), "final_loss", "--against",
                             "dim", "--sel", "step_size=1", "--csv"], capture_output=True,
                            text=True, timeout=120, env=offline, cwd=tmp_path)
    assert fitted.returncode == 0, fitted.stderr
    assert fitted.stdout.startswith("spectrum_exponent,exponent,ci_low,ci_high")
    where = subprocess.run([bin_dir / "python", "-c",
                            "import tailsweep_tools; print(tailsweep_tools.__file__)"],
                           capture_output=True, text=True, timeout=60, env=offline,
                           cwd=tmp_path)
    assert str(venv) in where.stdout, where.stdout + where.stderr
