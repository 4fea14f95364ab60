"""Figures 1 and 2: the equilibrium m(T) and the paper's eq. (2) fitted to it.

:func:`magnetisation` sets mean field (Tc = 4 J), Onsager's exact curve and Wolff
Monte Carlo for several L side by side, in J and in T/Tc; :func:`eq2_fits` fits
``m = 1/2 - 1/2 tanh(a (T - Tc))`` to each firing branch. No kinetics here:
equilibrium averages only.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize

from .. import activation as act
from .. import exact, meanfield, plots
from ..equilibrium import equilibrium
from ..schedules import ONSAGER_TC
from ..stats import ShortSeriesWarning
from ._common import _MC_TEMPERATURES, PAPER, _bar, _outdir, _pm, _seed

__all__ = ["MagnetisationResult", "magnetisation", "Eq2Result", "eq2_fits"]


@dataclass
class MagnetisationResult:
    """Equilibrium magnetisation against temperature (Figure 1).

    Attributes
    ----------
    T_theory : ndarray, shape (n,)
        Temperatures (J) of the theory curves.
    m_meanfield : ndarray, shape (n,)
        Mean-field m with Tc = 4 J (``zJ``), positive branch.
    m_exact : ndarray, shape (n,)
        Onsager-Yang spontaneous magnetisation.
    L : tuple of int
        Lattice sizes of the Monte Carlo runs (periodic, h = 0, Wolff).
    T : ndarray, shape (k,)
        Monte Carlo temperatures (J).
    abs_m, abs_m_err : ndarray, shape (len(L), k)
        ``<|m|>`` and its binning standard error.
    chi : ndarray, shape (len(L), k)
        Susceptibility per spin ``N (<m^2> - <|m|>^2) / T``; ``chi T / N`` is the
        variance of m, which sets the finite-size scale of ``<|m|>``.
    deviation : ndarray, shape (len(L), k)
        ``(<|m|> - m_exact) / error``.
    n_sweeps, replicas : int
        Production sweeps and replicas per point.
    warnings : list of str
        Short-series warnings raised by the error analysis (empty when none).
    figure : list of Path
    """

    T_theory: np.ndarray
    m_meanfield: np.ndarray
    m_exact: np.ndarray
    L: tuple
    T: np.ndarray
    abs_m: np.ndarray
    abs_m_err: np.ndarray
    chi: np.ndarray
    deviation: np.ndarray
    n_sweeps: int
    replicas: int
    warnings: list = field(default_factory=list)
    figure: list = field(default_factory=list)

    def summary(self) -> dict:
        """Per L: the largest |deviation| (in standard errors) at T <= 0.9 Tc and
        the Monte Carlo <|m|> at the temperature nearest Tc (exact: 0 in the limit)."""
        out = {}
        below = self.T <= 0.9 * ONSAGER_TC
        k_tc = int(np.argmin(np.abs(self.T - ONSAGER_TC)))
        for i, L in enumerate(self.L):
            dev = self.deviation[i, below]
            out[f"L={L}"] = {
                "max_abs_deviation_sigma_below_0.9Tc": float(np.max(np.abs(dev))) if dev.size
                else None,
                "T_near_Tc": float(self.T[k_tc]), "abs_m_near_Tc": float(self.abs_m[i, k_tc]),
                "abs_m_near_Tc_err": float(self.abs_m_err[i, k_tc]),
                "exact_near_Tc": float(exact.spontaneous_magnetisation(self.T[k_tc]))}
        return out


def magnetisation(outdir=None, *, L=(8, 16, 32), T=_MC_TEMPERATURES, n_sweeps=2000,
                  n_thermalise=300, replicas=4, seed=1, progress=True) -> MagnetisationResult:
    """Figure 1: m(T) from mean field, Onsager and Wolff Monte Carlo.

    Parameters
    ----------
    outdir : path-like, optional
        Folder for ``fig1_magnetisation.{png,pdf}``.
    L : sequence of int
        Lattice sizes (periodic boundaries, h = 0).
    T : sequence of float
        Monte Carlo temperatures, J.
    n_sweeps, n_thermalise : int
        Production and discarded Wolff sweeps (one sweep flips about L**2 spins).
    replicas : int
        Independent replicas per point (their series are averaged).
    seed : int
    progress : bool
        tqdm bar over the (L, T) points.

    Returns
    -------
    MagnetisationResult
    """
    outdir = _outdir(outdir)
    T = np.asarray(T, float)
    L = tuple(int(x) for x in L)
    Tth = np.linspace(0.02, 5.0, 500)
    m_mf = meanfield.magnetisation(Tth, 0.0, meanfield.TC_MEANFIELD)
    m_ex = exact.spontaneous_magnetisation(Tth)
    shape = (len(L), T.size)
    am, ae, chi = np.empty(shape), np.empty(shape), np.empty(shape)
    notes = []
    jobs = [(i, k) for i in range(len(L)) for k in range(T.size)]
    for i, k in _bar(jobs, progress, "Fig 1: Wolff m(T)"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ShortSeriesWarning)
            r = equilibrium(L[i], float(T[k]), "wolff", n_sweeps=n_sweeps,
                            n_thermalise=n_thermalise, seed=_seed(seed, "fig1", L[i], T[k]),
                            replicas=replicas, initial="up")
        notes += [f"L={L[i]} T={T[k]:g}: {w.message}" for w in caught
                  if issubclass(w.category, ShortSeriesWarning)]
        am[i, k], ae[i, k] = r["abs_m"]
        chi[i, k] = r.mean["chi"]
    dev = (am - exact.spontaneous_magnetisation(T)[None, :]) / ae
    res = MagnetisationResult(Tth, m_mf, m_ex, L, T, am, ae, chi, dev, n_sweeps, replicas,
                              notes)
    if outdir is not None:
        mc = {f"L = {Lv}": (T, am[i], ae[i]) for i, Lv in enumerate(L)}
        fig = plots.magnetisation_figure(Tth, m_mf, m_ex, mc, Tc_meanfield=meanfield.TC_MEANFIELD,
                                         Tc_exact=ONSAGER_TC)
        res.figure = plots.save_figure(fig, outdir / "fig1_magnetisation")
    return res


# ====================================================================== Figure 2
@dataclass
class Eq2Result:
    """Eq. (2) fitted to the firing branch (Figure 2), reduced units T/Tc.

    Attributes
    ----------
    T : ndarray
        Reduced temperatures of the theory curves (the fit range, ``0 < T/Tc <= 2``).
    fits : dict
        Fit summaries (``params`` a, Tc; ``errors``; chi2 ...) for ``"meanfield"``
        (a and Tc free), ``"meanfield_Tc=1"`` (Tc fixed to 1, the paper's choice),
        ``"exact"`` and ``"monte_carlo"`` (largest L of Figure 1, weighted by its
        error bars). The noiseless theory curves carry *model* errors (the
        covariance scaled by the residual variance), not statistical ones.
    rms_paper : float
        RMS difference between the paper's curve (a = 6, Tc = 1) and mean field.
    mc_L : int or None
        Lattice size of the Monte Carlo fit.
    figure : list of Path
    """

    T: np.ndarray
    fits: dict
    rms_paper: float
    mc_L: int | None
    figure: list = field(default_factory=list)


def _fit_eq2_fixed_tc(T, m, Tc=1.0):
    f = lambda x, a: 0.5 - 0.5 * np.tanh(a * (x - Tc))      # noqa: E731
    popt, pcov = optimize.curve_fit(f, T, m, p0=(6.0,))
    resid = m - f(T, *popt)
    dof = T.size - 1
    return {"model": "eq2 (Tc fixed)", "params": {"a": float(popt[0]), "Tc": Tc},
            "errors": {"a": float(math.sqrt(pcov[0, 0])), "Tc": 0.0},
            "chi2": float(np.sum(resid ** 2)), "dof": dof,
            "reduced_chi2": float(np.sum(resid ** 2) / dof), "pvalue": None}


def eq2_fits(outdir=None, mag: MagnetisationResult | None = None, *, T_max=2.0,
             n_points=400) -> Eq2Result:
    """Figure 2: fit ``m = 1/2 - 1/2 tanh(a (T - Tc))`` to the firing branch.

    The mean-field branch ``m = tanh(m / T)`` (Tc = 1) and the exact curve (T in
    units of Onsager's Tc) are sampled on ``n_points`` reduced temperatures in
    ``(0, T_max]`` and fitted by least squares; the Monte Carlo points of ``mag``
    (its largest L, reduced by Onsager's Tc, ``T/Tc <= T_max``) are fitted with
    their error bars.

    Parameters
    ----------
    outdir : path-like, optional
        Folder for ``fig2_eq2_fit.{png,pdf}``.
    mag : MagnetisationResult, optional
        Monte Carlo points (from :func:`magnetisation`).
    T_max : float
        Upper end of the fit range, reduced units.
    n_points : int

    Returns
    -------
    Eq2Result
    """
    outdir = _outdir(outdir)
    T = np.linspace(T_max / n_points, T_max, n_points)
    m_mf = meanfield.magnetisation(T, 0.0, 1.0)
    m_ex = exact.spontaneous_magnetisation(T * ONSAGER_TC)
    fits = {"meanfield": act.fit_summary(act.fit_eq2(T, m_mf)),
            "meanfield_Tc=1": _fit_eq2_fixed_tc(T, m_mf, 1.0),
            "exact": act.fit_summary(act.fit_eq2(T, m_ex))}
    m_paper = act.eq2(T, PAPER["a"], PAPER["Tc"])
    rms = float(np.sqrt(np.mean((m_paper - m_mf) ** 2)))
    mc = fit_mc = None
    mc_L = None
    if mag is not None:
        i = int(np.argmax(mag.L))
        mc_L = int(mag.L[i])
        Tr = mag.T / ONSAGER_TC
        keep = Tr <= T_max
        mc = (Tr[keep], mag.abs_m[i, keep], mag.abs_m_err[i, keep])
        with warnings.catch_warnings():       # few points (quick runs): errors may be inf
            warnings.simplefilter("ignore", optimize.OptimizeWarning)
            fr = act.fit_eq2(mc[0], mc[1], sigma=mc[2])
        fits["monte_carlo"] = act.fit_summary(fr)
        fit_mc = fr.predict(T)
    res = Eq2Result(T, fits, rms, mc_L)
    if outdir is not None:
        fm = fits["meanfield"]
        lab = (f"a = {_pm(fm['params']['a'], fm['errors']['a'])}, "
               f"Tc = {_pm(fm['params']['Tc'], fm['errors']['Tc'])}")
        mlab = ""
        if mc is not None:
            f2 = fits["monte_carlo"]
            mlab = (f"(L = {mc_L}): a = {_pm(f2['params']['a'], f2['errors']['a'])}, "
                    f"Tc = {_pm(f2['params']['Tc'], f2['errors']['Tc'])}")
        fig = plots.eq2_figure(T, m_mf, act.eq2(T, fm["params"]["a"], fm["params"]["Tc"]),
                               m_paper, fit_label=lab, mc=mc, fit_mc=fit_mc, fit_mc_label=mlab,
                               m_exact=m_ex)
        res.figure = plots.save_figure(fig, outdir / "fig2_eq2_fit")
    return res
