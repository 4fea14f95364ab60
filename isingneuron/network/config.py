"""The network experiment's configuration: defaults, loading and validation.

:data:`DEFAULTS` holds the same values as ``configs/network.yaml``;
:func:`load_config` merges a YAML file or a dict of overrides into them,
applies the ``quick`` overrides if asked, and validates every key (a bad one
raises :class:`NetworkConfigError` naming it).
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import numpy as np

from ..schedules import ONSAGER_TC

__all__ = ["DEFAULTS", "NetworkConfigError", "load_config"]

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


def _need(ok, key, value, rule):
    if not ok:
        raise NetworkConfigError(f"{key} = {value!r}: {rule}")


class _Rules:
    """The value rules shared by the sections of :func:`_check`."""

    def __init__(self, cfg: dict):
        self.cfg = cfg

    def int_at_least(self, sec, key, lo):
        v = self.cfg[sec][key]
        _need(_is_int(v) and v >= lo, f"{sec}.{key}", v, f"must be an integer >= {lo}")

    def real_above(self, sec, key, lo, strict=True):
        v = self.cfg[sec][key]
        _need(_is_real(v) and (v > lo if strict else v >= lo), f"{sec}.{key}", v,
              f"must be a real number {'>' if strict else '>='} {lo:g}")

    def int_list(self, sec, key, lo, what):
        v = self.cfg[sec][key]
        _need(isinstance(v, (list, tuple)) and len(v) > 0 and all(_is_int(x) and x >= lo
                                                                  for x in v),
              f"{sec}.{key}", v, f"must be a non-empty list of {what} (integers >= {lo})")


def _check_data_networks(cfg: dict, rules: _Rules) -> None:
    rules.int_at_least("data", "test_size", 10)
    n = cfg["data"]["test_size"]        # stratified: one training image of each digit at least
    _need(n <= 1787, "data.test_size", n, "must be at most 1787 (the 1,797 digits less one "
                                          "training image of each of the 10)")
    rules.int_at_least("data", "split_seed", 0)
    rules.int_list("networks", "hidden_1", 1, "hidden units")
    _need(len(cfg["networks"]["hidden_1"]) == 1, "networks.hidden_1",
          cfg["networks"]["hidden_1"], "must list the units of ONE hidden layer, e.g. [32]")
    rules.int_list("networks", "hidden_2", 1, "hidden units")
    _need(len(cfg["networks"]["hidden_2"]) == 2, "networks.hidden_2",
          cfg["networks"]["hidden_2"], "must list the units of TWO hidden layers, e.g. [32, 16]")
    rules.int_at_least("networks", "train_seed", 0)
    rules.real_above("networks", "alpha", 0.0, strict=False)
    rules.int_at_least("networks", "max_iter", 1)


def _check_lattice_calibration(cfg: dict, rules: _Rules) -> None:
    lat = cfg["lattice"]
    rules.int_at_least("lattice", "L", 4)
    _need(lat["dynamics"] in ("metropolis", "glauber"), "lattice.dynamics", lat["dynamics"],
          "must be 'metropolis' or 'glauber' (physical single-spin kinetics)")
    _need(lat["boundary"] in ("plus", "periodic"), "lattice.boundary", lat["boundary"],
          "must be 'plus' (fixed +1 border: fires to m = +1) or 'periodic'")
    rules.real_above("lattice", "bath", 0.0)
    rules.int_at_least("lattice", "at", 0)
    rules.real_above("lattice", "rate", 0.0)
    rules.real_above("lattice", "theta", 0.0)
    _need(lat["theta"] < 1, "lattice.theta", lat["theta"], "must be in (0, 1)")
    rules.real_above("lattice", "q_max", 0.0)
    _need(lat["q_max"] < lat["bath"], "lattice.q_max", lat["q_max"],
          f"must be < bath = {lat['bath']!r} J (the temperature bath - Q must stay > 0)")
    _need(lat["bath"] > ONSAGER_TC, "lattice.bath", lat["bath"],
          f"must be > Onsager's Tc = {ONSAGER_TC:.4f} J (a resting membrane is disordered)")
    rules.int_at_least("lattice", "trials", 1)
    rules.int_at_least("lattice", "seed", 0)
    rules.int_at_least("calibration", "depths", 5)
    rules.int_at_least("calibration", "replicas", 2)


def _check_mapping_meanfield(cfg: dict, rules: _Rules) -> None:
    _need(cfg["mapping"]["gain"] in ("per_unit", "per_layer"), "mapping.gain",
          cfg["mapping"]["gain"], "must be 'per_unit' or 'per_layer'")
    h = cfg["mapping"]["headroom"]
    _need(h == "auto" or (_is_real(h) and 0.5 <= h <= 1.0), "mapping.headroom", h,
          "must be 'auto' or a quantile in [0.5, 1] of the training inputs mapped to q_max")
    c = cfg["mapping"]["candidates"]
    _need(isinstance(c, (list, tuple)) and len(c) > 0
          and all(_is_real(x) and 0.5 <= x <= 1.0 for x in c), "mapping.candidates", c,
          "must be a non-empty list of quantiles in [0.5, 1]")
    rules.int_at_least("mapping", "draws", 1)
    rules.real_above("meanfield", "tau", 0.0)
    m0 = cfg["meanfield"]["m0"]
    _need(m0 is None or (_is_real(m0) and 0 < m0 <= 1), "meanfield.m0", m0,
          "must be null (the lattice's measured resting m) or a number in (0, 1]")


def _check_scan(cfg: dict) -> None:
    for net in ("one_layer", "two_layers"):
        sc = cfg["scan"][net]
        key = f"scan.{net}"
        for k, v in sc.items():
            if k in ("L", "trials"):
                lo = 4 if k == "L" else 1
                _need(isinstance(v, (list, tuple)) and len(v) > 0
                      and all(_is_int(x) and x >= lo for x in v), f"{key}.{k}", v,
                      f"must be a non-empty list of integers >= {lo}")
            else:
                _need(isinstance(v, (list, tuple)) and len(v) > 0
                      and all(_is_real(x) and x > 0 for x in v), f"{key}.{k}", v,
                      "must be a non-empty list of reheating rates > 0 (J/sweep)")


def _check(cfg: dict) -> dict:
    """Validate a full config in place; raise NetworkConfigError naming the key."""
    rules = _Rules(cfg)
    _check_data_networks(cfg, rules)
    _check_lattice_calibration(cfg, rules)
    _check_mapping_meanfield(cfg, rules)
    _check_scan(cfg)
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
        _check(copy.deepcopy(cfg))      # the file as written, before quick overrides part of it
        over = cfg["quick"]
        bad = sorted(set(over) - (set(DEFAULTS) - {"quick"}))
        if bad:
            raise NetworkConfigError(f"quick: unknown section(s) {bad}; allowed: "
                                     f"{sorted(set(DEFAULTS) - {'quick'})}")
        _deep_update(cfg, copy.deepcopy(over), "quick.")
    return _check(cfg)
