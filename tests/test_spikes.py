"""Tests of isingneuron.spikes on synthetic traces whose answers are known by construction.

Convention under test: record k (taken at t[k] sweeps completed) stands for the
record_every sweeps before it. Spikes start at the t of the first record with
m >= theta_on and end at the t of the first later record with m < theta_off.
All comparisons are exact (integers) or to 1e-12 relative (float sums of a few
hundred terms of exactly representable values).
"""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from isingneuron import Traces
from isingneuron.spikes import (SPIKE_DTYPE, Spike, detect_spikes, dwell_time, fraction_firing,
                                integrated_magnetisation, record_interval, spike_count,
                                spike_table, summarize, transfer_curve)


def times(n, every=1):
    return every * np.arange(1, n + 1, dtype=np.int64)


def pulse(n, first, length, height=1.0, rest=0.0):
    m = np.full(n, rest)
    m[first:first + length] = height
    return m


# ------------------------------------------------------------------ single pulses
def test_rectangular_pulse():
    t = times(100)
    m = pulse(100, 20, 30)                     # on at records 20..49, t = 21..50
    assert dwell_time(t, m)[0] == 30.0
    (sp,), = detect_spikes(t, m)
    assert sp == Spike(start=21, end=51, duration=30, peak=1.0, complete=True,
                       started_before=False)
    assert spike_count(t, m)[0] == 1
    assert integrated_magnetisation(t, m)[0] == 30.0


def test_record_every_weights_each_record():
    every = 5
    t = times(100, every)                      # t = 5, 10, ..., 500
    m = np.stack([pulse(100, 10, 12), pulse(100, 40, 3, height=0.95)])
    np.testing.assert_array_equal(dwell_time(t, m), [12 * every, 3 * every])
    np.testing.assert_allclose(integrated_magnetisation(t, m), [60.0, 3 * 0.95 * every],
                               rtol=1e-12)
    sp = detect_spikes(t, m)
    assert (sp[0][0].start, sp[0][0].end, sp[0][0].duration) == (55, 115, 60)
    assert (sp[1][0].start, sp[1][0].end, sp[1][0].duration) == (205, 220, 15)
    assert sp[1][0].peak == 0.95
    assert record_interval(t) == every


def test_time_offset_from_concatenated_chunks():
    # a later chunk (t starts at 1000 + record_every) is weighted the same way
    t = 1000 + times(50, 4)
    m = pulse(50, 5, 10)
    assert dwell_time(t, m)[0] == 40.0
    (sp,), = detect_spikes(t, m)
    assert (sp.start, sp.end, sp.duration) == (1024, 1064, 40)


def test_spike_still_on_at_end_is_flagged_incomplete():
    t = times(100, 2)
    m = pulse(100, 80, 20)                     # on from record 80 to the last (99)
    (sp,), = detect_spikes(t, m)
    assert not sp.complete and not sp.started_before
    assert sp.start == 162 and sp.end == t[-1] == 200
    assert sp.duration == 38                   # t[-1] - start: a lower bound
    assert dwell_time(t, m)[0] == 40.0         # 20 records x 2 sweeps
    assert spike_count(t, m)[0] == 1


def test_spike_on_at_first_record_is_flagged_started_before():
    t = times(30)
    m = pulse(30, 0, 10)
    (sp,), = detect_spikes(t, m)
    assert sp.started_before and sp.complete
    assert (sp.start, sp.end, sp.duration) == (1, 11, 10)


def test_first_record_in_hysteresis_band_is_off():
    t = times(20)
    m = np.r_[0.7, 0.7, np.zeros(18)]          # between theta_off and theta_on
    assert spike_count(t, m)[0] == 0
    assert detect_spikes(t, m) == [[]]


def test_no_spike():
    t = times(50)
    m = np.stack([np.zeros(50), np.full(50, 0.89), np.full(50, -1.0)])
    np.testing.assert_array_equal(spike_count(t, m), [0, 0, 0])
    np.testing.assert_array_equal(dwell_time(t, m), [0.0, 0.0, 0.0])
    assert detect_spikes(t, m) == [[], [], []]
    tab = spike_table(t, m)
    assert tab.dtype == SPIKE_DTYPE and tab.size == 0


# -------------------------------------------------------------------- hysteresis
def test_noise_around_theta_on_is_one_spike_with_hysteresis():
    t = times(70)
    # 10 off, then 25 x (0.95, 0.85) oscillating across theta_on = 0.9, then 10 off
    m = np.r_[np.zeros(10), np.tile([0.95, 0.85], 25), np.zeros(10)]
    (sp,), = detect_spikes(t, m, theta_on=0.9, theta_off=0.5)
    assert (sp.start, sp.end, sp.duration) == (11, 61, 50)
    assert sp.peak == 0.95
    # a plain threshold (theta_off = theta_on) counts every upward crossing: 25
    assert spike_count(t, m, theta_on=0.9, theta_off=0.9)[0] == 25
    # the dwell time counts only records at or above theta: 25 records
    assert dwell_time(t, m, theta=0.9)[0] == 25.0


def test_dip_between_thresholds_does_not_end_spike_but_dip_below_theta_off_does():
    t = times(40)
    on = np.r_[np.zeros(5), np.ones(5), 0.6, np.ones(5), np.zeros(24)]
    off = np.r_[np.zeros(5), np.ones(5), 0.4, np.ones(5), np.zeros(24)]
    assert spike_count(t, np.stack([on, off])).tolist() == [1, 2]
    s_on, s_off = detect_spikes(t, np.stack([on, off]))
    assert [(s.start, s.end) for s in s_on] == [(6, 17)]
    assert [(s.start, s.end) for s in s_off] == [(6, 11), (12, 17)]


def test_two_separated_spikes_and_flat_table():
    t = times(60, 3)
    m = np.stack([
        pulse(60, 5, 4, 0.93) + pulse(60, 30, 10, 0.92),    # two spikes
        pulse(60, 50, 10),                                  # one, incomplete
    ])
    m[0, 6] = 0.97                                          # peak of the first spike
    s0, s1 = detect_spikes(t, m)
    assert [(s.start, s.end, s.duration, s.peak) for s in s0] == \
        [(18, 30, 12, 0.97), (93, 123, 30, 0.92)]
    assert len(s1) == 1 and not s1[0].complete
    tab = spike_table(t, m)
    assert tab["replica"].tolist() == [0, 0, 1]
    assert tab["start"].tolist() == [18, 93, 153]
    assert tab["end"].tolist() == [30, 123, 180]
    assert tab["duration"].tolist() == [12, 30, 27]
    assert tab["complete"].tolist() == [True, True, False]
    assert tab["started_before"].tolist() == [False, False, False]
    np.testing.assert_array_equal(spike_count(t, m), [2, 1])


def test_peak_is_taken_over_on_records_only():
    # each spike's peak is the maximum over its own records only, not the trace maximum
    t = times(12)
    m = np.array([0.3, 0.91, 0.99, 0.93, 0.2, 0.4, 0.0, 0.95, 0.96, 0.1, 0.0, 0.0])
    s = detect_spikes(t, m)[0]
    assert [x.peak for x in s] == [0.99, 0.96]


def test_use_abs_counts_negative_magnetisation():
    t = times(50)
    m = np.stack([pulse(50, 10, 15, height=-0.98), pulse(50, 10, 15, height=0.98)])
    np.testing.assert_array_equal(dwell_time(t, m), [0.0, 15.0])
    np.testing.assert_array_equal(dwell_time(t, m, use_abs=True), [15.0, 15.0])
    np.testing.assert_array_equal(spike_count(t, m), [0, 1])
    np.testing.assert_array_equal(spike_count(t, m, use_abs=True), [1, 1])
    (sp,), _ = detect_spikes(t, m, use_abs=True)
    assert sp.peak == 0.98 and sp.duration == 15
    np.testing.assert_allclose(integrated_magnetisation(t, m), [-14.7, 14.7], rtol=1e-12)
    np.testing.assert_allclose(integrated_magnetisation(t, m, use_abs=True), [14.7, 14.7],
                               rtol=1e-12)


def _runs_to_trace(off_runs, on_runs, start_on):
    """0/1 trace alternating runs; returns m and the (first, last+1) record of each on-run."""
    pieces, spans, k = [], [], 0
    order = [(on_runs, 1.0), (off_runs, 0.0)] if start_on else [(off_runs, 0.0), (on_runs, 1.0)]
    for i in range(len(off_runs)):
        for runs, val in order:
            pieces.append(np.full(runs[i], val))
            if val == 1.0:
                spans.append((k, k + runs[i]))
            k += runs[i]
    return np.concatenate(pieces), spans


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_hysteresis_on_binary_traces_property(data):
    # a 0/1 trace built from run lengths: its spikes are exactly the runs of ones
    n_runs = data.draw(st.integers(1, 6))
    off_runs = data.draw(st.lists(st.integers(1, 5), min_size=n_runs, max_size=n_runs))
    on_runs = data.draw(st.lists(st.integers(1, 5), min_size=n_runs, max_size=n_runs))
    start_on = data.draw(st.booleans())
    every = data.draw(st.integers(1, 7))
    m, spans = _runs_to_trace(off_runs, on_runs, start_on)
    n = m.size
    t = times(n, every)
    sp = detect_spikes(t, m)[0]
    assert len(sp) == len(spans) == spike_count(t, m)[0]
    for s, (a, b) in zip(sp, spans):
        assert s.start == t[a]
        assert s.complete == (b < n)
        assert s.end == (t[b] if b < n else t[-1])
        assert s.started_before == (a == 0)
    assert dwell_time(t, m)[0] == every * sum(on_runs)
    assert integrated_magnetisation(t, m)[0] == every * sum(on_runs)
    # complete spikes: duration = on-records x record_every, so durations add up to the
    # dwell time, short by record_every for a spike cut off at the end
    total = sum(s.duration for s in sp) + sum(every for s in sp if not s.complete)
    assert total == every * sum(on_runs)


# ------------------------------------------------------------ integrated measure
def test_integrated_magnetisation_of_triangle():
    # m rises linearly 0 -> 1 over K records and back: area = base * height / 2 =
    # (2 K every) / 2 sweeps; the rectangle sum equals the trapezoid rule (ends at 0),
    # exact for a piecewise-linear m with kinks on records
    K, every = 8, 3
    tri = np.r_[np.arange(K + 1) / K, np.arange(K - 1, -1, -1) / K]
    m = np.r_[np.zeros(5), tri, np.zeros(7)]
    t = times(m.size, every)
    assert integrated_magnetisation(t, m)[0] == pytest.approx(K * every, rel=1e-12)


def test_integrated_magnetisation_of_trapezoid_and_baseline():
    # 0 -> 0.8 over K records, flat for P records, back to 0 over K: area 0.8 (K + P) every
    K, P, every = 4, 10, 2
    up = 0.8 * np.arange(K + 1) / K
    m = np.r_[np.zeros(3), up, np.full(P - 1, 0.8), up[::-1], np.zeros(3)]
    t = times(m.size, every)
    area = 0.8 * (K + P) * every
    assert integrated_magnetisation(t, m)[0] == pytest.approx(area, rel=1e-12)
    # subtracting a baseline removes baseline x trial length (n_records x every sweeps)
    assert integrated_magnetisation(t, m, baseline=0.1)[0] == \
        pytest.approx(area - 0.1 * m.size * every, rel=1e-12)
    # constant m = 1 over the whole trace: t[-1] - t[0] + every sweeps
    assert integrated_magnetisation(t, np.ones(m.size))[0] == t[-1] - t[0] + every


# ---------------------------------------------------------------- population layer
def test_transfer_curve_means_and_sems():
    x = np.array([1.0, 2.0, 1.0, 3.0, 2.0, 1.0])
    y = np.array([1.0, 4.0, 3.0, 10.0, 6.0, 2.0])
    tc = transfer_curve(x, y)
    np.testing.assert_array_equal(tc.x, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(tc.count, [3, 2, 1])
    np.testing.assert_allclose(tc.mean, [2.0, 5.0, 10.0], rtol=1e-12)
    # x=1: y = 1, 3, 2 -> sd 1, sem 1/sqrt(3); x=2: y = 4, 6 -> sd sqrt(2), sem 1
    np.testing.assert_allclose(tc.std[:2], [1.0, math.sqrt(2.0)], rtol=1e-12)
    np.testing.assert_allclose(tc.sem[:2], [1 / math.sqrt(3.0), 1.0], rtol=1e-12)
    assert math.isnan(tc.sem[2]) and math.isnan(tc.std[2])


def test_fraction_firing():
    assert fraction_firing([0.0, 1.0, 2.0, 3.0], 2.0) == 0.5
    assert fraction_firing([0.0, 0.0], 1.0) == 0.0
    # per input: transfer_curve of the firing indicator, binomial sem sqrt(p(1-p)/(n-1))
    tc = transfer_curve([1, 1, 1, 1, 2, 2], np.array([0, 5, 6, 7, 0, 0]) >= 5)
    np.testing.assert_allclose(tc.mean, [0.75, 0.0])
    assert tc.sem[0] == pytest.approx(math.sqrt(0.75 * 0.25 / 3), rel=1e-12)


def test_summarize_accepts_traces():
    t = times(40, 2)
    m = np.stack([pulse(40, 5, 10), pulse(40, 0, 0)])
    tr = Traces(t=t, T=np.ones_like(m), m=m, energy=np.zeros_like(m))
    out = summarize(tr)
    np.testing.assert_array_equal(out["dwell_time"], [20.0, 0.0])
    np.testing.assert_array_equal(out["spike_count"], [1, 0])
    np.testing.assert_array_equal(out["integrated_magnetisation"], [20.0, 0.0])


# ----------------------------------------------------------------------- validation
T10, M10 = times(10), np.zeros((2, 10))


@pytest.mark.parametrize("call, match", [
    (lambda: dwell_time(T10, M10, theta=0.0), r"theta must be in \(0, 1\]; got 0.0"),
    (lambda: dwell_time(T10, M10, theta=1.5), r"theta must be in \(0, 1\]; got 1.5"),
    (lambda: detect_spikes(T10, M10, theta_on=-0.9), r"theta_on must be in \(0, 1\]; got -0.9"),
    (lambda: detect_spikes(T10, M10, theta_off=0.0), r"theta_off must be in \(0, 1\]"),
    (lambda: spike_count(T10, M10, theta_on=0.5, theta_off=0.6),
     r"theta_off must be <= theta_on = 0.5; got 0.6"),
    (lambda: dwell_time(np.array([1, 2, 2, 3]), np.zeros(4)), "strictly increasing"),
    (lambda: dwell_time(np.array([1, 2, 4, 5]), np.zeros(4)), "evenly spaced"),
    (lambda: dwell_time(np.array([0, 5, 10]), np.zeros(3)), r"t\[0\] = 0 must be >= record_every"),
    (lambda: dwell_time(np.array([1.5, 2.5]), np.zeros(2)), "whole numbers"),
    (lambda: dwell_time(T10, np.zeros((2, 9))), "9 records per replica but t has 10"),
    (lambda: dwell_time(T10, np.zeros((2, 2, 10))), "shape"),
    (lambda: dwell_time(T10, np.r_[np.zeros(9), np.nan]), r"m\[0, 9\] = nan"),
    (lambda: integrated_magnetisation(T10, M10, baseline=np.inf), "baseline must be a finite number; got inf"),
    (lambda: record_interval(T10, record_every=2), "does not match"),
    (lambda: record_interval(T10, record_every=0), "record_every must be an integer >= 1"),
    (lambda: transfer_curve([1.0, 2.0], [1.0]), "equal length"),
    (lambda: fraction_firing([1.0], "a"), "threshold must be a number"),
])
def test_bad_parameters_raise_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_single_record_uses_record_every():
    # one record at t = 10: it stands for 10 sweeps unless record_every says otherwise
    assert dwell_time([10], [1.0])[0] == 10.0
    assert record_interval([1010], record_every=10) == 10


# ------------------------------------------------------------ classify_lattices
def lattices(*grids):
    return np.stack([np.asarray(g, dtype=np.int8) for g in grids])


def test_classify_lattices_hand_made():
    # each lattice built so that its class is known by construction
    from isingneuron.spikes import LATTICE_OUTCOMES, classify_lattices
    L = 12
    up = np.ones((L, L), np.int8)
    half = up.copy()
    half[: L // 2] = -1                     # two straight horizontal walls on the torus
    bands = up.copy()
    bands[0:3] = -1
    bands[6:9] = -1                         # four walls: still straight stripes
    thin = up.copy()
    thin[5] = -1                            # one row of -1: m = 5/6 but straight walls
    checker = np.where(np.add.outer(np.arange(L), np.arange(L)) % 2 == 0, 1, -1)
    domain = -up.copy()
    domain[3:9, 3:9] = 1                    # a square domain: m = -1/2, rows not uniform
    minority = up.copy()
    minority[2:4, 2:4] = -1                 # a small droplet of -1: m = 1 - 8/144
    out = classify_lattices(lattices(up, -up, half, half.T, bands, bands.T, thin, checker,
                                     domain, minority, -minority))
    assert out.dtype == np.int64 and out.shape == (11,)
    np.testing.assert_array_equal(out, [0, 1, 2, 2, 2, 2, 2, 3, 3, 0, 1])
    assert [LATTICE_OUTCOMES[k] for k in out[:4]] == ["m = +1", "m = -1", "stripes", "stripes"]
    assert len(LATTICE_OUTCOMES) == 4 and LATTICE_OUTCOMES[3].startswith("other")


def test_classify_lattices_threshold():
    # m = 2/3 exactly, with no uniform row or column of either sign below +1: "+1" at
    # threshold 0.6, "other" at 0.7; the boundary m >= threshold is inclusive
    from isingneuron.spikes import classify_lattices
    g = np.ones((6, 6), np.int8)
    g[0, 3:] = -1                           # rows 0 and 1: half +1, half -1 (mean 0)
    g[1, :3] = -1
    assert g.mean() == pytest.approx(2 / 3)
    assert classify_lattices(g[None], threshold=0.6)[0] == 0
    assert classify_lattices(g[None], threshold=0.7)[0] == 3
    assert classify_lattices(g[None], threshold=2 / 3)[0] == 0
    assert classify_lattices(-g[None], threshold=0.6)[0] == 1
