"""Scoring a network run against the trained ReLU network.

Accuracies with binomial errors (:func:`binomial`), the paired difference to
the ReLU network on the same images, confusion matrices, and the error budget
(:func:`_error_budget`: where, layer by layer, the physical units depart from
the trained network). :func:`_row` gathers them into one row of the results.
"""

from __future__ import annotations

import math

import numpy as np

from .calibration import Calibration
from .data import ReluNetwork
from .inference import Forward
from .mapping import DepthMapping

__all__ = ["binomial", "confusion"]


def binomial(p: float, n: int) -> float:
    """Binomial standard error ``sqrt(p (1 - p) / n)``."""
    return float(math.sqrt(max(p * (1.0 - p), 0.0) / n)) if n else float("nan")


def _paired_difference(correct_a, correct_b):
    """Accuracy difference a - b on the same images and its paired (McNemar) error."""
    a = np.asarray(correct_a, bool)
    b = np.asarray(correct_b, bool)
    n = a.size
    d = (a.astype(float) - b.astype(float))
    return float(d.mean()), float(d.std(ddof=1) / math.sqrt(n)) if n > 1 else float("nan")


def confusion(y_true, y_pred, n_classes: int = 10) -> np.ndarray:
    """Confusion matrix, rows = true class, columns = predicted."""
    cm = np.zeros((n_classes, n_classes), int)
    np.add.at(cm, (np.asarray(y_true, int), np.asarray(y_pred, int)), 1)
    return cm


def _rms(x) -> float:
    x = np.asarray(x, float)
    return float(np.sqrt(np.mean(x ** 2))) if x.size else float("nan")


def _error_budget(net: ReluNetwork, X, fwd: Forward, mapping: DepthMapping,
                  cal: Calibration) -> dict:
    """Where the lattice network departs from the ReLU network, in numbers.

    Per hidden layer (relative to the rms ReLU output): the total departure
    from the trained network; the local error of the layer given its own
    inputs; split into the knee (mean transfer curve against its rectifier,
    unsaturated depths), the saturation (inputs beyond ``z_ref``, held at
    ``q_max``) and the noise (spike count against the mean curve); the fraction of active
    units (z > 0) that stay silent, of inactive ones that fire, of saturated
    depths (Q = q_max). Then the rms error of the output values against the
    median margin between the trained network's two largest outputs.
    """
    ann_h = net.hidden(X)
    out = {"layers": []}
    for l, rec in enumerate(fwd.layers):
        ref = np.maximum(rec.z, 0.0)
        scale = _rms(ref) or 1.0
        det = mapping.outputs(l, cal.mean_curve(rec.Q))
        sat = rec.Q >= mapping.q_max
        active = rec.z > 0
        out["layers"].append({
            "rms_relu_output": _rms(ann_h[l]),
            "total_relative": _rms(rec.a - ann_h[l]) / (_rms(ann_h[l]) or 1.0),
            "local_relative": _rms(rec.a - ref) / scale,
            "knee_relative": _rms(np.where(sat, 0.0, det - ref)) / scale,
            "saturation_relative": _rms(np.where(sat, det - ref, 0.0)) / scale,
            "noise_relative": _rms(rec.a - det) / scale,
            "silent_active_fraction": float(np.mean(rec.S[active] == 0)) if active.any() else 0.0,
            "firing_inactive_fraction": float(np.mean(rec.S[~active] > 0))
            if (~active).any() else 0.0,
            "active_fraction": float(active.mean()),
            "saturated_fraction": float(np.mean(rec.Q >= mapping.q_max)),
            "zero_depth_fraction": float(np.mean(rec.Q <= 0.0)),
        })
    ann_logits = net.logits(X)
    top2 = np.sort(ann_logits, axis=1)[:, -2:]
    out["logit_rms_error"] = _rms(fwd.logits - ann_logits)
    out["ann_median_margin"] = float(np.median(top2[:, 1] - top2[:, 0]))
    return out


def _row(layers, model, y, ann_pred, fwd: Forward, *, L=None, dynamics=None, rate=None,
         trials=1, budget=None, runs=None, boundary=None, mapping=None):
    """One row of the results: a forward pass scored against the labels ``y`` and the
    ReLU network's predictions ``ann_pred``, with the mapping's numbers, the error
    budget and the engine totals of ``runs`` if given."""
    pred = fwd.predictions
    n = len(y)
    correct = pred == y
    acc = float(correct.mean())
    agree = float(np.mean(pred == ann_pred))
    d, de = _paired_difference(correct, ann_pred == y)
    r = {"layers": layers, "model": model, "L": L, "dynamics": dynamics, "boundary": boundary,
         "rate": rate, "trials": trials, "n_test": n, "accuracy": acc,
         "accuracy_err": binomial(acc, n), "agreement": agree,
         "agreement_err": binomial(agree, n), "difference_vs_ann": d,
         "difference_vs_ann_err": de}
    if mapping is not None:
        r.update(mapping)
    if budget is not None:
        r["error_budget"] = budget
    if runs:
        r["membranes"] = int(sum(x["membranes"] for x in runs))
        r["attempts"] = float(sum(x["attempts"] for x in runs))
        r["engine_seconds"] = float(sum(x["seconds"] for x in runs))
        r["firing_at_end"] = int(sum(x["firing_at_end"] for x in runs))
    return r
