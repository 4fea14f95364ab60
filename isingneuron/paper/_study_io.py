"""What the four studies share: reading their sweep files back point by point, the
protocol a point was driven by, and one-point summaries that keep per-replica
numbers (not traces), so a grid of thousands of points analyses in bounded memory.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .. import spikes
from ..recorder import file_status, read_point
from ..schedules import ONSAGER_TC, Schedule
from ..traces import Traces

__all__ = ["source_paths", "iter_points", "schedule_of", "quench_summary"]


def source_paths(source) -> list[Path]:
    """``source`` (a path or a sequence of paths of HDF5 sweep files) as a list of
    existing Paths; a missing file is a ValueError naming it."""
    paths = [source] if isinstance(source, (str, Path)) else list(source)
    if not paths:
        raise ValueError("source: give the path of at least one HDF5 sweep file")
    out = []
    for p in paths:
        p = Path(p)
        if not p.is_file():
            raise ValueError(f"{p}: no such file (an HDF5 sweep file written by "
                             "`isingneuron run CONFIG`)")
        out.append(p)
    return out


def describe_source(source) -> str:
    """``source`` (a path, or a list or tuple of paths) as text for results and reports."""
    if isinstance(source, (list, tuple)):
        return ", ".join(str(s) for s in source)
    return str(source)


def iter_points(source):
    """Every complete point of one or more sweep files, as :class:`Traces` (one at a
    time, in the order of the files and of the point ids)."""
    for p in source_paths(source):
        for name, state in sorted(file_status(p)["points"].items()):
            if state == "done":
                yield read_point(p, name)


def schedule_of(traces: Traces):
    """The schedule a run was driven by (from ``attrs["protocol"]``), or None."""
    text = (traces.attrs or {}).get("protocol")
    if not text:
        return None
    try:
        return Schedule.from_dict(json.loads(text) if isinstance(text, str) else dict(text))
    except (ValueError, TypeError, KeyError):
        return None


def unit_scale(schedule) -> float:
    """Factor from a schedule's own units to J."""
    return ONSAGER_TC if getattr(schedule, "units", "J") == "Tc" else 1.0


def quench_summary(traces: Traces, at: float, theta: float) -> dict:
    """Per-replica spike numbers of one quench run, without the traces.

    Returns
    -------
    dict
        ``baseline`` (mean m over ``at/2 <= t < at``), ``dwell`` (R,) sweeps with
        m >= theta, ``area`` (R,) area under ``(m - baseline) / (1 - baseline)``
        after the quench (records with ``t > at``; sweeps), ``fired`` (R,) bool,
        ``onset`` (R,) sweeps from the quench to the first record with m >= theta
        (nan if none), ``replicas``, ``record_every``, ``n_sweeps`` (last record).
    """
    t, m = traces.t, traces.m
    rest = m[:, (t >= at / 2) & (t < at)]
    baseline = float(rest.mean()) if rest.size else 0.0
    scale = 1.0 - baseline if baseline < 1.0 else 1.0
    dwell = spikes.dwell_time(t, m, theta)
    re = spikes.record_interval(t)
    after = t > at          # the rest before the quench only adds noise to the area
    area = re * np.sum((m[:, after] - baseline) / scale, axis=1)
    hit = (m >= theta) & (t > at)[None, :]
    any_ = hit.any(axis=1)
    onset = np.where(any_, t[np.argmax(hit, axis=1)] - at, np.nan)
    return {"baseline": baseline, "dwell": dwell, "area": area, "fired": dwell > 0,
            "onset": onset.astype(float), "replicas": int(m.shape[0]),
            "record_every": int(re), "n_sweeps": int(t[-1])}


def pool(summaries: list[dict]) -> dict:
    """Several :func:`quench_summary` of one condition (e.g. seeds) as one."""
    if len(summaries) == 1:
        return summaries[0]
    out = {k: np.concatenate([s[k] for s in summaries])
           for k in ("dwell", "area", "fired", "onset")}
    w = np.array([s["replicas"] for s in summaries], float)
    out["baseline"] = float(np.sum(w * [s["baseline"] for s in summaries]) / w.sum())
    out["replicas"] = int(w.sum())
    out["record_every"] = summaries[0]["record_every"]
    out["n_sweeps"] = max(s["n_sweeps"] for s in summaries)
    return out
