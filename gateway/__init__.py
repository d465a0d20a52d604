"""Werkplek gateway: MQTT presence in, history and live per-space state out.

The package is cut by layer: ``ingest`` routes each message by its topic kind
to the contract's parsers (``messages``) and on, ``settle`` waits for the
registry after a (re)connect, ``live`` derives state, ``health`` keeps device
health, ``points`` maps messages to history points (stored by the shared
``history`` package), ``writer`` batches them, ``mqtt`` is the only paho edge
and ``app.Gateway`` builds the parts, runs the worker, starts and stops.
"""

from gateway.app import Gateway
from gateway.settings import GatewaySettings

__all__ = ["Gateway", "GatewaySettings"]
