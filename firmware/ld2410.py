"""HLK-LD2410 24 GHz radar driver over a UART passed in (256000 baud, 8N1).

Report frames:  ``F4 F3 F2 F1 | len u16 LE | payload | F8 F7 F6 F5``; the payload
is ``type (01 engineering, 02 basic) | AA | target | [gates] | 55 | 00`` with the
target as ``state u8 | moving cm u16 | moving energy u8 | still cm u16 | still
energy u8 | detection cm u16``. Commands and their ACKs use ``FD FC FB FA |
len | word u16 [| value] | 04 03 02 01``; an ACK's word is the command's | 0x0100,
followed by a u16 status (0 = success).

The parser never trusts the stream: it scans for a header, bounds the length,
checks the tail and the payload markers, and on any mismatch drops one byte and
scans again, so garbage or a cut frame costs at most that frame.

Only the reading side is here. The commands (configuration mode, gate limits)
are sent a few times in a node's life and live in ``ld2410_cmd``, which
``LD2410.configure`` imports and drops again, so the steady state does not
carry them. An ACK is parsed here all the same, as a tuple
``(command, status, data)``: it arrives mixed with the reports.
"""

from wp_compat import const, ticks_diff, ticks_ms, unload

REPORT_HEAD = b"\xf4\xf3\xf2\xf1"
REPORT_TAIL = b"\xf8\xf7\xf6\xf5"
CMD_HEAD = b"\xfd\xfc\xfb\xfa"
CMD_TAIL = b"\x04\x03\x02\x01"

#: A report is the tuple ``(state, move_cm, move_energy, still_cm, still_energy,
#: detect_cm, gates)``: state 0 none, 1 moving, 2 still, 3 both; energies 0..100;
#: ``gates`` in engineering mode ``(moving energies, still energies)`` per gate, else
#: None. A tuple, not a class: the node keeps one and parses ten a second.
REPORT_LEN = 7
_MOVING = const(1)
_STILL = const(2)
_BOTH = const(3)
MAX_GATE = 8
MAX_PAYLOAD = 64  # longest frame the radar sends is ~40 bytes; longer means garbage
_BUF_LIMIT = const(256)  # bytes kept while waiting for the rest of a frame


def _u16(data, i):
    return data[i] | data[i + 1] << 8


def decode_report(payload):
    """Decode a report payload; return a report tuple or None when it is not a valid one."""
    n = len(payload)
    if n < 13 or payload[1] != 0xAA or payload[n - 2] != 0x55 or payload[n - 1] != 0x00:
        return None
    kind, state = payload[0], payload[2]
    if state > _BOTH or payload[5] > 100 or payload[8] > 100:
        return None
    gates = None
    if kind == 0x02:
        if n != 13:
            return None
    elif kind == 0x01:
        moves, stills = payload[11] + 1, payload[12] + 1
        if moves > MAX_GATE + 1 or stills > MAX_GATE + 1 or 13 + moves + stills + 2 > n:
            return None
        gates = (bytes(payload[13 : 13 + moves]), bytes(payload[13 + moves : 13 + moves + stills]))
    else:
        return None
    return (
        state,
        _u16(payload, 3),
        payload[5],
        _u16(payload, 6),
        payload[8],
        _u16(payload, 9),
        gates,
    )


class Parser:
    """Incremental frame parser: ``feed(bytes)`` returns the complete frames found.

    Counters: ``frames`` (good), ``errors`` (bad length, tail or payload),
    ``garbage`` (bytes skipped while looking for a header).
    """

    def __init__(self):
        self._buf = b""
        self.frames = 0
        self.errors = 0
        self.garbage = 0

    def feed(self, data):
        """Add received bytes; return the frames found: report tuples and ACK tuples (3 items)."""
        buf = self._buf + bytes(data)
        out = []
        while True:
            # The next header of either frame kind (written out here: a helper
            # function would cost heap on the node, see docs/firmware.md "Memory").
            i = buf.find(REPORT_HEAD)
            j = buf.find(CMD_HEAD)
            if i < 0 or 0 <= j < i:
                i = j
            if i < 0:
                keep = 3 if len(buf) > 3 else len(buf)  # a header may be split
                self.garbage += len(buf) - keep
                buf = buf[len(buf) - keep :]
                break
            if i:
                self.garbage += i
                buf = buf[i:]
            if len(buf) < 6:
                break
            length = buf[4] | buf[5] << 8
            if length > MAX_PAYLOAD or length < 2:
                self.errors += 1
                buf = buf[1:]
                continue
            end = 6 + length
            if len(buf) < end + 4:
                if len(buf) > _BUF_LIMIT:  # cannot happen with MAX_PAYLOAD; belt and braces
                    buf = buf[1:]
                    self.errors += 1
                    continue
                break
            report = buf[0] == 0xF4
            if buf[end : end + 4] != (REPORT_TAIL if report else CMD_TAIL):
                self.errors += 1
                buf = buf[1:]
                continue
            payload = buf[6:end]
            if report:
                frame = decode_report(payload)
            elif len(payload) < 4 or not payload[1] & 0x01:
                frame = None
            else:  # an ACK: (command word, status, value)
                frame = (_u16(payload, 0) & 0xFEFF, _u16(payload, 2), bytes(payload[4:]))
            if frame is None:
                self.errors += 1
                buf = buf[1:]
                continue
            self.frames += 1
            out.append(frame)
            buf = buf[end + 4 :]
        self._buf = buf
        return out


class LD2410:
    """The radar on a UART (``any()``, ``read(n)``, ``write(buf)``), polled by the node.

    Args:
        uart: an open UART (256000 8N1 on the board; a fake in tests).
        stale_ms: no valid report for this long means the radar is broken.
        max_cm: ignore targets farther away (the neighbouring desk); None = no limit.
        min_energy: ignore targets weaker than this (0..100).
    """

    def __init__(self, uart, stale_ms=2000, max_cm=None, min_energy=0):
        self.uart = uart
        self.parser = Parser()
        self.stale_ms = stale_ms
        self.max_cm = max_cm
        self.min_energy = min_energy
        self.report = None
        self.report_ms = None
        self._acks = []

    def poll(self):
        """Read what the UART holds and parse it; never raises on bad data."""
        n = self.uart.any()
        if not n:
            return
        data = self.uart.read(n)
        if not data:
            return
        for frame in self.parser.feed(data):
            if len(frame) == REPORT_LEN:
                self.report = frame
                self.report_ms = ticks_ms()
            elif len(self._acks) < 8:
                self._acks.append(frame)

    def targets(self):
        """Poll, then return ``(moving_energy, still_energy)`` of the targets that count.

        Raises:
            OSError: no valid report within ``stale_ms`` (broken wire, wrong baud rate).
        """
        self.poll()
        r = self.report
        if r is None or ticks_diff(ticks_ms(), self.report_ms) >= self.stale_ms:
            raise OSError("radar silent")
        limit = self.max_cm
        state, move_cm, move, still_cm, still = r[0], r[1], r[2], r[3], r[4]
        if not state & _MOVING or (limit is not None and move_cm > limit):
            move = 0
        if not state & _STILL or (limit is not None and still_cm > limit):
            still = 0
        floor = self.min_energy
        return (move if move >= floor else 0), (still if still >= floor else 0)

    async def configure(self, move_gate, still_gate, idle_s=0):
        """Set the farthest moving/still gates and the radar's no-one time (``ld2410_cmd``)."""
        import ld2410_cmd  # a few times in a node's life: not kept on the heap

        try:
            await ld2410_cmd.configure(self, move_gate, still_gate, idle_s)
        finally:
            unload("ld2410_cmd")
