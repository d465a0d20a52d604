"""No join between sensors and people: every facility/admin GET, on a used system.

The system is used like a real one: people log in (password and OpenID
Connect), book desks and a meeting room, check in, are released as no-shows;
the spaces have a week of generated presence history (``tests.facility.month``
plan) and the facility rollup has run over it.

**Per person**, precisely: a response returns presence *per person* when one
response body (JSON text or CSV text) holds both a sensor-derived figure
(a key or CSV column in ``PRESENCE_KEYS``: occupancy, utilisation, peaks,
occupied minutes, uses, walk-ins, live state of a space) and something that
identifies a user: their id as a field (``"id": 7``, ``"user_id": 7``,
``user:7``), their username, display name or e-mail address. Only within one
response can a reader line a figure up against a name without a second
source; across responses the only common keys are spaces and groups, and
a group of at least ``WERKPLEK_FACILITY_MIN_GROUP`` spaces does not describe
one person (flex desks have no owner). So the check is sound if the walk
reaches every response a facility or admin token can get: the routes are
enumerated from the app's own OpenAPI document (a new GET route is walked
without editing this file), path parameters are filled with the seeded sites,
floors, spaces, users and bookings, and the facility reports are asked with
every value of every filter they accept. The walk asserts it got real answers
(200) from every facility report and from the exports, so an empty walk fails.

The per-user exports (``/me/export``, ``/users/{id}/export``) must hold only
that person's own bookings, check-ins, tokens and audit rows: no key of
``PRESENCE_KEYS`` and no other person's name.

Small groups: for every filter combination, every row with a figure covers at
least the minimum group. History group sizes come from the plan
(``month.SPACES``), never from the response, so a report that mislabels or
miscounts a group is caught too; booking-based rows count their bookings or
desks. The facility reports have no weekday or hour *filter*: the heatmap
answers one cell per weekday and hour, and each cell is checked.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from backend.bookings.models import Booking
from backend.database import make_engine, make_session_factory
from backend.facility.router import history_source
from backend.main import create_app
from history.facility import SqliteSource
from history.sqlite import SqliteHistory
from tests.backend.conftest import bearer
from tests.backend.test_people import AUDIENCE, ISSUER
from tests.backend.test_privacy_retention import Used, idp, use_database
from tests.facility import month
from werkplek.history_gen import generate, midnight_ms

__all__ = ["idp"]

AMS = ZoneInfo("Europe/Amsterdam")
FACILITY = "/api/v1/facility/"
ADMIN = "(admin token)"
#: The app's privacy floor, set explicitly (zones smaller and larger than it exist).
MIN_GROUP = 5
#: Keys whose values come from the sensors (history or live state of a space).
PRESENCE_KEYS = frozenset(
    {
        "utilisation", "peak", "occupancy", "occupied", "occupied_minutes", "uses",
        "expected_peak", "walk_ins", "walk_in_share", "used_min_minutes", "presence",
        "in_use", "state", "setback_hours", "clean",
    }
)  # fmt: skip
#: GET routes the walk cannot take, with the reason (each still named, so none is lost).
NOT_WALKED = {"/api/v1/stream": "an endless event stream (live state per space, no person)"}
#: Spaces per group at each level, from the history plan alone.
LEVEL_KEY = {
    "site": lambda s: (s.site,),
    "floor": lambda s: (s.site, s.floor),
    "zone": lambda s: (s.site, s.floor, s.zone),
    "kind": lambda s: (s.site, s.spec.kind),
}
SIZES = {level: Counter(f(s) for s in month.SPACES) for level, f in LEVEL_KEY.items()}
KEY_COLUMNS = {"site": ("site",), "floor": ("site", "floor"),
               "zone": ("site", "floor", "zone"), "kind": ("site", "kind")}  # fmt: skip


def _days() -> list[date]:
    """The week of history: five days back to tomorrow, so today's bookings fall in it."""
    today = datetime.now(AMS).date()
    return [today + timedelta(days=i) for i in range(-5, 2)]


def _book_past(url: str, users: dict[str, int], days: list[date]) -> None:
    """Past desk and room bookings of every user, checked in or released as a no-show."""
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            for n, (day, (name, uid)) in enumerate(itertools.product(days[:5], users.items())):
                room = n % 4 == 0
                hour = 8 + n % 8 if room else 8  # two rooms a day never overlap
                start = datetime(day.year, day.month, day.day, hour, tzinfo=AMS).astimezone(UTC)
                no_show = n % 5 == 1
                session.add(
                    Booking(
                        space_id="hq.1.r-01" if room else f"hq.1.d-{10 + n % 12:03d}",
                        site_id="hq", space_kind="meeting_room" if room else "desk",
                        user_id=uid, start_at=start,
                        end_at=start + timedelta(hours=1 if room else 8),
                        local_day=day, status="released" if no_show else "checked_in",
                        end_reason="no_show" if no_show else None, title=f"werk {name}",
                        checked_in_at=None if no_show else start + timedelta(minutes=5),
                        check_in_method=None if no_show else "app",
                    )
                )  # fmt: skip
            session.commit()
    finally:
        engine.dispose()


@pytest.fixture
def used(seeded: Any, idp: Any, people: Any, tmp_path: Any) -> Iterator[Used]:
    """A used system: people, bookings, check-ins, a week of history, the rollup run."""
    days = _days()
    path = tmp_path / "history.sqlite3"
    store = SqliteHistory(path, raw_retention_days=0, maintain_every_s=1e12)
    store.ensure_schema()
    generate(store, month.SPACES, days[0], len(days))
    store.maintain(midnight_ms(days[-1] + timedelta(days=1)))
    store.close()
    settings = seeded.settings(
        oidc_issuer=ISSUER, oidc_audience=AUDIENCE, oidc_jwks_url=idp.url,
        facility_min_group=MIN_GROUP,
    )  # fmt: skip
    app = create_app(settings)
    app.dependency_overrides[history_source] = lambda: SqliteSource(path)
    with TestClient(app) as client:
        system = use_database(seeded, client, idp)
        for name in ("ada.desk", "bram.room", "chris.quiet", "dewi.late"):
            person = people("employee", name)
            system.people[name] = person.id
            system.tokens[name] = person.token
        system.tokens[ADMIN] = seeded.admin_token  # the admin role's token (no person)
        _book_past(seeded.url, system.people, days)
        fenna = bearer(system.tokens["fenna.facility"])
        hour = {"start": f"{days[-1]}T10:00:00", "end": f"{days[-1]}T11:00:00"}
        room = client.post("/api/v1/bookings", headers=bearer(system.tokens["bram.room"]),
                           json={"space_id": "hq.1.r-01", **hour})  # fmt: skip
        assert room.status_code == 201, room.text
        rolled = client.post(f"{FACILITY}rollup?start={days[0]}&end={days[-1]}", headers=fenna)
        assert rolled.status_code == 200 and rolled.json()["rows"] > 0, rolled.text
        yield system


def _identifiers(client: TestClient, used: Used) -> dict[str, list[re.Pattern[str]]]:
    """Per user: patterns of their id as a field, username, display name and e-mail."""
    admin = bearer(used.tokens[ADMIN])
    out = {}
    for name, uid in used.people.items():
        account = client.get(f"/api/v1/users/{uid}/export", headers=admin)
        assert account.status_code == 200, account.text
        row = account.json()["app_user"]
        words = {name, row["display_name"], row["email"] or name}
        out[name] = [
            re.compile(rf'"(?:id|user_id|actor_user_id)"\s*:\s*{uid}\b|user:{uid}\b'),
            *(re.compile(re.escape(w), re.IGNORECASE) for w in words if w),
        ]
    return out


def _keys(text: str, content_type: str) -> set[str]:
    """Every key of a JSON body (at any depth) or every column of a CSV body."""
    if content_type.startswith("text/csv"):
        return set(next(csv.reader(io.StringIO(text)), []))
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            found.update(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    try:
        walk(json.loads(text))
    except ValueError:
        pass  # an SVG or calendar: no keys, the name search still runs
    return found


def _fillers(client: TestClient, used: Used, admin: dict[str, str]) -> dict[str, list[str]]:
    """Values for every path parameter, read from the seeded system."""
    sites = [s["id"] for s in client.get("/api/v1/sites", headers=admin).json()]
    floors = [
        f["id"] for site in sites
        for f in client.get(f"/api/v1/sites/{site}/floors", headers=admin).json()
    ]  # fmt: skip
    page = client.get("/api/v1/bookings?limit=500", headers=admin).json()
    bookings = [b["id"] for b in page["items"]]
    return {
        "site_id": sites,
        "floor_id": floors,
        "space_id": ["hq.1.d-001", "hq.1.d-003", "hq.1.r-01"],
        "user_id": [str(u) for u in used.people.values()],
        "booking_id": [str(b) for b in bookings],
        "feed_token": ["not-a-token"],
        "day": [d.isoformat() for d in _days()],  # week plans (backend/plans)
        "team_id": ["1"],  # the walkers are in no team: a team's week is for members only
    }


def _facility_queries(path: str, params: list[dict[str, Any]], floors: list[str]) -> list[str]:
    """Every combination of the values each facility filter accepts."""
    days = _days()
    periods = [(days[0], days[-1]), (days[3], days[3]), (days[1], days[2])]
    k = MIN_GROUP
    choices: dict[str, list[Any]] = {}
    for p in params:
        schema = p["schema"].get("anyOf", [p["schema"]])[0]
        name = p["name"]
        if "enum" in schema:
            choices[name] = list(schema["enum"])
        elif name == "min_group":
            choices[name] = [None, 2, k - 1, k, k + 3]
        elif name == "site":
            choices[name] = [None, "hq", "dalfsen"]
        elif name == "floor":
            choices[name] = [None, *floors]
        elif name == "day":
            choices[name] = [None, days[0], days[3]]
        elif name == "threshold":
            choices[name] = [None, 0.3, 1.0]
        elif name == "min_minutes":
            choices[name] = [None, 0]
    names = list(choices)
    has_period = any(p["name"] == "start" for p in params)
    out = []
    for values in itertools.product(*(choices[n] for n in names)):
        query = {n: v for n, v in zip(names, values, strict=True) if v is not None}
        for start, end in periods if has_period else [(None, None)]:
            if start is not None:
                query |= {"start": start, "end": end}
            out.append(path + "?" + "&".join(f"{n}={v}" for n, v in query.items()))
    return out


def _rows(body: Any) -> list[dict[str, Any]]:
    """The report rows of a JSON answer, whichever key they are under."""
    for key in ("rows", "advice", "zones"):
        if isinstance(body, dict) and key in body:
            return list(body[key])
    return []


#: Row fields that say how big a group is (or its opening days); shown even when suppressed.
SIZE_FIELDS = frozenset({"spaces", "bookings", "supply", "days", "weekday", "hour", "week"})


def _check_groups(url: str, body: dict[str, Any], k: int) -> int:
    """A suppressed row holds no figure; any other row with one covers ``k`` spaces or bookings.

    Returns the rows with figures checked.
    """
    level = body.get("level")
    checked = 0
    for row in _rows(body):
        numbers = {f: v for f, v in row.items()
                   if f not in SIZE_FIELDS and isinstance(v, int | float)
                   and not isinstance(v, bool)}  # fmt: skip
        if row.get("suppressed"):
            assert numbers == {}, (url, row)  # counts next to the size give a rate away
            continue
        if "expected_peak" in row and row["expected_peak"] is None:
            continue  # energy: a small zone's peaks hidden, its opening hours stay
        if not numbers:
            continue
        checked += 1
        if level in LEVEL_KEY:
            key = tuple(row[c] for c in KEY_COLUMNS[level])
            assert SIZES[level][key] >= k, (url, row)
        for size in ("spaces", "supply"):
            if size in row:
                assert row[size] >= k, (url, row)
        if "bookings" in row:
            assert row["bookings"] + (row.get("walk_ins") or 0) >= k, (url, row)
    return checked


@pytest.mark.slow
def test_no_response_puts_presence_next_to_a_person(used):
    client = used.client
    facility, admin = bearer(used.tokens["fenna.facility"]), bearer(used.tokens[ADMIN])
    ids = _identifiers(client, used)
    fillers = _fillers(client, used, facility)
    schema = client.get("/openapi.json").json()
    seen: dict[str, int] = Counter()
    walked = 0
    for path, ops in schema["paths"].items():
        if "get" not in ops or path in NOT_WALKED:
            continue
        params = ops["get"].get("parameters", [])
        holes = re.findall(r"{(\w+)}", path)
        for values in itertools.product(*(fillers[h] for h in holes)):
            url = path
            for hole, value in zip(holes, values, strict=True):
                url = url.replace("{" + hole + "}", value)
            query = [p for p in params if p["in"] == "query"]
            if path.startswith(FACILITY):
                urls = _facility_queries(url, query, fillers["floor_id"])
            else:
                needed = {"site": "hq", "lat": "52.37", "lon": "4.9"}
                required = [p["name"] for p in query if p.get("required")]
                base = url + "?" + "&".join(f"{n}={needed[n]}" for n in required)
                urls = [base] + (
                    [f"{base}user_id={u}" for u in fillers["user_id"]] if path == "/api/v1/bookings"
                    else []
                )  # fmt: skip
            for target in urls:
                roles = (facility,) if path.startswith(FACILITY) else (facility, admin)
                for headers in roles:  # one role dependency guards every facility report
                    got = client.get(target, headers=headers)
                    assert got.status_code != 500, (target, got.text)
                    if got.status_code != 200:
                        continue
                    walked += 1
                    seen[path] += 1
                    kind = got.headers.get("content-type", "")
                    keys = _keys(got.text, kind) & PRESENCE_KEYS
                    named = {n for n, pats in ids.items() if any(p.search(got.text) for p in pats)}
                    assert not (keys and named), f"{target} has {keys} next to {named}"
    for path in schema["paths"]:
        if path.startswith(FACILITY) and "get" in schema["paths"][path]:
            assert seen[path] > 0, f"the walk got no answer from {path}"
    assert seen["/api/v1/users/{user_id}/export"] >= len(used.people) - 1
    assert seen["/api/v1/privacy/report"] and seen["/api/v1/audit"] and walked > 500


def test_a_persons_export_holds_no_presence_of_spaces(used):
    client = used.client
    facility = bearer(used.tokens["fenna.facility"])
    ids = _identifiers(client, used)
    for name, uid in used.people.items():
        for url, headers in ((f"/api/v1/users/{uid}/export", facility),
                             ("/api/v1/me/export", bearer(used.tokens[name]))):  # fmt: skip
            got = client.get(url, headers=headers)
            if got.status_code == 403:  # facility may not export; the person always may
                assert url.startswith("/api/v1/users/")
                continue
            assert got.status_code == 200, got.text
            data = got.json()
            assert _keys(got.text, "application/json") & PRESENCE_KEYS == set(), url
            assert data["app_user"]["id"] == uid
            assert all(b["user_id"] == uid for b in data["booking"]), url
            # Names only: a booking's own "id" may equal another person's user id.
            others = {n for n, pats in ids.items() if n != name and any(
                p.search(json.dumps(data["booking"])) for p in pats[1:])}  # fmt: skip
            assert others == set(), (url, others)


def test_small_groups_stay_suppressed_under_every_filter(used):
    client = used.client
    facility = bearer(used.tokens["fenna.facility"])
    k = MIN_GROUP
    assert min(SIZES["zone"].values()) < k <= max(SIZES["zone"].values())  # both kinds exist
    floors = _fillers(client, used, facility)["floor_id"]
    schema = client.get("/openapi.json").json()
    checked = suppressed = 0
    for path, ops in schema["paths"].items():
        if not path.startswith(FACILITY) or "get" not in ops:
            continue
        for url in _facility_queries(path, ops["get"].get("parameters", []), floors):
            if "format=csv" in url:
                continue  # the CSV has the same rows; the walk above searches its text
            got = client.get(url, headers=facility)
            assert got.status_code == 200, (url, got.text)
            body = got.json()
            asked = re.search(r"min_group=(\d+)", url)
            floor = max(k, int(asked.group(1))) if asked else k
            if "min_group" in body:
                assert body["min_group"] == floor, url  # a lower request is raised
            checked += _check_groups(url, body, floor)
            suppressed += sum(bool(r.get("suppressed")) for r in _rows(body))
    assert checked > 100 and suppressed > 100, (checked, suppressed)
