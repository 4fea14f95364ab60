"""The engine's dynamics, not just its equilibrium, against exact kinetics.

For 3 x 3 and 4 x 4 lattices the exact distribution over all 2**N states is
propagated sweep by sweep (:mod:`kinetics_exact`, which rebuilds the update
rules from the model's definition and never calls the engine) through a
quench-and-reheat protocol, and compared with the engine's (B, M) records.

Protocol (``PROTOCOL``, 20 sweeps, random start = infinite temperature):
3 sweeps at the bath temperature T = 3.0, a quench to T = 1.0 held for
9 sweeps (the lattice orders during the first few), then a linear reheating
ramp of +0.25 per sweep back to T = 3.0. Records are compared at the times
``TIMES`` (record k = after sweep k): before the quench, twice during the
ordering transient, mid-ramp, and at the end.

Statistics
----------
Each of the ``R`` replicas has its own random streams (keyed by replica) and
its own random start, so at a fixed time the R records are independent draws
from the engine's distribution and the (B, M) bin counts are multinomial:
Pearson's chi-square applies with no autocorrelation correction (records of
*different* times of one replica are correlated, so each time is tested on
its own and the times are combined by Bonferroni). Bins expected to hold
fewer than 5 counts are pooled into one.

* A correct case passes if the smallest p-value over its ``k = len(TIMES)``
  times exceeds ``ALPHA / k`` with ``ALPHA = 1e-3``: the chance that a correct
  engine fails a given test is at most 1e-3. Seeds are fixed, so the tests
  are deterministic.
* Power: the same MC data compared with the exact distribution of the wrong
  update order, the wrong acceptance rule, or a temperature protocol lagging
  by one sweep must give p < ``P_POWER = 1e-6`` at some tested time.

The engine accepts with probability ``floor(p 2**32) / 2**32`` and picks
random sites to within ``N / 2**32``; these ~1e-9 deviations are far below
what R = 40000 samples resolve, so the exact model probabilities are used.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass

import numpy as np
import pytest

from isingneuron.engine import CheckerboardMetropolisWarning, simulate

from enumeration import all_states, boltzmann
from kinetics_exact import (ORDERS, RULES, ExactKinetics, acceptance_table, chi_square_bm,
                            exact_bm_marginals, exact_sweep, sample_bm)

# ---------------------------------------------------------------- protocol
T_BATH, T_QUENCH, RAMP = 3.0, 1.0, 0.25
PROTOCOL = np.concatenate([np.full(3, T_BATH), np.full(9, T_QUENCH),
                           np.arange(T_QUENCH + RAMP, T_BATH + 1e-9, RAMP)])   # 20 sweeps
TIMES = (1, 4, 7, 15, 19)     # record indices tested (record k is taken after sweep k)
R = 40000                     # independent replicas per case
ALPHA = 1e-3                  # family-wise false-failure rate of one test
P_PASS = ALPHA / len(TIMES)   # Bonferroni threshold per time
P_POWER = 1e-6                # a wrong model must be rejected at least this strongly


@dataclass(frozen=True)
class Case:
    name: str
    L: int
    boundary: str
    h: float
    rule: str
    order: str
    seed: int


CASES = {c.name: c for c in [
    Case("3x3-rs-metropolis-periodic", 3, "periodic", 0.0, "metropolis", "random_sequential", 101),
    Case("3x3-rs-glauber-plus", 3, "plus", 0.0, "glauber", "random_sequential", 102),
    Case("3x3-rs-metropolis-plus-h0.3", 3, "plus", 0.3, "metropolis", "random_sequential", 103),
    Case("4x4-cb-metropolis-periodic", 4, "periodic", 0.0, "metropolis", "checkerboard", 104),
    Case("4x4-cb-glauber-plus", 4, "plus", 0.0, "glauber", "checkerboard", 105),
    Case("4x4-rs-glauber-periodic", 4, "periodic", 0.0, "glauber", "random_sequential", 106),
    Case("4x4-rs-metropolis-periodic", 4, "periodic", 0.0, "metropolis", "random_sequential", 107),
]}


def _other(value, options):
    return next(o for o in options if o != value)


@functools.lru_cache(maxsize=None)
def mc_bm(name):
    """Engine (B, M) records of case ``name``: two int arrays of shape (R, len(PROTOCOL))."""
    c = CASES[name]
    with warnings.catch_warnings():
        # checkerboard Metropolis kinetics are exactly what is tested here
        warnings.simplefilter("ignore", CheckerboardMetropolisWarning)
        tr = simulate(c.L, PROTOCOL, len(PROTOCOL), c.rule, replicas=R, seed=c.seed,
                      boundary=c.boundary, field=c.h, record_every=1, initial="random",
                      update=c.order)
    assert tr.m.shape == (R, len(PROTOCOL))
    return sample_bm(tr.m, tr.energy, c.L * c.L, c.h)


@functools.lru_cache(maxsize=None)
def exact(L, boundary, h, rule, order, lag=0):
    """Exact (B, M) marginals; ``lag=1`` runs sweep k at the temperature of sweep k - 1."""
    temps = PROTOCOL if lag == 0 else np.concatenate([np.full(lag, PROTOCOL[0]), PROTOCOL[:-lag]])
    return exact_bm_marginals(L, temps, boundary, h, rule, order)


def pvalues(name, rule=None, order=None, lag=0):
    """{record index: chi-square p-value} of the engine's case ``name`` at ``TIMES``
    against the exact kinetics of (possibly another) ``rule`` / ``order`` / ``lag``."""
    c = CASES[name]
    B_mc, M_mc = mc_bm(name)
    B, M, P = exact(c.L, c.boundary, c.h, rule or c.rule, order or c.order, lag)
    return {k: chi_square_bm(B_mc[:, k], M_mc[:, k], B, M, P[k])[0] for k in TIMES}


def _fmt(ps):
    return ", ".join(f"t={k + 1}: {p:.3g}" for k, p in ps.items())


# ---------------------------------------------------------------- engine vs exact
@pytest.mark.parametrize("name", list(CASES))
def test_engine_kinetics_match_exact_distribution(name):
    ps = pvalues(name)
    print(f"\n{name}: {_fmt(ps)}")
    assert min(ps.values()) > P_PASS, f"{name}: {_fmt(ps)} (threshold {P_PASS:g})"


# ---------------------------------------------------------------- power
POWER_RULE = ["3x3-rs-metropolis-periodic", "3x3-rs-glauber-plus", "3x3-rs-metropolis-plus-h0.3",
              "4x4-cb-metropolis-periodic", "4x4-cb-glauber-plus", "4x4-rs-glauber-periodic"]
POWER_ORDER = ["4x4-cb-metropolis-periodic", "4x4-cb-glauber-plus", "4x4-rs-glauber-periodic",
               "4x4-rs-metropolis-periodic"]


@pytest.mark.parametrize("name", POWER_RULE)
def test_wrong_rule_is_rejected(name):
    """Metropolis data fail against exact Glauber kinetics, and vice versa."""
    ps = pvalues(name, rule=_other(CASES[name].rule, RULES))
    print(f"\n{name} vs wrong rule: {_fmt(ps)}")
    assert min(ps.values()) < P_POWER, _fmt(ps)


@pytest.mark.parametrize("name", POWER_ORDER)
def test_wrong_update_order_is_rejected(name):
    """Checkerboard data fail against exact random-sequential kinetics, and vice versa."""
    ps = pvalues(name, order=_other(CASES[name].order, ORDERS))
    print(f"\n{name} vs wrong order: {_fmt(ps)}")
    assert min(ps.values()) < P_POWER, _fmt(ps)


@pytest.mark.parametrize("name", ["3x3-rs-metropolis-periodic", "4x4-rs-glauber-periodic"])
def test_protocol_lagging_one_sweep_is_rejected(name):
    """The time convention is resolved: sweep k runs at T[k], not T[k - 1]."""
    ps = pvalues(name, lag=1)
    print(f"\n{name} vs lag 1: {_fmt(ps)}")
    assert min(ps.values()) < P_POWER, _fmt(ps)


# ---------------------------------------------------------------- the utility itself
COMBOS = [(L, order, boundary, rule, h)
          for L, order in [(2, "random_sequential"), (2, "checkerboard"), (3, "random_sequential"),
                           (4, "random_sequential"), (4, "checkerboard")]
          for boundary in ("periodic", "plus") for rule in RULES for h in (0.0, -0.3)]


@pytest.mark.parametrize("L,order,boundary,rule,h", COMBOS)
def test_exact_sweep_conserves_probability_and_boltzmann(L, order, boundary, rule, h):
    """Every sweep operator is stochastic and leaves the Boltzmann distribution invariant."""
    T = 1.7
    _, _, w = boltzmann(L, T, boundary, h)
    np.testing.assert_allclose(exact_sweep(w, T, L, boundary, h, rule, order), w,
                               rtol=0, atol=1e-12)
    rng = np.random.default_rng(L)
    p = rng.random(2 ** (L * L))
    p /= p.sum()
    q = exact_sweep(p, 0.8, L, boundary, h, rule, order)
    assert abs(q.sum() - 1.0) < 1e-12 and q.min() >= 0.0


def _spins_and_neighbour_sums(L, boundary):
    """All states as (2**N, L, L) spins and their neighbour sums, via np.roll / padding."""
    s = all_states(L).astype(np.int64)
    if boundary == "periodic":
        nn = (np.roll(s, 1, 1) + np.roll(s, -1, 1) + np.roll(s, 1, 2) + np.roll(s, -1, 2))
    else:
        pad = np.pad(s, ((0, 0), (1, 1), (1, 1)), constant_values=1)
        nn = pad[:, :-2, 1:-1] + pad[:, 2:, 1:-1] + pad[:, 1:-1, :-2] + pad[:, 1:-1, 2:]
    return s.reshape(len(s), -1), nn.reshape(len(s), -1)


def _delta(n_states, x):
    d = np.zeros(n_states)
    d[x] = 1.0
    return d


def _flip_prob(s, nn, T, h, rule):
    dE = 2.0 * s * nn + 2.0 * h * s
    return np.minimum(1.0, np.exp(-dE / T)) if rule == "metropolis" else 1.0 / (1.0 + np.exp(dE / T))


@pytest.mark.parametrize("L", [2, 3])
@pytest.mark.parametrize("boundary", ["periodic", "plus"])
@pytest.mark.parametrize("rule", RULES)
def test_random_sequential_sweep_equals_dense_matrix_power(L, boundary, rule):
    """Independent route: the dense attempt matrix A = (1/N) sum_k P_k from 2D spin
    arrays, a sweep = A**N, against the vectorised operator on every basis vector."""
    T, h = 1.3, 0.2
    s, nn = _spins_and_neighbour_sums(L, boundary)
    n_states, N = s.shape
    w = _flip_prob(s, nn, T, h, rule)                      # (states, N)
    A = np.zeros((n_states, n_states))                     # A[to, from]
    x = np.arange(n_states)
    for k in range(N):
        A[x ^ (1 << k), x] += w[:, k] / N
        A[x, x] += (1.0 - w[:, k]) / N
    sweep = np.linalg.matrix_power(A, N)
    op = ExactKinetics(L, boundary, h, rule, "random_sequential")
    got = np.array([op.sweep(_delta(n_states, i), T) for i in range(n_states)]).T
    np.testing.assert_allclose(got, sweep, rtol=0, atol=1e-13)


@pytest.mark.parametrize("L", [2, 4])
@pytest.mark.parametrize("boundary", ["periodic", "plus"])
@pytest.mark.parametrize("rule", RULES)
def test_checkerboard_sweep_equals_product_formula(L, boundary, rule):
    """Independent route: from state x the checkerboard sweep goes to y with probability
    prod over colour 0 of w_k(x) or 1 - w_k(x), times prod over colour 1 of w_k(x') or
    1 - w_k(x'), x' = x with its colour-0 spins set as in y."""
    T, h = 1.3, -0.2
    s, nn = _spins_and_neighbour_sums(L, boundary)
    n_states, N = s.shape
    w = _flip_prob(s, nn, T, h, rule)
    ij = np.arange(N)
    colour = (ij // L + ij % L) % 2
    mask0 = int(sum(1 << k for k in ij[colour == 0]))
    op = ExactKinetics(L, boundary, h, rule, "checkerboard")
    y = np.arange(n_states)
    starts = range(n_states) if n_states <= 16 else np.random.default_rng(3).choice(n_states, 12)
    for x0 in starts:
        xm = (y & mask0) | (x0 & ~mask0)                   # after the colour-0 half-sweep
        flip0 = ((x0 ^ y) >> ij[:, None]) & 1              # (N, states)
        prob = np.ones(n_states)
        for k in ij:
            if colour[k] == 0:
                prob *= np.where(flip0[k], w[x0, k], 1.0 - w[x0, k])
            else:
                prob *= np.where(flip0[k], w[xm, k], 1.0 - w[xm, k])
        np.testing.assert_allclose(op.sweep(_delta(n_states, x0), T), prob, rtol=0, atol=1e-14)


def test_quantised_acceptance_is_within_2_to_the_minus_32():
    for rule in RULES:
        for T in (0.05, 1.0, 3.0):
            a = acceptance_table(T, 0.3, rule)
            b = acceptance_table(T, 0.3, rule, quantize=True)
            assert np.all(np.abs(a - b) <= 2.0 ** -32)
