"""The whole experiment: train, calibrate, run every network, write the results.

:func:`run` plans the runs (for each network an L scan at the default rate, a
rate scan at the default L and a trial scan at both; the headline point is in
all three), trains the ReLU networks, calibrates every unit, runs the networks
with mean-field, quasi-static and lattice units and scores them; with an
output folder it writes ``network.json``, ``network.md`` and the figure.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from .. import meanfield
from .calibration import (Calibration, calibrate_lattice, calibrate_meanfield,
                          calibrate_quasi_static)
from .config import NetworkConfigError, load_config
from .data import Digits, ReluNetwork, load_digits_split, train_relu_network
from .figure import _figure
from .headroom import choose_headroom
from .inference import Forward, forward
from .mapping import DepthMapping
from .population import _seed
from .report import _report
from .result import NetworkResult
from .scoring import _error_budget, _row
from .._json import jsonable as _jsonable
from .summary import _summary
from .units import LatticeUnits, MeanFieldUnits, QuasiStaticUnits

__all__ = ["run"]


def _bar(iterable, progress, desc, total=None):
    if not progress:
        return iterable
    from tqdm.auto import tqdm
    return tqdm(iterable, desc=desc, total=total, leave=False, dynamic_ncols=True)


def _protocol(cfg: dict) -> dict:
    """The quench protocol shared by every calibration: bath, at, theta, q_max."""
    lat = cfg["lattice"]
    return {"bath": float(lat["bath"]), "at": float(lat["at"]), "theta": float(lat["theta"]),
            "q_max": float(lat["q_max"])}


def _plan(cfg: dict, which, L0, rate0, k0) -> dict:
    """``{(layers, L, rate): trial counts}``: for each network an L scan (at the default
    rate), a rate scan (at the default L) and a trial scan (default L and rate); the
    headline point is in all three."""
    key = {1: "one_layer", 2: "two_layers"}
    plan = {}
    for nl in which:
        sc = cfg["scan"][key[nl]]
        for L in sorted(set(int(x) for x in sc["L"]) | {L0}):
            plan.setdefault((nl, L, rate0), {k0})
        for r in sorted(set(float(x) for x in sc["rate"]) | {rate0}):
            plan.setdefault((nl, L0, r), {k0})
        plan[(nl, L0, rate0)] |= set(int(x) for x in sc["trials"])
    return plan


def _train(cfg: dict, digits: Digits, nl: int) -> ReluNetwork:
    net = cfg["networks"]
    return train_relu_network(digits.X_train, digits.y_train, net[f"hidden_{nl}"],
                              net["train_seed"], net["alpha"], net["max_iter"])


def _calibrate(cfg: dict, plan: dict, L0, rate0, progress) -> tuple[dict, dict, dict, dict]:
    """All calibrations: ``(by label, lattice by (L, rate), mean field by rate,
    quasi-static by rate)``."""
    lat = cfg["lattice"]
    proto = _protocol(cfg)
    cals: dict[str, Calibration] = {}
    lattice_cal = {}
    for L, r in _bar(sorted({(L, r) for (_, L, r) in plan}), progress, "calibration"):
        c = calibrate_lattice(L, dynamics=lat["dynamics"], boundary=lat["boundary"], rate=r,
                              depths=cfg["calibration"]["depths"],
                              replicas=cfg["calibration"]["replicas"],
                              seed=_seed(lat["seed"], "calibration", L, lat["dynamics"], r),
                              progress=progress, **proto)
        lattice_cal[(L, r)] = c
        cals[c.label] = c
    m0 = cfg["meanfield"]["m0"]
    if m0 is None:
        m0 = max(lattice_cal[(L0, rate0)].extra["rest_m"], meanfield.SEED_MAGNETISATION)
    mf_cal, qs_cal = {}, {}
    for r in sorted({r for (_, L, r) in plan}):
        mf_cal[r] = calibrate_meanfield(rate=r, tau=cfg["meanfield"]["tau"], m0=float(m0),
                                        **proto)
        qs_cal[r] = calibrate_quasi_static(rate=r, depths=cfg["calibration"]["depths"], **proto)
        cals[mf_cal[r].label] = mf_cal[r]
        cals[qs_cal[r].label] = qs_cal[r]
    return cals, lattice_cal, mf_cal, qs_cal


def _mapping_for(cfg: dict, net: ReluNetwork, nl: int, digits: Digits, cal: Calibration,
                 trials: int) -> tuple[DepthMapping, dict]:
    """The depth mapping of network ``nl`` on calibration ``cal`` (headroom fixed or chosen)."""
    mp = cfg["mapping"]
    if mp["headroom"] == "auto":
        h, table = choose_headroom(net, digits.X_train, cal, gain=mp["gain"],
                                   candidates=mp["candidates"], trials=trials,
                                   draws=mp["draws"] if cal.S.shape[1] > 1 else 1,
                                   seed=_seed(cfg["lattice"]["seed"], "headroom", nl, cal.label))
    else:
        h, table = float(mp["headroom"]), None
    m = DepthMapping.from_training(net, digits.X_train, cal, mp["gain"], h)
    return m, {"headroom": h, "training_agreement_by_headroom": table}


def _model_runs(cfg: dict, nets: dict, digits: Digits, plan: dict, mf_cal: dict, qs_cal: dict,
                rows: list, forwards: dict) -> None:
    """The ReLU networks and their mean-field and quasi-static counterparts (every rate
    of a network's plan), appended to ``rows`` and ``forwards``."""
    X, y = digits.X_test, digits.y_test
    for nl, net in nets.items():
        ann_pred = net.predict(X)
        fwd_ann = Forward([], net.logits(X))
        forwards[(nl, "ann", None, None, 1)] = fwd_ann
        rows.append(_row(nl, "ann", y, ann_pred, fwd_ann))
        for r in sorted({r for (n, _, r) in plan if n == nl}):
            for model, cal, cls in (("meanfield", mf_cal[r], MeanFieldUnits),
                                    ("quasi_static", qs_cal[r], QuasiStaticUnits)):
                mapping, hinfo = _mapping_for(cfg, net, nl, digits, cal, 1)
                f = forward(net, X, mapping, cls(cal))[1]
                forwards[(nl, model, None, r, 1)] = f
                rows.append(_row(nl, model, y, ann_pred, f, rate=r, mapping=hinfo,
                                 budget=_error_budget(net, X, f, mapping, cal)))


def _lattice_runs(cfg: dict, nets: dict, digits: Digits, plan: dict, lattice_cal: dict,
                  progress, rows: list, forwards: dict) -> None:
    """Every (network, L, rate) of the plan with lattice units, one population run per
    layer (and trial count beyond layer 1), appended to ``rows`` and ``forwards``."""
    lat = cfg["lattice"]
    k0 = int(lat["trials"])
    X, y = digits.X_test, digits.y_test
    for (nl, L, r), tr in _bar(sorted(plan.items()), progress, "lattice networks"):
        net = nets[nl]
        ann_pred = net.predict(X)
        cal = lattice_cal[(L, r)]
        tr = sorted(tr)
        mapping, hinfo = _mapping_for(cfg, net, nl, digits, cal, k0 if k0 in tr else min(tr))
        units = LatticeUnits(cal, seed=lat["seed"], progress=progress)
        fw = forward(net, X, mapping, units, trials=tr,
                     tag=("network", nl, L, lat["dynamics"], r))
        for k, f in fw.items():
            forwards[(nl, "lattice", L, r, k)] = f
            rows.append(_row(nl, "lattice", y, ann_pred, f, L=L, dynamics=lat["dynamics"],
                             boundary=lat["boundary"], rate=r, trials=k, mapping=hinfo,
                             budget=_error_budget(net, X, f, mapping, cal), runs=units.runs))


def _write(res: NetworkResult, cfg: dict, out: Path, figure: bool, which, L0, rate0, k0,
           quick, t_start: float) -> None:
    """The figure (if asked), ``network.json`` and ``network.md``, into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    if figure:
        res.files += _figure(res, cfg, out, which, L0, rate0, k0)
    res.seconds = time.perf_counter() - t_start
    res.summary["seconds"] = res.seconds
    p = out / "network.json"
    p.write_text(json.dumps(_jsonable(res.summary), indent=1))
    res.files.append(p)
    res.files.append(_report(res, cfg, out, which, L0, rate0, k0, quick))


def run(outdir=None, quick: bool = False, layers="both", config=None, progress: bool = True,
        figure: bool = True) -> NetworkResult:
    """The whole experiment: train, calibrate, run the networks, write the results.

    Parameters
    ----------
    outdir : str or Path or None
        Folder for ``network.json``, ``network.md``, ``network.png``/``.pdf``;
        None writes nothing.
    quick : bool
        Apply the config's ``quick`` overrides (L = 16, no scans: ~15-30 s).
    layers : {"1", "2", "both"} or int
        Which networks: one hidden layer, two, or both.
    config : None, path or dict
        See :func:`load_config`.
    progress : bool
        tqdm bars.
    figure : bool
        Draw the figure (needs ``outdir``).

    Returns
    -------
    NetworkResult
    """
    t_start = time.perf_counter()
    cfg = config if isinstance(config, dict) and config.get("_validated") else \
        load_config(config, quick=quick)
    cfg = {k: v for k, v in cfg.items() if k != "_validated"}
    which = {"1": [1], "2": [2], "both": [1, 2]}.get(str(layers))
    if which is None:
        raise NetworkConfigError(f"layers = {layers!r}: must be 1, 2 or 'both'")
    lat = cfg["lattice"]
    L0, rate0, k0 = int(lat["L"]), float(lat["rate"]), int(lat["trials"])
    plan = _plan(cfg, which, L0, rate0, k0)
    digits = load_digits_split(cfg["data"]["test_size"], cfg["data"]["split_seed"])
    nets = {nl: _train(cfg, digits, nl) for nl in which}
    cals, lattice_cal, mf_cal, qs_cal = _calibrate(cfg, plan, L0, rate0, progress)
    rows, forwards = [], {}
    _model_runs(cfg, nets, digits, plan, mf_cal, qs_cal, rows, forwards)
    _lattice_runs(cfg, nets, digits, plan, lattice_cal, progress, rows, forwards)
    seconds = time.perf_counter() - t_start
    res = NetworkResult({}, rows, cals, nets, digits, forwards, [], seconds)
    res.summary = _summary(res, cfg, which, L0, rate0, k0, quick)
    if outdir is not None:
        _write(res, cfg, Path(outdir), figure, which, L0, rate0, k0, quick, t_start)
    return res
