"""Experiment configs: one YAML file describes a run or a sweep, validated at load.

A config is read by :func:`load_config` (or :func:`parse_config` for text),
checked by pydantic v2 models that forbid unknown keys everywhere, and by
building its temperature protocol (:mod:`isingneuron.schedules` validates every
protocol parameter). Every problem is raised as ONE :class:`ConfigError` whose
message names the key path, the bad value and what is allowed (with a
"did you mean" for misspelt keys and choices). Nothing here runs or writes
anything.

Schema (defaults in brackets; times in sweeps, temperatures in J or T/Tc)::

    name: quench                  # [none] a label
    lattice:
      L: 32                       # linear size, integer >= 2 (odd L allowed)
      boundary: plus              # [periodic] periodic | plus (fixed +1 border)
      field: 0.0                  # [0] uniform field h, J
    dynamics: metropolis          # [metropolis] metropolis | glauber | wolff
    update: random_sequential     # [random_sequential] random_sequential | checkerboard (even L);
                                  # none for wolff. Checkerboard Metropolis has unphysical
                                  # kinetics (ballistic domain walls) and warns
    protocol:                     # any schedule: kind + its parameters
      kind: quench                # constant | quench | quench_train | ramp | table | population
      bath: 3.0
      depth: 1.5
      at: 50
      rate: 0.01
      units: J                    # [J] J | Tc (every temperature and rate in T/Tc)
    replicas: 16                  # [1] integer >= 1
    sweeps: 600                   # integer >= 1, a multiple of record_every (and snapshot_every)
    record_every: 1               # [1] sweeps between records of m, e, T
    snapshot_every: null          # [none] sweeps between lattice snapshots
    initial: random               # [random] random | up | down
    seed: 1                       # [0] integer in [0, 2**63)
    analysis:                     # used for summaries; does not change the data
      theta: 0.9                  # [0.9] dwell-time threshold, in (0, 1]
      theta_on: 0.9               # [0.9] spike start (hysteresis), in (0, 1]
      theta_off: 0.5              # [0.5] spike end, in (0, 1], <= theta_on
      use_abs: false              # [false] analyse |m| instead of m
    output: output/quench.h5      # HDF5 file; its folder must exist (relative: to the cwd)
    executor:                     # [local, all cores] how sweep points run
      kind: local                 # local | dask   (a bare string works too: `executor: dask`)
      workers: null               # local processes [all cores]
      address: null               # Dask scheduler, e.g. tcp://10.0.0.1:8786
    sweep:                        # [none] parameters to vary
      grid:                       # product of these lists
        protocol.depth: {start: 0.0, stop: 2.5, num: 11}     # linspace, inclusive
        dynamics: [metropolis, glauber]
      zip:                        # these lists advance together (equal lengths)
        lattice.L: {start: 8, stop: 32, step: 8}              # arange, stop included
        sweeps: [100, 200, 300, 400]

Protocol kinds and their keys (see :mod:`isingneuron.schedules`): ``constant``
(T), ``quench`` (bath, depth, at, rate), ``quench_train`` (bath, depths, rate,
and times or period [+ at]), ``ramp`` (start, stop, duration [, at]), ``table``
(times, temperatures), ``population`` with either ``schedules`` (a list of the
above, one per replica) or ``gaussian_quenches`` (bath, mean_depth, sd_depth,
at, rate [, n: defaults to replicas] [, seed: defaults to the config's seed]).

Sweep keys are dotted paths into the config (``protocol.depth``,
``lattice.L``, ``dynamics``, ``protocol`` for whole protocols); ``output``,
``executor``, ``analysis``, ``name`` and ``sweep`` cannot be swept. Every point
is validated at load. A point's parameters are its overrides, read back from
its validated config (so ``1`` and ``1.0`` name the same point); its id is a
hash of their sorted JSON (:attr:`Point.id`).

The output file stores :func:`stored_text`: the canonical config without
``output``, ``executor`` and ``analysis`` (where and how it runs, and how it is
summarised, do not change the data), so a rerun with another ``--output``,
``--workers`` or ``theta`` resumes the same file.

YAML is read with two fixes over plain PyYAML: ``1e-3`` is a number (YAML 1.1
wants ``1.0e-3``) and a key given twice is an error; merge keys (``<<: *base``)
work. Hostile files are refused before they can hang or exhaust the machine:
a config must be a regular file of at most :data:`MAX_CONFIG_BYTES` (read with
a bounded read; FIFOs, devices and folders are refused), nested at most
:data:`MAX_YAML_DEPTH` levels, with at most :data:`MAX_YAML_NODES` values once
its aliases are expanded (and no alias inside itself).

Sizes are checked at load too: ``lattice.L`` at most
:data:`isingneuron.resources.MAX_L` (the kernels' int32 site indices), and
every point's memory (lattice state, records, snapshots, temperatures, see
:mod:`isingneuron.resources`) must fit in the memory this machine has
available: a point that cannot is refused with how much it needs and how much
there is. The output path's names must fit the filesystem (``NAME_MAX``).
"""

from __future__ import annotations

import difflib
import errno
import hashlib
import itertools
import json
import math
import os
import re
import reprlib
import stat
import typing
from dataclasses import dataclass
from pathlib import Path
import warnings
from typing import Annotated, Any, Literal, Optional, Union

import numpy as np
import yaml
from pydantic import (BaseModel, ConfigDict, Field, PrivateAttr, ValidationError,
                      field_validator, model_validator)
from pydantic_core import PydanticUndefined

from . import resources
from .engine import CheckerboardMetropolisWarning, _state_replicas, resolve_update
from .schedules import Population, Schedule, ScheduleError
from .simulation import chunk_sweeps

__all__ = ["ConfigError", "Config", "Point", "load_config", "parse_config", "stored_text",
           "validate_config",
           "config_diff", "dask_address_problem", "MAX_POINTS", "MAX_CONFIG_BYTES",
           "MAX_YAML_NODES", "MAX_YAML_DEPTH"]

MAX_POINTS = 100_000          # a sweep larger than this is refused (likely a typo in a range)
MAX_CONFIG_BYTES = 1 << 20    # a config file (or text) larger than 1 MiB is refused
MAX_YAML_NODES = 1_000_000    # values of a config once its aliases are expanded
MAX_YAML_DEPTH = 64           # nesting of mappings and lists
_NAME_RESERVE = 16            # bytes left in a file name for the recorder's suffixes (.journal)
_NOT_SWEPT = ("sweep", "output", "executor", "analysis", "name")
_NOT_STORED = {"output", "executor", "analysis"}   # how/where it runs, not what it computes


class ConfigError(ValueError):
    """A config cannot be used; the message names the key path and what is allowed."""


_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 60
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = _REPR.maxset = 6
_REPR.maxlevel = 3


def _r(value) -> str:
    """repr of a value for a message: short (long strings, lists and nests are cut)."""
    return " ".join(_REPR.repr(value).split())


# ----------------------------------------------------------------------- models
class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class LatticeSpec(_Spec):
    """The membrane: L x L channels, its border and the field."""
    L: Annotated[int, Field(ge=2, description="linear size: ion channels per side (N = L^2 "
                                              "spins)")]
    boundary: Literal["periodic", "plus"] = Field(
        "periodic", description="periodic, or plus: a fixed +1 border (the membrane fires to "
                                "m = +1)")
    field: float = Field(0.0, description="uniform field h, J")


# Protocol parameters are typed Any: the schedule constructor validates them
# (and names the parameter), pydantic checks the keys. ``_param`` gives the
# reference (docs/config.md) their type and limits as the schedule checks them.
def _param(doc_type, allowed="", default=PydanticUndefined, **kw):
    return Field(default, json_schema_extra={"doc_type": doc_type, "doc_allowed": allowed}, **kw)


_NUM = "number"
_TEMP = "> 0"                                     # a temperature
_UNITS = _param("J \\| Tc", default="J",
                description="J, or Tc: every temperature and rate of the protocol in units of "
                            "Onsager's Tc = 2.269 J")


class ConstantSpec(_Spec):
    """A constant bath temperature."""
    kind: Literal["constant"]
    T: Any = _param(_NUM, _TEMP, description="bath temperature")
    units: Any = _UNITS


class QuenchSpec(_Spec):
    """One synaptic input: T drops by depth at sweep at, then rises at rate back to bath."""
    kind: Literal["quench"]
    bath: Any = _param(_NUM, _TEMP, description="resting bath temperature")
    depth: Any = _param(_NUM, ">= 0, < bath", description="quench depth Q")
    at: Any = _param(_NUM, ">= 0", description="sweep of the quench")
    rate: Any = _param(_NUM, "> 0", description="reheating rate, temperature per sweep")
    units: Any = _UNITS


class QuenchTrainSpec(_Spec):
    """A train of quenches (inputs) on one membrane."""
    kind: Literal["quench_train"]
    bath: Any = _param(_NUM, _TEMP, description="resting bath temperature")
    depths: Any = _param("number or list of numbers", ">= 0, < bath",
                         description="one depth, or a list: one per quench")
    rate: Any = _param(_NUM, "> 0", description="reheating rate, temperature per sweep")
    times: Any = _param("list of numbers", ">= 0, increasing", None,
                        description="sweeps of the quenches (or give period)")
    period: Any = _param(_NUM, "> 0", None,
                         description="sweeps between quenches (with at, instead of times)")
    at: Any = _param(_NUM, ">= 0", None, description="sweep of the first quench (with period)")
    units: Any = _UNITS


class RampSpec(_Spec):
    """A linear ramp of the bath temperature."""
    kind: Literal["ramp"]
    start: Any = _param(_NUM, _TEMP, description="temperature before and at the start of the "
                                                 "ramp")
    stop: Any = _param(_NUM, _TEMP, description="temperature at the end of the ramp and after")
    duration: Any = _param(_NUM, ">= 0", description="sweeps the ramp lasts")
    at: Any = _param(_NUM, ">= 0", 0.0, description="sweep the ramp starts")
    units: Any = _UNITS


class TableSpec(_Spec):
    """A tabulated temperature: linear between the given sweeps, constant beyond the ends."""
    kind: Literal["table"]
    times: Any = _param("list of numbers", ">= 0, strictly increasing",
                        description="sweeps of the tabulated temperatures")
    temperatures: Any = _param("list of numbers", _TEMP,
                               description="the temperature at each time, one per time")
    units: Any = _UNITS


MemberSpec = Annotated[Union[ConstantSpec, QuenchSpec, QuenchTrainSpec, RampSpec, TableSpec],
                       Field(discriminator="kind")]


class GaussianSpec(_Spec):
    """One quench per replica, depths drawn from a Gaussian (clipped to [0, bath))."""
    bath: Any = _param(_NUM, _TEMP, description="resting bath temperature")
    mean_depth: Any = _param(_NUM, "finite", description="mean quench depth")
    sd_depth: Any = _param(_NUM, ">= 0", description="standard deviation of the depths")
    at: Any = _param(_NUM, ">= 0", description="sweep of the quenches")
    rate: Any = _param(_NUM, "> 0", description="reheating rate, temperature per sweep")
    n: Any = _param("integer", ">= 1", None, description="number of neurones (default: "
                                                          "replicas)")
    seed: Any = _param("integer", ">= 0", None,
                       description="seed of the depths (default: the config's seed)")
    units: Any = _UNITS


class PopulationSpec(_Spec):
    """One schedule per replica (the neurones of a population)."""
    kind: Literal["population"]
    gaussian_quenches: Optional[GaussianSpec] = Field(
        None, description="Gaussian quench depths (or give schedules)")
    schedules: Optional[list[MemberSpec]] = Field(
        None, description="a list of protocols, one per replica (any kind but population)")


ProtocolSpec = Annotated[Union[ConstantSpec, QuenchSpec, QuenchTrainSpec, RampSpec, TableSpec,
                               PopulationSpec], Field(discriminator="kind")]


class AnalysisSpec(_Spec):
    """Thresholds of the spike measures (summaries only)."""
    theta: Annotated[float, Field(gt=0, le=1, description="dwell time counts the sweeps with "
                                                          "m >= theta")] = 0.9
    theta_on: Annotated[float, Field(gt=0, le=1, description="a spike (hysteresis event) "
                                                             "starts at m >= theta_on")] = 0.9
    theta_off: Annotated[float, Field(gt=0, le=1, description="and ends at m < theta_off "
                                                              "(<= theta_on)")] = 0.5
    use_abs: bool = Field(False, description="analyse |m| instead of m")

    @model_validator(mode="after")
    def _hysteresis(self):
        if self.theta_off > self.theta_on:
            raise ValueError(f"analysis.theta_off = {self.theta_off:g} > analysis.theta_on = "
                             f"{self.theta_on:g}: theta_off must be <= theta_on (hysteresis)")
        return self


class ExecutorSpec(_Spec):
    """Where sweep points run: local processes, or a Dask cluster."""
    kind: Literal["local", "dask"] = Field("local", description="local processes, or a Dask "
                                                                "cluster")
    workers: Optional[Annotated[int, Field(ge=1)]] = Field(
        None, description="local worker processes (default: all cores; 1 runs in-process)")
    address: Optional[Annotated[str, Field(min_length=1)]] = Field(
        None, description="Dask scheduler address, e.g. tcp://10.0.0.1:8786")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, v):
        return {"kind": v} if isinstance(v, str) else v

    @model_validator(mode="after")
    def _consistent(self):
        if self.kind == "local" and self.address is not None:
            raise ValueError(f"executor.address = {_r(self.address)} is only used with "
                             "executor.kind: dask")
        if self.kind == "dask" and self.workers is not None:
            raise ValueError(f"executor.workers = {self.workers} applies to kind: local; a Dask "
                             "cluster has its own workers")
        if self.address is not None:
            problem = dask_address_problem(self.address, "executor.address")
            if problem:
                raise ValueError(problem)
        return self


class SweepSpec(_Spec):
    """Parameters to vary: ``grid`` (product) and/or ``zip`` (lists advanced together)."""
    grid: Optional[dict[str, Any]] = Field(
        None, description="dotted key -> list, or {start, stop, num} (linspace) or "
                          "{start, stop, step} (arange), stops included; their product")
    zip: Optional[dict[str, Any]] = Field(
        None, description="dotted key -> list or range; lists of equal length advanced "
                          "together")


class Config(_Spec):
    """A validated experiment (see the module docstring for the schema)."""
    name: Optional[str] = Field(None, description="a label")
    lattice: LatticeSpec = Field(description="the membrane")
    dynamics: Literal["metropolis", "glauber", "wolff"] = Field(
        "metropolis", description="single-spin Metropolis or Glauber (heat bath), or Wolff "
                                  "clusters (equilibrium only: periodic, h = 0)")
    update: Optional[Literal["random_sequential", "checkerboard"]] = Field(
        None, description="update order: random_sequential (the default: physical kinetics) or "
                          "checkerboard (even L, faster; with Metropolis an equilibrium "
                          "sampler only, it warns); none for wolff")
    protocol: ProtocolSpec = Field(description="the bath temperature over time: kind and its "
                                               "parameters")
    replicas: Annotated[int, Field(ge=1, description="independent replicas (trials, or the "
                                                     "neurones of a population)")] = 1
    sweeps: Annotated[int, Field(ge=1, description="sweeps to run (one attempted update per "
                                                   "spin each); a multiple of record_every "
                                                   "and snapshot_every")]
    record_every: Annotated[int, Field(ge=1, description="sweeps between records of m, e "
                                                         "and T")] = 1
    snapshot_every: Optional[Annotated[int, Field(ge=1)]] = Field(
        None, description="sweeps between lattice snapshots (none: no snapshots)")
    initial: Literal["random", "up", "down"] = Field(
        "random", description="initial spins: random (infinite temperature), all up or down")
    seed: Annotated[int, Field(ge=0, lt=2**63, description="seed of every random number; "
                                                           "sweep points derive theirs from "
                                                           "it and their id")] = 0
    analysis: AnalysisSpec = Field(AnalysisSpec(), description="thresholds of the summary "
                                                               "(do not change the data)")
    output: Annotated[str, Field(min_length=1, description="the HDF5 file; its folder must "
                                                           "exist (relative: to the cwd)")]
    executor: ExecutorSpec = Field(ExecutorSpec(), description="where points run (a bare "
                                                               "string works: dask)")
    sweep: Optional[SweepSpec] = Field(None, description="parameters to vary (dotted keys, "
                                                         "e.g. protocol.depth, lattice.L)")

    _schedule: Schedule = PrivateAttr(None)
    _points: list = PrivateAttr(None)

    @field_validator("output")
    @classmethod
    def _output_path(cls, v):
        problem = _path_problem(v, "output")
        if problem:
            raise ValueError(problem)
        return v

    @model_validator(mode="after")
    def _cross_checks(self):
        unit = self.record_every
        what = f"record_every = {self.record_every}"
        if self.snapshot_every:
            unit = math.lcm(unit, self.snapshot_every)
            what += f" and snapshot_every = {self.snapshot_every} (lcm {unit})"
        if self.sweeps % unit:
            raise ValueError(f"sweeps = {self.sweeps}: must be a multiple of {what}")
        if self.dynamics == "wolff" and (self.lattice.boundary != "periodic"
                                         or self.lattice.field != 0):
            raise ValueError(f"dynamics = 'wolff' needs lattice.boundary = 'periodic' and "
                             f"lattice.field = 0 (got {self.lattice.boundary!r}, "
                             f"{self.lattice.field:g}); use metropolis or glauber")
        with warnings.catch_warnings():   # the command line says it once, not per point
            warnings.simplefilter("ignore", CheckerboardMetropolisWarning)
            self.update = resolve_update(self.update, self.dynamics, self.lattice.L,
                                         self.lattice.boundary)
        _check_resources(self)       # before the protocol: a population has one schedule a replica
        self._schedule = _build_schedule(self.protocol, self.replicas, self.seed)
        # store the protocol as the schedule understood it (floats, units, filled defaults)
        self.protocol = type(self.protocol).model_validate(self._schedule.to_dict())
        return self

    @property
    def schedule(self) -> Schedule:
        """The temperature protocol, a :class:`isingneuron.schedules.Schedule`."""
        return self._schedule

    def points(self) -> list["Point"]:
        """The points of this config: one (no parameters) without a sweep section.

        Raises
        ------
        ConfigError
            A sweep key that is not a config path, an empty or malformed list or
            range, zip lists of different lengths, a repeated point, or a point
            whose config is invalid.
        """
        if self._points is None:
            self._points = _expand(self)
        return self._points


def unreached_protocol(config) -> str | None:
    """Why the run ends before its protocol does anything, or None.

    A quench (or any change of the bath temperature) timed at or after the
    end of the run never happens: the config is valid, but the run is likely
    not the one meant (``at: 500`` with ``sweeps: 20``). Read off the
    protocol's parameters (:meth:`~isingneuron.schedules.Schedule.first_change`),
    not from its temperatures: a population's would be replicas x sweeps. The
    command line prints this as a warning.
    """
    first = config.schedule.first_change()
    if not math.isfinite(first) or first < config.sweeps:
        return None
    return (f"the protocol first changes the temperature at sweep {first:g}, after the run's "
            f"{config.sweeps} sweeps: it never happens in this run; raise sweeps or move the "
            f"protocol's times")


@dataclass(frozen=True)
class Point:
    """One point of a sweep: its parameter values and its complete config.

    Attributes
    ----------
    params : dict
        Dotted path -> value, canonical (read back from the validated config).
    config : Config
        The point's config (no sweep section).
    """
    params: dict
    config: Config

    @property
    def id(self) -> str:
        """Stable id: the first 16 hex digits of sha256 of the sorted JSON of ``params``."""
        text = json.dumps(self.params, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @property
    def label(self) -> str:
        """Short human-readable ``key=value`` description ("-" for no parameters)."""
        return " ".join(f"{k}={_short(v)}" for k, v in self.params.items()) or "-"


def _short(v):
    if isinstance(v, float):
        return f"{v:.6g}"
    if isinstance(v, (dict, list)):
        return json.dumps(v, separators=(",", ":"))
    return str(v)


# ----------------------------------------------------------------- resources
_CONFIG_HINTS = {"lattice state": "lower lattice.L or replicas",
                 "initial state": "lower lattice.L or replicas, or start from initial: up",
                 "temperatures": "lower snapshot_every (each engine call runs "
                                 "lcm(record_every, snapshot_every) sweeps)",
                 "kernel arrays": "lower lattice.L",
                 "records": "raise record_every, or lower sweeps or replicas",
                 "snapshots": "raise snapshot_every or leave it out",
                 "protocol": "lower replicas"}


def _check_resources(cfg):
    """Refuse a point whose lattice the kernels cannot index or that cannot fit in memory.

    The estimate is that of the run a worker makes (:func:`isingneuron.sweep.run_point`:
    ``Simulation.run`` in chunks, records and snapshots kept).
    """
    L, R, n = cfg.lattice.L, cfg.replicas, cfg.sweeps
    fits = L <= resources.MAX_L
    G = _state_replicas(L, R, cfg.update == "checkerboard", "auto") if fits else R
    est = resources.estimate(
        L, R, n, cfg.record_every, cfg.snapshot_every,
        chunk=chunk_sweeps(L * L, R, cfg.record_every, cfg.snapshot_every, n), keep=True,
        dynamics=cfg.dynamics, update=cfg.update, initial=cfg.initial, state_replicas=G,
        population=getattr(cfg.protocol, "kind", None) == "population")
    resources.check_L("lattice.L", L, est)
    what = (f"lattice.L = {L} with replicas = {R}, sweeps = {n}, record_every = "
            f"{cfg.record_every}" + (f", snapshot_every = {cfg.snapshot_every}"
                                     if cfg.snapshot_every else ""))
    resources.check(what, est, hint=_CONFIG_HINTS.get(est.largest))


def _name_max(folder) -> int:
    """NAME_MAX of the filesystem of ``folder`` (of its nearest existing ancestor)."""
    d = os.path.abspath(folder or ".")
    while True:
        try:
            if os.path.isdir(d):
                return int(os.pathconf(d, "PC_NAME_MAX"))
        except (OSError, ValueError):
            break
        parent = os.path.dirname(d)
        if parent == d:
            break
        d = parent
    return 255


def _path_problem(path, key) -> str | None:
    """Why ``path`` cannot name a file here (NUL, unencodable, names over NAME_MAX), or None."""
    if "\x00" in path:
        return f"{key} = {_r(path)}: contains a NUL character; name a file"
    try:
        os.fsencode(path)
    except UnicodeError:
        return f"{key} = {_r(path)}: cannot be encoded as a file name on this system"
    limit = _name_max(os.path.dirname(path))
    names = [n for n in path.split(os.sep) if n not in ("", ".", "..")]
    for i, name in enumerate(names):
        size = len(os.fsencode(name))
        last = i == len(names) - 1
        allowed = limit - _NAME_RESERVE if last else limit
        if size > allowed:
            what = "file name" if last else "folder name"
            why = (f"this filesystem allows {limit} bytes per name and the recorder adds "
                   "suffixes such as '.journal'" if last else
                   "this filesystem's limit per name")
            return f"{key}: {what} {_r(name)} is {size} bytes long: at most {allowed} ({why})"
    path_max = 4096
    try:
        path_max = int(os.pathconf(_existing(path), "PC_PATH_MAX"))
    except (OSError, ValueError):
        pass
    size = len(os.fsencode(os.path.abspath(path)))
    if size + _NAME_RESERVE >= path_max:
        return (f"{key} = {_r(path)}: the absolute path is {size} bytes long: at most "
                f"{path_max - _NAME_RESERVE - 1} bytes in all")
    return None


def _existing(path):
    d = os.path.dirname(os.path.abspath(path))
    while not os.path.isdir(d) and os.path.dirname(d) != d:
        d = os.path.dirname(d)
    return d


_DASK_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx", "inproc")
_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$")


def dask_address_problem(address, key=None) -> str | None:
    """Why ``address`` is not a Dask scheduler address, or None.

    Accepted: ``[scheme://]host:port`` with scheme tcp, tls, ws, wss or ucx
    (tcp when omitted), host a name, an IPv4 address or ``[IPv6]``, port
    1-65535; or ``inproc://...``. Checked before a client is made, so that a
    malformed address is one clear line rather than a client that fails.
    """
    allowed = (f"{key + ' = ' if key else ''}{_r(address)}: not a Dask scheduler address; "
               "give [SCHEME://]HOST:PORT, e.g. tcp://10.0.0.1:8786 (schemes: "
               f"{', '.join(_DASK_SCHEMES)})")
    if not isinstance(address, str) or not address or any(c.isspace() for c in address):
        return allowed
    scheme, sep, loc = address.rpartition("://")
    if sep and scheme not in _DASK_SCHEMES:
        return allowed
    if scheme == "inproc":
        return None if loc else allowed
    if loc.startswith("["):
        host, sep2, tail = loc[1:].partition("]")
        if not sep2 or not host or not tail.startswith(":") \
                or not re.fullmatch(r"[0-9A-Fa-f:.]+", host):
            return allowed
        port = tail[1:]
    else:
        host, sep2, port = loc.rpartition(":")
        if not sep2 or not _HOST.match(host):
            return allowed
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        return allowed
    return None


# -------------------------------------------------------------------- protocol
_SCHED_ERR = re.compile(r"^[\w.]+: (\w+)(\[\d+\])? = ")


def _schedule_error(exc, where, kind):
    """Turn a ScheduleError into a message naming ``where.<param>``."""
    msg = str(exc)
    m = _SCHED_ERR.match(msg)
    if m:
        return f"{where}.{msg[msg.index(': ') + 2:]}"
    rest = msg.split(": ", 1)[1] if ": " in msg else msg
    return f"{where} (kind {kind}): {rest}"


def _plain(spec) -> dict:
    return {k: v for k, v in spec.model_dump().items() if v is not None}


def _build_schedule(spec, replicas, seed) -> Schedule:
    """Construct the schedule of a protocol spec; ValueError names ``protocol.<param>``."""
    if not isinstance(spec, PopulationSpec):
        try:
            return Schedule.from_dict(_plain(spec))
        except ScheduleError as exc:
            raise ValueError(_schedule_error(exc, "protocol", spec.kind)) from None
    if (spec.gaussian_quenches is None) == (spec.schedules is None):
        raise ValueError("protocol (kind population): give exactly one of "
                         "'gaussian_quenches' (a mapping) or 'schedules' (a list)")
    if spec.schedules is not None:
        members = []
        for i, s in enumerate(spec.schedules):
            try:
                members.append(Schedule.from_dict(_plain(s)))
            except ScheduleError as exc:
                raise ValueError(_schedule_error(exc, f"protocol.schedules[{i}]", s.kind)) from None
        if len(members) != replicas:
            raise ValueError(f"protocol.schedules has {len(members)} entries for replicas = "
                             f"{replicas}: give one schedule per replica")
        return Population(members)
    g = _plain(spec.gaussian_quenches)
    g.setdefault("n", replicas)
    g.setdefault("seed", seed)
    if g["n"] != replicas:
        raise ValueError(f"protocol.gaussian_quenches.n = {_r(g['n'])} but replicas = {replicas}: "
                         "they must be equal (or leave n out)")
    try:
        return Population.gaussian_quenches(**g)
    except ScheduleError as exc:
        raise ValueError(_schedule_error(exc, "protocol.gaussian_quenches", "population")) from None


# ------------------------------------------------------------------ error text
def _models_in(tp) -> list:
    """BaseModel classes found in an annotation (through Annotated, Optional, Union)."""
    origin = typing.get_origin(tp)
    if origin is Annotated:
        return _models_in(typing.get_args(tp)[0])
    if origin is Union:
        return [m for a in typing.get_args(tp) for m in _models_in(a)]
    return [tp] if isinstance(tp, type) and issubclass(tp, BaseModel) else []


def _list_item(tp):
    """Element annotation of a list annotation (through Annotated, Optional), else None."""
    origin = typing.get_origin(tp)
    if origin is Annotated:
        return _list_item(typing.get_args(tp)[0])
    if origin is Union:
        for a in typing.get_args(tp):
            item = _list_item(a)
            if item is not None:
                return item
        return None
    return typing.get_args(tp)[0] if origin is list else None


def _tag(model):
    f = model.model_fields.get("kind")
    return typing.get_args(f.annotation)[0] if f is not None else None


def _walk(loc):
    """Path text of a pydantic ``loc`` (union tags removed) and the model that holds it.

    Returns ``(path, parent, annotation)``: the model holding the last key, and
    the annotation of the last key (or None).
    """
    path, parent, tp = "", None, Config
    for item in loc:
        if isinstance(item, int):
            path += f"[{item}]"
            tp = _list_item(tp)
            continue
        models = _models_in(tp)
        if len(models) > 1 and item in {_tag(m) for m in models}:
            tp = next(m for m in models if _tag(m) == item)   # a union tag, not a key
            continue
        model = models[0] if models else None
        parent = model
        path = f"{path}.{item}" if path else str(item)
        tp = model.model_fields[item].annotation if model and item in model.model_fields else None
    return path, parent, tp


def _suggest(word, choices):
    near = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f"; did you mean {near[0]!r}?" if near else ""


def _literals(tp) -> list:
    """The choices of a Literal annotation, also inside Optional or Annotated."""
    if typing.get_origin(tp) is Literal:
        return list(typing.get_args(tp))
    return [c for a in typing.get_args(tp) for c in _literals(a)]


def _keys(model):
    return ", ".join(model.model_fields) if model else ""


_TYPE_WORDS = {"int_type": "an integer", "float_type": "a number", "bool_type": "true or false",
               "string_type": "a string", "list_type": "a list", "dict_type": "a mapping",
               "model_type": "a mapping", "model_attributes_type": "a mapping",
               "finite_number": "a finite number", "int_from_float": "an integer"}


def _describe(err) -> str:
    """One message for one pydantic error."""
    kind, loc, ctx = err["type"], err["loc"], err.get("ctx") or {}
    value = err.get("input")
    path, parent, tp = _walk(loc)
    where = path or "the config"
    if kind == "extra_forbidden":
        allowed = list(parent.model_fields) if parent else []
        owner = path.rsplit(".", 1)[0] if "." in path else "the config"
        return (f"unknown key {_r(path)}{_suggest(loc[-1], allowed)} (allowed in {owner}: "
                f"{', '.join(allowed)})")
    if kind == "missing":
        owner = path.rsplit(".", 1)[0] if "." in path else "the config"
        tag = f" (kind {_tag(parent)})" if parent is not None and _tag(parent) else ""
        return f"missing required key {_r(path)}{tag}; keys of {owner}: {_keys(parent)}"
    if kind == "union_tag_invalid":
        tags = ctx.get("expected_tags", "")
        choices = re.findall(r"'([^']*)'", tags)
        return (f"{where}.kind = {_r(ctx.get('tag'))}: allowed kinds are {tags}"
                f"{_suggest(ctx.get('tag'), choices)}")
    if kind == "union_tag_not_found":
        tags = ", ".join(_tag(m) for m in _models_in(tp) if _tag(m))
        return f"{where}: missing key 'kind' (allowed kinds: {tags})"
    if kind == "literal_error":
        choices = _literals(tp)
        return (f"{where} = {_r(value)}: allowed are {ctx.get('expected', '')}"
                f"{_suggest(value, choices) if isinstance(value, str) else ''}")
    if kind == "string_too_short":
        return f"{where} = {_r(value)}: must not be empty"
    if kind == "value_error":
        return str(ctx.get("error", err["msg"]))
    if kind in _TYPE_WORDS:
        models = _models_in(tp)
        extra = ""
        if len(models) > 1:
            extra = f" with a 'kind' key ({', '.join(_tag(m) for m in models if _tag(m))})"
        elif models:
            extra = f" with keys {_keys(models[0])}"
        return f"{where} = {_r(value)}: must be {_TYPE_WORDS[kind]}{extra}"
    msg = err["msg"].replace("Input should be", "must be")
    return f"{where} = {_r(value)}: {msg}"


def _format(exc: ValidationError, prefix="") -> str:
    """The first problem only (one message); an unknown key goes first, since a
    misspelt key is also reported missing and the typo is the news."""
    errs = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
    return prefix + _describe(errs[0])


def validate_config(data, prefix="") -> Config:
    """Validate a config dict (e.g. a point's, sent to a worker).

    Raises
    ------
    ConfigError
        One line naming the first problem.
    """
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format(exc, prefix)) from None


# ----------------------------------------------------------------------- sweeps
def _get(d, path):
    for part in path.split("."):
        if not isinstance(d, dict) or part not in d:
            raise KeyError(path)
        d = d[part]
    return d


def _set(d, path, value):
    *head, last = path.split(".")
    for part in head:
        d = d[part]
    d[last] = value


def _paths(d, prefix=""):
    for k, v in d.items():
        p = f"{prefix}{k}"
        yield p
        if isinstance(v, dict):
            yield from _paths(v, p + ".")


def _number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _tidy(x: float) -> float:
    return float(f"{x:.12g}")          # 0.30000000000000004 -> 0.3


def _values(where, v) -> list:
    """The list of values of one sweep key: a list, or a range mapping."""
    if isinstance(v, list):
        if not v:
            raise ConfigError(f"{where}: empty list: give at least one value")
        return v
    if not isinstance(v, dict):
        raise ConfigError(f"{where} = {_r(v)}: must be a list of values or a range "
                          "{start, stop, num} (linspace, inclusive) or {start, stop, step}")
    extra = sorted(set(v) - {"start", "stop", "num", "step"})
    if extra:
        raise ConfigError(f"unknown key {_r(f'{where}.{extra[0]}')}"
                          f"{_suggest(extra[0], ['start', 'stop', 'num', 'step'])} "
                          "(a range has start, stop and num or step)")
    for k in ("start", "stop"):
        if k not in v:
            raise ConfigError(f"missing required key '{where}.{k}' (a range has start, stop "
                              "and num or step)")
        if not _number(v[k]):
            raise ConfigError(f"{where}.{k} = {_r(v[k])}: must be a finite number")
    start, stop = v["start"], v["stop"]
    if ("num" in v) == ("step" in v):
        raise ConfigError(f"{where}: give exactly one of 'num' (number of values, linspace) "
                          "or 'step' (spacing)")
    if "num" in v:
        num = v["num"]
        if isinstance(num, bool) or not isinstance(num, int) or not 1 <= num <= MAX_POINTS:
            raise ConfigError(f"{where}.num = {_r(num)}: must be an integer in [1, {MAX_POINTS}]")
        vals = np.linspace(start, stop, num)
        if isinstance(start, int) and isinstance(stop, int) and np.all(vals == np.round(vals)):
            return [int(x) for x in vals]
        return [_tidy(x) for x in vals]
    step = v["step"]
    if not _number(step) or step == 0 or (stop - start) * step < 0:
        raise ConfigError(f"{where}.step = {_r(step)}: must be a non-zero number with the sign "
                          f"of stop - start = {stop - start!r}")
    n = int(math.floor((stop - start) / step + 1e-9)) + 1
    if n > MAX_POINTS:
        raise ConfigError(f"{where}: {n} values: at most {MAX_POINTS}")
    if all(isinstance(x, int) for x in (start, stop, step)):
        return [start + k * step for k in range(n)]
    return [_tidy(start + k * step) for k in range(n)]


def _expand(config: Config) -> list[Point]:
    if config.sweep is None:
        return [Point({}, config)]
    base = config.model_dump(mode="json", exclude={"sweep"})
    known = list(_paths(base))
    sections = {}
    for section in ("grid", "zip"):
        spec = getattr(config.sweep, section) or {}
        lists = {}
        for key, raw in spec.items():
            where = f"sweep.{section}.{key if len(key) <= 100 else key[:97] + '...'}"
            if key.split(".")[0] in _NOT_SWEPT:
                raise ConfigError(f"{where}: '{key.split('.')[0]}' cannot be swept "
                                  f"(not sweepable: {', '.join(_NOT_SWEPT)})")
            if key not in known:
                raise ConfigError(f"{where}: {_r(key)} is not a key of this config"
                                  f"{_suggest(key, known)}")
            lists[key] = _values(where, raw)
        sections[section] = lists
    grid, zipped = sections["grid"], sections["zip"]
    if not grid and not zipped:
        raise ConfigError("sweep: give 'grid' and/or 'zip' with at least one key")
    both = sorted(set(grid) & set(zipped))
    if both:
        raise ConfigError(f"sweep: key {_r(both[0])} is in both grid and zip: give it once")
    keys = list(grid) + list(zipped)
    for a, b in itertools.permutations(keys, 2):
        if b.startswith(a + "."):
            raise ConfigError(f"sweep: keys {_r(a)} and {_r(b)} overlap: each config key may be "
                              "swept once")
    lengths = {k: len(v) for k, v in zipped.items()}
    if len(set(lengths.values())) > 1:
        raise ConfigError("sweep.zip: lists have different lengths ("
                          + ", ".join(f"{k}: {n}" for k, n in lengths.items())
                          + "): zipped lists advance together and must be equally long")
    zip_rows = list(zip(*zipped.values())) if zipped else [()]
    n_points = math.prod(len(v) for v in grid.values()) * len(zip_rows)
    if n_points > MAX_POINTS:
        raise ConfigError(f"sweep: {n_points} points: at most {MAX_POINTS}")
    points, seen = [], {}
    for combo in itertools.product(*grid.values()):
        for row in zip_rows:
            raw = dict(zip(keys, combo + tuple(row)))
            data = json.loads(json.dumps(base))
            for k, v in raw.items():
                _set(data, k, v)
            label = " ".join(f"{k}={_short(v)}" for k, v in raw.items())
            cfg = validate_config(data, prefix=f"sweep point {label}: ")
            canon = cfg.model_dump(mode="json")
            point = Point({k: _get(canon, k) for k in keys}, cfg)
            if point.id in seen:
                raise ConfigError(f"sweep: point {label} appears twice (same as "
                                  f"{seen[point.id]}): remove the repeated value")
            seen[point.id] = label
            points.append(point)
    return points


# ------------------------------------------------------------------------ YAML
_MERGE = "tag:yaml.org,2002:merge"


class _TooDeep(yaml.composer.ComposerError):
    pass


class _Loader(yaml.SafeLoader):
    """SafeLoader that reads 1e-3 as a number, refuses repeated keys (merge keys
    ``<<`` excepted: what they bring in may be overridden) and nesting deeper
    than :data:`MAX_YAML_DEPTH`."""

    _depth = 0

    def compose_node(self, parent, index):
        if self._depth >= MAX_YAML_DEPTH:
            raise _TooDeep(None, None, "", self.peek_event().start_mark)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen = set()
            for key_node, _ in node.value:
                if key_node.tag == _MERGE:
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    repeated = key in seen
                except TypeError:          # unhashable: the base class says so
                    continue
                if repeated:
                    mark = key_node.start_mark
                    raise yaml.constructor.ConstructorError(
                        None, None, f"key {_r(key)} appears twice", mark)
                seen.add(key)
        return super().construct_mapping(node, deep)


def _expanded_size(root, source):
    """Values in the node graph once aliases are expanded; refuses cycles and bombs.

    An alias is the same node object as its anchor, so sizes are memoised by
    node: linear in the file however far the aliases would expand.
    """
    size, state = {}, {}               # id -> expanded size; id -> 1 on the path, 2 done
    stack = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        k = id(node)
        if children_done:
            kids = node.value if isinstance(node, yaml.SequenceNode) else \
                [x for pair in node.value for x in pair]
            size[k] = 1 + sum(size[id(c)] for c in kids)
            state[k] = 2
            if size[k] > MAX_YAML_NODES:
                mark = node.start_mark
                raise ConfigError(f"{source}: YAML aliases expand to more than {MAX_YAML_NODES} "
                                  f"values (at most {MAX_YAML_NODES}) at line {mark.line + 1}, "
                                  f"column {mark.column + 1}; write the values out, or use "
                                  "fewer aliases")
            continue
        if state.get(k) == 2:
            continue
        if not isinstance(node, (yaml.SequenceNode, yaml.MappingNode)):
            size[k], state[k] = 1, 2
            continue
        if state.get(k) == 1:
            mark = node.start_mark
            raise ConfigError(f"{source}: YAML alias at line {mark.line + 1}, column "
                              f"{mark.column + 1} refers to a node that contains it (a "
                              "recursive alias): a config must be a tree")
        state[k] = 1
        stack.append((node, True))
        kids = node.value if isinstance(node, yaml.SequenceNode) else \
            [x for pair in node.value for x in pair]
        for c in kids:
            if state.get(id(c)) == 1:
                mark = c.start_mark
                raise ConfigError(f"{source}: YAML alias at line {mark.line + 1}, column "
                                  f"{mark.column + 1} refers to a node that contains it (a "
                                  "recursive alias): a config must be a tree")
            if state.get(id(c)) != 2:
                stack.append((c, False))
    return size.get(id(root), 0)


def _load_yaml(text, source):
    """The YAML document of ``text`` (size, depth and alias expansion checked first)."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _expanded_size(node, source)
        return loader.construct_document(node)
    finally:
        loader.dispose()


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"""^(?:[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)
                   |[-+]?\.[0-9_]+(?:[eE][-+]?[0-9]+)?)$""", re.X),
    list("-+0123456789."))


def parse_config(text: str, source: str = "<config>", *, output=None) -> Config:
    """Validate a config given as YAML text; every point of a sweep is checked.

    Parameters
    ----------
    text : str
        YAML text.
    source : str
        Name used in messages (usually the file path).
    output : str, optional
        Replaces the config's ``output`` (e.g. from ``--output``).

    Raises
    ------
    ConfigError
    """
    if not isinstance(text, str):
        raise ConfigError(f"{source}: config text must be a str, not {type(text).__name__}")
    if len(text) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{source}: config text is {len(text)} characters: at most "
                          f"{MAX_CONFIG_BYTES} ({resources.format_bytes(MAX_CONFIG_BYTES)})")
    try:
        data = _load_yaml(text, source)
    except _TooDeep as exc:
        mark = exc.problem_mark
        raise ConfigError(f"{source}: lists and mappings nested more than {MAX_YAML_DEPTH} "
                          f"levels deep at line {mark.line + 1}, column {mark.column + 1} (at "
                          f"most {MAX_YAML_DEPTH})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{source}: YAML syntax error{at}: {problem}") from None
    except RecursionError:
        raise ConfigError(f"{source}: nested too deeply (at most {MAX_YAML_DEPTH} "
                          "levels)") from None
    if data is None:
        raise ConfigError(f"{source}: the config is empty: it needs at least lattice, "
                          "protocol, sweeps and output")
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: must be a YAML mapping of keys (lattice, protocol, "
                          f"sweeps, output, ...), not {type(data).__name__}")
    bad = [k for k in data if not isinstance(k, str)]
    if bad:
        raise ConfigError(f"{source}: key {_r(bad[0])} must be a string")
    if output is not None:
        data["output"] = str(output)
    config = validate_config(data)
    config.points()
    return config


_FILE_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
               (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
               (stat.S_ISSOCK, "a socket"))


def _not_regular(p, mode) -> ConfigError | None:
    if stat.S_ISREG(mode):
        return None
    kind = next((name for test, name in _FILE_KINDS if test(mode)), "not a regular file")
    if kind == "a folder":
        return ConfigError(f"{p}: is a folder, not a config file")
    return ConfigError(f"{p}: is {kind}, not a config file: a config must be a regular file")


def _read_config_file(p) -> str:
    """The text of config file ``p``: a regular file of at most MAX_CONFIG_BYTES, UTF-8."""
    too_big = (f"{p}: config file is larger than {resources.format_bytes(MAX_CONFIG_BYTES)} "
               f"(at most {MAX_CONFIG_BYTES} bytes); is this the right file?")
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise ConfigError(f"{p}: no such config file") from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{p}: cannot read config file: "
                          f"{getattr(exc, 'strerror', None) or exc}") from None
    bad = _not_regular(p, st.st_mode)
    if bad:
        raise bad
    if st.st_size > MAX_CONFIG_BYTES:
        raise ConfigError(too_big)
    try:   # non-blocking: a FIFO swapped in after the stat cannot hang the open
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read config file: {exc.strerror or exc}") from None
    try:
        bad = _not_regular(p, os.fstat(fd).st_mode)
        if bad:
            raise bad
        chunks, size = [], 0
        while size <= MAX_CONFIG_BYTES:
            chunk = os.read(fd, MAX_CONFIG_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        err = errno.errorcode.get(exc.errno, "")
        raise ConfigError(f"{p}: cannot read config file: {exc.strerror or err or exc}") from None
    finally:
        os.close(fd)
    if size > MAX_CONFIG_BYTES:
        raise ConfigError(too_big)
    data = b"".join(chunks)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigError(f"{p}: not a UTF-8 text file (byte {exc.start}, line {line}: "
                          f"{exc.reason}); a config is YAML text") from None


def load_config(path, *, output=None) -> Config:
    """Read and validate a YAML config file (see :func:`parse_config`).

    The file must be a regular file (not a FIFO, a device or a folder) of at
    most :data:`MAX_CONFIG_BYTES` of UTF-8 text; it is read with a bounded read.

    Raises
    ------
    ConfigError
        Missing, unreadable, non-regular or oversized file, YAML syntax error,
        or an invalid config.
    """
    p = Path(path)
    return parse_config(_read_config_file(p), str(p), output=output)


# ------------------------------------------------------------- stored configs
def stored_text(config: Config) -> str:
    """Canonical YAML of what determines the data (everything but output, executor, analysis).

    This text is stored in the output file; rerunning on that file requires
    the same text.
    """
    data = config.model_dump(mode="json", exclude=_NOT_STORED)
    return yaml.safe_dump(data, sort_keys=True, default_flow_style=False)


def _flat(d, prefix=""):
    out = {}
    for k, v in (d or {}).items():
        if isinstance(v, dict) and v:
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def config_diff(stored: str, current: str, limit=3) -> str:
    """Short description of where two stored config texts differ."""
    try:
        a, b = _flat(yaml.safe_load(stored)), _flat(yaml.safe_load(current))
    except yaml.YAMLError:
        return "the stored config cannot be parsed"
    keys = sorted(k for k in set(a) | set(b) if a.get(k, "<absent>") != b.get(k, "<absent>"))
    parts = [f"{k}: {_short(a.get(k, '<absent>'))} in the file, {_short(b.get(k, '<absent>'))} "
             "now" for k in keys[:limit]]
    more = f" and {len(keys) - limit} more" if len(keys) > limit else ""
    return "; ".join(parts) + more if parts else "formatting only"
