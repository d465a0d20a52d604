"""Topic routing by parsed kind, and room for kinds registered by other modules."""

from __future__ import annotations

import pytest

import contract
from contract.kinds import KINDS, SITE_LEVELS, Kind, register
from contract.topics import Route, parse_topic


@pytest.mark.parametrize(
    ("topic", "route"),
    [
        ("werkplek/v1/hq/d-0001/presence", Route("presence", "hq", "d-0001")),
        ("werkplek/v1/hq/d-0001/config", Route("config", "hq", "d-0001")),
        ("werkplek/v1/hq/_registry/d-0001", Route("registry", "hq", "d-0001")),
        ("werkplek/v1/hq/_space/hq.1.d-001/state", Route("space_state", "hq", None, "hq.1.d-001")),
        ("werkplek/v1/hq/_health/d-0001", Route("health", "hq", "d-0001")),
        ("werkplek/v1/_gateway/gw-1/status", Route("gateway_status", gateway_id="gw-1")),
        ("werkplek/v1/_gateway/gw-1/history", Route("gateway_history", gateway_id="gw-1")),
        ("werkplek/v1/_gateway/gw-1/sync", Route("gateway_sync", gateway_id="gw-1")),
        ("werkplek/v1/_gateway/_live/lease", Route("lease")),
    ],
)
def test_every_topic_routes_to_its_kind(topic, route):
    assert parse_topic(topic) == route


@pytest.mark.parametrize(
    ("topic", "claimed"),
    [
        ("werkplek/v1/hq/_health/D-1", "health"),
        ("werkplek/v1/hq/_registry/d 1", "registry"),
        ("werkplek/v1/hq/_space/HQ/state", "space_state"),
        ("werkplek/v1/_gateway/GW/status", "gateway_status"),
        ("werkplek/v1/hq/D-0001/presence", None),  # a device topic names no owner when broken
        ("werkplek/v2/hq/_health/d-1", None),
        ("elsewhere", None),
    ],
)
def test_a_broken_topic_is_refused_but_still_claimed_by_the_kind_its_shape_names(topic, claimed):
    with pytest.raises(contract.TopicError) as caught:
        parse_topic(topic)
    assert caught.value.reason == "bad_topic"
    assert contract.claimed_kind(topic) == claimed


def test_a_kind_of_another_module_registers_its_shape_and_is_routed():
    zone = Kind("zone_test", "backend -> BMS", shape=("_zonetest", "{floor}", "{zone}", "hvac"))
    link = Kind("link_test", "site broker -> centre", shape=("_linktest", "state"))
    try:
        register(zone)
        register(link)
        route = parse_topic("werkplek/v1/hq/_zonetest/hq-2/Stilte/hvac")
        assert (route.kind, route.site, route.id("floor"), route.id("zone")) == (
            "zone_test",
            "hq",
            "hq-2",
            "Stilte",
        )
        assert parse_topic("werkplek/v1/dorp-a/_linktest/state") == Route("link_test", "dorp-a")
        for broken in ("werkplek/v1/hq/_zonetest/hq-2/hvac", "werkplek/v1/hq/_linktest/gone"):
            with pytest.raises(contract.TopicError):
                parse_topic(broken)
        with pytest.raises(ValueError):  # a level belongs to one kind
            register(Kind("other", "x", shape=("_zonetest", "{zone}")))
        with pytest.raises(ValueError):  # and a site-level topic starts with a fixed _ level
            register(Kind("other", "x", shape=("{zone}", "hvac")))
    finally:
        for kind in (zone, link):
            KINDS.pop(kind.name, None)
            SITE_LEVELS.pop(kind.shape[0], None)
        parse_topic.cache_clear()
