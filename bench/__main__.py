"""Run every benchmark, or the ones named: ``python -m bench [name ...]``.

A benchmark is any module in this folder with a ``main()`` (``_`` modules are
helpers); each prints its figures against a baseline measured in the same run.
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

# Options after the names go to each benchmark (``python -m bench soak --minutes 2``).
args = sys.argv[1:]
cut = next((i for i, arg in enumerate(args) if arg.startswith("-")), len(args))
names, options = args[:cut] or BENCHMARKS, args[cut:]
for name in names:
    if name not in BENCHMARKS:
        sys.exit(f"unknown benchmark {name!r}; known: {', '.join(BENCHMARKS)}")
    sys.argv = [f"bench {name}", *options]
    importlib.import_module(f"bench.{name}").main()
