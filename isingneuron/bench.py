"""Engine throughput: spin-flip attempts per nanosecond, against a NumPy baseline.

Run as ``isingneuron bench [--quick] [--json PATH]`` or
``python benchmarks/bench_engine.py`` (which also writes
``benchmarks/results/engine.json``).

flips/ns = L**2 * replicas * sweeps / elapsed ns. Each engine figure is the
best of three timed runs after a warm-up (compilation excluded). Every case is
measured for both update orders. The baseline of the checkerboard rows is a
vectorised NumPy checkerboard Metropolis sweep (np.roll neighbour sums,
np.random uniforms); the baseline of the random-sequential rows is
:func:`reference_random_sequential`, the straightforward Numba kernel (neighbour
sum recomputed at every attempt, the engine's random numbers) that the engine's
kernel replaced. Both run in the same process on the same lattice; the ratio
column is engine / baseline. Memory is the engine's lattice state in bytes per
spin. Results depend on the machine and on what else it runs: numbers are
reported, never asserted.
"""
from __future__ import annotations

import json
import os
import platform
import sys
import time

import warnings

import numba
import numpy as np
from numba import njit, prange

from ._rng import STREAM_RANDOM_SITE, draw32, row_key
from .engine import CheckerboardMetropolisWarning, Lattice

__all__ = ["CASES", "QUICK_CASES", "UPDATES", "numpy_checkerboard", "reference_random_sequential",
           "timed", "engine_rate", "baseline_rate", "run_benchmark", "write_json"]

#: (L, replicas) of the full table and of ``--quick``.
CASES = [(64, 1), (256, 1), (1024, 1), (4096, 1), (64, 32), (32, 64), (64, 64)]
QUICK_CASES = [(64, 1), (256, 1), (64, 32), (32, 64)]
UPDATES = ("checkerboard", "random_sequential")
RECORD_EVERY = 10


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


@njit(parallel=True, cache=True)
def reference_random_sequential(spins, T, n_sweeps, seed):
    """Baseline: plain random-sequential Metropolis (periodic), one Numba loop per attempt.

    Two 32-bit draws per attempt (site, then acceptance), the four neighbours
    read and ``exp`` evaluated at every attempt: the kernel before the
    engine's neighbour-sum codes.
    """
    R, L = spins.shape[0], spins.shape[1]
    N = L * L
    for r in prange(R):
        s = spins[r]
        for sweep in range(n_sweeps):
            key = row_key(seed, r, sweep, STREAM_RANDOM_SITE, 0)
            for a in range(N):
                site = np.int64((draw32(key, 2 * a) * np.uint64(N)) >> np.uint64(32))
                i, j = site // L, site % L
                nn = (s[(i - 1) % L, j] + s[(i + 1) % L, j] + s[i, (j - 1) % L]
                      + s[i, (j + 1) % L])
                dE = 2.0 * s[i, j] * nn
                if dE <= 0 or draw32(key, 2 * a + 1) < np.exp(-dE / T) * 4294967296.0:
                    s[i, j] = -s[i, j]


def timed(fn, repeats=3):
    """Best wall time of ``repeats`` calls of ``fn``, seconds."""
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def engine_rate(L, R, dynamics, threads, target_s=0.3, record_every=RECORD_EVERY,
                update="checkerboard", T=2.5):
    """Engine flips/ns and bytes per spin for ``R`` replicas of ``L x L`` at ``T`` (J)."""
    numba.set_num_threads(threads)
    with warnings.catch_warnings():      # speed only: the kinetics do not matter here
        warnings.simplefilter("ignore", CheckerboardMetropolisWarning)
        lat = Lattice(L, R, dynamics, seed=1, initial="random", update=update)
    lat.run(record_every, T, record_every)            # compile + warm up
    t0 = time.perf_counter()
    lat.run(record_every, T, record_every)
    per = max(time.perf_counter() - t0, 1e-6) / record_every
    n = max(record_every, int(target_s / per) // record_every * record_every)
    dt = timed(lambda: lat.run(n, T, record_every))
    mem = lat._state.nbytes / (L * L * R)
    return L * L * R * n / dt / 1e9, mem


def baseline_rate(L, R, target_s=0.3, update="checkerboard", threads=1):
    """Baseline flips/ns on the same lattice: NumPy checkerboard, or the
    reference random-sequential kernel (with ``threads`` threads)."""
    rng = np.random.default_rng(0)
    spins = np.where(rng.random((R, L, L)) < 0.5, 1, -1).astype(np.int8)
    if update == "checkerboard":
        def sweeps(n):
            numpy_checkerboard(spins, 2.5, n, rng)
    else:
        numba.set_num_threads(threads)

        def sweeps(n):
            reference_random_sequential(spins, 2.5, n, np.uint64(1))
        sweeps(1)                                      # compile
    t0 = time.perf_counter()
    sweeps(1)
    per = max(time.perf_counter() - t0, 1e-6)
    n = max(1, int(target_s / per))
    dt = timed(lambda: sweeps(n), repeats=2)
    return L * L * R * n / dt / 1e9


def run_benchmark(cases=CASES, *, target_s=0.3, dynamics=("metropolis", "glauber"),
                  updates=UPDATES, out=print) -> dict:
    """Measure every case with 1 thread and all threads; ``out`` gets the table lines.

    Returns
    -------
    dict
        Machine description and ``rows`` (one dict per measurement).
    """
    max_threads = numba.config.NUMBA_NUM_THREADS
    previous = numba.get_num_threads()
    out(f"isingneuron engine benchmark: {platform.processor() or platform.machine()}, "
        f"numba {numba.__version__}, {max_threads} threads available")
    head = (f"{'L':>5} {'R':>3} {'dynamics':>10} {'update':>17} {'threads':>7} {'flips/ns':>9} "
            f"{'base':>7} {'ratio':>7} {'B/spin':>7}")
    out(head)
    out("-" * len(head))
    rows = []
    try:
        for L, R in cases:
            for update in updates:
                base = {}
                for dyn in dynamics:
                    for threads in sorted({1, max_threads}):
                        if update == "random_sequential" and L > 1024:
                            continue          # one thread per replica: minutes per sweep set
                        key = threads if update == "random_sequential" else 1
                        if key not in base:
                            base[key] = baseline_rate(L, R, target_s, update, threads)
                        rate, mem = engine_rate(L, R, dyn, threads, target_s, update=update)
                        b = base[key]
                        rows.append(dict(L=L, R=R, dynamics=dyn, update=update, threads=threads,
                                         flips_per_ns=rate, baseline_flips_per_ns=b,
                                         baseline="numpy checkerboard" if update == "checkerboard"
                                         else "reference random-sequential kernel",
                                         ratio=rate / b, bytes_per_spin=mem))
                        out(f"{L:>5} {R:>3} {dyn:>10} {update:>17} {threads:>7} {rate:>9.3f} "
                            f"{b:>7.3f} {rate / b:>7.1f} {mem:>7.3f}")
    finally:
        numba.set_num_threads(previous)
    return {"machine": platform.platform(), "python": sys.version.split()[0],
            "numba": numba.__version__, "numpy": np.__version__,
            "record_every": RECORD_EVERY, "rows": rows}


def write_json(result: dict, path) -> None:
    """Write :func:`run_benchmark` output as JSON (the folder is created)."""
    os.makedirs(os.path.dirname(str(path)) or ".", exist_ok=True)
    with open(path, "w") as fh:
        json.dump(result, fh, indent=2)
