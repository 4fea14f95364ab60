"""Counter-based random numbers for the Numba kernels.

Every random number the engine uses is a pure function of a key, never the
state of a sequential generator, so results do not depend on the number of
threads or the order in which replicas or rows are visited.

A *row key* is derived from ``(seed, replica, sweep, colour, row)`` by chaining
the SplitMix64 finaliser (``mix64``). The ``k``-th number of that row is
``mix64(row_key + (k + 1) * GOLDEN)``, i.e. the ``k``-th output of a
SplitMix64 stream started at the row key: SplitMix64 passes BigCrush as a
sequential generator, and the row keys are themselves SplitMix64 outputs.
Two rows' streams overlap only if their 64-bit keys differ by less than a row
length times the Weyl increment: a chance of order ``L / 2**64`` per pair.

``colour`` takes the values 0 and 1 for the two checkerboard half-sweeps,
2 for the random-site (odd L) sweep, 3 for Wolff clusters and 4 for the random
initial state, so these streams never coincide by construction of the key.
"""

import numpy as np
from numba import njit

from ._numba_cache import ensure_cache

ensure_cache()         # before the first cached function: Numba refuses one without a cache folder

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S32 = np.uint64(32)

STREAM_CHECKERBOARD = 0  # and 1 for the second colour
STREAM_RANDOM_SITE = 2
STREAM_WOLFF = 3
STREAM_INITIAL = 4


@njit(inline="always", cache=True)
def mix64(z):
    """SplitMix64 finaliser (Stafford variant 13) of a uint64."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(inline="always", cache=True)
def row_key(seed, replica, sweep, colour, row):
    """Key of the random stream for one row of one half-sweep (uint64)."""
    z = mix64(np.uint64(seed) + GOLDEN)
    z = mix64(z ^ (np.uint64(replica) * GOLDEN + _M1))
    z = mix64(z ^ (np.uint64(sweep) * GOLDEN + _M2))
    z = mix64(z ^ (np.uint64(colour) * _M1 + np.uint64(row) * GOLDEN))
    return z


@njit(inline="always", cache=True)
def draw32(key, k):
    """The k-th uniform 32-bit integer (as uint64 in [0, 2**32)) of a stream."""
    return mix64(key + (np.uint64(k) + np.uint64(1)) * GOLDEN) >> _S32


@njit(inline="always", cache=True)
def draw_unit(key, k):
    """The k-th uniform float in [0, 1) of a stream (53 random bits)."""
    return np.float64(mix64(key + (np.uint64(k) + np.uint64(1)) * GOLDEN) >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(inline="always", cache=True)
def sweep_key(seed, replica, sweep):
    """The part of :func:`row_key` that depends on (seed, replica, sweep) only.

    ``row_key(seed, r, s, c, i) == row_key_final(sweep_key(seed, r, s), c, i)``
    bit for bit: the same three SplitMix64 rounds, hoisted out of the row loop.
    """
    z = mix64(np.uint64(seed) + GOLDEN)
    z = mix64(z ^ (np.uint64(replica) * GOLDEN + _M1))
    return mix64(z ^ (np.uint64(sweep) * GOLDEN + _M2))


@njit(inline="always", cache=True)
def row_key_final(skey, colour, row):
    """Last round of :func:`row_key` from a :func:`sweep_key` (uint64)."""
    return mix64(skey ^ (np.uint64(colour) * _M1 + np.uint64(row) * GOLDEN))
