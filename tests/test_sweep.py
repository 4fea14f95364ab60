"""Sweep execution: results independent of worker count, executor (local
processes or a Dask LocalCluster) and point order; resume after a failure or a
SIGKILL recomputes nothing that was complete and ends bit-identical to an
uninterrupted run."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
import yaml

import isingneuron.sweep as sweep
from isingneuron.cli import main
from isingneuron.config import load_config
from isingneuron.recorder import file_status, point_info, read_point

ENTRY = Path(sys.executable).with_name("isingneuron")
REAL_RUN_POINT = sweep.run_point
FIELDS = ("t", "T", "m", "energy", "spins", "snapshots", "snapshot_t")

SWEEP = {"name": "t",
         "lattice": {"L": 8, "boundary": "plus"},
         "protocol": {"kind": "quench", "bath": 3.0, "depth": 2.0, "at": 5, "rate": 0.1},
         "replicas": 2, "sweeps": 40, "seed": 11,
         "sweep": {"grid": {"protocol.depth": [0.5, 1.5, 2.5],
                            "dynamics": ["metropolis", "glauber"]}}}


def write_config(path, data, output):
    data = {**data, "output": str(output)}
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def contents(path):
    """Every complete point's arrays, as bytes (bit-exact comparison)."""
    out = {}
    for name, state in file_status(path)["points"].items():
        if state == "done":
            tr = read_point(path, name)
            out[name] = {k: (None if getattr(tr, k) is None else getattr(tr, k).tobytes())
                         for k in FIELDS}
    return out


def run(cfg, *extra):
    return main(["run", str(cfg), "--no-progress", *extra])


def test_point_seed_is_a_stable_hash():
    s = sweep.point_seed(11, "0123456789abcdef")
    assert s == sweep.point_seed(11, "0123456789abcdef") and 0 <= s < 2**63
    assert len({sweep.point_seed(seed, pid) for seed in (0, 1, 11)
                for pid in ("a", "b", "c")}) == 9


def test_single_point_uses_the_config_seed(tmp_path):
    cfg = write_config(tmp_path / "c.yaml", {k: v for k, v in SWEEP.items() if k != "sweep"},
                       tmp_path / "out.h5")
    assert run(cfg, "--workers", "1") == 0
    (name,) = file_status(tmp_path / "out.h5")["points"]
    assert point_info(tmp_path / "out.h5", name)["seed"] == 11


def test_workers_order_and_executor_do_not_change_results(tmp_path):
    cfg = write_config(tmp_path / "c.yaml", SWEEP, tmp_path / "one.h5")
    assert run(cfg, "--workers", "1") == 0
    one = contents(tmp_path / "one.h5")
    assert len(one) == 6
    assert run(cfg, "--workers", "2", "--output", str(tmp_path / "two.h5")) == 0
    assert contents(tmp_path / "two.h5") == one
    # the same points listed in another order (the config's lists reversed)
    rev = {**SWEEP, "sweep": {"grid": {"dynamics": ["glauber", "metropolis"],
                                       "protocol.depth": [2.5, 1.5, 0.5]}}}
    cfg_rev = write_config(tmp_path / "rev.yaml", rev, tmp_path / "rev.h5")
    assert run(cfg_rev, "--workers", "1") == 0
    assert contents(tmp_path / "rev.h5") == one
    # and the pending points of a plan run back to front
    plan = sweep.make_plan(load_config(cfg, output=tmp_path / "back.h5"))
    plan.pending.reverse()
    sweep.run_plan(plan, sweep.InProcess(), progress=False, log=lambda line: None)
    assert contents(tmp_path / "back.h5") == one


def test_dask_local_cluster_gives_the_same_bits(tmp_path):
    distributed = pytest.importorskip("distributed")
    cfg = write_config(tmp_path / "c.yaml", SWEEP, tmp_path / "local.h5")
    assert run(cfg, "--workers", "1") == 0
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        assert run(cfg, "--dask", cluster.scheduler_address,
                   "--output", str(tmp_path / "dask.h5")) == 0
    assert contents(tmp_path / "dask.h5") == contents(tmp_path / "local.h5")


def counting(monkeypatch, fail_ids=()):
    """Replace run_point (in-process path) by a wrapper that counts and can fail."""
    calls = []

    def wrapper(config, seed, threads=None, name=None):
        calls.append(config)
        depth = config["protocol"]["depth"]
        if (depth, config["dynamics"]) in fail_ids:
            raise RuntimeError(f"injected failure at depth {depth}")
        return REAL_RUN_POINT(config, seed, threads, name)
    monkeypatch.setattr(sweep, "run_point", wrapper)
    return calls


def test_resume_reruns_only_failed_points(tmp_path, monkeypatch, capsys):
    out = tmp_path / "out.h5"
    cfg = write_config(tmp_path / "c.yaml", SWEEP, out)
    calls = counting(monkeypatch, fail_ids={(1.5, "glauber"), (2.5, "metropolis")})
    assert run(cfg, "--workers", "1") == 1                       # failures: non-zero
    assert len(calls) == 6
    st = sweep.status(out)
    assert (st["done"], st["failed"], st["total"]) == (4, 2, 6)
    assert all("injected failure" in e for e in st["errors"].values())
    assert "2 points failed" in capsys.readouterr().err
    before = contents(out)
    seconds = {n: point_info(out, n)["seconds"] for n in before}

    calls = counting(monkeypatch)
    assert run(cfg, "--workers", "1") == 0
    assert sorted((c["protocol"]["depth"], c["dynamics"]) for c in calls) == \
        [(1.5, "glauber"), (2.5, "metropolis")]                 # only the failed ones
    after = contents(out)
    assert len(after) == 6 and all(after[n] == before[n] for n in before)
    assert {n: point_info(out, n)["seconds"] for n in before} == seconds   # not rewritten

    calls = counting(monkeypatch)
    assert run(cfg, "--workers", "1") == 0 and calls == []        # all complete: nothing runs
    assert "6 already complete" in capsys.readouterr().out


def test_fail_fast_stops_after_the_first_failure(tmp_path, monkeypatch):
    out = tmp_path / "out.h5"
    cfg = write_config(tmp_path / "c.yaml", SWEEP, out)
    calls = counting(monkeypatch, fail_ids={(0.5, "glauber")})    # the second point
    assert run(cfg, "--workers", "1", "--fail-fast") == 1
    assert len(calls) == 2
    st = file_status(out)
    assert (st["done"], st["failed"], st["n_points"]) == (1, 1, 2)


def test_snapshots_reach_the_file(tmp_path):
    data = {k: v for k, v in SWEEP.items() if k != "sweep"}
    cfg = write_config(tmp_path / "c.yaml", {**data, "snapshot_every": 20, "record_every": 4},
                       tmp_path / "out.h5")
    assert run(cfg) == 0
    (name,) = file_status(tmp_path / "out.h5")["points"]
    tr = read_point(tmp_path / "out.h5", name)
    assert tr.snapshots.shape == (2, 2, 8, 8) and list(tr.snapshot_t) == [20, 40]
    assert tr.m.shape == (2, 10) and np.array_equal(tr.snapshots[-1], tr.spins)


def test_sigkill_mid_sweep_then_resume_is_bit_identical(tmp_path):
    """Kill the run (SIGKILL) after two points, rerun, compare with an uninterrupted run."""
    heavy = {**SWEEP, "lattice": {"L": 128, "boundary": "plus"}, "replicas": 8,
             "sweeps": 1200, "record_every": 4,
             "protocol": {"kind": "quench", "bath": 3.0, "depth": 2.0, "at": 50, "rate": 0.002}}
    out = tmp_path / "killed.h5"
    cfg = write_config(tmp_path / "c.yaml", heavy, out)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([str(ENTRY), "run", str(cfg), "--workers", "1", "--no-progress"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    done = 0
    try:
        for line in proc.stderr:
            done += ": done in" in line
            if done == 2:
                proc.send_signal(signal.SIGKILL)       # mid-way through the third point
                break
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL and done == 2
    before = contents(out)                             # the file and its journal
    assert 2 <= len(before) < 6                        # killed before the end
    attrs = {n: point_info(out, n) for n in before}

    res = subprocess.run([str(ENTRY), "run", str(cfg), "--workers", "1", "--no-progress"],
                         capture_output=True, text=True, env=env)
    assert res.returncode == 0, res.stderr
    assert f"{len(before)} already complete" in res.stdout
    after = contents(out)
    assert len(after) == 6
    assert all(after[n] == before[n] for n in before)  # completed points untouched
    assert all(point_info(out, n) == attrs[n] for n in before)
    with h5py.File(out, "r") as f:                     # merged into the file: plain h5py
        assert sorted(f["points"]) == sorted(after)

    clean = tmp_path / "clean.h5"
    assert run(cfg, "--workers", "2", "--output", str(clean)) == 0
    assert contents(clean) == after                    # bit-identical to an uninterrupted run


def _children(pid):
    """Pids of the live processes whose parent is ``pid`` (from /proc)."""
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                fields = open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                out.append(int(d))
    return out


def _alive(pid):
    try:
        state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_worker_processes_exit_when_the_run_is_killed(tmp_path):
    heavy = {**SWEEP, "lattice": {"L": 128, "boundary": "plus"}, "replicas": 8,
             "sweeps": 4000, "record_every": 4}
    cfg = write_config(tmp_path / "c.yaml", heavy, tmp_path / "out.h5")
    proc = subprocess.Popen([str(ENTRY), "run", str(cfg), "--workers", "2", "--no-progress"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        for line in proc.stdout:                 # "running 6 points on 2 local worker processes"
            if line.startswith("running"):
                break
        workers = []
        for _ in range(200):                     # the pool starts its processes on demand
            workers = [p for p in _children(proc.pid)
                       if b"spawn_main" in open(f"/proc/{p}/cmdline", "rb").read()]
            if len(workers) == 2:
                break
            time.sleep(0.05)
        assert len(workers) == 2
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        deadline = time.time() + 15
        while time.time() < deadline and any(_alive(p) for p in workers):
            time.sleep(0.1)
        assert not any(_alive(p) for p in workers), "orphaned workers"
    finally:
        proc.kill()
        for p in _children(proc.pid):
            os.kill(p, signal.SIGKILL)


def test_heartbeat_lines_while_a_long_point_runs(tmp_path, monkeypatch):
    cfg = load_config(write_config(tmp_path / "c.yaml", SWEEP, tmp_path / "out.h5"))

    def slow(config, seed, threads=None, name=None):
        time.sleep(0.4)
        return REAL_RUN_POINT(config, seed, threads, name)
    monkeypatch.setattr(sweep, "run_point", slow)
    lines = []
    plan = sweep.make_plan(cfg)
    sweep.run_plan(plan, sweep.InProcess(), progress=False, log=lines.append, heartbeat=0.25)
    beats = [x for x in lines if x.startswith("...")]
    assert beats and all(" of 6 points done" in x for x in beats)
    assert sum(": done in" in x for x in lines) == 6
