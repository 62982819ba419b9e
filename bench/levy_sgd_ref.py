#!/usr/bin/python3
"""numpy reference for bench/levy_sgd.c: the levy_sgd experiment's step, in numpy.

    bench/levy_sgd_ref.py [repeats]      timings: "name.sampler seconds_per_step" lines
    bench/levy_sgd_ref.py --check        checks the two noise samplers' laws, prints "ok"

Each step does the work src/experiments/levy_sgd.c does (Dupuis & Viallard, arXiv:2312.00427):
the Euler scheme W <- W - eta grad V_S(W) + sigma eta^(1/alpha) L and the expected dynamics
Wbar <- Wbar - eta grad V(Wbar) + sigma eta^(1/alpha) L with the same draw L, the train risk
||X W - y||^2 / (2n) (whose residual the gradient X^T (X W - y) / n reuses), the test risks of
W and Wbar, the gap, the distance ||W - Wbar||, their running maxima, sparse records and the
blow-up check. Per-step time is the difference of two runs that differ only in the number of
steps (set-up, the data matrix, cancels), the median over the repeats, runs alternating.

Two samplers for the noise, printed as two keys per case:
  name.scipy  scipy.stats.levy_stable.rvs (explicitly in Nolan's S1, which is also scipy 1.10's
              default; the mixing variable is totally skewed, so S0 would be a different law)
  name.cms    the vectorised numpy Chambers-Mallows-Stuck of bench/variates_ref.py, the fastest
              a numpy user could reasonably write
Both draw the noise NOISE_BLOCK steps at a time, as a numpy user would (scipy's rvs costs
~0.5 ms per call whatever its size); the C code draws one vector per step. The draws are the
same in number and law: isotropic L = sqrt(phi) G with G ~ N(0, I_d) and
phi ~ S1(alpha/2, 1, 2 cos(pi alpha/4)^(2/alpha), 0) (include/tailsweep/variates.h,
Samorodnitsky & Taqqu 1994, Prop. 2.5.2), or i.i.d. symmetric S(alpha, 0, 1, 0) coordinates.

Run with Debian's /usr/bin/python3 (python3-numpy, python3-scipy). numpy's matrix-vector
products go through the system libblas.so.3, which is OpenBLAS once libopenblas-dev is installed
(as the C code's are, one thread each).
"""
import math
import sys
import time

import numpy as np
from scipy import stats

sys.dont_write_bytecode = True  # no __pycache__ in the source tree (read-only under distcheck)
from variates_ref import cms  # noqa: E402  (the CMS bench/variates_ref.py ships)

NOISE_BLOCK = 64

# One line per case, the names bench/levy_sgd.c prints. Step counts are multiples of
# NOISE_BLOCK, so that both runs of a pair draw whole blocks and the difference holds exactly
# (steps_large - steps_small) / NOISE_BLOCK block draws.
#  name                      problem              d     n     noise         sigma  small  large
CASES = [
    ("quadratic_d100_iso", "quadratic", 100, 100, "isotropic", 0.1, 128, 2176),
    ("quadratic_d100_coord", "quadratic", 100, 100, "coordinate", 0.1, 128, 2176),
    ("quadratic_d100_sigma0", "quadratic", 100, 100, "isotropic", 0.0, 128, 2176),
    ("regression_d1000_iso", "linear_regression", 1000, 1000, "isotropic", 0.1, 64, 192),
    ("regression_d1000_coord", "linear_regression", 1000, 1000, "coordinate", 0.1, 64, 192),
]

# The experiment's defaults (tailsweep describe levy_sgd) and the benchmark's settings.
ALPHA = 1.5
STEP_SIZE = 0.1
WEIGHT_DECAY = 0.0
INIT_SCALE = 1.0
TEACHER_NORM = 1.0
LABEL_NOISE = 0.1
RECORDS = 10
BLOWUP_RISK = 1e100


def mixing_scale(alpha):
    """Scale of phi in S1: E exp(i <u, sqrt(phi) G>) = exp(-||u||^alpha) (variates.h)."""
    return 2 * math.cos(math.pi * alpha / 4) ** (2 / alpha)


def scipy_stable(rng, alpha, beta, scale, size):
    stats.levy_stable.parameterization = "S1"
    return stats.levy_stable.rvs(alpha, beta, loc=0, scale=scale, size=size, random_state=rng)


def cms_stable(rng, alpha, beta, scale, size):
    """S1(alpha, beta, scale, 0): for mu = 0 and alpha != 1, S1 is a scale family."""
    return scale * cms(rng, alpha, beta, size)


class Noise:
    """Rows of unit-scale d-dimensional noise, drawn NOISE_BLOCK rows at a time."""

    def __init__(self, stable, rng, kind, alpha, d, block=NOISE_BLOCK):
        self.stable, self.rng, self.kind, self.alpha, self.d = stable, rng, kind, alpha, d
        self.size, self.block, self.next = block, None, block

    def draw_block(self):
        shape = (self.size, self.d)
        if self.kind == "coordinate":
            return self.stable(self.rng, self.alpha, 0.0, 1.0, shape)
        phi = self.stable(self.rng, self.alpha / 2, 1.0, mixing_scale(self.alpha), self.size)
        # phi > 0 in exact arithmetic; rounding can give a tiny negative (as in levy.c)
        radius = np.sqrt(np.maximum(phi, 0.0))
        return radius[:, None] * self.rng.standard_normal(shape)

    def row(self):
        if self.next == self.size:
            self.block, self.next = self.draw_block(), 0
        self.next += 1
        return self.block[self.next - 1]


def random_direction(rng, d, norm):
    e = rng.standard_normal(d)
    length = np.linalg.norm(e)
    return e * (norm / length) if length > 0 else np.zeros(d)


def record_times(steps, count):
    """Log-spaced integer times in [0, steps], 0 and steps included (the cost is what matters:
    a comparison per step)."""
    times = np.unique(np.rint(np.geomspace(1, steps, count - 1)).astype(np.int64))
    return [0] + [int(t) for t in times]


class Problem:
    """The data, the teacher and W0, as levy_sgd.c's problem_init sets them up."""

    def __init__(self, problem, d, n, rng):
        if problem not in ("quadratic", "linear_regression"):
            raise ValueError(f"no numpy version of problem {problem!r}")
        regression = problem == "linear_regression"
        self.d, self.n = d, n
        self.w0 = random_direction(rng, d, INIT_SCALE)
        self.wstar = random_direction(rng, d, TEACHER_NORM) if regression else np.zeros(d)
        self.x = rng.standard_normal((n, d))
        self.y = (LABEL_NOISE * rng.standard_normal(n) + self.x @ self.wstar if regression
                  else np.zeros(n))
        self.label_variance = LABEL_NOISE**2 if regression else 0.0


def run(problem, steps, sigma, noise):
    """One run of levy_sgd.c's iterate(); returns the records and scalars (so nothing is dead
    code), or None when it blew up."""
    p, lr = problem, STEP_SIZE
    w, wbar = p.w0.copy(), p.w0.copy()
    res, grad, diff = np.empty(p.n), np.empty(p.d), np.empty(p.d)
    times, records, nxt = record_times(steps, RECORDS), [], 0
    sup_gap, sup_distance = -math.inf, 0.0
    for t in range(steps + 1):
        np.dot(p.x, w, out=res)
        res -= p.y
        train = 0.5 * float(res @ res) / p.n
        np.subtract(w, p.wstar, out=diff)
        test = 0.5 * (float(diff @ diff) + p.label_variance)
        np.subtract(wbar, p.wstar, out=diff)
        expected = 0.5 * (float(diff @ diff) + p.label_variance)
        np.subtract(w, wbar, out=diff)
        distance = math.sqrt(float(diff @ diff))
        sup_gap = max(sup_gap, test - train)
        sup_distance = max(sup_distance, distance)
        if nxt < len(times) and times[nxt] == t:
            records.append((train, test, test - train, distance, expected))
            nxt += 1
        if not (math.isfinite(train + test + expected)
                and max(train, test, expected) <= BLOWUP_RISK):
            return None
        if t == steps:
            return records, test - train, sup_gap, sup_distance
        # W: grad V_S = X^T (X w - y) / n + wd w, from the residual above
        np.dot(res, p.x, out=grad)
        grad *= 1.0 / p.n
        grad += WEIGHT_DECAY * w
        w -= lr * grad
        # Wbar: grad V = (1 + wd) wbar - w*
        np.multiply(wbar, 1.0 + WEIGHT_DECAY, out=grad)
        grad -= p.wstar
        wbar -= lr * grad
        if sigma > 0:  # the same draw for both: the synchronous coupling
            scale = sigma * lr ** (1.0 / ALPHA)
            np.multiply(noise.row(), scale, out=diff)
            w += diff
            wbar += diff
    return None


def time_run(case, steps, stable, seed):
    name, problem, d, n, kind, sigma, _, _ = case
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    data = Problem(problem, d, n, rng)
    result = run(data, steps, sigma, Noise(stable, rng, kind, ALPHA, d))
    elapsed = time.perf_counter() - start
    if result is None:
        sys.exit(f"bench/levy_sgd_ref.py: {name} diverged")
    return elapsed


def seconds_per_step(case, stable, repeats):
    small_steps, large_steps = case[6], case[7]
    small, large = [], []
    for k in range(repeats):
        small.append(time_run(case, small_steps, stable, k))
        large.append(time_run(case, large_steps, stable, k))
    return (float(np.median(large)) - float(np.median(small))) / (large_steps - small_steps)


def check_samplers():
    """The noise laws both samplers give, checked on their characteristic functions: for a
    unit vector v, E cos(u <v, L>) = exp(-|u|^alpha) for the isotropic law (every direction),
    and exp(-|u|^alpha sum_k |v_k|^alpha) for independent coordinates. With v = (1, 1)/sqrt(2)
    the two differ (exp(-1) = 0.368 against exp(-2^(1 - alpha/2)) = 0.305 at u = 1, alpha = 1.5),
    and S0 in place of S1 for phi would shift phi by 2.4 scales. cos is in [-1, 1], so the mean
    of N draws has standard error <= 1/sqrt(N); 5/sqrt(N) = 0.011 at N = 2 10^5 keeps a false
    alarm below 1e-6 (Chebyshev would give 1/25; the CLT applies, the summands being bounded)
    while the differences above are 6 tolerances or more."""
    draws, d = 200000, 2
    tolerance = 5 / math.sqrt(draws)
    v = np.array([1.0, 1.0]) / math.sqrt(2)
    failures = []
    for sampler, stable in (("scipy", scipy_stable), ("cms", cms_stable)):
        for kind in ("isotropic", "coordinate"):
            rows = Noise(stable, np.random.default_rng(7), kind, ALPHA, d, draws).draw_block()
            for direction, coefficients in (("e1", np.array([1.0, 0.0])), ("diag", v)):
                projection = rows @ coefficients
                for u in (0.5, 1.0, 2.0):
                    spread = 1.0 if kind == "isotropic" else np.sum(coefficients**ALPHA)
                    want = math.exp(-spread * abs(u) ** ALPHA)
                    got = float(np.mean(np.cos(u * projection)))
                    if abs(got - want) > tolerance:
                        failures.append(f"{sampler} {kind} {direction} u={u}: "
                                        f"E cos = {got:.4f}, law {want:.4f}")
    for failure in failures:
        print(failure)
    print("ok" if not failures else f"FAILED ({len(failures)})")
    return not failures


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--check":
        sys.exit(0 if check_samplers() else 1)
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    for case in CASES:
        noisy = case[5] > 0
        for sampler, stable in (("cms", cms_stable), ("scipy", scipy_stable)):
            # without noise the two samplers do the same work: time it once, print it twice
            if noisy or sampler == "cms":
                seconds = seconds_per_step(case, stable, repeats)
            print(f"{case[0]}.{sampler} {seconds:.6e}", flush=True)


if __name__ == "__main__":
    main()
