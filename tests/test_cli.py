"""The command line: a table of bad configs and bad invocations (each exits 2
with one line naming the problem and leaves every file as it was), the same
through the installed entry point, and the commands that work."""
import hashlib
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import h5py
import pytest
import yaml

from isingneuron import bench
from isingneuron.cli import main
from isingneuron.config import parse_config, stored_text
from isingneuron.recorder import Recorder, RecorderError, file_status, read_point

ENTRY = Path(sys.executable).with_name("isingneuron")
CONFIGS = Path(__file__).resolve().parents[1] / "configs"

BASE = {"name": "t",
        "lattice": {"L": 8, "boundary": "plus"},
        "protocol": {"kind": "quench", "bath": 3.0, "depth": 2.0, "at": 5, "rate": 0.1},
        "replicas": 2, "sweeps": 40, "seed": 11}


def config(tmp, change=None, text=None, output="out.h5"):
    """Write a config (BASE changed by ``change(dict)``) into ``tmp``; returns its path."""
    data = yaml.safe_load(yaml.safe_dump(BASE))
    data["output"] = str(tmp / output)
    if change:
        change(data)
    path = tmp / "c.yaml"
    path.write_text(text if text is not None else yaml.safe_dump(data, sort_keys=False))
    return path


def proto(**kw):
    return lambda d: d["protocol"].update(kw)


def sweep_grid(grid):
    return lambda d: d.update(sweep={"grid": grid})


def other_config_file(tmp):
    """An isingneuron file written for the same config with another depth."""
    text = yaml.safe_dump({**BASE, "output": "x.h5",
                           "protocol": {**BASE["protocol"], "depth": 1.0}})
    with Recorder(tmp / "out.h5", "x", config_text=stored_text(parse_config(text))):
        pass


def corrupt_file(tmp):
    (tmp / "out.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + os.urandom(2000))


def not_hdf5_file(tmp):
    (tmp / "out.h5").write_text("results: none\n")


def foreign_file(tmp):
    with h5py.File(tmp / "out.h5", "w") as f:
        f["data"] = [1, 2, 3]


def run_args(change=None, *extra, output="out.h5"):
    return lambda tmp: ["run", str(config(tmp, change, output=output)), *extra]


def _alias_bomb():
    """~600 bytes of YAML whose name: would expand to 9**9 values."""
    levels = ["&l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    levels += [f"&l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 9)]
    return yaml.safe_dump({k: v for k, v in BASE.items() if k != "name"}) + \
        "output: out.h5\nname: [" + ", ".join(levels) + "]\n"


ALIAS_BOMB = _alias_bomb()


def special_config(name, make):
    """argv for a config ``name`` in tmp made by ``make(path)`` (a FIFO, a link, bytes)."""
    def argv(tmp):
        make(tmp / name)
        return ["run", str(tmp / name)]
    return argv
MERGED = """lattice: {L: 8, boundary: plus}
protocol: &q {kind: quench, bath: 3.0, depth: 2.0, at: 5, rate: 0.1}
sweeps: 40
output: out.h5
sweep:
  grid:
    protocol:
      - *q
      - {<<: *q, depth: 1.0}
"""


# (id, argv builder, setup before the call or None, words the message must contain)
CASES = [
    ("unknown-key", run_args(lambda d: d.update(lattise=1)), None,
     ["unknown key 'lattise'", "did you mean 'lattice'"]),
    ("misspelt-nested-key", run_args(lambda d: d["lattice"].update(boundry="plus")), None,
     ["lattice.boundry", "did you mean 'boundary'"]),
    ("misspelt-protocol-key", run_args(proto(dpeth=1.0)), None, ["protocol.dpeth", "'depth'"]),
    ("L-wrong-type", run_args(lambda d: d["lattice"].update(L="big")), None,
     ["lattice.L", "'big'", "integer"]),
    ("L-zero", run_args(lambda d: d["lattice"].update(L=0)), None,
     ["lattice.L = 0", "greater than or equal to 2"]),
    ("L-negative", run_args(lambda d: d["lattice"].update(L=-4)), None, ["lattice.L = -4"]),
    ("L-one", run_args(lambda d: d["lattice"].update(L=1)), None,
     ["lattice.L = 1", "greater than or equal to 2"]),
    ("L-float", run_args(lambda d: d["lattice"].update(L=8.5)), None,
     ["lattice.L = 8.5", "integer"]),
    ("replicas-zero", run_args(lambda d: d.update(replicas=0)), None, ["replicas = 0"]),
    ("missing-sweeps", run_args(lambda d: d.pop("sweeps")), None,
     ["missing required key 'sweeps'"]),
    ("missing-protocol", run_args(lambda d: d.pop("protocol")), None,
     ["missing required key 'protocol'"]),
    ("T-not-positive", run_args(lambda d: d.update(protocol={"kind": "constant", "T": 0})), None,
     ["protocol.T = 0", "> 0"]),
    ("bath-negative", run_args(proto(bath=-1.0)), None, ["protocol.bath = -1", "> 0"]),
    ("update-misspelt", run_args(lambda d: d.update(update="checkerbord")), None,
     ["update = 'checkerbord'", "did you mean 'checkerboard'"]),
    ("output-empty", lambda tmp: ["run", str(config(tmp)), "--output", ""], None,
     ["output = ''", "must not be empty"]),
    ("T-overflows-in-J", run_args(lambda d: d.update(protocol={"kind": "constant", "T": 1e308,
                                                              "units": "Tc"})), None,
     ["protocol", "1e+308 Tc = inf J", "must be finite in J", "7.922e+307 Tc"]),
    ("rate-zero", run_args(proto(rate=0)), None, ["protocol.rate = 0", "> 0"]),
    ("depth-negative", run_args(proto(depth=-0.5)), None, ["protocol.depth = -0.5", ">= 0"]),
    ("depth-beyond-bath", run_args(proto(depth=3.5)), None, ["protocol", "bath - depth", "> 0"]),
    ("protocol-kind", run_args(proto(kind="quenc")), None,
     ["protocol.kind = 'quenc'", "did you mean 'quench'"]),
    ("units", run_args(proto(units="K")), None, ["protocol.units = 'K'", "'Tc'"]),
    ("theta-zero", run_args(lambda d: d.update(analysis={"theta": 0})), None,
     ["analysis.theta = 0", "greater than 0"]),
    ("theta-above-one", run_args(lambda d: d.update(analysis={"theta": 1.5})), None,
     ["analysis.theta = 1.5", "less than or equal to 1"]),
    ("theta-off-above-on", run_args(lambda d: d.update(analysis={"theta_on": 0.6,
                                                                 "theta_off": 0.8})), None,
     ["theta_off = 0.8", "theta_on = 0.6"]),
    ("record-every", run_args(lambda d: d.update(record_every=7)), None,
     ["sweeps = 40", "multiple of record_every = 7"]),
    ("dynamics", run_args(lambda d: d.update(dynamics="metropolus")), None,
     ["dynamics = 'metropolus'", "did you mean 'metropolis'"]),
    ("wolff-with-border", run_args(lambda d: d.update(dynamics="wolff")), None,
     ["wolff", "periodic"]),
    ("seed-negative", run_args(lambda d: d.update(seed=-1)), None, ["seed = -1"]),
    ("population-size", run_args(lambda d: d.update(protocol={
        "kind": "population", "gaussian_quenches": {"n": 5, "bath": 3.0, "mean_depth": 1.0,
                                                    "sd_depth": 0.2, "at": 5, "rate": 0.1}})),
     None, ["protocol.gaussian_quenches.n = 5", "replicas = 2"]),
    ("empty-sweep-list", run_args(sweep_grid({"protocol.depth": []})), None,
     ["sweep.grid.protocol.depth", "empty list"]),
    ("sweep-unknown-path", run_args(sweep_grid({"protocol.dept": [1.0]})), None,
     ["'protocol.dept' is not a key", "did you mean 'protocol.depth'"]),
    ("sweep-bad-range", run_args(sweep_grid({"protocol.depth": {"start": 0, "stop": 1,
                                                                "num": 0}})), None,
     ["sweep.grid.protocol.depth.num = 0"]),
    ("sweep-zip-lengths", run_args(lambda d: d.update(sweep={"zip": {
        "protocol.depth": [1.0, 2.0], "replicas": [1]}})), None, ["different lengths"]),
    ("sweep-point-invalid", run_args(sweep_grid({"protocol.depth": {"start": 1, "stop": 4,
                                                                    "num": 4}})), None,
     ["sweep point protocol.depth=3", "bath - depth"]),
    ("executor-unknown", run_args(lambda d: d.update(executor="slurm")), None,
     ["executor.kind = 'slurm'", "'dask'"]),
    ("dask-without-address", run_args(lambda d: d.update(executor="dask")), None,
     ["scheduler address", "--dask"]),
    ("yaml-syntax", lambda tmp: ["run", str(config(tmp, text="lattice: {L: 8\nsweeps: 4\n"))],
     None, ["YAML syntax error", "line"]),
    ("yaml-not-mapping", lambda tmp: ["run", str(config(tmp, text="- L\n- 8\n"))], None,
     ["must be a YAML mapping"]),
    ("yaml-repeated-key", lambda tmp: ["run", str(config(tmp, text="sweeps: 4\nsweeps: 5\n"))],
     None, ["'sweeps' appears twice"]),
    ("config-missing", lambda tmp: ["run", str(tmp / "nope.yaml")], None,
     ["nope.yaml", "no such config file"]),
    ("config-is-folder", lambda tmp: ["run", str(tmp)], None, ["is a folder"]),
    ("output-folder-missing", run_args(output="missing/out.h5"), None,
     ["missing", "does not exist"]),
    ("output-is-folder", run_args(output="."), None, ["is a folder"]),
    ("output-of-another-config", run_args(), other_config_file,
     ["holds another config", "protocol.depth", "--force-new"]),
    ("output-corrupt", run_args(), corrupt_file, ["out.h5", "corrupt"]),
    ("output-corrupt-force-new", run_args(None, "--force-new"), corrupt_file,
     ["out.h5", "corrupt"]),
    ("output-not-hdf5", run_args(), not_hdf5_file, ["out.h5", "not an HDF5 file"]),
    ("output-foreign-hdf5", run_args(), foreign_file, ["not an isingneuron file"]),
    ("workers-zero", run_args(None, "--workers", "0"), None, ["--workers 0", ">= 1"]),
    ("workers-with-dask", run_args(None, "--workers", "2", "--dask", "tcp://127.0.0.1:1"), None,
     ["--workers applies to local processes"]),
    ("unknown-option", run_args(None, "--bogus"), None, ["unrecognized arguments: --bogus"]),
    ("unknown-command", lambda tmp: ["rn", "c.yaml"], None, ["invalid choice: 'rn'"]),
    ("missing-argument", lambda tmp: ["run"], None, ["required: CONFIG"]),
    ("sweep-without-sweep", lambda tmp: ["sweep", str(config(tmp))], None,
     ["no sweep: section", "isingneuron run"]),
    ("status-missing-file", lambda tmp: ["status", str(tmp / "out.h5")], None, ["no such file"]),
    ("status-corrupt-file", lambda tmp: ["status", str(tmp / "out.h5")], corrupt_file,
     ["corrupt"]),
    ("plot-foreign-file", lambda tmp: ["plot", str(tmp / "out.h5")], foreign_file,
     ["not an isingneuron file"]),
    # sizes nobody can run: refused at load, before any file (whatever the machine's memory)
    ("L-beyond-int32", run_args(lambda d: d["lattice"].update(L=46341)), None,
     ["lattice.L = 46341", "at most 46340", "int32"]),
    ("L-million", run_args(lambda d: d["lattice"].update(L=1000000)), None,
     ["lattice.L = 1000000", "at most 46340", "of memory", "available"]),
    ("L-2-to-the-31", run_args(lambda d: d["lattice"].update(L=2**31)), None,
     ["lattice.L = 2147483648", "at most 46340"]),
    ("replicas-absurd", run_args(lambda d: d.update(replicas=10**12)), None,
     ["replicas = 1000000000000", "PiB of memory", "available", "replicas"]),
    ("population-absurd", run_args(lambda d: d.update(replicas=10**12, protocol={
        "kind": "population", "gaussian_quenches": {"bath": 3.0, "mean_depth": 1.0,
                                                    "sd_depth": 0.2, "at": 5, "rate": 0.1}})),
     None, ["replicas = 1000000000000", "of memory", "available"]),
    ("sweeps-absurd", run_args(lambda d: d.update(sweeps=10**15)), None,
     ["sweeps = 1000000000000000", "PiB of memory", "available", "raise record_every"]),
    ("snapshots-absurd", run_args(lambda d: d.update(sweeps=10**12, snapshot_every=1)), None,
     ["snapshot_every = 1", "of memory", "snapshots", "raise snapshot_every"]),
    ("sweep-point-L-absurd", run_args(sweep_grid({"lattice.L": [8, 100000]})), None,
     ["sweep point lattice.L=100000", "at most 46340"]),
    ("sweep-point-sweeps-absurd", run_args(lambda d: d.update(sweep={"zip": {
        "sweeps": [40, 10**15], "protocol.depth": [1.0, 2.0]}})), None,
     ["sweep point sweeps=1000000000000000", "of memory", "available"]),
    # hostile or odd config files
    ("config-dev-zero", lambda tmp: ["run", "/dev/zero"], None,
     ["/dev/zero", "character device", "regular file"]),
    ("config-fifo", special_config("fifo.yaml", os.mkfifo), None,
     ["fifo.yaml", "FIFO", "regular file"]),
    ("config-link-to-device", special_config("l.yaml", lambda p: p.symlink_to("/dev/zero")),
     None, ["l.yaml", "character device"]),
    ("config-too-large", lambda tmp: ["run", str(config(tmp, text="# x\n" * 300_000))], None,
     ["c.yaml", "larger than 1.0 MiB"]),
    ("config-not-utf8", special_config("c.yaml", lambda p: p.write_bytes(b"name: \xff\xfe\n")),
     None, ["c.yaml", "not a UTF-8 text file"]),
    ("yaml-alias-bomb", lambda tmp: ["run", str(config(tmp, text=ALIAS_BOMB))], None,
     ["aliases expand to more than 1000000 values"]),
    ("yaml-recursive-alias", lambda tmp: ["run", str(config(tmp, text="name: &x [1, *x]\n"))],
     None, ["recursive alias"]),
    ("yaml-too-deep", lambda tmp: ["run", str(config(tmp, text="name: " + "[" * 5000
                                                                + "]" * 5000 + "\n"))],
     None, ["nested more than 64 levels deep"]),
    ("yaml-merge-repeated-key", lambda tmp: ["run", str(config(tmp, text=MERGED.replace(
        "depth: 1.0", "depth: 1.0, depth: 1.5")))], None, ["'depth' appears twice"]),
    ("name-huge-list", lambda tmp: ["run", str(config(tmp, lambda d: d.update(
        name=["x" * 50] * 5000)))], None, ["name = [", "...", "must be a string"]),
    ("output-name-too-long", run_args(output="o" * 300 + ".h5"), None,
     ["output: file name", "303 bytes long", "at most"]),
    ("output-option-name-too-long", lambda tmp: ["run", str(config(tmp)), "--output",
                                                 str(tmp / ("p" * 250 + ".h5"))], None,
     ["output: file name", "253 bytes long", "'.journal'"]),
    ("output-folder-name-too-long", run_args(output="d" * 300 + "/out.h5"), None,
     ["output: folder name", "300 bytes long", "at most"]),
    ("output-nul", run_args(output="a\0b.h5"), None, ["output = ", "NUL"]),
    ("dask-not-an-address", run_args(None, "--dask", "not an address"), None,
     ["--dask", "'not an address'", "not a Dask scheduler address", "HOST:PORT"]),
    ("dask-bad-port", run_args(None, "--dask", "tcp://127.0.0.1:99999"), None,
     ["'tcp://127.0.0.1:99999'", "not a Dask scheduler address"]),
    ("dask-bad-scheme", run_args(None, "--dask", "http://10.0.0.1:8786"), None,
     ["'http://10.0.0.1:8786'", "schemes: tcp"]),
    ("executor-address-not-an-address", run_args(lambda d: d.update(
        executor={"kind": "dask", "address": "not an address"})), None,
     ["executor.address = 'not an address'", "not a Dask scheduler address"]),
]


def _flip_a_bit(path):
    """Flip one bit in the middle of the first chunk of every point's M."""
    with h5py.File(path, "r") as f:
        infos = [f[f"points/{n}/M"].id.get_chunk_info(0) for n in f["points"]]
    with open(path, "r+b") as fh:
        for info in infos:
            fh.seek(info.byte_offset + info.size // 2)
            b = fh.read(1)
            fh.seek(-1, 1)
            fh.write(bytes([b[0] ^ 0x10]))


def damaged_output(tmp):
    """A complete output of the BASE config, then one flipped bit in its point's m."""
    assert main(["run", str(config(tmp)), "--no-progress"]) == 0
    _flip_a_bit(tmp / "out.h5")


def complete_output(tmp):
    assert main(["run", str(config(tmp)), "--no-progress"]) == 0


CASES += [
    ("output-damaged-resume", run_args(), damaged_output,
     ["out.h5", "damaged (M:", "nothing was run", "salvage"]),
    ("plot-damaged", lambda tmp: ["plot", str(tmp / "out.h5")], damaged_output,
     ["out.h5", "is damaged (M:"]),
    ("salvage-new-exists", lambda tmp: ["salvage", str(tmp / "out.h5"), str(tmp / "c.yaml")],
     complete_output, ["c.yaml", "exists"]),
    ("salvage-folder-missing", lambda tmp: ["salvage", str(tmp / "out.h5"),
                                            str(tmp / "nowhere" / "new.h5")],
     complete_output, ["nowhere", "does not exist"]),
    ("plot-out-is-a-file", lambda tmp: ["plot", str(tmp / "out.h5"), "--out",
                                        str(tmp / "out.h5")], complete_output,
     ["--out", "out.h5: is a file, not a folder"]),
    ("plot-out-empty", lambda tmp: ["plot", str(tmp / "out.h5"), "--out", ""], complete_output,
     ["--out = '': name a folder"]),
    ("plot-missing-file", lambda tmp: ["plot", str(tmp / "none.h5"), "--out",
                                       str(tmp / "figs")], None, ["none.h5", "no such file"]),
    ("verify-missing-file", lambda tmp: ["verify", str(tmp / "none.h5")], None,
     ["none.h5", "no such file"]),
    ("verify-not-hdf5", lambda tmp: ["verify", str(tmp / "out.h5")], not_hdf5_file,
     ["out.h5", "not an HDF5 file"]),
]


def snapshot(folder):
    return {p.relative_to(folder): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("argv_of, setup, words", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_bad_input_exits_2_with_one_line_and_touches_nothing(tmp_path, capsys, argv_of,
                                                             setup, words):
    argv = argv_of(tmp_path)
    if setup:
        setup(tmp_path)
    before = snapshot(tmp_path)
    capsys.readouterr()
    assert main(argv) == 2
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("isingneuron: error: "), err
    for w in words:
        assert w in lines[0], (w, lines[0])
    assert snapshot(tmp_path) == before          # output absent or unchanged; nothing new


def test_table_is_large_enough():
    assert len(CASES) >= 30


def test_dask_missing_gives_an_install_hint(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)      # import fails
    cfg = config(tmp_path)
    assert main(["run", str(cfg), "--dask", "tcp://127.0.0.1:1"]) == 2
    err = capsys.readouterr().err
    assert "pip install 'isingneuron[distributed]'" in err
    assert not (tmp_path / "out.h5").exists()


def test_unreachable_scheduler_is_refused_before_any_file(tmp_path, capsys, monkeypatch):
    pytest.importorskip("distributed")
    import isingneuron.sweep as sweep
    monkeypatch.setattr(sweep.DaskCluster, "connect_timeout", 1)
    assert main(["run", str(config(tmp_path)), "--dask", "tcp://127.0.0.1:1"]) == 2
    assert "cannot connect to the Dask scheduler" in capsys.readouterr().err
    assert not (tmp_path / "out.h5").exists()


@pytest.mark.parametrize("case", ["unknown-key", "output-corrupt", "config-missing"])
def test_entry_point_exits_2_without_traceback(tmp_path, case):
    _, argv_of, setup, words = next(c for c in CASES if c[0] == case)
    argv = argv_of(tmp_path)
    if setup:
        setup(tmp_path)
    before = snapshot(tmp_path)
    res = subprocess.run([str(ENTRY), *argv], capture_output=True, text=True)
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("isingneuron: error: "), res.stderr
    assert all(w in lines[0] for w in words) and "Traceback" not in res.stderr
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("command", [[], ["run"], ["sweep"], ["status"], ["plot"], ["bench"],
                                     ["info"], ["verify"], ["salvage"], ["paper"], ["config"]])
def test_help_everywhere_with_examples(capsys, command):
    assert main([*command, "--help"]) == 0
    out = capsys.readouterr().out
    assert "usage: isingneuron" in out and "examples:" in out


def test_run_status_plot_force_new(tmp_path, capsys):
    cfg = config(tmp_path, sweep_grid({"protocol.depth": [1.0, 2.5]}))
    assert main(["run", str(cfg), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "2 points, 0 already complete" in out
    assert "dwell m>=0.9 (sweeps)" in out and "spikes" in out and "protocol.depth=2.5" in out
    assert main(["status", str(tmp_path / "out.h5")]) == 0
    out = capsys.readouterr().out
    assert "points:   2/2 done, 0 failed" in out and "depth: 2.0" in out
    assert main(["plot", str(tmp_path / "out.h5")]) == 0
    pngs = sorted(tmp_path.glob("out_*.png"))
    assert len(pngs) == 2 and all(p.read_bytes()[:4] == b"\x89PNG" for p in pngs)
    # another depth: refused on the same file, accepted with --force-new (a fresh file)
    cfg = config(tmp_path, sweep_grid({"protocol.depth": [1.5]}))
    assert main(["sweep", str(cfg), "--no-progress"]) == 2
    assert main(["sweep", str(cfg), "--no-progress", "--force-new"]) == 0
    assert file_status(tmp_path / "out.h5")["n_points"] == 1


def test_update_order_in_summary_file_and_one_warning_for_checkerboard_metropolis(tmp_path,
                                                                                capsys):
    import warnings
    cfg = config(tmp_path, sweep_grid({"update": ["random_sequential", "checkerboard"]}))
    with warnings.catch_warnings(record=True) as caught:    # the command line's line only
        warnings.simplefilter("always")
        assert main(["run", str(cfg), "--no-progress"]) == 0
    assert not [w for w in caught if "ballistic" in str(w.message)], caught
    cap = capsys.readouterr()
    warned = [line for line in cap.err.splitlines() if "warning" in line]
    assert len(warned) == 1 and "ballistic" in warned[0] and "random_sequential" in warned[0]
    assert "metropolis (random_sequential)" in cap.out and "metropolis (checkerboard)" in cap.out
    with h5py.File(tmp_path / "out.h5", "r") as f:
        assert sorted(g.attrs["update"] for g in f["points"].values()) == \
            ["checkerboard", "random_sequential"]
    # physical kinetics: no warning at all
    cfg = config(tmp_path, output="rs.h5")
    assert main(["run", str(cfg), "--no-progress"]) == 0
    assert "warning" not in capsys.readouterr().err


def test_shipped_quench_config_runs_and_prints_spike_counts(tmp_path):
    res = subprocess.run([str(ENTRY), "run", str(CONFIGS / "quench.yaml"), "--output",
                          str(tmp_path / "q.h5")], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert "spikes" in res.stdout and "1 point done" in res.stdout
    assert file_status(tmp_path / "q.h5")["done"] == 1


def test_info_and_a_tiny_benchmark(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "numba:" in out and "numba cache dir:" in out and "numba threads:" in out
    lines = []
    res = bench.run_benchmark([(8, 1)], target_s=0.002, dynamics=("metropolis",),
                              out=lines.append)
    assert res["rows"] and all(r["flips_per_ns"] > 0 and r["L"] == 8 for r in res["rows"])
    assert lines[0].startswith("isingneuron engine benchmark")


def _deny_writes(monkeypatch, *paths):
    """os.access says no write for ``paths`` (tests run as root, who may write anywhere)."""
    denied = {os.path.realpath(p) for p in paths}
    real = os.access

    def access(path, mode, *a, **k):
        if mode & os.W_OK and os.path.realpath(path) in denied:
            return False
        return real(path, mode, *a, **k)
    monkeypatch.setattr(os, "access", access)


def test_an_output_folder_that_cannot_be_written_is_refused_before_any_work(tmp_path, capsys,
                                                                           monkeypatch):
    """A read-only folder was found only after the kernels had compiled and the run
    had begun, and the message named the journal (a new user's report)."""
    out = tmp_path / "ro"
    out.mkdir()
    cfg = config(tmp_path, output="ro/x.h5")
    _deny_writes(monkeypatch, out)
    before = snapshot(tmp_path)
    capsys.readouterr()
    assert main(["run", str(cfg), "--no-progress"]) == 2
    cap = capsys.readouterr()
    err = cap.err.strip().splitlines()
    assert len(err) == 1 and f"folder {out} is not writable" in err[0], err
    assert "running" not in cap.out and snapshot(tmp_path) == before


@pytest.mark.parametrize("case", ["resume", "force-new", "nothing-to-do"])
def test_a_read_only_output_file_is_not_replaced(tmp_path, capsys, monkeypatch, case):
    """Resuming (or --force-new on) a file the user made read-only replaced it with a
    new, writable file (a new user's report): it is refused and left as it was.
    A file with nothing left to run is only read: that run succeeds."""
    cfg = config(tmp_path, sweep_grid({"protocol.depth": [1.0, 1.5]}))
    assert main(["run", str(cfg), "--no-progress"]) == 0
    out = tmp_path / "out.h5"
    extra = []
    if case == "resume":                              # one point left to run
        with h5py.File(out, "a") as f:
            del f["points"][sorted(f["points"])[0]]
    elif case == "force-new":
        cfg, extra = config(tmp_path, proto(depth=0.5)), ["--force-new"]
    out.chmod(0o444)
    _deny_writes(monkeypatch, out)
    before = snapshot(tmp_path)
    capsys.readouterr()
    rc = main(["run", str(cfg), "--no-progress", *extra])
    err = capsys.readouterr().err.strip().splitlines()
    assert snapshot(tmp_path) == before and out.stat().st_mode & 0o777 == 0o444
    if case == "nothing-to-do":
        assert rc == 0 and not err
        return
    assert rc == 2 and len(err) == 1 and "the file is read-only" in err[0], err
    assert str(out) in err[0]
    with pytest.raises(RecorderError, match="the file is read-only"):
        Recorder(out, "a")


def test_plot_makes_its_out_folder_as_paper_does(tmp_path, capsys):
    """`plot --out DIR` refused a missing DIR, though the command's own example names
    a new one and `paper` makes its OUTDIR (a new user's report); a file it cannot
    plot (missing, or without a complete point) makes no folder."""
    assert main(["plot", str(tmp_path / "none.h5"), "--out", str(tmp_path / "f1")]) == 2
    with Recorder(tmp_path / "empty.h5", "x", config_text="x: 1\n") as rec:
        rec.open_point("p", 2)                               # never finalised
    assert main(["plot", str(tmp_path / "empty.h5"), "--out", str(tmp_path / "f2")]) == 2
    assert "no complete point to plot" in capsys.readouterr().err
    assert not (tmp_path / "f1").exists() and not (tmp_path / "f2").exists()
    assert main(["run", str(config(tmp_path)), "--no-progress"]) == 0
    assert main(["plot", str(tmp_path / "out.h5"), "--out", str(tmp_path / "a" / "b")]) == 0
    assert list((tmp_path / "a" / "b").glob("out_*.png"))


def test_kernels_get_a_cache_folder_where_numba_finds_none(tmp_path):
    """A read-only install run by a user without a writable home: Numba finds no
    folder for its cache and refused to define a cached kernel, so every command,
    `info` too, failed with a traceback (a new user's report, as user nobody).
    The locators Numba may use are narrowed here to the two that find nothing
    (no NUMBA_CACHE_DIR, no IPython): the kernels must then cache in a folder of
    the temporary directory, the same for every process of the user, and `info`
    must say where."""
    import numpy

    import numba

    from isingneuron import _rng
    if not hasattr(numba.config, "CACHE_LOCATOR_CLASSES"):
        pytest.skip("this Numba cannot narrow its cache locators (NUMBA_CACHE_LOCATOR_CLASSES)")
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env.update(NUMBA_CACHE_LOCATOR_CLASSES="UserProvidedCacheLocator,IPythonCacheLocator",
               TMPDIR=str(tmp_path))
    code = ("import numpy as np\n"
            "from isingneuron import _rng\n"
            "print(int(_rng.mix64(np.uint64(1))))\n")
    runs = [subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                           text=True, timeout=300) for _ in range(2)]
    for r in runs:
        assert r.returncode == 0, r.stderr
        assert int(r.stdout) == int(_rng.mix64(numpy.uint64(1)))
    folders = list(tmp_path.glob("isingneuron-numba-*"))
    assert len(folders) == 1 and list(folders[0].rglob("_rng.mix64-*.nbi"))
    info = subprocess.run([str(ENTRY), "info"], env=env, capture_output=True, text=True,
                          timeout=300)
    assert info.returncode == 0, info.stderr
    assert f"numba cache dir: {folders[0]}" in info.stdout and "a temporary folder" in info.stdout
    assert folders[0].stat().st_mode & 0o777 == 0o700
    # a folder others may write to (or a file) at that name is not used: Numba
    # unpickles what it finds in its cache
    folders[0].chmod(0o777)
    again = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                           text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    made = set(tmp_path.glob("isingneuron-numba-*")) - {folders[0]}
    assert len(made) == 1 and list(made.pop().rglob("_rng.mix64-*.nbi"))


def test_goals_table_measures_every_goal():
    """The side-by-side goals table (``isingneuron bench``) at tiny sizes: every goal
    has a finite figure; the size goals that do not depend on the machine hold."""
    from isingneuron.bench_goals import run_goals
    tiny = dict(L1=32, Rpop=8, Lpop=8, sweeps=60, Lrec=16, Rrec=4, Lm=256, Lw=16,
                target=0.002, mcising=False)
    lines = []
    res = run_goals(cold=False, out=lines.append, sizes=tiny)
    rows = {r["goal"]: r for r in res["rows"]}
    assert all(math.isfinite(r["measured"]) for r in rows.values())
    assert all(r["measured"] > 0 for g, r in rows.items() if "flips" in r["unit"])
    for part in ("single lattice L=32", "population 8 x L=8", "paper's quench job",
                 "record cost", "records in memory", "records on disk", "peak memory",
                 "import isingneuron", "Wolff"):
        assert any(part in g for g in rows), part
    assert rows["records in memory (paper's quench job)"]["met"] is True
    # speeds and record costs are the goals at its sizes: no verdict at tiny ones
    sized = [r for r in rows.values() if r["unit"] in ("flips/ns", "% of a sweep",
                                                       "spins flipped/ns")]
    assert len(sized) >= 10 and all(r["met"] is None for r in sized)
    assert lines[0].startswith("performance goals") and "not judged" in lines[1]
    assert len(lines) == len(rows) + 4
    json.dumps(res)                                   # --json writes it


def test_verify_status_salvage_then_resume_recomputes_only_the_damaged_point(tmp_path,
                                                                             capsys):
    cfg = config(tmp_path, sweep_grid({"protocol.depth": [1.0, 1.5, 2.5]}))
    assert main(["run", str(cfg), "--no-progress"]) == 0
    clean = {n: read_point(tmp_path / "out.h5", n).m.tobytes()
             for n in file_status(tmp_path / "out.h5")["points"]}
    with h5py.File(tmp_path / "out.h5", "r") as f:
        victim = sorted(f["points"])[1]
        info = f[f"points/{victim}/M"].id.get_chunk_info(0)
    with open(tmp_path / "out.h5", "r+b") as fh:
        fh.seek(info.byte_offset + info.size // 2)
        b = fh.read(1)
        fh.seek(-1, 1)
        fh.write(bytes([b[0] ^ 0x01]))
    capsys.readouterr()
    assert main(["verify", str(tmp_path / "out.h5")]) == 1
    out = capsys.readouterr().out
    assert f"damaged {victim}: M:" in out and "1 of 3 points damaged" in out
    assert main(["status", str(tmp_path / "out.h5")]) == 0
    out = capsys.readouterr().out
    assert "2/3 done" in out and "1 damaged" in out and f"damaged {victim}" in out
    assert main(["salvage", str(tmp_path / "out.h5"), str(tmp_path / "ok.h5")]) == 0
    assert f"copied 2 intact points to {tmp_path / 'ok.h5'}; left out 1 damaged: {victim}" \
        in capsys.readouterr().out
    assert main(["verify", str(tmp_path / "ok.h5")]) == 0
    assert main(["run", str(cfg), "--no-progress", "--output", str(tmp_path / "ok.h5")]) == 0
    assert "3 points, 2 already complete" in capsys.readouterr().out
    again = {n: read_point(tmp_path / "ok.h5", n).m.tobytes()
             for n in file_status(tmp_path / "ok.h5")["points"]}
    assert again == clean                          # the lost point recomputed bit for bit


def test_a_second_run_on_the_same_output_names_the_writer(tmp_path):
    heavy = {**BASE, "lattice": {"L": 96, "boundary": "plus"}, "replicas": 8, "sweeps": 40000}
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({**heavy, "output": str(tmp_path / "out.h5")}))
    first = subprocess.Popen([str(ENTRY), "run", str(path), "--no-progress"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert first.stdout.readline().startswith("t: 1 point")
        for _ in range(100):                       # the recorder opens just after
            if (tmp_path / "out.h5.journal" / "lock").exists():
                break
            time.sleep(0.05)
        res = subprocess.run([str(ENTRY), "run", str(path), "--no-progress"],
                             capture_output=True, text=True)
        assert res.returncode == 2
        line = res.stderr.strip().splitlines()
        assert len(line) == 1 and f"another isingneuron process (pid {first.pid} on" in line[0]
        st = subprocess.run([str(ENTRY), "status", str(tmp_path / "out.h5")],
                            capture_output=True, text=True)
        assert st.returncode == 0 and f"writer:   pid {first.pid} on" in st.stdout
        for _ in range(100):                       # the point's progress, in sweeps
            st = subprocess.run([str(ENTRY), "status", str(tmp_path / "out.h5")],
                                capture_output=True, text=True)
            if "sweeps done" in st.stdout:
                break
            time.sleep(0.1)
        assert "/40000 sweeps done" in st.stdout, st.stdout
    finally:
        first.kill()
        first.wait()


def test_uncached_kernels_are_detected_for_the_first_run_message(tmp_path):
    """The command line announces a first compilation for the kernels the run's
    lattices will call (engine.kernel_names), and only those."""
    from isingneuron.engine import kernel_names
    assert kernel_names(32, 16) == ("_rs_replica_range",)
    assert kernel_names(1024, 1) == ("_rs_replica_range_large",)
    assert kernel_names(32, 64, "glauber", "checkerboard") == ("kernels_packed._group_range",)
    assert kernel_names(32, 64, "wolff") == ("_wolff_range",)
    assert kernel_names(32, 2, "glauber", "checkerboard", parallel="replicas") == ("_flat_range",)
    assert kernel_names(256, 2, "glauber", "checkerboard", parallel="replicas") == ("_rows_range",)
    code = ("from isingneuron.kernels import uncached; "
            "print(uncached(['_rs_replica_range', '_flat_range', "
            "'kernels_packed._group_range', '_wolff_range']))")
    cold = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)})
    assert cold.stdout.strip() == ("['_rs_replica_range', '_flat_range', "
                                   "'kernels_packed._group_range', '_wolff_range']"
                                   ), cold.stderr
    from isingneuron import kernels
    from isingneuron.engine import simulate
    simulate(4, 2.0, 1, replicas=1)                 # compiled (or loaded) and cached here
    assert kernels.uncached(kernel_names(4, 1)) == []
    simulate(4, 2.0, 1, replicas=64, dynamics="glauber", update="checkerboard")   # packed
    assert kernels.uncached(kernel_names(4, 64, "glauber", "checkerboard")) == []


def test_paper_subcommand_dispatches_to_the_paper_and_network_mains(monkeypatch, capsys):
    import isingneuron.network.cli as network_cli
    import isingneuron.paper.run as paper_run
    seen = []
    monkeypatch.setattr(paper_run, "main",
                        lambda argv, prog: seen.append(("paper", argv, prog)) or 0)
    monkeypatch.setattr(network_cli, "main",
                        lambda argv, prog: seen.append(("network", argv, prog)) or 0)
    assert main(["paper", "out", "--quick", "--only", "activation"]) == 0
    assert main(["paper", "network", "net", "--quick"]) == 0
    assert seen == [("paper", ["out", "--quick", "--only", "activation"], "isingneuron paper"),
                    ("network", ["net", "--quick"], "isingneuron paper network")]
    assert main(["paper"]) == 2
    assert "OUTDIR is required" in capsys.readouterr().err


def test_plot_of_a_depth_sweep_draws_its_transfer_curve(tmp_path, capsys):
    cfg = config(tmp_path, sweep_grid({"protocol.depth": [0.5, 1.5, 2.5]}))
    assert main(["run", str(cfg), "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["plot", str(tmp_path / "out.h5")]) == 0
    printed = capsys.readouterr().out.split()
    assert str(tmp_path / "out_transfer.png") in printed and len(printed) == 3 + 2
    assert (tmp_path / "out_transfer.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "out_transfer.pdf").read_bytes()[:4] == b"%PDF"


def test_a_protocol_the_run_ends_before_is_flagged(tmp_path, capsys, monkeypatch):
    """A quench timed after the last sweep never happens: the config is valid, but
    `config --check` and `run` say so once (a new user's report: at = 500 with
    sweeps = 20 ran without a word). Protocols that change inside the run say
    nothing, whether or not they reach their lowest temperature in it (fractional
    times, a ramp over the whole run, a table: a reviewer's cases), and the check
    reads the protocol's parameters, not a population's replicas x sweeps
    temperatures."""
    from isingneuron.config import unreached_protocol
    from isingneuron.schedules import Schedule
    late = config(tmp_path, proto(at=40))                     # sweeps 0..39
    assert main(["config", "--check", str(late)]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["isingneuron: warning: the protocol first changes the temperature at sweep "
                   "40, after the run's 40 sweeps: it never happens in this run; raise sweeps "
                   "or move the protocol's times"], err

    def check(protocol, sweeps=40):
        d = {**BASE, "protocol": protocol, "sweeps": sweeps, "output": "x.h5"}
        return unreached_protocol(parse_config(yaml.safe_dump(d)))
    monkeypatch.setattr(Schedule, "temperatures", lambda *a, **k: 1 / 0)   # never evaluated
    quench = {"kind": "quench", "bath": 3.0, "depth": 2.0, "rate": 0.1}
    for inside in ({**quench, "at": 39}, {**quench, "at": 10.5}, {**quench, "at": 0},
                   {"kind": "quench_train", "bath": 3.0, "depths": [1.0, 1.0], "period": 10,
                    "at": 0.5, "rate": 0.1},
                   {"kind": "ramp", "start": 3.0, "stop": 1.0, "duration": 1000},
                   {"kind": "table", "times": [0, 1000], "temperatures": [3.0, 1.0]},
                   {"kind": "constant", "T": 2.0},
                   {"kind": "population", "gaussian_quenches": {
                       "bath": 3.0, "mean_depth": 1.0, "sd_depth": 0.2, "at": 5, "rate": 0.1}}):
        assert check(inside) is None, inside
    for outside in ({**quench, "at": 40.5},
                    {"kind": "quench_train", "bath": 3.0, "depths": [0.0, 1.0],
                     "times": [5, 45], "rate": 0.1},
                    {"kind": "ramp", "start": 3.0, "stop": 1.0, "duration": 5, "at": 40},
                    {"kind": "table", "times": [0, 40, 50], "temperatures": [3.0, 3.0, 1.0]},
                    {"kind": "population", "gaussian_quenches": {
                        "bath": 3.0, "mean_depth": 1.0, "sd_depth": 0.2, "at": 60,
                        "rate": 0.1}}):
        assert check(outside).startswith("the protocol first changes"), outside
    monkeypatch.undo()
    swept = config(tmp_path, lambda d: d.update(sweep={"grid": {"protocol.at": [5, 40, 50]}}))
    assert main(["run", str(swept), "--no-progress"]) == 0
    err = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert len(err) == 2 and all("(point protocol.at=" in line for line in err), err
    assert main(["config", "--check", str(config(tmp_path))]) == 0
    assert "warning" not in capsys.readouterr().err
