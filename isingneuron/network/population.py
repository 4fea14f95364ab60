"""Population runs of lattice membranes: every quench of a batch in one engine lattice.

:func:`quench_population` advances one L x L membrane per quench depth, all as
replicas of one :class:`~isingneuron.engine.Lattice`, and counts each one's
spike (sweeps with ``m >= theta``); :func:`n_sweeps_for` is how long a run
lasts. :func:`_seed` derives the engine seeds of the whole experiment from a
base seed and labels, so that every run is reproducible on its own.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

import numpy as np

from ..engine import Lattice
from ..schedules import ONSAGER_TC, Population, Quench

__all__ = ["n_sweeps_for", "PopulationSpikes", "quench_population"]

#: Margin (J) above Onsager's Tc at which a run stops: by then no membrane is
#: ordered (checked: ``firing_at_end`` is reported for every run).
_TAIL_MARGIN = 0.2

#: Spin-flip attempts and sweeps per engine call of :func:`quench_population` at most
#: (progress bar, and how often finished membranes are dropped).
_CHUNK_ATTEMPTS = 1 << 27
_CHUNK_SWEEPS = 20


def n_sweeps_for(bath: float, at: float, rate: float, q_max: float) -> int:
    """Sweeps of a run: rest, then reheating until T = Tc + 0.2 J at the deepest quench.

    (0.2 J is :data:`_TAIL_MARGIN`.) After that no membrane is ordered (each run
    reports how many still are). Capped at the end of the deepest quench (T back at the bath).
    """
    reheat = (q_max - (bath - ONSAGER_TC) + _TAIL_MARGIN) / rate
    full = q_max / rate
    return int(at + math.ceil(min(max(reheat, 1.0), full))) + 1


@dataclass
class PopulationSpikes:
    """Per-replica result of :func:`quench_population`.

    Attributes
    ----------
    dwell : ndarray (R,)
        Sweeps with ``m >= theta`` (the spike count).
    onset : ndarray (R,)
        First sweep (completed) with ``m >= theta``, NaN if never.
    offset : ndarray (R,)
        Last sweep (completed) with ``m >= theta``, NaN if never.
    rest_m : ndarray (R,)
        Mean m over the second half of the rest before the quench.
    firing_at_end : int
        Replicas still at ``m >= theta`` at the last sweep (should be 0).
    attempts : float
        Spin-flip attempts of the run.
    seconds : float
        Wall time.
    """

    dwell: np.ndarray
    onset: np.ndarray
    offset: np.ndarray
    rest_m: np.ndarray
    firing_at_end: int
    attempts: float
    seconds: float


class _Tally:
    """Per-replica spike statistics of :func:`quench_population`, added chunk by chunk."""

    def __init__(self, R: int, at: float, theta: float):
        self.at = at
        self.theta = theta
        self.rest_from = at / 2.0
        self.count = np.zeros(R, np.int64)
        self.onset = np.full(R, np.nan)
        self.offset = np.full(R, np.nan)
        self.rest_sum = np.zeros(R)
        self.rest_n = 0
        self.on_last = np.zeros(R, bool)

    def add(self, alive: np.ndarray, m: np.ndarray, done: int) -> np.ndarray:
        """Add a chunk: ``m`` (len(alive), n) of the replicas ``alive`` after ``done`` sweeps.

        Returns ``m >= theta`` of the chunk.
        """
        n = m.shape[1]
        t = done + np.arange(1, n + 1)      # sweeps completed (a new lattice restarts at 0)
        on = m >= self.theta
        self.count[alive] += on.sum(axis=1)
        any_on = on.any(axis=1)
        first = np.argmax(on, axis=1)
        new = np.isnan(self.onset[alive]) & any_on
        self.onset[alive[new]] = t[first[new]]
        last = n - 1 - np.argmax(on[:, ::-1], axis=1)
        self.offset[alive[any_on]] = t[last[any_on]]
        rest = (t > self.rest_from) & (t <= self.at)
        if rest.any():   # every replica is alive during the rest (ends > at)
            self.rest_sum[alive] += m[:, rest].sum(axis=1)
            self.rest_n += int(rest.sum())
        self.on_last[alive] = on[:, -1]
        return on

    def result(self, alive: np.ndarray, complete: bool, attempts: float,
               seconds: float) -> PopulationSpikes:
        """The spikes; ``complete``: the run reached its last sweep."""
        R = self.count.size
        rest_m = self.rest_sum / self.rest_n if self.rest_n else np.full(R, np.nan)
        still = int(self.on_last[alive].sum()) if complete else 0
        return PopulationSpikes(dwell=self.count.astype(float), onset=self.onset,
                                offset=self.offset, rest_m=rest_m, firing_at_end=still,
                                attempts=attempts, seconds=seconds)


def quench_population(L: int, depths, *, dynamics: str = "metropolis", boundary: str = "plus",
                      bath: float = 3.0, at: float = 50, rate: float = 0.005,
                      theta: float = 0.9, n_sweeps: int | None = None, seed: int = 0,
                      progress: bool = False, desc: str = "") -> PopulationSpikes:
    """One L x L membrane per depth, all in one population; their spike counts.

    Every replica ``i`` follows ``Quench(bath, depths[i], at, rate)`` (one
    :class:`~isingneuron.schedules.Population`) with the engine's default,
    random-sequential update order (physical kinetics), all replicas in one
    :class:`~isingneuron.engine.Lattice`. The population is advanced in chunks
    of at most :data:`_CHUNK_SWEEPS` sweeps (progress bar). A membrane whose
    own quench has reheated it to ``Tc + 0.2 J`` (:func:`n_sweeps_for` of its
    depth) and that is not at ``m >= theta`` can no longer spike: once such
    finished membranes make up 10 % of the population, the others continue
    in a new lattice holding only them (their spins carried over, the random
    numbers keyed by a seed derived from ``seed`` and the compaction count).
    Replicas are independent, so this changes no membrane's statistics, only
    the time: shallow quenches stop early.

    Parameters
    ----------
    L : int
        Membrane size.
    depths : array_like (R,)
        Quench depths, J, each in ``[0, bath)``.
    dynamics, boundary : str
        Engine options.
    bath, at, rate, theta : float
        Bath (J), quench time (sweeps), reheating rate (J/sweep), threshold on m.
    n_sweeps : int, optional
        Longest run; default :func:`n_sweeps_for` of the deepest depth.
    seed : int
        Engine seed.
    progress : bool
        tqdm bar over sweeps.
    desc : str
        Bar label.
    """
    t0 = time.perf_counter()
    depths = np.asarray(depths, float).ravel()
    R = depths.size
    if n_sweeps is None:
        n_sweeps = n_sweeps_for(bath, at, rate, float(depths.max()))
    pop = Population([Quench(bath, float(q), at, rate) for q in depths])
    temps = pop.temperatures(n_sweeps)
    ends = np.array([n_sweeps_for(bath, at, rate, q) for q in depths])
    lat = Lattice(L, R, dynamics=dynamics, boundary=boundary, seed=seed)
    alive = np.arange(R)
    tally = _Tally(R, at, theta)
    attempts = 0.0
    parts = 0
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=n_sweeps, unit="sweep", desc=desc or f"L={L} R={R}", leave=False,
                   dynamic_ncols=True)
    done = 0
    try:
        while done < n_sweeps and alive.size:
            n = min(_CHUNK_SWEEPS, max(1, _CHUNK_ATTEMPTS // (L * L * alive.size)),
                    n_sweeps - done)
            tr = lat.run(n, temps[alive, done:done + n])
            attempts += float(L * L) * alive.size * n
            on = tally.add(alive, tr.m, done)
            done += n
            finished = (ends[alive] <= done) & ~on[:, -1]
            if finished.all():
                alive = alive[:0]
            elif finished.mean() >= 0.1 and done < n_sweeps:
                keep = ~finished
                parts += 1
                lat = Lattice(L, int(keep.sum()), dynamics=dynamics, boundary=boundary,
                              seed=_seed(seed, "compaction", parts), initial=lat.spins[keep])
                alive = alive[keep]
            if bar is not None:
                bar.update(n)
    finally:
        if bar is not None:
            bar.close()
    return tally.result(alive, done >= n_sweeps, attempts, time.perf_counter() - t0)


def _seed(base: int, *parts) -> int:
    """A 63-bit engine seed from a base seed and labels (stable across runs)."""
    text = ":".join(["isingneuron.network", str(int(base))] + [repr(p) for p in parts])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little") >> 1
