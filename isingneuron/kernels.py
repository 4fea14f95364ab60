"""Numba kernels of the lattice engine. They know nothing of files or configs.

Layouts
-------
*natural*  ``int8[R, L, L]``: ``s[r, i, j]``, row ``i``, column ``j``.
*split*    ``int8[R, 2, L, L // 2]`` (even L only): the checkerboard colour
           ``c = (i + j) % 2`` of every site is stored apart,
           ``split[r, c, i, k] = s[r, i, 2 k + (i + c) % 2]``, so that each
           half-sweep walks contiguous rows and vectorises. One byte per spin.

In the split layout the neighbours of ``split[r, c, i, k]`` are
``split[r, 1-c, i-1, k]``, ``split[r, 1-c, i+1, k]``, ``split[r, 1-c, i, k]``
and ``split[r, 1-c, i, k - 1 + 2 p]`` with ``p = (i + c) % 2``.

Bookkeeping
-----------
Each kernel carries, per replica, the exact integers ``M = sum_i s_i`` and
``B = sum_<ij> s_i s_j`` (bonds to a fixed ``plus`` border included, each
bond of a periodic L = 2 lattice counted twice as its neighbour sum does),
updated flip by flip. The energy is ``E = -B - h M`` (J = 1). Records store
``m = M / N`` and ``e = E / N`` after every ``record_every``-th sweep.

Acceptance
----------
For a flip of spin ``s`` with neighbour sum ``nn`` the energy change is
``dE = 2 s nn + 2 h s``. A flip is accepted when a 32-bit random integer is
below ``floor(p * 2**32)``, with ``p = min(1, exp(-dE / T))`` (Metropolis) or
``p = 1 / (1 + exp(dE / T))`` (Glauber, heat bath); the probability is thus
exact to within ``2**-32``. The ten thresholds are tabulated once per sweep
from that sweep's temperature.
"""

import numpy as np
from numba import njit, prange

from ._rng import (GOLDEN, STREAM_CHECKERBOARD, STREAM_RANDOM_SITE, STREAM_WOLFF,
                   draw32, mix64, row_key)

METROPOLIS = 0
GLAUBER = 1
_TWO32 = 4294967296.0


@njit(inline="always", cache=True)
def _fill_thresholds(tab, T, h, dynamics):
    """tab[5 * (s + 1) // 2 + (s * nn + 4) // 2]: flip iff draw <= tab.

    The 32-bit threshold is ``floor(p * 2**32) - 1`` (clamped to >= 0), so a
    uniform 32-bit draw ``u`` satisfies ``u <= tab`` with probability
    ``floor(p * 2**32) / 2**32``, except ``p < 2**-32``, which flips with
    probability 2**-32.
    """
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
def _neighbours(sp, r, c, i, plus, ones, nn):
    """nn[k] = sum of the four neighbours of split[r, c, i, k] (int8)."""
    L = sp.shape[2]
    L2 = sp.shape[3]
    o = 1 - c
    mid = sp[r, o, i]
    if plus:
        up = ones if i == 0 else sp[r, o, i - 1]
        dn = ones if i == L - 1 else sp[r, o, i + 1]
    else:
        up = sp[r, o, (i - 1) % L]
        dn = sp[r, o, (i + 1) % L]
    for k in range(L2):
        nn[k] = up[k] + dn[k] + mid[k]
    if (i + c) & 1:          # p = 1: side neighbours at k and k + 1
        for k in range(L2 - 1):
            nn[k] += mid[k + 1]
        nn[L2 - 1] += 1 if plus else mid[0]
    else:                    # p = 0: side neighbours at k - 1 and k
        for k in range(1, L2):
            nn[k] += mid[k - 1]
        nn[0] += 1 if plus else mid[L2 - 1]


@njit(inline="always", cache=True)
def _update_row(cur, nn, rnd64, tab, with_field, key):
    """One update attempt for every spin of a row, given neighbour sums.

    Branch-free and vectorised: two 32-bit draws come from each 64-bit
    SplitMix64 output (the k-th site uses half k % 2 of output k // 2).
    """
    for q in range(rnd64.shape[0]):
        rnd64[q] = mix64(key + (np.uint64(q) + np.uint64(1)) * GOLDEN)
    rnd = rnd64.view(np.uint32)
    a0, a1, a2, a3, a4 = tab[0], tab[1], tab[2], tab[3], tab[4]
    b0, b1, b2, b3, b4 = tab[5], tab[6], tab[7], tab[8], tab[9]
    if with_field:
        for k in range(cur.shape[0]):
            s = cur[k]
            x = nn[k] if s > 0 else np.int8(-nn[k])
            if s > 0:
                thr = b0 if x == -4 else (b1 if x == -2 else (b2 if x == 0 else (b3 if x == 2 else b4)))
            else:
                thr = a0 if x == -4 else (a1 if x == -2 else (a2 if x == 0 else (a3 if x == 2 else a4)))
            cur[k] = np.int8(-s) if rnd[k] <= thr else s
    else:  # h = 0: the threshold depends on s * nn alone
        for k in range(cur.shape[0]):
            s = cur[k]
            x = nn[k] if s > 0 else np.int8(-nn[k])
            thr = b0 if x == -4 else (b1 if x == -2 else (b2 if x == 0 else (b3 if x == 2 else b4)))
            cur[k] = np.int8(-s) if rnd[k] <= thr else s


@njit(inline="always", cache=True)
def _split_MB(sp, r, plus, ones, nn):
    """Exact M and B of replica r in the split layout (one pass)."""
    L = sp.shape[2]
    L2 = sp.shape[3]
    M = 0
    B = 0
    for i in range(L):
        row0 = sp[r, 0, i]
        row1 = sp[r, 1, i]
        _neighbours(sp, r, 0, i, plus, ones, nn)
        for k in range(L2):
            M += np.int64(row0[k]) + np.int64(row1[k])
            B += np.int64(row0[k]) * np.int64(nn[k])
        if plus:  # border bonds of colour-1 sites (colour 0's are in nn)
            nb = (i == 0) + (i == L - 1)
            if nb:
                for k in range(L2):
                    B += nb * np.int64(row1[k])
            B += row1[0] if (i + 1) & 1 == 0 else row1[L2 - 1]
    return M, B


@njit(inline="always", cache=True)
def _store(r, q, M, B, h, N, m_out, e_out):
    m_out[r, q] = M / N
    e_out[r, q] = (-B - h * M) / N


@njit(parallel=True, cache=True)
def checkerboard_replicas(sp, temps, h, dynamics, plus, seed, sweep0,
                          record_every, m_out, e_out):
    """Checkerboard sweeps, replicas in parallel (split layout, even L).

    Sweep ``s`` of this call is sweep ``sweep0 + s`` of the run (that number
    keys the random streams) and runs at ``temps[r, s]``. Colour 0 is updated
    before colour 1 in each sweep; rows in order.
    """
    R = sp.shape[0]
    L = sp.shape[2]
    L2 = sp.shape[3]
    N = L * L
    n = temps.shape[1]
    with_field = h != 0.0
    for r in prange(R):
        nn = np.empty(L2, np.int8)
        rnd64 = np.empty((L2 + 1) // 2, np.uint64)
        ones = np.ones(L2, np.int8)
        tab = np.empty(10, np.uint32)
        for s in range(n):
            _fill_thresholds(tab, temps[r, s], h, dynamics)
            for c in range(2):
                for i in range(L):
                    _neighbours(sp, r, c, i, plus, ones, nn)
                    key = row_key(seed, r, sweep0 + s, STREAM_CHECKERBOARD + c, i)
                    _update_row(sp[r, c, i], nn, rnd64, tab, with_field, key)
            if (s + 1) % record_every == 0:
                M, B = _split_MB(sp, r, plus, ones, nn)
                _store(r, (s + 1) // record_every - 1, M, B, h, N, m_out, e_out)


@njit(parallel=True, cache=True)
def checkerboard_rows(sp, temps, h, dynamics, plus, seed, sweep0,
                      record_every, m_out, e_out):
    """As :func:`checkerboard_replicas`, rows of a half-sweep in parallel.

    For few large lattices. Identical results: the random streams are keyed
    by row, not by thread. One thread barrier per half-sweep.
    """
    R = sp.shape[0]
    L = sp.shape[2]
    L2 = sp.shape[3]
    N = L * L
    n = temps.shape[1]
    with_field = h != 0.0
    ones = np.ones(L2, np.int8)
    tab = np.empty(10, np.uint32)
    nn0 = np.empty(L2, np.int8)
    for r in range(R):
        for s in range(n):
            _fill_thresholds(tab, temps[r, s], h, dynamics)
            for c in range(2):
                for i in prange(L):
                    nn = np.empty(L2, np.int8)
                    rnd64 = np.empty((L2 + 1) // 2, np.uint64)
                    _neighbours(sp, r, c, i, plus, ones, nn)
                    key = row_key(seed, r, sweep0 + s, STREAM_CHECKERBOARD + c, i)
                    _update_row(sp[r, c, i], nn, rnd64, tab, with_field, key)
            if (s + 1) % record_every == 0:
                M, B = _split_MB(sp, r, plus, ones, nn0)
                _store(r, (s + 1) // record_every - 1, M, B, h, N, m_out, e_out)


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


@njit(parallel=True, cache=True)
def random_site_replicas(sp, temps, h, dynamics, plus, seed, sweep0,
                         record_every, m_out, e_out):
    """Random-site sweeps (natural layout, any L >= 2): N = L**2 attempts.

    Used for odd L, where a checkerboard is not bipartite. Each attempt picks
    a site uniformly at random; every single-spin update satisfies detailed
    balance, and unlike a fixed typewriter order (which is not ergodic for
    Metropolis on small odd tori: the exact 3 x 3 sweep matrix has several
    eigenvalues of modulus one) the chain is irreducible and aperiodic.
    """
    R = sp.shape[0]
    L = sp.shape[1]
    N = L * L
    n = temps.shape[1]
    for r in prange(R):
        tab = np.empty(10, np.uint32)
        sr = sp[r]
        Mr, Br = _natural_MB_one(sr, plus)
        for s in range(n):
            _fill_thresholds(tab, temps[r, s], h, dynamics)
            key = row_key(seed, r, sweep0 + s, STREAM_RANDOM_SITE, 0)
            for a in range(N):
                site = np.int64((draw32(key, 2 * a) * np.uint64(N)) >> np.uint64(32))
                i = site // L
                j = site % L
                sv = np.int64(sr[i, j])
                x = sv * _neighbour_sum(sr, i, j, L, plus)
                thr = tab[5 * ((sv + 1) >> 1) + ((x + 4) >> 1)]
                if draw32(key, 2 * a + 1) <= thr:
                    sr[i, j] = np.int8(-sv)
                    Mr -= 2 * sv
                    Br -= 2 * x
            if (s + 1) % record_every == 0:
                _store(r, (s + 1) // record_every - 1, Mr, Br, h, N, m_out, e_out)


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


@njit(parallel=True, cache=True)
def natural_MB(sp, plus):
    """Exact ``M = sum s`` and bond sum ``B`` of each replica (natural layout)."""
    R = sp.shape[0]
    M = np.empty(R, np.int64)
    B = np.empty(R, np.int64)
    for r in prange(R):
        M[r], B[r] = _natural_MB_one(sp[r], plus)
    return M, B


@njit(parallel=True, cache=True)
def wolff_replicas(sp, temps, seed, sweep0, record_every, clusters, m_out, e_out,
                   flipped_out):
    """Wolff cluster updates (natural layout, periodic boundary, h = 0).

    One "sweep" here is a fixed number ``clusters`` of cluster flips. The
    number must not depend on the run itself: ending a sweep once the flipped
    sizes add up to N would be a state-dependent stopping time and biases the
    records towards ordered states. Cluster moves have no physical time: use
    them for equilibrium averages only, never for quench dynamics.
    ``flipped_out[r]`` receives the total number of spins flipped (for the
    mean cluster size).
    """
    R = sp.shape[0]
    L = sp.shape[1]
    N = L * L
    n = temps.shape[1]
    for r in prange(R):
        sr = sp[r]
        stack = np.empty(N, np.int64)
        flipped = 0
        for s in range(n):
            padd = 1.0 - np.exp(-2.0 / temps[r, s])
            thr = np.uint64(min(padd * _TWO32, _TWO32))
            for cluster in range(clusters):
                key = row_key(seed, r, sweep0 + s, STREAM_WOLFF, cluster)
                site = np.int64((draw32(key, 0) * np.uint64(N)) >> np.uint64(32))
                k = 1
                s0 = sr[site // L, site % L]
                sr[site // L, site % L] = -s0
                top = 0
                stack[top] = site
                top += 1
                flipped += 1
                while top > 0:
                    top -= 1
                    q = stack[top]
                    i = q // L
                    j = q % L
                    for d in range(4):
                        if d == 0:
                            a, b = (i - 1) % L, j
                        elif d == 1:
                            a, b = (i + 1) % L, j
                        elif d == 2:
                            a, b = i, (j - 1) % L
                        else:
                            a, b = i, (j + 1) % L
                        if sr[a, b] == s0:
                            u = draw32(key, k)
                            k += 1
                            if u < thr:
                                sr[a, b] = -s0
                                stack[top] = a * L + b
                                top += 1
                                flipped += 1
            if (s + 1) % record_every == 0:
                Mr, Br = _natural_MB_one(sr, False)
                _store(r, (s + 1) // record_every - 1, Mr, Br, 0.0, N, m_out, e_out)
        flipped_out[r] = flipped
