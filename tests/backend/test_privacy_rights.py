"""The person's rights on a used database: a complete export, then an erasure that leaves nothing.

Also the admin's versions for someone who asks at the desk, and the privacy report.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from backend.database import make_engine, make_session_factory
from backend.facility.settings import FacilitySettings
from backend.people.models import User
from backend.privacy import export, inventory, report
from backend.spaces.models import utcnow
from history.influx import InfluxHistory
from tests.backend.conftest import bearer
from tests.backend.test_privacy_retention import client, idp, traces, use_database

__all__ = ["client", "idp"]  # fixtures shared with the retention test


def audit_ids_about(seeded, uid: int, username: str) -> set[int]:
    """The audit rows that point at the person, read straight from the database."""
    engine = make_engine(seeded.url)
    try:
        with make_session_factory(engine)() as session:
            user = session.get(User, uid)
            assert user is not None
            booking_ids = [
                r[0] for r in seeded.query(f"SELECT id FROM booking WHERE user_id={uid}")
            ]
            return {a.id for a in session.scalars(export.audit_about(user, booking_ids))}
    finally:
        engine.dispose()


def test_export_holds_every_record_of_the_person(seeded, client, idp):
    used = use_database(seeded, client, idp)
    zoe_id = used.people["zoe.vermeer"]
    got = client.get("/api/v1/me/export", headers=bearer(used.tokens["zoe.vermeer"]))
    assert got.status_code == 200, got.text
    data = got.json()
    account = data["app_user"]
    assert account["username"] == "zoe.vermeer" and account["id"] == zoe_id
    assert account["created_at"] and account["last_login_at"] and account["has_local_password"]
    assert "password_hash" not in account and account["show_presence"] is False
    # Every booking and token row of the person, every column the inventory lists.
    bookings = seeded.query(f"SELECT id FROM booking WHERE user_id = {zoe_id}")
    assert sorted(b["id"] for b in data["booking"]) == sorted(r[0] for r in bookings)
    assert len(bookings) == 3  # in progress, cancelled, and the guest booked for her
    tokens = seeded.query(f"SELECT id FROM api_token WHERE user_id = {zoe_id}")
    assert sorted(t["id"] for t in data["api_token"]) == sorted(r[0] for r in tokens)
    for table, rows in (("booking", data["booking"]), ("api_token", data["api_token"])):
        item = inventory.tables()[table]
        for row in rows:
            expected = set(item.personal) | set(item.other)
            assert set(row) == expected - {"token_hash"}, table
    assert {t["revoked_at"] is not None for t in data["api_token"]} == {True, False}
    # Audit rows as actor and as object, the facility's cancellation among them.
    assert {a["id"] for a in data["audit_log"]} == audit_ids_about(seeded, zoe_id, "zoe.vermeer")
    actions = {(a["actor"], a["action"]) for a in data["audit_log"]}
    assert ("another user", "booking.cancel") in actions  # facility cancelled her booking
    assert {("you", "login"), ("you", "calendar_feed.revoke"), ("you", "booking.check_in")} <= (
        actions
    )
    assert ("you", "user.create") in actions  # the old actor that named her session
    text = json.dumps(data)
    assert "fenna" not in text and "token_hash" not in text
    # The OpenID Connect subject is in the export of the person who logged in with it.
    otto = client.get("/api/v1/me/export", headers=bearer(used.tokens["otto.oidc"])).json()
    assert otto["app_user"]["subject"].endswith("|emp-777")
    assert not otto["app_user"]["has_local_password"]


def test_erasure_leaves_no_trace_but_keeps_todays_booking_anonymous(seeded, client, idp):
    used = use_database(seeded, client, idp)
    zoe_id, zoe = used.people["zoe.vermeer"], bearer(used.tokens["zoe.vermeer"])
    wrong = client.post("/api/v1/me/erase", headers=zoe, json={"confirm": "someone"})
    assert wrong.status_code == 422 and wrong.json()["reason"] == "not_confirmed"
    assert client.post("/api/v1/me/erase", headers=zoe, json={}).status_code == 422
    assert traces(used.url, zoe_id, "zoe.vermeer", skip_account=False)
    done = client.post("/api/v1/me/erase", headers=zoe, json={"confirm": "zoe.vermeer"})
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["bookings_anonymised"] == 1 and body["bookings_deleted"] == 2
    assert body["tokens_deleted"] >= 3 and body["kept"]
    assert traces(used.url, zoe_id, "zoe.vermeer", skip_account=False) == []
    # The desk booked now stays, without her, until it ends; the space is in use.
    running = seeded.query("SELECT user_id, status FROM booking WHERE space_id = 'hq.1.d-001'")
    assert running == [(None, "checked_in")]
    erased = seeded.query("SELECT actor, object_id FROM audit_log WHERE action = 'user.erase'")
    assert erased == [("erased", "erased")]
    assert client.get("/api/v1/me", headers=zoe).status_code == 401
    # The others are untouched.
    fenna = used.people["fenna.facility"]
    assert traces(used.url, fenna, "fenna.facility")


def test_admin_exports_and_erases_for_someone_at_the_desk(seeded, client, idp, people):
    used = use_database(seeded, client, idp)
    otto_id = used.people["otto.oidc"]
    clerk = people("admin", "desk-clerk")
    employee = bearer(used.tokens["zoe.vermeer"])
    assert client.get(f"/api/v1/users/{otto_id}/export", headers=employee).status_code == 403
    missing = client.get("/api/v1/users/999999/export", headers=bearer(clerk.token))
    assert missing.status_code == 404 and missing.json()["reason"] == "user_not_found"
    for bad in ("99999999999999999999", "0", "-3", "abc"):
        refused = client.post(f"/api/v1/users/{bad}/erase", headers=bearer(clerk.token),
                              json={"confirm": "x"})  # fmt: skip
        assert refused.status_code == 422, bad
    got = client.get(f"/api/v1/users/{otto_id}/export", headers=bearer(clerk.token))
    assert got.status_code == 200 and got.json()["app_user"]["username"] == "otto.oidc"
    logged = seeded.query("SELECT actor, object_id FROM audit_log WHERE action = 'user.export'")
    assert logged == [(f"user:{clerk.id}", str(otto_id))]  # by id, never by name
    no = client.post(f"/api/v1/users/{otto_id}/erase", headers=bearer(clerk.token),
                     json={"confirm": "zoe.vermeer"})  # fmt: skip
    assert no.status_code == 422
    done = client.post(f"/api/v1/users/{otto_id}/erase", headers=bearer(clerk.token),
                       json={"confirm": "otto.oidc"})  # fmt: skip
    assert done.status_code == 200, done.text
    assert traces(used.url, otto_id, "otto.oidc", skip_account=False) == []
    assert traces(used.url, otto_id, "Otto Oidc", skip_account=False) == []
    erased = seeded.query("SELECT actor, object_id FROM audit_log WHERE action = 'user.erase'")
    assert erased == [(f"user:{clerk.id}", "erased")]
    again = client.post(f"/api/v1/users/{otto_id}/erase", headers=bearer(clerk.token),
                        json={"confirm": "otto.oidc"})  # fmt: skip
    assert again.status_code == 404


def test_privacy_report_reads_the_live_configuration(seeded, client, idp):
    used = use_database(seeded, client, idp)
    admin = bearer(seeded.admin_token)
    got = client.get("/api/v1/privacy/report", headers=admin)
    assert got.status_code == 200, got.text
    data = got.json()
    assert [i["name"] for i in data["inventory"]] == [i.name for i in inventory.ITEMS]
    assert data["retention"]["retention_days"] == 30
    assert data["retention"]["audit_records_past_retention_still_linked"] == 0
    assert data["accounts"]["hide_me_set"] == 2  # zoe and otto opted out
    assert data["accounts"]["deactivated"] == 0
    assert data["accounts"]["active_without_login_for_a_year"] == 0
    engine = make_engine(seeded.url)
    with engine.begin() as conn:  # fenna left long ago; otto has not logged in for two years
        conn.execute(sa.text("UPDATE app_user SET active = false WHERE id = :u"),
                     {"u": used.people["fenna.facility"]})  # fmt: skip
        long_ago = utcnow() - timedelta(days=730)
        conn.execute(sa.text("UPDATE app_user SET last_login_at = :t WHERE id = :u"),
                     {"u": used.people["otto.oidc"], "t": long_ago})  # fmt: skip
    engine.dispose()
    accounts = client.get("/api/v1/privacy/report", headers=admin).json()["accounts"]
    assert accounts["deactivated"] == 1 and accounts["active_without_login_for_a_year"] == 1
    assert data["facility_reports"]["min_group"] == FacilitySettings().facility_min_group
    assert data["per_person_presence_report"] is False
    assert data["retention"]["influxdb"]["configured"] is bool(FacilitySettings().influx_url)
    signage = bearer(seeded.signage_token)
    assert client.get("/api/v1/privacy/report", headers=signage).status_code == 403


@pytest.mark.integration
def test_report_shows_influxdbs_own_retention_policies(influx_db):
    history = InfluxHistory(influx_db.url, influx_db.database, raw_retention_days=30,
                            hourly_retention_days=1825)  # fmt: skip
    history.ensure_schema()
    cfg = FacilitySettings(influx_url=influx_db.url, influx_database=influx_db.database)
    found = report.influx_policies(cfg)
    policies = {p["name"]: p for p in found["policies"]}
    assert policies["raw"]["duration"] == "720h0m0s" and policies["raw"]["default"]
    assert policies["hourly"]["duration"] == "43800h0m0s"
    broken = report.influx_policies(FacilitySettings(influx_url="http://127.0.0.1:9",
                                                     influx_database="x"))  # fmt: skip
    assert broken["configured"] and "error" in broken
