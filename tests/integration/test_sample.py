"""`tailsweep sample` (issue 3): the command users inspect the samplers with, run for real.

Statistical checks use fixed seeds and tolerances derived from the sample size: 5 standard
errors for means, variances and frequencies, and the Kolmogorov-Smirnov critical value at the
0.1% level (1.95 / sqrt(n)) for a whole distribution. The unit tests (test_variates) check the
samplers themselves in depth; these check that the command draws from them with the laws,
parameters, streams and file layout its --help states.
"""
import math
import os
import subprocess

import numpy as np
import pytest

h5py = pytest.importorskip("h5py")

TAILSWEEP = os.environ.get("TAILSWEEP")
pytestmark = pytest.mark.skipif(not TAILSWEEP, reason="TAILSWEEP is not set (run under make check)")

N = 40000


def sample(*args, check=True):
    run = subprocess.run([TAILSWEEP, "sample", *map(str, args)], capture_output=True, text=True,
                         timeout=120)
    if check:
        assert run.returncode == 0, run.stderr
    return run


def draws(*args):
    return np.array([float(x) for x in sample(*args, "--text").stdout.split()])


def ks_statistic(x, cdf):
    x = np.sort(x)
    n = len(x)
    f = cdf(x)
    return max(np.max(np.arange(1, n + 1) / n - f), np.max(f - np.arange(n) / n))


@pytest.mark.parametrize("path", [[], ["--per-call"]])
def test_alpha_2_is_gaussian_with_variance_2c2(path):
    c = 1.5
    x = draws("levy", "--alpha", 2, "--scale", c, "-n", N, "--seed", 7, *path)
    assert len(x) == N
    var = 2 * c * c
    assert abs(x.mean()) < 5 * math.sqrt(var / N)
    # the sample variance of a Gaussian has standard error var sqrt(2 / (n - 1))
    assert abs(x.var(ddof=1) - var) < 5 * var * math.sqrt(2 / (N - 1))


def test_alpha_1_beta_0_is_cauchy_around_its_location():
    c, m = 2.0, 1.0
    x = draws("levy", "--alpha", 1, "--beta", 0, "--scale", c, "--loc", m, "-n", N, "--seed", 8)
    cauchy_cdf = lambda t: 0.5 + np.arctan((t - m) / c) / np.pi
    assert ks_statistic(x, cauchy_cdf) < 1.95 / math.sqrt(N)


def test_alpha_half_beta_1_in_s1_is_the_levy_distribution():
    # S(1/2, 1, c, 0; S1) has the density sqrt(c / 2 pi) x^(-3/2) exp(-c / 2x) on x > 0
    c = 0.7
    x = draws("levy", "--alpha", 0.5, "--beta", 1, "--scale", c, "--param", "S1", "-n", N,
              "--seed", 9)
    assert x.min() > 0
    levy_cdf = lambda t: np.array([math.erfc(math.sqrt(c / (2 * v))) for v in t])
    assert ks_statistic(x, levy_cdf) < 1.95 / math.sqrt(N)


def test_s0_and_s1_differ_by_the_documented_shift():
    # Nolan: S0 location = S1 location + beta c tan(pi alpha / 2) for alpha != 1. The same
    # stream in both parameterizations gives draws that differ by exactly that constant.
    alpha, beta, c = 1.5, 0.7, 1.3
    common = ["levy", "--alpha", alpha, "--beta", beta, "--scale", c, "-n", 1000, "--seed", 4]
    s0 = draws(*common, "--param", "S0")
    s1 = draws(*common, "--param", "S1")
    shift = beta * c * math.tan(math.pi * alpha / 2)
    np.testing.assert_allclose(s1 - s0, shift, rtol=0, atol=1e-9 * (1 + np.abs(s0).max()))


def test_isotropic_noise_file_layout_and_marginals(tmp_path):
    out = tmp_path / "iso.h5"
    dim, n = 3, 20000
    sample("levy-iso", "--alpha", 2, "--dim", dim, "-n", n, "--seed", 5, "-o", out)
    with h5py.File(out, "r") as f:
        ds = f["samples"]
        assert ds.shape == (n, dim)
        assert ds.attrs["alpha"] == 2 and ds.attrs["dim"] == dim and ds.attrs["n"] == n
        x = ds[...]
    # alpha = 2: N(0, 2 I), so every coordinate has variance 2 and they are uncorrelated
    for k in range(dim):
        assert abs(x[:, k].var(ddof=1) - 2) < 5 * 2 * math.sqrt(2 / (n - 1))
    corr = np.corrcoef(x.T)[np.triu_indices(dim, 1)]
    assert np.all(np.abs(corr) < 5 / math.sqrt(n))


@pytest.mark.parametrize("method", ["alias", "rejection"])
def test_zipf_frequencies(method):
    d, s = 50, 1.2
    k = draws("zipf", "--dim", d, "--exponent", s, "--method", method, "-n", N, "--seed", 6)
    assert np.all(k == np.round(k)) and k.min() >= 1 and k.max() <= d
    p = np.arange(1, d + 1, dtype=float) ** -s
    p /= p.sum()
    counts = np.bincount(k.astype(int), minlength=d + 1)[1:]
    # every frequency within 5 binomial standard errors, and Pearson's chi-square (d - 1
    # degrees of freedom) within 5 of its standard deviations of its mean
    assert np.all(np.abs(counts / N - p) < 5 * np.sqrt(p * (1 - p) / N))
    chi2 = np.sum((counts - N * p) ** 2 / (N * p))
    assert chi2 < (d - 1) + 5 * math.sqrt(2 * (d - 1))


def test_seed_point_and_repeat_select_the_stream():
    common = ["levy", "--alpha", 1.7, "-n", 200, "--seed", 11]
    a = draws(*common)
    assert np.array_equal(a, draws(*common)), "same seed, point and repeat: same draws"
    assert not np.array_equal(a, draws(*common, "--repeat", 1))
    assert not np.array_equal(a, draws(*common, "--point", 1))
    assert not np.array_equal(a, draws("levy", "--alpha", 1.7, "-n", 200, "--seed", 12))


def test_text_and_file_hold_the_same_values(tmp_path):
    out = tmp_path / "z.h5"
    args = ["levy", "--alpha", 1.2, "--beta", -0.5, "-n", 500, "--seed", 3]
    sample(*args, "-o", out)
    with h5py.File(out, "r") as f:
        stored = f["samples"][...]
    # the text form prints 17 significant digits: it round-trips doubles exactly
    assert np.array_equal(stored, draws(*args))


@pytest.mark.parametrize("args, needle", [
    (["levy", "--alpha", 2.5, "-n", 3, "--seed", 1], "alpha"),
    (["levy", "--alpha", 1.5, "--beta", 2, "-n", 3, "--seed", 1], "beta"),
    (["levy", "--alpha", 1.5, "--seed", 1], "-n"),
    (["gamma", "-n", 3, "--seed", 1], "levy, levy-iso or zipf"),
    (["zipf", "--dim", 10, "--exponent", -1, "-n", 3, "--seed", 1], "exponent"),
])
def test_bad_arguments_exit_2_and_say_why(args, needle):
    run = sample(*args, check=False)
    assert run.returncode == 2
    assert needle in run.stderr
    assert run.stdout == ""
