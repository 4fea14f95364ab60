"""Neural inference with lattice neurones: a ReLU network whose hidden units are Ising membranes.

The paper's claim is that an artificial activation function (ReLU, ...) is the
mean field of a lattice neurone. This module puts that to a working test: a
small ReLU network is trained on scikit-learn's bundled handwritten digits
(``load_digits``: 1,797 images of 8 x 8 pixels, nothing downloaded), and every
hidden unit is then replaced by an L x L Ising membrane.

Pipeline
--------
1. **Calibration** (once per L, dynamics, reheating rate and boundary): a
   :class:`~isingneuron.schedules.Population` of quenches on a grid of depths
   ``Q`` (``calibration.depths`` depths from 0 to ``Q_max``, ``calibration.replicas``
   trials each) gives the transfer curve S(Q) (spike count = sweeps with
   ``m >= theta``). A rectifier ``S = g max(0, Q - Q_theta)`` is fitted to the
   mean curve (:func:`isingneuron.activation.fit_transfer`, model ``"relu"``):
   threshold ``Q_theta`` (J) and slope ``g`` (sweeps/J).
2. **Mapping** (:class:`DepthMapping`): a hidden unit's input ``z = w.x + b``
   becomes the quench depth ``Q = clip(Q_theta + z / g', 0, Q_max)`` with a
   gain ``g'`` (activation units per J) chosen from the calibration so that a
   reference input ``z_ref`` of the unit lands on ``Q_max``:
   ``g' = z_ref / (Q_max - Q_theta)``. ``z_ref`` is a quantile (the
   *headroom*) of the unit's training inputs; with ``headroom: auto`` it is
   picked by :func:`choose_headroom`, which runs the network on the training
   images with units resampled from the calibration (a smaller ``z_ref``
   spreads the inputs over more sweeps, so the spike-count noise weighs less,
   but saturates the largest inputs). The depth is clipped at 0 (a quench
   cannot heat the membrane) and at ``Q_max < bath`` (T must stay > 0); both
   clips are reported. The unit's output is its spike count converted back to
   the ReLU scale, ``a = S g' / g``. A membrane replaced by its calibrated
   rectifier therefore returns ``max(0, z)`` exactly (for ``z <= z_ref``).
3. **Inference**: all (image, unit, trial) triples of a layer are the replicas
   of **one** population (random-sequential kinetics, the engine's default),
   advanced together; membranes whose quench is over are dropped as it goes
   (:func:`quench_population`). The spike counts of layer l set the depths of
   layer l + 1; the output layer reads the converted hidden outputs linearly,
   as the trained network does.

The same network is also run with two other kinds of unit under the same
protocol, each with its own calibration and gain: mean-field Glauber units (the
ODE ``tau dm/dt = -m + tanh(Tc m / T(t))`` with Onsager's Tc, i.e. reduced units;
tabulated on a depth grid of spacing ``rate / 4`` J and interpolated: its spike
count is a deterministic function of Q) and quasi-static exact units (the
dwell ``max(0, Q - Q_qs) / r`` of a membrane on Onsager's equilibrium curve,
``Q_qs = bath - T(m = theta) = 0.968 J``).

Units: J = k_B = 1; temperatures and depths in J; time and spike counts in
sweeps; rates in J/sweep; the rectifier slope g in sweeps/J; the gain g' in
activation units per J.

Usage
-----
``python -m isingneuron.network OUTDIR [--quick] [--layers 1|2|both] [--config FILE]``
writes ``network.json``, ``network.md`` and ``network.png`` / ``network.pdf``;
:func:`run` does the same from Python and returns a :class:`NetworkResult`.
The lattice part is configured by ``configs/network.yaml`` (the defaults of
:data:`DEFAULTS`). Needs scikit-learn (the ``paper`` extra:
``pip install -e ".[paper]"``).
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import math
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from . import activation as act
from . import exact, meanfield
from .engine import Lattice
from .schedules import ONSAGER_TC, Population, Quench

__all__ = ["DEFAULTS", "NetworkConfigError", "load_config", "Digits", "load_digits_split",
           "ReluNetwork", "train_relu_network", "Calibration", "calibrate_lattice",
           "calibrate_meanfield", "calibrate_quasi_static", "DepthMapping", "RectifierUnits",
           "QuasiStaticUnits", "MeanFieldUnits", "LatticeUnits", "SurrogateUnits",
           "choose_headroom", "quench_population",
           "forward", "binomial", "NetworkResult", "run", "main"]

# ===================================================================== config
#: Default configuration (``configs/network.yaml`` holds the same values).
DEFAULTS: dict[str, Any] = {
    "data": {"test_size": 360, "split_seed": 0},
    "networks": {"hidden_1": [32], "hidden_2": [32, 16], "train_seed": 0,
                 "alpha": 1e-4, "max_iter": 2000},
    "lattice": {"L": 32, "dynamics": "metropolis", "boundary": "plus", "bath": 3.0,
                "at": 50, "rate": 0.005, "theta": 0.9, "q_max": 2.9, "trials": 1,
                "seed": 1},
    "calibration": {"depths": 30, "replicas": 32},
    "mapping": {"gain": "per_unit", "headroom": "auto",
                "candidates": [0.8, 0.85, 0.9, 0.95, 0.98, 1.0], "draws": 4},
    "meanfield": {"tau": 1.0, "m0": None},
    "scan": {"one_layer": {"L": [16, 32, 64], "rate": [0.0025, 0.005, 0.01],
                           "trials": [1, 2, 4]},
             "two_layers": {"L": [16, 32], "rate": [0.0025, 0.005], "trials": [1]}},
    "quick": {"lattice": {"L": 16}, "calibration": {"depths": 24, "replicas": 16},
              "scan": {"one_layer": {"L": [16], "rate": [0.005], "trials": [1]},
                       "two_layers": {"L": [16], "rate": [0.005], "trials": [1]}}},
}

#: Margin (J) above Onsager's Tc at which a run stops: by then no membrane is
#: ordered (checked: ``firing_at_end`` is reported for every run).
_TAIL_MARGIN = 0.2

#: Spin-flip attempts and sweeps per engine call of :func:`quench_population` at most
#: (progress bar, and how often finished membranes are dropped).
_CHUNK_ATTEMPTS = 1 << 27
_CHUNK_SWEEPS = 20


class NetworkConfigError(ValueError):
    """A bad network config: the message names the key, the value and what is allowed."""


def _deep_update(base: dict, new: dict, path: str = "") -> dict:
    for k, v in new.items():
        where = f"{path}{k}"
        if k not in base:
            raise NetworkConfigError(f"{where}: unknown key; allowed here: {sorted(base)}")
        if isinstance(base[k], dict) and k != "quick":
            if not isinstance(v, dict):
                raise NetworkConfigError(f"{where} = {v!r}: must be a mapping with keys "
                                         f"{sorted(base[k])}")
            _deep_update(base[k], v, where + ".")
        elif k == "quick":
            if not isinstance(v, dict):
                raise NetworkConfigError(f"{where} = {v!r}: must be a mapping of overrides")
            base[k] = v
        else:
            base[k] = v
    return base


def _is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def _is_real(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) \
        and math.isfinite(float(v))


def _check(cfg: dict) -> dict:
    """Validate a full config in place; raise NetworkConfigError naming the key."""
    def need(ok, key, value, rule):
        if not ok:
            raise NetworkConfigError(f"{key} = {value!r}: {rule}")

    def int_at_least(sec, key, lo):
        v = cfg[sec][key]
        need(_is_int(v) and v >= lo, f"{sec}.{key}", v, f"must be an integer >= {lo}")

    def real_above(sec, key, lo, strict=True):
        v = cfg[sec][key]
        need(_is_real(v) and (v > lo if strict else v >= lo), f"{sec}.{key}", v,
             f"must be a real number {'>' if strict else '>='} {lo:g}")

    def int_list(sec, key, lo, what):
        v = cfg[sec][key]
        need(isinstance(v, (list, tuple)) and len(v) > 0 and all(_is_int(x) and x >= lo
                                                                 for x in v),
             f"{sec}.{key}", v, f"must be a non-empty list of {what} (integers >= {lo})")

    int_at_least("data", "test_size", 10)
    int_at_least("data", "split_seed", 0)
    int_list("networks", "hidden_1", 1, "hidden units")
    need(len(cfg["networks"]["hidden_1"]) == 1, "networks.hidden_1", cfg["networks"]["hidden_1"],
         "must list the units of ONE hidden layer, e.g. [32]")
    int_list("networks", "hidden_2", 1, "hidden units")
    need(len(cfg["networks"]["hidden_2"]) == 2, "networks.hidden_2", cfg["networks"]["hidden_2"],
         "must list the units of TWO hidden layers, e.g. [32, 16]")
    int_at_least("networks", "train_seed", 0)
    real_above("networks", "alpha", 0.0, strict=False)
    int_at_least("networks", "max_iter", 1)
    lat = cfg["lattice"]
    int_at_least("lattice", "L", 4)
    need(lat["dynamics"] in ("metropolis", "glauber"), "lattice.dynamics", lat["dynamics"],
         "must be 'metropolis' or 'glauber' (physical single-spin kinetics)")
    need(lat["boundary"] in ("plus", "periodic"), "lattice.boundary", lat["boundary"],
         "must be 'plus' (fixed +1 border: fires to m = +1) or 'periodic'")
    real_above("lattice", "bath", 0.0)
    int_at_least("lattice", "at", 0)
    real_above("lattice", "rate", 0.0)
    real_above("lattice", "theta", 0.0)
    need(lat["theta"] < 1, "lattice.theta", lat["theta"], "must be in (0, 1)")
    real_above("lattice", "q_max", 0.0)
    need(lat["q_max"] < lat["bath"], "lattice.q_max", lat["q_max"],
         f"must be < bath = {lat['bath']!r} J (the temperature bath - Q must stay > 0)")
    need(lat["bath"] > ONSAGER_TC, "lattice.bath", lat["bath"],
         f"must be > Onsager's Tc = {ONSAGER_TC:.4f} J (a resting membrane is disordered)")
    int_at_least("lattice", "trials", 1)
    int_at_least("lattice", "seed", 0)
    int_at_least("calibration", "depths", 5)
    int_at_least("calibration", "replicas", 2)
    need(cfg["mapping"]["gain"] in ("per_unit", "per_layer"), "mapping.gain",
         cfg["mapping"]["gain"], "must be 'per_unit' or 'per_layer'")
    h = cfg["mapping"]["headroom"]
    need(h == "auto" or (_is_real(h) and 0.5 <= h <= 1.0), "mapping.headroom", h,
         "must be 'auto' or a quantile in [0.5, 1] of the training inputs mapped to q_max")
    c = cfg["mapping"]["candidates"]
    need(isinstance(c, (list, tuple)) and len(c) > 0
         and all(_is_real(x) and 0.5 <= x <= 1.0 for x in c), "mapping.candidates", c,
         "must be a non-empty list of quantiles in [0.5, 1]")
    int_at_least("mapping", "draws", 1)
    real_above("meanfield", "tau", 0.0)
    m0 = cfg["meanfield"]["m0"]
    need(m0 is None or (_is_real(m0) and 0 < m0 <= 1), "meanfield.m0", m0,
         "must be null (the lattice's measured resting m) or a number in (0, 1]")
    for net in ("one_layer", "two_layers"):
        sc = cfg["scan"][net]
        key = f"scan.{net}"
        for k, v in sc.items():
            if k in ("L", "trials"):
                lo = 4 if k == "L" else 1
                need(isinstance(v, (list, tuple)) and len(v) > 0
                     and all(_is_int(x) and x >= lo for x in v), f"{key}.{k}", v,
                     f"must be a non-empty list of integers >= {lo}")
            else:
                need(isinstance(v, (list, tuple)) and len(v) > 0
                     and all(_is_real(x) and x > 0 for x in v), f"{key}.{k}", v,
                     "must be a non-empty list of reheating rates > 0 (J/sweep)")
    return cfg


def load_config(source=None, quick: bool = False) -> dict:
    """Read and validate a network config.

    Parameters
    ----------
    source : None, str, Path or dict
        None for :data:`DEFAULTS`; a YAML file path; or a (partial) dict of
        overrides. Missing keys take their default.
    quick : bool
        Apply the config's ``quick`` overrides (smaller, faster run).

    Returns
    -------
    dict
        The full config (a new dict).

    Raises
    ------
    NetworkConfigError
        Unreadable file, unknown key or bad value (the message names it).
    """
    cfg = copy.deepcopy(DEFAULTS)
    if source is not None:
        if isinstance(source, dict):
            user = source
        else:
            import yaml
            p = Path(source)
            try:
                user = yaml.safe_load(p.read_text())
            except OSError as exc:
                raise NetworkConfigError(f"config {str(p)!r}: cannot be read ({exc.strerror})") \
                    from None
            except yaml.YAMLError as exc:
                raise NetworkConfigError(f"config {str(p)!r}: not valid YAML ({exc})") from None
            user = {} if user is None else user
            if not isinstance(user, dict):
                raise NetworkConfigError(f"config {str(p)!r}: must be a mapping of sections "
                                         f"{sorted(DEFAULTS)}")
        _deep_update(cfg, copy.deepcopy(user))
    if quick:
        over = cfg["quick"]
        bad = sorted(set(over) - (set(DEFAULTS) - {"quick"}))
        if bad:
            raise NetworkConfigError(f"quick: unknown section(s) {bad}; allowed: "
                                     f"{sorted(set(DEFAULTS) - {'quick'})}")
        _deep_update(cfg, copy.deepcopy(over), "quick.")
    return _check(cfg)


# ======================================================================= data
@dataclass
class Digits:
    """scikit-learn's bundled digits, pixels scaled to [0, 1], with a fixed split.

    Attributes
    ----------
    X_train, X_test : ndarray, shape (n, 64)
        Pixel intensities / 16.
    y_train, y_test : ndarray of int
        Labels 0-9.
    index_test : ndarray of int
        Indices of the test images in ``load_digits()``.
    """

    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    index_test: np.ndarray

    @property
    def images_test(self) -> np.ndarray:
        """Test images, shape (n, 8, 8), in [0, 1]."""
        return self.X_test.reshape(-1, 8, 8)


def _sklearn():
    try:
        import sklearn  # noqa: F401
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("isingneuron.network needs scikit-learn (its bundled digits and "
                          "MLPClassifier): pip install -e '.[paper]'") from None


def load_digits_split(test_size: int = 360, seed: int = 0) -> Digits:
    """Load the 1,797 bundled 8 x 8 digits and split them, stratified, with a fixed seed.

    Parameters
    ----------
    test_size : int
        Number of test images (360 is 20 %).
    seed : int
        ``random_state`` of :func:`sklearn.model_selection.train_test_split`.
    """
    _sklearn()
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    d = load_digits()
    X = d.data / 16.0
    idx = np.arange(len(X))
    Xtr, Xte, ytr, yte, _, ite = train_test_split(X, d.target, idx, test_size=test_size,
                                                  random_state=seed, stratify=d.target)
    return Digits(Xtr, Xte, ytr.astype(int), yte.astype(int), ite)


# ==================================================================== network
@dataclass
class ReluNetwork:
    """A fully connected network: ReLU hidden layers, a linear output layer.

    Attributes
    ----------
    weights : list of ndarray
        ``weights[l]`` has shape (n_in, n_out); the last one is the output layer.
    biases : list of ndarray
        ``biases[l]`` has shape (n_out,).
    train_accuracy : float or None
        Accuracy on the training set, if trained here.
    info : dict
        Training details (iterations, converged).
    """

    weights: list
    biases: list
    train_accuracy: float | None = None
    info: dict = field(default_factory=dict)

    @property
    def n_hidden(self) -> int:
        """Number of hidden layers."""
        return len(self.weights) - 1

    @property
    def hidden_sizes(self) -> list[int]:
        return [int(w.shape[1]) for w in self.weights[:-1]]

    def pre_activations(self, X) -> list[np.ndarray]:
        """Inputs ``z = a W + b`` of every hidden layer for inputs ``X`` (n, n_in)."""
        a = np.asarray(X, float)
        zs = []
        for W, b in zip(self.weights[:-1], self.biases[:-1]):
            z = a @ W + b
            zs.append(z)
            a = np.maximum(z, 0.0)
        return zs

    def hidden(self, X) -> list[np.ndarray]:
        """ReLU outputs of every hidden layer."""
        return [np.maximum(z, 0.0) for z in self.pre_activations(X)]

    def logits(self, X) -> np.ndarray:
        """Output-layer values (n, n_classes); the class is their argmax."""
        a = self.hidden(X)[-1] if self.n_hidden else np.asarray(X, float)
        return a @ self.weights[-1] + self.biases[-1]

    def predict(self, X) -> np.ndarray:
        return np.argmax(self.logits(X), axis=1)


def train_relu_network(X, y, hidden: Sequence[int] = (32,), seed: int = 0,
                       alpha: float = 1e-4, max_iter: int = 2000) -> ReluNetwork:
    """Train ``MLPClassifier(activation='relu')`` (Adam) and return its weights.

    Parameters
    ----------
    X : ndarray (n, n_in)
        Training inputs.
    y : ndarray (n,)
        Integer labels.
    hidden : sequence of int
        Units per hidden layer.
    seed : int
        ``random_state`` of the classifier.
    alpha : float
        L2 penalty.
    max_iter : int
        Largest number of epochs.
    """
    _sklearn()
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier
    clf = MLPClassifier(hidden_layer_sizes=tuple(int(h) for h in hidden), activation="relu",
                        solver="adam", alpha=alpha, max_iter=max_iter, random_state=seed)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        clf.fit(X, y)
    converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    if list(clf.classes_) != list(range(len(clf.classes_))):  # pragma: no cover
        raise ValueError("labels must be 0 .. n_classes - 1")
    net = ReluNetwork([np.array(w, float) for w in clf.coefs_],
                      [np.array(b, float) for b in clf.intercepts_])
    net.train_accuracy = float(np.mean(net.predict(X) == y))
    net.info = {"epochs": int(clf.n_iter_), "converged": bool(converged),
                "hidden": [int(h) for h in hidden], "alpha": float(alpha), "seed": int(seed)}
    return net


# ================================================================ calibration
@dataclass
class Calibration:
    """A unit's transfer curve S(Q) on a depth grid and its fitted rectifier.

    Attributes
    ----------
    model : str
        "lattice", "meanfield", "quasi_static" or "rectifier".
    Q : ndarray (n,)
        Depth grid, J.
    S : ndarray (n, k)
        Spike counts (sweeps) of k trials per depth (k = 1 for deterministic units).
    threshold, slope : float
        Fitted rectifier ``S = slope max(0, Q - threshold)``: Q_theta (J), g (sweeps/J).
    threshold_err, slope_err : float
        Their standard errors (residual-scaled least squares).
    rate, bath, at, theta, q_max : float
        Protocol: reheating rate (J/sweep), bath (J), quench time (sweeps),
        firing threshold on m, largest depth (J).
    L, dynamics, boundary : optional
        Lattice only.
    n_sweeps : int or None
        Sweeps per run (lattice and mean field).
    extra : dict
        Model-specific numbers (rest magnetisation, onset delays, ...).
    seconds : float
        Wall time of the calibration.
    """

    model: str
    Q: np.ndarray
    S: np.ndarray
    threshold: float
    slope: float
    threshold_err: float
    slope_err: float
    rate: float
    bath: float
    at: float
    theta: float
    q_max: float
    L: int | None = None
    dynamics: str | None = None
    boundary: str | None = None
    n_sweeps: int | None = None
    extra: dict = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def mean(self) -> np.ndarray:
        """Mean spike count per depth (sweeps)."""
        return self.S.mean(axis=1)

    @property
    def sd(self) -> np.ndarray:
        """Trial-to-trial standard deviation per depth (sweeps; 0 for deterministic units)."""
        return self.S.std(axis=1, ddof=1) if self.S.shape[1] > 1 else np.zeros(len(self.Q))

    def rectifier(self, Q) -> np.ndarray:
        """The calibrated rectifier ``g max(0, Q - Q_theta)`` (sweeps)."""
        return self.slope * np.maximum(np.asarray(Q, float) - self.threshold, 0.0)

    def mean_curve(self, Q) -> np.ndarray:
        """The measured mean transfer curve, linearly interpolated (sweeps)."""
        return np.interp(np.asarray(Q, float), self.Q, self.mean)

    @property
    def label(self) -> str:
        if self.model == "lattice":
            return f"lattice L={self.L} {self.dynamics} r={self.rate:g}"
        return f"{self.model} r={self.rate:g}"

    def summary(self) -> dict:
        """Plain numbers: the fit, the knee residual, the noise, the delay."""
        span = self.slope * max(self.q_max - self.threshold, 0.0)
        resid = self.mean - self.rectifier(self.Q)
        above = self.Q >= self.threshold
        out = {"model": self.model, "L": self.L, "dynamics": self.dynamics,
               "boundary": self.boundary, "rate": self.rate, "bath": self.bath, "at": self.at,
               "theta": self.theta, "q_max": self.q_max, "n_sweeps": self.n_sweeps,
               "depths": len(self.Q), "trials_per_depth": int(self.S.shape[1]),
               "threshold": self.threshold, "threshold_err": self.threshold_err,
               "slope": self.slope, "slope_err": self.slope_err,
               "span_sweeps": span,
               "knee_rms_sweeps": float(np.sqrt(np.mean(resid ** 2))),
               "knee_max_sweeps": float(np.max(np.abs(resid))),
               "noise_sd_sweeps_above_threshold": float(np.sqrt(np.mean(self.sd[above] ** 2)))
               if np.any(above) else 0.0,
               "seconds": self.seconds}
        out["knee_rms_relative"] = out["knee_rms_sweeps"] / span if span > 0 else float("nan")
        out["noise_relative"] = out["noise_sd_sweeps_above_threshold"] / span if span > 0 \
            else float("nan")
        out.update(self.extra)
        return out


def _fit_rectifier(Q, S_mean):
    try:
        fr = act.fit_transfer(Q, S_mean, model="relu")
        thr, slope = fr.params["threshold"], fr.params["slope"]
        thr_e, slope_e = fr.errors["threshold"], fr.errors["slope"]
    except Exception:  # pragma: no cover - a curve that never fires
        thr, slope, thr_e, slope_e = float(np.max(Q)), 0.0, float("nan"), float("nan")
    if not (np.isfinite(slope) and slope > 0):
        thr, slope = float(np.max(Q)), 0.0
    return float(thr), float(slope), float(thr_e), float(slope_e)


def n_sweeps_for(bath: float, at: float, rate: float, q_max: float) -> int:
    """Sweeps of a run: rest, then reheating until T = Tc + 0.1 J at the deepest quench.

    After that no membrane is ordered (each run reports how many still are).
    Capped at the end of the deepest quench (T back at the bath).
    """
    reheat = (q_max - (bath - ONSAGER_TC) + _TAIL_MARGIN) / rate
    full = q_max / rate
    return int(at + math.ceil(min(max(reheat, 1.0), full))) + 1


@dataclass
class PopulationSpikes:
    """Per-replica result of :func:`quench_population`.

    Attributes
    ----------
    dwell : ndarray (R,)
        Sweeps with ``m >= theta`` (the spike count).
    onset : ndarray (R,)
        First sweep (completed) with ``m >= theta``, NaN if never.
    offset : ndarray (R,)
        Last sweep (completed) with ``m >= theta``, NaN if never.
    rest_m : ndarray (R,)
        Mean m over the second half of the rest before the quench.
    firing_at_end : int
        Replicas still at ``m >= theta`` at the last sweep (should be 0).
    attempts : float
        Spin-flip attempts of the run.
    seconds : float
        Wall time.
    """

    dwell: np.ndarray
    onset: np.ndarray
    offset: np.ndarray
    rest_m: np.ndarray
    firing_at_end: int
    attempts: float
    seconds: float


def quench_population(L: int, depths, *, dynamics: str = "metropolis", boundary: str = "plus",
                      bath: float = 3.0, at: float = 50, rate: float = 0.005,
                      theta: float = 0.9, n_sweeps: int | None = None, seed: int = 0,
                      progress: bool = False, desc: str = "") -> PopulationSpikes:
    """One L x L membrane per depth, all in one population; their spike counts.

    Every replica ``i`` follows ``Quench(bath, depths[i], at, rate)`` (one
    :class:`~isingneuron.schedules.Population`) with the engine's default,
    random-sequential update order (physical kinetics), all replicas in one
    :class:`~isingneuron.engine.Lattice`. The population is advanced in chunks
    of at most :data:`_CHUNK_SWEEPS` sweeps (progress bar). A membrane whose
    own quench has reheated it to ``Tc + 0.2 J`` (:func:`n_sweeps_for` of its
    depth) and that is not at ``m >= theta`` can no longer spike: once such
    finished membranes make up 10 % of the population, the others continue
    in a new lattice holding only them (their spins carried over, the random
    numbers keyed by a seed derived from ``seed`` and the compaction count).
    Replicas are independent, so this changes no membrane's statistics, only
    the time: shallow quenches stop early.

    Parameters
    ----------
    L : int
        Membrane size.
    depths : array_like (R,)
        Quench depths, J, each in ``[0, bath)``.
    dynamics, boundary : str
        Engine options.
    bath, at, rate, theta : float
        Bath (J), quench time (sweeps), reheating rate (J/sweep), threshold on m.
    n_sweeps : int, optional
        Longest run; default :func:`n_sweeps_for` of the deepest depth.
    seed : int
        Engine seed.
    progress : bool
        tqdm bar over sweeps.
    desc : str
        Bar label.
    """
    t0 = time.perf_counter()
    depths = np.asarray(depths, float).ravel()
    R = depths.size
    if n_sweeps is None:
        n_sweeps = n_sweeps_for(bath, at, rate, float(depths.max()))
    pop = Population([Quench(bath, float(q), at, rate) for q in depths])
    temps = pop.temperatures(n_sweeps)
    ends = np.array([n_sweeps_for(bath, at, rate, q) for q in depths])
    lat = Lattice(L, R, dynamics=dynamics, boundary=boundary, seed=seed)
    alive = np.arange(R)
    count = np.zeros(R, np.int64)
    onset = np.full(R, np.nan)
    offset = np.full(R, np.nan)
    rest_sum = np.zeros(R)
    rest_n = 0
    rest_from = at / 2.0
    attempts = 0.0
    parts = 0
    on_last = np.zeros(R, bool)
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=n_sweeps, unit="sweep", desc=desc or f"L={L} R={R}", leave=False,
                   dynamic_ncols=True)
    done = 0
    try:
        while done < n_sweeps and alive.size:
            n = min(_CHUNK_SWEEPS, max(1, _CHUNK_ATTEMPTS // (L * L * alive.size)),
                    n_sweeps - done)
            tr = lat.run(n, temps[alive, done:done + n])
            attempts += float(L * L) * alive.size * n
            m = tr.m
            t = done + np.arange(1, n + 1)      # sweeps completed (a new lattice restarts at 0)
            on = m >= theta
            count[alive] += on.sum(axis=1)
            any_on = on.any(axis=1)
            first = np.argmax(on, axis=1)
            new = np.isnan(onset[alive]) & any_on
            onset[alive[new]] = t[first[new]]
            last = n - 1 - np.argmax(on[:, ::-1], axis=1)
            offset[alive[any_on]] = t[last[any_on]]
            rest = (t > rest_from) & (t <= at)
            if rest.any():   # every replica is alive during the rest (ends > at)
                rest_sum[alive] += m[:, rest].sum(axis=1)
                rest_n += int(rest.sum())
            on_last[alive] = on[:, -1]
            done += n
            finished = (ends[alive] <= done) & ~on[:, -1]
            if finished.all():
                alive = alive[:0]
            elif finished.mean() >= 0.1 and done < n_sweeps:
                keep = ~finished
                parts += 1
                lat = Lattice(L, int(keep.sum()), dynamics=dynamics, boundary=boundary,
                              seed=_seed(seed, "compaction", parts), initial=lat.spins[keep])
                alive = alive[keep]
            if bar is not None:
                bar.update(n)
    finally:
        if bar is not None:
            bar.close()
    rest_m = rest_sum / rest_n if rest_n else np.full(R, np.nan)
    still = int(on_last[alive].sum()) if done >= n_sweeps else 0
    return PopulationSpikes(dwell=count.astype(float), onset=onset, offset=offset,
                            rest_m=rest_m,
                            firing_at_end=still, attempts=attempts,
                            seconds=time.perf_counter() - t0)


def _grid(q_max, n):
    return np.linspace(0.0, q_max, n)


def calibrate_lattice(L: int, *, dynamics: str = "metropolis", boundary: str = "plus",
                      bath: float = 3.0, at: float = 50, rate: float = 0.005,
                      theta: float = 0.9, q_max: float = 2.9, depths: int = 30,
                      replicas: int = 32, seed: int = 0, progress: bool = False) -> Calibration:
    """Measure a lattice neurone's transfer curve and fit its rectifier.

    ``depths`` depths evenly spaced on ``[0, q_max]`` (J), ``replicas`` trials
    each, all in one population run. Besides the fit it records the resting
    magnetisation, the ordering delay (first sweep with m >= theta after the
    quench, at the deepest depth), the fraction of trials firing there, and
    the delay's cost in depth: ``threshold - Q_qs`` with the quasi-static exact
    ``Q_qs = bath - T(m = theta)``.

    Returns
    -------
    Calibration
    """
    t0 = time.perf_counter()
    Q = _grid(q_max, depths)
    n_sweeps = n_sweeps_for(bath, at, rate, q_max)
    res = quench_population(L, np.repeat(Q, replicas), dynamics=dynamics, boundary=boundary,
                            bath=bath, at=at, rate=rate, theta=theta, n_sweeps=n_sweeps,
                            seed=seed, progress=progress, desc=f"calibrate L={L} r={rate:g}")
    S = res.dwell.reshape(depths, replicas)
    onset = res.onset.reshape(depths, replicas)
    thr, slope, thr_e, slope_e = _fit_rectifier(Q, S.mean(axis=1))
    q_qs = bath - float(exact.temperature_at_magnetisation(theta))
    deep = onset[-1] - at
    fired = np.isfinite(deep)
    extra = {"rest_m": float(np.nanmean(res.rest_m)),
             "q_quasi_static": q_qs,
             "threshold_shift_J": thr - q_qs,
             "threshold_shift_sweeps": (thr - q_qs) / rate,
             "fraction_firing_at_q_max": float(fired.mean()),
             "delay_at_q_max_sweeps": float(np.mean(deep[fired])) if fired.any() else None,
             "delay_at_q_max_sd": float(np.std(deep[fired], ddof=1)) if fired.sum() > 1
             else None,
             "mean_spike_at_q_max": float(S[-1].mean()),
             "quasi_static_spike_at_q_max": (q_max - q_qs) / rate,
             "sd_spike_at_q_max": float(S[-1].std(ddof=1)),
             "firing_at_end": res.firing_at_end,
             "attempts": res.attempts}
    # where the noise comes from: at depths where >= 90 % of trials fire, the spread of
    # the spike's start (ordering delay after the quench) and of its end (set by reheating)
    offset = res.offset.reshape(depths, replicas)
    full = np.isfinite(onset).mean(axis=1) >= 0.9
    if full.sum() >= 1 and replicas > 1:
        def rms_sd(x):
            return float(np.sqrt(np.mean([np.nanstd(row, ddof=1) ** 2 for row in x[full]])))
        qs_end = at + (Q[full] - q_qs) / rate
        extra.update({
            "noise_depths": int(full.sum()),
            "onset_delay_mean_sweeps": float(np.nanmean(onset[full] - at)),
            "onset_sd_sweeps": rms_sd(onset),
            "end_sd_sweeps": rms_sd(offset),
            "spike_sd_sweeps": rms_sd(S.astype(float)),
            "end_lag_vs_quasi_static_sweeps": float(np.nanmean(offset[full] - qs_end[:, None])),
        })
    return Calibration("lattice", Q, S, thr, slope, thr_e, slope_e, rate, bath, at, theta, q_max,
                       L=L, dynamics=dynamics, boundary=boundary, n_sweeps=n_sweeps, extra=extra,
                       seconds=time.perf_counter() - t0)


def calibrate_meanfield(*, bath: float = 3.0, at: float = 50, rate: float = 0.005,
                        theta: float = 0.9, q_max: float = 2.9, tau: float = 1.0,
                        m0: float = 1e-3, step: float | None = None) -> Calibration:
    """Mean-field Glauber transfer curve on a fine depth grid and its rectifier.

    ``tau dm/dt = -m + tanh(Tc m / T(t))`` with Onsager's Tc (reduced units, as
    :func:`isingneuron.meanfield.glauber_dynamics` with ``Tc = ONSAGER_TC``),
    under the same quench protocol (piecewise constant per sweep), started at
    ``m0`` (the lattice's resting magnetisation). The grid spacing ``step``
    defaults to ``rate / 4`` J (a quarter of a sweep of dwell), so that linear
    interpolation in :class:`MeanFieldUnits` is within a sweep of the ODE.
    """
    t0 = time.perf_counter()
    step = rate / 4.0 if step is None else float(step)
    Q = np.linspace(0.0, q_max, int(math.ceil(q_max / step)) + 1)
    n_sweeps = n_sweeps_for(bath, at, rate, q_max)
    temps = Population([Quench(bath, float(q), at, rate) for q in Q]).temperatures(n_sweeps)
    m = meanfield.glauber_dynamics(temps, tau=tau, Tc=ONSAGER_TC, m0=m0)
    on = m >= theta
    S = on.sum(axis=1).astype(float)[:, None]
    thr, slope, thr_e, slope_e = _fit_rectifier(Q, S[:, 0])
    t_theta = ONSAGER_TC * theta / np.arctanh(theta)
    extra = {"m0": float(m0), "tau": float(tau), "Tc": ONSAGER_TC,
             "q_quasi_static": bath - t_theta,
             "threshold_shift_J": thr - (bath - t_theta),
             "firing_at_end": int(on[:, -1].sum()), "grid_step_J": step}
    return Calibration("meanfield", Q, S, thr, slope, thr_e, slope_e, rate, bath, at, theta,
                       q_max, n_sweeps=n_sweeps, extra=extra, seconds=time.perf_counter() - t0)


def calibrate_quasi_static(*, bath: float = 3.0, at: float = 50, rate: float = 0.005,
                           theta: float = 0.9, q_max: float = 2.9,
                           depths: int = 30) -> Calibration:
    """The quasi-static exact unit: dwell ``max(0, Q - Q_qs) / rate`` on Onsager's m(T).

    Its rectifier fit is exact (threshold ``Q_qs = bath - T(m = theta)``, slope 1/rate).
    """
    t0 = time.perf_counter()
    Q = _grid(q_max, depths)
    S = np.asarray(act.quasi_static_dwell_time(Q, bath, rate, theta, "exact"), float)[:, None]
    thr, slope, thr_e, slope_e = _fit_rectifier(Q, S[:, 0])
    q_qs = bath - float(exact.temperature_at_magnetisation(theta))
    return Calibration("quasi_static", Q, S, thr, slope, thr_e, slope_e, rate, bath, at, theta,
                       q_max, extra={"q_quasi_static": q_qs, "threshold_shift_J": thr - q_qs},
                       seconds=time.perf_counter() - t0)


# ==================================================================== mapping
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


# ====================================================================== units
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


def _seed(base: int, *parts) -> int:
    """A 63-bit engine seed from a base seed and labels (stable across runs)."""
    text = ":".join(["isingneuron.network", str(int(base))] + [repr(p) for p in parts])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little") >> 1


# ==================================================================== forward
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


# ================================================================= statistics
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


# ===================================================================== result
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


def _row(layers, model, y, ann_pred, fwd: Forward, *, L=None, dynamics=None, rate=None,
         trials=1, budget=None, runs=None, boundary=None, mapping=None):
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


# ================================================================= experiment
def _bar(iterable, progress, desc, total=None):
    if not progress:
        return iterable
    from tqdm.auto import tqdm
    return tqdm(iterable, desc=desc, total=total, leave=False, dynamic_ncols=True)


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
    proto = {"bath": float(lat["bath"]), "at": float(lat["at"]), "theta": float(lat["theta"]),
             "q_max": float(lat["q_max"])}
    # the plan: for each network, an L scan (at the default rate), a rate scan (at the
    # default L) and a trial scan (default L and rate); the headline point is in all three
    key = {1: "one_layer", 2: "two_layers"}
    plan = {}                                     # (layers, L, rate) -> trial counts
    for nl in which:
        sc = cfg["scan"][key[nl]]
        for L in sorted(set(int(x) for x in sc["L"]) | {L0}):
            plan.setdefault((nl, L, rate0), {k0})
        for r in sorted(set(float(x) for x in sc["rate"]) | {rate0}):
            plan.setdefault((nl, L0, r), {k0})
        plan[(nl, L0, rate0)] |= set(int(x) for x in sc["trials"])
    L_list = sorted({L for (_, L, r) in plan if r == rate0})
    rates = sorted({r for (_, L, r) in plan})

    # ---------------------------------------------------------------- data and networks
    digits = load_digits_split(cfg["data"]["test_size"], cfg["data"]["split_seed"])
    nets = {}
    for nl in which:
        nets[nl] = train_relu_network(digits.X_train, digits.y_train,
                                      cfg["networks"][f"hidden_{nl}"],
                                      cfg["networks"]["train_seed"], cfg["networks"]["alpha"],
                                      cfg["networks"]["max_iter"])

    # ---------------------------------------------------------------- calibrations
    lat_points = sorted({(L, r) for (_, L, r) in plan})
    cals: dict[str, Calibration] = {}
    lattice_cal = {}
    for L, r in _bar(lat_points, progress, "calibration"):
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
    for r in rates:
        mf_cal[r] = calibrate_meanfield(rate=r, tau=cfg["meanfield"]["tau"], m0=float(m0),
                                        **proto)
        qs_cal[r] = calibrate_quasi_static(rate=r, depths=cfg["calibration"]["depths"], **proto)
        cals[mf_cal[r].label] = mf_cal[r]
        cals[qs_cal[r].label] = qs_cal[r]

    # ---------------------------------------------------------------- networks
    X, y = digits.X_test, digits.y_test
    rows, forwards = [], {}
    mp = cfg["mapping"]

    def mapping_for(nl, cal, trials):
        """The depth mapping of network nl on calibration cal (headroom fixed or chosen)."""
        if mp["headroom"] == "auto":
            h, table = choose_headroom(nets[nl], digits.X_train, cal, gain=mp["gain"],
                                       candidates=mp["candidates"], trials=trials,
                                       draws=mp["draws"] if cal.S.shape[1] > 1 else 1,
                                       seed=_seed(lat["seed"], "headroom", nl, cal.label))
        else:
            h, table = float(mp["headroom"]), None
        m = DepthMapping.from_training(nets[nl], digits.X_train, cal, mp["gain"], h)
        return m, {"headroom": h, "training_agreement_by_headroom": table}

    for nl in which:
        net = nets[nl]
        ann_pred = net.predict(X)
        fwd_ann = Forward([], net.logits(X))
        forwards[(nl, "ann", None, None, 1)] = fwd_ann
        rows.append(_row(nl, "ann", y, ann_pred, fwd_ann))
        for r in sorted({r for (n, _, r) in plan if n == nl}):
            for model, cal, cls in (("meanfield", mf_cal[r], MeanFieldUnits),
                                    ("quasi_static", qs_cal[r], QuasiStaticUnits)):
                mapping, hinfo = mapping_for(nl, cal, 1)
                f = forward(net, X, mapping, cls(cal))[1]
                forwards[(nl, model, None, r, 1)] = f
                rows.append(_row(nl, model, y, ann_pred, f, rate=r, mapping=hinfo,
                                 budget=_error_budget(net, X, f, mapping, cal)))
    for (nl, L, r), tr in _bar(sorted(plan.items()), progress, "lattice networks"):
        net = nets[nl]
        ann_pred = net.predict(X)
        cal = lattice_cal[(L, r)]
        tr = sorted(tr)
        mapping, hinfo = mapping_for(nl, cal, k0 if k0 in tr else min(tr))
        units = LatticeUnits(cal, seed=lat["seed"], progress=progress)
        fw = forward(net, X, mapping, units, trials=tr,
                     tag=("network", nl, L, lat["dynamics"], r))
        for k, f in fw.items():
            forwards[(nl, "lattice", L, r, k)] = f
            rows.append(_row(nl, "lattice", y, ann_pred, f, L=L, dynamics=lat["dynamics"],
                             boundary=lat["boundary"], rate=r, trials=k, mapping=hinfo,
                             budget=_error_budget(net, X, f, mapping, cal), runs=units.runs))

    seconds = time.perf_counter() - t_start
    res = NetworkResult({}, rows, cals, nets, digits, forwards, [], seconds)
    res.summary = _summary(res, cfg, which, L0, rate0, k0, quick)
    if outdir is not None:
        out = Path(outdir)
        out.mkdir(parents=True, exist_ok=True)
        if figure:
            res.files += _figure(res, cfg, out, which, L0, rate0, k0)
        res.seconds = time.perf_counter() - t_start
        res.summary["seconds"] = res.seconds
        p = out / "network.json"
        p.write_text(json.dumps(_jsonable(res.summary), indent=1))
        res.files.append(p)
        res.files.append(_report(res, cfg, out, which, L0, rate0, k0, quick))
    return res


# ==================================================================== outputs
def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        v = float(obj)
        return v if math.isfinite(v) else None
    if isinstance(obj, Path):
        return str(obj)
    return obj


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
    from ._version import __version__
    s["version"] = __version__
    return s


def _pm(v, e, d=1, scale=100.0) -> str:
    if v is None:
        return "-"
    return f"{scale * v:.{d}f} ± {scale * e:.{d}f}" if e is not None and math.isfinite(e) \
        else f"{scale * v:.{d}f}"


def _report(res: NetworkResult, cfg, out: Path, which, L0, rate0, k0, quick) -> Path:
    s = res.summary
    lat = cfg["lattice"]
    lines = []
    w = lines.append
    w("# Neural inference with lattice neurones\n")
    w(f"Run {'--quick ' if quick else ''}in {res.seconds:.0f} s (wall). Data: scikit-learn's "
      f"bundled digits, {len(res.digits.y_train)} training and {len(res.digits.y_test)} test "
      f"images (stratified split, seed {cfg['data']['split_seed']}), pixels / 16. Networks "
      "trained with `MLPClassifier(activation='relu')`: " +
      "; ".join(f"{nl} hidden layer{'s' if nl > 1 else ''} {res.networks[nl].hidden_sizes} "
                f"(train accuracy {100 * res.networks[nl].train_accuracy:.1f} %, "
                f"{res.networks[nl].info['epochs']} epochs)" for nl in which) + ".\n")
    w(f"Lattice neurone: L x L membrane, {lat['dynamics']} with random-sequential updates "
      f"(physical kinetics), `{lat['boundary']}` boundary, at rest at T = {lat['bath']} J, "
      f"quenched at sweep {lat['at']} and reheated at r = {rate0} J/sweep; spike count = sweeps "
      f"with m >= {lat['theta']}. Depths are clipped to [0, {lat['q_max']}] J (T = bath - Q "
      f"stays >= {lat['bath'] - lat['q_max']:.2f} J > 0). Unit input z -> depth "
      "Q = clip(Q_theta + z / g', 0, Q_max), output a = S g' / g, with the rectifier "
      "(Q_theta, g) fitted to the unit's calibrated transfer curve and the gain "
      "g' = z_ref / (Q_max - Q_theta), z_ref a quantile (the headroom) of the unit's training "
      f"inputs ({cfg['mapping']['gain'].replace('_', ' ')}); inputs above z_ref saturate at "
      "Q_max. " + ("The headroom is chosen per network and calibration from the training "
                   "images only: the network is run with units resampled from the calibration "
                   "(mean curve plus a measured trial residual) for each candidate "
                   f"{cfg['mapping']['candidates']}, and the one agreeing best with the trained "
                   "network is kept. " if cfg['mapping']['headroom'] == 'auto' else
                   f"Headroom {cfg['mapping']['headroom']}. ") +
      "Every (image, unit, trial) of a layer is one replica of one population run (membranes "
      "whose quench is over are dropped as the run goes). Errors: binomial (one standard "
      "error); the difference to the ReLU network is paired (same images).\n")

    w("## Headline\n")
    w("| hidden layers | ReLU network | lattice network | agreement | mean-field Glauber | "
      "quasi-static exact | goal (gap <= 2 points, agreement >= 95 %) |")
    w("| --- | --- | --- | --- | --- | --- | --- |")
    for nl in which:
        a = res.row(nl, "ann")
        latr = res.row(nl, "lattice", L0, rate0, k0)
        mf = res.row(nl, "meanfield", None, rate0)
        qs = res.row(nl, "quasi_static", None, rate0)
        g = s["goal"][str(nl)]
        w(f"| {nl} | {_pm(a['accuracy'], a['accuracy_err'])} % | "
          f"{_pm(latr['accuracy'], latr['accuracy_err'])} % | "
          f"{_pm(latr['agreement'], latr['agreement_err'])} % | "
          f"{_pm(mf['accuracy'], mf['accuracy_err'])} % | "
          f"{_pm(qs['accuracy'], qs['accuracy_err'])} % | "
          f"{'met' if g['met'] else 'NOT met'}: gap {g['accuracy_gap_points']:+.1f} ± "
          f"{g['accuracy_gap_err_points']:.1f} points, agreement "
          f"{100 * g['agreement']:.1f} % |")
    w(f"\n(L = {L0}, {lat['dynamics']}, r = {rate0} J/sweep, {k0} trial(s) per unit; "
      "accuracies in %.)\n")

    w("## Calibration (transfer curves and rectifiers)\n")
    w("| unit | Q_theta (J) | g (sweeps/J) | span g (Q_max - Q_theta) (sweeps) | knee rms "
      "(sweeps, % of span) | noise sd above Q_theta (sweeps, % of span) | threshold shift "
      "vs quasi-static (J; sweeps) | firing at Q_max | delay at Q_max (sweeps) |")
    w("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for c in res.calibrations.values():
        d = c.summary()
        shift = d.get("threshold_shift_J")
        w(f"| {c.label} | {d['threshold']:.3f} ± {d['threshold_err']:.3f} | "
          f"{d['slope']:.0f} ± {d['slope_err']:.0f} | {d['span_sweeps']:.0f} | "
          f"{d['knee_rms_sweeps']:.1f} ({100 * d['knee_rms_relative']:.1f} %) | "
          f"{d['noise_sd_sweeps_above_threshold']:.1f} ({100 * d['noise_relative']:.1f} %) | "
          + (f"{shift:+.3f}; {shift / c.rate:+.0f}" if shift is not None else "-") + " | "
          + (f"{100 * d['fraction_firing_at_q_max']:.0f} %" if "fraction_firing_at_q_max" in d
             else "-") + " | "
          + (f"{d['delay_at_q_max_sweeps']:.0f} ± {d['delay_at_q_max_sd']:.0f}"
             if d.get("delay_at_q_max_sweeps") is not None and d.get("delay_at_q_max_sd")
             is not None else "-") + " |")
    w("")
    ends = [c.extra.get("firing_at_end", 0) for c in res.calibrations.values()]
    w(f"Membranes still at m >= theta when a run stopped (T = Tc + {_TAIL_MARGIN} J at the "
      f"deepest quench): {sum(ends)} in the calibrations, "
      f"{sum(r.get('firing_at_end', 0) for r in res.rows)} in the networks.\n")

    w("## All runs\n")
    w("| hidden layers | units | L | rate (J/sweep) | trials | headroom | accuracy (%) | "
      "agreement with ReLU (%) | lattice - ReLU (points, paired) | hidden error (rel., per "
      "layer) | knee / saturation / noise (rel., layer 1) | silent active units (layer 1) | "
      "membranes | engine s |")
    w("| --- " * 14 + "|")
    for r in res.rows:
        b = r.get("error_budget")
        hid = ", ".join(f"{x['total_relative']:.3f}" for x in b["layers"]) if b else "-"
        kn = (f"{b['layers'][0]['knee_relative']:.3f} / "
              f"{b['layers'][0]['saturation_relative']:.3f} / "
              f"{b['layers'][0]['noise_relative']:.3f}") if b else "-"
        sil = f"{100 * b['layers'][0]['silent_active_fraction']:.1f} %" if b else "-"
        w(f"| {r['layers']} | {r['model']} | {r['L'] or '-'} | "
          f"{r['rate'] if r['rate'] is not None else '-'} | {r['trials']} | "
          f"{r.get('headroom', '-')} | "
          f"{_pm(r['accuracy'], r['accuracy_err'])} | {_pm(r['agreement'], r['agreement_err'])} | "
          f"{_pm(r['difference_vs_ann'], r['difference_vs_ann_err'])} | {hid} | {kn} | {sil} | "
          f"{r.get('membranes', '-')} | "
          + (f"{r['engine_seconds']:.0f}" if "engine_seconds" in r else "-") + " |")
    w("\nHidden error: rms(unit output - trained network output) / rms(trained output), "
      "per layer (layer 2 includes what layer 1 passed on). Knee: rms(mean transfer curve - "
      "rectifier) through the mapping, below Q_max; saturation: the same at Q_max (inputs "
      "above z_ref); noise: rms(spike count - mean curve); all three relative to the rms "
      "ReLU output of the layer's own inputs (they add roughly in quadrature to the "
      "layer's own error). Membranes and engine seconds are "
      "those of the whole run (all trial counts of a trial scan come from one run).\n")

    w("## Goal and why\n")
    cal = res.calibrations[f"lattice L={L0} {lat['dynamics']} r={rate0:g}"].summary()
    for nl in which:
        g = s["goal"][str(nl)]
        r = res.row(nl, "lattice", L0, rate0, k0)
        b = r["error_budget"]
        w(f"- **{nl} hidden layer{'s' if nl > 1 else ''}** (L = {L0}, r = {rate0}, {k0} "
          f"trial{'s' if k0 > 1 else ''}, headroom {r.get('headroom')}): goal "
          f"{'met' if g['met'] else 'NOT met'} (accuracy "
          f"gap {g['accuracy_gap_points']:+.1f} ± {g['accuracy_gap_err_points']:.1f} points, "
          f"agreement {100 * g['agreement']:.1f} ± {100 * r['agreement_err']:.1f} %).")
        lay = "; ".join(
            f"layer {i + 1}: {x['total_relative']:.3f} against the trained network (its own "
            f"error {x['local_relative']:.3f}: knee {x['knee_relative']:.3f}, saturation "
            f"{x['saturation_relative']:.3f}, noise {x['noise_relative']:.3f}), "
            f"{100 * x['silent_active_fraction']:.1f} % of active "
            f"units silent, {100 * x['firing_inactive_fraction']:.1f} % of inactive ones "
            f"firing, {100 * x['saturated_fraction']:.1f} % saturated at Q_max"
            for i, x in enumerate(b["layers"]))
        w(f"  Hidden outputs, relative rms error: {lay}. Output layer: rms error "
          f"{b['logit_rms_error']:.2f} against a median margin of "
          f"{b['ann_median_margin']:.2f} between the trained network's two largest outputs "
          f"(ratio {b['logit_rms_error'] / b['ann_median_margin']:.2f}).")
    w(f"- **Why, in numbers (L = {L0}, {lat['dynamics']}, r = {rate0} J/sweep).** "
      f"*Ordering delay*: after a quench the membrane needs "
      f"{cal.get('onset_delay_mean_sweeps', float('nan')):.0f} sweeps on average to reach "
      f"m = {lat['theta']} (a coarsening time ~ L^2), so the fitted threshold is "
      f"{cal['threshold']:.3f} J, {cal['threshold_shift_J']:+.3f} J "
      f"({cal['threshold_shift_sweeps']:+.0f} sweeps of reheating) beyond the quasi-static "
      f"{cal['q_quasi_static']:.3f} J, and the usable span g (Q_max - Q_theta) shrinks to "
      f"{cal['span_sweeps']:.0f} sweeps (quasi-static: "
      f"{(lat['q_max'] - cal['q_quasi_static']) / rate0:.0f}). "
      f"*Noise of the spike count*: {cal['noise_sd_sweeps_above_threshold']:.0f} sweeps rms "
      f"per trial above threshold ({100 * cal['noise_relative']:.1f} % of the span); the "
      f"spike's start (the ordering delay) has sd {cal.get('onset_sd_sweeps', float('nan')):.0f}"
      f" sweeps and its end (set by reheating) {cal.get('end_sd_sweeps', float('nan')):.0f}"
      + (", so the noise is mostly the delay's scatter" if cal.get('onset_sd_sweeps', 0)
         > 2 * cal.get('end_sd_sweeps', np.inf) else "") + ". A typical unit works far below its "
      "largest input, so this noise is a much larger fraction of its output (the 'noise' "
      "column above) than of the span. *Knee*: the mean curve departs from its rectifier by "
      f"{cal['knee_rms_sweeps']:.0f} sweeps rms ({100 * cal['knee_rms_relative']:.1f} % of "
      "the span); near the threshold a quench fires in some trials and not in others, which "
      "shows up as silent active units and firing inactive ones.")
    if len(which) == 2:
        e1 = res.row(1, "lattice", L0, rate0, k0)["error_budget"]
        e2 = res.row(2, "lattice", L0, rate0, k0)["error_budget"]
        w(f"- **Depth.** With two hidden layers the first layer's errors become part of the "
          f"second layer's inputs: its hidden error grows from "
          f"{e2['layers'][0]['total_relative']:.3f} (layer 1) to "
          f"{e2['layers'][1]['total_relative']:.3f} (layer 2), of which "
          f"{e2['layers'][1]['local_relative']:.3f} is its own; the output error over the "
          f"margin is {e2['logit_rms_error'] / e2['ann_median_margin']:.2f} against "
          f"{e1['logit_rms_error'] / e1['ann_median_margin']:.2f} for one hidden layer. "
          "The error compounds.")
    ok = []
    for r in res.rows:
        if r["model"] == "lattice" and r["difference_vs_ann"] >= -0.02 and \
                r["agreement"] >= 0.95:
            ok.append(f"{r['layers']} layer{'s' if r['layers'] > 1 else ''}, L = {r['L']}, "
                      f"r = {r['rate']}, {r['trials']} trial{'s' if r['trials'] > 1 else ''}")
    w("- **Lattice runs that meet the goal's numbers**: " + ("; ".join(ok) if ok else "none")
      + ". Averaging k trials divides the noise by about sqrt(k); a slower reheating rate "
        "lengthens the spike (1/r sweeps per J) while the ordering delay stays about the "
        "same, and a smaller membrane orders sooner (delay ~ L^2) and fluctuates less in "
        "its delay.")
    for nl in which:
        tr = sorted((r for r in res.rows if r["layers"] == nl and r["model"] == "lattice"
                     and r["L"] == L0 and math.isclose(r["rate"], rate0)),
                    key=lambda r: r["trials"])
        if len(tr) > 1:
            w(f"- Trials averaged per unit ({nl} hidden layer{'s' if nl > 1 else ''}, "
              f"L = {L0}): " + ", ".join(
                  f"{t['trials']}: accuracy {_pm(t['accuracy'], t['accuracy_err'])} %, "
                  f"agreement {100 * t['agreement']:.1f} %" for t in tr) + ".")
    w("")
    w("## Confusion matrices (rows: true digit, columns: predicted)\n")
    for nl in which:
        for who in ("ann", "lattice"):
            cm = s["confusion"][str(nl)][who]
            who_text = "ReLU network" if who == "ann" else f"lattice network (L = {L0})"
            w(f"{nl} hidden layer(s), {who_text}:\n")
            w("| true \\ pred | " + " | ".join(str(i) for i in range(10)) + " |")
            w("| --- " * 11 + "|")
            for i in range(10):
                w(f"| {i} | " + " | ".join(str(int(v)) for v in cm[i]) + " |")
            w("")
    w("Files: `network.json` (all numbers), `network.png` / `network.pdf` (figure).\n")
    p = out / "network.md"
    p.write_text("\n".join(lines))
    return p


def _figure(res: NetworkResult, cfg, out: Path, which, L0, rate0, k0) -> list[Path]:
    from matplotlib.figure import Figure
    from matplotlib.gridspec import GridSpec
    lat = cfg["lattice"]
    dyn = lat["dynamics"]
    fig = Figure(figsize=(17, 9.5), layout="constrained")
    gs = GridSpec(2, 4, figure=fig, height_ratios=[1.0, 1.05])
    colours = {16: "tab:blue", 32: "tab:orange", 64: "tab:red"}

    # (a) transfer curves
    ax = fig.add_subplot(gs[0, 0])
    Lc = sorted(L for (L, r) in [(c.L, c.rate) for c in res.calibrations.values()
                                 if c.model == "lattice"] if math.isclose(r, rate0))
    for i, L in enumerate(Lc):
        c = res.calibrations[f"lattice L={L} {dyn} r={rate0:g}"]
        col = colours.get(L, f"C{i}")
        ax.errorbar(c.Q, c.mean, yerr=c.sd, fmt="o", ms=3, color=col, capsize=0, lw=0.8,
                    label=f"lattice L={L} (mean ± sd)")
        q = np.linspace(0, c.q_max, 300)
        ax.plot(q, c.rectifier(q), "--", color=col, lw=1.2,
                label=f"rectifier: Q_θ={c.threshold:.2f} J, g={c.slope:.0f}")
    mf = res.calibrations.get(f"meanfield r={rate0:g}")
    if mf is not None:
        ax.plot(mf.Q, mf.mean, "-", color="tab:green", lw=1.2, label="mean-field Glauber")
    qs = res.calibrations.get(f"quasi_static r={rate0:g}")
    if qs is not None:
        ax.plot(qs.Q, qs.mean, ":", color="k", lw=1.2, label="quasi-static exact")
    ax.set_xlabel("quench depth Q (J)")
    ax.set_ylabel("spike count (sweeps with m ≥ θ)")
    ax.set_title(f"(a) transfer curves, r = {rate0} J/sweep")
    ax.legend(fontsize=7, loc="upper left")

    # (b) accuracy vs L
    ax = fig.add_subplot(gs[0, 1])
    for nl, mk in zip(which, ("o", "s")):
        pts = [res.row(nl, "lattice", L, rate0, k0) for L in Lc]
        pts = [p for p in pts if p]
        ax.errorbar([p["L"] for p in pts], [100 * p["accuracy"] for p in pts],
                    yerr=[100 * p["accuracy_err"] for p in pts], fmt=mk + "-", capsize=3,
                    label=f"lattice, {nl} hidden layer{'s' if nl > 1 else ''}")
        a = res.row(nl, "ann")
        ax.axhline(100 * a["accuracy"], color="k", ls="-" if nl == 1 else "--", lw=1,
                   label=f"ReLU network, {nl} layer{'s' if nl > 1 else ''}")
        m = res.row(nl, "meanfield", None, rate0)
        ax.axhline(100 * m["accuracy"], color="tab:green", ls="-" if nl == 1 else "--", lw=1,
                   label=f"mean-field units, {nl} layer{'s' if nl > 1 else ''}")
    ax.set_xscale("log", base=2)
    ax.set_xticks(Lc, [str(L) for L in Lc])
    ax.set_xlabel("membrane size L")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(f"(b) accuracy against L (r = {rate0})")
    ax.legend(fontsize=7)

    # (c) accuracy vs rate
    ax = fig.add_subplot(gs[0, 2])
    styles = {1: ("o", "-"), 2: ("s", "--")}
    for nl in which:
        mk, ls = styles[nl]
        rates = sorted(r["rate"] for r in res.rows if r["layers"] == nl
                       and r["model"] == "lattice" and r["L"] == L0 and r["trials"] == k0)
        if len(rates) < 2 and nl != which[0]:
            continue                     # no rate scan for this network
        for model, col, lab in (("lattice", "tab:orange", f"lattice L={L0}"),
                                ("meanfield", "tab:green", "mean-field units"),
                                ("quasi_static", "k", "quasi-static exact units")):
            pts = [res.row(nl, model, L0 if model == "lattice" else None, r,
                           k0 if model == "lattice" else 1) for r in rates]
            pts = [p for p in pts if p]
            ax.errorbar([p["rate"] for p in pts], [100 * p["accuracy"] for p in pts],
                        yerr=[100 * p["accuracy_err"] for p in pts], fmt=mk, color=col,
                        capsize=3, ls=ls if model != "quasi_static" else ":",
                        label=f"{lab}, {nl} layer{'s' if nl > 1 else ''}")
        a = res.row(nl, "ann")
        ax.axhline(100 * a["accuracy"], color="0.5", ls=ls, lw=1,
                   label=f"ReLU network, {nl} layer{'s' if nl > 1 else ''}")
    all_rates = sorted({r["rate"] for r in res.rows if r["model"] == "lattice"
                        and r["L"] == L0})
    ax.set_xscale("log")
    ax.set_xticks(all_rates, [f"{r:g}" for r in all_rates])
    ax.minorticks_off()
    ax.set_xlabel("reheating rate r (J/sweep)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(f"(c) accuracy against rate (L = {L0})")
    ax.legend(fontsize=6.5)

    # (d) trials
    ax = fig.add_subplot(gs[0, 3])
    ks = set()
    for nl in which:
        mk, ls = styles[nl]
        pts = sorted((r for r in res.rows if r["layers"] == nl and r["model"] == "lattice"
                      and r["L"] == L0 and math.isclose(r["rate"], rate0)),
                     key=lambda r: r["trials"])
        if len(pts) < 2 and nl != which[0]:
            continue                     # no trial scan for this network
        ks |= {p["trials"] for p in pts}
        ax.errorbar([p["trials"] for p in pts], [100 * p["accuracy"] for p in pts],
                    yerr=[100 * p["accuracy_err"] for p in pts], fmt=mk, ls=ls,
                    color="tab:orange", capsize=3,
                    label=f"lattice accuracy, {nl} layer{'s' if nl > 1 else ''}")
        ax.errorbar([p["trials"] for p in pts], [100 * p["agreement"] for p in pts],
                    yerr=[100 * p["agreement_err"] for p in pts], fmt=mk, ls=ls,
                    color="tab:purple", capsize=3, mfc="none",
                    label=f"agreement with ReLU, {nl} layer{'s' if nl > 1 else ''}")
        a = res.row(nl, "ann")
        ax.axhline(100 * a["accuracy"], color="0.5", lw=1, ls=ls,
                   label=f"ReLU network accuracy, {nl} layer{'s' if nl > 1 else ''}")
    ax.axhline(95, color="tab:purple", lw=0.8, ls=":", label="95 % agreement goal")
    ax.set_xticks(sorted(ks))
    ax.set_xlabel("trials averaged per unit")
    ax.set_ylabel("%")
    ax.set_title(f"(d) trial averaging (L = {L0}, r = {rate0})")
    ax.legend(fontsize=6.5)

    # (e) digits
    nl = which[0]
    f_lat = res.forwards[(nl, "lattice", L0, rate0, k0)]
    f_ann = res.forwards[(nl, "ann", None, None, 1)]
    y = res.digits.y_test
    pl, pa = f_lat.predictions, f_ann.predictions
    order = list(np.flatnonzero(pl != pa)[:6]) + list(np.flatnonzero(pl != y)[:2])
    order = list(dict.fromkeys(order))
    for i in range(len(y)):
        if len(order) >= 12:
            break
        if i not in order:
            order.append(i)
    order = order[:12]
    sub = gs[1, 0:3].subgridspec(2, 6)
    for j, i in enumerate(order):
        axd = fig.add_subplot(sub[j // 6, j % 6])
        axd.imshow(res.digits.images_test[i], cmap="gray_r", vmin=0, vmax=1)
        col = "tab:red" if pl[i] != pa[i] else ("k" if pl[i] == y[i] else "tab:orange")
        axd.set_title(f"true {y[i]}  ReLU {pa[i]}  lattice {pl[i]}", fontsize=8, color=col)
        axd.set_xticks([])
        axd.set_yticks([])
    # (f) confusion matrix of the lattice network
    ax = fig.add_subplot(gs[1, 3])
    cm = confusion(y, pl)
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
    r = res.row(nl, "lattice", L0, rate0, k0)
    ax.set_title(f"(f) lattice network, {nl} hidden layer{'s' if nl > 1 else ''}: "
                 f"{100 * r['accuracy']:.1f} %", fontsize=9)
    fig.suptitle(f"Digits classified by lattice neurones (L = {L0}, {dyn}, r = {rate0} J/sweep,"
                 f" {k0} trial{'s' if k0 > 1 else ''}/unit). (e) test digits: red = lattice and "
                 "ReLU networks disagree, orange = both wrong", fontsize=11)
    paths = []
    for ext in ("png", "pdf"):
        p = out / f"network.{ext}"
        fig.savefig(p, dpi=110 if ext == "png" else None)
        paths.append(p)
    return paths


# ======================================================================== cli
def main(argv=None) -> int:
    """Command line: ``python -m isingneuron.network OUTDIR [--quick] [--layers 1|2|both]``.

    Returns the exit status: 0 done, 2 bad input (config, option).
    """
    ap = argparse.ArgumentParser(prog="python -m isingneuron.network",
                                 description="Digits classified by a network of lattice "
                                             "neurones, against its ReLU network.")
    ap.add_argument("outdir", help="output folder (network.json, network.md, network.png)")
    ap.add_argument("--quick", action="store_true",
                    help="L = 16 only, no scans (15-30 s)")
    ap.add_argument("--layers", choices=("1", "2", "both"), default="both",
                    help="networks with one hidden layer, two, or both (default)")
    ap.add_argument("--config", default=None,
                    help="YAML config (default: built-in, the same as configs/network.yaml)")
    ap.add_argument("--no-progress", action="store_true", help="no progress bars")
    args = ap.parse_args(argv)
    try:
        cfg = load_config(args.config, quick=args.quick)
    except NetworkConfigError as exc:
        print(f"isingneuron.network: {exc}", file=sys.stderr)
        return 2
    try:
        res = run(args.outdir, quick=args.quick, layers=args.layers,
                  config=dict(cfg, _validated=True), progress=not args.no_progress)
    except ImportError as exc:
        print(f"isingneuron.network: {exc}", file=sys.stderr)
        return 2
    s = res.summary
    for nl in s["goal"]:
        g = s["goal"][nl]
        b = lambda k: s[k]["by_layers"][nl]  # noqa: E731
        print(f"{nl} hidden layer(s): ReLU {100 * b('ann_accuracy')['value']:.1f} %, lattice "
              f"{100 * b('lattice_accuracy')['value']:.1f} ± "
              f"{100 * b('lattice_accuracy')['error']:.1f} % (L = {g['L']}, r = {g['rate']}), "
              f"mean-field {100 * b('mean_field_accuracy')['value']:.1f} %, quasi-static "
              f"{100 * b('quasi_static_accuracy')['value']:.1f} %, agreement "
              f"{100 * b('agreement')['value']:.1f} %: goal {'met' if g['met'] else 'NOT met'}")
    print(f"wrote {', '.join(str(p) for p in res.files)} in {res.seconds:.0f} s")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
