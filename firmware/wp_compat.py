"""Runtime shims so one firmware source runs on ESP32, the unix port and CPython 3.11.

MicroPython has ``time.ticks_ms`` (wrapping tick counter) and ``asyncio.sleep_ms``;
CPython has neither. Everything time-related, and the two pieces of asyncio the
firmware replaces to save heap (``wait_for_ms``, ``Flag``), go through this module
so the rest of the code is identical on every runtime. Randomness lives in the
cold modules that need it (``wp_config.rand32``, the backoff in ``mqtt_connect``).
"""

import asyncio
import sys

IS_MICROPYTHON = sys.implementation.name == "micropython"

if IS_MICROPYTHON:
    # The runtime's own functions, bound directly: no wrapper frame on every call. By
    # name, so that no ``gc`` or ``time`` global is left: two entries fewer keep this
    # module's dict a size step smaller (96 B). ``collect`` frees memory after a lost
    # connection: vital on an ESP32's small heap.
    from gc import collect
    from time import ticks_add, ticks_diff, ticks_ms

    # ``_NAME = const(1)`` in a module: MicroPython's compiler puts the number into the
    # bytecode and keeps neither the name nor a global for it (less heap).
    from micropython import const

    sleep_ms = asyncio.sleep_ms
else:  # CPython (demo fleet, unit tests): stand-ins a node never loads
    # (mypy checks the firmware against the MicroPython stubs: the ticks are time's there)
    from wp_cpython import (  # type: ignore[no-redef]  # noqa: F401 - re-exported
        collect,
        const,
        sleep_ms,
        ticks_add,
        ticks_diff,
        ticks_ms,
        wait_for_ms,
    )


if IS_MICROPYTHON:
    # Parameter names below are ones the interpreter already has (``aw``, ``timeout``):
    # a new name would be interned on the heap for good.

    async def _alarm(task, timeout):
        """Cancel ``task`` after ``timeout`` ms (unless ``wait_for_ms`` cancels the alarm)."""
        await sleep_ms(timeout)
        task.cancel()

    async def wait_for_ms(aw, timeout):
        """Await ``aw`` in the calling task; raise ``asyncio.TimeoutError`` after ``timeout`` ms.

        Why our own: ``asyncio.wait_for_ms`` lives in ``asyncio.funcs`` (with
        ``gather`` and more), about 1.3 KB of heap on the unix port for this one
        function. Here a small alarm task cancels the waiting task when time is
        up; a ``CancelledError`` is a timeout exactly when the alarm has finished.
        The awaited coroutine runs in the caller's task (no runner task) and is
        cancelled with it, as with asyncio's own.
        """
        alarm = asyncio.create_task(_alarm(asyncio.current_task(), timeout))
        try:
            result = await aw
            late = alarm.done()  # the awaited code swallowed the alarm's cancel
        except asyncio.CancelledError:
            if alarm.done():
                raise asyncio.TimeoutError from None
            raise  # cancelled from outside: not ours to swallow
        finally:
            alarm.cancel()
        if late:
            raise asyncio.TimeoutError
        return result


if IS_MICROPYTHON:
    from asyncio import core as _core  # type: ignore[attr-defined]  # the scheduler; no stub

    class Flag:
        """``asyncio.Event`` without its module: ``set``, ``clear``, ``is_set``, ``await wait()``.

        Why our own: ``asyncio.Event`` lives in ``asyncio.event`` (with
        ``ThreadSafeFlag``), about 1.2 KB of heap on the unix port for a class
        of five lines. This is the same mechanism: waiting tasks park on a
        ``TaskQueue`` (so ``Task.cancel`` takes them off it) and ``set`` puts
        them back on the run queue.
        """

        def __init__(self):
            self.state = False
            self.waiting = _core.TaskQueue()

        def is_set(self):
            return self.state

        def set(self):
            waiting = self.waiting
            while waiting.peek():
                _core._task_queue.push(waiting.pop())
            self.state = True

        def clear(self):
            self.state = False

        def wait(self):  # a generator, awaited like a coroutine (as asyncio.Event.wait)
            if not self.state:
                task = _core.cur_task
                self.waiting.push(task)
                task.data = self.waiting  # lets a cancel take the task off our queue
                yield
            return True

else:
    # CPython: asyncio's own (same methods; mypy checks the firmware against the class above).
    Flag = asyncio.Event  # type: ignore[assignment,misc]


def unload(*names):
    """Forget modules that are only needed now and then (config, connect, radar commands).

    Why: on the unix port and on an ESP32 without frozen modules, a module's
    bytecode lives on the heap for as long as ``sys.modules`` holds it. Cold
    modules are imported where they are used and dropped here afterwards, so the
    steady state carries only the code it runs (see docs/firmware.md, "Memory").
    CPython (the demo fleet, unit tests) keeps them: there memory is no issue
    and a module imported twice would have two copies of its classes.
    """
    if IS_MICROPYTHON:
        for name in names:
            sys.modules.pop(name, None)


def unix_ms():
    """Return the wall clock as unix milliseconds (caller decides whether it is trusted)."""
    # Some MicroPython ports count time from 2000-01-01 instead of 1970-01-01. Found out
    # per call (at most a message a second) rather than kept: a module global would be
    # one more name on the node's heap for good.
    import time  # here, not as a global (see the imports above)

    offset = 946684800000 if time.gmtime(0)[0] == 2000 else 0
    if hasattr(time, "time_ns"):
        return time.time_ns() // 1_000_000 + offset
    return int(time.time() * 1000) + offset
