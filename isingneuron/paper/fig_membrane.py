"""Figures 6 and 7: m(t) and T(t) for a few quench depths, and one membrane's
lattice through a spike (snapshots and a GIF)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import meanfield, plots, spikes
from ..schedules import ONSAGER_TC, Quench
from ..simulation import Simulation
from ._common import AT, BATH, RATE, THETA, UPDATE, _bar, _outdir, _run_quench, _seed

__all__ = ["MembraneResult", "membrane"]


@dataclass
class MembraneResult:
    """Traces and snapshots of the membrane through quenches (Figures 6, 7, GIF).

    Attributes
    ----------
    depths : ndarray, shape (K,)
        Quench depths (J) of the traces.
    t : ndarray, shape (n,)
        Time (sweeps completed).
    T : ndarray, shape (K, n)
        Bath temperature (J).
    m_mean : ndarray, shape (K, n)
        Mean m over replicas.
    m_replicas : ndarray, shape (K, R, n)
    m_meanfield : ndarray, shape (K, n)
        Mean-field Glauber dynamics, reduced units (Tc = Onsager's), m0 = resting m.
    frames : ndarray of int8, shape (k, L, L)
        Chosen snapshots of one membrane (rest, quench, ordering, spike, melting,
        after).
    frame_t : ndarray, shape (k,)
    frame_titles : list of str
    snapshot_depth : float
    snapshot_m, snapshot_T : ndarray
        That membrane's m(t) and T(t) on ``t``.
    dynamics, update : str
        Update rule and order of the runs.
    figure, figure_snapshots : list of Path
    gif : Path or None
    """

    depths: np.ndarray
    t: np.ndarray
    T: np.ndarray
    m_mean: np.ndarray
    m_replicas: np.ndarray
    m_meanfield: np.ndarray
    frames: np.ndarray
    frame_t: np.ndarray
    frame_titles: list
    snapshot_depth: float
    snapshot_m: np.ndarray
    snapshot_T: np.ndarray
    dynamics: str = "metropolis"
    update: str | None = None
    theta: float = THETA
    figure: list = field(default_factory=list)
    figure_snapshots: list = field(default_factory=list)
    gif: Path | None = None

    def summary(self) -> list[tuple]:
        """Per depth: ``(depth, fraction of trials with m >= theta, mean dwell in sweeps)``."""
        out = []
        for k, q in enumerate(self.depths):
            d = spikes.dwell_time(self.t, self.m_replicas[k], self.theta)
            out.append((float(q), float(np.mean(d > 0)), float(np.mean(d))))
        return out


def membrane(outdir=None, *, L=32, depths=(0.5, 1.25, 1.75, 2.5), dynamics="metropolis",
             replicas=8, snapshot_depth=2.5, snapshot_every=2, bath=BATH, rate=RATE, at=AT,
             theta=THETA, tail=100, update=UPDATE, gif=True, seed=5,
             progress=True) -> MembraneResult:
    """m(t) and T(t) for a few depths, and the lattice through one spike.

    The default size is L = 32 and the snapshot membrane is quenched by 2.5 J: with
    physical (random-sequential) kinetics a membrane needs ~0.08 L**2 sweeps
    (Metropolis) to order, so at the default rate an L = 64 membrane fires in only
    about half the trials even at Q = 2.5 J and not at all at 1.75 J (Figure 3):
    its snapshots would show no spike to illustrate.

    Parameters
    ----------
    outdir : path-like, optional
        Folder for ``fig6_traces``, ``fig7_snapshots`` (PNG, PDF) and
        ``membrane.gif``.
    L : int
    depths : sequence of float
        Quench depths (J) of the traces.
    dynamics : str
    replicas : int
        Trials per depth.
    snapshot_depth : float
        Depth of the snapshot run (J).
    snapshot_every : int
        Sweeps between snapshots.
    bath, rate, at, theta : float
    tail : int
    update : {"random_sequential", "checkerboard", None}
        Update order (passed to :class:`isingneuron.Simulation`).
    gif : bool
        Write the animation (needs Pillow).
    seed : int
    progress : bool

    Returns
    -------
    MembraneResult
    """
    outdir = _outdir(outdir)
    depths = np.asarray(depths, float)
    n_sweeps = int(at + math.ceil(depths.max() / rate) + tail)
    n_sweeps -= n_sweeps % snapshot_every
    runs = [_run_quench(L, dynamics, float(q), bath=bath, rate=rate, at=at, replicas=replicas,
                        n_sweeps=n_sweeps, update=update, seed=_seed(seed, "membrane", float(q)))
            for q in _bar(depths, progress, "Fig 6: traces")]
    t = runs[0].t
    T = np.stack([r.T[0] for r in runs])
    m_reps = np.stack([r.m for r in runs])
    m0 = float(np.mean([r.m[:, (r.t >= at / 2) & (r.t < at)].mean() for r in runs]))
    m_mf = meanfield.glauber_dynamics(T, tau=1.0, Tc=ONSAGER_TC, m0=max(m0, 1e-3))
    qs = float(snapshot_depth)
    sim = Simulation(L, Quench(bath, qs, at, rate), dynamics=dynamics, update=update,
                     replicas=1, boundary="plus", seed=_seed(seed, "snapshots", qs),
                     snapshot_every=snapshot_every)
    tr = sim.run(n_sweeps, progress=False)
    snaps, st = tr.snapshots[:, 0], tr.snapshot_t
    m1, T1 = tr.m[0], tr.T[0]
    frames, ft, titles = _pick_frames(snaps, st, tr.t, m1, T1, at, theta)
    used = runs[0].attrs.get("update")
    res = MembraneResult(depths, t, T, m_reps.mean(axis=1), m_reps, m_mf, frames, ft, titles,
                         qs, m1, T1, dynamics=dynamics, update=used, theta=theta)
    if outdir is not None:
        labels = [f"Q = {q:g} J" for q in depths]
        res.figure = plots.save_figure(plots.traces_figure(
            t, T, res.m_mean, labels, m_replicas=m_reps, m_theory=m_mf, theta=theta,
            title=f"{dynamics} ({str(used).replace('_', '-')}), L = {L}, + border, "
                  f"{replicas} trials per depth (dashed: mean-field Glauber, Tc = 2.269 J)"),
            outdir / "fig6_traces")
        res.figure_snapshots = plots.save_figure(plots.snapshots_figure(
            frames, ft, tr.t, m1, T1, titles=titles,
            title=f"One membrane (L = {L}, {dynamics}, {str(used).replace('_', '-')}, "
                  f"+ border) through a quench Q = {qs:g} J"),
            outdir / "fig7_snapshots")
        if gif:
            stride = max(1, -(-len(st) // 40))        # at most 40 frames
            res.gif = plots.membrane_animation(snaps[::stride], st[::stride], tr.t, m1, T1,
                                               outdir / "membrane.gif")
    return res


def _pick_frames(snaps, st, t, m, T, at, theta):
    def nearest(time):
        return int(np.argmin(np.abs(st - time)))
    after_q = t >= at
    picks = [(nearest(at - 5), "at rest (hot)")]
    ordering = np.flatnonzero(after_q & (m >= 0.5))
    on = np.flatnonzero(after_q & (m >= theta))
    if ordering.size:
        k0 = ordering[0]
        picks.append((nearest(t[k0] - 0.5 * (t[k0] - at)), "ordering: domains grow"))
        picks.append((nearest(t[k0]), "ordering (m = 0.5)"))
    if on.size:
        picks.append((nearest(t[on[on.size // 2]]), "firing (m >= theta)"))
        down = np.flatnonzero((t > t[on[-1]]) & (m < 0.5))
        picks.append((nearest(t[down[0]] if down.size else t[on[-1]] + 10),
                      "melting on reheating (m = 0.5)"))
    picks.append((len(st) - 1, "after: back at rest"))
    seen, idx, titles = set(), [], []
    for i, title in picks:
        if i not in seen:
            seen.add(i)
            idx.append(i)
            titles.append(title)
    return snaps[idx], st[idx], titles
