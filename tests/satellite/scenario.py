"""The satellite link scenario, shared by the network test and ``python -m bench satellite``.

Delay and 5 % loss on the line while the node publishes; the line cut for
``cut_s``; healed; the node stops and everything it sent must be stored at the
centre once. Observed all along: the site's screen (space states from the
site's own broker and gateway) and the central backend's view of the site.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.satellite.netlab import NetLab
from tests.services import wait_until


@dataclass
class Outcome:
    """What was counted and timed."""

    sent: int = 0
    stored: int = 0
    stored_duplicates: int = 0
    missing: list[tuple[str, int]] = field(default_factory=list)
    #: Seconds from the cut until the centre showed every site space unknown (site_offline).
    unknown_after_cut_s: float | None = None
    #: Any site space shown free/occupied by the centre between that moment and the heal.
    live_during_cut: int = 0
    #: Seconds from the heal until the centre showed every site space live again.
    live_after_heal_s: float | None = None
    #: Samples of the site's own backend (its signage) during the cut, and how many of
    #: them showed one of the sensored spaces not live.
    local_samples_during_cut: int = 0
    local_not_live_during_cut: int = 0
    #: Space states the site's screen got during the cut, and the longest gap (s).
    screen_updates_during_cut: int = 0
    screen_longest_gap_s: float = 0.0
    #: Seconds from the heal until the last sent message was stored centrally.
    drained_after_heal_s: float | None = None
    reasons_during_cut: Counter[str] = field(default_factory=Counter)
    #: Redelivered copies the central gateway recognised and did not store again.
    deduplicated: int | None = None

    def summary(self) -> str:
        """One line of figures for the test output and the bench."""
        return (
            f"sent {self.sent}, stored {self.stored}, duplicates {self.stored_duplicates}, "
            f"missing {len(self.missing)}; centre unknown {self.unknown_after_cut_s} s after the "
            f"cut, live {self.live_after_heal_s} s after the heal (live views during the cut: "
            f"{self.live_during_cut}); site backend live in "
            f"{self.local_samples_during_cut - self.local_not_live_during_cut} of "
            f"{self.local_samples_during_cut} reads during the cut; site MQTT screen: "
            f"{self.screen_updates_during_cut} updates "
            f"during the cut, longest gap {self.screen_longest_gap_s:.1f} s; backlog stored "
            f"{self.drained_after_heal_s} s after the heal; the central gateway counted "
            f"{self.deduplicated} redelivered copies (not stored again)"
        )


class Watch:
    """Polls one backend's view of the site in a thread, with timestamps."""

    def __init__(self, fetch: Callable[[], list[dict[str, Any]]], interval: float = 0.25) -> None:
        self.fetch = fetch
        self.interval = interval
        self.samples: list[tuple[float, list[dict[str, Any]]]] = []
        self.errors = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="site-watch", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.samples.append((time.monotonic(), self.fetch()))
            except Exception:  # noqa: BLE001 - counted; a slow answer is not the test's subject
                self.errors += 1
            self._stop.wait(self.interval)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=15)


def sensored(spaces: list[dict[str, Any]], space_ids: set[str]) -> list[dict[str, Any]]:
    return [s for s in spaces if s["space_id"] in space_ids]


def all_live(spaces: list[dict[str, Any]]) -> bool:
    return bool(spaces) and all(s["availability"] in ("free", "occupied", "booked") for s in spaces)


def all_site_offline(spaces: list[dict[str, Any]]) -> bool:
    return bool(spaces) and all(
        s["availability"] == "unknown" and s["reason"] == "site_offline" for s in spaces
    )


def run(
    lab: NetLab, *, cut_s: float, lossy_s: float = 6.0, rate: float = 4.0, devices: int = 4
) -> Outcome:
    """Run the scenario on a started lab and return what was counted."""
    chosen = lab.devices[:devices]
    ids = {space for _device, space in chosen}
    lab.start_screen()
    # The site's bridge is linked and the central view of the site is live.
    wait_until(
        lambda: "New bridge connected" in lab.log("central-broker"), 60, 0.2, what="bridge linked"
    )
    lab.set_loss(0.05)
    lab.start_node(rate, [device for device, _space in chosen])
    wait_until(
        lambda: all_live(sensored(lab.central_site(), ids)),
        60,
        0.3,
        what="centre shows the site live",
    )
    watch, local = Watch(lab.central_site), Watch(lab.local_site)
    out = Outcome()
    try:
        time.sleep(lossy_s)
        cut_at = time.monotonic()
        lab.cut()
        time.sleep(cut_s)
        heal_at = time.monotonic()
        lab.heal()
        wait_until(
            lambda: any(t > heal_at and all_live(sensored(v, ids)) for t, v in watch.samples),
            60,
            0.2,
            what="centre live again after the heal",
        )
        time.sleep(2)  # a little traffic after the heal, through the lossy line again
        lab.stop("node")
        wait_until(lambda: lab.sent() is not None, 60, 0.2, what="node finished")
        sent = lab.sent() or []
        wanted = set(sent)
        wait_until(lambda: wanted <= set(lab.stored()), 120, 0.5, what="every sent message stored")
        drained_at = time.monotonic()
    finally:
        watch.close()
        local.close()
    stored = [row for row in lab.stored() if row[0] in {d for d, _s in chosen}]
    out.sent, out.stored = len(sent), len(stored)
    out.stored_duplicates = sum(n - 1 for n in Counter(stored).values() if n > 1)
    out.missing = sorted(wanted - set(stored))
    out.drained_after_heal_s = round(drained_at - heal_at, 1)
    counters = lab.central_counters()
    out.deduplicated = counters.get("duplicate", 0) if counters else None
    for t, view in watch.samples:
        mine = sensored(view, ids)
        if cut_at <= t <= heal_at:
            out.reasons_during_cut.update(s["reason"] for s in mine)
            if out.unknown_after_cut_s is None and all_site_offline(mine):
                out.unknown_after_cut_s = round(t - cut_at, 1)
            if out.unknown_after_cut_s is not None and any(
                s["availability"] in ("free", "occupied", "booked") for s in mine
            ):
                out.live_during_cut += 1
        if t > heal_at and out.live_after_heal_s is None and all_live(mine):
            out.live_after_heal_s = round(t - heal_at, 1)
    for t, view in local.samples:
        if cut_at <= t <= heal_at:
            out.local_samples_during_cut += 1
            out.local_not_live_during_cut += not all_live(sensored(view, ids))
    cut_ms, heal_ms = _wall(cut_at), _wall(heal_at)
    times = [line["t"] for line in lab.screen_lines() if line["space"] in ids]
    during = [t for t in times if cut_ms <= t <= heal_ms]
    out.screen_updates_during_cut = len(during)
    edges = [cut_ms, *during, heal_ms]
    out.screen_longest_gap_s = max(b - a for a, b in zip(edges, edges[1:], strict=False)) / 1000
    return out


def _wall(monotonic_s: float) -> int:
    """A monotonic instant as wall-clock ms (the screen logs wall-clock times)."""
    return int((time.time() - (time.monotonic() - monotonic_s)) * 1000)
