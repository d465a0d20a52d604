"""CPython stand-ins for the MicroPython runtime functions that ``wp_compat`` exports.

Why a module of its own: MicroPython loads the bytecode of every function in a
module, also of functions in a branch it never runs. Kept apart, a node never
loads this code (``wp_compat`` imports it only under CPython: the demo fleet
and the unit tests), and its heap stays smaller (see docs/firmware.md, "Memory").
"""

import asyncio
import time


def const(expr):
    """Return ``expr`` (CPython has no compile-time constants)."""
    return expr


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
    """Return an awaitable that sleeps ``ms`` milliseconds (CPython)."""
    return asyncio.sleep(ms / 1000)


async def wait_for_ms(awaitable, ms):
    """Await ``awaitable`` at most ``ms`` milliseconds; raises ``asyncio.TimeoutError``.

    A coroutine function like the node's own (``wp_compat``), so both have one type.
    """
    return await asyncio.wait_for(awaitable, ms / 1000)


def collect():
    """Do nothing: CPython's own collector is enough.

    A full collection costs tens of milliseconds there, which a fleet of
    simulated nodes stopping together would pay in series.
    """
