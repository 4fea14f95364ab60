"""Shared by the study scripts of this folder: run a study's configs with
``isingneuron run`` (resuming), then analyse their HDF5 files with the study's
function and write its figure, a markdown report section and a JSON of its numbers.

Not a script itself; each ``scripts/<study>.py`` calls :func:`main` with its
study name and default configs.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _parser(study: str, doc: str, configs: list[str]) -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog=f"python scripts/{study}.py", description=doc,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", nargs="+", default=[str(ROOT / c) for c in configs],
                    metavar="YAML", help="the study's config(s) (default: "
                    + ", ".join(configs) + ")")
    ap.add_argument("--out", default=str(ROOT / "output" / "studies" / study), metavar="DIR",
                    help="folder for the figure, report section and numbers "
                         f"(default: output/studies/{study})")
    ap.add_argument("--h5-dir", default=None, metavar="DIR",
                    help="write (and read) the HDF5 files in DIR instead of each config's "
                         "`output` folder")
    ap.add_argument("--workers", "-j", default=None, metavar="N",
                    help="local worker processes for `isingneuron run` (default: the config's)")
    ap.add_argument("--dask", default=None, metavar="ADDRESS",
                    help="run the points on this Dask scheduler")
    ap.add_argument("--skip-run", action="store_true",
                    help="only analyse the HDF5 files already there")
    ap.add_argument("--no-progress", action="store_true")
    return ap


def _output_of(config: str, h5_dir) -> Path:
    """Where ``isingneuron run config`` writes (its ``output``, or in ``h5_dir``)."""
    from isingneuron.config import load_config
    out = Path(load_config(config).output)
    if h5_dir is not None:
        return Path(h5_dir) / out.name
    return out if out.is_absolute() else Path.cwd() / out


def main(study: str, doc: str, configs: list[str], argv=None) -> int:
    """Run (unless ``--skip-run``) and analyse one study; returns an exit status."""
    from isingneuron import cli, paper
    from isingneuron.paper import report_studies
    from isingneuron.paper.tables import _results_json

    args = _parser(study, doc, configs).parse_args(argv)
    outputs = []
    for cfg in args.config:
        h5 = _output_of(cfg, args.h5_dir)
        h5.parent.mkdir(parents=True, exist_ok=True)
        outputs.append(h5)
        if args.skip_run:
            if not h5.is_file():
                print(f"{study}: {h5}: no such file (run without --skip-run first)",
                      file=sys.stderr)
                return 2
            continue
        cmd = ["run", cfg, "--output", str(h5)]
        if args.workers:
            cmd += ["--workers", str(args.workers)]
        if args.dask:
            cmd += ["--dask", args.dask]
        if args.no_progress:
            cmd.append("--no-progress")
        t0 = time.perf_counter()
        rc = cli.main(cmd)
        print(f"{study}: {cfg} -> {h5} in {time.perf_counter() - t0:.0f} s")
        if rc:
            return rc
    fn = getattr(paper, study)
    outdir = Path(args.out)
    outdir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    res = fn(outdir, source=outputs if len(outputs) > 1 else outputs[0],
             progress=not args.no_progress)
    lines: list[str] = []
    getattr(report_studies, f"{study}_section")(res, lines.append)
    (outdir / f"{study}.md").write_text("\n".join(lines) + "\n")
    (outdir / f"{study}.json").write_text(json.dumps(_results_json({study: res}), indent=1))
    print(f"{study}: analysed {len(outputs)} file(s) in {time.perf_counter() - t0:.0f} s; "
          f"wrote {', '.join(str(p) for p in res.figure)}, {outdir / (study + '.md')}, "
          f"{outdir / (study + '.json')}")
    return 0
