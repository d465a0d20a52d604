"""`werkplek backup` / `werkplek restore` round trip on real PostgreSQL, InfluxDB and Mosquitto.

Seed bookings, presence points, a retained broker message and a gateway spool; back
up through the CLI; wipe every store; restore through the CLI; everything is back,
counted. The database belongs to a non-superuser, as in production.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import paho.mqtt.client as mqtt
import pytest
import sqlalchemy as sa

from backend.database import make_engine, make_session_factory, migrate
from backend.seed import seed_demo
from tests.conftest import InfluxDatabase
from tests.services import InfluxDB, wait_until

pytestmark = pytest.mark.integration

BOOKINGS = 60
POINTS = 2_000


@pytest.fixture
def owned_db(pg_url: str) -> Iterator[str]:
    """A fresh database owned by a new non-superuser role; both dropped afterwards."""
    suffix = uuid.uuid4().hex[:8]
    role, name, password = f"wp_owner_{suffix}", f"wp_backup_{suffix}", uuid.uuid4().hex
    admin = sa.create_engine(
        sa.make_url(pg_url).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE ROLE {role} LOGIN NOSUPERUSER PASSWORD '{password}'"))
        conn.execute(sa.text(f'CREATE DATABASE "{name}" OWNER {role}'))
    url = sa.make_url(pg_url).set(database=name, username=role, password=password)
    yield url.render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f"DROP ROLE IF EXISTS {role}"))
    admin.dispose()


def _seed_bookings(url: str) -> int:
    from backend.bookings.models import Booking

    engine = make_engine(url)
    try:
        migrate(engine)
        with make_session_factory(engine)() as session:
            seed_demo(session)
            session.commit()
            space = session.execute(sa.text("SELECT id, site_id, kind FROM space LIMIT 1")).one()
            first = date(2031, 1, 6)
            for day in range(BOOKINGS):  # one per day: never overlapping
                start = datetime.combine(first + timedelta(days=day), datetime.min.time(), UTC)
                start += timedelta(hours=9)
                session.add(
                    Booking(
                        space_id=space.id,
                        site_id=space.site_id,
                        space_kind=space.kind,
                        guest_name=f"guest {day}",
                        start_at=start,
                        end_at=start + timedelta(hours=2),
                        local_day=start.date(),
                        created_at=start - timedelta(days=1),
                    )
                )
            session.commit()
        return _bookings(url)
    finally:
        engine.dispose()


def _bookings(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            tables = sa.inspect(conn).get_table_names()
            if "booking" not in tables:
                return 0
            return int(conn.execute(sa.text("SELECT count(*) FROM booking")).scalar_one())
    finally:
        engine.dispose()


def _presence_points(influx_db) -> int:
    result = influx_db.query('SELECT count("occupied") FROM "raw"."presence"')
    series = result["results"][0].get("series")
    return int(series[0]["values"][0][1]) if series else 0


def _seed_presence(influx_db) -> None:
    influx_db.query(f'CREATE RETENTION POLICY "raw" ON "{influx_db.database}" DURATION 30d '
                    "REPLICATION 1 DEFAULT")  # fmt: skip
    influx_db.query(f'CREATE CONTINUOUS QUERY "cq_backup" ON "{influx_db.database}" BEGIN '
                    'SELECT mean("occupied") INTO "raw"."presence_hourly" FROM "raw"."presence" '
                    "GROUP BY time(1h), * END")  # fmt: skip
    now_ns = int(datetime.now(UTC).timestamp()) * 10**9
    lines = "\n".join(
        f"presence,site=hq,space=s-{i % 50},device=d-{i % 50:04d} occupied={i % 2}i,seq={i}i "
        f"{now_ns - i * 10**9}"
        for i in range(POINTS)
    )
    import httpx

    response = httpx.post(
        f"{influx_db.url}/write",
        params={"db": influx_db.database, "rp": "raw"},
        content=lines.encode(),
        auth=influx_db.server.admin,
        timeout=30,
    )
    assert response.status_code == 204, response.text


def _retained(broker_port: int, topic: str) -> bytes | None:
    got: list[bytes] = []
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"probe-{uuid.uuid4().hex}")
    client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
    client.on_message = lambda _c, _u, msg: got.append(msg.payload)
    client.connect("127.0.0.1", broker_port)
    client.loop_start()
    try:
        wait_until(lambda: bool(got), 5, what="retained message")
    except TimeoutError:
        return None
    finally:
        client.loop_stop()
        client.disconnect()
    return got[0]


def _publish_retained(broker_port: int, topic: str, payload: bytes) -> None:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="seed")
    client.connect("127.0.0.1", broker_port)
    client.loop_start()
    client.publish(topic, payload, qos=1, retain=True).wait_for_publish(10)
    client.loop_stop()
    client.disconnect()


def _werkplek(env: dict[str, str], *args: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-m", "werkplek", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, object] = json.loads(done.stdout)
    return result


@pytest.fixture
def influx_db(influxdb_auth: InfluxDB) -> Iterator[InfluxDatabase]:
    """A fresh database on the InfluxDB with authentication on (dropped afterwards)."""
    name = influxdb_auth.create_database()
    yield InfluxDatabase(server=influxdb_auth, database=name)
    influxdb_auth.query(f'DROP DATABASE "{name}"')


def test_backup_wipe_restore_brings_every_booking_and_point_back(
    owned_db, influx_db, mosquitto_factory, tmp_path
):
    booked = _seed_bookings(owned_db)
    assert booked == BOOKINGS
    _seed_presence(influx_db)
    wait_until(lambda: _presence_points(influx_db) == POINTS, 30, what="points in InfluxDB")
    broker = mosquitto_factory()
    topic = "werkplek/v1/hq/_space/s-1"
    _publish_retained(broker.port, topic, b'{"state":"occupied"}')
    broker.stop()  # a clean stop writes mosquitto.db, as `docker compose stop` does
    assert (broker.workdir / "mosquitto.db").is_file()
    state = tmp_path / "gateway-state"
    state.mkdir()
    with sqlite3.connect(state / "spool-gw-1.sqlite3") as spool:
        spool.execute("CREATE TABLE spool (id INTEGER PRIMARY KEY, line TEXT)")
        spool.executemany("INSERT INTO spool (line) VALUES (?)", [(f"p{i}",) for i in range(123)])

    rpc = f"{influx_db.server.host}:{influx_db.server.rpc_port}"
    user, password = influx_db.server.admin
    env = {
        "PATH": "/usr/bin:/bin:/usr/sbin:/sbin",
        "WERKPLEK_DATABASE_URL": owned_db,
        "WERKPLEK_INFLUX_URL": influx_db.url,
        "WERKPLEK_INFLUX_DATABASE": influx_db.database,
        "WERKPLEK_INFLUX_BACKUP_ADDRESS": rpc,
        "WERKPLEK_INFLUX_ADMIN_USERNAME": user,
        "WERKPLEK_INFLUX_ADMIN_PASSWORD": password,
        "WERKPLEK_MOSQUITTO_DATA_DIR": str(broker.workdir),
        "WERKPLEK_STATE_DIR": str(state),
    }
    folder = tmp_path / "backup"
    manifest = _werkplek(env, "backup", str(folder))
    parts = manifest["parts"]
    assert isinstance(parts, dict)
    assert set(parts) == {"postgres", "influx", "broker", "gateway"}
    assert parts["postgres"]["rows"]["booking"] == BOOKINGS
    assert parts["postgres"]["schema_revision"]
    assert parts["influx"]["points"]["raw.presence"] == POINTS
    assert "raw" in parts["influx"]["retention_policies"]
    assert "mosquitto.db" in parts["broker"]["files"]
    assert manifest["werkplek"] and manifest["started_at"]

    # Wipe everything.
    engine = make_engine(owned_db)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()
    influx_db.query(f'DROP DATABASE "{influx_db.database}"')
    (broker.workdir / "mosquitto.db").unlink()
    (state / "spool-gw-1.sqlite3").unlink()
    assert _bookings(owned_db) == 0

    report = _werkplek(env, "restore", str(folder))
    assert set(report) == {"postgres", "influx", "broker", "gateway"}
    assert _bookings(owned_db) == BOOKINGS
    assert _presence_points(influx_db) == POINTS
    policies = influx_db.query("SHOW RETENTION POLICIES")["results"][0]["series"][0]["values"]
    assert any(row[0] == "raw" and row[4] for row in policies)  # raw, still the default
    with sqlite3.connect(state / "spool-gw-1.sqlite3") as spool:
        assert spool.execute("SELECT count(*) FROM spool").fetchone() == (123,)
    cqs = influx_db.query("SHOW CONTINUOUS QUERIES")["results"][0]["series"]
    assert any(
        row[0] == "cq_backup" for s in cqs if s["name"] == influx_db.database for row in s["values"]
    )
    broker.start()
    assert _retained(broker.port, topic) == b'{"state":"occupied"}'


def test_a_changed_backup_file_is_refused(tmp_path):
    from werkplek.backup import BackupError, BackupSettings, backup, restore

    state = tmp_path / "state"
    state.mkdir()
    (state / "deadletters.jsonl").write_text('{"reason": "bad_json"}\n')
    folder = tmp_path / "backup"
    backup(BackupSettings(state_dir=state), folder, ["gateway"])
    (folder / "gateway" / "deadletters.jsonl").write_text("tampered\n")
    with pytest.raises(BackupError, match="changed since the backup"):
        restore(BackupSettings(state_dir=tmp_path / "other"), folder)
    with pytest.raises(BackupError, match="not empty"):
        backup(BackupSettings(state_dir=state), folder, ["gateway"])
