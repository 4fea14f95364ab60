"""Exact results for the 2D square-lattice Ising model (Onsager, Yang).

Units: coupling ``J = 1`` and ``k_B = 1``, so temperatures are in units of
``J / k_B`` and energies per spin in units of ``J``. The lattice is the infinite
square lattice (coordination ``z = 4``) in zero field. For reduced units divide a
temperature by :data:`ONSAGER_TC`.

Notation used below (``K = J / T``)::

    s   = sinh(2K)
    k'' = 2 tanh(2K)**2 - 1          (> 0 below Tc, = 0 at Tc, < 0 above)
    k   = 2 sinh(2K) / cosh(2K)**2   (elliptic modulus, k**2 = 1 - k''**2)

SciPy's complete elliptic integrals take the *parameter* ``m = k**2``
(``scipy.special.ellipk(m)``). Near Tc, ``1 - k**2 = k''**2`` is tiny and
``ellipk(1 - k''**2)`` would lose all its digits in forming ``1 - k''**2``, so the
first-kind integral is evaluated as ``scipy.special.ellipkm1(k''**2)``, and
``k''`` itself is formed without cancellation from
``sinh(2K) - 1 = 2 cosh(K + Kc) sinh(K - Kc)`` with ``K - Kc = (Tc - T) / (T Tc)``.
"""

from __future__ import annotations

import numpy as np

from ._lazy import lazy_import

special = lazy_import("scipy.special")

__all__ = [
    "ONSAGER_TC",
    "onsager_tc",
    "spontaneous_magnetisation",
    "energy_per_spin",
    "specific_heat_per_spin",
    "temperature_at_magnetisation",
]

#: Onsager's critical temperature ``2 / ln(1 + sqrt 2)`` = 2.269185314... (J / k_B).
ONSAGER_TC: float = 2.0 / np.log1p(np.sqrt(2.0))
_KC: float = 0.5 * np.log1p(np.sqrt(2.0))  # J / (k_B Tc) = 0.44068679...


def onsager_tc(J: float = 1.0) -> float:
    """Exact critical temperature of the square-lattice Ising model.

    Parameters
    ----------
    J : float, optional
        Nearest-neighbour coupling (energy units), ``J > 0``.

    Returns
    -------
    float
        ``Tc = 2 J / ln(1 + sqrt 2)`` in units of ``J / k_B`` (2.269185... for J = 1).
    """
    J = float(J)
    if not (np.isfinite(J) and J > 0):
        raise ValueError(f"J = {J!r} is not allowed: the coupling must be a finite number > 0")
    return J * ONSAGER_TC


def _temperature_array(T, name: str = "T") -> np.ndarray:
    arr = np.asarray(T, dtype=float)
    bad = ~(np.isfinite(arr) & (arr > 0))
    if np.any(bad):
        first = arr[bad].flat[0] if arr.ndim else arr.item()
        raise ValueError(f"{name} = {first!r} is not allowed: temperatures must be finite "
                         f"and > 0 (units of J / k_B)")
    return arr


def _out(x: np.ndarray):
    """Return a Python float for 0-d results, the array otherwise."""
    return float(x) if np.ndim(x) == 0 else x


def _sinh_parts(T: np.ndarray):
    """``s = sinh 2K``, ``s - 1`` (accurate near Tc) and ``K`` for ``K = 1 / T``."""
    K = 1.0 / T
    dK = (ONSAGER_TC - T) / (T * ONSAGER_TC)  # K - Kc without cancellation
    with np.errstate(over="ignore", invalid="ignore"):
        s = np.sinh(2.0 * K)
        s_minus_1 = np.where(np.abs(dK) < 1.0,
                             2.0 * np.cosh(K + _KC) * np.sinh(dK),
                             s - 1.0)
    return K, s, s_minus_1


def _kpp(T: np.ndarray):
    """``K``, ``tanh(2K)**2`` and ``k'' = 2 tanh(2K)**2 - 1`` (accurate near Tc)."""
    K, s, s_minus_1 = _sinh_parts(T)
    t2 = np.tanh(2.0 * K) ** 2
    with np.errstate(over="ignore", invalid="ignore"):
        # k'' = (s^2 - 1) / cosh^2(2K) = (s - 1)(s + 1) / (1 + s^2)
        near = (s_minus_1 * (s + 1.0)) / (1.0 + s * s)
    kpp = np.where(np.abs(K - _KC) < 1.0, near, 2.0 * t2 - 1.0)
    return K, t2, kpp


def spontaneous_magnetisation(T):
    """Spontaneous magnetisation per spin (Onsager-Yang), J = k_B = 1.

    ``m(T) = (1 - sinh(2/T)**-4) ** (1/8)`` for ``T < Tc`` and 0 for ``T >= Tc``
    (the ``+`` state; the ``-`` state is ``-m``).

    Parameters
    ----------
    T : float or array_like
        Temperature in units of J / k_B, finite and > 0.

    Returns
    -------
    float or ndarray
        Magnetisation per spin in [0, 1], same shape as ``T``.
    """
    T = _temperature_array(T)
    _, s, s_minus_1 = _sinh_parts(T)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        # 1 - s^-4 = (s - 1)(s + 1)(s^2 + 1) / s^4, written to keep digits near Tc
        inv_s2 = 1.0 / (s * s)
        one_minus = np.where(s_minus_1 < 0.5,
                             s_minus_1 * (s + 1.0) * (1.0 + inv_s2) * inv_s2,
                             1.0 - inv_s2 * inv_s2)
        m = np.where(T < ONSAGER_TC, np.maximum(one_minus, 0.0) ** 0.125, 0.0)
    return _out(m)


def energy_per_spin(T):
    """Exact internal energy per spin ``u = <H> / N`` in zero field (J = 1).

    ``u = -coth(2K) [1 + (2/pi) k'' K1(k)]`` with ``K = 1/T``,
    ``k'' = 2 tanh(2K)**2 - 1`` and ``K1`` the complete elliptic integral of the first
    kind of modulus ``k = 2 sinh(2K) / cosh(2K)**2`` (evaluated as
    ``scipy.special.ellipkm1(k''**2)``). ``u(Tc) = -sqrt 2`` exactly; ``u`` is
    continuous there with an infinite slope.

    Parameters
    ----------
    T : float or array_like
        Temperature in units of J / k_B, finite and > 0.

    Returns
    -------
    float or ndarray
        Energy per spin in units of J, in (-2, 0).
    """
    T = _temperature_array(T)
    K, _, kpp = _kpp(T)
    K1 = special.ellipkm1(kpp * kpp)
    with np.errstate(invalid="ignore"):
        term = np.where(kpp == 0.0, 0.0, kpp * K1)  # k'' K1 -> 0 at Tc
    u = -(1.0 / np.tanh(2.0 * K)) * (1.0 + (2.0 / np.pi) * term)
    return _out(u)


def specific_heat_per_spin(T):
    """Exact specific heat per spin ``c = du/dT`` in zero field (J = k_B = 1).

    ``c = (4/pi) (K coth 2K)**2 {K1 - E1 - (1 - tanh(2K)**2) [pi/2 + k'' K1]}``
    with the notation of :func:`energy_per_spin` and ``E1`` the complete elliptic
    integral of the second kind. ``c`` diverges logarithmically at Tc,
    ``c ~ -(2/pi) (2 J / Tc)**2 ln|1 - T/Tc|``, with the same amplitude on both sides.
    At ``T == ONSAGER_TC`` (the float constant) the result is ``inf``; any other float
    gives a finite value (about 18 at ``|T/Tc - 1| = 1e-15``).

    Below ``T ~ 0.3`` the two leading ``exp(-8/T)`` terms in the braces cancel, so the
    result (which is below 1e-9 there) keeps an absolute accuracy of about 1e-16 but
    loses relative accuracy; it is clipped at 0.

    Parameters
    ----------
    T : float or array_like
        Temperature in units of J / k_B, finite and > 0.

    Returns
    -------
    float or ndarray
        Specific heat per spin in units of k_B.
    """
    T = _temperature_array(T)
    K, t2, kpp = _kpp(T)
    K1 = special.ellipkm1(kpp * kpp)
    E1 = special.ellipe(1.0 - kpp * kpp)
    with np.errstate(invalid="ignore"):
        term = np.where(kpp == 0.0, 0.0, kpp * K1)
        pref = (4.0 / np.pi) * (K / np.tanh(2.0 * K)) ** 2
        c = pref * (K1 - E1 - (1.0 - t2) * (0.5 * np.pi + term))
    c = np.where(kpp == 0.0, np.inf, np.maximum(c, 0.0))
    return _out(c)


def temperature_at_magnetisation(m):
    """Inverse of :func:`spontaneous_magnetisation`.

    Solves ``m = (1 - sinh(2/T)**-4)**(1/8)`` in closed form:
    ``sinh(2/T) = (1 - m**8)**(-1/4)``, i.e. ``T = 2 / asinh((1 - m**8)**(-1/4))``.

    Parameters
    ----------
    m : float or array_like
        Magnetisation per spin, ``0 <= m <= 1``. ``m = 0`` returns ``Tc`` (the highest
        temperature with that magnetisation is any ``T >= Tc``; ``Tc`` is returned) and
        ``m = 1`` returns 0.

    Returns
    -------
    float or ndarray
        Temperature in units of J / k_B.
    """
    m = np.asarray(m, dtype=float)
    bad = ~(np.isfinite(m) & (m >= 0) & (m <= 1))
    if np.any(bad):
        first = m[bad].flat[0] if m.ndim else m.item()
        raise ValueError(f"m = {first!r} is not allowed: the magnetisation must be in [0, 1]")
    # 1 - m^8 factorised so that it keeps its digits as m -> 1
    one_minus = (1.0 - m) * (1.0 + m) * (1.0 + m * m) * (1.0 + m ** 4)
    with np.errstate(divide="ignore"):
        T = 2.0 / np.arcsinh(one_minus ** -0.25)
    T = np.where(m == 0.0, ONSAGER_TC, T)
    return _out(T)
