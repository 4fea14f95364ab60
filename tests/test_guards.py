"""Guards against bad input: sizes that cannot fit, hostile config files, library misuse.

Every case is refused up front with ONE line naming the parameter (or key, or
path) and what is allowed: a ValueError from the library, exit status 2 from
the command line with the folder untouched. Memory cases run against a fake
"available memory" (monkeypatched), so they refuse before allocating anything
and do not depend on the machine; the sizes of the command-line table in
test_cli.py are beyond any machine.
"""
import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

import isingneuron.simulation as simmod
from isingneuron import Lattice, Simulation, equilibrium, resources, simulate
from isingneuron.cli import main
from isingneuron.config import (MAX_CONFIG_BYTES, ConfigError, dask_address_problem,
                                parse_config)
from isingneuron.schedules import Population, Quench
from isingneuron.traces import Traces

GiB = 1 << 30
ENTRY = Path(sys.executable).with_name("isingneuron")
Q = Quench(3.0, 2.0, 5, 0.1)

BASE = {"lattice": {"L": 8, "boundary": "plus"},
        "protocol": {"kind": "quench", "bath": 3.0, "depth": 2.0, "at": 5, "rate": 0.1},
        "replicas": 2, "sweeps": 40, "seed": 11, "output": "out.h5"}


@pytest.fixture
def two_gib(monkeypatch):
    """This 'machine' has 2 GiB available."""
    monkeypatch.setattr(resources, "available_memory", lambda: 2 * GiB)


def one_line(exc_info):
    msg = str(exc_info.value)
    assert "\n" not in msg and len(msg) < 600, msg
    return msg


def text(**changes):
    data = yaml.safe_load(yaml.safe_dump(BASE))
    data.update(changes)
    return yaml.safe_dump(data, sort_keys=False)


def snapshot(folder):
    return {p.relative_to(folder): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


# ------------------------------------------------------------------ resources
def test_available_memory_and_units():
    avail = resources.available_memory()
    assert avail is None or (isinstance(avail, int) and avail > 0)
    assert [resources.format_bytes(n) for n in (0, 1023, 1024, 1.5 * GiB, 7.3 * 2**40)] == \
        ["0 B", "1023 B", "1.0 KiB", "1.5 GiB", "7.3 TiB"]
    assert resources.MAX_L ** 2 < 2**31 <= (resources.MAX_L + 1) ** 2


def test_estimate_counts_state_records_snapshots_and_temperatures():
    est = resources.estimate(64, 4, 1000, chunk=None)
    assert est.parts["lattice state"] == 64 * 64 * 4
    assert est.parts["temperatures"] >= 8 * 4 * 1000            # the (R, n) float64 array
    assert est.parts["records"] >= 16 * 4 * 1000     # M, B (int32) and T per replica per record
    kept = resources.estimate(64, 4, 10**6, chunk=100, keep=True)
    dropped = resources.estimate(64, 4, 10**6, chunk=100, keep=False)
    assert kept.total > dropped.total and kept.parts["records"] >= 2 * 16 * 4 * 10**6
    snaps = resources.estimate(64, 4, 1000, snapshot_every=10, chunk=10)
    assert snaps.parts["snapshots"] >= 100 * 64 * 64 * 4
    assert resources.estimate(128, 4).total > resources.estimate(64, 4).total


def test_check_says_what_it_needs_and_what_there_is():
    est = resources.estimate(1000, 1000, 10)
    with pytest.raises(ValueError) as info:
        resources.check("plan", est, available=GiB)
    msg = one_line(info)
    assert msg.startswith("plan needs ") and "of memory" in msg and "1.0 GiB available" in msg
    resources.check("plan", resources.estimate(8, 1, 10), available=GiB)     # fits: no error


# ------------------------------------------------------------ library: sizes
SIZE_CASES = [
    ("simulate-L-million", lambda: simulate(10**6, 2.0, 10),
     ["simulate: L = 1000000", "at most 46340", "int32", "TiB of memory", "2.0 GiB available"]),
    ("lattice-beyond-int32", lambda: Lattice(46341), ["Lattice: L = 46341", "at most 46340"]),
    ("simulation-L-2-to-31", lambda: Simulation(2**31, 2.0),
     ["Simulation: L = 2147483648", "at most 46340"]),
    ("simulate-too-many-sweeps", lambda: simulate(64, 2.0, 10**7, replicas=16),
     ["simulate: L = 64 with 16 replicas and n_sweeps = 10000000", "needs", "GiB of memory",
      "2.0 GiB available"]),
    ("simulate-too-many-replicas", lambda: simulate(8, 2.0, 10, replicas=10**10),
     ["simulate: L = 8 with 10000000000 replicas", "needs", "fewer sweeps or replicas"]),
    ("simulate-huge-lattice", lambda: simulate(40000, Q, 10, replicas=2),
     ["simulate: L = 40000 with 2 replicas", "initial state", "lattice state"]),
    ("lattice-run-temperature-array", lambda: Lattice(8).run(10**12, 2.0, record_every=10**12),
     ["Lattice.run: L = 8 with 1 replica and n_sweeps = 1000000000000", "temperatures"]),
    ("simulation-run-records", lambda: Simulation(8, Q).run(10**12),
     ["Simulation.run", "n_sweeps = 1000000000000", "records", "raise record_every"]),
    ("simulation-run-snapshots", lambda: Simulation(64, Q, replicas=4, snapshot_every=1)
     .run(10**6), ["Simulation.run", "snapshots", "raise snapshot_every"]),
    ("equilibrium-too-long", lambda: equilibrium(8, 2.0, "metropolis", n_sweeps=10**13),
     ["equilibrium: L = 8 with 1 replica and n_sweeps = 10000000000000", "needs"]),
    ("equilibrium-thermalise-too-long",
     lambda: equilibrium(8, 2.0, "metropolis", n_thermalise=10**13),
     ["equilibrium", "n_thermalise = 10000000000000", "needs"]),
    ("gaussian-population-absurd",
     lambda: Population.gaussian_quenches(10**12, 3.0, 1.0, 0.2, 5, 0.1, seed=1),
     ["Population.gaussian_quenches", "n = 1000000000000", "of memory", "available"]),
    ("schedule-temperatures-absurd", lambda: Q.temperatures(10**15),
     ["Quench", "n_sweeps = 1000000000000000", "of memory"]),
]


@pytest.mark.parametrize("call, words", [c[1:] for c in SIZE_CASES],
                         ids=[c[0] for c in SIZE_CASES])
def test_plans_that_cannot_fit_are_refused_before_allocating(two_gib, call, words):
    t0 = time.perf_counter()
    with pytest.raises(ValueError) as info:
        call()
    msg = one_line(info)
    for w in words:
        assert w in msg, (w, msg)
    assert time.perf_counter() - t0 < 5          # refused, not attempted


def test_a_plan_that_fits_still_runs(two_gib):
    tr = simulate(8, Q, 40, replicas=2, seed=1)
    assert tr.m.shape == (2, 40)


# ----------------------------------------------------------- library: misuse
POP3 = Population([Quench(3.0, d, 5, 0.1) for d in (1.0, 1.5, 2.0)])

MISUSE_CASES = [
    ("temperatures-bool", dict(temperatures=True), ["temperatures = True", "a temperature > 0"]),
    ("temperatures-numpy-bool", dict(temperatures=np.bool_(True)), ["temperatures = np.True_"]),
    ("temperatures-complex", dict(temperatures=2 + 1j), ["temperatures = (2+1j)", "must be"]),
    ("temperatures-complex-array", dict(temperatures=np.full(10, 2 + 0j)),
     ["temperatures = array(", "must be"]),
    ("temperatures-bool-array", dict(temperatures=np.ones(10, bool)), ["temperatures = array("]),
    ("temperatures-string", dict(temperatures="2.0"), ["temperatures = '2.0'"]),
    ("temperatures-none", dict(temperatures=None), ["temperatures = None"]),
    ("temperatures-mapping", dict(temperatures={"T": 2.0}), ["temperatures = {'T': 2.0}"]),
    ("temperatures-ragged", dict(temperatures=[[2.0], [2.0, 3.0]]), ["temperatures = [[2.0]"]),
    ("population-wrong-size", dict(temperatures=POP3, replicas=2),
     ["temperatures: the Population has 3 schedules for replicas = 2"]),
    ("array-wrong-shape", dict(temperatures=np.full((3, 10), 2.0), replicas=2),
     ["temperatures has shape (3, 10)", "(replicas, n_sweeps) = (2, 10)"]),
    ("field-array", dict(field=np.ones(3)), ["field = array([1., 1., 1.])", "real number"]),
    ("field-bool", dict(field=True), ["field = True", "real number"]),
    ("field-complex", dict(field=1j), ["field = 1j", "real number"]),
    ("field-nan", dict(field=float("nan")), ["field = nan", "finite"]),
    ("n-sweeps-zero", dict(n_sweeps=0), ["n_sweeps = 0", "integer >= 1"]),
    ("n-sweeps-float", dict(n_sweeps=10.0), ["n_sweeps = 10.0", "integer >= 1"]),
    ("dynamics-list", dict(dynamics=["metropolis"]), ["dynamics = ['metropolis']", "allowed"]),
    ("boundary-array", dict(boundary=np.array(["plus", "open"])), ["boundary = array(",
                                                                    "allowed are periodic"]),
    ("replicas-huge-string", dict(replicas="x" * 10_000), ["replicas = 'xxx", "..."]),
]


@pytest.mark.parametrize("kw, words", [c[1:] for c in MISUSE_CASES],
                         ids=[c[0] for c in MISUSE_CASES])
def test_simulate_misuse_names_the_parameter(kw, words):
    args = dict(L=8, temperatures=2.0, n_sweeps=10)
    args.update(kw)
    with pytest.raises(ValueError) as info:
        simulate(**args)
    msg = one_line(info)
    for w in words:
        assert w in msg, (w, msg)


OTHER_MISUSE = [
    ("equilibrium-zero-sweeps", lambda: equilibrium(8, 2.0, n_sweeps=0),
     ["n_sweeps = 0", "integer >= 4"]),
    ("equilibrium-three-sweeps", lambda: equilibrium(8, 2.0, "metropolis", n_sweeps=3),
     ["n_sweeps = 3", ">= 4"]),
    ("equilibrium-T-bool", lambda: equilibrium(8, True), ["T = True", "real number"]),
    ("equilibrium-wolff-plus", lambda: equilibrium(8, 2.0, "wolff", boundary="plus"),
     ["algorithm = 'wolff' needs boundary = 'periodic'"]),
    ("equilibrium-wolff-field", lambda: equilibrium(8, 2.0, "wolff", field=0.1),
     ["algorithm = 'wolff' needs", "field = 0"]),
    ("equilibrium-wolff-bad-boundary", lambda: equilibrium(8, 2.0, "wolff", boundary="open"),
     ["boundary = 'open'", "allowed are periodic, plus"]),
    ("equilibrium-T-complex", lambda: equilibrium(8, 2j), ["T = 2j", "real number"]),
    ("equilibrium-T-array", lambda: equilibrium(8, np.ones(2)), ["T = array(", "real number"]),
    ("equilibrium-thermalise", lambda: equilibrium(8, 2.0, n_thermalise=-1),
     ["n_thermalise = -1", ">= 0"]),
    ("equilibrium-blocks", lambda: equilibrium(8, 2.0, "metropolis", n_sweeps=8, n_blocks=1),
     ["n_blocks = 1", ">= 2"]),
    ("equilibrium-algorithm", lambda: equilibrium(8, 2.0, ["wolff"]),
     ["algorithm = ['wolff']", "allowed"]),
    ("simulation-protocol-bool", lambda: Simulation(8, True), ["protocol = True"]),
    ("simulation-protocol-string", lambda: Simulation(8, "hot"), ["protocol = 'hot'"]),
    ("simulation-population-size", lambda: Simulation(8, POP3, replicas=2),
     ["protocol: the Population has 3 schedules for replicas = 2"]),
    ("simulation-record-every", lambda: Simulation(8, Q, record_every=0),
     ["record_every = 0", ">= 1"]),
    ("simulation-snapshot-every", lambda: Simulation(8, Q, snapshot_every=1.5),
     ["snapshot_every = 1.5", ">= 1"]),
    ("simulation-L", lambda: Simulation(1, Q), ["L = 1", ">= 2"]),
    ("simulation-run-negative", lambda: Simulation(8, Q).run(-4),
     ["n_sweeps = -4", "non-negative"]),
    ("lattice-run-population-size", lambda: Lattice(8, 2).run(10, POP3),
     ["temperatures: the Population has 3 schedules for replicas = 2"]),
]


@pytest.mark.parametrize("call, words", [c[1:] for c in OTHER_MISUSE],
                         ids=[c[0] for c in OTHER_MISUSE])
def test_other_misuse_names_the_parameter(call, words):
    with pytest.raises(ValueError) as info:
        call()
    msg = one_line(info)
    for w in words:
        assert w in msg, (w, msg)


def test_lattice_run_zero_sweeps_stays_allowed_and_zero_d_arrays_are_numbers():
    lat = Lattice(8, 2, seed=1)
    assert lat.run(0, 2.0).m.shape == (2, 0)            # Simulation and paper code rely on it
    assert simulate(8, np.float64(2.0), 4, field=np.array(0.1)).m.shape == (1, 4)


def test_simulation_keeps_one_copy_of_the_spins_not_one_per_chunk(monkeypatch):
    monkeypatch.setattr(simmod, "_CHUNK_FLIPS", 8 * 8 * 2 * 4)       # 4 sweeps a chunk
    seen = []
    real = Traces.concatenate

    def spy(parts):
        seen.extend(parts)
        return real(parts)
    monkeypatch.setattr(simmod.Traces, "concatenate", staticmethod(spy))
    sim = Simulation(8, Q, replicas=2, seed=3)
    tr = sim.run(40)
    assert len(seen) == 10 and all(p.spins is None for p in seen)
    np.testing.assert_array_equal(tr.spins, sim.spins)
    one = simulate(8, Q, 40, replicas=2, seed=3)
    np.testing.assert_array_equal(tr.m, one.m)
    np.testing.assert_array_equal(tr.spins, one.spins)


# ------------------------------------------------------------------- configs
def test_yaml_merge_keys_are_accepted():
    merged = parse_config("""
lattice: {L: 8, boundary: plus}
protocol: &q {kind: quench, bath: 3.0, depth: 2.0, at: 5, rate: 0.1}
sweeps: 40
output: out.h5
sweep:
  grid:
    protocol:
      - *q
      - {<<: *q, depth: 1.0}
      - <<: [*q]
        rate: 0.2
""")
    got = [(p.config.schedule.depth, p.config.schedule.rate) for p in merged.points()]
    assert got == [(2.0, 0.1), (1.0, 0.1), (2.0, 0.2)]
    with pytest.raises(ConfigError, match="'rate' appears twice"):
        parse_config("lattice: {L: 8}\nprotocol: &q {kind: constant, T: 2.0}\nsweeps: 4\n"
                     "output: o.h5\nsweep: {grid: {protocol: [{<<: *q, rate: 1, rate: 2}]}}\n")


def test_alias_bomb_is_refused_quickly_and_small_aliases_work():
    levels = ["&l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    levels += [f"&l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 9)]
    bomb = text() + "name: [" + ", ".join(levels) + "]\n"
    assert len(bomb) < 1000
    t0 = time.perf_counter()
    with pytest.raises(ConfigError) as info:
        parse_config(bomb, "bomb.yaml")
    assert "bomb.yaml: YAML aliases expand to more than 1000000 values" in one_line(info)
    assert time.perf_counter() - t0 < 5
    ok = parse_config(text() + "analysis: {theta: &t 0.8, theta_on: *t}\n")
    assert ok.analysis.theta == ok.analysis.theta_on == 0.8


def test_config_text_over_the_limit_is_refused():
    with pytest.raises(ConfigError) as info:
        parse_config(text() + "#" * MAX_CONFIG_BYTES, "big.yaml")
    assert "big.yaml: config text is" in one_line(info) and "at most 1048576" in str(info.value)


@pytest.mark.parametrize("changes, words", [
    ({"name": ["x" * 100] * 10_000}, ["name = [", "...", "must be a string"]),
    ({"sweep": {"grid": {"q" * 10_000: [1]}}}, ["is not a key of this config", "..."]),
    ({"protocol": {"kind": "table", "times": list(range(5000)), "temperatures": "x" * 5000}},
     ["protocol.temperatures", "..."]),
])
def test_huge_values_give_short_messages(changes, words):
    with pytest.raises(ConfigError) as info:
        parse_config(text(**changes))
    msg = one_line(info)
    for w in words:
        assert w in msg, (w, msg)


@pytest.mark.parametrize("address, ok", [
    ("tcp://10.0.0.1:8786", True), ("10.0.0.1:8786", True), ("scheduler:8786", True),
    ("tls://sched.example.org:8786", True), ("tcp://[::1]:8786", True), ("inproc://x/1/2", True),
    ("not an address", False), ("tcp://10.0.0.1", False), ("tcp://10.0.0.1:99999", False),
    ("http://10.0.0.1:8786", False), ("tcp://:8786", False), ("tcp://[::1]", False),
    ("", False), ("tcp://host:port", False),
])
def test_dask_addresses(address, ok):
    assert (dask_address_problem(address) is None) == ok


def test_the_issue_snapshot_plan_is_refused_at_load_with_two_gib(two_gib, tmp_path, capsys):
    cfg = tmp_path / "snap.yaml"
    cfg.write_text(text(lattice={"L": 512, "boundary": "plus"}, replicas=64, sweeps=20000,
                        snapshot_every=1, output=str(tmp_path / "out.h5")))
    before = snapshot(tmp_path)
    t0 = time.perf_counter()
    assert main(["run", str(cfg)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "lattice.L = 512 with replicas = 64, sweeps = 20000" in err[0]
    assert "snapshot_every = 1 needs" in err[0] and "2.0 GiB available" in err[0]
    assert "raise snapshot_every" in err[0]
    assert time.perf_counter() - t0 < 10 and snapshot(tmp_path) == before


def test_a_sweep_point_that_cannot_fit_is_named(two_gib):
    with pytest.raises(ConfigError) as info:
        parse_config(text(sweep={"grid": {"replicas": [2, 10**7]}}))
    msg = one_line(info)
    assert msg.startswith("sweep point replicas=10000000: lattice.L = 8 with replicas = 10000000")
    assert "needs" in msg and "2.0 GiB available" in msg


# --------------------------------------------------- the installed entry point
def _entry(argv, cwd, timeout=60):
    t0 = time.perf_counter()
    res = subprocess.run([str(ENTRY), *argv], capture_output=True, text=True, cwd=cwd,
                         timeout=timeout)
    return res, time.perf_counter() - t0


@pytest.mark.parametrize("case", ["dev-zero", "fifo", "dask-not-an-address"])
def test_entry_point_refuses_quickly_without_traceback(tmp_path, case):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(text(output=str(tmp_path / "out.h5")))
    argv = {"dev-zero": ["run", "/dev/zero"],
            "fifo": ["run", str(tmp_path / "fifo.yaml")],
            "dask-not-an-address": ["run", str(cfg), "--dask", "not an address"]}[case]
    if case == "fifo":
        os.mkfifo(tmp_path / "fifo.yaml")
    before = snapshot(tmp_path)
    res, seconds = _entry(argv, tmp_path)
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("isingneuron: error: "), res.stderr
    assert "Traceback" not in res.stderr and seconds < 15
    assert snapshot(tmp_path) == before and not (tmp_path / "out.h5").exists()
