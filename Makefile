# Two commands do all the set-up on a fresh machine:
#   make run    -- creates .venv, installs isingneuron, runs the main job
#   make test   -- creates .venv, installs isingneuron[dev,distributed,paper], runs the tests
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,distributed,paper]"
	touch $(STAMP)

run: $(STAMP)
	mkdir -p output
	$(BIN)/isingneuron run configs/quench.yaml
	$(BIN)/python -m isingneuron.paper output/paper

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_engine.py

clean:
	rm -rf $(VENV) output
