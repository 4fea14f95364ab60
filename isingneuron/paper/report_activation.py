"""The report's sections on Figure 3 (the activation function) and on the pitfall
of checkerboard Metropolis; :func:`isingneuron.paper.write_report` calls them.

Every function writes markdown lines through ``w`` (``list.append`` of the report).
"""

from __future__ import annotations

import numpy as np

from ..schedules import ONSAGER_TC
from ._common import KINETICS_MEASURED, PAPER, _pm
from .fig_activation import ActivationResult


def _kinetics_words(curves) -> str:
    """E.g. "metropolis and glauber, random-sequential updates" for a list of curves/results."""
    dyn = list(dict.fromkeys(c.dynamics for c in curves))
    upd = list(dict.fromkeys((c.update or "update order not recorded") for c in curves))
    return (" and ".join(dyn) + ", " + " / ".join(u.replace("_", "-") for u in upd)
            + " updates")


def _ordering_coefficients() -> str:
    """Ordering time / L**2 of the physical rules (mean over the two largest L measured)."""
    Ls = np.asarray(KINETICS_MEASURED["L"], float)
    out = []
    for row in KINETICS_MEASURED["rows"]:
        if row["update"] != "random_sequential":
            continue
        c = float(np.mean(np.asarray(row["ordering"])[-2:] / Ls[-2:] ** 2))
        out.append(f"{c:.2f} L^2 ({row['dynamics'].capitalize()})")
    return " to ".join(out)


def activation_section(actr: ActivationResult, w) -> None:
    """The section on Figure 3, followed by the pitfall section."""
    ref = actr.curves[actr.reference]
    th = ref.theory
    phys = [c for c in actr.curves.values() if not c.artefact]
    w("## The activation function: spike count against quench depth (Figure 3)\n")
    w(f"Membrane at rest at T = {ref.bath:g} J (+ border, h = 0), quench Q at sweep "
      f"{ref.at:g}, reheating {ref.rate:g} J/sweep (1/r = {1 / ref.rate:g} sweeps per J), "
      f"spike count = sweeps with m >= {ref.theta:g}. Source: {actr.source}. "
      f"Kinetics: {_kinetics_words(phys)}"
      + (" (and checkerboard Metropolis as the pitfall below)"
         if len(phys) < len(actr.curves) else "") + ".\n")
    if th:
        w(f"- Threshold: the exact m(T) reaches {ref.theta:g} at T_theta = "
          f"{th['T_theta_exact']:.3f} J, so depths below Q_theta = {th['Q_theta']:.3f} J "
          "give no "
          f"spike quasi-statically. Mean field in reduced units puts T_theta at "
          f"{th['T_theta_meanfield']:.3f} J "
          f"(threshold {ref.bath - th['T_theta_meanfield']:.3f} J), "
          f"eq. (2) with a = 6 at {th['T_theta_paper']:.3f} J.")
    w("- Paper: ReLU-like for deep quenches with slope 1/r. Lattice: straight lines through "
      f"the deep quenches Q >= {ref.deep.get('Q_min', float('nan')):.2f} J (Q_theta + "
      "margin), ReLU and softplus fits over all depths, and at the deepest quench "
      "the fraction of trials that fired and their ordering delay (sweeps from the quench "
      "to the first m >= theta):")
    w("")
    _slope_table(actr, w)
    _slope_words(ref, phys, w)
    if th:
        _deepest_quench_words(ref, phys, w)
    _fit_words(ref, w)
    _pitfall_section(actr, w)


def _slope_table(actr: ActivationResult, w) -> None:
    """One row per curve: deep-quench slopes, ReLU fit, fraction fired and delay."""
    w("| curve | update order | dwell slope (sweeps/J) | spike-end slope | onset-delay slope "
      "| ReLU fit slope | ReLU threshold (J) | softplus chi2/dof | fired at Q_max "
      "| ordering delay at Q_max |")
    w("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for lab, c in actr.curves.items():
        d, e, o = c.deep.get("dwell"), c.deep.get("end"), c.deep.get("onset")
        fr, fs = c.fits.get("dwell_relu"), c.fits.get("dwell_softplus")
        k = int(np.argmax(c.depths))
        w(f"| {lab}{' (artefact)' if c.artefact else ''} | {c.update or 'not recorded'} | "
          f"{_pm(d['slope'], d['slope_err']) if d else '-'} | "
          f"{_pm(e['slope'], e['slope_err']) if e else '-'} | "
          f"{_pm(o['slope'], o['slope_err']) if o else '-'} | "
          f"{_pm(fr['params']['slope'], fr['errors']['slope']) if fr else '-'} | "
          f"{_pm(fr['params']['threshold'], fr['errors']['threshold']) if fr else '-'} | "
          + (f"{fs['reduced_chi2']:.3g}" if fs else "-")
          + f" | {c.fraction[k]:.2f} | "
          + (_pm(c.onset[k], c.onset_sem[k]) if np.isfinite(c.onset[k]) else "-") + " |")
    w("")


def _slope_words(ref, phys, w) -> None:
    """What the slopes say: 1/r from the spike's end, the dwell slope less the delay."""
    ends = [c.deep["end"] for c in phys if c.deep.get("end")]
    w(f"  Expected slope 1/r = {1 / ref.rate:g} sweeps/J. Where the membrane fires, the spike "
      "*ends* when the reheating membrane melts near T_theta whatever the depth, so the "
      "end-time slope measures 1/r directly"
      + (f" (measured {min(x['slope'] for x in ends):.0f} to "
         f"{max(x['slope'] for x in ends):.0f} sweeps/J with physical kinetics)"
         if ends else "")
      + "; the dwell slope is 1/r minus the slope of the ordering delay (the time the "
      "lattice needs to order after the quench, by coarsening from the + border; its slope "
      "is the onset-delay column: negative where deeper, colder quenches order faster).")
    rare = [c.label for c in phys if c.fraction[int(np.argmax(c.depths))] < 0.5]
    if rare:
        w(f"  For {', '.join(rare)} most trials never order inside the cold window even at the "
          "deepest quench: the straight lines and fits there describe the few trials that "
          "did, and the dwell is not the paper's ReLU.")


def _deepest_quench_words(ref, phys, w) -> None:
    """Ordering delay against the cold window; lattice and theories at the deepest quench."""
    th = ref.theory
    k = int(np.argmax(ref.depths))
    window = (ref.depths[k] - th["Q_theta"]) / ref.rate
    w(f"- Ordering against the cold window: at the deepest quench Q = {ref.depths[k]:g} J "
      f"the bath stays below T_theta for (Q - Q_theta)/r = {window:.0f} sweeps. With "
      "physical kinetics a + bordered membrane needs ~"
      + _ordering_coefficients() + " sweeps to order after a deep quench (to T = 1 J; "
      "table in the pitfall section), so the ordering delay grows like L^2 while the "
      "window does not depend on L. Measured (fraction of trials that fired at Q_max, "
      "mean delay of those that did): "
      + "; ".join(f"{c.label} {c.fraction[int(np.argmax(c.depths))]:.2f}, "
                  + (f"{c.onset[int(np.argmax(c.depths))]:.0f}"
                     if np.isfinite(c.onset[int(np.argmax(c.depths))]) else "-")
                  for c in phys) + " sweeps.")
    qk = ref.depths[k]
    w(f"- At the deepest quench Q = {qk:g} J ({ref.label}, the curve the fits of panel (b) "
      "are drawn for: Metropolis, physical kinetics, the largest L at which at least "
      "half the trials fire there): lattice dwell "
      f"{_pm(ref.dwell[k], ref.dwell_sem[k])} sweeps; quasi-static exact "
      f"{float(np.interp(qk, th['Q'], th['quasi_static_dwell'])):.1f}; mean-field Glauber "
      f"dynamics {float(np.interp(qk, th['Q'], th['meanfield_dwell'])):.1f}; "
      "eq. (2) as m(T) "
      f"{float(np.interp(qk, th['Q'], th['paper_dwell'])):.1f}. Area under "
      f"(m - m_rest) / (1 - m_rest): "
      f"lattice {_pm(ref.area[k], ref.area_sem[k])}, quasi-static exact "
      f"{float(np.interp(qk, th['Q'], th['quasi_static_area'])):.1f}, paper's S(Q) "
      f"{float(np.interp(qk, th['Q'], th['paper_area'])):.1f}, mean field "
      f"{float(np.interp(qk, th['Q'], th['meanfield_area'])):.1f} sweeps.")


def _fit_words(ref, w) -> None:
    """The paper's S(Q) form and the ReLU fitted to the reference curve; the resting level."""
    fst = ref.fits.get("dwell_spike_count_tanh")
    frl = ref.fits.get("dwell_relu")
    if fst:
        p, e_ = fst["params"], fst["errors"]
        w(f"- The paper's S(Q) = Q + 1/2 ln(1 + e^-2Q) - 1/2 ln 2, given a free amplitude, "
          f"width and shift, fits {ref.label} with slope {p['amplitude'] / p['width']:.0f} "
          f"sweeps/J, knee width {_pm(p['width'], e_['width'])} J (the paper's eq. (2) in "
          f"these units: Tc/a = {ONSAGER_TC / PAPER['a']:.3f} J) and reduced chi2 "
          f"{fst['reduced_chi2']:.3g}"
          + (" (the knee width goes to 0: the data want a sharper knee than S(Q) has, and "
             "the fit degenerates towards a ReLU)" if p["width"] < 1e-3 else "")
          + ("; the ReLU fit has slope "
             f"{_pm(frl['params']['slope'], frl['errors']['slope'])} sweeps/J, threshold "
             f"{_pm(frl['params']['threshold'], frl['errors']['threshold'])} J and reduced "
             f"chi2 {frl['reduced_chi2']:.3g}" if frl else "")
          + ". Its knee is set by the exact m(T), finite size and the ordering delay, not by "
          "eq. (2).")
    w(f"- Resting level: the + border leaves m_rest = {ref.baseline:.3f} at T = {ref.bath:g} J "
      f"(L = {ref.L}); it shrinks like 1/L. The area is measured above it.")
    w("")


def _pitfall_section(actr: ActivationResult, w) -> None:
    """The report's section on checkerboard Metropolis (the literature table always; the
    transfer-curve comparison when the experiment ran it)."""
    w("## Pitfall: checkerboard Metropolis\n")
    w("Checkerboard Metropolis samples the right equilibrium (it is a valid sampler for "
      "Figure 1) but its kinetics are an artefact: it accepts zero-energy flips with "
      "probability 1 and updates a whole sublattice at once, so the corner sites of a diagonal "
      "domain wall flip together and the wall moves ballistically. A spike is a kinetic "
      "quantity, so the experiments here simulate with random-sequential updates unless asked "
      "otherwise (N random site picks per sweep: the kinetics of Glauber's master equation; "
      "the Kinetics table above lists what each used). Earlier versions of this "
      "reproduction ran even sizes with checkerboard Metropolis; their large-L transfer curves "
      "were this artefact.\n")
    Ls = KINETICS_MEASURED["L"]
    w("Ordering time: median sweeps to reach m >= 0.9 after a quench from rest to T = 1.0 J with "
      "a + border (64 replicas), with the exponent of its growth with L (physical: 2); the "
      "coarsening exponent of the excess energy after a quench from a random start to T = 1 J "
      "(L = 512; physical: -1/2); and the fraction of zero-temperature quenches (L = 32, 2000 "
      "replicas) that freeze in straight stripes (literature: 0.339). Measured with this "
      "engine by the checks of `tests/test_kinetics_literature.py`, which assert these laws for "
      "the three physical rules and their failure for checkerboard Metropolis:\n")
    w("| rule | update order | " + " | ".join(f"L = {L}" for L in Ls)
      + " | exponent | coarsening exponent | stripe fraction |")
    w("| --- | --- | " + "--- | " * len(Ls) + "--- | --- | --- |")
    for row in KINETICS_MEASURED["rows"]:
        art = row["dynamics"] == "metropolis" and row["update"] == "checkerboard"
        w(f"| {row['dynamics']} | {row['update'].replace('_', '-')} | "
          + " | ".join(f"{v:g}" for v in row["ordering"])
          + f" | {row['exponent'][0]:.2f} +- {row['exponent'][1]:.2f}"
          + (" (ballistic)" if art else "")
          + f" | {row['coarsening'][0]:.3f} +- {row['coarsening'][1]:.3f}"
          + (" (t in [20, 150])" if art else "") + f" | {row['stripes']:.3f}"
          + (" (a third never freeze)" if art else "") + " |")
    w("")
    if not actr.pitfall:
        w("(The activation experiment did not run checkerboard Metropolis this time.)\n")
        return
    for pf in actr.pitfall:
        _pitfall_table(pf, w)
        _pitfall_words(actr, pf, w)


def _pitfall_table(pf: dict, w) -> None:
    """Random-sequential against checkerboard Metropolis at one L, as a table."""
    rs, cb = pf["random_sequential"], pf["checkerboard"]

    def cell(d, k):
        v, e = d.get(k), d.get(k + "_err")
        if v is None or not np.isfinite(v):
            return "-"
        return _pm(v, e) if e is not None else f"{v:.2f}"
    w(f"The transfer curve at L = {pf['L']} (Metropolis, same protocol, seeds and analysis; "
      "only the update order differs):\n")
    w("| update order | ReLU slope (sweeps/J) | ReLU threshold (J) | deep dwell slope | "
      "deep spike-end slope | deep onset-delay slope | dwell at Q_max | "
      "ordering delay at Q_max | fired at Q_max |")
    w("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, d in (("random-sequential (physical)", rs),
                    ("checkerboard (artefact)", cb)):
        w(f"| {name} | {cell(d, 'relu_slope')} | {cell(d, 'relu_threshold')} | "
          f"{cell(d, 'deep_dwell_slope')} | {cell(d, 'deep_end_slope')} | "
          f"{cell(d, 'deep_onset_slope')} | {cell(d, 'dwell_at_Q_max')} | "
          f"{cell(d, 'onset_at_Q_max')} | {d['fraction_at_Q_max']:.2f} |")
    w("")


def _pitfall_words(actr: ActivationResult, pf: dict, w) -> None:
    """Random-sequential against checkerboard Metropolis at one L, in words."""
    rs, cb = pf["random_sequential"], pf["checkerboard"]
    q = rs["Q_max"]
    parts = []
    if rs["dwell_at_Q_max"] > 0:
        parts.append(f"at Q = {q:g} J checkerboard Metropolis dwells "
                     f"{cb['dwell_at_Q_max'] / rs['dwell_at_Q_max']:.1f} times as long as "
                     "random-sequential Metropolis")
    else:
        parts.append(f"at Q = {q:g} J random-sequential Metropolis never fires while "
                     f"checkerboard Metropolis dwells {cb['dwell_at_Q_max']:.0f} sweeps")
    if np.isfinite(rs["onset_at_Q_max"]) and np.isfinite(cb["onset_at_Q_max"]):
        parts.append(f"it orders after {cb['onset_at_Q_max']:.0f} sweeps instead of "
                     f"{rs['onset_at_Q_max']:.0f}")
    if rs["relu_threshold"] is not None and cb["relu_threshold"] is not None:
        parts.append(f"the fitted ReLU threshold moves from {rs['relu_threshold']:.2f} J to "
                     f"{cb['relu_threshold']:.2f} J (quasi-static exact: "
                     f"{actr.curves[cb['label']].theory.get('Q_theta', float('nan')):.2f} J)")
    if rs["deep_dwell_slope"] is not None and cb["deep_dwell_slope"] is not None:
        parts.append(f"and the deep-quench dwell slope from {rs['deep_dwell_slope']:.0f} to "
                     f"{cb['deep_dwell_slope']:.0f} sweeps/J (1/r = "
                     f"{1 / actr.curves[cb['label']].rate:g})")
    rate = actr.curves[cb["label"]].rate

    def like(d):
        k = d["deep_dwell_slope"]
        return k is not None and abs(k * rate - 1) < 0.15
    w("- " + "; ".join(parts) + ". "
      + ("The checkerboard curve has the paper's deep-quench slope ~1/r and the physical one "
         "does not. " if like(cb) and not like(rs) else "")
      + "The difference is kinetic (the equilibrium is the same): checkerboard walls sweep "
      "the lattice in ~L sweeps, physical walls need ~L^2, so the gap grows with L.\n")
