"""Mean-field statics and dynamics against closed forms and exact ODE solutions."""

import numpy as np
import pytest

from isingneuron import meanfield as mf


# ------------------------------------------------------------------------- statics

@pytest.mark.parametrize("Tc", [1.0, 4.0])
@pytest.mark.parametrize("m_true", [1e-6, 1e-3, 0.1, 0.5, 0.9, 0.999, 0.999999])
def test_roots_against_inverse(Tc, m_true):
    # For h = 0 the non-zero root satisfies T = Tc m / atanh(m) exactly: choose m, form T,
    # solve back. Rounding T (relative 1.1e-16) moves the root by dm/m = dT/T / (2 m^2/3)
    # near Tc (T/Tc = 1 - m^2/3), so the tolerance is 2.2e-16 / (m^2/3) plus 1e-12.
    T = Tc * m_true / np.arctanh(m_true)
    tol = 1e-12 + 2.2e-16 / (m_true ** 2 / 3)
    assert mf.magnetisation(T, 0.0, Tc) == pytest.approx(m_true, rel=tol)
    # and it solves the self-consistency equation itself
    m = mf.magnetisation(T, 0.0, Tc)
    assert np.tanh(Tc * m / T) == pytest.approx(m, rel=1e-13)


def test_zero_above_tc():
    m = mf.magnetisation(np.array([4.0, 4.0 + 1e-12, 5.0, 100.0]))
    assert np.all(m == 0.0)
    assert mf.magnetisation(1.0, Tc=1.0) == 0.0


@pytest.mark.parametrize("eps", [1e-4, 1e-8, 1e-12])
def test_near_tc_square_root(eps):
    # Expanding T/Tc = m/atanh(m) = 1 - m^2/3 - 4 m^4/45 + O(m^6) gives
    # m = sqrt(3 eps) (1 - 2 eps/5 + O(eps^2)). eps is recomputed from the float T (exact,
    # Tc = 4), so the tolerance is the O(eps^2) remainder (10 eps^2) plus 1e-14 for the
    # solver: the point eps = 1e-12 checks that no digits are lost next to Tc.
    Tc = 4.0
    T = Tc * (1 - eps)
    eps = (Tc - T) / Tc  # the eps actually represented
    expected = np.sqrt(3 * eps) * (1 - 0.4 * eps)
    assert mf.magnetisation(T, 0.0, Tc) == pytest.approx(expected,
                                                         rel=10 * eps ** 2 + 1e-14)


def test_low_temperature_limit():
    # m = 1 - d with d = 2E + (8a - 2) E^2 + O(a^2 E^3), a = Tc/T, E = e^{-2a}
    # (from tanh x = 1 - 2e^{-2x} + 2e^{-4x}, x = a (1 - d)). At a = 8 and 10 the
    # remainder is < 1e-19; tolerance 1e-15 = 9 ulp at 1 (brentq stops at 4 eps relative).
    Tc = 4.0
    for a in (8.0, 10.0):
        E = np.exp(-2 * a)
        expected = 1 - 2 * E - (8 * a - 2) * E ** 2
        assert mf.magnetisation(Tc / a, 0.0, Tc) == pytest.approx(expected, abs=1e-15)
    assert mf.magnetisation(1e-3, 0.0, Tc) == 1.0


def test_sign_follows_field():
    T = np.array([2.0, 4.0, 6.0])
    up = mf.magnetisation(T, 0.05)
    down = mf.magnetisation(T, -0.05)
    assert np.all(up > 0) and np.all(down < 0)
    np.testing.assert_array_equal(up, -down)
    # each is a fixed point of m = tanh((Tc m + h)/T)
    np.testing.assert_allclose(np.tanh((4 * up + 0.05) / T), up, rtol=1e-13)
    # below Tc the h > 0 equation also has a metastable m < 0 root; ours is the lower F
    grid = np.linspace(-1, -0.5, 5001)
    assert mf.free_energy(up[0], 2.0, 0.05) < np.min(mf.free_energy(grid, 2.0, 0.05))


def test_small_field_above_tc_is_curie_weiss():
    # Linear response above Tc: m = h / (T - Tc) (1 + O(m^2)); h = 1e-8 -> m ~ 1e-8.
    for T in (5.0, 8.0):
        assert mf.magnetisation(T, 1e-8) == pytest.approx(1e-8 / (T - 4.0), rel=1e-12)


def test_broadcast_t_and_h():
    out = mf.magnetisation(np.array([[2.0], [6.0]]), np.array([0.0, 0.1, -0.1]))
    assert out.shape == (2, 3)
    assert out[1, 0] == 0.0 and out[1, 1] > 0 > out[1, 2]
    assert isinstance(mf.magnetisation(2.0), float)


def test_free_energy_formula_and_minimum():
    # direct evaluation of the paper's F (moderate arguments, so the naive form is fine)
    m, T, h, Tc = 0.3, 3.0, 0.2, 4.0
    naive = Tc * m ** 2 / 2 - T * np.log(2 * np.cosh((Tc * m + h) / T))
    assert mf.free_energy(m, T, h, Tc) == pytest.approx(naive, rel=1e-14)
    # stable for huge arguments: ln(2 cosh x) -> |x|, so F -> Tc m^2/2 - |Tc m + h|
    assert mf.free_energy(1.0, 1e-3, 0.0, 4.0) == pytest.approx(2.0 - 4.0, rel=1e-12)
    # the root minimises F on a fine grid (grid spacing 1e-4 -> F resolution ~1e-8)
    grid = np.linspace(-1, 1, 20001)
    for T, h in ((2.0, 1e-3), (3.5, 0.02), (3.0, -0.1), (6.0, 0.3), (6.0, 0.0)):
        m_star = mf.magnetisation(T, h)
        F = mf.free_energy(grid, T, h)
        assert abs(grid[np.argmin(F)] - m_star) < 2e-4


def test_bethe_tc():
    assert mf.bethe_tc() == pytest.approx(2 / np.log(2), rel=1e-15)
    assert mf.bethe_tc(4, 1.0) == pytest.approx(2.8853900817779268, rel=1e-14)
    # large z: 2/ln(z/(z-2)) = z - 1 - 1/(3z) + O(1/z^2) -> mean-field zJ minus 1
    assert mf.bethe_tc(1000) == pytest.approx(1000 - 1 - 1 / 3000, abs=1e-5)
    assert mf.TC_MEANFIELD == 4.0


@pytest.mark.parametrize("kwargs,match", [
    (dict(T=0.0), "T = 0.0"), (dict(T=-1.0), "T = -1.0"), (dict(T=np.nan), "T = nan"),
    (dict(T=1.0, Tc=0.0), "Tc = 0.0"), (dict(T=1.0, h=np.inf), "h = inf"),
])
def test_magnetisation_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        mf.magnetisation(**kwargs)


def test_bethe_bad_z():
    with pytest.raises(ValueError, match="z = 2.0"):
        mf.bethe_tc(2)
    with pytest.raises(ValueError, match="J = -1"):
        mf.bethe_tc(4, -1.0)


# ------------------------------------------------------------------------- dynamics

@pytest.mark.parametrize("T,h", [(2.0, 0.0), (3.0, 0.0), (3.0, 0.1), (6.0, 0.2), (5.0, 0.0)])
def test_relaxes_to_fixed_point(T, h):
    # After 200 tau the distance to the fixed point is below e^{-200 (1 - Tc/T)} or
    # e^{-200 (1 - (1-m^2) Tc/T)} < 1e-10 for these cases; tolerance 1e-9.
    m = mf.glauber_dynamics(np.full(200, T), [200], h=h, m0=0.5)
    assert m[0] == pytest.approx(mf.magnetisation(T, h), abs=1e-9)


def test_linear_relaxation_time_above_tc():
    # Linearised: tau dm/dt = -(1 - Tc/T) m, so m = m0 exp(-t (1 - Tc/T) / tau).
    # m0 = 1e-6 makes the cubic term (Tc m / T)^3 / 3 a 1e-12 relative correction;
    # the fitted rate must match to 1e-8 (the integrator's accuracy).
    T, tau, Tc = 6.0, 2.5, 4.0
    t = np.arange(0, 41)
    m = mf.glauber_dynamics(np.full(40, T), t, tau=tau, Tc=Tc, m0=1e-6)
    rate = -np.polyfit(t, np.log(m), 1)[0]
    assert rate == pytest.approx((1 - Tc / T) / tau, rel=1e-8)
    assert tau / (1 - Tc / T) == pytest.approx(7.5)


def test_infinite_temperature_decay():
    # T -> infinity (1e15): tanh(.) ~ 4e-15 m, so tau dm/dt = -m and m = m0 e^{-t/tau};
    # relative error of the model ~4e-15 t, integrator 1e-9 -> tolerance 1e-8
    t = np.array([0, 1, 2, 5, 10])
    m = mf.glauber_dynamics(np.full(10, 1e15), t, tau=3.0, m0=0.8)
    np.testing.assert_allclose(m, 0.8 * np.exp(-t / 3.0), rtol=1e-8)


def test_piecewise_constant_convention():
    # Linear regime with a different temperature every sweep: sweep s multiplies m by
    # exp((Tc/T_s - 1)/tau), so after k sweeps m = m0 exp(sum_{s<k} (Tc/T_s - 1)/tau).
    # An off-by-one in the convention changes these by factors e^{+-0.5}; with m0 = 1e-7
    # (max m ~ 1e-6) the cubic term is a 1e-12 relative correction: tolerance 1e-8.
    rng = np.random.default_rng(7)
    T = rng.uniform(3.0, 8.0, size=8)
    tau, Tc, m0 = 1.5, 4.0, 1e-7
    t = np.arange(0, 9)
    m = mf.glauber_dynamics(T, t, tau=tau, Tc=Tc, m0=m0)
    expected = m0 * np.exp(np.concatenate(([0.0], np.cumsum((Tc / T - 1) / tau))))
    np.testing.assert_allclose(m, expected, rtol=1e-8)
    # default records: t = 1..n_sweeps
    np.testing.assert_allclose(mf.glauber_dynamics(T, tau=tau, Tc=Tc, m0=m0), expected[1:],
                               rtol=1e-8)
    # records in any order
    np.testing.assert_allclose(mf.glauber_dynamics(T, [5, 2], tau=tau, Tc=Tc, m0=m0),
                               expected[[5, 2]], rtol=1e-8)


def test_field_step_linear_solution():
    # At T = 1e5, h = 1: x = (Tc m + h)/T ~ 1e-5, so tanh x = x (1 - x^2/3) is linear to
    # 3e-11 relative: tau m' = -a m + b with a = 1 - Tc/T, b = h/T.
    # One sweep at T1 then two at T2: m = b/a + (m_start - b/a) e^{-a t/tau} on each piece.
    tau, Tc, h = 0.7, 4.0, 1.0
    temps = np.array([1e5, 2e5, 2e5])
    t = np.array([1, 2, 3])
    m = mf.glauber_dynamics(temps, t, tau=tau, Tc=Tc, h=h, m0=0.0)
    out, cur = [], 0.0
    for T in temps:
        a, b = 1 - Tc / T, h / T
        cur = b / a + (cur - b / a) * np.exp(-a / tau)
        out.append(cur)
    np.testing.assert_allclose(m, out, rtol=1e-8)


def test_replicas_2d_schedule():
    # Two replicas, each in the linear regime of the previous test: (R, n_records) output,
    # each row its own analytic answer.
    temps = np.array([[6.0, 6.0, 8.0], [3.0, 5.0, 5.0]])
    m0 = np.array([1e-7, 2e-7])
    m = mf.glauber_dynamics(temps, [0, 3], m0=m0)
    assert m.shape == (2, 2)
    expected = m0 * np.exp(np.sum(4.0 / temps - 1, axis=1))
    np.testing.assert_allclose(m[:, 0], m0, rtol=0)
    np.testing.assert_allclose(m[:, 1], expected, rtol=1e-8)
    # a shared 1-D schedule with one field per replica
    h = np.array([0.1, -0.1, 0.0])
    m = mf.glauber_dynamics(np.full(300, 3.0), [300], h=h)
    np.testing.assert_allclose(m[:, 0], mf.magnetisation(3.0, h), atol=1e-9)


def test_long_rest_keeps_sign_and_digits():
    # 3000 sweeps at T = 6 then T = 2 (Tc = 4), h = 0: linear regime throughout the decay
    # and regrowth, ln|m| = ln|m0| - 3000 (1 - 4/6) + 990 (4/2 - 1) after 3990 sweeps, i.e.
    # m passes through |m| = e^-1014 (below the smallest float) and must come back with its
    # sign and digits. m0 = 1e-6: the cubic term shifts ln m by ~1e-13; tolerance 1e-8.
    T = np.r_[np.full(3000, 6.0), np.full(1000, 2.0)]
    for m0 in (1e-6, -1e-6):
        m = mf.glauber_dynamics(T, [3000, 3990, 4000], m0=m0)
        assert m[0] * m0 >= 0 and abs(m[0]) < 1e-300
        assert m[1] == pytest.approx(m0 * np.exp(-1000.0 + 990.0), rel=1e-8)
        # and it has started to order towards the sign of m0
        assert m[2] * m0 > 0 and abs(m[2]) > 1e3 * abs(m[1])


def test_callable_schedule_exact_linear_solution():
    # Tc/T(t) = 0.5 + 0.3 sin t: in the linear regime
    # m = m0 exp(-(0.5 t - 0.3 (1 - cos t)) / tau). Same tolerance argument as above.
    tau, Tc, m0 = 1.2, 4.0, 1e-7
    t = np.linspace(0, 12, 7)
    m = mf.glauber_dynamics(lambda s: Tc / (0.5 + 0.3 * np.sin(s)), t, tau=tau, Tc=Tc, m0=m0)
    expected = m0 * np.exp(-(0.5 * t - 0.3 * (1 - np.cos(t))) / tau)
    np.testing.assert_allclose(m, expected, rtol=1e-8)


def test_unstable_fixed_point_and_default_seed():
    # h = 0, m0 = 0: m = 0 exactly forever, even far below Tc (documented)
    m = mf.glauber_dynamics(np.full(50, 1.0), [50], m0=0.0)
    assert m[0] == 0.0
    # default m0: seed 1e-3 at rest above Tc, then orders below Tc. In the linear regime
    # after one sweep at T = 8: 1e-3 e^{-1/2} (1e-6 relative from the cubic term).
    m = mf.glauber_dynamics(np.r_[8.0, np.full(100, 2.0)], [1, 101])
    assert m[0] == pytest.approx(mf.SEED_MAGNETISATION * np.exp(-0.5), rel=1e-5)
    assert m[1] == pytest.approx(mf.magnetisation(2.0), abs=1e-9)


@pytest.mark.parametrize("kwargs,match", [
    (dict(temperatures=[1.0, -2.0]), "temperatures = -2.0"),
    (dict(temperatures=[1.0, 2.0], t_eval=[3]), "t_eval"),
    (dict(temperatures=[1.0, 2.0], t_eval=[0.5]), "t_eval"),
    (dict(temperatures=[1.0, 2.0], tau=0.0), "tau = 0.0"),
    (dict(temperatures=[1.0, 2.0], m0=1.5), "m0"),
    (dict(temperatures=np.ones((2, 3)), h=np.zeros(3)), "replicas"),
    (dict(temperatures=lambda t: 1.0), "t_eval is required"),
    (dict(temperatures=lambda t: -1.0, t_eval=[1.0]), "T = -1.0"),
])
def test_glauber_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        mf.glauber_dynamics(**kwargs)
