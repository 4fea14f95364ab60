"""A forward pass of the network with its hidden units replaced by physical units.

:func:`forward` maps each hidden layer's inputs to depths, asks the units for
spike counts, converts them back to the ReLU scale and passes them on; the
output layer reads them linearly, as the trained network does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from .data import ReluNetwork
from .mapping import DepthMapping

__all__ = ["LayerRecord", "Forward", "forward"]


@dataclass
class LayerRecord:
    """One hidden layer of a forward pass with physical units.

    ``z`` inputs (activation units), ``Q`` depths (J), ``S`` spike counts
    averaged over trials (sweeps), ``S_trials`` per trial, ``a`` outputs on the
    ReLU scale.
    """

    z: np.ndarray
    Q: np.ndarray
    S: np.ndarray
    S_trials: np.ndarray
    a: np.ndarray


@dataclass
class Forward:
    """A forward pass: hidden layers and the output-layer values."""

    layers: list
    logits: np.ndarray

    @property
    def predictions(self) -> np.ndarray:
        return np.argmax(self.logits, axis=1)


def forward(net: ReluNetwork, X, mapping: DepthMapping, units: Callable,
            trials: Sequence[int] = (1,), tag=()) -> dict[int, Forward]:
    """Run the network with its hidden units replaced by ``units``.

    Layer 1 is run once with ``max(trials)`` trials per unit (one call of
    ``units``); the result for k trials averages the first k. Each deeper layer
    is one call per k, its depths set by the previous layer's converted spike
    counts.

    Parameters
    ----------
    net : ReluNetwork
    X : ndarray (n, n_in)
    mapping : DepthMapping
    units : callable
        ``units(Q, trials, tag) -> S`` with S of shape ``Q.shape + (trials,)``
        (or ``+ (1,)`` for deterministic units), in sweeps.
    trials : sequence of int
        Trial counts to average per unit.
    tag : tuple
        Labels for the seeds of lattice runs.

    Returns
    -------
    dict
        ``{k: Forward}``.
    """
    X = np.asarray(X, float)
    k_max = int(max(trials))
    z1 = X @ net.weights[0] + net.biases[0]
    Q1 = mapping.depths(0, z1)
    S1 = units(Q1, k_max, tuple(tag) + ("layer", 0, "trials", k_max))
    out = {}
    for k in trials:
        k = int(k)
        St = S1[..., :k]
        S = St.mean(axis=-1)
        a = mapping.outputs(0, S)
        layers = [LayerRecord(z1, Q1, S, St, a)]
        for l in range(1, net.n_hidden):
            z = a @ net.weights[l] + net.biases[l]
            Q = mapping.depths(l, z)
            St = units(Q, k, tuple(tag) + ("layer", l, "trials", k))
            S = St.mean(axis=-1)
            a = mapping.outputs(l, S)
            layers.append(LayerRecord(z, Q, S, St, a))
        out[k] = Forward(layers, a @ net.weights[-1] + net.biases[-1])
    return out
