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
import wp_config
from mqtt_client import MQTTClient, MQTTError
from node_reports import NodeReports
from presence import PresenceMachine
from remote_config import RemoteConfig
from wp_compat import asyncio, rand32, sleep_ms, ticks_diff, ticks_ms, unix_ms, wait_for_ms


def _no_clock():
    return None


class Node(NodeReports):
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

    def __init__(self, cfg, presence, clock=None, log=None, opener=None, board=None):
        self.cfg = c = wp_config.build_config(cfg)
        self.local_cfg = c
        self.sensor = presence
        self.board = board
        self._read = presence.value if hasattr(presence, "value") else presence
        self._source = c["source"]
        if clock is None:
            clock = unix_ms if c["clock_set"] else _no_clock
        self._clock = clock
        self._log = log
        self.boot = rand32()
        self.seq = 0
        self.queue = []
        self.inflight = None
        self.stats = {"sent": 0, "dropped": 0, "sensor_errors": 0, "changes": 0}
        self.machine = PresenceMachine(c["confirm_ms"], c["hold_ms"], ticks_ms())
        self.last_sample_ms = ticks_ms()
        self._last_raw = None
        self._last_report_ms = self.last_sample_ms
        self.topic_presence = topics.device_topic(c["site"], c["device_id"], "presence")
        self.topic_status = topics.device_topic(c["site"], c["device_id"], "status")
        self.topic_config = topics.device_topic(c["site"], c["device_id"], "config")
        self.topic_telemetry = topics.device_topic(c["site"], c["device_id"], "telemetry")
        self.client = MQTTClient(
            c["client_id"],
            c["broker_host"],
            c["broker_port"],
            c["username"],
            c["password"],
            c["keepalive_s"],
            will=(self.topic_status, topics.STATUS_OFFLINE, True),
            birth=(self.topic_status, topics.STATUS_ONLINE, True),
            connect_timeout_ms=c["connect_timeout_ms"],
            io_timeout_ms=c["io_timeout_ms"],
            ack_timeout_ms=c["ack_timeout_ms"],
            backoff_min_ms=c["backoff_min_ms"],
            backoff_max_ms=c["backoff_max_ms"],
            opener=opener,
            log=log,
        )
        self.client.on_up = self._on_up
        self.client.on_message = self._on_message
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._tasks = []  # type: list
        self.remote = RemoteConfig(c["config_file"])
        self._up_ms = 0
        self._up_last = ticks_ms()
        saved = self.remote.load()
        if saved:
            self._on_config(saved, persist=False)

    @property
    def dropped(self):
        """Return how many buffered events were dropped because the buffer was full."""
        return self.stats["dropped"]

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
        if hasattr(self.sensor, "reconfigure"):
            asyncio.create_task(self._reconfigure(self.cfg))
        client_task = asyncio.create_task(self.client.run())
        loops = (
            asyncio.create_task(self._sample_loop()),
            asyncio.create_task(self._send_loop()),
            asyncio.create_task(self._telemetry_loop()),
        )
        self._tasks = list(loops) + [client_task]
        graceful = False
        try:
            await self._stopping.wait()
            graceful = True
        finally:
            for task in loops:
                task.cancel()
            if graceful:
                await self._shutdown()
            client_task.cancel()
            if not graceful:
                self.client.abort()

    async def _shutdown(self):
        if self.client.connected:
            try:
                await wait_for_ms(
                    self.client.publish(self.topic_status, topics.STATUS_OFFLINE, 1, True),
                    self.cfg["io_timeout_ms"],
                )
                self._say("PUB %s %s" % (self.topic_status, topics.STATUS_OFFLINE))
            except (asyncio.TimeoutError, MQTTError) as exc:
                self._say("offline status not acknowledged: %r" % (exc,))
        await self.client.close()

    # ---- sampling -----------------------------------------------------------------

    async def _sample_loop(self):
        while True:
            self._sample()
            await sleep_ms(self.cfg["poll_ms"])

    def _sample(self):
        now = ticks_ms()
        self.last_sample_ms = now
        try:
            present = bool(self._read())
        except Exception as exc:  # noqa: BLE001 - a flaky sensor must not stop the node
            self.stats["sensor_errors"] += 1
            if self.stats["sensor_errors"] == 1 or self.stats["sensor_errors"] % 100 == 0:
                self._say("sensor read failed (%d): %r" % (self.stats["sensor_errors"], exc))
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
        elif self._heartbeat_due(now):
            self._enqueue("heartbeat", now)

    def _heartbeat_due(self, now):
        # Only called after a good reading, so a failing sensor goes silent and the
        # gateway turns the space "unknown". No heartbeat while offline: it would
        # only crowd real changes out of the buffer.
        period = self.cfg["heartbeat_s"] * 1000
        return self.client.connected and ticks_diff(now, self._last_report_ms) >= period

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
            self._say("buffer full, dropped seq %d" % dropped_seq)
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

    def _say(self, text):
        if self._log is not None:
            self._log(text)
