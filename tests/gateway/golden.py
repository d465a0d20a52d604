"""Load the shared golden messages of contract v1."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CONTRACTS = Path(__file__).resolve().parents[1] / "contracts" / "v1"


def payload_of(entry: dict[str, Any]) -> bytes:
    if "payload" in entry:
        return json.dumps(entry["payload"]).encode()
    if "payload_text" in entry:
        return entry["payload_text"].encode()
    if "payload_hex" in entry:
        return bytes.fromhex(entry["payload_hex"])
    text, count = entry["payload_text_repeat"]
    return (text * count).encode()


def load(name: str) -> list[dict[str, Any]]:
    return json.loads((CONTRACTS / name).read_text())
