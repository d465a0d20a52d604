"""Every `werkplek` command docs/operations.md tells an operator to type exists and is tested.

Two checks, because a command in the operations guide can go wrong in two ways:

- It no longer parses: a subcommand renamed, an option dropped, a hook lost from
  `werkplek/cli.py` (this happened once: `werkplek pki` was documented and tested
  through its module while the command answered "invalid choice"). Every command in
  the guide's shell blocks and inline code is parsed by the real argument parser.
- Nothing runs it: each documented subcommand is named here with the test files that
  run it through the command line, and those files must still call it that way.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from werkplek.cli import build_parser

REPO = Path(__file__).resolve().parents[2]
GUIDE = REPO / "docs" / "operations.md"

# Subcommand (its first one or two words) -> test files that run it as a command, and the
# argv fragment they use. Add a row when the guide gains a command.
RUN_BY: dict[str, list[tuple[str, str]]] = {
    "broker-acl": [("tests/werkplek/test_broker_acl.py", '"broker-acl"')],
    "influx init": [("tests/deploy/test_influx_init.py", '"influx", "init"')],
    "gateway": [("tests/gateway/test_entry_points.py", '"gateway"')],
    "backend": [("tests/gateway/test_entry_points.py", '["backend"]')],
    "seed": [("tests/deploy/test_smoke.py", '"seed"')],
    "healthcheck": [("tests/gateway/test_entry_points.py", '"healthcheck"')],
    "pki ca": [("tests/werkplek/test_pki.py", '"pki", "ca"')],
    "pki server": [("tests/werkplek/test_pki.py", '"pki", "server"')],
    "pki client": [("tests/werkplek/test_pki.py", '"pki", "client"')],
    "schema current": [("tests/deploy/test_schema_cli.py", '"schema", "current"')],
    "schema history": [("tests/deploy/test_schema_cli.py", '"schema", "history"')],
    "schema upgrade": [("tests/deploy/test_schema_cli.py", '"schema", "upgrade"')],
    "schema downgrade": [("tests/deploy/test_schema_cli.py", '"schema", "downgrade"')],
    "backup": [("tests/deploy/test_backup.py", '"backup"')],
    "restore": [("tests/deploy/test_backup.py", '"restore"')],
    "token create": [("tests/deploy/test_smoke.py", '"token", "create"')],
    "demo": [("tests/e2e/test_demo.py", '"werkplek", "demo"')],
    "site-bridge": [("tests/satellite/test_site_bridge.py", '"site-bridge"')],
}

# Subcommands whose second word is part of the name (an action), not an argument.
TWO_WORD = {"influx", "pki", "schema", "token", "firmware", "privacy"}


def _shell_blocks(text: str) -> list[str]:
    """Return the lines of every fenced block, continuation lines joined.

    Blocks marked ```` ```text ```` hold a program's output (benchmark lines that
    mention "werkplek 337/s"), not commands to type, and are left out.
    """
    lines: list[str] = []
    inside = output = False
    for line in text.splitlines():
        if line.strip().startswith("```"):
            inside = not inside
            output = inside and line.strip() == "```text"
            continue
        if inside and not output:
            lines.append(line)
    return re.sub(r"\\\n", " ", "\n".join(lines)).splitlines()


def _inline(text: str) -> list[str]:
    """Return inline code spans that name a `werkplek ...` command (or two: `a|b`)."""
    spans = re.findall(r"`(werkplek [^`]+)`", text)
    # "werkplek healthcheck gateway|backend" documents two commands at once.
    out: list[str] = []
    for span in spans:
        head, _, tail = span.rpartition(" ")
        out.extend(f"{head} {alt}" for alt in tail.split("|")) if "|" in tail else out.append(span)
    return out


def _argv(line: str) -> list[str] | None:
    """Return the words after the command `werkplek` in a shell line, or None."""
    line = re.sub(r"<[^>]*>", "PLACEHOLDER", line)
    try:
        words = shlex.split(line, comments=True)
    except ValueError:
        return None
    for at, word in enumerate(words):
        # `werkplek` as the command, not as an option's value (`-database werkplek`).
        if word == "werkplek" and (at == 0 or not words[at - 1].startswith("-")):
            argv = words[at + 1 :]
            return argv if argv and not argv[0].startswith("-") else None
    return None


def documented_commands() -> list[list[str]]:
    """Return the argv (after `werkplek`) of every command in the guide's shell blocks."""
    found = [_argv(line) for line in _shell_blocks(GUIDE.read_text(encoding="utf-8"))]
    return [argv for argv in found if argv is not None]


def documented_names() -> set[str]:
    """Return the subcommand names the guide mentions anywhere, inline code included."""
    text = GUIDE.read_text(encoding="utf-8")
    inline = [_argv(span) for span in _inline(text)]
    return {_name(argv) for argv in COMMANDS + [a for a in inline if a is not None]}


def _name(argv: list[str]) -> str:
    return " ".join(argv[:2]) if argv[0] in TWO_WORD and len(argv) > 1 else argv[0]


COMMANDS = documented_commands()


def test_the_guide_documents_the_operators_commands():
    names = documented_names()
    # The guide's order: install, initialise, upgrade, back up, restore, monitor.
    assert {"influx init", "gateway", "backend", "schema downgrade", "backup", "restore"} <= names


@pytest.mark.parametrize("argv", COMMANDS, ids=[" ".join(a) for a in COMMANDS])
def test_each_documented_command_parses(argv: list[str]):
    try:
        build_parser().parse_args(argv)
    except SystemExit as exit_:  # argparse's way of refusing
        pytest.fail(f"`werkplek {' '.join(argv)}` from docs/operations.md does not parse: {exit_}")


def test_each_documented_command_is_run_by_a_test():
    # A group named on its own (`werkplek pki`) is covered by its subcommands' rows.
    missing = sorted(
        name for name in documented_names() - set(RUN_BY)
        if not any(key.startswith(name + " ") for key in RUN_BY)
    )  # fmt: skip
    assert not missing, f"documented but not listed in RUN_BY (which test runs it?): {missing}"
    for name, runners in RUN_BY.items():
        for path, fragment in runners:
            source = (REPO / path).read_text(encoding="utf-8")
            assert fragment in source, f"{path} no longer runs `werkplek {name}` ({fragment})"


def test_the_guide_walks_through_the_operators_day_in_order():
    headings = [
        line[3:].strip() for line in GUIDE.read_text(encoding="utf-8").splitlines()
        if line.startswith("## ")
    ]  # fmt: skip
    wanted = ["Initialise InfluxDB", "Upgrade and roll back", "Back up", "Restore", "Monitoring"]
    positions = [headings.index(h) for h in wanted]
    assert positions == sorted(positions), headings
