"""Engine throughput: spin-flip attempts per nanosecond, against a NumPy baseline.

Usage::

    python benchmarks/bench_engine.py            # full table (~1-2 minutes)
    python benchmarks/bench_engine.py --quick    # small sizes only
    python benchmarks/bench_engine.py --json out.json

flips/ns = L**2 * replicas * sweeps / elapsed ns. Each engine figure is the
best of three timed runs after a warm-up (compilation excluded). The baseline
is a vectorised NumPy checkerboard Metropolis sweep (np.roll neighbour sums,
np.random uniforms) run in the same process on the same lattice; the ratio
column is engine / baseline. Memory is the engine's lattice state in bytes per
spin. Results depend on the machine and on what else it runs: numbers are
reported, never asserted.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

import numba
import numpy as np

from isingneuron.engine import Lattice


def numpy_checkerboard(spins, T, n_sweeps, rng):
    """Baseline: vectorised NumPy Metropolis, checkerboard order, periodic."""
    L = spins.shape[-1]
    ii, jj = np.indices((L, L))
    masks = [((ii + jj) % 2 == c) for c in (0, 1)]
    s = spins.astype(np.int64)
    for _ in range(n_sweeps):
        for mask in masks:
            nn = (np.roll(s, 1, -1) + np.roll(s, -1, -1) + np.roll(s, 1, -2) + np.roll(s, -1, -2))
            dE = 2 * s * nn
            accept = (rng.random(s.shape) < np.exp(-dE / T)) & mask
            s = np.where(accept, -s, s)
    return s


def timed(fn, repeats=3):
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def engine_rate(L, R, dynamics, threads, target_s=0.3, record_every=10):
    numba.set_num_threads(threads)
    lat = Lattice(L, R, dynamics, seed=1, initial="random")
    lat.run(record_every, 2.5, record_every)          # compile + warm up
    t0 = time.perf_counter()
    lat.run(record_every, 2.5, record_every)
    per = max(time.perf_counter() - t0, 1e-6) / record_every
    n = max(record_every, int(target_s / per) // record_every * record_every)
    dt = timed(lambda: lat.run(n, 2.5, record_every))
    mem = lat._state.nbytes / (L * L * R)
    return L * L * R * n / dt / 1e9, mem


def baseline_rate(L, R, target_s=0.3):
    rng = np.random.default_rng(0)
    spins = np.where(rng.random((R, L, L)) < 0.5, 1, -1).astype(np.int8)
    t0 = time.perf_counter()
    numpy_checkerboard(spins, 2.5, 1, rng)
    per = time.perf_counter() - t0
    n = max(1, int(target_s / per))
    dt = timed(lambda: numpy_checkerboard(spins, 2.5, n, rng), repeats=2)
    return L * L * R * n / dt / 1e9


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes only")
    ap.add_argument("--json", default="benchmarks/results/engine.json",
                    help="where to write the results (JSON)")
    args = ap.parse_args(argv)
    max_threads = numba.config.NUMBA_NUM_THREADS
    cases = [(64, 1), (256, 1), (1024, 1), (4096, 1), (64, 32)]
    if args.quick:
        cases = [(64, 1), (256, 1), (64, 32)]
    rows = []
    print(f"isingneuron engine benchmark: {platform.processor() or platform.machine()}, "
          f"numba {numba.__version__}, {max_threads} threads available")
    head = f"{'L':>5} {'R':>3} {'dynamics':>10} {'threads':>7} {'flips/ns':>9} {'numpy':>7} {'ratio':>7} {'B/spin':>7}"
    print(head)
    print("-" * len(head))
    for L, R in cases:
        base = baseline_rate(L, R)
        for dynamics in ("metropolis", "glauber"):
            for threads in sorted({1, max_threads}):
                rate, mem = engine_rate(L, R, dynamics, threads)
                row = dict(L=L, R=R, dynamics=dynamics, threads=threads, flips_per_ns=rate,
                           numpy_flips_per_ns=base, ratio=rate / base, bytes_per_spin=mem)
                rows.append(row)
                print(f"{L:>5} {R:>3} {dynamics:>10} {threads:>7} {rate:>9.3f} {base:>7.3f} "
                      f"{rate / base:>7.1f} {mem:>7.3f}")
    numba.set_num_threads(max_threads)
    os.makedirs(os.path.dirname(args.json) or ".", exist_ok=True)
    with open(args.json, "w") as fh:
        json.dump({"machine": platform.platform(), "python": sys.version.split()[0],
                   "numba": numba.__version__, "numpy": np.__version__,
                   "record_every": 10, "rows": rows}, fh, indent=2)
    print(f"written {args.json}")


if __name__ == "__main__":
    main()
