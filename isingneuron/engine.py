"""The lattice engine: Metropolis, Glauber and Wolff on L x L membranes.

:class:`Lattice` owns the spins of ``R`` replicas and runs the Numba kernels
of :mod:`isingneuron.kernels` from one record to the next, with no Python per
sweep. :func:`simulate` is the one-call API. Temperatures come in as numbers
or arrays (or any object with a ``temperatures(n_sweeps)`` method, such as the
protocols of :mod:`isingneuron.schedules`); the engine knows nothing of files.

Loop order (one sweep, the unit of time)
----------------------------------------
For sweep ``s = 0, 1, ...`` of a run, per replica ``r``:

1. the acceptance table is computed from ``T[r, s]`` and ``h``;
2. every spin gets one update attempt on average, in the lattice's update
   order: ``"random_sequential"`` (the default: ``N`` attempts, each at a
   site drawn uniformly at random) or ``"checkerboard"`` (even ``L`` only:
   all sites with ``(i + j)`` even, then all odd; rows in order);
3. if ``(s + 1) % record_every == 0``, ``m`` and ``e`` per spin are recorded
   with time stamp ``t = s + 1`` (sweeps completed) and temperature
   ``T[r, s]``.

Random numbers are keyed by (seed, replica, sweep, colour, row), so a run is
bit-identical whatever the thread count, whether it is made in one call or
in chunks, and whatever the order replicas are processed in.

Update order and kinetics
-------------------------
Both orders sample the same equilibrium, but only random-sequential updates
have the kinetics of Glauber's single-spin-flip master equation, which is what
a spike (the time the membrane spends ordered after a quench) measures.
Checkerboard *Metropolis* accepts every zero-energy flip, so all corner sites
of a diagonal domain wall flip together in one half-sweep and the wall moves
ballistically: ordering after a quench takes ~L sweeps instead of ~L**2, and
the excess energy decays like t**-0.9 instead of t**-1/2. With the + border it
is an equilibrium sampler (``equilibrium()`` uses it for even L); on a
periodic lattice it is not even that: the width-1 stripe states cycle
forever (see :func:`resolve_update`). It warns
(:class:`CheckerboardMetropolisWarning`) when asked for otherwise. Checkerboard
Glauber flips a zero-energy site with probability 1/2 and coarsens like
random-sequential updates (tested against the coarsening laws), but its
kinetics are not the master equation's: use it knowingly.
"""

from __future__ import annotations

import numbers
import os
import sys
import warnings

import numpy as np

from . import resources
from ._lazy import lazy_import
from .traces import Traces, record_dtype

# Numba (~0.3 s) and the kernels load at the first run, not at `import isingneuron`
kernels = lazy_import("isingneuron.kernels")
kernels_packed = lazy_import("isingneuron.kernels_packed")

__all__ = ["Lattice", "simulate", "DYNAMICS", "BOUNDARIES", "UPDATES", "to_split", "to_natural",
           "to_blocks", "from_blocks", "initial_spins", "CheckerboardMetropolisWarning",
           "resolve_update", "check_temperatures", "check_memory"]

DYNAMICS = ("metropolis", "glauber", "wolff")
BOUNDARIES = ("periodic", "plus")
UPDATES = ("random_sequential", "checkerboard")


class CheckerboardMetropolisWarning(UserWarning):
    """Checkerboard Metropolis used where its (unphysical) kinetics matter."""


CHECKERBOARD_METROPOLIS_MESSAGE = (
    "update='checkerboard' with dynamics='metropolis' samples the right equilibrium but its "
    "kinetics are an artefact (whole sublattices of zero-energy corner sites flip together, "
    "domain walls move ballistically, ordering takes ~L instead of ~L**2 sweeps); use "
    "update='random_sequential' (the default) or dynamics='glauber' for quenches and spikes")


def _caller_outside_package() -> int:
    """``stacklevel`` that points a warning raised by the caller at user code."""
    here = os.path.dirname(os.path.abspath(__file__))
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(here):
        frame, level = frame.f_back, level + 1
    return level


def resolve_update(update, dynamics, L, boundary="periodic", purpose="kinetics"):
    """The update order a lattice will use, checked: "random_sequential", "checkerboard" or None.

    Parameters
    ----------
    update : {None, "random_sequential", "checkerboard"}
        None picks the default: random-sequential for ``purpose="kinetics"``;
        for ``purpose="equilibrium"`` the checkerboard wherever it is a valid
        sampler (even L; Glauber, or Metropolis with the + border),
        random-sequential otherwise. Checkerboard Metropolis on a periodic
        lattice is not irreducible: at h = 0 the width-1 stripe states (every
        neighbour sum 0) flip a whole sublattice with certainty at every
        half-sweep, a cycle the chain never leaves, for every even L (on
        L = 2 it is refused outright).
    dynamics : {"metropolis", "glauber", "wolff"}
        Wolff has no update order (returns None; ``update`` must be None).
    L : int
        Linear size; the checkerboard needs an even L.
    boundary : {"periodic", "plus"}
    purpose : {"kinetics", "equilibrium"}
        What the run is for. Checkerboard Metropolis for kinetics warns
        (:class:`CheckerboardMetropolisWarning`).

    Raises
    ------
    ValueError
        An unknown order, an order given for Wolff, a checkerboard for odd L,
        or checkerboard Metropolis on the periodic L = 2 lattice.
    """
    if dynamics == "wolff":
        if update is not None:
            raise ValueError(f"update = {update!r}: dynamics = 'wolff' has no update order "
                             "(leave update unset)")
        return None
    if update is None:
        valid = L % 2 == 0 and not (dynamics == "metropolis" and boundary == "periodic")
        return "checkerboard" if purpose == "equilibrium" and valid else "random_sequential"
    if update not in UPDATES:
        raise ValueError(f"update = {update!r}: allowed are {', '.join(UPDATES)}")
    if update == "checkerboard":
        if L % 2:
            raise ValueError(f"update = 'checkerboard' needs an even L (got L = {L}: an odd "
                             "lattice is not bipartite); use update = 'random_sequential'")
        if dynamics == "metropolis" and L == 2 and boundary == "periodic":
            raise ValueError("update = 'checkerboard' with dynamics = 'metropolis' is not ergodic on "
                             "the periodic L = 2 lattice (it locks into period-2 orbits); use "
                             "update = 'random_sequential' or dynamics = 'glauber'")
        if dynamics == "metropolis" and purpose != "equilibrium":
            warnings.warn(CHECKERBOARD_METROPOLIS_MESSAGE, CheckerboardMetropolisWarning,
                          stacklevel=_caller_outside_package())
    return update
_DYN_CODE = {"metropolis": 0, "glauber": 1}     # kernels.METROPOLIS, kernels.GLAUBER
_ROWS_MIN_L = 512  # "auto" parallelises over rows only for lattices this large


def _mix64_np(z):
    """Vectorised SplitMix64 finaliser on uint64 arrays (same as the kernels')."""
    z = np.asarray(z, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def initial_spins(L: int, replicas: int, initial="random", seed: int = 0) -> np.ndarray:
    """Initial lattice ``int8[replicas, L, L]``.

    Parameters
    ----------
    L : int
        Linear size.
    replicas : int
        Number of replicas R.
    initial : {"random", "up", "down"} or array_like
        ``"random"``: each spin +-1 with probability 1/2 (infinite temperature),
        keyed by (seed, replica, site); ``"up"``/``"down"``: all +1/-1 (ordered
        start); or an array of shape (L, L) (copied to every replica) or
        (R, L, L) with entries +-1.
    seed : int
        Seed of the random start.
    """
    if isinstance(initial, str):
        if initial == "up":
            return np.ones((replicas, L, L), np.int8)
        if initial == "down":
            return -np.ones((replicas, L, L), np.int8)
        if initial == "random":
            from ._rng import STREAM_INITIAL
            g = np.uint64(0x9E3779B97F4A7C15)
            out = np.empty((replicas, L * L), np.int8)
            with np.errstate(over="ignore"):
                rk = _mix64_np(_mix64_np(np.uint64(seed) ^ np.uint64(STREAM_INITIAL) * g)
                               ^ (np.arange(replicas, dtype=np.uint64) * g))
            # spin (r, site) = +-1 from bit 63 of SplitMix64(rk[r] + site * g),
            # written in place: no temporaries whatever L and replicas
            kernels.random_start(rk, out)
            return out.reshape(replicas, L, L)
        raise ValueError(f"initial = {initial!r}: allowed are 'random', 'up', 'down' "
                         "or an array of +-1 spins")
    arr = np.asarray(initial)
    if arr.shape == (L, L):
        arr = np.broadcast_to(arr, (replicas, L, L))
    if arr.shape != (replicas, L, L):
        raise ValueError(f"initial has shape {arr.shape}: expected ({L}, {L}) or "
                         f"({replicas}, {L}, {L})")
    if not np.all(np.abs(arr) == 1):
        raise ValueError("initial: every spin must be +1 or -1")
    return np.ascontiguousarray(arr, dtype=np.int8)


def to_split(nat: np.ndarray) -> np.ndarray:
    """Natural ``int8[R, L, L]`` -> checkerboard split ``int8[R, 2, L, L/2]``."""
    R, L, _ = nat.shape
    sp = np.empty((R, 2, L, L // 2), np.int8)
    for c in range(2):
        sp[:, c, 0::2, :] = nat[:, 0::2, c::2]          # even rows: p = c
        sp[:, c, 1::2, :] = nat[:, 1::2, (1 - c)::2]    # odd rows: p = 1 - c
    return sp


def to_natural(sp: np.ndarray) -> np.ndarray:
    """Checkerboard split ``int8[R, 2, L, L/2]`` -> natural ``int8[R, L, L]``."""
    R, _, L, L2 = sp.shape
    nat = np.empty((R, L, 2 * L2), np.int8)
    for c in range(2):
        nat[:, 0::2, c::2] = sp[:, c, 0::2, :]
        nat[:, 1::2, (1 - c)::2] = sp[:, c, 1::2, :]
    return nat


# ------------------------------------------------------------ blocked layout
# Populations of small lattices can run faster in the blocked layout
# int8[G, 2, L, L/2, W] (kernels.checkerboard_blocks: W replicas innermost, the
# update loops vectorised across them; bit-identical results). "auto" picks
# it, and W, from a fit of one-thread throughputs (flips/ns, T = 2.5) measured
# with both kernels for L = 16 .. 256, R = 2 .. 64 (AMD EPYC Zen 4, numba
# 0.68). A loop over n sites runs at about n / (a n + c) flips/ns per thread:
# the replica kernel updates lattices up to L = 254 a colour (n = L**2 / 2)
# at a time (a = 0.28, c = 71: 1.2, 2.4, 3.2, 3.5 at L = 16, 32, 64, 128),
# larger ones row by row (n = L / 2, a = 0.15, c = 20: 3.3 at L = 256, 5.3 at
# 1024); the blocked kernel's rows hold n = W L / 2 sites (a = 0.27, c = 43:
# 1.65 at n = 128, 3.2 at 1024), times 0.9 for lanes at distinct temperatures
# (10-20 % slower). Threads share whole replicas or blocks; padding replicas
# cost as much as real ones. Measured, one thread, blocks / replicas: L = 16:
# 0.7 (R = 8), 1.1-1.4 (R = 16, W = 16), 1.7-1.9 (R >= 32, W = 32); L = 32:
# 0.8-1.0 (R = 16), 1.1-1.2 (R >= 32); L = 64: 0.9-1.06 and L = 128:
# 0.9-1.2 (R >= 32), below 1 for fewer replicas.
_BLOCK_WIDTHS = (32, 16)
_FLAT_MAX_L = 254      # = kernels._FLAT_MAX_L (not imported here: no numba at import)


def _rate(n, a, c):
    return n / (a * n + c)


def _replica_rate(L):
    """Modelled flips/ns of one thread of kernels.checkerboard_replicas."""
    if L <= _FLAT_MAX_L:
        return _rate(L * L / 2, 0.28, 71.0)
    return _rate(L / 2, 0.15, 20.0)


def _block_choice(L, R, threads):
    """(W, faster): the best block width for R replicas, and whether the
    blocked kernel is estimated faster than the replica kernel."""
    L2 = L // 2

    def blocked(W):
        G = -(-R // W)
        return 0.9 * _rate(W * L2, 0.27, 43.0) * R / (W * -(-G // threads))
    W = max(_BLOCK_WIDTHS, key=blocked)
    return W, blocked(W) > _replica_rate(L) * R / -(-R // threads)


def to_blocks(nat: np.ndarray, width: int) -> np.ndarray:
    """Natural ``int8[R, L, L]`` -> blocked ``int8[G, 2, L, L/2, width]``.

    ``blocked[g, c, i, k, w] = split[g * width + w, c, i, k]``; the last block
    is padded with all-up dummy replicas (``G = ceil(R / width)``).
    """
    sp = to_split(nat)
    R = sp.shape[0]
    G = -(-R // width)
    pad = np.ones((G * width,) + sp.shape[1:], np.int8)
    pad[:R] = sp
    return np.ascontiguousarray(pad.reshape((G, width) + sp.shape[1:]).transpose(0, 2, 3, 4, 1))


def from_blocks(bp: np.ndarray, replicas: int) -> np.ndarray:
    """Blocked ``int8[G, 2, L, L/2, W]`` -> natural ``int8[replicas, L, L]`` (padding dropped)."""
    G, _, L, L2, W = bp.shape
    return to_natural(bp.transpose(0, 4, 1, 2, 3).reshape(G * W, 2, L, L2)[:replicas])


# ------------------------------------------------------------- packed layout
# Populations of checkerboard replicas run fastest multi-spin coded
# (kernels_packed.checkerboard_packed: 64 replicas per uint64 word, each with
# its own random decisions and its own temperature schedule; words whose
# replicas share a temperature take a faster path). Its random numbers are not
# the other layouts': a run is statistically equivalent to, not bit-identical
# with, the same run in another layout. "auto" picks it from the update, L and
# R alone (never the thread count or the schedules, so results depend on
# neither).
_PACKED_MIN_REPLICAS = 64


def _layout_choice(L, R, dynamics, update, parallel):
    """(packed, block width) of a lattice: the packed layout
    (kernels_packed.checkerboard_packed) is chosen from L, R, update only; the
    blocked one (W > 0) from the speeds of :func:`_block_choice`."""
    packed = parallel == "packed" or (
        parallel == "auto" and _packed_applies(update, dynamics, L) and R >= _PACKED_MIN_REPLICAS)
    W = 0
    if update == "checkerboard" and not packed and parallel in ("auto", "blocks"):
        import numba
        W, faster = _block_choice(L, R, numba.get_num_threads())
        W = W if faster or parallel == "blocks" else 0
    return packed, W


def kernel_names(L, replicas=1, dynamics="metropolis", update=None, boundary="periodic",
                 parallel="auto", purpose="kinetics") -> tuple:
    """The jitted kernels a :class:`Lattice` of these settings runs (for
    :func:`isingneuron.kernels.uncached`: the command line announces their
    first compilation). Arguments as :class:`Lattice`'s, assumed valid; no
    warning (the lattice itself warns)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CheckerboardMetropolisWarning)
        update = resolve_update(update, dynamics, L, boundary, purpose)
    if dynamics == "wolff":
        return kernels.range_kernels("wolff_replicas", L)
    packed, W = _layout_choice(L, replicas, dynamics, update, parallel)
    return kernels.range_kernels(_entry_point(L, replicas, update, parallel, packed, W), L)


def _entry_point(L, R, update, parallel, packed, W):
    """The kernel (``kernels.<name>`` or ``kernels_packed.<name>``) that a lattice
    with this layout calls for single-spin dynamics. Chosen at each run: the
    row-parallel kernel is for lattices with fewer replicas than threads."""
    if packed:
        return "kernels_packed.checkerboard_packed"
    if W:
        return "checkerboard_blocks"
    if update != "checkerboard":
        return ("random_sequential_replicas" if L < resources._RS_ARITH_MIN_L  # (no numba here)
                else "random_sequential_replicas_large")
    import numba
    if parallel == "rows" or (parallel == "auto" and L >= _ROWS_MIN_L
                              and R < numba.get_num_threads()):
        return "checkerboard_rows"
    return "checkerboard_replicas"


def _packed_applies(update, dynamics, L):
    """Whether the packed kernel can run this lattice (any temperature schedules)."""
    return update == "checkerboard" and dynamics in ("metropolis", "glauber") and L % 2 == 0


def _short(value, limit=60) -> str:
    """repr of a parameter for a message, cut to ``limit`` characters."""
    try:
        text = repr(value)
    except Exception:                                   # pragma: no cover - a broken repr
        text = f"<{type(value).__name__}>"
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _check_int(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} = {_short(value)}: must be an integer >= {minimum}")
    return int(value)


def _check_choice(name, value, allowed):
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{name} = {_short(value)}: allowed are {', '.join(allowed)}")
    return value


def _check_real(name, value, unit=""):
    """A finite real number (not a bool, a complex number, a string or an array)."""
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
        value = value.item()                            # a 0-d array holds one number
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} = {_short(value)}: must be a real number{unit}")
    v = float(value)
    if not np.isfinite(v):
        raise ValueError(f"{name} = {v!r}: must be a finite number{unit}")
    return v


_TEMPERATURES_ALLOWED = ("a temperature > 0 (J), an array over sweeps (n_sweeps,) or per "
                         "replica (replicas, n_sweeps), or a schedule such as Quench")


def check_temperatures(temperatures, replicas, name="temperatures"):
    """Check the kind of a temperature argument without evaluating it.

    Refuses what would silently run at a wrong temperature or fail with a bare
    TypeError (a bool, a complex number, a string, None, a mapping, a boolean
    or complex array), and a Population whose size is not ``replicas``.
    """
    if hasattr(temperatures, "temperatures"):
        n = getattr(temperatures, "n_replicas", None)
        if n is not None and n != replicas:
            raise ValueError(f"{name}: the Population has {n} schedules for replicas = "
                             f"{replicas}: give one schedule per replica")
        return
    bad = (isinstance(temperatures, (bool, np.bool_, str, bytes, dict, set))
           or temperatures is None)
    if not bad:
        try:
            kind = np.asarray(temperatures).dtype.kind
        except Exception:                               # ragged lists and the like
            kind = "O"
        bad = kind not in "iuf"
    if bad:
        raise ValueError(f"{name} = {_short(temperatures)}: must be {_TEMPERATURES_ALLOWED}")


def _state_replicas(L, R, split, parallel):
    """Replicas the spin layout holds: R, or R padded to whole blocks (blocked layout)."""
    if split and isinstance(parallel, str) and parallel in ("auto", "blocks"):
        import numba
        W, faster = _block_choice(L, R, numba.get_num_threads())
        if faster or parallel == "blocks":
            return -(-R // W) * W
    return R


def _plural(n, word):
    return f"{n} {word}{'s' * (n != 1)}"


def check_memory(where, L, replicas, n_sweeps=0, record_every=1, *, dynamics="metropolis",
                 update="random_sequential", initial="random", parallel="auto", protocol=None,
                 held=False, extra=None, sweeps_name="n_sweeps", **kw):
    """Refuse a plan whose L is beyond :data:`resources.MAX_L` or that cannot fit in memory.

    Raises one :class:`isingneuron.resources.ResourceError` (a ValueError)
    whose message starts with ``where`` (e.g. "simulate"), names L, the
    replicas and the sweeps, and says how much memory the plan needs and how
    much there is. ``held``: the lattice exists already (its state is not
    counted again); ``extra``: more parts (name -> bytes). Other keywords go
    to :func:`isingneuron.resources.estimate`.
    """
    split = update == "checkerboard"
    G = _state_replicas(L, replicas, split, parallel) if L <= resources.MAX_L else replicas
    est = resources.estimate(L, replicas, n_sweeps, record_every, dynamics=dynamics,
                             update=update if dynamics != "wolff" else None,
                             initial=initial, state_replicas=G,
                             population=getattr(protocol, "n_replicas", None) is not None,
                             held=held, **kw)
    for k, v in (extra or {}).items():
        est.parts[k] = v
        est.total += v
    resources.check_L(f"{where}: L", L, est)
    what = f"{where}: L = {L} with {_plural(replicas, 'replica')}"
    if n_sweeps:
        what += f" and {sweeps_name} = {n_sweeps}"
    resources.check(what, est)
    return est


class Lattice:
    """The spins of R replicas of an L x L membrane and the dynamics that moves them.

    Parameters
    ----------
    L : int
        Linear size (>= 2).
    replicas : int
        Number of independent replicas R (trials, or neurones of a population).
    dynamics : {"metropolis", "glauber", "wolff"}
        Single-spin Metropolis, single-spin Glauber (heat bath) or Wolff
        clusters (equilibrium only: periodic boundary, h = 0, no physical time).
    update : {None, "random_sequential", "checkerboard"}
        Update order of the single-spin rules (see the module docstring).
        None (the default) is random-sequential: N attempts per sweep at
        uniformly random sites, the physical kinetics, for every L >= 2.
        "checkerboard" (even L) runs the vectorised sublattice kernels, about
        5x faster; with Metropolis it is for equilibrium sampling only and
        warns otherwise (:class:`CheckerboardMetropolisWarning`).
    boundary : {"periodic", "plus"}
        Periodic, or a fixed +1 border around the lattice (the membrane fires
        to m = +1).
    field : float
        Uniform field h in units of J.
    seed : int
        Key of every random number of the run (0 <= seed < 2**64).
    initial : str or array_like
        See :func:`initial_spins`.
    parallel : {"auto", "replicas", "rows", "blocks", "packed"}
        How the threads share the work; results do not depend on it, except
        for the choice of "packed". "blocks" keeps even-L lattices in blocks
        of 16 or 32 replicas, replicas innermost, and vectorises across them
        (fastest for many small lattices); "auto" uses it where it is
        estimated faster (see ``_block_choice``; e.g. L = 16 with R >= 16 on
        one thread, R >= 32 on two; L = 32 with R = 32 or R >= 64; never for
        L >= 64), otherwise rows for few large lattices (L >= 512, R below
        the thread count), replicas otherwise. Blocks are chosen here, for
        the thread count of the moment; the rest at each run. Rows and blocks
        apply to the checkerboard; other updates run replicas in parallel.
        "packed" (checkerboard Metropolis or Glauber) multi-spin codes the
        replicas, 64 per 64-bit word (:mod:`isingneuron.kernels_packed`),
        each with its own random decisions and its own temperature schedule
        (words whose replicas share the sweep's temperature take a faster
        path; 1024 replicas of L = 32 whose temperatures all change every
        sweep take about 10-25 % longer than with a shared schedule). It
        draws other random numbers than the other layouts: its runs are
        statistically equivalent to theirs, not identical (and identical
        whatever the thread count, and whatever the other replicas'
        schedules). "auto" picks it for R >= 64 checkerboard replicas, for
        good (``attrs()["layout"]`` says "packed").
    wolff_clusters : int
        For ``dynamics="wolff"``: cluster flips per "sweep" (a fixed number;
        :func:`isingneuron.equilibrium` sizes it from the thermalisation
        stage so that a sweep flips about N spins). After each run,
        ``mean_cluster_size`` holds the mean size of the clusters flipped.
    """

    def __init__(self, L, replicas=1, dynamics="metropolis", boundary="periodic",
                 field=0.0, seed=0, initial="random", parallel="auto", wolff_clusters=1,
                 update=None, *, purpose="kinetics"):
        self.L = _check_int("L", L, 2)
        self.replicas = _check_int("replicas", replicas, 1)
        _check_choice("dynamics", dynamics, DYNAMICS)
        _check_choice("boundary", boundary, BOUNDARIES)
        _check_choice("parallel", parallel, ("auto", "replicas", "rows", "blocks", "packed"))
        field = _check_real("field", field, " (units of J)")
        if dynamics == "wolff" and (boundary != "periodic" or field != 0.0):
            raise ValueError("dynamics = 'wolff' needs boundary = 'periodic' and field = 0")
        _check_choice("purpose", purpose, ("kinetics", "equilibrium"))
        self.update = resolve_update(update, dynamics, self.L, boundary, purpose)
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**64:
            raise ValueError(f"seed = {_short(seed)}: must be an integer in [0, 2**64)")
        self.dynamics = dynamics
        self.boundary = boundary
        self.field = field
        self.seed = int(seed)
        self.parallel = parallel
        self.wolff_clusters = _check_int("wolff_clusters", wolff_clusters, 1)
        self.mean_cluster_size = float("nan")
        self.sweep = 0
        check_memory("Lattice", self.L, self.replicas, dynamics=dynamics,
                     update=self.update or "", initial=initial, parallel=parallel)
        self._split = self.update == "checkerboard"
        self._block_width = 0     # > 0: blocked layout (kernels.checkerboard_blocks)
        if parallel == "packed" and not _packed_applies(self.update, dynamics, self.L):
            raise ValueError(f"parallel = 'packed' needs update = 'checkerboard' and dynamics "
                             f"'metropolis' or 'glauber' (got update = {self.update!r}, "
                             f"dynamics = {dynamics!r})")
        self._packed, self._block_width = _layout_choice(self.L, self.replicas, dynamics,
                                                         self.update, parallel)
        nat = initial_spins(self.L, self.replicas, initial, self.seed)
        if self._packed:
            self._state = kernels_packed.to_packed(nat)
        elif self._block_width:
            self._state = to_blocks(nat, self._block_width)
        else:
            self._state = to_split(nat) if self._split else nat

    # ------------------------------------------------------------------ state
    @property
    def n_spins(self) -> int:
        return self.L * self.L

    @property
    def spins(self) -> np.ndarray:
        """Current spins ``int8[R, L, L]`` (a copy)."""
        if self._packed:
            return kernels_packed.from_packed(self._state, self.replicas)
        if self._block_width:
            return from_blocks(self._state, self.replicas)
        return to_natural(self._state) if self._split else self._state.copy()

    def observables(self):
        """Current magnetisation and energy per spin (J), each shape (R,)."""
        M, B = kernels.natural_MB(self.spins, self.boundary == "plus")
        return M / self.n_spins, (-B - self.field * M) / self.n_spins

    def attrs(self) -> dict:
        """Plain metadata describing this lattice (for Traces and files)."""
        a = {"L": self.L, "replicas": self.replicas, "dynamics": self.dynamics,
             "boundary": self.boundary, "field": self.field, "seed": self.seed}
        if self.update is not None:
            a["update"] = self.update
        if self._packed:
            a["layout"] = "packed"
        return a

    # -------------------------------------------------------------------- run
    def _temperatures(self, temperatures, n_sweeps):
        check_temperatures(temperatures, self.replicas)
        if hasattr(temperatures, "temperatures"):
            temps = np.asarray(temperatures.temperatures(n_sweeps, start=self.sweep),
                               dtype=np.float64)
        else:
            temps = np.asarray(temperatures, dtype=np.float64)
        if temps.ndim == 0:
            temps = np.full((self.replicas, n_sweeps), float(temps))
        elif temps.ndim == 1:
            if temps.shape[0] != n_sweeps:
                raise ValueError(f"temperatures has {temps.shape[0]} values for "
                                 f"{n_sweeps} sweeps")
            temps = np.broadcast_to(temps, (self.replicas, n_sweeps))
        elif temps.shape != (self.replicas, n_sweeps):
            raise ValueError(f"temperatures has shape {temps.shape}: expected a number, "
                             f"(n_sweeps,) = ({n_sweeps},) or (replicas, n_sweeps) = "
                             f"({self.replicas}, {n_sweeps})")
        if not np.all(np.isfinite(temps)) or np.any(temps <= 0):
            bad = float(temps[~(np.isfinite(temps) & (temps > 0))].flat[0])
            raise ValueError(f"temperature {bad!r}: every temperature must be finite and > 0 (J)")
        return np.ascontiguousarray(temps)

    def run(self, n_sweeps, temperatures, record_every=1) -> Traces:
        """Advance every replica by ``n_sweeps`` sweeps.

        Parameters
        ----------
        n_sweeps : int
            Sweeps to run (a multiple of ``record_every``).
        temperatures : float, array_like or schedule
            Bath temperature in J units: one number; ``(n_sweeps,)`` shared;
            ``(R, n_sweeps)`` per replica; or an object whose
            ``temperatures(n, start=...)`` gives them for sweeps
            ``self.sweep .. self.sweep + n - 1``.
        record_every : int
            Record m and e after every ``record_every``-th sweep.

        Returns
        -------
        Traces
            ``n_sweeps // record_every`` records, and the final spins.
        """
        n_sweeps = _check_int("n_sweeps", n_sweeps, 0)
        record_every = _check_int("record_every", record_every, 1)
        if n_sweeps % record_every:
            raise ValueError(f"n_sweeps = {n_sweeps} is not a multiple of "
                             f"record_every = {record_every}")
        check_temperatures(temperatures, self.replicas)
        check_memory("Lattice.run", self.L, self.replicas, n_sweeps, record_every,
                     dynamics=self.dynamics, update=self.update or "", held=True,
                     protocol=temperatures)
        temps = self._temperatures(temperatures, n_sweeps)
        n_rec = n_sweeps // record_every
        M_out = np.empty((self.replicas, n_rec), record_dtype(self.L))
        B_out = np.empty((self.replicas, n_rec), record_dtype(self.L))
        plus = self.boundary == "plus"
        seed = np.uint64(self.seed)
        if self.dynamics == "wolff":
            flipped = np.zeros(self.replicas, np.int64)
            kernels.wolff_replicas(self._state, temps, seed, self.sweep, record_every,
                                   self.wolff_clusters, M_out, B_out, flipped)
            self.mean_cluster_size = flipped.sum() / (self.replicas * n_sweeps * self.wolff_clusters
                                                      ) if n_sweeps else float("nan")
        else:
            code = _DYN_CODE[self.dynamics]
            mod, _, name = _entry_point(self.L, self.replicas, self.update, self.parallel,
                                        self._packed, self._block_width).rpartition(".")
            kern = getattr(kernels_packed if mod else kernels, name)
            kern(self._state, temps, self.field, code, plus, seed, self.sweep,
                 record_every, M_out, B_out)
        t = self.sweep + record_every * np.arange(1, n_rec + 1, dtype=np.int64)
        self.sweep += n_sweeps
        T = temps[:, record_every - 1::record_every]
        T = T[0].copy() if np.all(T == T[:1]) else T.copy()     # shared: stored once
        return Traces(t=t, T=T, M=M_out, B=B_out, n_spins=self.n_spins, field=self.field,
                      spins=self.spins, attrs=self.attrs())


def simulate(L, temperatures, n_sweeps, dynamics="metropolis", replicas=1, seed=0,
             boundary="periodic", field=0.0, record_every=1, initial="random",
             parallel="auto", wolff_clusters=1, update=None) -> Traces:
    """Run R replicas of the L x L Ising membrane under a temperature protocol.

    Parameters
    ----------
    L : int
        Linear lattice size (>= 2); N = L**2 spins (ion channels).
    temperatures : float, array_like or schedule
        Bath temperature in J units (T = -V): a number, an array over sweeps
        ``(n_sweeps,)``, per replica ``(R, n_sweeps)``, or a protocol object
        from :mod:`isingneuron.schedules` (e.g. a ``Quench``).
    n_sweeps : int
        Number of sweeps, >= 1 (one sweep = one attempted update per spin =
        one unit of time).
    dynamics : {"metropolis", "glauber", "wolff"}
        Update rule; "wolff" is for equilibrium only (no physical time).
    update : {None, "random_sequential", "checkerboard"}
        Update order; None is random-sequential (physical kinetics). See
        :class:`Lattice`.
    replicas : int
        Independent replicas R, each with its own random numbers.
    seed : int
        Seed; same seed gives bit-identical output for any thread count.
    boundary : {"periodic", "plus"}
        "plus" is a fixed +1 border: the ordered state is m = +1.
    field : float
        Field h (J).
    record_every : int
        Sweeps between records; ``n_sweeps`` must be a multiple of it.
    initial : {"random", "up", "down"} or array
        Initial spins (see :func:`initial_spins`).
    parallel : {"auto", "replicas", "rows", "blocks", "packed"}
        Work sharing among threads (does not change results); rows and
        blocks apply to the checkerboard only. "packed" (also picked by
        "auto" for R >= 64 checkerboard replicas, shared or per-replica
        schedules alike) multi-spin codes 64 replicas per word with other
        random numbers: statistically equivalent results, not identical ones
        (see :class:`Lattice`).
    wolff_clusters : int
        Cluster flips per sweep for ``dynamics="wolff"``.

    Returns
    -------
    Traces
        ``t`` (sweeps completed, shape ``(n,)``, ``n = n_sweeps //
        record_every``), ``T``, ``m`` and ``energy`` per spin (each ``(R,
        n)``), and the final ``spins``. The loop
        order is described in the module docstring: records are taken after a
        sweep, at the temperature of that sweep.

    Raises
    ------
    ValueError
        A bad parameter (the message names it and what is allowed), or a
        run that cannot fit in the memory this machine has available
        (:class:`isingneuron.resources.ResourceError`: how much it needs,
        how much there is), refused before anything is allocated.

    Examples
    --------
    >>> from isingneuron import simulate
    >>> tr = simulate(32, 1.8, 200, replicas=4, seed=1, initial="up")
    >>> tr.m.shape
    (4, 200)
    """
    L = _check_int("L", L, 2)
    replicas = _check_int("replicas", replicas, 1)
    n_sweeps = _check_int("n_sweeps", n_sweeps, 1)
    record_every = _check_int("record_every", record_every, 1)
    _check_choice("dynamics", dynamics, DYNAMICS)
    check_temperatures(temperatures, replicas)
    order = update if isinstance(update, str) and update in UPDATES else "random_sequential"
    check_memory("simulate", L, replicas, n_sweeps, record_every, dynamics=dynamics,
                 update=order, initial=initial, parallel=parallel, protocol=temperatures)
    lat = Lattice(L, replicas, dynamics, boundary, field, seed, initial, parallel,
                  wolff_clusters, update)
    return lat.run(n_sweeps, temperatures, record_every)
