"""The multi-spin-coded (packed) checkerboard kernel: 64 replicas per uint64 word.

What is tested, and how
-----------------------
* Implementation: ``kernels_packed.checkerboard_packed`` against a plain
  Python re-implementation of its algorithm (per lane, per site: the class,
  the 64-bit threshold, the bit-serial comparison with the lane's bits of the
  counter-based random words) -- identical spins, for sizes with one and
  several chunks of rows, both rules, both boundaries, with and without a
  field, with a shared schedule and with lanes of one word at different
  temperatures (through every switch of the kernel between its shared and
  per-lane paths); records against the exact (M, B) of the final spins.
* Lane independence: changing the schedule of one lane changes no other
  lane's records or spins, bit for bit, and the changed lane's are those it
  has when every lane shares its schedule (the per-lane path is the shared
  one).
* Determinism: identical results for 1 and 2 threads, chunked and in one
  call, and whatever the padding lanes of the last word hold.
* Equilibrium: chi-square of the final (B, M) of independent replicas (each
  lane its own chain) against exact enumeration of 4 x 4 lattices, with a
  power check (a wrong temperature fails); and with the lanes of every word
  at three temperatures, each temperature's lanes against its own exact
  distribution.
* Kinetics: (B, M) histograms along a quench-and-reheat protocol against the
  exact master equation of the 4 x 4 checkerboard sweep (the protocol,
  times and thresholds of ``test_kinetics_exact``), with power checks (the
  wrong rule and the wrong update order fail); and with the lanes of every
  word running two different protocols, each against its own exact
  kinetics (and not the other's).
* Independence: the correlation between replicas of m(t) and m(t)**2 after a
  quench (lanes of one word, and lanes of different words) is zero within
  4.5 standard errors, and the same test flags lanes that share their random
  bits (power).
* Agreement in distribution with the unpacked checkerboard Glauber kernel
  after a quench (means of |m| and m**2 at several times, and of the
  ordering time, within 4.5 combined standard errors).
* Integration: what ``Lattice``/``simulate`` pick, the refusals, and per-replica
  schedules in the packed layout.
"""
import math
import warnings

import numba
import numpy as np
import pytest
from scipy import stats

from isingneuron import kernels, kernels_packed as kp
from isingneuron.engine import CheckerboardMetropolisWarning, Lattice, initial_spins, simulate
from isingneuron.traces import Traces

from enumeration import boltzmann
from kinetics_exact import chi_square_bm, exact_bm_marginals, sample_bm
from test_kinetics_exact import P_PASS, P_POWER, PROTOCOL, TIMES

pytestmark = pytest.mark.filterwarnings("ignore::isingneuron.engine.CheckerboardMetropolisWarning")

MASK = (1 << 64) - 1
GOLDEN, M1, M2 = 0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB


# ---------------------------------------------------------------- reference
def _mix64(z):
    z &= MASK
    z = ((z ^ (z >> 30)) * M1) & MASK
    z = ((z ^ (z >> 27)) * M2) & MASK
    return z ^ (z >> 31)


def _row_key(seed, replica, sweep, colour, row):
    z = _mix64(seed + GOLDEN)
    z = _mix64(z ^ ((replica * GOLDEN + M1) & MASK))
    z = _mix64(z ^ ((sweep * GOLDEN + M2) & MASK))
    return _mix64(z ^ ((colour * M1 + row * GOLDEN) & MASK))


def _flip_probability(rule, T, h, s, n):
    """The kernel's class probability: Glauber g(n up), Metropolis (s, n aligned)."""
    if rule == "glauber":
        return 1.0 / (1.0 + math.exp(2.0 * (2.0 * n - 4.0 + h) / T))
    dE = 2.0 * (2.0 * n - 4.0) + 2.0 * h * s
    return 1.0 if dE <= 0.0 else math.exp(-dE / T)


def reference_sweeps(nat, temps, h, rule, plus, seed, sweep0):
    """Spins after the packed kernel's sweeps, lane by lane in plain Python.

    ``temps``: ``(n,)`` shared by every replica, or ``(R, n)``: replica r runs
    sweep s at ``temps[r, s]``, whatever the other lanes of its word do.
    """
    s = nat.astype(np.int64).copy()
    R, L, _ = s.shape
    L2 = L // 2
    RC = max(1, min(L, kp._CHUNK // L2))
    temps = np.broadcast_to(np.asarray(temps, float), (R, np.shape(temps)[-1]))
    for sw in range(temps.shape[1]):
        for c in range(2):
            new = s.copy()
            for i0 in range(0, L, RC):
                i1 = min(L, i0 + RC)
                nw = (i1 - i0) * L2
                for r in range(R):
                    T = temps[r, sw]
                    g, b = divmod(r, kp.LANES)
                    key = _row_key(seed, g, sweep0 + sw, kp.STREAM_PACKED + c, i0)
                    for i in range(i0, i1):
                        for k in range(L2):
                            j = 2 * k + (i + c) % 2
                            w = (i - i0) * L2 + k
                            nb = []
                            for a, bb in ((i - 1, j), (i + 1, j), (i, j - 1), (i, j + 1)):
                                if 0 <= a < L and 0 <= bb < L:
                                    nb.append(s[r, a, bb])
                                else:
                                    nb.append(1 if plus else s[r, a % L, bb % L])
                            sp = s[r, i, j]
                            if rule == "glauber":
                                n = sum(x > 0 for x in nb)
                            else:
                                n = sum(x == sp for x in nb)
                            p = _flip_probability(rule, T, h, sp, n)
                            if p >= 1.0:
                                flip = True
                            else:
                                t = int(np.floor(p * 2.0 ** 64))
                                lt = False
                                for lev in range(64):
                                    u = _mix64(key + (lev * nw + w + 1) * GOLDEN)
                                    ub, tb = (u >> b) & 1, (t >> (63 - lev)) & 1
                                    if ub != tb:
                                        lt = tb == 1
                                        break
                                flip = lt if (rule == "metropolis" or sp > 0) else not lt
                            if flip:
                                new[r, i, j] = -sp
            s = new
    return s.astype(np.int8)


UNSET = np.iinfo(np.int32).min


def _packed_run(nat, temps, h, rule, plus, seed=7, sweep0=3, record_every=1):
    """The kernel on ``nat`` at ``temps`` ((n,) shared or (R, n) per replica)."""
    R = nat.shape[0]
    P = kp.to_packed(nat)
    n = np.shape(temps)[-1]
    m = np.full((R, n // record_every), UNSET, np.int32)     # the exact records M, B
    e = np.full_like(m, UNSET)
    kp.checkerboard_packed(P, np.ascontiguousarray(np.broadcast_to(temps, (R, n))), h,
                           kp.GLAUBER if rule == "glauber" else kp.METROPOLIS, plus,
                           np.uint64(seed), sweep0, record_every, m, e)
    return kp.from_packed(P, R), m, e


@pytest.mark.parametrize("L,R", [(2, 3), (4, 66), (6, 5), (34, 2)])
@pytest.mark.parametrize("rule", ["metropolis", "glauber"])
@pytest.mark.parametrize("plus,h", [(False, 0.0), (True, 0.0), (True, 0.3), (False, -0.4)])
def test_kernel_matches_reference_implementation(L, R, rule, plus, h):
    """Bit for bit: classes, chunks of rows (L = 34: three chunks), keys, counters,
    thresholds and the bit-serial comparison; replica 65 is lane 1 of word 1."""
    nat = initial_spins(L, R, "random", seed=L)
    temps = np.array([3.0, 1.2, 2.2])
    got, _, _ = _packed_run(nat, temps, h, rule, plus)
    ref = reference_sweeps(nat, temps, h, rule, plus, seed=7, sweep0=3)
    np.testing.assert_array_equal(got, ref)
    assert np.any(got != nat)


LANE_T = (0.8, 1.3, 2.0, 2.6, 4.0)


def lane_schedules(R, seed=5):
    """Five sweeps of per-replica temperatures that visit every path of the kernel.

    Sweep 0: shared by all (the fast path). 1: each replica its own (from
    LANE_T: lanes of one word at different temperatures). 2: about half the
    replicas keep sweep 1's (their cached thresholds); replicas 64.. share one
    (their word on the fast path while word 0 is not). 3: shared again, at
    sweep 0's temperature (the shared words must be rebuilt after per-lane
    ones). 4: sweep 2's again (no lane changed, but the per-lane words must
    be rebuilt after the shared ones).
    """
    rng = np.random.default_rng(seed)
    T = np.empty((R, 5))
    T[:, 0] = 3.0
    T[:, 1] = rng.choice(LANE_T, R)
    T[:, 2] = np.where(rng.random(R) < 0.5, T[:, 1], rng.choice(LANE_T, R))
    T[64:, 2] = 1.7
    T[:, 3] = 3.0
    T[:, 4] = T[:, 2]
    return T


@pytest.mark.parametrize("L,R", [(4, 66), (6, 5), (34, 3)])
@pytest.mark.parametrize("rule", ["metropolis", "glauber"])
@pytest.mark.parametrize("plus,h", [(False, 0.0), (True, 0.0), (True, 0.3), (False, -0.4)])
def test_kernel_matches_reference_with_per_lane_temperatures(L, R, rule, plus, h):
    """Bit for bit with lanes of one word at different temperatures (``lane_schedules``):
    the bit-transposed thresholds of the first levels, those gathered for the deep
    levels (L = 34: gathered in one chunk, reused in the next), the per-lane
    certain flips, the cache of each lane's thresholds and the switches between
    the shared and the per-lane path. The padding lanes run at the last replica's
    temperatures (R = 5, 3)."""
    nat = initial_spins(L, R, "random", seed=L + 3)
    temps = lane_schedules(R)
    got, _, _ = _packed_run(nat, temps, h, rule, plus)
    ref = reference_sweeps(nat, temps, h, rule, plus, seed=7, sweep0=3)
    np.testing.assert_array_equal(got, ref)
    assert np.any(got != nat)


@pytest.mark.parametrize("L", [2, 4, 6, 10, 34, 64, 130])
@pytest.mark.parametrize("rule", ["metropolis", "glauber"])
@pytest.mark.parametrize("plus,h", [(False, 0.0), (True, 0.2), (False, -0.3)])
def test_records_are_the_exact_observables_of_the_spins(L, rule, plus, h):
    """Records are counted during the update from its own count planes: chunks
    of eight-word segments and a tail (L = 6: 2 + 2 words; 34: 31 + 7; 130:
    three-row chunks of 24 + 3), several chunks, border bonds."""
    R = 70
    nat = initial_spins(L, R, "random", seed=L + 1)
    temps = np.array([2.5, 1.5, 2.0, 1.0])
    spins, M_rec, B_rec = _packed_run(nat, temps, h, rule, plus, record_every=2)
    M, B = kernels.natural_MB(spins, plus)
    np.testing.assert_array_equal(M_rec[:, -1], M)
    np.testing.assert_array_equal(B_rec[:, -1], B)
    assert not (M_rec == UNSET).any() and not (B_rec == UNSET).any()


@pytest.mark.parametrize("L", [2, 4, 6, 10])
@pytest.mark.parametrize("R", [1, 63, 64, 65, 130])
def test_pack_round_trip(L, R):
    x = initial_spins(L, R, "random", seed=R)
    P = kp.to_packed(x)
    assert P.shape == (-(-R // 64), 2, L, L // 2) and P.dtype == np.uint64
    np.testing.assert_array_equal(kp.from_packed(P, R), x)
    # bit b of word g is replica 64 g + b (split layout: site (i, 2k + (i + c) % 2))
    r, i, k, c = R - 1, L - 1, 0, 1
    bit = (int(P[r // 64, c, i, k]) >> (r % 64)) & 1
    assert bit == (x[r, i, 2 * k + (i + c) % 2] > 0)
    # every bit against engine.to_split; the padding lanes (replicas >= R) are up
    from isingneuron.engine import to_split
    bits = (P[:, None] >> np.arange(64, dtype=np.uint64)[None, :, None, None, None]) & 1
    bits = bits.reshape((-1,) + P.shape[1:])                # (64 G, 2, L, L2)
    np.testing.assert_array_equal(bits[:R], to_split(x) > 0)
    assert (bits[R:] == 1).all()


def test_padding_lanes_and_population_size_do_not_change_real_lanes():
    """Replica r is lane r % 64 of word r // 64 whatever R is, and reads only its own bits."""
    L, n = 8, 12
    big = initial_spins(L, 128, "random", seed=1)
    small = big[:70].copy()
    temps = np.linspace(3.0, 1.0, n)
    for rule in ("metropolis", "glauber"):
        a, ma, _ = _packed_run(big, temps, 0.1, rule, False)
        b, mb, _ = _packed_run(small, temps, 0.1, rule, False)
        np.testing.assert_array_equal(a[:70], b)
        np.testing.assert_array_equal(ma[:70], mb)
        # padding of the small run (all up) differs from replicas 70.. of the big one
        assert np.any(big[70:] != 1)


@pytest.mark.parametrize("rule", ["metropolis", "glauber"])
@pytest.mark.parametrize("plus,h", [(False, 0.0), (True, 0.3)])
def test_one_lane_schedule_changes_no_other_lane(rule, plus, h):
    """Lanes are independent, and the per-lane path is the shared one, bit for bit.

    130 replicas (words 0, 1 full; word 2: replicas 128, 129 and padding that
    follows 129). A: all at schedule S (every word on the shared path). C: all
    at S2, which differs from S in sweeps 10..24 only. B: replicas 5, 70 and 129
    at S2, the others at S (words on the per-lane path in those sweeps, shared
    before and after). Every record (M and B after every sweep) and the final
    spins of every other replica are A's, and those of 5, 70 and 129 are C's;
    and they differ from A's (the test sees the change)."""
    L, R, n = 8, 130, 40
    nat = initial_spins(L, R, "random", seed=11)
    S = np.concatenate([np.full(10, 3.0), np.linspace(1.0, 3.0, n - 10)])
    S2 = S.copy()
    S2[10:25] = np.linspace(2.2, 1.4, 15)
    moved = [5, 70, 129]
    rest = np.setdiff1d(np.arange(R), moved)
    T = np.tile(S, (R, 1))
    T[moved] = S2
    A = _packed_run(nat, S, h, rule, plus)
    B = _packed_run(nat, T, h, rule, plus)
    C = _packed_run(nat, S2, h, rule, plus)
    for a, b, c in zip(A, B, C):          # spins, M records, B records
        np.testing.assert_array_equal(b[rest], a[rest])
        np.testing.assert_array_equal(b[moved], c[moved])
    for r in moved:
        assert np.any(A[1][r] != C[1][r]) or np.any(A[2][r] != C[2][r]), r


# ---------------------------------------------------------------- determinism
def _run(**kw):
    args = dict(L=12, temperatures=np.linspace(3.0, 1.2, 12), n_sweeps=12, dynamics="glauber",
                replicas=130, seed=99, boundary="plus", field=0.05, record_every=3,
                update="checkerboard", parallel="packed")
    args.update(kw)
    return simulate(**args)


def _same(a, b):
    return (np.array_equal(a.m, b.m) and np.array_equal(a.energy, b.energy)
            and np.array_equal(a.spins, b.spins))


@pytest.mark.parametrize("dynamics", ["metropolis", "glauber"])
def test_thread_count_does_not_change_results(dynamics):
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = _run(dynamics=dynamics)
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        two = _run(dynamics=dynamics)
    finally:
        numba.set_num_threads(before)
    assert _same(one, two)
    assert one.attrs["layout"] == "packed"


@pytest.mark.parametrize("boundary", ["periodic", "plus"])
def test_chunked_run_identical_to_one_call(boundary):
    T = np.linspace(3.0, 1.2, 12)
    whole = _run(boundary=boundary, temperatures=T)
    lat = Lattice(12, 130, "glauber", boundary, 0.05, seed=99, update="checkerboard",
                  parallel="packed")
    parts = [lat.run(3, T[3 * q:3 * q + 3], record_every=3) for q in range(4)]
    joined = Traces.concatenate(parts)
    assert _same(whole, joined)
    np.testing.assert_array_equal(whole.t, joined.t)
    M, B = kernels.natural_MB(lat.spins, boundary == "plus")
    np.testing.assert_allclose(lat.observables()[0], M / 144)


# ---------------------------------------------------------------- equilibrium
def _exact_bins(L, T, boundary, h):
    B, M, w = boltzmann(L, T, boundary, h)
    keys = B * 100003 + M
    uniq, first, inv = np.unique(keys, return_index=True, return_inverse=True)
    return B[first], M[first], np.bincount(inv, weights=w)


# Not here: periodic Metropolis at h = 0. Its checkerboard chain (every layout's)
# is reducible for every even L: the width-1 stripe states have nn = 0 at every
# site, so each half-sweep flips a whole sublattice with certainty, a period-2
# orbit that never ends. From a random 4 x 4 start it is reached with
# probability ~1e-3 (B = 0, M = 0 observed 5x too often in 192000 replicas,
# p ~ 1e-75, for the blocked kernel too); 20000 replicas do not resolve it.
EQ_CASES = [  # boundary, h, dynamics, T
    ("periodic", 0.0, "glauber", 3.0),
    ("periodic", 0.0, "glauber", 2.0),
    ("plus", 0.0, "metropolis", 2.0),
    ("plus", 0.0, "glauber", 2.0),
    ("plus", 0.25, "metropolis", 2.5),
    ("periodic", -0.4, "glauber", 2.2),
    ("periodic", -0.4, "metropolis", 2.2),
]
EQ_R = 64 * 313    # 20032 independent lanes in 313 words


def _final_bm(L, boundary, h, dynamics, T, seed, n=300):
    lat = Lattice(L, EQ_R, dynamics, boundary, h, seed=seed, initial="random",
                  update="checkerboard", purpose="equilibrium", parallel="packed")
    tr = lat.run(n, T, record_every=n)
    return sample_bm(tr.m[:, -1], tr.energy[:, -1], L * L, h)


@pytest.mark.parametrize("boundary,h,dynamics,T", EQ_CASES)
def test_equilibrium_matches_exact_enumeration(boundary, h, dynamics, T):
    """Final (B, M) of 20032 independent lanes after 300 sweeps (4 x 4): chi-square
    against the Boltzmann distribution, p > 1e-3 (bins expected < 5 pooled)."""
    B, M = _final_bm(4, boundary, h, dynamics, T, seed=21)
    Bb, Mb, P = _exact_bins(4, T, boundary, h)
    p, chi2, dof = chi_square_bm(B, M, Bb, Mb, P)
    assert p > 1e-3, (p, chi2, dof)


def test_equilibrium_test_has_power():
    """Samples at T = 2.2 fail against the T = 2.0 distribution."""
    B, M = _final_bm(4, "periodic", 0.0, "glauber", 2.2, seed=22)
    Bb, Mb, P = _exact_bins(4, 2.0, "periodic", 0.0)
    assert chi_square_bm(B, M, Bb, Mb, P)[0] < 1e-6


# Lanes of one word at three temperatures (a fixed random pattern per word, so
# that a mix-up of lanes is seen); each temperature's lanes are tested against
# their own Boltzmann distribution. Cases: both rules, both boundaries, and
# Metropolis in a field (ten classes of thresholds per lane).
LANE_EQ_T = (2.0, 2.5, 3.2)
LANE_EQ_CASES = [("periodic", 0.0, "glauber"), ("plus", 0.0, "metropolis"),
                 ("plus", 0.25, "metropolis"), ("periodic", -0.4, "glauber")]


def _lane_eq_temperatures(seed):
    rng = np.random.default_rng(seed)
    return np.array(LANE_EQ_T)[rng.integers(0, len(LANE_EQ_T), EQ_R)]


@pytest.mark.parametrize("boundary,h,dynamics", LANE_EQ_CASES)
def test_equilibrium_per_lane_temperatures_match_exact_enumeration(boundary, h, dynamics):
    """20032 lanes (4 x 4, 300 sweeps from random starts), each at one of
    LANE_EQ_T (about 6700 per temperature, mixed within every word): the final
    (B, M) of each temperature's lanes against the Boltzmann distribution at
    that temperature, p > 1e-3 / 3 each (Bonferroni over the temperatures: a
    correct kernel fails a case with probability < 1e-3). Power: against the
    distribution of the next temperature each gives p < 1e-6."""
    T_lane = _lane_eq_temperatures(seed=23)
    lat = Lattice(4, EQ_R, dynamics, boundary, h, seed=24, initial="random",
                  update="checkerboard", purpose="equilibrium", parallel="packed")
    tr = lat.run(300, np.repeat(T_lane[:, None], 300, axis=1), record_every=300)
    B, M = sample_bm(tr.m[:, -1], tr.energy[:, -1], 16, h)
    for k, T in enumerate(LANE_EQ_T):
        mine = T_lane == T
        p, chi2, dof = chi_square_bm(B[mine], M[mine], *_exact_bins(4, T, boundary, h))
        assert p > 1e-3 / len(LANE_EQ_T), (T, p, chi2, dof)
        other = LANE_EQ_T[(k + 1) % len(LANE_EQ_T)]
        assert chi_square_bm(B[mine], M[mine], *_exact_bins(4, other, boundary, h))[0] < 1e-6, (T, other)


# ---------------------------------------------------------------- kinetics
KIN_R = 40000
KIN_CASES = [("periodic", 0.0, "metropolis", 204), ("plus", 0.0, "glauber", 205),
             ("periodic", 0.3, "glauber", 206)]


def _kinetics_bm(boundary, h, rule, seed, parallel="packed"):
    tr = simulate(4, PROTOCOL, len(PROTOCOL), rule, replicas=KIN_R, seed=seed,
                  boundary=boundary, field=h, record_every=1, initial="random",
                  update="checkerboard", parallel=parallel)
    assert (tr.attrs.get("layout") == "packed") == (parallel == "packed")
    return sample_bm(tr.m, tr.energy, 16, h)


def _pvalues(B_mc, M_mc, boundary, h, rule, order="checkerboard"):
    B, M, P = exact_bm_marginals(4, PROTOCOL, boundary, h, rule, order)
    return {k: chi_square_bm(B_mc[:, k], M_mc[:, k], B, M, P[k])[0] for k in TIMES}


@pytest.mark.parametrize("boundary,h,rule,seed", KIN_CASES)
def test_kinetics_match_exact_master_equation(boundary, h, rule, seed):
    """40000 lanes along PROTOCOL (quench 3.0 -> 1.0, reheating ramp): (B, M) at
    TIMES against the exact checkerboard sweep; Bonferroni p > 1e-3 / 5 each.
    Power: the same data against the other rule and against random-sequential
    kinetics must give p < 1e-6 at some time."""
    B_mc, M_mc = _kinetics_bm(boundary, h, rule, seed)
    ps = _pvalues(B_mc, M_mc, boundary, h, rule)
    assert min(ps.values()) > P_PASS, ps
    other = "glauber" if rule == "metropolis" else "metropolis"
    assert min(_pvalues(B_mc, M_mc, boundary, h, other).values()) < P_POWER
    assert min(_pvalues(B_mc, M_mc, boundary, h, rule, "random_sequential").values()) < P_POWER


#: A second protocol for half the lanes: a shallower quench (to 1.6 J) held
#: longer, then a faster reheating; it equals PROTOCOL only in the first 3 sweeps.
PROTOCOL_B = np.concatenate([np.full(3, 3.0), np.full(11, 1.6), np.linspace(1.9, 3.0, 6)])


@pytest.mark.parametrize("boundary,h,rule,seed", KIN_CASES)
def test_per_lane_protocols_match_exact_master_equation(boundary, h, rule, seed):
    """40000 lanes, each running PROTOCOL or PROTOCOL_B (a fixed random choice per
    lane, so every word mixes both): (B, M) at TIMES of each protocol's lanes
    against its own exact checkerboard kinetics, Bonferroni p > 1e-3 / 10 (two
    protocols x five times). Power: each protocol's lanes against the other
    protocol's exact kinetics give p < 1e-6 at some time."""
    assert len(PROTOCOL_B) == len(PROTOCOL)
    which = np.random.default_rng(seed).random(KIN_R) < 0.5
    temps = np.where(which[:, None], PROTOCOL_B, PROTOCOL)
    tr = simulate(4, temps, len(PROTOCOL), rule, replicas=KIN_R, seed=seed + 100,
                  boundary=boundary, field=h, record_every=1, initial="random",
                  update="checkerboard", parallel="packed")
    assert tr.attrs["layout"] == "packed"
    B_mc, M_mc = sample_bm(tr.m, tr.energy, 16, h)
    exact = {name: exact_bm_marginals(4, prot, boundary, h, rule, "checkerboard")
             for name, prot in (("A", PROTOCOL), ("B", PROTOCOL_B))}
    for name, mine in (("A", ~which), ("B", which)):
        for against, limit in ((name, None), ("B" if name == "A" else "A", P_POWER)):
            B, M, P = exact[against]
            ps = [chi_square_bm(B_mc[mine, k], M_mc[mine, k], B, M, P[k])[0] for k in TIMES]
            if limit is None:
                assert min(ps) > 1e-3 / (2 * len(TIMES)), (name, ps)
            else:
                assert min(ps) < limit, (name, against, ps)


@pytest.mark.parametrize("boundary,h,rule,seed", KIN_CASES[:2])
def test_unpacked_checkerboard_kinetics_still_match(boundary, h, rule, seed):
    """``auto`` now packs these runs; the unpacked kernels keep their own check."""
    B_mc, M_mc = _kinetics_bm(boundary, h, rule, seed, parallel="replicas")
    assert min(_pvalues(B_mc, M_mc, boundary, h, rule).values()) > P_PASS


# ---------------------------------------------------------------- independence
IND_TIMES = (1, 2, 5, 10, 20, 50, 100, 199)


def _pair_correlations(x, pairs):
    """Pearson r over the replica pairs (rows of ``pairs``) of x[:, t] for each t,
    and of the time average of x."""
    a, b = pairs[:, 0], pairs[:, 1]
    rs = [stats.pearsonr(x[a, t], x[b, t])[0] for t in IND_TIMES]
    rs.append(stats.pearsonr(x[a].mean(1), x[b].mean(1))[0])
    return np.array(rs)


def _quench(R, seed, initial_seed=None, L=8, n=200):
    """Glauber quench from a random start to T = 1.5 (ordering, L = 8, periodic)."""
    lat = Lattice(L, R, "glauber", "periodic", 0.0, seed=seed, update="checkerboard",
                  parallel="packed",
                  initial=initial_spins(L, R, "random", seed if initial_seed is None else initial_seed))
    return lat.run(n, 1.5, record_every=1)


def test_replicas_are_uncorrelated():
    """4096 replicas (64 words). Disjoint pairs: lanes b, b + 1 of one word; lanes
    b, b + 37 (b < 27) of one word; lane b of word g and of word g + 1. For m(t),
    m(t)**2 and their time averages, every |r| < 4.5 / sqrt(pairs) (r has standard
    error 1 / sqrt(pairs) for independent replicas; 4.5 sigma over these 54 tests
    is a false-alarm rate < 4e-4)."""
    R = 64 * 64
    tr = _quench(R, seed=31)
    r = np.arange(R)
    g, b = r // 64, r % 64
    same_word = r[b % 2 == 0]
    pair_sets = {
        "adjacent lanes": np.stack([same_word, same_word + 1], 1),
        "lanes 37 apart": np.stack([r[b < 27], r[b < 27] + 37], 1),
        "next word": np.stack([r[g % 2 == 0], r[g % 2 == 0] + 64], 1),
    }
    assert tr.m[:, -1].std() > 0.3      # ordering: |m| -> 1 with either sign
    for name, pairs in pair_sets.items():
        # every replica in at most one pair: the pairs are independent samples
        assert len(np.unique(pairs)) == pairs.size
        tol = 4.5 / np.sqrt(len(pairs))
        for x, what in ((tr.m, "m"), (tr.m ** 2, "m^2")):
            rs = _pair_correlations(x, pairs)
            assert np.all(np.abs(rs) < tol), (name, what, rs.round(3), tol)


def test_correlation_test_detects_shared_random_bits():
    """Power: the same lanes of two runs with the same seed (hence the same random
    bits) from independent random starts are coupled chains (the heat bath with
    shared uniforms is a monotone coupling): the test above flags them, with
    |r| above 3 times its tolerance (measured: r ~ 0.15 for m, ~ 0.5 for m**2
    at late times, 1024 pairs)."""
    R = 1024
    a = _quench(R, seed=32, initial_seed=1)
    b = _quench(R, seed=32, initial_seed=2)
    pairs = np.stack([np.arange(R), np.arange(R) + R], 1)
    tol = 4.5 / np.sqrt(R)
    worst = max(np.abs(_pair_correlations(np.concatenate([x(a), x(b)]), pairs)).max()
                for x in (lambda t: t.m, lambda t: t.m ** 2))
    assert worst > 3 * tol, worst


# ---------------------------------------------------------------- vs unpacked kernel
def test_quench_statistics_match_unpacked_glauber_kernel():
    """L = 16 periodic Glauber quench to T = 1.5 from random starts, 2048 replicas
    per layout: means of |m| and m**2 at several times, and of the ordering time
    (first time |m| > 0.9; runs that never order count as 400), agree within 4.5
    combined standard errors."""
    L, R, n = 16, 2048, 400
    out = {}
    for parallel in ("packed", "replicas"):
        tr = simulate(L, 1.5, n, "glauber", replicas=R, seed=41, update="checkerboard",
                      parallel=parallel)
        am = np.abs(tr.m)
        ordered = am > 0.9
        t_order = np.where(ordered.any(1), ordered.argmax(1) + 1, n)
        out[parallel] = [am[:, 9], am[:, 49], am[:, 199], am[:, -1], tr.m[:, 49] ** 2,
                         t_order.astype(float)]
    for x, y in zip(out["packed"], out["replicas"]):
        se = np.hypot(x.std(ddof=1), y.std(ddof=1)) / np.sqrt(R)
        assert abs(x.mean() - y.mean()) < 4.5 * se, (x.mean(), y.mean(), se)


# ---------------------------------------------------------------- integration
def test_auto_picks_packed_where_it_applies():
    for L, R, dyn, update, packed in [(16, 64, "glauber", "checkerboard", True),
                                      (16, 63, "glauber", "checkerboard", False),
                                      (2, 200, "glauber", "checkerboard", True),
                                      (16, 64, "glauber", None, False),
                                      (15, 64, "glauber", "random_sequential", False),
                                      (16, 64, "wolff", None, False)]:
        lat = Lattice(L, R, dyn, update=update, seed=1)
        assert lat._packed == packed, (L, R, dyn, update)
        assert (lat.attrs().get("layout") == "packed") == packed
    with pytest.warns(CheckerboardMetropolisWarning):
        assert Lattice(16, 64, "metropolis", update="checkerboard")._packed
    for parallel in ("replicas", "rows", "blocks"):
        assert not Lattice(16, 64, "glauber", update="checkerboard", parallel=parallel)._packed
    assert Lattice(16, 3, "glauber", update="checkerboard", parallel="packed")._packed


def test_packed_refused_where_it_does_not_apply():
    with pytest.raises(ValueError, match="packed"):
        Lattice(16, 64, "glauber", parallel="packed")                  # random-sequential
    with pytest.raises(ValueError, match="packed"):
        Lattice(16, 64, "wolff", parallel="packed")


@pytest.mark.parametrize("parallel", ["auto", "packed"])
def test_per_replica_schedules_stay_packed(parallel):
    """Per-replica temperatures run in the packed layout (auto picks it, packed
    accepts them), and each replica runs exactly as in a lattice whose replicas
    all share its schedule: after a shared run, per-word shared temperatures,
    then per-replica ones, in one call or in chunks (same records, T, spins)."""
    def lattice(initial="random"):
        return Lattice(8, 70, "glauber", "plus", update="checkerboard", seed=3,
                       initial=initial, parallel=parallel)
    lat = lattice()
    assert lat._packed
    lat.run(5, 2.0)
    start, sweep = lat.spins, lat.sweep
    rng = np.random.default_rng(0)
    temps = np.repeat(rng.uniform(1.5, 3.0, (2, 12)), [64, 6], axis=0)   # shared per word
    temps[:, 6:] = rng.uniform(1.5, 3.0, (70, 6))                          # per replica
    whole = lat.run(12, temps, record_every=2)
    assert lat._packed and whole.attrs["layout"] == "packed"
    np.testing.assert_array_equal(whole.T, temps[:, 1::2])
    chunked = lattice(start)
    chunked.sweep = sweep
    parts = Traces.concatenate([chunked.run(4, temps[:, 4 * q:4 * q + 4], record_every=2)
                                for q in range(3)])
    assert _same(whole, parts)
    for r in (0, 37, 63, 64, 69):
        ref = lattice(start)
        ref.sweep = sweep
        alone = ref.run(12, temps[r], record_every=2)      # every replica at r's schedule
        np.testing.assert_array_equal(whole.m[r], alone.m[r])
        np.testing.assert_array_equal(whole.energy[r], alone.energy[r])
        np.testing.assert_array_equal(whole.spins[r], alone.spins[r])


def test_pack_refuses_shapes_it_cannot_hold():
    with pytest.raises(ValueError, match="L even"):
        kp.to_packed(np.ones((2, 5, 5), np.int8))
    with pytest.raises(ValueError, match=r"need \(R, L, L\)"):
        kp.to_packed(np.ones((2, 4, 6), np.int8))
    P = kp.to_packed(np.ones((3, 4, 4), np.int8))
    with pytest.raises(ValueError, match="replicas <= 64 G"):
        kp.from_packed(P, 65)
