"""The command line of the network experiment: :func:`main`."""

from __future__ import annotations

import argparse
import sys

from .._outdir import output_folder
from .config import NetworkConfigError, load_config
from .data import _sklearn
from .experiment import run

__all__ = ["main"]


def main(argv=None, prog="python -m isingneuron.network") -> int:
    """Command line: ``python -m isingneuron.network OUTDIR [--quick] [--layers 1|2|both]``.

    Returns the exit status: 0 done, 2 bad input (config, option, OUTDIR, scikit-learn
    missing).
    """
    ap = argparse.ArgumentParser(prog=prog,
                                 description="Digits classified by a network of lattice "
                                             "neurones, against its ReLU network.")
    ap.add_argument("outdir", help="output folder (network.json, network.md, network.png)")
    ap.add_argument("--quick", action="store_true",
                    help="L = 16 only, no scans (15-30 s)")
    ap.add_argument("--layers", choices=("1", "2", "both"), default="both",
                    help="networks with one hidden layer, two, or both (default)")
    ap.add_argument("--config", default=None,
                    help="YAML config (default: built-in, the same as configs/network.yaml)")
    ap.add_argument("--no-progress", action="store_true", help="no progress bars")
    args = ap.parse_args(argv)
    try:
        cfg = load_config(args.config, quick=args.quick)
    except NetworkConfigError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    try:
        _sklearn()                      # the install hint before any folder is made
        output_folder(args.outdir)
    except (ImportError, ValueError) as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    try:
        res = run(args.outdir, quick=args.quick, layers=args.layers,
                  config=dict(cfg, _validated=True), progress=not args.no_progress)
    except ImportError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    s = res.summary
    for nl in s["goal"]:
        g = s["goal"][nl]
        b = lambda k: s[k]["by_layers"][nl]  # noqa: E731
        print(f"{nl} hidden layer(s): ReLU {100 * b('ann_accuracy')['value']:.1f} %, lattice "
              f"{100 * b('lattice_accuracy')['value']:.1f} ± "
              f"{100 * b('lattice_accuracy')['error']:.1f} % (L = {g['L']}, r = {g['rate']}), "
              f"mean-field {100 * b('mean_field_accuracy')['value']:.1f} %, quasi-static "
              f"{100 * b('quasi_static_accuracy')['value']:.1f} %, agreement "
              f"{100 * b('agreement')['value']:.1f} %: goal {'met' if g['met'] else 'NOT met'}")
    print(f"wrote {', '.join(str(p) for p in res.files)} in {res.seconds:.0f} s")
    return 0
