#!/usr/bin/env python
"""Where the paper's ReLU holds, in membrane size L, reheating rate r and field h
(isingneuron.paper.relu_regime, Figure 8).

Runs configs/studies/relu_regime.yaml (transfer curves: L = 16 ... 256, r = 0.0005 ...
0.02 J/sweep, h in {0, 0.02, 0.05, 0.1} J; 30 min on 2 cores) and
configs/studies/relu_regime_ordering.yaml (ordering times t_order(L, T, h); 2 min)
with `isingneuron run` (a killed run resumes: rerun the same command), then writes to
--out: fig8_relu_regime.png/pdf (transfer curves, ordering times, scaling collapse,
phase diagrams in the (L, 1/r) plane, mean field against the lattice),
relu_regime.md (the report section, with the phase diagram's verdict per (L, r, h))
and relu_regime.json (every number).

    python scripts/relu_regime.py                  # run both configs, then analyse
    python scripts/relu_regime.py --skip-run       # analyse the files already there
    python scripts/relu_regime.py --dask tcp://host:8786
    python scripts/relu_regime.py --config my_grid.yaml configs/studies/relu_regime_ordering.yaml

A smaller grid: copy the config, shorten its lists, give it another `output`.
"""

import sys

from _study_script import main

if __name__ == "__main__":
    sys.exit(main("relu_regime", __doc__, ["configs/studies/relu_regime.yaml",
                                           "configs/studies/relu_regime_ordering.yaml"]))
