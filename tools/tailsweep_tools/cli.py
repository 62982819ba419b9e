"""Console scripts: tailsweep-plot, tailsweep-fit (and its --kendall table), tailsweep-figure.

Like the C binary: errors go to stderr as "tailsweep-NAME: message", exit 2 for a wrong command
line (argparse's convention too), 1 for anything that goes wrong while reading or drawing.
"""
import argparse
import os
import sys

EXIT_RUNTIME = 1
EXIT_USAGE = 2


class UsageError(Exception):
    """A command line that names something the archive does not have."""


def plot_main(argv=None):
    parser = argparse.ArgumentParser(
        prog="tailsweep-plot",
        description="Curves of a metric from a tailsweep archive: the mean over repeats with "
                    "their range shaded, theory overlays dashed.")
    parser.add_argument("archive")
    parser.add_argument("metric")
    parser.add_argument("--x", help="axis, zipped parameter or iteration (default: iteration "
                                    "for a series, the one varying axis for a scalar)")
    parser.add_argument("--facet", help="one panel per value of this axis")
    parser.add_argument("--hue", help="one colour per value of this axis")
    add_selection(parser)
    parser.add_argument("--logx", action="store_true")
    parser.add_argument("--logy", action="store_true")
    parser.add_argument("--title")
    add_output(parser)
    args = parser.parse_args(argv)

    def work():
        from .plot import plot_metric
        ds = selected(args)
        fig = plot_metric(ds, args.metric, x=args.x, facet=args.facet, hue=args.hue,
                          logx=args.logx, logy=args.logy, title=args.title)
        save(fig, args)
    return run("tailsweep-plot", work)


def fit_main(argv=None):
    parser = argparse.ArgumentParser(
        prog="tailsweep-fit",
        description="Exponent p of METRIC ~ C AXIS^p by least squares in log-log, per group of "
                    "the other dimensions, with a bootstrap confidence interval over repeats; "
                    "with --kendall, Kendall's tau of METRIC with AXIS per --by group instead.")
    parser.add_argument("archive")
    parser.add_argument("metric")
    parser.add_argument("--against", required=True,
                        help="axis, zipped parameter, or iteration (for a series); with "
                             "--kendall also another variable")
    add_selection(parser)
    parser.add_argument("--statistic", default="mean", choices=["mean", "median", "geomean"],
                        help="how the repeats at each x are reduced (default: mean)")
    parser.add_argument("--xmin", type=float, help="fit only x >= XMIN")
    parser.add_argument("--xmax", type=float, help="fit only x <= XMAX")
    parser.add_argument("--bootstrap", type=int, default=1000, metavar="N",
                        help="bootstrap replicates (default 1000; 0: no interval)")
    parser.add_argument("--confidence", type=float, default=0.95)
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    parser.add_argument("--kendall", action="store_true",
                        help="print Kendall's tau-b of METRIC with AGAINST and its p-value per "
                             "--by group, every other dimension (dim, repeat, ...) pooled")
    parser.add_argument("--by", action="append", default=[], metavar="AXIS",
                        help="with --kendall: one row per value of this axis (repeatable)")
    parser.add_argument("--csv", action="store_true", help="print CSV instead of a table")
    args = parser.parse_args(argv)
    if not 0 < args.confidence < 1 or args.bootstrap < 0:
        parser.error("--confidence must be in (0, 1) and --bootstrap >= 0")
    if args.by and not args.kendall:
        parser.error("--by groups the --kendall table (the fit groups by every other axis)")
    if args.kendall and (args.xmin is not None or args.xmax is not None):
        parser.error("--xmin and --xmax restrict the fit, not --kendall (use --sel)")

    def work():
        table, header = kendall_table(args) if args.kendall else exponent_table(args)
        if args.csv:
            table.to_csv(sys.stdout, index=False, float_format="%.10g")
        else:
            print(header)
            print(table.to_string(index=False, float_format=lambda v: f"{v:.6g}"))
    return run("tailsweep-fit", work)


def exponent_table(args):
    from .fit import fit_exponent
    table = fit_exponent(selected(args), args.metric, args.against, statistic=args.statistic,
                         n_boot=args.bootstrap, confidence=args.confidence, seed=args.seed,
                         xmin=args.xmin, xmax=args.xmax)
    header = (f"# {args.metric} ~ C {args.against}^exponent; {args.statistic} over repeats, "
              f"{args.confidence:.0%} bootstrap interval ({args.bootstrap} replicates, "
              f"seed {args.seed})")
    return table, header


def kendall_table(args):
    from .kendall import kendall_tau
    table = kendall_tau(selected(args), args.metric, args.against, by=args.by)
    header = (f"# Kendall tau-b of {args.metric} with {args.against}, pooled over "
              f"{', '.join(table.attrs['pooled'])}; p_value: two-sided test of tau = 0")
    return table, header


def figure_main(argv=None):
    from .figures import FIGURES
    listing = "\n".join(f"  {f.name:20s} ({f.experiment}) {f.doc}" for f in FIGURES.values())
    parser = argparse.ArgumentParser(
        prog="tailsweep-figure",
        description="Regenerate a paper figure from the archive of its jobs/ spec.",
        epilog="figures:\n" + listing, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", nargs="?")
    parser.add_argument("archive", nargs="?")
    parser.add_argument("--list", action="store_true", help="list the figures and exit")
    add_selection(parser)
    add_output(parser, required=False)
    args = parser.parse_args(argv)
    if args.list:
        print(listing)
        return 0
    if not (args.name and args.archive and args.output):
        parser.error("NAME, ARCHIVE and -o FILE are required (or --list)")

    def work():
        from .figures import make_figure
        # --sel narrows the archive first: the figure draws the slice (e.g. problem=logistic
        # where it would take the first problem); its title names the values chosen.
        with selected(args) as ds:
            fig = make_figure(args.name, ds)
        save(fig, args)
    return run("tailsweep-figure", work)


# ------------------------------------------------------------------ shared


def add_selection(parser):
    parser.add_argument("--sel", action="append", default=[], metavar="NAME=VALUE",
                        help="keep runs with this value (repeatable; V1,V2 keeps several)")


def add_output(parser, required=True):
    parser.add_argument("-o", "--output", required=required, metavar="FILE",
                        help="image to write; the extension picks the format (.png, .pdf, .svg)")
    parser.add_argument("--dpi", type=int, default=120)


def load(path):
    from .archive import open_archive
    if not os.path.exists(path):
        raise RuntimeError(f"{path}: no such file")
    return open_archive(path)


def selected(args):
    from .select import parse_selection, select
    ds = load(args.archive)
    try:
        return select(ds, parse_selection(ds, args.sel))
    except (KeyError, ValueError) as exc:
        raise UsageError(exc.args[0] if exc.args else str(exc)) from None


def save(fig, args):
    fig.savefig(args.output, dpi=args.dpi)


def run(prog, work):
    """Run work(), mapping errors to a one-line message and the exit status."""
    try:
        work()
    except UsageError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (KeyError, ValueError) as exc:
        # A metric, axis or figure the archive does not have: the user's to fix, like a spec error.
        print(f"{prog}: {exc.args[0] if exc.args else exc}", file=sys.stderr)
        return EXIT_USAGE
    except (OSError, RuntimeError) as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return EXIT_RUNTIME
    return 0


def main():
    """python -m tailsweep_tools {plot,fit,figure} ARGS: the console scripts without installing."""
    commands = {"plot": plot_main, "fit": fit_main, "figure": figure_main}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print("usage: python -m tailsweep_tools {plot,fit,figure} ARGS (or tailsweep-plot, "
              "tailsweep-fit, tailsweep-figure)", file=sys.stderr)
        return EXIT_USAGE
    return commands[sys.argv[1]](sys.argv[2:])
