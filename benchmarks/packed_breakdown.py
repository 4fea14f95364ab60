"""Where the packed kernel's time goes on the paper's quench job (a developer's tool).

Usage::

    python benchmarks/packed_breakdown.py            # ~1 minute (it compiles its copies each run)
    python benchmarks/packed_breakdown.py --reps 9

The paper's quench job (1024 replicas of L = 32, 600 sweeps, bath 3 J,
depth 2 J at sweep 50, reheating 0.005 J/sweep: ``bench_goals.QUENCH``; fixed
+1 border) runs in
:func:`isingneuron.kernels_packed.checkerboard_packed` and in *knock-out*
copies of it, built from its source in a temporary package with one part
removed:

``no tail``
    the bit-serial comparison stops after the ``_DENSE`` levels that run over
    every word (a lane still undecided then keeps "no flip"): the rest is
    the cost of the words that need deeper levels.
``no decisions``
    no random decision at all (no lane ever flips): what is left is the
    neighbour adders, the flips' bookkeeping and the loop structure, the
    floor of the update without random numbers.

Each is timed with a record after every sweep and with a single record, in
interleaved repetitions in one process (medians), and reported in ns per
64-spin word. The copies give wrong physics on purpose: they are only timed.
A copy that cannot be built (the source changed) is reported, not guessed.
"""
from __future__ import annotations

import argparse
import importlib
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numba
import numpy as np

import isingneuron
from isingneuron.bench_goals import QUENCH
from isingneuron.schedules import Quench

PKG = Path(isingneuron.__file__).parent
L, G, SWEEPS = 32, 16, 600

#: (name, [(text in kernels_packed.py, replacement), ...])
VARIANTS = [
    ("as is", []),
    ("no tail", [("    while na > 0 and l < _MAX_LEVELS:", "    while False:")]),
    ("no decisions", [
        ("    _dense_levels(nw, key, qs, b0, b1, b2, sg, und, lt, mode)\n",
         "    for w in range(nw):\n        und[w] = _ZERO\n        lt[w] = _ZERO\n"),
        ("    while na > 0 and l < _MAX_LEVELS:", "    while False:")]),
]


def build(tmp: Path, i: int, name: str, edits) -> object:
    """Variant i: a copy of the kernel module with ``edits`` applied (package ``v<i>``)."""
    pkg = tmp / f"v{i}"
    pkg.mkdir()
    for f in ("_rng.py", "_threads.py"):
        shutil.copy(PKG / f, pkg / f)
    (pkg / "__init__.py").write_text("")
    src = (PKG / "kernels_packed.py").read_text()
    for old, new in edits:
        if src.count(old) != 1:
            raise RuntimeError(f"variant {name!r}: {old.strip()[:50]!r} is not in "
                               f"kernels_packed.py once (the source changed; update VARIANTS)")
        src = src.replace(old, new)
    (pkg / "kernels_packed.py").write_text(src)
    return importlib.import_module(f"{pkg.name}.kernels_packed")


def run_once(kp, temps, dynamics, record_every, spins) -> float:
    P = spins.copy()
    n = SWEEPS // record_every
    m = np.empty((G * 64, n), np.int32)
    e = np.empty_like(m)
    t0 = time.perf_counter()
    kp.checkerboard_packed(P, temps, 0.0, dynamics, True, np.uint64(1), 0, record_every, m, e)
    return time.perf_counter() - t0


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=5, help="interleaved repetitions (median)")
    args = ap.parse_args(argv)
    numba.set_num_threads(1)
    temps = np.ascontiguousarray(np.broadcast_to(Quench(**QUENCH).temperatures(SWEEPS),
                                                 (G * 64, SWEEPS)))
    spins = np.random.default_rng(0).integers(0, 2**63, (G, 2, L, L // 2), dtype=np.uint64)
    words = G * 2 * L * (L // 2) * SWEEPS
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        sys.path.insert(0, d)
        mods = {}
        for i, (name, edits) in enumerate(VARIANTS):
            try:
                mods[name] = build(tmp, i, name, edits)
            except RuntimeError as err:
                print(f"skipped: {err}")
        print(f"paper's quench job, {G * 64} x L = {L} x {SWEEPS}, one thread; "
              f"ns per 64-spin word (median of {args.reps})")
        for dynamics, label in ((1, "Glauber"), (0, "Metropolis")):
            for kp in mods.values():                    # compile and warm up
                run_once(kp, temps, dynamics, 1, spins)
                run_once(kp, temps, dynamics, SWEEPS, spins)
            times = {(nm, rec): [] for nm in mods for rec in (1, SWEEPS)}
            for _ in range(args.reps):
                for nm, kp in mods.items():
                    for rec in (1, SWEEPS):
                        times[nm, rec].append(run_once(kp, temps, dynamics, rec, spins))
            ns = {k: np.median(v) / words * 1e9 for k, v in times.items()}
            print(f"\n{label}:  {'variant':<14} {'record every sweep':>19} {'one record':>11}")
            for nm in mods:
                print(f"{'':11} {nm:<14} {ns[nm, 1]:>19.2f} {ns[nm, SWEEPS]:>11.2f}")
            if len(mods) == len(VARIANTS):
                full, tail, none = ns["as is", 1], ns["no tail", 1], ns["no decisions", 1]
                print(f"{'':11} random decisions {full - none:.2f} ns a word (of it the tail "
                      f"{full - tail:.2f}), records {ns['as is', 1] - ns['as is', SWEEPS]:.2f}; "
                      f"the goal of 15 flips/ns is {64 / 15:.2f} ns a word")
        sys.path.remove(d)


if __name__ == "__main__":
    main()
