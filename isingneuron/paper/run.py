"""Run every experiment and write figures, tables and the report:
:func:`run_all`, and :func:`main` behind ``python -m isingneuron.paper``."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from ._common import SIZES, _outdir
from .fig_activation import activation
from .fig_magnetisation import eq2_fits, magnetisation
from .fig_membrane import membrane
from .fig_outcomes import periodic_outcomes
from .fig_population import population
from .report import write_report
from .tables import _results_json, parameter_table, write_tables

__all__ = ["run_all", "main"]


def run_all(outdir, quick: bool = False, progress: bool = True, sizes: dict | None = None,
            activation_source=None) -> dict:
    """Run every experiment, write figures, tables and the report into ``outdir``.

    Parameters
    ----------
    outdir : path-like
        Created if missing.
    quick : bool
        Use :data:`SIZES` ["quick"] (10-16 s) instead of ["full"] (40-50 s on 2 cores).
    progress : bool
        tqdm progress bars.
    sizes : dict, optional
        Overrides per experiment, e.g. ``{"activation": {"replicas": 4}}``.
    activation_source : path-like or mapping, optional
        Analyse these quench runs (an HDF5 sweep file, e.g. from
        ``isingneuron run configs/paper/activation.yaml``) instead of simulating the
        activation experiment here.

    Returns
    -------
    dict
        ``magnetisation, eq2, activation, periodic, population, membrane`` results,
        ``seconds`` (wall time per experiment) and ``files`` (everything written).
    """
    outdir = _outdir(outdir)
    cfg = {k: dict(v) for k, v in SIZES["quick" if quick else "full"].items()}
    for k, v in (sizes or {}).items():
        cfg.setdefault(k, {}).update(v)
    seconds, results = {}, {}

    def timed(name, fn, **kw):
        t0 = time.perf_counter()
        results[name] = fn(outdir, progress=progress, **kw) if name != "eq2" else fn(outdir, **kw)
        seconds[name] = time.perf_counter() - t0

    timed("magnetisation", magnetisation, **cfg["magnetisation"])
    timed("eq2", eq2_fits, mag=results["magnetisation"])
    if activation_source is not None:
        timed("activation", activation, source=activation_source)
    else:
        timed("activation", activation, **cfg["activation"])
    timed("periodic", periodic_outcomes, **cfg["periodic"])
    timed("population", population, **cfg["population"])
    timed("membrane", membrane, **cfg["membrane"])
    rows = parameter_table(results)
    files = write_tables(rows, outdir)
    (outdir / "results.json").write_text(json.dumps(_results_json(results), indent=1))
    files.append(outdir / "results.json")
    files.append(write_report(results, outdir, seconds=seconds, quick=quick))
    for r in results.values():
        for attr in ("figure", "figure_snapshots"):
            files += list(getattr(r, attr, []) or [])
        if getattr(r, "gif", None):
            files.append(r.gif)
    results["seconds"] = seconds
    results["files"] = files
    return results


def main(argv=None) -> int:
    """``python -m isingneuron.paper OUTDIR [--quick] [--no-progress] [--activation-from FILE]``."""
    ap = argparse.ArgumentParser(prog="python -m isingneuron.paper",
                                 description="Reproduce the paper's figures and claims: figures "
                                             "(PNG, PDF), params.csv/json, results.json, "
                                             "report.md.")
    ap.add_argument("outdir", help="output folder (created if missing)")
    ap.add_argument("--quick", action="store_true", help="small sizes (seconds)")
    ap.add_argument("--no-progress", action="store_true", help="no progress bars")
    ap.add_argument("--activation-from", metavar="FILE", default=None,
                    help="analyse the quench points of this HDF5 sweep file (isingneuron run "
                         "configs/paper/activation.yaml) instead of simulating them")
    args = ap.parse_args(argv)
    if args.activation_from is not None and not Path(args.activation_from).is_file():
        ap.error(f"--activation-from {args.activation_from}: no such file")
    t0 = time.perf_counter()
    res = run_all(args.outdir, quick=args.quick, progress=not args.no_progress,
                  activation_source=args.activation_from)
    print(f"wrote {len(res['files'])} files to {args.outdir} in "
          f"{time.perf_counter() - t0:.1f} s; see {Path(args.outdir) / 'report.md'}")
    return 0
