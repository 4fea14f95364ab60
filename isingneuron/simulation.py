"""The run API: a Simulation owns the membrane, its dynamics and its protocol.

In the style of HOOMD-blue, writers are attached to a :class:`Simulation` and
receive the traces chunk by chunk as the run proceeds, so memory stays bounded
on long runs and a file on disk is never behind by more than one chunk::

    from isingneuron import Simulation, Quench
    from isingneuron.recorder import Recorder

    sim = Simulation(L=64, protocol=Quench(bath=3.0, depth=1.5, at=50, rate=0.01),
                     replicas=16, boundary="plus", seed=1)
    with Recorder("quench.h5", mode="w") as rec:
        sim.attach(rec.open_point("depth=1.5", sim.replicas, sim.attrs()))
        traces = sim.run(300)

A writer is any object with ``append(traces)`` (called once per chunk) and
``finalise(spins=None)`` (called once, after the last chunk, with the final
lattice); :class:`isingneuron.recorder.PointWriter` is one.

Each chunk is one native call of the engine (no Python per sweep).
"""

from __future__ import annotations

import json
import math
import time

import numpy as np

from .engine import (UPDATES, Lattice, _check_int, _short, check_memory,
                     check_temperatures)
from .traces import Traces

__all__ = ["Simulation", "wolff_clusters_per_sweep", "chunk_sweeps"]

_CHUNK_FLIPS = 1 << 24   # spin-flip attempts per engine call (~10 ms at 2 flips/ns)


def chunk_sweeps(n_spins, replicas, record_every, snapshot_every, n_sweeps):
    """Sweeps per engine call of :meth:`Simulation.run` (about ``_CHUNK_FLIPS`` attempts).

    A multiple of ``record_every``; with snapshots, exactly
    ``lcm(record_every, snapshot_every)`` (a snapshot ends each call).
    """
    unit = record_every
    if snapshot_every:
        return unit * snapshot_every // math.gcd(unit, snapshot_every)
    k = max(1, _CHUNK_FLIPS // (n_spins * replicas * unit))
    return min(unit * k, max(unit, n_sweeps))


def _stride(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} = {_short(value)}: must be an integer >= 1")
    return int(value)


def _protocol_description(protocol):
    if hasattr(protocol, "to_dict"):
        return json.dumps(protocol.to_dict(), sort_keys=True)
    if isinstance(protocol, (int, float, np.number)):
        return json.dumps({"kind": "constant", "T": float(protocol), "units": "J"})
    if isinstance(protocol, (list, tuple, np.ndarray)):
        return json.dumps({"kind": "array", "shape": list(np.shape(protocol))})
    return json.dumps({"kind": type(protocol).__name__, "repr": repr(protocol)})


def wolff_clusters_per_sweep(L, T, seed=0, initial="up", replicas=1, probe=50) -> int:
    """Cluster flips per Wolff "sweep" so that a sweep flips about N = L**2 spins.

    Measured on a separate probe lattice (same seed and start, ``probe``
    single-cluster steps at temperature ``T``), so the run itself is untouched
    and the number is fixed before it starts: a count that depended on the
    run's own clusters would bias its records.

    Parameters
    ----------
    L : int
        Linear size.
    T : float
        Temperature (J units) at which the mean cluster size is measured.
    seed, initial, replicas, probe : see :class:`isingneuron.engine.Lattice`.

    Returns
    -------
    int
        ``ceil(N / mean cluster size)``, at least 1.
    """
    lat = Lattice(L, replicas, "wolff", "periodic", 0.0, seed, initial)
    lat.run(probe, T, record_every=probe)
    return max(1, int(math.ceil(lat.n_spins / lat.mean_cluster_size)))


class Simulation:
    """R replicas of an L x L membrane driven by a temperature protocol.

    Parameters
    ----------
    L : int
        Linear lattice size (channels per side).
    protocol : float, array_like or schedule
        Bath temperature in J units: a number, an array over sweeps, or a
        protocol from :mod:`isingneuron.schedules` (``Quench``, ``Population``
        of per-replica quenches, ...), evaluated at each sweep.
    dynamics : {"metropolis", "glauber", "wolff"}
        Update rule. Only single-spin dynamics have a physical time; Wolff is
        for equilibrium sampling.
    update : {None, "random_sequential", "checkerboard"}
        Update order of the single-spin rules; None is random-sequential, the
        physical kinetics (see :class:`isingneuron.engine.Lattice`).
    replicas : int
        Independent replicas R (trials, or the neurones of a population).
    boundary : {"periodic", "plus"}
        "plus": fixed +1 border, the membrane fires to m = +1.
    field : float
        Uniform field h (J).
    seed : int
        Seed of every random number in the run.
    initial : {"random", "up", "down"} or array
        Initial spins.
    record_every : int
        Sweeps between records of m, e and T.
    snapshot_every : int, optional
        If given, the lattice of every replica is also kept every
        ``snapshot_every`` sweeps (``Traces.snapshots``).
    parallel : {"auto", "replicas", "rows", "blocks", "packed"}
        Work sharing among threads; never changes results, except that the
        packed layout (multi-spin coded, picked by "auto" for R >= 64
        checkerboard replicas) draws other random numbers (see
        :class:`isingneuron.engine.Lattice`).
    wolff_clusters : int or "auto"
        ``dynamics="wolff"`` only: cluster flips per sweep. "auto" sizes it
        with :func:`wolff_clusters_per_sweep` at the protocol's first
        temperature, so that a sweep flips about N spins on average.

    Raises
    ------
    ValueError
        A bad parameter (named in the message), or a lattice that cannot fit
        in the memory available (how much it needs, how much there is).
        :meth:`run` checks the memory of the run (records, snapshots) the
        same way before it starts.
    """

    def __init__(self, L, protocol, *, dynamics="metropolis", update=None, replicas=1,
                 boundary="periodic", field=0.0, seed=0, initial="random",
                 record_every=1, snapshot_every=None, parallel="auto", wolff_clusters="auto"):
        L = _check_int("L", L, 2)
        replicas = _check_int("replicas", replicas, 1)
        record_every = _stride("record_every", record_every)
        if snapshot_every is not None:
            snapshot_every = _stride("snapshot_every", snapshot_every)
        check_temperatures(protocol, replicas, "protocol")
        order = update if isinstance(update, str) and update in UPDATES else "random_sequential"
        check_memory("Simulation", L, replicas, dynamics=dynamics, update=order,
                     initial=initial, parallel=parallel, protocol=protocol)
        if dynamics == "wolff" and isinstance(wolff_clusters, str) and wolff_clusters == "auto":
            T0 = np.ravel(protocol.temperatures(1) if hasattr(protocol, "temperatures")
                          else np.asarray(protocol, dtype=float))[0]
            wolff_clusters = wolff_clusters_per_sweep(L, T0, seed, initial, replicas)
        elif isinstance(wolff_clusters, str) and wolff_clusters == "auto":
            wolff_clusters = 1
        self.lattice = Lattice(L, replicas, dynamics, boundary, field, seed, initial, parallel,
                               wolff_clusters, update)
        self.protocol = protocol
        self.record_every = record_every
        self.snapshot_every = snapshot_every
        self.writers = []

    # ---------------------------------------------------------------- state
    @property
    def replicas(self) -> int:
        return self.lattice.replicas

    @property
    def sweep(self) -> int:
        """Sweeps completed so far."""
        return self.lattice.sweep

    @property
    def spins(self) -> np.ndarray:
        """Current lattice, ``int8[R, L, L]``."""
        return self.lattice.spins

    def attrs(self) -> dict:
        """Plain metadata of this run (lattice, protocol, record stride)."""
        a = self.lattice.attrs()
        a.update(record_every=self.record_every, protocol=_protocol_description(self.protocol))
        if self.snapshot_every:
            a["snapshot_every"] = self.snapshot_every
        if self.lattice.dynamics == "wolff":
            a["wolff_clusters"] = self.lattice.wolff_clusters
        return a

    def attach(self, writer):
        """Attach a writer (``append(traces)``, ``finalise(spins)``); returns it."""
        if not (hasattr(writer, "append") and hasattr(writer, "finalise")):
            raise TypeError(f"{writer!r} is not a writer: it needs append(traces) and "
                            "finalise(spins=None) methods")
        self.writers.append(writer)
        return writer

    # ------------------------------------------------------------------ run
    def _chunk(self, n_sweeps):
        return chunk_sweeps(self.lattice.n_spins, self.replicas, self.record_every,
                            self.snapshot_every, n_sweeps)

    def run(self, n_sweeps, progress=False, keep=True):
        """Advance the run by ``n_sweeps`` sweeps, feeding attached writers.

        Parameters
        ----------
        n_sweeps : int
            Sweeps to run; a multiple of ``record_every`` (and of
            ``snapshot_every`` when snapshots are kept).
        progress : bool
            Show a tqdm progress bar with sweeps/s and flips/ns.
        keep : bool
            Return the traces of this run (set False on very long runs whose
            traces only go to writers).

        Returns
        -------
        Traces or None
            Records of this call (``t`` continues from earlier calls).

        Raises
        ------
        ValueError
            A bad ``n_sweeps``, or a run whose records (and snapshots, when
            kept) cannot fit in the memory available, refused before the
            first sweep.
        """
        unit = self._chunk(0)
        if isinstance(n_sweeps, bool) or not isinstance(n_sweeps, (int, np.integer)) \
                or n_sweeps < 0 or n_sweeps % unit:
            raise ValueError(f"n_sweeps = {_short(n_sweeps)}: must be a non-negative multiple of "
                             f"{unit} (record_every / snapshot_every)")
        n_sweeps = int(n_sweeps)
        chunk = self._chunk(n_sweeps)
        lat = self.lattice
        check_memory("Simulation.run", lat.L, self.replicas, n_sweeps, self.record_every,
                     dynamics=lat.dynamics, update=lat.update or "", held=True,
                     protocol=self.protocol, snapshot_every=self.snapshot_every, chunk=chunk,
                     keep=keep)
        parts = []
        last = None
        bar = None
        if progress:
            from tqdm.auto import tqdm
            bar = tqdm(total=int(n_sweeps), unit="sweep", desc=f"L={self.lattice.L} R={self.replicas}",
                       leave=False)
        done = 0
        t_start = time.perf_counter()
        try:
            while done < n_sweeps:
                n = min(chunk, n_sweeps - done)
                tr = self.lattice.run(n, self.protocol, self.record_every)
                if self.snapshot_every:
                    tr.snapshots = tr.spins[None].copy()
                    tr.snapshot_t = np.array([self.lattice.sweep], np.int64)
                tr.attrs = self.attrs()
                for w in self.writers:
                    w.append(tr)
                if keep:     # the final spins of the last chunk only, not one copy per chunk
                    parts.append(tr.replace(spins=None))
                    last = tr
                done += n
                if bar is not None:
                    bar.update(n)
                    dt = time.perf_counter() - t_start
                    bar.set_postfix(flips_per_ns=f"{done * self.lattice.n_spins * self.replicas / dt / 1e9:.2f}")
        finally:
            if bar is not None:
                bar.close()
        if not keep:
            return None
        if not parts:
            return None
        out = Traces.concatenate(parts)
        out.spins = last.spins
        out.attrs = self.attrs()
        return out

    def finalise(self):
        """Tell every attached writer that the run is complete (final spins)."""
        spins = self.spins
        for w in self.writers:
            w.finalise(spins)
