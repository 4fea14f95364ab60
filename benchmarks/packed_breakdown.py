"""Where the packed kernel's time goes on the paper's quench job (a developer's tool).

Usage::

    python benchmarks/packed_breakdown.py            # ~2 minutes (it compiles its copies each run)
    python benchmarks/packed_breakdown.py --reps 21
    python benchmarks/packed_breakdown.py --candidate my_kernels_packed.py

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
``copy``
    the kernel as is, built a second time: the control. Identical code timed
    beside itself differs by ~1-3 % on a shared 2-core VM, and by more with
    a fixed order of the runs (the first of a repetition ran faster), so the
    order of the variants turns by one each repetition, and the ``copy`` row
    shows how far two timings of the same code lie apart.
``candidate`` (with ``--candidate PATH``)
    a modified ``kernels_packed.py``, to compare with ``as is`` and ``copy``
    (its records should be checked against the kernel's separately).

The *ceiling of this design* is the job's speed if every word ran only the
levels it needs and they cost what the dense levels cost a level (``no tail``
minus ``no decisions``, over ``_DENSE``), on top of everything but the
decisions (``no decisions``): a word waits for its slowest lane, and with 64
lanes that each need a geometric number of levels (a level decides half of
the undecided lanes) it needs ~7.3 on average (:data:`LEVELS`). For
Glauber it bounds what any scheduling of the levels (fewer dense levels, a
cheaper tail) can gain at today's cost of a level and of the rest (no lane
is decided before level 0); for Metropolis it is an estimate (lanes with a
certain flip need no level, so a word may need fewer).

Each is timed with a record after every sweep and with a single record, in
interleaved repetitions in one process (medians), and reported in ns per
64-spin word. The copies give wrong physics on purpose: they are only timed.
A copy that cannot be built (the source changed) is reported, not guessed.

A change to this kernel moves its speed for reasons beside the work it
removes or adds: ``_group_sweeps`` is one compiled function with the update,
the records and the tail inlined, and code changed in one of them changed
the sweep without records by up to 6 % (2026-11-30: a cheaper record at
T = Tc made the quench job 2-4 % slower). Judge a change by the whole job
against ``copy``, not by the part it touches.
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
#: levels a word needs when each of its 64 lanes needs a geometric number
#: (P(undecided after l levels) = 2**-l): the expected maximum of 64, ~7.3
LEVELS = float(sum(1.0 - (1.0 - 2.0 ** -l) ** 64 for l in range(64)))

#: (name, [(text in kernels_packed.py, replacement), ...])
VARIANTS = [
    ("as is", []),
    ("no tail", [("    while na > 0 and l < _MAX_LEVELS:", "    while False:")]),
    ("no decisions", [
        ("    _dense_levels(nw, key, qs, b0, b1, b2, sg, und, lt, mode)\n",
         "    for w in range(nw):\n        und[w] = _ZERO\n        lt[w] = _ZERO\n"),
        ("    while na > 0 and l < _MAX_LEVELS:", "    while False:")]),
    ("copy", []),
]


def build(tmp: Path, i: int, name: str, edits, source: Path | None = None) -> object:
    """Variant i: a copy of the kernel module (or of ``source``) with ``edits``
    applied (package ``v<i>``)."""
    pkg = tmp / f"v{i}"
    pkg.mkdir()
    for f in ("_rng.py", "_threads.py"):
        shutil.copy(PKG / f, pkg / f)
    (pkg / "__init__.py").write_text("")
    src = (source or PKG / "kernels_packed.py").read_text()
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
    ap.add_argument("--reps", type=int, default=9, help="interleaved repetitions (median)")
    ap.add_argument("--candidate", type=Path, default=None,
                    help="a modified kernels_packed.py to time beside the kernel")
    args = ap.parse_args(argv)
    if args.candidate is not None and not args.candidate.is_file():
        ap.error(f"--candidate {args.candidate}: no such file")
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
        if args.candidate is not None:
            mods["candidate"] = build(tmp, len(VARIANTS), "candidate", [], args.candidate)
        print(f"paper's quench job, {G * 64} x L = {L} x {SWEEPS}, one thread; "
              f"ns per 64-spin word (median of {args.reps})")
        for dynamics, label in ((1, "Glauber"), (0, "Metropolis")):
            for kp in mods.values():                    # compile and warm up
                run_once(kp, temps, dynamics, 1, spins)
                run_once(kp, temps, dynamics, SWEEPS, spins)
            times = {(nm, rec): [] for nm in mods for rec in (1, SWEEPS)}
            order = list(mods)
            for _ in range(args.reps):
                order = order[1:] + order[:1]           # each variant first in turn
                for nm in order:
                    for rec in (1, SWEEPS):
                        times[nm, rec].append(run_once(mods[nm], temps, dynamics, rec, spins))
            ns = {k: np.median(v) / words * 1e9 for k, v in times.items()}
            print(f"\n{label}:  {'variant':<14} {'record every sweep':>19} {'one record':>11}")
            for nm in mods:
                print(f"{'':11} {nm:<14} {ns[nm, 1]:>19.2f} {ns[nm, SWEEPS]:>11.2f}")
            if all(nm in mods for nm, _ in VARIANTS):
                full, tail, none = ns["as is", 1], ns["no tail", 1], ns["no decisions", 1]
                print(f"{'':11} random decisions {full - none:.2f} ns a word (of it the tail "
                      f"{full - tail:.2f}), records {ns['as is', 1] - ns['as is', SWEEPS]:.2f}; "
                      f"the goal of 15 flips/ns is {64 / 15:.2f} ns a word")
                floor = [ns["no decisions", r] + LEVELS * (ns["no tail", r] - ns["no decisions", r])
                         / mods["as is"]._DENSE for r in (1, SWEEPS)]
                print(f"{'':11} ceiling of this design ({LEVELS:.2f} levels a word at the dense "
                      f"levels' cost): {64 / floor[0]:.1f} flips/ns (records every sweep), "
                      f"{64 / floor[1]:.1f} (one record)")
            if "as is" in mods:
                for nm in ("copy", "candidate"):
                    if nm in mods:
                        d1, dn = (100 * (ns[nm, r] / ns["as is", r] - 1) for r in (1, SWEEPS))
                        print(f"{'':11} {nm} against as is: {d1:+.1f} % (records every sweep), "
                              f"{dn:+.1f} % (one record)")
        sys.path.remove(d)


if __name__ == "__main__":
    main()
