"""`werkplek site-bridge`: the files it writes, and the account's least privilege on a broker."""

from __future__ import annotations

import shutil
import signal
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from contract import registry_topic
from contract.bridge import bridge_state_topic
from tests.satellite.probe import Probe
from tests.services import ConfiguredMosquitto, make_tempdir, wait_until
from werkplek.cli import main
from werkplek.site_bridge import (
    BridgeOptions,
    SiteBridgeError,
    bridge_config,
    central_acl,
    password_line,
    write_site_bridge,
)

#: The central broker's bridge listener without TLS (the network test runs the real
#: template, TLS included) plus an anonymous listener for the test's own service.
CENTRAL = """per_listener_settings true

listener 8884
allow_anonymous false
use_username_as_clientid true
password_file /mosquitto/config/passwd-sites
acl_file /mosquitto/config/acl-sites

listener 1884
allow_anonymous true
"""


def lines_of(text: str, first: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(first)]


def test_bridge_config_is_persistent_qos1_tls_and_limited_to_the_site() -> None:
    text = bridge_config(BridgeOptions("dalfsen", "mqtt.example.nl"), "s3cret")
    assert "cleansession false" in text.splitlines()
    assert "bridge_insecure false" in text.splitlines()
    assert "notification_topic werkplek/v1/dalfsen/_bridge/state" in text
    assert "address mqtt.example.nl:8884" in text
    topics = [line.split() for line in lines_of(text, "topic ")]
    assert topics and all(t[1].startswith("werkplek/v1/dalfsen/") for t in topics)
    assert {(t[1].rsplit("/", 1)[-1], t[2], t[3]) for t in topics} >= {
        ("presence", "out", "1"),
        ("status", "out", "1"),
        ("#", "in", "1"),
        ("config", "in", "1"),
    }
    acl = central_acl("dalfsen")
    rights = [line.split() for line in lines_of(acl, "topic ")]
    assert all(r[2].startswith("werkplek/v1/dalfsen/") for r in rights)
    assert ["topic", "write", bridge_state_topic("dalfsen")] in rights
    assert lines_of(acl, "user ") == ["user werkplek-bridge-dalfsen"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (BridgeOptions("Dalfsen", "h"), "breaks the contract"),
        (BridgeOptions("a/#", "h"), "breaks the contract"),
        (BridgeOptions("dalfsen", "h x"), "not a host name"),
        (BridgeOptions("dalfsen", "h", central_port=0), "out of range"),
        (BridgeOptions("dalfsen", "h", keepalive_s=2), "keep-alive"),
        (BridgeOptions("dalfsen", "h", restart_s=(5, 1)), "restart wait"),
    ],
)
def test_bad_values_are_refused_with_the_reason(options: BridgeOptions, message: str) -> None:
    with pytest.raises(SiteBridgeError, match=message):
        bridge_config(options, "pw")


def test_cli_writes_private_files_and_refuses_a_bad_site(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["site-bridge", "dalfsen", "--central-host", "c.example", "-o", str(tmp_path)]) == 0
    conf = tmp_path / "bridge-dalfsen.conf"
    for secret in (conf, tmp_path / "central-passwd-dalfsen"):
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    password = lines_of(conf.read_text(), "remote_password ")[0].split()[1]
    assert len(password) >= 32
    assert password not in (tmp_path / "central-passwd-dalfsen").read_text()
    assert main(["site-bridge", "no site", "--central-host", "c", "-o", str(tmp_path)]) == 2
    assert "breaks the contract" in capsys.readouterr().err


def test_password_line_matches_mosquitto_passwd_format() -> None:
    line = password_line("werkplek-bridge-x", "pw", salt=b"\x00" * 12)
    user, hashed = line.rstrip("\n").split(":", 1)
    assert user == "werkplek-bridge-x"
    assert hashed.startswith("$7$101$AAAAAAAAAAAAAAAA$")
    assert password_line("u", "pw") != password_line("u", "pw")  # a fresh salt each time


@pytest.fixture
def central() -> Iterator[tuple[ConfiguredMosquitto, dict[str, str]]]:
    """A broker with the generated accounts of two sites, dalfsen and dorp-a."""
    out = make_tempdir("site-bridge")
    config = out / "central.conf"
    config.write_text(CENTRAL)
    passwords = {site: f"pw-{site}-0123456789" for site in ("dalfsen", "dorp-a")}
    passwd, acl = "", ""
    for site, password in passwords.items():
        files = write_site_bridge(BridgeOptions(site, "central"), out / "gen", password)
        passwd += files.passwd.read_text()
        acl += files.acl.read_text() + "\n"
    broker = ConfiguredMosquitto(
        workdir=out / "broker",
        config_file=config,
        files={"passwd-sites": passwd, "acl-sites": acl},
    )
    broker.start()
    yield broker, passwords
    broker.stop()
    shutil.rmtree(out, ignore_errors=True)


def test_a_site_account_reaches_only_its_own_site(
    central: tuple[ConfiguredMosquitto, dict[str, str]],
) -> None:
    broker, passwords = central
    account = "werkplek-bridge-dalfsen"
    wrong = Probe(broker.host, broker.ports[8884], account, "not-the-password")
    assert not wrong.accepted
    wrong.close()
    observer = Probe(broker.host, broker.ports[1884], subscribe=("werkplek/v1/#",))
    site = Probe(
        broker.host,
        broker.ports[8884],
        account,
        passwords["dalfsen"],
        subscribe=("werkplek/v1/dalfsen/_registry/#", "werkplek/v1/dorp-a/_registry/#"),
    )
    try:
        assert site.accepted
        own = "werkplek/v1/dalfsen/d-0101/presence"
        other = "werkplek/v1/dorp-a/d-0201/presence"
        assert site.publish(own, b'{"v":1}') in (0, 16)  # accepted (16: nobody else listens)
        assert site.publish(bridge_state_topic("dalfsen"), b"1", retain=True) in (0, 16)
        assert site.publish(other, b'{"v":1}') == 135  # not authorised
        assert site.publish(bridge_state_topic("dorp-a"), b"0", retain=True) == 135
        assert site.publish("werkplek/v1/dalfsen/_space/x/state", b"{}") == 135
        assert site.publish("werkplek/v1/dalfsen/_registry/d-0101", b"{}") == 135
        observer.publish(registry_topic("dalfsen", "d-0101"), b"own", retain=True)
        observer.publish(registry_topic("dorp-a", "d-0201"), b"other", retain=True)
        wait_until(lambda: observer.on_topic(own), 10, what="the site's own presence delivered")
        wait_until(
            lambda: site.on_topic(registry_topic("dalfsen", "d-0101")), 10, what="own registry"
        )
        observer.publish(registry_topic("dalfsen", "d-0102"), b"sentinel", retain=True)
        wait_until(lambda: site.on_topic(registry_topic("dalfsen", "d-0102")), 10, what="sentinel")
        # Sent before the sentinel, so it would have arrived by now: the other site's stays out.
        assert site.on_topic(registry_topic("dorp-a", "d-0201")) == []
        assert observer.on_topic(other) == []
        assert observer.on_topic(bridge_state_topic("dorp-a")) == []
    finally:
        site.close()
        observer.close()


def test_adding_a_site_needs_only_its_lines_and_a_reload() -> None:
    """docs/operations.md, "Add a site": append both files, SIGHUP; running sites stay linked."""
    out = make_tempdir("site-bridge-add")
    config = out / "central.conf"
    config.write_text(CENTRAL)
    first = write_site_bridge(BridgeOptions("dalfsen", "central"), out / "gen", "pw-dalfsen-0123")
    broker = ConfiguredMosquitto(
        workdir=out / "broker",
        config_file=config,
        files={"passwd-sites": first.passwd.read_text(), "acl-sites": first.acl.read_text()},
    )
    broker.start()
    try:
        port = broker.ports[8884]
        linked = Probe(broker.host, port, "werkplek-bridge-dalfsen", "pw-dalfsen-0123")
        early = Probe(broker.host, port, "werkplek-bridge-dorp-a", "pw-dorp-a-0123")
        assert linked.accepted and not early.accepted
        early.close()
        added = write_site_bridge(BridgeOptions("dorp-a", "central"), out / "gen", "pw-dorp-a-0123")
        with open(broker.workdir / "passwd-sites", "a") as passwd:
            passwd.write(added.passwd.read_text())
        with open(broker.workdir / "acl-sites", "a") as acl:
            acl.write("\n" + added.acl.read_text())
        assert broker.proc is not None
        broker.proc.send_signal(signal.SIGHUP)

        def joined() -> bool:
            probe = Probe(broker.host, port, "werkplek-bridge-dorp-a", "pw-dorp-a-0123")
            probe.close()
            return probe.accepted

        wait_until(joined, 30, 0.5, what="the new site's account after the reload")
        new = Probe(broker.host, port, "werkplek-bridge-dorp-a", "pw-dorp-a-0123")
        assert new.publish("werkplek/v1/dorp-a/d-0201/presence", b"{}") in (0, 16)
        assert new.publish("werkplek/v1/dalfsen/d-0101/presence", b"{}") == 135
        new.close()
        # The running site kept its connection through the reload.
        assert linked.publish("werkplek/v1/dalfsen/d-0101/presence", b"{}") in (0, 16)
        linked.close()
    finally:
        broker.stop()
        shutil.rmtree(out, ignore_errors=True)


def test_the_site_broker_template_runs_with_a_generated_bridge() -> None:
    """deploy/mosquitto/site.conf as shipped: device and service accounts, the bridge included."""
    out = make_tempdir("site-broker")
    workdir = out / "broker"
    (workdir / "conf.d").mkdir(parents=True)
    files = write_site_bridge(BridgeOptions("dalfsen", "127.0.0.1", 9), workdir / "conf.d", "pw-x")
    files.passwd.unlink()  # the centre's files do not belong on the site broker
    files.acl.unlink()
    broker = ConfiguredMosquitto(
        workdir=workdir,
        config_file=Path(__file__).parents[2] / "deploy" / "mosquitto" / "site.conf",
        passwords={"passwd": {"d-0101": "pw-device"}, "passwd-services": {"gateway": "pw-gw"}},
        files={
            "acl-devices": "user d-0101\ntopic write werkplek/v1/dalfsen/d-0101/presence\n",
            "acl-services": (
                Path(__file__).parents[2] / "deploy/mosquitto/acl-services"
            ).read_text(),
        },
    )
    broker.start()
    try:
        gateway = Probe(
            broker.host, broker.ports[1884], "gateway", "pw-gw", subscribe=("werkplek/v1/#",)
        )
        device = Probe(broker.host, broker.ports[1883], "d-0101", "pw-device")
        topic = "werkplek/v1/dalfsen/d-0101/presence"
        assert device.publish(topic, b"{}") == 0
        wait_until(lambda: gateway.on_topic(topic), 10, what="device message at the live gateway")
        # The bridge was read: it tries the (absent) centre and says so on the local broker.
        wait_until(
            lambda: "werkplek-bridge-dalfsen" in (workdir / "mosquitto.log").read_text(),
            10,
            what="the bridge in the broker's log",
        )
        device.close()
        gateway.close()
    finally:
        broker.stop()
        shutil.rmtree(out, ignore_errors=True)
