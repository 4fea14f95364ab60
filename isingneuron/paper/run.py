"""Run every experiment and write figures, tables and the report:
:func:`run_all`, and :func:`main` behind ``python -m isingneuron.paper``."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from .._outdir import output_folder
from ._common import EXPERIMENTS, SIZES, STUDIES, _outdir
from .fig_activation import activation
from .fig_criticality import criticality
from .fig_magnetisation import eq2_fits, magnetisation
from .fig_membrane import membrane
from .fig_outcomes import periodic_outcomes
from .fig_population import population
from .fig_relu_regime import relu_regime
from .fig_sparse import sparse_codes
from .fig_spike_trains import spike_trains
from .report import write_report
from .tables import _results_json, parameter_table, write_tables

__all__ = ["run_all", "main", "selected"]


_STUDY_FUNCTIONS = {"relu_regime": relu_regime, "spike_trains": spike_trains,
                    "sparse_codes": sparse_codes, "criticality": criticality}


def selected(only=None, studies: bool = False) -> list[str]:
    """The experiments :func:`run_all` runs, in order: ``only`` (names from
    :data:`EXPERIMENTS` and :data:`STUDIES`; ``eq2`` brings ``magnetisation``, which it
    fits) or else every experiment, and the studies too when ``studies``."""
    known = EXPERIMENTS + STUDIES
    if only is None:
        return list(EXPERIMENTS) + (list(STUDIES) if studies else [])
    only = [only] if isinstance(only, str) else list(only)
    bad = [n for n in only if n not in known]
    if bad:
        raise ValueError(f"only = {bad}: unknown experiment(s); choose from {', '.join(known)}")
    want = set(only) | ({"magnetisation"} if "eq2" in only else set())
    return [n for n in known if n in want]


def run_all(outdir, quick: bool = False, progress: bool = True, sizes: dict | None = None,
            activation_source=None, studies: bool = False, only=None,
            study_sources: dict | None = None) -> dict:
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
    studies : bool
        Also run the four studies (:data:`STUDIES`: where the ReLU holds, spike
        trains, sparse codes, criticality; Figures 8-11), at the modest sizes of
        :data:`SIZES` (measured 40 s on 2 idle cores, 65-75 s on loaded ones, with "full";
        ~10 s with ``quick``).
        Off by default: the default run and its outputs are unchanged.
    only : str or sequence of str, optional
        Run just these experiments or studies (see :func:`selected`).
    study_sources : dict, optional
        ``study name -> HDF5 file(s)`` of its config sweep
        (``configs/studies/*.yaml``): read instead of simulated.

    Returns
    -------
    dict
        The results of the experiments run (``magnetisation, eq2, activation,
        periodic, population, membrane``, and ``relu_regime, spike_trains,
        sparse_codes, criticality`` when asked for), ``seconds`` (wall time per
        experiment) and ``files`` (everything written).
    """
    names = selected(only, studies)
    study_sources = dict(study_sources or {})
    bad = sorted(set(study_sources) - set(STUDIES))
    if bad:
        raise ValueError(f"study_sources: {bad} are not studies; choose from {', '.join(STUDIES)}")
    outdir = _outdir(outdir)
    cfg = {k: dict(v) for k, v in SIZES["quick" if quick else "full"].items()}
    for k, v in (sizes or {}).items():
        cfg.setdefault(k, {}).update(v)
    seconds, results = {}, {}

    def timed(name, fn, **kw):
        t0 = time.perf_counter()
        results[name] = fn(outdir, progress=progress, **kw) if name != "eq2" else fn(outdir, **kw)
        seconds[name] = time.perf_counter() - t0

    plain = {"magnetisation": magnetisation, "periodic": periodic_outcomes,
             "population": population, "membrane": membrane}
    for name in names:
        if name == "eq2":
            timed("eq2", eq2_fits, mag=results["magnetisation"])
        elif name == "activation" and activation_source is not None:
            timed("activation", activation, source=activation_source)
        elif name == "activation":
            timed("activation", activation, **cfg["activation"])
        elif name in plain:
            timed(name, plain[name], **cfg[name])
        elif name in study_sources:
            timed(name, _STUDY_FUNCTIONS[name], source=study_sources[name])
        else:
            timed(name, _STUDY_FUNCTIONS[name], **cfg.get(name, {}))
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


def _study_source(text):
    """``NAME=FILE[,FILE...]`` of ``--study-from``."""
    name, sep, files = text.partition("=")
    if not sep or not files or name not in STUDIES:
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected NAME=FILE[,FILE...] with NAME one of {', '.join(STUDIES)}")
    return name, [f for f in files.split(",") if f]


def _stored_name(path):
    """(the ``name`` of the config stored in ``path``, None) or (None, why it cannot be read)."""
    import yaml

    from ..recorder import RecorderError, read_config_text
    if not Path(path).is_file():
        return None, "no such file"
    try:
        text = read_config_text(path)
        stored = (yaml.safe_load(text) or {}).get("name") if text else None
    except (RecorderError, OSError, yaml.YAMLError, AttributeError) as exc:
        return None, str(exc)
    return stored, None


def _study_sources_problem(name, files) -> str | None:
    """Why ``files`` cannot be read as study ``name``, or None. They must be the sweeps
    of the study's configs (``configs/studies/NAME*.yaml``: stored names starting with
    NAME), the study's own (``NAME.yaml``) among them. Checked before any experiment
    runs: the file of another sweep failed only in the study's analysis, after the
    other figures."""
    names = []
    for f in files:
        stored, problem = _stored_name(f)
        if problem:
            return f"{f}: {problem}"
        if not isinstance(stored, str) or not stored.startswith(name):
            return (f"{f} holds the sweep of config {stored!r}, not of "
                    f"configs/studies/{name}*.yaml")
        names.append(stored)
    if name not in names:
        return (f"none of the files is the sweep of configs/studies/{name}.yaml (config "
                f"name {name!r}; `isingneuron run configs/studies/{name}.yaml` writes it), "
                f"which the study needs")
    return None


def _activation_source_problem(path) -> str | None:
    """Why ``path`` cannot be the source of the transfer curve, or None: read before
    any experiment runs, so that a bad file costs no figure (it is read again by
    the experiment: a sweep file holds 8 bytes a record)."""
    from ..recorder import RecorderError
    from ..transfer import load_quench_runs
    if not Path(path).is_file():
        return "no such file"
    try:
        runs = load_quench_runs(path)
    except (RecorderError, OSError, ValueError) as exc:
        return str(exc)
    if not runs:
        return ("no complete quench points (a depth sweep such as `isingneuron run "
                "configs/paper/activation.yaml`)")
    if max(len(curve) for curve in runs.values()) < 2:
        return ("one quench depth per curve: a transfer curve needs a sweep over depths "
                "(protocol.depth), e.g. `isingneuron run configs/paper/activation.yaml`")
    return None


def main(argv=None, prog="python -m isingneuron.paper") -> int:
    """``python -m isingneuron.paper OUTDIR [--quick] [--no-progress] [--activation-from FILE]
    [--studies] [--only NAME ...] [--study-from NAME=FILE[,FILE...]]``."""
    ap = argparse.ArgumentParser(prog=prog,
                                 description="Reproduce the paper's figures and claims: figures "
                                             "(PNG, PDF), params.csv/json, results.json, "
                                             "report.md.")
    ap.add_argument("outdir", help="output folder (created if missing)")
    ap.add_argument("--quick", action="store_true", help="small sizes (seconds)")
    ap.add_argument("--no-progress", action="store_true", help="no progress bars")
    ap.add_argument("--activation-from", metavar="FILE", default=None,
                    help="analyse the quench points of this HDF5 sweep file (isingneuron run "
                         "configs/paper/activation.yaml) instead of simulating them")
    ap.add_argument("--studies", action="store_true",
                    help="also run the four studies (Figures 8-11: where the ReLU holds, spike "
                         "trains, sparse codes, criticality) at modest sizes (minutes); their "
                         "full grids are the configs of configs/studies/")
    ap.add_argument("--only", nargs="+", metavar="NAME", choices=EXPERIMENTS + STUDIES,
                    help="run only these experiments or studies: "
                         + ", ".join(EXPERIMENTS + STUDIES) + " (report.md, the tables and "
                         "results.json then hold these only, replacing those in OUTDIR)")
    ap.add_argument("--study-from", action="append", type=_study_source, default=[],
                    metavar="NAME=FILE[,FILE...]",
                    help="read a study from the HDF5 file(s) of its config sweeps "
                         "(isingneuron run configs/studies/NAME*.yaml; their stored names start "
                         "with NAME, NAME.yaml's among them) instead of simulating it; implies "
                         "running that study")
    args = ap.parse_args(argv)
    if args.activation_from is not None:
        if args.only is not None and "activation" not in args.only:
            ap.error(f"--activation-from {args.activation_from}: --only {' '.join(args.only)} "
                     "does not run the activation experiment; add activation")
        problem = _activation_source_problem(args.activation_from)
        if problem:
            ap.error(f"--activation-from {args.activation_from}: {problem}")
    sources = {}
    for name, files in args.study_from:
        problem = _study_sources_problem(name, files)
        if problem:
            ap.error(f"--study-from {name}: {problem}")
        sources[name] = files if len(files) > 1 else files[0]
    try:
        output_folder(args.outdir)
    except ValueError as exc:
        ap.error(str(exc))
    only = args.only
    if sources and only is not None:            # a study read from a file is run too
        only = list(dict.fromkeys(list(only) + list(sources)))
    elif sources and not args.studies:
        only = list(EXPERIMENTS) + list(sources)
    t0 = time.perf_counter()
    res = run_all(args.outdir, quick=args.quick, progress=not args.no_progress,
                  activation_source=args.activation_from, studies=args.studies, only=only,
                  study_sources=sources)
    print(f"wrote {len(res['files'])} files to {args.outdir} in "
          f"{time.perf_counter() - t0:.1f} s; see {Path(args.outdir) / 'report.md'}")
    return 0
