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
                   draw32, mix64, row_key, row_key_final, sweep_key)

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
    _flip_row(cur, nn, rnd64.view(np.uint32), tab, with_field)


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
def _flip_row(cur, nn, u, tab, with_field):
    """Flip ``cur[j]`` when the 32-bit draw ``u[j] <= tab[...]`` (one flat loop).

    The thresholds sit in registers and are picked by selects, not gathers,
    so the loop vectorises. Without a field the threshold depends on
    ``s * nn`` alone.
    """
    a0, a1, a2, a3, a4 = tab[0], tab[1], tab[2], tab[3], tab[4]
    b0, b1, b2, b3, b4 = tab[5], tab[6], tab[7], tab[8], tab[9]
    if with_field:
        for j in range(cur.shape[0]):
            s = cur[j]
            x = nn[j] if s > 0 else np.int8(-nn[j])
            thr = _step(x, b0, b1, b2, b3, b4) if s > 0 else _step(x, a0, a1, a2, a3, a4)
            cur[j] = np.int8(-s) if u[j] <= thr else s
    else:
        for j in range(cur.shape[0]):
            s = cur[j]
            x = nn[j] if s > 0 else np.int8(-nn[j])
            cur[j] = np.int8(-s) if u[j] <= _step(x, b0, b1, b2, b3, b4) else s


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
    """Record ``q`` of replica ``r``: the exact integers M and B (int32/int64 arrays).

    ``h`` and ``N`` are not needed here: Traces computes m = M / N and
    e = -(B + h M) / N when asked for.
    """
    m_out[r, q] = M
    e_out[r, q] = B


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


@njit(inline="always", cache=True)
def _rs_codes(sf, nbr, code):
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


@njit(inline="always", cache=True)
def _rs_attempts(code, nbr, z, tab32, N, M, B):
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


@njit(inline="always", cache=True)
def _rs_codes_arith(sf, L, plus, code):
    """:func:`_rs_codes` with computed neighbour indices."""
    N = sf.shape[0]
    invL = 1.0 / L
    for q in range(N):
        a, b, c, d = _neighbours4(q, L, N, plus, invL)
        nn = ((sf[a] if a < N else 1) + (sf[b] if b < N else 1)
              + (sf[c] if c < N else 1) + (sf[d] if d < N else 1))
        code[q] = np.uint8(16 * (sf[q] > 0) + nn + 4)
    code[N] = 0


@njit(inline="always", cache=True)
def _rs_attempts_arith(code, z, tab32, L, N, plus, M, B):
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


@njit(parallel=True, cache=True)
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
    Replicas run in parallel; results do not depend on the thread count.
    """
    R = sp.shape[0]
    L = sp.shape[1]
    N = L * L
    n = temps.shape[1]
    arith = L >= _RS_ARITH_MIN_L
    nbr = neighbour_table(L if not arith else 1, plus)     # (no table for large L)
    for r in prange(R):
        tab = np.empty(10, np.uint32)
        tab32 = np.zeros(32, np.uint32)
        z = np.empty(min(N, _RS_BATCH), np.uint64)
        code = np.empty(N + 1, np.uint8)
        sf = sp[r].reshape(N)
        Mr, Br = _natural_MB_one(sp[r], plus)
        if arith:
            _rs_codes_arith(sf, L, plus, code)
        else:
            _rs_codes(sf, nbr, code)
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
                    Mr, Br = _rs_attempts_arith(code, zb, tab32, L, N, plus, Mr, Br)
                else:
                    Mr, Br = _rs_attempts(code, nbr, zb, tab32, N, Mr, Br)
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
# replicas. Inside a block the kernels see each row flattened to
# ``j = k * W + w``: the side neighbours ``k -+ 1`` of a lane are at ``j -+ W``.
# Every random number is the one :func:`checkerboard_replicas` draws for the
# same (replica, sweep, colour, row, site), so the results are bit-identical.


@njit(inline="always", cache=True)
def _block_neighbours(bf, c, i, plus, ones, W, nn):
    """nn[j] = sum of the four neighbours of flat site j of row (c, i) of a block.

    ``bf`` is one block viewed as ``int8[2, L, L // 2 * W]``; ``ones`` is a
    row of +1 (the fixed border of ``plus``).
    """
    L = bf.shape[1]
    n = bf.shape[2]
    o = 1 - c
    mid = bf[o, i]
    if plus:
        up = ones if i == 0 else bf[o, i - 1]
        dn = ones if i == L - 1 else bf[o, i + 1]
    else:
        up = bf[o, (i - 1) % L]
        dn = bf[o, (i + 1) % L]
    # (slices, not offset indices: j + W with a run-time W defeats vectorisation)
    if (i + c) & 1:          # p = 1: side neighbours at k and k + 1
        body = n - W
        mid_r = mid[W:]
        for j in range(body):
            nn[j] = up[j] + dn[j] + mid[j] + mid_r[j]
        nn_t, up_t, dn_t, mid_t = nn[body:], up[body:], dn[body:], mid[body:]
        for w in range(W):   # k = L/2 - 1: its k + 1 is k = 0 (or the border)
            nn_t[w] = up_t[w] + dn_t[w] + mid_t[w] + (1 if plus else mid[w])
    else:                    # p = 0: side neighbours at k - 1 and k
        mid_t = mid[n - W:]
        for w in range(W):   # k = 0: its k - 1 is k = L/2 - 1 (or the border)
            nn[w] = up[w] + dn[w] + mid[w] + (1 if plus else mid_t[w])
        nn_b, up_b, dn_b, mid_b = nn[W:], up[W:], dn[W:], mid[W:]
        for j in range(n - W):
            nn_b[j] = up_b[j] + dn_b[j] + mid_b[j] + mid[j]


@njit(inline="always", cache=True)
def _block_draws(keys, u):
    """u[k, w] = the 32-bit draw of site k of lane w from the stream ``keys[w]``.

    Half ``k % 2`` (0: low) of output ``k // 2``, as in :func:`_update_row`.
    """
    L2 = u.shape[0]
    W = u.shape[1]
    lo = np.uint64(0xFFFFFFFF)
    for q in range(L2 // 2):
        inc = (np.uint64(q) + np.uint64(1)) * GOLDEN
        u0 = u[2 * q]
        u1 = u[2 * q + 1]
        for w in range(W):
            z = mix64(keys[w] + inc)
            u0[w] = np.uint32(z & lo)
            u1[w] = np.uint32(z >> np.uint64(32))
    if L2 & 1:
        inc = (np.uint64(L2 // 2) + np.uint64(1)) * GOLDEN
        u0 = u[L2 - 1]
        for w in range(W):
            u0[w] = np.uint32(mix64(keys[w] + inc) & lo)


@njit(inline="always", cache=True)
def _lane_flip(cur, nn, k, w, u, tabs, with_field):
    """Update site k of lane w (cur, nn as (L/2, W)) with the 32-bit draw u.

    Lane w's thresholds are ``tabs[:, w]``. All of them are loaded before
    the selects: a select between two loads of per-lane tables would be
    compiled into a gather.
    """
    s = cur[k, w]
    x = nn[k, w] if s > 0 else np.int8(-nn[k, w])
    thr = _step(x, tabs[5, w], tabs[6, w], tabs[7, w], tabs[8, w], tabs[9, w])
    if with_field:
        thr_m = _step(x, tabs[0, w], tabs[1, w], tabs[2, w], tabs[3, w], tabs[4, w])
        thr = thr if s > 0 else thr_m
    cur[k, w] = np.int8(-s) if u <= thr else s


@njit(inline="always", cache=True)
def _block_update_row_lanes(cur, nn, keys, tabs, with_field):
    """One update attempt for every site of a block row; cur, nn are (L/2, W).

    Each lane w has its own table ``tabs[:, w]`` (see :func:`_fill_thresholds`)
    and its own stream ``keys[w]``; site k of lane w uses half ``k % 2``
    (0: low) of output ``k // 2``, as in :func:`_update_row`. Draws are made
    in the update loop: each 64-bit output serves sites 2q and 2q + 1.
    """
    L2 = cur.shape[0]
    W = cur.shape[1]
    lo = np.uint64(0xFFFFFFFF)
    for q in range(L2 // 2):
        inc = (np.uint64(q) + np.uint64(1)) * GOLDEN
        for w in range(W):
            z = mix64(keys[w] + inc)
            _lane_flip(cur, nn, 2 * q, w, np.uint32(z & lo), tabs, with_field)
            _lane_flip(cur, nn, 2 * q + 1, w, np.uint32(z >> np.uint64(32)), tabs, with_field)
    if L2 & 1:
        inc = (np.uint64(L2 // 2) + np.uint64(1)) * GOLDEN
        for w in range(W):
            z = mix64(keys[w] + inc)
            _lane_flip(cur, nn, L2 - 1, w, np.uint32(z & lo), tabs, with_field)


@njit(inline="always", cache=True)
def _block_MB(bf, plus, ones, W, nn, acc_m, acc_b, M, B):
    """Exact M[w] and B[w] of every lane of a block (as :func:`_split_MB`).

    Sums over rows go into per-site int32 accumulators ``acc_m``/``acc_b``
    (flat rows; |value| <= 5 L + 2), reduced to lanes at the end: flat loops
    vectorise, per-lane accumulation row by row does not.
    """
    L = bf.shape[1]
    n = bf.shape[2]
    for j in range(n):
        acc_m[j] = 0
        acc_b[j] = 0
    for i in range(L):
        row0 = bf[0, i]
        row1 = bf[1, i]
        _block_neighbours(bf, 0, i, plus, ones, W, nn)
        for j in range(n):
            acc_m[j] += np.int32(row0[j]) + np.int32(row1[j])
            acc_b[j] += np.int32(row0[j]) * np.int32(nn[j])
        if plus:  # border bonds of colour-1 sites (colour 0's are in nn)
            nb = (i == 0) + (i == L - 1)
            if nb:
                for j in range(n):
                    acc_b[j] += nb * np.int32(row1[j])
            e = 0 if (i + 1) & 1 == 0 else n - W   # k = 0 or k = L/2 - 1
            acc_e = acc_b[e:]
            row_e = row1[e:]
            for w in range(W):
                acc_e[w] += np.int32(row_e[w])
    for w in range(W):
        M[w] = 0
        B[w] = 0
    for k in range(n // W):
        am = acc_m[k * W:]
        ab = acc_b[k * W:]
        for w in range(W):
            M[w] += np.int64(am[w])
            B[w] += np.int64(ab[w])


@njit(parallel=True, cache=True)
def checkerboard_blocks(bp, temps, h, dynamics, plus, seed, sweep0,
                        record_every, m_out, e_out):
    """Checkerboard sweeps in the blocked layout, blocks of W replicas in parallel.

    ``bp`` is ``int8[G, 2, L, L // 2, W]`` (see the comment above
    :func:`_block_neighbours`); lane ``w`` of block ``g`` is replica
    ``r = g * W + w``, keyed as such. ``temps`` is ``(R, n)`` with
    ``R <= G * W``: lanes ``r >= R`` are padding and run at ``temps[R - 1]``;
    ``m_out``/``e_out`` are ``(R, n // record_every)``. Spins, records and
    random numbers are bit-identical to :func:`checkerboard_replicas` on the
    split layout of the same replicas. No thread barrier: a thread owns a
    block for the whole call.

    Each lane's threshold table is recomputed only when its temperature
    changes. In a sweep where all lanes of a block share one temperature the
    draws of a row are made first and the update is one flat loop with the
    thresholds in registers; otherwise draws and updates share one loop over
    (k, w) with per-lane thresholds (about 20 % slower).
    """
    G = bp.shape[0]
    L = bp.shape[2]
    L2 = bp.shape[3]
    W = bp.shape[4]
    n_row = L2 * W
    R = temps.shape[0]
    N = L * L
    n = temps.shape[1]
    with_field = h != 0.0
    for g in prange(G):
        bf = bp[g].reshape((2, L, n_row))
        nn = np.empty(n_row, np.int8)
        ones = np.ones(n_row, np.int8)
        tab = np.empty(10, np.uint32)
        tabs = np.empty((10, W), np.uint32)
        T_last = np.full(W, np.nan)
        skeys = np.empty(W, np.uint64)
        keys = np.empty(W, np.uint64)
        u = np.empty((L2, W), np.uint32)
        nn2 = nn.reshape((L2, W))
        uf = u.reshape(n_row)
        acc_m = np.empty(n_row, np.int32)
        acc_b = np.empty(n_row, np.int32)
        M = np.empty(W, np.int64)
        B = np.empty(W, np.int64)
        for s in range(n):
            for w in range(W):
                T = temps[min(g * W + w, R - 1), s]
                if T != T_last[w]:   # the table is a function of T (h, dynamics fixed)
                    _fill_thresholds(tab, T, h, dynamics)
                    for t in range(10):
                        tabs[t, w] = tab[t]
                    T_last[w] = T
                skeys[w] = sweep_key(seed, g * W + w, sweep0 + s)
            shared = True      # all lanes at the same temperature (common case)?
            for w in range(1, W):
                shared = shared and T_last[w] == T_last[0]
            for c in range(2):
                for i in range(L):
                    _block_neighbours(bf, c, i, plus, ones, W, nn)
                    for w in range(W):
                        keys[w] = row_key_final(skeys[w], STREAM_CHECKERBOARD + c, i)
                    if shared:
                        _block_draws(keys, u)
                        _flip_row(bf[c, i], nn, uf, tabs[:, 0], with_field)
                    else:
                        _block_update_row_lanes(bf[c, i].reshape((L2, W)), nn2, keys, tabs,
                                                with_field)
            if (s + 1) % record_every == 0:
                _block_MB(bf, plus, ones, W, nn, acc_m, acc_b, M, B)
                q = (s + 1) // record_every - 1
                for w in range(min(W, R - g * W)):
                    _store(g * W + w, q, M[w], B[w], h, N, m_out, e_out)


# --------------------------------------------------------------- random start
@njit(parallel=True, cache=True)
def random_start(replica_keys, out):
    """Fill ``out`` (int8[R, N]) with +-1: bit 63 of SplitMix64(key_r + site * golden).

    In place, no temporaries: the same spins as the vectorised NumPy formula
    of :func:`isingneuron.engine.initial_spins` documents.
    """
    R, N = out.shape
    for r in prange(R):
        k = replica_keys[r]
        for i in range(N):
            out[r, i] = np.int8(2 * np.int64(mix64(k + np.uint64(i) * GOLDEN) >> np.uint64(63)) - 1)


# ---------------------------------------------------------------- compilation
#: The kernel each update order mostly runs (the checkerboard also has row- and
#: block-parallel variants, picked at run time).
KERNELS_OF = {"random_sequential": ("random_sequential_replicas",),
              "checkerboard": ("checkerboard_replicas",),
              None: ("wolff_replicas",)}


def uncached(update_orders) -> list[str]:
    """Names of the kernels of ``update_orders`` that have no up-to-date on-disk cache.

    Those will be compiled on their first call (tens of seconds), which a
    command line can announce. A kernel counts as cached when Numba's index file
    exists and is newer than this module's source; anything unexpected counts
    as uncached.
    """
    import os
    src = os.path.getmtime(__file__)
    out = []
    for order in update_orders:
        for name in KERNELS_OF.get(order, ()):
            try:
                index = globals()[name]._cache._cache_file._index_path
                fresh = os.path.getmtime(index) >= src
            except (AttributeError, KeyError, OSError):
                fresh = False
            if not fresh:
                out.append(name)
    return out
