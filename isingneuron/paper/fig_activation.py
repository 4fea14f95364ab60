"""Figure 3: the activation function, spike count against quench depth, and the
pitfall of checkerboard Metropolis beside it.

The runs are made here (or read from a sweep file, or given as a mapping) and
analysed by :func:`isingneuron.transfer.analyse_transfer`; this module adds the
choice of the reference curve, the pitfall comparison and the figure.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import activation as act
from .. import plots
from ..engine import CheckerboardMetropolisWarning
from ..traces import Traces
from ..transfer import TransferCurveData, analyse_transfer, load_quench_runs
from ._common import AT, BATH, RATE, THETA, UPDATE, _bar, _outdir, _run_quench, _seed

__all__ = ["ActivationResult", "activation", "pitfall_comparison"]


@dataclass
class ActivationResult:
    """The activation experiment (Figure 3).

    Attributes
    ----------
    curves : dict
        ``label -> TransferCurveData``.
    reference : str
        Label of the curve the fits are drawn for: physical kinetics (not
        checkerboard Metropolis), + border, Metropolis, the largest L at which
        at least half the trials fire at the deepest quench (the largest L when
        none does).
    source : str
        ``"simulation"``, ``"mapping"`` or the HDF5 path.
    pitfall : list of dict
        One per checkerboard-Metropolis curve that has a physical partner (the
        same protocol, dynamics and L with random-sequential updates): the
        labels of both and, for each, the ReLU slope and threshold, the
        deep-quench slopes and the dwell, onset and fraction firing at the
        deepest quench (:func:`pitfall_comparison`).
    figure : list of Path
    """

    curves: dict
    reference: str
    source: str
    pitfall: list = field(default_factory=list)
    figure: list = field(default_factory=list)


def _is_depth_mapping(d) -> bool:
    number = (int, float, np.integer, np.floating)
    return isinstance(d, dict) and bool(d) and all(isinstance(k, number) for k in d) \
        and all(isinstance(v, Traces) for v in d.values())


def _checkerboard_metropolis(fn, *args, **kw):
    """Call ``fn`` with the engine's checkerboard-Metropolis warning silenced: for the
    deliberate pitfall run only (the artefact is the point of that run)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CheckerboardMetropolisWarning)
        return fn(*args, **kw)


def activation(outdir=None, source=None, *, L=(16, 32), dynamics=("metropolis", "glauber"),
               depths=tuple(np.round(np.linspace(0.0, 2.5, 21), 4)), bath=BATH, rate=RATE,
               at=AT, replicas=32, theta=THETA, tail=100, update=UPDATE, pitfall_L=32, seed=2,
               deep_margin=0.75, progress=True) -> ActivationResult:
    """Spike count against quench depth: the activation (transfer) function.

    The membrane rests at ``bath`` (above Tc) with a fixed + border; at sweep ``at``
    the temperature drops by Q and the pumps reheat it at ``rate``. For every
    curve (dynamics x L) and depth, ``replicas`` independent trials give the dwell
    time at ``m >= theta`` and the area under ``m - baseline``, set beside the
    quasi-static exact prediction, mean-field Glauber dynamics under the same
    protocol, the paper's integral of eq. (2) and fitted ReLU / softplus / S(Q).

    Every curve runs with ``update`` (random-sequential by default: the physical
    kinetics). With ``pitfall_L`` the experiment also runs, deliberately,
    checkerboard Metropolis at that size beside random-sequential Metropolis (the
    :class:`isingneuron.engine.CheckerboardMetropolisWarning` it raises is
    silenced for that run only): same equilibrium, ballistic domain walls, so the
    membrane orders in ~L instead of ~L**2 sweeps and fires where the physical
    membrane cannot (:attr:`ActivationResult.pitfall`).

    Parameters
    ----------
    outdir : path-like, optional
        Folder for ``fig3_activation.{png,pdf}``.
    source : None, mapping or path-like
        None: simulate here. ``{depth: Traces}``: one curve from runs made elsewhere.
        ``{label: {depth: Traces}}``: several curves. A path: an HDF5 sweep file
        (:func:`load_quench_runs`). With a source, ``L``, ``dynamics``, ``depths``,
        ``replicas``, ``update``, ``pitfall_L`` and ``seed`` are unused; the
        protocol and update order are read from the traces.
    L : sequence of int
        Lattice sizes.
    dynamics : sequence of str
        "metropolis" and/or "glauber".
    depths : sequence of float
        Quench depths Q (J), ``0 <= Q < bath``.
    bath, rate, at, theta : float
        Protocol (J, J/sweep, sweeps) and firing threshold.
    replicas : int
        Trials per depth.
    tail : int
        Sweeps recorded after the deepest quench has reheated.
    update : {"random_sequential", "checkerboard", None}
        Update order of the curves (passed to :class:`isingneuron.Simulation`;
        None: the engine's default, random-sequential).
    pitfall_L : int or None
        An even size at which checkerboard Metropolis is also run (with
        random-sequential Metropolis at the same size, added if ``L`` or
        ``dynamics`` lack it). None: skip.
    seed : int
    deep_margin : float
        See :func:`analyse_transfer`.
    progress : bool

    Returns
    -------
    ActivationResult
    """
    outdir = _outdir(outdir)
    if source is None:
        sizes = [int(x) for x in L]
        sets = [(d, Lv, update) for d in dynamics for Lv in sizes]
        if pitfall_L is not None:
            pL = int(pitfall_L)
            if ("metropolis", pL, update) not in sets or update == "checkerboard":
                sets.append(("metropolis", pL, "random_sequential"))
            sets.append(("metropolis", pL, "checkerboard"))
            sets = list(dict.fromkeys(sets))
        n_sweeps = int(at + math.ceil(max(depths) / rate) + tail)
        jobs = [(d, Lv, u, float(q)) for d, Lv, u in sets for q in depths]
        raw: dict = {}
        for d, Lv, u, q in _bar(jobs, progress, "Fig 3: quenches"):
            cb = u == "checkerboard"
            kw_ = dict(bath=bath, rate=rate, at=at, replicas=replicas, n_sweeps=n_sweeps,
                       update=u, seed=_seed(seed, "activation", d, Lv, q, *(("cb",) if cb else ())))
            run = (_checkerboard_metropolis(_run_quench, Lv, d, q, **kw_)
                   if cb and d == "metropolis" else _run_quench(Lv, d, q, **kw_))
            raw.setdefault(f"{d} L={Lv}" + (" checkerboard" if cb else ""), {})[q] = run
        src = "simulation"
    elif isinstance(source, (str, Path)):
        raw = load_quench_runs(source)
        if not raw:
            raise ValueError(f"{source}: no complete quench points to analyse")
        src = str(source)
    elif _is_depth_mapping(source):
        raw = {None: source}
        src = "mapping"
    elif isinstance(source, dict) and all(_is_depth_mapping(v) for v in source.values()):
        raw = dict(source)
        src = "mapping"
    else:
        raise ValueError("source must be None, {depth: Traces}, {label: {depth: Traces}} or "
                         "the path of an HDF5 sweep file")
    kw = {} if source is not None else dict(bath=bath, rate=rate, at=at)
    curves = {}
    for lab, runs in _bar(list(raw.items()), progress, "Fig 3: analysis"):
        cd = analyse_transfer(runs, theta=theta, label=lab, deep_margin=deep_margin, **kw)
        curves[cd.label] = cd
    order = sorted(curves.values(), key=lambda c: (c.artefact, c.dynamics != "metropolis",
                                                   c.dynamics, c.boundary, c.L, c.label))
    curves = {c.label: c for c in order}
    ref = _reference_curve(curves)
    res = ActivationResult(curves, ref, src, pitfall_comparison(curves))
    if outdir is not None:
        res.figure = plots.save_figure(_activation_figure(res), outdir / "fig3_activation")
    return res


def _fires_at_deepest(c: TransferCurveData) -> bool:
    return bool(c.fraction[int(np.argmax(c.depths))] >= 0.5)


def _reference_curve(curves: dict) -> str:
    def key(item):
        c = item[1]
        return (not c.artefact, c.boundary == "plus", c.dynamics == "metropolis",
                _fires_at_deepest(c), c.L)
    return max(curves.items(), key=key)[0]


def _curve_numbers(c: TransferCurveData) -> dict:
    k = int(np.argmax(c.depths))
    f = c.fits.get("dwell_relu")
    out = {"label": c.label, "update": c.update, "L": c.L, "Q_max": float(c.depths[k]),
           "relu_slope": None, "relu_slope_err": None, "relu_threshold": None,
           "relu_threshold_err": None,
           "dwell_at_Q_max": float(c.dwell[k]), "dwell_at_Q_max_err": float(c.dwell_sem[k]),
           "onset_at_Q_max": float(c.onset[k]), "onset_at_Q_max_err": float(c.onset_sem[k]),
           "fraction_at_Q_max": float(c.fraction[k])}
    if f:
        out.update(relu_slope=f["params"]["slope"], relu_slope_err=f["errors"]["slope"],
                   relu_threshold=f["params"]["threshold"],
                   relu_threshold_err=f["errors"]["threshold"])
    for name in ("dwell", "end", "onset"):
        d = c.deep.get(name)
        out[f"deep_{name}_slope"] = d["slope"] if d else None
        out[f"deep_{name}_slope_err"] = d["slope_err"] if d else None
    return out


def pitfall_comparison(curves: dict) -> list[dict]:
    """Checkerboard Metropolis beside random-sequential Metropolis, curve by curve.

    Parameters
    ----------
    curves : dict
        ``label -> TransferCurveData`` (e.g. :attr:`ActivationResult.curves`).

    Returns
    -------
    list of dict
        One per checkerboard-Metropolis curve with a random-sequential partner
        (same dynamics, L, boundary, field and protocol):
        ``{"L", "checkerboard": numbers, "random_sequential": numbers}`` where
        numbers has the label, the ReLU fit's slope and threshold (with errors),
        the deep-quench slopes of dwell, end and onset, and the dwell, onset and
        fraction firing at the deepest quench.
    """
    out = []
    for c in curves.values():
        if not c.artefact:
            continue
        same = [o for o in curves.values()
                if o.update == "random_sequential" and o.dynamics == c.dynamics and o.L == c.L
                and o.boundary == c.boundary and o.field == c.field
                and (o.bath, o.rate, o.at) == (c.bath, c.rate, c.at)]
        if not same:
            continue
        out.append({"L": c.L, "checkerboard": _curve_numbers(c),
                    "random_sequential": _curve_numbers(same[0])})
    return out


def _activation_figure(res: ActivationResult):
    ref = res.curves[res.reference]
    th = ref.theory
    # checkerboard Metropolis (the pitfall) in grey, dashed, open squares
    art = {"color": "0.3", "fmt": "s--", "mfc": "none", "ms": 4.0, "zorder": 1}

    def entry(c, y, e):
        if c.artefact:
            return (f"checkerboard Metropolis (artefact), L={c.L}", c.depths, y, e, art)
        return (c.label, c.depths, y, e)
    data_d = [entry(c, c.dwell, c.dwell_sem) for c in res.curves.values()]
    data_a = [entry(c, c.area, c.area_sem) for c in res.curves.values()]
    lines_d, lines_a = [], []
    if th:
        lines_d = [("quasi-static, exact m(T)", th["Q"], th["quasi_static_dwell"],
                    {"color": "k", "lw": 1.6}),
                   (f"mean-field Glauber dynamics (Tc = 2.269, m0 = {th['meanfield_m0'] or 0:.2f})",
                    th["Q"], th["meanfield_dwell"], {"color": "C3", "ls": "--"}),
                   ("paper: eq. (2) as m(T), a = 6", th["Q"], th["paper_dwell"],
                    {"color": "0.5", "ls": ":"})]
        lines_a = [("quasi-static, exact m(T)", th["Q"], th["quasi_static_area"],
                    {"color": "k", "lw": 1.6}),
                   ("mean-field Glauber dynamics", th["Q"], th["meanfield_area"],
                    {"color": "C3", "ls": "--"}),
                   ("paper's S(Q) = (1/r) int eq. (2) dT, a = 6", th["Q"], th["paper_area"],
                    {"color": "0.5", "ls": ":"})]
    Qf = np.linspace(0, ref.depths.max(), 200)
    fit_lines = []
    for name, lab, st in (("dwell_relu", "ReLU fit", {"color": "C4"}),
                          ("dwell_softplus", "softplus fit", {"color": "C2", "ls": "--"}),
                          ("dwell_spike_count_tanh", "paper's S(Q) form, fitted",
                           {"color": "C1", "ls": "-."})):
        f = ref.fits.get(name)
        if f is None:
            continue
        model = {"dwell_relu": act.relu, "dwell_softplus": act.softplus,
                 "dwell_spike_count_tanh": lambda x, **p: p["amplitude"] * act.spike_count_tanh(
                     (x - p["shift"]) / p["width"])}[name]
        y = model(Qf, **f["params"])
        p = f["params"]
        slope = p.get("slope", p.get("amplitude", 0) / p.get("width", 1))
        fit_lines.append((f"{lab}: slope {slope:.0f} sweeps/J, chi2/dof {f['reduced_chi2']:.2g}",
                          Qf, y, st))
    if th:
        fit_lines.append((f"slope 1/r = {1 / ref.rate:.0f} sweeps/J from Q_theta "
                          f"(quasi-static ReLU)", Qf,
                          np.maximum(Qf - th["Q_theta"], 0) / ref.rate,
                          {"color": "0.6", "lw": 0.8}))
    panels = [
        {"ylabel": f"spike count: sweeps with m >= {ref.theta:g}", "data": data_d,
         "lines": lines_d, "title": "(a) dwell time vs theory"},
        {"ylabel": f"spike count: sweeps with m >= {ref.theta:g}",
         "data": [(ref.label, ref.depths, ref.dwell, ref.dwell_sem)], "lines": fit_lines,
         "title": f"(b) fits to {ref.label}"},
        {"ylabel": "area under (m - m_rest) / (1 - m_rest)  (sweeps)", "data": data_a,
         "lines": lines_a,
         "title": "(c) integrated magnetisation"},
    ]
    orders = sorted({c.update or "update order not recorded" for c in res.curves.values()
                     if not c.artefact})
    return plots.transfer_figure(
        panels, title=f"Membrane at rest at T = {ref.bath:g} J (+ border), quench Q, "
                      f"reheating {ref.rate:g} J/sweep; "
                      f"{', '.join(o.replace('_', '-') for o in orders)} updates")
