"""The blocked kernel (replicas innermost) against the replica kernel.

``kernels.checkerboard_blocks`` must reproduce ``kernels.checkerboard_replicas``
bit for bit: same spins, same recorded m and energy, for every size, boundary,
field, dynamics, block width (padded last blocks included) and thread count,
and whether the replicas of a block share one temperature (the flat fast
path) or not (per-lane thresholds).
"""
import numba
import numpy as np
import pytest
from numba import njit

from isingneuron import kernels
from isingneuron._rng import row_key, row_key_final, sweep_key
from isingneuron.engine import (Lattice, from_blocks, initial_spins, simulate, to_blocks,
                                to_split)
from isingneuron.traces import Traces

# the blocked layout is a checkerboard kernel; its Metropolis rows are tested for
# identity with the replica kernel, not for kinetics
pytestmark = pytest.mark.filterwarnings("ignore::isingneuron.engine.CheckerboardMetropolisWarning")


@njit(cache=True)
def _keys_both_ways(seeds, replicas, sweeps, colours, rows):
    n = seeds.shape[0]
    a = np.empty(n, np.uint64)
    b = np.empty(n, np.uint64)
    for t in range(n):
        a[t] = row_key(seeds[t], replicas[t], sweeps[t], colours[t], rows[t])
        b[t] = row_key_final(sweep_key(seeds[t], replicas[t], sweeps[t]), colours[t], rows[t])
    return a, b


def test_split_row_key_is_bit_identical():
    rng = np.random.default_rng(0)
    n = 2000
    seeds = rng.integers(0, 2**64, n, dtype=np.uint64)
    seeds[:3] = [0, 1, 2**64 - 1]
    a, b = _keys_both_ways(seeds, rng.integers(0, 10**6, n), rng.integers(0, 10**9, n),
                           rng.integers(0, 5, n), rng.integers(0, 4096, n))
    np.testing.assert_array_equal(a, b)


def _temperatures(R, n, rng):
    """Per-replica temperatures, except sweeps 2-3 (one temperature for all)
    and sweeps >= 5 (constant in time): both kernel paths, switching mid-run."""
    temps = rng.uniform(1.2, 4.0, (R, n))
    temps[:, 2:4] = temps[0, 2:4]
    temps[:, 5:] = temps[:, 4:5]
    return temps


UNSET = np.iinfo(np.int32).min


def _both_kernels(L, R, W, h, dynamics, plus, n=8, record_every=2, seed=2**63 + 12345,
                  sweep0=17):
    rng = np.random.default_rng(1000 * L + R)
    nat = initial_spins(L, R, "random", seed=L + R)
    temps = _temperatures(R, n, rng)
    sp = to_split(nat)
    bp = to_blocks(nat, W)
    # the engine's record arrays (exact M, B as int32): no second compilation for floats
    out = [np.full((R, n // record_every), UNSET, np.int32) for _ in range(4)]
    kernels.checkerboard_replicas(sp, temps, h, dynamics, plus, np.uint64(seed), sweep0,
                                  record_every, out[0], out[1])
    kernels.checkerboard_blocks(bp, temps, h, dynamics, plus, np.uint64(seed), sweep0,
                                record_every, out[2], out[3])
    return from_blocks(bp, R), out, to_split(from_blocks(bp, R)), sp


@pytest.mark.parametrize("L", [2, 4, 6, 8, 10, 14])
@pytest.mark.parametrize("dynamics", [kernels.METROPOLIS, kernels.GLAUBER])
@pytest.mark.parametrize("plus", [False, True])
@pytest.mark.parametrize("h", [0.0, 0.3, -0.7])
def test_blocked_kernel_identical_to_replica_kernel(L, dynamics, plus, h):
    for R, W in [(1, 16), (5, 3), (17, 16), (33, 32), (40, 16), (7, 1)]:
        _, (m1, e1, m2, e2), sp_blocks, sp = _both_kernels(L, R, W, h, dynamics, plus)
        assert np.array_equal(sp_blocks, sp), (R, W)
        assert np.array_equal(m1, m2), (R, W)
        assert np.array_equal(e1, e2), (R, W)
        assert not (m2 == UNSET).any()


def test_blocked_kernel_moves_spins():
    """The comparison above is not vacuous: spins do flip."""
    nat0 = initial_spins(8, 33, "random", seed=8 + 33)
    nat, *_ = _both_kernels(8, 33, 32, 0.0, kernels.METROPOLIS, False)
    assert 0.2 < np.mean(nat != nat0) < 0.8


@pytest.mark.parametrize("L", [2, 4, 6, 10])
@pytest.mark.parametrize("W", [1, 3, 16, 32])
def test_blocks_round_trip(L, W):
    x = initial_spins(L, 5, "random", seed=3)
    bp = to_blocks(x, W)
    G = -(-5 // W)
    assert bp.shape == (G, 2, L, L // 2, W) and bp.flags.c_contiguous
    np.testing.assert_array_equal(from_blocks(bp, 5), x)
    sp = to_split(x)
    for r in range(5):
        np.testing.assert_array_equal(bp[r // W, ..., r % W], sp[r])
    assert np.all(bp.transpose(0, 4, 1, 2, 3).reshape(G * W, 2, L, L // 2)[5:] == 1)


# ---------------------------------------------------------------- via Lattice
def _run(**kw):
    args = dict(L=12, temperatures=2.1, n_sweeps=12, dynamics="metropolis", replicas=21,
                seed=99, boundary="plus", field=0.05, record_every=3, update="checkerboard")
    args.update(kw)
    return simulate(**args)


def _same(a, b):
    return (np.array_equal(a.m, b.m) and np.array_equal(a.energy, b.energy)
            and np.array_equal(a.spins, b.spins))


@pytest.mark.parametrize("dynamics", ["metropolis", "glauber"])
@pytest.mark.parametrize("boundary,field", [("periodic", 0.0), ("plus", 0.05)])
def test_blocks_option_identical_to_replicas(dynamics, boundary, field):
    kw = dict(dynamics=dynamics, boundary=boundary, field=field)
    temps = np.random.default_rng(4).uniform(1.5, 3.0, (21, 12))   # one per replica and sweep
    for T in (2.1, temps):
        a = _run(parallel="blocks", temperatures=T, **kw)
        b = _run(parallel="replicas", temperatures=T, **kw)
        assert _same(a, b)


def test_blocks_lattice_state_and_chunks():
    lat = Lattice(8, 21, "glauber", "periodic", 0.0, seed=5, parallel="blocks",
                  update="checkerboard")
    assert lat._block_width in (16, 32) and lat._state.ndim == 5
    ref = Lattice(8, 21, "glauber", "periodic", 0.0, seed=5, parallel="replicas",
                  update="checkerboard")
    np.testing.assert_array_equal(lat.spins, ref.spins)
    parts = [lat.run(4, 2.3, record_every=2) for _ in range(3)]
    whole = ref.run(12, 2.3, record_every=2)
    joined = Traces.concatenate(parts)
    assert _same(whole, joined)
    np.testing.assert_array_equal(whole.t, joined.t)
    for x, y in zip(lat.observables(), ref.observables()):
        np.testing.assert_array_equal(x, y)


def test_blocks_option_falls_back_where_not_applicable():
    """Random-sequential updates and Wolff keep the natural layout."""
    for L, dyn, update in [(5, "metropolis", None), (12, "glauber", "random_sequential"),
                           (6, "wolff", None)]:
        kw = dict(L=L, dynamics=dyn, field=0.0, boundary="periodic", update=update)
        lat = Lattice(L, 21, dyn, "periodic", 0.0, seed=99, parallel="blocks", update=update)
        assert lat._block_width == 0 and lat._state.ndim == 3
        assert _same(_run(parallel="blocks", **kw), _run(parallel="replicas", **kw))


def test_auto_picks_blocks_for_populations_of_small_lattices():
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        assert Lattice(16, 32, "glauber", update="checkerboard")._block_width
        assert Lattice(32, 32, "glauber", update="checkerboard")._block_width
        assert Lattice(32, 64, "glauber", update="checkerboard")._packed   # bit-packed from 64
        assert not Lattice(32, 8, "glauber", update="checkerboard")._block_width
        assert not Lattice(64, 1, "glauber", update="checkerboard")._block_width
        assert not Lattice(1024, 2, "glauber", update="checkerboard")._block_width
        assert not Lattice(64, 32, "glauber")._block_width      # random-sequential
    finally:
        numba.set_num_threads(before)


@pytest.mark.parametrize("dynamics", ["metropolis", "glauber"])
def test_blocks_thread_count_does_not_change_results(dynamics):
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = _run(dynamics=dynamics, parallel="blocks", replicas=50)   # 2-4 blocks
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        two = _run(dynamics=dynamics, parallel="blocks", replicas=50)
    finally:
        numba.set_num_threads(before)
    assert _same(one, two)
    assert _same(one, _run(dynamics=dynamics, parallel="replicas", replicas=50))


def test_block_choice_knows_where_the_replica_kernel_goes_flat():
    from isingneuron import engine
    assert engine._FLAT_MAX_L == kernels._FLAT_MAX_L
