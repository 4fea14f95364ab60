"""The checkerboard acceptance test, rebuilt here from its documented keying.

The kernels decide a flip in two stages (a 16-bit draw ``v`` against the top
16 bits of the 32-bit threshold; on a tie, 16 further bits ``v'`` from the
row's tie stream against the bottom 16 bits). That must be the same decision
as one 32-bit uniform ``U = 2**16 v + v'`` against the whole threshold. This
reference computes ``U`` for every site and updates all colour-0 rows, then
all colour-1 rows (the kernels use a one-pass order that must be equivalent),
and the kernels must reproduce it spin for spin and record for record, ties
included.
"""
import numpy as np
import pytest

from isingneuron import kernels
from isingneuron._rng import GOLDEN, row_key
from isingneuron.engine import _mix64_np, initial_spins, to_blocks, from_blocks, to_natural, \
    to_split


def _reference_sweep(sp, r, T, h, dynamics, plus, seed, sweep):
    """One sweep of replica r of ``sp`` (split layout) in place; returns the
    number of tied first stages (``v == top 16 bits of the threshold``)."""
    _, _, L, L2 = sp.shape
    tab = np.empty(10, np.uint32)
    kernels._fill_thresholds(tab, T, h, dynamics)
    q = np.arange((L2 + 3) // 4, dtype=np.uint64)
    k = np.arange(L2, dtype=np.uint64)
    ties = 0
    for c in (0, 1):
        o = sp[r, 1 - c].astype(np.int64)
        for i in range(L):
            if plus:
                up = o[i - 1] if i > 0 else np.ones(L2, np.int64)
                dn = o[i + 1] if i < L - 1 else np.ones(L2, np.int64)
                pad = 1
            else:
                up, dn = o[(i - 1) % L], o[(i + 1) % L]
            mid = o[i]
            if (i + c) % 2:      # side neighbours k and k + 1
                side = np.append(mid[1:], pad if plus else mid[0])
            else:                # k - 1 and k
                side = np.append(pad if plus else mid[-1], mid[:-1])
            s = sp[r, c, i].astype(np.int64)
            x = s * (up + dn + mid + side)
            idx = 5 * (s > 0) + (x + 4) // 2
            key = np.uint64(row_key(np.uint64(seed), r, sweep, c, i))
            with np.errstate(over="ignore"):
                words = _mix64_np(key + (q + np.uint64(1)) * GOLDEN)
                v = words.view(np.uint16)[:L2].astype(np.uint64)    # site k: part k % 4
                tie_key = key ^ np.uint64(kernels._TIE)
                v2 = _mix64_np(tie_key + (k + np.uint64(1)) * GOLDEN) >> np.uint64(48)
            U = (v << np.uint64(16)) | v2
            thr = tab[idx].astype(np.uint64)
            ties += int(np.sum(v == thr >> np.uint64(16)))
            sp[r, c, i] = np.where(U <= thr, -s, s).astype(np.int8)
    return ties


def _records(sp, h, plus):
    """The exact (M, B) the kernels record (see ``kernels._store``)."""
    return kernels.natural_MB(to_natural(sp), plus)


@pytest.mark.parametrize("L, h, dynamics, plus", [
    (256, 0.0, kernels.GLAUBER, False),
    (256, 0.4, kernels.GLAUBER, True),
    (128, 0.0, kernels.METROPOLIS, True),
    (6, -0.3, kernels.GLAUBER, False),
    (200, 0.2, kernels.METROPOLIS, False),    # checkerboard_replicas: a colour at a time
    (36, 0.0, kernels.GLAUBER, True),         # (L / 2 not a multiple of 4)
])
def test_kernels_equal_the_32_bit_reference(L, h, dynamics, plus):
    R, n, seed, sweep0 = 2, 6, 2**64 - 5, 40
    rng = np.random.default_rng(L)
    temps = rng.uniform(1.5, 3.5, (R, n))
    sp0 = to_split(initial_spins(L, R, "random", seed=L))
    ref = sp0.copy()
    m_ref = np.empty((R, n))
    e_ref = np.empty((R, n))
    ties = 0
    for s in range(n):
        for r in range(R):
            ties += _reference_sweep(ref, r, temps[r, s], h, dynamics, plus, seed, sweep0 + s)
        m_ref[:, s], e_ref[:, s] = _records(ref, h, plus)
    if L >= 128:
        assert ties > 0          # the second stage was exercised
    for kern in ("checkerboard_replicas", "checkerboard_rows", "checkerboard_blocks"):
        m = np.full((R, n), np.iinfo(np.int32).min, np.int32)    # as the engine's records
        e = np.full((R, n), np.iinfo(np.int32).min, np.int32)
        if kern == "checkerboard_blocks":
            st = to_blocks(to_natural(sp0), 3)
        else:
            st = sp0.copy()
        getattr(kernels, kern)(st, temps, h, dynamics, plus, np.uint64(seed), sweep0, 1, m, e)
        if kern == "checkerboard_blocks":
            st = to_split(from_blocks(st, R))
        np.testing.assert_array_equal(st, ref, err_msg=kern)
        np.testing.assert_array_equal(m, m_ref, err_msg=kern)
        np.testing.assert_allclose(e, e_ref, rtol=0, atol=1e-12, err_msg=kern)


def test_second_stage_is_the_low_half_of_one_32_bit_uniform():
    """Decision by the two stages == ``U <= tab`` for ``U = 2**16 v + v'``, on
    every (v, v') around each threshold's top half."""
    tab = np.array([0, 1, 0xFFFF, 0x10000, 0x1234ABCD, 0xFFFF0000, 0xFFFFFFFE, 0xFFFFFFFF],
                   np.uint64)
    for t in tab:
        hi, lo = t >> np.uint64(16), t & np.uint64(0xFFFF)
        for v in {max(int(hi) - 1, 0), int(hi), min(int(hi) + 1, 0xFFFF)}:
            for v2 in (0, 1, int(lo), max(int(lo) - 1, 0), min(int(lo) + 1, 0xFFFF), 0xFFFF):
                U = (v << 16) | v2
                stage1 = kernels._decide.py_func(np.int8(1), np.uint16(v), np.uint16(hi))
                if stage1 == 3:             # tie: second stage
                    flip = v2 <= lo
                else:
                    flip = stage1 == -1
                assert flip == (U <= t), (t, v, v2)


@pytest.mark.parametrize("kern", ["checkerboard_replicas", "checkerboard_rows"])
def test_row_path_records_of_an_ordered_lattice(kern):
    """The row path (L > _FLAT_MAX_L) sums record terms in int8 accumulators
    over up to ``_ACC8_ROWS`` rows; an ordered lattice makes every bond term
    +4, the worst case for overflow. Records must equal an exact recount of
    the final spins (both boundaries, field on and off)."""
    L = 2 * (kernels._FLAT_MAX_L // 2 + 2)          # the row path
    assert L > kernels._FLAT_MAX_L
    assert kernels._ACC8_ROWS * 4 <= 127 and L // 2 > kernels._ACC8_ROWS
    for plus, h in ((False, 0.0), (True, 0.3)):
        sp = np.ones((1, 2, L, L // 2), np.int8)
        temps = np.full((1, 2), 0.8)
        m = np.empty((1, 2), np.int32)
        e = np.empty((1, 2), np.int32)
        getattr(kernels, kern)(sp, temps, h, kernels.GLAUBER, plus, np.uint64(3), 0, 1, m, e)
        M, B = _records(sp, h, plus)
        assert m[0, -1] == M[0] and e[0, -1] == B[0]
        assert M[0] > 0.99 * L * L                  # still ordered: the worst case was tested
