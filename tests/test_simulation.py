"""The Simulation run API: chunked runs, writers, snapshots, and a quench.

The quench test compares the lattice with Onsager's spontaneous magnetisation
m0(T). Margins: the replica mean at one record time is a mean of R independent
replicas, so its error is the replica standard deviation / sqrt(R); we allow
4 of those. A plus border can only raise m above the bulk value, so the
cold-phase check is one-sided (m >= m0(T) - 4 sigma) once the lattice has had
time to order. After reheating to the bath (T = 3 > Tc, m0 = 0) the border
still magnetises a boundary layer of width ~2 xi (xi(3) = 2.1 from Onsager's
correlation length 1 / (2 |K - K*|)) along the 4 edges: at most
4 * 2 * 2.1 * L / L**2 = 0.53 of the spins for L = 32, the bound used below.
"""
import math

import numpy as np
import pytest

from isingneuron import Simulation, exact, simulate
from isingneuron.schedules import Quench


class ListWriter:
    def __init__(self):
        self.chunks = []
        self.final = None

    def append(self, traces):
        self.chunks.append(traces)

    def finalise(self, spins=None):
        self.final = spins


def test_chunked_simulation_equals_one_engine_call(monkeypatch):
    import isingneuron.simulation as simmod
    monkeypatch.setattr(simmod, "_CHUNK_FLIPS", 8 * 8 * 3 * 4)   # 4 sweeps a chunk
    q = Quench(bath=3.0, depth=2.0, at=5, rate=0.1)
    sim = Simulation(8, q, replicas=3, boundary="plus", seed=4, record_every=2)
    w = sim.attach(ListWriter())
    tr = sim.run(40)
    sim.finalise()
    one = simulate(8, q.temperatures(40), 40, replicas=3, boundary="plus", seed=4, record_every=2)
    assert len(w.chunks) == 10
    np.testing.assert_array_equal(tr.m, one.m)
    np.testing.assert_array_equal(tr.energy, one.energy)
    np.testing.assert_array_equal(tr.T, one.T)
    np.testing.assert_array_equal(tr.t, np.arange(2, 41, 2))
    np.testing.assert_array_equal(w.final, one.spins)
    # a second run call continues the same trajectory
    tr2 = sim.run(10)
    np.testing.assert_array_equal(tr2.t, np.arange(42, 51, 2))


def test_snapshots_every_k_sweeps():
    sim = Simulation(6, 2.0, replicas=2, seed=1, snapshot_every=5)
    tr = sim.run(20)
    np.testing.assert_array_equal(tr.snapshot_t, [5, 10, 15, 20])
    assert tr.snapshots.shape == (4, 2, 6, 6) and tr.snapshots.dtype == np.int8
    np.testing.assert_array_equal(tr.snapshots[-1], tr.spins)


def test_run_refuses_bad_sweep_counts_and_writers():
    sim = Simulation(6, 2.0, record_every=4)
    with pytest.raises(ValueError, match="multiple of 4"):
        sim.run(10)
    with pytest.raises(TypeError, match="not a writer"):
        sim.attach(object())


@pytest.mark.physics
@pytest.mark.parametrize("dynamics", ["metropolis", "glauber"])
def test_quench_orders_the_membrane_then_it_relaxes(dynamics):
    L, R = 32, 16
    bath, depth, at, rate = 3.0, 2.0, 50, 0.002      # cold T = 1.0, back at bath at t = 1050
    q = Quench(bath=bath, depth=depth, at=at, rate=rate)
    tr = Simulation(L, q, dynamics=dynamics, replicas=R, boundary="plus", seed=2,
                    record_every=10).run(1600)
    T = tr.T[0]
    mean = tr.m.mean(0)
    err = tr.m.std(0, ddof=1) / math.sqrt(R)
    # cold phase while T < 2.0, after an ordering time of 300 sweeps: physical
    # (random-sequential) kinetics order an L = 32 membrane at T = 1 in a median
    # 76 (Metropolis) and 139 (Glauber) sweeps (32 replicas; the ordering time
    # grows like L**2, see test_kinetics_literature.py)
    cold = (tr.t >= at + 300) & (T < 2.0)
    assert cold.sum() >= 10
    m0 = exact.spontaneous_magnetisation(T[cold])
    assert np.all(mean[cold] >= m0 - 4 * err[cold]), (mean[cold], m0)
    assert mean[cold].max() > 0.95
    # rest before the quench and after reheating: no spike
    bound = 4 * 2 * 2.1 * L / L**2
    rest = (tr.t >= 1200)
    assert np.all(mean[rest] < bound)
    assert np.all(mean[tr.t < at] < bound)


def test_simulation_writes_hdf5_through_an_attached_point_writer(tmp_path, monkeypatch):
    import isingneuron.simulation as simmod
    from isingneuron.recorder import Recorder, read_point
    from isingneuron.schedules import Population
    monkeypatch.setattr(simmod, "_CHUNK_FLIPS", 10 * 10 * 4 * 5)   # 5 sweeps a chunk
    pop = Population.gaussian_quenches(4, bath=3.0, mean_depth=1.5, sd_depth=0.3, at=5,
                                       rate=0.05, seed=3)
    sim = Simulation(10, pop, replicas=4, boundary="plus", seed=8, snapshot_every=5)
    path = tmp_path / "run.h5"
    with Recorder(path, mode="w") as rec:
        sim.attach(rec.open_point("pop", sim.replicas, sim.attrs()))
        tr = sim.run(30)
        sim.finalise()
    back = read_point(path, "pop")
    for name in ("t", "T", "m", "energy", "snapshots", "snapshot_t", "spins"):
        np.testing.assert_array_equal(getattr(back, name), getattr(tr, name))
    assert back.attrs["L"] == 10 and back.attrs["seed"] == 8
