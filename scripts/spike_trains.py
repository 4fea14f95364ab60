#!/usr/bin/env python
"""Spike trains and rates (isingneuron.paper.spike_trains, Figure 9): f-I curves,
the refractory interval and adaptation, lattice against mean-field dynamics.

Runs configs/studies/spike_trains.yaml (trains of 6 quenches, 3 depths x 11 periods;
~30 s on 2 cores) and configs/studies/spike_trains_refractory.yaml (pairs of inputs,
3 depths x 40 spacings; ~1 min) with `isingneuron run`, then writes to --out:
fig9_spike_trains.png/pdf, spike_trains.md (report section) and spike_trains.json.

    python scripts/spike_trains.py
    python scripts/spike_trains.py --skip-run --out output/studies/spike_trains
"""

import sys

from _study_script import main

if __name__ == "__main__":
    sys.exit(main("spike_trains", __doc__, ["configs/studies/spike_trains.yaml",
                                            "configs/studies/spike_trains_refractory.yaml"]))
