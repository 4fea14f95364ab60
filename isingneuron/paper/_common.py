"""What every experiment of :mod:`isingneuron.paper` shares: the protocol, the
sizes, seeds, progress bars and number formatting.

The membrane protocol (``BATH``, ``RATE``, ``AT``, ``THETA``) and the paper's
numbers (``PAPER``) are defined in :mod:`isingneuron.transfer`, the analysis layer
that also uses them as defaults, and imported here.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import numpy as np

from ..schedules import Quench
from ..simulation import Simulation
from ..transfer import AT, BATH, PAPER, RATE, THETA
from ..transfer import _sem  # noqa: F401  (the experiments take it from here)
from .._json import jsonable as _jsonable

__all__ = ["PAPER", "BATH", "RATE", "AT", "THETA", "UPDATE", "SIZES", "KINETICS_MEASURED",
           "EXPERIMENTS", "STUDIES"]


#: Update order of every experiment with kinetics: random-sequential, the physical
#: kinetics of Glauber's master equation (checkerboard Metropolis is an artefact).
UPDATE = "random_sequential"

#: The kinetics of the four single-spin rules, measured with the engine's kernels by the
#: checks of ``tests/test_kinetics_literature.py`` (which asserts the literature's laws
#: for the physical rules and their failure for checkerboard Metropolis); quoted in the
#: report's pitfall section. Per rule (dynamics, update order):
#: ``ordering`` median sweeps to reach m >= 0.9 after a quench from rest to T = 1.0 J
#: with a + border (64 replicas) for L = ``L``, and the exponent of that time against
#: L (value, error; the literature: 2); ``coarsening`` the exponent of the excess
#: energy after a quench from a random start to T = 1 J (L = 512, t in [160, 1000];
#: checkerboard Metropolis t in [20, 150]; the literature: -1/2); ``stripes`` the
#: fraction of zero-temperature quenches (L = 32, 2000 replicas) frozen in straight
#: stripes (the literature: 0.339).
KINETICS_MEASURED = {
    "L": (16, 32, 64, 128),
    "rows": (
        {"dynamics": "metropolis", "update": "random_sequential",
         "ordering": (23.5, 74.5, 320.5, 1331.5), "exponent": (1.96, 0.06),
         "coarsening": (-0.481, 0.016), "stripes": 0.327},
        {"dynamics": "glauber", "update": "random_sequential",
         "ordering": (39.5, 125.0, 592.5, 2067.5), "exponent": (1.94, 0.07),
         "coarsening": (-0.482, 0.011), "stripes": 0.330},
        {"dynamics": "glauber", "update": "checkerboard",
         "ordering": (21.0, 69.0, 226.5, 1107.5), "exponent": (1.89, 0.05),
         "coarsening": (-0.481, 0.018), "stripes": 0.340},
        {"dynamics": "metropolis", "update": "checkerboard",
         "ordering": (7.0, 13.0, 27.0, 58.5), "exponent": (1.02, 0.03),
         "coarsening": (-0.89, 0.06), "stripes": 0.009},
    ),
}

#: Sizes of every experiment: "full" (run_all's default: 40-50 s on 2 cores, ~75 s of
#: CPU, all with random-sequential updates, measured 0.5-0.7 flips/ns per core) and
#: "quick" (10-16 s; the tests use smaller ones still). ``pitfall_L``: the
#: size at which :func:`activation` also runs checkerboard Metropolis. The four studies
#: (``relu_regime`` ... ``criticality``) run only when asked for; "full" is their modest
#: in-process default, the full grids are configs (``configs/studies/``).
SIZES = {
    "full": {
        "magnetisation": dict(L=(8, 16, 32, 64), n_sweeps=2000, n_thermalise=300, replicas=4),
        "activation": dict(L=(16, 32, 64), depths=tuple(np.round(np.linspace(0.0, 2.5, 21), 4)),
                           replicas=32, pitfall_L=64),
        "periodic": dict(L=(16, 32, 64), depths=(2.0, 2.5), replicas=128),
        "population": dict(L=32, mu=tuple(np.round(np.linspace(0.2, 1.8, 9), 4)),
                           sigma=0.25, n=128),
        "membrane": dict(L=32, depths=(0.5, 1.25, 1.75, 2.5), replicas=8, snapshot_depth=2.5,
                         snapshot_every=2),
        # the four studies (run only with run_all(studies=True) / --studies); their full
        # grids are the configs of configs/studies/, read back with source=FILE
        "relu_regime": dict(L=(16, 32, 64, 128), rates=(0.02, 0.005, 0.002), fields=(0.0, 0.1),
                            depths=tuple(np.round(np.linspace(0.0, 2.5, 11), 4)), replicas=8,
                            ordering_L=(16, 32, 64, 128), ordering_T=(1.0, 1.5),
                            ordering_replicas=16),
        "spike_trains": dict(L=32, depths=(1.5, 2.0, 2.5),
                             periods=(100, 150, 200, 250, 300, 400, 500, 700, 1000), n_inputs=5,
                             spacings=tuple(range(50, 751, 50)), replicas=16),
        "sparse_codes": dict(L=(16, 32, 64), mu=tuple(np.round(np.linspace(0.4, 2.4, 9), 4)),
                             sigma=0.5, n=64),
        "criticality": dict(L=(16, 32), baths=(3.0, 2.7, 2.5, 2.4, 2.35, 2.3),
                            depths=(0.0, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0),
                            replicas=16),
    },
    "quick": {
        "magnetisation": dict(L=(8, 16), n_sweeps=400, n_thermalise=100, replicas=2,
                              T=(1.0, 1.5, 2.0, 2.2, 2.4, 2.75, 3.5)),
        "activation": dict(L=(16,), depths=tuple(np.round(np.linspace(0.0, 2.5, 11), 4)),
                           replicas=8, pitfall_L=16),
        "periodic": dict(L=(16,), depths=(2.5,), replicas=32),
        "population": dict(L=16, mu=(0.2, 0.6, 0.9, 1.2, 1.5, 1.8), sigma=0.25, n=16),
        "membrane": dict(L=32, depths=(0.5, 1.75, 2.5), replicas=4, snapshot_depth=2.5,
                         snapshot_every=2),
        "relu_regime": dict(L=(16, 32), rates=(0.02, 0.005), fields=(0.0, 0.1),
                            depths=(0.0, 0.5, 1.0, 1.5, 2.0, 2.5), replicas=4,
                            ordering_L=(16, 32, 64), ordering_T=(1.0,), ordering_replicas=8),
        "spike_trains": dict(L=16, depths=(2.0, 2.5), periods=(150, 300, 600), n_inputs=4,
                             spacings=(100, 200, 300, 400, 500), replicas=8),
        "sparse_codes": dict(L=(16,), mu=(0.4, 0.9, 1.4, 1.9, 2.4), sigma=0.5, n=32),
        "criticality": dict(L=(16,), baths=(3.0, 2.5, 2.3),
                            depths=(0.0, 0.1, 0.2, 0.3, 0.75, 1.25, 1.75), replicas=8),
    },
}

#: The experiments :func:`run_all` runs by default, in order, and the four studies it adds
#: with ``studies=True`` (``--studies``); ``only=`` (``--only``) picks from both.
EXPERIMENTS = ("magnetisation", "eq2", "activation", "periodic", "population", "membrane")
STUDIES = ("relu_regime", "spike_trains", "sparse_codes", "criticality")

_MC_TEMPERATURES = (1.0, 1.25, 1.5, 1.75, 2.0, 2.1, 2.2, 2.269, 2.35, 2.5, 2.75, 3.0, 3.5,
                    4.0, 4.5)


# ======================================================================= helpers
def _seed(base: int, *parts) -> int:
    """A 63-bit seed for one run, from the experiment's base seed and its labels."""
    text = ":".join(["isingneuron.paper", str(int(base))] + [repr(p) for p in parts])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little") >> 1


def _bar(iterable, progress: bool, desc: str, total=None):
    """``iterable`` behind a tqdm progress bar when ``progress``, else unchanged."""
    if not progress:
        return iterable
    from tqdm.auto import tqdm
    return tqdm(iterable, desc=desc, total=total, leave=False, dynamic_ncols=True)


def _outdir(outdir):
    """``outdir`` as a created Path, or None for None."""
    if outdir is None:
        return None
    p = Path(outdir)
    p.mkdir(parents=True, exist_ok=True)
    return p


def _pm(value, error, digits=3) -> str:
    """``value +- error`` with a sensible number of digits."""
    if error is None or not np.isfinite(error) or error <= 0:
        return f"{value:.{digits}g}"
    d = max(0, 1 - int(math.floor(math.log10(error))))
    return f"{value:.{d}f} +- {error:.{d}f}"


def _run_quench(L, dynamics, depth, *, bath, rate, at, replicas, n_sweeps, seed,
                boundary="plus", field=0.0, update=UPDATE):
    """Traces of ``replicas`` membranes under one :class:`Quench` (+ border by default)."""
    sim = Simulation(L, Quench(bath, depth, at, rate), dynamics=dynamics, update=update,
                     replicas=replicas, boundary=boundary, field=field, seed=seed)
    return sim.run(n_sweeps)
