"""The convex benchmark's numpy reference (bench/convex.sh runs it next to bench/convex):
  python3 bench/convex_ref.py [repeats]
prints "name seconds_per_step setup_seconds final_suboptimality" lines (the last: f(w_T) - f*
of the last run at the larger steps, at which bench/convex.c reports its own) with the case
names bench/convex.c prints:
  convex_*  one minibatch SGD step of what src/experiments/convex.c does (Defazio et al.,
            arXiv:2310.07831), float64: batch_size row indices drawn with replacement (numpy's
            default Generator, drawn 1024 steps at a time: one integers() call per step would
            cost more than the step at d = 100), the rows gathered (fancy indexing q.x[idx];
            np.take with out= into a preallocated batch is 3 times slower at d = 1000), the
            minibatch gradient X_b^T r / b + l2 w with r = X_b w - y_b (least squares) or
            r = -sigma(-X_b w) (logistic, the rows holding y x), its l2 norm, the linear-decay
            step size eta (T - t) / T, both stored for the bound, w -= lr g; at the {log: 40}
            record times (bench/convex.c's 40 times, src/core/record.c's rule) the full
            objective f(w) over the n_train rows (at t = steps with its gradient and norm) and
            the blow-up guard on f - f*; after the run the last-iterate bound (refine_ref.bound,
            the formula of ts_refine_bound in numpy).
            The set-up follows the C code in kind, not in stream: inputs N(0, diag(k^-s)) with
            s = ln(100) / ln(d), a teacher N(0, I/d), label noise 0.1 or flips 0.05, l2 1e-3,
            f* by Newton's method (numpy's BLAS for the Hessian, numpy.linalg.solve).
The C code also computes the minibatch loss, which the step does not use; this reference does
not. Per-step time is the difference of two runs that differ only in `steps` (set-up and the
40 records cancel), the median over the repeats, after one untimed run; setup_seconds is the
median of the smaller runs less their steps at that rate.

Run with Debian's /usr/bin/python3 (numpy 1.24, scipy 1.10) and OPENBLAS_NUM_THREADS=1
(bench/convex.sh sets it), so that numpy's BLAS runs on one thread like the C code's.
"""
import math
import os
import sys
import time

import numpy as np
from scipy.special import expit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from refine_ref import bound  # noqa: E402

CONDITION = 100.0
NOISE = 0.1
FLIP = 0.05
L2 = 1e-3
ETA = 0.1
RECORDS = 40
BLOWUP = 1e8
INDEX_BLOCK = 1024

# name, problem, d, n, batch, small steps, large steps (numpy's own counts: its step is slower)
CASES = [
    ("convex_least_squares_d100_b8", "least_squares", 100, 1000, 8, 10000, 110000),
    ("convex_logistic_d100_b8", "logistic", 100, 1000, 8, 10000, 110000),
    ("convex_least_squares_d1000_b64", "least_squares", 1000, 1000, 64, 1000, 21000),
    ("convex_logistic_d1000_b64", "logistic", 1000, 1000, 64, 1000, 21000),
]


def log_times(n, steps):
    """src/core/record.c's {log: n} times over [0, steps]."""
    t = [0] * n
    for k in range(1, n):
        r = int(math.floor(steps ** (k / (n - 1)) + 0.5))
        t[k] = r if r > t[k - 1] else t[k - 1] + 1
    t[n - 1] = steps
    for k in range(n - 2, 0, -1):
        if t[k] >= t[k + 1]:
            t[k] = t[k + 1] - 1
    return t


class Problem:
    def __init__(self, problem, d, n, seed):
        rng = np.random.default_rng(seed)
        self.logistic = problem == "logistic"
        self.d, self.n = d, n
        slope = math.log(CONDITION) / math.log(d) if d > 1 else 0.0
        wstar = rng.standard_normal(d) / math.sqrt(d)
        x = rng.standard_normal((n, d)) * np.arange(1, d + 1, dtype=float) ** (-slope / 2)
        y = x @ wstar
        if self.logistic:
            sign = np.where(y >= 0, 1.0, -1.0)
            sign[rng.random(n) < FLIP] *= -1.0
            x *= sign[:, None]
            y = np.zeros(n)
        else:
            y += NOISE * rng.standard_normal(n)
        self.x, self.y = x, y
        self.opt, self.fstar = self.solve()

    def objective(self, w, gradient=False):
        m = self.x @ w
        if self.logistic:
            f = float(np.mean(np.logaddexp(0.0, -m)))
            r = -expit(-m)
        else:
            r = m - self.y
            f = 0.5 * float(r @ r) / self.n
        f += 0.5 * L2 * float(w @ w)
        if not gradient:
            return f
        return f, self.x.T @ r / self.n + L2 * w

    def hessian(self, w):
        if self.logistic:
            s = expit(self.x @ w)
            c = s * (1.0 - s)
        else:
            c = np.ones(self.n)
        h = (self.x.T * (c / self.n)) @ self.x
        h[np.diag_indices_from(h)] += L2
        return h

    def solve(self):
        """Newton's method from 0 with Armijo backtracking (logistic), the decrement test of
        convex.c; least squares stops after the solve and one refinement."""
        w = np.zeros(self.d)
        for it in range(200):
            f, g = self.objective(w, True)
            direction = -np.linalg.solve(self.hessian(w), g)
            decrement = -float(g @ direction)
            if decrement <= 1e-15 * abs(f) or (not self.logistic and it == 2):
                return w, f
            t = 1.0
            for _ in range(60):
                trial = w + t * direction
                if not self.logistic or self.objective(trial) <= f - 1e-4 * t * decrement:
                    break
                t *= 0.5
            w = trial
        raise RuntimeError("Newton's method did not converge")


def run(q, batch, steps, seed):
    """One SGD pass of `steps` steps from w = 0; returns the final suboptimality, or None when
    the guard fires."""
    d, n = q.d, q.n
    rng = np.random.default_rng(seed + 1)
    w = np.zeros(d)
    lrs = np.empty(steps)
    gnorms = np.empty(steps)
    records = set(log_times(RECORDS, steps))
    reference = None
    inv_batch = 1.0 / batch
    rows = None
    for t in range(steps + 1):
        stepping = t < steps
        if stepping:
            if t % INDEX_BLOCK == 0:
                rows = rng.integers(0, n, size=(INDEX_BLOCK, batch))
            idx = rows[t % INDEX_BLOCK]
            xb = q.x[idx]
            m = xb @ w
            if q.logistic:
                g = xb.T @ expit(-m)
                g *= -inv_batch
            else:
                m -= q.y[idx]
                g = xb.T @ m
                g *= inv_batch
            g += L2 * w
            lr = ETA * (steps - t) / steps
            gnorm = math.sqrt(float(g @ g))
            lrs[t] = lr
            gnorms[t] = gnorm
        if t in records:
            if stepping:
                f = q.objective(w)
            else:
                f, full = q.objective(w, True)
                gnorm = math.sqrt(float(full @ full))
            gap = f - q.fstar
            if reference is None:
                reference = gap
            if not (math.isfinite(gap) and gap <= BLOWUP * reference):
                return None
        if not stepping:
            break
        w -= lr * g
    bound(lrs, gnorms, float(np.linalg.norm(q.opt)))
    return gap


def time_run(case, steps, seed):
    """(wall time, final suboptimality) of one run."""
    name, problem, d, n, batch = case[:5]
    start = time.perf_counter()
    q = Problem(problem, d, n, seed)
    result = run(q, batch, steps, seed)
    elapsed = time.perf_counter() - start
    if result is None:
        sys.exit(f"bench/convex_ref.py: {name} diverged")
    return elapsed, result


def main():
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    for case in CASES:
        small_steps, large_steps = case[5], case[6]
        time_run(case, small_steps, 0)
        small, large = [], []
        for k in range(repeats):
            small.append(time_run(case, small_steps, k)[0])
            elapsed, final = time_run(case, large_steps, k)
            large.append(elapsed)
        ms, ml = float(np.median(small)), float(np.median(large))
        per_step = (ml - ms) / (large_steps - small_steps)
        print(f"{case[0]} {per_step:.6e} {ms - per_step * small_steps:.6e} {final:.3e}",
              flush=True)


if __name__ == "__main__":
    main()
