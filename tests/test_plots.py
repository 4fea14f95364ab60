"""Figures of isingneuron.plots: drawn from plain arrays, written as PNG and PDF.

The checks are structural (the files exist and are images of the expected size,
the axes carry their units, the data drawn are the data given); how the figures
look was checked by eye when they were written.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

from isingneuron import plots
from isingneuron.schedules import ONSAGER_TC


def _labels(fig: Figure):
    return [(ax.get_xlabel(), ax.get_ylabel()) for ax in fig.axes]


def _png_ok(path: Path, fig: Figure, dpi=150):
    assert path.stat().st_size > 1000
    with Image.open(path) as im:
        w, h = im.size
    W, H = fig.get_size_inches() * dpi
    assert abs(w - W) <= 2 and abs(h - H) <= 2
    assert path.with_suffix(".pdf").read_bytes()[:5] == b"%PDF-"


def test_save_figure_writes_png_and_pdf(tmp_path):
    fig = Figure(figsize=(3, 2))
    fig.subplots().plot([0, 1], [0, 1])
    for name in ("a", "b.png", "c.pdf"):
        out = plots.save_figure(fig, tmp_path / name)
        stem = Path(name).with_suffix("").name
        assert out == [tmp_path / f"{stem}.png", tmp_path / f"{stem}.pdf"]
        _png_ok(out[0], fig)


def test_magnetisation_figure(tmp_path):
    T = np.linspace(0.1, 5, 50)
    m_mf = np.sqrt(np.clip(1 - T / 4, 0, None))
    m_ex = np.where(T < ONSAGER_TC, 0.9, 0.0)
    mc = {"L = 8": (np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.9, 0.3]),
                    np.array([0.01, 0.01, 0.02]))}
    fig = plots.magnetisation_figure(T, m_mf, m_ex, mc, path=tmp_path / "f1")
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    (xa, ya), (xb, yb) = _labels(fig)
    assert "(J)" in xa and "T / Tc" in xb and "m" in ya
    # the reduced panel divides each theory by its own Tc: mean field ends at T/Tc = 5/4
    xs = [line.get_xdata().max() for line in fig.axes[1].lines if len(line.get_xdata()) == 50]
    assert pytest.approx(5 / 4) in xs and pytest.approx(5 / ONSAGER_TC) in xs
    _png_ok(tmp_path / "f1.png", fig)


def test_eq2_figure(tmp_path):
    T = np.linspace(0.01, 2, 40)
    y = 0.5 - 0.5 * np.tanh(6 * (T - 1))
    fig = plots.eq2_figure(T, y, y, y, fit_label="a = 6", mc=(T[::5], y[::5], 0.01 + 0 * T[::5]),
                           fit_mc=y, m_exact=y, path=tmp_path / "f2")
    assert len(fig.axes) == 2
    assert all("T / Tc" in x for x, _ in _labels(fig))
    _png_ok(tmp_path / "f2.png", fig)


def test_transfer_figure_draws_what_it_is_given(tmp_path):
    Q = np.linspace(0, 2.5, 11)
    S = np.maximum(Q - 1, 0) * 200
    panels = [{"ylabel": "dwell (sweeps)", "data": [("lattice", Q, S, 1 + 0 * Q)],
               "lines": [("theory", Q, S), ("fit", Q, S, {"ls": "--", "color": "k"})]},
              {"ylabel": "area (sweeps)", "data": [], "lines": [("x", Q, Q)], "title": "(b)"}]
    fig = plots.transfer_figure(panels, path=tmp_path / "f3")
    assert len(fig.axes) == 2
    assert _labels(fig)[0] == ("quench depth Q (J)", "dwell (sweeps)")
    (fit,) = [ln for ln in fig.axes[0].lines if ln.get_label() == "fit"]
    np.testing.assert_array_equal(fit.get_ydata(), S)
    assert fit.get_linestyle() == "--"
    _png_ok(tmp_path / "f3.png", fig)


def test_transfer_figure_draws_a_data_set_in_its_own_style(tmp_path):
    # a fifth element styles one data set apart (the checkerboard-Metropolis pitfall)
    Q = np.linspace(0, 2.5, 6)
    panels = [{"ylabel": "dwell (sweeps)",
               "data": [("physical", Q, Q, 0.1 + 0 * Q),
                        ("artefact", Q, 2 * Q, 0.1 + 0 * Q,
                         {"fmt": "s--", "color": "0.45", "mfc": "none"})]}]
    fig = plots.transfer_figure(panels, path=tmp_path / "f3b")
    by_label = {c.get_label(): c for c in fig.axes[0].containers}
    phys, art = by_label["physical"].lines[0], by_label["artefact"].lines[0]
    np.testing.assert_array_equal(art.get_ydata(), 2 * Q)
    assert art.get_linestyle() == "--" and art.get_marker() == "s"
    assert art.get_markerfacecolor() == "none" and art.get_color() == "0.45"
    assert phys.get_linestyle() == "None" and phys.get_marker() == "o"
    _png_ok(tmp_path / "f3b.png", fig)


@pytest.mark.parametrize("k", [0, 1, 4])
def test_outcome_figure(tmp_path, k):
    rng = np.random.default_rng(0)
    ex = [(f"ex {i}", rng.choice([-1, 1], (8, 8)).astype(np.int8)) for i in range(k)]
    fr = np.array([[0.5, 0.4, 0.1, 0.0], [0.3, 0.3, 0.3, 0.1]])
    fig = plots.outcome_figure(["a", "b"], ["+1", "-1", "stripes", "other"], fr, 0.05 + 0 * fr,
                               ex, path=tmp_path / f"f4_{k}")
    assert len(fig.axes) == 1 + k
    heights = sorted(p.get_height() for p in fig.axes[0].patches)
    np.testing.assert_allclose(heights, np.sort(fr.ravel()))
    _png_ok(tmp_path / f"f4_{k}.png", fig)


def test_population_figure(tmp_path):
    mu = np.linspace(0, 2, 6)
    f = 0.5 * (1 + np.tanh(mu - 1))
    fig = plots.population_figure(mu, f, 0.05 + 0 * f, [("erf", mu, f)],
                                  dwell=(mu * 100, 5 + 0 * mu), dwell_lines=[("qs", mu, mu * 90)],
                                  path=tmp_path / "f5")
    assert len(fig.axes) == 2
    assert all("(J)" in x for x, _ in _labels(fig))
    assert "sweeps" in _labels(fig)[1][1]
    _png_ok(tmp_path / "f5.png", fig)


def test_traces_and_snapshots_figures(tmp_path):
    t = np.arange(1, 101)
    T = np.stack([np.full(100, 3.0), np.where(t < 50, 3.0, 1.0)])
    m = np.stack([0.1 + 0 * t, np.where(t < 50, 0.1, 1.0)])
    fig = plots.traces_figure(t, T, m, ["Q = 0", "Q = 2"], m_replicas=m[:, None, :],
                              m_theory=m, theta=0.9, path=tmp_path / "f6")
    assert _labels(fig)[1][0] == "time t (sweeps)" and "(J)" in _labels(fig)[0][1]
    _png_ok(tmp_path / "f6.png", fig)
    frames = np.stack([np.ones((8, 8)), -np.ones((8, 8)), np.ones((8, 8))]).astype(np.int8)
    fig = plots.snapshots_figure(frames, [10, 50, 90], t, m[1], T[1], titles=["a", "b", "c"],
                                 path=tmp_path / "f7")
    assert len(fig.axes) == 3 + 2                     # lattices, m(t), twin T(t)
    img = fig.axes[0].images[0].get_array()
    np.testing.assert_array_equal(img, frames[0])
    _png_ok(tmp_path / "f7.png", fig)


def test_membrane_animation(tmp_path):
    t = np.arange(1, 41)
    frames = np.stack([np.where(np.arange(64).reshape(8, 8) < 2 * k, 1, -1) for k in range(20)])
    out = plots.membrane_animation(frames.astype(np.int8), t[::2], t, np.tanh(t / 10.0),
                                   3.0 - t / 40, tmp_path / "m.gif", fps=5, dpi=40)
    assert out == tmp_path / "m.gif"
    with Image.open(out) as im:
        assert im.format == "GIF" and im.n_frames == 20
