"""Commands to the HLK-LD2410 radar: configuration mode and the gate limits.

Frames: ``FD FC FB FA | len u16 LE | word u16 [| value] | 04 03 02 01``; the
radar answers each with an ACK whose word is the command's | 0x0100, followed
by a u16 status (0 = success), which ``LD2410.parse`` keeps in ``message``.

A node sends these at start-up and when a remote config changes the radar's
limits, so ``remote_config`` imports this module only for that, and ``configure``
drops it again when done (see docs/firmware.md, "Memory"). Its code leaves the
heap then, but every name it interns stays: hence few functions, and argument
names the runtime already has (``radar``, ``code``, ``value``, ``timeout``, ``n``).
"""

from wp_compat import const, sleep_ms, ticks_diff, ticks_ms, unload

# ``const``: compiled in, so their names are never interned on the node's heap.
_CMD_HEAD = const(b"\xfd\xfc\xfb\xfa")
_CMD_TAIL = const(b"\x04\x03\x02\x01")
# Command words. Not used yet: read parameters 0x0061, engineering mode on/off 0x0062/0x0063.
_CMD_ENABLE_CONFIG = const(0x00FF)
_CMD_END_CONFIG = const(0x00FE)
_CMD_MAX_GATES = const(0x0060)
_MAX_GATE = const(8)
_GATE_CM = const(75)  # default resolution: one distance gate is 0.75 m


def gate_for_cm(n):
    """Return the smallest gate (2..8) that covers ``n`` centimetres."""
    gate = (n + _GATE_CM - 1) // _GATE_CM
    return min(_MAX_GATE, max(2, gate))


async def send(radar, code, value=b"", timeout=1000):
    """Send command ``code`` (with ``value``) to ``radar`` (an ``LD2410``); return its ACK.

    ``timeout`` is in milliseconds.

    Raises:
        OSError: no ACK within ``timeout`` or a failure status.
    """
    uart = radar.uart
    radar.message = None
    uart.write(_CMD_HEAD + bytes((2 + len(value), 0, code & 0xFF, code >> 8)) + value + _CMD_TAIL)
    start = ticks_ms()
    while ticks_diff(ticks_ms(), start) < timeout:
        # The node's sampling may parse the ACK first: it lands in ``message`` either way.
        n = uart.any()
        if n:
            radar.parse(uart.read(n) or b"")
        ack = radar.message
        if ack is not None and ack[0] == code:
            radar.message = None  # not kept on the heap once answered
            if ack[1]:
                raise OSError("radar refused command 0x%04x" % code)
            return ack
        await sleep_ms(10)
    raise OSError("radar did not acknowledge command 0x%04x" % code)


async def configure(radar, *args):
    """Set the farthest moving/still gates and the radar's no-one time; end config mode.

    ``configure(radar, move_gate, still_gate, idle_s)`` (positional only: parameter
    names would be interned on the node's heap).

    Raises:
        ValueError: a gate outside 2..8 (the radar's range) or a duration outside 0..65535 s.
        OSError: the radar did not acknowledge a command or refused it.
    """
    try:
        move_gate, still_gate, idle_s = args
        for gate in (move_gate, still_gate):
            if not isinstance(gate, int) or not 2 <= gate <= _MAX_GATE:
                raise ValueError("gate must be an int 2..8")
        if not isinstance(idle_s, int) or not 0 <= idle_s <= 65535:
            raise ValueError("idle_s must be an int 0..65535")
        await send(radar, _CMD_ENABLE_CONFIG, b"\x01\x00")
        try:
            # Max distance gates and no-one duration: three (u16 parameter word, u32 value) pairs.
            limits = (0, 0, move_gate, 0, 0, 0, 1, 0, still_gate, 0, 0, 0, 2, 0)
            await send(radar, _CMD_MAX_GATES, bytes(limits + (idle_s & 0xFF, idle_s >> 8, 0, 0)))
        finally:
            await send(radar, _CMD_END_CONFIG)
    finally:
        unload("ld2410_cmd")  # imported by ``remote_config`` for this call only
