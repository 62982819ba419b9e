"""The two_layer benchmark's numpy reference (bench/two_layer.sh runs it next to bench/two_layer):
  python3 bench/two_layer_ref.py [repeats]
prints "name seconds_per_step" lines with the case names bench/two_layer.c prints:
  two_layer_*  one GD step of what src/experiments/two_layer.c does (Dandi et al.,
               arXiv:2402.03220; docs/experiments.md section 2), float64: the forward product
               U = X W^T / sqrt(D), relu, f = relu(U) a, the residuals r = y - f and the summed
               loss, E = r a 1[U > 0], the gradient G = -(1/sqrt D) E^T X, the divergence guard,
               W -= eta G. Multi-pass (batch_reuse 0) draws one batch at t = 0 and reuses it;
               single-pass (batch_reuse 1) draws a fresh batch every step with numpy's default
               Generator (standard_normal into the batch's buffer) and its labels
               y = tanh(z1 + He3(z2)), z = X W*_{1,2}^T / sqrt(D).
  gemm_dD      the step's two products alone, as numpy calls them (X @ W^T and E^T @ X into
               preallocated arrays): numpy's BLAS on the same shapes.
Per-step time is the difference of two runs that differ only in the number of steps (set-up, the
first batch, cancels), the median over the repeats, runs alternating after one untimed run; the
step counts are those of bench/two_layer.c.

The set-up follows the C code in kind, not in stream: a teacher with two orthonormal rows of
norm sqrt(D), a student orthogonal to it and to itself, a test set of 100 noiseless samples with
the overlaps and test error recorded at t = 0 and t = steps ({linear: 2}).

Run with Debian's /usr/bin/python3 (numpy 1.24), whose BLAS is the system libblas.so.3
(update-alternatives; OpenBLAS 0.3.21 on this machine, the same library the C code links).
bench/two_layer.sh sets OPENBLAS_NUM_THREADS=1 and OMP_NUM_THREADS=1 before starting python
(threadpoolctl is not installed), so that numpy's products run on one thread like the C code's.
"""
import math
import sys
import time

import numpy as np

SAMPLE_RATIO = 3.0
HIDDEN = 2
DIRECTIONS = 2
STEP_SIZE = 0.2
TEST_SIZE = 100
BLOWUP = 1e6  # relative to the training loss at t = 0, as the experiment's descriptor says

# One line per case, the names and step counts of bench/two_layer.c.
#  name                          D     batch_reuse  small  large
CASES = [
    ("two_layer_d2000_multipass", 2000, 0, 5, 45),
    ("two_layer_d5000_multipass", 5000, 0, 2, 17),
    ("two_layer_d2000_singlepass", 2000, 1, 2, 8),
]
#  name          D     small  large
GEMM_CASES = [
    ("gemm_d2000", 2000, 5, 45),
    ("gemm_d5000", 5000, 2, 12),
]


def batch_size(d):
    return int(round(SAMPLE_RATIO * d))


def orthonormal_rows(rng, rows, basis, d):
    """rows Gaussian rows made orthogonal to basis (rows of norm sqrt(d)) and to each other,
    each of norm sqrt(d) (Gram-Schmidt twice, as two_layer.c does; O(d) per pair)."""
    v = rng.standard_normal((rows, d))
    others = [] if basis is None else list(basis)
    for i in range(rows):
        for _ in range(2):
            for e in others + [v[b] for b in range(i)]:
                v[i] -= (v[i] @ e) / d * e
        v[i] *= math.sqrt(d) / np.linalg.norm(v[i])
    return v


def target(z):
    """tanh(He1(z1) + He3(z2)), He3(z) = z^3 - 3z: the experiment's default target."""
    z1, z2 = z[:, 0], z[:, 1]
    return np.tanh(z1 + z2 * z2 * z2 - 3.0 * z2)


class Network:
    """The batch's buffers and the network's one forward and backward pass (ts_two_layer_pass)."""

    def __init__(self, rows, d, p):
        self.d, self.scale = d, 1.0 / math.sqrt(d)
        self.x = np.empty((rows, d))
        self.y = np.empty(rows)
        self.u = np.empty((rows, p))
        self.e = np.empty((rows, p))
        self.grad = np.empty((p, d))

    def draw(self, rng, teacher):
        """A fresh batch into x and y = g(z), z = x W*_{1,2}^T / sqrt(D)."""
        rng.standard_normal(out=self.x)
        z = self.x @ (self.scale * teacher[:2]).T
        self.y[:] = target(z)

    def loss(self, w, a, gradient):
        """The summed loss 1/2 sum r^2; with gradient, also fills self.grad = dL/dW."""
        np.matmul(self.x, (self.scale * w).T, out=self.u)
        positive = self.u > 0
        f = np.maximum(self.u, 0.0) @ a
        r = self.y - f
        loss = 0.5 * float(r @ r)
        if gradient:
            np.multiply(positive, r[:, None] * a, out=self.e)
            np.matmul(self.e.T, self.x, out=self.grad)
            self.grad *= -self.scale
        return loss


def run(d, reuse, steps, seed):
    """One run of two_layer.c's iterate(): returns the records and the final test error, or
    None when the guard fires."""
    rng = np.random.default_rng(seed)
    n, p = batch_size(d), HIDDEN
    teacher = orthonormal_rows(rng, DIRECTIONS, None, d)
    w = orthonormal_rows(rng, p, teacher, d)
    a = np.array([(-1.0) ** j for j in range(p)]) / math.sqrt(p)
    test = Network(TEST_SIZE, d, p)
    test.draw(rng, teacher)
    batch = Network(n, d, p)
    record_times = {0, steps}  # {linear: 2}
    records, reference = [], None
    for t in range(steps + 1):
        stepping = t < steps
        if stepping and (t == 0 if reuse == 0 else t % reuse == 0):
            batch.draw(rng, teacher)
        train = batch.loss(w, a, stepping) / n
        if reference is None:
            reference = train
        if not (math.isfinite(train) and train <= BLOWUP * reference):
            return None
        if t in record_times:
            overlap = w @ teacher.T / d
            self_overlap = w @ w.T / d
            error = test.loss(w, a, False) / TEST_SIZE
            if not (math.isfinite(error) and error <= BLOWUP * reference):
                return None
            records.append((train, error, overlap, self_overlap))
        if not stepping:
            return records, records[-1][1]
        w -= STEP_SIZE * batch.grad  # gd, constant schedule
    return None


def time_run(case, steps, seed):
    name, d, reuse = case[0], case[1], case[2]
    start = time.perf_counter()
    result = run(d, reuse, steps, seed)
    elapsed = time.perf_counter() - start
    if result is None:
        sys.exit(f"bench/two_layer_ref.py: {name} diverged")
    return elapsed


def time_gemms(calls, net, w):
    """calls times the step's two products, as Network.loss makes them."""
    scaled = net.scale * w
    start = time.perf_counter()
    for _ in range(calls):
        np.matmul(net.x, scaled.T, out=net.u)
        np.matmul(net.e.T, net.x, out=net.grad)
    return time.perf_counter() - start


def difference(timer, small_steps, large_steps, repeats):
    """(median timer(large) - median timer(small)) / (large - small), after one untimed run
    (a process's first run also pays numpy's and the BLAS's first-use costs)."""
    timer(small_steps, 0)
    small, large = [], []
    for k in range(repeats):
        small.append(timer(small_steps, k))
        large.append(timer(large_steps, k))
    return (float(np.median(large)) - float(np.median(small))) / (large_steps - small_steps)


def main():
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    for case in CASES:
        seconds = difference(lambda steps, k: time_run(case, steps, k), case[3], case[4],
                             repeats)
        print(f"{case[0]} {seconds:.6e}", flush=True)
    for name, d, small, large in GEMM_CASES:
        rng = np.random.default_rng(2)
        net = Network(batch_size(d), d, HIDDEN)
        rng.standard_normal(out=net.x)
        net.e[:] = np.maximum(rng.standard_normal(net.e.shape), 0.0)
        w = rng.standard_normal((HIDDEN, d))
        time_gemms(1, net, w)  # warm
        seconds = difference(lambda calls, k: time_gemms(calls, net, w), small, large,
                             repeats)
        print(f"{name} {seconds:.6e}", flush=True)


if __name__ == "__main__":
    main()
