"""Transfer curves from quench runs: spike count against quench depth.

The analysis layer of the activation experiment, apart from the paper that uses
it: :func:`analyse_transfer` turns ``{depth: Traces}`` (one run of R replicas per
quench depth) into a :class:`TransferCurveData`: dwell time and area per depth
with standard errors, fraction firing, ordering delay and spike end, ReLU /
softplus / S(Q) fits over all depths, straight lines through the deep quenches,
and the theory beside them (quasi-static exact m(T), mean-field Glauber dynamics
under the same protocol, the paper's eq. (2) integrated over the quench:
:func:`paper_spike_count`, :func:`paper_dwell_time`). :func:`load_quench_runs`
reads such runs from the HDF5 file of a sweep written by ``isingneuron run``.

Units: J = k_B = 1, temperatures and depths in J, time and spike counts in sweeps.
Data flow is one way: this module reads traces (:mod:`isingneuron.recorder`) and
uses :mod:`isingneuron.spikes` and :mod:`isingneuron.activation`; it knows nothing
of figures or of :mod:`isingneuron.paper`, which re-exports its names.
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize
from scipy import stats as sps

from . import activation as act
from . import exact, meanfield, spikes
from .recorder import file_status, read_point
from .schedules import ONSAGER_TC, Quench, Schedule
from .traces import Traces

__all__ = [
    "PAPER", "BATH", "RATE", "AT", "THETA",
    "paper_spike_count", "paper_dwell_time",
    "TransferCurveData", "analyse_transfer", "load_quench_runs",
]

# The membrane protocol of the paper's experiments (isingneuron.paper runs with these
# values and re-exports them); here also the defaults of the analysis where the traces
# do not store their protocol.
#: The paper's numbers: eq. (2) with a = 6, Tc = 1 (reduced units), Figure 2.
PAPER = {"a": 6.0, "Tc": 1.0}
#: Resting (bath) temperature of the membrane, J: above Onsager's Tc = 2.269.
BATH = 3.0
#: Reheating rate of the pumps, J per sweep (1 / RATE = 200 sweeps per J of depth).
RATE = 0.005
#: Sweep of the quench (the membrane rests at BATH before it).
AT = 50
#: Firing threshold on m (dwell time = sweeps with m >= THETA).
THETA = 0.9


# ======================================================================= helpers
def _sem(x, axis=None):
    """Standard error of the mean along ``axis`` (all of ``x`` for None); nan for n < 2."""
    x = np.asarray(x, float)
    n = x.shape[axis] if axis is not None else x.size
    if n < 2:
        return np.full(np.delete(x.shape, axis) if axis is not None else (), np.nan)
    return np.std(x, axis=axis, ddof=1) / math.sqrt(n)


def _log_cosh(x):
    """``ln cosh x``, without overflow for large |x|."""
    x = np.abs(np.asarray(x, float))
    return x + np.log1p(np.exp(-2.0 * x)) - math.log(2.0)


def _line_fit(x, y, sigma):
    """Weighted straight line ``y = slope x + intercept`` with absolute sigma.

    Returns dict(slope, slope_err, intercept, intercept_err, chi2, dof, pvalue), or
    None with fewer than 3 points.
    """
    x, y, s = (np.asarray(v, float) for v in (x, y, sigma))
    ok = np.isfinite(x) & np.isfinite(y) & np.isfinite(s) & (s > 0)
    x, y, s = x[ok], y[ok], s[ok]
    if x.size < 3:
        return None
    A = np.stack([x, np.ones_like(x)], axis=1) / s[:, None]
    cov = np.linalg.inv(A.T @ A)
    p = cov @ (A.T @ (y / s))
    chi2 = float(np.sum(((y - p[0] * x - p[1]) / s) ** 2))
    dof = x.size - 2
    return {"slope": float(p[0]), "slope_err": float(math.sqrt(cov[0, 0])),
            "intercept": float(p[1]), "intercept_err": float(math.sqrt(cov[1, 1])),
            "chi2": chi2, "dof": dof, "pvalue": float(sps.chi2.sf(chi2, dof)),
            "n_points": int(x.size), "x_min": float(x.min()), "x_max": float(x.max())}


# ======================================================== the paper's prediction
def paper_spike_count(depth, bath=BATH, rate=RATE, a=PAPER["a"], Tc=ONSAGER_TC):
    """The paper's spike count: eq. (2) integrated over the quench, in sweeps.

    ``S(Q) = (1/r) int_{bath - Q}^{bath} [1/2 - 1/2 tanh(a (T/Tc - 1))] dT``, eq. (2)
    in reduced units (``a = 6``, threshold ``T/Tc = 1``) taken as the membrane's
    m(T) and mapped to J with the lattice's own ``Tc``. For ``bath = Tc``, ``a = 1``,
    ``Tc = 1`` and ``rate = 1`` it is the paper's
    ``Q + 1/2 ln(1 + e^{-2Q}) - 1/2 ln 2`` (:func:`isingneuron.activation.spike_count_tanh`).

    Parameters
    ----------
    depth : float or array_like
        Quench depth Q (J), ``0 <= Q``.
    bath : float
        Bath temperature (J).
    rate : float
        Reheating rate (J per sweep).
    a : float
        Steepness of eq. (2) in reduced units.
    Tc : float
        Threshold temperature (J) of eq. (2).

    Returns
    -------
    float or ndarray
        Area under m(t) in sweeps.
    """
    Q = np.asarray(depth, float)
    lo = bath - Q
    # int 1/2 (1 - tanh(a (T/Tc - 1))) dT = T/2 - Tc/(2a) ln cosh(a (T/Tc - 1))
    F = lambda T: 0.5 * T - Tc / (2 * a) * _log_cosh(a * (T / Tc - 1.0))   # noqa: E731
    out = (F(bath) - F(lo)) / rate
    return float(out) if out.ndim == 0 else out


def paper_dwell_time(depth, bath=BATH, rate=RATE, theta=THETA, a=PAPER["a"], Tc=ONSAGER_TC):
    """Sweeps with eq. (2) >= theta during the quench (eq. 2 as m(T), J via ``Tc``).

    Eq. (2) reaches ``theta`` at ``T_theta = Tc (1 - atanh(2 theta - 1) / a)``; the
    dwell time is ``max(0, min(T_theta, bath) - (bath - Q)) / rate``.

    Parameters
    ----------
    depth : float or array_like
        Quench depth Q (J).
    bath, rate, theta, a, Tc : float
        As in :func:`paper_spike_count`; ``theta`` the threshold on m.

    Returns
    -------
    float or ndarray
        Dwell time in sweeps.
    """
    Q = np.asarray(depth, float)
    T_theta = Tc * (1.0 - np.arctanh(2 * theta - 1) / a)
    out = np.maximum(0.0, np.minimum(T_theta, bath) - (bath - Q)) / rate
    return float(out) if out.ndim == 0 else out


# ========================================================= transfer curve data
@dataclass
class TransferCurveData:
    """Spike count against quench depth for one lattice set-up.

    Attributes
    ----------
    label : str
        E.g. ``"metropolis L=32"`` (``"metropolis L=32 checkerboard"`` for the
        checkerboard order).
    dynamics, boundary : str
    L : int
    field, bath, rate, at, theta : float
        Field (J), bath temperature (J), reheating rate (J/sweep), quench time
        (sweeps), firing threshold on m.
    record_every : int
    depths : ndarray, shape (K,)
        Quench depths Q (J).
    replicas : ndarray of int, shape (K,)
    baseline : float
        Resting magnetisation (mean m over the records ``at/2 <= t < at``; the
        + border gives a small positive value at rest).
    dwell, dwell_sem : ndarray, shape (K,)
        Mean sweeps with m >= theta and its standard error over replicas.
    area, area_sem : ndarray, shape (K,)
        Mean area under ``(m(t) - baseline) / (1 - baseline)`` over the whole record
        (sweeps): the excess order above rest in units of full order, 0 at rest and
        1 per sweep when fully ordered (``= int m dt`` when the membrane rests at
        m = 0).
    fraction : ndarray, shape (K,)
        Fraction of replicas that reached m >= theta.
    onset, onset_sem : ndarray, shape (K,)
        Mean delay (sweeps) from the quench to the first record with m >= theta,
        over the replicas that fired (nan where none did).
    end, end_sem : ndarray, shape (K,)
        Mean time (sweeps after the quench) of the last record with m >= theta.
    fits : dict
        Fit summaries over all depths: ``dwell_relu``, ``dwell_softplus``,
        ``dwell_spike_count_tanh`` (the paper's S(Q) with free amplitude, width and
        shift; started from the default and from the fitted ReLU, the lowest chi2
        kept), ``area_relu``; None where the fit failed.
    deep : dict
        Straight lines through the deep quenches (``Q >= Q_theta + deep_margin``):
        ``dwell`` (slope in sweeps per J, to compare with 1 / rate), ``end``
        (slope of the spike's end time: the lattice melts near T_theta whatever the
        depth, so this slope is 1 / rate without the ordering delay) and
        ``onset`` (slope of the ordering delay); None with < 3 points.
    theory : dict
        Curves on ``theory["Q"]`` (J): ``quasi_static_dwell`` / ``quasi_static_area``
        (exact m(T) followed adiabatically), ``meanfield_dwell`` /
        ``meanfield_area`` (mean-field Glauber dynamics in reduced units, Tc =
        Onsager's, same protocol and analysis, started from ``m0 = baseline``),
        ``meanfield_qs_dwell`` (its quasi-static limit), ``paper_area`` /
        ``paper_dwell`` (eq. 2, a = 6, as m(T)); scalars ``T_theta_exact``,
        ``T_theta_meanfield`` (J), ``Q_theta`` (= bath - T_theta_exact, J).
    update : str or None
        Update order of the runs (``"random_sequential"`` or ``"checkerboard"``,
        from the traces' attrs; None for runs that did not record it).
    """

    label: str
    dynamics: str
    L: int
    boundary: str
    field: float
    bath: float
    rate: float
    at: float
    theta: float
    record_every: int
    depths: np.ndarray
    replicas: np.ndarray
    baseline: float
    dwell: np.ndarray
    dwell_sem: np.ndarray
    area: np.ndarray
    area_sem: np.ndarray
    fraction: np.ndarray
    onset: np.ndarray
    onset_sem: np.ndarray
    end: np.ndarray
    end_sem: np.ndarray
    fits: dict = field(default_factory=dict)
    deep: dict = field(default_factory=dict)
    theory: dict = field(default_factory=dict)
    update: str | None = None

    @property
    def artefact(self) -> bool:
        """True for checkerboard Metropolis: unphysical kinetics (ballistic walls)."""
        return self.dynamics == "metropolis" and self.update == "checkerboard"


def _quench_of(traces: Traces):
    """The Quench a run was driven by (from its attrs), in J units, or None."""
    text = traces.attrs.get("protocol") if traces.attrs else None
    if not text:
        return None
    try:
        d = json.loads(text) if isinstance(text, str) else dict(text)
        s = Schedule.from_dict(d)
    except (ValueError, TypeError, KeyError):
        return None
    if not isinstance(s, Quench):
        return None
    k = ONSAGER_TC if s.units == "Tc" else 1.0
    return {"bath": s.bath * k, "depth": s.depth * k, "rate": s.rate * k, "at": s.at}


def _stack(parts: list[Traces]) -> Traces:
    """Pool replicas of runs with the same records (e.g. several seeds of one depth)."""
    try:
        return Traces.stack(parts)
    except ValueError:
        raise ValueError("runs of one depth have different record times; cannot pool them") \
            from None


def load_quench_runs(path) -> dict:
    """Read the quench points of an HDF5 sweep file, grouped into transfer curves.

    Every complete point driven by a :class:`isingneuron.schedules.Quench` is read
    (:func:`isingneuron.recorder.read_point`); its depth, bath, rate and quench time
    come from the protocol stored with the traces (converted to J when the config
    used ``units: Tc``). Points are grouped by dynamics, L, update order, boundary,
    field, bath, rate and quench time; points of one group with the same depth
    (e.g. a sweep over seeds) are pooled as more replicas. Other points (constant,
    population, ...) are skipped.

    Parameters
    ----------
    path : str or path-like
        File written by ``isingneuron run``.

    Returns
    -------
    dict
        ``label -> {depth: Traces}``, labels like ``"glauber L=32"`` (with
        ``" checkerboard"`` appended for that update order, and boundary, field,
        bath or rate when they differ between groups).
    """
    groups: dict = {}
    for name, state in sorted(file_status(path)["points"].items()):
        if state != "done":
            continue
        tr = read_point(path, name)
        q = _quench_of(tr)
        if q is None:
            continue
        a = tr.attrs
        key = (a.get("dynamics", "?"), int(a.get("L", 0)), a.get("update"),
               a.get("boundary", "periodic"), float(a.get("field", 0.0)), q["bath"], q["rate"],
               q["at"])
        groups.setdefault(key, {}).setdefault(round(q["depth"], 12), []).append(tr)
    if not groups:
        return {}
    keys = list(groups)
    varies = [len({k[j] for k in keys}) > 1 for j in range(8)]
    out = {}
    for k in keys:
        label = f"{k[0]} L={k[1]}"
        if k[2] == "checkerboard":
            label += " checkerboard"
        elif k[2] is None and varies[2]:
            label += " update-not-recorded"
        if varies[3] or k[3] != "plus":
            label += f" {k[3]}"
        if varies[4] or k[4] != 0.0:
            label += f" h={k[4]:g}"
        for j, nm in ((5, "bath"), (6, "rate"), (7, "at")):
            if varies[j]:
                label += f" {nm}={k[j]:g}"
        out[label] = {d: _stack(parts) for d, parts in sorted(groups[k].items())}
    return out


def _starts(model, relu_fit):
    """Starting points for a transfer fit: the default (None) and, for the paper's S(Q)
    form, starts built from the fitted ReLU (asymptote ``(A/w)(Q - shift) - A ln2 / 2``
    through the ReLU's slope and threshold) at a few knee widths: the default start
    alone can stall in a flat local minimum."""
    starts = [None]
    if model == "spike_count_tanh" and relu_fit:
        k, q0 = relu_fit["params"]["slope"], relu_fit["params"]["threshold"]
        starts += [(k * w, w, q0 - 0.5 * math.log(2.0) * w) for w in (0.05, 0.2, 0.5)]
    return starts


def _fit_best(x, y, sigma, model, starts):
    """The lowest-chi2 :func:`isingneuron.activation.fit_transfer` over ``starts``
    (summary dict), or None when every start fails."""
    best = None
    for p0 in starts:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optimize.OptimizeWarning)
                f = act.fit_summary(act.fit_transfer(x, y, sigma=sigma, model=model, p0=p0))
        except (RuntimeError, ValueError):
            continue
        if best is None or f["chi2"] < best["chi2"]:
            best = f
    return best


def analyse_transfer(runs: dict, *, bath=None, rate=None, at=None, theta=THETA, label=None,
                     deep_margin=0.75, theory=True, n_theory=51) -> TransferCurveData:
    """Spike counts, fits and theory for one set of quench runs.

    Parameters
    ----------
    runs : dict
        ``{depth (J): Traces}``: one run (R replicas) per quench depth, all with the
        same protocol apart from the depth and the same record times.
    bath, rate, at : float, optional
        Protocol (J, J/sweep, sweeps); default: read from the traces' stored
        protocol (``attrs["protocol"]``).
    theta : float
        Firing threshold on m.
    label : str, optional
        Default ``"<dynamics> L=<L>"`` from the traces' attrs, with
        ``" checkerboard"`` appended for the checkerboard update order.
    deep_margin : float
        Depths ``Q >= bath - T_theta_exact + deep_margin`` (J) count as deep quenches
        for the straight-line fits.
    theory : bool
        Compute the theory curves (mean-field dynamics takes ~0.3 s).
    n_theory : int
        Depths of the theory curves.

    Returns
    -------
    TransferCurveData
    """
    if not runs:
        raise ValueError("runs is empty: give at least one {depth: Traces}")
    items = sorted(runs.items(), key=lambda kv: float(kv[0]))
    depths = np.array([float(k) for k, _ in items])
    trs = [v for _, v in items]
    first = trs[0]
    a = first.attrs or {}
    q = _quench_of(first) or {}
    bath = float(bath if bath is not None else q.get("bath", BATH))
    rate = float(rate if rate is not None else q.get("rate", RATE))
    at = float(at if at is not None else q.get("at", AT))
    dyn, L = a.get("dynamics", "?"), int(a.get("L", 0))
    update = a.get("update")
    label = label or f"{dyn} L={L}" + (" checkerboard" if update == "checkerboard" else "")
    re = spikes.record_interval(first.t)
    K = depths.size
    cols = {k: np.full(K, np.nan) for k in ("dwell", "dwell_sem", "area", "area_sem",
                                            "fraction", "onset", "onset_sem", "end",
                                            "end_sem")}
    reps = np.zeros(K, np.int64)
    rest = [tr.m[:, (tr.t >= at / 2) & (tr.t < at)] for tr in trs]
    rest = [r for r in rest if r.size]
    baseline = float(np.mean(np.concatenate([r.ravel() for r in rest]))) if rest else 0.0
    # the area is measured in units of full order above rest: (m - m_rest) / (1 - m_rest)
    # is 0 at rest and 1 when fully ordered, like eq. (2) and like m itself for an
    # infinite membrane (m_rest = 0), so it compares with the quasi-static integral
    scale = 1.0 - baseline if baseline < 1.0 else 1.0
    for i, tr in enumerate(trs):
        d = spikes.dwell_time(tr.t, tr.m, theta)
        area = spikes.integrated_magnetisation(tr.t, (tr.m - baseline) / scale)
        on = (tr.m >= theta) & (tr.t > at)[None, :]      # onset and end: after the quench
        fired = (tr.m >= theta).any(axis=1)
        after = on.any(axis=1)
        first_on = np.where(after, tr.t[np.argmax(on, axis=1)] - at, np.nan)
        last_on = np.where(after, tr.t[on.shape[1] - 1 - np.argmax(on[:, ::-1], axis=1)] - at,
                           np.nan)
        reps[i] = tr.n_replicas
        cols["dwell"][i], cols["dwell_sem"][i] = d.mean(), _sem(d)
        cols["area"][i], cols["area_sem"][i] = area.mean(), _sem(area)
        cols["fraction"][i] = fired.mean()
        if after.any():
            cols["onset"][i], cols["onset_sem"][i] = first_on[after].mean(), _sem(first_on[after])
            cols["end"][i], cols["end_sem"][i] = last_on[after].mean(), _sem(last_on[after])
    T_theta = float(exact.temperature_at_magnetisation(theta))
    Q_theta = bath - T_theta
    cd = TransferCurveData(label, dyn, L, a.get("boundary", "?"), float(a.get("field", 0.0)),
                           bath, rate, at, float(theta), re, depths, reps, baseline, **cols,
                           update=update)
    # fits over all depths; a replica's dwell is a whole number of records, so the
    # error of a mean is at least the rounding error record_every / sqrt(12 R):
    # this floor keeps depths where no replica fired (sem = 0) in a weighted fit
    floor = re / np.sqrt(12.0 * np.maximum(reps, 1))
    s_dwell = np.sqrt(np.nan_to_num(cd.dwell_sem) ** 2 + floor ** 2)
    s_area = np.sqrt(np.nan_to_num(cd.area_sem) ** 2 + floor ** 2)
    for name, model, y, s in (("dwell_relu", "relu", cd.dwell, s_dwell),
                              ("dwell_softplus", "softplus", cd.dwell, s_dwell),
                              ("dwell_spike_count_tanh", "spike_count_tanh", cd.dwell, s_dwell),
                              ("area_relu", "relu", cd.area, s_area)):
        cd.fits[name] = _fit_best(depths, y, s, model, _starts(model, cd.fits.get("dwell_relu")))
    deep = depths >= Q_theta + deep_margin
    cd.deep = {"Q_min": float(Q_theta + deep_margin),
               "dwell": _line_fit(depths[deep], cd.dwell[deep], s_dwell[deep]),
               "end": _line_fit(depths[deep], cd.end[deep],
                                np.sqrt(np.nan_to_num(cd.end_sem[deep], nan=np.inf) ** 2
                                        + floor[deep] ** 2)),
               "onset": _line_fit(depths[deep], cd.onset[deep],
                                  np.sqrt(np.nan_to_num(cd.onset_sem[deep], nan=np.inf) ** 2
                                          + floor[deep] ** 2)),
               "expected_slope": 1.0 / rate}
    if theory:
        cd.theory = _transfer_theory(bath, rate, at, theta, baseline, depths.max(), n_theory,
                                     n_sweeps=int(first.t[-1]))
    return cd


def _transfer_theory(bath, rate, at, theta, m0, Q_max, n, n_sweeps):
    """The theory curves of :attr:`TransferCurveData.theory` on ``n`` depths up to
    ``Q_max`` (J) for the protocol (bath, rate, at) and threshold ``theta``."""
    Q = np.linspace(0.0, min(Q_max, bath * 0.999), n)
    qs_dwell = act.quasi_static_dwell_time(Q, bath, rate, theta, "exact")
    qs_area = act.quasi_static_area(Q, bath, rate, "exact")
    mf_qs = act.quasi_static_dwell_time(Q, bath, rate, theta, "meanfield", Tc=ONSAGER_TC)
    temps = np.stack([Quench(bath, q, at, rate).temperatures(n_sweeps) for q in Q])
    m0 = float(m0) if m0 > 0 else None
    m = meanfield.glauber_dynamics(temps, tau=1.0, Tc=ONSAGER_TC, m0=m0)
    t = np.arange(1, n_sweeps + 1)
    return {"Q": Q, "quasi_static_dwell": qs_dwell, "quasi_static_area": qs_area,
            "meanfield_qs_dwell": mf_qs,
            "meanfield_dwell": spikes.dwell_time(t, m, theta),
            "meanfield_area": spikes.integrated_magnetisation(t, m),
            "paper_area": paper_spike_count(Q, bath, rate),
            "paper_dwell": paper_dwell_time(Q, bath, rate, theta),
            "meanfield_m0": m0,
            "T_theta_exact": float(exact.temperature_at_magnetisation(theta)),
            "T_theta_meanfield": float(ONSAGER_TC * theta / np.arctanh(theta)),
            "T_theta_paper": float(ONSAGER_TC * (1 - np.arctanh(2 * theta - 1) / PAPER["a"])),
            "Q_theta": float(bath - exact.temperature_at_magnetisation(theta))}
