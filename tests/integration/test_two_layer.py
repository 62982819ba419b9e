"""two_layer from the real binary: a sweep over target x batch_reuse x hidden under mpiexec -n 2
into an archive xarray opens, the width axis padded with NaN, the protocols on shared streams
(the same first step), archives equal on 1 and 2 ranks.

The physics is checked in tests/unit/test_two_layer.c; here: what a user sees in the archive.
"""
import os
import subprocess
import sys

import numpy as np
import pytest

xr = pytest.importorskip("xarray")
pytest.importorskip("h5netcdf")

TAILSWEEP = os.environ.get("TAILSWEEP")
MPIEXEC = os.environ.get("MPIEXEC") or "mpiexec"
pytestmark = pytest.mark.skipif(not TAILSWEEP, reason="TAILSWEEP is not set (run under make check)")

HERE = os.path.dirname(os.path.abspath(__file__))
COMPARE = os.path.join(HERE, "..", "archive_compare.py")

SPEC = """\
experiment: two_layer
seed: 11
repeats: 2
params:
  dim: 120
  sample_ratio: 2
  steps: 4
  record: {linear: 5}
  test_size: 500
  directions: 3
sweep:
  target: [tanh_he1_he3, staircase, he3, tanh_sum]
  batch_reuse: [1, 2, 0]
  hidden: [2, 3]
shared_streams: [batch_reuse]   # the protocols see the same batches and the same start
"""


def run(tmp_path, ranks, name):
    spec = tmp_path / "two_layer.yaml"
    spec.write_text(SPEC)
    out = tmp_path / (name + ".h5")
    cmd = [MPIEXEC, "-n", str(ranks), TAILSWEEP, "run", str(spec), "-o", str(out),
           "--progress", "none"]
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, "tailsweep run failed:\n" + proc.stdout + proc.stderr
    return out


@pytest.fixture(scope="module")
def archives(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("two_layer")
    return run(tmp, 2, "two"), run(tmp, 1, "one")


def test_archive_opens_with_named_dimensions(archives):
    with xr.open_dataset(archives[0], engine="h5netcdf") as ds:
        assert ds.overlap.dims == ("target", "batch_reuse", "hidden", "repeat", "neuron",
                                   "direction", "record")
        assert ds.self_overlap.dims[-3:] == ("neuron", "neuron2", "record")
        assert list(ds.target.values) == ["tanh_he1_he3", "staircase", "he3", "tanh_sum"]
        assert list(ds.batch_reuse.values) == [1, 2, 0]
        assert ds.sizes["neuron"] == 3 and ds.sizes["direction"] == 3
        assert np.all(ds.status.values == 1)
        assert list(ds.iteration.values) == [0, 1, 2, 3, 4]
        assert ds.overlap.attrs["long_name"].startswith("M = W W*^T / D")
        assert ds.theory_step1_overlap.attrs["theory_for"] == "overlap"


def test_narrower_runs_are_padded_with_nan(archives):
    with xr.open_dataset(archives[0], engine="h5netcdf") as ds:
        two = ds.overlap.sel(hidden=2)
        assert np.all(np.isnan(two.sel(neuron=2).values))
        assert not np.any(np.isnan(two.sel(neuron=[0, 1]).values))
        q = ds.self_overlap.sel(hidden=2)
        assert np.all(np.isnan(q.sel(neuron2=2).values))
        assert np.all(np.isnan(q.sel(neuron=2).values))
        three = ds.overlap.sel(hidden=3)
        assert not np.any(np.isnan(three.values))


def test_runs_start_orthogonal_and_shared_streams_give_the_protocols_one_first_step(archives):
    with xr.open_dataset(archives[0], engine="h5netcdf") as ds:
        start = ds.overlap.isel(record=0).fillna(0.0)
        assert np.all(np.abs(start.values) < 1e-12)
        first = ds.overlap.isel(record=1).fillna(0.0)
        for reuse in (2, 0):
            assert np.array_equal(first.sel(batch_reuse=1).values,
                                  first.sel(batch_reuse=reuse).values)
        second = ds.overlap.isel(record=2).fillna(0.0)
        assert not np.array_equal(second.sel(batch_reuse=1).values,
                                  second.sel(batch_reuse=0).values)


def test_provenance_names_the_blas(archives):
    with xr.open_dataset(archives[0], engine="h5netcdf", group="provenance") as prov:
        hosts = {str(h) for h in np.ravel(prov.host.values)}
    assert all(("OpenBLAS" in h) or ("GSL CBLAS" in h) for h in hosts), hosts


def test_one_and_two_ranks_write_identical_archives(archives):
    python = os.environ.get("PYTHON") or sys.executable
    proc = subprocess.run([python, COMPARE, str(archives[0]), str(archives[1])],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
