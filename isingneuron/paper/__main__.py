"""``python -m isingneuron.paper OUTDIR [--quick] [--no-progress] [--activation-from FILE]``:
every experiment of :mod:`isingneuron.paper` (see :func:`isingneuron.paper.main`)."""

import sys

from .run import main

if __name__ == "__main__":          # pragma: no cover
    sys.exit(main())
