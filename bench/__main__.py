"""Run every benchmark, or the ones named: ``python -m bench [name ...]``."""

import importlib
import sys

BENCHMARKS = ["live_latency"]

names = sys.argv[1:] or BENCHMARKS
for name in names:
    if name not in BENCHMARKS:
        sys.exit(f"unknown benchmark {name!r}; known: {', '.join(BENCHMARKS)}")
    importlib.import_module(f"bench.{name}").main()
