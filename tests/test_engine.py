"""Engine against exact enumeration, and its determinism guarantees.

Statistics: every sample used in a chi-square test is the final state of an
independent replica (own random streams), so the samples are exactly
independent and the multinomial chi-square test applies without any
autocorrelation correction. Means are compared with exact values within
4 standard errors, the error estimated from R independent replicas (each
replica's time average is one bin of a batch-means / binning analysis).
"""
import contextlib
import warnings

import numba
import numpy as np
import pytest
from scipy import stats

from isingneuron.engine import (CheckerboardMetropolisWarning, Lattice, initial_spins, simulate,
                                to_natural, to_split)
from isingneuron import kernels

from enumeration import bond_sum_and_m, boltzmann

P_MIN = 1e-3  # chi-square p-value below which a histogram test fails


def chi_square_pvalue(B_obs, M_obs, B_ex, M_ex, w_ex, min_expected=5.0):
    """p-value of observed (B, M) samples against the exact joint distribution.

    Bins with fewer than ``min_expected`` expected counts are pooled into one.
    """
    n = len(B_obs)
    keys_ex = B_ex * 100003 + M_ex
    uniq, inv = np.unique(keys_ex, return_inverse=True)
    p = np.bincount(inv, weights=w_ex)
    idx = np.searchsorted(uniq, B_obs * 100003 + M_obs)
    assert np.all(uniq[idx] == B_obs * 100003 + M_obs), "sampled a state of impossible (B, M)"
    obs = np.bincount(idx, minlength=len(uniq)).astype(float)
    exp = p * n
    big = exp >= min_expected
    o = np.append(obs[big], obs[~big].sum())
    e = np.append(exp[big], exp[~big].sum())
    if e[-1] == 0:
        o, e = o[:-1], e[:-1]
    return stats.chisquare(o, e).pvalue


RS, CB = "random_sequential", "checkerboard"
CASES = [
    # L, boundary, h, dynamics, update, T
    (2, "periodic", 0.0, "metropolis", RS, 2.0),
    (2, "periodic", 0.0, "glauber", CB, 2.0),
    (2, "periodic", 0.3, "glauber", RS, 1.5),
    (2, "plus", 0.0, "metropolis", CB, 2.0),
    (3, "periodic", 0.0, "metropolis", RS, 2.0),
    (3, "periodic", 0.0, "metropolis", RS, 3.0),
    (3, "periodic", 0.0, "glauber", RS, 2.0),
    (3, "periodic", 0.0, "glauber", RS, 3.0),
    (3, "periodic", 0.0, "wolff", None, 2.0),
    (3, "periodic", 0.0, "wolff", None, 3.0),
    (3, "plus", 0.3, "metropolis", RS, 2.5),
    (3, "plus", -0.2, "glauber", RS, 2.5),
    (4, "periodic", 0.0, "metropolis", CB, 2.0),
    (4, "periodic", 0.0, "metropolis", RS, 2.0),
    (4, "periodic", 0.0, "glauber", CB, 3.0),
    (4, "periodic", 0.0, "glauber", RS, 3.0),
    (4, "periodic", 0.0, "wolff", None, 2.5),
    (4, "plus", 0.25, "metropolis", CB, 2.5),
    (4, "plus", 0.25, "metropolis", RS, 2.5),
    (4, "plus", 0.0, "glauber", CB, 2.0),
    (4, "periodic", -0.4, "glauber", CB, 2.2),
    (4, "periodic", -0.4, "glauber", RS, 2.2),
]


@pytest.mark.parametrize("L,boundary,h,dynamics,update,T", CASES)
def test_histogram_matches_boltzmann(L, boundary, h, dynamics, update, T):
    R = 20000
    # 300 sweeps: enough to leave the wrong-sign metastable state of a 4 x 4
    # torus in a field (60 Glauber sweeps were measured not to be)
    lat = Lattice(L, R, dynamics, boundary, h, seed=11 + L, initial="random", update=update,
                  purpose="equilibrium")
    assert lat.update == update
    lat.run(300, T, record_every=300)
    B, M = bond_sum_and_m(lat.spins, boundary)
    B_ex, M_ex, w = boltzmann(L, T, boundary, h)
    assert chi_square_pvalue(B, M, B_ex, M_ex, w) > P_MIN


def test_checkerboard_metropolis_on_the_L2_torus_is_refused():
    """Its chain is reducible: a stripe state flips every spin at every half-sweep
    (dE = 0 everywhere), a period-2 orbit that never leaves e = 0."""
    with pytest.raises(ValueError, match="not ergodic"):
        Lattice(2, 4, "metropolis", "periodic", update="checkerboard", purpose="equilibrium")
    # glauber (flip probability 1/2 at dE = 0) and the + border are fine (tested above)
    Lattice(2, 4, "glauber", "periodic", update="checkerboard")


@pytest.mark.parametrize("L", [4, 8])
def test_checkerboard_metropolis_on_a_torus_cycles_in_stripes_and_equilibrium_avoids_it(L):
    """Width-1 stripes: every neighbour sum is 0, so each half-sweep of checkerboard
    Metropolis flips its whole sublattice with certainty; the chain stays in that
    cycle forever (found by the packed kernel's tests: the B = M = 0 state of 4 x 4
    came up 157 times in 192,000 replicas against 31 expected). equilibrium()
    therefore uses random-sequential Metropolis on periodic lattices."""
    from isingneuron.engine import resolve_update
    stripes = np.where(np.arange(L)[:, None] % 2 == 0, 1, -1) * np.ones((1, L), int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CheckerboardMetropolisWarning)
        lat = Lattice(L, 8, "metropolis", initial=stripes, update="checkerboard",
                      parallel="replicas")
    tr = lat.run(200, 1.5, record_every=1)
    assert np.all(tr.B == 0) and np.all(tr.M == 0)            # never left the cycle
    s = lat.spins
    assert np.all(s[:, 1:, :] == -s[:, :-1, :]) and np.all(s == s[:, :, :1])   # stripes
    assert resolve_update(None, "metropolis", L, "periodic", "equilibrium") == RS
    assert resolve_update(None, "metropolis", L, "plus", "equilibrium") == CB
    assert resolve_update(None, "glauber", L, "periodic", "equilibrium") == CB
    glauber = Lattice(L, 8, "glauber", initial=stripes, update="checkerboard",
                      parallel="replicas")
    assert np.any(glauber.run(200, 1.5, record_every=1).B != 0)   # Glauber leaves it


def test_L2_equilibrium_metropolis_matches_exact():
    """The case reported wrong (e = -1.862 against -1.801 at T = 2, z > 100)."""
    from isingneuron.equilibrium import equilibrium
    r = equilibrium(2, 2.0, "metropolis", initial="random", replicas=16, seed=3)
    assert r.update == RS
    B_ex, M_ex, w = boltzmann(2, 2.0)
    e_ex = np.sum(w * -B_ex) / 4
    am_ex = np.sum(w * np.abs(M_ex)) / 4
    assert abs(r.mean["e"] - e_ex) < 4 * r.error["e"], (r.mean["e"], e_ex, r.error["e"])
    assert abs(r.mean["abs_m"] - am_ex) < 4 * r.error["abs_m"]


def test_histogram_test_detects_wrong_temperature():
    """The chi-square test above has power: samples at T = 2.2 fail against T = 2.0."""
    lat = Lattice(3, 20000, "metropolis", seed=5)
    lat.run(300, 2.2, record_every=300)
    B, M = bond_sum_and_m(lat.spins, "periodic")
    B_ex, M_ex, w = boltzmann(3, 2.0)
    assert chi_square_pvalue(B, M, B_ex, M_ex, w) < P_MIN


@pytest.mark.parametrize("dynamics", ["metropolis", "glauber", "wolff"])
@pytest.mark.parametrize("T", [2.0, 3.0])
def test_L4_means_match_exact_enumeration(dynamics, T):
    L, N = 4, 16
    B_ex, M_ex, w = boltzmann(L, T)
    exact = {"e": np.sum(w * -B_ex) / N, "absm": np.sum(w * np.abs(M_ex)) / N,
             "m2": np.sum(w * M_ex.astype(float) ** 2) / N**2}
    R, n_therm, n = 128, 200, 1500
    update = "checkerboard" if dynamics == "metropolis" else None
    with pytest.warns(CheckerboardMetropolisWarning) if update else contextlib.nullcontext():
        tr = simulate(L, T, n_therm + n, dynamics, replicas=R, seed=3, update=update)
    e, m = tr.energy[:, n_therm:], tr.m[:, n_therm:]
    per_replica = {"e": e.mean(1), "absm": np.abs(m).mean(1), "m2": (m ** 2).mean(1)}
    for name, x in per_replica.items():
        mean, err = x.mean(), x.std(ddof=1) / np.sqrt(R)
        assert abs(mean - exact[name]) < 4 * err, (name, mean, exact[name], err)


def test_recorded_observables_match_definition():
    """m and energy records equal those recomputed from the returned spins."""
    for L, boundary, h, dyn in [(6, "plus", 0.3, "metropolis"), (8, "periodic", 0.0, "glauber"),
                                (5, "plus", -0.1, "glauber"), (2, "periodic", 0.2, "metropolis"),
                                (6, "periodic", 0.0, "wolff")]:
        tr = simulate(L, 2.4, 7, dyn, replicas=5, seed=9, boundary=boundary, field=h)
        s = tr.spins.astype(np.int64)
        M = s.sum(axis=(1, 2))
        if boundary == "periodic":
            B = (s * np.roll(s, -1, 1)).sum((1, 2)) + (s * np.roll(s, -1, 2)).sum((1, 2))
        else:
            B = bond_sum_and_m(tr.spins, "plus")[0]
        np.testing.assert_array_equal(tr.m[:, -1], M / L**2)
        np.testing.assert_allclose(tr.energy[:, -1], (-B - h * M) / L**2, rtol=0, atol=1e-12)


# ---------------------------------------------------------------- determinism
def _run(**kw):
    args = dict(L=16, temperatures=2.1, n_sweeps=40, dynamics="metropolis", replicas=6,
                seed=1234, boundary="plus", field=0.05)
    args.update(kw)
    return simulate(**args)


def _same(a, b):
    return (np.array_equal(a.m, b.m) and np.array_equal(a.energy, b.energy)
            and np.array_equal(a.spins, b.spins))


def test_same_seed_identical_and_seeds_differ():
    assert _same(_run(), _run())
    assert not np.array_equal(_run().spins, _run(seed=1235).spins)


@pytest.mark.parametrize("dynamics,update", [("metropolis", None), ("glauber", None),
                                             ("glauber", "checkerboard"), ("wolff", None)])
def test_thread_count_does_not_change_results(dynamics, update):
    kw = dict(dynamics=dynamics, boundary="periodic", field=0.0, L=12, update=update)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = _run(**kw)
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        two = _run(**kw)
    finally:
        numba.set_num_threads(before)
    assert _same(one, two)


def test_rows_and_replicas_parallel_identical():
    kw = dict(dynamics="glauber", update="checkerboard")
    assert _same(_run(parallel="rows", **kw), _run(parallel="replicas", **kw))


@pytest.mark.parametrize("update", ["random_sequential", "checkerboard"])
def test_chunked_run_identical_to_one_call(update):
    whole = _run(n_sweeps=40, record_every=2, dynamics="glauber", update=update)
    lat = Lattice(16, 6, "glauber", "plus", 0.05, seed=1234, update=update)
    parts = [lat.run(10, 2.1, record_every=2) for _ in range(4)]
    from isingneuron.traces import Traces
    joined = Traces.concatenate(parts)
    assert _same(whole, joined)
    np.testing.assert_array_equal(whole.t, joined.t)


def test_replica_streams_do_not_depend_on_population_size():
    big = _run(replicas=6)
    small = _run(replicas=3)
    np.testing.assert_array_equal(big.m[:3], small.m)


def test_per_replica_temperatures_and_time_convention():
    temps = np.array([np.full(6, 1e-3), np.full(6, 50.0)])  # frozen vs hot
    tr = simulate(8, temps, 6, replicas=2, seed=1, initial="up", record_every=2)
    np.testing.assert_array_equal(tr.t, [2, 4, 6])
    np.testing.assert_array_equal(tr.T, temps[:, 1::2])
    assert np.all(tr.m[0] == 1.0)          # T -> 0: no uphill flip accepted
    assert tr.m[1, -1] < 0.6               # T = 50: disordered within a few sweeps


# ------------------------------------------------------------------- layouts
@pytest.mark.parametrize("L", [2, 4, 6, 10])
def test_split_layout_round_trip(L):
    x = initial_spins(L, 3, "random", seed=2)
    np.testing.assert_array_equal(to_natural(to_split(x)), x)
    sp = to_split(x)
    for c in range(2):
        for i in range(L):
            for k in range(L // 2):
                assert sp[0, c, i, k] == x[0, i, 2 * k + (i + c) % 2]


def test_random_initial_state_is_balanced_and_seeded():
    a = initial_spins(64, 4, "random", seed=1)
    assert abs(a.mean()) < 4 / np.sqrt(a.size)      # 4 sigma of a fair +-1 mean
    assert not np.array_equal(a, initial_spins(64, 4, "random", seed=2))
    np.testing.assert_array_equal(a, initial_spins(64, 4, "random", seed=1))


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("kw,words", [
    (dict(L=1), "L = 1"),
    (dict(L=8.5), "L = 8.5"),
    (dict(replicas=0), "replicas = 0"),
    (dict(dynamics="kawasaki"), "dynamics = 'kawasaki'"),
    (dict(boundary="open"), "boundary = 'open'"),
    (dict(dynamics="wolff", boundary="plus"), "wolff"),
    (dict(temperatures=-1.0), "temperature"),
    (dict(temperatures=np.array([2.0, np.nan] * 5)), "temperature nan: every temperature"),
    (dict(temperatures=np.ones(3)), "3 values"),
    (dict(seed=-1), "seed"),
    (dict(record_every=3, n_sweeps=10), "multiple"),
    (dict(initial="hot"), "initial"),
    (dict(temperatures=True), "temperatures = True"),
    (dict(temperatures=2 + 1j), "temperatures = (2+1j)"),
    (dict(field=np.ones(3)), "field = array("),
    (dict(n_sweeps=0), "n_sweeps = 0"),
    (dict(L=10**6), "at most 46340"),
])
def test_bad_parameters_name_the_problem(kw, words):
    args = dict(L=8, temperatures=2.0, n_sweeps=10)
    args.update(kw)
    with pytest.raises(ValueError, match=None) as info:
        simulate(**args)
    assert words in str(info.value)


def test_random_start_is_keyed_per_replica_and_site_and_built_in_place():
    """The documented keying (one SplitMix64 output per (replica, site), its top bit),
    computed here in one piece with NumPy, equals the engine's in-place kernel; and
    building it needs nothing beyond the lattice (1 byte/spin) but a key per replica,
    for large and small lattices alike."""
    import tracemalloc
    from isingneuron._rng import STREAM_INITIAL
    from isingneuron.engine import _mix64_np
    g = np.uint64(0x9E3779B97F4A7C15)
    for L, R, seed in [(2, 3, 0), (7, 5, 11), (64, 33, 5), (300, 2, 9), (8, 20000, 1)]:
        with np.errstate(over="ignore"):
            rk = _mix64_np(_mix64_np(np.uint64(seed) ^ np.uint64(STREAM_INITIAL) * g)
                           ^ (np.arange(R, dtype=np.uint64) * g))
            bits = _mix64_np(rk[:, None] + np.arange(L * L, dtype=np.uint64)[None, :] * g)
        expect = (2 * (bits >> np.uint64(63)).astype(np.int8) - 1).reshape(R, L, L)
        np.testing.assert_array_equal(initial_spins(L, R, "random", seed), expect)
    initial_spins(4, 1, "random", 3)                  # compiled before measuring
    for L, R in [(512, 64), (64, 1)]:      # (tiny L: ~1 KiB of NumPy array headers)
        tracemalloc.start()
        initial_spins(L, R, "random", 3)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert (peak - L * L * R) / (L * L * R) < 2.0, (L, R, peak)   # the goal


def test_engine_dynamics_codes_are_the_kernels():
    """engine spells the kernels' rule codes out (it loads the kernels lazily)."""
    from isingneuron import engine, kernels
    assert engine._DYN_CODE == {"metropolis": kernels.METROPOLIS, "glauber": kernels.GLAUBER}


def test_random_sequential_computed_neighbours_equal_the_table():
    """Large lattices (L >= kernels._RS_ARITH_MIN_L) compute neighbour indices instead
    of reading the table; the two give identical codes, flips and (M, B) for every
    small L and both boundaries (wrap-around cases included), on the same draws."""
    from numba import njit
    from isingneuron import kernels as K

    @njit
    def both(sf, L, plus, z, tab32):
        N = L * L
        nbr = K.neighbour_table(L, plus)
        c1 = np.empty(N + 1, np.uint8)
        c2 = np.empty(N + 1, np.uint8)
        K._rs_codes(sf, nbr, L, plus, c1)
        K._rs_codes_arith(sf, nbr, L, plus, c2)
        same_codes = np.all(c1 == c2)
        m1 = K._rs_attempts(c1, nbr, z, tab32, L, N, plus, 0, 0)
        m2 = K._rs_attempts_arith(c2, nbr, z, tab32, L, N, plus, 0, 0)
        return same_codes, np.all(c1[:N] == c2[:N]), m1, m2

    rng = np.random.default_rng(4)
    for L in (2, 3, 4, 5, 8, 13):
        for plus in (False, True):
            sf = rng.choice(np.array([-1, 1], np.int8), L * L)
            z = rng.integers(0, 2**63, 20 * L * L, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
            tab32 = rng.integers(0, 2**32, 32, dtype=np.uint64).astype(np.uint32)
            same_codes, same_after, m1, m2 = both(sf, L, plus, z, tab32)
            assert same_codes and same_after and m1 == m2, (L, plus)


def test_resources_mirror_the_kernel_constants():
    """resources spells out kernel constants (it must not import numba)."""
    from isingneuron import kernels, resources
    assert resources._RS_BATCH == kernels._RS_BATCH
    assert resources._RS_ARITH_MIN_L == kernels._RS_ARITH_MIN_L


@pytest.mark.parametrize("large", [False, True])
def test_random_sequential_replica_ranges_on_threads_do_not_change_results(large):
    """The random-sequential kernels split the replicas into ranges, one per thread
    (Python threads, the kernel without the GIL): 1, 2 or 3 threads, ranges of
    unequal sizes (R = 5), identical spins and records."""
    from isingneuron import kernels as K
    kern = K.random_sequential_replicas_large if large else K.random_sequential_replicas
    R, n, L = 5, 12, 6
    temps = np.random.default_rng(3).uniform(1.0, 3.5, (R, n))
    before = numba.get_num_threads()
    out = []
    try:
        for threads in sorted({1, min(2, numba.config.NUMBA_NUM_THREADS),
                               min(3, numba.config.NUMBA_NUM_THREADS)}):
            numba.set_num_threads(threads)
            sp = initial_spins(L, R, "random", 2)
            M = np.zeros((R, n), np.int32)
            B = np.zeros((R, n), np.int32)
            kern(sp, temps, 0.0, K.GLAUBER, True, np.uint64(4), 0, 1, M, B)
            out.append((sp, M, B))
    finally:
        numba.set_num_threads(before)
    for run in out[1:]:
        for a, b in zip(out[0], run):
            np.testing.assert_array_equal(a, b)
    assert len({tuple(row) for row in out[0][1]}) == R      # replicas differ


@pytest.mark.parametrize("L,plus", [(2, False), (5, True), (6, False), (9, False)])
def test_large_lattice_random_sequential_kernel_equals_the_table_kernel(L, plus):
    """The kernel the engine runs from L = 512 on (computed neighbours) gives the same
    spins and records as the table kernel, on any L (here small ones, with wraps)."""
    from isingneuron import kernels as K
    R, n = 3, 20
    temps = np.random.default_rng(L).uniform(1.0, 3.5, (R, n))
    out = []
    for kern in (K.random_sequential_replicas, K.random_sequential_replicas_large):
        sp = initial_spins(L, R, "random", 5)
        M = np.zeros((R, n), np.int32)
        B = np.zeros((R, n), np.int32)
        kern(sp, temps, 0.2, K.METROPOLIS, plus, np.uint64(9), 3, 1, M, B)
        out.append((sp, M, B))
    for a, b in zip(*out):
        np.testing.assert_array_equal(a, b)


def test_replica_ranges_end_before_an_exception_or_interrupt_is_raised():
    """on_threads returns or raises only once every range has ended: an error in a
    range, or a KeyboardInterrupt while the caller waits, is raised after the
    others are done (no range goes on writing the state after the call)."""
    import _thread
    import threading
    import time
    from isingneuron._threads import on_threads
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("needs 2 threads")
    before = numba.get_num_threads()
    numba.set_num_threads(2)
    try:
        done = np.zeros(4, bool)

        def slow(out, r0, r1):                  # the second range runs 0.4 s
            time.sleep(0.4 if r0 > 0 else 0.0)
            out[r0:r1] = True

        timer = threading.Timer(0.1, _thread.interrupt_main)
        timer.start()
        t0 = time.perf_counter()
        with pytest.raises(KeyboardInterrupt):
            on_threads(slow, 4, (done,))
        assert done.all() and time.perf_counter() - t0 >= 0.39

        done[:] = False

        def failing(out, r0, r1):
            if r0 == 0:
                raise RuntimeError("range 0")
            time.sleep(0.3)
            out[r0:r1] = True

        with pytest.raises(RuntimeError, match="range 0"):
            on_threads(failing, 4, (done,))
        assert done[2:].all() and not done[:2].any()
    finally:
        numba.set_num_threads(before)
