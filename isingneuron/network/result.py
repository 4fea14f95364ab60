"""What :func:`~isingneuron.network.experiment.run` returns: :class:`NetworkResult`."""

from __future__ import annotations

import math
from dataclasses import dataclass

from .data import Digits

__all__ = ["NetworkResult"]


@dataclass
class NetworkResult:
    """Everything :func:`run` measured.

    Attributes
    ----------
    summary : dict
        The contents of ``network.json`` (headline accuracies with binomial
        errors and the L, dynamics, rate used; the scan; calibrations; goal).
    rows : list of dict
        One row per (network, unit model, L, rate, trials).
    calibrations : dict
        ``{label: Calibration}``.
    networks : dict
        ``{n_hidden_layers: ReluNetwork}``.
    digits : Digits
    forwards : dict
        ``{(layers, model, L, rate, trials): Forward}``.
    files : list of Path
        Files written.
    seconds : float
        Wall time.
    """

    summary: dict
    rows: list
    calibrations: dict
    networks: dict
    digits: Digits
    forwards: dict
    files: list
    seconds: float

    def row(self, layers, model, L=None, rate=None, trials=1) -> dict | None:
        """The row of a given network and unit model (None if it was not run)."""
        for r in self.rows:
            if (r["layers"] == layers and r["model"] == model and r["L"] == L
                    and (rate is None or r["rate"] is None or math.isclose(r["rate"], rate))
                    and r["trials"] == trials):
                return r
        return None
