"""Commands to the HLK-LD2410 radar: configuration mode and the gate limits.

Frames: ``FD FC FB FA | len u16 LE | word u16 [| value] | 04 03 02 01``; the
radar answers each with an ACK whose word is the command's | 0x0100, followed
by a u16 status (0 = success), which ``ld2410.Parser`` returns as a tuple.

A node sends these at start-up and when a remote config changes the radar's
limits, so this module is imported by ``LD2410.configure`` only for that and
dropped again afterwards (see docs/firmware.md, "Memory").
"""

import struct

import ld2410
from wp_compat import const, sleep_ms, ticks_diff, ticks_ms

# Command words (``const``: compiled in, so their names are never interned on the
# node's heap). Not used yet: read parameters 0x0061, engineering mode on/off 0x0062/0x0063.
_CMD_ENABLE_CONFIG = const(0x00FF)
_CMD_END_CONFIG = const(0x00FE)
_CMD_MAX_GATES = const(0x0060)
_GATE_CM = const(75)  # default resolution: one distance gate is 0.75 m


def command_frame(command, value=b""):
    """Return the bytes of one command frame."""
    return ld2410.CMD_HEAD + struct.pack("<HH", 2 + len(value), command) + value + ld2410.CMD_TAIL


def enable_config_frame():
    """Return the "enable configuration" command (value 0x0001)."""
    return command_frame(_CMD_ENABLE_CONFIG, b"\x01\x00")


def end_config_frame():
    """Return the "end configuration" command."""
    return command_frame(_CMD_END_CONFIG)


def max_gates_frame(move_gate, still_gate, idle_s):
    """Return the "max distance gates and no-one duration" command.

    Raises:
        ValueError: a gate outside 2..8 (the radar's range) or a negative duration.
    """
    for gate in (move_gate, still_gate):
        if not isinstance(gate, int) or not 2 <= gate <= ld2410.MAX_GATE:
            raise ValueError("gate must be an int 2..8")
    if not isinstance(idle_s, int) or not 0 <= idle_s <= 65535:
        raise ValueError("idle_s must be an int 0..65535")
    return command_frame(
        _CMD_MAX_GATES, struct.pack("<HIHIHI", 0, move_gate, 1, still_gate, 2, idle_s)
    )


def gate_for_cm(cm):
    """Return the smallest gate (2..8) that covers ``cm`` centimetres."""
    gate = (cm + _GATE_CM - 1) // _GATE_CM
    return min(ld2410.MAX_GATE, max(2, gate))


async def command(radar, frame, timeout_ms=1000):
    """Send one command frame to ``radar`` (an ``LD2410``) and return its ACK tuple.

    Raises:
        OSError: no ACK within ``timeout_ms`` or a failure status.
    """
    word = frame[6] | frame[7] << 8
    radar._acks = []
    radar.uart.write(frame)
    start = ticks_ms()
    while ticks_diff(ticks_ms(), start) < timeout_ms:
        radar.poll()
        for ack in radar._acks:
            if ack[0] == word:
                if ack[1]:
                    raise OSError("radar refused command 0x%04x" % word)
                return ack
        await sleep_ms(10)
    raise OSError("radar did not acknowledge command 0x%04x" % word)


async def configure(radar, move_gate, still_gate, idle_s=0):
    """Set the farthest moving/still gates and the radar's no-one time; end config mode."""
    await command(radar, enable_config_frame())
    try:
        await command(radar, max_gates_frame(move_gate, still_gate, idle_s))
    finally:
        await command(radar, end_config_frame())
