"""The test tooling itself: each private service starts, answers and restarts."""

from __future__ import annotations

import json
import subprocess
import time

import httpx
import pytest
import sqlalchemy as sa

pytestmark = pytest.mark.integration


def test_mosquitto_restarts_on_same_port_and_keeps_retained(mosquitto_factory):
    broker = mosquitto_factory()
    subprocess.run(
        [
            "mosquitto_pub",
            "-h",
            broker.host,
            "-p",
            str(broker.port),
            "-t",
            "t/x",
            "-m",
            "kept",
            "-r",
            "-q",
            "1",
        ],
        check=True,
        timeout=10,
    )
    broker.restart()
    out = subprocess.run(
        [
            "mosquitto_sub",
            "-h",
            broker.host,
            "-p",
            str(broker.port),
            "-t",
            "t/x",
            "-C",
            "1",
            "-W",
            "5",
        ],
        capture_output=True,
        text=True,
        timeout=10,
        check=True,
    )
    assert out.stdout.strip() == "kept"


def test_influx_db_accepts_writes_and_queries(influx_db):
    ts = int(time.time() * 1000)
    resp = httpx.post(
        f"{influx_db.url}/write",
        params={"db": influx_db.database, "precision": "ms"},
        content=f"probe,space=a value=1i {ts}",
        timeout=30,
    )
    assert resp.status_code == 204, resp.text
    result = influx_db.query("SELECT value FROM probe")
    series = result["results"][0]["series"][0]
    assert series["values"][0][1] == 1


def test_postgres_is_a_private_database_that_takes_writes(pg_url):
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        version = conn.execute(sa.text("select version()")).scalar_one()
        database = conn.execute(sa.text("select current_database()")).scalar_one()
        conn.execute(sa.text("create temporary table probe (n int)"))
        conn.execute(sa.text("insert into probe values (41), (1)"))
        total = conn.execute(sa.text("select sum(n) from probe")).scalar_one()
    engine.dispose()
    assert "PostgreSQL" in version
    assert database.startswith("werkplek_test_")
    assert total == 42


def test_micropython_runs(micropython_bin):
    out = subprocess.run(
        [micropython_bin, "-c", "import sys, json; print(json.dumps(sys.implementation.name))"],
        capture_output=True,
        text=True,
        timeout=10,
        check=True,
    )
    assert json.loads(out.stdout) == "micropython"


def test_chromium_renders_a_page(page):
    page.set_content("<main><h1 id='t'>Vrij</h1></main>")
    assert page.inner_text("#t") == "Vrij"
