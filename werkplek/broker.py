"""The embedded MQTT broker of the demo (amqtt), for machines without Mosquitto.

amqtt speaks MQTT 3.1.1 only, so services connected to it must use protocol
"3.1.1". It listens on loopback only and allows anonymous clients: it exists so
that `make demo` needs no server. Production uses Mosquitto with per-device
credentials and ACLs (docs/operations.md).
"""

from __future__ import annotations

import logging
from typing import Any

from amqtt.broker import Broker

log = logging.getLogger(__name__)


class EmbeddedBroker:
    """An in-process MQTT 3.1.1 broker bound to ``host:port``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 1883) -> None:
        self.host = host
        self.port = port
        self._broker: Any = None

    @property
    def url(self) -> str:
        """The URL services use to connect."""
        return f"mqtt://{self.host}:{self.port}"

    async def start(self) -> None:
        """Start listening; returns once the listener is bound."""
        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            "plugins": {
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True},
            },
        }
        self._broker = Broker(config)
        await self._broker.start()
        log.info("embedded MQTT broker listening on %s", self.url)

    async def stop(self) -> None:
        """Shut the broker down."""
        if self._broker is not None:
            await self._broker.shutdown()
            self._broker = None
