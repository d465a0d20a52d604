"""The presence node application: sample the sensor, debounce, publish contract v1 messages.

One coroutine per concern: ``_sample_loop`` polls the presence input and runs
the state machine, ``_send_loop`` publishes queued events in order (QoS 1, one
in flight), and the MQTT client keeps the link up. Events raised while offline
wait in a bounded buffer (oldest dropped and counted) and go out after the
reconnect with their original ``ts`` and ``seq``, so the gateway sees gaps.

CPython usage (the demo fleet)::

    node = Node(cfg, presence)          # presence: object with .value() -> bool, or a callable
    task = asyncio.create_task(node.run())
    node.stop()                         # publishes retained "offline", then DISCONNECT
"""

import topics
from mqtt_client import MQTTClient
from presence import PresenceMachine
from wp_compat import asyncio, const, sleep_ms, ticks_diff, ticks_ms, unload

# mypy only: MicroPython has no typing module. A ``const`` 0 makes MicroPython's
# compiler drop the block, so its names are not interned on the node's heap.
_TYPING = const(0)
if _TYPING:
    from typing import Any


class Node:
    """A presence node bound to one device id; see ``wp_config.DEFAULTS`` for ``cfg`` keys.

    Args:
        cfg: config dict (merged with ``wp_config.DEFAULTS``).
        presence: object with ``value()`` or a callable, returning truthy when presence is seen;
            a ``fusion.Fusion`` also gives each sample's ``evidence`` and ``source``.
        clock: callable returning unix ms or None (clock not set); default from ``clock_set``.
        log: callable taking one str (e.g. ``print``), or None for silence.
        opener: optional ``async (host, port) -> (reader, writer)`` for tests.
        board: optional object with ``rssi()``, ``battery_v()``, ``heap_free()`` (telemetry).
    """

    #: The verdict on the last remote config: {"status", "rev"[, "error"]}.
    config_report = None  # type: dict | None

    # Set by ``wp_config.setup_node`` (annotations only: they cost no heap).
    cfg: dict
    local_cfg: dict  # the local config, or after a remote one its values of REMOTE_KEYS
    topic_presence: str
    topic_status: str
    topic_config: str
    topic_telemetry: str
    sensor: "Any"
    board: "Any"
    _read: "Any"
    _source: str
    _clock: "Any"
    _log: "Any"
    boot: int
    seq: int
    queue: list
    inflight: "Any"
    stats: dict
    machine: PresenceMachine
    last_sample_ms: "Any"
    _last_raw: "Any"
    _last_report_ms: "Any"
    client: MQTTClient
    _wake: asyncio.Event
    _stopping: asyncio.Event
    _tasks: list
    config_raw: "Any"
    config_rev: "Any"
    _up_ms: int
    _up_last: "Any"
    _telemetry_at: "Any"

    def __init__(self, cfg, presence, clock=None, log=None, opener=None, board=None):
        import wp_config  # start-up only: dropped again below

        try:
            wp_config.setup_node(self, cfg, presence, clock, log, opener, board)
        finally:
            unload("wp_config", "remote_config")

    def healthy(self):
        """Return True while the sampling loop runs and no loop has died (the WDT is fed on it)."""
        for task in self._tasks:
            if task.done():
                return False
        return ticks_diff(ticks_ms(), self.last_sample_ms) < 10 * self.cfg["poll_ms"] + 2000

    def stop(self):
        """Ask ``run()`` to publish ``offline``, disconnect cleanly and return."""
        self._stopping.set()

    async def run(self):
        """Run until ``stop()`` (graceful) or cancellation (socket dropped, the LWT fires)."""
        await self.client.subscribe(self.topic_config, 1)
        self._start()
        graceful = False
        try:
            await self._stopping.wait()
            graceful = True
        finally:
            sample_task, send_task, client_task = self._tasks
            sample_task.cancel()
            send_task.cancel()
            if graceful:
                import node_reports  # once in a node's life: publish "offline", disconnect

                try:
                    await node_reports.shutdown(self)
                finally:
                    unload("node_reports")
            client_task.cancel()
            if not graceful:
                self.client.abort()

    def _start(self):
        # A plain function rather than part of ``run``: that coroutine's frame lives as
        # long as the node, and on MicroPython it can keep values it no longer uses (the
        # start-up config, the cold ``remote_config`` module) alive on the heap.
        if getattr(self.sensor, "radar", None) is not None:
            import remote_config  # sends the radar its limits from a task

            asyncio.create_task(remote_config.reconfigure(self, self.cfg))
            unload("remote_config", "wp_config")  # the task keeps what it needs until it ends
        client_task = asyncio.create_task(self.client.run())
        self._tasks = [
            asyncio.create_task(self._sample_loop()),
            asyncio.create_task(self._send_loop()),
            client_task,
        ]

    # ---- sampling -----------------------------------------------------------------

    async def _sample_loop(self):
        # Also the telemetry timer (a task of its own would cost heap for nothing).
        while True:
            self._sample()
            if (
                ticks_diff(self.last_sample_ms, self._telemetry_at)
                >= self.cfg["telemetry_s"] * 1000
            ):
                self._telemetry_at = self.last_sample_ms
                self._telemetry_soon()
            self.uptime_s()  # keeps the count right across a wrap of the tick counter
            await sleep_ms(self.cfg["poll_ms"])

    def _sample(self):
        now = ticks_ms()
        self.last_sample_ms = now
        try:
            present = bool(self._read())
        except Exception as exc:  # noqa: BLE001 - a flaky sensor must not stop the node
            errors = self.stats["sensor_errors"] + 1
            self.stats["sensor_errors"] = errors
            if errors == 1 or errors % 100 == 0:  # log code SENSOR: docs/firmware.md, section 5
                self._say("SENSOR %d %r" % (errors, exc))
            return
        if present != self._last_raw:
            self._say("INPUT %d" % present)
            self._last_raw = present
        sensor = self.sensor
        changed = self.machine.update(now, present, getattr(sensor, "evidence", 1.0))
        if present or not self.machine.occupied:
            # The source of a state is the input that last saw presence (or, when
            # vacant, every input); while holding it stays the one that saw last.
            source = getattr(sensor, "source", None)
            self._source = source if source in topics.SOURCES else self.cfg["source"]
        if changed:
            self.stats["changes"] += 1
            self._say("STATE %s" % ("occupied" if self.machine.occupied else "vacant"))
            self._enqueue("change", now)
        elif (
            # Only after a good reading, so a failing sensor goes silent and the gateway
            # turns the space "unknown". No heartbeat while offline: it would only crowd
            # real changes out of the buffer.
            self.client.connected
            and ticks_diff(now, self._last_report_ms) >= self.cfg["heartbeat_s"] * 1000
        ):
            self._enqueue("heartbeat", now)

    # ---- publishing ---------------------------------------------------------------

    def _enqueue(self, reason, now):
        try:
            ts = self._clock()
        except Exception:  # noqa: BLE001 - an unset or broken clock means ts = null
            ts = None
        machine = self.machine
        payload = topics.presence_payload(
            self.seq,
            self.boot,
            ts,
            machine.occupied,
            self._source,
            machine.confidence(now),
            reason,
        )
        self.queue.append((self.seq, payload))
        self.seq += 1
        self._last_report_ms = now
        if len(self.queue) > self.cfg["buffer_size"]:
            dropped_seq = self.queue.pop(0)[0]
            self.stats["dropped"] += 1
            self._say("DROP %d" % dropped_seq)
        self._wake.set()

    async def _send_loop(self):
        while True:
            while not self.queue:
                self._wake.clear()
                await self._wake.wait()
            self.inflight = self.queue.pop(0)
            await self.client.publish(self.topic_presence, self.inflight[1], 1, False)
            self.stats["sent"] += 1
            self._say("PUB %s %s" % (self.topic_presence, self.inflight[1]))
            self.inflight = None

    def _on_up(self):
        self._say("PUB %s %s" % (self.topic_status, topics.STATUS_ONLINE))
        self._enqueue("heartbeat", ticks_ms())
        self._telemetry_soon()

    # ---- telemetry and remote configuration (their code is loaded only when used) --------

    def uptime_s(self):
        """Return seconds since start (accumulated, so the tick counter may wrap)."""
        now = ticks_ms()
        self._up_ms += ticks_diff(now, self._up_last)
        self._up_last = now
        return self._up_ms // 1000

    def _telemetry_soon(self, config_report=None):
        """Publish telemetry from a task (callbacks of the read loop must not await a PUBACK)."""
        import node_reports

        asyncio.create_task(node_reports.publish(self, config_report))
        unload("node_reports")  # the task keeps what it needs until it ends

    def _on_message(self, topic, payload, retain):
        if topic != self.topic_config:
            self._say("MSG? %s" % topic)
            return
        import remote_config  # about once a week: not kept on the heap

        try:
            remote_config.apply(self, payload)
        finally:
            unload("remote_config", "wp_config")

    def _say(self, text):
        if self._log is not None:
            self._log(text)
