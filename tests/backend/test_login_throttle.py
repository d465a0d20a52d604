"""Login throttling slows guessers down without locking the account's owner out.

Against a real uvicorn server on PostgreSQL, with clients bound to different
loopback addresses (127.0.0.2, 127.0.0.3) so the server sees different sources.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

import httpx
import pytest

from backend.auth.throttle import source_of
from backend.database import make_engine, make_session_factory
from backend.people import service as people_service
from tests.backend.conftest import LiveServer, SeededDb

ON_POSTGRESQL = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)

LOGIN = "/api/v1/auth/login"
SECRET = "the owner's long passphrase"


def _client(server: LiveServer, source: str) -> httpx.Client:
    transport = httpx.HTTPTransport(local_address=source)
    return httpx.Client(base_url=server.base_url, transport=transport, timeout=60)


def _owner(seeded: SeededDb, name: str) -> int:
    engine = make_engine(seeded.url)
    try:
        with make_session_factory(engine)() as session:
            user = people_service.create_user(
                session, username=name, display_name="Owner", password=SECRET
            )
            return user.id
    finally:
        engine.dispose()


@ON_POSTGRESQL
def test_owner_logs_in_from_elsewhere_during_a_guessing_attack(
    seeded: SeededDb, serve: Callable[..., LiveServer]
) -> None:
    owner = _owner(seeded, "owner")
    server = serve(seeded.settings(login_backoff_s=30.0))
    with _client(server, "127.0.0.2") as attacker:
        codes = [
            attacker.post(LOGIN, json={"username": "owner", "password": f"guess-{i}"})
            for i in range(12)
        ]
        assert [c.status_code for c in codes] == [401] * 5 + [429] * 7
        assert int(codes[-1].headers["retry-after"]) > 1
        assert codes[-1].headers["content-type"] == "application/problem+json"
        # Even the right password waits, from the guesser's address.
        right = attacker.post(LOGIN, json={"username": "owner", "password": SECRET})
        assert right.status_code == 429
    with _client(server, "127.0.0.3") as owners_laptop:
        answer = owners_laptop.post(LOGIN, json={"username": "owner", "password": SECRET})
        assert answer.status_code == 200, answer.text
    failed = seeded.query(
        f"SELECT detail FROM audit_log WHERE action = 'login.failed' AND object_id = '{owner}'"
    )
    assert len(failed) == 5 and all("wrong_password" in row[0] for row in failed)
    assert not any("guess-" in row[0] for row in seeded.query("SELECT detail FROM audit_log"))
    # The counts are in the database, not in the process: a restarted server still waits.
    stored = seeded.query("SELECT failures FROM login_throttle ORDER BY failures")
    assert [row[0] for row in stored] == [0, 0, 5, 5]  # a success is taken back; guesses kept
    again = serve(seeded.settings(login_backoff_s=30.0))
    with _client(again, "127.0.0.2") as attacker:
        still = attacker.post(LOGIN, json={"username": "owner", "password": SECRET})
        assert still.status_code == 429


@ON_POSTGRESQL
def test_parallel_guesses_are_counted_atomically(
    seeded: SeededDb, serve: Callable[..., LiveServer]
) -> None:
    _owner(seeded, "target")
    server = serve(seeded.settings(login_backoff_s=60.0))
    codes: Counter[int] = Counter()
    lock = threading.Lock()
    start = threading.Barrier(50)

    def guess(i: int) -> None:
        with _client(server, "127.0.0.2") as client:
            start.wait(timeout=60)
            code = client.post(LOGIN, json={"username": "target", "password": f"g{i}"}).status_code
        with lock:
            codes[code] += 1

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    # Was 44 passwords checked against a limit of 10; now never more than the limit.
    assert codes[401] <= 5
    assert codes[401] + codes[429] == 50
    assert codes[401] >= 1


def test_ipv6_sources_are_counted_per_64() -> None:
    assert source_of("2001:db8:1:2:aaaa::1") == source_of("2001:db8:1:2:bbbb::9")
    assert source_of("2001:db8:1:3::1") != source_of("2001:db8:1:2::1")
    assert source_of("192.0.2.7") == "192.0.2.7"
    assert source_of(None) == "unknown"
