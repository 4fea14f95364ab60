"""The gain's headroom, chosen on the training images from the calibration alone.

The headroom is the quantile of a unit's training inputs mapped to ``q_max``
(:class:`~isingneuron.network.mapping.DepthMapping`). :func:`choose_headroom`
runs the network with :class:`~isingneuron.network.units.SurrogateUnits` for
each candidate and keeps the one that agrees best with the trained network.
"""

from __future__ import annotations

import numpy as np

from .calibration import Calibration
from .data import ReluNetwork
from .inference import forward
from .mapping import DepthMapping
from .population import _seed
from .units import SurrogateUnits

__all__ = ["choose_headroom"]


def choose_headroom(net: ReluNetwork, X_train, calibration: Calibration, *,
                    gain: str = "per_unit", candidates=(0.8, 0.85, 0.9, 0.95, 0.98, 1.0),
                    trials: int = 1, draws: int = 4, seed: int = 0) -> tuple[float, dict]:
    """Pick the gain's headroom from the calibration, on the training images only.

    A larger ``z_ref`` (headroom quantile) leaves fewer inputs saturated at
    ``q_max`` but maps each unit of input onto fewer sweeps, so the spike-count
    noise weighs more. For every candidate the network is run on the training
    images with :class:`SurrogateUnits` (``draws`` noise draws, ``trials``
    trials per unit) and the candidate whose predictions agree best with the
    trained network's is kept (ties, within one image in a thousand: the larger
    headroom). No test image is used.

    Returns
    -------
    headroom : float
    table : dict
        ``{candidate: mean training agreement}``.
    """
    X = np.asarray(X_train, float)
    ann = net.predict(X)
    table = {}
    for h in candidates:
        mapping = DepthMapping.from_training(net, X, calibration, gain, float(h))
        agree = []
        for d in range(draws):
            units = SurrogateUnits(calibration, seed=_seed(seed, "surrogate", float(h), d))
            f = forward(net, X, mapping, units, trials=(trials,))[trials]
            agree.append(float(np.mean(f.predictions == ann)))
        table[float(h)] = float(np.mean(agree))
    best = max(table.values())
    h = max(k for k, v in table.items() if v >= best - 1e-3)
    return h, table
