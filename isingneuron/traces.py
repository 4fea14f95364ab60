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
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Traces"]


@dataclass
class Traces:
    """Magnetisation, energy and temperature traces of ``R`` replicas.

    Attributes
    ----------
    t : ndarray of int64, shape (n_records,)
        Sweeps completed at each record.
    T : ndarray of float64, shape (R, n_records)
        Bath temperature (J units) of the sweep just completed.
    m : ndarray of float64, shape (R, n_records)
        Magnetisation per spin, in [-1, 1].
    energy : ndarray of float64, shape (R, n_records)
        Energy per spin in units of J, ``H / L**2`` with
        ``H = -J sum_<ij> s_i s_j - h sum_i s_i`` (bonds to a fixed ``plus``
        border included).
    spins : ndarray of int8, shape (R, L, L), optional
        Lattice state after the last sweep.
    snapshots : ndarray of int8, shape (n_snapshots, R, L, L), optional
        Lattice states taken every ``snapshot_every`` sweeps.
    snapshot_t : ndarray of int64, shape (n_snapshots,), optional
        Sweeps completed at each snapshot.
    attrs : dict
        Plain metadata (L, dynamics, boundary, field, seed, ...): JSON-able
        scalars and strings only.
    """

    t: np.ndarray
    T: np.ndarray
    m: np.ndarray
    energy: np.ndarray
    spins: np.ndarray | None = None
    snapshots: np.ndarray | None = None
    snapshot_t: np.ndarray | None = None
    attrs: dict[str, Any] = field(default_factory=dict)

    @property
    def n_replicas(self) -> int:
        """Number of replicas ``R``."""
        return int(self.m.shape[0])

    @property
    def n_records(self) -> int:
        """Number of records per replica."""
        return int(self.t.shape[0])

    def __repr__(self) -> str:  # pragma: no cover - cosmetic
        L = self.attrs.get("L", "?")
        return (f"Traces(R={self.n_replicas}, L={L}, n_records={self.n_records}, "
                f"t=[{self.t[0] if self.n_records else '-'}..{self.t[-1] if self.n_records else '-'}])")

    @staticmethod
    def concatenate(parts: list["Traces"]) -> "Traces":
        """Join traces of consecutive chunks of one run along time.

        The final spins and attrs are taken from the last part.
        """
        if not parts:
            raise ValueError("concatenate needs at least one Traces")
        snaps = [p.snapshots for p in parts if p.snapshots is not None and len(p.snapshots)]
        snap_t = [p.snapshot_t for p in parts if p.snapshots is not None and len(p.snapshots)]
        return Traces(
            t=np.concatenate([p.t for p in parts]),
            T=np.concatenate([p.T for p in parts], axis=1),
            m=np.concatenate([p.m for p in parts], axis=1),
            energy=np.concatenate([p.energy for p in parts], axis=1),
            spins=parts[-1].spins,
            snapshots=np.concatenate(snaps) if snaps else None,
            snapshot_t=np.concatenate(snap_t) if snap_t else None,
            attrs=dict(parts[-1].attrs),
        )
