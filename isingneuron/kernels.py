"""Numba kernels of the lattice engine. They know nothing of files or configs.

Layouts
-------
*natural*  ``int8[R, L, L]``: ``s[r, i, j]``, row ``i``, column ``j``.
*split*    ``int8[R, 2, L, L // 2]`` (even L only): the checkerboard colour
           ``c = (i + j) % 2`` of every site is stored apart,
           ``split[r, c, i, k] = s[r, i, 2 k + (i + c) % 2]``, so that each
           half-sweep walks contiguous rows and vectorises. One byte per spin.
*blocked*  ``int8[G, 2, L, L // 2, W]``: the split layout of blocks of W
           replicas, the replica innermost (see "blocked layout" below), for
           populations of small lattices.

In the split layout the neighbours of ``split[r, c, i, k]`` are
``split[r, 1-c, i-1, k]``, ``split[r, 1-c, i+1, k]``, ``split[r, 1-c, i, k]``
and ``split[r, 1-c, i, k - 1 + 2 p]`` with ``p = (i + c) % 2``.

Bookkeeping
-----------
Records are exact integers per replica, ``M = sum_i s_i`` and
``B = sum_<ij> s_i s_j`` (bonds to a fixed ``plus`` border included, each
bond of a periodic L = 2 lattice counted twice as its neighbour sum does).
The energy is ``E = -B - h M`` (J = 1). Records store ``m = M / N`` and
``e = E / N`` after every ``record_every``-th sweep. The checkerboard
kernels take them in that sweep's colour-1 pass (each bond joins a colour-0
and a colour-1 site, so ``B`` is the sum of ``s * nn`` over colour 1 plus
the border bonds of colour 0).

Acceptance
----------
For a flip of spin ``s`` with neighbour sum ``nn`` the energy change is
``dE = 2 s nn + 2 h s``. A flip is accepted when a uniform 32-bit random
integer is at most ``floor(p * 2**32) - 1``, with ``p = min(1, exp(-dE / T))``
(Metropolis) or ``p = 1 / (1 + exp(dE / T))`` (Glauber, heat bath); the
probability is thus exact to within ``2**-32``. The ten thresholds are
tabulated once per sweep from that sweep's temperature. The checkerboard
kernels draw that 32-bit integer in two halves: 16 bits per site (one
SplitMix64 output serves four sites) decide unless they equal the top half of
the threshold; then (probability ``2**-16``) 16 more bits from a tie stream
keyed by row and site decide: the same test, at the same ``2**-32``
precision (see :func:`_decide`).
"""

import numpy as np
from numba import njit, prange

from ._rng import (GOLDEN, STREAM_CHECKERBOARD, STREAM_RANDOM_SITE, STREAM_WOLFF,
                   draw32, mix64, row_key, row_key_final, sweep_key)
from ._threads import on_threads

METROPOLIS = 0
GLAUBER = 1
_TWO32 = 4294967296.0
_TIE = np.uint64(0x5851F42D4C957F2D)   # key ^ _TIE: a row's stream of tie-breaking bits


@njit(inline="always", cache=True)
def _fill_thresholds(tab, T, h, dynamics):
    """tab[5 * (s + 1) // 2 + (s * nn + 4) // 2]: flip iff draw <= tab.

    The 32-bit threshold is ``floor(p * 2**32) - 1`` (clamped to >= 0), so a
    uniform 32-bit draw ``u`` satisfies ``u <= tab`` with probability
    ``floor(p * 2**32) / 2**32``, except ``p < 2**-32``, which flips with
    probability 2**-32. Without a field ``dE = 2 x`` takes the values
    0, +-4, +-8 and the table needs one ``exp`` (``e1 = exp(-4 / T)``,
    ``e2 = e1**2``, each p written without overflow), not ten: it is
    recomputed at every sweep where a lane's temperature changes.
    """
    if h == 0.0:
        e1 = np.exp(-4.0 / T)
        e2 = e1 * e1
        for xi in range(5):
            if dynamics == METROPOLIS:
                p = 1.0 if xi <= 2 else (e1 if xi == 3 else e2)
            else:
                p = (1.0 / (1.0 + e2), 1.0 / (1.0 + e1), 0.5,
                     e1 / (1.0 + e1), e2 / (1.0 + e2))[xi]
            q = np.floor(p * _TWO32) - 1.0
            tab[xi] = tab[5 + xi] = np.uint32(min(max(q, 0.0), _TWO32 - 1.0))
        return
    for si in range(2):
        s = 2 * si - 1
        for xi in range(5):
            x = 2 * xi - 4
            dE = 2.0 * x + 2.0 * h * s
            if dynamics == METROPOLIS:
                p = 1.0 if dE <= 0.0 else np.exp(-dE / T)
            else:
                p = 1.0 / (1.0 + np.exp(dE / T))
            q = np.floor(p * _TWO32) - 1.0
            tab[5 * si + xi] = np.uint32(min(max(q, 0.0), _TWO32 - 1.0))


@njit(inline="always", cache=True)
def _split_thresholds(tab, hi, lo, w):
    """hi[t], lo[t, w]: the top and bottom 16 bits of the 32-bit threshold tab[t]."""
    for t in range(10):
        hi[t] = np.uint16(tab[t] >> np.uint32(16))
        lo[t, w] = np.uint16(tab[t] & np.uint32(0xFFFF))


@njit(inline="always", cache=True)
def _row_sources(bf, c, i, plus, ones, W, ext):
    """(up, mid, dn, side): the four rows whose sum is the neighbour sum of row (c, i).

    ``bf`` is one lattice (``W = 1``) or one block of W lanes, seen as
    ``int8[2, L, n]`` with flat rows (site k of lane w at ``j = k W + w``);
    ``ones`` is a row of +1 (the fixed border of ``plus``). The side
    neighbours of site k are k and ``k + 1`` (``p = (i + c) % 2 = 1``) or
    ``k - 1`` and k (``p = 0``): ``mid`` is the other colour's row i and
    ``side`` the same row shifted by one site, read from ``ext`` (scratch of
    ``n + 2 W``), which holds the row with its wrapped (or border) sites at
    both ends, so that every loop runs over the whole, even, row length
    (a loop over ``n - 1`` sites ends in a slow scalar remainder).
    """
    L = bf.shape[1]
    n = bf.shape[2]
    o = 1 - c
    mid = bf[o, i]
    if plus:
        up = ones if i == 0 else bf[o, i - 1]
        dn = ones if i == L - 1 else bf[o, i + 1]
    else:
        up = bf[o, i - 1 if i > 0 else L - 1]
        dn = bf[o, i + 1 if i < L - 1 else 0]
    e = ext[W:W + n]
    for j in range(n):
        e[j] = mid[j]
    for w in range(W):
        ext[w] = 1 if plus else mid[n - W + w]
        ext[n + W + w] = 1 if plus else mid[w]
    side = ext[2 * W:] if (i + c) & 1 else ext[:n]
    return up, mid, dn, side


@njit(inline="always", cache=True)
def _draw_buffers(L2, W):
    """Scratch for :func:`_row_draws`: (words, their uint16 view, and the
    int8 record accumulators of :func:`_flip_row_acc`, which only one
    lattice, W = 1, uses), made once, not per row."""
    rnd64 = np.empty((L2 + 3) // 4 * W, np.uint64)
    na = L2 if W == 1 else 0
    return rnd64, rnd64.view(np.uint16), np.zeros(na, np.int8), np.zeros(na, np.int8)


@njit(inline="always", cache=True)
def _row_draws(keys, rnd, W, L2):
    """The 16-bit draws of a row into ``rnd`` (:func:`_draw_buffers`):
    ``rnd[1][k * W + w]`` for site k of lane w is bits ``16 (k % 4)`` to
    ``16 (k % 4) + 15`` of output ``k // 4`` of the stream ``keys[w]`` (one
    64-bit output serves four sites).
    """
    rnd64 = rnd[0]
    Q = (L2 + 3) // 4
    if W == 1:
        key = keys[0]
        for q in range(Q):
            rnd64[q] = mix64(key + (np.uint64(q) + np.uint64(1)) * GOLDEN)
    else:
        u = rnd[1]
        m16 = np.uint64(0xFFFF)
        for q in range(Q):
            inc = (np.uint64(q) + np.uint64(1)) * GOLDEN
            # (slices: 2-d or offset indices here do not vectorise)
            u0 = u[4 * q * W:]
            u1 = u[(4 * q + 1) * W:]
            u2 = u[(4 * q + 2) * W:]
            u3 = u[(4 * q + 3) * W:]
            for w in range(W):
                z = mix64(keys[w] + inc)
                u0[w] = np.uint16(z & m16)
                u1[w] = np.uint16((z >> np.uint64(16)) & m16)
                u2[w] = np.uint16((z >> np.uint64(32)) & m16)
                u3[w] = np.uint16(z >> np.uint64(48))


@njit(inline="always", cache=True)
def _step(x, t0, t1, t2, t3, t4):
    """The threshold for x = s * nn in {-4, -2, 0, 2, 4}, as a chain of selects.

    All five thresholds are loaded before: a select between two loads of
    per-lane tables would be turned into a gather by the compiler.
    """
    thr = t1 if x > -4 else t0
    thr = t2 if x > -2 else thr
    thr = t3 if x > 0 else thr
    return t4 if x > 2 else thr


@njit(inline="always", cache=True)
def _decide(s, v, thr):
    """First, 16-bit stage of the acceptance test of spin s: the new spin.

    The exact test flips when a uniform 32-bit ``U <= tab`` (the threshold of
    :func:`_fill_thresholds`). Write ``U = 2**16 v + v'`` and ``tab = 2**16
    thr + lo``: ``U <= tab`` iff ``v < thr``, or ``v == thr`` and ``v' <= lo``.
    ``v`` is the site's 16-bit draw: ``v < thr`` flips, ``v > thr`` keeps, and
    a tie (probability ``2**-16``) is marked as ``s ^ 2`` (+-3), to be
    settled with 16 further bits ``v'`` by :func:`_settle_ties`.
    """
    return np.int8(-s) if v < thr else (s ^ np.int8(2) if v == thr else s)


@njit(inline="always", cache=True)
def _flip_row(cur, up, dn, mid, side, u, hi, with_field):
    """First stage (:func:`_decide`) for every spin of a row; True if a tie.

    One flat loop: the neighbour sum is added up in place, the thresholds
    (top 16 bits, ``hi``) sit in registers and are picked by selects, not
    gathers, so the loop vectorises (16-bit lanes). Without a field the
    threshold depends on ``s * nn`` alone (one chain of selects, not two).
    """
    a0, a1, a2, a3, a4 = hi[0], hi[1], hi[2], hi[3], hi[4]
    b0, b1, b2, b3, b4 = hi[5], hi[6], hi[7], hi[8], hi[9]
    tie = False
    if with_field:
        for j in range(cur.shape[0]):
            s = cur[j]
            nn = np.int8(up[j] + dn[j] + mid[j] + side[j])
            x = nn if s > 0 else np.int8(-nn)
            thr = _step(x, b0, b1, b2, b3, b4) if s > 0 else _step(x, a0, a1, a2, a3, a4)
            v = u[j]
            cur[j] = _decide(s, v, thr)
            tie |= v == thr
    else:
        for j in range(cur.shape[0]):
            s = cur[j]
            nn = np.int8(up[j] + dn[j] + mid[j] + side[j])
            x = nn if s > 0 else np.int8(-nn)
            thr = _step(x, b0, b1, b2, b3, b4)
            v = u[j]
            cur[j] = _decide(s, v, thr)
            tie |= v == thr
    return tie


@njit(inline="always", cache=True)
def _flip_row_lanes(cur, up, dn, mid, side, u, th, with_field):
    """As :func:`_flip_row` with a threshold per site: ``th[t, j]`` (the
    table of site j's lane, see :func:`_lane_thresholds`), for blocks whose
    lanes run at different temperatures."""
    a0, a1, a2, a3, a4 = th[0], th[1], th[2], th[3], th[4]
    b0, b1, b2, b3, b4 = th[5], th[6], th[7], th[8], th[9]
    tie = False
    if with_field:
        for j in range(cur.shape[0]):
            s = cur[j]
            nn = np.int8(up[j] + dn[j] + mid[j] + side[j])
            x = nn if s > 0 else np.int8(-nn)
            thr_p = _step(x, b0[j], b1[j], b2[j], b3[j], b4[j])
            thr_m = _step(x, a0[j], a1[j], a2[j], a3[j], a4[j])
            thr = thr_p if s > 0 else thr_m
            v = u[j]
            cur[j] = _decide(s, v, thr)
            tie |= v == thr
    else:
        for j in range(cur.shape[0]):
            s = cur[j]
            nn = np.int8(up[j] + dn[j] + mid[j] + side[j])
            x = nn if s > 0 else np.int8(-nn)
            thr = _step(x, b0[j], b1[j], b2[j], b3[j], b4[j])
            v = u[j]
            cur[j] = _decide(s, v, thr)
            tie |= v == thr
    return tie


@njit(inline="always", cache=True)
def _flip_row_sums(cur, up, dn, mid, side, u, hi, with_field):
    """:func:`_flip_row` that also returns the row's record sums (as
    :func:`_row_sums`, from the new spins): (tie, m, b). The sums are
    valid only without a tie (a tied spin is not final yet)."""
    n = cur.shape[0]
    tie = False
    m = 0
    b = 0
    for a in range(0, n, _SUM16):
        e = min(n, a + _SUM16)
        c_, u_, d_, m_, s_, r_ = cur[a:e], up[a:e], dn[a:e], mid[a:e], side[a:e], u[a:e]
        m16 = np.int16(0)
        b16 = np.int16(0)
        a0, a1, a2, a3, a4 = hi[0], hi[1], hi[2], hi[3], hi[4]
        b0, b1, b2, b3, b4 = hi[5], hi[6], hi[7], hi[8], hi[9]
        if with_field:
            for j in range(e - a):
                s = c_[j]
                nn = np.int8(u_[j] + d_[j] + m_[j] + s_[j])
                x = nn if s > 0 else np.int8(-nn)
                thr = _step(x, b0, b1, b2, b3, b4) if s > 0 else _step(x, a0, a1, a2, a3, a4)
                v = r_[j]
                t = _decide(s, v, thr)
                c_[j] = t
                tie |= v == thr
                m16 = np.int16(m16 + np.int8(t + m_[j]))
                b16 = np.int16(b16 + (np.int8(-x) if v < thr else x))
        else:
            for j in range(e - a):
                s = c_[j]
                nn = np.int8(u_[j] + d_[j] + m_[j] + s_[j])
                x = nn if s > 0 else np.int8(-nn)
                thr = _step(x, b0, b1, b2, b3, b4)
                v = r_[j]
                t = _decide(s, v, thr)
                c_[j] = t
                tie |= v == thr
                m16 = np.int16(m16 + np.int8(t + m_[j]))
                b16 = np.int16(b16 + (np.int8(-x) if v < thr else x))
        m += m16
        b += b16
    return tie, m, b


#: colour-1 rows whose record terms (|term| <= 4) an int8 accumulator of
#: :func:`_flip_row_acc` takes before it is emptied (31 * 4 <= 127)
_ACC8_ROWS = 31


@njit(inline="always", cache=True)
def _flip_row_acc(cur, up, dn, mid, side, u, hi, with_field, am, ab):
    """:func:`_flip_row` that also adds each site's record terms (those of
    :func:`_row_sums`, from the new spins) to the int8 per-site accumulators
    ``am``, ``ab``; returns True if a tie. A tied site adds the terms of its
    spin marked +-3, which :func:`_settle_ties` corrects (a select to add
    nothing for ties cost 2-4 % of a sweep at record_every = 1).

    Per-site int8 accumulators keep the loop in 64 int8 lanes and need no
    reduction per row; they are emptied every ``_ACC8_ROWS`` rows
    (:func:`_flush_acc8`). (Sums in the loop itself need int16 lanes and a
    reduction per row: a record cost 24 % of a sweep at L = 256 that way.)
    """
    a0, a1, a2, a3, a4 = hi[0], hi[1], hi[2], hi[3], hi[4]
    b0, b1, b2, b3, b4 = hi[5], hi[6], hi[7], hi[8], hi[9]
    tie = False
    if with_field:
        for j in range(cur.shape[0]):
            s = cur[j]
            nn = np.int8(up[j] + dn[j] + mid[j] + side[j])
            x = nn if s > 0 else np.int8(-nn)
            thr = _step(x, b0, b1, b2, b3, b4) if s > 0 else _step(x, a0, a1, a2, a3, a4)
            v = u[j]
            t = _decide(s, v, thr)
            cur[j] = t
            tie |= v == thr
            am[j] = np.int8(am[j] + np.int8(t + mid[j]))
            ab[j] = np.int8(ab[j] + (np.int8(-x) if v < thr else x))
    else:
        for j in range(cur.shape[0]):
            s = cur[j]
            nn = np.int8(up[j] + dn[j] + mid[j] + side[j])
            x = nn if s > 0 else np.int8(-nn)
            thr = _step(x, b0, b1, b2, b3, b4)
            v = u[j]
            t = _decide(s, v, thr)
            cur[j] = t
            tie |= v == thr
            am[j] = np.int8(am[j] + np.int8(t + mid[j]))
            ab[j] = np.int8(ab[j] + (np.int8(-x) if v < thr else x))
    return tie


@njit(inline="always", cache=True)
def _flush_acc8(am, ab):
    """(sum of am, sum of ab) as integers, and both emptied."""
    m = np.int32(0)
    b = np.int32(0)
    for j in range(am.shape[0]):
        m = np.int32(m + am[j])
        b = np.int32(b + ab[j])
        am[j] = 0
        ab[j] = 0
    return np.int64(m), np.int64(b)


@njit(cache=True)
def _settled_spin(s3, nn, lo, w, with_field, key, k):
    """Second stage of :func:`_decide` for a tied spin ``s3`` (+-3) with
    neighbour sum ``nn``: the new spin. Its further bits ``v'`` are the top
    16 bits of output k of the tie stream ``key ^ _TIE``; flip iff ``v' <=
    lo[t, w]`` (t: the spin's threshold class, lane w). Not inlined: ties are
    rare (probability ``2**-16`` a site), and each inlined copy would add to
    the compilation of every kernel."""
    s = np.int8(1) if s3 > 0 else np.int8(-1)
    x = nn if s > 0 else -nn
    t = 5 * (s > 0) + (x + 4) // 2 if with_field else 5 + (x + 4) // 2
    v = mix64((key ^ _TIE) + (np.uint64(k) + np.uint64(1)) * GOLDEN)
    return np.int8(-s) if v >> np.uint64(48) <= lo[t, w] else s


@njit(inline="always", cache=True)
def _settle_ties(cur, up, dn, mid, side, lo, with_field, keys, W, acc, am, ab):
    """Second stage of :func:`_decide` for the tied sites (spin +-3) of a row.

    Site ``j`` of the row is site ``k = j // W`` of lane ``w = j % W``; its
    further bits ``v'`` are the top 16 bits of output k of the tie stream
    ``keys[w] ^ _TIE`` of the row (keyed by row and site, so the outcome
    does not depend on the layout): flip iff ``v' <= lo[t, w]``. With
    ``acc``, ``am`` and ``ab`` get the change from the record terms that
    :func:`_flip_row_acc` added for the marked spin to those of the settled
    one.
    """
    for j in range(cur.shape[0]):
        s3 = cur[j]
        if s3 == 3 or s3 == -3:
            w = j % W
            nn = np.int64(up[j]) + np.int64(dn[j]) + np.int64(mid[j]) + np.int64(side[j])
            sn = _settled_spin(s3, nn, lo, w, with_field, keys[w], j // W)
            cur[j] = sn
            if acc:
                am[j] += np.int8(sn - s3)                          # (s3 + mid added)
                ab[j] += np.int8((sn - (1 if s3 > 0 else -1)) * nn)  # (s * nn added)


_SUM16 = 8191   # sites per int16 partial sum of _row_sums: |sum| <= 4 * 8191 < 2**15


@njit(inline="always", cache=True)
def _row_sums(cur, up, dn, mid, side):
    """(sum of rows (1, i) and (0, i), sum of s * nn over row (1, i)).

    The int8 terms are summed in int16 lanes, in pieces of ``_SUM16`` sites
    that cannot overflow (``np.int16(...)`` around each sum keeps Numba from
    widening the accumulators to int64: a quarter of the lanes).
    """
    n = cur.shape[0]
    m = 0
    b = 0
    for a in range(0, n, _SUM16):
        e = min(n, a + _SUM16)
        # (slices: an index j + a with a run-time a defeats vectorisation)
        c_, u_, d_, m_, s_ = cur[a:e], up[a:e], dn[a:e], mid[a:e], side[a:e]
        m16 = np.int16(0)
        b16 = np.int16(0)
        for j in range(e - a):
            s = c_[j]
            nn = np.int8(u_[j] + d_[j] + m_[j] + s_[j])
            m16 = np.int16(m16 + np.int8(s + m_[j]))
            b16 = np.int16(b16 + (nn if s > 0 else np.int8(-nn)))
        m += m16
        b += b16
    return m, b


@njit(inline="always", cache=True)
def _row_sums_lanes(cur, up, dn, mid, side, acc_m, acc_b):
    """As :func:`_row_sums` per site, into int32 ``acc_m``, ``acc_b`` (flat
    rows; reduced to lanes by :func:`_lane_totals`)."""
    for j in range(cur.shape[0]):
        s = cur[j]
        nn = np.int8(up[j] + dn[j] + mid[j] + side[j])
        acc_m[j] = np.int32(acc_m[j] + np.int8(s + mid[j]))
        acc_b[j] = np.int32(acc_b[j] + (nn if s > 0 else np.int8(-nn)))


@njit(inline="always", cache=True)
def _update_row(bf, c, i, plus, ones, W, ext, rnd, hi, th, lanes, lo, with_field,
                skeys, keys, sums):
    """One update attempt for every spin of row (c, i) of a lattice or block.

    Row keys from the lanes' sweep keys ``skeys``; ``lanes``: per-site
    thresholds ``th`` (else ``hi`` for all). Returns the row's neighbour
    rows (valid until the next call, for the records). With ``sums`` (one
    lattice), the row's record terms are added to the accumulators
    ``rnd[2]``, ``rnd[3]`` (:func:`_flip_row_acc`).
    """
    L2 = bf.shape[2] // W
    for w in range(W):
        keys[w] = row_key_final(skeys[w], STREAM_CHECKERBOARD + c, i)
    up, mid, dn, side = _row_sources(bf, c, i, plus, ones, W, ext)
    _row_draws(keys, rnd, W, L2)
    u = rnd[1]
    cur = bf[c, i]
    if lanes:
        tie = _flip_row_lanes(cur, up, dn, mid, side, u, th, with_field)
    elif sums:
        tie = _flip_row_acc(cur, up, dn, mid, side, u, hi, with_field, rnd[2], rnd[3])
    else:
        tie = _flip_row(cur, up, dn, mid, side, u, hi, with_field)
    if tie:
        _settle_ties(cur, up, dn, mid, side, lo, with_field, keys, W, sums, rnd[2], rnd[3])
    return up, mid, dn, side


@njit(inline="always", cache=True)
def _sweep_part(bf, a, b, part, plus, ones, W, ext, rnd, hi, th, lanes, lo, with_field,
                skeys, keys, rec, acc_m, acc_b):
    """Part 1 or 2 of one checkerboard sweep of rows [a, b).

    The sweep is one pass over memory, not two: row (0, i) is followed by
    row (1, i - 1), whose neighbours (0, i - 2 .. i) are then updated and
    still in cache. It is the same sweep as all colour-0 rows, then all
    colour-1 rows: each row reads only the other colour, in the state that
    order gives it. Part 1 updates rows (0, a .. b - 1) and (1, a + 1 ..
    b - 2); part 2, once the colour-0 rows a - 1 and b of the neighbouring
    parts are done, rows (1, a) and (1, b - 1). (One call of
    :func:`_update_row` in one loop: each call site is compiled apart.)

    With ``rec``, the records of each colour-1 row are taken right after its
    update: the three colour-0 rows it touches are final then, so the rows
    (0, i) (its ``mid``) and (1, i) of all i add up to M, and ``s * nn``
    over the colour-1 sites to every bond once (those of colour-0 sites to
    the border are added by :func:`_border_bonds0`). They are returned as
    (M, B) parts, or, for blocks (non-empty ``acc_m``), added per site to
    ``acc_m``, ``acc_b``.
    """
    m = 0
    bb = 0
    nacc = 0                             # rows in the int8 accumulators
    steps = 2 * (b - a) if part == 1 else 2
    for t in range(steps):
        if part == 1:
            c = t & 1
            i = a + t // 2 - c           # (0, i), then (1, i - 1)
            if c == 1 and i <= a:
                continue
        else:
            c = 1
            i = a if t == 0 else b - 1
            if t == 1 and i == a:
                continue
        lat = acc_m.shape[0] == 0
        sums = rec and c == 1 and lat
        up, mid, dn, side = _update_row(bf, c, i, plus, ones, W, ext, rnd, hi, th, lanes, lo,
                                        with_field, skeys, keys, sums)
        if sums:
            nacc += 1
            if nacc == _ACC8_ROWS:
                dm, db = _flush_acc8(rnd[2], rnd[3])
                m += dm
                bb += db
                nacc = 0
        if rec and c == 1 and not lat:
            _row_sums_lanes(bf[1, i], up, dn, mid, side, acc_m, acc_b)
    if nacc > 0:
        dm, db = _flush_acc8(rnd[2], rnd[3])
        m += dm
        bb += db
    return m, bb


# ------------------------------------------------------- small lattices: one colour flat
# A row of L/2 < 64 sites never reaches the vector loop of the row functions,
# and the per-row set-up (row views, the ``ext`` copy) outweighs the row's
# work. For small lattices, whose planes sit in L1, checkerboard_replicas
# updates each colour as one flat segment of L * L / 2 sites instead: the
# other colour's plane is copied once with a halo row at each end (``E``: up,
# mid and dn are E at offsets 0, L/2 and L, the whole plane seen shifted by
# -1, 0, +1 rows), the side neighbours are gathered into one plane ``S`` (a
# per-site select on the row parity, then one fix-up per row for the
# wrapped or border site), and the draws of all rows are made in one loop.
# Same random numbers, same decisions, same records as the row path.


@njit(inline="always", cache=True)
def _row_parity(L, L2):
    """odd[j] = parity of the row of flat site j (read-only, shared by the lattices)."""
    odd = np.empty(L * L2, np.int8)
    for i in range(L):
        for k in range(L2):
            odd[i * L2 + k] = i & 1
    return odd


@njit(inline="always", cache=True)
def _flat_buffers(L, L2, odd):
    """Scratch of :func:`_colour_flat` for one lattice: (E, S, odd, words,
    their uint16 view, keys); ``odd`` from :func:`_row_parity`."""
    H = L * L2
    Q = (L2 + 3) // 4
    E = np.ones(H + 2 * L2, np.int8)        # (halo rows: +1, the border of plus)
    S = np.empty(H, np.int8)
    w64 = np.empty(L * Q + 1, np.uint64)
    return E, S, odd, w64, w64.view(np.uint16), np.empty(L, np.uint64)


@njit(inline="always", cache=True)
def _colour_flat(pl, c, plus, buf, skey, hi, lo, with_field, sums):
    """Update colour c of one lattice seen as ``pl = int8[2, L * L / 2]``
    (flat planes), all rows in one loop. Returns (m, b): the record sums of
    :func:`_flip_row_sums` over the plane (valid with ``sums``, for c = 1)."""
    E, S, odd, w64, u16, keys = buf
    L = keys.shape[0]
    H = pl.shape[1]
    L2 = H // L
    Q = (L2 + 3) // 4
    P = pl[1 - c]
    mid = E[L2:L2 + H]
    for j in range(H):
        mid[j] = P[j]
    if not plus:
        top = E[:L2]
        bot = E[L2 + H:]
        for k in range(L2):
            top[k] = P[H - L2 + k]
            bot[k] = P[k]
    Em = E[L2 - 1:L2 - 1 + H]      # P[j - 1]
    Ep = E[L2 + 1:L2 + 1 + H]      # P[j + 1]
    pc = np.int8(c)
    for j in range(H):
        a = Ep[j]                   # (both loaded before the select: else no vector loop)
        b = Em[j]
        S[j] = a if odd[j] != pc else b
    for i in range(L):
        a = i * L2
        if (i + c) & 1:             # side neighbours k and k + 1: wrap at k = L2 - 1
            S[a + L2 - 1] = 1 if plus else P[a]
        else:                       # k - 1 and k: wrap at k = 0
            S[a] = 1 if plus else P[a + L2 - 1]
    # draws: site k of row i is part k % 4 of output k // 4 of row i's stream
    for i in range(L):
        keys[i] = row_key_final(skey, STREAM_CHECKERBOARD + c, i)
    # (the counters first, then one flat loop of mix64: a loop over a row's
    # few outputs would not vectorise)
    if Q < 8:
        for q in range(Q):
            inc = (np.uint64(q) + np.uint64(1)) * GOLDEN
            wq = w64[q:]
            for i in range(L):
                wq[i * Q] = keys[i] + inc
    else:
        for i in range(L):
            key = keys[i]
            ws = w64[i * Q:(i + 1) * Q]
            for q in range(Q):
                ws[q] = key + (np.uint64(q) + np.uint64(1)) * GOLDEN
    w = w64[:L * Q]
    for j in range(L * Q):
        w[j] = mix64(w[j])
    if 4 * Q != L2:                 # rows of the draws back to back (left moves)
        for i in range(1, L):
            src = u16[4 * Q * i:]
            dst = u16[L2 * i:]
            for k in range(L2):
                dst[k] = src[k]
    u = u16[:H]
    cur = pl[c]
    up = E[:H]
    dn = E[2 * L2:2 * L2 + H]
    m = 0
    b = 0
    if sums:
        tie, m, b = _flip_row_sums(cur, up, dn, mid, S, u, hi, with_field)
    else:
        tie = _flip_row(cur, up, dn, mid, S, u, hi, with_field)
    if tie:
        _settle_ties_flat(cur, up, dn, mid, S, lo, with_field, keys, L2)
        if sums:
            m, b = _row_sums(cur, up, dn, mid, S)
    return m, b


@njit(inline="always", cache=True)
def _settle_ties_flat(cur, up, dn, mid, side, lo, with_field, keys, L2):
    """:func:`_settle_ties` for a whole plane: site j is site ``j % L2`` of
    row ``j // L2`` (key ``keys[j // L2]``)."""
    for j in range(cur.shape[0]):
        s3 = cur[j]
        if s3 == 3 or s3 == -3:
            i = j // L2
            nn = np.int64(up[j]) + np.int64(dn[j]) + np.int64(mid[j]) + np.int64(side[j])
            cur[j] = _settled_spin(s3, nn, lo, 0, with_field, keys[i], j - i * L2)


@njit(inline="always", cache=True)
def _border_bonds0(bf, W, B):
    """B[w] += the bonds of lane w's colour-0 sites to the fixed +1 border
    (those of colour 1 are in its neighbour sums): rows 0 and L - 1, column
    0 (k = 0 in even rows) and column L - 1 (k = L/2 - 1 in odd rows)."""
    L = bf.shape[1]
    n = bf.shape[2]
    for j in range(n):
        B[j % W] += np.int64(bf[0, 0, j]) + np.int64(bf[0, L - 1, j])
    for i in range(L):
        e = 0 if i % 2 == 0 else n - W
        for w in range(W):
            B[w] += bf[0, i, e + w]


@njit(inline="always", cache=True)
def _store(r, q, M, B, h, N, m_out, e_out):
    """Record ``q`` of replica ``r``: the exact integers M and B (int32/int64 arrays).

    ``h`` and ``N`` are not needed here: Traces computes m = M / N and
    e = -(B + h M) / N when asked for.
    """
    m_out[r, q] = M
    e_out[r, q] = B


#: checkerboard_replicas updates lattices up to this L a colour at a time
#: (:func:`_colour_flat`), larger ones row by row in one pass
#: (:func:`_sweep_part`), whose rows of L / 2 >= 128 sites vectorise well
#: and whose working set stays in cache (one thread, T = 2.5, flips/ns, flat
#: vs rows: 1.2 vs 0.25 at L = 16, 3.4 vs 1.9 at 128, 2.2 vs 1.9 at 240,
#: 1.9 vs 3.3 at 256, 1.0 vs 5.3 at 1024).
_FLAT_MAX_L = 254


def checkerboard_replicas(sp, temps, h, dynamics, plus, seed, sweep0,
                          record_every, m_out, e_out):
    """Checkerboard sweeps, replicas in parallel (split layout, even L).

    Sweep ``s`` of this call is sweep ``sweep0 + s`` of the run (that number
    keys the random streams) and runs at ``temps[r, s]``. Each sweep updates
    colour 0, then colour 1: for L <= ``_FLAT_MAX_L`` each colour as one flat
    segment (:func:`_colour_flat`), for larger L in one pass over memory
    (:func:`_sweep_part`). Same results either way. Replicas run in ranges
    on threads (:mod:`._threads`); a run compiles only the path of its L.
    """
    args = (sp, temps, h, dynamics, plus, seed, sweep0, record_every, m_out, e_out)
    on_threads(_flat_range if sp.shape[2] <= _FLAT_MAX_L else _rows_range, sp.shape[0], args)


@njit(cache=True, nogil=True)
def _flat_range(sp, temps, h, dynamics, plus, seed, sweep0, record_every, m_out, e_out,
                r0, r1):
    """Replicas r0 .. r1 - 1 of :func:`checkerboard_replicas`, L <= _FLAT_MAX_L."""
    L = sp.shape[2]
    L2 = sp.shape[3]
    odd = _row_parity(L, L2)
    for r in range(r0, r1):
        _flat_sweeps(sp[r], np.int64(r), temps[r], h, dynamics, plus, seed, sweep0,
                     record_every, m_out, e_out, _flat_scratch(L, L2, odd))


@njit(cache=True, nogil=True)
def _rows_range(sp, temps, h, dynamics, plus, seed, sweep0, record_every, m_out, e_out,
                r0, r1):
    """Replicas r0 .. r1 - 1 of :func:`checkerboard_replicas`, L > _FLAT_MAX_L."""
    for r in range(r0, r1):
        _replica_rows(sp[r], np.int64(r), temps[r], h, dynamics, plus, seed, sweep0,
                      record_every, m_out, e_out)


# The sweeps of a replica (or a block, or a chunk of rows) are a function
# apart, not inlined into the loop over replicas, for two reasons.
# * Compile time: each caller would compile the body again (Numba's
#   parallel passes on such an inlined body took ~80 s in the prange loop of
#   checkerboard_rows); a call per replica per kernel call costs nothing
#   measurable.
# * Speed: the function is compiled without Numba's reference counting
#   (``_nrt=False``). With it, every array view (a row, a slice of a
#   scratch buffer: dozens per row or colour) increments and decrements a
#   reference count with atomic instructions, which cost as much as the
#   update of a row of 128 sites (1.45-1.9x faster without it at L = 256,
#   1.15x at L = 1024, measured in one process). Such a function cannot
#   allocate: its scratch is made by the caller (the ``*_scratch``
#   functions) and passed in.
# The index of a prange loop (checkerboard_rows) is passed as np.int64:
# Numba types it int64 when typing the kernel and uint64 when compiling the
# loop body, and each type would compile the callee anew.
@njit(cache=True)
def _flat_scratch(L, L2, odd):
    """Scratch of :func:`_flat_sweeps`: (tab, hi, lo, B0, buffers of
    :func:`_flat_buffers`)."""
    return (np.empty(10, np.uint32), np.empty(10, np.uint16), np.empty((10, 1), np.uint16),
            np.zeros(1, np.int64), _flat_buffers(L, L2, odd))


@njit(cache=True, _nrt=False)
def _flat_sweeps(bf, r, temps, h, dynamics, plus, seed, sweep0, record_every, m_out, e_out,
                 scratch):
    """All sweeps of replica r, colour by colour as flat segments (L <= _FLAT_MAX_L)."""
    tab, hi, lo, B0, buf = scratch
    L = bf.shape[1]
    L2 = bf.shape[2]
    N = L * L
    n = temps.shape[0]
    with_field = h != 0.0
    pl = bf.reshape((2, L * L2))
    for s in range(n):
        _fill_thresholds(tab, temps[s], h, dynamics)
        _split_thresholds(tab, hi, lo, 0)
        skey = sweep_key(seed, r, sweep0 + s)
        rec = (s + 1) % record_every == 0
        M = 0
        for c in range(2):      # (one call site: each is compiled apart)
            M, B0[0] = _colour_flat(pl, c, plus, buf, skey, hi, lo, with_field, rec and c == 1)
        if rec:
            if plus:
                _border_bonds0(bf, 1, B0)
            _store(r, (s + 1) // record_every - 1, M, B0[0], h, N, m_out, e_out)


_ROW_CHUNK = 16    # rows per task of checkerboard_rows


@njit(cache=True, _nrt=False)
def _rows_part(bf, a, b, part, plus, ones, ext, rnd64, u16, am, ab, hi, th, lo, with_field, skeys,
               keys,
               rec, no_acc):
    """:func:`_sweep_part` of one chunk of rows of one lattice (a function
    apart, without reference counts: see :func:`_flat_scratch`)."""
    return _sweep_part(bf, a, b, part, plus, ones, 1, ext, (rnd64, u16, am, ab), hi, th, False, lo,
                       with_field, skeys, keys, rec, no_acc, no_acc)


@njit(cache=True)
def _replica_rows(bf, r, temps, h, dynamics, plus, seed, sweep0, record_every, m_out, e_out):
    """All sweeps of replica r, row by row in one pass over memory (L >
    _FLAT_MAX_L); the rows in :func:`_rows_part`, the callee of
    :func:`checkerboard_rows` too."""
    L = bf.shape[1]
    L2 = bf.shape[2]
    N = L * L
    n = temps.shape[0]
    with_field = h != 0.0
    ext = np.empty(L2 + 2, np.int8)
    rnd = _draw_buffers(L2, 1)
    ones = np.ones(L2, np.int8)
    tab = np.empty(10, np.uint32)
    hi = np.empty(10, np.uint16)
    lo = np.empty((10, 1), np.uint16)
    th = np.empty((10, 1), np.uint16)    # (per-site thresholds: unused)
    skeys = np.empty(1, np.uint64)
    keys = np.empty(1, np.uint64)
    B0 = np.zeros(1, np.int64)
    no_acc = np.empty(0, np.int32)
    for s in range(n):
        _fill_thresholds(tab, temps[s], h, dynamics)
        _split_thresholds(tab, hi, lo, 0)
        skeys[0] = sweep_key(seed, r, sweep0 + s)
        rec = (s + 1) % record_every == 0
        M = 0
        B0[0] = 0
        for part in range(1, 3):        # (the callee of checkerboard_rows, compiled once)
            m, b = _rows_part(bf, np.int64(0), L, part, plus, ones, ext, rnd[0], rnd[1], rnd[2],
                              rnd[3], hi, th, lo, with_field, skeys, keys, rec, no_acc)
            M += m
            B0[0] += b
        if rec:
            if plus:
                _border_bonds0(bf, 1, B0)
            _store(r, (s + 1) // record_every - 1, M, B0[0], h, N, m_out, e_out)


@njit(parallel=True, cache=True)
def checkerboard_rows(sp, temps, h, dynamics, plus, seed, sweep0,
                      record_every, m_out, e_out):
    """As :func:`checkerboard_replicas`, rows of a sweep in parallel.

    For few large lattices. Identical results: the random streams are keyed
    by row, not by thread. The rows are handed out in chunks of
    ``_ROW_CHUNK``, each with scratch rows allocated once per call; two
    thread barriers per sweep (:func:`_sweep_part` 1 and 2).
    """
    R = sp.shape[0]
    L = sp.shape[2]
    L2 = sp.shape[3]
    N = L * L
    n = temps.shape[1]
    with_field = h != 0.0
    ones = np.ones(L2, np.int8)
    tab = np.empty(10, np.uint32)
    hi = np.empty(10, np.uint16)
    lo = np.empty((10, 1), np.uint16)
    th = np.empty((10, 1), np.uint16)
    skeys = np.empty(1, np.uint64)
    B0 = np.zeros(1, np.int64)
    no_acc = np.empty(0, np.int32)
    n_chunks = -(-L // _ROW_CHUNK)
    ext_all = np.empty((n_chunks, L2 + 2), np.int8)
    rnd_all = np.empty((n_chunks, (L2 + 3) // 4), np.uint64)
    u16_all = rnd_all.view(np.uint16)
    am_all = np.zeros((n_chunks, L2), np.int8)
    ab_all = np.zeros((n_chunks, L2), np.int8)
    keys_all = np.empty((n_chunks, 1), np.uint64)
    Mc = np.zeros(n_chunks, np.int64)
    Bc = np.zeros(n_chunks, np.int64)
    for r in range(R):
        bf = sp[r]
        for s in range(n):
            _fill_thresholds(tab, temps[r, s], h, dynamics)
            _split_thresholds(tab, hi, lo, 0)
            skeys[0] = sweep_key(seed, r, sweep0 + s)
            rec = (s + 1) % record_every == 0
            for part in range(1, 3):
                for ch in prange(n_chunks):
                    i0 = np.int64(ch) * _ROW_CHUNK
                    m, b = _rows_part(bf, i0, min(L, i0 + _ROW_CHUNK), part, plus, ones,
                                      ext_all[ch], rnd_all[ch], u16_all[ch], am_all[ch],
                                      ab_all[ch], hi, th, lo, with_field, skeys, keys_all[ch],
                                      rec, no_acc)
                    Mc[ch] = m if part == 1 else Mc[ch] + m
                    Bc[ch] = b if part == 1 else Bc[ch] + b
            if rec:
                B0[0] = Bc.sum()
                if plus:
                    _border_bonds0(bf, 1, B0)
                _store(r, (s + 1) // record_every - 1, Mc.sum(), B0[0], h, N, m_out, e_out)


@njit(inline="always", cache=True)
def _neighbour_sum(sr, i, j, L, plus):
    """Sum of the four neighbours of site (i, j) in one natural-layout lattice."""
    if plus:
        a = sr[i - 1, j] if i > 0 else 1
        b = sr[i + 1, j] if i < L - 1 else 1
        c = sr[i, j - 1] if j > 0 else 1
        d = sr[i, j + 1] if j < L - 1 else 1
    else:
        a = sr[(i - 1) % L, j]
        b = sr[(i + 1) % L, j]
        c = sr[i, (j - 1) % L]
        d = sr[i, (j + 1) % L]
    return np.int64(a) + np.int64(b) + np.int64(c) + np.int64(d)


_RS_BATCH = 1024   # attempts whose random numbers are drawn in one vectorised batch


@njit(cache=True)
def neighbour_table(L, plus):
    """int32[N, 4]: the flat indices ``i * L + j`` of the four neighbours of each site.

    Periodic: wrapped indices (on L = 2 the same neighbour appears twice, as
    the neighbour sums count it). ``plus``: a neighbour outside the lattice is
    the fixed +1 border, given the index N (one slot past the lattice).
    """
    N = L * L
    nbr = np.empty((N, 4), np.int32)
    for i in range(L):
        for j in range(L):
            q = i * L + j
            if plus:
                nbr[q, 0] = q - L if i > 0 else N
                nbr[q, 1] = q + L if i < L - 1 else N
                nbr[q, 2] = q - 1 if j > 0 else N
                nbr[q, 3] = q + 1 if j < L - 1 else N
            else:
                nbr[q, 0] = ((i - 1 + L) % L) * L + j
                nbr[q, 1] = ((i + 1) % L) * L + j
                nbr[q, 2] = i * L + (j - 1 + L) % L
                nbr[q, 3] = i * L + (j + 1) % L
    return nbr


@njit(cache=True)
def _rs_codes(sf, nbr, L, plus, code):
    """code[q] = 16 * (s_q > 0) + nn_q + 4 for every site (border slot counts +1)."""
    N = sf.shape[0]
    for q in range(N):
        nn = 0
        for d in range(4):
            p = nbr[q, d]
            nn += sf[p] if p < N else 1
        code[q] = np.uint8(16 * (sf[q] > 0) + nn + 4)
    code[N] = 0


@njit(inline="always", cache=True)
def _rs_thresholds(tab, tab32):
    """tab32[16 * si + nn + 4] = the threshold of spin 2 si - 1 with neighbour sum nn."""
    for si in range(2):
        sv = 2 * si - 1
        for nn in range(-4, 5, 2):
            tab32[16 * si + nn + 4] = tab[5 * si + (sv * nn + 4) // 2]


@njit(cache=True)
def _rs_attempts(code, nbr, z, tab32, L, N, plus, M, B):
    """Single-spin update attempts of one lattice, one per 64-bit draw in ``z``.

    ``code[q] = 16 * (s_q > 0) + nn_q + 4`` holds each spin with its
    neighbour sum, so an attempt is one load and one threshold compare; only
    an accepted flip touches the four neighbours. The high 32 bits ``x`` of
    a draw pick the site ``(x * N) >> 32``, the low 32 bits decide the flip.
    Returns the updated exact (M, B).
    """
    lo = np.uint64(0xFFFFFFFF)
    uN = np.uint64(N)
    for k in range(z.shape[0]):
        zk = z[k]
        q = np.int64(((zk >> np.uint64(32)) * uN) >> np.uint64(32))
        c = code[q]
        if (zk & lo) <= tab32[c]:
            new = np.int64(-1) if c >= 16 else np.int64(1)     # the spin after the flip
            code[q] = c ^ np.uint8(16)
            M += 2 * new
            B += 2 * new * (np.int64(c & 15) - 4)
            d = np.uint8(2) if new > 0 else np.uint8(254)      # nn of each neighbour +- 2
            code[nbr[q, 0]] += d
            code[nbr[q, 1]] += d
            code[nbr[q, 2]] += d
            code[nbr[q, 3]] += d
    return M, B


#: From this L on, random-sequential sweeps compute neighbour indices instead
#: of reading the int32[N, 4] table: at 16 N bytes the table no longer fits in
#: cache and its misses cost more than the arithmetic (measured 2.1-2.5x faster
#: at L = 1024-2048, 1.0-1.4x at 512, slower below).
_RS_ARITH_MIN_L = 512


@njit(inline="always", cache=True)
def _neighbours4(q, L, N, plus, invL):
    """Flat indices of the 4 neighbours of site q (N: the + border slot)."""
    i = np.int64((q + 0.5) * invL)        # q // L: exact, (q + 1/2) / L is 1/(2L) off any integer
    j = q - i * L
    if plus:
        return (q - L if i > 0 else N, q + L if i < L - 1 else N,
                q - 1 if j > 0 else N, q + 1 if j < L - 1 else N)
    return (q - L if i > 0 else q + N - L, q + L if i < L - 1 else q - N + L,
            q - 1 if j > 0 else q + L - 1, q + 1 if j < L - 1 else q - L + 1)


@njit(cache=True)
def _rs_codes_arith(sf, nbr, L, plus, code):
    """:func:`_rs_codes` with computed neighbour indices."""
    N = sf.shape[0]
    invL = 1.0 / L
    for q in range(N):
        a, b, c, d = _neighbours4(q, L, N, plus, invL)
        nn = ((sf[a] if a < N else 1) + (sf[b] if b < N else 1)
              + (sf[c] if c < N else 1) + (sf[d] if d < N else 1))
        code[q] = np.uint8(16 * (sf[q] > 0) + nn + 4)
    code[N] = 0


@njit(cache=True)
def _rs_attempts_arith(code, nbr, z, tab32, L, N, plus, M, B):
    """:func:`_rs_attempts` with computed neighbour indices (large L)."""
    lo = np.uint64(0xFFFFFFFF)
    uN = np.uint64(N)
    invL = 1.0 / L
    for k in range(z.shape[0]):
        zk = z[k]
        q = np.int64(((zk >> np.uint64(32)) * uN) >> np.uint64(32))
        c = code[q]
        if (zk & lo) <= tab32[c]:
            new = np.int64(-1) if c >= 16 else np.int64(1)
            code[q] = c ^ np.uint8(16)
            M += 2 * new
            B += 2 * new * (np.int64(c & 15) - 4)
            d = np.uint8(2) if new > 0 else np.uint8(254)
            n0, n1, n2, n3 = _neighbours4(q, L, N, plus, invL)
            code[n0] += d
            code[n1] += d
            code[n2] += d
            code[n3] += d
    return M, B


def random_sequential_replicas(sp, temps, h, dynamics, plus, seed, sweep0,
                               record_every, m_out, e_out):
    """Random-sequential sweeps (natural layout, any L >= 2): N = L**2 attempts.

    Each attempt picks one of the N sites uniformly at random (with
    replacement) and updates it with the Metropolis or Glauber probability at
    that sweep's temperature: the discrete-time form of Glauber's
    continuous-time single-spin-flip master equation (one sweep = one unit of
    time), the kinetics the coarsening literature describes. Every update
    satisfies detailed balance and the chain is irreducible and aperiodic for
    every L >= 2 at T > 0.

    Attempt ``a`` of sweep ``s`` of replica ``r`` uses the ``a``-th output of
    the stream ``row_key(seed, r, sweep0 + s, STREAM_RANDOM_SITE, 0)``: its
    high 32 bits choose the site (``(x * N) >> 32``, uniform to within
    ``N / 2**32``), its low 32 bits the flip (see :func:`_fill_thresholds`).
    Replicas run in parallel, in ranges on threads (:mod:`._threads`);
    results do not depend on the thread count.
    """
    nbr = neighbour_table(sp.shape[1], plus)
    on_threads(_rs_replica_range, sp.shape[0],
               (sp, nbr, temps, h, dynamics, plus, seed, sweep0, record_every, m_out, e_out))


def random_sequential_replicas_large(sp, temps, h, dynamics, plus, seed, sweep0,
                                     record_every, m_out, e_out):
    """:func:`random_sequential_replicas` for L >= ``_RS_ARITH_MIN_L``: the
    neighbour indices are computed, not read from a table. Same results; a
    kernel apart, so that small lattices do not compile this path."""
    nbr = np.empty((0, 4), np.int32)
    on_threads(_rs_replica_range_large, sp.shape[0],
               (sp, nbr, temps, h, dynamics, plus, seed, sweep0, record_every, m_out, e_out))


@njit(cache=True, nogil=True)
def _rs_replica_range(sp, nbr, temps, h, dynamics, plus, seed, sweep0, record_every,
                      m_out, e_out, r0, r1):
    """The sweeps of replicas r0 .. r1 - 1 with the neighbour table ``nbr``."""
    for r in range(r0, r1):
        _rs_replica(sp, np.int64(r), nbr, temps, h, dynamics, plus, seed, sweep0,
                    record_every, m_out, e_out, False)


@njit(cache=True, nogil=True)
def _rs_replica_range_large(sp, nbr, temps, h, dynamics, plus, seed, sweep0, record_every,
                            m_out, e_out, r0, r1):
    """The sweeps of replicas r0 .. r1 - 1 with computed neighbour indices (``nbr``
    unused); a kernel apart, so that small lattices do not compile this path."""
    for r in range(r0, r1):
        _rs_replica(sp, np.int64(r), nbr, temps, h, dynamics, plus, seed, sweep0,
                    record_every, m_out, e_out, True)


@njit(inline="always", cache=True)
def _rs_replica(sp, r, nbr, temps, h, dynamics, plus, seed, sweep0, record_every,
                m_out, e_out, arith):
    """The sweeps of replica r (``arith``, a constant: computed neighbours)."""
    L = sp.shape[1]
    N = L * L
    n = temps.shape[1]
    tab = np.empty(10, np.uint32)
    tab32 = np.zeros(32, np.uint32)
    z = np.empty(min(N, _RS_BATCH), np.uint64)
    code = np.empty(N + 1, np.uint8)
    sf = sp[r].reshape(N)
    Mr, Br = _natural_MB_one(sp[r], plus)
    if arith:
        _rs_codes_arith(sf, nbr, L, plus, code)
    else:
        _rs_codes(sf, nbr, L, plus, code)
    T_last = np.nan
    for s in range(n):
        if temps[r, s] != T_last:
            _fill_thresholds(tab, temps[r, s], h, dynamics)
            _rs_thresholds(tab, tab32)
            T_last = temps[r, s]
        key = row_key(seed, r, sweep0 + s, STREAM_RANDOM_SITE, 0)
        for a0 in range(0, N, z.shape[0]):
            zb = z[:min(z.shape[0], N - a0)]
            for k in range(zb.shape[0]):
                zb[k] = mix64(key + (np.uint64(a0 + k) + np.uint64(1)) * GOLDEN)
            if arith:
                Mr, Br = _rs_attempts_arith(code, nbr, zb, tab32, L, N, plus, Mr, Br)
            else:
                Mr, Br = _rs_attempts(code, nbr, zb, tab32, L, N, plus, Mr, Br)
        if (s + 1) % record_every == 0:
            _store(r, (s + 1) // record_every - 1, Mr, Br, h, N, m_out, e_out)
    for q in range(N):
        sf[q] = np.int8(1) if code[q] >= 16 else np.int8(-1)


@njit(cache=True)
def _natural_MB_one(sr, plus):
    L = sr.shape[0]
    M = 0
    twoB = 0
    for i in range(L):
        for j in range(L):
            sv = np.int64(sr[i, j])
            M += sv
            nb = _neighbour_sum(sr, i, j, L, plus)
            if plus:
                # border bonds belong to this site alone: count them twice
                # here so that the final halving leaves them once
                nborder = (i == 0) + (i == L - 1) + (j == 0) + (j == L - 1)
                twoB += sv * (nb + nborder)
            else:
                twoB += sv * nb
    return M, twoB // 2


def natural_MB(sp, plus):
    """Exact ``M = sum s`` and bond sum ``B`` of each replica (natural layout)."""
    R = sp.shape[0]
    M = np.empty(R, np.int64)
    B = np.empty(R, np.int64)
    on_threads(_natural_MB_range, R, (sp, bool(plus), M, B))
    return M, B


@njit(cache=True, nogil=True)
def _natural_MB_range(sp, plus, M, B, r0, r1):
    for r in range(r0, r1):
        M[r], B[r] = _natural_MB_one(sp[r], plus)


def wolff_replicas(sp, temps, seed, sweep0, record_every, clusters, m_out, e_out,
                   flipped_out):
    """Wolff cluster updates (natural layout, periodic boundary, h = 0).

    One "sweep" here is a fixed number ``clusters`` of cluster flips. The
    number must not depend on the run itself: ending a sweep once the flipped
    sizes add up to N would be a state-dependent stopping time and biases the
    records towards ordered states. Cluster moves have no physical time: use
    them for equilibrium averages only, never for quench dynamics.
    ``flipped_out[r]`` receives the total number of spins flipped (for the
    mean cluster size). Replicas run in ranges on threads, as in
    :func:`random_sequential_replicas`; results do not depend on the thread
    count.
    """
    on_threads(_wolff_range, sp.shape[0],
               (sp, temps, seed, sweep0, record_every, clusters, m_out, e_out, flipped_out))


@njit(cache=True, nogil=True)
def _wolff_range(sp, temps, seed, sweep0, record_every, clusters, m_out, e_out,
                 flipped_out, r0, r1):
    """The Wolff sweeps of replicas r0 .. r1 - 1 (see :func:`wolff_replicas`)."""
    L = sp.shape[1]
    N = L * L
    n = temps.shape[1]
    for r in range(r0, r1):
        sr = sp[r]
        flat = sr.reshape(N)
        # the stack holds (row, column) pairs: no division to recover them
        si = np.empty(N, np.int32)
        sj = np.empty(N, np.int32)
        flipped = 0
        for s in range(n):
            padd = 1.0 - np.exp(-2.0 / temps[r, s])
            thr = np.uint64(min(padd * _TWO32, _TWO32))
            for cluster in range(clusters):
                key = row_key(seed, r, sweep0 + s, STREAM_WOLFF, cluster)
                site = np.int64((draw32(key, 0) * np.uint64(N)) >> np.uint64(32))
                k = 1
                i0 = site // L
                j0 = site - i0 * L
                s0 = flat[site]
                flat[site] = -s0
                si[0] = i0
                sj[0] = j0
                top = 1
                flipped += 1
                while top > 0:
                    top -= 1
                    i = np.int64(si[top])
                    j = np.int64(sj[top])
                    # neighbours in the order up, down, left, right (the order
                    # of the bond draws), periodic wrap without a modulo
                    for d in range(4):
                        if d == 0:
                            a, b = (i - 1 if i > 0 else L - 1), j
                        elif d == 1:
                            a, b = (i + 1 if i < L - 1 else 0), j
                        elif d == 2:
                            a, b = i, (j - 1 if j > 0 else L - 1)
                        else:
                            a, b = i, (j + 1 if j < L - 1 else 0)
                        q = a * L + b
                        # branch-free: a bond draw for every neighbour, the
                        # neighbour joins iff it is aligned and the draw accepts
                        # (mispredicted branches cost more than the draws)
                        u = draw32(key, k)
                        k += 1
                        join = (flat[q] == s0) & (u < thr)
                        flat[q] = np.int8(-s0) if join else flat[q]
                        si[top] = a
                        sj[top] = b
                        top += np.int64(join)
                        flipped += np.int64(join)
            if (s + 1) % record_every == 0:
                Mr, Br = _natural_MB_one(sr, False)
                _store(r, (s + 1) // record_every - 1, Mr, Br, 0.0, N, m_out, e_out)
        flipped_out[r] = flipped


# --------------------------------------------------------------- blocked layout
# *blocked*  ``int8[G, 2, L, L // 2, W]``: the split layout of ``G * W``
#            replicas in ``G`` blocks of ``W`` lanes, the lane (replica) index
#            innermost: ``blocked[g, c, i, k, w] = split[g * W + w, c, i, k]``.
#            Replicas ``>= R`` of the last block are padding (they are updated
#            like the others, with their own streams, and never recorded).
#
# A row ``(c, i)`` of a block is ``L // 2 * W`` contiguous bytes, so the
# update loops run across lanes, each lane with its own temperature, and the
# per-row overheads (row keys, views, loop prologues) are paid once per W
# replicas. The row functions above serve both layouts: they see each row
# flattened to ``j = k * W + w`` (the side neighbours ``k -+ 1`` of a lane
# are at ``j -+ W``). Every random number is the one
# :func:`checkerboard_replicas` draws for the same (replica, sweep, colour,
# row, site), so the results are bit-identical.


@njit(inline="always", cache=True)
def _lane_thresholds(hi_l, W, th):
    """th[t, k * W + w] = hi_l[t, w]: the per-site thresholds of
    :func:`_flip_row_lanes` for lanes at different temperatures."""
    n = th.shape[1]
    for t in range(10):
        row = th[t]
        src = hi_l[t]
        for k in range(n // W):
            dst = row[k * W:]
            for w in range(W):
                dst[w] = src[w]


@njit(inline="always", cache=True)
def _lane_totals(acc_m, acc_b, W, M, B):
    """M[w], B[w] = sums of the per-site accumulators over lane w's sites."""
    n = acc_m.shape[0]
    for w in range(W):
        M[w] = 0
        B[w] = 0
    for k in range(n // W):
        am = acc_m[k * W:]
        ab = acc_b[k * W:]
        for w in range(W):
            M[w] += np.int64(am[w])
            B[w] += np.int64(ab[w])


def checkerboard_blocks(bp, temps, h, dynamics, plus, seed, sweep0,
                        record_every, m_out, e_out):
    """Checkerboard sweeps in the blocked layout, blocks of W replicas in parallel.

    ``bp`` is ``int8[G, 2, L, L // 2, W]`` (see the comment above
    :func:`_lane_thresholds`); lane ``w`` of block ``g`` is replica
    ``r = g * W + w``, keyed as such. ``temps`` is ``(R, n)`` with
    ``R <= G * W``: lanes ``r >= R`` are padding and run at ``temps[R - 1]``;
    ``m_out``/``e_out`` are ``(R, n // record_every)``. Spins, records and
    random numbers are bit-identical to :func:`checkerboard_replicas` on the
    split layout of the same replicas. No thread barrier: a thread owns a
    block for the whole call.

    Each lane's threshold table is recomputed only when its temperature
    changes. In a sweep where all lanes of a block share one temperature the
    thresholds sit in registers (:func:`_flip_row`); otherwise they are read
    per site from a table spread over a row (:func:`_flip_row_lanes`),
    rebuilt when a lane's temperature changes.
    """
    on_threads(_block_range, bp.shape[0],
               (bp, temps, h, dynamics, plus, seed, sweep0, record_every, m_out, e_out))


@njit(cache=True, nogil=True)
def _block_range(bp, temps, h, dynamics, plus, seed, sweep0, record_every, m_out, e_out,
                 g0, g1):
    """Blocks g0 .. g1 - 1 of :func:`checkerboard_blocks`."""
    L = bp.shape[2]
    L2 = bp.shape[3]
    W = bp.shape[4]
    for g in range(g0, g1):
        _block_sweeps(bp[g], np.int64(g), temps, h, dynamics, plus, seed, sweep0, record_every,
                      m_out, e_out, _block_scratch(L, L2, W))


@njit(cache=True)
def _block_scratch(L, L2, W):
    """Scratch of :func:`_block_sweeps` for blocks of W lanes."""
    n_row = L2 * W
    return (np.empty(n_row + 2 * W, np.int8), np.ones(n_row, np.int8), _draw_buffers(L2, W),
            np.empty(10, np.uint32), np.empty((10, W), np.uint16), np.empty((10, W), np.uint16),
            np.empty(10, np.uint16), np.empty((10, n_row), np.uint16), np.empty(W, np.float64),
            np.empty(W, np.uint64), np.empty(W, np.uint64), np.empty(n_row, np.int32),
            np.empty(n_row, np.int32), np.empty(W, np.int64), np.empty(W, np.int64))


@njit(cache=True, _nrt=False)
def _block_sweeps(bpg, g, temps, h, dynamics, plus, seed, sweep0, record_every, m_out, e_out,
                  scratch):
    """All sweeps of block g (``bpg = bp[g]``) of :func:`checkerboard_blocks`
    (a function apart, without reference counts: see :func:`_flat_scratch`)."""
    ext, ones, rnd, tab, hi_l, lo, hi, th, T_last, skeys, keys, acc_m, acc_b, M, B = scratch
    L = bpg.shape[1]
    L2 = bpg.shape[2]
    W = bpg.shape[3]
    n_row = L2 * W
    R = temps.shape[0]
    N = L * L
    n = temps.shape[1]
    with_field = h != 0.0
    bf = bpg.reshape((2, L, n_row))
    th_ok = False               # th holds the present hi_l
    T_last[:] = np.nan
    for s in range(n):
        for w in range(W):
            T = temps[min(g * W + w, R - 1), s]
            if T != T_last[w]:   # the table is a function of T (h, dynamics fixed)
                _fill_thresholds(tab, T, h, dynamics)
                _split_thresholds(tab, hi, lo, w)
                for t in range(10):
                    hi_l[t, w] = hi[t]
                T_last[w] = T
                th_ok = False
            skeys[w] = sweep_key(seed, g * W + w, sweep0 + s)
        shared = True      # all lanes at the same temperature (common case)?
        for w in range(1, W):
            shared = shared and T_last[w] == T_last[0]
        if shared:
            for t in range(10):
                hi[t] = hi_l[t, 0]
        elif not th_ok:
            _lane_thresholds(hi_l, W, th)
            th_ok = True
        rec = (s + 1) % record_every == 0
        if rec:
            acc_m[:] = 0
            acc_b[:] = 0
        for part in range(1, 3):
            _sweep_part(bf, 0, L, part, plus, ones, W, ext, rnd, hi, th, not shared, lo,
                        with_field, skeys, keys, rec, acc_m, acc_b)
        if rec:
            _lane_totals(acc_m, acc_b, W, M, B)
            if plus:
                _border_bonds0(bf, W, B)
            q = (s + 1) // record_every - 1
            for w in range(min(W, R - g * W)):
                _store(g * W + w, q, M[w], B[w], h, N, m_out, e_out)


# --------------------------------------------------------------- random start
@njit(cache=True)         # (serial: ~1 ns a spin, and a parallel kernel compiles 1 s longer)
def random_start(replica_keys, out):
    """Fill ``out`` (int8[R, N]) with +-1: bit 63 of SplitMix64(key_r + site * golden).

    In place, no temporaries: the same spins as the vectorised NumPy formula
    of :func:`isingneuron.engine.initial_spins` documents.
    """
    R, N = out.shape
    for r in range(R):
        k = replica_keys[r]
        for i in range(N):
            out[r, i] = np.int8(2 * np.int64(mix64(k + np.uint64(i) * GOLDEN) >> np.uint64(63)) - 1)


# ---------------------------------------------------------------- compilation
def range_kernels(entry, L) -> tuple:
    """The jitted kernels that a call of ``entry`` (a kernel as
    :func:`isingneuron.engine._entry_point` names it) compiles, for side L."""
    if entry == "checkerboard_replicas":
        return ("_flat_range" if L <= _FLAT_MAX_L else "_rows_range",)
    return {"random_sequential_replicas": ("_rs_replica_range",),
            "random_sequential_replicas_large": ("_rs_replica_range_large",),
            "checkerboard_blocks": ("_block_range",),
            "checkerboard_rows": ("checkerboard_rows",),
            "wolff_replicas": ("_wolff_range",),
            "kernels_packed.checkerboard_packed": ("kernels_packed._group_range",)}[entry]


def uncached(names) -> list[str]:
    """Those of the kernels ``names`` that have no up-to-date on-disk cache.

    ``names`` are jitted functions of this module or ``"kernels_packed.<name>"``
    (see :func:`isingneuron.engine.kernel_names`). Those will be compiled on
    their first call (seconds to tens of seconds), which a command line can
    announce. A kernel counts as cached when Numba's index file exists and is
    newer than its module's source; anything unexpected counts as uncached.
    """
    import importlib
    import os
    out = []
    for name in names:
        try:
            mod, _, attr = name.rpartition(".")
            module = importlib.import_module(f"isingneuron.{mod}") if mod else None
            func = getattr(module, attr) if module else globals()[attr]
            index = func._cache._cache_file._index_path
            src = os.path.getmtime(module.__file__ if module else __file__)
            fresh = os.path.getmtime(index) >= src
        except (AttributeError, KeyError, OSError):
            fresh = False
        if not fresh:
            out.append(name)
    return out
