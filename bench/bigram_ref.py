#!/usr/bin/python3
"""numpy reference for bench/bigram.c: the same work with the same algorithms, in numpy.

    bench/bigram_ref.py [repeats [filter]]

Prints "name seconds" lines (medians) with the names bench/bigram prints:
  exact_gd_record     r(t) = sum_i pi_i exp(2t log|1 - eta pi_i|) at d = 10^6
  exact_sign_record   S(t) = moving entries summed directly + suffix sums of the arrived ones
  full_gd_step        one GD step of the d x d matrix with its loss, d = 2000
  full_sign_step      the same for sign descent
  sampled_step_2000   one batch-64 SGD step on the touched columns (a cached CDF for the Zipf
  sampled_step_10000  draws: numpy's choice(p=...) rebuilds its table on every call)
  sampled_step_2000_lazy / _10000_lazy   the same SGD step with the C code's algorithm: a lazy
                      scale per column, so O(B) work instead of O(B d)
  sampled_sign_step_2000  one batch-64 sign-SGD step (dense on the touched columns)
  triad_1e6/4e6       a = b + s c
Run with Debian's /usr/bin/python3 (numpy from python3-numpy).
"""
import sys
import time

import numpy as np


def median_time(fn, repeats, inner=1):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(inner):
            fn()
        times.append((time.perf_counter() - start) / inner)
    return float(np.median(times))


def zipf(d, a=1.0):
    pi = np.arange(1, d + 1, dtype=np.float64) ** -a
    return pi / pi.sum()


def exact_gd(repeats):
    pi = zipf(10**6)
    eta = 1.0 / pi[0]
    x = eta * pi
    with np.errstate(divide="ignore"):
        ell = np.where(x < 1, np.log1p(-np.minimum(x, 1)), np.log(np.abs(x - 1)))
    times = iter(np.linspace(1, 10**5, 10**6))
    return median_time(lambda: pi @ np.exp((2 * next(times)) * ell), repeats, 20)


def exact_sign(repeats):
    d, steps, phi = 10**6, 10**5, 2.0
    k = np.arange(1, d + 1, dtype=np.float64)
    h = (k**-1.0).sum()
    p = k**-1.0 / h
    eta = 1.0 / (h * steps * phi)
    m = np.floor(p / eta)
    r0 = p - m * eta
    m_odd = (m % 2) == 1
    arrived = []
    for parity in (0, 1):
        e = np.where(r0 == 0, 0.0, np.where(m_odd != bool(parity), eta - r0, r0))
        arrived.append(np.append(np.cumsum((e * e)[::-1])[::-1], 0.0))
    neg_m = -m  # increasing, for searchsorted
    times = iter(np.linspace(1, steps, 2000).astype(np.int64))

    def record():
        t = int(next(times))
        moving = int(np.searchsorted(neg_m, -t, side="right"))  # entries with m >= t
        head = p[:moving] - t * eta
        return head @ head + arrived[t % 2][moving]

    return median_time(record, repeats, 200)


def full(repeats, sign):
    d = 2000
    pi = zipf(d)
    rng = np.random.default_rng(1)
    target = np.empty((d, d))
    for i in range(d):  # row i of the array is column i of W: the prediction for token i
        target[i, rng.permutation(d)] = pi
    w = np.zeros((d, d))
    eta = 1e-4 if sign else 1.0 / pi[0]
    scale = (eta * pi)[:, None]
    e = np.empty((d, d))  # preallocated: a fresh 32 MB temporary per step costs page faults

    def step():
        np.subtract(w, target, out=e)
        loss = 0.5 * pi @ np.einsum("ij,ij->i", e, e)
        if sign:  # sign(pi_i e) = sign(e)
            np.sign(e, out=e)
            np.multiply(e, eta, out=e)
        else:
            np.multiply(e, scale, out=e)
        np.subtract(w, e, out=w)
        return loss

    step()
    return median_time(step, repeats, 5)


def sampled(repeats, d, batch=64, rule="sgd"):
    pi = zipf(d)
    cdf = np.cumsum(pi)
    rng = np.random.default_rng(1)
    rho = np.empty((d, d), dtype=np.int32)
    for i in range(d):
        rho[i] = rng.permutation(d)
    w = np.zeros((d, d))
    w.fill(0.0)  # fault its pages in now: else the first case run pays them inside its timing
    scale = np.ones(d)
    eta = 0.001 if rule == "sign" else 0.3

    def step():
        i = np.minimum(np.searchsorted(cdf, rng.random(batch), side="right"), d - 1)
        k = np.minimum(np.searchsorted(cdf, rng.random(batch), side="right"), d - 1)
        j = rho[i, k]
        cols, where, counts = np.unique(i, return_inverse=True, return_counts=True)
        if rule == "lazy":  # column i is scale[i] * w[i]; the step scales it and adds at j
            scale[cols] *= 1 - eta * counts / batch
            np.add.at(w, (i, j), eta / batch / scale[i])
            return
        g = (counts / batch)[:, None] * w[cols]
        np.subtract.at(g, (where, j), 1.0 / batch)
        w[cols] -= eta * (np.sign(g) if rule == "sign" else g)

    step()
    return median_time(step, repeats, 200)


def triad(repeats, n):
    b = np.arange(n, dtype=np.float64)
    c = 1.0 / (b + 1)
    a = np.empty(n)
    tmp = np.empty(n)

    def run():
        np.multiply(c, 0.5, out=tmp)
        np.add(b, tmp, out=a)

    return median_time(run, repeats, 20)


def main():
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    wanted = sys.argv[2] if len(sys.argv) > 2 else ""  # a substring of the names, as bench/bigram
    cases = [
        ("exact_gd_record", lambda: exact_gd(repeats)),
        ("exact_sign_record", lambda: exact_sign(repeats)),
        ("full_gd_step", lambda: full(repeats, sign=False)),
        ("full_sign_step", lambda: full(repeats, sign=True)),
        ("sampled_step_2000", lambda: sampled(repeats, 2000)),
        ("sampled_step_10000", lambda: sampled(repeats, 10000)),
        ("sampled_step_2000_lazy", lambda: sampled(repeats, 2000, rule="lazy")),
        ("sampled_step_10000_lazy", lambda: sampled(repeats, 10000, rule="lazy")),
        ("sampled_sign_step_2000", lambda: sampled(repeats, 2000, rule="sign")),
        ("triad_1e6", lambda: triad(repeats, 10**6)),
        ("triad_4e6", lambda: triad(repeats, 4 * 10**6)),
    ]
    for name, fn in cases:
        if wanted not in name:
            continue
        print(f"{name} {fn():.6e}", flush=True)


if __name__ == "__main__":
    main()
