"""Deactivation, role changes and revocation reach sessions and open streams at once.

Before, a deactivated person's session kept working (200 on /me, 201 on a
booking), a new role reached sessions only when they expired (10 h), an open
stream outlived the revocation of its token, and one token could hold every
stream slot. Real uvicorn server, PostgreSQL.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import httpx
import pytest
import sqlalchemy as sa

from backend.database import make_engine
from tests.backend.conftest import LiveServer, Person, SeededDb, bearer
from tests.services import wait_until

pytestmark = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
#: The periodic re-check of open streams in the deactivation test: far beyond its bound.
RECHECK_S = 60.0


class OpenStream:
    """An SSE stream read in a thread; ``ended`` is set when the server closes it."""

    def __init__(self, base_url: str, token: str) -> None:
        raw = httpx.post(f"{base_url}/api/v1/stream-tokens", headers=bearer(token), timeout=30)
        raw.raise_for_status()
        self.url = f"{base_url}/api/v1/stream?stream_token={raw.json()['stream_token']}"
        self.status = 0
        self.events: list[str] = []
        self.ended = threading.Event()
        self.ended_at = 0.0
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            with httpx.stream("GET", self.url, timeout=httpx.Timeout(60)) as answer:
                self.status = answer.status_code
                for line in answer.iter_lines():
                    if line.startswith("event:"):
                        self.events.append(line[6:].strip())
        except httpx.HTTPError:
            pass
        self.ended_at = time.monotonic()
        self.ended.set()


def _patch(server: LiveServer, admin: str, user_id: int, **change: object) -> httpx.Response:
    return httpx.patch(
        f"{server.base_url}/api/v1/users/{user_id}", json=change, headers=bearer(admin), timeout=30
    )


def test_deactivation_ends_sessions_and_streams_at_once(
    seeded: SeededDb, serve: Callable[..., LiveServer], people: Callable[..., Person]
) -> None:
    # The periodic re-check is a minute away: only the poke of the deactivation can end the
    # stream within the bound, however slow the machine (was "under 1 s" with a 1 s re-check).
    server = serve(seeded.settings(sse_ping_s=0.5, stream_recheck_s=RECHECK_S))
    ann = people("employee", "ann")
    me = httpx.get(f"{server.base_url}/api/v1/me", headers=bearer(ann.token), timeout=30)
    assert me.status_code == 200  # cached now: the cache must not keep her in
    stream = OpenStream(server.base_url, ann.token)
    wait_until(lambda: "snapshot" in stream.events, timeout=15, what="stream open")
    assert not stream.ended.is_set()

    changed = _patch(server, seeded.admin_token, ann.id, active=False)
    assert changed.status_code == 200 and changed.json()["active"] is False
    answered = time.monotonic()
    me = httpx.get(f"{server.base_url}/api/v1/me", headers=bearer(ann.token), timeout=30)
    assert me.status_code == 401
    booking = httpx.post(
        f"{server.base_url}/api/v1/bookings",
        json={"space_id": "hq.1.d-001", "date": "2030-01-07", "part": "morning"},
        headers=bearer(ann.token),
        timeout=30,
    )
    assert booking.status_code == 401
    wait_until(stream.ended.is_set, timeout=30, what="stream of the deactivated person ended")
    took = stream.ended_at - answered
    print(f"stream ended {took:.3f} s after the deactivation was answered")
    assert took < RECHECK_S / 2  # at once: not by the re-check
    revoked = seeded.query(f"SELECT count(*) FROM api_token WHERE user_id = {ann.id} "
                           "AND revoked_at IS NULL")  # fmt: skip
    assert revoked[0][0] == 0
    audit = seeded.query("SELECT detail FROM audit_log WHERE action = 'user.update'")
    assert len(audit) == 1 and '"active":false' in audit[0][0]


def test_a_new_role_reaches_the_session_at_once(
    seeded: SeededDb, serve: Callable[..., LiveServer], people: Callable[..., Person]
) -> None:
    server = serve(seeded.settings())
    bob = people("employee", "bob")
    audit_url = f"{server.base_url}/api/v1/audit"
    assert httpx.get(audit_url, headers=bearer(bob.token), timeout=30).status_code == 403
    assert _patch(server, seeded.admin_token, bob.id, role="facility").status_code == 200
    assert httpx.get(audit_url, headers=bearer(bob.token), timeout=30).status_code == 200
    assert _patch(server, seeded.admin_token, bob.id, role="employee").status_code == 200
    assert httpx.get(audit_url, headers=bearer(bob.token), timeout=30).status_code == 403


def test_a_stream_ends_when_its_token_is_revoked_elsewhere(
    seeded: SeededDb, serve: Callable[..., LiveServer], people: Callable[..., Person]
) -> None:
    # Revoked straight in the database, as another replica or the CLI would: the
    # periodic re-check (1 s) finds it, no poke needed.
    server = serve(seeded.settings(sse_ping_s=0.5))
    cy = people("employee", "cy")
    stream = OpenStream(server.base_url, cy.token)
    wait_until(lambda: "snapshot" in stream.events, timeout=15, what="stream open")
    engine = make_engine(seeded.url)
    with engine.begin() as conn:
        conn.execute(sa.text(f"UPDATE api_token SET revoked_at = now() WHERE user_id = {cy.id}"))
    engine.dispose()
    revoked = time.monotonic()
    wait_until(stream.ended.is_set, timeout=10, what="stream of the revoked token ended")
    print(f"stream ended {stream.ended_at - revoked:.3f} s after the revocation")
    assert stream.ended_at - revoked < 3.0  # one re-check period (1 s) plus a slow machine


def test_one_token_cannot_take_every_stream_slot(
    seeded: SeededDb, serve: Callable[..., LiveServer]
) -> None:
    server = serve(seeded.settings(sse_max_per_token=2, sse_ping_s=0.5))
    held = [OpenStream(server.base_url, seeded.signage_token) for _ in range(2)]
    for stream in held:
        wait_until(lambda s=stream: "snapshot" in s.events, timeout=15, what="stream open")
    raw = httpx.post(f"{server.base_url}/api/v1/stream-tokens",
                     headers=bearer(seeded.signage_token), timeout=30).json()  # fmt: skip
    third = httpx.get(f"{server.base_url}/api/v1/stream",
                      params={"stream_token": raw["stream_token"]}, timeout=30)  # fmt: skip
    assert third.status_code == 429
    assert third.json()["reason"] == "too_many_streams_for_token"
    assert int(third.headers["retry-after"]) >= 1
