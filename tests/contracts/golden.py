"""Load the golden messages of contract v1: ``v1/<kind>.json`` with valid and invalid examples.

Each file is ``{"valid": [...], "invalid": [...]}``. An example has a ``name``,
a ``topic`` and its payload as ``payload`` (JSON), ``payload_text``,
``payload_hex`` or ``payload_text_repeat`` (``[text, count]``); an invalid one
also has the ``reason`` code it must be refused with. A valid example marked
``"canonical": false`` is accepted but not what the encoder writes today (an
older producer's form).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CONTRACTS = Path(__file__).resolve().parent / "v1"


def payload_of(entry: dict[str, Any]) -> bytes:
    """The raw payload of an example."""
    if "payload" in entry:
        return json.dumps(entry["payload"]).encode()
    if "payload_text" in entry:
        return entry["payload_text"].encode()
    if "payload_hex" in entry:
        return bytes.fromhex(entry["payload_hex"])
    text, count = entry["payload_text_repeat"]
    return (text * count).encode()


def load(kind: str) -> dict[str, list[dict[str, Any]]]:
    """The golden file of one kind."""
    return json.loads((CONTRACTS / f"{kind}.json").read_text())


def examples(which: str, *kinds: str) -> list[dict[str, Any]]:
    """The ``valid`` or ``invalid`` examples of the given kinds, in file order."""
    return [entry for kind in kinds for entry in load(kind)[which]]


def kinds_with_files() -> list[str]:
    """Every kind that has a golden file."""
    return sorted(path.stem for path in CONTRACTS.glob("*.json"))
