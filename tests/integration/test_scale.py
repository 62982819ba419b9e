"""Scale (issue 13): a sweep of 10^6 tiny runs completes on 2 ranks within a memory bound per
rank, and the archive of a 10^5-run sweep is the same on 1, 2 and 4 ranks.

The bound is the peak resident set of the largest rank (getrusage of the waited-for children
of mpiexec, which include the ranks). Measured here: 109 MiB at 10^6 runs on 1 rank after
the archive block went to 16 MiB and the work list is freed before the archive phase; 244 MiB
before, which this bound refuses. The time per step is not tested (bench/engine.sh measures it).
"""
import resource
import subprocess

import numpy as np
import pytest

from binaries import MPIEXEC, TAILSWEEP, compare_archives, needs_tailsweep

h5py = pytest.importorskip("h5py")
pytestmark = needs_tailsweep

RSS_BOUND_MIB = 160


def tiny_spec(points, repeats):
    return f"""\
experiment: synthetic
seed: 4
repeats: {repeats}
params: {{work: 0}}
sweep:
  tag: {{range: [1, {points}, 1]}}
"""


def run(tmp_path, name, text, ranks):
    spec = tmp_path / (name + ".yaml")
    spec.write_text(text)
    out = tmp_path / (name + ".h5")
    cmd = [TAILSWEEP, "run", str(spec), "-o", str(out), "--progress", "none"]
    if ranks:
        cmd = [MPIEXEC, "-n", str(ranks)] + cmd
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out, proc.stdout


def test_a_million_runs_on_two_ranks_stay_within_the_memory_bound(tmp_path):
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    out, summary = run(tmp_path, "million", tiny_spec(1000, 1000), 2)
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    assert "1000000 runs" in summary and "0 missing" in summary, summary
    assert "archive written" in summary, summary
    # ru_maxrss is a maximum over all children so far: a larger earlier child would mask this
    # run, so the test needs it to be the first large one of this process.
    assert before / 1024 < RSS_BOUND_MIB
    assert peak_mib <= RSS_BOUND_MIB, f"peak RSS {peak_mib:.0f} MiB per rank"
    with h5py.File(out, "r") as f:
        status = f["status"][...]
        assert status.shape == (1000, 1000)
        assert np.all(status == 1)
        assert np.all(np.isfinite(f["draw"][...]))


def test_the_archive_is_the_same_on_one_two_and_four_ranks(tmp_path):
    text = tiny_spec(1000, 100)
    alone, _ = run(tmp_path, "alone", text, 0)
    for ranks in (1, 2, 4):
        other, summary = run(tmp_path, f"np{ranks}", text, ranks)
        assert "100000 runs" in summary, summary
        rc, output = compare_archives(alone, other)
        assert rc == 0, output
