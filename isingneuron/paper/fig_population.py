"""Figure 5: a population of neurones with Gaussian quench depths (the paper's
section III.A): the fraction firing against the mean input, an error function."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize
from scipy import stats as sps

from .. import activation as act
from .. import exact, plots, spikes
from ..activation import erf_response, probit_fit
from ..schedules import Population
from ..simulation import Simulation
from ._common import AT, BATH, RATE, THETA, UPDATE, _bar, _outdir, _pm, _sem, _seed

__all__ = ["PopulationResult", "population"]


@dataclass
class PopulationResult:
    """A population of neurones with Gaussian quench depths (Figure 5).

    Attributes
    ----------
    mu : ndarray, shape (K,)
        Mean quench depth of each population (J).
    sigma : float
        Standard deviation of the depths (J); negative draws are clipped to 0.
    n, L : int
        Neurones per population, lattice size.
    dynamics : str
    bath, rate, at, theta : float
    depths : ndarray, shape (K, n)
        Depth of every neurone (J).
    fired : ndarray of bool, shape (K, n)
        Whether the neurone reached m >= theta.
    dwell : ndarray, shape (K, n)
        Its dwell time (sweeps).
    fraction, fraction_err : ndarray, shape (K,)
        Fraction firing and the binomial error ``sqrt(p~ (1 - p~) / n)`` with
        ``p~ = (k + 1) / (n + 2)`` (never 0, so fits can weight every point).
    update : str
        Update order of the runs.
    Q_star_exact : float
        Threshold depth of the quasi-static exact theory, ``bath - T_theta`` (J).
    erf_fit : dict
        Least-squares :func:`erf_response` fit to the fractions: ``threshold``,
        ``width`` with errors, ``chi2``, ``dof``, ``pvalue``.
    probit : dict
        Maximum-likelihood per-neurone threshold: P(fire | Q) = Phi((Q - q0) / w),
        ``threshold`` q0 and intrinsic ``width`` w with errors; its population
        prediction is ``erf_response(mu, q0, sqrt(sigma**2 + w**2))``. When
        ``separable`` is True every neurone below some depth stayed silent and every
        one above fired: the threshold lies in ``gap`` (J) and w is not resolved.
    figure : list of Path
    """

    mu: np.ndarray
    sigma: float
    n: int
    L: int
    dynamics: str
    bath: float
    rate: float
    at: float
    theta: float
    depths: np.ndarray
    fired: np.ndarray
    dwell: np.ndarray
    fraction: np.ndarray
    fraction_err: np.ndarray
    Q_star_exact: float
    erf_fit: dict
    probit: dict
    update: str | None = None
    figure: list = field(default_factory=list)


def population(outdir=None, *, L=32, dynamics="metropolis", mu=tuple(np.round(np.linspace(
        0.2, 1.8, 9), 4)), sigma=0.25, n=64, bath=BATH, rate=RATE, at=AT, theta=THETA,
        tail=100, update=UPDATE, seed=4, progress=True) -> PopulationResult:
    """Population response (paper III.A): Gaussian quench depths, fraction firing vs mean.

    For each mean input ``mu``, ``n`` neurones (replicas, each its own depth drawn
    by :meth:`isingneuron.schedules.Population.gaussian_quenches`) are quenched; a
    neurone fires when its m reaches ``theta``. With a sharp per-neurone threshold
    Q*, the fraction firing is ``1/2 [1 + erf((mu - Q*) / (sigma sqrt 2))]``
    (Wilson and Cowan's argument): it is drawn with Q* from the quasi-static exact
    theory, fitted (Q*, width free) and predicted from a per-neurone probit fit.

    Parameters
    ----------
    outdir : path-like, optional
        Folder for ``fig5_population.{png,pdf}``.
    L : int
    dynamics : str
    mu : sequence of float
        Mean depths (J).
    sigma : float
        Standard deviation of the depths (J).
    n : int
        Neurones per population.
    bath, rate, at, theta : float
    tail : int
        Sweeps recorded after the deepest quench has reheated.
    update : {"random_sequential", "checkerboard", None}
        Update order (passed to :class:`isingneuron.Simulation`).
    seed : int
    progress : bool

    Returns
    -------
    PopulationResult
    """
    outdir = _outdir(outdir)
    mu = np.asarray(mu, float)
    pops = [Population.gaussian_quenches(n, bath, float(m), sigma, at, rate,
                                         seed=_seed(seed, "population-depths", float(m)) % 2**32)
            for m in mu]
    n_sweeps = int(at + math.ceil(max(p.depths.max() for p in pops) / rate) + tail)
    depths = np.stack([p.depths for p in pops])
    fired = np.zeros(depths.shape, bool)
    dwell = np.zeros(depths.shape)
    for i, pop in enumerate(_bar(pops, progress, "Fig 5: populations")):
        sim = Simulation(L, pop, dynamics=dynamics, update=update, replicas=n, boundary="plus",
                         seed=_seed(seed, "population", float(mu[i])))
        used = sim.attrs().get("update")
        tr = sim.run(n_sweeps)
        dwell[i] = spikes.dwell_time(tr.t, tr.m, theta)
        fired[i] = dwell[i] > 0
    k = fired.sum(axis=1)
    frac = k / n
    pt = (k + 1) / (n + 2)
    ferr = np.sqrt(pt * (1 - pt) / n)
    Q_star = float(bath - exact.temperature_at_magnetisation(theta))
    try:
        popt, pcov = optimize.curve_fit(erf_response, mu, frac, p0=(Q_star, sigma), sigma=ferr,
                                        absolute_sigma=True,
                                        bounds=([-np.inf, 1e-6], [np.inf, np.inf]))
        chi2 = float(np.sum(((frac - erf_response(mu, *popt)) / ferr) ** 2))
        dof = mu.size - 2
        erf_fit = {"threshold": float(popt[0]), "threshold_err": float(math.sqrt(pcov[0, 0])),
                   "width": float(popt[1]), "width_err": float(math.sqrt(pcov[1, 1])),
                   "chi2": chi2, "dof": dof,
                   "pvalue": float(sps.chi2.sf(chi2, dof)) if dof > 0 else None}
    except (RuntimeError, ValueError):
        erf_fit = {"threshold": float("nan"), "threshold_err": float("nan"),
                   "width": float("nan"), "width_err": float("nan"), "chi2": float("nan"),
                   "dof": mu.size - 2, "pvalue": None}
    probit = probit_fit(depths, fired)
    res = PopulationResult(mu, float(sigma), int(n), int(L), dynamics, bath, rate, at, theta,
                           depths, fired, dwell, frac, ferr, Q_star, erf_fit, probit,
                           update=used)
    if outdir is not None:
        mg = np.linspace(0, mu.max() + 0.25, 200)
        lines = [(f"erf, Q* = {Q_star:.3f} J (quasi-static exact), width = sigma = {sigma:g}",
                  mg, erf_response(mg, Q_star, sigma), {"color": "k"})]
        if np.isfinite(erf_fit["threshold"]):
            lines.append((f"erf fit: Q* = {_pm(erf_fit['threshold'], erf_fit['threshold_err'])}, "
                          f"width = {_pm(erf_fit['width'], erf_fit['width_err'])} J",
                          mg, erf_response(mg, erf_fit["threshold"], erf_fit["width"]),
                          {"color": "C3", "ls": "--"}))
        if np.isfinite(probit["threshold"]):
            wtot = math.sqrt(sigma ** 2 + probit["width"] ** 2)
            lines.append((f"per-neurone probit: q0 = {probit['threshold']:.3f}, "
                          f"w = {probit['width']:.3f} J", mg,
                          erf_response(mg, probit["threshold"], wtot), {"color": "C2", "ls": ":"}))
        qs_mean = [np.mean(act.quasi_static_dwell_time(d, bath, rate, theta)) for d in depths]
        fig = plots.population_figure(
            mu, frac, ferr, lines, dwell=(dwell.mean(axis=1), _sem(dwell, axis=1)),
            dwell_lines=[("quasi-static exact, same drawn depths", mu, qs_mean,
                          {"color": "k", "marker": "x", "ls": "-"})],
            title=f"{n} neurones per population ({dynamics}, "
                  f"{str(used).replace('_', '-')}, L = {L}, + border), depths "
                  f"~ N(mu, {sigma:g} J)")
        res.figure = plots.save_figure(fig, outdir / "fig5_population")
    return res
