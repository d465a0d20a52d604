"""Load generators of the API benchmark; they run in a child process, apart from the server.

Not a benchmark of its own: ``python -m bench api`` uses it.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

import httpx


def hammer(url: str, method: str, bodies: list[list[dict[str, Any]]], headers: list[dict]) -> dict:
    """Send requests from ``len(bodies)`` threads (one keep-alive client each); time each."""
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
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"seconds": time.perf_counter() - began, "latencies": latencies, "codes": codes}


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
