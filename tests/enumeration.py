"""Exact enumeration of small Ising lattices (a test utility, independent of the engine).

Every one of the 2**(L*L) states is listed with numpy, and its bond sum
B = sum_<ij> s_i s_j and magnetisation M = sum_i s_i are computed directly
from the definition of the model, with its own neighbour bookkeeping.
"""
import numpy as np


def all_states(L):
    """int8 array (2**(L*L), L, L) of every spin configuration."""
    n = L * L
    codes = np.arange(2 ** n, dtype=np.int64)
    bits = (codes[:, None] >> np.arange(n)) & 1
    return (2 * bits - 1).astype(np.int8).reshape(-1, L, L)


def bond_sum_and_m(states, boundary):
    """Exact (B, M) of each state; bonds to a fixed +1 border when 'plus'."""
    s = states.astype(np.int64)
    M = s.sum(axis=(1, 2))
    if boundary == "periodic":
        B = (s * np.roll(s, -1, axis=1)).sum(axis=(1, 2)) + (s * np.roll(s, -1, axis=2)).sum(axis=(1, 2))
    else:
        B = (s[:, :-1, :] * s[:, 1:, :]).sum(axis=(1, 2)) + (s[:, :, :-1] * s[:, :, 1:]).sum(axis=(1, 2))
        B = B + s[:, 0, :].sum(1) + s[:, -1, :].sum(1) + s[:, :, 0].sum(1) + s[:, :, -1].sum(1)
    return B, M


def boltzmann(L, T, boundary="periodic", h=0.0):
    """(B, M, weights) of every state at temperature T (J = 1), weights normalised."""
    B, M = bond_sum_and_m(all_states(L), boundary)
    E = -B - h * M
    w = np.exp(-(E - E.min()) / T)
    return B, M, w / w.sum()
