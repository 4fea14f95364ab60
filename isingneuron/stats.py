"""Error bars for correlated Monte Carlo time series.

Successive records of a Markov chain are correlated, so the naive error of the
mean ``std(x) / sqrt(N)`` is too small by a factor ``sqrt(2 tau_int)``. This
module gives three standard, independent ways to get it right:

* :func:`binning_analysis` / :func:`mean_error`: blocking (Flyvbjerg & Petersen,
  J. Chem. Phys. 91, 461 (1989)) with the automatic plateau test of Jonsson,
  Phys. Rev. E 98, 043304 (2018), floored by the Sokal-window estimate below so
  that a plateau taken before it has converged cannot give a too small error.
* :func:`integrated_autocorrelation_time`: FFT autocorrelation summed up to
  Sokal's self-consistent window (Madras & Sokal, J. Stat. Phys. 50, 109 (1988)).
* :func:`jackknife`: blocked jackknife for non-linear functions of several means
  (specific heat from ``<E>, <E^2>``, Binder cumulant from ``<m^2>, <m^4>``).

Conventions
-----------
Time is counted in records (one entry of the series). For a series recorded every
``record_every`` sweeps, multiply ``tau_int`` by ``record_every`` to get sweeps.
The integrated autocorrelation time is

    tau_int = 1/2 + sum_{t >= 1} rho(t),

so that, for ``N >> tau_int``, ``Var(mean) = 2 tau_int Var(x) / N``. Uncorrelated
data have ``tau_int = 1/2``.

All functions take 1-D float series; they never modify their input.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Callable, NamedTuple

import numpy as np

from ._lazy import lazy_import

_fft = lazy_import("scipy.fft")
_special = lazy_import("scipy.special")

__all__ = [
    "ShortSeriesWarning",
    "BinningResult",
    "binning_analysis",
    "mean_error",
    "autocorrelation_function",
    "integrated_autocorrelation_time",
    "JackknifeResult",
    "jackknife",
    "SHORT_SERIES_FACTOR",
    "PLATEAU_BLOCK_FACTOR",
]

#: A series shorter than ``SHORT_SERIES_FACTOR * tau_int`` records triggers a
#: :class:`ShortSeriesWarning` (Sokal's rule of thumb: N > ~50 tau for the window
#: method to be trustworthy).
SHORT_SERIES_FACTOR = 50.0


class ShortSeriesWarning(UserWarning):
    """The series is too short for its autocorrelation time.

    Raised (as a warning) when ``N < 50 tau_int``, when blocking finds no
    plateau, or when the blocking plateau has not converged (its blocks are
    not long compared with ``tau_int``): the error bar returned is then
    unreliable. :func:`binning_analysis` floors it with the Sokal-window
    estimate, which removes the systematic underestimate, but its statistical
    uncertainty stays large (tens of per cent for ``N ~ 20 tau_int``).
    """


def _as_series(x, name="x", min_len=2) -> np.ndarray:
    """Validate a 1-D finite real series and return it as float64."""
    a = np.asarray(x)
    if a.ndim != 1:
        raise ValueError(f"{name} must be a 1-D series; got an array of shape {a.shape}")
    if a.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be real numbers; got dtype {a.dtype}")
    a = a.astype(np.float64, copy=False)
    if a.size < min_len:
        raise ValueError(f"{name} must have at least {min_len} values; got {a.size}")
    if not np.all(np.isfinite(a)):
        bad = int(np.flatnonzero(~np.isfinite(a))[0])
        raise ValueError(f"{name} must be finite; {name}[{bad}] = {a[bad]}")
    return a


def _warn_if_short(n: int, tau: float, stacklevel: int = 3) -> None:
    if np.isfinite(tau) and n < SHORT_SERIES_FACTOR * tau:
        warnings.warn(
            f"series of N = {n} records is shorter than {SHORT_SERIES_FACTOR:g} tau_int "
            f"= {SHORT_SERIES_FACTOR * tau:.4g} records (tau_int = {tau:.4g}); "
            "the error bar is unreliable (probably too small): run longer",
            ShortSeriesWarning, stacklevel=stacklevel)


# --------------------------------------------------------------------------- binning
#: A blocking plateau whose blocks hold fewer than ``PLATEAU_BLOCK_FACTOR *
#: (tau_int - 1/2)`` records has not converged (see :func:`binning_analysis`).
PLATEAU_BLOCK_FACTOR = 2.0


@dataclass(frozen=True)
class BinningResult:
    """Outcome of :func:`binning_analysis`.

    Attributes
    ----------
    mean : float
        Mean of the whole series.
    naive_error : float
        ``std(x, ddof=1) / sqrt(N)``: the error of the mean if records were
        independent (level 0).
    block_sizes : ndarray of int64, shape (n_levels,)
        Records per block at each level, ``2**level``.
    n_blocks : ndarray of int64, shape (n_levels,)
        Number of blocks at each level (an odd block count drops the last block
        before the next level).
    errors : ndarray of float64, shape (n_levels,)
        Error of the mean estimated from the block means of each level,
        ``std(blocks, ddof=1) / sqrt(n_blocks)``.
    errors_uncertainty : ndarray of float64, shape (n_levels,)
        Statistical uncertainty of ``errors``, ``errors / sqrt(2 (n_blocks - 1))``.
    lag1 : ndarray of float64, shape (n_levels,)
        Lag-1 autocorrelation ``r_k`` of the block means at each level.
    plateau_level : int
        Level chosen by Jonsson's test: the first level from which the block
        means of all coarser levels are consistent (chi-squared test at ``confidence``) with
        being uncorrelated.
    error : float
        The error of the mean: ``max(blocking_error, window_error)`` (just
        ``blocking_error`` when the floor is off); see Notes of
        :func:`binning_analysis`.
    tau_int : float
        ``0.5 * (error / naive_error)**2`` in records (nan for a constant series).
    converged : bool
        False when no level passed the test, the plateau has fewer than
        ``min_blocks`` blocks, or (with the floor on) the plateau blocks hold
        fewer than ``PLATEAU_BLOCK_FACTOR * (tau_int - 1/2)`` records: the
        blocking curve has then not converged and ``blocking_error`` is biased
        low. ``error`` is then floored but statistically unreliable.
    blocking_error : float
        Plain blocking estimate at the plateau,
        ``errors[plateau_level] * sqrt(1 + 2 max(lag1[plateau_level], 0))``.
    window_tau_int : float
        Sokal-window ``tau_int`` in records, as from
        :func:`integrated_autocorrelation_time` with the same ``c`` (nan with the
        floor off or for a constant series).
    window_error : float
        Error of the mean implied by ``window_tau_int`` with Wolff's correction
        for the subtracted sample mean (see Notes of :func:`binning_analysis`);
        nan with the floor off or for a constant series.
    window : int
        Sokal window ``W`` in records (0 with the floor off or for a constant
        series).
    """

    mean: float
    naive_error: float
    block_sizes: np.ndarray
    n_blocks: np.ndarray
    errors: np.ndarray
    errors_uncertainty: np.ndarray
    lag1: np.ndarray
    plateau_level: int
    error: float
    tau_int: float
    converged: bool
    blocking_error: float = math.nan
    window_tau_int: float = math.nan
    window_error: float = math.nan
    window: int = 0


def binning_analysis(x, confidence: float = 0.99, min_blocks: int = 16,
                     c: float | None = 5.0) -> BinningResult:
    """Blocking analysis of the error of the mean of a correlated series.

    At level ``k`` the series is cut into blocks of ``2**k`` consecutive records
    and the error of the mean is estimated from the block means as if they were
    independent. The estimate grows with ``k`` and levels off once blocks are
    much longer than the autocorrelation time (Flyvbjerg & Petersen 1989). The
    plateau is chosen automatically with Jonsson's (2018) test: with
    ``r_k`` the lag-1 autocorrelation of the block means at level ``k`` and
    ``n_k`` their number, ``M_j = sum_{k >= j} n_k r_k**2`` is chi-squared with
    one degree of freedom per level when the block means are uncorrelated; the
    plateau is the first level ``j`` with ``M_j`` below its ``confidence``
    quantile. The reported error is never below the Sokal-window estimate
    (rule in Notes).

    Parameters
    ----------
    x : array_like, shape (N,)
        The series (one record per entry), ``N >= 4``.
    confidence : float, optional
        Quantile of the chi-squared test, in (0, 1). Default 0.99.
    min_blocks : int, optional
        A plateau with fewer blocks than this (>= 2) is not trusted: the test
        has no power there. Default 16 (error of the error ~ 18 %).
    c : float or None, optional
        Sokal window factor (> 0) of the floor, as in
        :func:`integrated_autocorrelation_time`. Default 5. None switches the
        floor and the block-length check off (plain blocking).

    Returns
    -------
    BinningResult
        Per-level errors, the plateau and window estimates, the error of the
        mean and ``tau_int`` (in records).

    Warns
    -----
    ShortSeriesWarning
        When not ``converged`` (the message says why, and which estimate the
        error comes from), or when ``N < 50 tau_int``. At most one warning per
        call.

    Notes
    -----
    *Lag-1 correction.* The raw error at the plateau level is biased low by the
    residual correlation of neighbouring block means, which is of relative order
    ``tau_int / b`` for blocks of ``b`` records and only just below what the
    test can detect (for an AR(1) series with ``tau_int = 4.5`` and ``N = 2**14``
    the raw value is ~7 % low). For ``b >> tau`` only the lag-1 correlation of
    block means survives (longer lags decay like ``exp(-b / tau)``), so
    ``Var(mean) = errors_k**2 (1 + 2 r_k)`` to leading order; ``blocking_error``
    applies this correction, with negative ``r_k`` (noise) clipped to 0 so the
    result is never below the raw plateau value.

    *Why a floor.* For a series of ``N`` records the expected blocked error at
    block size ``b`` is ``E[errors_b**2] = Var(mean) - kappa C_F / (N b)``, up
    to terms that decay like ``exp(-b / tau)`` (``C_F = 2 tau_int Var(x)``,
    ``kappa = sum_t |t| Gamma(t) / C_F``, ``~ tau_int`` for exponential decay;
    the subtracted mean is included), so it converges only for
    ``b >> tau_int``. Jonsson's test has little power when there are few
    blocks, and a plateau with ``>= min_blocks`` blocks needs
    ``N >= min_blocks * b``: for ``N ~ 20 tau_int`` it is taken at
    ``b ~ tau_int`` and ``blocking_error**2`` is ~27 % low on average
    (AR(1) with ``tau_int = 99.5``, ``N = 2048``; ~15 % low at
    ``N = 40 tau_int``, ~5 % at ``100 tau_int``). The lag-1 correction does not
    repair this: ``r_k`` estimated from few blocks is itself biased low by the
    subtracted mean.

    *Rule.* ``error = max(blocking_error, window_error)`` with

        window_error**2 = 2 tau_W Var(x) / N * (1 + (2 W + 1) / N),

    where ``tau_W`` and ``W`` are the Sokal-window ``tau_int`` and window of
    :func:`integrated_autocorrelation_time` (``Var(x)`` with ``ddof = 0``), and
    the last factor is Wolff's leading-order correction for the bias of the
    autocovariances from subtracting the sample mean, ``-C_F / N`` per lag
    (U. Wolff, Comput. Phys. Commun. 156, 143 (2004), hep-lat/0306017). The
    window estimate does not depend on a plateau, and with the correction its
    systematic error stays small down to ``N ~ 15 tau_int``. Measured over
    1000 AR(1) series with ``tau_int = 99.5``, ``<error**2> / Var(mean)`` is
    0.93, 1.02, 1.06, 1.11, 1.09, 1.06, 1.02 at ``N / tau_int`` = 15, 20, 30,
    40, 60, 100, 300 (plain blocking: 0.63, 0.73, 0.80, 0.85, 0.91, 0.95,
    0.98); i.e. the error itself is within -4 % .. +5 %, erring on the large
    side between ~30 and ~100 ``tau_int`` (the self-consistent window is
    selected where the noisy ``tau(W)`` is high). Below ``N ~ 15 tau_int`` no
    estimate from one series is reliable (0.76 at ``N = 10 tau_int``). For long
    series (``N >~ 300 tau_int``) both estimates agree and the maximum of the
    two noisy estimates is ~2-3 % (in ``error**2``; ~1-1.5 % in the error)
    above the exact value. Even with ``<error**2>`` right, the error of a short
    series is noisy (relative sd ~0.4 at ``N = 20 tau_int``), so single
    ``mean +- error`` intervals cover less than 68 % (like a Student t with few
    degrees of freedom) and the average error is below the rms error.

    *Convergence.* With the floor on, a plateau whose blocks hold fewer than
    ``PLATEAU_BLOCK_FACTOR * (tau_int - 1/2)`` records (``tau_int`` the
    reported value; ``PLATEAU_BLOCK_FACTOR = 2``) is flagged as not converged:
    the neglected lag->=2 correlations of the block means are then no longer
    small (``~ exp(-b / tau)``), and for exponential decay such short blocks
    leave ``blocking_error**2`` low by ~10 % or more. The ``- 1/2`` keeps
    uncorrelated data (``tau_int = 1/2``, plateau at ``b = 1``) converged. The
    shortfall is systematic but cannot be detected series by series from the
    two estimates (for ``N ~ 20 tau_int`` each has a relative spread of ~60-90 %
    in ``error**2``), which is why the floor is applied always and the
    convergence test looks at the block length instead.

    A constant series gives ``error = 0`` and ``tau_int = nan``.
    """
    a = _as_series(x, min_len=4)
    if not (0.0 < confidence < 1.0):
        raise ValueError(f"confidence must be in (0, 1); got {confidence!r}")
    if isinstance(min_blocks, bool) or not isinstance(min_blocks, (int, np.integer)) \
            or min_blocks < 2:
        raise ValueError(f"min_blocks must be an integer >= 2; got {min_blocks!r}")
    if c is not None and not (np.isfinite(c) and c > 0):
        raise ValueError(f"c must be None or a finite number > 0; got {c!r}")
    n = a.size
    mean = float(a.mean())
    sizes, counts, errs, r1 = [], [], [], []
    blocks = a
    size = 1
    while blocks.size >= 2:
        nb = blocks.size
        dev = blocks - blocks.mean()
        ss = float(dev @ dev)
        sizes.append(size)
        counts.append(nb)
        errs.append(math.sqrt(ss / (nb - 1) / nb))
        # lag-1 autocorrelation of the block means (0 for constant blocks)
        r1.append(float(dev[:-1] @ dev[1:]) / ss if ss > 0 else 0.0)
        if nb % 2:
            blocks = blocks[:-1]
        blocks = 0.5 * (blocks[0::2] + blocks[1::2])
        size *= 2
    sizes = np.asarray(sizes, dtype=np.int64)
    counts = np.asarray(counts, dtype=np.int64)
    errs = np.asarray(errs)
    r1 = np.asarray(r1)
    unc = errs / np.sqrt(2.0 * (counts - 1))

    naive = float(errs[0])
    if a.min() == a.max():   # constant series (naive may be rounding noise)
        return BinningResult(mean, 0.0, sizes, counts, errs, unc, r1, 0, 0.0, math.nan, True,
                             0.0)

    # Jonsson's statistic: M_j = sum_{k >= j} n_k r_k^2, chi2 with (levels - j) dof
    terms = counts * r1 ** 2
    M = np.cumsum(terms[::-1])[::-1]
    dof = np.arange(len(terms), 0, -1)
    passed = np.flatnonzero(M < _special.chdtri(dof, 1.0 - confidence))
    level = int(passed[0]) if passed.size else len(terms) - 1
    blk_err = float(errs[level]) * math.sqrt(1.0 + 2.0 * max(float(r1[level]), 0.0))

    w_tau, w_err, window = math.nan, math.nan, 0
    err = blk_err
    if c is not None:
        s = _sokal_window(a, c)
        w_tau, window = s.tau_int, s.window
        # Wolff's bias correction: each autocovariance is low by ~C_F / N
        cf = 2.0 * w_tau * float(np.mean((a - mean) ** 2)) * (1.0 + (2 * window + 1) / n)
        w_err = math.sqrt(cf / n) if cf > 0 else 0.0
        err = max(blk_err, w_err)
    tau = 0.5 * (err / naive) ** 2

    reasons = []
    if not passed.size or counts[level] < min_blocks:
        reasons.append(
            f"binning found no plateau with >= {min_blocks} blocks (N = {n} records, "
            f"best level {level} has {counts[level]} blocks): the series is too short for "
            "its correlation time")
    elif c is not None and sizes[level] < PLATEAU_BLOCK_FACTOR * (tau - 0.5):
        reasons.append(
            f"the blocking plateau has not converged: level {level} has blocks of "
            f"{sizes[level]} records, fewer than {PLATEAU_BLOCK_FACTOR:g} (tau_int - 1/2) = "
            f"{PLATEAU_BLOCK_FACTOR * (tau - 0.5):.4g} records (tau_int = {tau:.4g})")
    converged = not reasons
    if np.isfinite(tau) and n < SHORT_SERIES_FACTOR * tau:
        reasons.append(
            f"series of N = {n} records is shorter than {SHORT_SERIES_FACTOR:g} tau_int "
            f"= {SHORT_SERIES_FACTOR * tau:.4g} records (tau_int = {tau:.4g})")
    if reasons:
        if c is None:
            source = "plain blocking"
        elif w_err > blk_err:
            source = (f"error = {err:.4g} from the Sokal-window floor (the blocking plateau "
                      f"gave {blk_err:.4g}, {100 * (1 - blk_err / err):.3g} % less)")
        else:
            source = (f"error = {err:.4g} from the blocking plateau (Sokal-window floor "
                      f"{w_err:.4g})")
        warnings.warn("; ".join(reasons) + f"; {source}: the error bar is unreliable "
                      "(noisy, possibly still too small): run longer",
                      ShortSeriesWarning, stacklevel=2)
    return BinningResult(mean, naive, sizes, counts, errs, unc, r1, level, err, tau, converged,
                         blk_err, w_tau, w_err, window)


def mean_error(x) -> tuple[float, float, float]:
    """Mean of a correlated series with its error bar from blocking.

    Parameters
    ----------
    x : array_like, shape (N,)
        The series, ``N >= 4``.

    Returns
    -------
    mean : float
        Sample mean.
    error : float
        Standard error of the mean: the lag-1 corrected blocking plateau value,
        but never below the Sokal-window estimate ``sqrt(2 tau_W Var(x) / N)``
        (with Wolff's mean-subtraction correction ``1 + (2 W + 1) / N``), which
        catches a plateau taken before the blocking curve has converged (see
        Notes of :func:`binning_analysis`).
    tau_int : float
        Integrated autocorrelation time implied by the error,
        ``0.5 * (error / naive_error)**2``, in records (multiply by
        ``record_every`` for sweeps); nan for a constant series.

    Warns
    -----
    ShortSeriesWarning
        When the series is too short for its autocorrelation time
        (``N < 50 tau_int``), when blocking finds no plateau, or when the
        plateau has not converged; the message says which estimate the error
        comes from.
    """
    res = binning_analysis(x)
    return res.mean, res.error, res.tau_int


# --------------------------------------------------------------- autocorrelation time
def autocorrelation_function(x) -> np.ndarray:
    """Normalised autocorrelation function ``rho(t)`` of a series, by FFT.

    Uses the standard (biased, positive-definite) estimator
    ``C(t) = (1/N) sum_{i < N-t} (x_i - xbar)(x_{i+t} - xbar)`` and
    ``rho(t) = C(t) / C(0)``.

    Parameters
    ----------
    x : array_like, shape (N,)
        The series, ``N >= 2``.

    Returns
    -------
    ndarray of float64, shape (N,)
        ``rho(t)`` for lags ``t = 0 .. N-1`` (in records); all nan for a
        constant series.
    """
    a = _as_series(x)
    n = a.size
    if a.min() == a.max():
        return np.full(n, np.nan)
    dev = a - a.mean()
    nfft = _fft.next_fast_len(2 * n)   # zero padding: no wrap-around
    f = _fft.rfft(dev, nfft)
    acov = _fft.irfft(f * np.conj(f), nfft)[:n] / n
    return acov / acov[0]


class _TauFull(NamedTuple):
    tau_int: float
    error: float
    window: int
    rho: np.ndarray


def _sokal_window(a: np.ndarray, c: float) -> _TauFull:
    """Sokal-window tau_int of a validated series (no warning; see
    :func:`integrated_autocorrelation_time`)."""
    n = a.size
    rho = autocorrelation_function(a)
    if np.isnan(rho[0]):   # constant series: autocorrelation undefined
        return _TauFull(math.nan, math.nan, 0, rho)
    taus = 0.5 + np.cumsum(rho[1:])              # taus[W-1] = tau(W), W = 1..N-1
    W = np.arange(1, n)
    ok = np.flatnonzero(W >= c * taus)
    # sum_{t=1}^{N-1} rho(t) = -1/2 exactly for this estimator, so tau(N-1) = 0
    # and a window always exists when N >= 2.
    w = int(W[ok[0]]) if ok.size else n - 1
    tau = float(taus[w - 1]) if w >= 1 else 0.5
    err = abs(tau) * math.sqrt(2.0 * (2 * w + 1) / n)
    return _TauFull(tau, err, w, rho)


def integrated_autocorrelation_time(x, c: float = 5.0, *, full_output: bool = False):
    """Integrated autocorrelation time with Sokal's automatic window.

    ``tau(W) = 1/2 + sum_{t=1}^{W} rho(t)`` is evaluated for increasing ``W``
    and the window is the smallest ``W`` with ``W >= c tau(W)`` (Madras & Sokal
    1988). The error follows their asymptotic formula
    ``sigma_tau = tau * sqrt(2 (2W + 1) / N)``.

    Parameters
    ----------
    x : array_like, shape (N,)
        The series, ``N >= 2``.
    c : float, optional
        Window factor, > 0. Default 5 (good for roughly exponential decay;
        larger ``c`` reduces the truncation bias and increases the noise).
    full_output : bool, optional
        If True, return ``(tau_int, error, window, rho)`` as a named tuple.

    Returns
    -------
    tau_int : float
        Integrated autocorrelation time in records (``1/2`` for uncorrelated
        data; multiply by ``record_every`` for sweeps). nan for a constant
        series.
    error : float
        Its statistical error (same units).
    window : int
        Only with ``full_output``: the window ``W`` in records.
    rho : ndarray
        Only with ``full_output``: the normalised autocorrelation function.

    Warns
    -----
    ShortSeriesWarning
        When ``N < 50 tau_int``.
    """
    a = _as_series(x)
    if not (np.isfinite(c) and c > 0):
        raise ValueError(f"c must be a finite number > 0; got {c!r}")
    out = _sokal_window(a, c)
    _warn_if_short(a.size, out.tau_int)
    return out if full_output else (out.tau_int, out.error)


# ------------------------------------------------------------------------- jackknife
class JackknifeResult(NamedTuple):
    """Outcome of :func:`jackknife`.

    Attributes
    ----------
    value : float or ndarray
        ``func`` of the full-sample means (the plain estimate).
    error : float or ndarray
        Jackknife standard error.
    bias_corrected : float or ndarray
        ``n value - (n - 1) mean_i(theta_i)``: the estimate with its ``O(1/N)``
        bias removed.
    bias : float or ndarray
        Estimated bias of ``value``, ``(n - 1) (mean_i(theta_i) - value)``.
    """

    value: float | np.ndarray
    error: float | np.ndarray
    bias_corrected: float | np.ndarray
    bias: float | np.ndarray


def jackknife(func: Callable, *series, n_blocks: int = 32,
              vectorized: bool = False) -> JackknifeResult:
    """Blocked jackknife estimate and error of a function of several means.

    The series (all of length ``N``, records at the same times) are cut into
    ``n_blocks`` contiguous blocks of ``b = N // n_blocks`` records; the first
    ``N mod n_blocks`` records are dropped (the earliest, least equilibrated
    ones). With ``theta_i = func(means without block i)`` and
    ``theta = func(means)``::

        error^2        = (n - 1)/n sum_i (theta_i - mean(theta_i))^2
        bias_corrected = n theta - (n - 1) mean(theta_i)

    Blocks must be much longer than the autocorrelation time (``b >> tau_int``)
    for the error to be right.

    Parameters
    ----------
    func : callable
        ``func(mean_1, mean_2, ...)`` -> float (or array of fixed shape). Example:
        specific heat per spin ``lambda e, e2: L**2 * (e2 - e**2) / T**2``.
    *series : array_like, each shape (N,)
        One series per argument of ``func``, e.g. ``E, E**2``.
    n_blocks : int, optional
        Number of jackknife blocks, ``2 <= n_blocks <= N``. Default 32.
    vectorized : bool, optional
        If True, ``func`` is called once with arrays of shape ``(n_blocks,)``
        and must act element-wise (true of arithmetic expressions and numpy
        ufuncs) and return shape ``(n_blocks,)``. If False (default), it is
        called once per block with floats.

    Returns
    -------
    JackknifeResult
        ``(value, error, bias_corrected, bias)``.
    """
    if not callable(func):
        raise ValueError(f"func must be callable; got {func!r}")
    if not series:
        raise ValueError("jackknife needs at least one series after func")
    arrs = [_as_series(s, name=f"series[{i}]") for i, s in enumerate(series)]
    n_tot = arrs[0].size
    for i, s in enumerate(arrs[1:], 1):
        if s.size != n_tot:
            raise ValueError(f"all series must have the same length; series[0] has {n_tot}, "
                             f"series[{i}] has {s.size}")
    if isinstance(n_blocks, bool) or not isinstance(n_blocks, (int, np.integer)) \
            or not (2 <= n_blocks <= n_tot):
        raise ValueError(f"n_blocks must be an integer in [2, N = {n_tot}]; got {n_blocks!r}")
    n = int(n_blocks)
    b = n_tot // n
    drop = n_tot - n * b
    data = np.stack([s[drop:] for s in arrs])             # (k, n*b)
    block_sums = data.reshape(len(arrs), n, b).sum(axis=2)  # (k, n)
    total = block_sums.sum(axis=1, keepdims=True)
    full_means = total[:, 0] / (n * b)
    jk_means = (total - block_sums) / ((n - 1) * b)        # (k, n): leave block i out

    value = np.asarray(func(*full_means), dtype=np.float64)
    if vectorized:
        thetas = np.asarray(func(*jk_means), dtype=np.float64)
        if thetas.shape != (n,):
            raise ValueError(f"vectorized func must return shape ({n},) for arrays of shape "
                             f"({n},); got {thetas.shape}: pass vectorized=False")
    else:
        thetas = np.stack([np.asarray(func(*jk_means[:, i]), dtype=np.float64)
                           for i in range(n)])
        if thetas.shape[1:] != value.shape:
            raise ValueError(f"func returned shapes {thetas.shape[1:]} and {value.shape}: "
                             "it must return a fixed shape")
    tbar = thetas.mean(axis=0)
    err = np.sqrt((n - 1) / n * np.sum((thetas - tbar) ** 2, axis=0))
    bias = (n - 1) * (tbar - value)
    corr = value - bias

    def _out(v):
        return float(v) if np.ndim(v) == 0 else v
    return JackknifeResult(_out(value), _out(err), _out(corr), _out(bias))
