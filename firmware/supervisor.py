"""The board supervisor: feed the watchdog only while the node is healthy; keep Wi-Fi and clock up.

Board-independent (the board module is passed in), so it is tested on the host.
A node whose loops hang or crashed is no longer "healthy"; the watchdog is then
left unfed and resets the board, which is the only cure a node far up on a
wall can apply to itself.
"""

from wp_compat import collect, sleep_ms, ticks_diff, ticks_ms

NTP_RESYNC_S = 3600  # RTC drift is seconds per day; hourly is plenty
NTP_RETRY_S = 60  # while the clock is unset, ts is null: retry soon


def healthy(node):
    """Return True while the node's sampling loop runs and none of its loops has died.

    Here rather than on ``Node``: only a board with a watchdog asks, and on a node
    every method costs heap (docs/firmware.md, "Memory").
    """
    for task in node.tasks:
        if task.done():
            return False
    return ticks_diff(ticks_ms(), node.last_sample_ms) < 10 * node.cfg["poll_ms"] + 2000


async def supervise(node, wdt, board, dev, tick_ms=1000, rounds=None):
    """Run once per ``tick_ms``: feed ``wdt`` if ``healthy(node)``, reconnect Wi-Fi, sync NTP.

    Args:
        node: the running ``Node``.
        wdt: the hardware watchdog (``feed()``).
        board: module or object with ``wifi_connected``, ``connect_wifi``, ``clock_ms``,
            ``sync_ntp``.
        dev: the device file (``wifi_ssid``, ``wifi_password``, ``ntp_host``).
        tick_ms: period of one round; ``rounds``: stop after that many (tests), None = forever.
    """
    last_ntp = None
    elapsed_s = 0
    done = 0
    while rounds is None or done < rounds:
        if healthy(node):
            wdt.feed()
        if not board.wifi_connected():
            # Blocks up to 10 s, well inside the WDT timeout; the MQTT client
            # meanwhile backs off and reconnects on its own.
            board.connect_wifi(dev["wifi_ssid"], dev["wifi_password"], 10000)
        due = NTP_RESYNC_S if board.clock_ms() is not None else NTP_RETRY_S
        if last_ntp is None or elapsed_s - last_ntp >= due:
            last_ntp = elapsed_s
            board.sync_ntp(dev.get("ntp_host", "pool.ntp.org"))
        collect()  # a full collection once a second keeps the ESP32's heap unfragmented
        await sleep_ms(tick_ms)
        elapsed_s += tick_ms / 1000
        done += 1
