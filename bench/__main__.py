"""Run every benchmark, or the ones named: ``python -m bench [name ...]``.

A benchmark is any module in this folder with a ``main()``; each prints its
figures against a baseline measured in the same run.
"""

import importlib
import pkgutil
import sys
from pathlib import Path

BENCHMARKS = sorted(
    info.name
    for info in pkgutil.iter_modules([str(Path(__file__).parent)])
    if not info.name.startswith("_")
)

names = sys.argv[1:] or BENCHMARKS
for name in names:
    if name not in BENCHMARKS:
        sys.exit(f"unknown benchmark {name!r}; known: {', '.join(BENCHMARKS)}")
    importlib.import_module(f"bench.{name}").main()
