"""The contents of ``network.json``: headlines, goal, confusion matrices, all rows.

:func:`_summary` turns a :class:`~isingneuron.network.result.NetworkResult`
into plain numbers; :func:`isingneuron._json.jsonable` makes them JSON (NaN
and inf as null).
"""

from __future__ import annotations

from .._version import __version__
from .result import NetworkResult
from .scoring import confusion


def _goal(res: NetworkResult, nl, L0, rate0, k0) -> dict:
    ann = res.row(nl, "ann")
    latr = res.row(nl, "lattice", L0, rate0, k0)
    if ann is None or latr is None:
        return {}
    gap = ann["accuracy"] - latr["accuracy"]
    return {"layers": nl, "L": L0, "rate": rate0, "trials": k0,
            "accuracy_gap_points": 100 * gap,
            "accuracy_gap_err_points": 100 * latr["difference_vs_ann_err"],
            "within_2_points": bool(gap <= 0.02),
            "agreement": latr["agreement"], "agreement_at_least_95": latr["agreement"] >= 0.95,
            "met": bool(gap <= 0.02 and latr["agreement"] >= 0.95)}


def _headline(res: NetworkResult, key: str, nl, L0, rate0, k0, dyn, boundary) -> dict:
    model = {"ann_accuracy": "ann", "lattice_accuracy": "lattice",
             "mean_field_accuracy": "meanfield", "quasi_static_accuracy": "quasi_static",
             "agreement": "lattice"}[key]
    if model == "lattice":
        r = res.row(nl, "lattice", L0, rate0, k0)
    elif model == "ann":
        r = res.row(nl, "ann")
    else:
        r = res.row(nl, model, None, rate0)
    if r is None:
        return {}
    v, e = (r["agreement"], r["agreement_err"]) if key == "agreement" else \
        (r["accuracy"], r["accuracy_err"])
    return {"value": v, "error": e, "layers": nl, "L": L0, "dynamics": dyn,
            "boundary": boundary, "rate": rate0, "trials": k0, "n_test": r["n_test"],
            "units": model}


def _summary(res: NetworkResult, cfg, which, L0, rate0, k0, quick) -> dict:
    dyn, bnd = cfg["lattice"]["dynamics"], cfg["lattice"]["boundary"]
    keys = ("ann_accuracy", "lattice_accuracy", "mean_field_accuracy", "quasi_static_accuracy",
            "agreement")
    first = which[0]
    s = {k: dict(_headline(res, k, first, L0, rate0, k0, dyn, bnd),
                 by_layers={str(nl): _headline(res, k, nl, L0, rate0, k0, dyn, bnd)
                            for nl in which}) for k in keys}
    s["goal"] = {str(nl): _goal(res, nl, L0, rate0, k0) for nl in which}
    s["confusion"] = {}
    y = res.digits.y_test
    for nl in which:
        s["confusion"][str(nl)] = {
            "ann": confusion(y, res.forwards[(nl, "ann", None, None, 1)].predictions),
            "lattice": confusion(y, res.forwards[(nl, "lattice", L0, rate0, k0)].predictions)}
    s["rows"] = res.rows
    s["calibrations"] = {k: c.summary() for k, c in res.calibrations.items()}
    s["networks"] = {str(nl): {"hidden": n.hidden_sizes, "train_accuracy": n.train_accuracy,
                               **n.info} for nl, n in res.networks.items()}
    s["protocol"] = {"L": L0, "dynamics": dyn, "boundary": bnd, "update": "random_sequential",
                     "rate": rate0, "trials": k0, **{k: cfg["lattice"][k] for k in
                                                     ("bath", "at", "theta", "q_max")}}
    s["config"] = cfg
    s["quick"] = bool(quick)
    s["n_test"] = int(len(y))
    s["version"] = __version__
    return s

