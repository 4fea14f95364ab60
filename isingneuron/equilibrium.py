"""Equilibrium averages with error bars: the Monte Carlo side of m(T) curves.

:func:`equilibrium` thermalises R replicas at a fixed bath temperature, records
e and m every sweep, and returns means with error bars from a binning
(blocking) analysis of the replica-averaged series; non-linear quantities
(specific heat, susceptibility, Binder cumulant) get blocked-jackknife errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import stats
from .engine import (Lattice, _check_choice, _check_int, _check_real, check_memory,
                     resolve_update)
from .simulation import wolff_clusters_per_sweep

__all__ = ["equilibrium", "EquilibriumResult", "OBSERVABLES"]

OBSERVABLES = ("e", "abs_m", "m", "m2", "m4", "C", "chi", "binder")


@dataclass
class EquilibriumResult:
    """Equilibrium estimates at one temperature.

    Attributes
    ----------
    L, T : int, float
        Lattice size and bath temperature (J units).
    algorithm : str
        "wolff", "metropolis" or "glauber".
    update : str or None
        Update order of the single-spin algorithms ("checkerboard" or
        "random_sequential"); None for Wolff.
    n_sweeps, n_thermalise, replicas : int
        Production sweeps recorded, sweeps discarded, replicas.
    mean, error : dict
        Estimate and standard error of each observable: ``e`` energy per spin
        (J), ``abs_m`` <|m|>, ``m`` <m>, ``m2`` <m^2>, ``m4`` <m^4>, ``C``
        specific heat per spin N(<e^2> - <e>^2)/T^2, ``chi`` susceptibility
        per spin N(<m^2> - <|m|>^2)/T, ``binder`` 1 - <m^4>/(3 <m^2>^2).
    tau_int : dict
        Integrated autocorrelation time of e and |m| in sweeps (from the
        blocking plateau of the replica-averaged series).
    mean_cluster_size : float
        Wolff only: mean cluster size (spins); nan otherwise.
    e_series, m_series : ndarray, shape (R, n_sweeps)
        The recorded production series.
    """

    L: int
    T: float
    algorithm: str
    update: str | None
    n_sweeps: int
    n_thermalise: int
    replicas: int
    mean: dict = field(default_factory=dict)
    error: dict = field(default_factory=dict)
    tau_int: dict = field(default_factory=dict)
    mean_cluster_size: float = float("nan")
    e_series: np.ndarray | None = field(default=None, repr=False)
    m_series: np.ndarray | None = field(default=None, repr=False)

    def __getitem__(self, name):
        """``result["e"]`` -> (mean, error)."""
        return self.mean[name], self.error[name]


def equilibrium(L, T, algorithm="wolff", n_sweeps=2000, n_thermalise=500, seed=0,
                replicas=1, initial="up", boundary="periodic", field=0.0,
                n_blocks=32, update=None) -> EquilibriumResult:
    """Equilibrium averages of the L x L Ising model at temperature T.

    Parameters
    ----------
    L : int
        Linear size.
    T : float
        Bath temperature (J units), > 0.
    algorithm : {"wolff", "metropolis", "glauber"}
        Wolff (periodic, h = 0 only) is far faster near Tc; the cluster count
        per sweep is fixed from a preliminary run so that one sweep flips about
        N spins on average (a fixed count keeps the sampling unbiased).
    n_sweeps : int
        Production sweeps, one record each (>= 4: the error analysis needs
        at least 4 records).
    n_thermalise : int
        Sweeps discarded before production (>= 0).
    seed : int
        Random seed.
    replicas : int
        Independent replicas; their series are averaged record by record.
    initial : {"up", "random", "down"}
        Start; "up" (ordered) is the right start below Tc.
    boundary : {"periodic", "plus"}
    field : float
        Field h (J).
    n_blocks : int
        Jackknife blocks for C, chi and the Binder cumulant (>= 2).
    update : {None, "checkerboard", "random_sequential"}
        Update order of Metropolis and Glauber. None: the checkerboard for
        even L (the fast sampler; its kinetics do not matter here), except
        Metropolis on a periodic lattice, whose checkerboard chain is not
        irreducible (width-1 stripes cycle forever, see
        :func:`isingneuron.engine.resolve_update`); random-sequential
        otherwise.

    Returns
    -------
    EquilibriumResult

    Raises
    ------
    ValueError
        A bad parameter (named in the message), or a run that cannot fit in
        the memory available (how much it needs, how much there is), before
        anything is allocated.

    Warns
    -----
    stats.ShortSeriesWarning
        When the production run is shorter than ~50 autocorrelation times.
    """
    _check_choice("algorithm", algorithm, ("wolff", "metropolis", "glauber"))
    T = _check_real("T", T, " (a temperature > 0, J)")
    if not T > 0:
        raise ValueError(f"T = {T!r}: must be a finite temperature > 0 (J)")
    L = _check_int("L", L, 2)
    replicas = _check_int("replicas", replicas, 1)
    n_sweeps = _check_int("n_sweeps", n_sweeps, 4)
    n_thermalise = _check_int("n_thermalise", n_thermalise, 0)
    n_blocks = _check_int("n_blocks", n_blocks, 2)
    _check_choice("boundary", boundary, ("periodic", "plus"))
    field = _check_real("field", field, " (J)")
    if algorithm == "wolff" and (boundary != "periodic" or field != 0):
        raise ValueError(f"algorithm = 'wolff' needs boundary = 'periodic' and field = 0 (got "
                         f"{boundary!r}, {field!r}); use algorithm = 'metropolis' or 'glauber'")
    order = resolve_update(update, algorithm, L, boundary, "equilibrium")
    kw = dict(dynamics=algorithm, update=order, initial=initial)
    if n_thermalise:
        check_memory("equilibrium", L, replicas, n_thermalise, n_thermalise, **kw,
                     sweeps_name="n_thermalise")
    check_memory("equilibrium", L, replicas, n_sweeps, 1, **kw,
                 extra={"analysis": 48 * replicas * n_sweeps})
    clusters = (wolff_clusters_per_sweep(L, T, seed, initial, replicas)
                if algorithm == "wolff" else 1)
    lat = Lattice(L, replicas, algorithm, boundary, field, seed, initial,
                  wolff_clusters=clusters, update=update, purpose="equilibrium")
    N = lat.n_spins
    if n_thermalise:
        lat.run(n_thermalise, T, record_every=n_thermalise)
    tr = lat.run(n_sweeps, T)
    e, m = tr.energy, tr.m
    am = np.abs(m)
    series = {"e": e.mean(0), "abs_m": am.mean(0), "m": m.mean(0),
              "m2": (m ** 2).mean(0), "m4": (m ** 4).mean(0)}
    res = EquilibriumResult(L=lat.L, T=T, algorithm=algorithm, update=lat.update,
                            n_sweeps=n_sweeps,
                            n_thermalise=n_thermalise, replicas=replicas,
                            e_series=e, m_series=m,
                            mean_cluster_size=lat.mean_cluster_size)
    for name, x in series.items():
        mean, err, tau = stats.mean_error(x)
        res.mean[name], res.error[name] = mean, err
        if name in ("e", "abs_m"):
            res.tau_int[name] = tau
    e2 = (e ** 2).mean(0)
    jk = {
        "C": (lambda a, b: N * (b - a * a) / T ** 2, series["e"], e2),
        "chi": (lambda a, b: N * (b - a * a) / T, series["abs_m"], series["m2"]),
        "binder": (lambda a, b: 1.0 - b / (3.0 * a * a), series["m2"], series["m4"]),
    }
    for name, (f, a, b) in jk.items():
        r = stats.jackknife(f, a, b, n_blocks=min(n_blocks, n_sweeps), vectorized=True)
        res.mean[name], res.error[name] = float(r.bias_corrected), float(r.error)
    return res
