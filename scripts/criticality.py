#!/usr/bin/env python
"""Criticality (isingneuron.paper.criticality, Figure 11; the paper's section III.C):
gain and threshold of the transfer curve as the resting temperature approaches Tc
from above. Is the membrane most sensitive near criticality?

Runs configs/studies/criticality.yaml (L = 16, 32, 64 x 10 baths from 3.0 to 2.28 J x
13 depths; ~3 min on 2 cores) with `isingneuron run`, then writes to --out:
fig11_criticality.png/pdf, criticality.md (report section) and criticality.json.

    python scripts/criticality.py
    python scripts/criticality.py --skip-run
"""

import sys

from _study_script import main

if __name__ == "__main__":
    sys.exit(main("criticality", __doc__, ["configs/studies/criticality.yaml"]))
