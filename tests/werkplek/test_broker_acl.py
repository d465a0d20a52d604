"""`werkplek broker-acl`: the site-bound device ACL (held to a real Mosquitto in tests/deploy)."""

from __future__ import annotations

import pytest

from backend.database import create_all, make_engine, make_session_factory
from backend.seed import seed_demo
from werkplek.broker_acl import AclError, device_acl, read_device_list
from werkplek.cli import main


def test_each_device_gets_its_own_site_bound_block():
    text = device_acl([("hq", "d-0002"), ("dalfsen", "d-0001")])
    assert "pattern" not in text and "+" not in text and "#" not in text.split("\n", 3)[-1]
    blocks = text.split("\n\n")[1:]
    assert blocks[0].splitlines() == [
        "user d-0001",
        "topic write werkplek/v1/dalfsen/d-0001/presence",
        "topic write werkplek/v1/dalfsen/d-0001/status",
        "topic write werkplek/v1/dalfsen/d-0001/telemetry",
        "topic read werkplek/v1/dalfsen/d-0001/config",
    ]
    assert blocks[1].startswith("user d-0002\ntopic write werkplek/v1/hq/d-0002/presence")
    assert device_acl([("hq", "d-0001"), ("hq", "d-0001")]).count("user d-0001") == 1


@pytest.mark.parametrize(
    ("site", "device"),
    [
        ("hq", "d-0001\n"),
        ("hq\n", "d-0001"),
        ("hq", "d+"),
        ("hq", "#"),
        ("hq", "d/1"),
        ("hq", "werkplek-gateway-gw-1"),  # could pose as the gateway's client id
        ("+", "d-0001"),
    ],
)
def test_ids_that_could_break_or_widen_the_acl_are_refused(site, device):
    with pytest.raises(AclError):
        device_acl([(site, device)])


def test_one_device_under_two_sites_is_refused():
    with pytest.raises(AclError, match="listed under"):
        device_acl([("hq", "d-0001"), ("dalfsen", "d-0001")])


def test_device_list_file_lines():
    text = "# site device\nhq d-0001\n\ndalfsen,d-0002  # the barn\n"
    assert read_device_list(text) == [("hq", "d-0001"), ("dalfsen", "d-0002")]
    with pytest.raises(AclError, match="line 1"):
        read_device_list("hq d-0001 extra\n")


def test_the_command_writes_the_acl_from_the_registry_or_a_list(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path}/werkplek.sqlite3"
    engine = make_engine(url)
    create_all(engine)
    with make_session_factory(engine)() as session:
        seed_demo(session)
    engine.dispose()
    monkeypatch.setenv("WERKPLEK_DATABASE_URL", url)
    out = tmp_path / "acl-devices"
    assert main(["broker-acl", "-o", str(out)]) == 0
    text = out.read_text()
    assert "user d-0001\ntopic write werkplek/v1/hq/d-0001/presence" in text
    assert text.count("\nuser ") >= 10

    listing = tmp_path / "devices.txt"
    listing.write_text("hq d-0001\nhq werkplek-backend-1\n")
    assert main(["broker-acl", "--devices", str(listing)]) == 2
    assert "services' werkplek-" in capsys.readouterr().err
    listing.write_text("hq d-0001\n")
    assert main(["broker-acl", "--devices", str(listing)]) == 0
    assert "topic read werkplek/v1/hq/d-0001/config" in capsys.readouterr().out
