"""Figure 8: where the paper's ReLU holds, in membrane size L, reheating rate r and field h.

With physical kinetics a lattice quenched below Tc needs ~L**2 sweeps to order
(coarsening from the + border), while the cold window of a quench of depth Q
lasts ``(Q - Q_theta) / r`` sweeps. The paper's ReLU (spike count
``max(0, Q - Q_theta) / r``) can therefore only hold where the ordering time is
short beside the window. This study measures

* the ordering time ``t_order(L, T_quench, h)``: median sweeps to reach
  ``m >= theta`` after a sudden quench from rest to a constant ``T_quench``
  (+ border), and its power law in L;
* transfer curves (dwell time against Q) on a grid of (L, r, h), each with a ReLU
  fit and a verdict (:func:`isingneuron.paper.measures.classify_relu`:
  ReLU-like when the slope is within 10 % of 1/r and the threshold within 0.1 J
  of Q_theta);
* their collapse onto one scaling form, ``S / t_order`` against
  ``(Q - Q_theta) / (r t_order)``, and the master curve ``a max(0, x - x0)``;
* the phase diagram in the (L, 1/r) plane for each h, with the boundary the
  collapse predicts (ReLU-like while ``x0 r t_order <= 0.1 J``);
* whether a field (nucleation and growth instead of coarsening) rescues large
  membranes;
* mean-field Glauber dynamics (no size at all; Tc = Onsager's, the same field
  and protocol) beside every curve, and its distance from the lattice as a
  function of L: the paper's claim in numbers.

The runs are made here (``source=None``, modest sizes) or read from the HDF5
files of ``configs/studies/relu_regime.yaml`` (transfer curves) and
``configs/studies/relu_regime_ordering.yaml`` (ordering times), e.g.
``relu_regime(source=[transfer.h5, ordering.h5])``.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from .. import activation as act
from .. import exact, plots, spikes
from ..equilibrium import equilibrium
from ..stats import ShortSeriesWarning
from ..schedules import ONSAGER_TC, Quench, Ramp
from ..simulation import Simulation
from . import measures
from ._common import AT, BATH, THETA, UPDATE, _bar, _outdir, _pm, _sem, _seed
from ._meanfield_fast import glauber_sweeps
from ._study_io import (describe_source, iter_points, pool, quench_summary, schedule_of,
                        unit_scale)

__all__ = ["ReluRegimeResult", "relu_regime", "ordering_times", "threshold_depth"]

#: Styles of the phase diagram's classes (:data:`measures.RELU_CLASSES`).
CLASS_STYLES = {"relu": {"color": "C2", "marker": "o"},
                "threshold shifted": {"color": "C1", "marker": "s"},
                "steep": {"color": "C4", "marker": "^"},
                "suppressed": {"color": "C3", "marker": "v"},
                "silent": {"color": "0.35", "marker": "x"}}


@dataclass
class ReluRegimeResult:
    """Where the ReLU holds (Figure 8).

    Attributes
    ----------
    dynamics, update : str
    bath, at, theta : float
        Protocol (J, sweeps) and firing threshold.
    Q_theta : float
        Quasi-static threshold depth ``bath - T_theta`` (J; exact m(T), h = 0).
    thresholds : list of dict
        :func:`threshold_depth` per field: the quasi-static threshold ``Q_theta(h)``
        each condition is judged against (a field orders the membrane at a higher
        temperature, so its threshold is shallower).
    T_ref : float
        Quench temperature (J) whose ordering time scales the collapse.
    conditions : list of dict
        One per (L, rate, field): ``L, rate, field, depths, dwell, dwell_sem, area,
        area_sem, fraction, onset, onset_sem, replicas, baseline``; the ReLU fit
        (``fit``, ``slope``, ``slope_err``, ``threshold``, ``threshold_err``,
        ``gain`` = slope * r), ``n_firing_depths``, ``class``; mean-field dwell on
        the same depths (``meanfield_dwell``) and the distances
        ``mf_rms`` = RMS over depths of r (S_lattice - S_meanfield) (J) and
        ``mf_threshold_diff`` (lattice - mean-field threshold, J); ``t_order``
        (sweeps, at T_ref, measured or from the power law) and the collapse
        variables ``x``, ``y``, ``y_err``.
    ordering : list of dict
        One per (L, T, field): ``L, T, field, median, err, n, censored,
        max_sweeps`` (sweeps from the quench to m >= theta; median over replicas,
        bootstrap error).
    ordering_fits : list of dict
        ``T, field`` and :func:`measures.power_law_fit` of median against L
        (``exponent`` z, ``prefactor`` c: t_order = c L**z).
    meanfield : list of dict
        One per (rate, field): ``Q``, ``dwell`` on a fine grid, its ReLU
        ``threshold`` and ``slope``.
    collapse : dict
        ``spread_raw`` (S r against Q - Q_theta), ``spread_shifted`` (S r against
        Q - Q_theta - r t_order) and ``spread_scaled`` (the scaling variables),
        from :func:`measures.collapse_spread` (0 = perfect); ``master`` the fit
        ``y = a max(0, x - x0)`` (``a``, ``a_err``, ``x0``, ``x0_err``,
        ``reduced_chi2``).
    rescue : list of dict
        For each (L, rate) and field h > 0: the class at h = 0 and at h, and the
        ordering-time ratio t_order(h) / t_order(0) at T_ref.
    source : str
    figure : list of Path
    """

    dynamics: str
    update: str | None
    bath: float
    at: float
    theta: float
    Q_theta: float
    T_ref: float
    conditions: list
    ordering: list
    ordering_fits: list
    meanfield: list
    collapse: dict
    rescue: list
    thresholds: list = field(default_factory=list)
    source: str = "simulation"
    figure: list = field(default_factory=list)

    def phase(self, h) -> dict:
        """``{(L, rate): class}`` at field ``h``."""
        return {(c["L"], c["rate"]): c["class"] for c in self.conditions
                if math.isclose(c["field"], h, abs_tol=1e-12)}

    def q_theta(self, h) -> float:
        """Quasi-static threshold depth (J) at field ``h``."""
        for t in self.thresholds:
            if math.isclose(t["field"], h, abs_tol=1e-12):
                return float(t["Q_theta"])
        return self.Q_theta if h == 0 else float("nan")

    def t_order(self, L, h, T=None) -> float:
        """Ordering time (sweeps) at (L, h, T = T_ref): measured, else from the power law."""
        T = self.T_ref if T is None else T
        for o in self.ordering:
            if o["L"] == L and math.isclose(o["field"], h, abs_tol=1e-12) \
                    and math.isclose(o["T"], T, abs_tol=1e-9) and np.isfinite(o["median"]):
                return float(o["median"])
        for f in self.ordering_fits:
            if math.isclose(f["field"], h, abs_tol=1e-12) and math.isclose(f["T"], T, abs_tol=1e-9):
                return float(f["prefactor"] * L ** f["exponent"])
        return float("nan")


# ============================================================ the ordering time
def ordering_times(L, T, *, field=0.0, dynamics="metropolis", bath=BATH, at=AT, theta=THETA,
                   replicas=16, update=UPDATE, seed=0, max_sweeps=None, done_fraction=0.8):
    """Sweeps each replica needs to reach ``m >= theta`` after a sudden quench.

    The membrane (+ border, field ``field``) rests at ``bath`` for ``at`` sweeps,
    then the bath drops to ``T`` and stays there. The run advances in chunks and
    stops once ``done_fraction`` of the replicas have ordered or after
    ``max_sweeps`` sweeps from the quench (default ``0.6 L**2 + 400``, about 4x
    the physical median at h = 0).

    Returns
    -------
    tuple
        ``(times, max_sweeps)``: times (R,) in sweeps after the quench, nan for a
        replica still disordered at the end; the sweeps run after the quench.
    """
    L = int(L)
    cap = int(max_sweeps if max_sweeps is not None else 0.6 * L * L + 400)
    sim = Simulation(L, Ramp(bath, T, 0.0, at), dynamics=dynamics, update=update,
                     replicas=replicas, boundary="plus", field=field, seed=seed)
    sim.run(int(at))
    chunk = max(50, L * L // 16)
    times = np.full(replicas, np.nan)
    ran = 0
    while ran < cap:
        n = min(chunk, cap - ran)
        tr = sim.run(n)
        tc = measures.first_crossing(tr.t, tr.m, theta, after=at)
        new = np.isnan(times) & np.isfinite(tc)
        times[new] = tc[new]
        ran += n
        if np.mean(np.isfinite(times)) >= done_fraction:
            break
    return times, ran


# ============================================================ the threshold in a field
_THRESHOLD_CACHE: dict = {}


def threshold_depth(h, *, theta=THETA, bath=BATH, L=64, n_sweeps=800, n_thermalise=300,
                    step=0.04, seed=11) -> dict:
    """Quasi-static threshold depth ``Q_theta(h) = bath - T_theta(h)`` in a field h.

    ``T_theta(h)`` is where the equilibrium magnetisation is ``theta``. At h = 0
    it is Onsager-Yang's (exact). A field raises it (near Tc, m ~ h**(1/15)), and
    no closed form exists, so for h != 0 it is measured: equilibrium Metropolis
    (:func:`isingneuron.equilibrium`, periodic L x L, from the + state, two
    replicas) on temperatures ``T_theta(0), T_theta(0) + step, ...`` until m falls
    below theta, then linear interpolation between the two temperatures around
    theta; the error comes from the error bars of m there. (At h = 0 this scan
    gives 2.027 J at L = 64 against the exact 2.032 J.) Results are cached per
    argument set.

    Returns
    -------
    dict
        ``field``, ``T_theta`` (J), ``Q_theta`` (J), ``err`` (J), ``method``
        ("exact" or "equilibrium Metropolis L=..").
    """
    key = (float(h), float(theta), float(bath), int(L), int(n_sweeps), int(n_thermalise),
           float(step), int(seed))
    if key in _THRESHOLD_CACHE:
        return dict(_THRESHOLD_CACHE[key])
    T0 = float(exact.temperature_at_magnetisation(theta))
    if h == 0:
        out = {"field": 0.0, "T_theta": T0, "Q_theta": bath - T0, "err": 0.0, "method": "exact"}
    else:
        rows = []
        T = T0 - step
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ShortSeriesWarning)
            while T < 4.0:
                r = equilibrium(L, float(T), "metropolis", n_sweeps=n_sweeps,
                                n_thermalise=n_thermalise, replicas=2, field=float(h),
                                initial="up" if h > 0 else "down",
                                seed=_seed(seed, "threshold", h, round(T, 9)) % 2**63)
                rows.append((T, abs(r.mean["m"]), r.error["m"]))
                if abs(r.mean["m"]) < theta:
                    break
                T += step
        (Ta, ma, ea), (Tb, mb, eb) = rows[-2] if len(rows) > 1 else rows[-1], rows[-1]
        if mb < theta <= ma and ma > mb:
            Tt = Ta + (ma - theta) * (Tb - Ta) / (ma - mb)
            slope = (ma - mb) / (Tb - Ta)
            err = math.sqrt(((Tb - Tt) * ea) ** 2 + ((Tt - Ta) * eb) ** 2) / (Tb - Ta) / slope
        else:
            Tt, err = float("nan"), float("nan")
        out = {"field": float(h), "T_theta": float(Tt), "Q_theta": float(bath - Tt),
               "err": float(err), "method": f"equilibrium Metropolis, periodic L = {L}"}
    _THRESHOLD_CACHE[key] = dict(out)
    return out


# ============================================================ mean-field curves
def _meanfield_dwells(grids: dict, bath, at, theta, tail=100) -> dict:
    """Mean-field Glauber dwell (sweeps) under the lattice's protocol (Tc = Onsager's,
    the field h, the default seed m0): ``{(rate, h): depths} -> {(rate, h): dwell}``,
    all in one ODE call (its cost is per sweep, whatever the number of curves)."""
    keys = list(grids)
    if not keys:
        return {}
    n = max(int(at + math.ceil(max(grids[k]) / k[0]) + tail) for k in keys)
    temps = np.stack([Quench(bath, float(q), at, k[0]).temperatures(n)
                      for k in keys for q in grids[k]])
    hs = np.concatenate([np.full(len(grids[k]), float(k[1])) for k in keys])
    m = glauber_sweeps(temps, Tc=ONSAGER_TC, h=hs)
    d = spikes.dwell_time(np.arange(1, n + 1), m, theta)
    out, i = {}, 0
    for k in keys:
        out[k] = d[i:i + len(grids[k])]
        i += len(grids[k])
    return out


# ============================================================ the experiment
def relu_regime(outdir=None, source=None, *, L=(16, 32, 64), rates=(0.02, 0.005, 0.002),
                fields=(0.0, 0.1), depths=tuple(np.round(np.linspace(0.0, 2.5, 11), 4)),
                replicas=8, ordering_L=(16, 32, 64, 128), ordering_T=(1.0, 1.5),
                ordering_replicas=16, T_ref=1.0, dynamics="metropolis", bath=BATH, at=AT,
                theta=THETA, tail=100, update=UPDATE, slope_tol=0.1, threshold_tol=0.1,
                seed=8, progress=True) -> ReluRegimeResult:
    """Where the ReLU holds: transfer curves on an (L, r, h) grid, ordering times,
    scaling collapse, phase diagram and the mean field beside them.

    Parameters
    ----------
    outdir : path-like, optional
        Folder for ``fig8_relu_regime.{png,pdf}``.
    source : None, path or sequence of paths
        None: simulate here with the sizes below. Paths: HDF5 sweep files of
        ``isingneuron run`` (``configs/studies/relu_regime*.yaml``): quench points
        are transfer curves, ``ramp`` points (a step to a constant temperature)
        ordering times; ``L``, ``rates``, ``fields``, ``depths``, ``replicas``,
        ``ordering_*``, ``update`` and ``seed`` are then unused and the protocol is
        read from the points (points of another ``dynamics`` or ``bath`` are
        skipped).
    L, rates, fields, depths : sequences
        The transfer grid: sizes, reheating rates (J/sweep), fields (J), depths (J).
    replicas : int
        Trials per depth.
    ordering_L, ordering_T : sequences
        Sizes (the transfer sizes are added) and quench temperatures (J) of the
        ordering-time runs; ``ordering_replicas`` trials each, at every field.
    T_ref : float
        Quench temperature of the ordering time used for the collapse (J; one of
        ``ordering_T``).
    dynamics : str
    bath, at, theta : float
    tail : int
        Sweeps recorded after each quench has reheated.
    update : str
    slope_tol, threshold_tol : float
        The ReLU-like criterion (:func:`measures.classify_relu`).
    seed : int
    progress : bool

    Returns
    -------
    ReluRegimeResult
    """
    outdir = _outdir(outdir)
    T_theta = float(exact.temperature_at_magnetisation(theta))
    summaries: dict = {}          # (L, rate, field) -> {depth: [summary]}
    order_raw: dict = {}          # (L, T, field) -> (times, max_sweeps)
    used_update = update
    if source is None:
        src = "simulation"
        jobs = [(int(Lv), float(r), float(h), float(q)) for h in fields for r in rates
                for Lv in L for q in depths]
        for Lv, r, h, q in _bar(jobs, progress, "Fig 8: transfer curves"):
            n = int(at + math.ceil(q / r) + tail)
            sim = Simulation(Lv, Quench(bath, q, at, r), dynamics=dynamics, update=update,
                             replicas=replicas, boundary="plus", field=h,
                             seed=_seed(seed, "relu", dynamics, Lv, r, h, q))
            used_update = sim.attrs().get("update", update)
            summaries.setdefault((Lv, r, h), {}).setdefault(q, []).append(
                quench_summary(sim.run(n), at, theta))
        sizes = sorted(set(int(x) for x in ordering_L) | set(int(x) for x in L))
        ojobs = [(Lv, float(T), float(h)) for h in fields for T in ordering_T for Lv in sizes]
        for Lv, T, h in _bar(ojobs, progress, "Fig 8: ordering times"):
            order_raw[(Lv, T, h)] = ordering_times(
                Lv, T, field=h, dynamics=dynamics, bath=bath, at=at, theta=theta,
                replicas=ordering_replicas, update=update,
                seed=_seed(seed, "ordering", dynamics, Lv, T, h))
    else:
        src = describe_source(source)
        for tr in _bar(iter_points(source), progress, "Fig 8: reading points"):
            a = tr.attrs or {}
            if a.get("boundary") != "plus":
                continue
            s = schedule_of(tr)
            if a.get("dynamics") != dynamics:
                continue
            k = unit_scale(s)
            h, Lv = float(a.get("field", 0.0)), int(a.get("L", 0))
            used_update = a.get("update", used_update)
            if isinstance(s, Quench) and math.isclose(s.bath * k, bath, abs_tol=1e-9):
                at = float(s.at)
                summaries.setdefault((Lv, round(s.rate * k, 12), h), {}).setdefault(
                    round(s.depth * k, 12), []).append(quench_summary(tr, s.at, theta))
            elif isinstance(s, Ramp) and s.duration == 0 and s.stop < s.start:
                times = measures.first_crossing(tr.t, tr.m, theta, after=s.at)
                key = (Lv, round(s.stop * k, 12), h)
                old = order_raw.get(key)
                run = int(tr.t[-1] - s.at)
                order_raw[key] = (times, run) if old is None else \
                    (np.concatenate([old[0], times]), min(old[1], run))
        if not summaries and not order_raw:
            raise ValueError(f"{src}: no complete {dynamics} points with a + border (quench "
                             "or ramp) to analyse")
    Q_theta = bath - T_theta
    all_fields = sorted({k[2] for k in summaries} | {k[2] for k in order_raw})
    thresholds = [threshold_depth(h, theta=theta, bath=bath) for h in all_fields]
    q_of = {t["field"]: t["Q_theta"] for t in thresholds}

    # ---------------------------------------------------------------- ordering
    ordering = []
    for (Lv, T, h), (times, ran) in sorted(order_raw.items()):
        cm = measures.censored_median(times, seed=_seed(seed, "boot", Lv, T, h) % 2**32)
        ordering.append({"L": Lv, "T": T, "field": h, "median": cm["median"], "err": cm["err"],
                         "n": cm["n"], "censored": cm["censored"], "max_sweeps": int(ran)})
    ordering_fits = []
    for T, h in sorted({(o["T"], o["field"]) for o in ordering}):
        rows = [o for o in ordering if o["T"] == T and o["field"] == h]
        f = measures.power_law_fit([o["L"] for o in rows], [o["median"] for o in rows],
                                   [o["err"] for o in rows])
        if f:
            ordering_fits.append({"T": T, "field": h, **f})
    if ordering and not any(math.isclose(o["T"], T_ref, abs_tol=1e-9) for o in ordering):
        T_ref = min({o["T"] for o in ordering}, key=lambda x: abs(x - T_ref))

    # ---------------------------------------------------------------- mean field
    mf = []
    combos = sorted({(k[1], k[2]) for k in summaries})
    grids = {}
    for r, h in combos:
        qd = sorted({q for k, v in summaries.items() if k[1] == r and k[2] == h for q in v})
        grids[(r, h)] = np.union1d(np.linspace(0.0, max(qd), 51), qd)
    dwells = _meanfield_dwells(grids, bath, at, theta)
    for r, h in combos:
        Qf, d = grids[(r, h)], dwells[(r, h)]
        fit = measures.relu_fit(Qf, d, np.zeros_like(d), np.full(d.shape, 1e6))
        mf.append({"rate": r, "field": h, "Q": Qf, "dwell": d,
                   "threshold": fit["params"]["threshold"] if fit else float("nan"),
                   "slope": fit["params"]["slope"] if fit else float("nan")})

    # ---------------------------------------------------------------- conditions
    res = ReluRegimeResult(dynamics, used_update, float(bath), float(at), float(theta),
                           float(Q_theta), float(T_ref), [], ordering, ordering_fits, mf, {}, [],
                           thresholds, src)
    for (Lv, r, h), byq in sorted(summaries.items()):
        qs = np.array(sorted(byq))
        ps = [pool(byq[q]) for q in qs]
        c = {"L": Lv, "rate": r, "field": h, "depths": qs,
             "dwell": np.array([p["dwell"].mean() for p in ps]),
             "dwell_sem": np.array([_sem(p["dwell"]) for p in ps]),
             "area": np.array([p["area"].mean() for p in ps]),
             "area_sem": np.array([_sem(p["area"]) for p in ps]),
             "fraction": np.array([p["fired"].mean() for p in ps]),
             "onset": np.array([np.nanmean(p["onset"]) if p["fired"].any() else np.nan
                                for p in ps]),
             "onset_sem": np.array([_sem(p["onset"][p["fired"]]) if p["fired"].sum() > 1
                                    else np.nan for p in ps]),
             "replicas": np.array([p["replicas"] for p in ps]),
             "baseline": float(np.mean([p["baseline"] for p in ps]))}
        fit = measures.relu_fit(qs, c["dwell"], c["dwell_sem"], c["replicas"],
                                ps[0]["record_every"])
        c["fit"] = fit
        c["slope"] = fit["params"]["slope"] if fit else float("nan")
        c["slope_err"] = fit["errors"]["slope"] if fit else float("nan")
        c["threshold"] = fit["params"]["threshold"] if fit else float("nan")
        c["threshold_err"] = fit["errors"]["threshold"] if fit else float("nan")
        c["gain"] = c["slope"] * r
        c["n_firing_depths"] = int(np.sum(c["fraction"] > 0))
        c["Q_theta"] = q_of[h]
        c["class"] = measures.classify_relu(c["slope"], c["threshold"], r, q_of[h],
                                            c["n_firing_depths"], slope_tol=slope_tol,
                                            threshold_tol=threshold_tol)
        m = next(x for x in mf if x["rate"] == r and x["field"] == h)
        c["meanfield_dwell"] = np.interp(qs, m["Q"], m["dwell"])
        c["mf_rms"] = float(np.sqrt(np.mean((r * (c["dwell"] - c["meanfield_dwell"])) ** 2)))
        c["mf_threshold_diff"] = c["threshold"] - m["threshold"] \
            if c["class"] != "silent" else float("nan")
        c["quasi_static_dwell"] = np.maximum(qs - q_of[h], 0.0) / r
        c["qs_rms"] = float(np.sqrt(np.mean((r * (c["dwell"] - c["quasi_static_dwell"])) ** 2)))
        c["t_order"] = res.t_order(Lv, h)
        x, y, ye = measures.collapse_variables(qs, c["dwell"], r, c["t_order"], q_of[h],
                                               c["dwell_sem"])
        c["x"], c["y"], c["y_err"] = x, y, ye
        res.conditions.append(c)
    res.collapse = _collapse(res)
    res.rescue = _rescue(res)
    if outdir is not None:
        res.figure = plots.save_figure(_figure(res), outdir / "fig8_relu_regime")
    return res


def _collapse(res: ReluRegimeResult) -> dict:
    """Spread of the curves in raw, shifted and scaled variables; the master curve."""
    cs = [c for c in res.conditions if np.isfinite(c["t_order"]) and c["t_order"] > 0]
    if not cs:
        return {}
    X = {k: [] for k in ("raw", "shifted", "scaled")}
    Y = {k: [] for k in X}
    G, E = [], []
    for i, c in enumerate(cs):
        r, to, q, q0 = c["rate"], c["t_order"], c["depths"], c["Q_theta"]
        above = q >= q0
        X["raw"].append((q - q0)[above])
        Y["raw"].append((c["dwell"] * r)[above])
        X["shifted"].append((q - q0 - r * to)[above])
        Y["shifted"].append((c["dwell"] * r)[above])
        X["scaled"].append(c["x"][above])
        Y["scaled"].append(c["y"][above])
        E.append(c["y_err"][above])
        G.append(np.full(above.sum(), i))
    G = np.concatenate(G)
    out = {}
    for k in X:
        x, y = np.concatenate(X[k]), np.concatenate(Y[k])
        out[f"spread_{k}"] = measures.collapse_spread(x, y, G)
    x, y = np.concatenate(X["scaled"]), np.concatenate(Y["scaled"])
    e = np.concatenate(E)
    # the floor: one record in units of t_order, so curves that never fired still weigh
    floor = np.concatenate([np.full(len(X["scaled"][i]), 1.0 / cs[i]["t_order"] /
                                    math.sqrt(12 * max(cs[i]["replicas"].min(), 1)))
                            for i in range(len(cs))])
    s = np.sqrt(np.nan_to_num(e) ** 2 + floor ** 2)
    ok = np.isfinite(x) & np.isfinite(y)
    out["master"] = None
    if ok.sum() >= 3:
        try:
            f = act.fit_transfer(x[ok], y[ok], sigma=s[ok], model="relu", p0=(1.0, 1.0))
            out["master"] = {"a": f.params["slope"], "a_err": f.errors["slope"],
                             "x0": f.params["threshold"], "x0_err": f.errors["threshold"],
                             "reduced_chi2": f.reduced_chi2, "n_points": int(ok.sum())}
        except (RuntimeError, ValueError):
            pass
    return out


def _rescue(res: ReluRegimeResult) -> list:
    """For each (L, rate) and h > 0: class at h = 0 and at h, and t_order(h) / t_order(0)."""
    out = []
    zero = res.phase(0.0)
    rank = {c: i for i, c in enumerate(measures.RELU_CLASSES)}
    for c in res.conditions:
        if c["field"] <= 0 or (c["L"], c["rate"]) not in zero:
            continue
        c0 = zero[(c["L"], c["rate"])]
        t0, th = res.t_order(c["L"], 0.0), res.t_order(c["L"], c["field"])
        out.append({"L": c["L"], "rate": c["rate"], "field": c["field"], "class_h0": c0,
                    "class_h": c["class"], "improved": rank[c["class"]] < rank[c0],
                    "t_order_ratio": th / t0 if t0 and np.isfinite(t0) else float("nan")})
    return out


# ============================================================ the figure
def _figure(res: ReluRegimeResult):
    fields = sorted({c["field"] for c in res.conditions})
    rates = sorted({c["rate"] for c in res.conditions})
    sizes = sorted({c["L"] for c in res.conditions})
    panels = []
    r_show = rates[len(rates) // 2] if rates else None
    for h in (fields[0], fields[-1]) if len(fields) > 1 else fields[:1]:
        data, lines = [], []
        for i, c in enumerate(x for x in res.conditions
                              if x["field"] == h and x["rate"] == r_show):
            data.append((f"L = {c['L']} ({c['class']})", c["depths"], c["dwell"],
                         c["dwell_sem"], {"color": f"C{i}"}))
        m = next((x for x in res.meanfield if x["rate"] == r_show and x["field"] == h), None)
        if m is not None:
            lines.append(("mean-field Glauber dynamics (no L)", m["Q"], m["dwell"],
                          {"color": "C3", "ls": "--"}))
            q0 = res.q_theta(h)
            lines.append((f"quasi-static ReLU, slope 1/r, Q_theta(h) = {q0:.3f} J", m["Q"],
                          np.maximum(m["Q"] - q0, 0) / r_show,
                          {"color": "k", "lw": 1.0}))
        panels.append({"data": data, "lines": lines, "xlabel": "quench depth Q (J)",
                       "ylabel": f"spike count: sweeps with m >= {res.theta:g}",
                       "title": f"(transfer) r = {r_show:g} J/sweep, h = {h:g} J",
                       "legend": "upper left"})
    # ordering time against L
    data, lines = [], []
    Ls = np.array(sorted({o["L"] for o in res.ordering}), float)
    for i, (T, h) in enumerate(sorted({(o["T"], o["field"]) for o in res.ordering})):
        rows = [o for o in res.ordering if o["T"] == T and o["field"] == h]
        f = next((x for x in res.ordering_fits if x["T"] == T and x["field"] == h), None)
        lab = f"T = {T:g} J, h = {h:g} J" + (f": z = {_pm(f['exponent'], f['exponent_err'])}"
                                              if f else "")
        data.append((lab, [o["L"] for o in rows], [o["median"] for o in rows],
                     [o["err"] for o in rows], {"color": f"C{i}", "fmt": "o"}))
        if f:
            lines.append((None, Ls, f["prefactor"] * Ls ** f["exponent"],
                          {"color": f"C{i}", "lw": 0.8}))
    if Ls.size:
        lines.append(("0.08 L^2 (Metropolis, T = 1 J, h = 0: README)", Ls, 0.08 * Ls ** 2,
                      {"color": "0.5", "ls": ":"}))
    panels.append({"data": data, "lines": [ln if ln[0] else ("_", *ln[1:]) for ln in lines],
                   "xscale": "log", "yscale": "log", "xlabel": "membrane size L",
                   "xticks": [int(v) for v in Ls],
                   "ylabel": f"ordering time: median sweeps to m >= {res.theta:g}",
                   "title": "(ordering) sudden quench from rest to T, + border",
                   "legend": "upper left"})
    title = (f"Where the ReLU holds: {res.dynamics}, {str(res.update).replace('_', '-')} "
             f"updates, + border, rest at T = {res.bath:g} J, quench at sweep {res.at:g}. "
             "ReLU-like: slope within 10 % of 1/r and threshold within 0.1 J of Q_theta(h)")
    if not res.conditions:            # ordering times only (e.g. the ordering sweep alone)
        return plots.panels_figure(panels, ncols=1, panel_size=(6.0, 4.5), title=title)
    # collapse
    pts = []
    mk = {h: m for h, m in zip(fields, "os^vDP")}
    for i, Lv in enumerate(sizes):
        for h in fields:
            cs = [c for c in res.conditions if c["L"] == Lv and c["field"] == h]
            if not cs:
                continue
            x = np.concatenate([c["x"] for c in cs])
            y = np.concatenate([c["y"] for c in cs])
            pos = (x > 0) & (y > 0)
            x, y = x[pos], y[pos]
            pts.append(("_nolegend_", x, y,
                        {"color": f"C{i}", "marker": mk[h], "s": 14, "alpha": 0.75}))
    key = [(f"L = {Lv}", [], [], {"color": f"C{i}", "marker": "o", "s": 14})
           for i, Lv in enumerate(sizes)]
    key += [(f"h = {h:g} J", [], [], {"color": "0.4", "marker": mk[h], "s": 14}) for h in fields]
    pts = key + pts
    lines = []
    ms = res.collapse.get("master")
    x0_ = ms["x0"] if ms else 1.0
    xs = np.concatenate([c["x"] for c in res.conditions]) if res.conditions else np.zeros(1)
    xs = xs[np.isfinite(xs)]
    xs = xs[xs > 0]
    if ms and xs.size:
        xg = np.geomspace(max(ms["x0"], 1e-3) * 1.001, xs.max(), 200)
        lines.append((f"a max(0, x - x0): a = {_pm(ms['a'], ms['a_err'])}, "
                      f"x0 = {_pm(ms['x0'], ms['x0_err'])}", xg,
                      ms["a"] * np.maximum(xg - ms["x0"], 0), {"color": "k"}))
    panels.append({"points": pts, "lines": lines, "xscale": "log", "yscale": "log",
                   "xlabel": "x = (Q - Q_theta(h)) / (r t_order)  (cold window / ordering time)",
                   "ylabel": "y = S / t_order  (spike / ordering time)",
                   "title": "(collapse) all L, r, h (S > 0 drawn); t_order at "
                   f"T = {res.T_ref:g} J", "legend": "upper left", "legend_ncol": 2})
    # the shifted form and the threshold shift against r t_order
    pts_s, data_t = [], []
    for i, Lv in enumerate(sizes):
        for h in fields:
            cs = [c for c in res.conditions if c["L"] == Lv and c["field"] == h
                  and np.isfinite(c["t_order"])]
            if not cs:
                continue
            x = np.concatenate([c["depths"] - c["Q_theta"] - c["rate"] * c["t_order"]
                                for c in cs])
            y = np.concatenate([c["dwell"] * c["rate"] for c in cs])
            pts_s.append(("_nolegend_", x, y,
                          {"color": f"C{i}", "marker": mk[h], "s": 14, "alpha": 0.75}))
            ok = [c for c in cs if c["class"] != "silent"]
            if ok:
                data_t.append(("_nolegend_", [c["rate"] * c["t_order"] for c in ok],
                               [c["threshold"] - c["Q_theta"] for c in ok],
                               [c["threshold_err"] for c in ok],
                               {"color": f"C{i}", "fmt": mk[h], "ms": 5}))
    xs_ = np.concatenate([p[1] for p in pts_s]) if pts_s else np.zeros(1)
    hi = max(float(xs_.max()), 1.0)
    xg = np.linspace(-1.0, hi, 50)
    pts_s = key + pts_s
    panels.append({"points": pts_s, "lines": [("S r = Q - Q_theta - r t_order", xg,
                                               np.maximum(xg, 0), {"color": "k", "lw": 0.9})],
                   "xlabel": "Q - Q_theta(h) - r t_order  (J)", "ylabel": "S r  (J)",
                   "title": "(collapse, shifted) the issue's variables (x < -1 J not drawn)",
                   "legend": "upper left", "legend_ncol": 2, "xlim": (-1.0, hi + 0.05)})
    rt = [x for d in data_t for x in d[1]]
    xr = np.geomspace(max(min(rt), 1e-3), max(rt), 50) if rt else np.ones(1)
    panels.append({"data": data_t, "lines": [
        (f"x0 r t_order (x0 = {x0_:.2f}, from the collapse)", xr, x0_ * xr, {"color": "k"}),
        ("ReLU-like band (+- 0.1 J)", xr, np.full(xr.shape, 0.1),
         {"color": "0.5", "ls": ":", "lw": 0.8})],
        "hlines": [0.0, -0.1], "xscale": "log", "xlabel": "r t_order  (J)",
        "ylabel": "fitted threshold - Q_theta(h)  (J)",
        "points": key, "title": "(threshold shift) the knee moves by the ordering delay",
        "legend": "upper left", "legend_ncol": 2})
    # phase diagrams
    Lg = np.geomspace(min(sizes), max(sizes), 50) if sizes else np.ones(1)
    for h in fields:
        cs = [c for c in res.conditions if c["field"] == h]
        lines = []
        f = next((x for x in res.ordering_fits if x["field"] == h
                  and math.isclose(x["T"], res.T_ref, abs_tol=1e-9)), None)
        x0 = ms["x0"] if ms else 1.0
        if f:
            lines.append((f"boundary: x0 r t_order(L) = 0.1 J (x0 = {x0:.2f})", Lg,
                          x0 * f["prefactor"] * Lg ** f["exponent"] / 0.1,
                          {"color": "k", "ls": "--"}))
        texts = [(c["L"], 1 / c["rate"], f"{c['gain']:.2f}, {c['threshold'] - c['Q_theta']:+.2f}")
                 for c in cs if c["class"] != "silent"]
        panels.append(plots.category_panel(
            [c["L"] for c in cs], [1 / c["rate"] for c in cs], [c["class"] for c in cs],
            CLASS_STYLES, lines=lines, texts=texts, xscale="log", yscale="log",
            xlabel="membrane size L", ylabel="1 / r (sweeps per J)",
            title=f"(phase diagram) h = {h:g} J; labels: slope r, threshold - Q_theta(h)",
            legend="lower right", xticks=sizes, yticks=[1 / r for r in rates],
            ylim=(0.5 / max(rates), 2 / min(rates)) if rates else None,
            xlim=(min(sizes) / 1.4, max(sizes) * 1.4) if sizes else None))
    # mean field against the lattice
    data = []
    shown = (fields[0], fields[-1])          # h = 0 and the largest field (all in the report)
    for i, (r, h) in enumerate(sorted({(c["rate"], c["field"]) for c in res.conditions
                                       if c["field"] in shown})):
        cs = sorted((c for c in res.conditions if c["rate"] == r and c["field"] == h),
                    key=lambda c: c["L"])
        data.append((f"r = {r:g}, h = {h:g}", [c["L"] for c in cs], [c["mf_rms"] for c in cs],
                     None, {"color": f"C{i % 10}", "fmt": "o-" if h == fields[0] else "s--"}))
    panels.append({"data": data, "xscale": "log", "xlabel": "membrane size L", "xticks": sizes,
                   "ylabel": "RMS over Q of r (S_lattice - S_meanfield)  (J)",
                   "title": "(mean field vs lattice) distance of the transfer curves",
                   "legend": "upper left", "legend_ncol": 2})
    return plots.panels_figure(panels, ncols=3, panel_size=(5.4, 4.3), title=title)
