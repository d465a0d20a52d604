"""A satellite site's line cut for five minutes: `python -m bench satellite [--cut-s 300]`.

The network test of ``make test`` (tests/satellite/test_satellite_link.py) cuts
the line for 25 s; this runs the same scenario (two namespaces, a veth line with
40 ms delay each way and 5 % loss, the site's broker bridged to the centre)
with the long cut of issue 17 and prints the counts: messages sent at the site,
stored centrally, duplicates, missing; how soon the centre showed the site
unknown and live again; whether the site's screen stayed live. Needs root.
Exit status 1 when a check fails.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.satellite import scenario  # noqa: E402
from tests.satellite.netlab import NetLab  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench satellite")
    parser.add_argument("--cut-s", type=float, default=300.0, help="how long the line is down")
    parser.add_argument("--rate", type=float, default=4.0, help="messages per second at the site")
    parser.add_argument("--keepalive-s", type=int, default=15, help="the bridge's keep-alive")
    args = parser.parse_args(sys.argv[1:])
    if os.geteuid() != 0:
        sys.exit("bench satellite needs root (ip netns, veth, iptables)")
    lab = NetLab(keepalive_s=args.keepalive_s, delay_ms=40)
    failed = []
    try:
        lab.start()
        out = scenario.run(lab, cut_s=args.cut_s, lossy_s=10, rate=args.rate, devices=4)
        print(
            f"satellite, {args.cut_s:.0f} s cut, keep-alive {args.keepalive_s} s: {out.summary()}"
        )
        checks = {
            "every message stored": not out.missing and out.stored == out.sent,
            "no duplicates": out.stored_duplicates == 0,
            "centre unknown during the cut": out.unknown_after_cut_s is not None,
            "never live at the centre during the cut": out.live_during_cut == 0,
            "centre live within 10 s after the heal": (out.live_after_heal_s or 99) <= 10,
            "site screen live (no gap of 5 s)": out.screen_longest_gap_s < 5,
            "site backend live in every read during the cut": out.local_samples_during_cut > 0
            and out.local_not_live_during_cut == 0,
        }
        for name, ok in checks.items():
            print(f"  {'ok  ' if ok else 'FAIL'} {name}")
        failed = [name for name, ok in checks.items() if not ok]
    finally:
        if failed:
            for name in ("site-broker", "central-broker", "gateway", "backend"):
                print(f"--- {name}\n{lab.log(name)[-2000:]}")
        lab.close()
        lab.remove_files()
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
