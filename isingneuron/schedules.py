"""Temperature protocols: the bath temperature T(t) a membrane is driven by.

Small immutable value objects in the spirit of HOOMD-blue's ``Variant``. A
schedule maps time ``t`` (in sweeps, ``t >= 0``) to a bath temperature in
**J units** (J = k_B = 1); the engine consumes :meth:`Schedule.temperatures`,
the temperature of sweep ``s`` evaluated at ``t = s`` (the time convention of
:class:`isingneuron.Traces`: sweep ``s`` runs at ``T[s]``).

Units
-----
Every schedule takes ``units="J"`` (default) or ``units="Tc"``. With
``units="Tc"`` every temperature parameter (bath, depth, start, stop,
temperatures) and every rate (temperature per sweep) is in reduced units
``T / Tc`` and is multiplied by Onsager's ``Tc = 2 / ln(1 + sqrt 2)``
(:data:`ONSAGER_TC`) on evaluation. Times (``at``, ``times``, ``period``,
``duration``) are always in sweeps. ``__call__``, ``temperatures``, ``min`` and
``max`` always answer in J units; ``to_dict`` keeps the user's units.

Protocols
---------
``Constant(T)``                            T(t) = T
``Quench(bath, depth, at, rate)``          the paper's quench and linear reheating
``QuenchTrain(bath, depths, times, rate)`` several quenches (minimum of the curves)
``Ramp(start, stop, duration, at=0)``      linear change, constant outside
``Table(times, temperatures)``             piecewise linear, constant beyond the ends
``Population(schedules)``                  one schedule per replica, ``(R, n)`` arrays

Every schedule round-trips through a plain dict (``to_dict`` /
:meth:`Schedule.from_dict`, the ``kind`` key selects the class), compares equal
by value and refuses non-physical parameters (a temperature ``<= 0`` anywhere,
a rate ``<= 0``, a negative depth, unordered times, non-finite numbers) with a
:class:`ScheduleError` naming the parameter, its value and what is allowed.
"""

from __future__ import annotations

import inspect
import json
import math
import numbers
import sys
from typing import Any, ClassVar

import numpy as np

__all__ = ["ONSAGER_TC", "ScheduleError", "Schedule", "Constant", "Quench", "QuenchTrain",
           "Ramp", "Table", "Population"]

#: Onsager's critical temperature of the square-lattice Ising model, J units.
ONSAGER_TC = 2.0 / math.log(1.0 + math.sqrt(2.0))

_UNITS = {"J": 1.0, "Tc": ONSAGER_TC}
_KINDS: dict[str, type] = {}


class ScheduleError(ValueError):
    """A protocol parameter is not allowed (the message names it and the rule)."""


# ----------------------------------------------------------------- validation
def _rep(value, limit=60) -> str:
    """repr of a user value for a message, cut to ``limit`` characters (one line)."""
    try:
        text = " ".join(repr(value).split())
    except Exception:                                   # pragma: no cover - broken repr
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _fits(owner, what, n_bytes):
    """Refuse an array of ``n_bytes`` that cannot fit in the memory available."""
    from . import resources
    avail = resources.available_memory()
    if avail is not None and n_bytes > avail:
        raise ScheduleError(f"{owner}: {what} need {resources.format_bytes(n_bytes)} of memory; "
                            f"this machine has {resources.format_bytes(avail)} available")


def _real(owner, name, value, unit="", *, minimum=None, strict=False):
    """Return ``value`` as a finite float, checking ``> minimum`` or ``>= minimum``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ScheduleError(f"{owner}: {name} = {_rep(value)}: must be a real number")
    v = float(value)
    if not math.isfinite(v):
        raise ScheduleError(f"{owner}: {name} = {v}{unit}: must be finite")
    if minimum is not None and (v <= minimum if strict else v < minimum):
        raise ScheduleError(f"{owner}: {name} = {v:g}{unit}: must be "
                            f"{'>' if strict else '>='} {minimum:g}")
    return v


def _reals(owner, name, values, unit="", *, minimum=None, strict=False):
    """Return a read-only 1-D float64 array, each element checked as :func:`_real`."""
    if isinstance(values, (str, bytes)) or np.ndim(values) != 1 or len(values) == 0:
        raise ScheduleError(f"{owner}: {name} = {_rep(values)}: must be a non-empty 1-D sequence "
                            "of real numbers")
    out = np.array([_real(owner, f"{name}[{i}]", v, unit, minimum=minimum, strict=strict)
                    for i, v in enumerate(values)], dtype=np.float64)
    out.setflags(write=False)
    return out


def _increasing(owner, name, times):
    bad = np.flatnonzero(np.diff(times) <= 0)
    if bad.size:
        i = int(bad[0]) + 1
        raise ScheduleError(f"{owner}: {name}[{i}] = {times[i]:g} sweeps after "
                            f"{name}[{i - 1}] = {times[i - 1]:g}: times must be strictly "
                            "increasing")


def _count(owner, name, value, minimum):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) \
            or value < minimum:
        raise ScheduleError(f"{owner}: {name} = {_rep(value)}: must be an integer >= {minimum}")
    return int(value)


def _plain(x):
    """Make parameters JSON/YAML friendly (floats, lists of floats)."""
    return [float(v) for v in x] if isinstance(x, np.ndarray) else x


# ----------------------------------------------------------------------- base
class Schedule:
    """Base class of temperature protocols (J units out, times in sweeps).

    Subclasses set ``kind``, store their parameters (in the user's units) and
    implement ``_eval(t)`` in those units plus ``_min``/``_max``; the base class
    applies the unit factor, validates times and provides ``temperatures``,
    ``to_dict``/``from_dict``, ``__repr__`` and equality.
    """

    kind: ClassVar[str] = ""
    units: str = "J"

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        if cls.kind:
            _KINDS[cls.kind] = cls

    # -- helpers for subclasses
    def _check_finite_in_J(self):
        """Refuse a highest temperature that overflows in J (``units="Tc"``: above ~7.9e307)."""
        if not math.isfinite(self._max * self._scale):
            raise ScheduleError(f"{type(self).__name__}: highest temperature {self._max:g}{self._T} "
                                f"= {self._max * self._scale} J: must be finite in J (at most "
                                f"{sys.float_info.max / self._scale:.4g}{self._T})")

    def _set_units(self, units):
        if units not in _UNITS:
            raise ScheduleError(f"{type(self).__name__}: units = {_rep(units)}: must be 'J' or 'Tc'")
        self.units = units
        self._scale = _UNITS[units]
        self._T = " J" if units == "J" else " Tc"            # unit labels for messages
        self._rate = " J/sweep" if units == "J" else " Tc/sweep"

    def _params(self) -> dict[str, Any]:
        raise NotImplementedError

    def _eval(self, t: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    # -- public API
    def __call__(self, t):
        """Bath temperature at time(s) ``t``.

        Parameters
        ----------
        t : float or array_like
            Time in sweeps (finite).

        Returns
        -------
        float or ndarray of float64
            Temperature in J units, a float for a scalar ``t``.
        """
        ta = np.asarray(t, dtype=np.float64)
        if not np.all(np.isfinite(ta)):
            raise ScheduleError(f"{type(self).__name__}: t = {_rep(t)}: times must be finite (sweeps)")
        out = self._eval(ta) * self._scale
        return float(out) if out.ndim == 0 else out

    def temperatures(self, n_sweeps, start=0) -> np.ndarray:
        """Temperatures of sweeps ``start .. start + n_sweeps - 1``, J units.

        Sweep ``s`` runs at ``T(t = s)``; this is the array the engine consumes.

        Parameters
        ----------
        n_sweeps : int
            Number of sweeps (>= 0).
        start : int
            First sweep (>= 0), e.g. the sweeps already completed.

        Returns
        -------
        ndarray of float64, shape (n_sweeps,)
        """
        n = _count(type(self).__name__, "n_sweeps", n_sweeps, 0)
        s0 = _count(type(self).__name__, "start", start, 0)
        _fits(type(self).__name__, f"the temperatures of n_sweeps = {n} sweeps", 32 * n)
        return np.asarray(self(np.arange(s0, s0 + n, dtype=np.float64)), dtype=np.float64)

    def first_change(self) -> float:
        """The first time (sweeps) from which the temperature departs from its value
        at t = 0 (``inf`` if it never does): where a run must reach for its
        protocol to happen. Each kind reads it off its parameters."""
        raise NotImplementedError

    @property
    def min(self) -> float:
        """Lowest temperature over all ``t >= 0``, J units."""
        return self._min * self._scale

    @property
    def max(self) -> float:
        """Highest temperature over all ``t >= 0``, J units."""
        return self._max * self._scale

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON/YAML-able) with ``kind`` and the parameters as given."""
        return {"kind": self.kind, **{k: _plain(v) for k, v in self._params().items()},
                "units": self.units}

    @classmethod
    def from_dict(cls, d) -> "Schedule":
        """Rebuild a schedule from :meth:`to_dict` output; ``d["kind"]`` selects the class.

        Raises
        ------
        ScheduleError
            Unknown kind, missing or unexpected keys, or bad parameter values.
        """
        if not isinstance(d, dict):
            raise ScheduleError(f"schedule = {_rep(d)}: must be a dict with a 'kind' key")
        d = dict(d)
        kind = d.pop("kind", cls.kind or None)
        if kind not in _KINDS:
            raise ScheduleError(f"schedule kind = {_rep(kind)}: must be one of {sorted(_KINDS)}")
        target = _KINDS[kind]
        if cls is not Schedule and target is not cls:
            raise ScheduleError(f"schedule kind = {_rep(kind)}: {cls.__name__}.from_dict "
                                f"reads kind {cls.kind!r} only")
        return target._from_params(d)

    @classmethod
    def _from_params(cls, d):
        allowed = set(inspect.signature(cls).parameters)
        extra = sorted(set(d) - allowed)
        if extra:
            raise ScheduleError(f"{cls.__name__}: unexpected key(s) {extra}: "
                                f"allowed are {sorted(allowed)} and 'kind'")
        try:
            return cls(**d)
        except TypeError as exc:  # a required key is missing
            raise ScheduleError(f"{cls.__name__}: {exc}; keys given: {sorted(d)}") from None

    def _key(self):
        return json.dumps(self.to_dict(), sort_keys=True)

    def __eq__(self, other):
        if not isinstance(other, Schedule):
            return NotImplemented
        return type(self) is type(other) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        p = {k: _plain(v) for k, v in self._params().items() if v is not None}
        if self.units != "J":
            p["units"] = self.units
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in p.items())})"


# ---------------------------------------------------------------- protocols
class Constant(Schedule):
    """Constant bath temperature.

    Parameters
    ----------
    T : float
        Temperature (J, or T/Tc with ``units="Tc"``), > 0.
    units : {"J", "Tc"}
    """

    kind = "constant"

    def __init__(self, T, units="J"):
        self._set_units(units)
        self.T = _real("Constant", "T", T, self._T, minimum=0, strict=True)
        self._min = self._max = self.T
        self._check_finite_in_J()

    def _params(self):
        return {"T": self.T}

    def first_change(self):
        return math.inf

    def _eval(self, t):
        return np.full(t.shape, self.T)


class Quench(Schedule):
    """The paper's synaptic input: a drop by ``depth`` at ``at``, then linear reheating.

    ``T(t) = bath`` for ``t < at`` and
    ``T(t) = min(bath, bath - depth + rate (t - at))`` for ``t >= at``; from
    ``t = end = at + depth / rate`` on it is exactly ``bath``.

    Parameters
    ----------
    bath : float
        Resting (bath) temperature, J (or T/Tc), > 0.
    depth : float
        Quench depth Q >= 0, with ``bath - depth > 0``.
    at : float
        Quench time t_c in sweeps, >= 0.
    rate : float
        Reheating rate r > 0, temperature per sweep.
    units : {"J", "Tc"}
    """

    kind = "quench"

    def __init__(self, bath, depth, at, rate, units="J"):
        self._set_units(units)
        self.bath = _real("Quench", "bath", bath, self._T, minimum=0, strict=True)
        self.depth = _real("Quench", "depth", depth, self._T, minimum=0)
        self.at = _real("Quench", "at", at, " sweeps", minimum=0)
        self.rate = _real("Quench", "rate", rate, self._rate, minimum=0, strict=True)
        if self.bath - self.depth <= 0:
            raise ScheduleError(f"Quench: bath - depth = {self.bath - self.depth:g}{self._T}: "
                                "the temperature must stay > 0")
        self._min, self._max = self.bath - self.depth, self.bath
        self._check_finite_in_J()

    @property
    def duration(self) -> float:
        """Reheating time ``depth / rate``, sweeps."""
        return self.depth / self.rate

    @property
    def end(self) -> float:
        """Time the bath temperature is reached again, ``at + depth / rate`` (sweeps)."""
        return self.at + self.duration

    def first_change(self):
        return self.at if self.depth > 0 else math.inf

    def _params(self):
        return {"bath": self.bath, "depth": self.depth, "at": self.at, "rate": self.rate}

    def _eval(self, t):
        return self._eval_many(t, self.bath, self.depth, self.at, self.rate, self.end)

    @staticmethod
    def _eval_many(t, bath, depth, at, rate, end):
        """``_eval`` with parameters that may be arrays (columns: one quench per row)."""
        cold = np.minimum(bath, bath - depth + rate * (t - at))
        return np.where((t < at) | (t >= end), bath, cold)


class QuenchTrain(Schedule):
    """A sequence of quenches of one bath temperature and one reheating rate.

    Give either the quench ``times`` or a ``period`` (quench k at
    ``at + k * period``). Where quenches overlap (a new input arrives before
    the membrane has reheated), ``T(t)`` is the **minimum** of the individual
    :class:`Quench` curves: the deepest current deficit wins, deficits do not
    add, so ``T >= bath - max(depths) > 0`` always.

    Parameters
    ----------
    bath : float
        Bath temperature, J (or T/Tc), > 0.
    depths : float or sequence of float
        Depth of each quench (>= 0, each < bath); a single number is used for
        every time in ``times``.
    times : sequence of float, optional
        Quench times in sweeps, >= 0, strictly increasing.
    rate : float
        Reheating rate, temperature per sweep, > 0.
    period : float, optional
        Spacing of quenches in sweeps (> 0), instead of ``times``.
    at : float, optional
        First quench time with ``period`` (sweeps, >= 0, default 0).
    units : {"J", "Tc"}
    """

    kind = "quench_train"

    def __init__(self, bath, depths, times=None, rate=None, *, period=None, at=None, units="J"):
        self._set_units(units)
        own = "QuenchTrain"
        self.bath = _real(own, "bath", bath, self._T, minimum=0, strict=True)
        if rate is None:
            raise ScheduleError(f"{own}: rate = None: a reheating rate > 0{self._rate} is required")
        self.rate = _real(own, "rate", rate, self._rate, minimum=0, strict=True)
        if (times is None) == (period is None):
            raise ScheduleError(f"{own}: times = {_rep(times)}, period = {_rep(period)}: "
                                "give exactly one of them")
        if times is not None:
            if at is not None:
                raise ScheduleError(f"{own}: at = {_rep(at)}: 'at' goes with 'period', not 'times'")
            self.times = _reals(own, "times", times, " sweeps", minimum=0)
            self.period = self.at = None
            if np.ndim(depths) == 0:
                depths = [depths] * len(self.times)
        else:
            self.period = _real(own, "period", period, " sweeps", minimum=0, strict=True)
            self.at = _real(own, "at", 0.0 if at is None else at, " sweeps", minimum=0)
        self.depths = _reals(own, "depths", depths, self._T, minimum=0)
        if period is not None:
            self.times = self.at + self.period * np.arange(len(self.depths), dtype=np.float64)
            self.times.setflags(write=False)
        if len(self.depths) != len(self.times):
            raise ScheduleError(f"{own}: depths has {len(self.depths)} values for "
                                f"{len(self.times)} times: give one depth per quench")
        _increasing(own, "times", self.times)
        k = int(np.argmax(self.depths))
        if self.bath - self.depths[k] <= 0:
            raise ScheduleError(f"{own}: bath - depths[{k}] = {self.bath - self.depths[k]:g}"
                                f"{self._T}: the temperature must stay > 0")
        self.ends = self.times + self.depths / self.rate
        self._min, self._max = self.bath - float(self.depths.max()), self.bath
        self._check_finite_in_J()

    def first_change(self):
        deep = np.flatnonzero(self.depths > 0)
        return float(self.times[deep[0]]) if deep.size else math.inf

    def _params(self):
        if self.period is None:
            return {"bath": self.bath, "depths": self.depths, "times": self.times,
                    "rate": self.rate}
        return {"bath": self.bath, "depths": self.depths, "period": self.period, "at": self.at,
                "rate": self.rate}

    def _key(self):  # equal when the quenches are equal, however they were given
        return json.dumps([self.bath, self.rate, _plain(self.depths), _plain(self.times),
                           self.units])

    def _eval(self, t):
        # sort once; each quench then touches only the times inside [time, end)
        flat = t.ravel()
        order = np.argsort(flat, kind="stable")
        ts = flat[order]
        out = np.full(ts.shape, self.bath)
        lo = np.searchsorted(ts, self.times, "left")
        hi = np.searchsorted(ts, self.ends, "left")
        for k in range(len(self.times)):
            seg = slice(lo[k], hi[k])
            cold = self.bath - self.depths[k] + self.rate * (ts[seg] - self.times[k])
            np.minimum(out[seg], cold, out=out[seg])
        res = np.empty_like(out)
        res[order] = out
        return res.reshape(t.shape)


class Ramp(Schedule):
    """Linear change from ``start`` to ``stop`` over ``[at, at + duration]``.

    ``T = start`` before ``at``, ``T = stop`` from ``at + duration`` on;
    ``duration = 0`` is a step at ``at``.

    Parameters
    ----------
    start, stop : float
        Temperatures, J (or T/Tc), > 0.
    duration : float
        Sweeps, >= 0.
    at : float
        Start of the ramp, sweeps, >= 0.
    units : {"J", "Tc"}
    """

    kind = "ramp"

    def __init__(self, start, stop, duration, at=0.0, units="J"):
        self._set_units(units)
        self.start = _real("Ramp", "start", start, self._T, minimum=0, strict=True)
        self.stop = _real("Ramp", "stop", stop, self._T, minimum=0, strict=True)
        self.duration = _real("Ramp", "duration", duration, " sweeps", minimum=0)
        self.at = _real("Ramp", "at", at, " sweeps", minimum=0)
        self._min, self._max = min(self.start, self.stop), max(self.start, self.stop)
        self._check_finite_in_J()

    def first_change(self):
        return self.at if self.stop != self.start else math.inf

    def _params(self):
        return {"start": self.start, "stop": self.stop, "duration": self.duration, "at": self.at}

    def _eval(self, t):
        end = self.at + self.duration
        with np.errstate(divide="ignore", invalid="ignore"):
            mid = self.start + (self.stop - self.start) * (t - self.at) / self.duration
        return np.where(t < self.at, self.start, np.where(t >= end, self.stop, mid))


class Table(Schedule):
    """Piecewise-linear temperature through ``(times[i], temperatures[i])``.

    Constant (first / last value) beyond the ends, as :func:`numpy.interp`.

    Parameters
    ----------
    times : sequence of float
        Sweeps, >= 0, strictly increasing.
    temperatures : sequence of float
        J (or T/Tc), > 0, one per time (kept as the attribute ``values``).
    units : {"J", "Tc"}
    """

    kind = "table"

    def __init__(self, times, temperatures, units="J"):
        self._set_units(units)
        self.times = _reals("Table", "times", times, " sweeps", minimum=0)
        self.values = _reals("Table", "temperatures", temperatures, self._T,
                                    minimum=0, strict=True)
        if len(self.times) != len(self.values):
            raise ScheduleError(f"Table: temperatures has {len(self.values)} values for "
                                f"{len(self.times)} times: give one temperature per time")
        _increasing("Table", "times", self.times)
        self._min, self._max = float(self.values.min()), float(self.values.max())
        self._check_finite_in_J()

    def first_change(self):
        other = np.flatnonzero(self.values != self.values[0])
        return float(self.times[other[0] - 1]) if other.size else math.inf

    def _params(self):
        return {"times": self.times, "temperatures": self.values}

    def _eval(self, t):
        return np.interp(t, self.times, self.values)


# ---------------------------------------------------------------- populations
class Population(Schedule):
    """One schedule per replica (the neurones of a population, or varied trials).

    Unlike the other schedules, ``__call__(t)`` returns shape ``(R,) + shape(t)``
    and ``temperatures(n, start)`` shape ``(R, n)``, J units; ``min``/``max``
    are over all replicas. A population has no units of its own: each member
    keeps its own.

    Parameters
    ----------
    schedules : sequence of Schedule
        One non-population schedule per replica (at least one).
    """

    kind = "population"
    units = None

    def __init__(self, schedules):
        if isinstance(schedules, Schedule) or not hasattr(schedules, "__len__") \
                or len(schedules) == 0:
            raise ScheduleError(f"Population: schedules = {_rep(schedules)}: must be a non-empty "
                                "sequence of schedules, one per replica")
        for i, s in enumerate(schedules):
            if not isinstance(s, Schedule) or isinstance(s, Population):
                raise ScheduleError(f"Population: schedules[{i}] = {_rep(s)}: must be a "
                                    "non-population Schedule")
        self.schedules = tuple(schedules)
        self._gaussian = None
        self._scale = 1.0
        self._min = min(s.min for s in self.schedules)
        self._max = max(s.max for s in self.schedules)

    def first_change(self):
        """The earliest first change of the members (see :meth:`Schedule.first_change`)."""
        return min(m.first_change() for m in self.schedules)

    @classmethod
    def gaussian_quenches(cls, n, bath, mean_depth, sd_depth, at, rate, seed, units="J"):
        """``n`` quenches with depths drawn from N(mean_depth, sd_depth) (paper III.A).

        The depths are ``numpy.random.default_rng(seed).normal(mean_depth,
        sd_depth, n)``; negative draws are **clipped to 0** (no quench: a
        quench cannot heat the membrane above its bath), which biases the
        mean up when ``mean_depth`` is within a few ``sd_depth`` of 0. A draw
        ``>= bath`` would make T <= 0 and is refused (ScheduleError naming the
        replica). The dict form stores these parameters and the seed, not the
        ``n`` schedules.

        Parameters
        ----------
        n : int
            Replicas, >= 1.
        bath : float
            Bath temperature, J (or T/Tc), > 0.
        mean_depth, sd_depth : float
            Mean and standard deviation of the depth, J (or T/Tc); ``sd_depth >= 0``.
        at : float
            Quench time, sweeps, >= 0.
        rate : float
            Reheating rate, temperature per sweep, > 0.
        seed : int
            Seed of ``numpy.random.default_rng``, >= 0.
        units : {"J", "Tc"}

        Returns
        -------
        Population
            Its ``depths`` are the (clipped) depths used.
        """
        own = "Population.gaussian_quenches"
        n = _count(own, "n", n, 1)
        _fits(own, f"n = {n} schedules", 520 * n)
        seed = _count(own, "seed", seed, 0)
        mu = _real(own, "mean_depth", mean_depth)
        sd = _real(own, "sd_depth", sd_depth, minimum=0)
        first = Quench(bath, 0.0, at, rate, units)      # validates bath, at, rate, units
        depths = np.maximum(np.random.default_rng(seed).normal(mu, sd, n), 0.0)
        k = int(np.argmax(depths))
        if depths[k] >= first.bath:
            raise ScheduleError(f"{own}: depth of replica {k} drawn = {depths[k]:g}{first._T} "
                                f">= bath = {first.bath:g}: every depth must be < bath (lower "
                                "mean_depth or sd_depth, or change the seed)")
        pop = cls([Quench(first.bath, d, first.at, first.rate, units) for d in depths])
        pop._gaussian = {"n": n, "bath": first.bath, "mean_depth": mu, "sd_depth": sd,
                         "at": first.at, "rate": first.rate, "seed": seed, "units": units}
        return pop

    @property
    def n_replicas(self) -> int:
        """Number of replicas R."""
        return len(self.schedules)

    def __len__(self):
        return len(self.schedules)

    def __getitem__(self, i):
        return self.schedules[i]

    @property
    def depths(self) -> np.ndarray:
        """Depth of each replica's quench (members' own units); populations of Quench only."""
        if not all(isinstance(s, Quench) for s in self.schedules):
            raise AttributeError("depths: this Population is not made of Quench schedules")
        return np.array([s.depth for s in self.schedules])

    def __call__(self, t):
        """Temperatures of every replica at ``t`` (sweeps): shape ``(R,) + shape(t)``, J."""
        return np.stack([np.asarray(s(t), dtype=np.float64) for s in self.schedules])

    def temperatures(self, n_sweeps, start=0) -> np.ndarray:
        """Per-replica temperatures of sweeps ``start .. start + n_sweeps - 1``.

        Returns
        -------
        ndarray of float64, shape (R, n_sweeps)
            J units.
        """
        n = _count("Population", "n_sweeps", n_sweeps, 0)
        s0 = _count("Population", "start", start, 0)
        _fits("Population", f"the temperatures of {len(self)} replicas for n_sweeps = {n} "
              "sweeps", 16 * len(self) * n + 32 * n)
        out = np.empty((len(self), n))
        # Quench members vectorised, 64 at a time (temporaries that stay in
        # cache): the same operations element by element, so the same numbers
        # as each member's own, ~4x faster for a population of quenches
        t = np.arange(s0, s0 + n, dtype=np.float64)
        quench = [i for i, m in enumerate(self.schedules) if type(m) is Quench]
        for j in range(0, len(quench), 64):
            rows = quench[j:j + 64]
            col = {k: np.array([getattr(self.schedules[i], k) for i in rows])[:, None]
                   for k in ("bath", "depth", "at", "rate", "end", "_scale")}
            out[rows] = Quench._eval_many(t, col["bath"], col["depth"], col["at"], col["rate"],
                                          col["end"]) * col["_scale"]
        for i, m in enumerate(self.schedules):
            if type(m) is not Quench:
                out[i] = m.temperatures(n, s0)
        return out

    def to_dict(self):
        """``{"kind": "population", "gaussian_quenches": {...}}`` when drawn, else every member."""
        if self._gaussian is not None:
            return {"kind": self.kind, "gaussian_quenches": dict(self._gaussian)}
        return {"kind": self.kind, "schedules": [s.to_dict() for s in self.schedules]}

    @classmethod
    def _from_params(cls, d):
        if set(d) == {"gaussian_quenches"} and isinstance(d["gaussian_quenches"], dict):
            g = d["gaussian_quenches"]
            allowed = set(inspect.signature(cls.gaussian_quenches).parameters)
            if set(g) - allowed:
                raise ScheduleError(f"Population: unexpected gaussian_quenches key(s) "
                                    f"{sorted(set(g) - allowed)}: allowed are {sorted(allowed)}")
            try:
                return cls.gaussian_quenches(**g)
            except TypeError as exc:
                raise ScheduleError(f"Population.gaussian_quenches: {exc}") from None
        if set(d) == {"schedules"} and isinstance(d["schedules"], list):
            return cls([Schedule.from_dict(s) for s in d["schedules"]])
        raise ScheduleError(f"Population: keys {sorted(d)}: give exactly 'schedules' (a list) "
                            "or 'gaussian_quenches' (a dict)")

    def _key(self):  # equal when the members are equal, however they were built
        return json.dumps([s.to_dict() for s in self.schedules], sort_keys=True)

    def __repr__(self):
        if self._gaussian is not None:
            g = {k: v for k, v in self._gaussian.items() if not (k == "units" and v == "J")}
            return f"Population.gaussian_quenches({', '.join(f'{k}={v!r}' for k, v in g.items())})"
        shown = ", ".join(repr(s) for s in self.schedules[:3])
        more = f", ... {len(self) - 3} more" if len(self) > 3 else ""
        return f"Population([{shown}{more}])"
