"""Tests of isingneuron.recorder: bit-exact round trips, incremental appends,
the complete flag, replacement of incomplete points, and refusals that leave
files untouched (sha256 before and after)."""
import hashlib
import os
import subprocess
import sys

import h5py
import numpy as np
import pytest

from isingneuron import Traces
from isingneuron.recorder import (SCHEMA_VERSION, Recorder, RecorderError, file_status,
                                  list_points, point_info, read_config_text, read_point)

ATTRS = {"L": 6, "dynamics": "glauber", "field": 0.1 + 0.2, "seed": 12345678901234,
         "plus": True, "protocol": '{"kind": "quench", "bath": 3.0}', "units": "J"}


def make_traces(seed=0, R=3, n=50, L=6, n_snap=2, t0=0, every=2, attrs=ATTRS):
    rng = np.random.default_rng(seed)
    m = rng.uniform(-1, 1, (R, n))
    m[0, :3] = [np.nan, -0.0, np.inf][:n]        # bit patterns must survive too
    snaps = (2 * rng.integers(0, 2, (n_snap, R, L, L)) - 1).astype(np.int8) if n_snap else None
    return Traces(t=t0 + every * np.arange(1, n + 1, dtype=np.int64),
                  T=rng.uniform(0.5, 4, (R, n)), m=m, energy=rng.normal(-1, 0.5, (R, n)),
                  spins=(2 * rng.integers(0, 2, (R, L, L)) - 1).astype(np.int8),
                  snapshots=snaps,
                  snapshot_t=(t0 + every * n * np.arange(1, n_snap + 1) // n_snap
                              ).astype(np.int64) if n_snap else None,
                  attrs=dict(attrs))


def assert_same(a, b):
    for k in ("t", "T", "m", "energy", "spins", "snapshots", "snapshot_t"):
        x, y = getattr(a, k), getattr(b, k)
        if x is None or y is None:
            assert x is None and y is None, k
            continue
        assert x.dtype == y.dtype and x.shape == y.shape, k
        assert x.tobytes() == y.tobytes(), k
    assert a.attrs == b.attrs


def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


# -------------------------------------------------------------- round trips
def test_round_trip_bit_for_bit(tmp_path):
    path = tmp_path / "run.h5"
    tr = make_traces()
    with Recorder(path, "x", config_text="L: 6\nseed: 1\n", git_commit="abc123") as rec:
        rec.write_point("depth=1.5", tr, params={"depth": 1.5})
    back = read_point(path, "depth=1.5")
    assert_same(back, tr)
    info = point_info(path, "depth=1.5")
    assert info["params"] == {"depth": 1.5} and info["complete"] is True
    assert info["seed"] == 12345678901234 and info["L"] == 6 and info["units"] == "J"
    assert (info["n_records"], info["n_replicas"]) == (50, 3)
    with h5py.File(path, "r") as f:             # plain h5py sees the documented layout
        assert f.attrs["format"] == "isingneuron" and f.attrs["schema_version"] == SCHEMA_VERSION
        assert f.attrs["git_commit"] == "abc123" and f.attrs["config"] == "L: 6\nseed: 1\n"
        d = f["points/depth=1.5/m"]
        assert d.compression == "gzip" and d.maxshape == (3, None) and d.chunks is not None
        assert f["points/depth=1.5/snapshots"].dtype == np.int8
    assert read_config_text(path) == "L: 6\nseed: 1\n"


def test_round_trip_without_optional_arrays(tmp_path):
    tr = make_traces(n_snap=0, attrs={})
    tr.spins = None
    with Recorder(tmp_path / "a.h5", git_commit=False) as rec:
        rec.write_point("p", tr)
    back = read_point(tmp_path / "a.h5", "p")
    assert_same(back, tr)
    with h5py.File(tmp_path / "a.h5", "r") as f:
        assert "git_commit" not in f.attrs and "config" not in f.attrs
        assert set(f["points/p"]) == {"t", "T", "m", "energy"}


def test_incremental_appends_equal_one_write(tmp_path):
    parts = [make_traces(seed=k, n=n, t0=t0) for k, (n, t0) in
             enumerate([(30, 0), (1, 60), (45, 62)])]
    whole = Traces.concatenate(parts)
    with Recorder(tmp_path / "inc.h5") as rec:
        w = rec.open_point("p", 3, {"seed": 1})
        for p in parts:
            w.append(p)
        assert w.n_records == 76
        w.finalise(whole.spins)
        rec.write_point("q", whole)
    a, b = read_point(tmp_path / "inc.h5", "p"), read_point(tmp_path / "inc.h5", "q")
    assert_same(a, b)
    assert_same(a, whole)
    assert a.snapshots.shape == (6, 3, 6, 6)


def test_complete_flag_false_until_finalised(tmp_path):
    path = tmp_path / "c.h5"
    with Recorder(path) as rec:
        w = rec.open_point("p", 3)
        w.append(make_traces())
        assert not point_info(path, "p")["complete"]           # readers see the journal
        assert read_point(path, "p", allow_incomplete=True).m.shape == (3, 50)  # on disk
        assert file_status(path)["running"] == {"p": {"n_records": 50, "t": 100}}
        assert rec.completed_points() == [] and rec.points() == ["p"]
        w.finalise()
        assert point_info(path, "p")["complete"]
        assert rec.completed_points() == ["p"]
        with pytest.raises(RecorderError, match="finalised"):
            w.append(make_traces(t0=1000))
    with h5py.File(path, "r") as f:                            # merged into the file on close
        assert f["points/p"].attrs["complete"] and f["points/p/m"].shape == (3, 50)
        assert f["points/p/m"].fletcher32                      # checksummed
    assert not (tmp_path / "c.h5.journal").exists()


def test_incomplete_point_is_replaced_on_reopen(tmp_path):
    path = tmp_path / "r.h5"
    with Recorder(path) as rec:
        rec.open_point("p", 3).append(make_traces(seed=1, n=80))   # never finalised
    assert file_status(path)["incomplete"] == 1
    with pytest.raises(RecorderError, match="incomplete"):
        read_point(path, "p")
    assert read_point(path, "p", allow_incomplete=True).n_records == 80
    new = make_traces(seed=2, n=20)
    with Recorder(path, "a") as rec:
        rec.write_point("p", new)
    assert_same(read_point(path, "p"), new)


def test_killed_writer_leaves_a_readable_incomplete_point(tmp_path):
    path = tmp_path / "killed.h5"
    code = ("import os, sys, numpy as np\n"
            "from isingneuron import Traces\n"
            "from isingneuron.recorder import Recorder\n"
            "rec = Recorder(sys.argv[1], 'w')\n"
            "w = rec.open_point('p', 2)\n"
            "for k in range(3):\n"
            "    w.append(Traces(t=np.arange(1, 11) + 10 * k, T=np.ones((2, 10)),\n"
            "                    m=np.zeros((2, 10)), energy=np.zeros((2, 10))))\n"
            "os._exit(9)\n")
    assert subprocess.run([sys.executable, "-c", code, str(path)]).returncode == 9
    st = file_status(path)
    assert (st["done"], st["incomplete"], st["failed"]) == (0, 1, 0)
    assert read_point(path, "p", allow_incomplete=True).n_records == 30
    with Recorder(path, "a") as rec:
        rec.write_point("p", make_traces(R=2))
    assert read_point(path, "p").n_records == 50


def test_complete_point_needs_overwrite(tmp_path):
    path = tmp_path / "o.h5"
    with Recorder(path) as rec:
        rec.write_point("p", make_traces(seed=1))
    digest = sha(path)
    with Recorder(path, "a") as rec:
        with pytest.raises(RecorderError, match="'p' is complete.*overwrite"):
            rec.open_point("p", 3)
    assert_same(read_point(path, "p"), make_traces(seed=1))
    with Recorder(path, "a") as rec:
        rec.write_point("p", make_traces(seed=2), overwrite=True)
    assert_same(read_point(path, "p"), make_traces(seed=2))
    assert sha(path) != digest


def test_failed_points_and_file_status(tmp_path):
    path = tmp_path / "s.h5"
    with Recorder(path, config_text="depths: [1, 2]\n") as rec:
        rec.write_point("a", make_traces())
        rec.write_point("b", make_traces())
        w = rec.open_point("c", 3)
        w.append(make_traces())
        rec.mark_failed("c", "FloatingPointError: boom")
        with pytest.raises(RecorderError, match="closed"):
            w.append(make_traces(t0=500))
        rec.mark_failed("d", "worker lost")
        rec.open_point("e", 3)
        with pytest.raises(RecorderError, match="'a' is complete"):
            rec.mark_failed("a", "no")
    st = file_status(path)
    assert (st["n_points"], st["done"], st["incomplete"], st["failed"]) == (5, 2, 1, 2)
    assert st["points"] == {"a": "done", "b": "done", "c": "failed", "d": "failed",
                            "e": "incomplete"}
    assert st["config"] == "depths: [1, 2]\n" and st["schema_version"] == SCHEMA_VERSION
    assert list_points(path) == ["a", "b", "c", "d", "e"]
    with pytest.raises(RecorderError, match="'c' is failed: FloatingPointError: boom"):
        read_point(path, "c")
    with pytest.raises(RecorderError, match=r"no point 'zz' \(points: \['a'"):
        read_point(path, "zz")
    with Recorder(path, "a") as rec:                         # a failed point is rerun
        rec.write_point("c", make_traces(seed=3))
    assert file_status(path)["done"] == 3


def test_bad_chunks_are_refused_before_writing(tmp_path):
    with Recorder(tmp_path / "b.h5") as rec:
        w = rec.open_point("p", 3)
        w.append(make_traces(n=10))
        with pytest.raises(RecorderError, match=r"Traces.T has shape \(2, 10\).*\(3, 10\)"):
            w.append(make_traces(R=2, n=10, t0=100))
        with pytest.raises(RecorderError, match="t must increase"):
            w.append(make_traces(n=10, t0=5))                # overlaps t <= 20
        with pytest.raises(RecorderError, match="snapshots chunk"):
            w.append(make_traces(n=10, L=4, t0=100))
        with pytest.raises(RecorderError, match="float64.*cannot be stored as int64"):
            w.append(Traces(t=np.array([100.5]), T=np.ones((3, 1)), m=np.ones((3, 1)),
                            energy=np.ones((3, 1))))
        assert w.n_records == 10
        w.append(make_traces(n=10, t0=100))
        w.finalise()
    assert read_point(tmp_path / "b.h5", "p").n_records == 20


# ----------------------------------------------------------------- refusals
def foreign(path):
    with h5py.File(path, "w") as f:
        f["data"] = np.arange(10)


def newer(path):
    with Recorder(path, "w") as rec:
        rec.write_point("p", make_traces())
    with h5py.File(path, "a") as f:
        f.attrs["schema_version"] = SCHEMA_VERSION + 1


def truncated(path):
    with Recorder(path, "w") as rec:
        rec.write_point("p", make_traces(n=2000))
    data = open(path, "rb").read()
    open(path, "wb").write(data[: len(data) // 2])


def garbage(path):
    open(path, "wb").write(b"this is not an HDF5 file\n" * 100)


def empty(path):
    open(path, "wb").close()


@pytest.mark.parametrize("make, message", [
    (foreign, "not an isingneuron file"),
    (newer, "schema_version 3.*upgrade"),
    (truncated, "truncated or corrupt"),
    (garbage, "not an HDF5 file"),
    (empty, "not an HDF5 file"),
])
def test_refused_files_are_left_untouched(tmp_path, make, message):
    path = tmp_path / "f.h5"
    make(path)
    digest = sha(path)
    openers = [lambda: Recorder(path, "a"), lambda: Recorder(path, "w"),
               lambda: read_point(path, "p"), lambda: file_status(path),
               lambda: list_points(path), lambda: read_config_text(path)]
    for op in openers:
        with pytest.raises(RecorderError, match=message) as info:
            op()
        assert str(path) in str(info.value)
        assert sha(path) == digest


def test_mode_x_refuses_an_existing_file(tmp_path):
    path = tmp_path / "x.h5"
    with Recorder(path, "x") as rec:
        rec.write_point("p", make_traces())
    digest = sha(path)
    with pytest.raises(RecorderError, match="exists and mode 'x'") as info:
        Recorder(path, "x")
    assert str(path) in str(info.value) and sha(path) == digest


def test_missing_folder_is_refused(tmp_path):
    path = tmp_path / "nowhere" / "x.h5"
    for op in (lambda: Recorder(path, "w"), lambda: Recorder(path, "a"), lambda: file_status(path)):
        with pytest.raises(RecorderError, match="does not exist") as info:
            op()
        assert str(path) in str(info.value)
    assert not path.parent.exists()


def test_config_mismatch_in_append_mode_is_refused(tmp_path):
    path = tmp_path / "cfg.h5"
    with Recorder(path, config_text="a: 1\n"):
        pass
    digest = sha(path)
    with pytest.raises(RecorderError, match="config_text differs") as info:
        Recorder(path, "a", config_text="a: 2\n")
    assert str(path) in str(info.value) and sha(path) == digest
    with Recorder(path, "a", config_text="a: 1\n"):
        pass                                                 # same config
    with Recorder(path, "a"):
        pass                                                 # unchecked config
    assert read_config_text(path) == "a: 1\n"


def test_bad_arguments_are_refused(tmp_path):
    path = tmp_path / "args.h5"
    with pytest.raises(RecorderError, match="mode = 'r'"):
        Recorder(path, "r")
    with pytest.raises(RecorderError, match="key 'format' is reserved"):
        Recorder(path, attrs={"format": "mine"})
    assert not os.path.exists(path)
    with Recorder(path) as rec:
        with pytest.raises(RecorderError, match="point name 'a/b'"):
            rec.open_point("a/b", 1)
        with pytest.raises(RecorderError, match="n_replicas = 0"):
            rec.open_point("p", 0)
        with pytest.raises(RecorderError, match="key 'complete' is reserved"):
            rec.open_point("p", 1, {"complete": True})
        with pytest.raises(RecorderError, match="not JSON-serialisable"):
            rec.open_point("p", 1, params={"f": object()})
        assert rec.points() == []
    with pytest.raises(RecorderError, match="closed"):
        rec.points()


# ------------------------------------------------------------------ damage
def _flip_a_bit(path, point="p1", dataset="m"):
    """Flip one bit in the middle of the first chunk of ``points/<point>/<dataset>``."""
    with h5py.File(path, "r") as f:
        info = f[f"points/{point}/{dataset}"].id.get_chunk_info(0)
    with open(path, "r+b") as fh:
        fh.seek(info.byte_offset + info.size // 2)
        b = fh.read(1)
        fh.seek(-1, 1)
        fh.write(bytes([b[0] ^ 0x10]))


def _zero_the_tail(path, n=4096):
    size = os.path.getsize(path)
    with open(path, "r+b") as fh:
        fh.seek(size - n)
        fh.write(b"\0" * n)


def _three_points(path):
    with Recorder(path, "w", config_text="a: 1\n") as rec:
        for k in range(3):
            rec.write_point(f"p{k}", make_traces(seed=k, n=500))


def test_a_flipped_bit_is_detected_named_and_salvaged(tmp_path):
    from isingneuron.recorder import DamagedPointError, salvage_file, verify_file
    path = tmp_path / "d.h5"
    _three_points(path)
    assert verify_file(path)["ok"]
    _flip_a_bit(path)
    digest = sha(path)
    report = verify_file(path)
    assert report["damaged"] == ["p1"] and "filter returned failure" in report["points"]["p1"]
    with pytest.raises(DamagedPointError, match=r"point 'p1' is damaged \(m: .*salvage"):
        read_point(path, "p1")
    assert_same(read_point(path, "p0"), make_traces(seed=0, n=500))      # the rest is fine
    res = salvage_file(path, tmp_path / "new.h5")
    assert res["copied"] == ["p0", "p2"] and res["damaged"] == ["p1"]
    assert sha(path) == digest                                           # only read
    assert verify_file(tmp_path / "new.h5")["ok"]
    assert read_config_text(tmp_path / "new.h5") == "a: 1\n"
    for k in (0, 2):
        assert_same(read_point(tmp_path / "new.h5", f"p{k}"), make_traces(seed=k, n=500))
    with pytest.raises(RecorderError, match="exists"):
        salvage_file(path, tmp_path / "new.h5")


def test_a_zeroed_tail_is_reported_as_damage_not_as_unfinished_work(tmp_path):
    from isingneuron.recorder import DamagedPointError, salvage_file, verify_file
    path = tmp_path / "z.h5"
    _three_points(path)
    _zero_the_tail(path)              # the metadata HDF5 writes last: every point's attrs
    report = verify_file(path)
    assert not report["ok"] and report["damaged"]
    assert all(s == "damaged" for s in file_status(path)["points"].values())
    with pytest.raises(DamagedPointError, match="damaged"):
        read_point(path, report["damaged"][0])
    res = salvage_file(path, tmp_path / "z2.h5")
    assert res["damaged"] == report["damaged"]
    assert sorted(res["copied"] + res["damaged"]) == ["p0", "p1", "p2"]


def test_a_second_writer_is_refused_with_the_holder_named(tmp_path):
    path = tmp_path / "lock.h5"
    code = ("import sys, time\n"
            "from isingneuron.recorder import Recorder\n"
            "rec = Recorder(sys.argv[1], 'w')\n"
            "print('open', flush=True)\n"
            "time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout.readline().strip() == "open"
        with pytest.raises(RecorderError, match=rf"another isingneuron process \(pid {proc.pid} "
                                                 r"on .*\) is writing this file"):
            Recorder(path, "a")
        st = file_status(path)                       # readers are not refused
        assert st["writer"].startswith(f"pid {proc.pid} ") and st["n_points"] == 0
    finally:
        proc.kill()
        proc.wait()
    with Recorder(path, "a") as rec:                 # the lock died with the process
        rec.write_point("p", make_traces())
    assert file_status(path)["writer"] is None and list_points(path) == ["p"]


# ------------------------------------------------ readers of a file a run is writing
def _live_recorder(path):
    """A run in progress: two points finished in the journal, a third being written."""
    rec = Recorder(path, config_text="x: 1\n")
    rec.write_point("a", make_traces())
    rec.write_point("b", make_traces(seed=1))
    rec.open_point("c", 3).append(make_traces(seed=2))
    return rec


@pytest.mark.parametrize("moment", ["before its reads", "before its listing"])
def test_readers_look_again_when_the_writer_overtakes_them(tmp_path, monkeypatch, moment):
    """`status` and `verify` polled during a run reported finished points as damaged
    (a new user's report): the reader listed the journal, then the writer merged
    it into a new file and removed its files (as a run does when it ends), and
    the reader's reads of the listed files failed. Here the writer closes at
    that instant, by fault injection: between the reader's listing and its first
    read of a point, or between its opening of the file and its listing (the
    file is then replaced under it). Every reader must report the merged state,
    with nothing damaged; without the fix the first case read 'damaged' for a
    and b, the second 0 points."""
    from isingneuron import recorder as recmod
    path = tmp_path / "live.h5"
    rec = _live_recorder(path)
    acted = []
    if moment == "before its reads":
        real = recmod._View.open

        def overtaken(self, name):
            if not acted:
                acted.append(name)
                rec.close()
            return real(self, name)
        monkeypatch.setattr(recmod._View, "open", overtaken)
    else:
        real = recmod._journal

        def overtaken(jdir, reader=False):
            if reader and not acted:
                acted.append(jdir)
                rec.close()
            return real(jdir, reader)
        monkeypatch.setattr(recmod, "_journal", overtaken)
    st = file_status(path)
    assert acted and rec.closed
    assert st["points"] == {"a": "done", "b": "done", "c": "incomplete"} and st["damaged"] == 0
    assert not recmod.journal_path(path).exists()
    v = recmod.verify_file(path)
    assert v["ok"] and v["points"] == st["points"]
    assert_same(read_point(path, "b"), make_traces(seed=1))


def test_verify_of_a_live_run_does_not_read_the_point_being_written(tmp_path, monkeypatch):
    """The point being written is reported incomplete, not read: its journal file
    changes under the reader (and is renamed when the point ends)."""
    from isingneuron import recorder as recmod
    path = tmp_path / "live.h5"
    rec = _live_recorder(path)
    try:
        real = recmod._View.open
        opened = []
        monkeypatch.setattr(recmod._View, "open",
                            lambda self, name: opened.append(name) or real(self, name))
        v = recmod.verify_file(path)
        assert v["ok"] and v["points"] == {"a": "done", "b": "done", "c": "incomplete"}
        assert set(opened) == {"a", "b"}
    finally:
        rec.close()


def test_a_killed_writers_damaged_point_is_reported_and_not_salvaged(tmp_path):
    """With no live writer, the point a killed run left half-written is read by
    verify like the others: a damaged one is reported and salvage leaves it out
    (a reviewer's catch: skipping every point being written let salvage copy a
    damaged one into the new file)."""
    from isingneuron import recorder as recmod
    path = tmp_path / "killed.h5"
    code = ("import os, sys, numpy as np\n"
            "from isingneuron import Traces\n"
            "from isingneuron.recorder import Recorder\n"
            "tr = lambda k: Traces(t=np.arange(1, 11) + 10 * k, T=np.ones((2, 10)),\n"
            "                      m=np.full((2, 10), 0.5), energy=np.zeros((2, 10)))\n"
            "rec = Recorder(sys.argv[1], 'w')\n"
            "rec.write_point('a', tr(0))\n"
            "rec.open_point('c', 2).append(tr(0))\n"
            "os._exit(9)\n")
    assert subprocess.run([sys.executable, "-c", code, str(path)]).returncode == 9
    [writing] = recmod.journal_path(path).glob("*.writing.h5")
    with h5py.File(writing, "r") as f:
        info = f["point/m"].id.get_chunk_info(0)
    with open(writing, "r+b") as fh:
        fh.seek(info.byte_offset + info.size // 2)
        b = fh.read(1)
        fh.seek(-1, 1)
        fh.write(bytes([b[0] ^ 0x10]))
    v = recmod.verify_file(path)
    assert v["points"]["a"] == "done" and v["damaged"] == ["c"]
    out = recmod.salvage_file(path, tmp_path / "new.h5")
    assert out["copied"] == ["a"] and out["damaged"] == ["c"]
    assert recmod.verify_file(tmp_path / "new.h5")["ok"]


def test_a_reader_gives_up_on_a_file_that_keeps_changing(tmp_path, monkeypatch):
    from isingneuron import recorder as recmod
    path = tmp_path / "live.h5"
    _live_recorder(path).close()

    def always_stale(self, name):
        raise recmod._StaleView(f"{path}: point {name!r} moved on")
    monkeypatch.setattr(recmod._View, "open", always_stale)
    monkeypatch.setattr(recmod.time, "sleep", lambda s: None)
    with pytest.raises(RecorderError, match=r"moved on; the file kept changing while it was "
                                            r"read \(8 tries\): try again"):
        file_status(path)
