"""The data inventory covers every table and column, and docs/privacy.md shows it as generated."""

from __future__ import annotations

from pathlib import Path

import pytest

import backend.main  # noqa: F401  (imports every model, so Base.metadata is complete)
from backend.database import Base
from backend.privacy import cli, inventory
from werkplek.cli import main

PAGE = Path(__file__).resolve().parents[2] / "docs" / "privacy.md"


def test_every_table_and_column_is_in_the_inventory():
    items = inventory.tables()
    missing = sorted(set(Base.metadata.tables) - set(items))
    assert missing == [], f"tables the inventory does not cover: {missing}"
    gone = sorted(set(items) - set(Base.metadata.tables))
    assert gone == [], f"inventory entries for tables that no longer exist: {gone}"
    for name, table in Base.metadata.tables.items():
        item = items[name]
        columns = {c.name for c in table.columns}
        listed = set(item.personal) | set(item.other)
        assert columns - listed == set(), f"{name}: columns not in the inventory"
        assert listed - columns == set(), f"{name}: inventory lists columns that do not exist"
        assert not set(item.personal) & set(item.other), f"{name}: a column listed twice"


def test_every_item_says_why_and_how_long():
    for item in inventory.ITEMS:
        assert item.store in inventory.STORES, item.name
        for text in (item.what, item.purpose, item.basis, item.who, item.kept, item.deleted_by):
            assert text.strip(), item.name
    # The person-linked tables are the ones retention and erasure handle.
    personal = {i.name for i in inventory.ITEMS if i.store == "table" and i.is_personal}
    assert personal == {
        "app_user", "api_token", "booking", "audit_log", "login_throttle",
        "work_plan", "plan_pattern", "plan_sharing", "team_member",  # backend/plans/privacy.py
    }  # fmt: skip


def test_the_privacy_page_holds_the_generated_inventory():
    page = PAGE.read_text(encoding="utf-8")
    assert cli.with_inventory(page) == page, (
        "docs/privacy.md differs from the inventory in code; run "
        "`werkplek privacy inventory --write docs/privacy.md`"
    )
    assert inventory.markdown() in page


def test_the_command_prints_and_writes_the_table(tmp_path, capsys):
    assert main(["privacy", "inventory", "--markdown"]) == 0
    assert capsys.readouterr().out == inventory.markdown()
    page = tmp_path / "privacy.md"
    page.write_text(f"# P\n\n{cli.BEGIN}\nold table\n{cli.END}\n\nafter\n", encoding="utf-8")
    assert main(["privacy", "inventory", "--write", str(page)]) == 0
    text = page.read_text(encoding="utf-8")
    assert "old table" not in text and inventory.markdown() in text and text.endswith("after\n")
    with pytest.raises(ValueError, match="inventory:begin"):
        cli.with_inventory("# a page without the section\n")
