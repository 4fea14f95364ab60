"""Exact single-spin-flip kinetics of small Ising lattices (a test utility).

For a lattice small enough to enumerate (``N = L * L <= 16``) the probability
distribution ``p`` over all ``2**N`` spin states is propagated exactly, sweep
by sweep, through a time-varying temperature protocol. The result is compared
in the tests with Monte Carlo histograms of independent replicas. Nothing here
imports the engine: the update rules are rebuilt from the model's definition.

State ordering
--------------
A state is an integer code; bit ``k`` of the code is site ``k = i * L + j``
and its spin is ``s_k = 2 * bit - 1``. This is the ordering of
:func:`enumeration.all_states`, so ``bond_sum_and_m(all_states(L), boundary)``
gives the bond sum ``B`` and magnetisation ``M`` of ``p[code]``.

Model
-----
Energy ``E = -B - h M`` (J = 1). ``B`` sums ``s_i s_j`` over nearest-neighbour
bonds; with ``boundary="plus"`` every border site also has a bond to a fixed
``+1`` spin outside the lattice (a corner site two). The flip of spin ``s``
whose neighbour sum is ``nn`` (border neighbours counting +1 with "plus")
changes the energy by ``dE = 2 s nn + 2 h s`` and is accepted with probability

* Metropolis: ``w = min(1, exp(-dE / T))``;
* Glauber (heat bath): ``w = 1 / (1 + exp(dE / T))``.

Single-site operator
--------------------
An update attempt at site ``k`` maps ``p`` to

    p'(x) = p(x) (1 - w_k(x)) + p(x ^ 2**k) w_k(x ^ 2**k),

i.e. ``p' = p - p w_k + F_k(p w_k)`` with ``F_k`` the flip of bit ``k``
(a reversal of one axis of ``p`` reshaped to ``(-1, 2, 2**k)``). The flip
probabilities ``w_k(x)`` come from a 10-entry table (spin sign x ``s * nn``)
indexed by a per-site code precomputed once for all states.

Sweeps (the temperature is fixed within a sweep)
------------------------------------------------
* ``"checkerboard"`` (even ``L``): the product of the single-site operators of
  every colour-0 site (``(i + j)`` even), then of every colour-1 site. Sites
  of one colour are not neighbours, so their operators commute and the
  product equals the simultaneous independent update of the sublattice.
* ``"random_sequential"``: ``N`` attempts, each at a site drawn uniformly at
  random, i.e. ``N`` applications of ``A = (1/N) sum_k P_k``.

Statistics
----------
:func:`chi_square_bm` compares observed ``(B, M)`` samples with an exact
marginal by Pearson's chi-square; bins expected to hold fewer than
``min_expected`` counts are pooled into one bin. The samples must be
independent draws (e.g. one per independent replica at a fixed time), so that
the bin counts are multinomial.
"""

from __future__ import annotations

import functools

import numpy as np
from scipy import stats

from enumeration import all_states, bond_sum_and_m

__all__ = ["RULES", "ORDERS", "ExactKinetics", "exact_sweep", "exact_bm_marginals",
           "acceptance_table", "chi_square_bm", "sample_bm"]

RULES = ("metropolis", "glauber")
ORDERS = ("random_sequential", "checkerboard")
_TWO32 = 4294967296.0
MAX_SITES = 16   # 2**16 states: the largest lattice enumerated here is 4 x 4


def acceptance_table(T, h=0.0, rule="metropolis", quantize=False):
    """Flip probabilities ``tab[5 * b + (s * nn + 4) // 2]``, ``s = 2 b - 1``.

    Parameters
    ----------
    T : float
        Temperature (J = 1), > 0.
    h : float
        Uniform field.
    rule : {"metropolis", "glauber"}
        Acceptance rule.
    quantize : bool
        If True, round as a 32-bit threshold test does: ``w`` becomes
        ``min(max(floor(w * 2**32), 1), 2**32) / 2**32`` (within ``2**-32``
        of ``w``). Off by default: the model's exact probability.

    Returns
    -------
    ndarray, shape (10,)
        Flip probability for spin sign index ``b`` (0: ``s = -1``, 1: ``+1``)
        and ``x = s * nn`` in ``{-4, -2, 0, 2, 4}``.
    """
    if rule not in RULES:
        raise ValueError(f"rule = {rule!r}: allowed are {RULES}")
    if not T > 0:
        raise ValueError(f"T = {T!r}: must be > 0")
    s = np.repeat([-1.0, 1.0], 5)
    x = np.tile(np.arange(-4.0, 5.0, 2.0), 2)
    dE = 2.0 * x + 2.0 * h * s
    if rule == "metropolis":
        w = np.exp(-np.maximum(dE, 0.0) / T)
    else:
        w = 0.5 * (1.0 - np.tanh(dE / (2.0 * T)))   # = 1 / (1 + exp(dE / T)), no overflow
    if quantize:
        w = np.minimum(np.maximum(np.floor(w * _TWO32), 1.0), _TWO32) / _TWO32
    return w


def _neighbour_lists(L, boundary):
    """Per site: the list of neighbour sites (periodic wrap) and the number of +1 border bonds."""
    sites, border = [], []
    for i in range(L):
        for j in range(L):
            if boundary == "periodic":
                nb = [((i - 1) % L) * L + j, ((i + 1) % L) * L + j,
                      i * L + (j - 1) % L, i * L + (j + 1) % L]   # L = 2: duplicates kept
                nbord = 0
            else:
                nb = [(i + di) * L + (j + dj) for di, dj in ((-1, 0), (1, 0), (0, -1), (0, 1))
                      if 0 <= i + di < L and 0 <= j + dj < L]
                nbord = 4 - len(nb)
            sites.append(nb)
            border.append(nbord)
    return sites, border


def _flip_bit(v, k):
    """``v[x ^ 2**k]`` for every state code x (a copy)."""
    return v.reshape(-1, 2, 1 << k)[:, ::-1, :].reshape(-1)


class ExactKinetics:
    """Exact sweep operator of one lattice, rule and update order.

    Parameters
    ----------
    L : int
        Linear size, ``L * L <= 16``.
    boundary : {"periodic", "plus"}
        Periodic, or a fixed +1 border.
    h : float
        Uniform field.
    rule : {"metropolis", "glauber"}
        Acceptance rule.
    order : {"random_sequential", "checkerboard"}
        Update order of a sweep (checkerboard needs an even L).
    quantize : bool
        Use 32-bit-quantised acceptance probabilities (see
        :func:`acceptance_table`).

    Attributes
    ----------
    N : int
        Number of sites.
    B, M : ndarray of int64, shape (2**N,)
        Bond sum and magnetisation of every state (from :mod:`enumeration`).
    site_code : ndarray of uint8, shape (N, 2**N)
        Index into :func:`acceptance_table` of each site in each state.
    """

    def __init__(self, L, boundary="periodic", h=0.0, rule="metropolis",
                 order="random_sequential", quantize=False):
        if L < 2 or L * L > MAX_SITES:
            raise ValueError(f"L = {L}: need 2 <= L and L * L <= {MAX_SITES}")
        if boundary not in ("periodic", "plus"):
            raise ValueError(f"boundary = {boundary!r}")
        if rule not in RULES:
            raise ValueError(f"rule = {rule!r}: allowed are {RULES}")
        if order not in ORDERS:
            raise ValueError(f"order = {order!r}: allowed are {ORDERS}")
        if order == "checkerboard" and L % 2:
            raise ValueError("checkerboard needs an even L")
        self.L, self.boundary, self.h = L, boundary, float(h)
        self.rule, self.order, self.quantize = rule, order, quantize
        self.N = N = L * L
        codes = np.arange(1 << N, dtype=np.int64)
        bits = ((codes[None, :] >> np.arange(N)[:, None]) & 1).astype(np.int8)   # (N, 2**N)
        spins = 2 * bits - 1
        nbs, border = _neighbour_lists(L, boundary)
        self.site_code = np.empty((N, 1 << N), np.uint8)
        for k in range(N):
            nn = border[k] + spins[nbs[k]].sum(axis=0, dtype=np.int64)
            x = spins[k] * nn                                          # s * nn in {-4..4}
            self.site_code[k] = 5 * bits[k] + (x + 4) // 2
        self.colours = [[i * L + j for i in range(L) for j in range(L) if (i + j) % 2 == c]
                        for c in range(2)]
        self.B, self.M = bond_sum_and_m(all_states(L), boundary)

    # ---------------------------------------------------------------- operator
    def flip_probabilities(self, T):
        """``w[k, x]``: probability that an attempt at site k flips it in state x, shape (N, 2**N)."""
        return acceptance_table(T, self.h, self.rule, self.quantize)[self.site_code]

    def sweep(self, p, T):
        """Distribution after one sweep at temperature T.

        Parameters
        ----------
        p : ndarray, shape (2**N,)
            Probability of every state before the sweep.
        T : float
            Temperature of the sweep.

        Returns
        -------
        ndarray, shape (2**N,)
            Probability of every state after the sweep (a new array).
        """
        p = np.array(p, dtype=np.float64)
        if p.shape != (1 << self.N,):
            raise ValueError(f"p has shape {p.shape}: expected ({1 << self.N},)")
        w = self.flip_probabilities(T)
        if self.order == "checkerboard":
            for colour in self.colours:
                for k in colour:                     # commuting operators of one colour
                    pw = p * w[k]
                    p = p - pw + _flip_bit(pw, k)
        else:
            N = self.N
            for _ in range(N):                       # N attempts at uniformly random sites
                pw = p * w                           # (N, 2**N)
                gain = np.zeros_like(p)
                for k in range(N):
                    gain += _flip_bit(pw[k], k)
                p = p + (gain - pw.sum(axis=0)) / N
        return p

    def propagate(self, temperatures, p0=None):
        """Distributions after each sweep of a protocol.

        Parameters
        ----------
        temperatures : array_like, shape (n,)
            Temperature of sweep 0, 1, ..., n - 1.
        p0 : ndarray, shape (2**N,), optional
            Initial distribution; default uniform (every spin +-1 with
            probability 1/2, i.e. infinite temperature).

        Returns
        -------
        ndarray, shape (n, 2**N)
            Row k: the distribution after sweep k (record k of a run with
            ``record_every=1``).
        """
        p = np.full(1 << self.N, 1.0 / (1 << self.N)) if p0 is None else np.asarray(p0, float)
        out = []
        for T in np.asarray(temperatures, dtype=float):
            p = self.sweep(p, T)
            out.append(p)
        return np.array(out)

    def bm_marginals(self, temperatures, p0=None):
        """Exact joint distribution of (B, M) after each sweep of a protocol.

        Returns
        -------
        B, M : ndarray of int64, shape (n_bins,)
            The distinct (B, M) pairs of the lattice.
        P : ndarray, shape (n, n_bins)
            ``P[k, b]``: probability of pair b after sweep k.
        """
        keys = self.B * 100003 + self.M
        uniq, first, inv = np.unique(keys, return_index=True, return_inverse=True)
        P = np.array([np.bincount(inv, weights=p, minlength=len(uniq))
                      for p in self.propagate(temperatures, p0)])
        return self.B[first], self.M[first], P


@functools.lru_cache(maxsize=None)
def _operator(L, boundary, h, rule, order, quantize):
    return ExactKinetics(L, boundary, h, rule, order, quantize)


def exact_sweep(p, T, L, boundary="periodic", h=0.0, rule="metropolis",
                order="random_sequential", quantize=False):
    """One exact sweep of distribution ``p`` at temperature T (see :class:`ExactKinetics`)."""
    return _operator(L, boundary, float(h), rule, order, quantize).sweep(p, T)


def exact_bm_marginals(L, temperatures, boundary="periodic", h=0.0, rule="metropolis",
                       order="random_sequential", p0=None, quantize=False):
    """Exact (B, M) marginal after every sweep of a protocol from a random start.

    Parameters
    ----------
    L : int
        Linear size (``L * L <= 16``).
    temperatures : array_like, shape (n,)
        Temperature of each sweep.
    boundary, h, rule, order, quantize
        As in :class:`ExactKinetics`.
    p0 : ndarray, optional
        Initial distribution over the 2**N states; default uniform.

    Returns
    -------
    B, M : ndarray of int64, shape (n_bins,)
        The distinct (B, M) pairs.
    P : ndarray, shape (n, n_bins)
        Probability of each pair after each sweep.
    """
    op = _operator(L, boundary, float(h), rule, order, quantize)
    return op.bm_marginals(temperatures, p0)


def sample_bm(m, energy, N, h=0.0):
    """Integer (B, M) from per-spin records ``m`` and ``energy`` (``E = -B - h M``)."""
    M = np.rint(np.asarray(m) * N).astype(np.int64)
    B = np.rint(-np.asarray(energy) * N - h * M).astype(np.int64)
    return B, M


def chi_square_bm(B_obs, M_obs, B_bins, M_bins, prob, min_expected=5.0):
    """Pearson chi-square p-value of independent (B, M) samples against an exact marginal.

    Parameters
    ----------
    B_obs, M_obs : array_like of int, shape (n,)
        Observed pairs, one per independent sample.
    B_bins, M_bins : array_like of int, shape (n_bins,)
        The possible pairs.
    prob : array_like, shape (n_bins,)
        Their exact probabilities (summing to 1).
    min_expected : float
        Bins with fewer expected counts are pooled into one bin (dropped if
        it is expected empty and observed empty).

    Returns
    -------
    pvalue : float
        0.0 if a sample falls on a pair of zero probability or outside the
        bins (impossible under the exact distribution).
    chi2 : float
        The statistic.
    dof : int
        Degrees of freedom (bins after pooling, minus one).
    """
    B_obs, M_obs = np.asarray(B_obs, np.int64), np.asarray(M_obs, np.int64)
    keys = np.asarray(B_bins, np.int64) * 100003 + np.asarray(M_bins, np.int64)
    order = np.argsort(keys)
    keys, prob = keys[order], np.asarray(prob, float)[order]
    obs_keys = B_obs * 100003 + M_obs
    idx = np.clip(np.searchsorted(keys, obs_keys), 0, len(keys) - 1)
    if np.any(keys[idx] != obs_keys):
        return 0.0, np.inf, len(keys) - 1
    n = len(obs_keys)
    obs = np.bincount(idx, minlength=len(keys)).astype(float)
    exp = prob / prob.sum() * n
    big = exp >= min_expected
    o = np.append(obs[big], obs[~big].sum())
    e = np.append(exp[big], exp[~big].sum())
    if e[-1] == 0.0:
        if o[-1] > 0:
            return 0.0, np.inf, len(o) - 1
        o, e = o[:-1], e[:-1]
    if len(o) < 2:
        return 1.0, 0.0, 0
    chi2 = float(np.sum((o - e) ** 2 / e))
    dof = len(o) - 1
    return float(stats.chi2.sf(chi2, dof)), chi2, dof
