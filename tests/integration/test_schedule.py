"""`tailsweep schedule` from the real binary: each form against an independent computation in
numpy/scipy (scipy.ndimage's filters for the refinement, the bound's formula written out), and
the error messages a user sees for bad files.
"""
import os
import subprocess

import numpy as np
import pytest

TAILSWEEP = os.environ.get("TAILSWEEP")
pytestmark = pytest.mark.skipif(not TAILSWEEP, reason="TAILSWEEP is not set (run under make check)")
ndimage = pytest.importorskip("scipy.ndimage")


def schedule(*args, stdin=None):
    return subprocess.run([TAILSWEEP, "schedule", *args], input=stdin, capture_output=True,
                          text=True, timeout=60)


def csv_lr(text):
    lines = text.strip().splitlines()
    assert lines[0] == "step,lr"
    steps, lr = zip(*(line.split(",") for line in lines[1:]))
    assert [int(s) for s in steps] == list(range(len(steps)))
    return np.array([float(x) for x in lr])


def test_shapes_follow_their_formulas():
    T = 200
    t = np.arange(T)
    lr = csv_lr(schedule("linear_decay", "--steps", str(T), "--base", "0.3").stdout)
    assert np.allclose(lr, 0.3 * (T - t) / T, rtol=1e-15, atol=0)
    lr = csv_lr(schedule("cosine", "--steps", str(T)).stdout)
    assert np.allclose(lr, 0.5 * (1 + np.cos(np.pi * t / T)), rtol=1e-14, atol=1e-15)
    lr = csv_lr(schedule("step", "--steps", str(T), "--factor", "0.5",
                         "--milestones", "0.25,0.5").stdout)
    assert np.array_equal(lr, np.where(t < 50, 1.0, np.where(t < 100, 0.5, 0.25)))
    # warmup over the first 10 steps, then the decay over the remaining 190
    lr = csv_lr(schedule("linear_decay", "--steps", str(T), "--warmup", "0.05").stdout)
    assert np.allclose(lr[:10], (t[:10] + 1) / 10, rtol=1e-15)
    assert np.allclose(lr[10:], (190 - (t[10:] - 10)) / 190, rtol=1e-15)


def refined_reference(norms, smoothed, power, base):
    w = smoothed ** -power
    later = np.concatenate([np.cumsum(w[::-1])[::-1][1:], [0.0]])
    eta = w * later
    return base * eta / eta.max()


@pytest.fixture
def norms(tmp_path):
    rng = np.random.default_rng(4)
    g = 1.0 + 4.0 * np.exp(-np.arange(500) / 40.0) + rng.exponential(0.3, 500)
    path = tmp_path / "norms.csv"
    path.write_text("step,grad_norm\n" + "".join(f"{k},{x!r}\n" for k, x in enumerate(g)))
    return path, g


def test_refine_matches_scipy_filters_and_the_weight_formula(norms):
    path, g = norms
    gauss = csv_lr(schedule("refine", "--norms", str(path), "--filter", "gaussian",
                            "--width", "12.5", "--power", "1", "--base", "0.7").stdout)
    smoothed = ndimage.gaussian_filter1d(g, 12.5, mode="nearest", truncate=4.0)
    assert np.allclose(gauss, refined_reference(g, smoothed, 1.0, 0.7), rtol=1e-10, atol=1e-14)
    median = csv_lr(schedule("refine", "--norms", str(path), "--filter", "median",
                             "--width", "31").stdout)
    smoothed = ndimage.median_filter(g, size=31, mode="reflect")
    assert np.allclose(median, refined_reference(g, smoothed, 2.0, 1.0), rtol=1e-10, atol=1e-14)
    # default: median over a tenth of the run (50 steps), power 2
    default = csv_lr(schedule("refine", "--norms", str(path)).stdout)
    smoothed = ndimage.median_filter(g, size=50, mode="reflect")
    assert np.allclose(default, refined_reference(g, smoothed, 2.0, 1.0), rtol=1e-10, atol=1e-14)
    # early large norms: the refined schedule warms up by itself
    assert default[0] < 0.5 * default.max() and default[-1] == 0.0


def test_refine_reads_standard_input_and_constant_norms_give_linear_decay():
    lr = csv_lr(schedule("refine", "--norms", "-", stdin="2\n" * 11).stdout)
    assert np.allclose(lr, (10 - np.arange(11)) / 10, rtol=0, atol=1e-15)


def test_bound_equals_its_formula(tmp_path, norms):
    _, g = norms
    T = len(g)
    lr = 0.05 * (T - np.arange(T)) / T
    (tmp_path / "lr.csv").write_text(schedule("linear_decay", "--steps", str(T), "--base",
                                              "0.05").stdout)
    (tmp_path / "g.txt").write_text("".join(f"{x!r}\n" for x in g))
    out = schedule("bound", "--lr", str(tmp_path / "lr.csv"), "--norms", str(tmp_path / "g.txt"),
                   "--diameter", "4")
    assert out.returncode == 0, out.stderr
    D = 4.0
    e = g ** 2 * lr ** 2
    want = (D ** 2 + e.sum()) / (2 * lr.sum())
    for k in range(T - 1):
        want += 0.5 * lr[k] / lr[k + 1:].sum() * e[k:].sum() / lr[k:].sum()
    assert float(out.stdout.strip().splitlines()[-1]) == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("content, message", [
    ("1\nabc\n2\n", ":2: expected a finite number"),
    ("step,norm\n0,1\n1,x\n", ":3: expected a finite number in the last column"),
    ("1\n0\n", ":2: a gradient norm must be > 0"),
    ("1\n-3\n", ":2: a gradient norm must be > 0"),
    ("1\nnan\n", ":2: expected a finite number"),
    ("# only a comment\n\n", "no numbers"),
    ("", "no numbers"),
])
def test_bad_norm_files_name_the_file_and_line(tmp_path, content, message):
    path = tmp_path / "bad.txt"
    path.write_text(content)
    out = schedule("refine", "--norms", str(path))
    assert out.returncode == 2
    assert message in out.stderr and "bad.txt" in out.stderr, out.stderr


def test_bound_refuses_a_length_mismatch_and_usage_errors_exit_2(tmp_path):
    (tmp_path / "lr.txt").write_text("0.1\n0.1\n0.1\n")
    (tmp_path / "g.txt").write_text("1\n1\n")
    out = schedule("bound", "--lr", str(tmp_path / "lr.txt"), "--norms", str(tmp_path / "g.txt"))
    assert out.returncode == 2 and "3 step sizes" in out.stderr and "2 norms" in out.stderr
    assert schedule("cosine").returncode == 2                      # no --steps
    assert schedule("wavy", "--steps", "3").returncode == 2       # unknown shape
    assert schedule("refine").returncode == 2                      # no --norms
    assert schedule("refine", "--norms", "/no/such/file").returncode == 2
    assert schedule("step", "--steps", "10", "--milestones", "0.7,0.2").returncode == 2
    help_text = schedule("--help")
    assert help_text.returncode == 0
    for form in ("linear_decay --steps", "refine --norms", "bound --lr"):
        assert form in help_text.stdout
