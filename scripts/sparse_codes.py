#!/usr/bin/env python
"""Sparse codes (isingneuron.paper.sparse_codes, Figure 10; the paper's section III.A):
populations of 256 neurones with Gaussian inputs; the fraction of silent neurones and
the Treves-Rolls sparseness of their spike counts against the mean input, lattice
(L = 16 ... 128) against mean field and the quasi-static ReLU.

Runs configs/studies/sparse_codes.yaml with `isingneuron run` (~4-5 min on 2 cores),
then writes to --out: fig10_sparse_codes.png/pdf, sparse_codes.md (report section)
and sparse_codes.json.

    python scripts/sparse_codes.py
    python scripts/sparse_codes.py --skip-run
"""

import sys

from _study_script import main

if __name__ == "__main__":
    sys.exit(main("sparse_codes", __doc__, ["configs/studies/sparse_codes.yaml"]))
