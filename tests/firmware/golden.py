"""The device messages among the shared golden files of contract v1 (``tests/contracts/v1``).

The firmware keeps no copies: every JSON file in that folder is read, and an
example counts as a device message when its topic is a device's
(``werkplek/<version>/<site>/<device>/<presence|status|telemetry>``; levels that
start with ``_`` belong to the services). A file is either ``{"valid": [...],
"invalid": [...]}`` (one file per message kind) or a flat list (the older
``valid.json`` / ``invalid.json``); an invalid example carries its ``reason``. An
example in more than one file is taken once.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CONTRACTS = Path(__file__).resolve().parents[1] / "contracts" / "v1"

#: A device's topic (any version level, so that a wrong version is still recognised).
_DEVICE_TOPIC = re.compile(
    r"^werkplek/[^/]+/([^/_][^/]*)/([^/_][^/]*)/(presence|status|telemetry)$"
)


@dataclass(frozen=True)
class Example:
    """One golden device message."""

    source: str  # the golden file's name
    name: str
    topic: str
    site: str
    device_id: str
    kind: str  # presence, status or telemetry
    raw: bytes  # the payload as sent
    reason: str | None  # None: valid; else the reason code it is refused with
    canonical: bool  # False: accepted, but an older producer's form
    qos: int | None
    retain: bool | None

    @property
    def data(self) -> Any:
        """The payload parsed as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.raw)
        except ValueError:
            return None


def _raw(entry: dict[str, Any]) -> bytes:
    if "payload" in entry:
        return json.dumps(entry["payload"]).encode()
    if "payload_text" in entry:
        return str(entry["payload_text"]).encode()
    if "payload_hex" in entry:
        return bytes.fromhex(str(entry["payload_hex"]))
    text, count = entry["payload_text_repeat"]
    return (str(text) * int(count)).encode()


def _entries(data: Any) -> list[dict[str, Any]]:
    if isinstance(data, dict):
        return [e for group in ("valid", "invalid") for e in data.get(group, [])]
    return list(data) if isinstance(data, list) else []


def device_examples() -> list[Example]:
    """Every device message in the golden files, in file order, each once."""
    out: list[Example] = []
    seen: set[tuple[str, bytes, str | None]] = set()
    for path in sorted(CONTRACTS.glob("*.json")):
        for entry in _entries(json.loads(path.read_text())):
            if not isinstance(entry, dict):
                continue
            match = _DEVICE_TOPIC.match(str(entry.get("topic", "")))
            if match is None:
                continue
            raw, reason = _raw(entry), entry.get("reason")
            if (entry["topic"], raw, reason) in seen:
                continue
            seen.add((entry["topic"], raw, reason))
            site, device_id, kind = match.groups()
            out.append(
                Example(
                    path.name,
                    str(entry.get("name", "")),
                    entry["topic"],
                    site,
                    device_id,
                    kind,
                    raw,
                    reason,
                    entry.get("canonical", True) is not False,
                    entry.get("qos"),
                    entry.get("retain"),
                )
            )
    return out


def valid(kind: str) -> list[Example]:
    """The valid golden messages of one kind."""
    return [e for e in device_examples() if e.kind == kind and e.reason is None]


def invalid(kind: str) -> list[Example]:
    """The invalid golden messages of one kind (each with its reason code)."""
    return [e for e in device_examples() if e.kind == kind and e.reason is not None]
