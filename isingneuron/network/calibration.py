"""Transfer curves of the three kinds of unit and the rectifiers fitted to them.

A :class:`Calibration` holds a unit's spike count S(Q) on a grid of quench
depths and the rectifier ``S = g max(0, Q - Q_theta)`` fitted to its mean.
:func:`calibrate_lattice` measures it for a lattice neurone (one population
run of ``depths x replicas`` membranes), :func:`calibrate_meanfield` for the
mean-field Glauber ODE, :func:`calibrate_quasi_static` for the quasi-static
exact dwell on Onsager's m(T).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from .. import activation as act
from .. import exact, meanfield
from ..schedules import ONSAGER_TC, Population, Quench
from .population import PopulationSpikes, n_sweeps_for, quench_population

__all__ = ["Calibration", "calibrate_lattice", "calibrate_meanfield", "calibrate_quasi_static"]


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


def _grid(q_max, n):
    return np.linspace(0.0, q_max, n)


def _noise_sources(res: PopulationSpikes, S: np.ndarray, Q: np.ndarray, *, at: float,
                   rate: float, q_qs: float) -> dict:
    """Where a lattice neurone's noise comes from, in sweeps.

    At depths where >= 90 % of trials fire: the spread of the spike's start
    (ordering delay after the quench) and of its end (set by reheating).
    Empty if no depth qualifies or there is a single trial per depth.
    """
    depths, replicas = S.shape
    onset = res.onset.reshape(depths, replicas)
    offset = res.offset.reshape(depths, replicas)
    full = np.isfinite(onset).mean(axis=1) >= 0.9
    if not (full.sum() >= 1 and replicas > 1):
        return {}

    def rms_sd(x):
        return float(np.sqrt(np.mean([np.nanstd(row, ddof=1) ** 2 for row in x[full]])))
    qs_end = at + (Q[full] - q_qs) / rate
    return {
        "noise_depths": int(full.sum()),
        "onset_delay_mean_sweeps": float(np.nanmean(onset[full] - at)),
        "onset_sd_sweeps": rms_sd(onset),
        "end_sd_sweeps": rms_sd(offset),
        "spike_sd_sweeps": rms_sd(S.astype(float)),
        "end_lag_vs_quasi_static_sweeps": float(np.nanmean(offset[full] - qs_end[:, None])),
    }


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
    extra.update(_noise_sources(res, S, Q, at=at, rate=rate, q_qs=q_qs))
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
