"""ESP32 hardware edge: Wi-Fi, PIR pin, NTP clock and hardware watchdog.

The only firmware module that imports ``machine`` / ``network``; everything
else runs unchanged on the unix port and CPython.
"""

import time

import machine
import network
from wp_compat import unix_ms

#: Before NTP the RTC starts at the epoch; anything before 2024 means "not set".
_CLOCK_VALID_AFTER_MS = 1704067200000


def connect_wifi(ssid, password, timeout_ms=20000):
    """Connect the station interface; return True when connected within ``timeout_ms``."""
    wlan = network.WLAN(network.STA_IF)
    wlan.active(True)
    if wlan.isconnected():
        return True
    wlan.connect(ssid, password)
    start = time.ticks_ms()
    while not wlan.isconnected():
        if time.ticks_diff(time.ticks_ms(), start) > timeout_ms:
            return False
        time.sleep_ms(100)
    return True


def wifi_connected():
    """Return True while the station interface has a link."""
    return network.WLAN(network.STA_IF).isconnected()


def make_pir(pin_no, pull_down=True):
    """Return the PIR input pin; its ``value()`` is 1 while the PIR sees motion."""
    pull = machine.Pin.PULL_DOWN if pull_down else None
    return machine.Pin(pin_no, machine.Pin.IN, pull)


def sync_ntp(host="pool.ntp.org"):
    """Set the RTC from NTP; return True on success (the node then sends real ``ts``)."""
    try:
        import ntptime

        ntptime.host = host
        ntptime.settime()
        return True
    except Exception:  # noqa: BLE001 - no NTP yet: ts stays null and we retry later
        return False


def clock_ms():
    """Return unix ms once the RTC holds a plausible time, else None (contract: ts null)."""
    now = unix_ms()
    return now if now >= _CLOCK_VALID_AFTER_MS else None


def make_wdt(timeout_ms):
    """Start the hardware watchdog; it resets the board unless fed within ``timeout_ms``."""
    return machine.WDT(timeout=timeout_ms)
