"""The demo's embedded broker says a late PUBACK in one line, and hides nothing else."""

from __future__ import annotations

import asyncio
import logging

import pytest

from werkplek.broker import _quiet_unacked_publishes


async def mqtt_publish() -> None:  # named like amqtt's publish task
    raise TimeoutError("Timeout waiting for PUBACK for packet ID 85")


async def something_else() -> None:
    raise TimeoutError("not amqtt's")


def test_a_late_puback_is_one_warning_and_other_errors_keep_their_traceback(caplog):
    loop = asyncio.new_event_loop()
    try:
        _quiet_unacked_publishes(loop)
        caplog.set_level(logging.WARNING)
        for coro in (mqtt_publish(), something_else()):
            task = loop.create_task(coro)
            loop.run_until_complete(asyncio.wait([task]))
            loop.call_exception_handler(
                {"message": "Task exception was never retrieved", "exception": task.exception(),
                 "future": task}
            )  # fmt: skip
    finally:
        loop.close()
    quiet = [r for r in caplog.records if r.name == "werkplek.broker"]
    loud = [r for r in caplog.records if r.name == "asyncio"]
    assert [r.getMessage() for r in quiet] == [
        "a client did not acknowledge a message in time; delivery skipped"
    ]
    assert len(loud) == 1 and loud[0].exc_info is not None
    assert "something_else" in loud[0].getMessage()


pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
