"""The numbers of a run as tables: ``params.csv`` / ``params.json`` (every fitted
or measured number with its error, beside the paper's value) and ``results.json``."""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path

import numpy as np

from .. import exact, meanfield
from .._version import __version__
from ..schedules import ONSAGER_TC
from ._common import KINETICS_MEASURED, PAPER, THETA, _jsonable, _outdir
from .report_studies import study_rows

__all__ = ["parameter_table", "write_tables"]


def parameter_table(results: dict) -> list[dict]:
    """Every fitted or measured number with its error, beside the paper's value.

    Parameters
    ----------
    results : dict
        Experiment name -> result (as returned by :func:`run_all`; any subset).

    Returns
    -------
    list of dict
        Rows with keys ``experiment, quantity, value, error, unit, paper, note``.
    """
    rows = []

    def add(exp, q, v, e=None, unit="", paper="", note=""):
        rows.append({"experiment": exp, "quantity": q, "value": _jsonable(v),
                     "error": _jsonable(e), "unit": unit, "paper": paper, "note": note})

    add("theory", "Tc mean field", meanfield.TC_MEANFIELD, None, "J", "Tc = zJ", "")
    add("theory", "Tc exact (Onsager)", ONSAGER_TC, None, "J", "", "2 / ln(1 + sqrt 2)")
    add("theory", "m exponent beta mean field / exact", "1/2 vs 1/8", None, "", "", "")
    add("theory", "T_theta exact, m(T_theta) = 0.9", exact.temperature_at_magnetisation(THETA),
        None, "J", "", "Onsager-Yang")
    mag = results.get("magnetisation")
    if mag is not None:
        for k, v in mag.summary().items():
            add("fig1", f"max |MC - exact| / sigma for T <= 0.9 Tc, {k}",
                v["max_abs_deviation_sigma_below_0.9Tc"], None, "sigma", "", "Wolff, periodic")
            add("fig1", f"<|m|> at T = {v['T_near_Tc']:g} J, {k}", v["abs_m_near_Tc"],
                v["abs_m_near_Tc_err"], "", "", f"exact {v['exact_near_Tc']:.3f}: finite size")
    eq = results.get("eq2")
    if eq is not None:
        for name, f in eq.fits.items():
            if f is None:
                continue
            for p in ("a", "Tc"):
                if name == "meanfield_Tc=1" and p == "Tc":
                    continue
                add("fig2", f"eq. (2) {p}, fit to {name}", f["params"][p], f["errors"][p],
                    "1/(T/Tc)" if p == "a" else "T/Tc", str(PAPER[p]),
                    f"reduced chi2 {f['reduced_chi2']:.3g}" if f.get("reduced_chi2") is not None
                    else "")
        add("fig2", "RMS(eq. (2) a=6 Tc=1 - mean field)", eq.rms_paper, None, "m", "",
            "0 < T/Tc <= 2")
    actr = results.get("activation")
    if actr is not None:
        for lab, c in actr.curves.items():
            kin = (f"{c.update or 'update order not recorded'}"
                   + (" (artefact: checkerboard Metropolis)" if c.artefact else ""))
            k = int(np.argmax(c.depths))
            add("fig3", f"fraction fired at Q = {c.depths[k]:g} J, {lab}", c.fraction[k], None,
                "", "", kin)
            add("fig3", f"dwell at Q = {c.depths[k]:g} J, {lab}", c.dwell[k], c.dwell_sem[k],
                "sweeps", "", kin)
            add("fig3", f"ordering delay at Q = {c.depths[k]:g} J, {lab}", c.onset[k],
                c.onset_sem[k], "sweeps", "0 (instantaneous)", kin + "; trials that fired")
            d = c.deep.get("dwell")
            if d:
                add("fig3", f"deep-quench slope of dwell time, {lab}", d["slope"], d["slope_err"],
                    "sweeps/J", "1/r", f"1/r = {1 / c.rate:g}; Q >= {c.deep['Q_min']:.2f} J; "
                    + kin)
            e = c.deep.get("end")
            if e:
                add("fig3", f"deep-quench slope of spike end time, {lab}", e["slope"],
                    e["slope_err"], "sweeps/J", "1/r", f"1/r = {1 / c.rate:g}; {kin}")
            for name in ("dwell_relu", "dwell_softplus", "area_relu"):
                f = c.fits.get(name)
                if f:
                    add("fig3", f"{name} slope, {lab}", f["params"]["slope"], f["errors"]["slope"],
                        "sweeps/J", "1/r", f"reduced chi2 {f['reduced_chi2']:.3g}; {kin}")
                    add("fig3", f"{name} threshold, {lab}", f["params"]["threshold"],
                        f["errors"]["threshold"], "J", "",
                        f"quasi-static {c.theory.get('Q_theta', float('nan')):.3f}; {kin}")
            f = c.fits.get("dwell_spike_count_tanh")
            if f:
                p, e_ = f["params"], f["errors"]
                add("fig3", f"paper's S(Q) form: slope amplitude/width, {lab}",
                    p["amplitude"] / p["width"], None, "sweeps/J", "1/r",
                    f"width {p['width']:.3g} +- {e_['width']:.2g} J, shift {p['shift']:.3g} J, "
                    f"reduced chi2 {f['reduced_chi2']:.3g}; {kin}")
    per = results.get("periodic")
    if per is not None:
        for i, cond in enumerate(per.conditions):
            for j, cat in enumerate(per.categories):
                add("fig4", f"fraction {cat}, {cond}", per.fractions[i, j], per.errors[i, j], "",
                    "m = +1 always (paper)", f"{per.replicas} replicas; {per.update}")
    pop = results.get("population")
    if pop is not None:
        add("fig5", "Q* quasi-static exact", pop.Q_star_exact, None, "J", "", "bath - T_theta")
        add("fig5", "Q* erf fit", pop.erf_fit["threshold"], pop.erf_fit["threshold_err"], "J",
            "", f"{pop.dynamics}, {pop.update}, L = {pop.L}")
        add("fig5", "width erf fit", pop.erf_fit["width"], pop.erf_fit["width_err"], "J", "",
            f"sigma of inputs {pop.sigma:g}")
        add("fig5", "erf fit chi2/dof", pop.erf_fit["chi2"] / max(pop.erf_fit["dof"], 1), None,
            "", "", f"p = {pop.erf_fit['pvalue']}")
        add("fig5", "per-neurone threshold q0 (probit)", pop.probit["threshold"],
            pop.probit["threshold_err"], "J")
        add("fig5", "per-neurone width w (probit)", pop.probit["width"],
            pop.probit["width_err"], "J")
    study_rows(results, add)
    return rows


def write_tables(rows: list[dict], outdir) -> list[Path]:
    """Write ``params.csv`` and ``params.json`` (rows of :func:`parameter_table`)."""
    outdir = _outdir(outdir)
    p_csv, p_json = outdir / "params.csv", outdir / "params.json"
    keys = ["experiment", "quantity", "value", "error", "unit", "paper", "note"]
    with open(p_csv, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=keys)
        w.writeheader()
        for r in rows:
            w.writerow({k: ("" if r[k] is None else r[k]) for k in keys})
    p_json.write_text(json.dumps(_jsonable(rows), indent=1))
    return [p_csv, p_json]


def _results_json(results: dict) -> dict:
    out = {"package_version": __version__}
    if "magnetisation" in results:
        m = results["magnetisation"]
        out["magnetisation"] = {"L": m.L, "T": m.T, "abs_m": m.abs_m, "abs_m_err": m.abs_m_err,
                                "deviation_sigma": m.deviation, "summary": m.summary(),
                                "warnings": m.warnings}
    if "eq2" in results:
        out["eq2"] = {"fits": results["eq2"].fits, "rms_paper": results["eq2"].rms_paper}
    if "activation" in results:
        a = results["activation"]
        out["activation"] = {"source": a.source, "reference": a.reference, "curves": {
            k: {f: getattr(c, f) for f in ("dynamics", "update", "artefact", "L", "boundary",
                                           "bath", "rate", "at", "theta", "depths", "replicas",
                                           "baseline", "dwell", "dwell_sem", "area", "area_sem",
                                           "fraction", "onset", "onset_sem", "end", "end_sem",
                                           "fits", "deep")}
            for k, c in a.curves.items()}, "pitfall": a.pitfall,
            "kinetics_measured": KINETICS_MEASURED}
    if "periodic" in results:
        p = results["periodic"]
        out["periodic"] = {"dynamics": p.dynamics, "update": p.update,
                           "conditions": p.conditions, "categories": p.categories,
                           "counts": p.counts, "fractions": p.fractions, "errors": p.errors,
                           "replicas": p.replicas, "t_classify": p.t_classify,
                           "fired_signed": p.fired_signed, "fired_abs": p.fired_abs}
    if "population" in results:
        p = results["population"]
        out["population"] = {"dynamics": p.dynamics, "update": p.update,
                             "mu": p.mu, "sigma": p.sigma, "n": p.n, "L": p.L,
                             "fraction": p.fraction, "fraction_err": p.fraction_err,
                             "Q_star_exact": p.Q_star_exact, "erf_fit": p.erf_fit,
                             "probit": p.probit, "mean_dwell": p.dwell.mean(axis=1)}
    if "membrane" in results:
        p = results["membrane"]
        out["membrane"] = {"dynamics": p.dynamics, "update": p.update, "depths": p.depths,
                           "fraction_fired_and_mean_dwell": p.summary()}
    for name in ("relu_regime", "spike_trains", "sparse_codes", "criticality"):
        r = results.get(name)
        if r is not None:      # every field of the study's dataclass but its figure files
            out[name] = {f.name: getattr(r, f.name) for f in dataclasses.fields(r)
                         if f.name != "figure"}
    return _jsonable(out)
