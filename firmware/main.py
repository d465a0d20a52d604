"""ESP32 entry point: read ``device.json``, wire the board, run the node or one battery wake-up.

Mains-powered nodes run the ``Node`` forever. The hardware watchdog is fed
from the supervisor loop only while the node's sampling loop is alive, so a
stuck event loop or a crashed loop resets the board (``supervisor.py``). Battery nodes (PIR only,
``"battery": {...}`` in the device file) wake, decide with ``battery.plan``,
report only when needed and go back to deep sleep.
"""

import json

import board_esp32 as board
from wp_compat import asyncio, wait_for_ms

PIR_WARMUP_MS = 30000  # a PIR's output is unreliable for ~30 s after power-up
BOARD_KEYS = ("wifi_ssid", "wifi_password", "ntp_host", "wdt_ms", "pir_pin", "radar", "battery")


def load_device(path="device.json"):
    """Return ``(device file, node config)``: the node config is the file without board keys."""
    with open(path) as fh:
        dev = json.load(fh)
    return dev, {k: v for k, v in dev.items() if k not in BOARD_KEYS}


def make_sensor(dev, cfg):
    """Return the node's presence input: PIR and/or LD2410 from the device file."""
    from ld2410 import LD2410
    from node import Fusion
    from pir import PIR

    pir = radar = None
    if dev.get("pir_pin") is not None:
        pir = PIR(board.pir_pin(dev["pir_pin"]), warmup_ms=PIR_WARMUP_MS)
    wiring = dev.get("radar")
    if wiring:
        uart = board.radar_uart(wiring.get("uart", 2), wiring.get("tx", 17), wiring.get("rx", 16))
        radar = LD2410(
            uart, max_cm=cfg.get("radar_max_cm"), min_energy=cfg.get("radar_min_energy", 0)
        )
    cfg["source"] = "fused" if pir and radar else ("radar" if radar else "pir")
    return Fusion(pir, radar)


async def run_node(dev, cfg):
    """Bring the board up and run the node forever."""
    from node import Node
    from supervisor import supervise

    wdt = board.make_wdt(dev.get("wdt_ms", 30000))
    board.connect_wifi(dev["wifi_ssid"], dev["wifi_password"])
    wdt.feed()
    board.sync_ntp(dev.get("ntp_host", "pool.ntp.org"))
    cfg.setdefault("config_file", "remote.json")
    info = board.BoardInfo((dev.get("battery") or {}).get("adc_pin"))
    node = Node(cfg, make_sensor(dev, cfg), clock=board.clock_ms, log=print, board=info)
    asyncio.create_task(supervise(node, wdt, board, dev))
    await node.run()


async def battery_wake(dev, cfg):
    """One wake-up of a battery node: decide, report if needed, then deep-sleep."""
    import battery

    wdt = board.make_wdt(dev.get("wdt_ms", 30000))  # bounds a hung wake-up, too
    settings = dict(battery.BATTERY_DEFAULTS)
    settings.update({k: v for k, v in dev["battery"].items() if k in settings})
    pin = board.pir_pin(dev["pir_pin"])
    import wp_config

    state = battery.BatteryState.decode(board.rtc_load(), wp_config.rand32())
    motion = board.woke_by_pin() or bool(pin.value())
    if board.clock_ms() is None:  # first power-up: the schedule needs a clock
        board.connect_wifi(dev["wifi_ssid"], dev["wifi_password"])
        board.sync_ntp(dev.get("ntp_host", "pool.ntp.org"))
    now_s = (board.clock_ms() or 0) // 1000
    reason, sleep_s, wake_on_pir = battery.plan(state, now_s, motion, settings)
    if reason is not None:
        wdt.feed()
        try:
            await wait_for_ms(_report(dev, cfg, state, reason), 20000)
        except Exception as exc:  # noqa: BLE001 - no Wi-Fi or broker: try again soon
            print("report failed: %r" % (exc,))
            state.last_report_s = None
            sleep_s = min(sleep_s, 60)
    board.rtc_save(state.encode())
    board.wifi_off()
    board.deep_sleep(sleep_s * 1000, pin if wake_on_pir else None)


async def _report(dev, cfg, state, reason):
    import node_reports
    import wp_config
    from mqtt import MQTTClient
    from node import presence_payload

    c = wp_config.build_config(cfg)
    if not board.connect_wifi(dev["wifi_ssid"], dev["wifi_password"], 10000):
        raise OSError("no Wi-Fi")
    # No Last Will: a sleeping battery node is not offline; its heartbeats say it lives.
    client = MQTTClient(
        c["client_id"],
        c["broker_host"],
        c["broker_port"],
        c["username"],
        c["password"],
        tls=wp_config.tls_of(c),
    )
    task = asyncio.create_task(client.run())
    try:
        await wait_for_ms(client.up.wait(), 10000)
        base = wp_config.topic_base(c["site"], c["device_id"])
        payload = presence_payload(
            state.seq, state.boot, board.clock_ms(), state.occupied, "pir", 0.8, reason
        )
        await client.publish(base + "presence", payload, 1)
        state.seq += 1
        info = board.BoardInfo(dev["battery"].get("adc_pin"))
        tele = node_reports.telemetry_payload(0, info.rssi(), info.heap_free(), info.battery_v())
        await client.publish(base + "telemetry", tele, 0)
    finally:
        await client.close()
        task.cancel()


def main():
    """Run the mode the device file asks for."""
    dev, cfg = load_device()
    if dev.get("battery") and dev.get("pir_pin") is not None and not dev.get("radar"):
        asyncio.run(battery_wake(dev, cfg))
    else:
        asyncio.run(run_node(dev, cfg))


main()
