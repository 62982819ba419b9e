"""Post-hoc analysis of tailsweep archives: open, select, tabulate, fit, plot.

    from tailsweep_tools import open_archive, select, fit_exponent, kendall_tau
    ds = open_archive("results/quickstart.h5")
    print(fit_exponent(select(ds, eps=0.01, step_size=1.0), "steps_to_eps", "dim"))
    print(kendall_tau(open_archive("results/levy_sgd.h5"), "final_gap", "levy_alpha",
                      by=["problem"]))
"""
from .archive import (STATUS, count_status, finished_mask, keep_runs, metric_names,
                      open_archive, open_provenance, status_mask, sweep_axes, theory_overlays)
from .fit import fit_exponent
from .kendall import kendall_tau
from .select import parse_selection, select
from .tidy import to_dataframe

__version__ = "0.1.0"

__all__ = [
    "STATUS", "count_status", "finished_mask", "fit_exponent", "keep_runs", "kendall_tau",
    "metric_names", "open_archive", "open_provenance", "parse_selection", "select",
    "status_mask", "sweep_axes", "theory_overlays", "to_dataframe",
]
