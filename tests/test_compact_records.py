"""Compact records: the engine records the exact integers M = sum_i s_i and
B = sum_<ij> s_i s_j (int32), and a temperature row shared by every replica
once; m and energy are derived from them. Checked against an independent
NumPy computation from the spins, for memory and disk size (<= 8 bytes per
replica-record, the performance issue's goal), and for the recorder's layouts
(round trip, a shared row widened when replicas differ, schema 1 files)."""
import h5py
import numpy as np
import pytest

from isingneuron import Traces, simulate
from isingneuron.engine import Lattice
from isingneuron.recorder import (SCHEMA_VERSION, Recorder, RecorderError, file_status,
                                  read_point)
from isingneuron.schedules import Population, Quench
from isingneuron.traces import record_dtype


def numpy_MB(spins, plus):
    """M and the bond sum B of natural-layout spins (R, L, L), border bonds included."""
    s = spins.astype(np.int64)
    if plus:
        s = np.pad(s, ((0, 0), (1, 1), (1, 1)), constant_values=1)
        B = (s[:, 1:, 1:-1] * s[:, :-1, 1:-1]).sum((1, 2)) \
            + (s[:, 1:-1, 1:] * s[:, 1:-1, :-1]).sum((1, 2))
        return s[:, 1:-1, 1:-1].sum((1, 2)), B
    B = (s * np.roll(s, 1, 1)).sum((1, 2)) + (s * np.roll(s, 1, 2)).sum((1, 2))
    return s.sum((1, 2)), B


@pytest.mark.parametrize("update, boundary", [("random_sequential", "plus"),
                                              ("checkerboard", "periodic"),
                                              (None, "periodic")])
def test_records_are_the_exact_integers_of_the_spins(update, boundary):
    dyn = "glauber" if update == "checkerboard" else "metropolis"
    if update is None:
        dyn, update = "wolff", None
    lat = Lattice(8, 5, dyn, boundary, field=0.25 if dyn != "wolff" else 0.0, seed=3,
                  update=update)
    tr = lat.run(7, 2.1, 7)
    M, B = numpy_MB(tr.spins, boundary == "plus")
    assert tr.compact and tr.M.dtype == np.int32 and tr.B.dtype == np.int32
    np.testing.assert_array_equal(tr.M[:, -1], M)
    np.testing.assert_array_equal(tr.B[:, -1], B)
    N, h = 64, tr.field
    np.testing.assert_array_equal(tr.m[:, -1], M / N)
    np.testing.assert_array_equal(tr.energy[:, -1], (-B - h * M) / N)
    m_obs, e_obs = lat.observables()        # the engine's own observables agree bit for bit
    np.testing.assert_array_equal(tr.m[:, -1], m_obs)
    np.testing.assert_array_equal(tr.energy[:, -1], e_obs)


def test_record_dtype_widens_only_where_int32_overflows():
    assert record_dtype(32) == np.int32 and record_dtype(32767) == np.int32
    assert record_dtype(32768) == np.int64     # 2 N + 4 L >= 2**31


def test_shared_temperature_row_is_stored_once_and_memory_is_8_bytes_per_record():
    q = Quench(3.0, 2.0, 10, 0.01)
    tr = simulate(8, q, 200, replicas=64, seed=1, boundary="plus")
    assert tr.T_shared is not None and tr.T.shape == (64, 200)
    np.testing.assert_array_equal(tr.T[5], q.temperatures(200))
    per = tr.record_nbytes / (64 * 200)
    assert per <= 8 + 16 / 64 + 1e-12          # M, B int32; t and T once per record
    assert tr.m.dtype == np.float64 and tr.m.shape == (64, 200)


def test_per_replica_temperatures_stay_per_replica():
    pop = Population([Quench(3.0, d, 10, 0.01) for d in (1.0, 2.0, 2.5)])
    tr = simulate(8, pop, 50, replicas=3, seed=1)
    assert tr.T_shared is None and tr.T.shape == (3, 50)
    np.testing.assert_array_equal(tr.T, pop.temperatures(50))


def test_round_trip_is_bit_exact_and_disk_is_compact(tmp_path):
    q = Quench(3.0, 2.0, 50, 0.005)
    tr = simulate(16, q, 600, replicas=256, seed=2, boundary="plus")
    path = tmp_path / "c.h5"
    with Recorder(path, "w", git_commit=False) as rec:
        rec.write_point("p", tr)
    back = read_point(path, "p")
    assert back.compact and back.T_shared is not None
    for k in ("t", "M", "B", "T", "m", "energy", "spins"):
        a, b = getattr(tr, k), getattr(back, k)
        assert a.dtype == b.dtype and np.array_equal(a, b), k
    assert (back.n_spins, back.field) == (256, 0.0)
    with h5py.File(path) as f:
        g = f["points/p"]
        assert g["M"].dtype == np.int32 and g["T"].shape == (600,) and "m" not in g
    disk = path.stat().st_size / (256 * 600)
    assert disk <= 8.0, f"{disk:.2f} bytes per replica-record on disk"


def test_chunks_shared_then_per_replica_widen_T(tmp_path):
    tr = simulate(6, 2.0, 20, replicas=3, seed=1)
    pop = Population([Quench(2.0, d, 0, 0.01) for d in (0.5, 1.0, 1.5)])
    tr2 = simulate(6, pop, 20, replicas=3, seed=1)
    tr2.t = tr2.t + 20
    with Recorder(tmp_path / "w.h5", "w", git_commit=False) as rec:
        w = rec.open_point("p", 3)
        w.append(tr)
        w.append(tr2)
        w.finalise()
    back = read_point(tmp_path / "w.h5", "p")
    assert back.T_shared is None
    np.testing.assert_array_equal(back.T, np.concatenate([tr.T, tr2.T], axis=1))
    np.testing.assert_array_equal(back.M, np.concatenate([tr.M, tr2.M], axis=1))


def test_float_chunk_into_compact_point_is_refused(tmp_path):
    tr = simulate(6, 2.0, 10, replicas=2, seed=1)
    floats = Traces(t=tr.t + 10, T=tr.T, m=tr.m, energy=tr.energy)
    with Recorder(tmp_path / "r.h5", "w", git_commit=False) as rec:
        w = rec.open_point("p", 2)
        w.append(tr)
        with pytest.raises(RecorderError, match="exact records"):
            w.append(floats)


def test_schema_1_file_is_read_and_extended(tmp_path):
    path = tmp_path / "old.h5"
    old = Traces(t=np.arange(1, 4), T=np.full((2, 3), 2.0), m=np.array([[0.5, 0.25, 1], [0, 0, 0]]),
                 energy=np.full((2, 3), -1.5), attrs={"L": 4})
    with Recorder(path, "w", git_commit=False) as rec:
        rec.write_point("old", old)
    with h5py.File(path, "a") as f:          # what version 1 wrote: floats, version 1
        f.attrs["schema_version"] = 1
        assert "m" in f["points/old"] and f["points/old/T"].shape == (2, 3)
    new = simulate(4, 2.0, 3, replicas=2, seed=1)
    with Recorder(path, "a", git_commit=False) as rec:
        rec.write_point("new", new)
    assert file_status(path)["schema_version"] == SCHEMA_VERSION == 2
    a, b = read_point(path, "old"), read_point(path, "new")
    assert not a.compact and np.array_equal(a.m, old.m) and np.array_equal(a.T, old.T)
    assert b.compact and np.array_equal(b.m, new.m)


def test_concatenate_and_stack_keep_the_compact_form():
    q = Quench(3.0, 2.0, 5, 0.01)
    lat = Lattice(6, 4, seed=1)
    a, b = lat.run(10, q), lat.run(10, q)
    joined = Traces.concatenate([a, b])
    assert joined.compact and joined.T_shared is not None
    np.testing.assert_array_equal(joined.m, np.concatenate([a.m, b.m], axis=1))
    pooled = Traces.stack([a, a])
    assert pooled.compact and pooled.n_replicas == 8 and pooled.T_shared is not None
