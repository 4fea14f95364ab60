"""In-memory result of a lattice run: the traces the engine produces.

A :class:`Traces` object is what :func:`isingneuron.simulate` returns, what a
:class:`isingneuron.recorder.Recorder` writes and what
:func:`isingneuron.recorder.read_point` gives back, bit for bit. It holds arrays
and plain metadata only; it knows nothing of files or of physics.

Time convention
---------------
Time is counted in sweeps (one attempted update per spin). Sweep ``s``
(``s = 0, 1, ...``) runs at bath temperature ``T[s]``. Record ``k`` is taken
*after* sweep ``t[k] - 1`` has finished, so ``t[k]`` is the number of sweeps
completed and ``T[:, k]`` is the temperature that sweep ran at.

Compact records
---------------
The engine records exact integers: the total magnetisation ``M = sum_i s_i``
and the bond sum ``B = sum_<ij> s_i s_j`` (border bonds included), 4 bytes
each per replica and record (8 bytes for lattices with ``2 N + 4 L >= 2**31``),
and a temperature row shared by all replicas once. ``m`` and ``energy`` are
computed from them when asked for (``m = M / N``, ``energy = -(B + h M) / N``),
with the same floating-point operations the kernels used before, so nothing is
lost. Traces built from floating-point ``m`` and ``energy`` (e.g. synthetic
traces in a test) keep those arrays as given.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

__all__ = ["Traces", "record_dtype"]


def record_dtype(L: int) -> np.dtype:
    """Integer type of the records ``M`` and ``B`` of an ``L x L`` lattice.

    int32 while ``|B| <= 2 N + 4 L`` fits in it (L <= 32767), int64 beyond.
    """
    return np.dtype(np.int32) if 2 * L * L + 4 * L < 2**31 else np.dtype(np.int64)


class Traces:
    """Magnetisation, energy and temperature traces of ``R`` replicas.

    Parameters
    ----------
    t : array of int64, shape (n_records,)
        Sweeps completed at each record.
    T : array of float64, shape (R, n_records) or (n_records,)
        Bath temperature (J units) of the sweep just completed; a 1-D row is
        shared by every replica (stored once).
    m, energy : arrays of float64, shape (R, n_records), optional
        Magnetisation per spin and energy per spin (J). Give either these or
        ``M``, ``B`` and ``n_spins``.
    spins : array of int8, shape (R, L, L), optional
        Lattice state after the last sweep.
    snapshots : array of int8, shape (n_snapshots, R, L, L), optional
        Lattice states taken every ``snapshot_every`` sweeps.
    snapshot_t : array of int64, shape (n_snapshots,), optional
        Sweeps completed at each snapshot.
    attrs : dict, optional
        Plain metadata (L, dynamics, boundary, field, seed, ...): JSON-able
        scalars and strings only.
    M, B : arrays of int32 or int64, shape (R, n_records), optional
        Exact records: total magnetisation and bond sum (see the module
        docstring).
    n_spins : int, optional
        Spins per replica N = L**2 (needed with ``M`` and ``B``).
    field : float
        Field h (J) of the energy computed from ``M`` and ``B``.

    Attributes
    ----------
    t, T, m, energy, spins, snapshots, snapshot_t, attrs, M, B, n_spins, field
        As above. ``T`` is always ``(R, n_records)`` (a read-only broadcast
        view when shared); ``m`` and ``energy`` are computed from ``M`` and
        ``B`` on each access when the traces are compact; ``M`` and ``B``
        are None otherwise.
    """

    def __init__(self, t, T, m=None, energy=None, spins=None, snapshots=None, snapshot_t=None,
                 attrs=None, *, M=None, B=None, n_spins=None, field=0.0):
        self.t = t
        self._T = T
        self.spins = spins
        self.snapshots = snapshots
        self.snapshot_t = snapshot_t
        self.attrs: dict[str, Any] = {} if attrs is None else attrs
        compact = M is not None or B is not None
        if compact:
            if M is None or B is None or n_spins is None:
                raise ValueError("Traces: M, B and n_spins go together")
            if m is not None or energy is not None:
                raise ValueError("Traces: give either m and energy, or M and B, not both")
        elif m is None or energy is None:
            raise ValueError("Traces: m and energy (or M, B and n_spins) are required")
        self.M, self.B = M, B
        self.n_spins = None if n_spins is None else int(n_spins)
        self.field = float(field)
        self._m, self._energy = m, energy

    # --------------------------------------------------------------- records
    @property
    def compact(self) -> bool:
        """True when the records are the exact integers ``M`` and ``B``."""
        return self.M is not None

    @property
    def m(self) -> np.ndarray:
        """Magnetisation per spin, float64 (R, n_records), in [-1, 1]."""
        if self.M is None:
            return self._m
        return self.M / self.n_spins

    @property
    def energy(self) -> np.ndarray:
        """Energy per spin (J), float64 (R, n_records): ``H / N`` with
        ``H = -J sum_<ij> s_i s_j - h sum_i s_i`` (bonds to a fixed border included)."""
        if self.M is None:
            return self._energy
        return (-self.B - self.field * self.M) / self.n_spins

    @property
    def T(self) -> np.ndarray:
        """Bath temperature (J), (R, n_records); a read-only view when shared."""
        T = np.asarray(self._T)
        if T.ndim == 1:
            return np.broadcast_to(T, (self.n_replicas, T.shape[0]))
        return T

    @property
    def T_shared(self) -> np.ndarray | None:
        """The temperature row ``(n_records,)`` when every replica shares it, else None."""
        T = np.asarray(self._T)
        return T if T.ndim == 1 else None

    # ------------------------------------------------------------------ sizes
    @property
    def n_replicas(self) -> int:
        """Number of replicas ``R``."""
        return int((self.M if self.M is not None else self._m).shape[0])

    @property
    def n_records(self) -> int:
        """Number of records per replica."""
        return int(self.t.shape[0])

    @property
    def record_nbytes(self) -> int:
        """Bytes held by the records (t, T, and M, B or m, energy)."""
        arrays = [self.t, np.asarray(self._T)]
        arrays += [self.M, self.B] if self.compact else [self._m, self._energy]
        return int(sum(np.asarray(a).nbytes for a in arrays))

    def __repr__(self) -> str:  # pragma: no cover - cosmetic
        L = self.attrs.get("L", "?")
        return (f"Traces(R={self.n_replicas}, L={L}, n_records={self.n_records}, "
                f"t=[{self.t[0] if self.n_records else '-'}..{self.t[-1] if self.n_records else '-'}])")

    def replace(self, **changes) -> "Traces":
        """A shallow copy with the attributes in ``changes`` (e.g. ``spins=None``) replaced."""
        out = copy.copy(self)
        for k, v in changes.items():
            if k in ("m", "energy", "T"):
                raise ValueError(f"Traces.replace: {k} cannot be replaced")
            if not hasattr(out, k):
                raise AttributeError(f"Traces has no attribute {k!r}")
            setattr(out, k, v)
        return out

    # --------------------------------------------------------------- joining
    def _records(self) -> dict:
        if self.compact:
            return {"M": self.M, "B": self.B, "n_spins": self.n_spins, "field": self.field}
        return {"m": self._m, "energy": self._energy}

    @staticmethod
    def concatenate(parts: list["Traces"]) -> "Traces":
        """Join traces of consecutive chunks of one run along time.

        The final spins and attrs are taken from the last part. Compact parts
        give compact traces; a shared temperature row stays shared.
        """
        if not parts:
            raise ValueError("concatenate needs at least one Traces")
        snaps = [p.snapshots for p in parts if p.snapshots is not None and len(p.snapshots)]
        snap_t = [p.snapshot_t for p in parts if p.snapshots is not None and len(p.snapshots)]
        if all(p.T_shared is not None for p in parts):
            T = np.concatenate([p.T_shared for p in parts])
        else:
            T = np.concatenate([p.T for p in parts], axis=1)
        if all(p.compact for p in parts):
            rec = {"M": np.concatenate([p.M for p in parts], axis=1),
                   "B": np.concatenate([p.B for p in parts], axis=1),
                   "n_spins": parts[-1].n_spins, "field": parts[-1].field}
        else:
            rec = {"m": np.concatenate([p.m for p in parts], axis=1),
                   "energy": np.concatenate([p.energy for p in parts], axis=1)}
        return Traces(t=np.concatenate([p.t for p in parts]), T=T,
                      spins=parts[-1].spins,
                      snapshots=np.concatenate(snaps) if snaps else None,
                      snapshot_t=np.concatenate(snap_t) if snap_t else None,
                      attrs=dict(parts[-1].attrs), **rec)

    @staticmethod
    def stack(parts: list["Traces"]) -> "Traces":
        """Pool the replicas of runs with the same record times (same ``t``)."""
        if not parts:
            raise ValueError("stack needs at least one Traces")
        if len(parts) == 1:
            return parts[0]
        t = parts[0].t
        if any(p.t.shape != t.shape or np.any(p.t != t) for p in parts):
            raise ValueError("runs have different record times; cannot pool them")
        shared = [p.T_shared for p in parts]
        if all(s is not None for s in shared) and all(np.array_equal(s, shared[0]) for s in shared):
            T = shared[0]
        else:
            T = np.concatenate([p.T for p in parts])
        if all(p.compact for p in parts) and len({(p.n_spins, p.field) for p in parts}) == 1:
            rec = {"M": np.concatenate([p.M for p in parts]),
                   "B": np.concatenate([p.B for p in parts]),
                   "n_spins": parts[0].n_spins, "field": parts[0].field}
        else:
            rec = {"m": np.concatenate([p.m for p in parts]),
                   "energy": np.concatenate([p.energy for p in parts])}
        return Traces(t=t, T=T, attrs=dict(parts[0].attrs), **rec)
