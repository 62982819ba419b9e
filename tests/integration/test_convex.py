"""convex from the real binary: Defazio et al.'s comparison of step-size shapes (PAPERS.md
section 4, docs/experiments.md section 4) on both problems, paired over seeds.

One sweep, schedule x base step x problem, 16 seeds on shared streams (every schedule sees the
same data and minibatches), in the regime the paper's theory describes: ill-conditioned
(condition number 10^4) and barely regularised, so that T = 1000 steps end far from the
strongly convex tail. Each schedule is compared at its own best base step (the lowest geometric
mean of the final suboptimality over the seeds, among steps where no seed diverged); the
differences are of log final suboptimality, paired by seed, with tolerances of three standard
errors of that mean.

Measured here (16 seeds; log ratio against linear decay, mean +- standard error):
  least squares  constant +0.78 +- 0.06, cosine -0.02 +- 0.01, refined +0.03 +- 0.04
  logistic       constant +0.70 +- 0.06, cosine +0.01 +- 0.02, refined +0.13 +- 0.03
so linear decay and cosine tie to a few percent either way (the issue's "no worse than cosine"
holds as a tie, not as a win), and refinement ties on least squares and loses 10-15% on
logistic at this horizon (4% at T = 4000): asserted below as ties within 10% and 20%.
"""
import os
import subprocess

import numpy as np
import pytest

h5py = pytest.importorskip("h5py")

TAILSWEEP = os.environ.get("TAILSWEEP")
MPIEXEC = os.environ.get("MPIEXEC") or "mpiexec"
pytestmark = pytest.mark.skipif(not TAILSWEEP, reason="TAILSWEEP is not set (run under make check)")

SEEDS = 16
SPEC = f"""\
experiment: convex
seed: 5
repeats: {SEEDS}
params: {{dim: 50, n_train: 500, steps: 1000, condition_number: 10000, l2: 1e-6,
          record: {{log: 3}}}}
sweep:
  problem: [least_squares, logistic]
  schedule: [constant, linear_decay, cosine, refined]
  step_size: {{logspace: [0.05, 51.2], num: 11}}
shared_streams: [schedule, step_size]
"""
DONE, DIVERGED = 1, 2
TIE_COSINE = np.log(1.1)
TIE_REFINED = np.log(1.2)


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("convex")
    spec = tmp / "convex.yaml"
    spec.write_text(SPEC)
    out = tmp / "convex.h5"
    cmd = [MPIEXEC, "-n", "2", TAILSWEEP, "run", str(spec), "-o", str(out), "--progress", "none"]
    proc = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, "tailsweep run failed:\n" + proc.stdout + proc.stderr
    with h5py.File(out, "r") as f:
        names = lambda key: [s.decode() for s in f[key][...]]
        yield {"problem": names("problem"), "schedule": names("schedule"),
               "step_size": f["step_size"][...], "status": f["status"][...],
               "final": f["final_suboptimality"][...], "bound": f["bound"][...],
               "suboptimality": f["suboptimality"][...]}


def best_step(values, status):
    """Index of the step with the lowest geometric mean over seeds, among steps no seed
    diverged at; values and status are [step, seed]."""
    usable = (status == DONE).all(axis=1)
    assert usable.sum() >= 3, "fewer than three converging steps: the grid misses the optimum"
    means = np.where(usable, np.log(np.where(status == DONE, values, 1.0)).mean(axis=1), np.inf)
    best = int(np.argmin(means))
    assert 0 < best < len(means) - 1, "the best step is at the grid's edge: widen step_size"
    return best


def paired_log_ratio(a, b, status):
    """Mean and standard error over seeds of log(a / b) at each one's best step; a and b are
    [step, seed] final suboptimalities of two schedules."""
    sa, sb = status
    diff = np.log(a[best_step(a, sa)]) - np.log(b[best_step(b, sb)])
    return diff.mean(), diff.std(ddof=1) / np.sqrt(len(diff))


def compare(archive, problem, schedule, against="linear_decay"):
    p = archive["problem"].index(problem)
    i, j = archive["schedule"].index(schedule), archive["schedule"].index(against)
    final, status = archive["final"][p], archive["status"][p]
    return paired_log_ratio(final[i], final[j], (status[i], status[j]))


@pytest.mark.parametrize("problem", ["least_squares", "logistic"])
def test_linear_decay_beats_the_constant_step(archive, problem):
    mean, se = compare(archive, problem, "constant")
    assert mean > 3 * se and mean > np.log(1.5), \
        f"{problem}: constant / linear decay = exp({mean:.3f} +- {se:.3f})"


@pytest.mark.parametrize("problem", ["least_squares", "logistic"])
def test_linear_decay_ties_cosine_at_the_best_steps(archive, problem):
    mean, se = compare(archive, problem, "cosine")
    assert mean > -TIE_COSINE - 3 * se, \
        f"{problem}: cosine / linear decay = exp({mean:.3f} +- {se:.3f})"


@pytest.mark.parametrize("problem", ["least_squares", "logistic"])
def test_the_refined_schedule_ties_linear_decay(archive, problem):
    mean, se = compare(archive, problem, "refined")
    assert mean < TIE_REFINED + 3 * se, \
        f"{problem}: refined / linear decay = exp({mean:.3f} +- {se:.3f})"


@pytest.mark.parametrize("problem", ["least_squares", "logistic"])
def test_the_bound_ranks_linear_decay_below_cosine_and_constant(archive, problem):
    """With the observed norms, the bound at each schedule's best base step (for the bound)."""
    p = archive["problem"].index(problem)
    best = {}
    for name in ("constant", "linear_decay", "cosine"):
        s = archive["schedule"].index(name)
        bound, status = archive["bound"][p, s], archive["status"][p, s]
        best[name] = bound[best_step(bound, status)].mean()
    assert best["linear_decay"] < best["cosine"] < best["constant"], best


def test_the_bound_is_above_the_mean_final_suboptimality(archive):
    status = archive["status"]
    done = (status == DONE).all(axis=-1)
    assert done.sum() > 0.6 * done.size
    bound, final = archive["bound"].mean(axis=-1), archive["final"].mean(axis=-1)
    assert np.all(bound[done] > final[done]), "a mean final gap above the mean bound"
    assert np.all(np.isnan(archive["bound"][status == DIVERGED]))


def test_every_recorded_gap_is_nonnegative_and_large_steps_diverge(archive):
    status, gap = archive["status"], archive["suboptimality"]
    assert np.all(gap[status == DONE] >= 0)
    assert set(np.unique(status)) <= {DONE, DIVERGED}
    # the largest base step diverges on least squares (step x lambda_max far above 2)
    assert np.all(status[archive["problem"].index("least_squares"), :, -1] == DIVERGED)
