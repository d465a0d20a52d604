"""InfluxDB's memory under the soak's write rate, per ``[data]`` setting: a helper, not a benchmark.

``python -m bench._influx_memory [--seconds 690] [--restart-at 30] [VARIANT ...]``
starts one private InfluxDB per variant (``tests/services.py`` config plus the
variant's ``[data]`` lines), writes presence points of 2,000 devices at 85 a
second (the 10-minute soak's rate) in half-second batches, kills it (SIGKILL)
and starts it again at ``--restart-at``, samples its PSS every half second and
prints the growth from 60 s after the restart to the end, measured as the soak
does (medians of the first and last fifth), with the anonymous and file-backed
parts at the end.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx

from bench._soak_chain import rss_kib
from tests.services import InfluxDB

#: Lines replacing the ``[data]`` settings of tests/services.py (empty: as they are).
VARIANTS = {
    "inmem-25m": 'index-version = "inmem"\n  cache-snapshot-memory-size = "25m"\n'
    "  max-concurrent-compactions = 0\n",
    "tsi1-25m": 'index-version = "tsi1"\n  cache-snapshot-memory-size = "25m"\n'
    "  max-concurrent-compactions = 0\n",
    "inmem-1m": 'index-version = "inmem"\n  cache-snapshot-memory-size = "1m"\n'
    "  max-concurrent-compactions = 1\n",
    "as-configured": "",
}
RATE = 85
SETTLE_S = 60.0


class _Variant(InfluxDB):
    extra: str = ""

    def _write_config(self) -> Path:
        conf = super()._write_config()
        if self.extra:
            lines = [
                line
                for line in conf.read_text().splitlines(keepends=True)
                if not line.strip().startswith(
                    ("index-version", "cache-snapshot-memory-size", "max-concurrent-compactions")
                )
            ]
            text = "".join(lines).replace("[data]\n", "[data]\n  " + self.extra, 1)
            conf.write_text(text)
        return conf


def _line(rnd: random.Random, seq: int) -> str:
    d = rnd.randrange(2000)
    tags = f"device=d-{d:04d},floor=hq-{d % 3},kind=desk,site=hq"
    tags += f",space=hq.{d % 3}.{d:04d},zone=z{d % 7}"
    fields = f'boot=7i,clock_corrected=false,occupied={d % 2}i,seq={seq}i,source="pir"'
    return f"presence,{tags} {fields} {int(time.time() * 1000)}"


def measure(name: str, seconds: float, restart_at: float, out: dict[str, str]) -> None:
    """Run one variant and put its summary line in ``out``."""
    server = _Variant(workdir=Path(tempfile.mkdtemp(prefix=f"influx-memory-{name}-")))
    server.extra = VARIANTS[name]
    server.start()
    server.query('CREATE DATABASE "soak"')
    rnd, seq, up = random.Random(1), 0, -1.0
    samples: list[tuple[float, int]] = []
    start = time.time()
    with httpx.Client(timeout=10) as client:
        while (now := time.time() - start) < seconds:
            if up < 0 and now >= restart_at:
                server.kill()
                server.start()
                up = time.time() - start
            lines = []
            for _ in range(RATE // 2):
                seq += 1
                lines.append(_line(rnd, seq))
            try:
                client.post(
                    f"{server.url}/write",
                    params={"db": "soak", "precision": "ms"},
                    content="\n".join(lines),
                )
            except httpx.HTTPError:
                pass  # the restart: those points are simply not there
            assert server.proc is not None
            samples.append((time.time() - start, rss_kib(server.proc.pid)))
            time.sleep(0.5)
    assert server.proc is not None
    rollup = Path(f"/proc/{server.proc.pid}/smaps_rollup").read_text().splitlines()
    parts = {line.split()[0].rstrip(":"): int(line.split()[1]) for line in rollup[1:]}
    server.stop()
    window = [kib for at, kib in samples if at >= up + SETTLE_S]
    fifth = max(2, len(window) // 5)
    first, last = statistics.median(window[:fifth]), statistics.median(window[-fifth:])
    out[name] = (
        f"{name:14s} {first / 1024:5.1f} -> {last / 1024:5.1f} MiB ({(last - first) / first:+.0%}),"
        f" peak {max(k for _, k in samples) / 1024:.1f} MiB; at the end anonymous"
        f" {parts['Pss_Anon'] / 1024:.1f} MiB, files {parts['Pss_File'] / 1024:.1f} MiB"
    )


def main() -> None:
    """Measure the variants side by side (each is light: 85 points a second)."""
    parser = argparse.ArgumentParser(prog="python -m bench._influx_memory")
    parser.add_argument("--seconds", type=float, default=690.0)
    parser.add_argument("--restart-at", type=float, default=30.0)
    parser.add_argument("variants", nargs="*", help=f"some of {', '.join(VARIANTS)}")
    args = parser.parse_args()
    args.variants = args.variants or list(VARIANTS)
    unknown = set(args.variants) - set(VARIANTS)
    if unknown:
        parser.error(f"unknown variants: {', '.join(sorted(unknown))}")
    out: dict[str, str] = {}
    threads = [
        threading.Thread(target=measure, args=(name, args.seconds, args.restart_at, out))
        for name in args.variants
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for name in args.variants:
        print(out.get(name, f"{name}: failed"))  # noqa: T201 - a command-line report


if __name__ == "__main__":
    main()
