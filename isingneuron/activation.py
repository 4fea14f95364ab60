"""The paper's activation functions, spike-count transfer curves and their fits.

Units: temperatures in J (or in units of Tc where stated), quench depth ``Q`` in the
same temperature units, time in sweeps, spike count ``S`` in sweeps (time spent
firing) or in whatever unit the data being fitted carries.

Spike count with the paper's assumptions (reheating rate ``r = 1``, the activation
integrated over the quench from 0 to Q):

* tanh activation: ``S(Q) = 1/2 int_0^Q (tanh x + 1) dx
  = Q + 1/2 ln(1 + e^{-2Q}) - 1/2 ln 2 = 1/2 ln(1 + e^{2Q}) - 1/2 ln 2``;
* logistic activation: ``S(Q) = int_0^Q dx / (1 + e^{-x})
  = Q + ln(1 + e^{-Q}) - ln 2 = ln(1 + e^Q) - ln 2``.

Both are softplus curves shifted down so that ``S(0) = 0``; for large Q they are
ReLU-like with slope 1.

Populations (the paper's section III.A, after Wilson and Cowan): with Gaussian
inputs of spread ``w`` and a sharp per-neurone threshold ``Q*``, the fraction
firing is the error function :func:`erf_response`; :func:`probit_fit` finds a
per-neurone threshold and intrinsic width from neurones that fired or not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from . import exact
from ._lazy import lazy_import
from .meanfield import TC_MEANFIELD, magnetisation as _mf_magnetisation

integrate = lazy_import("scipy.integrate")
optimize = lazy_import("scipy.optimize")
special = lazy_import("scipy.special")

__all__ = [
    "FitResult",
    "eq2",
    "fit_eq2",
    "spike_count_tanh",
    "spike_count_sigmoid",
    "relu",
    "softplus",
    "elu",
    "TRANSFER_MODELS",
    "fit_transfer",
    "quasi_static_dwell_time",
    "quasi_static_area",
    "fit_summary",
    "erf_response",
    "probit_fit",
]

_LN2 = np.log(2.0)


def _out(x):
    return float(x) if np.ndim(x) == 0 else x


def _finite(name: str, value) -> np.ndarray:
    arr = np.asarray(value, dtype=float)
    bad = ~np.isfinite(arr)
    if np.any(bad):
        raise ValueError(f"{name} = {float(arr[bad].flat[0])!r} is not allowed: "
                         f"it must be a finite number")
    return arr


def _positive(name: str, value) -> np.ndarray:
    arr = _finite(name, value)
    if np.any(arr <= 0):
        raise ValueError(f"{name} = {float(arr[arr <= 0].flat[0])!r} is not allowed: "
                         f"it must be > 0")
    return arr


# ----------------------------------------------------------------------------- curves

def eq2(T, a=6.0, Tc=1.0):
    """The paper's eq. (2): the firing branch of m(T) as a tanh step.

    ``m(T) = 1/2 - 1/2 tanh(a (T - Tc))``: 1 deep below ``Tc`` (firing), 0 above.

    Parameters
    ----------
    T : float or array_like
        Temperature (units of Tc in the paper, where ``Tc = 1``; any units otherwise).
    a : float, optional
        Steepness, in inverse temperature units (paper: 6).
    Tc : float, optional
        Threshold temperature (paper: 1).

    Returns
    -------
    float or ndarray
        Magnetisation in [0, 1].
    """
    T = _finite("T", T)
    return _out(0.5 - 0.5 * np.tanh(a * (T - Tc)))


def spike_count_tanh(Q):
    """Spike count from the tanh activation, ``1/2 int_0^Q (tanh x + 1) dx`` (r = 1).

    ``S(Q) = Q + 1/2 ln(1 + e^{-2Q}) - 1/2 ln 2``, the definite integral from 0, so
    ``S(0) = 0``. The paper prints ``Q + 1/2 ln 2 + 1/2 ln(1 + e^{-2Q}) + C``; the
    ``+1/2 ln 2`` there is a sign slip (the antiderivative is ``1/2 ln cosh Q + Q/2 =
    Q + 1/2 ln(1 + e^{-2Q}) - 1/2 ln 2``), absorbed by its free constant C. Evaluated
    as ``1/2 logaddexp(0, 2Q) - 1/2 ln 2``, stable for any |Q|.

    Parameters
    ----------
    Q : float or array_like
        Quench depth in temperature units (equal to time in sweeps when r = 1).

    Returns
    -------
    float or ndarray
        Spike count (time at m ~ 1, sweeps). Tends to ``Q`` minus ``ln 2 / 2`` for large Q
        and to ``-ln 2 / 2`` for ``Q -> -inf``.
    """
    Q = _finite("Q", Q)
    return _out(0.5 * np.logaddexp(0.0, 2.0 * Q) - 0.5 * _LN2)


def spike_count_sigmoid(Q):
    """Spike count from the logistic activation, ``int_0^Q dx / (1 + e^{-x})`` (r = 1).

    ``S(Q) = Q + ln(1 + e^{-Q}) - ln 2``, so ``S(0) = 0`` (the paper writes
    ``Q + ln(1 + e^{-Q}) + C``). Evaluated as ``logaddexp(0, Q) - ln 2``.

    Parameters
    ----------
    Q : float or array_like
        Quench depth in temperature units.

    Returns
    -------
    float or ndarray
        Spike count (sweeps when r = 1); ``Q - ln 2`` for large Q.
    """
    Q = _finite("Q", Q)
    return _out(np.logaddexp(0.0, Q) - _LN2)


def relu(Q, slope=1.0, threshold=0.0):
    """ReLU transfer curve ``S = slope * max(0, Q - threshold)``.

    Parameters
    ----------
    Q : float or array_like
        Quench depth (temperature units, J or T/Tc).
    slope : float, optional
        Spike count per unit of depth above threshold (sweeps per J when r is per sweep).
    threshold : float, optional
        Depth below which nothing fires (temperature units).

    Returns
    -------
    float or ndarray
        Spike count in the units of ``slope * Q``.
    """
    Q = _finite("Q", Q)
    return _out(slope * np.maximum(Q - threshold, 0.0))


def softplus(Q, slope=1.0, threshold=0.0, sharpness=1.0):
    """Softplus transfer curve ``S = slope * ln(1 + exp(sharpness (Q - threshold))) / sharpness``.

    Tends to :func:`relu` with the same ``slope`` and ``threshold`` as ``sharpness -> inf``.

    Parameters
    ----------
    Q : float or array_like
        Quench depth (temperature units).
    slope : float, optional
        Asymptotic slope (spike count per unit depth).
    threshold : float, optional
        Depth where the asymptote crosses 0 (temperature units).
    sharpness : float, optional
        Inverse width of the knee (1 / temperature units), > 0.

    Returns
    -------
    float or ndarray
        Spike count.
    """
    Q = _finite("Q", Q)
    return _out(slope * np.logaddexp(0.0, sharpness * (Q - threshold)) / sharpness)


def elu(Q, slope=1.0, threshold=0.0, alpha=1.0):
    """ELU transfer curve: ``slope * x`` for ``x > 0``, ``slope * alpha * (e^x - 1)`` else.

    With ``x = Q - threshold`` (temperature units); the curve saturates at
    ``-slope * alpha`` below threshold (the paper's "C = -alpha").

    Parameters
    ----------
    Q : float or array_like
        Quench depth (temperature units).
    slope : float, optional
        Slope above threshold.
    threshold : float, optional
        Depth of the kink.
    alpha : float, optional
        Depth of the negative saturation in units of ``slope``.

    Returns
    -------
    float or ndarray
        Spike count.
    """
    Q = _finite("Q", Q)
    x = Q - threshold
    return _out(slope * np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0))))


def _spike_tanh_model(Q, amplitude=1.0, width=1.0, shift=0.0):
    return amplitude * spike_count_tanh((np.asarray(Q, float) - shift) / width)


def _spike_sigmoid_model(Q, amplitude=1.0, width=1.0, shift=0.0):
    return amplitude * spike_count_sigmoid((np.asarray(Q, float) - shift) / width)


# ----------------------------------------------------------------------------- fits

@dataclass
class FitResult:
    """Result of a least-squares fit (:func:`fit_eq2`, :func:`fit_transfer`).

    Attributes
    ----------
    params : dict
        Best-fit parameter values by name.
    errors : dict
        One-standard-error uncertainties by name: from the covariance with the given
        ``sigma`` taken as absolute, or, without ``sigma``, scaled by the residual
        variance (``chi2 / dof``).
    chi2 : float
        Sum of squared residuals, weighted by ``1 / sigma**2`` when ``sigma`` is given.
    dof : int
        Degrees of freedom, number of points minus number of parameters.
    pvalue : float or None
        Probability of a chi2 at least this large (None when ``sigma`` was not given).
    model : str
        Model name.
    covariance : ndarray
        Parameter covariance matrix in the order of ``params``.
    """

    params: dict
    errors: dict
    chi2: float
    dof: int
    pvalue: float | None
    model: str
    covariance: np.ndarray = field(repr=False)
    _func: Callable = field(repr=False, compare=False)

    @property
    def reduced_chi2(self) -> float:
        """``chi2 / dof`` (nan when dof = 0)."""
        return self.chi2 / self.dof if self.dof > 0 else float("nan")

    def predict(self, x):
        """Evaluate the fitted model at ``x`` (same units as the fitted abscissa)."""
        return self._func(np.asarray(x, dtype=float), **self.params)

    __call__ = predict


def fit_summary(fr: FitResult | None) -> dict | None:
    """A :class:`FitResult` as a plain, JSON-able dict.

    Parameters
    ----------
    fr : FitResult or None

    Returns
    -------
    dict or None
        ``model``, ``params`` and ``errors`` (dicts by name), ``chi2``, ``dof``,
        ``reduced_chi2`` (None when ``dof = 0``) and ``pvalue`` (None when the fit
        had no ``sigma``); None for None.
    """
    if fr is None:
        return None
    return {"model": fr.model, "params": dict(fr.params), "errors": dict(fr.errors),
            "chi2": float(fr.chi2), "dof": int(fr.dof),
            "reduced_chi2": float(fr.reduced_chi2) if fr.dof > 0 else None,
            "pvalue": None if fr.pvalue is None else float(fr.pvalue)}


def _least_squares(func, names, x, y, sigma, p0, model, bounds=(-np.inf, np.inf)):
    x = _finite("x", x).ravel()
    y = _finite("y", y).ravel()
    if x.shape != y.shape:
        raise ValueError(f"the abscissa has {x.size} points and the data {y.size}: "
                         f"they must have the same length")
    if x.size <= len(names):
        raise ValueError(f"{x.size} points are not enough to fit {len(names)} parameters "
                         f"of model {model!r}")
    if sigma is not None:
        sigma = np.broadcast_to(_positive("sigma", sigma), y.shape).astype(float)

    def f(xx, *p):
        return func(xx, **dict(zip(names, p)))

    popt, pcov = optimize.curve_fit(f, x, y, p0=p0, sigma=sigma,
                                    absolute_sigma=sigma is not None, bounds=bounds,
                                    maxfev=20000)
    resid = y - f(x, *popt)
    if sigma is not None:
        resid = resid / sigma
    chi2 = float(np.sum(resid ** 2))
    dof = int(x.size - len(names))
    pvalue = float(special.chdtrc(dof, chi2)) if sigma is not None else None
    err = np.sqrt(np.diag(pcov))
    return FitResult(params={n: float(v) for n, v in zip(names, popt)},
                     errors={n: float(e) for n, e in zip(names, err)},
                     chi2=chi2, dof=dof, pvalue=pvalue, model=model,
                     covariance=pcov, _func=func)


def fit_eq2(T, m, sigma=None, p0=None) -> FitResult:
    """Fit the paper's eq. (2), ``m = 1/2 - 1/2 tanh(a (T - Tc))``, for ``a`` and ``Tc``.

    Parameters
    ----------
    T : array_like
        Temperatures (J or T/Tc).
    m : array_like
        Magnetisations (e.g. lattice equilibrium values, or mean-field m(T)).
    sigma : float or array_like, optional
        Standard errors of ``m``; taken as absolute (chi2 and p-value meaningful).
    p0 : sequence of 2 floats, optional
        Starting ``(a, Tc)``. Default: ``Tc`` where the data cross 1/2 and ``a`` from the
        10-90 % width of the step.

    Returns
    -------
    FitResult
        ``params`` and ``errors`` with keys ``"a"`` (1/temperature units) and ``"Tc"``.
    """
    T = _finite("T", T).ravel()
    m = _finite("m", m).ravel()
    if p0 is None:
        order = np.argsort(T)
        Ts, ms = T[order], m[order]
        Tc0 = Ts[np.argmin(np.abs(ms - 0.5))] if Ts.size else 1.0
        width = np.ptp(Ts[(ms > 0.1) & (ms < 0.9)]) if np.any((ms > 0.1) & (ms < 0.9)) else 0
        if not width > 0:
            width = max(np.ptp(Ts), 1e-12) / 10
        p0 = (2.2 / width, Tc0)  # tanh goes from 0.1 to 0.9 over 2 atanh(0.8)/a = 2.2/a
    return _least_squares(lambda x, a, Tc: 0.5 - 0.5 * np.tanh(a * (x - Tc)),
                          ("a", "Tc"), T, m, sigma, p0, "eq2")


def _relu_start(Q, S):
    order = np.argsort(Q)
    Qs, Ss = Q[order], S[order]
    top = Qs.size // 2
    slope0, icpt = np.polyfit(Qs[top:], Ss[top:], 1) if Qs.size - top >= 2 else (1.0, 0.0)
    if not slope0 > 0:
        slope0 = 1.0
    thr0 = -icpt / slope0
    width0 = max(np.ptp(Qs), 1e-12) / 10
    return slope0, thr0, width0


#: Model names accepted by :func:`fit_transfer`, with their parameter names.
TRANSFER_MODELS = {
    "relu": ("slope", "threshold"),
    "softplus": ("slope", "threshold", "sharpness"),
    "elu": ("slope", "threshold", "alpha"),
    "spike_count_tanh": ("amplitude", "width", "shift"),
    "spike_count_sigmoid": ("amplitude", "width", "shift"),
}


def fit_transfer(Q, S, sigma=None, model: str = "relu", p0=None) -> FitResult:
    """Fit a transfer curve (spike count against quench depth).

    Models and parameters (``x = Q - threshold``, ``z = (Q - shift) / width``):

    ``"relu"``
        ``slope * max(0, x)``: slope, threshold.
    ``"softplus"``
        ``slope * ln(1 + e^{sharpness x}) / sharpness``: slope, threshold, sharpness.
    ``"elu"``
        ``slope * x`` above, ``slope * alpha * (e^x - 1)`` below threshold: slope,
        threshold, alpha.
    ``"spike_count_tanh"``
        ``amplitude * spike_count_tanh(z)``: amplitude (units of S), width (units of Q),
        shift (units of Q). For large Q this is ``(amplitude / width) (Q - shift)
        - amplitude ln2 / 2``; it passes through 0 at ``Q = shift`` and tends to
        ``-amplitude ln2 / 2`` far below it (the paper's constant C fixed to 0).
    ``"spike_count_sigmoid"``
        ``amplitude * spike_count_sigmoid(z)``: same parameters; floor
        ``-amplitude ln 2``.

    Parameters
    ----------
    Q : array_like
        Quench depths (temperature units).
    S : array_like
        Spike counts (sweeps, or time-integrated m).
    sigma : float or array_like, optional
        Standard errors of ``S``; taken as absolute (chi2 and p-value meaningful).
    model : str, optional
        One of :data:`TRANSFER_MODELS`.
    p0 : sequence of float, optional
        Starting values in the order of ``TRANSFER_MODELS[model]``. Default: slope and
        threshold from a straight line through the upper half of the points (in Q), a
        knee width of a tenth of the Q range, ``alpha = 1`` (or the floor depth of the
        data over the slope when the data go below zero).

    Returns
    -------
    FitResult
    """
    if model not in TRANSFER_MODELS:
        raise ValueError(f"model = {model!r} is not allowed: choose one of "
                         f"{sorted(TRANSFER_MODELS)}")
    names = TRANSFER_MODELS[model]
    Qa = _finite("Q", Q).ravel()
    Sa = _finite("S", S).ravel()
    if Qa.shape != Sa.shape:
        raise ValueError(f"Q has {Qa.size} points and S has {Sa.size}: they must have the "
                         f"same length")
    slope0, thr0, width0 = _relu_start(Qa, Sa)
    func = {"relu": relu, "softplus": softplus, "elu": elu,
            "spike_count_tanh": _spike_tanh_model,
            "spike_count_sigmoid": _spike_sigmoid_model}[model]
    bounds = (-np.inf, np.inf)
    if p0 is None:
        if model == "relu":
            p0 = (slope0, thr0)
        elif model == "softplus":
            p0 = (slope0, thr0, 1.0 / width0)
            bounds = ([-np.inf, -np.inf, 0.0], [np.inf, np.inf, np.inf])
        elif model == "elu":
            floor = -np.min(Sa) / slope0 if np.min(Sa) < 0 else 1.0
            p0 = (slope0, thr0, floor)
        else:
            # asymptote (A / w)(Q - shift) - A c: with the knee width w0 the slope fixes A,
            # and the asymptote's zero thr0 = shift + c w gives the shift
            c = 0.5 * _LN2 if model == "spike_count_tanh" else _LN2
            p0 = (slope0 * width0, width0, thr0 - c * width0)
            bounds = ([-np.inf, 0.0, -np.inf], [np.inf, np.inf, np.inf])
    elif len(p0) != len(names):
        raise ValueError(f"p0 = {p0!r} is not allowed: model {model!r} has "
                         f"{len(names)} parameters {names}")
    return _least_squares(func, names, Qa, Sa, sigma, p0, model, bounds)


# ----------------------------------------------------------------------------- quasi-static

def _threshold_temperature(theta: float, theory: str, Tc):
    if theory == "exact":
        T_theta = exact.temperature_at_magnetisation(theta)
        if Tc is not None:  # the exact curve in reduced units, rescaled to this Tc
            T_theta *= float(_positive("Tc", Tc)) / exact.ONSAGER_TC
        return T_theta
    if theory == "meanfield":
        Tc = TC_MEANFIELD if Tc is None else float(_positive("Tc", Tc))
        return Tc * theta / np.arctanh(theta)
    raise ValueError(f"theory = {theory!r} is not allowed: choose 'exact' or 'meanfield'")


def _quench_inputs(depth, bath, rate):
    depth = _finite("depth", depth)
    bath = _finite("bath", bath)
    rate = _finite("rate", rate)
    if np.any(rate <= 0):
        raise ValueError(f"rate = {float(rate[rate <= 0].flat[0])!r} is not allowed: the "
                         f"reheating rate must be > 0 (temperature per sweep)")
    if np.any(depth < 0):
        raise ValueError(f"depth = {float(depth[depth < 0].flat[0])!r} is not allowed: the "
                         f"quench depth must be >= 0")
    if np.any(bath <= 0):
        raise ValueError(f"bath = {float(bath[bath <= 0].flat[0])!r} is not allowed: the "
                         f"bath temperature must be > 0")
    low = bath - depth
    if np.any(low <= 0):
        d, b = np.broadcast_arrays(depth, bath)
        i = np.flatnonzero((b - d).ravel() <= 0)[0]
        raise ValueError(f"depth = {float(d.flat[i])!r} is not allowed with bath = "
                         f"{float(b.flat[i])!r}: the quench must keep T = bath - depth > 0")
    return depth, bath, rate


def _check_theta(theta):
    theta = float(theta)
    if not (0.0 < theta < 1.0):
        raise ValueError(f"theta = {theta!r} is not allowed: the firing threshold on m must "
                         f"satisfy 0 < theta < 1")
    return theta


def quasi_static_dwell_time(depth, bath, rate, theta=0.9, theory="exact", Tc=None):
    """Time spent firing (equilibrium ``m >= theta``) during a slow quench.

    The quench is ``T(t) = bath - depth + rate (t - t_c)``, capped at ``bath``. If the
    membrane followed its equilibrium curve m(T) (rate -> 0 at fixed depth / rate), it
    would fire while ``T < T_theta``, where ``m(T_theta) = theta``; the dwell time is

        ``max(0, min(T_theta, bath) - (bath - depth)) / rate``  (sweeps).

    Parameters
    ----------
    depth : float or array_like
        Quench depth Q (J units), ``0 <= depth < bath``.
    bath : float or array_like
        Bath (resting) temperature (J units), > 0.
    rate : float or array_like
        Reheating rate (J per sweep), > 0.
    theta : float, optional
        Firing threshold on m, ``0 < theta < 1``.
    theory : {"exact", "meanfield"}, optional
        ``"exact"``: Onsager-Yang m(T), ``T_theta`` from
        :func:`isingneuron.exact.temperature_at_magnetisation` (J units; with ``Tc``
        given, the exact curve in reduced units ``T/Tc`` rescaled to that Tc).
        ``"meanfield"``: ``T_theta = Tc theta / atanh(theta)`` with ``Tc`` default 4.
    Tc : float, optional
        Critical temperature (J units), see ``theory``.

    Returns
    -------
    float or ndarray
        Dwell time in sweeps, shape ``broadcast(depth, bath, rate)``.
    """
    theta = _check_theta(theta)
    depth, bath, rate = _quench_inputs(depth, bath, rate)
    T_theta = _threshold_temperature(theta, theory, Tc)
    return _out(np.maximum(0.0, np.minimum(T_theta, bath) - (bath - depth)) / rate)


def quasi_static_area(depth, bath, rate, theory="exact", Tc=None):
    """Integrated equilibrium magnetisation ``int m_eq(T(t)) dt`` over a slow quench.

    For ``T(t) = bath - depth + rate (t - t_c)`` capped at ``bath`` this is
    ``(1/rate) int_{bath - depth}^{bath} m_eq(T) dT`` (sweeps), the lattice analogue of
    the paper's integral of eq. (2). It is evaluated with :func:`scipy.integrate.quad`
    as ``int_0^{m_eq(T_lo)} (T(m) - T_lo) dm`` for the part below ``min(bath, Tc)``,
    using the smooth inverse ``T(m)`` (this avoids the ``(Tc - T)^(1/8)`` endpoint
    singularity of the exact m(T)). Zero field.

    Parameters
    ----------
    depth : float or array_like
        Quench depth Q (J units), ``0 <= depth < bath``.
    bath : float or array_like
        Bath temperature (J units), > 0.
    rate : float or array_like
        Reheating rate (J per sweep), > 0.
    theory : {"exact", "meanfield"}, optional
        Equilibrium curve, as in :func:`quasi_static_dwell_time`.
    Tc : float, optional
        Critical temperature (J units), as in :func:`quasi_static_dwell_time`.

    Returns
    -------
    float or ndarray
        Area in sweeps (m times sweeps), shape ``broadcast(depth, bath, rate)``.
    """
    depth, bath, rate = _quench_inputs(depth, bath, rate)
    if theory == "exact":
        Tcx = exact.ONSAGER_TC if Tc is None else float(_positive("Tc", Tc))
        scale = Tcx / exact.ONSAGER_TC

        def T_of_m(m):
            return scale * exact.temperature_at_magnetisation(m)

        def m_of_T(T):
            return exact.spontaneous_magnetisation(T / scale)
    elif theory == "meanfield":
        Tcx = TC_MEANFIELD if Tc is None else float(_positive("Tc", Tc))

        def T_of_m(m):
            return Tcx if m == 0 else Tcx * m / np.arctanh(m)

        def m_of_T(T):
            return _mf_magnetisation(T, 0.0, Tcx)
    else:
        raise ValueError(f"theory = {theory!r} is not allowed: choose 'exact' or 'meanfield'")

    d, b, r = np.broadcast_arrays(depth, bath, rate)
    out = np.empty(d.shape)
    for idx in np.ndindex(d.shape):
        T_lo, T_hi = b[idx] - d[idx], min(b[idx], Tcx)
        if T_lo >= T_hi:
            out[idx] = 0.0
            continue
        m_lo, m_hi = m_of_T(T_lo), (m_of_T(T_hi) if T_hi < Tcx else 0.0)
        # int_{T_lo}^{T_hi} m dT = int_{m_hi}^{m_lo} (T(m) - T_lo) dm + m_hi (T_hi - T_lo)
        val, _ = integrate.quad(lambda m: T_of_m(m) - T_lo, m_hi, m_lo,
                                epsabs=1e-13, epsrel=1e-11, limit=200)
        out[idx] = (val + m_hi * (T_hi - T_lo)) / r[idx]
    return _out(out)


# ----------------------------------------------------------------------------- populations

def erf_response(mu, threshold, width):
    """Fraction firing with Gaussian inputs, ``1/2 [1 + erf((mu - Q*) / (w sqrt 2))]``.

    A population of neurones with a sharp threshold ``Q*`` each, driven by inputs
    drawn from ``N(mu, w**2)``, fires in the fraction ``Phi((mu - Q*) / w)``, the
    normal CDF (the paper's section III.A, after Wilson and Cowan).

    Parameters
    ----------
    mu : float or array_like
        Mean input (quench depth, J).
    threshold : float
        Firing threshold depth Q* (J).
    width : float
        Standard deviation of the inputs (plus any intrinsic spread), J, > 0.

    Returns
    -------
    float or ndarray
        Fraction in [0, 1].
    """
    return 0.5 * (1.0 + special.erf((np.asarray(mu, float) - threshold) / (width * math.sqrt(2))))


def probit_fit(depths, fired) -> dict:
    """Maximum-likelihood probit: ``P(fire | Q) = Phi((Q - q0) / w)`` per neurone.

    The negative log-likelihood of the Bernoulli outcomes is minimised over
    ``(q0, ln w)`` (Nelder-Mead); the errors come from its numerical Hessian at
    the minimum. A population with inputs of spread ``sigma`` then fires in the
    fraction ``erf_response(mu, q0, sqrt(sigma**2 + w**2))``.

    Parameters
    ----------
    depths : array_like
        Input (quench depth, J) of every neurone; any shape, flattened.
    fired : array_like of bool
        Whether each neurone fired; same size as ``depths``.

    Returns
    -------
    dict
        ``threshold`` q0 and ``threshold_err`` (J), ``width`` w and ``width_err``
        (J), ``separable`` and ``gap``. ``gap`` is (largest depth that stayed
        silent, smallest depth that fired), nan where there is none. When
        ``separable`` is True every silent neurone lies below every firing one:
        the threshold lies in ``gap``, the likelihood is flat as w -> 0, and both
        errors are nan (w is not resolved). When all neurones fired, or none did,
        every number is nan.
    """
    x, y = np.ravel(depths).astype(float), np.ravel(fired).astype(float)
    # separable data (every non-firing depth below every firing one) pin the threshold
    # between two depths and drive the maximum-likelihood width to 0: say so
    gap = (float(x[y == 0].max()) if (y == 0).any() else float("nan"),
           float(x[y == 1].min()) if (y == 1).any() else float("nan"))
    separable = bool((y == 0).any() and (y == 1).any() and gap[0] < gap[1])

    def nll(p):
        q0, lw = p
        z = (x - q0) / math.exp(lw)
        return -(np.sum(y * special.log_ndtr(z)) + np.sum((1 - y) * special.log_ndtr(-z)))

    if y.min() == y.max():
        return {"threshold": float("nan"), "threshold_err": float("nan"),
                "width": float("nan"), "width_err": float("nan"), "separable": False,
                "gap": gap}
    q_start = 0.5 * (x[y == 1].min() + x[y == 0].max()) if (y == 1).any() else x.mean()
    r = optimize.minimize(nll, (q_start, math.log(0.1)), method="Nelder-Mead",
                          options={"xatol": 1e-8, "fatol": 1e-10, "maxiter": 4000})
    q0, lw = r.x
    # errors from the numerical Hessian of the negative log-likelihood
    h = np.array([1e-4, 1e-4])
    H = np.empty((2, 2))
    for i in range(2):
        for j in range(2):
            ei, ej = np.eye(2)[i] * h[i], np.eye(2)[j] * h[j]
            H[i, j] = (nll(r.x + ei + ej) - nll(r.x + ei - ej) - nll(r.x - ei + ej)
                       + nll(r.x - ei - ej)) / (4 * h[i] * h[j])
    try:
        cov = np.linalg.inv(H)
        err_q, err_lw = math.sqrt(max(cov[0, 0], 0)), math.sqrt(max(cov[1, 1], 0))
    except np.linalg.LinAlgError:
        err_q = err_lw = float("nan")
    w = math.exp(lw)
    if separable:       # the likelihood is flat in w -> 0: no error bar exists
        err_q, err_lw = float("nan"), float("nan")
    return {"threshold": float(q0), "threshold_err": float(err_q), "width": float(w),
            "width_err": float(w * err_lw), "separable": separable, "gap": gap}
