"""The firmware's modules meet through public names only (issue 18, point 5).

A module may read or set its own objects' ``_private`` attributes (``self._x``), never
another's: what one module needs of another's object is a public attribute or method
(``node.say``, ``node.telemetry_soon``, ``client.next_pid()``, ...). Topics are built
from the node's stored ``topic_base``, not cut from a sibling topic.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

FIRMWARE = Path(__file__).resolve().parents[2] / "firmware"
MODULES = sorted(FIRMWARE.glob("*.py"))
#: MicroPython's asyncio scheduler (``from asyncio import core``): its queues have no
#: public name, and ``Flag``/``Stream`` park tasks on them as asyncio's own classes do.
SCHEDULER = {"core", "_core"}


def _foreign_private_attributes(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Attribute):
            continue
        name = node.attr
        if not name.startswith("_") or name.startswith("__"):
            continue
        owner = ast.unparse(node.value)
        if owner in ("self", "cls") or owner in SCHEDULER:
            continue
        found.append(f"{node.lineno}: {owner}.{name}")
    return found


def test_the_check_finds_a_foreign_private_attribute():
    assert _foreign_private_attributes("node._say('x')\nself._ok = 1\n") == ["1: node._say"]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_no_module_touches_another_objects_private_attributes(path):
    assert _foreign_private_attributes(path.read_text()) == []


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_no_topic_is_cut_from_a_sibling_topic(path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice):
            owner = ast.unparse(node.value)
            assert "topic" not in owner, f"{path.name}:{node.lineno}: {ast.unparse(node)}"
