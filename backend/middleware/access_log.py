"""Keep secrets out of the access log: query values and calendar-feed tokens are redacted.

uvicorn's access log writes each request's full path. Some URLs carry a secret by
design (a calendar feed URL, a stream token) and some by mistake (a client that
puts its API token in ``?token=``, which is refused but still logged). The filter
rewrites the path before the line is formatted: a feed token becomes ``[redacted]``
and every query value is ``[redacted]`` unless its name is on a short list of
harmless filters (site, floor, date, ...), which keeps the log useful.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qsl, urlencode

#: Query parameters whose values are never secret and help reading the log.
HARMLESS = frozenset(
    "site floor date day part start end level format limit offset active quiet standing "
    "screen accessible capacity minutes lat lon min_group threshold min_minutes "
    "object_type object_id space_id user_id".split()
)
_FEED = re.compile(r"(/calendar/)[^/?]+(\.ics)")
REDACTED = "[redacted]"


def redact(path: str) -> str:
    """Return ``path`` (with its query string) without secrets."""
    path, _, query = path.partition("?")
    path = _FEED.sub(rf"\g<1>{REDACTED}\g<2>", path)
    if not query:
        return path
    pairs = [
        (name, value if name in HARMLESS else REDACTED)
        for name, value in parse_qsl(query, keep_blank_values=True)
    ]
    return f"{path}?{urlencode(pairs, safe='[]')}"


class RedactingFilter(logging.Filter):
    """Rewrites the path argument of uvicorn's access-log records."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the record's path (``uvicorn.access``: addr, method, path, version, status)."""
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact(args[2]), *args[3:])
        return True


def install_access_log_filter() -> None:
    """Add the filter to uvicorn's access logger once per process."""
    logger = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactingFilter) for f in logger.filters):
        logger.addFilter(RedactingFilter())
