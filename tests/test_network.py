"""Lattice-neurone networks (isingneuron.network): the mapping, the units, the experiment.

The mapping from unit inputs to quench depths and back is checked exactly: a
lattice neurone replaced by its calibrated rectifier must give the ReLU
network's outputs. The lattice runs use L = 8 membranes and a few replicas,
so the whole file takes seconds.
"""

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

import isingneuron as isn
from isingneuron import network as nw
from isingneuron.network import cli as nw_cli
from isingneuron.schedules import ONSAGER_TC, Population, Quench

ROOT = Path(__file__).resolve().parents[1]


def _random_net(sizes, seed=0):
    """A ReLU network with random weights (no training needed)."""
    rng = np.random.default_rng(seed)
    W = [rng.normal(0, 1 / math.sqrt(a), (a, b)) for a, b in zip(sizes[:-1], sizes[1:])]
    b = [rng.normal(0, 0.3, n) for n in sizes[1:]]
    return nw.ReluNetwork(W, b)


def _rectifier_calibration(threshold=1.317, slope=214.0, q_max=2.9, rate=0.005):
    Q = np.linspace(0, q_max, 30)
    S = (slope * np.maximum(Q - threshold, 0))[:, None]
    return nw.Calibration("rectifier", Q, S, threshold, slope, 0.0, 0.0, rate, 3.0, 50, 0.9,
                          q_max)


TINY = {"data": {"test_size": 60},
        "networks": {"hidden_1": [6], "hidden_2": [6, 4], "max_iter": 150},
        "lattice": {"L": 8, "rate": 0.01, "at": 20},
        "calibration": {"depths": 8, "replicas": 4},
        "scan": {"one_layer": {"L": [8], "rate": [0.01, 0.02], "trials": [1, 2]},
                 "two_layers": {"L": [8], "rate": [0.01], "trials": [1, 2]}}}


# ------------------------------------------------------------------ config
def test_config_file_is_the_defaults():
    path = ROOT / "configs" / "network.yaml"
    assert nw.load_config(path) == nw.load_config(None)
    assert nw.load_config(path, quick=True) == nw.load_config(None, quick=True)
    assert nw.load_config(None, quick=True)["lattice"]["L"] == 16


@pytest.mark.parametrize("over, key", [
    ({"lattice": {"q_max": 3.5}}, "lattice.q_max"),
    ({"lattice": {"Lx": 3}}, "lattice.Lx"),
    ({"lattice": {"dynamics": "wolff"}}, "lattice.dynamics"),
    ({"scan": {"one_layer": {"rate": [0.005, -1]}}}, "scan.one_layer.rate"),
    ({"mapping": {"headroom": "max"}}, "mapping.headroom"),
    ({"networks": {"hidden_2": [32]}}, "networks.hidden_2"),
    ({"mapping": {"headroom": 2}}, "mapping.headroom"),
])
def test_bad_config_names_the_key(over, key):
    with pytest.raises(nw.NetworkConfigError, match=key.replace(".", r"\.")):
        nw.load_config(over)


@pytest.mark.parametrize("over, words", [
    ({"data": {"test_size": 5000}}, "data.test_size = 5000: must be at most 1787"),
    ({"lattice": {"L": -4}}, "lattice.L = -4"),
    ({"calibration": {"depths": 1}}, "calibration.depths = 1"),
    ({"scan": {"one_layer": {"L": [16, "x"]}}}, "scan.one_layer.L"),
])
def test_quick_does_not_hide_bad_values_of_the_file(over, words):
    """--quick replaced the keys it overrides before the file was checked, so bad
    values there ran; a test_size beyond the digits ended in sklearn's traceback
    (a new user's report)."""
    for quick in (False, True):
        with pytest.raises(nw.NetworkConfigError, match=re.escape(words)):
            nw.load_config(over, quick=quick)


def test_cli_bad_config_exits_2_and_writes_nothing(tmp_path, capsys):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("lattice:\n  rate: 0\n")
    out = tmp_path / "out"
    assert nw.main([str(out), "--config", str(cfg), "--no-progress"]) == 2
    assert "lattice.rate" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("outdir, words", [("", "OUTDIR = '': name a folder"),
                                            ("afile", "is a file, not a folder")])
def test_cli_refuses_an_output_folder_it_cannot_use_before_any_work(tmp_path, capsys,
                                                                    monkeypatch, outdir, words):
    """An empty OUTDIR wrote into the working folder, a file ended in a traceback
    after the experiment had run (a new user's report)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("x")
    monkeypatch.setattr(nw_cli, "run", lambda *a, **k: 1 / 0)          # nothing may run
    assert nw.main([outdir, "--quick", "--no-progress"]) == 2
    assert words in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def test_cli_without_scikit_learn_gives_the_install_hint_and_makes_no_folder(tmp_path, capsys,
                                                                              monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "sklearn", None)                  # import fails
    assert nw.main([str(tmp_path / "out"), "--quick", "--no-progress"]) == 2
    assert "pip install" in capsys.readouterr().err and not (tmp_path / "out").exists()


# ----------------------------------------------------------------- mapping
@pytest.mark.parametrize("sizes", [(64, 12, 10), (64, 12, 7, 10)])
@pytest.mark.parametrize("gain", ["per_unit", "per_layer"])
def test_rectifier_units_reproduce_the_relu_network_exactly(sizes, gain):
    """Inputs -> depths -> calibrated rectifier -> ReLU scale is the identity on max(0, z)."""
    net = _random_net(sizes)
    X = np.random.default_rng(1).uniform(0, 1, (50, 64))
    cal = _rectifier_calibration()
    mapping = nw.DepthMapping.from_training(net, X, cal, gain=gain, headroom=1.0)
    f = nw.forward(net, X, mapping, nw.RectifierUnits(cal))[1]
    for rec, a in zip(f.layers, net.hidden(X)):
        assert np.all((rec.Q >= 0) & (rec.Q <= cal.q_max))
        np.testing.assert_allclose(rec.a, a, rtol=0, atol=1e-12)
    np.testing.assert_allclose(f.logits, net.logits(X), rtol=0, atol=1e-11)
    assert np.array_equal(f.predictions, net.predict(X))


def test_depth_mapping_clips_and_inverts():
    cal = _rectifier_calibration(threshold=1.2, slope=200.0, q_max=2.9)
    net = _random_net((3, 2, 2))
    # gains 0.5 and 2.0 per J: z_ref = gain * (q_max - threshold) = 0.85 and 3.4
    m = nw.DepthMapping(1.2, 200.0, 2.9, [np.array([0.5, 2.0])], [np.array([0.85, 3.4])])
    z = np.array([[0.0, 0.0], [0.85, 3.4], [10.0, 10.0], [-5.0, -5.0]])
    Q = m.depths(0, z)
    np.testing.assert_allclose(Q[0], 1.2)                 # z = 0 at the threshold
    np.testing.assert_allclose(Q[1], 2.9)                 # z_ref at q_max
    np.testing.assert_allclose(Q[2], 2.9)                 # beyond z_ref: saturated
    np.testing.assert_allclose(Q[3], 0.0)                 # far below: no quench (clipped at 0)
    a = m.outputs(0, cal.rectifier(Q))
    np.testing.assert_allclose(a[:2], np.maximum(z[:2], 0), atol=1e-12)
    # gains from a network: z_ref / (q_max - threshold)
    X = np.random.default_rng(0).normal(size=(40, 3))
    mm = nw.DepthMapping.from_training(net, X, cal)
    zmax = net.pre_activations(X)[0].max(axis=0)
    ok = zmax > 0
    np.testing.assert_allclose(mm.gains[0][ok], zmax[ok] / (2.9 - 1.2))


def test_quasi_static_units_are_the_relu_network():
    """Quasi-static exact units: a perfect rectifier with Q_qs = 0.968 J and slope 1/r."""
    cal = nw.calibrate_quasi_static(rate=0.005, q_max=2.9)
    q_qs = 3.0 - isn.exact.temperature_at_magnetisation(0.9)
    assert cal.threshold == pytest.approx(q_qs, abs=1e-9)
    assert cal.slope == pytest.approx(200.0, rel=1e-9)
    net = _random_net((64, 10, 6, 10), seed=3)
    X = np.random.default_rng(4).uniform(0, 1, (30, 64))
    mapping = nw.DepthMapping.from_training(net, X, cal)
    f = nw.forward(net, X, mapping, nw.QuasiStaticUnits(cal))[1]
    np.testing.assert_allclose(f.logits, net.logits(X), atol=1e-6)


def test_forward_averages_the_first_k_trials():
    net = _random_net((5, 4, 3))
    X = np.random.default_rng(0).uniform(0, 1, (7, 5))
    cal = _rectifier_calibration()
    mapping = nw.DepthMapping.from_training(net, X, cal)
    calls = []

    def units(Q, trials, tag):
        calls.append(trials)
        return cal.rectifier(Q)[..., None] + np.arange(trials) * 10.0   # trial j adds 10 j

    out = nw.forward(net, X, mapping, units, trials=(1, 3))
    assert calls == [3]                                     # one call for layer 1
    base = cal.rectifier(out[1].layers[0].Q)
    np.testing.assert_allclose(out[1].layers[0].S, base)
    np.testing.assert_allclose(out[3].layers[0].S, base + 10.0)   # mean of 0, 10, 20


# ----------------------------------------------------------------- lattice
def test_quench_population_is_the_engine_population_run():
    """Equal depths (no membrane dropped early): the same spike counts as one simulate call."""
    depths = [1.8] * 6
    n = nw.n_sweeps_for(3.0, 20, 0.02, 1.8)
    res = nw.quench_population(8, depths, bath=3.0, at=20, rate=0.02, seed=5)
    pop = Population([Quench(3.0, q, 20, 0.02) for q in depths])
    tr = isn.simulate(8, pop, n, replicas=6, seed=5, boundary="plus")
    np.testing.assert_array_equal(res.dwell, isn.spikes.dwell_time(tr.t, tr.m, 0.9))
    assert res.attempts == 64 * 6 * n


def test_quench_population_drops_finished_membranes():
    """Shallow quenches stop early; a membrane never colder than Tc hardly spikes.

    An 8 x 8 membrane with a + border at rest (T = 3 J) reaches m >= 0.9 now
    and then for a sweep or two (a thermal fluctuation of 64 spins), so the
    shallow ones are allowed a few sweeps; a deep quench (2.5 J at 0.02 J/sweep)
    gives ~75 sweeps.
    """
    depths = np.array([0.0, 0.3, 2.5, 2.5, 0.0, 2.5] * 4)
    res = nw.quench_population(8, depths, at=20, rate=0.02, seed=2)
    shallow = depths <= 3.0 - ONSAGER_TC
    assert np.all(res.dwell[shallow] <= 10)
    assert np.all(res.dwell[~shallow] > 30)
    full = 64.0 * depths.size * nw.n_sweeps_for(3.0, 20, 0.02, 2.5)
    assert res.attempts < 0.8 * full
    assert np.all(np.isfinite(res.rest_m))


def test_lattice_units_shape_and_reproducibility():
    cal = nw.calibrate_lattice(8, rate=0.02, at=20, depths=6, replicas=4, seed=1)
    assert cal.S.shape == (6, 4)
    assert cal.slope > 0 and 0 < cal.threshold < cal.q_max
    units = nw.LatticeUnits(cal, seed=7)
    Q = np.array([[0.0, 2.5, 1.5], [2.5, 0.0, 2.0]])
    S1 = units(Q, 2, ("a",))
    S2 = nw.LatticeUnits(cal, seed=7)(Q, 2, ("a",))
    assert S1.shape == (2, 3, 2)
    np.testing.assert_array_equal(S1, S2)
    assert np.all(S1[Q == 0.0] <= 10)         # 8 x 8 at rest: rare one-sweep fluctuations
    assert np.all(S1[Q == 2.5] > 30)
    assert units.runs[0]["membranes"] == 12


def test_binomial_and_confusion():
    assert nw.binomial(0.9, 100) == pytest.approx(0.03)
    cm = nw.confusion([0, 1, 1, 2], [0, 1, 2, 2], n_classes=3)
    assert cm.tolist() == [[1, 0, 0], [0, 1, 1], [0, 0, 1]]


# -------------------------------------------------------------- end to end
def test_experiment_end_to_end_tiny(tmp_path):
    pytest.importorskip("sklearn")
    cfg = tmp_path / "tiny.yaml"
    import yaml
    cfg.write_text(yaml.safe_dump(TINY))
    out = tmp_path / "out"
    assert nw.main([str(out), "--config", str(cfg), "--no-progress"]) == 0
    for name in ("network.json", "network.md", "network.png", "network.pdf"):
        assert (out / name).stat().st_size > 0
    s = json.loads((out / "network.json").read_text())
    n = s["n_test"]
    assert n == 60
    for key in ("ann_accuracy", "lattice_accuracy", "mean_field_accuracy",
                "quasi_static_accuracy", "agreement"):
        h = s[key]
        assert 0 <= h["value"] <= 1
        assert h["error"] == pytest.approx(math.sqrt(h["value"] * (1 - h["value"]) / n))
        assert (h["L"], h["dynamics"], h["rate"]) == (8, "metropolis", 0.01)
        assert set(h["by_layers"]) == {"1", "2"}
    # the quasi-static network is the ReLU network (up to saturation at q_max)
    assert s["quasi_static_accuracy"]["by_layers"]["1"]["value"] == pytest.approx(
        s["ann_accuracy"]["by_layers"]["1"]["value"], abs=2 / n)
    for nl in ("1", "2"):
        cm = np.array(s["confusion"][nl]["lattice"])
        assert cm.shape == (10, 10) and cm.sum() == n
        assert set(s["goal"][nl]) >= {"met", "accuracy_gap_points", "agreement"}
    rows = s["rows"]
    kinds = {(r["layers"], r["model"], r["L"], r["rate"], r["trials"]) for r in rows}
    assert (1, "lattice", 8, 0.01, 2) in kinds          # trial scan
    assert (1, "lattice", 8, 0.02, 1) in kinds          # rate scan
    assert (2, "lattice", 8, 0.01, 1) in kinds
    assert (2, "lattice", 8, 0.01, 2) in kinds          # two layers: layer 2 once per k
    assert (1, "meanfield", None, 0.02, 1) in kinds
    lat = [r for r in rows if r["model"] == "lattice"]
    assert all(r["membranes"] > 0 and 0 <= r["agreement"] <= 1 for r in lat)
    for r in lat:
        assert 0.5 <= r["headroom"] <= 1.0
        for layer in r["error_budget"]["layers"]:
            parts = [layer[k] for k in ("knee_relative", "saturation_relative",
                                        "noise_relative", "local_relative")]
            assert all(p >= 0 for p in parts)
    assert "Goal and why" in (out / "network.md").read_text()


def test_surrogate_units_and_headroom_choice():
    """Resampled units reproduce the calibration; without noise nothing is saturated."""
    rng = np.random.default_rng(0)
    Q = np.linspace(0, 2.9, 30)
    mean = 214 * np.maximum(Q - 1.3, 0)
    S = np.maximum(mean[:, None] + rng.normal(0, 40, (30, 64)) * (Q[:, None] > 1.3), 0)
    noisy = nw.Calibration("lattice", Q, S, 1.3, 214.0, 0, 0, 0.005, 3.0, 50, 0.9, 2.9)
    units = nw.SurrogateUnits(noisy, seed=1)
    draw = units(np.full((200, 10), 2.0), 8, ())
    assert draw.shape == (200, 10, 8) and np.all(draw >= 0)
    assert draw.mean() == pytest.approx(noisy.mean_curve(2.0), rel=0.02)
    assert draw.std() == pytest.approx(noisy.sd[np.argmin(np.abs(Q - 2.0))], rel=0.1)
    net = _random_net((64, 12, 10), seed=5)
    X = np.random.default_rng(6).uniform(0, 1, (200, 64))
    clean = _rectifier_calibration()
    h, table = nw.choose_headroom(net, X, clean, draws=1)
    assert h == 1.0 and table[1.0] == 1.0
    h, table = nw.choose_headroom(net, X, noisy, draws=2)
    assert h in table and table[h] == pytest.approx(max(table.values()), abs=1e-3)
