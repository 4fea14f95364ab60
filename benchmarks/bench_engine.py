"""Engine throughput (flips/ns against baselines) and the performance goals table.

Usage::

    python benchmarks/bench_engine.py            # full table (~1-2 minutes)
    python benchmarks/bench_engine.py --quick    # small sizes only
    python benchmarks/bench_engine.py --json out.json

A thin wrapper: the measuring code is :mod:`isingneuron.bench` (also run by
``isingneuron bench``); this script writes benchmarks/results/engine.json by
default.
"""
from __future__ import annotations

import argparse

from isingneuron import bench
from isingneuron.bench_goals import run_goals


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes only")
    ap.add_argument("--no-cold", action="store_true",
                    help="skip the first-run timing with an empty kernel cache")
    ap.add_argument("--json", default="benchmarks/results/engine.json",
                    help="where to write the results (JSON)")
    args = ap.parse_args(argv)
    result = bench.run_benchmark(bench.QUICK_CASES if args.quick else bench.CASES)
    print()
    result["goals"] = run_goals(quick=args.quick, cold=not args.no_cold)
    bench.write_json(result, args.json)
    print(f"written {args.json}")


if __name__ == "__main__":
    main()
