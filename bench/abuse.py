"""Abuse benchmark: ``/healthz`` latency while anonymous clients send huge login bodies.

``python -m bench abuse``. Three attacker processes post a 3.5 MB login body of
300,000 unknown keys in a loop (half with ``Content-Length``, half chunked) while a
prober asks ``/healthz`` every 20 ms. Measured with the request body limit on (the
default 1 MiB) and, as the baseline in the same run, with the limit out of the way
(``max_body_bytes`` = 1 GB), so every body is read and parsed. Reported: median and
p99 of ``/healthz`` per configuration, medians over rounds, and the size of the
answers the attackers got.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402

from tests.helpers import serve_app  # noqa: E402
from tests.services import free_port  # noqa: E402

ATTACKERS, ROUNDS, SECONDS = 3, 3, 6.0
ctx = mp.get_context("spawn")


def _body() -> bytes:
    body: dict[str, Any] = {"username": "ann", "password": "x" * 12}
    body.update({f"k{i}": 0 for i in range(300_000)})
    return json.dumps(body).encode()


def attack(base_url: str, seconds: float) -> tuple[int, int]:
    """Post the huge body in a loop for ``seconds``; return requests and largest answer."""
    body, sent, largest = _body(), 0, 0
    deadline = time.monotonic() + seconds
    with httpx.Client(base_url=base_url, timeout=120) as client:
        while time.monotonic() < deadline:
            chunked = sent % 2 == 1
            content: Any = (
                (body[i : i + 65536] for i in range(0, len(body), 65536)) if chunked else body
            )
            answer = client.post(
                "/api/v1/auth/login", content=content, headers={"Content-Type": "application/json"}
            )
            largest = max(largest, len(answer.content))
            sent += 1
    return sent, largest


def probe(base_url: str, stop: threading.Event) -> list[float]:
    """Ask ``/healthz`` every 20 ms until ``stop``; return the latencies in s."""
    latencies = []
    with httpx.Client(base_url=base_url, timeout=60) as client:
        while not stop.is_set():
            start = time.monotonic()
            client.get("/healthz").raise_for_status()
            latencies.append(time.monotonic() - start)
            time.sleep(0.02)
    return latencies


def one_round(base_url: str) -> tuple[float, float, int, int]:
    """One attack; return healthz median and p99 (ms), requests sent, largest answer."""
    stop = threading.Event()
    found: list[float] = []
    prober = threading.Thread(target=lambda: found.extend(probe(base_url, stop)))
    prober.start()
    with ctx.Pool(ATTACKERS) as pool:
        results = pool.starmap(attack, [(base_url, SECONDS)] * ATTACKERS)
    stop.set()
    prober.join()
    ordered = sorted(found)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return (
        1000 * statistics.median(found),
        1000 * p99,
        sum(r[0] for r in results),
        max(r[1] for r in results),
    )


def measure(label: str, max_body_bytes: int) -> None:
    """Serve a seeded backend with one body limit and attack it ``ROUNDS`` times."""
    from backend.config import Settings
    from backend.database import create_all, make_engine, make_session_factory
    from backend.main import create_app
    from backend.seed import seed_demo

    with tempfile.TemporaryDirectory(prefix="werkplek-abuse-") as tmp:
        url = f"sqlite:///{tmp}/werkplek.sqlite3"
        engine = make_engine(url)
        create_all(engine)
        with make_session_factory(engine)() as session:
            seed_demo(session)
            session.commit()
        engine.dispose()
        settings = Settings(database_url=url, mqtt_enabled=False, max_body_bytes=max_body_bytes)
        with serve_app(create_app(settings), free_port()) as base_url:
            rounds = [one_round(base_url) for _ in range(ROUNDS)]
    median = statistics.median(r[0] for r in rounds)
    p99 = statistics.median(r[1] for r in rounds)
    sent = statistics.median(r[2] for r in rounds)
    largest = max(r[3] for r in rounds)
    print(
        f"{label:<34} healthz median {median:7.1f} ms  p99 {p99:8.1f} ms  "
        f"attack requests/round {sent:5.0f}  largest answer {largest:,} B"
    )


def main() -> None:
    """Measure with the limit and, as the baseline, without it."""
    print(f"{ATTACKERS} attackers, 3.5 MB / 300,000-key login bodies, {SECONDS:.0f} s x {ROUNDS}")
    measure("baseline: no body limit (1 GB)", 10**9)
    measure("body limit 1 MiB (default)", 1024 * 1024)


if __name__ == "__main__":
    main()
