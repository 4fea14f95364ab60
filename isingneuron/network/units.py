"""The kinds of hidden unit: each maps quench depths to spike counts.

Every unit kind is called as ``units(Q, trials, tag) -> S``, S of shape
``Q.shape + (trials,)`` (``+ (1,)`` for deterministic units), in sweeps:
:class:`RectifierUnits` (the calibrated rectifier), :class:`QuasiStaticUnits`
(Onsager's quasi-static dwell), :class:`MeanFieldUnits` (the mean-field
Glauber ODE, tabulated), :class:`SurrogateUnits` (resampled from a
calibration) and :class:`LatticeUnits` (lattice membranes: one population run
per call). Each keeps a list ``runs`` of the engine runs it made.
"""

from __future__ import annotations

import numpy as np

from .. import activation as act
from .calibration import Calibration
from .population import _seed, quench_population

__all__ = ["RectifierUnits", "QuasiStaticUnits", "MeanFieldUnits", "SurrogateUnits",
           "LatticeUnits"]


class RectifierUnits:
    """A lattice neurone replaced by its calibrated rectifier (deterministic)."""

    model = "rectifier"

    def __init__(self, calibration: Calibration):
        self.calibration = calibration
        self.runs: list[dict] = []

    def __call__(self, Q, trials: int = 1, tag=()) -> np.ndarray:
        return self.calibration.rectifier(Q)[..., None]


class QuasiStaticUnits:
    """Quasi-static exact units: ``max(0, Q - Q_qs) / rate`` (Onsager's m(T))."""

    model = "quasi_static"

    def __init__(self, calibration: Calibration):
        self.calibration = calibration
        self.runs: list[dict] = []

    def __call__(self, Q, trials: int = 1, tag=()) -> np.ndarray:
        c = self.calibration
        return np.asarray(act.quasi_static_dwell_time(np.asarray(Q, float), c.bath, c.rate,
                                                      c.theta, "exact"), float)[..., None]


class MeanFieldUnits:
    """Mean-field Glauber units: the ODE's dwell, interpolated on its calibration grid."""

    model = "meanfield"

    def __init__(self, calibration: Calibration):
        self.calibration = calibration
        self.runs: list[dict] = []

    def __call__(self, Q, trials: int = 1, tag=()) -> np.ndarray:
        return self.calibration.mean_curve(Q)[..., None]


class SurrogateUnits:
    """Units resampled from a calibration: the mean curve plus a measured residual.

    For a depth Q the spike count is ``mean_curve(Q) + (S_j - mean)`` at the
    calibrated depth nearest to Q, with trial ``j`` drawn at random (clipped
    at 0): the knee and the trial-to-trial noise of the unit as measured,
    without running a lattice. Used by :func:`choose_headroom` on the
    training images; deterministic calibrations give the mean curve.
    """

    model = "surrogate"

    def __init__(self, calibration: Calibration, seed: int = 0):
        self.calibration = calibration
        self.rng = np.random.default_rng(seed)
        self.runs: list[dict] = []

    def __call__(self, Q, trials: int = 1, tag=()) -> np.ndarray:
        c = self.calibration
        Q = np.asarray(Q, float)
        idx = np.rint(np.interp(Q, c.Q, np.arange(len(c.Q)))).astype(int)
        j = self.rng.integers(0, c.S.shape[1], size=Q.shape + (trials,))
        resid = c.S[idx[..., None], j] - c.mean[idx][..., None]
        return np.maximum(c.mean_curve(Q)[..., None] + resid, 0.0)


class LatticeUnits:
    """Lattice neurones: every (input, unit, trial) is one replica of a population run.

    Parameters
    ----------
    calibration : Calibration
        The lattice calibration (L, dynamics, boundary, protocol).
    seed : int
        Base seed; each call derives its own from ``tag``.
    progress : bool
        tqdm bars.
    """

    model = "lattice"

    def __init__(self, calibration: Calibration, seed: int = 0, progress: bool = False):
        self.calibration = calibration
        self.seed = int(seed)
        self.progress = progress
        self.runs: list[dict] = []

    def __call__(self, Q, trials: int = 1, tag=()) -> np.ndarray:
        c = self.calibration
        Q = np.asarray(Q, float)
        flat = np.repeat(Q.ravel(), trials)
        res = quench_population(c.L, flat, dynamics=c.dynamics, boundary=c.boundary,
                                bath=c.bath, at=c.at, rate=c.rate, theta=c.theta,
                                n_sweeps=c.n_sweeps, seed=_seed(self.seed, *tag),
                                progress=self.progress,
                                desc=f"L={c.L} r={c.rate:g} {len(flat)} membranes")
        self.runs.append({"tag": [str(t) for t in tag], "membranes": int(flat.size),
                          "n_sweeps": c.n_sweeps, "attempts": res.attempts,
                          "seconds": res.seconds, "firing_at_end": res.firing_at_end})
        return res.dwell.reshape(Q.shape + (trials,))
