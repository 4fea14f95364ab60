"""Figure 11: criticality (the paper's section III.C). Gain and threshold of the
transfer curve as the resting temperature approaches Tc from above: is the membrane
most sensitive near criticality?

The membrane rests at ``bath`` (a list approaching Onsager's Tc = 2.269 J from
above; with a + border) and is quenched by Q and reheated at r as in the
activation experiment. For each (L, bath):

* the ReLU fit of the dwell time: **gain** (slope times r; 1 for the quasi-static
  ReLU) and **threshold** (J), beside the quasi-static threshold
  ``bath - T_theta`` (the excess is the ordering delay, in J);
* the **small-signal gain** ``d(area)/dQ`` at small inputs (the least-squares
  slope through the depths ``Q <= small``; area = integral of
  ``(m - m_rest) / (1 - m_rest)`` after the quench, in sweeps): how much order a
  weak input buys; near Tc a small quench already crosses Tc and the membrane's
  susceptibility is large;
* the **peak gain**, the steepest finite-difference slope of the area curve
  (sweeps per J), and the depth where it occurs.

In-process runs use one seed per (L, bath) for all depths (common random numbers:
replica k sees the same random numbers at every depth), so both gains are taken
replica by replica (paired) and their errors are standard errors over replicas.

Mean-field Glauber dynamics (Tc = Onsager's, no border: the seed m0) under the same
protocols gives the same numbers for the size-free theory.

The runs are made here (``source=None``) or read from the HDF5 file of
``configs/studies/criticality.yaml`` (quench points over bath x depth x L).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .. import exact, plots, spikes
from ..schedules import ONSAGER_TC, Quench
from ..simulation import Simulation
from . import measures
from ._common import AT, RATE, THETA, UPDATE, _bar, _outdir, _sem, _seed
from ._meanfield_fast import glauber_sweeps
from ._study_io import (describe_source, iter_points, pool, quench_summary, schedule_of,
                        unit_scale)

__all__ = ["CriticalityResult", "criticality"]


@dataclass
class CriticalityResult:
    """Gain and threshold against the resting temperature (Figure 11).

    Attributes
    ----------
    dynamics, update : str
    rate, at, theta, small : float
        Reheating rate (J/sweep), quench sweep, firing threshold, and the largest
        depth (J) of the small-signal fit.
    baths : ndarray, shape (B,)
        Resting temperatures (J), decreasing towards Tc.
    L : ndarray of int, shape (nL,)
    depths : ndarray, shape (K,)
    dwell, dwell_sem, area, area_sem, fraction : ndarray, shape (nL, B, K)
    baseline : ndarray, shape (nL, B)
        Resting magnetisation (the + border's).
    gain, gain_err, threshold, threshold_err : ndarray, shape (nL, B)
        ReLU fit of the dwell: slope times r, threshold (J); nan where nothing fired.
    Q_qs : ndarray, shape (B,)
        Quasi-static threshold ``bath - T_theta`` (J).
    small_gain, small_gain_err : ndarray, shape (nL, B)
        Slope of the area against Q for Q <= small (sweeps per J).
    peak_gain, peak_gain_err, peak_depth : ndarray, shape (nL, B)
        Steepest slope of the area between neighbouring depths (sweeps per J) and
        the midpoint depth where it occurs (J).
    mf : dict
        Mean field: ``Q`` fine grid, ``dwell`` and ``area`` (B, len(Q)),
        ``threshold``, ``gain``, ``small_gain``, ``peak_gain`` (B,).
    source : str
    figure : list of Path
    """

    dynamics: str
    update: str | None
    rate: float
    at: float
    theta: float
    small: float
    baths: np.ndarray
    L: np.ndarray
    depths: np.ndarray
    dwell: np.ndarray
    dwell_sem: np.ndarray
    area: np.ndarray
    area_sem: np.ndarray
    fraction: np.ndarray
    baseline: np.ndarray
    gain: np.ndarray
    gain_err: np.ndarray
    threshold: np.ndarray
    threshold_err: np.ndarray
    Q_qs: np.ndarray
    small_gain: np.ndarray
    small_gain_err: np.ndarray
    peak_gain: np.ndarray
    peak_gain_err: np.ndarray
    peak_depth: np.ndarray
    mf: dict
    source: str = "simulation"
    figure: list = field(default_factory=list)

    @property
    def reduced(self) -> np.ndarray:
        """Resting temperatures in units of Onsager's Tc."""
        return self.baths / ONSAGER_TC


def _paired_slope(q, per_replica):
    """Slope of a response against q: the least-squares slope of each replica's responses
    (replica k of every depth paired), mean and standard error over replicas; falls back
    to unpaired means when the depths have different replica counts. None for < 2 depths."""
    q = np.asarray(q, float)
    if q.size < 2 or np.ptp(q) == 0:
        return None
    if len({len(a) for a in per_replica}) == 1:
        A = np.stack(per_replica)                          # (K, R)
        dq = q - q.mean()
        slopes = dq @ (A - A.mean(axis=0)) / np.sum(dq * dq)
        return float(slopes.mean()), float(_sem(slopes))
    lf = measures.line_fit(q, [np.mean(a) for a in per_replica],
                           [_sem(a) for a in per_replica])
    return (lf["slope"], lf["slope_err"]) if lf else None


def _paired_peak(q, per_replica):
    """Steepest slope between neighbouring depths (mean over paired replicas of
    ``diff / dq``), its standard error and the midpoint depth."""
    q = np.asarray(q, float)
    if q.size < 2:
        return float("nan"), float("nan"), float("nan")
    best = (-np.inf, float("nan"), float("nan"))
    for k in range(q.size - 1):
        g = _paired_slope(q[k:k + 2], per_replica[k:k + 2])
        if g is not None and g[0] > best[0]:
            best = (g[0], g[1], 0.5 * (q[k] + q[k + 1]))
    return best if np.isfinite(best[0]) else (float("nan"),) * 3


def criticality(outdir=None, source=None, *, L=(16, 32), baths=(3.0, 2.7, 2.5, 2.4, 2.35, 2.3),
                depths=(0.0, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0), replicas=16,
                dynamics="metropolis", rate=RATE, at=AT, theta=THETA, small=0.3, tail=100,
                update=UPDATE, seed=11, progress=True) -> CriticalityResult:
    """Gain and threshold of the transfer curve as the resting temperature approaches Tc.

    Parameters
    ----------
    outdir : path-like, optional
        Folder for ``fig11_criticality.{png,pdf}``.
    source : None, path or sequence of paths
        None: simulate here. Paths: HDF5 sweep files of quench points (+ border)
        over bath x depth (x L); the grid and protocol are read from the points
        (the rate and quench time of the first point; others skipped).
    L : sequence of int
    baths : sequence of float
        Resting temperatures (J), above Tc = 2.269 J.
    depths : sequence of float
        Quench depths (J), each < every bath.
    replicas : int
    dynamics : str
    rate, at, theta : float
    small : float
        Depths ``Q <= small`` (J) give the small-signal gain.
    tail : int
    update : str
    seed : int
    progress : bool

    Returns
    -------
    CriticalityResult
    """
    outdir = _outdir(outdir)
    summ: dict = {}          # (L, bath) -> {depth: [summary]}
    used_update = update
    if source is None:
        src = "simulation"
        jobs = [(int(Lv), float(b), float(q)) for Lv in L for b in baths for q in depths]
        for Lv, b, q in _bar(jobs, progress, "Fig 11: quenches"):
            n = int(at + math.ceil(q / rate) + tail)
            # one seed for every depth of a (L, bath): common random numbers, so replica
            # k's responses to neighbouring depths are paired and their differences (the
            # gains) far less noisy than the responses themselves
            sim = Simulation(Lv, Quench(b, q, at, rate), dynamics=dynamics, update=update,
                             replicas=replicas, boundary="plus",
                             seed=_seed(seed, "critical", dynamics, Lv, b))
            used_update = sim.attrs().get("update", update)
            summ.setdefault((Lv, b), {}).setdefault(q, []).append(
                quench_summary(sim.run(n), at, theta))
    else:
        src = describe_source(source)
        proto = None
        for tr in _bar(iter_points(source), progress, "Fig 11: reading points"):
            a = tr.attrs or {}
            s = schedule_of(tr)
            if not isinstance(s, Quench) or a.get("boundary") != "plus" \
                    or a.get("dynamics") != dynamics or float(a.get("field", 0.0)) != 0.0:
                continue
            k = unit_scale(s)
            p = (round(s.rate * k, 12), s.at)
            if proto is None:
                proto = p
            if p != proto:
                continue
            used_update = a.get("update", used_update)
            summ.setdefault((int(a["L"]), round(s.bath * k, 12)), {}).setdefault(
                round(s.depth * k, 12), []).append(quench_summary(tr, s.at, theta))
        if proto is None:
            raise ValueError(f"{src}: no complete quench points with a + border, h = 0 and "
                             f"{dynamics} dynamics")
        rate, at = proto
    sizes = sorted({k[0] for k in summ})
    B = np.array(sorted({k[1] for k in summ}, reverse=True))
    Q = np.array(sorted({q for v in summ.values() for q in v}))
    shp = (len(sizes), B.size, Q.size)
    arr = {k: np.full(shp, np.nan) for k in ("dwell", "dwell_sem", "area", "area_sem",
                                            "fraction")}
    reps = np.zeros(shp)
    base = np.full(shp[:2], np.nan)
    areas: dict = {}         # (i, j) -> {kq: per-replica areas}
    for (Lv, b), byq in summ.items():
        i, j = sizes.index(Lv), int(np.flatnonzero(B == b)[0])
        bl = []
        for q, parts in byq.items():
            p = pool(parts)
            kq = int(np.searchsorted(Q, q))
            areas.setdefault((i, j), {})[kq] = p["area"]
            arr["dwell"][i, j, kq], arr["dwell_sem"][i, j, kq] = p["dwell"].mean(), _sem(p["dwell"])
            arr["area"][i, j, kq], arr["area_sem"][i, j, kq] = p["area"].mean(), _sem(p["area"])
            arr["fraction"][i, j, kq] = p["fired"].mean()
            reps[i, j, kq] = p["replicas"]
            bl.append(p["baseline"])
        base[i, j] = float(np.mean(bl))
    T_theta = float(exact.temperature_at_magnetisation(theta))
    Q_qs = B - T_theta
    out = {k: np.full(shp[:2], np.nan) for k in ("gain", "gain_err", "threshold",
                                                 "threshold_err", "small_gain",
                                                 "small_gain_err", "peak_gain",
                                                 "peak_gain_err", "peak_depth")}
    for i in range(len(sizes)):
        for j in range(B.size):
            d, de = arr["dwell"][i, j], arr["dwell_sem"][i, j]
            ok = np.isfinite(d)
            f = measures.relu_fit(Q[ok], d[ok], de[ok], reps[i, j][ok])
            nf = int(np.sum(arr["fraction"][i, j][ok] > 0))
            if f and nf >= 3:
                out["gain"][i, j] = f["params"]["slope"] * rate
                out["gain_err"][i, j] = f["errors"]["slope"] * rate
                out["threshold"][i, j] = f["params"]["threshold"]
                out["threshold_err"][i, j] = f["errors"]["threshold"]
            per = areas.get((i, j), {})
            ks = [k for k in range(Q.size) if k in per]
            small_k = [k for k in ks if Q[k] <= small + 1e-12]
            g = _paired_slope(Q[small_k], [per[k] for k in small_k])
            if g is not None:
                out["small_gain"][i, j], out["small_gain_err"][i, j] = g
            out["peak_gain"][i, j], out["peak_gain_err"][i, j], out["peak_depth"][i, j] = \
                _paired_peak(Q[ks], [per[k] for k in ks])
    mf = _meanfield(B, Q, rate, at, theta, small, tail)
    res = CriticalityResult(dynamics, used_update, float(rate), float(at), float(theta),
                            float(small), B, np.array(sizes), Q, arr["dwell"], arr["dwell_sem"],
                            arr["area"], arr["area_sem"], arr["fraction"], base, out["gain"],
                            out["gain_err"], out["threshold"], out["threshold_err"], Q_qs,
                            out["small_gain"], out["small_gain_err"], out["peak_gain"],
                            out["peak_gain_err"], out["peak_depth"], mf, src)
    if outdir is not None:
        res.figure = plots.save_figure(_figure(res), outdir / "fig11_criticality")
    return res


def _meanfield(B, Q, rate, at, theta, small, tail):
    """Mean-field transfer curves for every bath on a fine grid of depths (one ODE call)."""
    Qf = np.union1d(np.linspace(0.0, Q.max(), 41), Q)
    n = int(at + math.ceil(Qf.max() / rate) + tail)
    temps = np.stack([Quench(float(b), float(q), at, rate).temperatures(n) for b in B for q in Qf])
    m = glauber_sweeps(temps, Tc=ONSAGER_TC)
    t = np.arange(1, n + 1)
    dwell = spikes.dwell_time(t, m, theta).reshape(B.size, Qf.size)
    area = spikes.integrated_magnetisation(t, m).reshape(B.size, Qf.size)
    thr, gain, sg, pg = (np.full(B.size, np.nan) for _ in range(4))
    for j in range(B.size):
        f = measures.relu_fit(Qf, dwell[j], np.zeros(Qf.size), np.full(Qf.size, 1e6))
        if f and np.sum(dwell[j] > 0) >= 3:
            thr[j], gain[j] = f["params"]["threshold"], f["params"]["slope"] * rate
        sel = Qf <= small + 1e-12
        lf = measures.line_fit(Qf[sel], area[j, sel])
        sg[j] = lf["slope"] if lf else np.nan
        pg[j] = np.nanmax(np.diff(area[j]) / np.diff(Qf))
    return {"Q": Qf, "dwell": dwell, "area": area, "threshold": thr, "gain": gain,
            "small_gain": sg, "peak_gain": pg}


def _figure(res: CriticalityResult):
    x = res.baths
    panels = []
    kL = len(res.L) - 1
    data = [(f"bath {b:g} J (T/Tc = {b / ONSAGER_TC:.3f})", res.depths, res.dwell[kL, j],
             res.dwell_sem[kL, j], {"color": f"C{j}"}) for j, b in enumerate(res.baths)]
    lines = [(None, res.mf["Q"], res.mf["dwell"][j], {"color": f"C{j}", "ls": "--", "lw": 0.9})
             for j in range(res.baths.size)]
    lines = [("_", *ln[1:]) for ln in lines]
    lines.append(("dashed: mean field (same colour)", [], [], {"color": "0.3", "ls": "--"}))
    panels.append({"data": data, "lines": lines, "xlabel": "quench depth Q (J)",
                   "ylabel": f"spike count: sweeps with m >= {res.theta:g}",
                   "title": f"(transfer) L = {res.L[kL]}", "legend": "upper left"})
    data = [(f"lattice L = {Lv}", x, res.small_gain[i], res.small_gain_err[i],
             {"color": f"C{i}"}) for i, Lv in enumerate(res.L)]
    lines = [("mean field", x, res.mf["small_gain"], {"color": "C3", "ls": "--", "marker": "x"})]
    panels.append({"data": data, "lines": lines, "xlabel": "resting temperature (bath, J)",
                   "ylabel": f"small-signal gain d(area)/dQ, Q <= {res.small:g} J (sweeps/J)",
                   "title": "(sensitivity to weak inputs)", "vlines": [ONSAGER_TC],
                   "hlines": [0.0], "legend": "upper right"})
    data = [(f"lattice L = {Lv}", x, res.threshold[i], res.threshold_err[i], {"color": f"C{i}"})
            for i, Lv in enumerate(res.L)]
    lines = [("quasi-static bath - T_theta", x, res.Q_qs, {"color": "k"}),
             ("mean field", x, res.mf["threshold"], {"color": "C3", "ls": "--", "marker": "x"})]
    panels.append({"data": data, "lines": lines, "xlabel": "resting temperature (bath, J)",
                   "ylabel": "ReLU threshold of the dwell (J)", "title": "(threshold)",
                   "vlines": [ONSAGER_TC], "legend": "upper left"})
    data = [(f"lattice L = {Lv}", x, res.gain[i], res.gain_err[i], {"color": f"C{i}"})
            for i, Lv in enumerate(res.L)]
    lines = [("mean field", x, res.mf["gain"], {"color": "C3", "ls": "--", "marker": "x"}),
             ("quasi-static (1)", x, np.ones_like(x), {"color": "k", "lw": 0.8})]
    panels.append({"data": data, "lines": lines, "xlabel": "resting temperature (bath, J)",
                   "ylabel": "gain: ReLU slope of the dwell x r",
                   "title": "(gain above threshold)", "vlines": [ONSAGER_TC],
                   "legend": "lower left"})
    return plots.panels_figure(
        panels, ncols=2, panel_size=(5.6, 4.3),
        title=f"Criticality: rest approaching Tc = {ONSAGER_TC:.4f} J from above (dotted); "
              f"{res.dynamics}, {str(res.update).replace('_', '-')} updates, + border, "
              f"r = {res.rate:g} J/sweep")
