"""The ``isingneuron`` command line: wires config, sweep, recorder, plots and bench.

Every bad input (config, file, option) ends with exit status 2 and one line
``isingneuron: error: <message>`` on stderr, before any output file is
created or touched. A run in which some points failed ends with status 1
(the failures are recorded in the file; rerun to retry them); an interrupted
run with status 130 (complete points are kept; rerun to resume).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ._version import __version__

__all__ = ["main"]

PROG = "isingneuron"

_RUN_EXAMPLES = """examples:
  isingneuron run configs/quench.yaml
  isingneuron run configs/activation.yaml --workers 2 --output /tmp/act.h5
  isingneuron run configs/activation.yaml --dask tcp://scheduler:8786
  isingneuron run configs/activation.yaml --force-new      # replace the file's results

Rerunning on an existing output file resumes: complete points are kept,
the others run. A file holding a different config is refused."""

_EXAMPLES = {
    "run": ("run a config: one point, or every point of its sweep: section",
            "Runs CONFIG, writes its output file and prints a per-point summary\n(dwell time at "
            "theta +- sem, hysteresis spikes, integral of m dt, <|m|>).", _RUN_EXAMPLES),
    "sweep": ("run the points of a config's sweep: section (as run)",
              "Same as run, for configs that have a sweep: section.",
              _RUN_EXAMPLES.replace("isingneuron run configs/quench.yaml\n  ", "")
              .replace("isingneuron run", "isingneuron sweep")),
    "status": ("points done / total, failures and the stored config of a file",
               "Reads an output file (read only).",
               "examples:\n  isingneuron status output/activation.h5"),
    "verify": ("read every dataset of a file and report the damaged points",
               "Checksums (Fletcher-32) and metadata of every point are checked; the file\n"
               "is only read. Exit 0: intact; 1: damaged points (named); 2: unreadable.",
               "examples:\n  isingneuron verify output/activation.h5"),
    "salvage": ("copy every intact point of a file to a new file",
                "Damaged points are left out (and named); FILE is only read, NEW must not\n"
                "exist. Run on NEW to recompute what was lost.",
                "examples:\n  isingneuron salvage output/activation.h5 output/activation-ok.h5"),
    "plot": ("PNG of T(t) and m(t) for each point of a file; transfer curves of depth sweeps",
             "Writes <file stem>_<point>.png next to the file (or in --out), and for a sweep\n"
             "over quench depth <file stem>_transfer.png/pdf: spike count against depth with\n"
             "error bars, quasi-static and mean-field theory and the fitted ReLU.",
             "examples:\n  isingneuron plot output/quench.h5\n"
             "  isingneuron plot output/activation.h5 --out /tmp/figs"),
    "bench": ("engine throughput (flips/ns) and the performance goals, side by side",
              "Prints the throughput table (each case against a baseline run in the same\n"
              "process) and the goals table (single lattice, populations, records, memory,\n"
              "first run, Wolff; mcising as a reference when installed).\n"
              "Timings are machine-dependent and only reported.",
              "examples:\n  isingneuron bench --quick\n  isingneuron bench --only goals\n"
              "  isingneuron bench --json bench.json"),
    "info": ("versions, threads and the Numba cache folder", "", "examples:\n  isingneuron info"),
    "paper": ("the paper's experiments (figures, tables, report.md), or `paper network`",
              "Same as `python -m isingneuron.paper`; `isingneuron paper network OUTDIR` runs\n"
              "the lattice-neurone digit classifier (python -m isingneuron.network).\n"
              "`isingneuron paper OUTDIR --help` lists every option.",
              "examples:\n  isingneuron paper output/paper\n"
              "  isingneuron paper output/paper --quick --only activation population\n"
              "  isingneuron paper output/paper --studies\n"
              "  isingneuron paper network output/network --quick"),
    "config": ("the reference of every config key (generated from the schema)",
               "Prints docs/config.md: key, type, allowed values, default and meaning.",
               "examples:\n  isingneuron config --schema\n"
               "  isingneuron config --check configs/activation.yaml"),
}


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):             # one line, no usage block
        raise _UsageError(f"{message} (see `{self.prog} --help`)")


def _workers(text):
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--workers {text!r}: must be an integer >= 1") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"--workers {n}: must be an integer >= 1")
    return n


def _dask_address(text):
    from .config import dask_address_problem
    problem = dask_address_problem(text)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return text


def _parser():
    fmt = argparse.RawDescriptionHelpFormatter
    p = _Parser(prog=PROG, formatter_class=fmt,
                description="A neurone's spike as an Ising phase transition: run lattice "
                            "quench experiments described by YAML configs.",
                epilog="examples:\n  make run                         # = isingneuron run "
                       "configs/quench.yaml\n  isingneuron run configs/activation.yaml\n"
                       "  isingneuron status output/activation.h5\n"
                       "  isingneuron <command> --help     # options of a command")
    p.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND",
                           parser_class=_Parser)
    cmds = {}
    for name, (summary, desc, epilog) in _EXAMPLES.items():
        cmds[name] = sub.add_parser(name, help=summary, description=f"{summary}.\n\n{desc}".strip(),
                                    epilog=epilog, formatter_class=fmt)
    for name in ("run", "sweep"):
        c = cmds[name]
        c.add_argument("config", metavar="CONFIG", help="YAML config file (see configs/)")
        c.add_argument("--output", "-o", metavar="PATH",
                       help="output HDF5 file (overrides the config's output)")
        c.add_argument("--workers", "-j", type=_workers, metavar="N",
                       help="local worker processes (default: the config's, else all cores; "
                            "1 runs in this process)")
        c.add_argument("--dask", metavar="ADDRESS", type=_dask_address,
                       help="run the points on the Dask scheduler at ADDRESS "
                            "(needs isingneuron[distributed])")
        c.add_argument("--force-new", action="store_true",
                       help="replace an existing output file instead of resuming it")
        c.add_argument("--fail-fast", action="store_true",
                       help="stop starting points after the first failure")
        c.add_argument("--no-progress", action="store_true",
                       help="no progress bar; one line per finished point instead")
        c.set_defaults(func=_cmd_sweep if name == "sweep" else _cmd_run)
    for name in ("status", "plot", "verify", "salvage"):
        cmds[name].add_argument("file", metavar="FILE", help="isingneuron HDF5 output file")
    cmds["status"].set_defaults(func=_cmd_status)
    cmds["verify"].set_defaults(func=_cmd_verify)
    cmds["salvage"].add_argument("new", metavar="NEW", help="the new file (must not exist)")
    cmds["salvage"].set_defaults(func=_cmd_salvage)
    cmds["plot"].add_argument("--out", metavar="DIR",
                              help="folder for the PNGs, made if missing (default: next to FILE)")
    cmds["plot"].set_defaults(func=_cmd_plot)
    cmds["bench"].add_argument("--quick", action="store_true", help="small sizes only")
    cmds["bench"].add_argument("--only", choices=("throughput", "goals"),
                               help="print one of the two tables")
    cmds["bench"].add_argument("--no-cold", action="store_true",
                               help="skip the first-run timing (an empty kernel cache, ~10 s)")
    cmds["bench"].add_argument("--json", metavar="PATH", help="also write the results as JSON")
    cmds["bench"].set_defaults(func=_cmd_bench)
    cmds["info"].set_defaults(func=_cmd_info)
    cmds["paper"].add_argument("rest", nargs=argparse.REMAINDER, metavar="[network] OUTDIR ...",
                               help="arguments of python -m isingneuron.paper (or, after "
                                    "'network', of python -m isingneuron.network)")
    cmds["paper"].set_defaults(func=_cmd_paper)
    what = cmds["config"].add_mutually_exclusive_group(required=True)
    what.add_argument("--schema", action="store_true", help="print the config reference")
    what.add_argument("--check", metavar="CONFIG",
                      help="validate CONFIG and list its points (runs nothing)")
    cmds["config"].set_defaults(func=_cmd_config)
    return p


# --------------------------------------------------------------------- commands
def _cmd_run(args, need_sweep=False):
    from .config import ConfigError, load_config
    from .sweep import format_summary, make_executor, make_plan, run_plan, summary

    config = load_config(args.config, output=args.output)
    if need_sweep and config.sweep is None:
        raise ConfigError(f"{args.config}: has no sweep: section (one point); use "
                          "`isingneuron run`")
    plan = make_plan(config, force_new=args.force_new)
    if any(p.config.dynamics == "metropolis" and p.config.update == "checkerboard"
           for p in plan.points):
        from .engine import CHECKERBOARD_METROPOLIS_MESSAGE
        print(f"{PROG}: warning: {CHECKERBOARD_METROPOLIS_MESSAGE}", file=sys.stderr)
    _warn_unreached(plan.points)
    from .engine import kernel_names
    from .kernels import uncached
    if plan.pending and uncached({k for t in plan.pending for k in kernel_names(
            t.point.config.lattice.L, t.point.config.replicas, t.point.config.dynamics,
            t.point.config.update, t.point.config.lattice.boundary)}):
        print(f"{PROG}: compiling the engine's kernels (first run after an install or an "
              "upgrade: ~4 s for random-sequential runs, 10-20 s for checkerboard ones; "
              "cached afterwards)", file=sys.stderr, flush=True)
    name = config.name or Path(args.config).stem
    n, todo = len(plan.points), len(plan.pending)
    print(f"{name}: {n} point{'s' * (n != 1)}, {len(plan.done)} already complete in {plan.path}"
          + (" (replacing it)" if plan.mode == "w" else ""))
    failed = {}
    if todo:
        with make_executor(config.executor, todo, args.workers, args.dask) as ex:
            print(f"running {todo} point{'s' * (todo != 1)} on {ex.describe()}", flush=True)
            progress = not args.no_progress and sys.stderr.isatty()
            result = run_plan(plan, ex, progress=progress, fail_fast=args.fail_fast)
        failed = result.failed
        print(f"{len(result.completed)} point{'s' * (len(result.completed) != 1)} done in "
              f"{result.seconds:.1f} s, written to {plan.path}")
    rows = summary(plan.path, plan.points, config.analysis)
    if rows:
        print(format_summary(rows, config.analysis))
    if failed:
        for pid, msg in failed.items():
            print(f"point {pid} failed: {msg}", file=sys.stderr)
        left = n - len(rows)
        print(f"{PROG}: {len(failed)} point{'s' * (len(failed) != 1)} failed, {left} of {n} "
              "not complete; rerun the same command to retry them", file=sys.stderr)
        return 1
    return 0


def _warn_unreached(points):
    """One warning line per distinct protocol that the run ends before."""
    from .config import unreached_protocol
    notes = {}
    for p in points:
        note = unreached_protocol(p.config)
        if note:
            notes.setdefault(note, []).append(p.label)
    for note, labels in notes.items():
        which = ""
        if len(points) > 1:
            more = " ..." if len(labels) > 3 else ""
            which = f" (point{'s' * (len(labels) > 1)} {', '.join(labels[:3])}{more})"
        print(f"{PROG}: warning: {note}{which}", file=sys.stderr)


def _cmd_sweep(args):
    return _cmd_run(args, need_sweep=True)


def _cmd_status(args):
    from .sweep import status

    st = status(args.file)
    total = st["total"] if st["total"] is not None else st["n_points"]
    print(f"file:     {st['path']}")
    print(f"created:  {st['created']} by isingneuron {st['package_version']}"
          + (f" (git {st['git_commit'][:12]})" if st.get("git_commit") else ""))
    print(f"points:   {st['done']}/{total} done, {st['failed']} failed, "
          f"{st['incomplete']} incomplete, {st['damaged']} damaged, "
          f"{max(0, total - st['n_points'])} not started")
    for pid, err in st["errors"].items():
        print(f"  failed {pid}: {err}")
    for pid, what in st["damaged_points"].items():
        print(f"  damaged {pid}: {what}")
    if st["damaged_points"]:
        print(f"  (`{PROG} salvage {args.file} NEW` copies the intact points to NEW)")
    if st["writer"]:
        print(f"writer:   {st['writer']} is writing this file now")
        for pid, prog in st["running"].items():
            of = f"/{prog['n_sweeps']}" if "n_sweeps" in prog else ""
            who = f" (worker pid {prog['pid']})" if "pid" in prog else ""
            print(f"  running {pid}: {prog.get('t')}{of} sweeps done{who}")
    if st["config"]:
        print("config:")
        print("\n".join("  " + line for line in st["config"].rstrip().splitlines()))
    else:
        print("config:   none stored")
    return 0


def _cmd_paper(args):
    rest = list(args.rest)
    if not rest:
        raise _UsageError("paper: OUTDIR is required (see `isingneuron paper --help`)")
    if rest[0] == "network":
        from .network.cli import main as network_main
        return network_main(rest[1:], prog=f"{PROG} paper network")
    from .paper.run import main as paper_main
    return paper_main(rest, prog=f"{PROG} paper")


def _cmd_config(args):
    if args.schema:
        from .config_doc import config_reference
        print(config_reference())
        return 0
    from .config import load_config
    config = load_config(args.check)
    points = config.points()
    print(f"{args.check}: valid, {len(points)} point{'s' * (len(points) != 1)}, "
          f"output {config.output}")
    for p in points:
        print(f"  {p.id}  {p.label}")
    _warn_unreached(points)
    return 0


def _cmd_verify(args):
    from .recorder import verify_file

    report = verify_file(args.file)
    for pid in report["damaged"]:
        print(f"damaged {pid}: {report['points'][pid][len('damaged: '):]}")
    n = len(report["points"])
    if report["ok"]:
        print(f"{report['path']}: {n} point{'s' * (n != 1)}, all intact")
        return 0
    print(f"{report['path']}: {len(report['damaged'])} of {n} points damaged; "
          f"`{PROG} salvage {args.file} NEW` copies the intact ones to NEW")
    return 1


def _cmd_salvage(args):
    from .recorder import salvage_file

    res = salvage_file(args.file, args.new)
    print(f"copied {len(res['copied'])} intact point{'s' * (len(res['copied']) != 1)} to "
          f"{res['new_path']}" + (f"; left out {len(res['damaged'])} damaged: "
                                  f"{', '.join(res['damaged'])}" if res["damaged"] else ""))
    return 0


def _cmd_plot(args):
    from ._outdir import output_folder
    from .plots import plot_file
    from .recorder import file_status
    from .sweep import SweepError

    if "done" not in file_status(args.file)["points"].values():    # before any folder is made
        raise SweepError(f"{args.file}: no complete point to plot")
    try:                                    # --out is made if missing, as paper's OUTDIR
        out = output_folder(args.out if args.out is not None else Path(args.file).parent,
                            "--out" if args.out is not None else "the file's folder",
                            create=args.out is not None)
    except ValueError as exc:
        raise SweepError(str(exc)) from None
    written = plot_file(args.file, out)
    written += _transfer_plot(Path(args.file), out)
    for path in written:
        print(path)
    return 0


def _transfer_plot(path, outdir) -> list:
    """``<stem>_transfer.png/pdf``: the transfer curve(s) of a sweep over quench depth.

    Drawn when the file holds a curve of at least 3 quench depths: the dwell
    time (mean +- standard error) and area against depth, with the quasi-static
    exact and mean-field predictions and the ReLU / softplus fits (the paper's
    Figure 3, read from this file).
    """
    from .paper import _activation_figure, activation
    from .plots import save_figure
    from .transfer import load_quench_runs

    runs = load_quench_runs(path)
    if not any(len(depths) >= 3 for depths in runs.values()):
        return []
    res = activation(source={k: v for k, v in runs.items() if len(v) >= 3}, progress=False)
    return save_figure(_activation_figure(res), (outdir or path.parent) / f"{path.stem}_transfer")


def _cmd_bench(args):
    from . import bench
    from .sweep import SweepError

    if args.json is not None and not Path(args.json).resolve().parent.is_dir():
        raise SweepError(f"--json {args.json}: folder {Path(args.json).parent} does not exist")
    result = {}
    if args.only != "goals":
        result = bench.run_benchmark(bench.QUICK_CASES if args.quick else bench.CASES)
    if args.only != "throughput":
        from .bench_goals import run_goals
        print()
        result["goals"] = run_goals(quick=args.quick, cold=not args.no_cold)
    if args.json:
        bench.write_json(result, args.json)
        print(f"written {args.json}")
    return 0


def _cmd_info(args):
    import os

    import h5py
    import numba
    import numpy

    from . import kernels  # noqa: F401  (its _rng gives Numba a cache folder if it has none)
    from ._numba_cache import cache_dir
    from .sweep import cpu_count

    cache = cache_dir() or "none (kernels are compiled in every process)"
    cache_why = (" (NUMBA_CACHE_DIR)" if os.environ.get("NUMBA_CACHE_DIR") else
                 " (a temporary folder: none beside the package or in the user's cache is "
                 "writable)" if numba.config.CACHE_DIR else "")
    try:
        import distributed
        dask = f"distributed {distributed.__version__}"
    except ImportError:
        dask = "not installed (pip install 'isingneuron[distributed]')"
    rows = [("isingneuron", __version__), ("python", sys.version.split()[0]),
            ("numpy", numpy.__version__), ("numba", numba.__version__),
            ("h5py / HDF5", f"{h5py.__version__} / {h5py.version.hdf5_version}"),
            ("cores", str(cpu_count())),
            ("numba threads", f"{numba.get_num_threads()} of {numba.config.NUMBA_NUM_THREADS} "
                              "(NUMBA_NUM_THREADS)"),
            ("threading layer", numba.config.THREADING_LAYER),
            ("numba cache dir", cache + cache_why),
            ("dask", dask)]
    for k, v in rows:
        print(f"{k + ':':<17}{v}")
    return 0


# ------------------------------------------------------------------------ main
def main(argv=None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 failed points, 2 bad input)."""
    from .config import ConfigError
    from .recorder import RecorderError
    from .schedules import ScheduleError
    from .sweep import SweepError

    try:
        args = _parser().parse_args(argv)
        return int(args.func(args) or 0)
    except SystemExit as exc:               # --help, --version
        return exc.code if isinstance(exc.code, int) else 0
    except (_UsageError, ConfigError, SweepError, RecorderError, ScheduleError) as exc:
        message = " ".join(str(exc).split())          # one line, whatever the source
        print(f"{PROG}: error: {message}", file=sys.stderr)
        return 2
    except BrokenPipeError:                  # e.g. `isingneuron config --schema | head`
        import os
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; complete points are kept, rerun to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":      # python -m isingneuron.cli
    sys.exit(main())
