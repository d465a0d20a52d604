"""Werkplek gateway: MQTT presence in, history and live per-space state out.

The package is cut by layer: ``messages`` validates, ``live`` derives state,
``history`` stores points, ``writer`` batches them, ``mqtt`` is the only paho
edge and ``app.Gateway`` wires them together.
"""

from gateway.app import Gateway
from gateway.settings import GatewaySettings

__all__ = ["Gateway", "GatewaySettings"]
