"""The data inventory: every place Werkplek keeps data, which of it is personal, and for how long.

One table in code, so the privacy page (``docs/privacy.md``), the privacy officer's
report and the tests all read the same thing: a test fails when a database table or
column appears that no entry covers, and another when the page and this table differ.
Periods given as ``WERKPLEK_RETENTION_DAYS`` are enforced by ``backend.privacy.retention``.
"""

from __future__ import annotations

from backend.plans.privacy import inventory_items as plan_items
from backend.privacy.item import EMPLOY, STORES, TASK, Item
from backend.privacy.items_people import PEOPLE
from backend.privacy.items_places import PLACES
from backend.privacy.items_services import SERVICES

__all__ = ["ITEMS", "STORES", "Item", "by_name", "markdown", "tables"]

#: Every entry, in the order of the privacy page.
ITEMS: tuple[Item, ...] = (
    *PEOPLE,
    *PLACES,
    *SERVICES,
    *plan_items(Item, EMPLOY, TASK),  # week plans and teams (backend/plans/privacy.py)
)


def by_name() -> dict[str, Item]:
    """Every item keyed by its name."""
    return {item.name: item for item in ITEMS}


def tables() -> dict[str, Item]:
    """The items that are database tables, keyed by table name."""
    return {item.name: item for item in ITEMS if item.store == "table"}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown() -> str:
    """The inventory as the Markdown table of ``docs/privacy.md`` (generated, not edited)."""
    lines = [
        "| data item | where | personal fields | purpose | legal basis | who sees it "
        "| kept | deleted by |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for item in ITEMS:
        name = f"**(P)** `{item.name}`" if item.is_personal else f"`{item.name}`"
        personal = ", ".join(f"`{p}`" for p in item.personal) or "none"
        cells = (name, item.store, personal, item.what + "; " + item.purpose, item.basis,
                 item.who, item.kept, item.deleted_by)  # fmt: skip
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"
