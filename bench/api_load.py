"""Load generators of the API benchmark; they run in a child process, apart from the server.

Not a benchmark of its own: ``python -m bench api`` uses it.
"""

from __future__ import annotations

import asyncio
import json
import resource
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import httpx


def _cpu_s() -> float:
    """CPU seconds (user + system) this process has used so far, all threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def hammer_threads(
    url: str, method: str, bodies: list[list[dict[str, Any]]], headers: list[dict]
) -> dict:
    """The old load generator: one thread with a sync httpx client per client.

    Kept to compare with ``hammer``: it costs the machine about a millisecond of
    CPU per request (docs/operations.md, Throughput of bookings).
    """
    latencies: list[float] = []
    codes: dict[int, int] = {}
    lock = threading.Lock()
    gate = threading.Barrier(len(bodies))

    def client(i: int) -> None:
        mine: list[float] = []
        seen: dict[int, int] = {}
        with httpx.Client(headers=headers[i], timeout=30) as http:
            gate.wait()
            for body in bodies[i]:
                began = time.perf_counter()
                if method == "GET":
                    response = http.get(url)
                else:
                    response = http.post(url, json=body)
                mine.append(time.perf_counter() - began)
                seen[response.status_code] = seen.get(response.status_code, 0) + 1
        with lock:
            latencies.extend(mine)
            for code, n in seen.items():
                codes[code] = codes.get(code, 0) + n

    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(bodies))]
    cpu = _cpu_s()
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - began
    return {"seconds": seconds, "latencies": latencies, "codes": codes, "cpu_s": _cpu_s() - cpu}


class _Connection:
    """One keep-alive HTTP/1.1 connection that sends a request and reads its answer.

    Just enough HTTP for the benchmark: the answer's length comes from
    ``Content-Length`` or chunked encoding, and ``Connection: close`` (or a dropped
    connection) makes the next request open a new one.
    """

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, head: bytes, body: bytes) -> int:
        """Send one request (``head`` ends with the blank line); return the status code."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(head + body)
        try:
            head_in = await self.reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            self.close()
            raise
        lines = head_in.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length, chunked, close = 0, False, False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif name == b"connection":
                close = b"close" in value.lower()
        if chunked:
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                await self.reader.readexactly(size + 2)
                if size == 0:
                    break
        elif length:
            await self.reader.readexactly(length)
        if close:
            self.close()
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def _hammer(
    url: str, method: str, bodies: list[list[dict[str, Any]]], headers: list[dict]
) -> dict:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    latencies: list[float] = []
    codes: dict[int, int] = {}

    def head(extra: dict[str, str], body: bytes) -> bytes:
        lines = [f"{method} {target} HTTP/1.1", f"Host: {host}:{port}"]
        lines += [f"{name}: {value}" for name, value in extra.items()]
        if method != "GET":
            lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    # Requests are encoded before the clock starts: the client's own work stays small.
    plans = []
    for i, client_bodies in enumerate(bodies):
        encoded = [b"" if method == "GET" else json.dumps(b).encode() for b in client_bodies]
        plans.append([(head(headers[i], e), e) for e in encoded])
    connections = [_Connection(host, port) for _ in plans]
    for conn in connections:  # open them all first, as keep-alive clients would be
        conn.reader, conn.writer = await asyncio.open_connection(host, port)

    async def client(conn: _Connection, plan: list[tuple[bytes, bytes]]) -> None:
        for head_bytes, body in plan:
            began = time.perf_counter()
            try:
                code = await asyncio.wait_for(conn.request(head_bytes, body), 30)
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
                conn.close()
                code = 0  # no answer within 30 s, or the connection broke
            latencies.append(time.perf_counter() - began)
            codes[code] = codes.get(code, 0) + 1
        conn.close()

    cpu = _cpu_s()
    began = time.perf_counter()
    await asyncio.gather(*(client(c, p) for c, p in zip(connections, plans, strict=True)))
    seconds = time.perf_counter() - began
    return {"seconds": seconds, "latencies": latencies, "codes": codes, "cpu_s": _cpu_s() - cpu}


def hammer(url: str, method: str, bodies: list[list[dict[str, Any]]], headers: list[dict]) -> dict:
    """Closed-loop load: ``len(bodies)`` keep-alive clients, each sends its requests in turn.

    One asyncio loop over raw HTTP/1.1 connections, so the load generator takes little
    of the machine's CPU (the result's ``cpu_s``) and the server gets what it would
    have with real clients on other machines. Each latency is one request's round trip.
    """
    return asyncio.run(_hammer(url, method, bodies, headers))


async def _rush(url: str, plan: list[tuple[float, dict[str, Any], str]]) -> dict:
    # One request per person at its planned second; each waits for its own answer.
    limits = httpx.Limits(max_connections=len(plan), max_keepalive_connections=len(plan))
    latencies: list[float] = []
    codes: dict[int, int] = {}
    async with httpx.AsyncClient(timeout=30, limits=limits) as http:
        began = time.perf_counter()

        async def one(at: float, body: dict[str, Any], token: str) -> None:
            await asyncio.sleep(max(0.0, at - (time.perf_counter() - began)))
            start = time.perf_counter()
            try:
                response = await http.post(
                    url, json=body, headers={"Authorization": f"Bearer {token}"}
                )
                code = response.status_code
            except httpx.HTTPError:
                code = 0  # no answer within the client's 30 s
            latencies.append(time.perf_counter() - start)
            codes[code] = codes.get(code, 0) + 1

        await asyncio.gather(*(one(*item) for item in plan))
        seconds = time.perf_counter() - began
    return {"seconds": seconds, "latencies": latencies, "codes": codes}


def rush(url: str, plan: list[tuple[float, dict[str, Any], str]]) -> dict:
    """Send one POST per planned (second, body, token): people arriving, not a closed loop."""
    return asyncio.run(_rush(url, plan))


async def _listen(host: str, port: int, path: str, marks: set[str], out: dict, ready: list) -> None:
    # A snapshot of a 500-space floor is one long line; the default limit is 64 KiB.
    reader, writer = await asyncio.open_connection(host, port, limit=1 << 24)
    writer.write(
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n\r\n".encode()
    )
    await writer.drain()
    ready.append(1)
    delta = False
    try:
        while True:
            line = await reader.readline()
            if not line:
                return
            if line.startswith(b"event: "):
                delta = line.startswith(b"event: delta")
            elif delta and line.startswith(b"data: "):
                now = time.time()
                for mark in marks:
                    if mark.encode() in line:
                        out.setdefault(mark, []).append(now)
    except (asyncio.CancelledError, ConnectionError, ValueError):
        return
    finally:
        writer.close()


async def _streams(url: str, clients: int, marks: list[str], seconds: float, conn: Any) -> None:
    parsed = httpx.URL(url)
    out: dict[str, list[float]] = {}
    ready: list[int] = []
    tasks = []
    for i in range(clients):
        path = parsed.raw_path.decode()
        tasks.append(
            asyncio.create_task(_listen(parsed.host, parsed.port, path, set(marks), out, ready))
        )
        if i % 50 == 49:
            await asyncio.sleep(0.05)  # connect in batches, as screens do after a restart
    while len(ready) < clients:
        await asyncio.sleep(0.05)
    conn.send("connected")
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not conn.poll(0):
        await asyncio.sleep(0.05)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    conn.send(json.dumps(out))


def listen(url: str, clients: int, marks: list[str], seconds: float, conn: Any) -> None:
    """Open ``clients`` SSE streams; report when each mark arrived on each stream."""
    asyncio.run(_streams(url, clients, marks, seconds, conn))


def main() -> None:
    """Say where the figures come from (``bench`` discovers every module with a main)."""
    print("api_load: load generators of `python -m bench api`; nothing to measure alone")
