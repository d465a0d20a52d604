"""HVAC zone commands: the forecast's mode per zone, published through a port.

The service does not know MQTT. It publishes through :class:`HvacPort`, which the
app wires (:class:`BridgePort` over the backend's MQTT bridge, see
``backend/main.py``); tests hand in their own. Dry run unless
``WERKPLEK_HVAC_PUBLISH=true``: the commands are returned, nothing is published.
The message itself is the contract's (:mod:`contract.hvac`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any, Protocol

from backend.errors import Unavailable
from backend.facility.energy import ZoneForecast
from backend.facility.opening import Opening, for_site
from contract.hvac import command_for_day, encode_hvac

log = logging.getLogger(__name__)


class HvacPort(Protocol):
    """Where HVAC commands go: retained, QoS 1, one per zone."""

    def available(self) -> bool:
        """False when there is no connection to publish on (MQTT not configured)."""

    def publish(self, topic: str, payload: bytes) -> bool:
        """Queue one retained command; False when it could not be queued."""


class Publisher(Protocol):
    """The part of the MQTT bridge the port uses."""

    def publish(self, topic: str, payload: bytes, retain: bool) -> bool:
        """Queue a QoS 1 message; False when it could not be queued."""


class BridgePort:
    """The app's port: the MQTT bridge of the running backend, looked up at each use.

    ``bridge`` returns the bridge, or None while MQTT is off (the bridge only
    exists once the app has started with MQTT enabled).
    """

    def __init__(self, bridge: Callable[[], Publisher | None]) -> None:
        self._bridge = bridge

    def available(self) -> bool:
        """True once the app runs with an MQTT bridge."""
        return self._bridge() is not None

    def publish(self, topic: str, payload: bytes) -> bool:
        """Queue the command retained on the bridge."""
        bridge = self._bridge()
        return bridge is not None and bridge.publish(topic, payload, True)


class HvacUnavailable(Unavailable):
    """Publishing is switched on but there is no MQTT connection to publish on."""

    reason = "mqtt_unavailable"


def send_commands(
    zones: list[ZoneForecast],
    day: date,
    openings: Mapping[str, Opening],
    *,
    port: HvacPort | None,
    dry_run: bool,
    now: datetime,
) -> list[dict[str, Any]]:
    """Each zone's command for ``day`` (the site's local day), published unless a dry run.

    Raises:
        HvacUnavailable: not a dry run, and the port has no connection.
    """
    if not dry_run and (port is None or not port.available()):
        raise HvacUnavailable("no MQTT connection to publish on")
    sent = []
    for zone in zones:
        tz = for_site(openings, zone.site).tz
        try:
            command = command_for_day(
                zone.site, zone.floor, zone.zone, mode=zone.mode, reason=zone.reason,
                day=day, tz=tz, now=now, dry_run=dry_run,
            )  # fmt: skip
            topic = command.topic
        except ValueError as exc:
            log.warning("zone left out of HVAC commands: %s", exc)
            continue
        payload = encode_hvac(command)
        published = port is not None and not dry_run and port.publish(topic, payload)
        sent.append({"topic": topic, "payload": json.loads(payload), "published": published})
    return sent
