"""The ssi benchmark's numpy reference (bench/ssi.sh runs it next to bench/ssi):
  python3 bench/ssi_ref.py [repeats]
prints lines with the case names bench/ssi.c prints:
  ssi_MODEL_dD_LL  seconds per online spherical SGD step of what src/experiments/ssi.c does
                   (Arnaboldi et al., arXiv:2506.02651; docs/experiments.md section 5), float64,
                   vectorised over the step's L x d sample: a fresh X drawn with numpy's default
                   Generator (standard_normal into a preallocated buffer, then scaled by
                   1/sqrt d: entries N(0, 1/d)), z = X @ w*, the target sum
                   y = L^(-1/2) sum_l z_l, the relu student (tied: s = X.sum(0),
                   h = L^(-1/2) s . w; untied: h = L^(-1/2) sum_l x_l . w_l), the loss (y - f)^2,
                   the gradient step w -= gamma grad, the renormalisation to sqrt(d) (sqrt(L d)
                   untied), the overlap every step (recovery_step's test) and the {linear: 2}
                   records (overlap, mean loss). gamma = 0.5 (step_size 0.5, constant schedule).
  draw_dD_LL       seconds per standard_normal(out=X) of the L x d buffer alone: numpy's draw
                   limit for the step.
  check_MODEL_dD_LL  "steps mean sem": the final overlap after steps = d, mean and standard error
                   over the same number of seeds as bench/ssi.c (numpy's streams, so the two
                   agree to within that noise, not to the bit).
Per-step time is the difference of two runs that differ only in `steps` (set-up cancels), the
median over the repeats, runs alternating after one untimed run.

The set-up follows ssi.c in kind, not in stream: w* Gaussian scaled to norm sqrt(d), each student
row w_l = m0 w* + sqrt(1 - m0^2) u_l with u_l Gaussian made orthogonal to w* (twice) and scaled
to norm sqrt(d), m0 = 1/sqrt(d) (start: positive).

Run with Debian's /usr/bin/python3 (numpy 1.24) and OPENBLAS_NUM_THREADS=1 (bench/ssi.sh sets
it), so that numpy's BLAS runs on one thread like the C code's.
"""
import math
import sys
import time

import numpy as np

GAMMA = 0.5
THRESHOLD = 0.5  # recovery_threshold's default
CHECK_SEEDS = 6  # bench/ssi.c's CHECK_SEEDS

# name, model, d, L, small steps, large steps (numpy's own counts: its step is slower)
CASES = [
    ("ssi_tied_d1000_L1", "tied", 1000, 1, 2000, 22000),
    ("ssi_untied_d1000_L1", "untied", 1000, 1, 2000, 22000),
    ("ssi_tied_d1000_L16", "tied", 1000, 16, 300, 3300),
    ("ssi_untied_d1000_L16", "untied", 1000, 16, 300, 3300),
    ("ssi_tied_d4000_L4", "tied", 4000, 4, 300, 3300),
    ("ssi_untied_d4000_L4", "untied", 4000, 4, 300, 3300),
]


def directions(rng, d, rows):
    """w* (norm sqrt d) and the student [rows x d] at overlap m0 = 1/sqrt(d) per row."""
    root_d = math.sqrt(d)
    wstar = rng.standard_normal(d)
    wstar *= root_d / np.linalg.norm(wstar)
    m0 = 1.0 / root_d
    w = rng.standard_normal((rows, d))
    for _ in range(2):
        w -= np.outer(w @ wstar / d, wstar)
    w *= root_d / np.linalg.norm(w, axis=1)[:, None]
    w = m0 * wstar + math.sqrt(1.0 - m0 * m0) * w
    return wstar, w


def run(model, d, L, steps, seed):
    """One run; returns (final overlap, recovery step or None, mean loss over the run)."""
    rng = np.random.default_rng(seed)
    untied = model == "untied"
    wstar, w = directions(rng, d, L if untied else 1)
    if not untied:
        w = w[0].copy()
    x = np.empty((L, d))
    inv_root_d, scale = 1.0 / math.sqrt(d), 1.0 / math.sqrt(L)
    radius = math.sqrt(w.size)
    two_scale_gamma = 2.0 * scale * GAMMA
    recovery, loss_sum, since, records = None, 0.0, 0, []
    for t in range(steps + 1):
        if untied:
            m_rows = w @ wstar / d
            overlap = math.sqrt(float(m_rows @ m_rows) / L)
        else:
            overlap = float(w @ wstar) / d
        if recovery is None and overlap >= THRESHOLD:
            recovery = t
        if t == 0 or t == steps:  # {linear: 2}
            records.append((overlap, loss_sum / since if since else math.nan))
            loss_sum, since = 0.0, 0
        if t == steps:
            break
        rng.standard_normal(out=x)
        x *= inv_root_d
        y = scale * float((x @ wstar).sum())
        if untied:
            h = scale * float(np.vdot(x, w))
        else:
            s = x.sum(axis=0)
            h = scale * float(s @ w)
        r = y - h if h > 0 else y
        loss_sum += r * r
        since += 1
        if h > 0:  # the relu's slope; grad = -2 r L^(-1/2) (s or X)
            w += (two_scale_gamma * r) * (x if untied else s)
        norm = float(np.linalg.norm(w))
        if norm > 0 and math.isfinite(norm):
            w *= radius / norm
    return records[-1][0], recovery, records[-1][1]


def time_run(case, steps, seed):
    start = time.perf_counter()
    run(case[1], case[2], case[3], steps, seed)
    return time.perf_counter() - start


def time_draws(calls, x, rng):
    start = time.perf_counter()
    for _ in range(calls):
        rng.standard_normal(out=x)
    return time.perf_counter() - start


def difference(timer, small_steps, large_steps, repeats):
    """(median timer(large) - median timer(small)) / (large - small), after one untimed run."""
    timer(small_steps, 0)
    small, large = [], []
    for k in range(repeats):
        small.append(timer(small_steps, k))
        large.append(timer(large_steps, k))
    return (float(np.median(large)) - float(np.median(small))) / (large_steps - small_steps)


def main():
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    for case in CASES:
        seconds = difference(lambda steps, k: time_run(case, steps, k), case[4], case[5],
                             repeats)
        print(f"{case[0]} {seconds:.6e}", flush=True)
    for case in CASES[::2]:  # one draw per (d, L)
        d, L = case[2], case[3]
        x = np.empty((L, d))
        rng = np.random.default_rng(7)
        calls = int(4e7 / (L * d)) + 1  # as bench/ssi.c: 4 10^7 values per repeat
        time_draws(calls, x, rng)
        t = [time_draws(calls, x, rng) / calls for _ in range(repeats)]
        print(f"draw_d{d}_L{L} {float(np.median(t)):.6e}", flush=True)
    for case in CASES:
        d = case[2]
        finals = [run(case[1], d, case[3], d, seed)[0] for seed in range(1, CHECK_SEEDS + 1)]
        mean = float(np.mean(finals))
        sem = float(np.std(finals, ddof=1)) / math.sqrt(CHECK_SEEDS)
        print(f"check_{case[0][4:]} {d} {mean:.6f} {sem:.6f}", flush=True)


if __name__ == "__main__":
    main()
