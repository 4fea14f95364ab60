"""Figure 4: the quench with periodic boundaries and h = 0, where nothing picks the
sign: fractions ending at m = +1, m = -1, in stripes or in several domains."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .. import exact, plots, spikes
from ..schedules import Quench
from ..simulation import Simulation
from ..spikes import LATTICE_OUTCOMES as CATEGORIES
from ..spikes import classify_lattices
from ..traces import Traces
from ._common import AT, BATH, RATE, THETA, UPDATE, _bar, _outdir, _seed

__all__ = ["OutcomeResult", "CATEGORIES", "periodic_outcomes"]


@dataclass
class OutcomeResult:
    """Quenches with periodic boundaries and h = 0 (Figure 4).

    Attributes
    ----------
    conditions : list of str
        One per (dynamics, L, depth).
    categories : tuple of str
        :data:`CATEGORIES`.
    counts : ndarray of int, shape (n_conditions, 4)
    fractions, errors : ndarray, shape (n_conditions, 4)
        Fraction in each outcome and its binomial standard error ``sqrt(p(1-p)/R)``.
    replicas : int
    t_classify : ndarray, shape (n_conditions,)
        Sweep at which the lattices were classified: the end of the quasi-static
        firing window (the reheating bath reaches ``T_theta``).
    fired_signed, fired_abs : ndarray, shape (n_conditions,)
        Fraction of replicas with a spike by the signed criterion ``m >= theta``
        (the spikes :mod:`isingneuron.spikes` counts by default) and with
        ``|m| >= theta`` (ordering to either sign).
    examples : list of (str, ndarray)
        One lattice per outcome seen (largest L, last depth).
    update : str
        Update order of the runs (random-sequential unless asked otherwise).
    dynamics : tuple of str
        Update rules of the runs.
    figure : list of Path
    """

    conditions: list
    categories: tuple
    counts: np.ndarray
    fractions: np.ndarray
    errors: np.ndarray
    replicas: int
    t_classify: np.ndarray
    fired_signed: np.ndarray
    fired_abs: np.ndarray
    examples: list = field(default_factory=list)
    update: str | None = None
    dynamics: tuple = ()
    figure: list = field(default_factory=list)


def periodic_outcomes(outdir=None, *, L=(16, 32), dynamics=("metropolis", "glauber"),
                      depths=(2.0, 2.5), bath=BATH, rate=RATE, at=AT, replicas=128,
                      theta=THETA, update=UPDATE, seed=3, progress=True) -> OutcomeResult:
    """The quench with periodic boundaries and h = 0: which way does the membrane order?

    Nothing picks the sign, so a quench can end at m = +1 (the paper's spike),
    m = -1 (no spike by the signed criterion) or in stripes (m ~ 0, two straight
    domain walls that a periodic lattice cannot remove quickly). Each lattice is
    classified (:func:`classify_lattices`) when the reheating bath reaches
    ``T_theta`` (end of the quasi-static firing window), and the fractions are
    reported with binomial errors.

    Parameters
    ----------
    outdir : path-like, optional
        Folder for ``fig4_periodic_outcomes.{png,pdf}``.
    L, dynamics, depths : sequences
        Conditions (every combination).
    bath, rate, at, theta : float
    replicas : int
    update : {"random_sequential", "checkerboard", None}
        Update order (passed to :class:`isingneuron.Simulation`). The outcome
        fractions are kinetic: checkerboard Metropolis almost never freezes in
        stripes (0.9 % at T = 0 against the literature's 33.9 %).
    seed : int
    progress : bool

    Returns
    -------
    OutcomeResult
    """
    outdir = _outdir(outdir)
    T_theta = float(exact.temperature_at_magnetisation(theta))
    conds, counts, tcls, fs, fa = [], [], [], [], []
    examples = []
    jobs = [(d, int(Lv), float(q)) for d in dynamics for Lv in L for q in depths]
    for d, Lv, q in _bar(jobs, progress, "Fig 4: periodic quenches"):
        quench = Quench(bath, q, at, rate)
        # first sweep run at T >= T_theta after the quench (end of the cold window)
        k = int(at + math.ceil(max(T_theta - (bath - q), 0.0) / rate))
        n_total = int(at + math.ceil(q / rate) + 50)
        sim = Simulation(Lv, quench, dynamics=d, update=update, replicas=replicas,
                         boundary="periodic", seed=_seed(seed, "periodic", d, Lv, q))
        used = sim.attrs().get("update")
        t1 = sim.run(k)
        cls = classify_lattices(sim.spins)
        spins_k = sim.spins
        t2 = sim.run(n_total - k)
        tr = Traces.concatenate([t1, t2])
        conds.append(f"{d} L={Lv} Q={q:g}")
        counts.append(np.bincount(cls, minlength=4))
        tcls.append(k)
        fs.append(float(np.mean(spikes.dwell_time(tr.t, tr.m, theta) > 0)))
        fa.append(float(np.mean(spikes.dwell_time(tr.t, tr.m, theta, use_abs=True) > 0)))
        if Lv == max(L) and q == depths[-1] and d == dynamics[0]:
            for c in range(4):
                idx = np.flatnonzero(cls == c)
                if idx.size:
                    examples.append((f"{CATEGORIES[c]} ({d} L={Lv}, t={k})", spins_k[idx[0]]))
    counts = np.array(counts)
    frac = counts / replicas
    err = np.sqrt(frac * (1 - frac) / replicas)
    res = OutcomeResult(conds, CATEGORIES, counts, frac, err, replicas, np.array(tcls),
                        np.array(fs), np.array(fa), examples, update=used if jobs else update,
                        dynamics=tuple(dynamics))
    if outdir is not None:
        fig = plots.outcome_figure(
            conds, CATEGORIES, frac, err, examples,
            title=f"Periodic boundaries, h = 0: outcome at the end of the cold window "
                  f"(T = T_theta = {T_theta:.3f} J), {replicas} replicas each, "
                  f"{str(res.update).replace('_', '-')} updates")
        res.figure = plots.save_figure(fig, outdir / "fig4_periodic_outcomes")
    return res
