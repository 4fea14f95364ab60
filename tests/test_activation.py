"""Activation functions, spike-count closed forms, fits and quasi-static spike counts."""

import numpy as np
import pytest
from scipy import integrate

from isingneuron import activation as act
from isingneuron import exact

LN2 = np.log(2.0)


# ------------------------------------------------------------------------- closed forms

@pytest.mark.parametrize("Q", [-3.0, -0.5, 0.3, 1.0, 2.5, 8.0])
def test_spike_count_tanh_is_integral(Q):
    # quad of a smooth integrand: error ~1e-14; tolerance 1e-12
    ref, _ = integrate.quad(lambda x: 0.5 * (np.tanh(x) + 1), 0.0, Q, epsabs=1e-14)
    assert act.spike_count_tanh(Q) == pytest.approx(ref, abs=1e-12)
    # and the antiderivative 1/2 ln cosh Q + Q/2 written out (moderate Q: no overflow)
    assert act.spike_count_tanh(Q) == pytest.approx(0.5 * np.log(np.cosh(Q)) + Q / 2,
                                                    abs=1e-14)


@pytest.mark.parametrize("Q", [-3.0, -0.5, 0.3, 1.0, 2.5, 8.0])
def test_spike_count_sigmoid_is_integral(Q):
    ref, _ = integrate.quad(lambda x: 1 / (1 + np.exp(-x)), 0.0, Q, epsabs=1e-14)
    assert act.spike_count_sigmoid(Q) == pytest.approx(ref, abs=1e-12)


def test_spike_counts_zero_at_zero_and_slope_one():
    assert act.spike_count_tanh(0.0) == 0.0
    assert act.spike_count_sigmoid(0.0) == 0.0
    # large Q: S = Q - ln2/2 (tanh) or Q - ln2 (sigmoid) up to e^{-2Q} or e^{-Q};
    # at Q = 50 those are < 2e-22, so compare to a few ulp of 50
    for Q in (50.0, 1e4, 1e300):
        assert act.spike_count_tanh(Q) == pytest.approx(Q - LN2 / 2, rel=1e-15, abs=1e-13)
        assert act.spike_count_sigmoid(Q) == pytest.approx(Q - LN2, rel=1e-15, abs=1e-13)
    assert act.spike_count_tanh(51.0) - act.spike_count_tanh(50.0) == pytest.approx(1, abs=1e-13)
    # Q -> -inf: the definite integral from 0 tends to -ln2/2 and -ln2 (no overflow)
    with np.errstate(over="raise", invalid="raise"):
        assert act.spike_count_tanh(-1e4) == pytest.approx(-LN2 / 2, rel=1e-15)
        assert act.spike_count_sigmoid(-1e4) == pytest.approx(-LN2, rel=1e-15)


def test_eq2_values():
    assert act.eq2(1.0) == 0.5
    # at T - Tc = +-1/a, m = (1 -+ tanh 1)/2
    assert act.eq2(1 + 1 / 6) == pytest.approx((1 - np.tanh(1)) / 2, rel=1e-15)
    assert act.eq2(1 - 1 / 6) == pytest.approx((1 + np.tanh(1)) / 2, rel=1e-15)
    np.testing.assert_allclose(act.eq2(np.array([-10.0, 10.0]), a=6.0, Tc=1.0), [1, 0],
                               atol=1e-30)


def test_relu_softplus_elu():
    Q = np.array([-2.0, 0.5, 1.0, 3.0])
    np.testing.assert_array_equal(act.relu(Q, slope=2.0, threshold=1.0), [0, 0, 0, 4.0])
    # softplus -> relu as sharpness grows: the gap is at most slope ln2 / sharpness (at
    # the threshold)
    sp = act.softplus(Q, slope=2.0, threshold=1.0, sharpness=1e3)
    assert np.max(np.abs(sp - act.relu(Q, 2.0, 1.0))) <= 2 * LN2 / 1e3 + 1e-15
    assert act.softplus(1.0, 2.0, 1.0, 1e3) == pytest.approx(2 * LN2 / 1e3, rel=1e-14)
    # softplus with sharpness 2 is the tanh spike count shifted by ln2/2 (identity)
    assert act.softplus(0.7, 1.0, 0.0, 2.0) == pytest.approx(
        act.spike_count_tanh(0.7) + LN2 / 2, rel=1e-14)
    # elu: linear above, alpha (e^x - 1) below, saturating at -slope*alpha
    e = act.elu(np.array([3.0, 1.0, 0.0, -50.0]), slope=1.5, threshold=1.0, alpha=0.8)
    np.testing.assert_allclose(e, [3.0, 0.0, 1.5 * 0.8 * np.expm1(-1.0), -1.2], rtol=1e-14)


# ------------------------------------------------------------------------- fits

def _assert_recovers(res, true, nsig=3.0):
    for name, value in true.items():
        err = res.errors[name]
        assert np.isfinite(err) and err > 0
        assert abs(res.params[name] - value) < nsig * err, (name, res.params[name], value, err)


def _assert_chi2_ok(res):
    # chi2/dof has standard deviation sqrt(2/dof); allow 4 of them around 1
    assert abs(res.reduced_chi2 - 1) < 4 * np.sqrt(2 / res.dof)
    assert 1e-4 < res.pvalue < 1 - 1e-4


def test_fit_eq2_recovers_paper_parameters():
    rng = np.random.default_rng(2024)
    T = np.linspace(0.0, 2.0, 60)
    sigma = 0.01
    m = act.eq2(T, 6.0, 1.0) + rng.normal(0.0, sigma, T.size)
    res = act.fit_eq2(T, m, sigma=sigma)
    assert res.model == "eq2" and res.dof == 58
    _assert_recovers(res, {"a": 6.0, "Tc": 1.0})
    _assert_chi2_ok(res)
    np.testing.assert_allclose(res.predict(T), act.eq2(T, res.params["a"], res.params["Tc"]))
    assert res(1.0) == pytest.approx(act.eq2(1.0, res.params["a"], res.params["Tc"]))


def test_fit_eq2_without_sigma():
    rng = np.random.default_rng(5)
    T = np.linspace(2.0, 6.0, 80)
    m = act.eq2(T, 2.0, 4.0) + rng.normal(0.0, 0.02, T.size)
    res = act.fit_eq2(T, m)
    assert res.pvalue is None
    _assert_recovers(res, {"a": 2.0, "Tc": 4.0})
    # unweighted chi2 = sum of squared residuals ~ n sigma^2 (+- 4 sqrt(2/dof) relative)
    assert res.chi2 / res.dof / 0.02 ** 2 == pytest.approx(1, abs=4 * np.sqrt(2 / res.dof))


CASES = [
    ("relu", {"slope": 2.0, "threshold": 1.0}, (0.0, 5.0)),
    ("softplus", {"slope": 1.2, "threshold": 2.0, "sharpness": 2.0}, (0.0, 6.0)),
    ("elu", {"slope": 1.5, "threshold": 2.0, "alpha": 0.8}, (-2.0, 6.0)),
    ("spike_count_tanh", {"amplitude": 3.0, "width": 0.5, "shift": 1.0}, (0.0, 6.0)),
    ("spike_count_sigmoid", {"amplitude": 2.0, "width": 0.8, "shift": 1.5}, (0.0, 8.0)),
]


@pytest.mark.parametrize("model,true,span", CASES)
def test_fit_transfer_recovers_parameters(model, true, span):
    rng = np.random.default_rng(11)
    Q = np.linspace(*span, 80)
    sigma = np.full(Q.size, 0.05)
    func = {"relu": act.relu, "softplus": act.softplus, "elu": act.elu}.get(model)
    if func is None:
        base = act.spike_count_tanh if model == "spike_count_tanh" else act.spike_count_sigmoid
        clean = true["amplitude"] * base((Q - true["shift"]) / true["width"])
    else:
        clean = func(Q, **true)
    S = clean + rng.normal(0.0, sigma)
    res = act.fit_transfer(Q, S, sigma=sigma, model=model)
    assert res.model == model and set(res.params) == set(true)
    _assert_recovers(res, true)
    _assert_chi2_ok(res)
    # the fitted curve's own error is ~ sigma sqrt(n_params / n_points) ~ 0.2 sigma, so it
    # must stay within 3 sigma of the noiseless curve everywhere
    assert np.max(np.abs(res.predict(Q) - clean)) < 3 * 0.05


def test_fit_transfer_bad_inputs():
    Q = np.linspace(0, 1, 10)
    with pytest.raises(ValueError, match="model = 'gelu'"):
        act.fit_transfer(Q, Q, model="gelu")
    with pytest.raises(ValueError, match="same length"):
        act.fit_transfer(Q, Q[:-1])
    with pytest.raises(ValueError, match="sigma = 0.0"):
        act.fit_transfer(Q, Q, sigma=0.0)
    with pytest.raises(ValueError, match="not enough"):
        act.fit_transfer(Q[:2], Q[:2])
    with pytest.raises(ValueError, match="p0"):
        act.fit_transfer(Q, Q, model="relu", p0=(1.0, 0.0, 3.0))


# ------------------------------------------------------------------------- quasi-static

def test_dwell_time_meanfield_by_hand():
    # T_theta = Tc theta / atanh(theta) = 3.6 / atanh(0.9) = 2.44529... (Tc = 4)
    T_theta = 3.6 / np.arctanh(0.9)
    out = act.quasi_static_dwell_time(np.array([0.5, 4.0, 5.0]), 6.0, 0.5,
                                      theta=0.9, theory="meanfield")
    # depth 0.5: T never below 5.5 > T_theta -> 0; depth 4: from 2 up to T_theta;
    # depth 5: from 1 up to T_theta
    np.testing.assert_allclose(out, [0.0, (T_theta - 2.0) / 0.5, (T_theta - 1.0) / 0.5],
                               rtol=1e-14)
    # bath itself below T_theta: the membrane fires the whole reheating time depth/rate
    assert act.quasi_static_dwell_time(1.0, 2.0, 0.25, theory="meanfield") == pytest.approx(4.0)
    # reduced units: Tc = 1 scales T_theta by 1/4
    assert act.quasi_static_dwell_time(0.9, 1.0, 1.0, theory="meanfield", Tc=1.0) == \
        pytest.approx(T_theta / 4 - 0.1, rel=1e-14)


def test_dwell_time_exact_against_time_grid():
    # Independent route: walk the quench on a fine time grid and count the time with
    # Onsager-Yang m(T(t)) >= theta. Grid step 1e-4 sweeps -> error <= 2e-4.
    depth, bath, rate, theta = 1.5, 3.0, 0.2, 0.9
    dt = 1e-4
    t = np.arange(0.0, depth / rate, dt) + dt / 2
    T = bath - depth + rate * t
    grid = np.sum(exact.spontaneous_magnetisation(T) >= theta) * dt
    out = act.quasi_static_dwell_time(depth, bath, rate, theta=theta, theory="exact")
    assert out == pytest.approx(grid, abs=2e-4)
    # closed form by hand: sinh(2/T_theta) = (1 - theta^8)^(-1/4)
    T_theta = 2 / np.arcsinh((1 - theta ** 8) ** -0.25)
    assert out == pytest.approx((T_theta - 1.5) / 0.2, rel=1e-12)


def test_dwell_time_vectorised_and_validated():
    out = act.quasi_static_dwell_time(np.linspace(0, 2.9, 7), 3.0, 1.0)
    assert out.shape == (7,) and np.all(np.diff(out) >= 0) and out[0] == 0.0
    with pytest.raises(ValueError, match="rate = 0.0"):
        act.quasi_static_dwell_time(1.0, 3.0, 0.0)
    with pytest.raises(ValueError, match="depth = -1.0"):
        act.quasi_static_dwell_time(-1.0, 3.0, 1.0)
    with pytest.raises(ValueError, match="theta = 1.0"):
        act.quasi_static_dwell_time(1.0, 3.0, 1.0, theta=1.0)
    with pytest.raises(ValueError, match="theta = 0.0"):
        act.quasi_static_dwell_time(1.0, 3.0, 1.0, theta=0.0)
    with pytest.raises(ValueError, match="theory = 'bethe'"):
        act.quasi_static_dwell_time(1.0, 3.0, 1.0, theory="bethe")
    with pytest.raises(ValueError, match="depth = 3.5 .* bath = 3.0"):
        act.quasi_static_dwell_time(3.5, 3.0, 1.0)


@pytest.mark.parametrize("theory,Tc", [("exact", exact.ONSAGER_TC), ("meanfield", 4.0)])
@pytest.mark.parametrize("depth,bath", [(1.0, 3.0), (2.5, 3.0), (0.5, 6.0), (1.0, 2.0)])
def test_area_against_direct_quadrature(theory, Tc, depth, bath):
    # Independent route: integrate m_eq(T) over T directly (quad, with the Tc kink as a
    # break point); the (Tc - T)^{1/8} endpoint limits quad to ~1e-8, tolerance 1e-6.
    rate = 0.5
    if theory == "exact":
        m_eq = exact.spontaneous_magnetisation
    else:
        from isingneuron.meanfield import magnetisation as m_eq
    lo, hi = bath - depth, min(bath, Tc)
    ref = 0.0
    if hi > lo:
        ref, _ = integrate.quad(m_eq, lo, hi, limit=400, epsabs=1e-12)
    out = act.quasi_static_area(depth, bath, rate, theory=theory)
    assert out == pytest.approx(ref / rate, abs=1e-6)


def test_area_limits():
    # deep below Tc m ~ 1: area = depth / rate minus int (1 - m) <= depth (1 - m(bath))
    out = act.quasi_static_area(0.5, 1.0, 1.0, theory="exact")
    assert 0.5 * exact.spontaneous_magnetisation(1.0) <= out <= 0.5
    # quench staying above Tc: nothing
    assert act.quasi_static_area(1.0, 5.0, 1.0, theory="exact") == 0.0
    assert act.quasi_static_area(np.array([0.0, 1.0]), 6.0, 1.0, theory="meanfield").shape == (2,)


# ------------------------------------------------------------------------- populations

def test_erf_response_is_the_normal_cdf():
    # closed forms: Phi((mu - Q*) / w), 1/2 at the threshold, symmetric about it
    from scipy import stats
    mu = np.linspace(-1.0, 3.0, 41)
    np.testing.assert_allclose(act.erf_response(mu, 1.0, 0.4),
                               stats.norm.cdf((mu - 1.0) / 0.4), atol=1e-14)
    assert act.erf_response(0.7, 0.7, 0.3) == pytest.approx(0.5, abs=1e-15)
    assert act.erf_response(1.0, 0.7, 0.3) == pytest.approx(stats.norm.cdf(1.0), abs=1e-15)
    np.testing.assert_allclose(act.erf_response(0.7 + mu, 0.7, 0.3)
                               + act.erf_response(0.7 - mu, 0.7, 0.3), 1.0, atol=1e-14)


def test_erf_response_fit_recovers_its_parameters():
    # fractions of n = 20000 Bernoulli draws per input from a known erf: a weighted fit
    # of erf_response recovers threshold and width within 3 of its (binomial) errors,
    # and chi2/dof is near 1 (the errors are right, not merely large)
    from scipy import optimize, stats
    rng = np.random.default_rng(11)
    q_star, width, n = 1.1, 0.3, 20000
    mu = np.linspace(0.4, 1.8, 15)
    frac = rng.binomial(n, act.erf_response(mu, q_star, width)) / n
    err = np.sqrt(np.clip(frac * (1 - frac), 1 / n, None) / n)
    popt, pcov = optimize.curve_fit(act.erf_response, mu, frac, p0=(1.0, 0.5), sigma=err,
                                    absolute_sigma=True)
    perr = np.sqrt(np.diag(pcov))
    assert abs(popt[0] - q_star) < 3 * perr[0] and perr[0] < 0.01
    assert abs(popt[1] - width) < 3 * perr[1] and perr[1] < 0.01
    chi2 = np.sum(((frac - act.erf_response(mu, *popt)) / err) ** 2)
    assert stats.chi2.sf(chi2, mu.size - 2) > 1e-3


def _probit_draws(seed, n, q0, w, lo, hi):
    from scipy import stats
    rng = np.random.default_rng(seed)
    x = rng.uniform(lo, hi, n)
    return x, rng.random(n) < stats.norm.cdf((x - q0) / w)


def test_probit_fit_recovers_threshold_and_width():
    # 20000 neurones with P(fire | Q) = Phi((Q - q0) / w): the fit lands within 3 of its
    # stated errors, and those errors are the Cramer-Rao ones from the Fisher information
    # at the true parameters (10 %)
    from scipy import stats
    q0, w = 1.0, 0.2
    x, fired = _probit_draws(7, 20000, q0, w, 0.0, 2.0)
    f = act.probit_fit(x, fired)
    assert f["separable"] is False
    assert abs(f["threshold"] - q0) < 3 * f["threshold_err"]
    assert abs(f["width"] - w) < 3 * f["width_err"]
    z = (x - q0) / w
    p, phi = stats.norm.cdf(z), stats.norm.pdf(z)
    grad = np.stack([-phi / w, -phi * z / w])           # dp/dq0, dp/dw
    fisher = (grad[:, None, :] * grad[None, :, :] / (p * (1 - p))).sum(axis=-1)
    cr = np.sqrt(np.diag(np.linalg.inv(fisher)))
    assert f["threshold_err"] == pytest.approx(cr[0], rel=0.1)
    assert f["width_err"] == pytest.approx(cr[1], rel=0.1)
    # the shape of the input does not matter (it is flattened)
    g = act.probit_fit(x.reshape(100, 200), fired.reshape(100, 200))
    assert g["threshold"] == f["threshold"] and g["width"] == f["width"]


def test_probit_fit_errors_are_calibrated():
    # over 60 independent samples of 1000 neurones the pulls (fit - truth) / error have
    # mean ~0 and spread ~1: the stated errors are neither too small nor too large
    # (margins: 4 standard errors of the mean and of the spread of 60 pulls)
    q0, w = 1.0, 0.2
    pulls = []
    for seed in range(60):
        x, fired = _probit_draws(100 + seed, 1000, q0, w, 0.5, 1.5)
        f = act.probit_fit(x, fired)
        pulls.append(((f["threshold"] - q0) / f["threshold_err"],
                      (f["width"] - w) / f["width_err"]))
    pulls = np.array(pulls)
    assert np.all(np.abs(pulls.mean(axis=0)) < 4 / np.sqrt(60))
    assert np.all(np.abs(pulls.std(axis=0, ddof=1) - 1) < 4 / np.sqrt(2 * 59))


def test_probit_fit_separable_and_degenerate():
    # every silent depth below every firing one: the threshold lies in the gap and no
    # error bar exists
    x = np.array([0.1, 0.2, 0.3, 0.5, 0.6, 0.7])
    fired = x > 0.4
    f = act.probit_fit(x, fired)
    assert f["separable"] is True and f["gap"] == (0.3, 0.5)
    assert 0.3 <= f["threshold"] <= 0.5
    assert np.isnan(f["threshold_err"]) and np.isnan(f["width_err"])
    # all fired (or none): nothing to fit
    for y in (np.ones(6, bool), np.zeros(6, bool)):
        g = act.probit_fit(x, y)
        assert g["separable"] is False
        assert all(np.isnan(g[k]) for k in ("threshold", "threshold_err", "width", "width_err"))
    # overlapping outcomes are not separable
    h = act.probit_fit(x, [0, 1, 0, 1, 0, 1])
    assert h["separable"] is False and h["gap"] == (0.6, 0.2)


def test_fit_summary_is_plain_json():
    import json
    Q = np.linspace(0.0, 3.0, 13)
    fr = act.fit_transfer(Q, act.relu(Q, 2.0, 1.0) + 0.01 * np.cos(7 * Q), sigma=0.01,
                          model="relu")
    s = act.fit_summary(fr)
    assert json.loads(json.dumps(s)) == s
    assert s["model"] == "relu" and set(s["params"]) == {"slope", "threshold"}
    assert s["params"] == fr.params and s["errors"] == fr.errors
    assert s["dof"] == 11 and s["reduced_chi2"] == pytest.approx(fr.chi2 / 11)
    assert s["pvalue"] == pytest.approx(fr.pvalue)
    assert act.fit_summary(act.fit_transfer(Q, act.relu(Q, 2.0, 1.0)))["pvalue"] is None
    assert act.fit_summary(None) is None
