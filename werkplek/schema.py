"""`werkplek schema current|history|upgrade|downgrade`: the database schema's release steps.

The backend migrates to the newest revision by itself at start-up; this command is
for the operator's rollback (docs/operations.md, Upgrade): a downgrade must run with
the *newer* release still installed, because only it has the scripts that undo its
own steps. The revisions and their order come from ``backend/migrations``.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from sqlalchemy import inspect, text


def current(database_url: str) -> str | None:
    """The revision the database is at (None: no schema yet)."""
    from backend.database import make_engine

    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            if "alembic_version" not in inspect(conn).get_table_names():
                return None
            revision: str | None = conn.execute(
                text("SELECT version_num FROM alembic_version")
            ).scalar()
            return revision
    finally:
        engine.dispose()


def history() -> list[str]:
    """Every revision, oldest first."""
    from alembic.script import ScriptDirectory

    from backend.database import alembic_config

    script = ScriptDirectory.from_config(alembic_config())
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def step(database_url: str, action: str, revision: str) -> None:
    """Upgrade or downgrade to ``revision`` in one transaction."""
    from alembic import command

    from backend.database import alembic_config, make_engine

    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:
            getattr(command, action)(alembic_config(conn), revision)
    finally:
        engine.dispose()


def cmd_schema(args: argparse.Namespace) -> int:
    """Print the revision, the chain, or move the schema; exit 1 with the reason on failure."""
    from alembic.util.exc import CommandError

    from werkplek.backup import BackupSettings

    url = BackupSettings().database_url  # the backend's WERKPLEK_DATABASE_URL
    if args.action == "current":
        print(current(url) or "none")  # noqa: T201 - the operator reads this
        return 0
    if args.action == "history":
        print("\n".join(history()))  # noqa: T201
        return 0
    if not args.revision:
        sys.stderr.write(f"schema {args.action} needs a revision (`werkplek schema history`)\n")
        return 1
    try:
        step(url, args.action, args.revision)
    except CommandError as exc:
        print(f"schema {args.action} failed: {exc}", file=sys.stderr)  # noqa: T201
        return 1
    print(current(url) or "none")  # noqa: T201
    return 0


def add_cli(sub: Any) -> None:
    """Register ``schema`` on the CLI's subparsers."""
    schema = sub.add_parser("schema", help="show or move the database schema's revision")
    schema.add_argument("action", choices=["current", "history", "upgrade", "downgrade"])
    schema.add_argument("revision", nargs="?", help="target revision, e.g. 0001 or head")
    schema.set_defaults(func=cmd_schema)
