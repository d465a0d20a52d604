"""Oversized and hostile bodies are refused small and fast, without stalling other requests.

An attacker-style check found that a 3.5 MB login body of 300,000 unknown keys was
answered with a 27 MB 422 after seconds of CPU on the event loop, during which
``/healthz`` and every screen's stream stood still. These tests send that body to a
real uvicorn server and measure ``/healthz`` meanwhile.
"""

from __future__ import annotations

import http.client
import json
import select
import socket
import statistics
import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import httpx
import pytest

from tests.backend.conftest import LiveServer, SeededDb
from tests.services import wait_until

pytestmark = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)

LOGIN = "/api/v1/auth/login"


def _many_keys(count: int) -> bytes:
    body = {"username": "ann", "password": "x" * 12}
    body.update({f"k{i}": 0 for i in range(count)})
    return json.dumps(body).encode()


def test_huge_login_body_is_refused_small_while_healthz_stays_fast(
    seeded: SeededDb, serve: Callable[..., LiveServer]
) -> None:
    server = serve(seeded.settings())
    body = _many_keys(300_000)
    assert len(body) > 3_000_000
    answers: list[httpx.Response] = []
    json_type = {"Content-Type": "application/json"}

    enough = threading.Event()

    def attack() -> None:
        with httpx.Client(base_url=server.base_url, timeout=60) as client:
            while not enough.is_set():
                answers.append(client.post(LOGIN, content=body, headers=json_type))
                # Chunked, without Content-Length: refused only once the limit is read.
                streamed = (body[i : i + 65536] for i in range(0, len(body), 65536))
                answers.append(client.post(LOGIN, content=streamed, headers=json_type))

    httpx.get(f"{server.base_url}/healthz", timeout=30).raise_for_status()  # warm the pool
    attackers = [threading.Thread(target=attack) for _ in range(3)]
    for thread in attackers:
        thread.start()
    latencies: list[float] = []
    with httpx.Client(base_url=server.base_url, timeout=30) as client:

        def healthz_answers() -> bool:
            start = time.monotonic()
            ok = client.get("/healthz").status_code == 200
            latencies.append(time.monotonic() - start)
            return ok and len(latencies) >= 30

        wait_until(healthz_answers, timeout=120, interval=0.01, what="30 checks during the attack")
    enough.set()
    for thread in attackers:
        thread.join()
    assert len(answers) >= 6
    for answer in answers:
        assert answer.status_code == 413
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["reason"] == "body_too_large"
        assert len(answer.content) < 10_000
    # Was 9.9 s with three such bodies in flight (seconds of parsing on the event
    # loop). The bounds tell a stall from a busy machine, not a fast one from a slow
    # one: the attack itself takes CPU, and at load 13 on two cores the median was
    # 0.12 s (0.01-0.05 s quieter), so a tenth of a second was a figure of the machine.
    print(
        f"healthz during attack: n={len(latencies)} median={statistics.median(latencies):.4f}"
        f" max={max(latencies):.4f} s"
    )
    assert statistics.median(latencies) < 0.5
    assert max(latencies) < 2.0  # one slow answer on a busy machine, never seconds on end


def test_chunked_body_is_counted_while_it_arrives(
    seeded: SeededDb, serve: Callable[..., LiveServer]
) -> None:
    """A chunked body without Content-Length is refused once the limit is read.

    The client behaves as curl and browsers do: between chunks it looks for an
    early answer and stops sending when one comes. (A client that sends all
    1.6 MB before reading can see the server's close as a reset while it is still
    sending: CI saw that once under load.) Past the limit it waits for the answer
    with a generous bound; a server that waited for the whole body fails here.
    """
    limit = 64 * 1024
    server = serve(seeded.settings(max_body_bytes=limit))
    url = urlsplit(server.base_url)
    chunk = b"[" + b"0," * 8_000  # 16 kB per chunk, no Content-Length
    total_chunks = 100  # 1.6 MB if it were all read
    sent = 0
    readable: list[socket.socket] = []
    with socket.create_connection((url.hostname or "", url.port or 80), timeout=30) as sock:
        sock.sendall(
            f"POST {LOGIN} HTTP/1.1\r\nHost: {url.hostname}\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
        )
        while sent < total_chunks:
            past_limit = sent * len(chunk) > limit + len(chunk)
            readable, _, _ = select.select([sock], [], [], 30 if past_limit else 0)
            if readable or past_limit:
                break
            sock.sendall(f"{len(chunk):X}\r\n".encode() + chunk + b"\r\n")
            sent += 1
        assert readable, f"no answer within 30 s of the limit ({sent} chunks sent)"
        answer = http.client.HTTPResponse(sock)
        answer.begin()
        payload = answer.read(int(answer.headers["Content-Length"]))
    print(f"answered after {sent} of {total_chunks} chunks ({sent * len(chunk)} bytes)")
    assert answer.status == 413
    assert json.loads(payload)["reason"] == "body_too_large"


@pytest.mark.serial  # asserts an answer time (`make test` runs it away from the parallel load)
def test_many_unknown_keys_below_the_limit_get_a_small_422(
    seeded: SeededDb, serve: Callable[..., LiveServer]
) -> None:
    server = serve(seeded.settings())
    body = _many_keys(80_000)
    assert len(body) < 1024 * 1024
    with httpx.Client(base_url=server.base_url, timeout=60) as client:
        start = time.monotonic()
        answer = client.post(LOGIN, content=body, headers={"Content-Type": "application/json"})
        took = time.monotonic() - start
    # One error for the whole body, not 80,000: was 1.1 s of event loop on this machine;
    # 0.15 s alone now, and 1.002 s once among six parallel workers (so it runs serial).
    print(f"80k unknown keys answered in {took:.3f} s")
    assert took < 1.0
    assert answer.status_code == 422
    assert answer.json()["error_count"] == 1
    assert answer.headers["content-type"] == "application/problem+json"
    assert len(answer.content) < 10_000
    assert answer.json()["reason"] == "validation_error"
