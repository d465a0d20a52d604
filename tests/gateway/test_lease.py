"""Unit tests of the live-state lease state machine (no broker: messages fed in order)."""

import pytest

from gateway.lease import Action, LiveLease, lease_owner, lease_payload

LEASE_MS, SETTLE_MS = 3000, 300


def make(name, now=0):
    lease = LiveLease(name, lease_ms=LEASE_MS, settle_ms=SETTLE_MS)
    assert lease.connected(now) is Action.NONE
    return lease


def claim_and_win(lease, now):
    """Drive a lone gateway from standby to active; returns the time it took over."""
    assert lease.step(now) is Action.CLAIM
    assert lease.on_lease(lease_payload(lease.me, now, LEASE_MS), now) is Action.NONE
    assert lease.step(now + SETTLE_MS - 1) is Action.NONE
    assert lease.step(now + SETTLE_MS) is Action.ACTIVATE
    assert lease.active
    return now + SETTLE_MS


def test_a_lone_gateway_waits_for_retained_messages_then_claims_and_takes_over():
    a = make("gw-a")
    assert a.step(SETTLE_MS - 1) is Action.NONE  # the retained lease may still arrive
    at = claim_and_win(a, SETTLE_MS)
    assert a.step(at + 1) is Action.NONE
    assert a.step(at + LEASE_MS // 3) is Action.RENEW


def test_a_live_owner_keeps_the_lease_and_its_last_will_frees_it_at_once():
    a, b = make("gw-a"), make("gw-b")
    at = claim_and_win(a, SETTLE_MS)
    b.on_lease(lease_payload("gw-a", at, LEASE_MS), at)
    b.on_status("gw-a", True)
    assert b.step(at + 100) is Action.NONE
    b.on_status("gw-a", False)  # the broker published gw-a's Last Will
    claim_and_win(b, at + 200)


def test_a_standby_saying_offline_before_it_claimed_does_not_free_its_own_new_lease():
    b, c = make("gw-b"), make("gw-c")
    for gw in (b, c):
        gw.on_status("gw-c", False)  # gw-c announced itself as standby
        gw.on_lease(lease_payload("gw-c", 400, LEASE_MS), 400)  # then claimed
    assert b.step(500) is Action.NONE
    assert c.step(500) is Action.CLAIM  # its own lease: it goes on to take over


def test_two_claims_at_once_the_last_one_in_broker_order_wins_on_both_sides():
    a, b = make("gw-a"), make("gw-b")
    assert a.step(SETTLE_MS) is Action.CLAIM
    assert b.step(SETTLE_MS) is Action.CLAIM
    for gw in (a, b):  # the broker delivers both claims to both, in one order
        gw.on_lease(lease_payload("gw-a", SETTLE_MS, LEASE_MS), SETTLE_MS + 5)
        gw.on_lease(lease_payload("gw-b", SETTLE_MS, LEASE_MS), SETTLE_MS + 6)
    assert a.step(2 * SETTLE_MS) is Action.NONE and not a.active
    assert b.step(2 * SETTLE_MS) is Action.ACTIVATE
    b.on_status("gw-b", True)
    a.on_status("gw-b", True)
    assert a.step(2 * SETTLE_MS + 100) is Action.NONE  # b holds a fresh lease


def test_an_unrenewed_lease_expires_and_an_owner_that_sees_another_lease_steps_down():
    a, b = make("gw-a"), make("gw-b")
    at = claim_and_win(a, SETTLE_MS)
    b.on_status("gw-a", True)
    b.on_lease(lease_payload("gw-a", at, LEASE_MS), at)
    assert b.step(at + LEASE_MS) is Action.NONE
    took = claim_and_win(b, at + LEASE_MS + 1)  # gw-a hung: no renewal for a whole lease
    # gw-a wakes up and reads gw-b's lease: it must stop publishing at once.
    assert a.on_lease(lease_payload("gw-b", took, LEASE_MS), took) is Action.DEACTIVATE
    assert not a.active


def test_a_reconnect_drops_ownership_and_our_own_old_lease_is_free():
    a = make("gw-a")
    at = claim_and_win(a, SETTLE_MS)
    assert a.connected(at + 10) is Action.DEACTIVATE
    a.on_lease(lease_payload("gw-a", at, LEASE_MS), at + 20)  # retained, from before
    assert a.step(at + 10 + SETTLE_MS) is Action.CLAIM


def test_lease_payloads_round_trip_and_garbage_names_no_owner():
    assert lease_owner(lease_payload("gw-a", 1, 2)) == "gw-a"
    for bad in (b"", b"\xff", b"[1]", b'{"owner": 5}', b"{"):
        assert lease_owner(bad) is None
    with pytest.raises(ValueError):
        LiveLease("gw-a", lease_ms=100, settle_ms=300)
