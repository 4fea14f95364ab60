"""Spike counts from magnetisation traces.

A spike is the lattice ordering during a quench, ``m -> +1``. Two measures of
the "spike count" are provided (design notes, section 1):

* the **dwell time**, sweeps spent with ``m >= theta`` (:func:`dwell_time`), and
  its discrete version, events found with hysteresis thresholds
  (:func:`detect_spikes`, :func:`spike_table`, :func:`spike_count`);
* the **integrated magnetisation**, the area under ``m(t)``
  (:func:`integrated_magnetisation`).

:func:`transfer_curve` groups per-replica results by an input (e.g. quench
depth Q) into a mean response with its standard error.

:func:`classify_lattices` tells, from the spins themselves, which way a lattice
ordered: m = +1, m = -1, straight stripes (m ~ 0 on a periodic lattice) or
several domains (:data:`LATTICE_OUTCOMES`).

Trace layout
------------
The functions take plain arrays in the layout of :class:`isingneuron.Traces`:

* ``t``: int, shape ``(n_records,)``, sweeps completed at each record; strictly
  increasing and evenly spaced by ``record_every`` sweeps;
* ``m``: float, shape ``(R, n_records)`` (one row per replica) or
  ``(n_records,)`` (one replica; results then still have length 1).

Record ``k`` stands for the ``record_every`` sweeps ``t[k] - record_every`` to
``t[k] - 1``: every time integral below weights each record by
``record_every`` sweeps (rectangle rule). Hence ``t[0] >= record_every``.

Thresholds
----------
All thresholds must lie in (0, 1]. They apply to the signed ``m`` by default:
a lattice that orders to ``m = -1`` (possible with periodic boundaries and
``h = 0``) does *not* spike. Pass ``use_abs=True`` to analyse ``|m|`` instead,
which counts ordering to either sign.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "Spike",
    "SPIKE_DTYPE",
    "TransferCurve",
    "record_interval",
    "dwell_time",
    "detect_spikes",
    "spike_table",
    "spike_count",
    "integrated_magnetisation",
    "transfer_curve",
    "fraction_firing",
    "summarize",
    "LATTICE_OUTCOMES",
    "classify_lattices",
]

#: dtype of the flat table returned by :func:`spike_table`.
SPIKE_DTYPE = np.dtype([
    ("replica", np.int64),
    ("start", np.int64),
    ("end", np.int64),
    ("duration", np.int64),
    ("peak", np.float64),
    ("complete", np.bool_),
    ("started_before", np.bool_),
])


@dataclass(frozen=True)
class Spike:
    """One spike of one replica (all times in sweeps).

    Attributes
    ----------
    start : int
        ``t`` of the first record with ``m >= theta_on`` (upward crossing).
    end : int
        ``t`` of the first later record with ``m < theta_off`` (downward
        crossing); ``t[-1]`` when the spike is still on at the end of the trace.
    duration : int
        ``end - start`` in sweeps: the number of records the spike is on times
        ``record_every`` for a complete spike; a lower bound when
        ``complete`` is False or ``started_before`` is True.
    peak : float
        Largest value of the analysed signal (``m``, or ``|m|`` with
        ``use_abs``) over the records the spike is on.
    complete : bool
        False when the spike is still on at the last record.
    started_before : bool
        True when the spike is already on at the first record (its true start
        is unknown, at or before ``t[0]``).
    """

    start: int
    end: int
    duration: int
    peak: float
    complete: bool
    started_before: bool


@dataclass(frozen=True)
class TransferCurve:
    """Mean response per input value (see :func:`transfer_curve`).

    Attributes
    ----------
    x : ndarray, shape (K,)
        Sorted unique input values.
    mean : ndarray of float64, shape (K,)
        Mean response of the replicas at each input.
    sem : ndarray of float64, shape (K,)
        Standard error of that mean, ``std(ddof=1) / sqrt(count)``; nan where
        ``count == 1``.
    std : ndarray of float64, shape (K,)
        Sample standard deviation (``ddof=1``) of the responses; nan where
        ``count == 1``.
    count : ndarray of int64, shape (K,)
        Replicas at each input.
    """

    x: np.ndarray
    mean: np.ndarray
    sem: np.ndarray
    std: np.ndarray
    count: np.ndarray


# ------------------------------------------------------------------- validation
def _check_threshold(name: str, value) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number in (0, 1]; got {value!r}") from None
    if not (0.0 < v <= 1.0):
        raise ValueError(f"{name} must be in (0, 1]; got {value!r} "
                         "(thresholds apply to m or |m| and the spike is m -> +1)")
    return v


def record_interval(t, record_every: int | None = None) -> int:
    """Sweeps between records, derived from ``t`` and validated.

    Parameters
    ----------
    t : array_like of int, shape (n_records,)
        Sweeps completed at each record: integer valued, strictly increasing,
        evenly spaced, ``t[0] >= record_every``.
    record_every : int, optional
        Expected spacing in sweeps. Needed only when ``t`` has a single record
        not at ``t[0] == record_every``; otherwise checked against ``t``.

    Returns
    -------
    int
        ``record_every`` in sweeps.
    """
    return _check_t(t, record_every)[1]


def _check_t(t, record_every=None) -> tuple[np.ndarray, int]:
    a = np.asarray(t)
    if a.ndim != 1 or a.size == 0:
        raise ValueError(f"t must be a non-empty 1-D array of sweeps; got shape {a.shape}")
    if a.dtype.kind not in "iuf":
        raise ValueError(f"t must be integer sweeps; got dtype {a.dtype}")
    if a.dtype.kind == "f":
        if not np.all(np.isfinite(a)) or np.any(a != np.round(a)):
            raise ValueError("t must hold whole numbers of sweeps; got non-integer values")
    a = a.astype(np.int64)
    if record_every is not None:
        if isinstance(record_every, bool) or not isinstance(record_every, (int, np.integer)) \
                or record_every < 1:
            raise ValueError(f"record_every must be an integer >= 1; got {record_every!r}")
        record_every = int(record_every)
    if a.size >= 2:
        d = np.diff(a)
        if np.any(d <= 0):
            k = int(np.flatnonzero(d <= 0)[0])
            raise ValueError(f"t must be strictly increasing; got t[{k}] = {a[k]}, "
                             f"t[{k + 1}] = {a[k + 1]}")
        if np.any(d != d[0]):
            k = int(np.flatnonzero(d != d[0])[0])
            raise ValueError(f"t must be evenly spaced (one record every record_every "
                             f"sweeps); got spacing {d[0]} then t[{k + 1}] - t[{k}] = {d[k]}")
        re = int(d[0])
        if record_every is not None and record_every != re:
            raise ValueError(f"record_every = {record_every} does not match the spacing "
                             f"of t ({re} sweeps)")
    else:
        re = record_every if record_every is not None else int(a[0])
    if a[0] < re:
        raise ValueError(f"t[0] = {a[0]} must be >= record_every = {re}: t counts the sweeps "
                         "completed, and each record stands for the record_every sweeps "
                         "before it")
    return a, re


def _check_tm(t, m, use_abs=False, record_every=None) -> tuple[np.ndarray, np.ndarray, int]:
    ta, re = _check_t(t, record_every)
    a = np.asarray(m)
    if a.dtype.kind not in "biuf":
        raise ValueError(f"m must be real numbers; got dtype {a.dtype}")
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2:
        raise ValueError(f"m must have shape (R, n_records) or (n_records,); got {np.shape(m)}")
    if a.shape[1] != ta.size:
        raise ValueError(f"m has {a.shape[1]} records per replica but t has {ta.size}")
    a = a.astype(np.float64, copy=False)
    if not np.all(np.isfinite(a)):
        r, k = (int(i[0]) for i in np.nonzero(~np.isfinite(a)))
        raise ValueError(f"m must be finite; m[{r}, {k}] = {a[r, k]}")
    if use_abs:
        a = np.abs(a)
    return ta, a, re


# --------------------------------------------------------------------- measures
def dwell_time(t, m, theta: float = 0.9, use_abs: bool = False) -> np.ndarray:
    """Sweeps each replica spends with ``m >= theta``.

    Parameters
    ----------
    t : array_like of int, shape (n_records,)
        Sweeps completed at each record (evenly spaced by ``record_every``).
    m : array_like, shape (R, n_records) or (n_records,)
        Magnetisation per spin.
    theta : float, optional
        Threshold in (0, 1]. Default 0.9.
    use_abs : bool, optional
        Compare ``|m|`` instead of ``m``. Default False.

    Returns
    -------
    ndarray of float64, shape (R,)
        ``record_every * (number of records with m >= theta)``, in sweeps.
    """
    theta = _check_threshold("theta", theta)
    _, s, re = _check_tm(t, m, use_abs)
    return re * np.count_nonzero(s >= theta, axis=1).astype(np.float64)


def _hysteresis_state(s: np.ndarray, on: float, off: float) -> np.ndarray:
    """Boolean (R, n) state: switched on at s >= on, off at s < off, else held.

    Vectorised latch: each record takes the state of the last record at or
    before it where either threshold was decisive; before any, the state is off.
    """
    up = s >= on
    down = s < off
    k = np.arange(s.shape[1])
    last = np.maximum.accumulate(np.where(up | down, k, -1), axis=1)
    held = np.take_along_axis(up, np.maximum(last, 0), axis=1)
    return held & (last >= 0)


def spike_table(t, m, theta_on: float = 0.9, theta_off: float = 0.5,
                use_abs: bool = False) -> np.ndarray:
    """All spikes of all replicas as one flat structured array.

    Same detection as :func:`detect_spikes`, vectorised over replicas.

    Parameters
    ----------
    t, m, theta_on, theta_off, use_abs
        As in :func:`detect_spikes`.

    Returns
    -------
    ndarray of dtype :data:`SPIKE_DTYPE`, shape (n_spikes,)
        Fields ``replica, start, end, duration`` (sweeps), ``peak``,
        ``complete, started_before``; sorted by replica, then start.
        ``table['duration']`` etc. give plain arrays.
    """
    on = _check_threshold("theta_on", theta_on)
    off = _check_threshold("theta_off", theta_off)
    if off > on:
        raise ValueError(f"theta_off must be <= theta_on = {on!r}; got {theta_off!r}")
    ta, s, _ = _check_tm(t, m, use_abs)
    R, n = s.shape
    state = _hysteresis_state(s, on, off)
    edge = np.diff(state.astype(np.int8), axis=1, prepend=0, append=0)  # (R, n+1)
    rep, k_start = np.nonzero(edge == 1)
    _, k_end = np.nonzero(edge == -1)   # row-major order pairs each start with its end
    out = np.empty(rep.size, dtype=SPIKE_DTYPE)
    complete = k_end < n
    out["replica"] = rep
    out["start"] = ta[k_start]
    out["end"] = ta[np.minimum(k_end, n - 1)]
    out["duration"] = out["end"] - out["start"]
    out["complete"] = complete
    out["started_before"] = k_start == 0
    if rep.size:
        # peak over the on-records [k_start, k_end) of each spike, in one reduceat
        flat = np.append(s.ravel(), -np.inf)
        bounds = np.empty(2 * rep.size, dtype=np.int64)
        bounds[0::2] = rep * n + k_start
        bounds[1::2] = rep * n + k_end
        out["peak"] = np.maximum.reduceat(flat, bounds)[0::2]
    return out


def detect_spikes(t, m, theta_on: float = 0.9, theta_off: float = 0.5,
                  use_abs: bool = False) -> list[list[Spike]]:
    """Discrete spikes per replica, by hysteresis (Schmitt trigger).

    Like ``solve_ivp`` events with a direction: a spike starts at an upward
    crossing of ``theta_on`` (the first record with ``m >= theta_on`` while
    off) and ends at the next downward crossing of ``theta_off`` (the first
    later record with ``m < theta_off``). Between the thresholds the state is
    held, so noise around ``theta_on`` does not split one spike into many.

    Parameters
    ----------
    t : array_like of int, shape (n_records,)
        Sweeps completed at each record (evenly spaced by ``record_every``).
    m : array_like, shape (R, n_records) or (n_records,)
        Magnetisation per spin.
    theta_on : float, optional
        Switch-on threshold in (0, 1]. Default 0.9.
    theta_off : float, optional
        Switch-off threshold in (0, theta_on]. Default 0.5. ``theta_off ==
        theta_on`` is a plain threshold without hysteresis.
    use_abs : bool, optional
        Analyse ``|m|`` instead of ``m``. Default False.

    Returns
    -------
    list of list of Spike
        ``result[r]`` lists the spikes of replica ``r`` in time order.

    Notes
    -----
    The trace is taken to start in the off state: a first record between the
    thresholds is off, a first record ``>= theta_on`` starts a spike flagged
    ``started_before``. A spike still on at the last record ends at ``t[-1]``
    and is flagged ``complete=False``; its duration is then a lower bound.
    See :func:`spike_table` for a flat array form.
    """
    tab = spike_table(t, m, theta_on, theta_off, use_abs)
    R = np.asarray(m).shape[0] if np.ndim(m) == 2 else 1
    result: list[list[Spike]] = [[] for _ in range(R)]
    for row in tab.tolist():
        r, start, end, dur, peak, comp, before = row
        result[r].append(Spike(int(start), int(end), int(dur), float(peak),
                               bool(comp), bool(before)))
    return result


def spike_count(t, m, theta_on: float = 0.9, theta_off: float = 0.5,
                use_abs: bool = False) -> np.ndarray:
    """Number of discrete spikes per replica (hysteresis detection).

    Parameters
    ----------
    t, m, theta_on, theta_off, use_abs
        As in :func:`detect_spikes`.

    Returns
    -------
    ndarray of int64, shape (R,)
        Spikes per replica, counting incomplete and ``started_before`` ones.
    """
    tab = spike_table(t, m, theta_on, theta_off, use_abs)
    R = np.asarray(m).shape[0] if np.ndim(m) == 2 else 1
    return np.bincount(tab["replica"], minlength=R).astype(np.int64)


def integrated_magnetisation(t, m, baseline: float = 0.0,
                             use_abs: bool = False) -> np.ndarray:
    """Area under ``m(t) - baseline`` per replica, in sweeps.

    Each record is weighted by the ``record_every`` sweeps it stands for
    (rectangle rule), consistently with :func:`dwell_time`. When the trace
    starts and ends at the baseline this equals the trapezoid rule.

    Parameters
    ----------
    t : array_like of int, shape (n_records,)
        Sweeps completed at each record (evenly spaced by ``record_every``).
    m : array_like, shape (R, n_records) or (n_records,)
        Magnetisation per spin.
    baseline : float, optional
        Subtracted from ``m`` (or ``|m|``) before integrating, e.g. the resting
        level. Default 0.
    use_abs : bool, optional
        Integrate ``|m|`` instead of ``m``. Default False.

    Returns
    -------
    ndarray of float64, shape (R,)
        ``record_every * sum_k (m[:, k] - baseline)``, in sweeps.
    """
    try:
        b = float(baseline)
    except (TypeError, ValueError):
        raise ValueError(f"baseline must be a finite number; got {baseline!r}") from None
    if not np.isfinite(b):
        raise ValueError(f"baseline must be a finite number; got {baseline!r}")
    ta, s, re = _check_tm(t, m, use_abs)
    return re * (s.sum(axis=1) - b * ta.size)


# ------------------------------------------------------------------ populations
def transfer_curve(x, y) -> TransferCurve:
    """Group per-replica responses by input value: the mean transfer curve.

    Parameters
    ----------
    x : array_like, shape (R,)
        Input of each replica (e.g. quench depth Q); grouped by exact equality.
    y : array_like, shape (R,)
        Response of each replica (e.g. dwell time in sweeps).

    Returns
    -------
    TransferCurve
        Sorted unique ``x`` with mean, standard error of the mean, sample
        standard deviation and count of ``y`` at each.
    """
    xa = np.asarray(x)
    ya = np.asarray(y, dtype=np.float64)
    if xa.ndim != 1 or ya.ndim != 1 or xa.shape != ya.shape:
        raise ValueError(f"x and y must be 1-D of equal length; got shapes "
                         f"{xa.shape} and {ya.shape}")
    if xa.size == 0:
        raise ValueError("x and y must not be empty")
    if xa.dtype.kind == "f" and not np.all(np.isfinite(xa)):
        raise ValueError("x must be finite (nan cannot be grouped)")
    if not np.all(np.isfinite(ya)):
        raise ValueError("y must be finite")
    ux, inv = np.unique(xa, return_inverse=True)
    inv = inv.ravel()
    count = np.bincount(inv).astype(np.int64)
    mean = np.bincount(inv, weights=ya) / count
    ss = np.bincount(inv, weights=(ya - mean[inv]) ** 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        std = np.where(count > 1, np.sqrt(ss / np.maximum(count - 1, 1)), np.nan)
        sem = std / np.sqrt(count)
    return TransferCurve(ux, mean, sem, std, count)


def fraction_firing(y, threshold: float) -> float:
    """Fraction of replicas whose response reaches ``threshold``.

    Parameters
    ----------
    y : array_like, shape (R,)
        Per-replica response (e.g. spike count or dwell time in sweeps).
    threshold : float
        A replica fires when ``y >= threshold``.

    Returns
    -------
    float
        ``mean(y >= threshold)`` in [0, 1]. For the fraction per input value,
        use ``transfer_curve(x, y >= threshold)`` (its ``sem`` is then the
        binomial error ``sqrt(p (1 - p) / (count - 1))``).
    """
    ya = np.asarray(y, dtype=np.float64)
    if ya.ndim != 1 or ya.size == 0:
        raise ValueError(f"y must be a non-empty 1-D array; got shape {ya.shape}")
    try:
        th = float(threshold)
    except (TypeError, ValueError):
        raise ValueError(f"threshold must be a number; got {threshold!r}") from None
    if np.isnan(th):
        raise ValueError("threshold must be a number; got nan")
    return float(np.mean(ya >= th))


def summarize(traces, theta_on: float = 0.9, theta_off: float = 0.5,
              use_abs: bool = False, baseline: float = 0.0) -> dict[str, np.ndarray]:
    """Per-replica spike measures of a :class:`isingneuron.Traces`.

    Parameters
    ----------
    traces : Traces
        Any object with arrays ``t`` (n_records,) and ``m`` (R, n_records).
    theta_on, theta_off, use_abs
        As in :func:`detect_spikes`; the dwell time uses ``theta_on``.
    baseline : float, optional
        As in :func:`integrated_magnetisation`.

    Returns
    -------
    dict of str to ndarray, each shape (R,)
        ``dwell_time`` (sweeps, float), ``spike_count`` (int),
        ``integrated_magnetisation`` (sweeps, float).
    """
    t, m = traces.t, traces.m
    return {
        "dwell_time": dwell_time(t, m, theta_on, use_abs),
        "spike_count": spike_count(t, m, theta_on, theta_off, use_abs),
        "integrated_magnetisation": integrated_magnetisation(t, m, baseline, use_abs),
    }


# --------------------------------------------------------------------- lattices
#: Outcomes of ordering told apart by :func:`classify_lattices` (its return values
#: index this tuple).
LATTICE_OUTCOMES = ("m = +1", "m = -1", "stripes", "other (domains)")


def classify_lattices(spins, threshold=0.6):
    """Outcome of ordering per lattice: +1, -1, stripes or other.

    A lattice is "stripes" when its rows (or columns) are each nearly uniform
    (mean |row mean| >= threshold) and both signs occur among them (a row mean
    <= -threshold and another >= +threshold): straight domain walls across the
    periodic lattice. Otherwise it is "+1" (m >= threshold), "-1" (m <= -threshold)
    or "other" (several domains, or still disordered).

    Parameters
    ----------
    spins : array_like of int8, shape (R, L, L)
        One lattice per replica (e.g. ``Simulation.spins``), entries +1 / -1.
    threshold : float
        In (0, 1); the equilibrium m at the classification temperature should be
        well above it (0.91 at T = 2.0 J).

    Returns
    -------
    ndarray of int64, shape (R,)
        Index into :data:`LATTICE_OUTCOMES`: 0 (m = +1), 1 (m = -1), 2 (stripes),
        3 (other).

    Examples
    --------
    >>> up = np.ones((1, 4, 4), np.int8)
    >>> classify_lattices(np.concatenate([up, -up])).tolist()
    [0, 1]
    """
    s = np.asarray(spins, dtype=np.float64)
    m = s.mean(axis=(1, 2))
    out = np.full(s.shape[0], 3, dtype=np.int64)
    out[m >= threshold] = 0
    out[m <= -threshold] = 1
    for axis in (1, 2):                 # axis 2: row means; axis 1: column means
        r = s.mean(axis=axis)
        stripe = ((np.abs(r).mean(axis=1) >= threshold) & (r.min(axis=1) <= -threshold)
                  & (r.max(axis=1) >= threshold))
        out[stripe] = 2
    return out
