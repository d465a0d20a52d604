"""Helpers for firmware integration tests: a MicroPython node process and a paho watcher."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

FIRMWARE = Path(__file__).resolve().parents[2] / "firmware"


def new_device_id() -> str:
    """Return a device id no other test uses on the shared broker."""
    return "t-" + uuid.uuid4().hex[:10]


@dataclass
class Received:
    """One message seen by the watcher."""

    at: float
    topic: str
    payload: bytes
    retain: bool

    def json(self) -> Any:
        return json.loads(self.payload)


class Watcher:
    """A paho subscriber recording every message under one device's topics."""

    def __init__(self, host: str, port: int, topic: str, *, persistent: bool = False) -> None:
        self.messages: list[Received] = []
        self._lock = threading.Lock()
        client_id = "watch-" + uuid.uuid4().hex[:8]
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=not persistent
        )
        self.client.reconnect_delay_set(min_delay=1, max_delay=1)
        self.subscribed = threading.Event()
        self.client.on_connect = lambda c, *_a: c.subscribe(topic, qos=1)
        self.client.on_subscribe = lambda *_a: self.subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect(host, port, keepalive=5)
        self.client.loop_start()
        if not self.subscribed.wait(10):
            raise TimeoutError("watcher did not subscribe")

    def _on_message(self, _client: Any, _userdata: Any, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.messages.append(Received(time.monotonic(), msg.topic, msg.payload, msg.retain))

    def snapshot(self, suffix: str = "") -> list[Received]:
        with self._lock:
            return [m for m in self.messages if m.topic.endswith(suffix)]

    def presence(self) -> list[dict[str, Any]]:
        return [m.json() for m in self.snapshot("/presence")]

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


class NodeProcess:
    """The real firmware in the MicroPython unix port, with time-stamped stdout lines."""

    def __init__(
        self,
        micropython: str,
        workdir: Path,
        cfg: dict[str, Any],
        *,
        pir: bool = True,
        radar: str | None = None,
    ) -> None:
        self.presence_file = workdir / f"{cfg['device_id']}.presence"
        self.presence_file.write_text("0")
        self.radar_file = workdir / f"{cfg['device_id']}.radar"
        cfg = dict(cfg)
        if pir:
            cfg["presence_file"] = str(self.presence_file)
        if radar is not None:
            self.radar_file.write_text(radar)
            cfg["radar_file"] = str(self.radar_file)
        cfg_path = workdir / f"{cfg['device_id']}.json"
        cfg_path.write_text(json.dumps(cfg))
        self.lines: queue.Queue[tuple[float, str]] = queue.Queue()
        self.seen: list[tuple[float, str]] = []
        self.proc = subprocess.Popen(
            [micropython, str(FIRMWARE / "main_unix.py"), str(cfg_path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put((time.monotonic(), line.rstrip("\n")))

    def set_presence(self, present: bool) -> float:
        """Flip the simulated sensor atomically; return the monotonic time of the flip."""
        tmp = self.presence_file.with_suffix(".tmp")
        tmp.write_text("1" if present else "0")
        flipped = time.monotonic()  # before the replace: the node cannot see it earlier
        os.replace(tmp, self.presence_file)
        return flipped

    def set_radar(self, text: str) -> None:
        """Replace what the simulated radar reports (see ``board_sim.SimUART``), atomically."""
        tmp = self.radar_file.with_suffix(".rtmp")
        tmp.write_text(text)
        os.replace(tmp, self.radar_file)

    def wait_line(self, needle: str, timeout: float, count: int = 1) -> float:
        """Wait until ``count`` lines containing ``needle`` were printed; return the last time."""
        deadline = time.monotonic() + timeout
        while True:
            hits = [at for at, line in self.seen if needle in line]
            if len(hits) >= count:
                return hits[count - 1]
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.proc.poll() is not None and self.lines.empty():
                tail = "\n".join(line for _, line in self.seen[-30:])
                raise AssertionError(f"node never printed {needle!r} x{count}; tail:\n{tail}")
            try:
                self.seen.append(self.lines.get(timeout=min(remaining, 0.05)))
            except queue.Empty:
                pass

    def stop(self, sig: int | None = None) -> int:
        """Send ``sig`` (default SIGKILL) and return the exit status."""
        if self.proc.poll() is None:
            if sig is None:
                self.proc.kill()
            else:
                self.proc.send_signal(sig)
        return self.proc.wait(timeout=10)


def wait_for(predicate: Any, timeout: float, what: str) -> float:
    """Poll until ``predicate()`` is truthy; return the seconds it took (fails on timeout)."""
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.01)
    return time.monotonic() - start
