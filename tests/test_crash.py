"""Crash consistency of the output file, by fault injection.

A writing process is killed (SIGKILL, so nothing is flushed or cleaned up) at
its N-th low-level write, for N spread over every write a run makes: each
``write`` call HDF5 makes to any file the recorder opens (the kill lands in the
middle of that write: half of its bytes reach the disk), each rename and each
removal. After every kill:

* every point whose ``finalise`` had returned is read back complete and
  bit-identical (no completed work is lost);
* the readers (``file_status``) either work or give one RecorderError;
* rerunning the same writes resumes and ends bit-identical to a run that was
  never interrupted (datasets and point attributes), with no journal left.

The writing process is a fork of the test process running exactly what a sweep
does (one Recorder, points appended chunk by chunk and finalised as they
arrive); ``tests/test_sweep.py`` kills the real command line too.
"""
import io
import json
import os
import signal

import h5py
import numpy as np
import pytest

import isingneuron.recorder as recmod
from isingneuron import Traces
from isingneuron.recorder import Recorder, RecorderError, file_status, point_info, read_point

CONFIG = "name: crash test\n"
FIELDS = ("t", "T", "m", "energy", "spins", "snapshots", "snapshot_t")


def make_points(n=4, R=3, L=5, n_rec=60):
    rng = np.random.default_rng(7)
    out = {}
    for k in range(n):
        snaps = (2 * rng.integers(0, 2, (2, R, L, L)) - 1).astype(np.int8) if k % 2 else None
        out[f"p{k}"] = Traces(
            t=np.arange(1, n_rec + 1, dtype=np.int64), T=rng.uniform(1, 3, (R, n_rec)),
            m=rng.uniform(-1, 1, (R, n_rec)), energy=rng.normal(-1, 0.3, (R, n_rec)),
            spins=(2 * rng.integers(0, 2, (R, L, L)) - 1).astype(np.int8), snapshots=snaps,
            snapshot_t=np.array([20, 60], np.int64) if k % 2 else None,
            attrs={"L": L, "seed": k, "dynamics": "glauber"})
    return out


def chunks(tr, n=3):
    """The traces of a run in ``n`` chunks (snapshots with the chunk they fall in)."""
    edges = np.linspace(0, tr.n_records, n + 1).astype(int)
    for a, b in zip(edges[:-1], edges[1:]):
        sel = None
        if tr.snapshots is not None:
            sel = (tr.snapshot_t > (tr.t[a - 1] if a else 0)) & (tr.snapshot_t <= tr.t[b - 1])
        yield Traces(t=tr.t[a:b], T=tr.T[:, a:b], m=tr.m[:, a:b], energy=tr.energy[:, a:b],
                     snapshots=None if sel is None else tr.snapshots[sel],
                     snapshot_t=None if sel is None else tr.snapshot_t[sel], attrs=tr.attrs)


def write_all(path, pts, report_fd=None):
    """A sweep's writes: skip complete points, append the rest chunk by chunk."""
    with Recorder(path, "a", config_text=CONFIG) as rec:
        done = set(rec.completed_points())
        for name, tr in pts.items():
            if name in done:
                continue
            w = rec.open_point(name, tr.n_replicas, {"label": name}, params={"k": name})
            for c in chunks(tr):
                w.append(c)
            w.finalise(tr.spins)
            if report_fd is not None:
                os.write(report_fd, f"{name}\n".encode())


def contents(path):
    out = {}
    for name, state in file_status(path)["points"].items():
        if state == "done":
            tr = read_point(path, name)
            info = point_info(path, name)
            out[name] = ({k: (None if getattr(tr, k) is None else getattr(tr, k).tobytes())
                          for k in FIELDS}, json.dumps(info, sort_keys=True, default=str))
    return out


class _Faults:
    """Counts the writes, renames and removals of the recorder; SIGKILLs at the N-th."""

    def __init__(self, kill_at=None):
        self.n = 0
        self.kill_at = kill_at

    def tick(self, data=None, fh=None):
        self.n += 1
        if self.n == self.kill_at:
            if data is not None:               # die in the middle of this write
                fh.write(bytes(memoryview(data)[: len(data) // 2]))
            os.kill(os.getpid(), signal.SIGKILL)

    def install(self, monkeypatch):
        faults = self

        class File(io.FileIO):
            def write(self, b):
                faults.tick(b, super())
                return super().write(b)

        def h5_open(path, mode):
            raw = File(path, {"w": "w+", "x": "x+"}[mode])
            f = h5py.File(raw, "w", libver=recmod._LIBVER)
            close = f.close

            def close_both():
                close()
                raw.close()
            f.close = close_both
            return f

        real_replace, real_remove = recmod._replace, recmod._remove

        def replace(src, dst):
            faults.tick()
            real_replace(src, dst)

        def remove(path):
            faults.tick()
            real_remove(path)
        monkeypatch.setattr(recmod, "_h5_open", h5_open)
        monkeypatch.setattr(recmod, "_replace", replace)
        monkeypatch.setattr(recmod, "_remove", remove)


def _killed_run(path, pts, kill_at, monkeypatch):
    """Fork; the child writes with a fault at ``kill_at``. Returns (signal, finalised names)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:                                           # the child: never returns
        try:
            os.close(r)
            _Faults(kill_at).install(monkeypatch)
            write_all(path, pts, report_fd=w)
        except BaseException:
            os._exit(3)
        os._exit(0)
    os.close(w)
    with os.fdopen(r) as fh:
        finalised = fh.read().split()
    _, status = os.waitpid(pid, 0)
    return (os.WTERMSIG(status) if os.WIFSIGNALED(status) else -os.WEXITSTATUS(status)), finalised


def _count_faults(path, pts, monkeypatch):
    with monkeypatch.context() as mp:
        f = _Faults()
        f.install(mp)
        write_all(path, pts)
    return f.n


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    pts = make_points()
    path = tmp_path_factory.mktemp("ref") / "ref.h5"
    write_all(path, pts)
    return pts, contents(path)


def test_fault_injection_counts_the_writes_of_a_run(tmp_path, monkeypatch, reference):
    pts, ref = reference
    n = _count_faults(tmp_path / "count.h5", pts, monkeypatch)
    assert n > 100                                       # every write of HDF5 is counted
    assert contents(tmp_path / "count.h5") == ref        # the counting file object is neutral


def test_a_kill_at_any_write_loses_no_finished_point_and_resumes_bit_identical(
        tmp_path, monkeypatch, reference):
    pts, ref = reference
    total = _count_faults(tmp_path / "count.h5", pts, monkeypatch)
    kills = sorted(set(np.linspace(1, total, 60).astype(int)) | {1, 2, 3, total - 1, total})
    resumed = 0
    for k in kills:
        path = tmp_path / f"k{k}" / "out.h5"
        path.parent.mkdir()
        sig, finalised = _killed_run(path, pts, k, monkeypatch)
        assert sig == signal.SIGKILL, (k, sig)
        try:
            st = file_status(path)
        except RecorderError:
            st = None                                    # killed before the file existed
        if finalised:
            assert st is not None, k
            for name in finalised:                       # finished work survived the kill
                assert st["points"][name] == "done", (k, name)
                assert contents(path)[name] == ref[name], (k, name)
        write_all(path, pts)                             # rerun: resume
        assert contents(path) == ref, k
        assert not recmod.journal_path(path).exists(), k
        with h5py.File(path, "r") as f:                  # plain h5py sees every point
            assert sorted(f["points"]) == sorted(ref)
        resumed += 1
    assert resumed == len(kills) >= 60


def test_two_kills_in_a_row_then_resume(tmp_path, monkeypatch, reference):
    pts, ref = reference
    total = _count_faults(tmp_path / "count.h5", pts, monkeypatch)
    for a, b in [(total // 3, total // 4), (total // 2, 7), (total - 2, total // 5)]:
        path = tmp_path / f"k{a}_{b}" / "out.h5"
        path.parent.mkdir()
        assert _killed_run(path, pts, a, monkeypatch)[0] == signal.SIGKILL
        sig, _ = _killed_run(path, pts, b, monkeypatch)
        assert sig in (signal.SIGKILL, 0)                # the rerun may finish before b
        write_all(path, pts)
        assert contents(path) == ref


@pytest.mark.exhaustive
def test_a_kill_at_every_single_write(tmp_path, monkeypatch):
    """The same check at every fault point of a run of two points (one with snapshots)."""
    pts = make_points(n=2)
    write_all(tmp_path / "ref.h5", pts)
    ref = contents(tmp_path / "ref.h5")
    total = _count_faults(tmp_path / "count.h5", pts, monkeypatch)
    for k in range(1, total + 1):
        path = tmp_path / f"k{k}" / "out.h5"
        path.parent.mkdir()
        sig, finalised = _killed_run(path, pts, k, monkeypatch)
        assert sig == signal.SIGKILL, (k, sig)
        if finalised:
            done = contents(path)
            assert all(done[n] == ref[n] for n in finalised), k
        write_all(path, pts)
        assert contents(path) == ref, k
