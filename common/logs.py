"""One log set-up for every entry point: ``werkplek gateway|backend|demo``, ``python -m gateway``.

``WERKPLEK_LOG_FORMAT=json`` gives one JSON object per line for log shippers
(Loki, Elastic, journald); ``text`` (the default) is for people. Libraries that
log a line per request (httpx, httpcore, uvicorn's access log, the embedded
broker) are held at WARNING: one line per history batch is noise, and costs.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict

LogFormat = Literal["text", "json"]
#: Loggers that would otherwise write a line per request or per packet.
QUIET = ("httpx", "httpcore", "amqtt", "transitions", "uvicorn.access")


class LogSettings(BaseSettings):
    """The log format, read from ``WERKPLEK_LOG_FORMAT``."""

    model_config = SettingsConfigDict(env_prefix="WERKPLEK_", extra="ignore")

    log_format: LogFormat = "text"


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC), level, logger, message, exception."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as compact JSON."""
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


def setup_logging(fmt: LogFormat | None = None, *, verbose: bool = False) -> None:
    """Configure the root logger (INFO, DEBUG when ``verbose``) in text or JSON format.

    ``fmt`` None reads ``WERKPLEK_LOG_FORMAT``. Replaces any handler set up
    before, so calling it from two entry points leaves one handler.
    """
    fmt = fmt or LogSettings().log_format
    handler = logging.StreamHandler()
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO, handlers=[handler], force=True
    )
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
