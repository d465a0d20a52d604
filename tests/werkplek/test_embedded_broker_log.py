"""The demo's embedded broker: a missed delivery under load is one warning, not a traceback."""

from __future__ import annotations

import logging

from werkplek.broker import _QuietDeliveryTimeouts


def _logged(error: Exception, caplog) -> logging.LogRecord:
    log = logging.getLogger("amqtt.broker.test")
    log.addFilter(_QuietDeliveryTimeouts())
    with caplog.at_level(logging.DEBUG, logger=log.name):
        try:
            raise error
        except Exception:
            log.exception("Task failed and will be skipped: <task>")
    return caplog.records[-1]


def test_a_puback_timeout_is_one_warning_line(caplog):
    record = _logged(TimeoutError("Timeout waiting for PUBACK for packet ID 490"), caplog)
    assert record.levelname == "WARNING"
    assert record.exc_info is None
    assert "Traceback" not in caplog.text
    assert "did not acknowledge" in record.getMessage()


def test_other_errors_keep_their_traceback(caplog):
    record = _logged(ValueError("something else"), caplog)
    assert record.levelname == "ERROR"
    assert record.exc_info is not None
    assert "Traceback" in caplog.text
