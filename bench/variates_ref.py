#!/usr/bin/python3
"""Reference timings for bench/variates: the same number of draws by scipy and numpy.

usage: /usr/bin/python3 bench/variates_ref.py [N [REPEATS]]   (default 1000000 draws, 5 repeats)

Prints "key ns_per_draw description" lines with the keys bench/variates.sh pairs with the C
benchmark's. Needs Debian's python3-numpy and python3-scipy (the python3 first on PATH may be a
pyenv build without them: run /usr/bin/python3).

The Chambers-Mallows-Stuck sampler below is the vectorised numpy baseline the issue asks for:
one numpy expression per step over whole arrays, in Weron's (1996) form for Nolan's S1 (the
same formula src/variates/levy.c vectorises in C).
"""
import sys
import time

import numpy as np
from scipy import stats


def cms(rng, alpha, beta, n):
    """n draws of S1(alpha, beta, 1, 0) (Weron 1996; alpha = 1 by Chambers-Mallows-Stuck)."""
    v = np.pi * (rng.random(n) - 0.5)
    w = rng.standard_exponential(n)
    if alpha == 1:
        p = np.pi / 2 + beta * v
        return (p * np.tan(v) - beta * np.log(np.pi / 2 * w * np.cos(v) / p)) * (2 / np.pi)
    t = beta * np.tan(np.pi * alpha / 2)
    a = alpha * v + np.arctan(t)  # alpha (V + B)
    s = (1 + t * t) ** (1 / (2 * alpha))
    return (s * np.sin(a) / np.cos(v) ** (1 / alpha)
            * (np.cos(v - a) / w) ** ((1 - alpha) / alpha))


def zipf_pmf(d, s):
    p = np.arange(1, d + 1, dtype=float) ** -s
    return p / p.sum()


def truncated_zipf(rng, s, d, n):
    """numpy's Generator.zipf samples the unbounded law (s > 1); keep draws <= d."""
    out = np.empty(0, dtype=np.int64)
    while out.size < n:
        k = rng.zipf(s, size=2 * (n - out.size))
        out = np.concatenate([out, k[k <= d]])
    return out[:n]


def median_ns(fn, draws, repeats):
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) / draws * 1e9)
    return float(np.median(times))


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000000
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    rng = np.random.default_rng(2025)
    sink = []

    def report(key, fn, what, draws=n, reps=repeats):
        print(f"{key:<28} {median_ns(fn, draws, reps):8.2f}  {what}", flush=True)

    print(f"# bench/variates_ref.py: ns per draw, median of {repeats} runs of {n} draws; "
          f"numpy {np.__version__}, scipy {__import__('scipy').__version__}")
    report("stable.scipy", lambda: sink.append(stats.levy_stable.rvs(
        1.5, 0.5, size=n, random_state=rng)[0]),
        "scipy.stats.levy_stable.rvs, alpha 1.5 beta 0.5", reps=min(repeats, 3))
    report("stable.numpy_cms_sym", lambda: sink.append(cms(rng, 1.5, 0, n)[0]),
           "numpy CMS, alpha 1.5 beta 0")
    report("stable.numpy_cms_skew", lambda: sink.append(cms(rng, 1.5, 0.5, n)[0]),
           "numpy CMS, alpha 1.5 beta 0.5")
    report("stable.numpy_cms_alpha1", lambda: sink.append(cms(rng, 1, 0.5, n)[0]),
           "numpy CMS, alpha 1 beta 0.5")
    report("gauss.numpy", lambda: sink.append(rng.standard_normal(n)[0]),
           "Generator.standard_normal")
    report("uniform.numpy", lambda: sink.append(rng.random(n)[0]), "Generator.random")

    for d in (1000, 1000000):
        p = zipf_pmf(d, 1.0)
        cdf = np.cumsum(p)
        report(f"zipf.choice_d{d}", lambda: sink.append(rng.choice(d, size=n, p=p)[0]),
               f"Generator.choice(d, size=N, p=p), d {d} s 1")
        calls = max(1, min(n // 64, 200 if d > 10000 else 5000))
        report(f"zipf.choice64_d{d}",
               lambda: [sink.append(rng.choice(d, size=64, p=p)[0]) for _ in range(calls)],
               f"Generator.choice(d, size=64, p=p) per mini-batch, d {d} s 1",
               draws=64 * calls, reps=min(repeats, 3))
        report(f"zipf.cdf_d{d}",
               lambda: sink.append(np.searchsorted(cdf, rng.random(n) * cdf[-1],
                                                   side="right")[0]),
               f"cached CDF + searchsorted, d {d} s 1")
    report("zipf.numpy_zipf_d1000000_s1.5",
           lambda: sink.append(truncated_zipf(rng, 1.5, 1000000, n)[0]),
           "Generator.zipf(1.5) truncated to d 10^6 by rejection")
    print(f"# checksum {float(np.sum(np.asarray(sink, dtype=float)))}")


if __name__ == "__main__":
    main()
