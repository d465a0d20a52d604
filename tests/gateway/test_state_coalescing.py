"""A burst of space states leaves one state per space to send, the newest; status follows them.

Issue 4: when every message of a flat-out stream changed a space, the gateway
queued every intermediate state behind paho's QoS 1 window and live state
lagged seconds behind the stream. Checked against the real broker: the
subscriber ends with the newest state of every space, far fewer than all of
them travel, and an ``online`` status set right after the burst arrives after
the states (a takeover says online only once its states are out).
"""

from __future__ import annotations

import queue
import threading
import uuid

from gateway.mqtt import STATE_WINDOW, MqttLink
from gateway.settings import parse_mqtt_url
from tests.gateway.mqtt_helpers import TestClient
from tests.services import wait_until


def test_a_burst_of_states_coalesces_per_space_and_status_follows(mosquitto):
    site = f"co{uuid.uuid4().hex[:8]}"
    status_topic = f"werkplek/v1/_gateway/{site}/status"
    topics = [f"werkplek/v1/{site}/_space/s-{i}/state" for i in range(10)]
    watcher = TestClient(mosquitto, subscribe=[f"werkplek/v1/{site}/#", status_topic])
    link = MqttLink(
        parse_mqtt_url(mosquitto.url),
        client_id=f"test-{site}",
        protocol="5",
        status_topic=status_topic,
        subscriptions=[],
        on_message=lambda m: None,
        online_on_connect=False,
    )
    # Like the gateway: the network thread only wakes the one thread that publishes states.
    wakes: queue.SimpleQueue[bool] = queue.SimpleQueue()
    link.on_state_window(lambda: wakes.put(True))
    stop = threading.Event()

    def pump() -> None:
        while not stop.is_set():
            try:
                wakes.get(timeout=0.05)
            except queue.Empty:
                continue
            with lock:
                link.pump_states()

    lock = threading.Lock()  # publish_state and pump_states from one thread at a time
    pumper = threading.Thread(target=pump, daemon=True)
    link.start()
    try:
        wait_until(link.connected.is_set, 10, what="link connected")
        pumper.start()
        total = 20_000
        replaced = 0
        with lock:
            for n in range(total):
                replaced += link.publish_state(topics[n % 10], f"{n}".encode())
            link.set_status(online=True)
        newest = {topic: f"{total - 10 + i}".encode() for i, topic in enumerate(topics)}

        def all_newest_and_status() -> bool:
            with watcher.lock:
                got = {t: p for t, p, _ in watcher.messages}  # the last payload per topic
            return (
                all(got.get(t) == p for t, p in newest.items())
                and got.get(status_topic) == b"online"
            )

        wait_until(all_newest_and_status, 30, what="newest state of every space and online")
    finally:
        stop.set()
        link.stop()
        watcher.close()

    with watcher.lock:
        received = [(t, p) for t, p, _ in watcher.messages]
    states = [(t, p) for t, p in received if t in newest]
    assert replaced > 0 and len(states) == total - replaced  # a superseded state never travels
    assert len(states) < total // 2  # the burst was coalesced, not sent state by state
    assert len(states) >= STATE_WINDOW  # the first window went out as it came
    for topic in topics:  # per space, the states arrive in the order they were made
        numbers = [int(p) for t, p in states if t == topic]
        assert numbers == sorted(numbers)
    online_at = next(i for i, (t, p) in enumerate(received) if t == status_topic and p == b"online")
    last_state_at = max(i for i, (t, _) in enumerate(received) if t in newest)
    assert online_at > last_state_at


def test_a_leaked_window_count_is_recounted_on_reconnect(mosquitto_factory):
    """Should the unacked-state count ever leak, the next connection restores it.

    The count only goes down on a PUBACK; here it is forced to a full window
    (as if paho had dropped states without one), so a new state waits. After a
    broker restart the link counts paho's own records again and the state goes.
    """
    broker = mosquitto_factory()
    site = f"rc{uuid.uuid4().hex[:8]}"
    topic = f"werkplek/v1/{site}/_space/s-1/state"
    link = MqttLink(
        parse_mqtt_url(broker.url),
        client_id=f"test-{site}",
        protocol="5",
        status_topic=f"werkplek/v1/_gateway/{site}/status",
        subscriptions=[],
        on_message=lambda m: None,
    )
    link.on_state_window(lambda: link.pump_states())  # one publisher in this test
    link.start()
    try:
        wait_until(link.connected.is_set, 10, what="link connected")
        link._outstanding = STATE_WINDOW  # the leak
        link.publish_state(topic, b"occupied")
        assert link._waiting, "a full window holds the state back"
        broker.restart()
        wait_until(lambda: not link._waiting, 20, what="state sent after the reconnect")
        watcher = TestClient(broker, subscribe=[topic])
        try:
            wait_until(lambda: watcher.messages, 10, what="retained state at the broker")
            assert watcher.messages[-1][1] == b"occupied"
        finally:
            watcher.close()
    finally:
        link.stop()
