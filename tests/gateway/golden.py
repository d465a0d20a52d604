"""The golden messages of contract v1 the gateway consumes (see tests/contracts/golden.py)."""

from __future__ import annotations

from tests.contracts.golden import CONTRACTS, examples, load, payload_of

#: Kinds the gateway parses: what devices send, and the backend's registry.
DEVICE_KINDS = ("presence", "status", "telemetry")
CONSUMED = (*DEVICE_KINDS, "registry")

__all__ = ["CONSUMED", "CONTRACTS", "DEVICE_KINDS", "examples", "load", "payload_of"]
