"""The presence node: sample the sensor, debounce, publish contract v1 messages.

One coroutine per concern: ``_sample_loop`` polls the presence input and runs
the state machine, ``_send_loop`` publishes queued events in order (QoS 1, one
in flight), and the MQTT client keeps the link up. Events raised while offline
wait in a bounded buffer (oldest dropped and counted) and go out after the
reconnect with their original ``ts`` and ``seq``, so the gateway sees gaps.

This module also holds what every node uses: the pure presence state machine
(``PresenceMachine``), the presence payload of the contract
(``presence_payload``) and ``Fusion``, which makes one sample of a PIR and/or a
radar. They were modules of their own; one module costs less heap (each module
has its own object, globals, name and ``__file__``).

CPython usage (the demo fleet)::

    node = Node(cfg, presence)          # presence: object with .value() -> bool, or a callable
    task = asyncio.create_task(node.run())
    node.stop()                         # publishes retained "offline", then DISCONNECT
"""

from json import dumps

from mqtt import MQTTError, publish_packet
from wp_compat import Flag, asyncio, const, sleep_ms, ticks_diff, ticks_ms, unload

# mypy only: MicroPython has no typing module. A ``const`` 0 makes MicroPython's
# compiler drop the block, so its names are not interned on the node's heap.
_TYPING = const(0)
if _TYPING:
    from typing import Any

# Contract v1 (its own copy: the firmware cannot import ``contract``; the
# golden messages in ``tests/contracts/v1`` keep both honest). Private ``const``s are
# put into the bytecode by MicroPython's compiler: no global and no interned name.
_SOURCES = const(("pir", "radar", "fused"))
_REASONS = const(("change", "heartbeat"))
_ONLINE = const("online")


def presence_payload(seq, boot, ts, occupied, source, confidence, reason):
    """Encode one presence message as a JSON string (contract v1).

    Args:
        seq: message counter, 0 after boot, +1 per presence message.
        boot: random 32-bit id of this boot.
        ts: unix ms of the event, or None when the clock is not set.
        occupied: debounced state.
        source: "pir", "radar" or "fused".
        confidence: 0..1.
        reason: "change" or "heartbeat".

    Written out with one format string rather than a dict for ``json.dumps``: the
    field names then stay part of one string instead of each being an interned
    name on the node's heap, and no dict is built per message.

    Raises:
        ValueError: a field is out of the contract's range (the message names it).
    """
    if not isinstance(seq, int) or seq < 0:
        raise ValueError("seq")
    if source not in _SOURCES:
        raise ValueError("source")
    if not 0 <= boot <= 0xFFFFFFFF:
        raise ValueError("boot")
    if not 0 <= confidence <= 1:
        raise ValueError("confidence")
    if reason not in _REASONS:
        raise ValueError("reason")
    return (
        '{"v":1,"seq":%d,"ts":%s,"occupied":%s,"source":"%s","boot":%d,"confidence":%s,'
        '"reason":"%s"}'
    ) % (seq, dumps(ts), dumps(bool(occupied)), source, boot, dumps(confidence), reason)


# ---- fusion of the inputs ----------------------------------------------------------
#
# Why both a PIR and a radar: a PIR sees motion well but misses a person sitting
# still; the radar sees the breathing of a still person but also weak reflections.
# Presence is "either sees someone", so a still person seen only by the radar keeps
# the space occupied. The evidence (0..1) says how strong the sample is: both inputs
# agreeing is near-certain, a lone weak radar echo is not. The presence machine turns
# that into the confidence of each message. The evidence of a PIR pulse on its own is
# 0.8 (PIRs also fire on warm air and sunlight).


class Fusion:
    """Presence from a PIR and/or a radar; ``value()`` also sets ``evidence`` and ``source``.

    Its telemetry counters are read by ``node_reports.telemetry``; a remote
    config reaches the radar through ``remote_config`` (both loaded only then).

    A failing input is counted in ``errors`` and the other one carries on; when
    every configured input fails the read raises, so the node goes silent rather
    than reporting a desk as free.
    """

    def __init__(self, pir=None, radar=None):
        if pir is None and radar is None:
            raise ValueError("no input")  # a short code: see docs/firmware.md, section 5
        self.pir = pir
        self.radar = radar
        # The inputs configured, the source of an absence: "fused", "pir" or "radar".
        self.mode = "radar" if pir is None else "pir" if radar is None else "fused"
        self.evidence = 1.0
        self.source = None  # until the first sample
        self.errors = {"pir": 0, "radar": 0}

    def value(self):
        """Sample both inputs; return True when either sees presence.

        Raises:
            Exception: the error of the last input when every configured input failed.
        """
        # The evidence of each input's sample: 0.0 sees nobody, None failed or absent.
        pir = radar = failure = None
        if self.pir is not None:
            try:
                pir = 0.8 if self.pir.value() else 0.0
            except Exception as exc:  # noqa: BLE001 - one broken input must not blind the other
                self.errors["pir"] += 1
                failure = exc
        if self.radar is not None:
            try:
                move, still = self.radar.read()
                # The evidence of a radar reading: moving 0.6..0.9, still 0.5..0.9 by energy.
                move = 0.6 + 0.3 * move / 100 if move else 0.0
                still = 0.5 + 0.4 * still / 100 if still else 0.0
                radar = move if move > still else still
            except Exception as exc:  # noqa: BLE001
                self.errors["radar"] += 1
                failure = exc
        if pir is None and radar is None:
            assert failure is not None  # for the type checker (-O3 drops it)
            raise failure
        if pir and radar:
            # Two independent inputs that both see someone: both wrong is (1-a)(1-b).
            self.evidence = round(1 - (1 - pir) * (1 - radar), 2)
            self.source = "fused"
        elif pir:
            self.evidence, self.source = pir, "pir"
        elif radar:
            self.evidence, self.source = round(radar, 2), "radar"
        else:
            # Nobody seen: the absence is as sure as the inputs that still work.
            self.evidence = 1.0 if failure is None else 0.8
            self.source = self.mode
        return bool(pir or radar)


class PresenceMachine:
    """Debounce raw presence samples into an occupied/vacant state.

    States: vacant, pending (presence seen, not yet for ``confirm_ms``: ``occupied``
    False, ``_first_seen`` set), occupied (``_first_seen`` set), holding (occupied,
    no presence since ``_last_seen``: ``_first_seen`` None). No property names them:
    only the tests would use it, and on the node it would cost heap.
    """

    def __init__(self, confirm_ms, hold_ms, now):
        if confirm_ms < 0 or hold_ms < 0:
            raise ValueError("hold_ms")
        self.confirm_ms = confirm_ms
        self.hold_ms = hold_ms
        self.occupied = False
        self._first_seen = None
        # Last sample with presence; at start the boot time, from which a vacant
        # space's confidence rises.
        self._last_seen = now
        self._seen_evidence = 1.0  # evidence of the last sample that saw presence
        self._absent_evidence = 1.0  # how sure the last sample without presence was

    def update(self, now, present, evidence=1.0):
        """Feed one sample; return True when ``occupied`` changed with this sample.

        ``evidence`` (0..1) is how strong the sample is (see ``Fusion``); it only
        shapes ``confidence()``, never the state.
        """
        if present:
            if self._first_seen is None:
                self._first_seen = now
            self._last_seen = now
            self._seen_evidence = evidence
        else:
            self._first_seen = None
            self._absent_evidence = evidence
        if not self.occupied:
            if present and ticks_diff(now, self._first_seen) >= self.confirm_ms:
                self.occupied = True
                return True
            return False
        if not present and ticks_diff(now, self._last_seen) >= self.hold_ms:
            self.occupied = False
            return True
        return False

    def confidence(self, now):
        """Return how sure we are of the current ``occupied`` value, in ``[0, 1]``.

        Occupied with presence now: the sample's evidence (1.0 for a plain input),
        decaying to 0.5 as the hold time runs out. Vacant: 0.5 while presence is
        pending or right after boot, rising to the evidence of absence (1.0 for a
        plain input) once no presence has been seen for a full hold time.
        """
        if self._first_seen is not None:
            return round(max(self._seen_evidence, 0.5), 2) if self.occupied else 0.5
        # A linear ramp over the hold time since the last presence, rounded to 0.01.
        if self.occupied:
            start, end = max(self._seen_evidence, 0.5), 0.5
        else:
            start, end = 0.5, max(self._absent_evidence, 0.5)
        span = self.hold_ms
        elapsed = ticks_diff(now, self._last_seen)
        if span <= 0 or elapsed >= span:
            return round(end, 2)
        if elapsed <= 0:
            return round(start, 2)
        return round(start + (end - start) * elapsed / span, 2)


class Node:
    """A presence node bound to one device id; see ``wp_config.DEFAULTS`` for ``cfg`` keys.

    Args:
        cfg: config dict (merged with ``wp_config.DEFAULTS``).
        presence: object with ``value()`` or a callable, returning truthy when presence is seen;
            a ``Fusion`` also gives each sample's ``evidence`` and ``source``.
        clock: callable returning unix ms or None (clock not set); default from ``clock_set``.
        log: callable taking one str (e.g. ``print``), or None for silence.
        opener: optional ``async (host, port) -> (reader, writer)`` for tests.
        board: optional object with ``rssi()``, ``battery_v()``, ``heap_free()`` (telemetry).

    What other modules use: ``cfg``, ``topic_base`` (``werkplek/v1/<site>/<device_id>/``;
    each topic of the node is this plus its kind), ``client``, ``sensor``, ``board``,
    ``machine``, ``stats``, ``tasks``, ``last_sample_ms``, ``config_raw``, ``config_rev``,
    ``config_report``, ``local_cfg``, ``say(text)`` (the log), and the methods
    ``enqueue``, ``telemetry_soon``, ``uptime_s``, ``stop`` and ``run``.
    """

    #: The verdict on the last remote config: {"status", "rev"[, "error"]}.
    config_report = None  # type: dict | None
    #: None, or after a remote config the local values of ``remote_config.REMOTE_KEYS``
    #: (sorted by key), to go back to when the remote config is cleared.
    local_cfg = None  # type: tuple | None

    # For mypy: attributes first set to None (annotations cost no heap).
    sensor: "Any"
    board: "Any"
    _clock: "Any"
    inflight: "Any"
    _last_raw: "Any"
    config_raw: "Any"
    config_rev: "Any"
    tasks: tuple

    def __init__(self, cfg, presence, clock=None, log=None, opener=None, board=None):
        import wp_config  # start-up only: it and its tables are dropped again at the end

        try:
            self.cfg = c = wp_config.build_config(cfg)
            self.topic_base = base = wp_config.topic_base(c["site"], c["device_id"])
            self.client = client = wp_config.mqtt_client(c, base, opener, log)
            client.on_up = self._on_up
            client.on_message = self._on_message
            self.boot = wp_config.rand32()  # a gap in seq after a new boot is no loss
            self.sensor = presence
            self.board = board
            self._read = presence.value if hasattr(presence, "value") else presence
            self._source = c["source"]  # one of _SOURCES: the input that saw presence last
            if clock is None and c["clock_set"]:
                from wp_compat import unix_ms  # (not a global of this module: less heap)

                clock = unix_ms  # without a clock every ts is null
            self._clock = clock
            # ``say(text)`` logs one line (``INPUT``, ``STATE``, ``PUB``, ... docs/firmware.md,
            # section 5). Without a log: ``id``, a built-in that takes the text and ignores
            # it (as the client's ``log``; an attribute, not a method: less heap).
            self.say = log or id
            self.seq = 0
            self.queue = []  # (seq, payload) waiting to be sent, oldest first
            self.inflight = None  # the (seq, payload) being sent
            self.stats = {"sent": 0, "dropped": 0, "sensor_errors": 0, "changes": 0}
            now = ticks_ms()
            self.machine = PresenceMachine(c["confirm_ms"], c["hold_ms"], now)
            self.last_sample_ms = self._last_report_ms = self._telemetry_at = self._up_last = now
            self._up_ms = 0
            self._last_raw = None
            self._wake = Flag()
            self._stopping = Flag()
            self.tasks = ()  # the sampling, sending and client tasks (``supervisor.healthy``)
            self.config_raw = None  # the remote config payload in force (see remote_config)
            self.config_rev = None
            if c["config_file"]:
                import remote_config  # a config saved on the board is in force from the start

                remote_config.restore(self)
        finally:
            unload("wp_config", "remote_config")

    def stop(self):
        """Ask ``run()`` to publish ``offline``, disconnect cleanly and return."""
        self._stopping.set()

    async def run(self):
        """Run until ``stop()`` (graceful) or cancellation (socket dropped, the LWT fires)."""
        await self.client.subscribe(self.topic_base + "config", 1)
        self._start()
        graceful = False
        try:
            await self._stopping.wait()
            graceful = True
        finally:
            sample_task, send_task, client_task = self.tasks
            sample_task.cancel()
            send_task.cancel()
            if graceful:
                import wp_config  # once in a node's life: publish "offline", disconnect

                try:
                    await wp_config.shutdown(self)
                finally:
                    unload("wp_config")
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
        self.tasks = (
            asyncio.create_task(self._sample_loop()),
            asyncio.create_task(self._send_loop()),
            client_task,
        )

    # ---- sampling -----------------------------------------------------------------

    async def _sample_loop(self):
        # One sample per ``poll_ms``, and the telemetry timer: written out in one
        # coroutine, as a method per step or a task of its own would cost heap.
        while True:
            now = ticks_ms()
            self.last_sample_ms = now
            try:
                present = bool(self._read())
            except Exception as exc:  # noqa: BLE001 - a flaky sensor must not stop the node
                present = None
                errors = self.stats["sensor_errors"] + 1
                self.stats["sensor_errors"] = errors
                if errors == 1 or errors % 100 == 0:  # log code SENSOR: docs/firmware.md, 5
                    self.say("SENSOR %d %r" % (errors, exc))
            if present is not None:
                if present != self._last_raw:
                    self.say("INPUT %d" % present)
                    self._last_raw = present
                sensor = self.sensor
                machine = self.machine
                changed = machine.update(now, present, getattr(sensor, "evidence", 1.0))
                if present or not machine.occupied:
                    # The source of a state is the input that last saw presence (or, when
                    # vacant, every input); while holding it stays the one that saw last.
                    source = getattr(sensor, "source", None)
                    self._source = source if source in _SOURCES else self.cfg["source"]
                if changed:
                    self.stats["changes"] += 1
                    self.say("STATE %s" % ("occupied" if machine.occupied else "vacant"))
                    self.enqueue("change", now)
                elif (
                    # Only after a good reading, so a failing sensor goes silent and the
                    # gateway turns the space "unknown". No heartbeat while offline: it
                    # would only crowd real changes out of the buffer.
                    self.client.connected
                    and ticks_diff(now, self._last_report_ms) >= self.cfg["heartbeat_s"] * 1000
                ):
                    self.enqueue("heartbeat", now)
            if ticks_diff(now, self._telemetry_at) >= self.cfg["telemetry_s"] * 1000:
                self._telemetry_at = now
                self.telemetry_soon()
            self.uptime_s()  # keeps the count right across a wrap of the tick counter
            await sleep_ms(self.cfg["poll_ms"])

    # ---- publishing ---------------------------------------------------------------

    def enqueue(self, reason, now):
        """Queue a presence message of the state at ``now``; ``reason``: change or heartbeat."""
        ts = None  # the clock is not trusted (``clock_set`` False: no clock at all) or broken
        if self._clock is not None:
            try:
                ts = self._clock()
            except Exception:  # noqa: BLE001 - a broken clock means ts = null
                pass
        machine = self.machine
        payload = presence_payload(
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
            self.say("DROP %d" % dropped_seq)
        self._wake.set()

    async def _send_loop(self):
        topic = self.topic_base + "presence"
        while True:
            while not self.queue:
                self._wake.clear()
                await self._wake.wait()
            self.inflight = self.queue.pop(0)
            await self.client.publish(topic, self.inflight[1], 1, False)
            self.stats["sent"] += 1
            self.say("PUB %s %s" % (topic, self.inflight[1]))
            self.inflight = None

    def _on_up(self):
        self.say("PUB %sstatus %s" % (self.topic_base, _ONLINE))
        self.enqueue("heartbeat", ticks_ms())
        self.telemetry_soon()

    # ---- telemetry and remote configuration (their code is loaded only when used) --------

    def uptime_s(self):
        """Return seconds since start (accumulated, so the tick counter may wrap)."""
        now = ticks_ms()
        self._up_ms += ticks_diff(now, self._up_last)
        self._up_last = now
        return self._up_ms // 1000

    def telemetry_soon(self, config_report=None):
        """Build a telemetry message now; send it from a task (QoS 1 with a config verdict).

        Built here, at once, so the cold ``node_reports`` is on the heap only while the
        payload is made, not also while the message is written (the peak of the steady
        state). A task sends it: callbacks of the read loop must not await a PUBACK.
        """
        qos = 0 if config_report is None else 1
        if not qos and not self.client.connected:
            return  # offline: the next period sends fresh figures
        import node_reports

        try:
            payload = node_reports.telemetry(self, config_report)
        finally:
            unload("node_reports")
        asyncio.create_task(self._send_telemetry(payload, qos))

    async def _send_telemetry(self, payload, qos):
        topic = self.topic_base + "telemetry"
        client = self.client
        try:
            if qos:  # a config verdict: not lost, waits across a reconnect
                await client.publish(topic, payload, 1, False)
            else:  # written at once: one coroutine less on the heap than ``publish``
                await client.write(publish_packet(topic, payload))
            self.say("PUB %s %s" % (topic, payload))
        except MQTTError as exc:
            self.say("telemetry not sent: %r" % (exc,))

    def _on_message(self, topic, payload, retain):
        if topic != self.topic_base + "config":
            self.say("MSG? %s" % topic)
            return
        import remote_config  # about once a week: not kept on the heap

        try:
            remote_config.apply(self, payload)
        finally:
            unload("remote_config", "wp_config")
