"""Tests of isingneuron.schedules against values known by construction.

Quench parameters are chosen exactly representable in binary (rate 0.25, depth
2) so most expected temperatures are exact; where they are not (rate 0.01) the
comparison is to 1e-12 relative. The Gaussian population's sample mean and
standard deviation are checked to 5 standard errors (sd / sqrt(n) and
sd / sqrt(2 (n - 1))), a false-alarm rate below 1e-6 per check.
"""
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from isingneuron.schedules import (ONSAGER_TC, Constant, Population, Quench, QuenchTrain, Ramp,
                                   Schedule, ScheduleError, Table)


def examples():
    return [
        Constant(2.5),
        Quench(bath=3.0, depth=2.0, at=5, rate=0.25),
        Quench(bath=1.5, depth=0.75, at=3, rate=0.1, units="Tc"),
        QuenchTrain(3.0, [1.0, 2.0, 0.5], [4, 6, 30], rate=0.5),
        QuenchTrain(3.0, [1.0, 2.0], rate=0.25, period=7, at=2),
        Ramp(3.0, 1.0, duration=10, at=4),
        Table([0, 5, 12], [3.0, 1.0, 2.0], units="Tc"),
        Population([Constant(2.0), Quench(3.0, 1.0, 2, 0.5), Ramp(1.0, 2.0, 5)]),
        Population.gaussian_quenches(6, bath=3.0, mean_depth=1.5, sd_depth=0.3, at=3,
                                     rate=0.2, seed=7),
    ]


# ------------------------------------------------------------------ values
def test_quench_values_at_known_times():
    q = Quench(bath=3.0, depth=2.0, at=50, rate=0.25)
    assert (q.duration, q.end) == (8.0, 58.0)
    assert q(0) == 3.0 and q(49) == 3.0 and q(49.999) == 3.0      # before the quench
    assert q(50) == 1.0                                          # the drop: bath - depth
    assert q(54) == 2.0 and q(57) == 2.75                        # linear reheating
    assert q(58) == 3.0 and q(58.5) == 3.0 and q(1e6) == 3.0     # back at the bath, and capped
    assert (q.min, q.max) == (1.0, 3.0)
    np.testing.assert_array_equal(q([[49, 50], [54, 60]]), [[3.0, 1.0], [2.0, 3.0]])


def test_quench_end_point_is_exactly_bath_for_inexact_rates():
    q = Quench(bath=3.0, depth=1.7, at=10, rate=0.03)            # 1.7 / 0.03 not exact
    assert q(q.end) == 3.0
    assert q(q.end - 1e-9) < 3.0
    assert q(10 + q.duration / 2) == pytest.approx(3.0 - 0.85, rel=1e-12)


def test_zero_depth_quench_is_constant():
    q = Quench(bath=2.0, depth=0.0, at=3, rate=1.0)
    np.testing.assert_array_equal(q.temperatures(10), np.full(10, 2.0))
    assert q.end == 3.0


@settings(max_examples=60, deadline=None)
@given(bath=st.floats(0.1, 10), frac=st.floats(0, 0.99), at=st.floats(0, 100),
       rate=st.floats(1e-3, 5), t=st.floats(-10, 1000))
def test_quench_stays_between_bottom_and_bath(bath, frac, at, rate, t):
    q = Quench(bath, frac * bath, at, rate)
    T = q(t)
    assert q.min <= T <= q.max == bath
    if t < at or t >= q.end:
        assert T == bath


def test_reduced_units_multiply_by_onsager_tc():
    assert ONSAGER_TC == 2 / math.log(1 + math.sqrt(2)) == pytest.approx(2.269185314213022,
                                                                         rel=1e-15)
    q = Quench(bath=1.5, depth=1.0, at=0, rate=0.25, units="Tc")
    assert q(0) == 0.5 * ONSAGER_TC
    assert q(2) == 1.0 * ONSAGER_TC
    assert q(100) == 1.5 * ONSAGER_TC
    assert (q.min, q.max) == (0.5 * ONSAGER_TC, 1.5 * ONSAGER_TC)
    assert q.to_dict() == {"kind": "quench", "bath": 1.5, "depth": 1.0, "at": 0.0,
                           "rate": 0.25, "units": "Tc"}
    assert Constant(1.0, units="Tc")(7) == ONSAGER_TC
    assert q != Quench(1.5, 1.0, 0, 0.25)                       # units are part of the value


def test_quench_train_overlap_takes_the_minimum():
    # quench A: 2 below bath at t=10, back at 14; quench B: 1 below at t=11, back at 13
    tr = QuenchTrain(bath=3.0, depths=[2.0, 1.0], times=[10, 11], rate=0.5)
    t = [9, 10, 11, 12, 13, 14, 20]
    np.testing.assert_array_equal(tr(t), [3.0, 1.0, 1.5, 2.0, 2.5, 3.0, 3.0])
    # separate quenches: each as a lone Quench
    tr2 = QuenchTrain(3.0, [1.0, 2.0], [10, 30], rate=0.5)
    one, two = Quench(3.0, 1.0, 10, 0.5), Quench(3.0, 2.0, 30, 0.5)
    ts = np.arange(0, 50, 0.5)
    np.testing.assert_array_equal(tr2(ts), np.minimum(one(ts), two(ts)))
    # unsorted and 2-D times give the same values
    rng = np.random.default_rng(0)
    perm = rng.permutation(ts)
    np.testing.assert_array_equal(tr2(perm), tr2(ts)[np.argsort(np.argsort(perm))])
    np.testing.assert_array_equal(tr2(ts.reshape(4, 25)), tr2(ts).reshape(4, 25))
    assert (tr.min, tr.max) == (1.0, 3.0)


def test_quench_train_period_equals_explicit_times():
    a = QuenchTrain(3.0, [1.0, 2.0, 0.5], rate=0.25, period=20, at=5)
    b = QuenchTrain(3.0, [1.0, 2.0, 0.5], times=[5, 25, 45], rate=0.25)
    np.testing.assert_array_equal(a.times, [5, 25, 45])
    np.testing.assert_array_equal(a.temperatures(80), b.temperatures(80))
    assert a == b and hash(a) == hash(b)
    assert QuenchTrain(3.0, 1.0, [0, 10], rate=1.0).to_dict()["depths"] == [1.0, 1.0]


def test_ramp_and_table_values():
    r = Ramp(start=3.0, stop=1.0, duration=8, at=2)
    np.testing.assert_array_equal(r([0, 2, 6, 10, 50]), [3.0, 3.0, 2.0, 1.0, 1.0])
    step = Ramp(3.0, 1.0, duration=0, at=5)
    np.testing.assert_array_equal(step([4, 4.99, 5, 6]), [3.0, 3.0, 1.0, 1.0])
    tab = Table([0, 4, 8], [2.0, 1.0, 3.0])
    np.testing.assert_array_equal(tab([0, 2, 4, 6, 8, 100]), [2.0, 1.5, 1.0, 2.0, 3.0, 3.0])
    assert (tab.min, tab.max) == (1.0, 3.0)
    assert Table([5], [2.0])(0) == 2.0


@pytest.mark.parametrize("s", examples(), ids=repr)
def test_temperatures_match_call_at_integer_sweeps(s):
    for start in (0, 3):
        T = s.temperatures(40, start=start)
        assert T.dtype == np.float64
        expect = np.array([s(float(k)) for k in range(start, start + 40)])
        if isinstance(s, Population):
            assert T.shape == (len(s), 40)
            expect = expect.T
        else:
            assert T.shape == (40,)
        np.testing.assert_array_equal(T, expect)
        assert np.all((T >= s.min) & (T <= s.max))
    assert s.temperatures(0).shape[-1] == 0


@pytest.mark.parametrize("s", examples(), ids=repr)
def test_dict_round_trip_for_every_kind(s):
    d = json.loads(json.dumps(s.to_dict()))           # plain JSON types only
    back = Schedule.from_dict(d)
    assert type(back) is type(s) and back == s and hash(back) == hash(s)
    assert back.to_dict() == s.to_dict()
    np.testing.assert_array_equal(back.temperatures(60), s.temperatures(60))
    assert type(s).from_dict(d) == s


def test_repr_is_readable_and_equality_by_value():
    q = Quench(bath=3.0, depth=1.5, at=50, rate=0.01)
    assert repr(q) == "Quench(bath=3.0, depth=1.5, at=50.0, rate=0.01)"
    ns = {"Quench": Quench, "Ramp": Ramp, "Table": Table, "Constant": Constant}
    for s in (q, Ramp(3, 1, 4, units="Tc"), Table([0, 1], [2, 3]), Constant(2)):
        assert eval(repr(s), ns) == s
    assert q == Quench(3, 1.5, 50, 0.01) and q != Quench(3, 1.6, 50, 0.01) and q != Constant(3)
    assert "gaussian_quenches(n=6" in repr(examples()[-1])


# -------------------------------------------------------------- populations
def test_gaussian_population_reproducible_from_seed():
    kw = dict(n=50, bath=3.0, mean_depth=1.5, sd_depth=0.4, at=10, rate=0.05)
    a = Population.gaussian_quenches(**kw, seed=3)
    b = Population.gaussian_quenches(**kw, seed=3)
    c = Population.gaussian_quenches(**kw, seed=4)
    np.testing.assert_array_equal(a.depths, np.random.default_rng(3).normal(1.5, 0.4, 50))
    np.testing.assert_array_equal(a.depths, b.depths)
    assert a == b and a != c and not np.array_equal(a.depths, c.depths)
    assert a.to_dict() == {"kind": "population", "gaussian_quenches": {**kw, "at": 10.0,
                                                                       "seed": 3, "units": "J"}}
    T = a.temperatures(100)
    assert T.shape == (50, 100)
    np.testing.assert_allclose(T[:, 10], 3.0 - a.depths, rtol=0, atol=1e-15)
    np.testing.assert_array_equal(T[:, :10], 3.0)


def test_gaussian_population_mean_and_sd_statistically_consistent():
    n, mu, sd = 4000, 1.0, 0.2                     # P(draw < 0) = 3e-7: no clipping
    d = Population.gaussian_quenches(n, 3.0, mu, sd, at=0, rate=1.0, seed=11).depths
    assert abs(d.mean() - mu) < 5 * sd / math.sqrt(n)
    assert abs(d.std(ddof=1) - sd) < 5 * sd / math.sqrt(2 * (n - 1))


def test_gaussian_population_clips_negative_draws_to_zero():
    p = Population.gaussian_quenches(200, bath=5.0, mean_depth=0.0, sd_depth=1.0, at=0,
                                     rate=1.0, seed=5)
    raw = np.random.default_rng(5).normal(0.0, 1.0, 200)
    assert (raw < 0).sum() > 50
    np.testing.assert_array_equal(p.depths, np.maximum(raw, 0.0))
    assert p.min == 5.0 - raw.max() and p.max == 5.0


def test_population_of_mixed_schedules():
    p = Population([Constant(2.0), Quench(3.0, 1.0, 1, 0.5)])
    np.testing.assert_array_equal(p([0, 1, 2, 9]), [[2, 2, 2, 2], [3, 2, 2.5, 3]])
    assert p(1).shape == (2,) and len(p) == 2 and p[1] == Quench(3.0, 1.0, 1, 0.5)
    assert (p.min, p.max) == (2.0, 3.0)
    with pytest.raises(AttributeError, match="not made of Quench"):
        p.depths


def test_population_temperatures_are_the_members_own():
    """Population.temperatures evaluates its Quench members together, 64 at a time:
    bit for bit each member's own temperatures, in J or Tc units, mixed with other
    schedules, across the blocks of 64, for any start and length."""
    rng = np.random.default_rng(2)
    members = [Quench(3.0, d, a, r) for d, a, r in zip(rng.uniform(0, 2.9, 150),
                                                        rng.uniform(0, 40, 150),
                                                        rng.uniform(0.01, 0.2, 150))]
    members[70:70] = [Quench(1.3, 0.5, 7.5, 0.01, units="Tc"), Constant(2.0),
                      Ramp(1.0, 2.0, 5), Quench(3.0, 0.0, 0, 0.1)]
    p = Population(members)
    for n, start in ((60, 0), (45, 17), (1, 300), (0, 0)):
        want = np.stack([m.temperatures(n, start) for m in members]).reshape(len(members), n)
        got = p.temperatures(n, start)
        assert got.dtype == np.float64 and got.shape == (len(members), n)
        np.testing.assert_array_equal(got, want)
    assert len(np.unique(p.temperatures(60), axis=0)) > 100      # the members do differ


# ------------------------------------------------------------------- refusals
REFUSALS = [
    (lambda: Quench(3.0, 3.5, 0, 1.0), r"bath - depth = -0\.5 J.*> 0"),
    (lambda: Quench(3.0, 3.0, 0, 1.0), r"bath - depth = 0 J"),
    (lambda: Quench(1.0, 1.2, 0, 1.0, units="Tc"), r"bath - depth = -0\.2 Tc"),
    (lambda: Quench(3.0, 1.0, 0, 0.0), r"rate = 0 J/sweep: must be > 0"),
    (lambda: Quench(3.0, 1.0, 0, -0.1), r"rate = -0\.1"),
    (lambda: Quench(3.0, -0.1, 0, 1.0), r"depth = -0\.1 J: must be >= 0"),
    (lambda: Quench(float("nan"), 1.0, 0, 1.0), r"bath = nan.*finite"),
    (lambda: Quench(3.0, 1.0, float("inf"), 1.0), r"at = inf.*finite"),
    (lambda: Quench(3.0, 1.0, -1, 1.0), r"at = -1 sweeps: must be >= 0"),
    (lambda: Quench(3.0, 1.0, 0, 1.0, units="K"), r"units = 'K'"),
    (lambda: Quench(True, 1.0, 0, 1.0), r"bath = True: must be a real number"),
    (lambda: Constant(0.0), r"Constant: T = 0 J: must be > 0"),
    (lambda: Constant(1e308, units="Tc"), r"Constant: highest temperature 1e\+308 Tc = inf J: "
                                          r"must be finite in J \(at most 7\.922e\+307 Tc\)"),
    (lambda: Quench(1e308, 1.0, 0, 1.0, units="Tc"), r"Quench: highest temperature 1e\+308 Tc"),
    (lambda: QuenchTrain(1e308, [1.0], [5], rate=1.0, units="Tc"), r"QuenchTrain: highest"),
    (lambda: Ramp(1.0, 1e308, 5, units="Tc"), r"Ramp: highest temperature 1e\+308 Tc"),
    (lambda: Table([0, 1], [1.0, 1e308], units="Tc"), r"Table: highest temperature 1e\+308"),
    (lambda: Constant("3"), r"T = '3'"),
    (lambda: Ramp(3.0, 0.0, 5), r"Ramp: stop = 0 J"),
    (lambda: Ramp(3.0, 1.0, -5), r"duration = -5 sweeps"),
    (lambda: Table([0, 2, 2], [1.0, 2.0, 3.0]), r"times\[2\] = 2 sweeps.*strictly increasing"),
    (lambda: Table([0, 3, 1], [1.0, 2.0, 3.0]), r"times\[2\] = 1"),
    (lambda: Table([0, 1], [1.0, -2.0]), r"temperatures\[1\] = -2 J"),
    (lambda: Table([0, 1], [1.0]), r"temperatures has 1 values for 2 times"),
    (lambda: Table([], []), r"times = \[\]: must be a non-empty"),
    (lambda: QuenchTrain(3.0, [1.0, 3.2], [0, 5], rate=1.0), r"bath - depths\[1\] = -0\.2"),
    (lambda: QuenchTrain(3.0, [1.0, 1.0], [5, 5], rate=1.0), r"times\[1\] = 5.*increasing"),
    (lambda: QuenchTrain(3.0, [1.0], [5], rate=None), r"rate = None"),
    (lambda: QuenchTrain(3.0, [1.0], [5], rate=1.0, period=3), r"exactly one"),
    (lambda: QuenchTrain(3.0, [1.0], rate=1.0, period=0), r"period = 0 sweeps: must be > 0"),
    (lambda: QuenchTrain(3.0, [1.0, 2.0], [1], rate=1.0), r"depths has 2 values for 1 times"),
    (lambda: Population([]), r"schedules = \[\]"),
    (lambda: Population([Constant(1.0), 2.0]), r"schedules\[1\] = 2\.0"),
    (lambda: Population.gaussian_quenches(5, 3.0, 1.0, -0.1, 0, 1.0, seed=1),
     r"sd_depth = -0\.1: must be >= 0"),
    (lambda: Population.gaussian_quenches(0, 3.0, 1.0, 0.1, 0, 1.0, seed=1), r"n = 0"),
    (lambda: Population.gaussian_quenches(5, 3.0, 1.0, 0.1, 0, 1.0, seed=-1), r"seed = -1"),
    (lambda: Population.gaussian_quenches(50, 3.0, 2.5, 1.0, 0, 1.0, seed=1),
     r"depth of replica \d+ drawn = .* >= bath = 3"),
    (lambda: Schedule.from_dict({"kind": "spiral"}), r"kind = 'spiral'"),
    (lambda: Schedule.from_dict({"kind": "quench", "bath": 3.0}), r"Quench: .*missing"),
    (lambda: Schedule.from_dict({"kind": "constant", "T": 1.0, "colour": 1}),
     r"unexpected key\(s\) \['colour'\]"),
    (lambda: Quench.from_dict(Constant(1.0).to_dict()), r"reads kind 'quench' only"),
    (lambda: Constant(1.0)(float("nan")), r"t = nan: times must be finite"),
    (lambda: Constant(1.0).temperatures(-1), r"n_sweeps = -1"),
]


@pytest.mark.parametrize("make, message", REFUSALS, ids=[m for _, m in REFUSALS])
def test_refusals_name_the_parameter(make, message):
    with pytest.raises(ScheduleError, match=message) as info:
        make()
    assert isinstance(info.value, ValueError)
