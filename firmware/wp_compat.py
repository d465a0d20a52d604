"""Runtime shims so one firmware source runs on ESP32, the unix port and CPython 3.11.

MicroPython has ``time.ticks_ms`` (wrapping tick counter) and ``asyncio.sleep_ms``;
CPython has neither. Everything time- or randomness-related in the firmware goes
through this module so the rest of the code is identical on every runtime.
"""

import gc
import os
import sys
import time

try:
    import asyncio
except ImportError:  # pragma: no cover - very old MicroPython builds
    import uasyncio as asyncio  # type: ignore

IS_MICROPYTHON = sys.implementation.name == "micropython"

if hasattr(time, "ticks_ms"):
    ticks_ms = time.ticks_ms
    ticks_diff = time.ticks_diff
    ticks_add = time.ticks_add
else:

    def ticks_ms():
        """Return a monotonic millisecond counter (CPython: never wraps)."""
        return time.monotonic_ns() // 1_000_000  # type: ignore[attr-defined]  # CPython only

    def ticks_diff(a, b):
        """Return ``a - b`` in ms; on MicroPython this also handles wrap-around."""
        return a - b

    def ticks_add(a, delta):
        """Return the tick ``delta`` ms after ``a``."""
        return a + delta


def sleep_ms(ms):
    """Return an awaitable that sleeps ``ms`` milliseconds on either runtime."""
    if IS_MICROPYTHON:
        return asyncio.sleep_ms(ms)
    return asyncio.sleep(ms / 1000)


def wait_for_ms(awaitable, ms):
    """Await ``awaitable`` at most ``ms`` milliseconds; raises ``asyncio.TimeoutError``."""
    return asyncio.wait_for(awaitable, ms / 1000)


def collect():
    """Free memory after a lost connection: vital on an ESP32's small heap.

    On CPython a full collection costs tens of milliseconds, which a fleet of
    simulated nodes stopping together would pay in series; its own collector
    is enough there.
    """
    if IS_MICROPYTHON:
        gc.collect()


def rand32():
    """Return a random 32-bit unsigned int from the OS/hardware RNG (distinct per boot)."""
    return int.from_bytes(os.urandom(4), "big")


def rand_below(n):
    """Return a random int in ``[0, n)``, used for backoff jitter."""
    if n <= 1:
        return 0
    return rand32() % n


# Some MicroPython ports count time from 2000-01-01 instead of 1970-01-01.
_EPOCH_OFFSET_MS = 946684800000 if time.gmtime(0)[0] == 2000 else 0


def unix_ms():
    """Return the wall clock as unix milliseconds (caller decides whether it is trusted)."""
    if hasattr(time, "time_ns"):
        return time.time_ns() // 1_000_000 + _EPOCH_OFFSET_MS
    return int(time.time() * 1000) + _EPOCH_OFFSET_MS
