"""Figures of recorded runs (matplotlib, Agg: no display needed).

For now one figure per point: the bath temperature T(t) above the
magnetisation m(t) of every replica and their mean. The paper's figures
(activation and transfer curves against mean-field theory) come later.

Figures are made with :class:`matplotlib.figure.Figure` directly (no pyplot
state), so this module can run in any process, headless.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from .recorder import file_status, point_info, read_point
from .schedules import ONSAGER_TC

__all__ = ["trace_figure", "plot_file"]


def trace_figure(traces, title: str = "") -> Figure:
    """T(t) and m(t) of one run.

    Parameters
    ----------
    traces : Traces
        Records of ``R`` replicas.
    title : str
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        Top: bath temperature per replica (one line when they share it), with
        Onsager's Tc dashed. Bottom: m(t) of each replica (thin) and the mean
        over replicas (black).
    """
    fig = Figure(figsize=(7.0, 5.0), layout="constrained")
    ax_T, ax_m = fig.subplots(2, 1, sharex=True)
    t, T, m = traces.t, traces.T, traces.m
    shared = bool(np.all(T == T[:1]))
    ax_T.plot(t, T[0] if shared else T.T, lw=1.2 if shared else 0.6, color="C3",
              alpha=1.0 if shared else 0.4)
    ax_T.axhline(ONSAGER_TC, ls="--", lw=0.8, color="0.4", label="Tc (Onsager)")
    ax_T.set_ylabel("bath temperature T (J)")
    ax_T.legend(loc="lower right", fontsize="small")
    alpha = max(0.05, min(0.6, 3.0 / max(1, traces.n_replicas)))
    ax_m.plot(t, m.T, lw=0.5, color="C0", alpha=alpha)
    ax_m.plot(t, m.mean(axis=0), lw=1.5, color="k", label=f"mean of {traces.n_replicas}")
    ax_m.set_ylim(-1.05, 1.05)
    ax_m.set_xlabel("time (sweeps)")
    ax_m.set_ylabel("magnetisation m")
    ax_m.legend(loc="lower right", fontsize="small")
    if title:
        fig.suptitle(title, fontsize="medium")
    return fig


def plot_file(path, outdir=None) -> list[Path]:
    """One PNG of :func:`trace_figure` per complete point of an isingneuron file.

    Parameters
    ----------
    path : str or path-like
        HDF5 file written by the recorder.
    outdir : str or path-like, optional
        Folder of the PNGs (default: the file's folder). Files are named
        ``<file stem>_<point>.png``.

    Returns
    -------
    list of Path
        The PNGs written.
    """
    path = Path(path)
    outdir = Path(outdir) if outdir is not None else path.parent
    written = []
    for name, state in sorted(file_status(path)["points"].items()):
        if state != "done":
            continue
        info = point_info(path, name)
        label = info.get("label") or ", ".join(f"{k}={v}" for k, v in info["params"].items())
        title = f"{path.name}: {name}" + (f"  ({label})" if label and label != "-" else "")
        fig = trace_figure(read_point(path, name), title)
        out = outdir / f"{path.stem}_{name}.png"
        fig.savefig(out, dpi=110)
        written.append(out)
    return written
