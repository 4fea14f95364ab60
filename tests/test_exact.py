"""Exact 2D Ising results checked against published values and independent routes."""

import numpy as np
import pytest
from scipy import integrate

from isingneuron import exact

TC = 2.0 / np.log(1.0 + np.sqrt(2.0))


def minus_beta_f(K):
    """Onsager's free energy -beta f per spin as his double integral (independent route).

    -beta f = ln 2 + 1/(8 pi^2) int_0^{2pi} int_0^{2pi}
              ln[cosh^2 2K - sinh 2K (cos a + cos b)] da db,
    folded onto [0, pi]^2 by symmetry.
    """
    c2, s = np.cosh(2 * K) ** 2, np.sinh(2 * K)
    val, _ = integrate.dblquad(lambda a, b: np.log(c2 - s * (np.cos(a) + np.cos(b))),
                               0.0, np.pi, 0.0, np.pi, epsabs=1e-13, epsrel=1e-13)
    return np.log(2.0) + val / (2.0 * np.pi ** 2)


def test_onsager_tc_value():
    # published value 2.269185314213022 (Onsager 1944); 1e-14 = a few ulp
    assert exact.ONSAGER_TC == pytest.approx(2.269185314213022, rel=1e-14)
    assert exact.onsager_tc() == pytest.approx(TC, rel=1e-14)
    assert exact.onsager_tc(J=2.5) == pytest.approx(2.5 * TC, rel=1e-14)


def test_magnetisation_published_value():
    # m(2.0) = (1 - sinh(1)^-4)^(1/8) = 0.9113193779 (evaluated by hand to 10 digits)
    assert exact.spontaneous_magnetisation(2.0) == pytest.approx(0.9113193779, abs=1e-10)
    expected = (1 - np.sinh(2 / 1.5) ** -4) ** 0.125
    assert exact.spontaneous_magnetisation(1.5) == pytest.approx(expected, rel=1e-14)


def test_magnetisation_zero_above_tc_and_limits():
    m = exact.spontaneous_magnetisation(np.array([TC, TC * 1.0001, 3.0, 100.0]))
    assert np.all(m == 0.0)
    assert exact.spontaneous_magnetisation(0.01) == 1.0
    # low T: m = 1 - 2 x^4 + O(x^6), x = e^{-2/T} (sinh(2K)^-4 ~ 16 x^4, then 1/8 power);
    # at T = 0.5, x^6 = 6e-11 bounds the next term
    T = 0.5
    x = np.exp(-2 / T)
    assert exact.spontaneous_magnetisation(T) == pytest.approx(1 - 2 * x ** 4, abs=1e-9)


def test_magnetisation_critical_amplitude():
    # Near Tc: sinh 2K = 1 + 2 sqrt2 Kc t + O(t^2), t = 1 - T/Tc, so
    # m = (8 sqrt2 Kc t)^{1/8} (1 + O(t)). Relative tolerance 10 t covers the O(t) term,
    # and the t = 1e-12 point tests that no digits are lost near Tc. t is recomputed from
    # the float T actually passed (TC - T is exact there), else rounding of T alone would
    # move m by 1e-16 / t / 8 ~ 1e-5.
    Kc = 1 / TC
    for t in (1e-6, 1e-9, 1e-12):
        T = TC * (1 - t)
        t = (TC - T) / TC
        amp = (8 * np.sqrt(2) * Kc * t) ** 0.125
        assert exact.spontaneous_magnetisation(T) == pytest.approx(amp, rel=10 * t)


def test_energy_at_tc_is_minus_sqrt2():
    assert exact.energy_per_spin(TC) == pytest.approx(-np.sqrt(2.0), rel=1e-15)
    # continuity: u - u(Tc) ~ t ln t (infinite slope), so 1e-12 away it moves by ~3e-11
    for t in (1e-12, -1e-12):
        assert exact.energy_per_spin(TC * (1 - t)) == pytest.approx(-np.sqrt(2.0), abs=1e-10)


@pytest.mark.parametrize("T", [1.2, 2.0, 2.2, 2.4, 3.0, 5.0])
def test_energy_against_onsager_integral(T):
    # u = -d(-beta f)/dK, central difference with dK = 1e-4: truncation ~ dK^2 f''' ~ 1e-8,
    # quadrature noise 1e-13 / dK = 1e-9; tolerance 5e-7 keeps clear of both
    # (closest point to Tc, 2.2 and 2.4, has the largest f''').
    K, dK = 1 / T, 1e-4
    u_num = -(minus_beta_f(K + dK) - minus_beta_f(K - dK)) / (2 * dK)
    assert exact.energy_per_spin(T) == pytest.approx(u_num, abs=5e-7)


def test_energy_low_temperature_series():
    # Low-T expansion from counting flipped clusters (1 spin: x^4, N of them; domino: x^6,
    # 2N; 8 broken bonds: 7N + N(N-5)/2): -beta f = 2K + x^4 + 2 x^6 + 9/2 x^8 + O(x^10),
    # x = e^{-2K}, so u = -2 + 8x^4 + 24x^6 + 72x^8 + O(x^10).
    # At T = 0.6, x^10 = 3.3e-15; tolerance 1e-11 allows an x^10 coefficient up to 3000.
    T = 0.6
    x = np.exp(-2 / T)
    series = -2 + 8 * x ** 4 + 24 * x ** 6 + 72 * x ** 8
    assert exact.energy_per_spin(T) == pytest.approx(series, abs=1e-9)


def test_energy_high_temperature_series():
    # High-T expansion (self-dual of the above, t = tanh K):
    # -beta f = ln 2 + 2 ln cosh K + t^4 + 2 t^6 + O(t^8), so
    # u = -2t - (4t^3 + 12t^5)(1 - t^2) + O(t^7). At T = 10, t^7 = 1e-7; tol 5e-6.
    T = 10.0
    t = np.tanh(1 / T)
    series = -2 * t - (4 * t ** 3 + 12 * t ** 5) * (1 - t ** 2)
    assert exact.energy_per_spin(T) == pytest.approx(series, abs=5e-6)
    # leading term alone at T = 1000: relative correction 2 t^2 ~ 2e-6
    assert exact.energy_per_spin(1000.0) == pytest.approx(-2 * np.tanh(1e-3), rel=5e-6)


@pytest.mark.parametrize("T", [0.8, 1.5, 2.0, 2.2, 2.3, 3.0, 10.0])
def test_specific_heat_is_derivative_of_energy(T):
    # Five-point central difference, step 1e-3: truncation h^4 u^(5) / 30 < 1e-9 away from
    # Tc (the closest points 2.2 and 2.3 are 0.03 away), rounding 1e-16 / 1e-3 ~ 1e-13.
    h = 1e-3
    u = exact.energy_per_spin
    du = (-u(T + 2 * h) + 8 * u(T + h) - 8 * u(T - h) + u(T - 2 * h)) / (12 * h)
    assert exact.specific_heat_per_spin(T) == pytest.approx(du, rel=1e-6, abs=1e-12)


def test_specific_heat_log_divergence():
    # c ~ -A ln|t| + const with A = (2/pi)(2 Kc)^2 on both sides of Tc (Onsager 1944).
    # The slope between t = 1e-6 and 1e-9 has corrections O(t ln t) ~ 1e-5; tol 1e-4.
    A = (2 / np.pi) * (2 / TC) ** 2
    c = exact.specific_heat_per_spin
    for sign in (+1, -1):
        slope = (c(TC * (1 - sign * 1e-9)) - c(TC * (1 - sign * 1e-6))) / np.log(1e3)
        assert slope == pytest.approx(A, rel=1e-4)
    # symmetric amplitude and constant: c(Tc(1+t)) - c(Tc(1-t)) = O(t ln t)
    assert c(TC * (1 + 1e-8)) == pytest.approx(c(TC * (1 - 1e-8)), abs=1e-6)
    assert np.isinf(c(exact.ONSAGER_TC))


def test_specific_heat_limits():
    # low T: c = du/dT with u = -2 + 8x^4: c = 64 K^2 x^4 (1 + O(x^2)), x^2 = e^{-4/T}
    T = 0.5
    K, x = 1 / T, np.exp(-2 / T)
    assert exact.specific_heat_per_spin(T) == pytest.approx(64 * K ** 2 * x ** 4, rel=5 * x ** 2)
    # high T: u ~ -2 tanh K gives c ~ 2 K^2 (1 + O(K^2))
    assert exact.specific_heat_per_spin(100.0) == pytest.approx(2e-4, rel=1e-3)


def test_vectorised_shapes_and_scalars():
    T = np.linspace(0.5, 4.0, 12).reshape(3, 4)
    for f in (exact.spontaneous_magnetisation, exact.energy_per_spin,
              exact.specific_heat_per_spin):
        out = f(T)
        assert out.shape == (3, 4)
        assert isinstance(f(1.7), float)
        np.testing.assert_allclose(out[1, 2], f(float(T[1, 2])), rtol=1e-15)


@pytest.mark.parametrize("m", [0.1, 0.5, 0.9, 0.99, 0.999999])
def test_temperature_at_magnetisation_round_trip(m):
    T = exact.temperature_at_magnetisation(m)
    assert 0 < T < TC
    # Yang's relation in the well-conditioned form sinh(2/T)^4 (1 - m^8) = 1: relative
    # error a few ulp of T times d ln sinh^4 / d ln T <= 8 K coth 2K < 60 here, plus the
    # rounding of 1 - m**8 as written here, 2 eps / (1 - m^8).
    tol = 1e-13 + 4.5e-16 / (1 - m ** 8)
    assert np.sinh(2 / T) ** 4 * (1 - m ** 8) == pytest.approx(1.0, rel=tol)
    # and back: m(T) is steep near Tc (dm/m = dT/T * 1/(8 m^8) * O(1)), so the round trip
    # loses ~eps / m^8 = 1e-8 relative at m = 0.1; tolerance 1e-7
    assert exact.spontaneous_magnetisation(T) == pytest.approx(m, rel=1e-7)


def test_temperature_at_magnetisation_ends():
    assert exact.temperature_at_magnetisation(0.0) == TC
    assert exact.temperature_at_magnetisation(1.0) == 0.0
    out = exact.temperature_at_magnetisation([0.2, 0.8])
    assert out.shape == (2,) and out[0] > out[1]


@pytest.mark.parametrize("f", [exact.spontaneous_magnetisation, exact.energy_per_spin,
                               exact.specific_heat_per_spin])
@pytest.mark.parametrize("bad", [0.0, -1.0, np.nan, np.inf])
def test_bad_temperature(f, bad):
    with pytest.raises(ValueError, match=r"T = .*> 0"):
        f(bad)
    with pytest.raises(ValueError, match="T = "):
        f([1.0, bad])


@pytest.mark.parametrize("bad", [-0.1, 1.5, np.nan])
def test_bad_magnetisation(bad):
    with pytest.raises(ValueError, match=r"m = .*\[0, 1\]"):
        exact.temperature_at_magnetisation(bad)


def test_bad_coupling():
    with pytest.raises(ValueError, match="J = -1"):
        exact.onsager_tc(-1.0)
