"""The whole path encrypted: MicroPython node -> Mosquitto TLS -> gateway and backend (mqtts).

Every hop to and from the broker is TLS, verified against one CA made by
``werkplek pki`` (the ``pki`` fixture): the node holds it in DER as a board
would, the gateway and the backend in PEM (``mqtt_ca_file``). The broker here
has a TLS listener only besides a plain one nobody in the chain uses; the
space's state is read through the backend's API.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import httpx
import pytest

from backend.config import Settings as BackendSettings
from backend.main import create_app
from gateway.app import Gateway
from gateway.settings import GatewaySettings
from tests.firmware.harness import NodeProcess
from tests.helpers import serve_app
from tests.services import Mosquitto, free_port, make_tempdir, wait_until
from werkplek.demo import prepare_database

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


@pytest.fixture
def broker(pki) -> Iterator[Mosquitto]:
    """A broker of this test's own: the chain's retained registry stays out of others' way."""
    made = Mosquitto(workdir=make_tempdir("mosquitto-e2e-tls"), tls_dir=pki.dir)
    made.start()
    yield made
    made.stop()
    shutil.rmtree(made.workdir, ignore_errors=True)


def test_desk_state_travels_encrypted_from_sensor_to_api(broker, pki, micropython_bin, tmp_path):
    backend_settings = BackendSettings(
        database_url=f"sqlite:///{tmp_path}/werkplek.sqlite3",
        mqtt_url=broker.tls_url,
        mqtt_ca_file=pki.ca_pem,
        mqtt_client_id="e2e-tls-backend",
        http_port=free_port(),
    )
    token, devices, floors = prepare_database(backend_settings)
    desk = next(d for d in devices if d.space_kind == "desk" and d.site == "hq")
    site_floors = [floor_id for site, floor_id, _name in floors if site == desk.site]
    gateway = Gateway(
        GatewaySettings(
            mqtt_url=broker.tls_url,
            mqtt_ca_file=pki.ca_pem,
            gateway_id="e2e-tls-gw",
            state_dir=tmp_path / "gateway",
            history_path=tmp_path / "gateway" / "history.sqlite3",
        )
    )
    node: NodeProcess | None = None
    with serve_app(create_app(backend_settings), backend_settings.http_port) as base:

        def availability() -> str | None:
            for floor_id in site_floors:
                body = httpx.get(
                    f"{base}/api/v1/availability",
                    params={"site": desk.site, "floor": floor_id},
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=10,
                ).json()
                for space in body.get("spaces", []):
                    if space["space_id"] == desk.space_id:
                        return str(space["availability"])
            return None

        gateway.start()
        try:
            wait_until(gateway.connected.is_set, 30, what="gateway connected over TLS")
            wait_until(lambda: availability() == "unknown", 30, what="desk unknown: no node yet")
            node = NodeProcess(
                micropython_bin,
                tmp_path,
                {
                    "device_id": desk.device_id,
                    "site": desk.site,
                    "broker_host": "localhost",
                    "broker_port": broker.tls_port,
                    "ca_file": str(pki.ca_der),
                    "source": "pir",
                    "space_type": "desk",
                    "confirm_ms": 300,
                    "hold_ms": 3000,
                    "heartbeat_s": 30,
                },
            )
            node.wait_line(f"MQTT up localhost:{broker.tls_port}", 30)
            wait_until(lambda: availability() == "free", 30, what="desk free over TLS")
            node.set_presence(True)
            node.wait_line("STATE occupied", 15)
            wait_until(lambda: availability() == "occupied", 30, what="desk occupied over TLS")
        finally:
            if node is not None:
                node.stop()
            gateway.stop()
    # Node, gateway and backend came in on the TLS listener (the broker logs each port).
    ports = _client_ports((broker.workdir / "mosquitto.log").read_text())
    chain = ("wp-" + desk.device_id, "werkplek-gateway-e2e-tls-gw", "e2e-tls-backend")
    assert {ports.get(client_id) for client_id in chain} == {broker.tls_port}, ports


def _client_ports(log: str) -> dict[str, int]:
    """Map each MQTT client id in a Mosquitto log to the listener port it connected on."""
    port_of_peer: dict[str, int] = {}
    ports: dict[str, int] = {}
    for line in log.splitlines():
        words = line.split()
        if "from" not in words:
            continue
        peer = words[words.index("from") + 1]  # address:port of the client
        if "New connection from" in line and "on port" in line:
            port_of_peer[peer] = int(words[-1].rstrip("."))
        elif "New client connected from" in line:
            ports[words[words.index("as") + 1]] = port_of_peer[peer]
    return ports
