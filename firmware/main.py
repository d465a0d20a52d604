"""ESP32 entry point: wiring only (Wi-Fi, NTP, PIR, watchdog), then run the Node.

The watchdog is fed from the supervisor loop only while the node's sampling
loop is alive, so a stuck event loop or a hung socket resets the board.
Settings come from the git-ignored ``config_local.py`` (see the example file).
"""

import gc

import board_esp32 as board
import config_local as site
from node import Node
from wp_compat import asyncio, sleep_ms

NTP_RESYNC_S = 3600  # RTC drift is seconds per day; hourly is plenty
NTP_RETRY_S = 60  # while the clock is unset, ts is null: retry soon


async def supervise(node, wdt):
    """Feed the WDT while the node is healthy; keep Wi-Fi and the clock up."""
    last_ntp = 0
    seconds = 0
    while True:
        if node.healthy():
            wdt.feed()
        if not board.wifi_connected():
            # Blocks up to 10 s, well inside the WDT timeout; the MQTT client
            # meanwhile backs off and reconnects on its own.
            board.connect_wifi(site.WIFI_SSID, site.WIFI_PASSWORD, 10000)
        due = NTP_RESYNC_S if board.clock_ms() is not None else NTP_RETRY_S
        if seconds - last_ntp >= due:
            last_ntp = seconds
            board.sync_ntp(site.NTP_HOST)
        gc.collect()
        await sleep_ms(1000)
        seconds += 1


async def app():
    """Bring the board up and run the node forever."""
    wdt = board.make_wdt(site.WDT_MS)
    board.connect_wifi(site.WIFI_SSID, site.WIFI_PASSWORD)
    wdt.feed()
    board.sync_ntp(site.NTP_HOST)
    node = Node(site.CONFIG, board.make_pir(site.PIR_PIN), clock=board.clock_ms, log=print)
    asyncio.create_task(supervise(node, wdt))
    await node.run()


asyncio.run(app())
