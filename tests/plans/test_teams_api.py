"""Team days: counts for everyone, names only of those who share, "near my team" desks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.backend.conftest import always_open, bearer


@pytest.fixture
def tuesday(seeded):
    always_open(seeded.url)
    today = datetime.now(UTC).date()
    return today + timedelta(days=7 - today.weekday() + 1)


def _team(api, seeded, name, *members, **fields):
    admin = bearer(seeded.admin_token)
    r = api.post("/api/v1/teams", json={"name": name, **fields}, headers=admin)
    assert r.status_code == 201, r.text
    for person in members:
        assert (
            api.put(
                f"/api/v1/teams/{r.json()['id']}/members/{person.id}", headers=admin
            ).status_code
            == 204
        )
    return r.json()["id"]


def _places(api, person, team_id, day):
    week = api.get(f"/api/v1/teams/{team_id}/week", params={"week": day.isoformat()},
                   headers=bearer(person.token)).json()  # fmt: skip
    return next(d for d in week["days"] if d["day"] == day.isoformat())["places"]


def test_team_week_counts_everyone_and_names_only_sharers(api, seeded, people, tuesday):
    ann, bob, cas, dirk = (people("employee", n) for n in ("ann", "bob", "cas", "dirk"))
    team = _team(api, seeded, "Wijkzaken", ann, bob, cas)
    assert api.get("/api/v1/teams/me", headers=bearer(ann.token)).json()["share_with_team"] is False
    for person in (ann, bob):
        r = api.put(
            "/api/v1/teams/me/sharing", json={"share_with_team": True}, headers=bearer(person.token)
        )
        assert r.json()["share_with_team"] is True and r.json()["teams"][0]["members"] == 3
    for person in (ann, cas):
        api.put(f"/api/v1/plans/me/days/{tuesday}", json={"place": "site", "site_id": "hq"},
                headers=bearer(person.token))  # fmt: skip
    api.put(f"/api/v1/plans/me/days/{tuesday}", json={"place": "home"}, headers=bearer(dirk.token))

    places = _places(api, bob, team, tuesday)
    hq = {"place": "site", "site_id": "hq", "site_name": "Stadskantoor"}
    assert places == [{**hq, "site_kind": "central_office", "count": 2, "names": ["Ann"]}]
    # Cas sees Ann by name; Ann sees Cas only in the count (and never herself).
    assert _places(api, cas, team, tuesday)[0]["names"] == ["Ann"]
    assert _places(api, ann, team, tuesday) == [{**places[0], "count": 1, "names": []}]
    # Ann stops sharing: Bob still counts her, no longer sees her name.
    api.put("/api/v1/teams/me/sharing", json={"share_with_team": False}, headers=bearer(ann.token))
    assert _places(api, bob, team, tuesday)[0] | {"names": None} == {**places[0], "names": None}
    assert _places(api, bob, team, tuesday)[0]["names"] == []
    # Nobody outside the team reads its week: not a colleague, not an admin, not facility.
    for token in (
        dirk.token,
        seeded.admin_token,
        people("facility", "fm").token,
        people("admin", "ad").token,
    ):
        r = api.get(f"/api/v1/teams/{team}/week", headers=bearer(token))
        assert r.status_code in (403, 404), r.text
        assert r.json()["reason"] in ("not_in_team", "no_user")


def test_near_my_team_suggests_the_zone_where_sharing_colleagues_booked(
    api, seeded, people, tuesday
):
    ann, bob, cas = (people("employee", n) for n in ("ann", "bob", "cas"))
    team = _team(api, seeded, "Burgerzaken", ann, bob, cas)
    for person in (ann, bob):
        api.put(
            "/api/v1/teams/me/sharing", json={"share_with_team": True}, headers=bearer(person.token)
        )
    # Ann (shares) books in zone B of floor 2; Cas (does not share) in zone A of floor 3.
    for person, desk in ((ann, "hq.2.d-020"), (cas, "hq.3.d-001")):
        booking = {"space_id": desk, "date": tuesday.isoformat(), "part": "day"}
        r = api.post("/api/v1/bookings", json=booking, headers=bearer(person.token))
        assert r.status_code == 201, r.text
    api.put(
        f"/api/v1/plans/me/days/{tuesday}",
        json={"place": "site", "site_id": "hq"},
        headers=bearer(bob.token),
    )
    r = api.get(
        f"/api/v1/plans/me/days/{tuesday}/desks",
        params={"near_team": "true"},
        headers=bearer(bob.token),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["site_id"] == "hq" and body["near_team"] is True
    first = body["desks"][0]
    assert (first["floor_id"], first["zone"], first["reason"]) == ("hq-2", "B", "near_team")
    near = [d for d in body["desks"] if d["reason"] == "near_team"]
    assert near and all((d["floor_id"], d["zone"]) == ("hq-2", "B") for d in near)
    assert "hq.2.d-020" not in {d["space_id"] for d in body["desks"]}  # Ann's desk is taken
    assert not any(
        d["floor_id"] == "hq-3" and d["reason"] for d in body["desks"]
    )  # Cas steers nothing
    booking = {"space_id": first["space_id"], "date": tuesday.isoformat(), "part": "day"}
    r = api.post("/api/v1/bookings", json=booking, headers=bearer(bob.token))
    assert r.status_code == 201, r.text
    # A team's home zone comes next when no sharing colleague has booked.
    admin = bearer(seeded.admin_token)
    api.patch(
        f"/api/v1/teams/{team}",
        json={"home_site_id": "dalfsen", "home_zone": "stilte"},
        headers=admin,
    )
    params = {"near_team": "true", "site_id": "dalfsen"}
    r = api.get(f"/api/v1/plans/me/days/{tuesday}/desks", params=params, headers=bearer(bob.token))
    assert [d["reason"] for d in r.json()["desks"][:3]] == ["team_zone"] * 3
    assert r.json()["desks"][3]["reason"] is None
    # Without near_team the order is plain.
    r = api.get(
        f"/api/v1/plans/me/days/{tuesday}/desks",
        params={"site_id": "dalfsen"},
        headers=bearer(bob.token),
    )
    assert all(d["reason"] is None for d in r.json()["desks"])


def test_admin_manages_teams_with_reasons(api, seeded, people):
    admin = bearer(seeded.admin_token)
    ann = people("employee", "ann")
    team = _team(api, seeded, "Belastingen")
    r = api.post("/api/v1/teams", json={"name": "Belastingen"}, headers=admin)
    assert (r.status_code, r.json()["reason"]) == (409, "team_exists")
    r = api.patch(f"/api/v1/teams/{team}", json={"home_zone": "A"}, headers=admin)
    assert (r.status_code, r.json()["reason"]) == (422, "zone_without_site")
    r = api.patch(f"/api/v1/teams/{team}", json={"home_site_id": "mars"}, headers=admin)
    assert (r.status_code, r.json()["reason"]) == (422, "unknown_site")
    assert (
        api.put(f"/api/v1/teams/{team}/members/999999", headers=admin).json()["reason"]
        == "unknown_user"
    )
    assert (
        api.delete(f"/api/v1/teams/{team}/members/{ann.id}", headers=admin).json()["reason"]
        == "not_a_member"
    )
    assert api.put(f"/api/v1/teams/{team}/members/{ann.id}", headers=admin).status_code == 204
    assert [t["members"] for t in api.get("/api/v1/teams", headers=admin).json()] == [1]
    trail = api.get(
        "/api/v1/audit", params={"object_type": "user", "object_id": ann.id}, headers=admin
    )
    assert [
        (a["action"], a["detail"]) for a in trail.json() if a["action"].startswith("team.")
    ] == [("team.member_add", {"team_id": team})]
    r = api.post("/api/v1/teams", json={"name": "X"}, headers=bearer(ann.token))
    assert (r.status_code, r.json()["reason"]) == (403, "role_not_allowed")
    assert api.delete(f"/api/v1/teams/{team}", headers=admin).status_code == 204
    assert api.get("/api/v1/teams/me", headers=bearer(ann.token)).json()["teams"] == []
