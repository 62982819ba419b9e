"""The refine benchmark's numpy/scipy reference (bench/refine.sh runs it next to bench/refine):
  python3 bench/refine_ref.py [repeats]   prints "name T implementation seconds_per_call runs"
                                          for the case names bench/refine.c prints
  python3 bench/refine_ref.py --check DIR compares the outputs bench/refine --check DIR wrote
                                          with this file's references; exit 1 when one differs
                                          by more than 1e-9 relative
The run lengths are REFINE_T (comma-separated, default 100000,1000000,10000000), as for C.

What the C code does (src/optim/refine.c, include/tailsweep/refine.h), the numpy way:
  median    scipy.ndimage.median_filter(g, size=w, mode='reflect'): O(T w) in scipy 1.10 (a
            selection per window), so it is timed only where T w <= 2e9; and, at every T, the
            same filter as pandas' rolling quantile 0.5 with interpolation 'higher' (the upper
            middle of an even window, as scipy's rank w // 2) over g padded with
            np.pad(mode='symmetric') (scipy's 'reflect'): a skip list, O(T log w);
  gaussian  scipy.ndimage.gaussian_filter1d(g, sigma, mode='nearest', truncate=4): a direct
            correlation, O(T r), timed where T (2 r + 1) <= 2e10; and scipy.signal.fftconvolve
            of np.pad(g, r, mode='edge') with scipy's kernel (mode 'valid'), O(T log T);
  schedule  w = s**-power, the suffix sums by np.cumsum of the reversed weights,
            eta_t = w_t sum_{u > t} w_u, eta / eta.max();
  bound     the formula of ts_refine_bound vectorised: suffix sums by np.cumsum (plain, not
            compensated), the sums stopping at the last positive step.
Each time is the median over the repeats of one call; a call over 1 s is its own first repeat,
one over 10 s is run once (the "runs" field says how many).

Run with Debian's /usr/bin/python3 (numpy 1.24, scipy 1.10, pandas 1.5).
"""
import math
import os
import sys
import time

import numpy as np
import pandas as pd
import scipy.ndimage as ndimage
import scipy.signal as signal

POWER = 2.0
DISTANCE = 3.7
TOLERANCE = 1e-9
MEDIAN_SCIPY_MAX = 2e9     # T w
GAUSSIAN_SCIPY_MAX = 2e10  # T (2 r + 1)


# ------------------------------------------------------------------ the filters

def median_scipy(g, width):
    return ndimage.median_filter(g, size=int(width), mode="reflect")


def median_pandas(g, width):
    w = int(width)
    left = w // 2
    right = w - 1 - left
    padded = np.pad(g, (left, right), mode="symmetric")
    rolled = pd.Series(padded).rolling(w).quantile(0.5, interpolation="higher")
    return rolled.to_numpy()[w - 1:]


def radius(sigma):
    return int(4.0 * sigma + 0.5)


def gaussian_scipy(g, sigma):
    return ndimage.gaussian_filter1d(g, sigma, mode="nearest", truncate=4.0)


def gaussian_kernel(sigma):
    """scipy's _gaussian_kernel1d(sigma, 0, radius): exp(-x^2 / (2 sigma^2)), sum 1."""
    r = radius(sigma)
    x = np.arange(-r, r + 1, dtype=float)
    k = np.exp(-0.5 / (sigma * sigma) * x * x)
    return k / k.sum()


def gaussian_fft(g, sigma):
    r = radius(sigma)
    return signal.fftconvolve(np.pad(g, r, mode="edge"), gaussian_kernel(sigma), mode="valid")


FILTERS = {
    ("median", "scipy.ndimage"): median_scipy,
    ("median", "pandas.rolling"): median_pandas,
    ("gaussian", "scipy.ndimage"): gaussian_scipy,
    ("gaussian", "fftconvolve"): gaussian_fft,
    ("none", "numpy"): lambda g, width: g.copy(),
}


def affordable(filt, impl, T, width):
    """Whether scipy.ndimage's direct filters finish in about a minute at this size."""
    if impl != "scipy.ndimage":
        return True
    if filt == "median":
        return T * width <= MEDIAN_SCIPY_MAX
    return T * (2 * radius(width) + 1) <= GAUSSIAN_SCIPY_MAX


def schedule(smoothed, power):
    """eta_t = w_t sum_{u > t} w_u, w = s^-power, normalised to max 1."""
    w = smoothed ** -power
    suffix = np.cumsum(w[::-1])[::-1]  # sum_{u >= t}
    eta = np.empty_like(w)
    eta[:-1] = w[:-1] * suffix[1:]
    eta[-1] = 0.0
    return eta / eta.max()


def bound(eta, G, D):
    """ts_refine_bound: (D^2 + sum G^2 eta^2) / (2 sum eta)
    + 1/2 sum_{k < last-1} eta_k / (sum_{t > k} eta_t) (sum_{t >= k} G_t^2 eta_t^2) /
    (sum_{t >= k} eta_t), over the steps up to the last positive one."""
    positive = np.flatnonzero(eta > 0)
    if positive.size == 0:
        return math.nan
    last = positive[-1] + 1
    eta, G = eta[:last], G[:last]
    energy = np.cumsum((G * G * eta * eta)[::-1])[::-1]  # sum_{t >= k}
    mass = np.cumsum(eta[::-1])[::-1]                   # sum_{t >= k}
    k = slice(0, last - 1)
    tail = np.sum(eta[k] / mass[1:] * energy[k] / mass[k])
    return (D * D + energy[0]) / (2.0 * mass[0]) + 0.5 * tail


# ------------------------------------------------------------------ timing

def norms_of(T):
    """bench/refine.c's series (its own draws): a decay from 3 to 1 times log-normal noise."""
    rng = np.random.default_rng(7 + T)
    t = np.arange(T, dtype=float)
    return (1.0 + 2.0 * np.exp(-5.0 * t / T)) * np.exp(0.3 * rng.standard_normal(T))


def seconds_per_call(fn, repeats):
    start = time.perf_counter()
    fn()
    first = time.perf_counter() - start
    times = [first] if first > 1.0 else []
    if first > 10.0:
        return first, 1
    while len(times) < repeats:
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), len(times)


def median_width(T, fraction):
    return max(1, round(fraction * T))


# name, kind, filter, width (fraction of T when "T" in the name), implementations
CASES = [
    ("smooth_median_0.1T", "smooth", "median", ["scipy.ndimage", "pandas.rolling"]),
    ("smooth_median_101", "smooth", "median", ["scipy.ndimage", "pandas.rolling"]),
    ("smooth_gaussian_0.1T", "smooth", "gaussian", ["scipy.ndimage", "fftconvolve"]),
    ("smooth_gaussian_32", "smooth", "gaussian", ["scipy.ndimage"]),
    ("smooth_gaussian_33", "smooth", "gaussian", ["scipy.ndimage", "fftconvolve"]),
    ("schedule_median_0.1T", "schedule", "median", ["scipy.ndimage", "pandas.rolling"]),
    ("schedule_gaussian_0.1T", "schedule", "gaussian", ["scipy.ndimage", "fftconvolve"]),
    ("schedule_none", "schedule", "none", ["numpy"]),
    ("bound", "bound", None, ["numpy"]),
]


def width_of(name, filt, T):
    tail = name.rsplit("_", 1)[1]
    if tail.endswith("T"):
        fraction = float(tail[:-1])
        return median_width(T, fraction) if filt == "median" else fraction * T
    return float(tail) if tail != "none" else 1.0


def time_all(repeats):
    lengths = [int(float(v)) for v in os.environ.get("REFINE_T", "100000,1000000,10000000")
               .split(",") if v]
    for T in lengths:
        g = norms_of(T)
        eta = schedule(median_pandas(g, median_width(T, 0.1)), POWER)
        for name, kind, filt, impls in CASES:
            for impl in impls:
                if kind == "bound":
                    fn = lambda: bound(eta, g, DISTANCE)  # noqa: E731
                else:
                    width = width_of(name, filt, T)
                    if not affordable(filt, impl, T, width):
                        print(f"{name} {T} {impl} skipped -", flush=True)
                        continue
                    smooth = FILTERS[(filt, impl)]
                    if kind == "smooth":
                        fn = lambda: smooth(g, width)  # noqa: E731
                    else:
                        fn = lambda: schedule(smooth(g, width), POWER)  # noqa: E731
                seconds, runs = seconds_per_call(fn, repeats)
                print(f"{name} {T} {impl} {seconds:.6e} {runs}", flush=True)


# ------------------------------------------------------------------ --check

def relative_error(ours, ref):
    """max_t |ours - ref| / |ref|; where ref is 0, ours must be 0 too (else inf)."""
    if ours.shape != ref.shape:
        return math.inf
    zero = ref == 0
    if np.any(ours[zero] != 0) or not np.all(np.isfinite(ours)):
        return math.inf
    nz = ~zero
    return float(np.max(np.abs(ours[nz] - ref[nz]) / np.abs(ref[nz]))) if nz.any() else 0.0


def check(directory):
    worst = 0.0
    failed = 0
    print(f"{'what':<9} {'filter':<18} {'width':>9} {'power':>5} {'T':>8} {'reference':<15}"
          f" {'max rel. error':>14}")
    with open(os.path.join(directory, "manifest")) as manifest:
        lines = [line.split() for line in manifest if line.strip()]
    for fields in lines:
        kind, label, a, b, T, gfile, outfile = fields
        T = int(T)
        g = np.fromfile(os.path.join(directory, gfile))
        ours = np.fromfile(os.path.join(directory, outfile))
        rows = []
        if kind == "bound":
            D, value = float(a), float(b)
            ref = bound(ours, g, D)  # ours holds the step sizes here
            rows.append(("numpy", relative_error(np.array([value]), np.array([ref])), "-", "-"))
        else:
            width = float(a)
            power = None if b == "-" else float(b)
            impls = {"median": ["scipy.ndimage", "pandas.rolling"],
                     "gaussian": ["scipy.ndimage", "fftconvolve"], "none": ["numpy"]}[label]
            for impl in impls:
                if not affordable(label, impl, T, width):
                    continue
                ref = FILTERS[(label, impl)](g, width)
                if power is not None:
                    ref = schedule(ref, power)
                rows.append((impl, relative_error(ours, ref), f"{width:g}",
                             "-" if power is None else f"{power:g}"))
        for impl, err, w, p in rows:
            ok = err <= TOLERANCE
            failed += not ok
            worst = max(worst, err)
            print(f"{kind:<9} {label:<18} {w:>9} {p:>5} {T:>8} {impl:<15} {err:>14.2e}"
                  f"{'' if ok else '  FAIL'}", flush=True)
    print(f"agreement: {len(lines)} outputs, worst relative difference {worst:.2e} "
          f"(tolerance {TOLERANCE:g}): {'FAIL' if failed else 'ok'}")
    return 1 if failed else 0


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        sys.exit(check(sys.argv[2]))
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    time_all(repeats)


if __name__ == "__main__":
    main()
