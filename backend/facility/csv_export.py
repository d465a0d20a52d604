"""CSV answers of the facility reports: a header row, one line per report row.

Spreadsheets are where facility staff take these figures; ``None`` (a suppressed
cell) becomes an empty field, never a zero.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from fastapi import Response


def to_csv(rows: Sequence[dict[str, Any]]) -> str:
    """Rows as CSV text with a header row (the keys of the first row)."""
    out = io.StringIO()
    if not rows:
        return ""
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return out.getvalue()


def csv_response(rows: Sequence[dict[str, Any]], name: str) -> Response:
    """A ``text/csv`` download named ``werkplek-<name>.csv``."""
    return Response(
        to_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="werkplek-{name}.csv"'},
    )
