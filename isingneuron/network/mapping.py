"""Unit inputs to quench depths, and spike counts back to the ReLU scale.

A hidden unit's input ``z = w.x + b`` becomes the quench depth
``Q = clip(Q_theta + z / g', 0, Q_max)``, and the unit's spike count ``S``
becomes the output ``a = S g' / g``; ``(Q_theta, g)`` is the rectifier of the
unit's calibration and the gain ``g' = z_ref / (Q_max - Q_theta)`` puts the
reference input ``z_ref`` (a quantile, the *headroom*, of the unit's training
inputs) on ``Q_max``. A unit replaced by its calibrated rectifier thus returns
``max(0, z)`` exactly for ``z <= z_ref``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .calibration import Calibration
from .data import ReluNetwork

__all__ = ["DepthMapping"]


@dataclass
class DepthMapping:
    """Inputs to quench depths and spike counts back to the ReLU scale.

    ``Q = clip(threshold + z / gain, 0, q_max)`` and ``a = S gain / slope``.

    Attributes
    ----------
    threshold : float
        Q_theta of the calibrated rectifier, J.
    slope : float
        g of the calibrated rectifier, sweeps/J.
    q_max : float
        Largest depth, J (< bath).
    gains : list of ndarray
        g' per hidden layer, one per unit (activation units per J).
    z_ref : list of ndarray
        The training input of each unit mapped to ``q_max``.
    """

    threshold: float
    slope: float
    q_max: float
    gains: list
    z_ref: list

    @classmethod
    def from_training(cls, net: ReluNetwork, X_train, calibration: Calibration,
                      gain: str = "per_unit", headroom: float = 1.0,
                      q_max: float | None = None) -> "DepthMapping":
        """Gains from the ReLU network's training inputs and the calibration.

        ``z_ref`` is the ``headroom`` quantile of each unit's training inputs
        (``per_unit``) or of the whole layer's (``per_layer``); units that are
        never active take the layer's median. ``g' = z_ref / (q_max - Q_theta)``.
        If the calibrated threshold is at or beyond ``q_max`` (the membrane
        hardly fires) the span is floored at 0.05 J.
        """
        q_max = calibration.q_max if q_max is None else float(q_max)
        span = max(q_max - calibration.threshold, 0.05)
        gains, refs = [], []
        for z in net.pre_activations(X_train):
            if gain == "per_layer":
                ref = np.full(z.shape[1], np.quantile(z, headroom))
            else:
                ref = np.quantile(z, headroom, axis=0)
            good = ref > 0
            fill = float(np.median(ref[good])) if good.any() else 1.0
            ref = np.where(good, ref, fill)
            refs.append(ref)
            gains.append(ref / span)
        slope = calibration.slope if calibration.slope > 0 else 1.0
        return cls(float(calibration.threshold), float(slope), q_max, gains, refs)

    def depths(self, layer: int, z) -> np.ndarray:
        """Quench depths (J) of the units of hidden layer ``layer`` for inputs ``z``."""
        return np.clip(self.threshold + np.asarray(z, float) / self.gains[layer], 0.0,
                       self.q_max)

    def outputs(self, layer: int, S) -> np.ndarray:
        """Spike counts (sweeps) back to the ReLU scale: ``S g' / g``."""
        return np.asarray(S, float) * self.gains[layer] / self.slope
