"""JSON payload reading shared by every parser: one decoder, exact type checks, reason codes.

Types are exact: JSON ``true`` is never an int here and ``1`` is never a bool;
a float field accepts an int. NaN and Infinity are not JSON and are refused.
"""

from __future__ import annotations

import json
from typing import Any

from contract.errors import ContractError
from contract.topics import MAX_PAYLOAD_BYTES, VERSION


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


#: One decoder for all messages (json.loads with options builds one per call).
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def check_size(payload: bytes) -> None:
    """Refuse a payload over the contract's size limit (``too_large``)."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise ContractError("too_large", f"{len(payload)} bytes > {MAX_PAYLOAD_BYTES}")


def load_object(payload: bytes) -> dict[str, Any]:
    """Decode a JSON object payload of contract version 1.

    Raises:
        ContractError: ``bad_json``, ``not_object``, or a ``v`` that is missing,
            not an int or not 1.
    """
    try:
        data = _DECODER.decode(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ContractError("bad_json", f"payload is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ContractError("not_object", f"payload is a JSON {type(data).__name__}")
    if type(data.get("v")) is int and data["v"] == VERSION:  # the usual case, one check
        return data
    version = field(data, "v", int)
    if version != VERSION:
        raise ContractError("bad_version", f"payload version {version}, expected {VERSION}")
    return data


def field(data: dict[str, Any], name: str, kind: type, *, optional: bool = False) -> Any:
    """Return ``data[name]`` if it has type ``kind``; ``optional`` allows absent or null."""
    if name not in data or (optional and data[name] is None):
        if optional:
            return None
        raise ContractError("missing_field", f"{name!r} is missing")
    value = data[name]
    allowed: tuple[type, ...] = (int, float) if kind is float else (kind,)
    if isinstance(value, bool) != (kind is bool) or not isinstance(value, allowed):
        raise ContractError("bad_type", f"{name!r} must be {kind.__name__}, got {value!r:.40}")
    return value


def nullable(data: dict[str, Any], name: str, kind: type) -> Any:
    """Return ``data[name]`` of type ``kind`` or None; the key itself is required."""
    if name not in data:
        raise ContractError("missing_field", f"{name!r} is missing (send null when unknown)")
    return field(data, name, kind, optional=True)


def in_range(name: str, value: float, low: float, high: float) -> None:
    """Refuse ``value`` outside ``[low, high]`` (``out_of_range``)."""
    if not low <= value <= high:
        raise ContractError("out_of_range", f"{name!r}={value!r} outside [{low}, {high}]")


def one_of(name: str, value: str, choices: tuple[str, ...]) -> None:
    """Refuse a word that is not one of ``choices`` (``out_of_range``)."""
    if value not in choices:
        raise ContractError("out_of_range", f"{name!r}={value!r:.40} not one of {choices}")


def same_as_topic(data: dict[str, Any], name: str, expected: str, reason: str) -> None:
    """Refuse an id in the payload that differs from the one in the topic."""
    value = field(data, name, str)
    if value != expected:
        raise ContractError(reason, f"{name} {value!r:.70} differs from the topic")


def dumps(body: dict[str, Any]) -> bytes:
    """Compact JSON of a payload."""
    return json.dumps(body, separators=(",", ":")).encode()
