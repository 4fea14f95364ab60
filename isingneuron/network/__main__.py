"""``python -m isingneuron.network OUTDIR [--quick] [--layers 1|2|both] [--config FILE]``."""

import sys

from .cli import main

sys.exit(main())
