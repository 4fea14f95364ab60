"""Mean-field (Curie-Weiss) theory of the paper, static and dynamic.

Units: energies and temperatures in units of ``J`` (``k_B = 1``), time in sweeps.
Every function takes the critical temperature ``Tc`` as a parameter: the square
lattice value is ``Tc = z J = 4`` (:data:`TC_MEANFIELD`); ``Tc = 1`` gives the
paper's reduced units (its Figure 1), in which temperatures are ``T / Tc``. To
compare a theory with the exact solution in reduced units, pass each its own Tc.

Self-consistency (the paper's eq. 1 with a field ``h``)::

    m = tanh((Tc m + h) / T)

Free energy per spin (minimised by the solutions above)::

    F(m) = Tc m**2 / 2 - T ln(2 cosh((Tc m + h) / T))

Dynamics (Suzuki-Kubo / mean-field Glauber)::

    tau dm/dt = -m + tanh((Tc m + h) / T(t))
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ._lazy import lazy_import

integrate = lazy_import("scipy.integrate")
optimize = lazy_import("scipy.optimize")

__all__ = [
    "TC_MEANFIELD",
    "SEED_MAGNETISATION",
    "magnetisation",
    "free_energy",
    "bethe_tc",
    "glauber_dynamics",
]

#: Mean-field critical temperature of the square lattice, ``z J`` with ``z = 4`` (J units).
TC_MEANFIELD: float = 4.0

#: Default seed added to the initial state of :func:`glauber_dynamics` (see there).
SEED_MAGNETISATION: float = 1e-3

_ONE_MINUS = np.nextafter(1.0, 0.0)  # largest float below 1


# ----------------------------------------------------------------------------- checks

def _check_positive(name: str, value) -> np.ndarray:
    arr = np.asarray(value, dtype=float)
    bad = ~(np.isfinite(arr) & (arr > 0))
    if np.any(bad):
        first = float(arr[bad].flat[0])
        raise ValueError(f"{name} = {first!r} is not allowed: it must be finite and > 0")
    return arr


def _check_finite(name: str, value) -> np.ndarray:
    arr = np.asarray(value, dtype=float)
    bad = ~np.isfinite(arr)
    if np.any(bad):
        first = float(arr[bad].flat[0])
        raise ValueError(f"{name} = {first!r} is not allowed: it must be a finite number")
    return arr


def _scalar_positive(name: str, value) -> float:
    arr = _check_positive(name, value)
    if arr.ndim:
        raise ValueError(f"{name} = {value!r} is not allowed: it must be a single number")
    return float(arr)


def _out(x):
    return float(x) if np.ndim(x) == 0 else x


# ----------------------------------------------------------------------------- statics

def _atanh_excess(m: float) -> float:
    """``q(m) = atanh(m)/m - 1 = sum_{k>=1} m^(2k) / (2k+1)``, accurate for small m."""
    if m < 0.5:
        m2 = m * m
        # 30 terms: the remainder is below 0.25**30 ~ 1e-18 relative
        k = np.arange(1, 31)
        return float(np.sum(m2 ** k / (2 * k + 1)))
    return float(np.arctanh(m) / m - 1.0)


def _solve_one(T: float, h: float, Tc: float) -> float:
    """Stable root of m = tanh((Tc m + h)/T): the positive one for h >= 0."""
    sign = 1.0 if h >= 0 else -1.0
    h = abs(h)
    if h == 0.0:
        if T >= Tc:
            return 0.0
        # non-zero root of m = tanh(Tc m / T), divided by m:
        #   T atanh(m)/m - Tc = T q(m) - (Tc - T) = 0,  q increasing from 0 to inf
        def r(m):
            return T * _atanh_excess(m) - (Tc - T) if m > 0 else -(Tc - T)
    else:
        # T atanh(m) - Tc m - h = T m q(m) - (Tc - T) m - h: convex on [0, 1), < 0 at 0,
        # so exactly one root in (0, 1) (the global minimum of F for h > 0)
        def r(m):
            return T * m * _atanh_excess(m) - (Tc - T) * m - h
    if r(_ONE_MINUS) <= 0.0:
        return sign * 1.0  # saturated: 1 - m below the float resolution at 1
    m = optimize.brentq(r, 0.0, _ONE_MINUS, xtol=1e-300, rtol=4 * np.finfo(float).eps,
                        maxiter=500)
    return sign * m


def magnetisation(T, h=0.0, Tc: float = TC_MEANFIELD):
    """Equilibrium mean-field magnetisation per spin.

    The stable solution of ``m = tanh((Tc m + h) / T)``, found with
    :func:`scipy.optimize.brentq` on an equivalent form that keeps its digits both
    very near Tc (``m ~ sqrt(3 (1 - T/Tc))``) and at very low T (``m -> 1``).

    Branch choice: for ``h = 0`` the positive branch below Tc (the paper restricts the
    firing state to ``m = +1``) and ``m = 0`` at and above Tc; for ``h != 0`` the branch
    with the sign of ``h``, which is the global minimum of :func:`free_energy`.

    Parameters
    ----------
    T : float or array_like
        Temperature in units of J (or of Tc when ``Tc = 1``), finite and > 0.
    h : float or array_like, optional
        Field in units of J; broadcast against ``T``.
    Tc : float, optional
        Mean-field critical temperature ``z J`` (default 4, the square lattice; 1 for the
        paper's reduced units).

    Returns
    -------
    float or ndarray
        Magnetisation per spin in [-1, 1], shape ``broadcast(T, h)``.
    """
    T = _check_positive("T", T)
    h = _check_finite("h", h)
    Tc = _scalar_positive("Tc", Tc)
    Tb, hb = np.broadcast_arrays(T, h)
    out = np.empty(Tb.shape)
    for idx in np.ndindex(Tb.shape):
        out[idx] = _solve_one(float(Tb[idx]), float(hb[idx]), Tc)
    return _out(out)


def free_energy(m, T, h=0.0, Tc: float = TC_MEANFIELD):
    """Mean-field free energy per spin (the paper's F, with a field).

    ``F(m) = Tc m**2 / 2 - T ln(2 cosh((Tc m + h) / T))``, evaluated stably as
    ``ln(2 cosh x) = |x| + log1p(exp(-2|x|))``. Its stationary points are the solutions
    of ``m = tanh((Tc m + h)/T)``.

    Parameters
    ----------
    m : float or array_like
        Magnetisation per spin (a trial value; physical range [-1, 1]).
    T : float or array_like
        Temperature in units of J, finite and > 0.
    h : float or array_like, optional
        Field in units of J.
    Tc : float, optional
        Mean-field critical temperature ``z J`` (default 4).

    Returns
    -------
    float or ndarray
        Free energy per spin in units of J, shape ``broadcast(m, T, h)``.
    """
    m = _check_finite("m", m)
    T = _check_positive("T", T)
    h = _check_finite("h", h)
    Tc = _scalar_positive("Tc", Tc)
    x = np.abs((Tc * m + h) / T)
    F = 0.5 * Tc * m * m - T * (x + np.log1p(np.exp(-2.0 * x)))
    return _out(F)


def bethe_tc(z: float = 4, J: float = 1.0) -> float:
    """Bethe-Peierls critical temperature ``2 J / ln(z / (z - 2))``.

    Parameters
    ----------
    z : float, optional
        Coordination number, ``z > 2`` (4 for the square lattice, giving
        ``2 / ln 2 = 2.885`` J).
    J : float, optional
        Coupling (energy units), > 0.

    Returns
    -------
    float
        Critical temperature in units of ``J / k_B``.
    """
    z = float(z)
    if not (np.isfinite(z) and z > 2):
        raise ValueError(f"z = {z!r} is not allowed: the coordination number must be > 2")
    J = _scalar_positive("J", J)
    return 2.0 * J / np.log(z / (z - 2.0))


# ----------------------------------------------------------------------------- dynamics

def _default_m0(T0: np.ndarray, h: np.ndarray, Tc: float) -> np.ndarray:
    m_eq = np.atleast_1d(magnetisation(T0, h, Tc))
    return np.where(h >= 0, np.maximum(m_eq, SEED_MAGNETISATION),
                    np.minimum(m_eq, -SEED_MAGNETISATION))


class _State:
    """ODE state of R replicas: ``ln|m|`` where ``h = 0`` and ``m0 != 0``, ``m`` elsewhere.

    With ``h = 0`` the exact m never changes sign and may decay to e^-1000 at rest
    above Tc; integrating ``ln|m|`` keeps its relative digits (and its sign) however
    small it gets. Replicas with ``h != 0`` (whose m may cross 0) or ``m = 0`` (a fixed
    point) are integrated in ``m`` with an absolute tolerance.
    """

    def __init__(self, m0: np.ndarray, hR: np.ndarray, Tc: float, tau: float, rtol, atol):
        self.log = (hR == 0.0) & (m0 != 0.0)
        self.any_log, self.all_log = bool(self.log.any()), bool(self.log.all())
        self.sign = np.where(m0 < 0, -1.0, 1.0)
        self.hR, self.Tc, self.tau = hR, Tc, tau
        if atol is None:
            atol = 1e-14
        atol = np.asarray(atol, dtype=float)
        if atol.ndim or not (np.isfinite(atol) and atol > 0):
            raise ValueError(f"atol = {atol.tolist()!r} is not allowed: a single number > 0")
        # in ln|m| an absolute error rtol is a relative error rtol in m
        self.atol = np.where(self.log, rtol, float(atol))
        self.z0 = np.where(self.log, np.log(np.abs(np.where(self.log, m0, 1.0))), m0)

    def to_m(self, z: np.ndarray) -> np.ndarray:
        if not self.any_log:
            return z
        sign = self.sign.reshape((-1,) + (1,) * (z.ndim - 1))
        with np.errstate(over="ignore"):
            if self.all_log:
                return sign * np.exp(z)
            log = self.log.reshape(sign.shape)
            return np.where(log, sign * np.exp(np.where(log, z, 0.0)), z)

    def _log_rhs(self, z, a):
        # d ln|m|/dt = (tanh(a m)/m - 1)/tau = (a tanh(x)/x - 1)/tau with x = a |m|.
        # tanh(x)/x is accurate in floating point down to the smallest x; clipping z at
        # -700 (|m| ~ 1e-304, where tanh(x)/x == 1.0 already) avoids 0/0, and at +700
        # (trial stages only: |m| <= 1 on the solution) avoids overflow.
        x = a * np.exp(np.clip(z, -700.0, 700.0))
        return (a * (np.tanh(x) / x) - 1.0) / self.tau

    def rhs(self, z: np.ndarray, T) -> np.ndarray:
        a = self.Tc / T
        if self.all_log:
            return self._log_rhs(z, a)
        m = self.to_m(z)
        lin = (np.tanh(a * m + self.hR / T) - m) / self.tau
        if not self.any_log:
            return lin
        return np.where(self.log, self._log_rhs(np.where(self.log, z, 0.0), a), lin)


def glauber_dynamics(temperatures, t_eval=None, tau: float = 1.0, Tc: float = TC_MEANFIELD,
                     h=0.0, m0=None, *, max_step: float = 0.25, rtol: float = 1e-10,
                     atol=None, method: str = "DOP853"):
    """Mean-field Glauber (Suzuki-Kubo) dynamics under a temperature schedule.

    Integrates ``tau dm/dt = -m + tanh((Tc m + h) / T(t))`` with
    :func:`scipy.integrate.solve_ivp` (default DOP853, ``rtol = 1e-10``, giving about
    1e-8 relative accuracy at the records).

    Time convention (the lattice engine's): time is in sweeps. Given an array,
    sweep ``s = 0, 1, ...`` runs on ``[s, s + 1)`` at temperature ``temperatures[s]``
    (piecewise constant), and the record at ``t_eval[k]`` is the state after
    ``t_eval[k]`` completed sweeps. Each run of sweeps with unchanged temperatures is
    integrated as one smooth piece, so the jumps are never stepped over.

    The state ``m = 0`` is a fixed point when ``h = 0``: unstable below Tc, but a
    membrane started exactly there never orders. The default ``m0`` therefore adds a
    seed: ``m0 = max(m_eq, SEED_MAGNETISATION)`` (1e-3) for ``h >= 0`` and
    ``min(m_eq, -SEED_MAGNETISATION)`` for ``h < 0``, where ``m_eq`` is the mean-field
    equilibrium at the first temperature and the given ``h``. It stands for the small
    residual order of a membrane with a ``+`` border; the delay before a spike grows
    like ``ln(1 / m0)``, so pass ``m0`` (e.g. the lattice's measured m at rest), or
    ``m0 = 0`` to see the unstable fixed point. Note that above Tc with ``h = 0`` the
    mean-field m decays like ``exp(-(1 - Tc/T) t / tau)`` (it has no thermal
    fluctuations), so a long rest before a quench delays the mean-field spike.

    Parameters
    ----------
    temperatures : array_like or callable
        Temperatures in J units: shape ``(n_sweeps,)`` for one membrane, ``(R, n_sweeps)``
        for ``R`` independent ones; or a callable ``T(t)`` of continuous time (sweeps)
        returning a float or an ``(R,)`` array, integrated with ``max_step``.
    t_eval : array_like of int, optional
        Record times in sweeps completed, ``0 <= t_eval <= n_sweeps`` (any order; 0 gives
        ``m0``). Default: ``1, 2, ..., n_sweeps`` (the engine's ``record_every = 1``).
        Required, and may be non-integer, with a callable.
    tau : float, optional
        Relaxation time in sweeps, > 0.
    Tc : float, optional
        Mean-field critical temperature ``z J`` (default 4).
    h : float or array_like, optional
        Field in J units; a scalar or one per replica ``(R,)``.
    m0 : float or array_like, optional
        Initial magnetisation(s) in [-1, 1], scalar or ``(R,)``. Default: see above.
    max_step : float, optional
        Largest ODE step in sweeps for a callable schedule (keep it below the shortest
        feature of ``T(t)``). Unused for arrays.
    rtol : float, optional
        Relative tolerance handed to :func:`scipy.integrate.solve_ivp`.
    atol : float, optional
        Absolute tolerance on m for replicas with ``h != 0`` (default 1e-14), whose m may
        pass through 0. Replicas with ``h = 0`` and ``m0 != 0`` are integrated in
        ``ln|m|`` with error ``rtol`` (relative in m): their exact m never changes sign
        but may decay to tiny values at rest above Tc, and the onset of a later spike
        depends on ``ln|m|``, so those digits matter.
    method : str, optional
        Integrator name for :func:`scipy.integrate.solve_ivp`.

    Returns
    -------
    ndarray
        Magnetisation per spin at ``t_eval``: shape ``(n_records,)`` for a 1-D schedule
        (or a callable returning floats, with scalar ``h`` and ``m0``), ``(R, n_records)``
        otherwise.
    """
    tau = _scalar_positive("tau", tau)
    Tc = _scalar_positive("Tc", Tc)
    max_step = _scalar_positive("max_step", max_step)
    h = _check_finite("h", h)
    if h.ndim > 1:
        raise ValueError(f"h has shape {h.shape}; allowed: a number or one per replica (R,)")
    if m0 is not None:
        m0 = _check_finite("m0", m0)
        if m0.ndim > 1 or np.any(np.abs(m0) > 1):
            raise ValueError(f"m0 = {m0.tolist()!r} is not allowed: a number or an (R,) array "
                             f"with values in [-1, 1]")
    if callable(temperatures):
        return _glauber_callable(temperatures, t_eval, tau, Tc, h, m0, max_step, rtol,
                                 atol, method)

    temps = _check_positive("temperatures", temperatures)
    if temps.ndim not in (1, 2):
        raise ValueError(f"temperatures has shape {temps.shape}; allowed: (n_sweeps,) or "
                         f"(R, n_sweeps), or a callable T(t)")
    squeeze = temps.ndim == 1 and np.ndim(h) == 0 and (m0 is None or np.ndim(m0) == 0)
    n = temps.shape[-1]
    try:
        R = np.broadcast_shapes(temps.shape[:-1] or (1,), np.shape(h),
                                () if m0 is None else np.shape(m0))[0]
    except ValueError:
        raise ValueError(f"temperatures (shape {temps.shape}), h (shape {np.shape(h)}) and "
                         f"m0 (shape {np.shape(m0)}) disagree on the number of replicas")\
            from None
    temps = np.broadcast_to(np.atleast_2d(temps), (R, n))
    if t_eval is None:
        t_eval = np.arange(1, n + 1)
    t_eval = np.asarray(t_eval, dtype=float)
    if (t_eval.ndim != 1 or np.any(~np.isfinite(t_eval)) or np.any(t_eval != np.round(t_eval))
            or np.any(t_eval < 0) or np.any(t_eval > n)):
        raise ValueError(f"t_eval = {t_eval!r} is not allowed: a 1-D array of whole numbers "
                         f"of sweeps between 0 and n_sweeps = {n}")
    t_eval = t_eval.astype(np.int64)
    hR = np.broadcast_to(h, (R,)).astype(float)
    if m0 is None:
        m = _default_m0(temps[:, 0], hR, Tc) if n else np.full(R, SEED_MAGNETISATION)
    else:
        m = np.broadcast_to(m0, (R,))
    m = np.array(m, dtype=float)
    state = _State(m, hR, Tc, tau, rtol, atol)
    z = state.z0.copy()

    wanted = np.unique(t_eval)
    states = {}
    if wanted.size and wanted[0] == 0:
        states[0] = m.copy()
    t_end = int(wanted[-1]) if wanted.size else 0
    # segment starts: sweep 0 and every sweep whose temperatures differ from the previous
    change = np.flatnonzero(np.any(temps[:, 1:t_end] != temps[:, :t_end - 1], axis=0)) + 1 \
        if t_end > 1 else np.array([], dtype=np.int64)
    starts = np.concatenate(([0], change)).astype(np.int64)
    ends = np.concatenate((starts[1:], [t_end])).astype(np.int64)
    for a, b in zip(starts, ends):
        if b <= a:
            continue
        Tseg = temps[:, a]
        inside = wanted[(wanted > a) & (wanted <= b)]
        times = np.union1d(inside, [b]).astype(float)

        def rhs(t, y, Tseg=Tseg):
            return state.rhs(y, Tseg)

        sol = integrate.solve_ivp(rhs, (float(a), float(b)), z, method=method,
                                  t_eval=times, rtol=rtol, atol=state.atol)
        if not sol.success:  # pragma: no cover - smooth bounded RHS
            raise RuntimeError(f"solve_ivp failed on sweeps {a}..{b}: {sol.message}")
        ms = state.to_m(sol.y)
        for j, t in enumerate(times):
            if t in inside:
                states[int(t)] = ms[:, j].copy()
        z = sol.y[:, -1].copy()
    out = np.stack([states[int(t)] for t in t_eval], axis=1) if t_eval.size \
        else np.empty((R, 0))
    return out[0] if squeeze else out


def _glauber_callable(T_of_t: Callable, t_eval, tau, Tc, h, m0, max_step, rtol, atol,
                      method):
    if t_eval is None:
        raise ValueError("t_eval is required when temperatures is a callable T(t)")
    t_eval = np.asarray(t_eval, dtype=float)
    if t_eval.ndim != 1 or np.any(~np.isfinite(t_eval)) or np.any(t_eval < 0):
        raise ValueError(f"t_eval = {t_eval!r} is not allowed: a 1-D array of times >= 0 "
                         f"(sweeps)")

    def temperature(t):
        T = np.asarray(T_of_t(t), dtype=float)
        if np.any(~np.isfinite(T) | (T <= 0)):
            raise ValueError(f"temperatures(t) returned T = {T.tolist()!r} at t = {t!r}: "
                             f"temperatures must be finite and > 0")
        return T

    T0 = temperature(0.0)
    try:
        shape = np.broadcast_shapes(T0.shape, np.shape(h),
                                    () if m0 is None else np.shape(m0))
    except ValueError:
        shape = (0, 0)
    if len(shape) > 1:
        raise ValueError(f"T(t) (shape {T0.shape}), h (shape {np.shape(h)}) and m0 (shape "
                         f"{np.shape(m0)}) must be numbers or share one replica axis (R,)")
    scalar = shape == ()
    shape1 = shape if shape else (1,)
    hR = np.broadcast_to(h, shape1).astype(float)
    if m0 is None:
        y0 = _default_m0(np.broadcast_to(T0, shape1), hR, Tc)
    else:
        y0 = np.broadcast_to(m0, shape1).astype(float)
    state = _State(np.array(y0, dtype=float), hR, Tc, tau, rtol, atol)

    def rhs(t, z):
        return state.rhs(z, temperature(t))

    order = np.argsort(t_eval)
    ts = t_eval[order]
    t_end = float(ts[-1]) if ts.size else 0.0
    out = np.empty((y0.size, t_eval.size))
    if ts.size:
        if t_end > 0:
            sol = integrate.solve_ivp(rhs, (0.0, t_end), state.z0.copy(),
                                      method=method, t_eval=ts, rtol=rtol, atol=state.atol,
                                      max_step=max_step)
            if not sol.success:  # pragma: no cover
                raise RuntimeError(f"solve_ivp failed: {sol.message}")
            out[:, order] = state.to_m(sol.y)
        else:
            out[:] = np.asarray(y0, dtype=float)[:, None]
    return out[0] if scalar else out
