"""The Markdown report, ``network.md``, written from a finished run's results.

:func:`_report` writes it section by section (each a function returning its
lines): the setup, the headline table, the calibrations, all runs, the goal
and why it is (not) met, the confusion matrices. It only reads a
:class:`~isingneuron.network.result.NetworkResult`; it runs nothing.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from .population import _TAIL_MARGIN
from .result import NetworkResult


def _pm(v, e, d=1, scale=100.0) -> str:
    """``v ± e`` in percent (``scale``), ``d`` decimals; "-" for a missing value."""
    if v is None:
        return "-"
    return f"{scale * v:.{d}f} ± {scale * e:.{d}f}" if e is not None and math.isfinite(e) \
        else f"{scale * v:.{d}f}"


def _intro(res: NetworkResult, cfg, which, rate0, quick) -> list[str]:
    """The title and the setup: data, networks, lattice neurone, mapping."""
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
    return lines


def _headline_table(res: NetworkResult, cfg, which, L0, rate0, k0) -> list[str]:
    """Accuracies of every kind of network and whether the goal is met."""
    s = res.summary
    lat = cfg["lattice"]
    lines = []
    w = lines.append
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
    return lines


def _calibration_table(res: NetworkResult) -> list[str]:
    """The fitted rectifiers, knee, noise and delay of every calibration."""
    lines = []
    w = lines.append
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
    return lines


def _runs_table(res: NetworkResult) -> list[str]:
    """One line per run (network, units, L, rate, trials)."""
    lines = []
    w = lines.append
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
    return lines


def _goal_section(res: NetworkResult, which, L0, rate0, k0) -> list[str]:
    """The goal, network by network, with the hidden and output errors."""
    s = res.summary
    lines = []
    w = lines.append
    w("## Goal and why\n")
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
    return lines


def _why_section(res: NetworkResult, cfg, which, L0, rate0, k0) -> list[str]:
    """Why, in numbers: ordering delay, noise, knee; and how depth compounds the error."""
    lat = cfg["lattice"]
    lines = []
    w = lines.append
    cal = res.calibrations[f"lattice L={L0} {lat['dynamics']} r={rate0:g}"].summary()
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
    return lines


def _scan_section(res: NetworkResult, which, L0, rate0) -> list[str]:
    """The lattice runs that meet the goal's numbers, and the trial scan."""
    lines = []
    w = lines.append
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
    return lines


def _confusion_section(res: NetworkResult, which, L0) -> list[str]:
    """Confusion matrices of the ReLU and lattice networks, and the list of files."""
    s = res.summary
    lines = []
    w = lines.append
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
    return lines


def _report(res: NetworkResult, cfg, out: Path, which, L0, rate0, k0, quick) -> Path:
    """Write ``network.md`` into ``out`` and return its path."""
    lines = (_intro(res, cfg, which, rate0, quick)
             + _headline_table(res, cfg, which, L0, rate0, k0)
             + _calibration_table(res)
             + _runs_table(res)
             + _goal_section(res, which, L0, rate0, k0)
             + _why_section(res, cfg, which, L0, rate0, k0)
             + _scan_section(res, which, L0, rate0)
             + _confusion_section(res, which, L0))
    p = out / "network.md"
    p.write_text("\n".join(lines))
    return p
