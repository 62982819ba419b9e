"""What every pytest file here needs from `make check`: the binary under test, the MPI launcher,
the Python that configure found, and the archive comparison of tests/archive_compare.py.
pytest puts this directory on sys.path (no __init__.py), so `from binaries import ...` works."""
import os
import subprocess
import sys

import pytest

TAILSWEEP = os.environ.get("TAILSWEEP")
MPIEXEC = os.environ.get("MPIEXEC") or "mpiexec"
PYTHON = os.environ.get("PYTHON") or sys.executable
COMPARE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "archive_compare.py")

needs_tailsweep = pytest.mark.skipif(not TAILSWEEP,
                                     reason="TAILSWEEP is not set (run under make check)")


def compare_archives(a, b, timeout=300):
    """(returncode, output) of tests/archive_compare.py on two archives: 0 when identical."""
    proc = subprocess.run([PYTHON, COMPARE, str(a), str(b)], capture_output=True, text=True,
                          timeout=timeout)
    return proc.returncode, proc.stdout + proc.stderr
