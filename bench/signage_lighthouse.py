"""Lighthouse (desktop preset) on the floor screen: this tree's signage against a baseline.

Baseline, measured in the same run on the same backend, broker and data: the signage
page as it was at ``--baseline`` (default ``9e94a49``, before the glance redesign of
issue 16: per-tile text measuring on every minute tick, a panel that grew as data came
in), taken from git with ``git archive``. Each side is audited ``--rounds`` times
(default 3) in turn; the medians of performance, total blocking time, layout shift and
largest contentful paint are printed. Needs tests/lighthouse (``npm ci`` there) and
Debian's Chromium. Run with ``python -m bench signage_lighthouse``.
"""

from __future__ import annotations

import argparse
import io
import statistics
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import tests.e2e.test_signage_screens as screens_mod  # noqa: E402
from tests.e2e.test_signage_lighthouse import audit  # noqa: E402
from tests.services import Mosquitto, make_tempdir, require_binary  # noqa: E402

KEYS = ("performance", "tbt_ms", "cls", "lcp_ms")


def _extract(ref: str, into: Path) -> Path:
    """The ``dashboards`` folder as it was at ``ref`` (the backend serves ``signage``)."""
    data = subprocess.run(
        ["git", "-C", str(REPO), "archive", ref, "dashboards"], check=True, capture_output=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(into, filter="data")
    return into / "dashboards" / "signage"


def _measure(signage_dir: Path | None, rounds: int, chromium: str) -> list[dict[str, Any]]:
    """Serve the demo floor (a third of the desks occupied) and audit it ``rounds`` times."""
    brokers: list[Mosquitto] = []

    def broker() -> Mosquitto:
        made = Mosquitto(workdir=make_tempdir("bench-lh-mqtt"))
        made.start()
        brokers.append(made)
        return made

    plain = screens_mod.backend_settings
    if signage_dir is not None:
        screens_mod.backend_settings = lambda tmp, **kw: plain(tmp, signage_dir=signage_dir, **kw)
    tmp = make_tempdir("bench-lh")
    try:
        with screens_mod.screens(tmp, broker, f"bench-lh-{rounds}") as s:
            ids = screens_mod.floor_ids(s, "hq-1")
            s.states({sid: ("occupied" if i % 3 == 0 else "vacant") for i, sid in enumerate(ids)})
            url = f"{s.url}/signage/?site=hq&floor=hq-1#token={s.signage_token}"
            return [audit(url, tmp / f"lh-{n}.json", chromium) for n in range(rounds)]
    finally:
        screens_mod.backend_settings = plain
        for made in brokers:
            made.stop()


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench signage_lighthouse")
    parser.add_argument("--baseline", default="9e94a49", help="git ref of the baseline signage")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    chromium = require_binary("chromium", "/usr/bin/chromium")
    old_dir = _extract(args.baseline, make_tempdir("bench-lh-old"))
    sides = {
        f"baseline {args.baseline}": _measure(old_dir, args.rounds, chromium),
        "this tree": _measure(None, args.rounds, chromium),
    }
    print(f"signage Lighthouse desktop, median of {args.rounds} rounds")
    print(f"{'':<20}{'perf':>6}{'TBT ms':>9}{'CLS':>8}{'LCP ms':>9}")
    for name, runs in sides.items():
        med = {k: statistics.median(r[k] for r in runs) for k in KEYS}
        print(
            f"{name:<20}{med['performance']:>6.0f}{med['tbt_ms']:>9.0f}"
            f"{med['cls']:>8.3f}{med['lcp_ms']:>9.0f}"
        )


if __name__ == "__main__":
    main()
