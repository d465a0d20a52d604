"""`werkplek backup <dir>` / `werkplek restore <dir>`: every store of a deployment in one folder.

What goes in, each with the tool its owner supports:

- PostgreSQL (bookings, places, tokens): ``pg_dump`` custom format, restored with
  ``pg_restore --clean --no-owner`` so the database's own, non-superuser owner can do it;
- InfluxDB 1.x (presence history, rollups, retention policies): ``influxd backup
  -portable`` over the server's backup port (8088, never published; see
  docs/operations.md), restored with ``influxd restore -portable``;
- the broker's persistence file (retained states, queued QoS 1 messages) and the
  gateway's state folder (spool, dead letters): copies, SQLite files through SQLite's
  online backup so a running gateway's spool is copied consistently.

A ``manifest.json`` says what was saved, when, with which versions, the row and
point counts and each file's SHA-256. A restore checks the files against it first
and the counts after, and fails loudly on any difference: a backup is only worth
what a restore of it gives back.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Any

from werkplek import __version__
from werkplek.backup_stores import (
    BackupError,
    BackupSettings,
    backup_files,
    backup_influx,
    backup_postgres,
    influx_counts,
    pg_counts,
    restore_files,
    restore_influx,
    restore_postgres,
)

__all__ = ["BackupError", "BackupSettings", "backup", "restore", "verify"]

PARTS = ("postgres", "influx", "broker", "gateway")
MANIFEST = "manifest.json"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- the two commands ---


def backup(
    settings: BackupSettings, folder: Path, parts: list[str] | None = None
) -> dict[str, Any]:
    """Save the chosen (default: every configured) part into ``folder`` with a manifest."""
    parts = parts or settings.configured()
    folder.mkdir(parents=True, exist_ok=True)
    if any(folder.iterdir()):
        raise BackupError(f"{folder} is not empty: back up into a new folder")
    started = time.time()
    manifest: dict[str, Any] = {"format": 1, "werkplek": __version__, "parts": {}}
    for part in parts:
        if part == "postgres":
            manifest["parts"][part] = backup_postgres(settings, folder)
        elif part == "influx":
            manifest["parts"][part] = backup_influx(settings, folder)
        elif part == "broker":
            assert settings.mosquitto_data_dir is not None
            manifest["parts"][part] = backup_files(settings.mosquitto_data_dir, folder / "broker")
        elif part == "gateway":
            manifest["parts"][part] = backup_files(settings.state_dir, folder / "gateway")
    manifest["started_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started))
    manifest["seconds"] = round(time.time() - started, 2)
    manifest["sha256"] = {
        str(p.relative_to(folder)): _sha256(p) for p in sorted(folder.rglob("*")) if p.is_file()
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


def verify(folder: Path) -> dict[str, Any]:
    """Read the manifest and check every file's checksum."""
    try:
        manifest: dict[str, Any] = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise BackupError(f"{folder / MANIFEST} cannot be read: {exc}") from exc
    for name, digest in manifest["sha256"].items():
        path = folder / name
        if not path.is_file() or _sha256(path) != digest:
            raise BackupError(f"{name} is missing or changed since the backup")
    return manifest


def restore(
    settings: BackupSettings, folder: Path, parts: list[str] | None = None
) -> dict[str, Any]:
    """Restore the chosen (default: every saved) part, then check the counts came back."""
    manifest = verify(folder)
    saved = manifest["parts"]
    parts = parts or list(saved)
    missing = [p for p in parts if p not in saved]
    if missing:
        raise BackupError(f"the backup holds no {', '.join(missing)}")
    report: dict[str, Any] = {}
    for part in parts:
        if part == "postgres":
            restore_postgres(settings, folder)
            rows = pg_counts(settings.database_url)["rows"]
            _same(part, saved[part]["rows"], rows)
            report[part] = {"rows": rows}
        elif part == "influx":
            restore_influx(settings, folder, saved[part])
            points = influx_counts(settings)["points"]
            _same(part, saved[part]["points"], points)
            report[part] = {"points": points}
        elif part == "broker":
            if settings.mosquitto_data_dir is None:
                raise BackupError("set WERKPLEK_MOSQUITTO_DATA_DIR to restore the broker")
            restore_files(folder / "broker", settings.mosquitto_data_dir)
            report[part] = {"files": sorted(saved[part]["files"])}
        elif part == "gateway":
            restore_files(folder / "gateway", settings.state_dir)
            report[part] = {"files": sorted(saved[part]["files"])}
    return report


def _same(part: str, expected: dict[str, int], found: dict[str, int]) -> None:
    # Rows added between the backup and now (e.g. by a running service) are not a loss.
    short = {k: (v, found.get(k, 0)) for k, v in expected.items() if found.get(k, 0) < v}
    if short:
        raise BackupError(f"{part}: fewer rows/points after the restore (saved, now): {short}")


def parse_parts(value: str | None) -> list[str] | None:
    """``postgres,influx`` -> a checked list; None means every part."""
    if not value:
        return None
    parts = [p.strip() for p in value.split(",") if p.strip()]
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        raise BackupError(f"unknown part(s) {unknown}; choose from {', '.join(PARTS)}")
    return parts


def cmd_backup(args: argparse.Namespace) -> int:
    """``werkplek backup <dir>``: print the manifest's summary; on failure exit 1 with why."""
    try:
        manifest = backup(BackupSettings(), Path(args.dir), parse_parts(args.only))
    except BackupError as exc:
        print(f"backup failed: {exc}", file=sys.stderr)  # noqa: T201
        return 1
    summary = {k: v for k, v in manifest.items() if k != "sha256"}
    print(json.dumps(summary, indent=2, sort_keys=True))  # noqa: T201
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    """``werkplek restore <dir>``: restore and print what came back."""
    try:
        report = restore(BackupSettings(), Path(args.dir), parse_parts(args.only))
    except BackupError as exc:
        print(f"restore failed: {exc}", file=sys.stderr)  # noqa: T201
        return 1
    print(json.dumps(report, indent=2, sort_keys=True))  # noqa: T201
    return 0


def add_cli(sub: Any) -> None:
    """Register ``backup`` and ``restore`` on the CLI's subparsers."""
    only = f"comma-separated parts ({', '.join(PARTS)}); default: all configured"
    made = sub.add_parser("backup", help="save PostgreSQL, InfluxDB, broker and gateway state")
    made.add_argument("dir", help="a new or empty folder")
    made.add_argument("--only", help=only)
    made.set_defaults(func=cmd_backup)
    back = sub.add_parser("restore", help="restore a backup made by `werkplek backup`")
    back.add_argument("dir", help="the backup folder (with manifest.json)")
    back.add_argument("--only", help=only)
    back.set_defaults(func=cmd_restore)
