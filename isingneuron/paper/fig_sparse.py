"""Figure 10: sparse codes (the paper's section III.A). A population of neurones under
heterogeneous inputs: the fraction of silent neurones and the Treves-Rolls
sparseness of their spike counts against the mean input, lattice against mean field.

The paper argues that a rectifying activation gives a sparse code: "some neurones
are firing with a particular rate, lying on the linear portion of the curve, and
others are resting, lying on the portion of the curve valued at zero". Here n
neurones (each an L x L membrane with a + border, one replica each) receive
quench depths drawn from ``N(mu, sigma**2)`` (clipped to ``[0, bath - 0.2]``;
the same draws for every L and for the theories, so the curves differ by the
neurones, not by the inputs). For each mean input mu:

* the fraction of silent neurones (spike count 0; binomial error);
* the Treves-Rolls sparseness ``a = <S>**2 / <S**2>`` of the spike counts S
  (dwell times at m >= theta): 1 for a dense uniform code, k/n when k of n
  neurones respond equally (:func:`measures.treves_rolls`; bootstrap error over
  neurones);
* the mean spike count.

Beside the lattice: mean-field Glauber dynamics (Tc = Onsager's) and the
quasi-static exact ReLU ``max(0, Q - Q_theta) / r`` on the same draws, and the
closed form of ReLU neurones with Gaussian inputs
(:func:`measures.rectified_gaussian_moments`) at the quasi-static threshold.

The runs are made here (``source=None``) or read from the HDF5 file of
``configs/studies/sparse_codes.yaml`` (``population`` points with
``gaussian_quenches``; each neurone's depth is read from its temperature trace).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .. import exact, plots, spikes
from ..schedules import ONSAGER_TC, Population, Quench
from ..simulation import Simulation
from . import measures
from ._common import AT, BATH, RATE, THETA, UPDATE, _bar, _outdir, _sem, _seed
from ._meanfield_fast import glauber_sweeps
from ._study_io import describe_source, iter_points, schedule_of

__all__ = ["SparseCodeResult", "sparse_codes"]


@dataclass
class SparseCodeResult:
    """Sparse codes (Figure 10).

    Attributes
    ----------
    L : ndarray of int, shape (nL,)
    mu : ndarray, shape (K,)
        Mean input depth of each population (J).
    sigma : float
        Standard deviation of the inputs (J).
    n : int
        Neurones per population.
    dynamics, update : str
    bath, rate, at, theta, Q_theta : float
    depths : ndarray, shape (K, n)
        Each neurone's depth (J).
    counts : ndarray, shape (nL, K, n)
        Lattice spike counts (sweeps with m >= theta).
    silent, silent_err, sparseness, sparseness_err, mean, mean_err : ndarray, shape (nL, K)
        Fraction of silent neurones (binomial error), Treves-Rolls a (bootstrap
        error over neurones), mean spike count (standard error).
    mf, qs : dict
        The same measures for mean-field dynamics and the quasi-static ReLU on the
        same draws: ``counts`` (K, n), ``silent``, ``sparseness``,
        ``sparseness_err``, ``mean`` (K,).
    analytic : dict
        ``mu`` grid, ``silent`` and ``a`` of ReLU neurones with N(mu, sigma**2)
        inputs at the quasi-static threshold.
    source : str
    figure : list of Path
    """

    L: np.ndarray
    mu: np.ndarray
    sigma: float
    n: int
    dynamics: str
    update: str | None
    bath: float
    rate: float
    at: float
    theta: float
    Q_theta: float
    depths: np.ndarray
    counts: np.ndarray
    silent: np.ndarray
    silent_err: np.ndarray
    sparseness: np.ndarray
    sparseness_err: np.ndarray
    mean: np.ndarray
    mean_err: np.ndarray
    mf: dict
    qs: dict
    analytic: dict
    source: str = "simulation"
    figure: list = field(default_factory=list)


def _draw(mu, sigma, n, bath, seed):
    """Depths ``N(mu, sigma**2)`` clipped to ``[0, bath - 0.2]`` (J)."""
    rng = np.random.default_rng(seed)
    return np.clip(rng.normal(mu, sigma, n), 0.0, bath - 0.2)


def _measures(counts, seed):
    """silent, silent_err, a, a_err, mean, mean_err of spike counts (..., n)."""
    c = np.asarray(counts, float)
    n = c.shape[-1]
    sil = np.mean(c == 0, axis=-1)
    pt = (np.sum(c == 0, axis=-1) + 1) / (n + 2)
    sil_err = np.sqrt(pt * (1 - pt) / n)
    a = measures.treves_rolls(c)
    flat = c.reshape(-1, n)
    a_err = np.array([measures.bootstrap_error(measures.treves_rolls, row, seed=seed + i)
                      for i, row in enumerate(flat)]).reshape(c.shape[:-1])
    return sil, sil_err, a, a_err, c.mean(axis=-1), _sem(c, axis=-1)


def sparse_codes(outdir=None, source=None, *, L=(16, 32, 64),
                 mu=tuple(np.round(np.linspace(0.4, 2.4, 9), 4)), sigma=0.5, n=64,
                 dynamics="metropolis", bath=BATH, rate=RATE, at=AT, theta=THETA, tail=100,
                 update=UPDATE, seed=10, progress=True) -> SparseCodeResult:
    """Silent fraction and Treves-Rolls sparseness against the mean input.

    Parameters
    ----------
    outdir : path-like, optional
        Folder for ``fig10_sparse_codes.{png,pdf}``.
    source : None, path or sequence of paths
        None: simulate here. Paths: HDF5 sweep files with ``population`` points
        driven by ``gaussian_quenches`` (+ border); ``L``, ``mu``, ``sigma``, ``n``
        and the protocol are read from them.
    L : sequence of int
    mu : sequence of float
        Mean input depths (J).
    sigma : float
        Spread of the inputs (J).
    n : int
        Neurones per population.
    dynamics : str
    bath, rate, at, theta : float
    tail : int
    update : str
    seed : int
    progress : bool

    Returns
    -------
    SparseCodeResult
    """
    outdir = _outdir(outdir)
    used_update = update
    if source is None:
        src = "simulation"
        sizes, mus = [int(x) for x in L], np.asarray(mu, float)
        depths = np.stack([_draw(m, sigma, n, bath, _seed(seed, "sparse-draw", float(m)) % 2**32)
                           for m in mus])
        counts = np.zeros((len(sizes), mus.size, n))
        n_sweeps = int(at + math.ceil(depths.max() / rate) + tail)
        jobs = [(i, Lv, k) for i, Lv in enumerate(sizes) for k in range(mus.size)]
        for i, Lv, k in _bar(jobs, progress, "Fig 10: populations"):
            pop = Population([Quench(bath, float(d), at, rate) for d in depths[k]])
            sim = Simulation(Lv, pop, dynamics=dynamics, update=update, replicas=n,
                             boundary="plus", seed=_seed(seed, "sparse", Lv, float(mus[k])))
            used_update = sim.attrs().get("update", update)
            tr = sim.run(n_sweeps)
            counts[i, k] = spikes.dwell_time(tr.t, tr.m, theta)
    else:
        src = describe_source(source)
        got: dict = {}          # (L, mu) -> (depths, counts)
        proto = None
        for tr in _bar(iter_points(source), progress, "Fig 10: reading points"):
            a = tr.attrs or {}
            s = schedule_of(tr)
            if not isinstance(s, Population) or a.get("boundary") != "plus" \
                    or a.get("dynamics") != dynamics:
                continue
            g = s.to_dict().get("gaussian_quenches")
            if not g:
                continue
            k = ONSAGER_TC if g.get("units", "J") == "Tc" else 1.0
            p = (g["bath"] * k, g["rate"] * k, g["at"], g["sd_depth"] * k)
            if proto is None:
                proto = p
            if p != proto:
                continue
            used_update = a.get("update", used_update)
            d = np.asarray(s.depths, float) * k
            got[(int(a["L"]), round(g["mean_depth"] * k, 12))] = (
                d, spikes.dwell_time(tr.t, tr.m, theta))
        if not got:
            raise ValueError(f"{src}: no complete population (gaussian_quenches) points with "
                             f"a + border and {dynamics} dynamics")
        bath, rate, at, sigma = proto
        sizes = sorted({k[0] for k in got})
        mus = np.array(sorted({k[1] for k in got}))
        n = min(v[0].size for v in got.values())
        first = {m: next(got[(Lv, m)][0][:n] for Lv in sizes if (Lv, m) in got) for m in mus}
        depths = np.stack([first[m] for m in mus])
        counts = np.full((len(sizes), mus.size, n), np.nan)
        for (Lv, m), (d, c) in got.items():
            counts[sizes.index(Lv), int(np.searchsorted(mus, m)), :] = c[:n]
        n_sweeps = int(at + math.ceil(depths.max() / rate) + tail)
    Q_theta = float(bath - exact.temperature_at_magnetisation(theta))
    sil, sil_e, a, a_e, mean, mean_e = _measures(counts, _seed(seed, "boot") % 2**31)
    # mean field and quasi-static on the same draws
    temps = np.stack([Quench(bath, float(d), at, rate).temperatures(n_sweeps)
                      for d in depths.ravel()])
    m_mf = glauber_sweeps(temps, Tc=ONSAGER_TC)
    mf_counts = spikes.dwell_time(np.arange(1, n_sweeps + 1), m_mf, theta).reshape(depths.shape)
    qs_counts = np.maximum(depths - Q_theta, 0.0) / rate
    theo = {}
    for name, c in (("mf", mf_counts), ("qs", qs_counts)):
        s_, s_e, a_, a_e_, m_, m_e = _measures(c, _seed(seed, "boot", name) % 2**31)
        theo[name] = {"counts": c, "silent": s_, "silent_err": s_e, "sparseness": a_,
                      "sparseness_err": a_e_, "mean": m_, "mean_err": m_e}
    mg = np.linspace(0.0, float(mus.max()) + 0.2, 200)
    an = measures.rectified_gaussian_moments(mg, sigma, Q_theta)
    res = SparseCodeResult(np.array(sizes), mus, float(sigma), int(n), dynamics, used_update,
                           float(bath), float(rate), float(at), float(theta), Q_theta, depths,
                           counts, sil, sil_e, a, a_e, mean, mean_e, theo["mf"], theo["qs"],
                           {"mu": mg, "silent": an["silent"], "a": an["a"],
                            "mean": an["mean"] / rate}, src)
    if outdir is not None:
        res.figure = plots.save_figure(_figure(res), outdir / "fig10_sparse_codes")
    return res


def _figure(res: SparseCodeResult):
    panels = []
    for key, err, lab, an in (("silent", "silent_err", "fraction of silent neurones", "silent"),
                              ("sparseness", "sparseness_err",
                               "Treves-Rolls sparseness a = <S>^2 / <S^2>", "a"),
                              ("mean", "mean_err", "mean spike count (sweeps)", "mean")):
        data = [(f"lattice L = {Lv}", res.mu, getattr(res, key)[i], getattr(res, err)[i],
                 {"color": f"C{i}"}) for i, Lv in enumerate(res.L)]
        data.append(("mean-field dynamics, same inputs", res.mu, res.mf[key],
                     res.mf.get(err), {"color": "C3", "fmt": "s--", "mfc": "none"}))
        data.append(("quasi-static ReLU, same inputs", res.mu, res.qs[key], res.qs.get(err),
                     {"color": "k", "fmt": "x:"}))
        lines = [(f"ReLU with N(mu, {res.sigma:g}^2) inputs (closed form)", res.analytic["mu"],
                  res.analytic[an], {"color": "0.5", "lw": 1.0})]
        panels.append({"data": data, "lines": lines, "xlabel": "mean input depth mu (J)",
                       "ylabel": lab, "title": f"({key})",
                       "legend": "lower left" if key == "silent" else "upper left",
                       "vlines": [res.Q_theta]})
    k = int(np.argmin(np.abs(res.mu - np.median(res.mu))))
    rank = np.arange(1, res.n + 1) / res.n
    lines = [(f"lattice L = {Lv}", rank, np.sort(res.counts[i, k])[::-1], {"color": f"C{i}"})
             for i, Lv in enumerate(res.L)]
    lines += [("mean field", rank, np.sort(res.mf["counts"][k])[::-1], {"color": "C3",
                                                                       "ls": "--"}),
              ("quasi-static ReLU", rank, np.sort(res.qs["counts"][k])[::-1],
               {"color": "k", "ls": ":"})]
    panels.append({"lines": lines, "xlabel": "neurone rank / n",
                   "ylabel": "spike count (sweeps)", "legend": "upper right",
                   "title": f"(population code) spike counts sorted, mu = {res.mu[k]:g} J"})
    return plots.panels_figure(
        panels, ncols=2, panel_size=(5.6, 4.2),
        title=f"Sparse codes: {res.n} neurones per population, inputs N(mu, {res.sigma:g}^2) J;"
              f" {res.dynamics}, {str(res.update).replace('_', '-')}, + border, bath "
              f"{res.bath:g} J, r = {res.rate:g} J/sweep\n(dotted: quasi-static threshold "
              f"Q_theta = {res.Q_theta:.3f} J)")
