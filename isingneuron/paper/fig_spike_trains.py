"""Figure 9: spike trains and rates. Quench trains at input frequency f and depth Q:
output rate against input rate and depth (f-I curves), the refractory interval
and adaptation, lattice against mean-field dynamics.

A train is a :class:`isingneuron.schedules.QuenchTrain`: ``n_inputs`` quenches of
depth Q every ``period`` sweeps. Where a new input arrives before the membrane
has reheated, the temperature is the *minimum* of the individual quench curves
(deficits do not add). Output spikes are hysteresis events
(:func:`isingneuron.spikes.spike_table`): on at ``m >= theta_on``, off at
``m < theta_off``, so a second spike needs the membrane to have (partly)
disordered in between. Each spike is assigned to the latest input at or before
its start (:func:`measures.spikes_per_input`).

* **f-I curves**: the steady output rate (spikes per 1000 sweeps starting in the
  windows of inputs 2 ... n, one period each: the first input, which finds the
  membrane at rest, is left out) against input rate 1000 / period, for each
  depth; and against depth for each period. (The rate over all n windows is kept
  too: a train whose spikes merge still gives its one first spike there.)
* **Refractory interval**: two inputs ``spacing`` sweeps apart; the shortest
  spacing at which half the trials spike twice (:func:`measures.refractory_interval`,
  bootstrap error), beside the quasi-static estimate ``(Q - bath + T_off) / r``
  (the time for the bath to warm past ``T_off``, where the exact m(T) falls to
  ``theta_off``) and the mean field's.
* **Adaptation**: duration and latency of the spike of input k along the
  train; the adaptation index ``1 - duration_last / duration_first``
  (> 0: adaptation, < 0: facilitation).

Mean-field Glauber dynamics (Tc = Onsager's, ``m0`` the default seed) runs under
the same temperature protocols and is analysed by the same code.

The runs are made here (``source=None``) or read from the HDF5 files of
``configs/studies/spike_trains.yaml`` (trains) and
``configs/studies/spike_trains_refractory.yaml`` (input pairs).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .. import exact, plots, spikes
from ..schedules import ONSAGER_TC, QuenchTrain
from ..simulation import Simulation
from . import measures
from ._common import AT, BATH, RATE, UPDATE, _bar, _outdir, _pm, _sem, _seed
from ._meanfield_fast import glauber_sweeps
from ._study_io import describe_source, iter_points, schedule_of, unit_scale

__all__ = ["SpikeTrainResult", "spike_trains"]


@dataclass
class SpikeTrainResult:
    """Spike trains and rates (Figure 9).

    Attributes
    ----------
    L : int
    dynamics, update : str
    bath, rate, at : float
        Protocol: J, J per sweep, sweep of the first input.
    theta_on, theta_off : float
        Hysteresis thresholds of the spike detector.
    n_inputs : int
        Inputs per train.
    depths : ndarray, shape (D,)
    periods : ndarray, shape (P,)
        Input spacing (sweeps); ``input_rate = 1000 / periods`` (per 1000 sweeps).
    out_rate, out_rate_err : ndarray, shape (D, P)
        Steady output rate: spikes per 1000 sweeps starting in the windows of
        inputs 2 ... n (mean, standard error over replicas).
    out_rate_all, out_rate_all_err : ndarray, shape (D, P)
        Spikes per 1000 sweeps over all n input windows.
    transmission, transmission_err : ndarray, shape (D, P)
        Fraction of inputs that got a spike.
    duration, latency : ndarray, shape (D, P, n)
        Mean duration of the spike of input k (sweeps, ``end - start`` of the
        hysteresis event) and its latency from the input, over the replicas where
        input k fired (nan where none did).
    duration_err, latency_err : ndarray, shape (D, P, n)
    adaptation, adaptation_err : ndarray, shape (D, P)
        ``1 - duration[..., -1] / duration[..., 0]`` and its bootstrap error.
    mf_out_rate, mf_out_rate_all, mf_transmission : ndarray, shape (D, P)
        The same for mean-field dynamics (deterministic).
    mf_duration : ndarray, shape (D, P, n)
    mf_adaptation : ndarray, shape (D, P)
    refractory : list of dict
        One per depth of the input pairs: ``depth``, ``spacings``, ``fraction``
        and ``fraction_err`` (trials with two spikes), ``plateau`` (that fraction at
        the three longest spacings), ``interval`` and ``err`` (sweeps; where half of
        the plateau spikes twice), ``mf_spacings``, ``mf_fraction``, ``mf_interval``,
        ``quasi_static`` ((Q - bath + T_off) / r for the exact m(T)) and
        ``quasi_static_mf`` (the same with the mean field's T_off).
    examples : dict
        ``"P=<period>" -> {"t", "T", "m", "m_mf"}``: one replica's trace of the
        deepest train at the shortest and the longest period.
    replicas : int
    source : str
    figure : list of Path
    """

    L: int
    dynamics: str
    update: str | None
    bath: float
    rate: float
    at: float
    theta_on: float
    theta_off: float
    n_inputs: int
    depths: np.ndarray
    periods: np.ndarray
    out_rate: np.ndarray
    out_rate_err: np.ndarray
    transmission: np.ndarray
    transmission_err: np.ndarray
    duration: np.ndarray
    duration_err: np.ndarray
    latency: np.ndarray
    latency_err: np.ndarray
    adaptation: np.ndarray
    adaptation_err: np.ndarray
    mf_out_rate: np.ndarray
    mf_transmission: np.ndarray
    mf_duration: np.ndarray
    mf_adaptation: np.ndarray
    refractory: list
    examples: dict
    replicas: int
    out_rate_all: np.ndarray = None
    out_rate_all_err: np.ndarray = None
    mf_out_rate_all: np.ndarray = None
    source: str = "simulation"
    figure: list = field(default_factory=list)

    @property
    def input_rate(self) -> np.ndarray:
        """Inputs per 1000 sweeps."""
        return 1000.0 / self.periods

    def max_rate(self, i: int) -> tuple:
        """Largest mean output rate at depth index ``i`` (rate, error) and the input rate
        giving it (of equal rates, the lowest input rate: the one answering most inputs)."""
        r = np.where(np.isfinite(self.out_rate[i]), self.out_rate[i], -np.inf)
        k = int(np.flatnonzero(r >= r.max() - 1e-12)[-1])
        return float(self.out_rate[i, k]), float(self.out_rate_err[i, k]), \
            float(self.input_rate[k])


def _train_numbers(t, m, times, period, theta_on, theta_off):
    """Spikes of a train assigned to its inputs (see :func:`measures.spikes_per_input`)."""
    tab = spikes.spike_table(t, m, theta_on, theta_off)
    R = np.atleast_2d(m).shape[0]
    end = float(times[-1] + period)
    out = measures.spikes_per_input(tab, times, R, t_end=end)
    late = (tab["start"] >= times[1]) & (tab["start"] < end) if len(times) > 1 else \
        np.zeros(tab.size, bool)
    out["steady"] = np.bincount(tab["replica"][late], minlength=R)
    return out


def _mf_traces(schedules, n):
    """Mean-field Glauber m of sweeps 1..n, shape (len(schedules), n) (Tc = Onsager's)."""
    temps = np.stack([s.temperatures(n) for s in schedules])
    return glauber_sweeps(temps, Tc=ONSAGER_TC)


def _n_sweeps(at, times, depth, rate, tail):
    return int(math.ceil(times[-1] + depth / rate + tail))


def spike_trains(outdir=None, source=None, *, L=32, dynamics="metropolis",
                 depths=(1.5, 2.0, 2.5), periods=(100, 150, 200, 250, 300, 400, 500, 700, 1000),
                 n_inputs=5, spacings=tuple(range(50, 751, 50)), replicas=16, bath=BATH,
                 rate=RATE, at=AT, theta_on=0.9, theta_off=0.5, tail=100, update=UPDATE,
                 seed=9, progress=True) -> SpikeTrainResult:
    """Quench trains: f-I curves, refractory interval and adaptation, lattice and mean field.

    Parameters
    ----------
    outdir : path-like, optional
        Folder for ``fig9_spike_trains.{png,pdf}``.
    source : None, path or sequence of paths
        None: simulate here. Paths: HDF5 sweep files of ``isingneuron run`` whose
        points are driven by ``quench_train`` protocols (+ border): trains of
        equally spaced inputs of one depth, and pairs of inputs (two times) for
        the refractory interval. The grid, protocol and L are read from the
        points (the first L, dynamics and rate found are used; others skipped).
    L : int
    dynamics : str
    depths : sequence of float
        Input depths (J).
    periods : sequence of int
        Input spacings of the trains (sweeps).
    n_inputs : int
        Inputs per train.
    spacings : sequence of int
        Spacings of the input pairs (sweeps).
    replicas : int
    bath, rate, at : float
    theta_on, theta_off : float
        Spike detector thresholds.
    tail : int
        Sweeps recorded after the last input has reheated.
    update : str
    seed : int
    progress : bool

    Returns
    -------
    SpikeTrainResult
    """
    outdir = _outdir(outdir)
    trains: dict = {}       # (depth, period) -> numbers
    pairs: dict = {}        # (depth, spacing) -> two-spike bool (R,)
    examples_raw: dict = {}
    used_update = update
    if source is None:
        src = "simulation"
        depths = [float(q) for q in depths]
        periods = [int(p) for p in periods]
        jobs = [("train", q, p) for q in depths for p in periods] + \
               [("pair", q, s) for q in depths for s in spacings]
        for kind, q, p in _bar(jobs, progress, "Fig 9: trains"):
            times = at + p * np.arange(n_inputs if kind == "train" else 2, dtype=float)
            sched = QuenchTrain(bath, [q] * len(times), times=times, rate=rate)
            n = _n_sweeps(at, times, q, rate, tail)
            sim = Simulation(L, sched, dynamics=dynamics, update=update, replicas=replicas,
                             boundary="plus", seed=_seed(seed, "train", kind, L, q, p))
            used_update = sim.attrs().get("update", update)
            tr = sim.run(n)
            if kind == "train":
                trains[(q, p)] = _train_numbers(tr.t, tr.m, times, p, theta_on, theta_off)
                if q == max(depths) and p in (min(periods), max(periods)):
                    examples_raw[p] = (tr.t, tr.T[0], tr.m[0], sched, n)
            else:
                pairs[(q, p)] = spikes.spike_count(tr.t, tr.m, theta_on, theta_off) >= 2
    else:
        src = describe_source(source)
        first = None
        for tr in _bar(iter_points(source), progress, "Fig 9: reading points"):
            a = tr.attrs or {}
            s = schedule_of(tr)
            if not isinstance(s, QuenchTrain) or a.get("boundary") != "plus":
                continue
            k = unit_scale(s)
            key = (int(a.get("L", 0)), a.get("dynamics"), s.bath * k, s.rate * k)
            if first is None:
                first = key
            if key != first:
                continue
            L, dynamics, bath, rate = key
            used_update = a.get("update", used_update)
            times = np.asarray(s.times, float)
            q = float(round(s.depths[0] * k, 12))
            if times.size == 2:
                pairs.setdefault((q, int(round(times[1] - times[0]))), []).append(
                    spikes.spike_count(tr.t, tr.m, theta_on, theta_off) >= 2)
            elif times.size > 2:
                p = int(round(times[1] - times[0]))
                at = float(times[0])
                n_inputs = times.size
                trains.setdefault((q, p), []).append(
                    _train_numbers(tr.t, tr.m, times, p, theta_on, theta_off))
                examples_raw.setdefault(p, {})[q] = (tr.t, tr.T[0], tr.m[0], s, int(tr.t[-1]))
        if first is None:
            raise ValueError(f"{src}: no complete quench_train points with a + border")
        trains = {k: _pool_train(v) for k, v in trains.items()}
        pairs = {k: np.concatenate(v) for k, v in pairs.items()}
        ps = sorted({p for _, p in trains})
        qmax = max((q for q, _ in trains), default=None)
        examples_raw = {p: examples_raw[p][qmax] for p in (ps[:1] + ps[-1:]) if p in examples_raw
                        and qmax in examples_raw[p]}
        depths = sorted({q for q, _ in trains} | {q for q, _ in pairs})
        periods = sorted({p for _, p in trains})
    D = np.array(sorted(set(depths)), float)
    P = np.array(sorted(set(periods)), float)
    R = replicas
    shape, shape3 = (D.size, P.size), (D.size, P.size, int(n_inputs))
    nan = lambda s: np.full(s, np.nan)                                          # noqa: E731
    out = {k: nan(shape) for k in ("out_rate", "out_rate_err", "out_rate_all",
                                   "out_rate_all_err", "transmission",
                                   "transmission_err", "adaptation", "adaptation_err",
                                   "mf_out_rate", "mf_out_rate_all", "mf_transmission",
                                   "mf_adaptation")}
    out.update({k: nan(shape3) for k in ("duration", "duration_err", "latency",
                                         "latency_err", "mf_duration")})
    for i, q in enumerate(D):
        for j, p in enumerate(P):
            nb = trains.get((q, int(p)))
            if nb is None:
                continue
            R = nb["count"].size
            n = nb["fired"].shape[1]
            rate_r = nb["count"] / (n * p) * 1000.0
            out["out_rate_all"][i, j], out["out_rate_all_err"][i, j] = rate_r.mean(), _sem(rate_r)
            rate_r = nb["steady"] / ((n - 1) * p) * 1000.0
            out["out_rate"][i, j], out["out_rate_err"][i, j] = rate_r.mean(), _sem(rate_r)
            tx = nb["fired"].mean(axis=1)
            out["transmission"][i, j], out["transmission_err"][i, j] = tx.mean(), _sem(tx)
            for kk in range(min(n, shape3[2])):
                f = nb["fired"][:, kk]
                if f.any():
                    out["duration"][i, j, kk] = nb["duration"][f, kk].mean()
                    out["latency"][i, j, kk] = nb["latency"][f, kk].mean()
                    if f.sum() > 1:
                        out["duration_err"][i, j, kk] = _sem(nb["duration"][f, kk])
                        out["latency_err"][i, j, kk] = _sem(nb["latency"][f, kk])
            both = nb["fired"][:, 0] & nb["fired"][:, -1]
            if both.sum() >= 2:
                d = np.stack([nb["duration"][both, 0], nb["duration"][both, -1]], axis=1)
                stat = lambda x: measures.adaptation_index(x[:, 0].mean(), x[:, 1].mean())  # noqa
                out["adaptation"][i, j] = stat(d)
                out["adaptation_err"][i, j] = measures.bootstrap_error(
                    stat, d, seed=_seed(seed, "adapt", q, p) % 2**32)
    # mean field under the same trains: one ODE call for every depth and period
    n = int(n_inputs)
    scheds = {(i, j): QuenchTrain(bath, [float(q)] * n, times=at + p * np.arange(n, dtype=float),
                                  rate=rate) for i, q in enumerate(D) for j, p in enumerate(P)}
    nsw = max(_n_sweeps(at, s_.times, D.max(), rate, tail) for s_ in scheds.values())
    tt = np.arange(1, nsw + 1)
    mm = dict(zip(scheds, _mf_traces(list(scheds.values()), nsw))) if scheds else {}
    for i, q in enumerate(D):
        for j, p in enumerate(P):
            mfn = _train_numbers(tt, mm[(i, j)], scheds[(i, j)].times, p, theta_on, theta_off)
            out["mf_out_rate_all"][i, j] = mfn["count"][0] / (n * p) * 1000.0
            out["mf_out_rate"][i, j] = mfn["steady"][0] / ((n - 1) * p) * 1000.0
            out["mf_transmission"][i, j] = mfn["fired"][0].mean()
            out["mf_duration"][i, j, :n] = mfn["duration"][0]
            out["mf_adaptation"][i, j] = measures.adaptation_index(mfn["duration"][0, 0],
                                                                   mfn["duration"][0, -1])
    # refractory interval per depth
    T_off = float(exact.temperature_at_magnetisation(theta_off))
    T_off_mf = float(ONSAGER_TC * theta_off / np.arctanh(theta_off))
    refractory = []
    pair_depths = sorted({q for q, _ in pairs})
    fine = np.array([])
    mf_two = {}
    if pairs:          # the mean field on a fine grid of spacings, one ODE call for all
        sp_all = [s for _, s in pairs]
        fine = np.arange(max(5, int(min(sp_all)) // 2), int(max(sp_all) * 1.5) + 1, 5)
        scheds = [QuenchTrain(bath, [q, q], times=np.array([at, at + s_], float), rate=rate)
                  for q in pair_depths for s_ in fine]
        nsw = _n_sweeps(at, [at, at + fine[-1]], max(pair_depths), rate, tail)
        two = spikes.spike_count(np.arange(1, nsw + 1), _mf_traces(scheds, nsw), theta_on,
                                 theta_off) >= 2
        mf_two = dict(zip(pair_depths, two.reshape(len(pair_depths), fine.size)))
    for q in pair_depths:
        sp = sorted(s for qq, s in pairs if qq == q)
        two = np.stack([pairs[(q, s)] for s in sp])
        ri = measures.refractory_interval(sp, two, seed=_seed(seed, "refr", q) % 2**32)
        frac = two.mean(axis=1)
        ferr = np.sqrt(np.maximum(frac * (1 - frac), 1.0 / two.shape[1]) / two.shape[1])
        mf2 = mf_two[q].astype(float)
        # deterministic: the first spacing with two spikes (the mean field may miss the
        # second input again at long spacings, so no plateau is taken)
        mfi = measures.refractory_interval(fine, np.array(mf2, float), relative=False)
        refractory.append({"depth": q, "spacings": np.array(sp, float), "fraction": frac,
                           "fraction_err": ferr, "interval": ri["interval"], "err": ri["err"],
                           "mf_spacings": fine.astype(float), "mf_fraction": np.array(mf2, float),
                           "mf_interval": mfi["interval"], "plateau": ri["plateau"],
                           "quasi_static": max(0.0, (q - bath + T_off) / rate),
                           "quasi_static_mf": max(0.0, (q - bath + T_off_mf) / rate)})
    examples = {}
    for p, (t, T, m, sched, n) in sorted(examples_raw.items()):
        examples[f"P={p}"] = {"t": t, "T": T, "m": m, "m_mf": _mf_traces([sched], int(t[-1]))[0][
            np.asarray(t, int) - 1]}
    res = SpikeTrainResult(int(L), dynamics, used_update, float(bath), float(rate), float(at),
                           float(theta_on), float(theta_off), int(n_inputs), D, P,
                           out["out_rate"], out["out_rate_err"], out["transmission"],
                           out["transmission_err"], out["duration"], out["duration_err"],
                           out["latency"], out["latency_err"], out["adaptation"],
                           out["adaptation_err"], out["mf_out_rate"], out["mf_transmission"],
                           out["mf_duration"], out["mf_adaptation"], refractory, examples,
                           int(R), out["out_rate_all"], out["out_rate_all_err"],
                           out["mf_out_rate_all"], src)
    if outdir is not None:
        res.figure = plots.save_figure(_figure(res), outdir / "fig9_spike_trains")
    return res


def _pool_train(parts: list) -> dict:
    if len(parts) == 1:
        return parts[0]
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def _figure(res: SpikeTrainResult):
    f = res.input_rate
    o = np.argsort(f)
    panels = []
    data = [(f"lattice, Q = {q:g} J", f[o], res.out_rate[i, o], res.out_rate_err[i, o],
             {"color": f"C{i}"}) for i, q in enumerate(res.depths)]
    lines = [(f"mean field, Q = {q:g} J", f[o], res.mf_out_rate[i, o],
              {"color": f"C{i}", "ls": "--", "marker": "x", "ms": 4})
             for i, q in enumerate(res.depths)]
    lines.append(("output = input", f[o], f[o], {"color": "0.6", "lw": 0.8, "ls": ":"}))
    panels.append({"data": data, "lines": lines, "xlabel": "input rate (inputs per 1000 sweeps)",
                   "ylabel": "steady output rate (spikes per 1000 sweeps)",
                   "title": f"(f-I) {res.n_inputs} inputs per train, inputs 2..{res.n_inputs}",
                   "legend": "upper left"})
    show = [j for j in np.linspace(0, res.periods.size - 1, min(4, res.periods.size)).astype(int)]
    data = [(f"lattice, period {res.periods[j]:g} sweeps", res.depths, res.out_rate[:, j],
             res.out_rate_err[:, j], {"color": f"C{k}"}) for k, j in enumerate(dict.fromkeys(show))]
    lines = [(f"mean field, period {res.periods[j]:g}", res.depths, res.mf_out_rate[:, j],
              {"color": f"C{k}", "ls": "--"}) for k, j in enumerate(dict.fromkeys(show))]
    panels.append({"data": data, "lines": lines, "xlabel": "input depth Q (J)",
                   "ylabel": "steady output rate (spikes per 1000 sweeps)",
                   "title": "(rate against depth)", "legend": "upper left"})
    data, lines = [], []
    for i, r in enumerate(res.refractory):
        data.append((f"lattice, Q = {r['depth']:g} J: {_pm(r['interval'], r['err'])} sweeps",
                     r["spacings"], r["fraction"], r["fraction_err"], {"color": f"C{i}"}))
        mfl = (f"{r['mf_interval']:.0f} sweeps" if np.isfinite(r["mf_interval"])
               else "never two spikes")
        lines.append((f"mean field, Q = {r['depth']:g} J: {mfl}",
                      r["mf_spacings"], r["mf_fraction"], {"color": f"C{i}", "ls": "--"}))
        lines.append((f"quasi-static (Q - bath + T_off) / r = {r['quasi_static']:.0f}",
                      [r["quasi_static"]] * 2, [0, 1], {"color": f"C{i}", "ls": ":", "lw": 0.9}))
    panels.append({"data": data, "lines": lines, "hlines": [0.5],
                   "xlabel": "spacing of two inputs (sweeps)",
                   "ylabel": "fraction of trials with two spikes",
                   "title": "(refractory interval) half of the plateau spikes twice",
                   "legend": "lower right", "ylim": (-0.03, 1.03)})
    i = res.depths.size - 1
    k = np.arange(1, res.n_inputs + 1)
    data, lines = [], []
    answered = [j for j in range(res.periods.size) if res.transmission[i, j] >= 0.9][:4]
    for c, j in enumerate(answered or show):
        data.append((f"lattice, period {res.periods[j]:g}", k, res.duration[i, j],
                     res.duration_err[i, j], {"color": f"C{c}"}))
        lines.append((f"mean field, period {res.periods[j]:g}", k, res.mf_duration[i, j],
                      {"color": f"C{c}", "ls": "--"}))
    panels.append({"data": data, "lines": lines, "xlabel": "input k of the train",
                   "ylabel": "duration of the spike of input k (sweeps)",
                   "title": f"(adaptation) Q = {res.depths[i]:g} J, trains with >= 90 % of "
                            "inputs answered", "legend": "best"})
    for name, ex in res.examples.items():
        lines = [("lattice, one trial", ex["t"], ex["m"], {"color": "C0", "lw": 0.8}),
                 ("mean field", ex["t"], ex["m_mf"], {"color": "C3", "ls": "--"}),
                 ("bath T / 3 J", ex["t"], np.asarray(ex["T"]) / 3.0, {"color": "0.5", "lw": 0.7})]
        panels.append({"lines": lines, "hlines": [res.theta_on, res.theta_off],
                       "xlabel": "time (sweeps)", "ylabel": "m (and T / 3 J)",
                       "title": f"(trace) Q = {res.depths[-1]:g} J, {name} sweeps",
                       "legend": "lower right", "ylim": (-0.3, 1.05)})
    return plots.panels_figure(
        panels, ncols=3, panel_size=(5.3, 4.2),
        title=f"Spike trains: L = {res.L}, {res.dynamics}, "
              f"{str(res.update).replace('_', '-')} updates, + border, bath {res.bath:g} J, "
              f"reheating {res.rate:g} J/sweep, spikes on at m >= {res.theta_on:g}, off at "
              f"m < {res.theta_off:g}; {res.replicas} trials")
