"""The node's telemetry and remote configuration, split from ``node`` to keep each module small.

Telemetry goes out every ``telemetry_s`` (QoS 0, as the contract says) and once
after every connect. A remote config is judged by ``remote_config``; the
verdict goes out at once as a telemetry message with a ``config`` field
(QoS 1, so a rejection is not lost), because a device may publish only on its
own presence, status and telemetry topics.
"""

# mypy: disable-error-code="attr-defined, has-type"
# (a mixin: its attributes are set by Node.__init__, which mypy checks there)
import gc

import topics
from mqtt_client import MQTTError
from wp_compat import asyncio, sleep_ms, ticks_diff, ticks_ms


class NodeReports:
    """Mixin of ``Node``: expects the attributes ``Node.__init__`` sets."""

    #: The verdict on the last remote config: {"status", "rev"[, "error"]}.
    config_report = None  # type: dict | None

    def uptime_s(self):
        """Return seconds since start (accumulated, so the tick counter may wrap)."""
        now = ticks_ms()
        self._up_ms += ticks_diff(now, self._up_last)
        self._up_last = now
        return self._up_ms // 1000

    def telemetry(self, config_report=None):
        """Return the telemetry payload (JSON) with the board's figures and the node's counters."""
        board = self.board
        rssi = _board_value(board, "rssi", None)
        heap = _board_value(board, "heap_free", None)
        if heap is None and hasattr(gc, "mem_free"):
            heap = gc.mem_free()
        extra = {
            "sent": self.stats["sent"],
            "dropped": self.stats["dropped"],
            "sensor_errors": self.stats["sensor_errors"],
            "reconnects": max(0, self.client.stats["connects"] - 1),
            "config_rev": self.remote.rev,
        }
        sensor_stats = getattr(self.sensor, "stats", None)
        if callable(sensor_stats):
            extra.update(sensor_stats())
        if config_report is not None:
            extra["config"] = config_report
        return topics.telemetry_payload(
            self.uptime_s(), rssi, heap, _board_value(board, "battery_v", None), extra
        )

    async def _telemetry_loop(self):
        while True:
            self.uptime_s()
            waited = 0
            while waited < self.cfg["telemetry_s"] * 1000:
                await sleep_ms(1000)  # short steps: a remote config may shorten the period
                waited += 1000
                self.uptime_s()
            self._telemetry_soon()

    def _telemetry_soon(self, config_report=None):
        """Publish telemetry from a task (callbacks of the read loop must not await a PUBACK)."""
        asyncio.create_task(self._publish_telemetry(config_report))

    async def _publish_telemetry(self, config_report):
        qos = 0 if config_report is None else 1
        try:
            payload = self.telemetry(config_report)
            await self.client.publish(self.topic_telemetry, payload, qos, False)
            self._say("PUB %s %s" % (self.topic_telemetry, payload))
        except MQTTError as exc:  # offline: the next period sends fresh figures
            self._say("telemetry not sent: %r" % (exc,))

    def _on_message(self, topic, payload, retain):
        if topic == self.topic_config:
            self._on_config(payload)
        else:
            self._say("MSG %s (ignored)" % topic)

    def _on_config(self, raw, persist=True):
        verdict = self.remote.handle(raw, self.local_cfg)
        if verdict is None:
            return
        status, rev, cfg, error = verdict
        report = {"status": status, "rev": rev}
        if status == "rejected":
            report["error"] = error
            self._say("CONFIG rejected rev=%r: %s" % (rev, error))
        else:
            self._apply_config(cfg, persist)
            if persist:
                try:
                    self.remote.save(bytes(raw))
                except OSError as exc:  # full or read-only flash: still applied until reboot
                    self._say("CONFIG not saved: %r" % (exc,))
            self._say("CONFIG %s rev=%r" % (status, rev))
        self.config_report = report
        if persist:
            self._telemetry_soon(report)

    def _apply_config(self, cfg, running=True):
        # At start-up (``running`` False) no loop runs yet; ``run()`` configures the radar.
        old = self.cfg
        self.cfg = cfg
        self.machine.confirm_ms = cfg["confirm_ms"]
        self.machine.hold_ms = cfg["hold_ms"]
        sensor = self.sensor
        if hasattr(sensor, "apply_config"):
            sensor.apply_config(cfg)
        keys = ("radar_max_move_gate", "radar_max_still_gate", "radar_idle_s")
        changed = any(old[k] != cfg[k] for k in keys)
        if running and changed and hasattr(sensor, "reconfigure"):
            asyncio.create_task(self._reconfigure(cfg))

    async def _reconfigure(self, cfg):
        try:
            if await self.sensor.reconfigure(cfg):
                self._say("RADAR configured")
        except Exception as exc:  # noqa: BLE001 - a radar that refuses keeps its old limits
            self.stats["sensor_errors"] += 1
            self._say("RADAR configuration failed: %r" % (exc,))


def _board_value(board, name, default):
    getter = getattr(board, name, None)
    if getter is None:
        return default
    try:
        value = getter()
    except Exception:  # noqa: BLE001 - a failing gauge must not stop the report
        return default
    return default if value is None else value
