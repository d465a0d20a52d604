"""The HVAC command message: golden file, writer -> reader round trip, the documented examples."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from contract import ContractError, hvac
from tests.contracts.golden import payload_of

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = json.loads((ROOT / "tests" / "contracts" / "v1" / "hvac.json").read_text("utf-8"))
DOC = ROOT / "docs" / "hvac-contract.md"


@pytest.mark.parametrize("case", GOLDEN["valid"], ids=lambda c: c["name"])
def test_golden_commands_parse_and_encode_back(case):
    command = hvac.parse_hvac(case["topic"], payload_of(case))
    assert command.topic == case["topic"]
    assert case["qos"] == 1 and case["retain"] is True
    # the encoder writes exactly the golden payload (same fields and values)
    assert json.loads(hvac.encode_hvac(command)) == case["payload"]
    assert list(json.loads(hvac.encode_hvac(command))) == list(hvac.FIELDS)


@pytest.mark.parametrize("case", GOLDEN["invalid"], ids=lambda c: c["name"])
def test_golden_violations_are_refused_with_their_reason(case):
    with pytest.raises(ContractError) as caught:
        hvac.parse_hvac(case["topic"], payload_of(case))
    assert caught.value.reason == case["reason"]


@pytest.mark.parametrize(
    ("tz", "day", "hours"),
    [
        ("Europe/Amsterdam", date(2026, 12, 4), 24),
        ("Europe/Amsterdam", date(2026, 10, 25), 25),  # the clocks go back
        ("America/New_York", date(2026, 3, 8), 23),  # the clocks go forward
        ("Pacific/Kiritimati", date(2026, 12, 4), 24),
    ],
)
def test_round_trip_from_the_builder(tz, day, hours):
    zone = ZoneInfo(tz)
    now = datetime(2026, 12, 3, 17, 0, 5, 123456, tzinfo=UTC)
    made = hvac.command_for_day(
        "hq", "hq-2", "Stilte", mode="setback", reason="nobody_expected",
        day=day, tz=zone, now=now, dry_run=False,
    )  # fmt: skip
    back = hvac.parse_hvac(made.topic, hvac.encode_hvac(made))
    assert back == made
    assert back.issued_at == now.replace(microsecond=0)
    assert back.valid_from == datetime(day.year, day.month, day.day, tzinfo=zone)
    assert back.valid_from.astimezone(zone).date() == day
    assert (back.valid_until - back.valid_from) == timedelta(hours=hours)
    assert back.valid_until.astimezone(zone).date() == day + timedelta(days=1)
    assert back.valid_until.astimezone(zone).hour == 0


@pytest.mark.parametrize("bad", ["", "a/b", "+", "#", "x\x00"])
def test_topic_levels_that_cannot_be_in_a_topic(bad):
    with pytest.raises(ValueError):
        hvac.hvac_topic("hq", bad, "A")
    with pytest.raises(ValueError):
        hvac.hvac_topic("hq", "hq-1", bad)


def test_doc_examples_are_valid_commands():
    """Every ```json block of the contract's Examples section parses as a command."""
    text = DOC.read_text(encoding="utf-8").split("## Examples", 1)[1]
    blocks = [json.loads(b) for b in re.findall(r"```json\n(.*?)```", text, re.S)]
    assert len(blocks) >= 3
    for body in blocks:
        topic = hvac.hvac_topic(body["site"], body["floor"], body["zone"])
        command = hvac.parse_hvac(topic, json.dumps(body).encode())
        assert json.loads(hvac.encode_hvac(command)) == body
        assert re.fullmatch(r"werkplek/v1/[^/+#]+/_zone/[^/+#]+/[^/+#]+/hvac", topic)
