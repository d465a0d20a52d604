"""Bookings never hang: a held lock and a used-up pool give 503 + Retry-After in bounded time.

This is the hang of issue 14 made deterministic: a transaction outside the
backend holds a booking of the desk and does not finish. Before the bounds,
every booking of that desk waited on it for ever, each holding a pooled
connection, and once the pool was used up every other request waited too.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from tests.backend.conftest import always_open, bearer
from tests.backend.test_bookings_api import AMS, local_range
from tests.services import wait_until

DESK = "hq.2.d-011"
#: The lock wait of the backend under test.
LOCK_MS = 6000
#: An answer must come within this (the bounds are 1 and 6 s; the machine may be slow).
ANSWER_WITHIN_S = 25.0


@pytest.fixture
def tight_limits(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Two connections, a 1 s pool wait and a 6 s lock wait for the backend under test."""
    for name, value in {"POOL_SIZE": "2", "MAX_OVERFLOW": "0", "POOL_TIMEOUT_S": "1",
                        "LOCK_TIMEOUT_MS": str(LOCK_MS)}.items():  # fmt: skip
        monkeypatch.setenv(f"WERKPLEK_DB_{name}", value)  # read by the Settings of the test
    yield
    monkeypatch.undo()


@contextmanager
def held_booking(url: str, user_id: int) -> Iterator[None]:
    """Hold an uncommitted booking of DESK (PostgreSQL) or SQLite's write lock."""
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            conn.rollback()
            conn.close()
        return
    engine = sa.create_engine(url)  # no server-side timeouts: this holder never lets go
    start = datetime.now(AMS).replace(tzinfo=None)
    try:
        with engine.connect() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO booking (space_id, site_id, space_kind, user_id, start_at, "
                    "end_at, local_day, status, sensor_fallback, created_at) VALUES (:sp, 'hq', "
                    "'desk', :u, now(), now() + interval '1 hour', :d, 'booked', false, now())"
                ),
                {"sp": DESK, "u": user_id, "d": start.date()},
            )
            yield
            conn.rollback()
    finally:
        engine.dispose()


def timed(call: Callable[[], httpx.Response]) -> tuple[float, httpx.Response]:
    """Return how long a request took and its response."""
    began = time.monotonic()
    response = call()
    return time.monotonic() - began, response


def assert_busy(response: httpx.Response, reasons: set[str]) -> None:
    """A 503 problem detail with a reason code and a Retry-After header."""
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["reason"] in reasons, response.text
    assert int(response.headers["retry-after"]) >= 1


def test_held_lock_and_full_pool_answer_503_instead_of_hanging(seeded, serve, people, tight_limits):
    always_open(seeded.url)
    backend = serve(seeded.settings(booking_check_s=3600))  # no scheduler tick mid-test
    pool: Any = backend.runtime.engine.pool
    ann, bob, cas, holder = (people("employee", n) for n in ("ann", "bob", "cas", "holder"))
    start, end = local_range(30)
    body = {"space_id": DESK, "start": start, "end": end}
    answers: dict[str, tuple[float, httpx.Response]] = {}

    def book(name: str, token: str) -> None:
        with httpx.Client(base_url=backend.base_url, timeout=60) as client:
            answers[name] = timed(
                lambda: client.post("/api/v1/bookings", json=body, headers=bearer(token))
            )

    with httpx.Client(base_url=backend.base_url, timeout=60) as client:
        for person in (ann, bob):  # their tokens are cached: a booking holds one connection
            client.get("/api/v1/bookings", headers=bearer(person.token)).raise_for_status()
    wait_until(lambda: pool.checkedout() == 0, 15, what="connections back in the pool")
    with held_booking(seeded.url, holder.id):
        # Two bookings of the held desk wait on the lock, each holding one of the two
        # pooled connections.
        waiting = [threading.Thread(target=book, args=(p, t.token)) for p, t in
                   (("ann", ann), ("bob", bob))]  # fmt: skip
        for thread in waiting:
            thread.start()
        wait_until(lambda: pool.checkedout() == 2, 15, what="both connections held")
        # Anyone else now finds the pool used up (a fresh token needs a connection too):
        # 503 after the pool wait, not a stall.
        with httpx.Client(base_url=backend.base_url, timeout=60) as client:
            took, response = timed(
                lambda: client.get("/api/v1/bookings", headers=bearer(cas.token))
            )
        assert_busy(response, {"pool_exhausted"})
        assert took < ANSWER_WITHIN_S, took
        for thread in waiting:
            thread.join(ANSWER_WITHIN_S * 2)
        # The waiting bookings give up after the lock wait: 503, and nothing was stored.
        for name in ("ann", "bob"):
            took, response = answers[name]
            assert_busy(response, {"lock_timeout", "writer_busy"})
            assert 1.0 < took < ANSWER_WITHIN_S, (name, took)
    # The holder let go: the backend recovers at once and no connection leaked.
    wait_until(lambda: pool.checkedout() == 0, 15, what="connections back in the pool")
    with httpx.Client(base_url=backend.base_url, timeout=60) as client:
        created = client.post("/api/v1/bookings", json=body, headers=bearer(ann.token))
    assert created.status_code == 201, created.text
    assert seeded.query(f"SELECT count(*) FROM booking WHERE space_id = '{DESK}'")[0][0] == 1


def test_booking_wait_is_bounded_by_the_lock_timeout(seeded, serve, people, tight_limits):
    """One booking behind a held lock answers after about the lock timeout, not later."""
    always_open(seeded.url)
    backend = serve(seeded.settings(booking_check_s=3600))  # no scheduler tick mid-test
    ann, holder = people("employee", "ann"), people("employee", "holder")
    start, end = local_range(30)
    with (
        held_booking(seeded.url, holder.id),
        httpx.Client(base_url=backend.base_url, timeout=60) as client,
    ):
        took, response = timed(
            lambda: client.post(
                "/api/v1/bookings",
                json={"space_id": DESK, "start": start, "end": end},
                headers=bearer(ann.token),
            )
        )
    assert_busy(response, {"lock_timeout"})
    assert 0.8 * LOCK_MS / 1000 < took < ANSWER_WITHIN_S, took  # the lock wait, not 60 s
