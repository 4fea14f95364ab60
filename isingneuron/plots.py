"""Figures (matplotlib, Agg: no display needed, never ``plt.show``).

Every function here only *draws arrays*: it takes numbers (temperatures, spike
counts, lattices, fitted curves already evaluated on a grid) and returns a
:class:`matplotlib.figure.Figure`; given ``path`` it also writes it as PNG and
PDF (:func:`save_figure`). Nothing here runs a simulation or fits anything:
the experiments of :mod:`isingneuron.paper` compute, this module draws.

Figures are made with :class:`matplotlib.figure.Figure` directly (no pyplot
state), so this module can run in any process, headless, and in parallel.

Units on the axes: temperatures in J (``k_B = J = 1``) or reduced ``T / Tc``
(each theory its own Tc), quench depths ``Q`` in J, time in sweeps (one
attempted update per spin), spike counts in sweeps.

Two helpers for recorded files (used by ``isingneuron plot``) are kept here
too: :func:`trace_figure` and :func:`plot_file`.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from .recorder import file_status, point_info, read_point
from .schedules import ONSAGER_TC

__all__ = ["save_figure", "trace_figure", "plot_file", "magnetisation_figure", "eq2_figure",
           "transfer_figure", "outcome_figure", "population_figure", "traces_figure",
           "snapshots_figure", "membrane_animation", "panels_figure", "category_panel",
           "SPIN_CMAP"]

#: Colour map of spin lattices: -1 light, +1 dark blue.
SPIN_CMAP = ListedColormap(["#f2efe6", "#1f4e79"])

_FIGURE_DPI = 150


def save_figure(fig: Figure, path, dpi: int = _FIGURE_DPI) -> list[Path]:
    """Write ``fig`` as PNG and PDF.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    path : str or path-like
        File name with or without suffix: ``out/fig1`` and ``out/fig1.png`` both
        write ``out/fig1.png`` and ``out/fig1.pdf``. The folder must exist.
    dpi : int
        Resolution of the PNG.

    Returns
    -------
    list of Path
        The two files written (PNG, PDF).
    """
    path = Path(path)
    if path.suffix.lower() in (".png", ".pdf"):
        path = path.with_suffix("")
    out = [path.with_name(path.name + ".png"), path.with_name(path.name + ".pdf")]
    fig.savefig(out[0], dpi=dpi)
    fig.savefig(out[1])
    return out


def _finish(fig: Figure, path) -> Figure:
    if path is not None:
        save_figure(fig, path)
    return fig


def _color(i: int) -> str:
    return f"C{i % 10}"


# ----------------------------------------------------------------- recorded files
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


# ----------------------------------------------------------------------- Figure 1
def magnetisation_figure(T, m_meanfield, m_exact, mc=None, *, Tc_meanfield: float = 4.0,
                         Tc_exact: float = ONSAGER_TC, path=None) -> Figure:
    """Magnetisation against temperature: mean field, Onsager and Monte Carlo.

    Two panels: (a) J units; (b) reduced units ``T / Tc``, each theory divided by
    its own Tc (mean field by ``Tc_meanfield``, which makes it the paper's
    Figure 1 with ``Tc = 1``; exact and Monte Carlo by ``Tc_exact``). The mean-field
    curve is drawn with both branches ``+-m`` (the bifurcation of eq. 1).

    Parameters
    ----------
    T : array_like, shape (n,)
        Temperatures (J) of the theory curves.
    m_meanfield : array_like, shape (n,)
        Mean-field ``m >= 0`` at ``T`` (with critical temperature ``Tc_meanfield``).
    m_exact : array_like, shape (n,)
        Onsager-Yang spontaneous magnetisation at ``T``.
    mc : mapping, optional
        ``label -> (T_mc, m_mc, err_mc)``: Monte Carlo ``<|m|>`` with standard
        errors at temperatures ``T_mc`` (J), one entry per lattice size.
    Tc_meanfield, Tc_exact : float
        Critical temperatures (J) used for the reduced panel and the markers.
    path : str or path-like, optional
        Where to write PNG and PDF (see :func:`save_figure`).

    Returns
    -------
    matplotlib.figure.Figure
    """
    T = np.asarray(T, float)
    mmf, mex = np.asarray(m_meanfield, float), np.asarray(m_exact, float)
    fig = Figure(figsize=(10.0, 4.2), layout="constrained")
    axes = fig.subplots(1, 2)
    for k, ax in enumerate(axes):
        s_mf, s_ex = (1.0, 1.0) if k == 0 else (Tc_meanfield, Tc_exact)
        ax.plot(T / s_mf, mmf, color="C3", lw=1.6,
                label=f"mean field, m = tanh(Tc m / T), Tc = {Tc_meanfield / s_mf:g}")
        ax.plot(T / s_mf, -mmf, color="C3", lw=1.0, ls=":", alpha=0.7)
        ax.plot(T / s_ex, mex, color="k", lw=1.6,
                label=f"exact (Onsager-Yang), Tc = {Tc_exact / s_ex:.4g}")
        for i, (label, (Tm, mm, em)) in enumerate((mc or {}).items()):
            ax.errorbar(np.asarray(Tm, float) / s_ex, mm, yerr=em, fmt="o", ms=3.5,
                        capsize=2, lw=0.8, color=_color(i), label=f"Monte Carlo <|m|>, {label}")
        ax.axvline(Tc_meanfield / s_mf, color="C3", lw=0.6, ls="--")
        ax.axvline(Tc_exact / s_ex, color="k", lw=0.6, ls="--")
        ax.axhline(0.0, color="0.6", lw=0.5)
        ax.set_ylim(-1.05, 1.05)
        ax.set_ylabel("magnetisation per spin m")
    axes[0].set_xlabel("temperature T (J)")
    axes[1].set_xlabel("reduced temperature T / Tc (each theory its own Tc)")
    axes[0].set_title("(a) J units", fontsize="medium")
    axes[1].set_title("(b) reduced units (paper's Figure 1: Tc = 1)", fontsize="medium")
    axes[0].legend(fontsize="x-small", loc="lower left")
    return _finish(fig, path)


# ----------------------------------------------------------------------- Figure 2
def eq2_figure(T, m_meanfield, fit_meanfield, m_paper, *, fit_label: str = "",
               mc=None, fit_mc=None, fit_mc_label: str = "", m_exact=None,
               path=None) -> Figure:
    """The firing branch fitted by the paper's eq. (2), in reduced units T/Tc.

    Panel (a): mean-field ``m(T/Tc)``, the least-squares eq. (2) curve and the
    paper's ``a = 6, Tc = 1``. Panel (b): Monte Carlo points (and the exact curve)
    with their own eq. (2) fit.

    Parameters
    ----------
    T : array_like, shape (n,)
        Reduced temperatures ``T / Tc`` of the curves.
    m_meanfield, fit_meanfield, m_paper : array_like, shape (n,)
        Mean-field m, the fitted eq. (2) and the paper's eq. (2) at ``T``.
    fit_label : str
        Legend text of the mean-field fit (e.g. its parameters with errors).
    mc : tuple of 3 arrays, optional
        ``(T_mc / Tc, m_mc, err_mc)`` Monte Carlo points in reduced units.
    fit_mc : array_like, shape (n,), optional
        Eq. (2) fitted to ``mc``, at ``T``.
    fit_mc_label : str
        Legend text of that fit.
    m_exact : array_like, shape (n,), optional
        Exact m at ``T * Tc_exact``.
    path : str or path-like, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    T = np.asarray(T, float)
    fig = Figure(figsize=(10.0, 4.0), layout="constrained")
    a, b = fig.subplots(1, 2, sharey=True)
    a.plot(T, m_meanfield, color="C3", lw=2.0, label="mean field, positive branch")
    a.plot(T, fit_meanfield, color="C0", lw=1.4, ls="--", label=f"eq. (2) fit {fit_label}")
    a.plot(T, m_paper, color="0.4", lw=1.0, ls=":", label="eq. (2), paper's a = 6, Tc = 1")
    a.set_title("(a) mean field", fontsize="medium")
    if m_exact is not None:
        b.plot(T, m_exact, color="k", lw=1.4, label="exact (Onsager-Yang)")
    if mc is not None:
        b.errorbar(mc[0], mc[1], yerr=mc[2], fmt="o", ms=3.5, capsize=2, lw=0.8, color="C2",
                   label="Monte Carlo <|m|>")
    if fit_mc is not None:
        b.plot(T, fit_mc, color="C0", lw=1.4, ls="--", label=f"eq. (2) fit {fit_mc_label}")
    b.plot(T, m_paper, color="0.4", lw=1.0, ls=":", label="eq. (2), a = 6, Tc = 1")
    b.set_title("(b) 2D lattice", fontsize="medium")
    for ax in (a, b):
        ax.set_xlabel("reduced temperature T / Tc")
        ax.axvline(1.0, color="0.6", lw=0.6, ls="--")
        ax.legend(fontsize="x-small", loc="lower left")
    a.set_ylabel("magnetisation m (firing branch)")
    a.set_ylim(-0.05, 1.05)
    return _finish(fig, path)


# ----------------------------------------------------------------- transfer curves
def transfer_figure(panels, *, xlabel: str = "quench depth Q (J)", title: str = "",
                    path=None) -> Figure:
    """Spike count against input, one panel per measure, data and theory curves.

    Parameters
    ----------
    panels : sequence of dict
        One dict per panel with keys ``ylabel`` (str, with units), ``data`` (list of
        ``(label, x, y, err)`` or ``(label, x, y, err, style)``: points with error
        bars, e.g. lattice means and standard errors; ``style`` a dict of
        ``errorbar`` keywords overriding the defaults, e.g. ``{"fmt": "s--",
        "color": "0.45", "mfc": "none"}`` for a curve drawn apart), ``lines`` (list
        of ``(label, x, y)`` or ``(label, x, y, style)`` with ``style`` a dict of
        line keywords: theory and fitted curves) and optionally ``title``.
    xlabel : str
        Common abscissa label.
    title : str
        Figure title.
    path : str or path-like, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    n = len(panels)
    fig = Figure(figsize=(5.2 * n, 4.4), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, n))
    for ax, p in zip(axes, panels):
        for i, entry in enumerate(p.get("data", [])):
            label, x, y, err = entry[:4]
            style = {"fmt": "o", "ms": 3.5, "capsize": 2, "lw": 0.8, "color": _color(i)}
            style.update(entry[4] if len(entry) > 4 else {})
            ax.errorbar(x, y, yerr=err, label=label, **style)
        for j, line in enumerate(p.get("lines", [])):
            label, x, y = line[:3]
            style = {"lw": 1.3, "color": f"C{(j + 3) % 10}"}
            style.update(line[3] if len(line) > 3 else {})
            ax.plot(x, y, label=label, **style)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(p.get("ylabel", ""))
        if p.get("title"):
            ax.set_title(p["title"], fontsize="medium")
        ax.axhline(0.0, color="0.7", lw=0.5)
        ax.legend(fontsize="x-small", loc="upper left")
    if title:
        fig.suptitle(title, fontsize="medium")
    return _finish(fig, path)


# ------------------------------------------------------------- periodic outcomes
def outcome_figure(conditions, categories, fractions, errors, examples=(), *,
                   title: str = "", path=None) -> Figure:
    """Fractions of quench outcomes (grouped bars) and example lattices.

    Parameters
    ----------
    conditions : sequence of str
        One label per run condition (e.g. ``"metropolis L=32 Q=2.5"``).
    categories : sequence of str
        Outcome names (e.g. ``"m = +1"``, ``"m = -1"``, ``"stripes"``, ``"other"``).
    fractions, errors : array_like, shape (len(conditions), len(categories))
        Fraction of replicas in each outcome and its binomial standard error.
    examples : sequence of (str, ndarray of shape (L, L))
        Titled example lattices (spins +-1) drawn beside the bars.
    title : str
    path : str or path-like, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    fr, er = np.asarray(fractions, float), np.asarray(errors, float)
    k = len(examples)
    cols = (k + 1) // 2                       # examples: two rows to the right of the bars
    fig = Figure(figsize=(6.5 + 2.2 * cols, 4.6), layout="constrained")
    gs = fig.add_gridspec(2, 2 + cols, width_ratios=[1.4, 1.4] + [1.0] * cols)
    ax = fig.add_subplot(gs[:, :2])
    nc, ncat = fr.shape
    width = 0.8 / ncat
    x = np.arange(nc)
    for j, cat in enumerate(categories):
        ax.bar(x + (j - (ncat - 1) / 2) * width, fr[:, j], width, yerr=er[:, j], capsize=2,
               color=_color(j), label=cat)
    ax.set_xticks(x, conditions, rotation=25, ha="right", fontsize="small")
    ax.set_ylabel("fraction of replicas")
    ax.set_ylim(0, 1)
    ax.legend(fontsize="x-small", loc="upper right")
    for i, (name, spins) in enumerate(examples):
        axl = fig.add_subplot(gs[i % 2, 2 + i // 2])
        axl.imshow(np.asarray(spins), cmap=SPIN_CMAP, vmin=-1, vmax=1, interpolation="nearest")
        axl.set_title(name, fontsize="x-small")
        axl.set_xticks([])
        axl.set_yticks([])
    if title:
        fig.suptitle(title, fontsize="medium")
    return _finish(fig, path)


# ---------------------------------------------------------------------- population
def population_figure(mu, fraction, fraction_err, lines=(), *, dwell=None, dwell_lines=(),
                      xlabel: str = "mean quench depth mu (J)", title: str = "",
                      path=None) -> Figure:
    """Fraction of neurones firing against the mean input (and their mean spike count).

    Parameters
    ----------
    mu : array_like, shape (K,)
        Mean quench depth of each population (J).
    fraction, fraction_err : array_like, shape (K,)
        Fraction of neurones that fired and its binomial standard error.
    lines : sequence of (label, x, y) or (label, x, y, style)
        Curves over the fraction (error-function predictions and fits).
    dwell : tuple of 2 arrays, optional
        ``(mean, sem)`` of the spike count (sweeps) per population; drawn in a
        second panel.
    dwell_lines : sequence of (label, x, y) or (label, x, y, style)
        Curves over the mean spike count.
    xlabel, title : str
    path : str or path-like, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    n = 2 if dwell is not None else 1
    fig = Figure(figsize=(5.2 * n, 4.2), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, n))
    ax = axes[0]
    ax.errorbar(mu, fraction, yerr=fraction_err, fmt="o", ms=4, capsize=2, color="C0",
                label="lattice: fraction firing")
    for j, line in enumerate(lines):
        style = {"lw": 1.3, "color": f"C{j + 1}"}
        style.update(line[3] if len(line) > 3 else {})
        ax.plot(line[1], line[2], label=line[0], **style)
    ax.set_ylim(-0.03, 1.03)
    ax.set_ylabel("fraction of neurones firing")
    if dwell is not None:
        ax2 = axes[1]
        ax2.errorbar(mu, dwell[0], yerr=dwell[1], fmt="o", ms=4, capsize=2, color="C0",
                     label="lattice: mean dwell time")
        for j, line in enumerate(dwell_lines):
            style = {"lw": 1.3, "color": f"C{j + 1}"}
            style.update(line[3] if len(line) > 3 else {})
            ax2.plot(line[1], line[2], label=line[0], **style)
        ax2.set_ylabel("mean dwell time per neurone (sweeps)")
    for a, loc in zip(axes, ("lower right", "upper left")):   # where the curves are not
        a.set_xlabel(xlabel)
        a.legend(fontsize="x-small", loc=loc)
    if title:
        fig.suptitle(title, fontsize="medium")
    return _finish(fig, path)


# -------------------------------------------------------------- traces, membrane
def traces_figure(t, T, m_mean, labels, *, m_replicas=None, m_theory=None, Tc=ONSAGER_TC,
                  theta=None, title: str = "", path=None) -> Figure:
    """Bath temperature and magnetisation against time for a few quench depths.

    Parameters
    ----------
    t : array_like, shape (n,)
        Time (sweeps completed).
    T : array_like, shape (K, n)
        Bath temperature (J) of each of the K protocols.
    m_mean : array_like, shape (K, n)
        Mean magnetisation over replicas.
    labels : sequence of str, length K
    m_replicas : array_like, shape (K, R, n), optional
        Individual replicas, drawn thin.
    m_theory : array_like, shape (K, n), optional
        A theory curve per protocol (e.g. mean-field Glauber dynamics), dashed.
    Tc : float
        Drawn as a dashed line on the temperature panel (J).
    theta : float, optional
        Firing threshold on m, drawn as a dotted line.
    title : str
    path : str or path-like, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    t = np.asarray(t)
    T, mm = np.atleast_2d(T), np.atleast_2d(m_mean)
    fig = Figure(figsize=(8.0, 6.0), layout="constrained")
    ax_T, ax_m = fig.subplots(2, 1, sharex=True, height_ratios=[1, 1.6])
    for k, label in enumerate(labels):
        c = _color(k)
        ax_T.plot(t, T[k], color=c, lw=1.2, label=label)
        if m_replicas is not None:
            ax_m.plot(t, np.asarray(m_replicas[k]).T, color=c, lw=0.4, alpha=0.25)
        ax_m.plot(t, mm[k], color=c, lw=1.6, label=f"{label}: lattice mean")
        if m_theory is not None:
            ax_m.plot(t, np.asarray(m_theory)[k], color=c, lw=1.2, ls="--")
    ax_T.axhline(Tc, color="0.4", lw=0.8, ls="--", label=f"Tc = {Tc:.4g} J")
    ax_T.set_ylabel("bath temperature T (J)")
    ax_T.legend(fontsize="x-small", loc="lower right", ncol=2)
    if theta is not None:
        ax_m.axhline(theta, color="0.4", lw=0.8, ls=":", label=f"theta = {theta:g}")
    if m_theory is not None:
        ax_m.plot([], [], color="0.3", ls="--", label="mean-field Glauber dynamics")
    ax_m.set_ylim(-1.05, 1.05)
    ax_m.set_xlabel("time t (sweeps)")
    ax_m.set_ylabel("magnetisation m")
    ax_m.legend(fontsize="x-small", loc="lower right", ncol=2)
    if title:
        fig.suptitle(title, fontsize="medium")
    return _finish(fig, path)


def snapshots_figure(frames, frame_t, t, m, T, *, titles=None, Tc=ONSAGER_TC,
                     title: str = "", path=None) -> Figure:
    """Lattice snapshots of one membrane above its m(t) and T(t).

    Parameters
    ----------
    frames : array_like, shape (k, L, L)
        Spins (+-1) at the chosen times.
    frame_t : array_like, shape (k,)
        Sweeps completed at each frame.
    t, m, T : array_like, shape (n,)
        The membrane's record: time (sweeps), magnetisation and bath temperature (J).
    titles : sequence of str, optional
        One caption per frame (default: the time).
    Tc : float
        Drawn on the temperature axis (J).
    title : str
    path : str or path-like, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    frames = np.asarray(frames)
    k = frames.shape[0]
    fig = Figure(figsize=(max(8.0, 1.9 * k), 5.4), layout="constrained")
    gs = fig.add_gridspec(2, k, height_ratios=[1, 1.1])
    for i in range(k):
        ax = fig.add_subplot(gs[0, i])
        ax.imshow(frames[i], cmap=SPIN_CMAP, vmin=-1, vmax=1, interpolation="nearest")
        cap = titles[i] if titles is not None else ""
        ax.set_title(f"({chr(97 + i)}) t = {int(frame_t[i])}\n{cap}", fontsize="x-small")
        ax.set_xticks([])
        ax.set_yticks([])
    ax_m = fig.add_subplot(gs[1, :])
    ax_m.plot(t, m, color="C0", lw=1.2, label="m(t)")
    ax_m.set_ylim(-1.05, 1.05)
    ax_m.set_xlabel("time t (sweeps)")
    ax_m.set_ylabel("magnetisation m", color="C0")
    for i, tf in enumerate(frame_t):
        ax_m.axvline(tf, color="0.5", lw=0.6, ls=":")
        ax_m.text(tf, 1.0, chr(97 + i), fontsize="small", ha="center", va="bottom")
    ax_T = ax_m.twinx()
    ax_T.plot(t, T, color="C3", lw=1.0, label="T(t)")
    ax_T.axhline(Tc, color="C3", lw=0.6, ls="--")
    ax_T.set_ylabel("bath temperature T (J)", color="C3")
    if title:
        fig.suptitle(title, fontsize="medium")
    return _finish(fig, path)


def membrane_animation(frames, frame_t, t, m, T, path, *, fps: int = 12, dpi: int = 72,
                       Tc=ONSAGER_TC) -> Path:
    """A GIF of the membrane through a quench: lattice beside m(t) and T(t).

    Parameters
    ----------
    frames : array_like, shape (k, L, L)
        Spins (+-1) at times ``frame_t``.
    frame_t : array_like, shape (k,)
        Sweeps completed at each frame.
    t, m, T : array_like, shape (n,)
        Time (sweeps), magnetisation, bath temperature (J) of the same membrane.
    path : str or path-like
        Output ``.gif`` file.
    fps : int
        Frames per second.
    dpi : int
        Resolution (keep it small: the file grows with dpi**2 * k).
    Tc : float
        Drawn on the temperature axis (J).

    Returns
    -------
    Path
        The GIF written.
    """
    from matplotlib.animation import FuncAnimation, PillowWriter

    frames = np.asarray(frames)
    path = Path(path)
    fig = Figure(figsize=(7.0, 3.2), layout="constrained")
    ax_l, ax_m = fig.subplots(1, 2, width_ratios=[1, 1.5])
    im = ax_l.imshow(frames[0], cmap=SPIN_CMAP, vmin=-1, vmax=1, interpolation="nearest")
    ax_l.set_xticks([])
    ax_l.set_yticks([])
    ax_m.plot(t, m, color="C0", lw=1.0)
    ax_m.set_ylim(-1.05, 1.05)
    ax_m.set_xlabel("time t (sweeps)")
    ax_m.set_ylabel("m", color="C0")
    ax_T = ax_m.twinx()
    ax_T.plot(t, T, color="C3", lw=0.9)
    ax_T.axhline(Tc, color="C3", lw=0.5, ls="--")
    ax_T.set_ylabel("T (J)", color="C3")
    cursor = ax_m.axvline(frame_t[0], color="k", lw=0.8)
    title = ax_l.set_title(f"t = {int(frame_t[-1])} sweeps", fontsize="small")
    # lay the figure out once: re-running the constrained layout on every frame
    # would cost more than drawing it
    fig.draw_without_rendering()
    fig.set_layout_engine("none")

    def update(i):
        im.set_data(frames[i])
        cursor.set_xdata([frame_t[i], frame_t[i]])
        title.set_text(f"t = {int(frame_t[i])} sweeps")
        return im, cursor, title

    anim = FuncAnimation(fig, update, frames=len(frames), blit=False)
    anim.save(path, writer=PillowWriter(fps=fps), dpi=dpi)
    return path


# ------------------------------------------------------------- multi-panel studies
def _draw_panel(ax, p: dict) -> None:
    """Draw one panel dict of :func:`panels_figure` on ``ax``."""
    for i, entry in enumerate(p.get("data", [])):
        label, x, y, err = entry[:4]
        style = {"fmt": "o-", "ms": 3.5, "capsize": 2, "lw": 0.9, "color": _color(i)}
        style.update(entry[4] if len(entry) > 4 else {})
        x, y = np.asarray(x, float), np.asarray(y, float)
        e = None if err is None else np.asarray(err, float)
        if e is not None and e.ndim == 1:
            e = np.where(np.isfinite(e), e, 0.0)
        ax.errorbar(x, y, yerr=e, label=label, **style)
    for j, line in enumerate(p.get("lines", [])):
        label, x, y = line[:3]
        style = {"lw": 1.2, "color": f"C{(j + 3) % 10}"}
        style.update(line[3] if len(line) > 3 else {})
        ax.plot(x, y, label=label, **style)
    for j, pts in enumerate(p.get("points", [])):
        label, x, y = pts[:3]
        style = {"marker": "o", "s": 36, "color": _color(j)}
        style.update(pts[3] if len(pts) > 3 else {})
        ax.scatter(x, y, label=label, **style)
    for x, y, text in p.get("texts", []):
        ax.annotate(text, (x, y), fontsize="xx-small", ha="center", va="bottom",
                    textcoords="offset points", xytext=(0, 4))
    for v in p.get("hlines", []):
        ax.axhline(v, color="0.6", lw=0.6, ls=":")
    for v in p.get("vlines", []):
        ax.axvline(v, color="0.6", lw=0.6, ls=":")
    ax.set_xscale(p.get("xscale", "linear"))
    ax.set_yscale(p.get("yscale", "linear"))
    for key, axis in (("xticks", ax.xaxis), ("yticks", ax.yaxis)):
        if p.get(key) is not None:          # plain numbers as tick labels (log axes too)
            ticks = list(p[key])
            axis.set_ticks(ticks, [f"{v:g}" for v in ticks])
            axis.set_minor_formatter(NullFormatter())
    if p.get("xlim") is not None:
        ax.set_xlim(*p["xlim"])
    if p.get("ylim") is not None:
        ax.set_ylim(*p["ylim"])
    ax.set_xlabel(p.get("xlabel", ""))
    ax.set_ylabel(p.get("ylabel", ""))
    if p.get("title"):
        ax.set_title(p["title"], fontsize="small")
    if p.get("legend", "best") and ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize="xx-small", loc=p.get("legend", "best"),
                  ncol=p.get("legend_ncol", 1))


def panels_figure(panels, *, ncols: int = 2, title: str = "", panel_size=(5.0, 4.0),
                  path=None) -> Figure:
    """A grid of panels, each drawn from plain arrays.

    Parameters
    ----------
    panels : sequence of dict
        One dict per panel, with optional keys ``data`` (list of ``(label, x, y, err)``
        or ``(label, x, y, err, style)``: points with error bars, ``err`` None, an
        array or a (2, n) array; ``style`` a dict of ``errorbar`` keywords), ``lines``
        (list of ``(label, x, y)`` or ``(label, x, y, style)``, line keywords),
        ``points`` (list of ``(label, x, y)`` or ``(label, x, y, style)``, scatter
        keywords: categories of a map), ``texts`` (list of ``(x, y, text)``),
        ``xticks`` / ``yticks`` (tick values, labelled as plain numbers),
        ``hlines`` / ``vlines`` (dotted guides), ``xscale`` / ``yscale``
        ("linear", "log"), ``xlim`` / ``ylim``, ``xlabel`` / ``ylabel`` (with units),
        ``title``, ``legend`` (a matplotlib location, or None for none) and
        ``legend_ncol``.
    ncols : int
        Panels per row.
    title : str
    panel_size : tuple
        Inches per panel (width, height).
    path : str or path-like, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    n = len(panels)
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    fig = Figure(figsize=(panel_size[0] * ncols, panel_size[1] * nrows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols)).ravel()
    for ax, p in zip(axes, panels):
        _draw_panel(ax, p)
    for ax in axes[n:]:
        ax.set_visible(False)
    if title:
        fig.suptitle(title, fontsize="medium")
    return _finish(fig, path)


def category_panel(x, y, categories, styles: dict, *, lines=(), texts=(), **keys) -> dict:
    """A panel dict for :func:`panels_figure` that maps points to categories.

    Parameters
    ----------
    x, y : array_like, shape (n,)
        Positions of the points.
    categories : sequence of str, length n
        Category of each point.
    styles : dict
        ``category -> scatter keywords`` (colour, marker); their order is the
        legend's. Categories without a style are drawn grey.
    lines, texts : sequence
        As in :func:`panels_figure`.
    **keys
        Other panel keys (``xscale``, ``xlabel``, ``title``, ...).

    Returns
    -------
    dict
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    cats = np.asarray(list(categories), dtype=object)
    pts = []
    for c in list(styles) + sorted(set(cats.tolist()) - set(styles)):
        sel = cats == c
        if sel.any():
            st = dict(styles.get(c, {"color": "0.6", "marker": "o"}), s=60)
            if st.get("marker") not in ("x", "+", "1", "2", "3", "4", "|", "_"):
                st.update(edgecolors="k", linewidths=0.4)     # filled markers only
            pts.append((f"{c} ({int(sel.sum())})", x[sel], y[sel], st))
    return {"points": pts, "lines": list(lines), "texts": list(texts), **keys}
