"""The sample municipality: idempotent, believable and drawable, on SQLite and PostgreSQL."""

from __future__ import annotations

from itertools import combinations

from backend.database import make_engine, make_session_factory
from backend.seed import list_devices, seed_demo
from backend.spaces import service
from contract import is_valid_id, is_valid_space_id


def test_seed_is_idempotent(seeded):
    counts_before = seeded.query(
        "SELECT (SELECT count(*) FROM space), (SELECT count(*) FROM device)"
    )
    engine = make_engine(seeded.url)
    try:
        with make_session_factory(engine)() as session:
            again = seed_demo(session)
    finally:
        engine.dispose()
    assert again.created is False
    assert seeded.query("SELECT (SELECT count(*) FROM space), (SELECT count(*) FROM device)") == (
        counts_before
    )


def test_sample_municipality_has_the_promised_shape(seeded):
    engine = make_engine(seeded.url)
    try:
        with make_session_factory(engine)() as session:
            sites = {s.id: s for s in service.list_sites(session)}
            assert sites["hq"].kind == "central_office" and sites["hq"].name == "Stadskantoor"
            assert [s.kind for s in sites.values() if s.id != "hq"] == ["satellite"]
            hq_floors = service.list_floors(session, "hq")
            assert len(hq_floors) == 3
            hq = service.list_spaces(session, site_id="hq")
            desks = [s for s in hq if s.kind == "desk"]
            rooms = [s for s in hq if s.kind != "desk"]
            assert 110 <= len(desks) <= 130
            assert 0.28 <= sum(d.quiet for d in desks) / len(desks) <= 0.4
            assert any(d.standing for d in desks) and any(d.accessible for d in desks)
            assert 10 <= len(rooms) <= 14
            assert {r.kind for r in rooms} == {"meeting_room", "focus_room"}
            assert all(r.capacity >= 1 for r in rooms)
            satellite = [s for s in service.list_spaces(session) if s.site_id != "hq"]
            assert sum(s.kind == "desk" for s in satellite) == 8
            assert sum(s.kind != "desk" for s in satellite) == 1
            for floor in service.list_floors(session):
                spaces = service.list_spaces(session, floor_id=floor.id)
                for s in spaces:
                    assert is_valid_space_id(s.id)
                    assert 0 <= s.x and s.x + s.w <= floor.plan_width
                    assert 0 <= s.y and s.y + s.h <= floor.plan_height
                for a, b in combinations(spaces, 2):
                    overlap = (
                        a.x < b.x + b.w and b.x < a.x + a.w and a.y < b.y + b.h and b.y < a.y + a.h
                    )
                    assert not overlap, (a.id, b.id)
            fleet = list_devices(session)
    finally:
        engine.dispose()
    all_spaces = seeded.query("SELECT count(*) FROM space")[0][0]
    assert len(fleet) == all_spaces  # one device per space
    assert len({d.device_id for d in fleet}) == len(fleet)
    assert all(is_valid_id(d.device_id) and d.device_id.startswith("d-") for d in fleet)
    assert {d.source for d in fleet if d.space_kind == "desk"} == {"radar", "pir"}
    assert {d.source for d in fleet if d.space_kind != "desk"} == {"fused"}
