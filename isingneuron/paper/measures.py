"""Measures of the four studies (ReLU regime, spike trains, sparse codes, criticality):
pure functions of arrays, tested against constructed inputs with known answers.

Nothing here runs a simulation, reads a file or draws: the study modules
(``fig_relu_regime.py`` ... ``fig_criticality.py``) compute their inputs and
:mod:`isingneuron.plots` draws their outputs.

===============================  =============================================================
function                         what it measures
===============================  =============================================================
:func:`first_crossing`           sweeps from a time to the first record with ``m >= theta``
:func:`censored_median`          median of times some of which never happened (nan), with a
                                 bootstrap error
:func:`power_law_fit`            ``y = c x**z`` by weighted least squares in log-log
:func:`relu_fit`                 ReLU fit of a transfer curve (weighted; the dwell floor error)
:func:`classify_relu`            is a transfer curve ReLU-like (slope within 10 % of 1/r,
                                 threshold within 0.1 J of Q_theta)? else why not
:func:`collapse_variables`       the scaling variables ``x = (Q - Q_theta) / (r t_order)``,
                                 ``y = S / t_order``
:func:`collapse_spread`          how well curves collapse: spread of y between curves at equal x
:func:`line_fit`                 a weighted straight line (the small-signal gain)
:func:`rectified_gaussian_moments` silent fraction and sparseness of ReLU neurones with
                                 Gaussian inputs (closed form)
:func:`treves_rolls`             Treves-Rolls sparseness ``a = <r>**2 / <r**2>``
:func:`bootstrap_error`          bootstrap standard error of any statistic of a sample
:func:`two_spike_fraction`       fraction of traces with at least two spikes (hysteresis)
:func:`refractory_interval`      the shortest input spacing at which half the trials spike
                                 twice, interpolated, with a bootstrap error
:func:`spikes_per_input`         spikes assigned to the inputs of a train: latency, duration
:func:`adaptation_index`         ``1 - x_last / x_first`` of a per-spike quantity
===============================  =============================================================

Units: depths and thresholds in J, times in sweeps, rates in J per sweep.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy import optimize

from .. import activation as act
from .. import spikes

__all__ = ["RELU_CLASSES", "first_crossing", "censored_median", "power_law_fit", "relu_fit",
           "classify_relu", "collapse_variables", "collapse_spread", "line_fit",
           "rectified_gaussian_moments", "treves_rolls",
           "bootstrap_error", "two_spike_fraction", "refractory_interval", "spikes_per_input",
           "adaptation_index"]

#: Classes of :func:`classify_relu`, best first.
RELU_CLASSES = ("relu", "steep", "threshold shifted", "suppressed", "silent")


# ================================================================ ordering times
def first_crossing(t, m, theta: float = 0.9, after: float = 0.0) -> np.ndarray:
    """Sweeps from ``after`` to the first record with ``t > after`` and ``m >= theta``.

    Parameters
    ----------
    t : array_like of int, shape (n,)
        Sweeps completed at each record.
    m : array_like, shape (R, n) or (n,)
        Magnetisation per spin.
    theta : float
        Threshold on m.
    after : float
        Start of the clock (e.g. the sweep of the quench).

    Returns
    -------
    ndarray, shape (R,)
        ``t[k] - after`` of the first such record, nan where m never reaches theta.
    """
    t = np.asarray(t, float)
    m = np.atleast_2d(np.asarray(m, float))
    hit = (m >= theta) & (t > after)[None, :]
    any_ = hit.any(axis=1)
    k = np.argmax(hit, axis=1)
    return np.where(any_, t[k] - after, np.nan)


def censored_median(times, n_boot: int = 400, seed: int = 0) -> dict:
    """Median of event times of which some never happened within the run (nan).

    A missing time is later than every observed one, so the median exists while
    fewer than half are missing (nan otherwise). Its error is the standard
    deviation of the medians of ``n_boot`` bootstrap resamples (finite ones only;
    nan when more than a sixth of them are undefined).

    Parameters
    ----------
    times : array_like
        Event times, nan where the event did not happen.
    n_boot : int
    seed : int

    Returns
    -------
    dict
        ``median``, ``err``, ``n`` (samples), ``censored`` (how many are nan).
    """
    x = np.asarray(times, float).ravel()
    n = x.size
    xs = np.where(np.isfinite(x), x, np.inf)

    def med(v):
        s = np.sort(v, axis=-1)
        k = s.shape[-1]
        mid = 0.5 * (s[..., (k - 1) // 2] + s[..., k // 2])
        return np.where(np.isfinite(mid), mid, np.nan)

    out = {"median": float("nan"), "err": float("nan"), "n": int(n),
           "censored": int(np.sum(~np.isfinite(x)))}
    if n == 0:
        return out
    out["median"] = float(med(xs))
    if n >= 2 and n_boot > 0:
        rng = np.random.default_rng(seed)
        b = med(xs[rng.integers(0, n, size=(n_boot, n))])
        ok = np.isfinite(b)
        if ok.mean() >= 5 / 6 and ok.sum() >= 2:
            out["err"] = float(np.std(b[ok], ddof=1))
    return out


def power_law_fit(x, y, yerr=None) -> dict | None:
    """``y = prefactor * x**exponent`` by weighted least squares of ``ln y`` on ``ln x``.

    Parameters
    ----------
    x, y : array_like
        Positive values; non-finite or non-positive points are dropped.
    yerr : array_like, optional
        Standard errors of y (relative errors ``yerr / y`` weight the log fit);
        without them (or where they are not finite) the fit is unweighted and its
        errors come from the residuals.

    Returns
    -------
    dict or None
        ``exponent``, ``exponent_err``, ``prefactor``, ``prefactor_err``, ``n_points``;
        None with fewer than 2 points.
    """
    x, y = np.asarray(x, float).ravel(), np.asarray(y, float).ravel()
    e = np.full(x.shape, np.nan) if yerr is None else np.asarray(yerr, float).ravel()
    ok = np.isfinite(x) & np.isfinite(y) & (x > 0) & (y > 0)
    x, y, e = x[ok], y[ok], e[ok]
    if x.size < 2:
        return None
    lx, ly = np.log(x), np.log(y)
    rel = e / y
    weighted = bool(np.all(np.isfinite(rel) & (rel > 0)))
    s = rel if weighted else np.ones_like(ly)
    A = np.stack([lx, np.ones_like(lx)], axis=1) / s[:, None]
    cov = np.linalg.pinv(A.T @ A)
    p = cov @ (A.T @ (ly / s))
    dof = x.size - 2
    if weighted:
        chi2 = float(np.sum(((ly - A[:, 0] * s * p[0] - p[1]) / s) ** 2))
        if dof > 0 and chi2 / dof > 1:      # scatter beyond the error bars: say so in the error
            cov = cov * chi2 / dof
    elif dof > 0:
        cov = cov * float(np.sum((ly - p[0] * lx - p[1]) ** 2)) / dof
    else:
        cov = cov * np.nan
    c = math.exp(p[1])
    return {"exponent": float(p[0]), "exponent_err": float(math.sqrt(max(cov[0, 0], 0))),
            "prefactor": c, "prefactor_err": float(c * math.sqrt(max(cov[1, 1], 0))),
            "n_points": int(x.size)}


# ================================================================ the ReLU regime
def relu_fit(depths, dwell, dwell_sem, replicas, record_every: int = 1) -> dict | None:
    """ReLU fit ``slope * max(0, Q - threshold)`` of a dwell-time transfer curve.

    The errors are the standard errors of the mean dwell with a floor of the
    rounding error of a whole number of records, ``record_every / sqrt(12 R)``
    (so depths where no replica fired still weigh), as in
    :func:`isingneuron.transfer.analyse_transfer`.

    Returns
    -------
    dict or None
        :func:`isingneuron.activation.fit_summary` of the fit, None when it fails.
    """
    Q, S = np.asarray(depths, float), np.asarray(dwell, float)
    floor = record_every / np.sqrt(12.0 * np.maximum(np.asarray(replicas, float), 1))
    sig = np.sqrt(np.nan_to_num(np.asarray(dwell_sem, float)) ** 2 + floor ** 2)
    ok = np.isfinite(S)
    if ok.sum() < 3:
        return None
    best = None
    starts = [None]
    fired = Q[ok][S[ok] > 0]
    if fired.size:          # also start from a knee at the first depth that fired
        top = S[ok].max()
        starts.append((top / max(Q[ok].max() - fired.min(), 1e-3), float(fired.min())))
    for p0 in starts:
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore", optimize.OptimizeWarning)
                warnings.simplefilter("ignore", RuntimeWarning)
                f = act.fit_summary(act.fit_transfer(Q[ok], S[ok], sigma=sig[ok], model="relu",
                                                     p0=p0))
        except (RuntimeError, ValueError):
            continue
        if best is None or f["chi2"] < best["chi2"]:
            best = f
    return best


def classify_relu(slope, threshold, rate, Q_theta, n_firing_depths=None, *,
                  slope_tol: float = 0.1, threshold_tol: float = 0.1, min_firing: int = 3) -> str:
    """Whether a transfer curve is ReLU-like, and if not, how it fails.

    ReLU-like (the quasi-static prediction ``S = max(0, Q - Q_theta) / r``) means
    ``|slope * r - 1| <= slope_tol`` and ``|threshold - Q_theta| <= threshold_tol``.

    Parameters
    ----------
    slope, threshold : float
        Fitted ReLU slope (sweeps per J) and threshold (J); nan or None when the
        fit failed.
    rate : float
        Reheating rate r (J per sweep).
    Q_theta : float
        Quasi-static threshold depth (J).
    n_firing_depths : int, optional
        Depths at which at least one trial fired; fewer than ``min_firing`` is
        "silent" (a ReLU fit through one or two points says nothing).
    slope_tol, threshold_tol : float
        Relative tolerance on the slope, absolute tolerance on the threshold (J).
    min_firing : int

    Returns
    -------
    str
        One of :data:`RELU_CLASSES`: ``"relu"``; ``"threshold shifted"`` (slope
        within tolerance, threshold not); ``"steep"`` (slope above
        ``(1 + slope_tol) / r``); ``"suppressed"`` (slope below
        ``(1 - slope_tol) / r``: the spike is eaten by the ordering delay);
        ``"silent"`` (no fit, a non-positive slope or too few firing depths).
        Checked in the order silent, suppressed, threshold shifted, steep: a
        curve whose knee moved deeper is "threshold shifted" even when the ReLU
        fitted through its rounded knee is also too steep.
    """
    if n_firing_depths is not None and n_firing_depths < min_firing:
        return "silent"
    if slope is None or threshold is None or not (np.isfinite(slope) and np.isfinite(threshold)):
        return "silent"
    if slope <= 0:
        return "silent"
    g = slope * rate
    if g < 1 - slope_tol:
        return "suppressed"
    if abs(threshold - Q_theta) > threshold_tol:
        return "threshold shifted"
    if g > 1 + slope_tol:
        return "steep"
    return "relu"


def collapse_variables(depths, dwell, rate, t_order, Q_theta, dwell_sem=None):
    """The scaling variables of a transfer curve: the cold window in units of the
    ordering time and the spike in units of the ordering time.

    The membrane is cold (below the quasi-static threshold temperature) for
    ``(Q - Q_theta) / r`` sweeps and needs ``~t_order`` of them to order, so
    ``S ~ (Q - Q_theta) / r - t_order``; in the variables
    ``x = (Q - Q_theta) / (r t_order)`` and ``y = S / t_order`` every (L, r, h)
    falls on one curve ``y = g(x)`` (``g(x) ~ x - 1`` for large x).

    Parameters
    ----------
    depths, dwell : array_like
        Quench depths (J) and spike counts (sweeps).
    rate : float
        Reheating rate (J per sweep).
    t_order : float
        Ordering time (sweeps) of this membrane (L, h).
    Q_theta : float
        Quasi-static threshold depth (J).
    dwell_sem : array_like, optional
        Standard errors of the spike counts.

    Returns
    -------
    tuple
        ``(x, y)`` or ``(x, y, y_err)`` when ``dwell_sem`` is given.
    """
    Q, S = np.asarray(depths, float), np.asarray(dwell, float)
    x = (Q - Q_theta) / (rate * t_order)
    y = S / t_order
    if dwell_sem is None:
        return x, y
    return x, y, np.asarray(dwell_sem, float) / t_order


def collapse_spread(x, y, groups, bins=None) -> float:
    """How well several curves collapse: the spread between curves at equal x.

    Each curve (one group label per point) is interpolated linearly on common x
    values (the ``bins``, default 25 points over the x range all curves share);
    at each x the standard deviation of the curves' y is taken, and the result is
    its root mean square divided by the RMS of the y values (0 for a perfect
    collapse; of order 1 when the curves have nothing in common).

    Parameters
    ----------
    x, y : array_like
        Points of all curves.
    groups : array_like
        Curve label of each point.
    bins : array_like, optional
        The common x values.

    Returns
    -------
    float
        nan when fewer than two curves overlap in x.
    """
    x, y, g = np.asarray(x, float), np.asarray(y, float), np.asarray(groups)
    curves = []
    for lab in dict.fromkeys(g.tolist()):
        sel = (g == lab) & np.isfinite(x) & np.isfinite(y)
        if sel.sum() >= 2:
            o = np.argsort(x[sel])
            curves.append((x[sel][o], y[sel][o]))
    if len(curves) < 2:
        return float("nan")
    if bins is None:
        lo = np.median([c[0][0] for c in curves])
        hi = np.median([c[0][-1] for c in curves])
        if not hi > lo:
            return float("nan")
        bins = np.linspace(lo, hi, 25)
    bins = np.asarray(bins, float)
    vals = np.full((len(curves), bins.size), np.nan)
    for i, (cx, cy) in enumerate(curves):
        inside = (bins >= cx[0]) & (bins <= cx[-1])
        vals[i, inside] = np.interp(bins[inside], cx, cy)
    n = np.sum(np.isfinite(vals), axis=0)
    keep = n >= 2
    if not keep.any():
        return float("nan")
    sd = np.nanstd(vals[:, keep], axis=0, ddof=1)
    scale = math.sqrt(np.nanmean(vals[:, keep] ** 2))
    return float(math.sqrt(np.mean(sd ** 2)) / scale) if scale > 0 else float("nan")


def line_fit(x, y, yerr=None) -> dict | None:
    """Straight line ``y = slope x + intercept`` by (weighted) least squares.

    With ``yerr`` (standard errors; zeros or non-finite values are replaced by the
    smallest positive one) the errors are from the covariance, scaled up by
    ``sqrt(chi2 / dof)`` when the points scatter more than their error bars;
    without, from the residuals.

    Returns
    -------
    dict or None
        ``slope``, ``slope_err``, ``intercept``, ``intercept_err``, ``n_points``;
        None with fewer than 2 points (errors nan with exactly 2 unweighted).
    """
    x, y = np.asarray(x, float).ravel(), np.asarray(y, float).ravel()
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if x.size < 2 or np.ptp(x) == 0:
        return None
    if yerr is not None:
        e = np.asarray(yerr, float).ravel()[ok]
        good = np.isfinite(e) & (e > 0)
        e = np.where(good, e, e[good].min() if good.any() else 1.0)
        weighted = bool(good.any())
    else:
        e, weighted = np.ones_like(y), False
    A = np.stack([x, np.ones_like(x)], axis=1) / e[:, None]
    cov = np.linalg.inv(A.T @ A)
    p = cov @ (A.T @ (y / e))
    dof = x.size - 2
    chi2 = float(np.sum(((y - p[0] * x - p[1]) / e) ** 2))
    if dof > 0 and (not weighted or chi2 / dof > 1):
        cov = cov * chi2 / dof
    elif dof == 0 and not weighted:
        cov = cov * np.nan
    return {"slope": float(p[0]), "slope_err": float(math.sqrt(cov[0, 0])),
            "intercept": float(p[1]), "intercept_err": float(math.sqrt(cov[1, 1])),
            "n_points": int(x.size)}


def rectified_gaussian_moments(mu, sigma, threshold) -> dict:
    """Silent fraction and Treves-Rolls sparseness of ReLU neurones with Gaussian inputs.

    Inputs ``Q ~ N(mu, sigma**2)``, responses ``max(0, Q - threshold)`` (any slope):
    with ``z = (mu - threshold) / sigma``, ``E[r] = sigma (phi(z) + z Phi(z))`` and
    ``E[r**2] = sigma**2 ((1 + z**2) Phi(z) + z phi(z))``, so
    ``a = E[r]**2 / E[r**2]`` and the silent fraction is ``Phi(-z)``.

    Returns
    -------
    dict
        ``silent``, ``a`` (arrays shaped like ``mu``), ``mean`` (E[r], J).
    """
    from scipy import stats as sps
    z = (np.asarray(mu, float) - threshold) / sigma
    phi, Phi = sps.norm.pdf(z), sps.norm.cdf(z)
    m1 = sigma * (phi + z * Phi)
    m2 = sigma ** 2 * ((1 + z * z) * Phi + z * phi)
    with np.errstate(invalid="ignore", divide="ignore"):
        a = np.where(m2 > 0, m1 * m1 / np.where(m2 > 0, m2, 1.0), np.nan)
    return {"silent": sps.norm.cdf(-z), "a": a, "mean": m1}


# ================================================================ sparse codes
def treves_rolls(r, axis=-1):
    """Treves-Rolls sparseness ``a = <r>**2 / <r**2>`` of non-negative responses.

    ``a = 1`` when every neurone responds equally, ``a = k / N`` when k of N
    respond equally and the rest are silent; nan when all are silent.

    Parameters
    ----------
    r : array_like
        Responses (spike counts), >= 0.
    axis : int
        Axis over the neurones.

    Returns
    -------
    float or ndarray
    """
    r = np.asarray(r, float)
    m1 = np.mean(r, axis=axis)
    m2 = np.mean(r * r, axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        a = np.where(m2 > 0, m1 * m1 / np.where(m2 > 0, m2, 1.0), np.nan)
    return float(a) if np.ndim(a) == 0 else a


def bootstrap_error(stat, sample, n_boot: int = 400, seed: int = 0) -> float:
    """Bootstrap standard error of ``stat(sample)`` over resamples of its first axis.

    Resamples where ``stat`` is nan are left out; nan when fewer than two remain.
    """
    x = np.asarray(sample)
    n = x.shape[0]
    if n < 2:
        return float("nan")
    rng = np.random.default_rng(seed)
    vals = np.array([stat(x[rng.integers(0, n, n)]) for _ in range(n_boot)], float)
    vals = vals[np.isfinite(vals)]
    return float(np.std(vals, ddof=1)) if vals.size >= 2 else float("nan")


# ================================================================ spike trains
def two_spike_fraction(t, m, theta_on: float = 0.9, theta_off: float = 0.5) -> tuple:
    """Fraction of traces (replicas) with at least two spikes, and its binomial error.

    Spikes are hysteresis events (:func:`isingneuron.spikes.spike_count`): on at
    ``m >= theta_on``, off at ``m < theta_off``; a second spike needs the membrane
    to have fallen below ``theta_off`` in between.

    Returns
    -------
    tuple
        ``(fraction, error, counts)`` with counts the spikes per replica.
    """
    c = spikes.spike_count(t, m, theta_on, theta_off)
    f = float(np.mean(c >= 2))
    n = c.size
    return f, float(math.sqrt(max(f * (1 - f), 1.0 / n) / n)) if n else float("nan"), c


def _crossing(x, f, level):
    """First x where the piecewise-linear f(x) rises through ``level`` (nan if never)."""
    above = f >= level
    if not above.any():
        return float("nan")
    k = int(np.argmax(above))
    if k == 0:
        return float(x[0])
    x0, x1, f0, f1 = x[k - 1], x[k], f[k - 1], f[k]
    return float(x0 + (level - f0) * (x1 - x0) / (f1 - f0)) if f1 != f0 else float(x1)


def _plateau_level(f, level, relative, tail=3):
    """The fraction that defines the interval: ``level``, or ``level`` times the plateau
    (mean of the ``tail`` longest spacings) when ``relative``."""
    return level * float(np.mean(f[-tail:])) if relative else level


def refractory_interval(spacings, two_spike, level: float = 0.5, n_boot: int = 400,
                        seed: int = 0, relative: bool = True) -> dict:
    """The shortest input spacing at which two inputs give two spikes.

    Parameters
    ----------
    spacings : array_like, shape (K,)
        Time between the two inputs (sweeps), any order.
    two_spike : array_like of bool, shape (K, R)
        Whether each of R trials at each spacing spiked at least twice (or a
        fraction per spacing, shape (K,), for a deterministic model).
    level : float
        The fraction of trials that defines the interval (0.5: the median trial).
    n_boot : int
        Bootstrap resamples of the trials for the error.
    seed : int
    relative : bool
        Take ``level`` relative to the plateau, the two-spike fraction at the three
        longest spacings (half-maximal): a neurone that answers a single input only
        with probability p spikes twice at long spacings only with ~p**2, and its
        interval is where it gets half of that. With a plateau of 1 it is ``level``.

    Returns
    -------
    dict
        ``interval`` (sweeps; linear interpolation of the fraction between the
        spacings around the first rise through the level; nan if never reached or
        the plateau is 0; the first spacing when it already is), ``err`` (bootstrap
        over trials; nan for fractions), ``fraction`` per sorted spacing,
        ``spacings`` sorted and ``plateau``.
    """
    s = np.asarray(spacings, float)
    o = np.argsort(s)
    s = s[o]
    b = np.asarray(two_spike)

    def cross(f):
        lv = _plateau_level(f, level, relative)
        return _crossing(s, f, lv) if lv > 0 else float("nan")

    if b.ndim == 1:
        frac = b.astype(float)[o]
        return {"interval": cross(frac), "err": float("nan"), "fraction": frac,
                "spacings": s, "plateau": float(np.mean(frac[-3:]))}
    b = b[o].astype(float)
    frac = b.mean(axis=1)
    out = {"interval": cross(frac), "err": float("nan"), "fraction": frac,
           "spacings": s, "plateau": float(np.mean(frac[-3:]))}
    R = b.shape[1]
    if R >= 2 and n_boot > 0 and np.isfinite(out["interval"]):
        rng = np.random.default_rng(seed)
        vals = np.array([cross(b[:, rng.integers(0, R, R)].mean(axis=1))
                         for _ in range(n_boot)])
        vals = vals[np.isfinite(vals)]
        if vals.size >= 2:
            out["err"] = float(np.std(vals, ddof=1))
    return out


def spikes_per_input(table, input_times, n_replicas: int, t_end=None) -> dict:
    """Assign the spikes of a train to the inputs that caused them.

    A spike belongs to the latest input at or before its start; an input gets at
    most its first spike (later ones in its window are counted as ``extra``).

    Parameters
    ----------
    table : ndarray of :data:`isingneuron.spikes.SPIKE_DTYPE`
        Spikes of all replicas (:func:`isingneuron.spikes.spike_table`).
    input_times : array_like, shape (n,)
        Sweeps of the inputs, increasing.
    n_replicas : int
    t_end : float, optional
        Spikes starting at or after ``t_end`` are ignored (default: none).

    Returns
    -------
    dict
        ``fired`` bool (R, n): input k of replica r got a spike; ``latency`` (R, n)
        sweeps from the input to the spike's start (nan if none); ``duration``
        (R, n) sweeps of that spike (nan if none; a lower bound for a spike still
        on at the end); ``count`` (R,) all spikes starting in
        ``[input_times[0], t_end)``; ``extra`` (R,) spikes beyond one per input.
    """
    it = np.asarray(input_times, float)
    n = it.size
    R = int(n_replicas)
    fired = np.zeros((R, n), bool)
    lat = np.full((R, n), np.nan)
    dur = np.full((R, n), np.nan)
    count = np.zeros(R, np.int64)
    extra = np.zeros(R, np.int64)
    for row in np.asarray(table):
        start = float(row["start"])
        if start < it[0] or (t_end is not None and start >= t_end):
            continue
        r = int(row["replica"])
        k = int(np.searchsorted(it, start, side="right") - 1)
        count[r] += 1
        if fired[r, k]:
            extra[r] += 1
            continue
        fired[r, k] = True
        lat[r, k] = start - it[k]
        dur[r, k] = float(row["duration"])
    return {"fired": fired, "latency": lat, "duration": dur, "count": count, "extra": extra}


def adaptation_index(first, last) -> float:
    """``1 - last / first``: > 0 when a per-spike quantity (duration) shrinks along a
    train (adaptation), < 0 when it grows (facilitation), 0 when unchanged; nan when
    either is not finite or ``first`` is 0."""
    first, last = float(first), float(last)
    if not (np.isfinite(first) and np.isfinite(last)) or first == 0:
        return float("nan")
    return 1.0 - last / first
