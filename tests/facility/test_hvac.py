"""Energy forecast, setback advice and HVAC zone commands: the API, the docs, real Mosquitto."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from backend.bookings.models import Booking
from backend.database import make_engine, make_session_factory
from backend.facility.router import history_source
from backend.main import create_app
from backend.spaces.models import Space
from contract import hvac
from history.facility import SqliteSource
from history.sqlite import SqliteHistory
from tests.backend.conftest import bearer
from tests.backend.helpers import MqttProbe
from tests.services import wait_until

DOC = Path(__file__).resolve().parents[2] / "docs" / "hvac-contract.md"
DAY = date(2030, 1, 8)  # a Tuesday
TOPIC = re.compile(r"^werkplek/v1/[^/+#]+/_zone/[^/+#]+/[^/+#]+/hvac$")


def doc_examples() -> list[dict]:
    """Every ```json block of the contract's Examples section."""
    text = DOC.read_text(encoding="utf-8").split("## Examples", 1)[1]
    return [json.loads(block) for block in re.findall(r"```json\n(.*?)```", text, re.S)]


@pytest.fixture
def empty_history(tmp_path):
    path = tmp_path / "history.sqlite3"
    store = SqliteHistory(path, raw_retention_days=0, maintain_every_s=1e12)
    store.ensure_schema()
    store.close()
    return path


def _book_one_desk(url: str) -> tuple[str, str, str]:
    """Book one hq desk with a zone on DAY from 09:00 to 12:00 UTC; return its zone key."""
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            desk = session.scalars(
                select(Space).where(Space.site_id == "hq", Space.kind == "desk",
                                    Space.zone.is_not(None))
            ).first()  # fmt: skip
            assert desk is not None and desk.zone
            start = datetime(DAY.year, DAY.month, DAY.day, 9, tzinfo=UTC)
            session.add(
                Booking(
                    space_id=desk.id, site_id="hq", space_kind="desk", guest_name="gast",
                    start_at=start, end_at=start + timedelta(hours=3), local_day=DAY,
                    status="booked",
                )
            )  # fmt: skip
            session.commit()
            return desk.site_id, desk.floor_id, desk.zone
    finally:
        engine.dispose()


def test_doc_examples_have_the_shape_the_backend_sends():
    examples = doc_examples()
    assert len(examples) >= 3
    made = hvac.encode_hvac(
        hvac.command_for_day(
            "hq", "hq-1", "A", mode="setback", reason="nobody_expected", day=DAY,
            tz=ZoneInfo("Europe/Amsterdam"), now=datetime.now(UTC), dry_run=False,
        )
    )  # fmt: skip
    keys = set(json.loads(made))
    for example in examples:
        assert set(example) == keys
        assert example["v"] == hvac.HVAC_VERSION and example["dry_run"] is False
        assert example["mode"] in ("comfort", "setback")
        start = datetime.fromisoformat(example["valid_from"])
        assert datetime.fromisoformat(example["valid_until"]) - start == timedelta(days=1)
        assert TOPIC.match(hvac.hvac_topic(example["site"], example["floor"], example["zone"]))


def test_forecast_and_setback_advice(seeded, empty_history):
    site, floor, zone = _book_one_desk(seeded.url)
    app = create_app(seeded.settings())
    app.dependency_overrides[history_source] = lambda: SqliteSource(empty_history)
    with TestClient(app) as client:
        body = client.get(
            f"/api/v1/facility/energy?day={DAY}", headers=bearer(seeded.admin_token)
        ).json()
    zones = {(z["site"], z["floor"], z["zone"]): z for z in body["zones"]}
    booked = zones[(site, floor, zone)]
    assert booked["mode"] == "comfort" and booked["reason"] == "bookings"
    assumptions = body["assumptions"]
    assert assumptions["kw_per_zone"] == 4.0 and assumptions["setback_saving"] == 0.6
    others = [z for key, z in zones.items() if key != (site, floor, zone)]
    assert others and all(z["mode"] == "setback" for z in others)  # no history, no bookings
    hq = [z for z in others if z["site"] == "hq"]
    for z in hq:  # the default opening: 07:00-19:00 on a Tuesday
        assert z["setback_hours"] == 12.0
        assert z["kwh_saved"] == pytest.approx(12.0 * 4.0 * 0.6)
    assert body["kwh_saved"] == pytest.approx(sum(z["kwh_saved"] for z in body["zones"]))
    whole = {(f["site"], f["floor"]): f for f in body["floors"]}
    assert not whole[(site, floor)]["whole_floor_setback"]


def test_hvac_is_a_dry_run_by_default(seeded, empty_history):
    app = create_app(seeded.settings())
    app.dependency_overrides[history_source] = lambda: SqliteSource(empty_history)
    with TestClient(app) as client:
        body = client.post(
            f"/api/v1/facility/hvac?day={DAY}", headers=bearer(seeded.admin_token)
        ).json()
    assert body["dry_run"] is True and body["commands"]
    assert not any(c["published"] for c in body["commands"])
    assert all(c["payload"]["dry_run"] for c in body["commands"])


@pytest.mark.integration
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_hvac_command_arrives_retained_at_mosquitto(
    seeded, serve, mosquitto_factory, empty_history, record_property
):
    broker = mosquitto_factory()
    site, floor, zone = _book_one_desk(seeded.url)
    backend = serve(seeded.settings(mqtt_enabled=True, mqtt_url=broker.url, hvac_publish=True))
    backend.app.dependency_overrides[history_source] = lambda: SqliteSource(empty_history)
    wait_until(lambda: backend.runtime.live.connected, 15, what="backend connected")
    body = httpx.post(
        f"{backend.base_url}/api/v1/facility/hvac?day={DAY}",
        headers=bearer(seeded.admin_token),
        timeout=30,
    ).json()
    assert body["dry_run"] is False and all(c["published"] for c in body["commands"])
    topic = hvac.hvac_topic(site, floor, zone)
    # "published" means queued for QoS 1: the first probe may see it live or retained...
    first = MqttProbe(broker.host, broker.port, "werkplek/v1/+/_zone/#")
    try:
        took = wait_until(lambda: first.on_topic(topic), 15, what="HVAC command at the broker")
    finally:
        first.close()
    record_property("hvac_arrival_s", round(took, 3))
    # ...and once the broker has it, a consumer that connects later gets it retained.
    probe = MqttProbe(broker.host, broker.port, "werkplek/v1/+/_zone/#")
    try:
        wait_until(lambda: probe.on_topic(topic), 15, what="retained HVAC command")
        payload, retained = probe.on_topic(topic)[0]
        command = json.loads(payload)
        assert retained
        assert command["mode"] == "comfort" and command["reason"] == "bookings"
        assert command["dry_run"] is False and command["v"] == 1
        assert command["valid_from"].startswith(DAY.isoformat())
        wait_until(lambda: len({t for t, _, _ in probe.messages}) == len(body["commands"]),
                   15, what="every zone's command")  # fmt: skip
    finally:
        probe.close()
