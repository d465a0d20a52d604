"""An employee may host at most two guest desks a day; facility books visitors freely.

Before, naming a guest skipped the one-desk-per-day rule, so one employee could
book every desk of a day. Parallel requests are counted one after another.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta

import httpx
import pytest
from fastapi.testclient import TestClient

from backend.bookings.policy import GUEST_DESKS_PER_DAY
from tests.backend.conftest import LiveServer, Person, SeededDb, always_open, bearer

DAY = (date.today() + timedelta(days=2)).isoformat()


def _guest_desk(desk: int, guest: str | None = "Visitor") -> dict[str, object]:
    body: dict[str, object] = {"space_id": f"hq.1.d-{desk:03d}", "date": DAY, "part": "day"}
    if guest:
        body["guest_name"] = guest
    return body


def test_an_employee_hosts_two_guest_desks_a_day(
    seeded: SeededDb, api: TestClient, people: Callable[..., Person]
) -> None:
    always_open(seeded.url)
    ann, fenna = people("employee", "ann"), people("facility", "fenna")
    codes = [
        api.post("/api/v1/bookings", json=_guest_desk(i), headers=bearer(ann.token)).status_code
        for i in range(1, 5)
    ]
    assert GUEST_DESKS_PER_DAY == 2 and codes == [201, 201, 409, 409]
    refused = api.post("/api/v1/bookings", json=_guest_desk(9), headers=bearer(ann.token))
    assert refused.json()["reason"] == "guest_desk_limit"
    assert refused.headers["content-type"] == "application/problem+json"
    # Her own desk is a different rule (one a day), and still open to her.
    own = api.post("/api/v1/bookings", json=_guest_desk(10, None), headers=bearer(ann.token))
    assert own.status_code == 201, own.text
    # Facility books desks for visitors as its job: not limited.
    for i in range(11, 15):
        answer = api.post("/api/v1/bookings", json=_guest_desk(i), headers=bearer(fenna.token))
        assert answer.status_code == 201, answer.text


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_parallel_guest_bookings_are_counted_one_after_another(
    seeded: SeededDb, serve: Callable[..., LiveServer], people: Callable[..., Person]
) -> None:
    always_open(seeded.url)
    ann = people("employee", "ann")
    server = serve(seeded.settings())
    codes: Counter[int] = Counter()
    lock = threading.Lock()
    start = threading.Barrier(20)

    def book(desk: int) -> None:
        with httpx.Client(base_url=server.base_url, timeout=60) as client:
            start.wait(timeout=60)
            code = client.post(
                "/api/v1/bookings", json=_guest_desk(desk), headers=bearer(ann.token)
            ).status_code
        with lock:
            codes[code] += 1

    threads = [threading.Thread(target=book, args=(i,)) for i in range(1, 21)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert codes == Counter({201: 2, 409: 18})
