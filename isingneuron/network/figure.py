"""The figure, ``network.png`` / ``network.pdf``, drawn from a finished run's results.

:func:`_figure` takes plain data out of a
:class:`~isingneuron.network.result.NetworkResult` (arrays of the transfer
curves, result rows, predictions, images) and hands it to one drawing
function per panel: (a) transfer curves and rectifiers, (b) accuracy against
L, (c) against the reheating rate, (d) against the trials averaged per unit,
(e) test digits, (f) the lattice network's confusion matrix. It runs nothing.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from .result import NetworkResult
from .scoring import confusion

#: Colours of the transfer curves by membrane size.
_COLOURS = {16: "tab:blue", 32: "tab:orange", 64: "tab:red"}
#: Marker and line style by number of hidden layers.
_STYLES = {1: ("o", "-"), 2: ("s", "--")}


def _layers(nl) -> str:
    return f"{nl} layer{'s' if nl > 1 else ''}"


# ------------------------------------------------------------ (a) transfer curves
def _transfer_data(res: NetworkResult, dyn, rate0, Lc) -> dict:
    """Plain arrays of the transfer curves at ``rate0``: lattice sizes ``Lc``, mean field,
    quasi-static (None where not calibrated)."""
    lattice = []
    for L in Lc:
        c = res.calibrations[f"lattice L={L} {dyn} r={rate0:g}"]
        q = np.linspace(0, c.q_max, 300)
        lattice.append({"L": L, "Q": c.Q, "mean": c.mean, "sd": c.sd, "q": q,
                        "rectifier": c.rectifier(q), "threshold": c.threshold,
                        "slope": c.slope})
    out = {"lattice": lattice}
    for key, label in (("meanfield", f"meanfield r={rate0:g}"),
                       ("quasi_static", f"quasi_static r={rate0:g}")):
        c = res.calibrations.get(label)
        out[key] = None if c is None else (c.Q, c.mean)
    return out


def _draw_transfer(ax, data: dict, rate0) -> None:
    for i, c in enumerate(data["lattice"]):
        col = _COLOURS.get(c["L"], f"C{i}")
        ax.errorbar(c["Q"], c["mean"], yerr=c["sd"], fmt="o", ms=3, color=col, capsize=0,
                    lw=0.8, label=f"lattice L={c['L']} (mean ± sd)")
        ax.plot(c["q"], c["rectifier"], "--", color=col, lw=1.2,
                label=f"rectifier: Q_θ={c['threshold']:.2f} J, g={c['slope']:.0f}")
    if data["meanfield"] is not None:
        ax.plot(*data["meanfield"], "-", color="tab:green", lw=1.2, label="mean-field Glauber")
    if data["quasi_static"] is not None:
        ax.plot(*data["quasi_static"], ":", color="k", lw=1.2, label="quasi-static exact")
    ax.set_xlabel("quench depth Q (J)")
    ax.set_ylabel("spike count (sweeps with m ≥ θ)")
    ax.set_title(f"(a) transfer curves, r = {rate0} J/sweep")
    ax.legend(fontsize=7, loc="upper left")


# ------------------------------------------------------------ (b) accuracy against L
def _draw_size(ax, series, Lc, rate0) -> None:
    """``series``: (layers, lattice rows over L, ReLU row, mean-field row) per network."""
    for (nl, pts, a, m), mk in zip(series, ("o", "s")):
        ax.errorbar([p["L"] for p in pts], [100 * p["accuracy"] for p in pts],
                    yerr=[100 * p["accuracy_err"] for p in pts], fmt=mk + "-", capsize=3,
                    label=f"lattice, {nl} hidden layer{'s' if nl > 1 else ''}")
        ax.axhline(100 * a["accuracy"], color="k", ls="-" if nl == 1 else "--", lw=1,
                   label=f"ReLU network, {_layers(nl)}")
        ax.axhline(100 * m["accuracy"], color="tab:green", ls="-" if nl == 1 else "--", lw=1,
                   label=f"mean-field units, {_layers(nl)}")
    ax.set_xscale("log", base=2)
    ax.set_xticks(Lc, [str(L) for L in Lc])
    ax.set_xlabel("membrane size L")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(f"(b) accuracy against L (r = {rate0})")
    ax.legend(fontsize=7)


# ------------------------------------------------------------ (c) accuracy against rate
_RATE_MODELS = (("lattice", "tab:orange", "lattice L={L0}"),
                ("meanfield", "tab:green", "mean-field units"),
                ("quasi_static", "k", "quasi-static exact units"))


def _rate_data(res: NetworkResult, which, L0, k0) -> tuple[list, list]:
    """Per network with a rate scan: (layers, {model: rows over rate}, ReLU row); and all
    the lattice rates at ``L0``."""
    series = []
    for nl in which:
        rates = sorted(r["rate"] for r in res.rows if r["layers"] == nl
                       and r["model"] == "lattice" and r["L"] == L0 and r["trials"] == k0)
        if len(rates) < 2 and nl != which[0]:
            continue                     # no rate scan for this network
        by_model = {}
        for model, _, _ in _RATE_MODELS:
            pts = [res.row(nl, model, L0 if model == "lattice" else None, r,
                           k0 if model == "lattice" else 1) for r in rates]
            by_model[model] = [p for p in pts if p]
        series.append((nl, by_model, res.row(nl, "ann")))
    all_rates = sorted({r["rate"] for r in res.rows if r["model"] == "lattice"
                        and r["L"] == L0})
    return series, all_rates


def _draw_rate(ax, series, all_rates, L0) -> None:
    for nl, by_model, a in series:
        mk, ls = _STYLES[nl]
        for model, col, lab in _RATE_MODELS:
            pts = by_model[model]
            ax.errorbar([p["rate"] for p in pts], [100 * p["accuracy"] for p in pts],
                        yerr=[100 * p["accuracy_err"] for p in pts], fmt=mk, color=col,
                        capsize=3, ls=ls if model != "quasi_static" else ":",
                        label=f"{lab.format(L0=L0)}, {_layers(nl)}")
        ax.axhline(100 * a["accuracy"], color="0.5", ls=ls, lw=1,
                   label=f"ReLU network, {_layers(nl)}")
    ax.set_xscale("log")
    ax.set_xticks(all_rates, [f"{r:g}" for r in all_rates])
    ax.minorticks_off()
    ax.set_xlabel("reheating rate r (J/sweep)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(f"(c) accuracy against rate (L = {L0})")
    ax.legend(fontsize=6.5)


# ------------------------------------------------------------ (d) trial averaging
def _trial_data(res: NetworkResult, which, L0, rate0) -> list:
    """Per network with a trial scan: (layers, lattice rows over trials, ReLU row)."""
    series = []
    for nl in which:
        pts = sorted((r for r in res.rows if r["layers"] == nl and r["model"] == "lattice"
                      and r["L"] == L0 and math.isclose(r["rate"], rate0)),
                     key=lambda r: r["trials"])
        if len(pts) < 2 and nl != which[0]:
            continue                     # no trial scan for this network
        series.append((nl, pts, res.row(nl, "ann")))
    return series


def _draw_trials(ax, series, L0, rate0) -> None:
    ks = set()
    for nl, pts, a in series:
        mk, ls = _STYLES[nl]
        ks |= {p["trials"] for p in pts}
        ax.errorbar([p["trials"] for p in pts], [100 * p["accuracy"] for p in pts],
                    yerr=[100 * p["accuracy_err"] for p in pts], fmt=mk, ls=ls,
                    color="tab:orange", capsize=3,
                    label=f"lattice accuracy, {_layers(nl)}")
        ax.errorbar([p["trials"] for p in pts], [100 * p["agreement"] for p in pts],
                    yerr=[100 * p["agreement_err"] for p in pts], fmt=mk, ls=ls,
                    color="tab:purple", capsize=3, mfc="none",
                    label=f"agreement with ReLU, {_layers(nl)}")
        ax.axhline(100 * a["accuracy"], color="0.5", lw=1, ls=ls,
                   label=f"ReLU network accuracy, {_layers(nl)}")
    ax.axhline(95, color="tab:purple", lw=0.8, ls=":", label="95 % agreement goal")
    ax.set_xticks(sorted(ks))
    ax.set_xlabel("trials averaged per unit")
    ax.set_ylabel("%")
    ax.set_title(f"(d) trial averaging (L = {L0}, r = {rate0})")
    ax.legend(fontsize=6.5)


# ------------------------------------------------------------ (e) digits, (f) confusion
def _digit_choice(y, pa, pl, n: int = 12) -> list[int]:
    """Test images to show: up to 6 where the networks disagree, 2 the lattice gets
    wrong, then the first ones."""
    order = list(np.flatnonzero(pl != pa)[:6]) + list(np.flatnonzero(pl != y)[:2])
    order = list(dict.fromkeys(order))
    for i in range(len(y)):
        if len(order) >= n:
            break
        if i not in order:
            order.append(i)
    return order[:n]


def _draw_digits(fig, sub, images, y, pa, pl, order) -> None:
    for j, i in enumerate(order):
        axd = fig.add_subplot(sub[j // 6, j % 6])
        axd.imshow(images[i], cmap="gray_r", vmin=0, vmax=1)
        col = "tab:red" if pl[i] != pa[i] else ("k" if pl[i] == y[i] else "tab:orange")
        axd.set_title(f"true {y[i]}  ReLU {pa[i]}  lattice {pl[i]}", fontsize=8, color=col)
        axd.set_xticks([])
        axd.set_yticks([])


def _draw_confusion(ax, cm, nl, accuracy) -> None:
    ax.imshow(cm, cmap="Blues")
    for i in range(10):
        for j in range(10):
            if cm[i, j]:
                ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=7,
                        color="w" if cm[i, j] > cm.max() / 2 else "k")
    ax.set_xticks(range(10))
    ax.set_yticks(range(10))
    ax.set_xlabel("predicted (lattice network)")
    ax.set_ylabel("true digit")
    ax.set_title(f"(f) lattice network, {nl} hidden layer{'s' if nl > 1 else ''}: "
                 f"{100 * accuracy:.1f} %", fontsize=9)


# ------------------------------------------------------------ the figure
def _figure(res: NetworkResult, cfg, out: Path, which, L0, rate0, k0) -> list[Path]:
    """Draw the figure and write ``network.png`` and ``network.pdf`` into ``out``."""
    from matplotlib.figure import Figure
    from matplotlib.gridspec import GridSpec
    dyn = cfg["lattice"]["dynamics"]
    fig = Figure(figsize=(17, 9.5), layout="constrained")
    gs = GridSpec(2, 4, figure=fig, height_ratios=[1.0, 1.05])
    Lc = sorted(L for (L, r) in [(c.L, c.rate) for c in res.calibrations.values()
                                 if c.model == "lattice"] if math.isclose(r, rate0))
    _draw_transfer(fig.add_subplot(gs[0, 0]), _transfer_data(res, dyn, rate0, Lc), rate0)
    size = []
    for nl in which:
        pts = [p for p in (res.row(nl, "lattice", L, rate0, k0) for L in Lc) if p]
        size.append((nl, pts, res.row(nl, "ann"), res.row(nl, "meanfield", None, rate0)))
    _draw_size(fig.add_subplot(gs[0, 1]), size, Lc, rate0)
    _draw_rate(fig.add_subplot(gs[0, 2]), *_rate_data(res, which, L0, k0), L0)
    _draw_trials(fig.add_subplot(gs[0, 3]), _trial_data(res, which, L0, rate0), L0, rate0)

    nl = which[0]
    y = res.digits.y_test
    pl = res.forwards[(nl, "lattice", L0, rate0, k0)].predictions
    pa = res.forwards[(nl, "ann", None, None, 1)].predictions
    _draw_digits(fig, gs[1, 0:3].subgridspec(2, 6), res.digits.images_test, y, pa, pl,
                 _digit_choice(y, pa, pl))
    _draw_confusion(fig.add_subplot(gs[1, 3]), confusion(y, pl), nl,
                    res.row(nl, "lattice", L0, rate0, k0)["accuracy"])
    fig.suptitle(f"Digits classified by lattice neurones (L = {L0}, {dyn}, r = {rate0} J/sweep,"
                 f" {k0} trial{'s' if k0 > 1 else ''}/unit). (e) test digits: red = lattice and "
                 "ReLU networks disagree, orange = both wrong", fontsize=11)
    paths = []
    for ext in ("png", "pdf"):
        p = out / f"network.{ext}"
        fig.savefig(p, dpi=110 if ext == "png" else None)
        paths.append(p)
    return paths
