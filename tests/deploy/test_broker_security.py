"""The deployed Mosquitto config refuses what an attacker with one device's password tries.

A real Mosquitto runs ``deploy/mosquitto/mosquitto.conf`` with real password files
and the ACLs operators deploy (``acl-services`` as committed, ``acl-devices`` from
``werkplek broker-acl``); the gateway is the real one. Each refusal also has a
control where it matters: the same attack against the config without the line
that stops it succeeds, so the test can fail.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from contract import (
    MAX_PAYLOAD_BYTES,
    device_topic,
    gateway_status_topic,
    registry_topic,
    space_state_topic,
)
from contract.space_state import SpaceState
from gateway import Gateway, GatewaySettings
from gateway.health import DeviceHealth
from tests.services import ConfiguredMosquitto, make_tempdir, require_binary, wait_until
from werkplek.broker_acl import device_acl

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
CONF = REPO / "deploy" / "mosquitto" / "mosquitto.conf"
DEVICE_PORT, SERVICE_PORT = 1883, 1884
DEVICES = {"d-0001": "hq", "d-0002": "dalfsen"}
DEVICE_PASSWORDS = {device: f"pw-{uuid.uuid4().hex}" for device in DEVICES}
SERVICE_PASSWORDS = {"gateway": f"gw-{uuid.uuid4().hex}", "backend": f"be-{uuid.uuid4().hex}"}
NOT_AUTHORIZED = 135  # MQTT v5 reason codes; below 128 is success
ACCEPTED = range(128)  # 0, or 16 "no matching subscribers"


def start_broker(config: Path = CONF) -> ConfiguredMosquitto:
    broker = ConfiguredMosquitto(
        workdir=make_tempdir("mosquitto-deploy"),
        config_file=config,
        passwords={"passwd": DEVICE_PASSWORDS, "passwd-services": SERVICE_PASSWORDS},
        files={
            "acl-devices": device_acl((site, device) for device, site in DEVICES.items()),
            "acl-services": (CONF.parent / "acl-services").read_text(),
        },
    )
    broker.start()
    return broker


@pytest.fixture
def broker() -> Iterator[ConfiguredMosquitto]:
    made = start_broker()
    yield made
    made.stop()
    shutil.rmtree(made.workdir, ignore_errors=True)


class Client:
    """An MQTT v5 client that records its CONNACK, PUBACK and SUBACK reason codes."""

    def __init__(
        self,
        broker: ConfiguredMosquitto,
        listener: int,
        user: str,
        password: str,
        client_id: str = "",
        subscribe: tuple[str, ...] = (),
    ) -> None:
        self.connack: Any = None
        self.connects = 0
        self.disconnects = 0
        self.acks: dict[int, int] = {}
        self.granted: list[int] = []
        self.messages: list[tuple[str, bytes, bool]] = []
        self._subscribe = subscribe
        self._lock = threading.Lock()
        self.client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id or f"t-{uuid.uuid4().hex[:8]}",
            protocol=MQTTProtocolVersion.MQTTv5,
        )
        self.client.username_pw_set(user, password)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_publish = self._on_publish
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message
        self.client.connect(broker.host, broker.ports[listener])
        self.client.loop_start()
        wait_until(lambda: self.connack is not None, 10, what=f"CONNACK for {user}")
        if self.accepted and subscribe:
            wait_until(lambda: self.granted, 10, what="SUBACK")

    @property
    def accepted(self) -> bool:
        return self.connack is not None and not self.connack.is_failure

    def _on_connect(self, client: Any, userdata: Any, flags: Any, rc: Any, props: Any) -> None:
        self.connack = rc
        if not rc.is_failure:
            self.connects += 1
            if self._subscribe:
                client.subscribe([(topic, 1) for topic in self._subscribe])

    def _on_disconnect(self, *args: Any) -> None:
        self.disconnects += 1

    def _on_publish(self, client: Any, userdata: Any, mid: int, rc: Any, props: Any) -> None:
        self.acks[mid] = rc.value

    def _on_subscribe(self, client: Any, userdata: Any, mid: int, codes: Any, props: Any) -> None:
        self.granted = [code.value for code in codes]

    def _on_message(self, client: Any, userdata: Any, msg: Any) -> None:
        with self._lock:
            self.messages.append((msg.topic, bytes(msg.payload), bool(msg.retain)))

    def publish(self, topic: str, payload: bytes | str, retain: bool = False) -> int:
        """Publish at QoS 1 and return the broker's PUBACK reason code."""
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        wait_until(lambda: info.mid in self.acks, 10, what=f"PUBACK for {topic}")
        return self.acks[info.mid]

    def on_topic(self, topic: str) -> list[bytes]:
        with self._lock:
            return [payload for t, payload, _ in self.messages if t == topic]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def service(broker: ConfiguredMosquitto, subscribe: tuple[str, ...] = ()) -> Client:
    return Client(broker, SERVICE_PORT, "backend", SERVICE_PASSWORDS["backend"], "", subscribe)


def device(broker: ConfiguredMosquitto, device_id: str = "d-0001", **kw: Any) -> Client:
    return Client(broker, DEVICE_PORT, device_id, DEVICE_PASSWORDS[device_id], **kw)


def start_gateway(
    tmp_path: Path, broker: ConfiguredMosquitto, gateway_id: str, **kw: Any
) -> Gateway:
    settings = GatewaySettings(
        mqtt_url=broker.url_for(SERVICE_PORT, "gateway", SERVICE_PASSWORDS["gateway"]),
        gateway_id=gateway_id,
        state_dir=tmp_path / gateway_id,
        history_path=tmp_path / f"{gateway_id}.sqlite3",
        batch_linger_ms=20,
        tick_interval_ms=50,
        **kw,
    )
    gateway = Gateway(settings)
    gateway.start()
    wait_until(gateway.connected.is_set, 10, what=f"gateway {gateway_id} connected")
    return gateway


def attack_gateway_client_id(tmp_path: Path, broker: ConfiguredMosquitto) -> tuple[int, int]:
    """Connect with a device's password and the gateway's client id, three times.

    Returns the gateway status topic's ``(online, offline)`` counts seen after the
    attack: a gateway that was kicked off says offline (its Last Will) and online
    again on every reconnect.
    """
    gateway = start_gateway(tmp_path, broker, "gw-1")
    status = gateway_status_topic("gw-1")
    watcher = service(broker, subscribe=(status,))
    try:
        wait_until(lambda: watcher.on_topic(status)[-1:] == [b"online"], 10, what="gw online")
        seen = len(watcher.on_topic(status))
        for _ in range(3):
            attacker = device(broker, client_id=gateway.settings.client_id)
            assert attacker.accepted  # a valid device may connect, but only as itself
            time.sleep(0.5)
            attacker.close()
        time.sleep(2)  # the gateway reconnects after 1 s at the earliest
        after = watcher.on_topic(status)[seen:]
        return after.count(b"online"), after.count(b"offline")
    finally:
        watcher.close()
        gateway.stop()


def test_a_device_password_cannot_take_over_the_gateway_client_id(tmp_path, broker):
    assert attack_gateway_client_id(tmp_path, broker) == (0, 0)
    # On the services' listener a device account does not exist at all.
    intruder = Client(broker, SERVICE_PORT, "d-0001", DEVICE_PASSWORDS["d-0001"], "werkplek-x")
    assert not intruder.accepted
    intruder.close()
    # And a service account is no device account: the gateway cannot log in as a sensor.
    posing = Client(broker, DEVICE_PORT, "gateway", SERVICE_PASSWORDS["gateway"])
    assert not posing.accepted
    posing.close()


def test_control_without_use_username_as_clientid_the_takeover_works(tmp_path):
    """The attack above does kick the gateway off when the one line is missing."""
    weakened = tmp_path / "weak.conf"
    weakened.write_text(CONF.read_text().replace("use_username_as_clientid true\n", ""))
    assert weakened.read_text() != CONF.read_text()
    made = start_broker(weakened)
    try:
        online, offline = attack_gateway_client_id(tmp_path, made)
    finally:
        made.stop()
        shutil.rmtree(made.workdir, ignore_errors=True)
    assert online >= 1 and offline >= 1


def test_a_device_reconnecting_replaces_only_itself(broker):
    first = device(broker, "d-0001")
    other = device(broker, "d-0002", client_id="d-0001")  # the id it asks for is ignored
    time.sleep(0.5)
    assert first.disconnects == 0 and other.accepted
    second = device(broker, "d-0001")  # the same device again: its old session goes
    wait_until(lambda: first.disconnects >= 1, 10, what="the old connection of d-0001 closed")
    for client in (first, other, second):
        client.close()


def mosquitto_pub(broker: ConfiguredMosquitto, topic: str, payload: bytes, version: str) -> str:
    """Publish retained at QoS 1 as d-0001 with the real mosquitto_pub; its debug output."""
    binary = require_binary("mosquitto_pub", "/usr/bin/mosquitto_pub")
    args = ["-h", broker.host, "-p", str(broker.ports[DEVICE_PORT]), "-V", version]
    args += ["-u", "d-0001", "-P", DEVICE_PASSWORDS["d-0001"], "-t", topic]
    done = subprocess.run(
        [binary, *args, "-q", "1", "-r", "-d", "-s"],
        input=payload,
        capture_output=True,
        timeout=30,
        check=False,
    )
    return done.stdout.decode() + done.stderr.decode()


def test_oversized_retained_status_is_refused_and_the_last_good_one_stays(broker):
    status = device_topic("hq", "d-0001", "status")
    sensor = device(broker)
    assert sensor.publish(status, "online", retain=True) in ACCEPTED
    sensor.close()
    # Over message_size_limit: dropped; an MQTT v5 client is told (0x95 packet too large).
    out = mosquitto_pub(broker, status, b"x" * 5000, "5")
    assert "received PUBACK (Mid: 1, RC:149)" in out, out
    # A v3.1.1 client cannot be told; 60 kB is over max_packet_size, so the broker
    # closes the connection before it keeps anything.
    mosquitto_pub(broker, status, b"x" * 60_000, "311")
    late = service(broker, subscribe=(status,))
    wait_until(lambda: late.on_topic(status), 10, what="retained status")
    time.sleep(0.2)
    assert late.on_topic(status) == [b"online"]
    late.close()
    log = (broker.workdir / "mosquitto.log").read_text()
    assert "d-0001" in log
    # The contract's largest device message still goes through.
    sensor = device(broker)
    assert sensor.publish(device_topic("hq", "d-0001", "telemetry"), b" " * 1024) in ACCEPTED
    sensor.close()


def test_a_device_is_bound_to_its_own_site_and_topics(broker):
    watcher = service(broker, subscribe=("werkplek/v1/#",))
    sensor = device(broker)
    presence = json.dumps({"v": 1, "seq": 0, "ts": None, "occupied": True, "source": "pir"})
    refused = [
        device_topic("dalfsen", "d-0001", "presence"),  # its id under another site
        device_topic("dalfsen", "d-0001", "status"),
        device_topic("hq", "d-0002", "presence"),  # another device
        device_topic("dalfsen", "d-0002", "presence"),
        device_topic("hq", "d-0001", "config"),  # backend -> device only
        registry_topic("hq", "d-0001"),
        space_state_topic("hq", "hq.1.d-001"),
        "werkplek/v1/_gateway/gw-1/status",
        "werkplek/v1/hq/d-0001/presence/x",
    ]
    for topic in refused:
        assert sensor.publish(topic, presence) == NOT_AUTHORIZED, topic
    own = device_topic("hq", "d-0001", "presence")
    assert sensor.publish(own, presence) in ACCEPTED
    wait_until(lambda: watcher.on_topic(own), 10, what="own presence delivered")
    assert not [t for t, _, _ in watcher.messages if t in refused]
    # It reads only its own config (Mosquitto grants the subscription and filters
    # delivery by the read ACL).
    own_config = device_topic("hq", "d-0001", "config")
    other_config = device_topic("dalfsen", "d-0002", "config")
    for topic in (own_config, other_config):
        assert watcher.publish(topic, '{"v": 1, "rev": 1}', retain=True) in ACCEPTED
    sensor.client.subscribe([(own_config, 1), (other_config, 1)])
    wait_until(lambda: sensor.on_topic(own_config), 10, what="own config delivered")
    time.sleep(0.3)
    assert sensor.on_topic(other_config) == []
    sensor.close()
    watcher.close()


def test_an_empty_retained_status_is_ignored_by_the_gateway(tmp_path, broker):
    gateway = start_gateway(tmp_path, broker, "gw-live")
    backend = service(broker, subscribe=("werkplek/v1/+/_space/+/state",))
    state_topic = space_state_topic("hq", "hq.1.d-001")
    registration = {
        "v": 1,
        "device_id": "d-0001",
        "site": "hq",
        "space_id": "hq.1.d-001",
        "kind": "desk",
        "floor": "hq-1",
        "zone": None,
        "heartbeat_s": 600,
    }
    sensor = device(broker)
    try:
        assert (
            backend.publish(registry_topic("hq", "d-0001"), json.dumps(registration), True)
            in ACCEPTED
        )
        status = device_topic("hq", "d-0001", "status")
        assert sensor.publish(status, "online", retain=True) in ACCEPTED
        body = {"v": 1, "seq": 0, "ts": None, "occupied": True, "source": "pir"}
        assert (
            sensor.publish(device_topic("hq", "d-0001", "presence"), json.dumps(body)) in ACCEPTED
        )

        def state() -> str | None:
            got = backend.on_topic(state_topic)
            return json.loads(got[-1])["state"] if got else None

        wait_until(lambda: state() == "occupied", 10, what="occupied")
        # The broker cannot refuse an empty retained payload (it clears the retained
        # status); the gateway refuses it, so the space keeps following the sensor.
        assert sensor.publish(status, b"", retain=True) in ACCEPTED
        wait_until(lambda: gateway.counters().get("rejected.bad_status", 0) == 1, 10)
        time.sleep(0.3)
        assert state() == "occupied"
        # A device posting under another site gets past no one: the broker refuses it.
        foreign = device_topic("dalfsen", "d-0001", "presence")
        assert sensor.publish(foreign, json.dumps(body)) == NOT_AUTHORIZED
    finally:
        sensor.close()
        backend.close()
        gateway.stop()


def test_scale_out_history_gateways_share_the_gateway_account(tmp_path, broker):
    """Distinct gateway ids, one account: both stay connected and split the messages."""
    first = start_gateway(tmp_path, broker, "gw-h1", gateway_role="history")
    second = start_gateway(tmp_path, broker, "gw-h2", gateway_role="history")
    sensor = device(broker)
    try:
        topic = device_topic("hq", "d-0001", "presence")
        for seq in range(20):
            body = {"v": 1, "seq": seq, "boot": 1, "ts": None, "occupied": True, "source": "pir"}
            assert sensor.publish(topic, json.dumps(body)) in ACCEPTED

        def stored() -> int:
            return sum(g.counters().get("stored", 0) for g in (first, second))

        wait_until(lambda: stored() == 20, 20, what="all 20 stored once")
        assert first.connected.is_set() and second.connected.is_set()
    finally:
        sensor.close()
        first.stop()
        second.stop()


def test_the_largest_legitimate_messages_fit_the_broker_limit():
    """The limit is sized from the contract: the biggest messages the services build fit."""
    conf = CONF.read_text()
    limit = int(conf.split("\nmessage_size_limit ", 1)[1].split()[0])
    site, space = "s" * 63, "p" * 63
    health = DeviceHealth(
        site,
        "d" * 63,
        last_seen_ms=2**53,
        online=True,
        space_id=space,
        rssi=-200,
        battery_v=99.99,
        fw="f" * 940,  # what still fits a 1024-byte telemetry message
        uptime_s=2**63 - 1,
        heap_free=2**63 - 1,
        messages=2**63 - 1,
        errors=2**63 - 1,
        last_error="out_of_range",
        clock_corrected=2**63 - 1,
        stale_after_s=3 * 7 * 24 * 3600.0,
        msg_per_min=2**31,
    )
    assert len(health.payload()) <= limit
    # A space with 50 sensors, every id 63 characters long.
    devices = tuple(f"{i:02d}" + "d" * 61 for i in range(50))
    state = SpaceState(site, space, "occupied", 2**53, 2**53, "sensor", devices)
    assert len(state.payload()) <= limit
    assert MAX_PAYLOAD_BYTES < limit  # every device message and registry record
