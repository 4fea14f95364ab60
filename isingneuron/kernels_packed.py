"""Multi-spin-coded checkerboard kernel: 64 independent replicas per uint64 word.

Layout
------
*packed*  ``uint64[G, 2, L, L // 2]`` (even L): the split layout of
          :mod:`isingneuron.kernels` with one bit per replica. Bit ``b`` of
          ``packed[g, c, i, k]`` is the spin ``split[64 g + b, c, i, k]``
          (1: +1, 0: -1) of replica ``r = 64 g + b`` (its *lane* ``b`` in word
          *group* ``g``). Replicas ``r >= R`` of the last group are padding:
          they are updated like the others and never recorded, and no real
          lane ever reads them (every operation is bitwise).

Every replica runs at its own temperature in each sweep (``temps[r, s]``;
padding lanes at the last replica's); the update is the checkerboard sweep of
the other kernels (colour 0, then colour 1, rows in order), with the same
acceptance rules.

Independent replicas
--------------------
Every lane gets its own random decisions. The flip of a site in lane ``b`` is
accepted with probability ``p`` by comparing a uniform ``U`` in [0, 1), made
of fresh random bits of that lane alone, with the binary expansion of the
threshold ``t = floor(p * 2**64) / 2**64``, from the most significant bit
down: at level ``l`` the lane reads bit ``b`` of a fresh random word; the
lane is decided at the first level where its bit differs from bit ``l`` of
``t`` (``U < t`` iff that bit of ``t`` is 1); a lane whose 64 bits all equal
``t``'s has ``U >= t``. The decision is thus exactly a Bernoulli(``t``) draw:
the acceptance probability is exact to ``2**-64`` of ``p`` as evaluated in
float64 (relative error ~1e-16), far inside what any test resolves. Which
random bits a lane reads never depends on the other lanes, so lanes are
independent chains, and padding lanes cannot change real ones.

A lane needs two levels on average, but a word waits for its slowest lane
(about ``log2(64) + 1.3 = 7.3`` levels). The words of a chunk of rows (about
256 words) run the first ``_DENSE = 9`` levels in vectorised passes over all
of them; the few words with undecided lanes after that (about 12 %) go on in
a list, compacted after each level.

The ten flip probabilities of a sweep depend on the lane's spin ``s`` and the
number of its neighbours that are up (``n``, 0..4), ``nn = 2 n - 4``:

* Glauber: for ``s = +1`` the flip probability is ``g(n) = 1 / (1 + exp(2 (nn
  + h) / T))`` and for ``s = -1`` it is ``1 - g(n)``, so one comparison
  ``d = U < g(n)`` serves both (flip = ``d`` if up, ``not d`` if down): five
  thresholds nested by ``n``.
* Metropolis: flip with probability ``min(1, exp(-dE / T))``, ``dE = 2 s nn +
  2 h s``; certain flips (``dE <= 0``) are decided before any random bit.
  With ``h = 0`` the threshold depends on the number of aligned neighbours
  only (five classes), otherwise on the spin too (ten).

The class of each lane is computed with bitwise adders (neighbour counts as
three bit planes), the threshold bit of each lane by bitwise selects from
*level words*: bit ``b`` of ``qs[l, q]`` is bit ``63 - l`` of lane ``b``'s
threshold of class ``q`` (and bit ``b`` of ``always[q]`` says whether lane
``b``'s flip in class ``q`` is certain).

Temperatures per lane
---------------------
A word whose lanes share the sweep's temperature (a shared schedule, the
paper's quench job) computes one set of thresholds and its level words are
all ones or all zeros (``_bit``), as the deep levels are, computed on the fly.
Otherwise each lane keeps its own thresholds, recomputed only for the lanes
whose temperature changed since they were computed (``exp`` is the cost:
~13 ns a lane for Metropolis at h = 0, ~28 ns for Glauber, beside ~100 ns of
updates per lane and sweep at L = 32), and the level words are their bit
transpose: the first ``_DENSE`` levels after every change (~0.3 us a word
group), the deeper ones the first time a chunk reaches them (few do). The
updates themselves cost the same on either path, and the thresholds, and so
the results, are bit for bit the same: a lane's trajectory depends on its own
temperatures and random bits only, not on whether the others share them.

Random numbers are counter based, as in :mod:`isingneuron._rng`: the rows of
a colour are cut into chunks of ``RC = max(1, min(L, 256 // (L / 2)))`` rows
(a function of L only); word ``w = (i - i0) * L / 2 + k`` of the chunk that
starts at row ``i0`` reads at level ``l`` the random word
``mix64(key + (l * nw + w + 1) * GOLDEN)``, ``nw`` the chunk's words and
``key = row_key(seed, g, s, STREAM_PACKED + c, i0)`` for word group ``g``,
sweep ``s`` and colour ``c``. Results are therefore bit-identical whatever
the thread count and however a run is chunked in time; they are *not* the
numbers the other kernels draw (statistically equivalent runs, not
identical ones).

Speed
-----
Measured on one core (AMD EPYC Zen 4 at 2.6 GHz, AVX-512, numba 0.68), the
paper's quench job (1024 replicas of L = 32, T = 3 -> 1 -> 3): without
records ~10 (Glauber) and ~12 (Metropolis) spin updates per ns, 3-4 times the
blocked kernel of :mod:`isingneuron.kernels`; with a record after every sweep
~8 and ~9. Per word of 64 spins (~6 ns Glauber): the nine dense levels ~3.5 ns
(about half of it the SplitMix64 finaliser of each random word; Metropolis at
h = 0 picks a lane's threshold bit from two classes, not five, and takes
~2.7), the sparse tail ~1 ns, the neighbour adders and flips ~1.7 ns; a
record ~1.5 ns (a quarter of a sweep: ~0.6 ns of it the sums of the colour-1
words, ~0.9 ns the sums over positions and the 64 lanes' integers, a cost
per word group that a larger L spreads over more words). Per-lane
temperatures that all change every sweep (a population of reheating quenches)
add ~15 % (Metropolis) to ~25 % (Glauber): the ``exp`` of each lane's
thresholds.

Where it applies
----------------
Checkerboard order only. The random-sequential order cannot be multi-spin
coded with independent replicas: the lanes of a word must update the same
site, so they would share the site sequence, and after a deep quench (where
Metropolis accepts every move with ``dE <= 0`` and Glauber nearly so) the
site sequence is almost all of the randomness: the replicas would be strongly
coupled and coalesce. Checkerboard Glauber has physical coarsening kinetics;
checkerboard Metropolis is for equilibrium sampling (its kinetics are an
artefact, see :mod:`isingneuron.engine`).

Records
-------
``M = sum s`` and the bond sum ``B`` (as in :func:`kernels._split_MB`) are
counted exactly per lane, and stored as the exact integers (``Traces``
computes ``m = M / N`` and ``e = (-B - h M) / N``). They are counted during
the colour-1 half of a recorded sweep, from what the update has at hand: the
four bonds of a colour-1 site are all the lattice's bonds but the border
bonds of colour 0 (added after), and the count of its aligned neighbours
after its flip follows from the update's count planes. The counts of eight
words are summed in registers (vectorised over the positions of a chunk),
added to bit-sliced counters per position, and summed over the positions at
the end of the sweep (see :func:`_record_chunk`).
"""

import numpy as np
from llvmlite import binding as _llvm
from numba import njit

from ._rng import GOLDEN, mix64, row_key
from ._threads import on_threads

# The record sums (_bond_sums) read eight words of five arrays in each step,
# and LLVM vectorises a loop only after run-time checks that its stores do not
# overlap its loads: here ~250 comparisons, over its default limit of 128. The
# limit is raised for the compilations of this process. It only decides whether
# a loop is vectorised (behind its checks): no result changes, and the kernels
# of isingneuron.kernels were measured to run and compile as fast with it.
_llvm.set_option("isingneuron", "-vectorize-memory-check-threshold=1024")

METROPOLIS = 0
GLAUBER = 1
LANES = 64
#: colour offset of the packed kernel's row streams (0..4 are the other kernels')
STREAM_PACKED = 8
_ONES = np.uint64(0xFFFFFFFFFFFFFFFF)
_ZERO = np.uint64(0)
_TWO64 = 18446744073709551616.0
_MAX_LEVELS = 64
_DENSE = 9          # levels run over all words of a chunk before compaction
_CHUNK = 256        # site-words per chunk (whole rows; a function of L only)
_FUSED = 3          # levels per pass over the words (a divisor of _DENSE; small
                    # enough for the compiler to unroll them and vectorise the pass)
_GROUP = 8          # words summed in registers before they are added to the record counters
# threshold bit of a lane in the level passes (see _fused_levels)
_MUX5 = 0
_SPIN_MUX = 1
_TWO_CLASSES = 2


# ------------------------------------------------------------------ thresholds
@njit(inline="always", cache=True)
def _threshold(T, h, dynamics, si, n):
    """``floor(p * 2**64)`` of the class ``(si, n)`` at temperature T; all ones where ``p >= 1``.

    See :func:`fill_thresholds`. ``p < 1`` is at most ``1 - 2**-53``, so its
    threshold is below ``2**64 - 2**11``: all ones means a certain flip.
    """
    if dynamics == GLAUBER:
        x = 2.0 * (2.0 * n - 4.0 + h) / T
        # exp(0) = 1 exactly: the balanced class (n = 2 at h = 0) needs no exp
        p = 0.5 if x == 0.0 else 1.0 / (1.0 + np.exp(x))
    else:
        # n aligned neighbours: s * nn = 2 n - 4
        dE = 2.0 * (2.0 * n - 4.0) + 2.0 * h * (2.0 * si - 1.0)
        p = 1.0 if dE <= 0.0 else np.exp(-dE / T)
    return _ONES if p >= 1.0 else np.uint64(np.floor(p * _TWO64))


@njit(cache=True)
def fill_thresholds(thr, always, T, h, dynamics):
    """Per-class 64-bit thresholds of one temperature.

    Parameters
    ----------
    thr : uint64[10]
        Output: ``thr[5 * si + n] = floor(p * 2**64)`` for the class ``(si,
        n)``: Glauber ``si = 0`` only (``thr[5 + n] = thr[n]``), ``n`` = up
        neighbours, ``p = g(n)``; Metropolis ``si`` = spin up (1) or down (0),
        ``n`` = aligned neighbours, ``p = min(1, exp(-dE / T))``.
    always : uint64[10]
        Output: all ones where the flip is certain (``p >= 1``, i.e. exactly
        where ``thr`` is all ones), else 0.
    T : float
        Temperature (J), > 0.
    h : float
        Field (J).
    dynamics : int
        :data:`METROPOLIS` or :data:`GLAUBER`.
    """
    for q in range(10):
        if dynamics == GLAUBER and q >= 5:     # g(n) does not depend on the spin
            thr[q] = thr[q - 5]
        else:
            thr[q] = _threshold(T, h, dynamics, q // 5, q % 5)
        always[q] = _ONES if thr[q] == _ONES else _ZERO


@njit(inline="always", cache=True)
def _mux5(b2, b1, b0, t0, t1, t2, t3, t4):
    """Bitwise pick of t[n], n = 4 b2 + 2 b1 + b0 in 0..4, per lane (bit planes)."""
    lo = t0 ^ (b0 & (t1 ^ t0))
    hi = t2 ^ (b0 & (t3 ^ t2))
    m = lo ^ (b1 & (hi ^ lo))
    return m ^ (b2 & (t4 ^ m))


@njit(inline="always", cache=True)
def _bit(t, l):
    """All ones if bit 63 - l of t is set, else 0."""
    return _ZERO - ((t >> np.uint64(63 - l)) & np.uint64(1))


@njit(inline="always", cache=True)
def _count4(e1, e2, e3, e4):
    """Bit planes (b2, b1, b0) of e1 + e2 + e3 + e4 per lane (<= 4)."""
    s1 = e1 ^ e2
    c1 = e1 & e2
    s2 = e3 ^ e4
    c2 = e3 & e4
    b0 = s1 ^ s2
    t = s1 & s2
    b1 = c1 ^ c2 ^ t
    b2 = (c1 & c2) | (t & (c1 ^ c2))
    return b2, b1, b0


@njit(cache=True)
def _level_words(l, lanes, thr, lthr, nq, qs):
    """The words ``qs[l, q]`` of level l: bit b is bit ``63 - l`` of lane b's threshold of class q.

    Of the shared thresholds ``thr``: all ones or zeros. Of the per-lane ones
    ``lthr[q, b]`` (``lanes``; classes ``q < nq``): one row of the 64 x 64
    bit transpose of each class's thresholds (loops over the lanes that the
    compiler vectorises).
    """
    sh = np.uint64(63 - l)
    if lanes:
        for q in range(nq):
            row = lthr[q]
            acc = _ZERO
            for b in range(LANES):
                acc |= ((row[b] >> sh) & np.uint64(1)) << np.uint64(b)
            qs[l, q] = acc
    else:
        for q in range(10):
            qs[l, q] = _ZERO - ((thr[q] >> sh) & np.uint64(1))


@njit(cache=True)
def _sweep_thresholds(temps, s, r0, h, dynamics, nq, lanes, T_last, thr, always, qs, lthr,
                      T_lane, lvl_ok, idx):
    """Thresholds and level words of sweep s for the word group whose first replica is r0.

    Lane ``b`` runs at ``temps[r0 + b, s]`` (padding lanes, ``r0 + b >= R``,
    at the last replica's). When the lanes share that temperature (the fast
    path) there is one set of thresholds ``thr`` (made again only when it
    changed, or after per-lane words), and the level words are all ones or
    zeros. Otherwise lane b has its own thresholds ``lthr[:, b]`` (classes ``q
    < nq``), made again only where its temperature changed (``T_lane[b]``:
    the temperature they belong to, NaN for none), class by class over the
    changed lanes (independent ``exp`` calls in a row overlap in the
    processor); they are :func:`_threshold`'s, as in :func:`fill_thresholds`,
    so a lane's are bit for bit those of a group sharing its temperature. The
    words of the first ``_DENSE`` levels and ``always`` are made again after
    any change; deeper levels when reached (``lvl_ok`` is cleared here).

    Returns
    -------
    lanes : bool
        Whether the words now hold per-lane thresholds.
    T_last : float
        The shared temperature whose thresholds ``thr`` holds.
    """
    R = temps.shape[0]
    T = temps[r0, s]
    shared = True
    for r in range(r0 + 1, min(R, r0 + LANES)):
        if temps[r, s] != T:
            shared = False
            break
    if shared:
        if lanes or T != T_last:
            fill_thresholds(thr, always, T, h, dynamics)
            for l in range(_DENSE):
                _level_words(l, False, thr, lthr, nq, qs)
            lvl_ok[:] = False
        return False, T
    nc = 0
    for b in range(LANES):
        Tb = temps[min(r0 + b, R - 1), s]
        if Tb != T_lane[b]:
            T_lane[b] = Tb
            idx[nc] = b
            nc += 1
    for q in range(nq):
        row = lthr[q]
        for j in range(nc):
            b = idx[j]
            row[b] = _threshold(T_lane[b], h, dynamics, q // 5, q % 5)
    if nc > 0 or not lanes:
        for l in range(_DENSE):
            _level_words(l, True, thr, lthr, nq, qs)
        for q in range(nq):                 # certain flips: thresholds of all ones
            row = lthr[q]
            acc = _ZERO
            for b in range(LANES):
                acc |= np.uint64(row[b] == _ONES) << np.uint64(b)
            always[q] = acc
        lvl_ok[:] = False
    return True, T_last


# ------------------------------------------------------------------ one row
@njit(inline="always", cache=True)
def _chunk_classes(P, g, c, i0, i1, plus, aligned, par, b0, b1, b2, upt, dnt, sdt):
    """Neighbour count planes (b2, b1, b0) of the site-words of rows i0 .. i1 - 1.

    ``aligned``: count the neighbours equal to the spin, else those up. The
    fixed border of ``plus`` is a word of ones. Word ``w = (i - i0) * L / 2 +
    k`` of the chunk; ``par[w]`` is all ones where ``(i0 + c)`` is even and
    row i's side neighbours are at k and k + 1 (the other parity flips it).
    ``upt``, ``dnt``, ``sdt`` are scratch rows of the chunk.
    """
    L = P.shape[2]
    L2 = P.shape[3]
    nw = (i1 - i0) * L2
    o = 1 - c
    mid = P[g, o, i0:i1].reshape(nw)
    cur = P[g, c, i0:i1].reshape(nw)
    if i0 > 0:
        up = P[g, o, i0 - 1:i1 - 1].reshape(nw)
    else:
        for k in range(L2):
            upt[k] = _ONES if plus else P[g, o, L - 1, k]
        if i1 > 1:      # (element loops, not slice assignments: those may copy)
            src = P[g, o, 0:i1 - 1].reshape(nw - L2)
            dst = upt[L2:nw]
            for w in range(nw - L2):
                dst[w] = src[w]
        up = upt
    if i1 < L:
        dn = P[g, o, i0 + 1:i1 + 1].reshape(nw)
    else:
        if i1 - i0 > 1:
            src = P[g, o, i0 + 1:L].reshape(nw - L2)
            for w in range(nw - L2):
                dnt[w] = src[w]
        last = dnt[nw - L2:nw]
        for k in range(L2):
            last[k] = _ONES if plus else P[g, o, 0, k]
        dn = dnt
    # side neighbours: mid[w + 1] in "right" rows, mid[w - 1] in the others
    flipm = _ZERO - np.uint64((i0 + c) & 1)
    if nw > 2:
        nxt = mid[2:nw]
        prv = mid[0:nw - 2]
        sd1 = sdt[1:nw - 1]
        par1 = par[1:nw - 1]
        for j in range(nw - 2):
            pr = par1[j] ^ flipm
            sd1[j] = (nxt[j] & pr) | (prv[j] & ~pr)
    for i in range(i0, i1):                 # both ends of each row
        r = (i - i0) * L2
        e = r + L2 - 1
        if (i + c) & 1:                     # k and k + 1; k = L/2 - 1 wraps to 0
            if L2 > 1:
                sdt[r] = mid[r + 1]
            sdt[e] = _ONES if plus else mid[r]
        else:                               # k - 1 and k; k = 0 wraps to L/2 - 1
            if L2 > 1:
                sdt[e] = mid[e - 1]
            sdt[r] = _ONES if plus else mid[e]
    for w in range(nw):
        m = mid[w]
        u = up[w]
        d = dn[w]
        sd = sdt[w]
        if aligned:
            sp = cur[w]
            u = ~(u ^ sp)
            d = ~(d ^ sp)
            sd = ~(sd ^ sp)
            m = ~(m ^ sp)
        x2, x1, x0 = _count4(u, d, sd, m)
        b2[w] = x2
        b1[w] = x1
        b0[w] = x0


@njit(inline="always", cache=True)
def _dense_levels(nw, key, qs, b0, b1, b2, sg, und, lt, mode):
    """Levels 0 .. _DENSE - 1 of the bit-serial comparison for every word of a chunk.

    ``qs[l, q]``: bit l of threshold q of each lane. Passes over the words
    with the levels unrolled inside (vectorised over words); ``mode`` is
    :data:`_MUX5`, :data:`_SPIN_MUX` or :data:`_TWO_CLASSES` (see
    :func:`_fused_levels`), passed on as a constant, so that each inlined
    pass has no branch on it (the Glauber quench job ran ~2 % faster than
    with the variable).
    """
    step = np.uint64(nw) * GOLDEN
    if mode == _TWO_CLASSES:
        _fused_levels(0, _DENSE, nw, step, key, qs, b0, b1, b2, sg, und, lt, _TWO_CLASSES)
    elif mode == _MUX5:
        for l0 in range(0, _DENSE, _FUSED):
            _fused_levels(l0, _FUSED, nw, step, key, qs, b0, b1, b2, sg, und, lt, _MUX5)
    else:
        for l0 in range(0, _DENSE, _FUSED):
            _fused_levels(l0, _FUSED, nw, step, key, qs, b0, b1, b2, sg, und, lt, _SPIN_MUX)


@njit(inline="always", cache=True)
def _fused_levels(l0, nl, nw, step, key, qs, b0, b1, b2, sg, und, lt, mode):
    """Levels l0 .. l0 + nl - 1, unrolled inside one vectorised pass over the words.

    Word w at level l reads ``mix64(key + (l * nw + w + 1) * GOLDEN)``
    (``step = nw * GOLDEN``). The threshold bit of a lane: ``_MUX5``, of its
    class n (five); ``_SPIN_MUX``, of its class (spin, n) (ten: Metropolis in
    a field); ``_TWO_CLASSES``, Metropolis at h = 0, where every lane with n
    <= 2 aligned neighbours is decided before any level (a certain flip), so
    an undecided lane has n = 3 (b2 = 0) or n = 4 (b2 = 1).
    """
    for w in range(nw):
        x0, x1, x2, s = b0[w], b1[w], b2[w], sg[w]
        x, y = und[w], lt[w]
        z = key + (np.uint64(w) + np.uint64(1)) * GOLDEN
        for dl in range(nl):
            l = l0 + dl
            u = mix64(z + np.uint64(l) * step)
            if mode == _TWO_CLASSES:
                t = qs[l, 3] ^ (x2 & (qs[l, 4] ^ qs[l, 3]))
            else:
                t = _mux5(x2, x1, x0, qs[l, 0], qs[l, 1], qs[l, 2], qs[l, 3], qs[l, 4])
                if mode == _SPIN_MUX:
                    tup = _mux5(x2, x1, x0, qs[l, 5], qs[l, 6], qs[l, 7], qs[l, 8], qs[l, 9])
                    t = t ^ (s & (tup ^ t))
            diff = (u ^ t) & x
            y |= diff & t
            x &= ~diff
        und[w] = x
        lt[w] = y


@njit(inline="always", cache=True)
def _sparse_level(na, lst, base, b0, b1, b2, sg, und, lt, q0, q1, q2, q3, q4,
                  r0, r1, r2, r3, r4, spin_mux):
    """One level for the listed words ``lst[:na]``; returns the number still
    undecided, compacted to the front of ``lst`` (order kept)."""
    j = 0
    for a in range(na):
        w = lst[a]
        u = mix64(base + np.uint64(w) * GOLDEN)
        t = _mux5(b2[w], b1[w], b0[w], q0, q1, q2, q3, q4)
        if spin_mux:
            tup = _mux5(b2[w], b1[w], b0[w], r0, r1, r2, r3, r4)
            t = t ^ (sg[w] & (tup ^ t))
        x = und[w]
        diff = (u ^ t) & x
        lt[w] |= diff & t
        x &= ~diff
        und[w] = x
        lst[j] = w
        j += x != _ZERO
    return j


@njit(inline="always", cache=True)
def _chunk_update(P, g, c, i0, i1, plus, key, thr, always, qs, lanes, lthr, lvl_ok, nq,
                  dynamics, with_field, par, b0, b1, b2, und, lt, lst, upt, dnt, sdt,
                  record, counters, K):
    """One checkerboard update of every site-word of rows i0 .. i1 - 1 of colour c.

    The words of the chunk are numbered ``w = (i - i0) * L / 2 + k``; word w
    at level l reads the random word ``mix64(key + (l * nw + w + 1) * GOLDEN)``
    (``nw`` words in the chunk). The first ``_DENSE`` levels run over all
    words (vectorised); then only the words with undecided lanes are kept in
    a list, compacted after each level, so that the rare words that need many
    levels do not keep the others' loop running.

    Thresholds: ``always[q]`` and the level words ``qs[l, q]`` (one bit per
    lane; see :func:`_sweep_thresholds`). The deep levels (``l >= _DENSE``)
    are made the first time a chunk of the sweep reaches them since the
    thresholds changed (``lvl_ok[l]``): few chunks reach a given deep level.

    ``record`` (colour 1 only): add the chunk's share of the records to the
    ``counters`` ``(pb, pm, xs, carry)``: K planes each (see
    :func:`_record_chunk`; ``xs``, ``carry``: scratch).
    """
    L2 = P.shape[3]
    nw = (i1 - i0) * L2
    glauber = dynamics == GLAUBER
    spin_mux = with_field and not glauber
    mode = _SPIN_MUX if spin_mux else (_MUX5 if glauber else _TWO_CLASSES)
    _chunk_classes(P, g, c, i0, i1, plus, not glauber, par, b0, b1, b2, upt, dnt, sdt)
    sg = P[g, c, i0:i1].reshape(nw)
    # lanes decided before any random bit (certain Metropolis flips)
    if glauber:
        for w in range(nw):
            und[w] = _ONES
            lt[w] = _ZERO
    elif not with_field:
        a0, a1, a2, a3, a4 = always[0], always[1], always[2], always[3], always[4]
        for w in range(nw):
            x = _mux5(b2[w], b1[w], b0[w], a0, a1, a2, a3, a4)
            und[w] = ~x
            lt[w] = x
    else:
        a0, a1, a2, a3, a4 = always[0], always[1], always[2], always[3], always[4]
        a5, a6, a7, a8, a9 = always[5], always[6], always[7], always[8], always[9]
        for w in range(nw):
            dn = _mux5(b2[w], b1[w], b0[w], a0, a1, a2, a3, a4)
            up = _mux5(b2[w], b1[w], b0[w], a5, a6, a7, a8, a9)
            x = dn ^ (sg[w] & (up ^ dn))
            und[w] = ~x
            lt[w] = x
    # bit-serial comparison of each lane's U with its threshold, level by level
    # (a lane still undecided after bit 63 has U >= t: no flip)
    unw = np.uint64(nw)
    _dense_levels(nw, key, qs, b0, b1, b2, sg, und, lt, mode)
    na = 0
    for w in range(nw):
        lst[na] = w
        na += und[w] != _ZERO
    l = _DENSE
    while na > 0 and l < _MAX_LEVELS:
        base = key + (np.uint64(l) * unw + np.uint64(1)) * GOLDEN
        if not lvl_ok[l]:
            _level_words(l, lanes, thr, lthr, nq, qs)
            lvl_ok[l] = True
        na = _sparse_level(na, lst, base, b0, b1, b2, sg, und, lt,
                           qs[l, 0], qs[l, 1], qs[l, 2], qs[l, 3], qs[l, 4],
                           qs[l, 5], qs[l, 6], qs[l, 7], qs[l, 8], qs[l, 9], spin_mux)
        l += 1
    if glauber:      # d = U < g(n): flip if (up and d) or (down and not d)
        for w in range(nw):
            sg[w] ^= ~(lt[w] ^ sg[w])
    else:
        for w in range(nw):
            sg[w] ^= lt[w]
    if record:
        pb, pm, xs, carry = counters
        _record_chunk(nw, glauber, b0, b1, b2, lt, P[g, 1 - c, i0:i1].reshape(nw), sg, pb,
                      pm, K, xs, carry)


# ------------------------------------------------------------------ records
@njit(inline="always", cache=True)
def _add_planes(planes, K, xs, nx, n, carry):
    """Add the nx-plane numbers ``xs[:nx, k]`` to the counters ``planes[:K, k]``
    (bit-sliced, full adders, vectorised over the positions k < n; the sums
    must fit in K planes)."""
    for k in range(n):
        carry[k] = _ZERO
    for q in range(K):
        pq = planes[q]
        if q < nx:
            xq = xs[q]
            for k in range(n):
                a = pq[k]
                x = xq[k]
                c = carry[k]
                u = a ^ x
                pq[k] = u ^ c
                carry[k] = (a & x) | (c & u)
        else:
            for k in range(n):
                a = pq[k]
                c = carry[k]
                pq[k] = a ^ c
                carry[k] = a & c


@njit(inline="always", cache=True)
def _add_3bits(c0, c1, c2, c3, c4, c5, x0, x1, x2):
    """The six planes of ``c + x`` per lane (bit-sliced: c = (c5 .. c0), x =
    (x2, x1, x0); the sum must fit in six planes)."""
    t = c0 & x0
    c0 ^= x0
    u = c1 ^ x1
    t2 = (c1 & x1) | (t & u)
    c1 = u ^ t
    u = c2 ^ x2
    t = (c2 & x2) | (t2 & u)
    c2 = u ^ t2
    t2 = c3 & t
    c3 ^= t
    t = c4 & t2
    c4 ^= t2
    return c0, c1, c2, c3, c4, c5 ^ t


@njit(inline="always", cache=True)
def _bond_sums(base, S, G, glauber, b0, b1, b2, lt, s1, xs):
    """``xs[:6, p]``: the aligned bonds of the colour-1 sites of the G <= 8
    words ``base + p + m S`` (m < G), after their flips, summed, for p < S.

    The aligned count after the flips comes from the update's count planes
    (b2, b1, b0) of n: the number of aligned neighbours before the flip
    (Metropolis; after a flip it is ``4 - n``) or of up neighbours (Glauber;
    aligned: n if up now, else ``4 - n``). The G words are summed in
    registers (G is a constant where this is inlined; vectorised over p).
    """
    x0r, x1r, x2r, x3r, x4r, x5r = xs[0], xs[1], xs[2], xs[3], xs[4], xs[5]
    for p in range(S):
        c0 = c1 = c2 = c3 = c4 = c5 = _ZERO
        for m in range(G):
            w = base + p + m * S
            sp = s1[w]
            lw = lt[w]
            f = ~sp if glauber else lw           # lanes where aligned = 4 - n
            x0 = b0[w]
            x1 = b1[w]
            x2 = b2[w]
            a1 = x1 ^ (f & x0)                   # 4 - n = (n == 0, b1 ^ b0, b0)
            a2 = x2 ^ (f & (x2 ^ ~(x2 | x1 | x0)))
            c0, c1, c2, c3, c4, c5 = _add_3bits(c0, c1, c2, c3, c4, c5, x0, a1, a2)
        x0r[p] = c0
        x1r[p] = c1
        x2r[p] = c2
        x3r[p] = c3
        x4r[p] = c4
        x5r[p] = c5


@njit(inline="always", cache=True)
def _spin_sums(base, S, G, s0, s1, xs):
    """``xs[:5, p]``: the up spins of both colours (s0, s1) at the G <= 8 words
    ``base + p + m S`` (m < G), summed, for p < S."""
    x0r, x1r, x2r, x3r, x4r = xs[0], xs[1], xs[2], xs[3], xs[4]
    for p in range(S):
        m0 = m1 = m2 = m3 = m4 = m5 = _ZERO
        for m in range(G):
            w = base + p + m * S
            y = s0[w]
            sp = s1[w]
            m0, m1, m2, m3, m4, m5 = _add_3bits(m0, m1, m2, m3, m4, m5, y ^ sp, y & sp, _ZERO)
        x0r[p] = m0
        x1r[p] = m1
        x2r[p] = m2
        x3r[p] = m3
        x4r[p] = m4


@njit(inline="always", cache=True)
def _record_chunk(nw, glauber, b0, b1, b2, lt, s0, s1, pb, pm, K, xs, carry):
    """Add a colour-1 chunk of nw words, after its flips, to the record counters.

    To ``pb`` the aligned bonds of each colour-1 site (all four of its bonds,
    border ones included), to ``pm`` its up spin and that of the colour-0
    site at the same index (``s0``); per lane, bit-sliced, K planes. The
    words are cut into ``_GROUP`` segments of S words, summed in registers
    position by position (p < S), then added to the counters at positions
    p; the last ``nw % _GROUP`` words one by one at positions 0, 1, ...
    """
    S = nw // _GROUP
    if S > 0:
        _bond_sums(0, S, _GROUP, glauber, b0, b1, b2, lt, s1, xs)
        _add_planes(pb, K, xs, 6, S, carry)
        _spin_sums(0, S, _GROUP, s0, s1, xs)
        _add_planes(pm, K, xs, 5, S, carry)
    T = nw - _GROUP * S
    if T > 0:
        _bond_sums(_GROUP * S, T, 1, glauber, b0, b1, b2, lt, s1, xs)
        _add_planes(pb, K, xs, 3, T, carry)
        _spin_sums(_GROUP * S, T, 1, s0, s1, xs)
        _add_planes(pm, K, xs, 2, T, carry)


@njit(inline="always", cache=True)
def _record_border(P, g, pb, K, xs, carry):
    """Add the border bonds of the colour-0 sites (fixed +1 border: aligned iff up).

    Top and bottom rows, and the colour-0 end of every row (column 0 in even
    rows, L - 1 in odd ones), as four rows of single bits (positions do not
    matter: the counters are summed over them).
    """
    L = P.shape[2]
    L2 = P.shape[3]
    x0 = xs[0]
    for part in range(4):
        for k in range(L2):
            if part == 0:
                x0[k] = P[g, 0, 0, k]
            elif part == 1:
                x0[k] = P[g, 0, L - 1, k]
            else:
                i = 2 * k + part - 2            # rows 0, 2, .. then 1, 3, ..
                x0[k] = P[g, 0, i, 0] if part == 2 else P[g, 0, i, L2 - 1]
        _add_planes(pb, K, xs, 1, L2, carry)


@njit(inline="always", cache=True)
def _reduce_columns(planes, Ka, width, carry, out):
    """out[b] = the count of lane b summed over positions j < width.

    Positions are added pairwise (bit-sliced full adders, vectorised over
    the pairs) until one is left. The counts start in planes below Ka; each
    round of pairs needs one plane more, so ``planes`` needs
    ``ceil(log2(width))`` spare planes above (their contents do not matter:
    a plane is written before it is read). Destroys ``planes``.
    """
    Kt = planes.shape[0]
    kc = Ka                             # planes in use
    w = width
    while w > 1:
        h = w // 2
        for j in range(h):
            carry[j] = _ZERO
        for q in range(kc):
            pq = planes[q]
            for j in range(h):      # (pq[h + j], not a view pq[h:]: this loop vectorises)
                a = pq[j]
                x = pq[h + j]
                c = carry[j]
                pq[j] = a ^ x ^ c
                carry[j] = (a & x) | (c & (a ^ x))
        added = kc < Kt
        if added:                       # the carry out of the top plane
            top = planes[kc]
            for j in range(h):
                top[j] = carry[j]
            kc += 1
        if w & 1:                       # the odd one out moves next to the sums
            for q in range(kc - added):
                planes[q, h] = planes[q, w - 1]
            if added:                   # (it had no carry)
                planes[kc - 1, h] = _ZERO
            w = h + 1
        else:
            w = h
    for b in range(LANES):
        out[b] = 0
    for q in range(kc):
        v = planes[q, 0]
        for b in range(LANES):
            out[b] += np.int64((v >> np.uint64(b)) & np.uint64(1)) << q


# ------------------------------------------------------------------ the kernel
def checkerboard_packed(P, temps, h, dynamics, plus, seed, sweep0, record_every,
                        m_out, e_out):
    """Checkerboard sweeps of multi-spin-coded replicas, word groups in parallel.

    Parameters
    ----------
    P : uint64[G, 2, L, L // 2]
        Packed spins (see the module docstring), updated in place.
    temps : float64[R, n]
        Temperature (J) of replica r in sweep s, each its own (lane b of
        group g runs at ``temps[64 g + b]``; padding lanes at the last
        replica's). A group whose replicas share the sweep's temperature
        takes a faster path (one set of thresholds); results do not depend on
        which path ran.
    h : float
        Field (J).
    dynamics : int
        :data:`METROPOLIS` or :data:`GLAUBER`.
    plus : bool
        Fixed +1 border instead of periodic.
    seed : uint64
        Key of the random streams.
    sweep0 : int
        Sweep number of the run at the first sweep of this call (keys the
        streams, so chunked runs are identical to one call).
    record_every : int
        Record after every ``record_every``-th sweep.
    m_out, e_out : int32[R, n // record_every]
        The exact records M = sum s and the bond sum B of the real replicas.

    Word groups run in ranges on threads (:mod:`._threads`).
    """
    G, _, L, L2 = P.shape
    RC = max(1, min(L, _CHUNK // L2))   # rows per chunk
    CH = RC * L2
    # record counters: Ka planes at each of NP positions (a count <= 36 per
    # chunk of a colour + 4 border bits), K in all (+ the planes that the sums
    # over the positions need)
    NP = max(CH // _GROUP, L2, _GROUP)
    Ka = 1
    while (1 << Ka) <= 36 * ((L + RC - 1) // RC) + 4:
        Ka += 1
    K = Ka + 1
    while (1 << (K - Ka)) < NP:
        K += 1
    # all ones in the odd rows of a chunk
    par = np.where((np.arange(CH) // L2) & 1 == 1, _ONES, _ZERO).astype(np.uint64)
    # classes in use: (spin, n) for Metropolis in a field, else n alone
    nq = 10 if h != 0.0 and dynamics != GLAUBER else 5
    on_threads(_group_range, G, (P, temps, float(h), int(dynamics), bool(plus), np.uint64(seed),
                                 int(sweep0), int(record_every), m_out, e_out, RC, Ka, K, NP,
                                 par, nq))


@njit(cache=True, nogil=True)
def _group_range(P, temps, h, dynamics, plus, seed, sweep0, record_every, m_out, e_out,
                 RC, Ka, K, NP, par, nq, g0, g1):
    """Word groups g0 .. g1 - 1 of :func:`checkerboard_packed`."""
    CH = par.shape[0]
    for g in range(g0, g1):
        _group_sweeps(P, np.int64(g), temps, h, dynamics, plus, seed, sweep0, record_every,
                      m_out, e_out, RC, Ka, par, nq, _group_scratch(CH, K, NP))


# The sweeps of a word group are a function apart from the loop over groups,
# compiled without reference counting, its scratch made by the caller: as
# the kernels of :mod:`isingneuron.kernels` (see ``kernels._flat_scratch``:
# shorter compilation, and no atomic reference counts on the dozens of
# array views each chunk of rows makes).
@njit(cache=True)
def _group_scratch(CH, K, NP):
    """Scratch of :func:`_group_sweeps` (CH words per chunk, K counter planes, NP positions)."""
    return (np.empty(10, np.uint64),                # shared temperature: thresholds
            np.zeros(10, np.uint64),                # certain-flip words
            np.zeros((_MAX_LEVELS, 10), np.uint64),     # level words ...
            np.zeros(_MAX_LEVELS, np.bool_),            # ... qs[l] made (l >= _DENSE)
            np.zeros((10, LANES), np.uint64),           # per-lane thresholds ...
            np.full(LANES, np.nan),                     # ... and their temperatures
            np.empty(LANES, np.int64),                  # lanes whose temperature changed
            np.empty((8, CH), np.uint64),               # b0 b1 b2 und lt upt dnt sdt
            np.empty(CH, np.int64),                     # lst
            np.empty((K, NP), np.uint64),               # pm
            np.empty((K, NP), np.uint64),               # pb
            np.empty((6, NP), np.uint64),               # xs: sums of segments
            np.empty(NP, np.uint64),                    # carry
            np.empty(LANES, np.int64),                  # M
            np.empty(LANES, np.int64))                  # B


@njit(cache=True, _nrt=False)
def _group_sweeps(P, g, temps, h, dynamics, plus, seed, sweep0, record_every, m_out, e_out,
                  RC, Ka, par, nq, scratch):
    """All sweeps of word group g of :func:`checkerboard_packed`.

    Records are counted during the colour-1 half of a recorded sweep (see
    :func:`_record_chunk`), after it the border bonds of colour 0, then
    summed over positions.
    """
    thr, always, qs, lvl_ok, lthr, T_lane, idx, w8, lst, pm, pb, xs, carry, M, B = scratch
    b0, b1, b2, und, lt, upt, dnt, sdt = w8[0], w8[1], w8[2], w8[3], w8[4], w8[5], w8[6], w8[7]
    L = P.shape[2]
    L2 = P.shape[3]
    N = L * L
    R = temps.shape[0]
    n = temps.shape[1]
    with_field = h != 0.0
    n_bonds = 2 * N + (2 * L if plus else 0)
    T_last = np.nan
    lanes = False          # the words hold per-lane thresholds (else those of T_last)
    NP = pm.shape[1]
    counters = (pb, pm, xs, carry)
    for s in range(n):
        record = (s + 1) % record_every == 0
        lanes, T_last = _sweep_thresholds(temps, s, g * LANES, h, dynamics, nq, lanes,
                                          T_last, thr, always, qs, lthr, T_lane, lvl_ok, idx)
        if record:
            for q in range(Ka):
                for k in range(NP):
                    pm[q, k] = _ZERO
                    pb[q, k] = _ZERO
        for c in range(2):
            rec_c = record and c == 1
            for i0 in range(0, L, RC):
                key = row_key(seed, g, sweep0 + s, STREAM_PACKED + c, i0)
                _chunk_update(P, g, c, i0, min(L, i0 + RC), plus, key, thr, always, qs,
                              lanes, lthr, lvl_ok, nq, dynamics, with_field, par, b0, b1,
                              b2, und, lt, lst, upt, dnt, sdt, rec_c, counters, Ka)
        if record:
            if plus:
                _record_border(P, g, pb, Ka, xs, carry)
            _reduce_columns(pm, Ka, NP, carry, M)
            _reduce_columns(pb, Ka, NP, carry, B)
            q = (s + 1) // record_every - 1
            for b in range(min(LANES, R - g * LANES)):
                r = g * LANES + b
                m_out[r, q] = 2 * M[b] - N          # exact integers, as kernels._store
                e_out[r, q] = 2 * B[b] - n_bonds


# ------------------------------------------------------------------ layout
def to_packed(nat: np.ndarray) -> np.ndarray:
    """Natural ``int8[R, L, L]`` -> packed ``uint64[G, 2, L, L/2]``, G = ceil(R / 64).

    Padding lanes (replicas ``>= R``) are all up.
    """
    nat = np.ascontiguousarray(nat, dtype=np.int8)
    if nat.ndim != 3 or nat.shape[1] != nat.shape[2] or nat.shape[1] % 2:
        raise ValueError(f"spins of shape {nat.shape}: need (R, L, L) with L even")
    R, L = nat.shape[0], nat.shape[1]
    P = np.zeros((-(-R // LANES), 2, L, L // 2), np.uint64)
    _pack(nat, P)
    return P


def from_packed(P: np.ndarray, replicas: int) -> np.ndarray:
    """Packed ``uint64[G, 2, L, L/2]`` -> natural ``int8[replicas, L, L]`` (padding dropped)."""
    G, _, L, L2 = P.shape
    if P.shape[1] != 2 or L != 2 * L2 or not 0 <= replicas <= LANES * G:
        raise ValueError(f"packed words of shape {P.shape} with {replicas} replicas: need "
                         f"(G, 2, L, L / 2) and replicas <= 64 G")
    nat = np.empty((replicas, L, L), np.int8)
    _unpack(np.ascontiguousarray(P, dtype=np.uint64), nat)
    return nat


@njit(cache=True)
def _pack(nat, P):
    """OR the spins of ``nat`` (+1: bit set) into the zeroed packed ``P``; padding lanes up.

    Site (i, j) is ``P[g, c, i, j // 2]``, c = (i + j) % 2 (the split layout).
    """
    R, L = nat.shape[0], nat.shape[1]
    L2 = L // 2
    for r in range(P.shape[0] * LANES):
        g = r // LANES
        bit = np.uint64(1) << np.uint64(r % LANES)
        for i in range(L):
            for c in range(2):
                row = P[g, c, i]
                j0 = (i + c) & 1                     # column of k = 0 in colour c
                if r >= R:
                    for k in range(L2):
                        row[k] |= bit
                else:
                    src = nat[r, i]
                    for k in range(L2):
                        row[k] |= np.uint64(src[2 * k + j0] > 0) * bit


@njit(cache=True)
def _unpack(P, nat):
    """The spins (+-1) of the first ``nat.shape[0]`` lanes of ``P`` into ``nat``."""
    R, L = nat.shape[0], nat.shape[1]
    L2 = L // 2
    for r in range(R):
        g = r // LANES
        sh = np.uint64(r % LANES)
        for i in range(L):
            dst = nat[r, i]
            for c in range(2):
                row = P[g, c, i]
                j0 = (i + c) & 1
                for k in range(L2):
                    dst[2 * k + j0] = np.int8(2 * np.int64((row[k] >> sh) & np.uint64(1)) - 1)
