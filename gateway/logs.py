"""Log set-up for ``python -m gateway``: plain text, or one JSON object per line."""

from __future__ import annotations

import json
import logging
import time


class JsonFormatter(logging.Formatter):
    """One JSON object per record, for log shippers (Loki, Elastic, journald)."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as compact JSON: time, level, logger, message, exception."""
        body = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            body["exception"] = self.formatException(record.exc_info)
        return json.dumps(body, ensure_ascii=False)


def setup_logging(fmt: str) -> None:
    """Configure the root logger at INFO in ``text`` or ``json`` format."""
    handler = logging.StreamHandler()
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    # httpx logs every request at INFO: one line per history batch is noise, and costs.
    logging.getLogger("httpx").setLevel(logging.WARNING)
