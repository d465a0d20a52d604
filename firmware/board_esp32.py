"""ESP32 hardware edge: Wi-Fi, pins, radar UART, NTP, watchdog, battery gauge, deep sleep.

The only firmware module that imports ``machine`` / ``network`` / ``esp32``;
everything else runs unchanged on the unix port and CPython.
"""

import gc
import time

import esp32
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


def wifi_off():
    """Switch the radio off (battery mode, before deep sleep)."""
    network.WLAN(network.STA_IF).active(False)


def pir_pin(pin_no):
    """Return the PIR input pin, pulled down so a loose wire reads "no motion"."""
    return machine.Pin(pin_no, machine.Pin.IN, machine.Pin.PULL_DOWN)


def radar_uart(uart_id, tx, rx):
    """Open the LD2410's UART: 256000 baud 8N1, non-blocking reads, room for ~40 frames."""
    return machine.UART(
        uart_id, baudrate=256000, bits=8, parity=None, stop=1, tx=tx, rx=rx, timeout=0, rxbuf=1024
    )


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


class BoardInfo:
    """Figures for telemetry: Wi-Fi RSSI, free heap and (when wired) the battery voltage.

    Args:
        battery_pin: ADC pin behind a resistor divider, or None on mains power.
        divider: battery volts per volt at the pin (2.0 for two equal resistors).
    """

    def __init__(self, battery_pin=None, divider=2.0):
        self._adc = None
        self._divider = divider
        if battery_pin is not None:
            self._adc = machine.ADC(machine.Pin(battery_pin), atten=machine.ADC.ATTN_11DB)

    def rssi(self):
        """Return the Wi-Fi signal in dBm, or None without a link."""
        wlan = network.WLAN(network.STA_IF)
        return wlan.status("rssi") if wlan.isconnected() else None

    def heap_free(self):
        """Return the free heap in bytes."""
        return gc.mem_free()

    def battery_v(self):
        """Return the battery voltage, or None when no gauge is wired."""
        if self._adc is None:
            return None
        return self._adc.read_uv() * self._divider / 1000000


def rtc_load():
    """Return the bytes kept in RTC memory (they survive deep sleep, not a power loss)."""
    return machine.RTC().memory()


def rtc_save(data):
    """Keep ``data`` in RTC memory (at most 2 KB)."""
    machine.RTC().memory(data)


def woke_by_pin():
    """Return True when this boot is a deep-sleep wake-up caused by the PIR pin."""
    return machine.reset_cause() == machine.DEEPSLEEP_RESET and (
        machine.wake_reason() == machine.EXT0_WAKE
    )


def deep_sleep(ms, wake_pin=None):
    """Sleep ``ms`` (and wake early when ``wake_pin`` goes high); the board then reboots."""
    esp32.wake_on_ext0(wake_pin, esp32.WAKEUP_ANY_HIGH)
    machine.deepsleep(ms)
