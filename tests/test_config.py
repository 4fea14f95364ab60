"""Experiment configs: the shipped configs, sweep expansion, canonical point ids,
stored config text, and the messages of invalid configs (the command-line
table of bad inputs is in test_cli.py)."""
from pathlib import Path

import pytest
import yaml

from isingneuron.config import (ConfigError, config_diff, load_config, parse_config,
                                stored_text)
from isingneuron.schedules import ONSAGER_TC, Population, Quench

CONFIGS = Path(__file__).resolve().parents[1] / "configs"

BASE = {"lattice": {"L": 8, "boundary": "plus"},
        "protocol": {"kind": "quench", "bath": 3.0, "depth": 2.0, "at": 5, "rate": 0.1},
        "replicas": 2, "sweeps": 40, "seed": 11, "output": "out.h5"}


def parse(**changes):
    data = yaml.safe_load(yaml.safe_dump(BASE))
    data.update(changes)
    return parse_config(yaml.safe_dump(data, sort_keys=False), "test.yaml")


def error_of(**changes):
    with pytest.raises(ConfigError) as info:
        parse(**changes)
    return str(info.value)


@pytest.mark.parametrize("name, n_points", [("quench", 1), ("activation", 22),
                                            ("equilibrium", 11), ("benchmark", 4),
                                            ("population", 1)])
def test_shipped_configs_load(name, n_points):
    cfg = load_config(CONFIGS / f"{name}.yaml")
    assert len(cfg.points()) == n_points
    assert cfg.output == f"output/{name}.h5"
    # small by design: `make run` and the examples finish in seconds
    work = sum(p.config.lattice.L ** 2 * p.config.replicas * p.config.sweeps for p in cfg.points())
    assert work < 2e9


def test_defaults_and_schedule():
    cfg = parse()
    assert (cfg.dynamics, cfg.record_every, cfg.initial, cfg.snapshot_every) == \
        ("metropolis", 1, "random", None)
    assert cfg.lattice.field == 0.0 and cfg.analysis.theta == 0.9
    assert cfg.executor.kind == "local" and cfg.executor.workers is None
    assert cfg.schedule == Quench(3.0, 2.0, 5, 0.1)
    assert cfg.protocol.depth == 2.0 and isinstance(cfg.protocol.at, float)   # canonical
    assert [p.params for p in cfg.points()] == [{}]


def test_units_tc_and_population_defaults():
    cfg = parse(protocol={"kind": "constant", "T": 0.5, "units": "Tc"})
    assert cfg.schedule(0) == pytest.approx(0.5 * ONSAGER_TC)
    cfg = parse(replicas=5, protocol={"kind": "population", "gaussian_quenches": {
        "bath": 3.0, "mean_depth": 1.0, "sd_depth": 0.3, "at": 5, "rate": 0.1}})
    assert isinstance(cfg.schedule, Population) and cfg.schedule.n_replicas == 5
    assert cfg.protocol.gaussian_quenches.seed == 11          # the config's seed
    same = Population.gaussian_quenches(5, 3.0, 1.0, 0.3, 5, 0.1, seed=11)
    assert cfg.schedule == same


def test_yaml_reads_exponents_and_refuses_repeated_keys():
    text = yaml.safe_dump(BASE).replace("rate: 0.1", "rate: 1e-1")
    assert "1e-1" in text and parse_config(text).schedule.rate == 0.1
    with pytest.raises(ConfigError, match="line .*'seed' appears twice"):
        parse_config(yaml.safe_dump(BASE) + "seed: 3\n")


def test_ranges_linspace_and_step_are_inclusive():
    cfg = parse(sweep={"grid": {"protocol.depth": {"start": 0.0, "stop": 2.5, "num": 11}}})
    assert [p.params["protocol.depth"] for p in cfg.points()] == \
        [0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.25, 2.5]
    cfg = parse(sweep={"grid": {"lattice.L": {"start": 8, "stop": 32, "step": 8}}})
    assert [p.params["lattice.L"] for p in cfg.points()] == [8, 16, 24, 32]
    cfg = parse(sweep={"grid": {"lattice.L": {"start": 8, "stop": 16, "num": 3}}})
    assert [p.params["lattice.L"] for p in cfg.points()] == [8, 12, 16]      # ints stay ints
    cfg = parse(sweep={"grid": {"protocol.rate": {"start": 0.1, "stop": 0.3, "step": 0.1}}})
    assert [p.params["protocol.rate"] for p in cfg.points()] == [0.1, 0.2, 0.3]


def test_grid_is_a_product_and_zip_advances_together():
    cfg = parse(sweep={"grid": {"protocol.depth": [1.0, 2.0],
                                "dynamics": ["metropolis", "glauber"]},
                       "zip": {"lattice.L": [8, 12, 9], "replicas": [1, 2, 3]}})
    pts = cfg.points()
    assert len(pts) == 2 * 2 * 3
    assert pts[0].params == {"protocol.depth": 1.0, "dynamics": "metropolis", "lattice.L": 8,
                             "replicas": 1}
    assert pts[-1].params == {"protocol.depth": 2.0, "dynamics": "glauber", "lattice.L": 9,
                              "replicas": 3}
    for p in pts:       # each point's config carries its values, and no sweep section
        assert p.config.lattice.L == p.params["lattice.L"] and p.config.sweep is None
        assert p.config.schedule.depth == p.params["protocol.depth"]


def test_point_ids_are_canonical_and_order_free():
    a = parse(sweep={"grid": {"protocol.depth": [1, 2], "dynamics": ["metropolis", "glauber"]}})
    b = parse(sweep={"grid": {"dynamics": ["glauber", "metropolis"], "protocol.depth": [2.0, 1.0]}})
    ids_a, ids_b = [p.id for p in a.points()], [p.id for p in b.points()]
    assert sorted(ids_a) == sorted(ids_b) and ids_a != ids_b     # same points, another order
    assert len(set(ids_a)) == 4 and all(len(i) == 16 for i in ids_a)
    assert a.points()[0].params == {"protocol.depth": 1.0, "dynamics": "metropolis"}
    assert a.points()[0].label == "protocol.depth=1 dynamics=metropolis"
    with pytest.raises(ConfigError, match="appears twice"):
        parse(sweep={"grid": {"protocol.depth": [1, 1.0]}})


def test_whole_protocol_can_be_swept():
    cfg = parse(sweep={"grid": {"protocol": [{"kind": "constant", "T": 2.0},
                                             {"kind": "ramp", "start": 3, "stop": 1,
                                              "duration": 20}]}})
    assert [type(p.config.schedule).__name__ for p in cfg.points()] == ["Constant", "Ramp"]


def test_stored_text_ignores_where_and_how_it_runs():
    a = parse()
    b = parse(output="elsewhere.h5", executor={"kind": "local", "workers": 3},
              analysis={"theta": 0.8})
    assert stored_text(a) == stored_text(b)
    c = parse(protocol={**BASE["protocol"], "depth": 1.0})
    assert stored_text(a) != stored_text(c)
    assert "protocol.depth: 2 in the file, 1 now" in config_diff(stored_text(a), stored_text(c))
    assert "output" not in yaml.safe_load(stored_text(a))


def test_executor_shorthand_and_rules():
    assert parse(executor="dask").executor.kind == "dask"
    assert "only used with executor.kind: dask" in error_of(
        executor={"kind": "local", "address": "tcp://x:1"})


@pytest.mark.parametrize("changes, words", [
    ({"lattise": 1}, ["unknown key 'lattise'", "did you mean 'lattice'", "allowed"]),
    ({"lattice": {"L": 8, "boundry": "plus"}}, ["lattice.boundry", "'boundary'"]),
    ({"protocol": {**BASE["protocol"], "dpeth": 1}}, ["protocol.dpeth", "'depth'"]),
    ({"protocol": {k: v for k, v in BASE["protocol"].items() if k != "rate"}},
     ["missing required key 'protocol.rate'", "kind quench"]),
    ({"lattice": {"L": 1}}, ["lattice.L = 1", "greater than or equal to 2"]),
    ({"lattice": {"L": True}}, ["lattice.L = True", "integer"]),
    ({"protocol": {**BASE["protocol"], "depth": 3.5}}, ["protocol", "bath - depth", "> 0"]),
    ({"protocol": {**BASE["protocol"], "rate": -1}}, ["protocol.rate = -1", "> 0"]),
    ({"protocol": {"kind": "quench_train", "bath": 3, "depths": [1, -2], "times": [1, 5],
                   "rate": 0.1}}, ["protocol.depths[1] = -2", ">= 0"]),
    ({"replicas": 2, "protocol": {"kind": "population", "schedules": [
        {"kind": "constant", "T": 1.0}, {"kind": "constant", "T": 0}]}},
     ["protocol.schedules[1].T = 0", "> 0"]),
    ({"protocol": {"kind": "population", "gaussian_quenches": {
        "bath": 3.0, "mean_depth": 1.0, "sd_depth": -1, "at": 5, "rate": 0.1}}},
     ["protocol.gaussian_quenches.sd_depth = -1", ">= 0"]),
    ({"protocol": 5}, ["protocol = 5", "mapping", "'kind'"]),
    ({"snapshot_every": 30}, ["sweeps = 40", "snapshot_every = 30"]),
    ({"sweep": {"grid": {"protocol.depth": [1.0]}, "zip": {"protocol.depth": [2.0]}}},
     ["both grid and zip"]),
    ({"sweep": {"grid": {"protocol": [{"kind": "constant", "T": 1}],
                         "protocol.depth": [1.0]}}}, ["overlap"]),
    ({"sweep": {"grid": {"analysis.theta": [0.5, 0.9]}}}, ["cannot be swept"]),
    ({"sweep": {"grid": {"protocol.depth": {"start": 0, "stop": 1, "step": 0.5, "num": 3}}}},
     ["exactly one of 'num'", "'step'"]),
    ({"sweep": {"grid": {"protocol.depth": {"start": 0, "stop": 1, "nm": 3}}}},
     ["sweep.grid.protocol.depth.nm", "'num'"]),
    ({"sweep": {"grid": {"protocol.depth": 1.0}}}, ["must be a list of values or a range"]),
    ({"sweep": {}}, ["sweep", "grid", "zip"]),
    ({"lattice": {"L": 46341}}, ["lattice.L = 46341", "at most 46340", "int32"]),
    ({"sweeps": 10**15}, ["sweeps = 1000000000000000", "needs", "of memory", "available"]),
    ({"executor": {"kind": "dask", "address": "scheduler"}},
     ["executor.address = 'scheduler'", "HOST:PORT"]),
    ({"output": "x" * 300 + ".h5"}, ["output: file name", "303 bytes long"]),
])
def test_messages_name_the_key_and_the_rule(changes, words):
    msg = error_of(**changes)
    for w in words:
        assert w in msg, (w, msg)
    assert "\n" not in msg


def test_update_order_defaults_to_random_sequential_and_is_stored():
    cfg = parse()
    assert cfg.update == "random_sequential"          # physical kinetics unless asked otherwise
    assert "update: random_sequential" in stored_text(cfg)
    assert parse(dynamics="glauber", update="checkerboard").update == "checkerboard"
    assert parse(dynamics="wolff", lattice={"L": 8}).update is None


def test_update_order_can_be_swept():
    cfg = parse(dynamics="glauber", sweep={"grid": {"update": ["random_sequential",
                                                               "checkerboard"]}})
    assert [p.config.update for p in cfg.points()] == ["random_sequential", "checkerboard"]


@pytest.mark.parametrize("changes,words", [
    (dict(update="typewriter"), ["update", "'typewriter'", "random_sequential"]),
    (dict(update="checkerboard", lattice={"L": 9, "boundary": "plus"}), ["update", "even L"]),
    (dict(update="checkerboard", lattice={"L": 2}), ["not ergodic", "L = 2"]),
    (dict(dynamics="wolff", update="checkerboard", lattice={"L": 8}), ["wolff", "update"]),
])
def test_bad_update_orders_name_the_problem(changes, words):
    msg = error_of(**changes)
    assert "\n" not in msg.strip()
    for w in words:
        assert w in msg, msg


def test_config_reference_is_generated_and_docs_are_up_to_date():
    from isingneuron.config import Config
    from isingneuron.config_doc import config_reference
    text = config_reference()
    for key in Config.model_fields:                       # every top-level key documented
        assert f"| `{key}` |" in text, key
    for key in ("lattice.L", "protocol.depth", "protocol.gaussian_quenches.sd_depth",
                "executor.address", "sweep.grid", "analysis.theta_off"):
        assert f"| `{key}` |" in text, key
    assert "| `update` | random_sequential \\| checkerboard or none |" in text
    docs = Path(__file__).resolve().parents[1] / "docs" / "config.md"
    assert docs.read_text() == text + "\n", "regenerate: isingneuron config --schema > docs/config.md"
