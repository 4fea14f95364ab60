"""The four studies of isingneuron.paper (where the ReLU holds, spike trains, sparse
codes, criticality): their measures against constructed inputs with known answers,
the fast mean-field integrator against the reference one, each study end to end at
tiny sizes (in-process and from an HDF5 sweep), the configs of configs/studies/, the
scripts, and run_all / the command line with the studies.

Tiny lattices and few sweeps throughout; physics margins are stated where used; no
timing is asserted.
"""
from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import integrate
from scipy import stats as sps

from isingneuron import cli, meanfield, paper, plots, spikes
from isingneuron.config import load_config
from isingneuron.paper import measures
from isingneuron.paper._meanfield_fast import glauber_sweeps
from isingneuron.schedules import ONSAGER_TC, Quench, QuenchTrain

ROOT = Path(__file__).resolve().parent.parent
Q_THETA = 3.0 - 2.031900061696532          # exact, bath 3 J, theta 0.9


# ===================================================================== measures
def test_treves_rolls_of_known_vectors():
    assert measures.treves_rolls([1, 1, 1, 1]) == pytest.approx(1.0)
    assert measures.treves_rolls([3, 0, 0, 0]) == pytest.approx(0.25)       # one of four
    assert measures.treves_rolls([2, 0, 2, 0]) == pytest.approx(0.5)        # two of four
    assert measures.treves_rolls([1, 2, 3]) == pytest.approx(4 / (14 / 3))  # <r>^2 / <r^2>
    assert math.isnan(measures.treves_rolls([0, 0, 0]))
    a = measures.treves_rolls(np.array([[1, 1, 1, 1], [5, 0, 0, 0]]), axis=-1)
    np.testing.assert_allclose(a, [1.0, 0.25])
    # scale-free: the same code in other units
    assert measures.treves_rolls([10, 20, 30]) == pytest.approx(measures.treves_rolls([1, 2, 3]))


def test_rectified_gaussian_moments_against_quadrature():
    mu, sigma, thr = np.array([0.3, 1.0, 1.7]), 0.5, 0.968
    got = measures.rectified_gaussian_moments(mu, sigma, thr)
    for k, m in enumerate(mu):
        pdf = lambda x: sps.norm.pdf(x, m, sigma)                              # noqa: E731
        m1 = integrate.quad(lambda x: (x - thr) * pdf(x), thr, np.inf)[0]
        m2 = integrate.quad(lambda x: (x - thr) ** 2 * pdf(x), thr, np.inf)[0]
        assert got["a"][k] == pytest.approx(m1 * m1 / m2, rel=1e-7)
        assert got["mean"][k] == pytest.approx(m1, rel=1e-7)
        assert got["silent"][k] == pytest.approx(sps.norm.cdf((thr - m) / sigma), rel=1e-12)


def test_classify_relu_boundaries():
    r, q0 = 0.005, Q_THETA
    c = lambda g, dq, n=None: measures.classify_relu(g / r, q0 + dq, r, q0, n)  # noqa: E731
    assert c(1.0, 0.0) == "relu"
    assert c(1.09, 0.09) == "relu" and c(0.91, -0.09) == "relu"
    assert c(1.11, 0.0) == "steep"
    assert c(0.89, 0.0) == "suppressed"
    assert c(1.0, 0.11) == "threshold shifted" and c(1.0, -0.11) == "threshold shifted"
    assert c(1.2, 0.5) == "threshold shifted"       # the knee moved: that is what matters
    assert c(0.5, 0.5) == "suppressed"
    assert c(1.0, 0.0, n=2) == "silent"              # a fit through two firing depths
    assert measures.classify_relu(float("nan"), 1.0, r, q0) == "silent"
    assert measures.classify_relu(-100.0, 1.0, r, q0) == "silent"
    assert set(measures.RELU_CLASSES) == {"relu", "steep", "threshold shifted", "suppressed",
                                          "silent"}


@pytest.mark.parametrize("gain, shift, expected", [(1.0, 0.0, "relu"),
                                                   (1.0, 0.4, "threshold shifted"),
                                                   (0.6, 0.2, "suppressed"),
                                                   (1.25, 0.0, "steep")])
def test_relu_fit_and_classifier_on_synthetic_curves(gain, shift, expected):
    # a transfer curve S = gain/r max(0, Q - Q_theta - shift) with small Gaussian noise of
    # known sd: the fit recovers slope and threshold within 4 of its errors, and the
    # classifier reads the class the curve was built with
    r = 0.005
    Q = np.linspace(0.0, 2.5, 21)
    rng = np.random.default_rng(3)
    sd = 2.0
    S = np.maximum(0.0, Q - Q_THETA - shift) * gain / r
    S_noisy = np.where(S > 0, S + rng.normal(0, sd, Q.size), 0.0)
    f = measures.relu_fit(Q, S_noisy, np.where(S > 0, sd, 0.0), np.full(Q.size, 32))
    assert abs(f["params"]["slope"] - gain / r) < 4 * f["errors"]["slope"]
    assert abs(f["params"]["threshold"] - (Q_THETA + shift)) < 4 * f["errors"]["threshold"] + 1e-3
    n_firing = int(np.sum(S > 0))
    assert measures.classify_relu(f["params"]["slope"], f["params"]["threshold"], r, Q_THETA,
                                  n_firing) == expected


def test_relu_fit_of_a_silent_curve_is_silent():
    Q = np.linspace(0, 2.5, 11)
    f = measures.relu_fit(Q, np.zeros(11), np.zeros(11), np.full(11, 8))
    slope = f["params"]["slope"] if f else float("nan")
    thr = f["params"]["threshold"] if f else float("nan")
    assert measures.classify_relu(slope, thr, 0.005, Q_THETA, 0) == "silent"


def test_collapse_variables_collapse_a_known_scaling_form():
    # curves S = max(0, (Q - Q_theta)/r - x0 t_order) for several (r, t_order) fall exactly
    # on y = max(0, x - x0) in the scaling variables, and not in the raw ones
    x0, Q = 1.3, np.linspace(0.0, 2.5, 26)
    xs, ys, g, xr, yr = [], [], [], [], []
    for i, (r, t) in enumerate([(0.02, 10.0), (0.005, 30.0), (0.002, 200.0), (0.01, 80.0)]):
        S = np.maximum(0.0, (Q - Q_THETA) / r - x0 * t)
        x, y, ye = measures.collapse_variables(Q, S, r, t, Q_THETA, np.ones_like(S))
        np.testing.assert_allclose(x, (Q - Q_THETA) / (r * t))
        np.testing.assert_allclose(y, np.maximum(0.0, x - x0), atol=1e-12)
        np.testing.assert_allclose(ye, 1.0 / t)
        xs.append(x), ys.append(y), g.append(np.full(Q.size, i))
        xr.append(Q - Q_THETA), yr.append(S * r)
    g = np.concatenate(g)
    # common abscissae past every curve's first sample above the kink (linear
    # interpolation across the kink would differ between samplings)
    bins = np.linspace(2.0, 3.8, 10)
    assert measures.collapse_spread(np.concatenate(xs), np.concatenate(ys), g, bins) < 1e-12
    assert measures.collapse_spread(np.concatenate(xr), np.concatenate(yr), g) > 0.05


def test_first_crossing_and_censored_median():
    t = np.arange(1, 11)
    m = np.array([[0, 0, 0.95, 1, 1, 1, 1, 1, 1, 1],      # crosses at t = 3
                  [0.95, 0, 0, 0, 0, 0.9, 1, 1, 1, 1],    # before `after`: ignored; t = 6
                  [0] * 10], float)                       # never
    tc = measures.first_crossing(t, m, 0.9, after=2)
    np.testing.assert_array_equal(tc[:2], [1.0, 4.0])
    assert math.isnan(tc[2])
    assert measures.censored_median([1, 2, 3, np.nan, np.nan])["median"] == 3.0
    assert measures.censored_median([4, 1, 3, 2])["median"] == 2.5
    r = measures.censored_median([1, 2, np.nan, np.nan])          # half missing: undefined
    assert math.isnan(r["median"]) and r["censored"] == 2
    r = measures.censored_median(np.arange(1.0, 101.0), n_boot=300, seed=1)
    # bootstrap error of the median of a uniform sample of 100: sd of the median of U(1,100)
    # is ~ 0.5 * 100 / sqrt(100) = 5 (large-sample formula 1 / (2 f sqrt n) with f = 1/99)
    assert 3.0 < r["err"] < 7.5


def test_power_law_and_line_fits_recover_exact_laws():
    L = np.array([16, 32, 64, 128.0])
    f = measures.power_law_fit(L, 0.08 * L ** 2, 0.1 * 0.08 * L ** 2)
    assert f["exponent"] == pytest.approx(2.0, abs=1e-10)
    assert f["prefactor"] == pytest.approx(0.08, rel=1e-10)
    lf = measures.line_fit([0, 1, 2, 3], [1, 3, 5, 7], [0.1] * 4)
    assert lf["slope"] == pytest.approx(2.0) and lf["intercept"] == pytest.approx(1.0)
    assert measures.power_law_fit([1.0], [1.0]) is None


def _train_trace(t, spikes_at):
    """m(t) = 1 inside each (start, end) interval, 0 elsewhere."""
    m = np.zeros(t.size)
    for a, b in spikes_at:
        m[(t >= a) & (t < b)] = 1.0
    return m


def test_refractory_interval_on_hand_made_traces():
    # trial k recovers after D_k = 100, 110, 120, 130 sweeps: two inputs s apart give two
    # spikes (m falls below theta_off in between) only when s > D_k
    t = np.arange(1, 601)
    D = [100, 110, 120, 130]
    spacings = [90, 105, 115, 125, 135, 150, 200, 250]
    two = []
    for s in spacings:
        m = np.stack([_train_trace(t, [(10, 10 + d), (10 + s, 10 + s + 100)] if s > d
                                   else [(10, 10 + s + 100)]) for d in D])
        f, err, counts = measures.two_spike_fraction(t, m)
        two.append(counts >= 2)
        assert f == pytest.approx(np.mean([s > d for d in D]))
    r = measures.refractory_interval(spacings, np.array(two), n_boot=200)
    # fractions 0, 1/4, 2/4, 3/4, 1, 1, 1, 1: plateau 1, half reached exactly at s = 115
    assert r["interval"] == pytest.approx(115.0)
    assert r["plateau"] == pytest.approx(1.0)
    assert np.isfinite(r["err"]) and r["err"] > 0
    assert measures.refractory_interval(spacings, np.array(two), relative=False)["interval"] \
        == pytest.approx(115.0)
    # a deterministic model (a fraction per spacing): a step at 120
    step = measures.refractory_interval([100, 120, 140, 160, 180], [0.0, 1.0, 1.0, 1.0, 1.0])
    assert step["interval"] == pytest.approx(110.0) and math.isnan(step["err"])
    # an unreliable neurone (plateau 0.5): half of its plateau
    half = measures.refractory_interval([100, 200, 300, 400, 500], [0.0, 0.25, 0.5, 0.5, 0.5])
    assert half["interval"] == pytest.approx(200.0)
    assert math.isnan(measures.refractory_interval([1, 2, 3], [0.0, 0.0, 0.0])["interval"])


def test_spikes_per_input_and_adaptation():
    t = np.arange(1, 1001)
    inputs = [100, 400, 700]
    m = np.stack([_train_trace(t, [(110, 300), (420, 600), (720, 850)]),   # all three
                  _train_trace(t, [(130, 650)]),                           # one long spike
                  _train_trace(t, [(110, 200), (250, 300), (710, 760)])])  # 2 in the 1st window
    tab = spikes.spike_table(t, m, 0.9, 0.5)
    r = measures.spikes_per_input(tab, inputs, 3, t_end=1000)
    np.testing.assert_array_equal(r["fired"], [[1, 1, 1], [1, 0, 0], [1, 0, 1]])
    np.testing.assert_array_equal(r["count"], [3, 1, 3])
    np.testing.assert_array_equal(r["extra"], [0, 0, 1])
    np.testing.assert_allclose(r["latency"][0], [10, 20, 20])
    np.testing.assert_allclose(r["duration"][0], [190, 180, 130])
    assert math.isnan(r["latency"][1, 1])
    assert measures.adaptation_index(100, 80) == pytest.approx(0.2)
    assert measures.adaptation_index(100, 120) == pytest.approx(-0.2)
    assert math.isnan(measures.adaptation_index(0, 1))


def test_bootstrap_error_of_a_mean():
    x = np.random.default_rng(0).normal(0, 1, 400)
    e = measures.bootstrap_error(np.mean, x, n_boot=400, seed=1)
    # the standard error is 1/20; a 400-resample bootstrap estimates it to ~4 %
    assert e == pytest.approx(0.05, rel=0.15)


# ============================================================ fast mean field
@pytest.mark.parametrize("h", [0.0, 0.1])
def test_fast_meanfield_agrees_with_glauber_dynamics(h):
    temps = np.stack([Quench(3.0, q, 50, 0.005).temperatures(700) for q in (0.5, 1.5, 2.5)]
                     + [QuenchTrain(3.0, [2.5] * 3, times=[50, 250, 450],
                                    rate=0.005).temperatures(700)])
    ref = meanfield.glauber_dynamics(temps, Tc=ONSAGER_TC, h=h)
    got = glauber_sweeps(temps, Tc=ONSAGER_TC, h=h)
    # RK4 with 32 steps per sweep: measured max difference 3e-7 (h = 0) in m
    np.testing.assert_allclose(got, ref, atol=1e-5, rtol=0)
    m0 = np.array([0.2, -0.1, 0.5, 0.0])
    np.testing.assert_allclose(glauber_sweeps(temps, h=h, m0=m0),
                               meanfield.glauber_dynamics(temps, Tc=ONSAGER_TC, h=h, m0=m0),
                               atol=1e-5, rtol=0)
    one = glauber_sweeps(temps[0], h=h)
    assert one.shape == (700,)


def test_threshold_depth_in_a_field_is_shallower():
    from isingneuron.paper.fig_relu_regime import threshold_depth
    z = threshold_depth(0.0)
    assert z["method"] == "exact" and z["Q_theta"] == pytest.approx(Q_THETA, abs=1e-9)
    f = threshold_depth(0.1, L=16, n_sweeps=200, n_thermalise=100)
    # a field of 0.1 J raises T_theta (the membrane reaches m = 0.9 hotter); measured on
    # L = 64: 2.142 J. A 16 x 16 lattice in 300 sweeps lands within 0.1 J of it
    assert f["T_theta"] > z["T_theta"] + 0.03
    assert abs(f["T_theta"] - 2.142) < 0.1


# ============================================================ studies end to end
TINY = {
    "relu_regime": dict(L=(8,), rates=(0.02,), fields=(0.0, 0.1), depths=(0.0, 1.0, 2.0, 2.5),
                        replicas=2, ordering_L=(8, 16), ordering_T=(1.0,), ordering_replicas=4),
    "spike_trains": dict(L=8, depths=(2.5,), periods=(200, 600), n_inputs=3,
                         spacings=(100, 400, 700), replicas=4),
    "sparse_codes": dict(L=(8,), mu=(0.5, 2.0), n=8),
    "criticality": dict(L=(8,), baths=(3.0, 2.4), depths=(0.0, 0.1, 0.2, 0.3, 1.5), replicas=4),
}


@pytest.fixture(scope="module")
def relu_tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("relu")
    return paper.relu_regime(out, progress=False, **TINY["relu_regime"]), out


def test_relu_regime_end_to_end(relu_tiny):
    res, out = relu_tiny
    assert (out / "fig8_relu_regime.png").stat().st_size > 1000
    assert len(res.conditions) == 2
    assert {(c["L"], c["rate"], c["field"]) for c in res.conditions} == {(8, 0.02, 0.0),
                                                                         (8, 0.02, 0.1)}
    for c in res.conditions:
        assert c["class"] in measures.RELU_CLASSES
        assert c["dwell"].shape == c["depths"].shape == c["meanfield_dwell"].shape == (4,)
        assert np.all((c["fraction"] >= 0) & (c["fraction"] <= 1))
        assert np.isfinite(c["t_order"]) and c["x"].shape == (4,)
        assert c["Q_theta"] == pytest.approx(res.q_theta(c["field"]))
    assert len(res.ordering) == 4           # L = 8, 16 x h = 0, 0.1 at T = 1
    assert {f["field"] for f in res.ordering_fits} == {0.0, 0.1}
    assert set(res.phase(0.0)) == {(8, 0.02)}
    assert res.q_theta(0.1) < res.q_theta(0.0) == pytest.approx(Q_THETA)
    assert len(res.rescue) == 1 and res.rescue[0]["class_h0"] in measures.RELU_CLASSES
    # the mean field has no size: one curve per (r, h), the same for every L
    assert len(res.meanfield) == 2


def test_ordering_times_order_a_small_membrane():
    times, ran = paper.ordering_times(8, 1.0, replicas=8, seed=3)
    # an 8 x 8 membrane with a + border at T = 1 J orders in tens of sweeps (0.08 L^2 ~ 5)
    assert times.shape == (8,) and np.all(np.isfinite(times)) and np.all(times < ran)


def test_spike_trains_end_to_end(tmp_path):
    res = paper.spike_trains(tmp_path, progress=False, **TINY["spike_trains"])
    assert (tmp_path / "fig9_spike_trains.png").stat().st_size > 1000
    assert res.out_rate.shape == res.mf_out_rate.shape == (1, 2)
    assert res.duration.shape == (1, 2, 3)
    np.testing.assert_allclose(res.input_rate, [5.0, 1000 / 600])
    assert np.all((res.transmission >= 0) & (res.transmission <= 1))
    # the mean field's spike counts are whole numbers, over all n windows and over 2..n
    counts = res.mf_out_rate_all * res.n_inputs * res.periods / 1000
    np.testing.assert_allclose(counts, np.round(counts), atol=1e-9)
    counts = res.mf_out_rate * (res.n_inputs - 1) * res.periods / 1000
    np.testing.assert_allclose(counts, np.round(counts), atol=1e-9)
    # the steady rate leaves out the first window: never more spikes than the total
    assert np.all(res.out_rate * (res.n_inputs - 1) <= res.out_rate_all * res.n_inputs + 1e-9)
    assert len(res.refractory) == 1
    r = res.refractory[0]
    assert r["spacings"].tolist() == [100, 400, 700] and r["fraction"].shape == (3,)
    # quasi-static: (Q - bath + T_off) / r, T_off where Onsager's m = 0.5
    from isingneuron import exact
    assert r["quasi_static"] == pytest.approx((2.5 - 3.0 + exact.temperature_at_magnetisation(0.5))
                                              / 0.005)
    assert set(res.examples) == {"P=200", "P=600"}


def test_sparse_codes_end_to_end(tmp_path):
    res = paper.sparse_codes(tmp_path, progress=False, **TINY["sparse_codes"])
    assert (tmp_path / "fig10_sparse_codes.png").stat().st_size > 1000
    assert res.counts.shape == (1, 2, 8) and res.depths.shape == (2, 8)
    assert res.silent.shape == res.sparseness.shape == (1, 2)
    # the quasi-static counts are the ReLU of the same draws, exactly
    np.testing.assert_allclose(res.qs["counts"], np.maximum(res.depths - res.Q_theta, 0) / 0.005)
    np.testing.assert_allclose(res.silent[0], np.mean(res.counts[0] == 0, axis=-1))
    assert np.all(res.depths >= 0) and np.all(res.depths <= 2.8)


def test_criticality_end_to_end(tmp_path):
    res = paper.criticality(tmp_path, progress=False, **TINY["criticality"])
    assert (tmp_path / "fig11_criticality.png").stat().st_size > 1000
    assert res.dwell.shape == (1, 2, 5) and res.gain.shape == res.small_gain.shape == (1, 2)
    np.testing.assert_allclose(res.baths, [3.0, 2.4])        # hottest first
    np.testing.assert_allclose(res.Q_qs, res.baths - (3.0 - Q_THETA))
    assert res.mf["dwell"].shape[0] == 2
    # the mean field resting above Tc with h = 0 hardly responds to inputs that keep T > Tc
    assert np.all(np.abs(res.mf["small_gain"]) < 1.0)


def test_paired_slope_of_common_random_numbers():
    from isingneuron.paper.fig_criticality import _paired_slope
    rng = np.random.default_rng(0)
    noise = rng.normal(0, 10, 50)                 # shared by every depth of a replica
    q = np.array([0.0, 0.1, 0.2])
    per = [noise + 100 * qq for qq in q]          # response 100 sweeps/J exactly
    g, e = _paired_slope(q, per)
    assert g == pytest.approx(100.0) and e < 1e-9


# ============================================================ from HDF5 sweeps
def _write(tmp, name, text):
    p = tmp / f"{name}.yaml"
    p.write_text(text.replace("OUT", str(tmp / f"{name}.h5")))
    assert cli.main(["run", str(p), "--workers", "1", "--no-progress"]) == 0
    return tmp / f"{name}.h5"


_BASE = """lattice: {{L: 8, boundary: plus, field: 0.0}}
dynamics: metropolis
replicas: 3
seed: 1
output: OUT
{rest}"""


def test_relu_regime_from_sweep_files(tmp_path):
    tr = _write(tmp_path, "tr", _BASE.format(rest="""protocol: {kind: quench, bath: 3.0, depth: 1.0, at: 20, rate: 0.02}
sweeps: 170
sweep:
  grid:
    protocol.depth: [0.0, 1.0, 2.0, 2.5]
    lattice.field: [0.0, 0.1]"""))
    od = _write(tmp_path, "od", _BASE.format(rest="""protocol: {kind: ramp, start: 3.0, stop: 1.0, duration: 0, at: 20}
sweeps: 120
sweep:
  zip:
    lattice.L: [8, 16]
    lattice.field: [0.0, 0.1]"""))
    res = paper.relu_regime(tmp_path, source=[tr, od], progress=False)
    assert {(c["L"], c["field"]) for c in res.conditions} == {(8, 0.0), (8, 0.1)}
    assert res.at == 20 and all(c["rate"] == 0.02 for c in res.conditions)
    assert {(o["L"], o["field"]) for o in res.ordering} == {(8, 0.0), (16, 0.1)}
    assert all(c["replicas"].tolist() == [3, 3, 3, 3] for c in res.conditions)
    with pytest.raises(ValueError, match="no such file"):
        paper.relu_regime(source=tmp_path / "none.h5")


def test_spike_trains_sparse_and_criticality_from_sweep_files(tmp_path):
    trains = _write(tmp_path, "trains", _BASE.format(rest="""protocol: {kind: quench_train, bath: 3.0, depths: [2.5, 2.5, 2.5], period: 300, at: 50, rate: 0.02}
sweeps: 800
sweep:
  zip:
    protocol.period: [100, 300]"""))
    pairs = _write(tmp_path, "pairs", _BASE.format(rest="""protocol: {kind: quench_train, bath: 3.0, depths: [2.5, 2.5], times: [50, 100], rate: 0.02}
sweeps: 500
sweep:
  grid:
    protocol.times: [[50, 100], [50, 200], [50, 300]]"""))
    st = paper.spike_trains(tmp_path, source=[trains, pairs], progress=False)
    assert st.periods.tolist() == [100, 300] and st.n_inputs == 3 and st.rate == 0.02
    assert st.refractory[0]["spacings"].tolist() == [50, 150, 250]
    sp_file = _write(tmp_path, "sp", _BASE.replace("replicas: 3\n", "").format(rest="""protocol:
  kind: population
  gaussian_quenches: {bath: 3.0, mean_depth: 1.0, sd_depth: 0.3, at: 20, rate: 0.02, seed: 21}
replicas: 6
sweeps: 200
sweep:
  grid:
    protocol.gaussian_quenches.mean_depth: [0.5, 1.5]"""))
    sp = paper.sparse_codes(tmp_path, source=sp_file, progress=False)
    assert sp.counts.shape == (1, 2, 6) and sp.sigma == pytest.approx(0.3)
    # the depths are the population's draws: N(mu, 0.3) from seed 21, clipped at 0
    z = np.random.default_rng(21).normal(0.0, 1.0, 6)
    np.testing.assert_allclose(sp.depths[1], np.maximum(1.5 + 0.3 * z, 0), rtol=1e-12)
    cr_file = _write(tmp_path, "cr", _BASE.format(rest="""protocol: {kind: quench, bath: 3.0, depth: 1.0, at: 20, rate: 0.02}
sweeps: 170
sweep:
  grid:
    protocol.bath: [3.0, 2.4]
    protocol.depth: [0.0, 0.1, 0.2, 1.0, 2.0]"""))
    cr = paper.criticality(tmp_path, source=cr_file, progress=False)
    assert cr.baths.tolist() == [3.0, 2.4] and cr.dwell.shape == (1, 2, 5) and cr.rate == 0.02


# ============================================================ configs, scripts, run_all
@pytest.mark.parametrize("name, n_points", [("relu_regime", 1320), ("relu_regime_ordering", 40),
                                            ("spike_trains", 33),
                                            ("spike_trains_refractory", 120),
                                            ("sparse_codes", 40), ("criticality", 390)])
def test_study_configs_load(name, n_points):
    cfg = load_config(ROOT / "configs" / "studies" / f"{name}.yaml")
    assert len(cfg.points()) == n_points
    assert cfg.update == "random_sequential" and cfg.lattice.boundary == "plus"


def test_study_script_runs_its_config_and_writes_the_section(tmp_path):
    cfg = tmp_path / "crit.yaml"
    cfg.write_text(_BASE.format(rest="""protocol: {kind: quench, bath: 3.0, depth: 1.0, at: 20, rate: 0.02}
sweeps: 170
sweep:
  grid:
    protocol.bath: [3.0, 2.4]
    protocol.depth: [0.0, 0.2, 1.0, 2.0]""").replace("OUT", "crit.h5"))
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "criticality.py"), "--config",
                          str(cfg), "--out", str(tmp_path / "out"), "--h5-dir", str(tmp_path),
                          "--workers", "1", "--no-progress"],
                         capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "crit.h5").is_file()
    for f in ("fig11_criticality.png", "criticality.md", "criticality.json"):
        assert (tmp_path / "out" / f).stat().st_size > 200, f
    assert "## Criticality" in (tmp_path / "out" / "criticality.md").read_text()
    js = json.loads((tmp_path / "out" / "criticality.json").read_text())
    assert js["criticality"]["baths"] == [3.0, 2.4]


def test_scripts_are_documented():
    for name in ("relu_regime", "spike_trains", "sparse_codes", "criticality"):
        src = (ROOT / "scripts" / f"{name}.py").read_text()
        assert src.lstrip().startswith("#!/usr/bin/env python\n\"\"\"")
        assert f"configs/studies/{name}" in src


def test_run_all_with_the_studies(tmp_path):
    tiny = dict(TINY)
    res = paper.run_all(tmp_path, quick=True, progress=False, sizes=tiny,
                        only=list(paper.STUDIES))
    assert set(res["seconds"]) == set(paper.STUDIES)
    for stem in ("fig8_relu_regime", "fig9_spike_trains", "fig10_sparse_codes",
                 "fig11_criticality"):
        assert (tmp_path / f"{stem}.png").stat().st_size > 1000
    report = (tmp_path / "report.md").read_text()
    for phrase in ("## Where the ReLU holds", "**Phase diagram**", "## Spike trains and rates",
                   "**Refractory interval**", "## Sparse codes", "Treves-Rolls",
                   "## Criticality", "small-signal gain", "+-"):
        assert phrase in report, phrase
    js = json.loads((tmp_path / "results.json").read_text())
    assert set(paper.STUDIES) <= set(js)
    assert js["relu_regime"]["conditions"][0]["class"] in measures.RELU_CLASSES
    rows = json.loads((tmp_path / "params.json").read_text())
    assert any(r["experiment"] == "fig8" for r in rows)


def test_selected_experiments():
    from isingneuron.paper.run import selected
    assert selected() == list(paper.EXPERIMENTS)
    assert selected(studies=True) == list(paper.EXPERIMENTS) + list(paper.STUDIES)
    assert selected(["eq2"]) == ["magnetisation", "eq2"]
    assert selected("criticality") == ["criticality"]
    with pytest.raises(ValueError, match="unknown"):
        selected(["nope"])


def test_main_refuses_a_missing_study_file(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        paper.main([str(tmp_path / "o"), "--study-from", f"criticality={tmp_path / 'x.h5'}"])
    assert exc.value.code == 2 and "no such file" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        paper.main([str(tmp_path / "o"), "--study-from", "nostudy=x.h5"])
    assert exc.value.code == 2


def test_main_checks_study_files_before_any_work(tmp_path, capsys, monkeypatch):
    """The file of another sweep (an activation sweep as relu_regime) ran the whole
    paper and then failed in the study's analysis with a matplotlib traceback (a
    new user's report); so did spike_trains given only its refractory sweep (a
    reviewer's case). Both are refused first, naming the file or the missing sweep,
    with no folder made; the study's own sweeps, with or without their second
    one, are accepted and the paper runs."""
    from isingneuron.paper import run as paper_run
    quench = "protocol: {kind: quench, bath: 3.0, depth: 2.0, at: 5, rate: 0.1}\nsweeps: 20\n"
    files = {n: _write(tmp_path, n, f"name: {n}\n" + _BASE.format(rest=quench))
             for n in ("activation", "spike_trains", "spike_trains_refractory")}
    calls = []
    monkeypatch.setattr(paper_run, "run_all", lambda *a, **k: calls.append(k) or {"files": []})
    for arg, words in (
            (f"relu_regime={files['activation']}",
             "holds the sweep of config 'activation', not of configs/studies/relu_regime*"),
            (f"spike_trains={files['spike_trains_refractory']}",
             "none of the files is the sweep of configs/studies/spike_trains.yaml")):
        with pytest.raises(SystemExit) as exc:
            paper.main([str(tmp_path / "o"), "--study-from", arg])
        err = capsys.readouterr().err
        assert exc.value.code == 2 and words in err, err
        assert not (tmp_path / "o").exists() and not calls
    for arg in (f"spike_trains={files['spike_trains']}",
                f"spike_trains={files['spike_trains']},{files['spike_trains_refractory']}"):
        assert paper.main([str(tmp_path / "o"), "--study-from", arg, "--no-progress"]) == 0
    assert [c["study_sources"] for c in calls] == [
        {"spike_trains": str(files["spike_trains"])},
        {"spike_trains": [str(files["spike_trains"]), str(files["spike_trains_refractory"])]}]


def test_python_m_isingneuron_paper_help_lists_the_studies():
    out = subprocess.run([sys.executable, "-m", "isingneuron.paper", "--help"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0
    for flag in ("--studies", "--only", "--study-from"):
        assert flag in out.stdout


# ============================================================ plots
def test_panels_figure_and_category_panel(tmp_path):
    cat = plots.category_panel([16, 32, 64], [50, 200, 500], ["relu", "silent", "relu"],
                               {"relu": {"color": "C2", "marker": "o"},
                                "silent": {"color": "0.3", "marker": "x"}},
                               xscale="log", xlabel="L", ylabel="1/r", xticks=[16, 32, 64])
    assert [p[0] for p in cat["points"]] == ["relu (2)", "silent (1)"]
    fig = plots.panels_figure([cat, {"data": [("a", [1, 2], [3, 4], [0.1, np.nan])],
                                     "lines": [("b", [1, 2], [1, 2])], "xlabel": "x (J)"},
                               {"texts": [(1, 1, "t")]}], ncols=2,
                              path=tmp_path / "p")
    assert (tmp_path / "p.png").stat().st_size > 1000
    assert (tmp_path / "p.pdf").read_bytes()[:5] == b"%PDF-"
    assert [ax.get_xlabel() for ax in fig.axes if ax.get_visible()][:2] == ["L", "x (J)"]
    assert not fig.axes[-1].get_visible()     # 3 panels on a 2 x 2 grid
