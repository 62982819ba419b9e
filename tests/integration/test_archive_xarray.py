"""The archive opens in xarray with no glue (docs/architecture.md section 6).

Runs the real binary ($TAILSWEEP, set by `make check`) on tiny quadratic sweeps, opens the
archives with xarray.open_dataset(path, engine="h5netcdf") and checks dimensions, coordinates,
attributes, selection by coordinate, and one physical identity: the simulated loss at t = 0 is
the initial loss 1/2 sum_k lambda_k w*_k^2, which the closed-form overlay theory_loss also
evaluates at t = 0.
"""
import os
import re
import socket
import subprocess
import sys

import numpy as np
import pytest

xr = pytest.importorskip("xarray")
pytest.importorskip("h5netcdf")

TAILSWEEP = os.environ.get("TAILSWEEP")
pytestmark = pytest.mark.skipif(not TAILSWEEP, reason="TAILSWEEP is not set (run under make check)")

HERE = os.path.dirname(os.path.abspath(__file__))
COMPARE = os.path.join(HERE, "..", "archive_compare.py")

STEPS = 40
RECORDS = 5
DIM = 16

PLAIN_SPEC = f"""\
experiment: quadratic
seed: 3
repeats: 2
params:
  dim: {DIM}
  steps: {STEPS}
  record: {{linear: {RECORDS}}}
sweep:
  step_size: [0.5, 1.0]
  spectrum_exponent: [0.5, 1.0, 2.0]
"""

# Enum (string) axis, a zip group, and steps on the zip group: iteration varies per point.
ZIP_SPEC = f"""\
experiment: quadratic
seed: 5
repeats: 1
params:
  dim: {DIM}
  record: {{linear: {RECORDS}}}
sweep:
  mode: [iterate, closed_form]
zip:
  - {{steps: [20, 40], target_exponent: [0.0, 1.0]}}
"""


def run_sweep(tmp_path, text, name):
    spec = tmp_path / (name + ".yaml")
    spec.write_text(text)
    out = tmp_path / (name + ".h5")
    proc = subprocess.run([TAILSWEEP, "run", str(spec), "-o", str(out)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, "tailsweep run failed:\n" + proc.stdout + proc.stderr
    assert out.exists()
    return out


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("plain")
    path = run_sweep(tmp, PLAIN_SPEC, "plain")
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        yield path, ds.load()


@pytest.fixture(scope="module")
def zipped(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("zipped")
    path = run_sweep(tmp, ZIP_SPEC, "zipped")
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        yield ds.load()


def test_dimensions_are_named_after_axes_repeat_extra_and_record(plain):
    _, ds = plain
    assert dict(ds.sizes) == {"step_size": 2, "spectrum_exponent": 3, "repeat": 2, "eps": 3,
                              "record": RECORDS}
    assert ds.loss.dims == ("step_size", "spectrum_exponent", "repeat", "record")
    assert ds.theory_loss.dims == ds.loss.dims
    assert ds.steps_to_eps.dims == ("step_size", "spectrum_exponent", "repeat", "eps")
    assert ds.final_loss.dims == ("step_size", "spectrum_exponent", "repeat")
    assert ds.status.dims == ds.final_loss.dims


def test_coordinates_hold_the_swept_values_and_record_times(plain):
    _, ds = plain
    np.testing.assert_array_equal(ds.step_size.values, [0.5, 1.0])
    np.testing.assert_array_equal(ds.spectrum_exponent.values, [0.5, 1.0, 2.0])
    np.testing.assert_array_equal(ds.repeat.values, [0, 1])
    assert "iteration" in ds.coords
    assert ds.iteration.dims == ("record",)
    it = ds.iteration.values
    assert it[0] == 0 and it[-1] == STEPS
    assert np.all(np.diff(it) > 0)


def test_attributes_describe_the_sweep_and_its_variables(plain):
    path, ds = plain
    assert ds.attrs["experiment"] == "quadratic"
    assert re.fullmatch(r"[0-9a-f]{64}", ds.attrs["spec_sha256"])
    assert "spectrum_exponent: [0.5, 1.0, 2.0]" in ds.attrs["spec"]
    assert int(ds.attrs["seed"]) == 3
    assert int(ds.attrs["repeats"]) == 2
    assert int(ds.attrs["mpi_ranks"]) == 1
    assert ds.attrs["tailsweep_version"]
    for key in ("created", "finished"):
        assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", ds.attrs[key]), ds.attrs[key]
    for name in list(ds.data_vars) + list(ds.coords):
        assert "units" in ds[name].attrs, name
        assert "long_name" in ds[name].attrs, name
    assert ds.loss.attrs["kind"] == "series"
    assert ds.final_loss.attrs["kind"] == "scalar"
    assert ds.theory_loss.attrs["theory_for"] == "loss"
    assert ds.status.attrs["flag_meanings"] == "missing done diverged failed"
    np.testing.assert_array_equal(ds.status.attrs["flag_values"], [0, 1, 2, 3])


def test_every_run_finished(plain):
    _, ds = plain
    assert np.all(ds.status.values == 1)
    assert not np.any(np.isnan(ds.loss.values))


def test_provenance_names_the_host_its_vector_path_and_blas(plain):
    path, _ = plain
    hostname = socket.gethostname()
    with xr.open_dataset(path, engine="h5netcdf", group="provenance") as prov:
        hosts = {str(h) for h in np.ravel(prov.host.values)}
    assert hosts, "no provenance/host"
    for host in hosts:
        assert re.fullmatch(re.escape(hostname)
                            + r" \((avx512|avx2|sse2|scalar), (OpenBLAS \S+ \S+|GSL CBLAS)\)",
                            host), host


def test_selecting_by_coordinate_gives_the_initial_loss_of_the_closed_form(plain):
    _, ds = plain
    half = ds.sel(step_size=0.5)
    assert half.loss.dims == ("spectrum_exponent", "repeat", "record")
    loss0 = half.loss.sel(record=0).values
    theory0 = half.theory_loss.sel(record=0).values
    # Both are 1/2 sum_k lambda_k w*_k^2 over the same d = 16 terms in the same order; the only
    # possible difference is the closed form's factor (1 - eta lambda_k)^0 = 1, exact in
    # IEEE arithmetic, so a relative 1e-12 (far above 16 roundings of 1.1e-16) is generous.
    np.testing.assert_allclose(loss0, theory0, rtol=1e-12, atol=0)
    assert np.all(loss0 > 0)
    # Each repeat draws its own w*, so initial losses differ between repeats: no run was
    # written into another's place.
    assert np.all(loss0[:, 0] != loss0[:, 1])


def test_string_axis_and_zip_group_become_coordinates(zipped):
    ds = zipped
    assert dict(ds.sizes) == {"mode": 2, "zip0": 2, "repeat": 1, "eps": 3, "record": RECORDS}
    assert list(ds.mode.values) == ["iterate", "closed_form"]
    for name in ("steps", "target_exponent"):
        assert name in ds.coords, name
        assert ds[name].dims == ("zip0",)
    np.testing.assert_array_equal(ds.steps.values, [20, 40])
    closed = ds.sel(mode="closed_form")
    assert closed.loss.dims == ("zip0", "repeat", "record")
    # steps is on an axis, so each point has its own record times.
    assert ds.iteration.dims == ("mode", "zip0", "record")
    np.testing.assert_array_equal(ds.iteration.values[:, :, -1], [[20, 40], [20, 40]])
    np.testing.assert_array_equal(ds.iteration.values[:, :, 0], 0)


def test_two_runs_of_one_spec_give_identical_archives(plain, tmp_path):
    first, _ = plain
    second = run_sweep(tmp_path, PLAIN_SPEC, "again")
    python = os.environ.get("PYTHON") or sys.executable
    proc = subprocess.run([python, COMPARE, str(first), str(second)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("archive, filters", [
    ("{compression: none}", set()),
    ("{compression: deflate, level: 1}", {"shuffle", "gzip"}),
])
def test_compression_is_a_choice_that_leaves_the_data_alone(plain, tmp_path, archive, filters):
    """`archive:` decides how chunks are stored (the default: shuffle + deflate 4, which
    stock h5py reads); the data, the spec's hash and the comparison stay the same."""
    h5py = pytest.importorskip("h5py")
    first, ds = plain
    other = run_sweep(tmp_path, PLAIN_SPEC + f"archive: {archive}\n", "other")
    with h5py.File(first, "r") as f, h5py.File(other, "r") as g:
        assert f["loss"].compression == "gzip" and f["loss"].compression_opts == 4
        assert f["loss"].shuffle
        got = {k for k in ("shuffle", "gzip") if (k == "shuffle" and g["loss"].shuffle)
               or (k == "gzip" and g["loss"].compression == "gzip")}
        assert got == filters
        if "gzip" in filters:
            assert g["loss"].compression_opts == 1
        assert g.attrs["spec_sha256"] == f.attrs["spec_sha256"]
        # Every dataset bit for bit, every root attribute but the spec text and the times.
        names = []
        f.visititems(lambda name, obj: names.append(name) if isinstance(obj, h5py.Dataset)
                     else None)
        assert "loss" in names and "provenance/host" in names
        for name in names:
            if name.startswith("provenance/wall"):
                continue
            a, b = f[name][...], g[name][...]
            assert a.dtype == b.dtype and a.shape == b.shape, name
            if a.dtype.kind == "f":
                np.testing.assert_array_equal(np.isnan(a), np.isnan(b), err_msg=name)
                np.testing.assert_array_equal(a[~np.isnan(a)], b[~np.isnan(b)], err_msg=name)
            else:
                np.testing.assert_array_equal(a, b, err_msg=name)
        skip = {"spec", "created", "finished"}
        assert set(f.attrs) == set(g.attrs)
        for key in set(f.attrs) - skip:
            np.testing.assert_array_equal(f.attrs[key], g.attrs[key], err_msg=key)
    with xr.open_dataset(other, engine="h5netcdf") as reread:
        np.testing.assert_array_equal(reread.loss.values, ds.loss.values)
